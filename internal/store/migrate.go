package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
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

// SchemaID names the schema of version v by the migrations that make it
// (a short hash of their file names): two branches that both added a
// migration number 9 have schemas of the same version but different ids.
// Benchmark fixtures are kept by it, so a file is only ever upgraded from
// a schema that this build's migrations continue.
func SchemaID(v int) string {
	ms, err := migrations()
	if err != nil || v > len(ms) {
		return ""
	}
	h := sha256.New()
	for _, m := range ms[:v] {
		h.Write([]byte(m.name + "\n"))
	}
	return fmt.Sprintf("%d-%x", v, h.Sum(nil)[:3])
}

// upgrade reads the schema version without taking any lock, and only when
// the file is behind this build (or not yet in WAL mode) takes the write
// lock to migrate it, after saying so through the notice. A file of
// another application, or of a newer irtui, is refused untouched.
func (s *Store) upgrade(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("embedded migrations: %w", err)
	}
	appID, version, err := checkOwner(ctx, s.r, len(ms), s.path)
	if err != nil {
		return err
	}
	var mode string
	if err := s.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return openError(s.path, err)
	}
	if version == len(ms) && appID == applicationID && mode == "wal" {
		return nil
	}
	if s.damage != "" {
		return fmt.Errorf("%w (%s): its schema (version %d) is behind this irtui (%d), and a damaged file is not upgraded",
			ErrDamaged, s.damage, version, len(ms))
	}
	if s.notice != nil {
		if version < len(ms) {
			s.notice(fmt.Sprintf("Upgrading %s from schema version %d to %d; this waits for other irtui processes to finish writing.",
				s.path, version, len(ms)))
		} else {
			s.notice(fmt.Sprintf("Switching %s to write-ahead logging; this waits for other irtui processes to finish writing.", s.path))
		}
	}
	return migrateDB(ctx, s.w, s.path, s.clock.Now())
}

// migrateDB checks that the file is irtui's, switches it to WAL, and
// applies the pending migrations in one transaction. Nothing is written
// before the check passes, so another application's file is left exactly
// as it was. BEGIN IMMEDIATE makes two processes migrating a file at once
// take turns; the second finds nothing to do.
func migrateDB(ctx context.Context, db *sql.DB, path string, now time.Time) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("embedded migrations: %w", err)
	}
	known := len(ms)
	if _, _, err := checkOwner(ctx, db, known, path); err != nil {
		return err
	}
	// WAL is a property of the file: set once, every later connection
	// (and every other process) uses it.
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return openError(path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("open database %s: cannot switch to WAL (journal mode is %s)", path, mode)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return openError(path, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	// Again inside the transaction: another process may have migrated
	// the file since.
	appID, version, err := checkOwner(ctx, tx, known, path)
	if err != nil {
		return err
	}
	if version == known && appID == applicationID {
		return nil // up to date; nothing to commit
	}
	for _, m := range ms[version:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s to %s: %w", m.name, path, err)
		}
		if hook := migrationHooks[m.name[strings.Index(m.name, "_"):]]; hook != nil {
			if err := hook(ctx, tx, now); err != nil {
				return fmt.Errorf("apply migration %s to %s: %w", m.name, path, err)
			}
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

// migrationHooks run Go code after a migration's SQL, in the same
// transaction; now stamps what they record. They are keyed by the end of
// the migration's file name ("_record.sql"), not its number, which may
// change when other work's migrations land first.
var migrationHooks = map[string]func(ctx context.Context, tx *sql.Tx, now time.Time) error{}

// checkOwner refuses a file that belongs to another application or was
// written by a newer irtui, and returns its application id and schema
// version.
func checkOwner(ctx context.Context, q querier, known int, path string) (appID, version int, err error) {
	var objects int
	if err := q.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, 0, openError(path, err)
	}
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, 0, openError(path, err)
	}
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
		return 0, 0, openError(path, err)
	}
	switch {
	case appID == applicationID:
	case appID != 0:
		return 0, 0, fmt.Errorf("%s is %w: it belongs to another application (application id %#x)", path, ErrNotIrtui, appID)
	case objects > 0:
		// No id in the header: accept only a file carrying irtui's marker.
		mine, err := hasMarker(ctx, q)
		if err != nil {
			return 0, 0, openError(path, err)
		}
		if !mine {
			return 0, 0, fmt.Errorf("%s is %w: it holds another application's tables and no irtui marker", path, ErrNotIrtui)
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
