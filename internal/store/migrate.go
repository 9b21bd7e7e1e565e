package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// applicationID marks irtui databases in the SQLite header ("irtu").
const applicationID = 0x69727475

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order; their numbers must
// run 1, 2, 3, ... without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and '_'", base)
		}
		b, err := migrationFiles.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the newest schema version this build knows.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// migrate checks that the file is irtui's, switches it to WAL, and
// applies the pending migrations in one transaction. Nothing is written
// before the check passes, so another application's file is left exactly
// as it was. BEGIN IMMEDIATE makes two processes opening a new file at once
// take turns; the second finds nothing to do.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("embedded migrations: %w", err)
	}
	known := len(ms)
	if _, _, err := s.checkOwner(ctx, s.w, known); err != nil {
		return err
	}
	// WAL is a property of the file: set once, every later connection
	// (and every other process) uses it.
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return openError(s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("open database %s: cannot switch to WAL (journal mode is %s)", s.path, mode)
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return openError(s.path, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// Again inside the transaction: another process may have migrated
	// the file since.
	appID, version, err := s.checkOwner(ctx, tx, known)
	if err != nil {
		return err
	}
	if version == known && appID == applicationID {
		return nil // up to date; nothing to commit
	}
	for _, m := range ms[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s to %s: %w", m.name, s.path, err)
		}
	}
	// PRAGMA takes no parameters; both values are integers we control.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", known)); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID)); err != nil {
		return fmt.Errorf("set application id: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}

// checkOwner refuses a file that belongs to another application or was
// written by a newer irtui, and returns its application id and schema
// version.
func (s *Store) checkOwner(ctx context.Context, q querier, known int) (appID, version int, err error) {
	var objects int
	if err := q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, 0, openError(s.path, err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, openError(s.path, err)
	}
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
		return 0, 0, openError(s.path, err)
	}
	switch {
	case appID == applicationID:
	case appID != 0:
		return 0, 0, fmt.Errorf("%s is %w: it belongs to another application (application id %#x)", s.path, ErrNotIrtui, appID)
	case objects > 0:
		// No id in the header: accept only a file carrying irtui's marker.
		mine, err := hasMarker(ctx, q)
		if err != nil {
			return 0, 0, openError(s.path, err)
		}
		if !mine {
			return 0, 0, fmt.Errorf("%s is %w: it holds another application's tables and no irtui marker", s.path, ErrNotIrtui)
		}
	}
	if version > known {
		return 0, 0, fmt.Errorf("%w: database schema version %d is newer than this irtui understands (%d); upgrade irtui",
			ErrSchemaTooNew, version, known)
	}
	return appID, version, nil
}

func hasMarker(ctx context.Context, tx querier) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx,
		"SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'irtui_meta'").Scan(&n)
	if err != nil || n == 0 {
		return false, err
	}
	var v string
	err = tx.QueryRowContext(ctx, "SELECT value FROM irtui_meta WHERE key = 'application'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return v == "irtui", err
}
