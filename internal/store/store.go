// Package store keeps irtui's data in one SQLite file: incidents and their
// checklists, role assignments, the directory of people and customers, the
// append-only hash-chained timeline and the audit log.
//
// All SQL lives here. Writes go through Update, which runs a function inside
// one BEGIN IMMEDIATE transaction, so that a state change, its timeline entry
// and its audit entry commit together or not at all, and two irtui processes
// on the same file take turns instead of failing with "database is locked".
package store

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/irtui/irtui/internal/clock"

	"github.com/mattn/go-sqlite3"
)

// Errors callers may test with errors.Is.
var (
	// ErrNotFound: the incident, person, customer, step or role is not there.
	ErrNotFound = errors.New("not found")
	// ErrSchemaTooNew: the file was written by a newer irtui.
	ErrSchemaTooNew = errors.New("database schema is newer than this irtui")
	// ErrNotIrtui: the file is not an SQLite database, or another
	// application's.
	ErrNotIrtui = errors.New("not an irtui database")
)

// timeLayout is how every time is stored: UTC, fixed width, sortable.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime renders t the way the store keeps it.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// Store is an open irtui database. It is safe for concurrent use.
type Store struct {
	path      string
	clock     clock.Clock
	installer string // WithInstaller

	w *sql.DB // writer: a single connection, which wc holds while the store is open
	r *sql.DB // readers: deferred transactions, query_only

	// wsem is the writer's lock (a one-slot semaphore, so that waiting for
	// it respects the caller's context): whoever holds it owns wc, the
	// writer's one connection, and may begin a transaction on it. Holding
	// the connection for good, instead of borrowing it from database/sql per
	// transaction, lets statements be prepared on it at any time and spares
	// each write a transaction wrapper; Update issues BEGIN IMMEDIATE and
	// COMMIT itself.
	wsem  chan struct{}
	wc    *sql.Conn
	stmts map[string]*sql.Stmt // prepared on wc

	verMu sync.Mutex
	ver   *sql.Conn // held open for PRAGMA data_version

	chg changes // Version and Changed
}

// lockWriter takes the writer's lock, or gives up when ctx is done.
func (s *Store) lockWriter(ctx context.Context) error {
	select {
	case s.wsem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockWriter() { <-s.wsem }

// inTransaction says whether the connection has a transaction open. SQLite
// rolls a whole transaction back on some errors (a full disk, an I/O
// error, an interrupt), after which statements would commit one by one.
func inTransaction(c *sql.Conn) bool {
	in := true
	_ = c.Raw(func(dc any) error {
		if sc, ok := dc.(*sqlite3.SQLiteConn); ok {
			in = !sc.AutoCommit()
		}
		return nil
	})
	return in
}

// writer returns the writer connection, taking it from the pool the first
// time and after a failure dropped it. The caller holds wsem.
func (s *Store) writer(ctx context.Context) (*sql.Conn, error) {
	if s.wc == nil {
		c, err := s.w.Conn(ctx)
		if err != nil {
			return nil, err
		}
		s.wc, s.stmts = c, map[string]*sql.Stmt{}
	}
	return s.wc, nil
}

// dropWriter closes the prepared statements and gives the writer
// connection up. A broken one (bad) is closed, which rolls back whatever it
// had open; otherwise it goes back to the pool. The next write takes a
// connection again. The caller holds wsem.
func (s *Store) dropWriter(bad bool) error {
	if s.wc == nil {
		return nil
	}
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	if bad {
		_ = s.wc.Raw(func(any) error { return driver.ErrBadConn }) // database/sql closes it
	} else {
		errs = append(errs, s.wc.Close())
	}
	s.wc, s.stmts = nil, nil
	return errors.Join(errs...)
}

// prepared returns the statement for query, prepared once on the writer
// connection and reused: parsing the SQL again in every durable
// transaction is measurable. The caller holds wsem (it runs inside Update).
// A statement that fails to prepare returns nil and runs unprepared, which
// reports the error.
func (s *Store) prepared(ctx context.Context, query string) *sql.Stmt {
	if st, ok := s.stmts[query]; ok {
		return st
	}
	st, err := s.wc.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s.stmts[query] = st
	return st
}

// Option adjusts Open.
type Option func(*Store)

// WithClock sets the clock the store stamps its own audit entries with
// (directory imports). Services stamp their entries with their own clock.
func WithClock(c clock.Clock) Option { return func(s *Store) { s.clock = c } }

// WithInstaller names the OS user opening the database. If the database
// has no installer yet (it is being created, or was created before irtui
// recorded one), this user becomes it: the first administrator, until
// someone in the directory can be authenticated (see package identity).
func WithInstaller(osUser string) Option { return func(s *Store) { s.installer = osUser } }

// DefaultPath is $XDG_DATA_HOME/irtui/irtui.db, or
// ~/.local/share/irtui/irtui.db when XDG_DATA_HOME is unset or relative.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "irtui", "irtui.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no default database path: %w; use --db or IRTUI_DB", err)
	}
	return filepath.Join(home, ".local", "share", "irtui", "irtui.db"), nil
}

// sqliteHeader starts every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Open opens the database at path, creating it (and its folder, mode 0700)
// if needed, and brings its schema up to date. The file and its -wal and
// -shm companions are made mode 0600 whatever the umask.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{path: abs, clock: clock.Real{}, wsem: make(chan struct{}, 1)}
	s.chg.ch = make(chan struct{})
	for _, o := range opts {
		o(s)
	}
	if err := prepareFile(abs); err != nil {
		return nil, err
	}

	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()

	// No _journal_mode here: switching to WAL writes to the file, which
	// must wait until migrate has checked that the file is irtui's.
	s.w, err = sql.Open("sqlite3", dsn(abs, "_synchronous=FULL", "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	// One writer connection: writers in this process queue in database/sql,
	// writers in other processes wait in SQLite's busy handler.
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		return nil, openError(abs, err)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if err := securePerms(abs); err != nil {
		return nil, err
	}
	if err := s.recordInstaller(ctx); err != nil {
		return nil, err
	}

	s.r, err = sql.Open("sqlite3", dsn(abs, "_txlock=deferred", "_query_only=1"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	s.r.SetMaxOpenConns(4)
	s.r.SetMaxIdleConns(4)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	s.ver, err = s.r.Conn(ctx)
	if err != nil {
		return nil, openError(abs, err)
	}
	ok = true
	return s, nil
}

func dsn(path string, params ...string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	q := "_foreign_keys=on&_busy_timeout=10000&_stmt_cache_size=64"
	for _, p := range params {
		q += "&" + p
	}
	// url.URL renders "file:///abs/path"; SQLite decodes the %XX escapes.
	return u.String() + "?" + q
}

// prepareFile creates the folder and an empty 0600 file, or checks that an
// existing file looks like SQLite before the driver touches it.
func prepareFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create database folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	f, err = os.Open(path)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("open database %s: %w: not a regular file", path, ErrNotIrtui)
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && (err == io.EOF || err == nil):
		return nil // empty: SQLite will initialise it
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("open database %s: %w", path, err)
	case !bytes.Equal(head[:n], sqliteHeader):
		return fmt.Errorf("%s is %w: it is not an SQLite file", path, ErrNotIrtui)
	}
	return nil
}

// securePerms makes the database and its WAL companions 0600, so the
// umask of whoever opened it first does not matter.
func securePerms(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restrict permissions of %s: %w", p, err)
		}
	}
	return nil
}

func isNotADatabase(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrNotADB || se.Code == sqlite3.ErrCorrupt)
}

func openError(path string, err error) error {
	if isNotADatabase(err) {
		return fmt.Errorf("%s is %w: %v", path, ErrNotIrtui, err)
	}
	return fmt.Errorf("open database %s: %w", path, err)
}

// recordInstaller records the OS user given with WithInstaller as the
// installer, unless one is recorded. It writes only the first time.
func (s *Store) recordInstaller(ctx context.Context) error {
	if s.installer == "" {
		return nil
	}
	var n int
	if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM irtui_meta WHERE key = 'installer'").Scan(&n); err != nil {
		return openError(s.path, err)
	}
	if n > 0 {
		return nil
	}
	_, err := s.w.ExecContext(ctx, "INSERT INTO irtui_meta (key, value) VALUES ('installer', ?) ON CONFLICT DO NOTHING", s.installer)
	if err != nil {
		return fmt.Errorf("record the installer of %s: %w", s.path, err)
	}
	return nil
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	_ = s.lockWriter(context.Background())
	errs := []error{s.dropWriter(false)}
	s.unlockWriter()
	if s.ver != nil {
		errs = append(errs, s.ver.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Update runs fn inside one write transaction and commits when fn returns
// nil. The transaction holds SQLite's write lock from its start (BEGIN
// IMMEDIATE), so what fn reads (such as the tail of a hash chain) stays
// current until the commit. Do not call Store read methods from fn; use the
// Tx, and return the first error a Tx method gives you: SQLite rolls the
// whole transaction back on some errors (a full disk, an interrupt), and a
// write after that would commit on its own. The commit waits until the log
// is on disk (synchronous=FULL). A cancelled context rolls back.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	return s.update(ctx, false, fn)
}

// UpdateNoSync is Update for records whose loss in a power cut is
// acceptable, such as the audit entry of a read: its commit does not wait
// for the disk (PRAGMA synchronous=NORMAL for this one transaction). It
// survives a crash of the process like any commit; after a power cut it
// survives only if a later Update (or a checkpoint) synced the log, which
// every state change does. The hash chain stays whole either way: only a
// tail of such entries can go missing, never one in the middle.
func (s *Store) UpdateNoSync(ctx context.Context, fn func(*Tx) error) error {
	return s.update(ctx, true, fn)
}

func (s *Store) update(ctx context.Context, noSync bool, fn func(*Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.lockWriter(ctx); err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	defer s.unlockWriter()
	c, err := s.writer(ctx)
	if err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	if noSync {
		if _, err := c.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
			return fmt.Errorf("begin write transaction: %w", err)
		}
		defer func() {
			if s.wc != c {
				return // thrown away already (a failed rollback)
			}
			// Back to FULL before anyone else writes; a connection that
			// cannot be reset is thrown away instead.
			if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = FULL"); rerr != nil {
				err = errors.Join(err, fmt.Errorf("restore synchronous=FULL: %w", rerr), s.dropWriter(true))
			}
		}()
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	committed := false
	defer func() {
		if committed || !inTransaction(c) {
			return // nothing to roll back: SQLite did it already
		}
		// If the rollback fails, closing the connection is the rollback
		// that cannot fail.
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			_ = s.dropWriter(true)
		}
	}()
	tx := &Tx{tx: c, st: s}
	if err := fn(tx); err != nil {
		return err
	}
	if tx.broken != nil {
		return tx.broken // fn went on after SQLite rolled back
	}
	// A statement may finish despite a cancelled context; the transaction
	// must not. Past this check the commit is not interrupted: an
	// interrupted COMMIT could report a failure for what is on disk.
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := c.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	if tx.changed {
		s.notifyChange()
	}
	return nil
}

// view runs fn inside one read transaction: a consistent snapshot.
func (s *Store) view(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	return fn(tx)
}

// DataVersion changes whenever any connection, in this process or another,
// commits to the database. Reads are audited, so it also moves when
// someone merely looks: a UI watches Version instead.
func (s *Store) DataVersion(ctx context.Context) (int64, error) {
	s.verMu.Lock()
	defer s.verMu.Unlock()
	var v int64
	if err := s.ver.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read data version: %w", err)
	}
	return v, nil
}

// MaxTimelineID is the id of the newest timeline entry (0 when there is
// none). Every change to an incident appends one, so a changed value means
// some incident changed.
func (s *Store) MaxTimelineID(ctx context.Context) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM timeline").Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("read newest timeline id: %w", err)
	}
	return id, nil
}

// IntegrityCheck runs PRAGMA integrity_check and returns its verdict ("ok"
// when the file is sound).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	rows, err := s.r.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return "", fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var out []byte
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return "", fmt.Errorf("integrity check: %w", err)
		}
		if len(out) > 0 {
			out = append(out, '\n')
		}
		out = append(out, line...)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("integrity check: %w", err)
	}
	return string(out), nil
}
