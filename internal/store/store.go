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
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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
	// dstmts are statements prepared on wc's driver connection, for the
	// writes that return the rows they change (Tx.write).
	dstmts map[string]driver.Stmt

	verMu sync.Mutex
	ver   *sql.Conn // held open for PRAGMA data_version

	mustExist bool
	notice    func(string)
	readOnly  bool

	filesMu sync.Mutex
	files   files // the files as first seen; every write checks them

	// guardMu guards what stops writing: a file that went away, a damage
	// mark, and the background quick_check.
	guardMu     sync.Mutex
	stopped     error
	damage      string
	checkOnce   sync.Once
	checkDone   chan struct{}
	checkCancel context.CancelFunc
	checkResult string
	checkErr    error

	// heads are the newest entry ids this Store committed or found at the
	// start of a write. A later write that finds the chains shorter knows
	// that committed entries were lost. Guarded by wsem.
	heads struct{ timeline, audit int64 }
	wrote atomic.Bool // something was committed through this Store

	tablesMu sync.Mutex
	tables   map[string]*tableInfo // covered tables, read once

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
	if len(s.dstmts) > 0 {
		_ = s.wc.Raw(func(any) error {
			for _, st := range s.dstmts {
				errs = append(errs, st.Close())
			}
			return nil
		})
	}
	s.dstmts = nil
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

// MustExist makes Open refuse a path where no file is, with an error that
// wraps ErrNoDatabase, instead of creating a database there.
func MustExist() Option { return func(s *Store) { s.mustExist = true } }

// WithNotice receives what Open has to tell a person before it takes
// long or changes the file: a schema upgrade.
func WithNotice(f func(string)) Option { return func(s *Store) { s.notice = f } }

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

// Open opens the database at path and brings its schema up to date. A
// missing file is created (and its folder, mode 0700) unless MustExist is
// given; creation is atomic, so a crash never leaves a half-made or empty
// database behind. An empty (0-byte) file is refused. The file and its
// -wal and -shm companions are made mode 0600 whatever the umask.
//
// Opening takes no write lock: a process that holds a write transaction
// (even one that is stopped) does not keep anyone from opening the file
// and reading it. Only a schema behind this build's takes the lock, to
// upgrade it, and says so through WithNotice first.
//
// A database marked damaged (DamageMarkerPath) opens for reading; writes
// are refused with ErrDamaged.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{path: abs, clock: clock.Real{}, wsem: make(chan struct{}, 1), checkDone: make(chan struct{})}
	s.chg.ch = make(chan struct{})
	for _, o := range opts {
		o(s)
	}
	switch _, err := os.Stat(abs); {
	case errors.Is(err, fs.ErrNotExist) && s.mustExist:
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoDatabase, abs)
	case errors.Is(err, fs.ErrNotExist):
		if err := createDatabase(ctx, abs, s.clock.Now()); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	if err := checkFile(abs); err != nil {
		return nil, err
	}
	if s.damage, err = readDamage(abs); err != nil {
		return nil, err
	}

	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if _, err := s.files.check(abs); err != nil {
		return nil, err
	}
	s.files.damage = "" // read above
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
	s.r, err = sql.Open("sqlite3", dsn(abs, "_txlock=deferred", "_query_only=1"))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	s.r.SetMaxOpenConns(4)
	s.r.SetMaxIdleConns(4)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	if err := s.upgrade(ctx); err != nil {
		return nil, err
	}
	if err := securePerms(abs); err != nil {
		return nil, err
	}
	if err := s.recordInstaller(ctx); err != nil {
		return nil, err
	}
	s.ver, err = s.r.Conn(ctx)
	if err != nil {
		return nil, openError(abs, err)
	}
	ok = true
	return s, nil
}

// createDatabase makes a new database at path: it builds it under a
// temporary name in the same folder (mode 0600, WAL, every migration),
// closes it, and links it to path, which fails if a file appeared there
// meanwhile (another process won; its database is used).
func createDatabase(ctx context.Context, path string, now time.Time) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create database folder: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".new-*")
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
			_ = os.Remove(p)
		}
	}()
	db, err := sql.Open("sqlite3", dsn(tmp, "_synchronous=FULL", "_txlock=immediate"))
	if err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	err = migrateDB(ctx, db, path, now)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("create database %s: %w", path, cerr)
	}
	if err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	return syncFile(dir)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// busyTimeout is how long a write waits for another process's write
// transaction to end.
const busyTimeout = 10 * time.Second

func dsn(path string, params ...string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	q := fmt.Sprintf("_foreign_keys=on&_busy_timeout=%d&_stmt_cache_size=64", busyTimeout.Milliseconds())
	for _, p := range params {
		q += "&" + p
	}
	// url.URL renders "file:///abs/path"; SQLite decodes the %XX escapes.
	return u.String() + "?" + q
}

// CheckFile checks that the file at path looks like a database irtui can
// open: a regular, non-empty file with SQLite's header.
func CheckFile(path string) error { return checkFile(path) }

// checkFile checks that an existing file looks like an SQLite database
// before the driver touches it: a regular file, not empty, with SQLite's
// header. An empty file is refused rather than started afresh: it is what
// a truncated or wiped database looks like.
func checkFile(path string) error {
	f, err := os.Open(path)
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
	if st.Size() == 0 {
		return fmt.Errorf("%s is %w: it is empty (0 bytes), as a truncated or wiped database would be; "+
			"irtui does not start it afresh. Restore it from a backup, or remove it to start a new one", path, ErrNotIrtui)
	}
	head := make([]byte, len(sqliteHeader))
	n, err := io.ReadFull(f, head)
	switch {
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
	if s.installer == "" || s.damage != "" {
		return nil
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM irtui_meta WHERE key = 'installer'").Scan(&n); err != nil {
		return openError(s.path, err)
	}
	if n > 0 {
		return nil // the usual case: opening writes nothing
	}
	err := s.Update(ctx, func(tx *Tx) error {
		w, err := tx.write(ctx, "irtui_meta", "INSERT INTO irtui_meta (key, value) VALUES ('installer', ?) ON CONFLICT DO NOTHING", s.installer)
		if err != nil || w.n == 0 {
			return err
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: s.clock.Now(), Actor: SystemActor, Action: "installer", Outcome: OutcomeOK,
			Detail: "installer: " + s.installer, Auth: "os:" + s.installer})
	})
	if err != nil {
		return fmt.Errorf("record the installer of %s: %w", s.path, err)
	}
	return nil
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error {
	if s.checkCancel != nil {
		s.checkCancel()
		<-s.checkDone
	}
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
	return s.update(ctx, writeMode{}, fn)
}

// UpdateNoSync is Update for records whose loss in a power cut is
// acceptable, such as the audit entry of a read: its commit does not wait
// for the disk (PRAGMA synchronous=NORMAL for this one transaction). It
// survives a crash of the process like any commit; after a power cut it
// survives only if a later Update (or a checkpoint) synced the log, which
// every state change does. The hash chain stays whole either way: only a
// tail of such entries can go missing, never one in the middle.
func (s *Store) UpdateNoSync(ctx context.Context, fn func(*Tx) error) error {
	return s.update(ctx, writeMode{noSync: true}, fn)
}

// readWait is how long the audit entry of a read waits for the write lock
// before it goes to the pending-audit journal instead: a read must not wait
// for a writer, and a writer that is stuck must not stop anyone reading.
const readWait = 200 * time.Millisecond

// errBusy: the write lock was not free within readWait.
var errBusy = errors.New("the database is busy")

type writeMode struct {
	noSync bool // do not wait for the disk (synchronous=NORMAL)
	read   bool // the audit entry of a read: wait readWait at most, and not for the check
}

func (s *Store) update(ctx context.Context, mode writeMode, fn func(*Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if mode.read {
		lctx, cancel := context.WithTimeout(ctx, readWait)
		err = s.lockWriter(lctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			return errBusy
		}
	} else {
		err = s.lockWriter(ctx)
	}
	if err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	defer s.unlockWriter()
	if err := s.writable(); err != nil {
		return err
	}
	if !mode.read {
		if err := s.awaitCheck(ctx); err != nil {
			return err
		}
		if err := s.writable(); err != nil {
			return err
		}
	}
	if err := s.checkFiles(ctx); err != nil {
		return fmt.Errorf("%w; this change was not saved, and nothing more will be written", err)
	}
	if err := s.writable(); err != nil {
		return err
	}
	c, err := s.writer(ctx)
	if err != nil {
		return fmt.Errorf("begin write transaction: %w", err)
	}
	var restore []string
	if mode.noSync {
		restore = append(restore, "PRAGMA synchronous = FULL")
		if _, err := c.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
			return fmt.Errorf("begin write transaction: %w", err)
		}
	}
	if mode.read {
		restore = append(restore, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds()))
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", readWait.Milliseconds())); err != nil {
			return fmt.Errorf("begin write transaction: %w", err)
		}
	}
	if len(restore) > 0 {
		defer func() {
			if s.wc != c {
				return // thrown away already (a failed rollback)
			}
			// Back to the defaults before anyone else writes; a connection
			// that cannot be reset is thrown away instead.
			for _, q := range restore {
				if _, rerr := c.ExecContext(context.WithoutCancel(ctx), q); rerr != nil {
					err = errors.Join(err, fmt.Errorf("restore %s: %w", q, rerr), s.dropWriter(true))
					return
				}
			}
		}()
	}
	if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		var se sqlite3.Error
		if mode.read && errors.As(err, &se) && se.Code == sqlite3.ErrBusy {
			return errBusy
		}
		return s.noteCorruption(fmt.Errorf("begin write transaction: %w", err))
	}
	committed := false
	tx := &Tx{tx: c, st: s}
	defer func() {
		tx.endJournal(committed)
		if committed || !inTransaction(c) {
			return // nothing to roll back: SQLite did it already
		}
		// If the rollback fails, closing the connection is the rollback
		// that cannot fail.
		if _, rerr := c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rerr != nil {
			_ = s.dropWriter(true)
		}
	}()
	if err := s.runTx(ctx, tx, fn); err != nil {
		return s.noteCorruption(err)
	}
	// A statement may finish despite a cancelled context; the transaction
	// must not. Past this check the commit is not interrupted: an
	// interrupted COMMIT could report a failure for what is on disk.
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := c.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		return s.noteCorruption(fmt.Errorf("commit: %w", err))
	}
	committed = true
	s.wrote.Store(true)
	if t := tx.tails; t != nil {
		s.heads.timeline, s.heads.audit = t.timelineID, t.auditID
	}
	if tx.changed {
		s.notifyChange()
	}
	// The commit went to the file this Store opened. If that name now
	// leads elsewhere, or nowhere, what was just committed may be gone.
	if err := s.checkFiles(ctx); err != nil {
		return fmt.Errorf("%w; this change was written to the file irtui had open, and may not be saved", err)
	}
	return nil
}

// runTx runs fn and what every write transaction does around it: pending
// read audits first, and the state of the rows fn changed recorded in
// the audit chain last.
func (s *Store) runTx(ctx context.Context, tx *Tx, fn func(*Tx) error) error {
	if err := tx.ingestJournal(ctx); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.flushState(ctx); err != nil {
		return err
	}
	return tx.broken // set when fn went on after SQLite rolled back
}

// checkFiles checks that the database files are still the ones this Store
// opened; once they are not, the Store stops writing for good. When only
// the write-ahead log (or its index) went away, what this process
// committed is still in the log it holds open: it is copied into the
// database file (a checkpoint) before writing stops, so that it is not
// lost with the log. The caller holds wsem.
func (s *Store) checkFiles(ctx context.Context) error {
	if err := s.Stopped(); err != nil {
		return err
	}
	s.filesMu.Lock()
	which, err := s.files.check(s.path)
	damage := s.files.damage
	s.filesMu.Unlock()
	if damage != "" {
		// Another process marked the file damaged: this one stops too.
		s.guardMu.Lock()
		if s.damage == "" {
			s.damage = damage
		}
		s.guardMu.Unlock()
	}
	if err == nil || !errors.Is(err, ErrFileGone) {
		return err
	}
	if which != s.path {
		if c, cerr := s.writer(ctx); cerr == nil {
			var busy, logged, done int
			cerr = c.QueryRowContext(context.WithoutCancel(ctx), "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logged, &done)
			switch {
			case cerr == nil && busy == 0:
				err = fmt.Errorf("%w; irtui copied what it had committed into %s before it stopped", err, s.path)
			case cerr == nil:
				err = fmt.Errorf("%w; irtui could copy only %d of %d logged pages into %s", err, done, logged, s.path)
			default:
				err = fmt.Errorf("%w; irtui could not copy what it had committed into %s: %v", err, s.path, cerr)
			}
		}
	}
	return s.stop(err)
}

// CheckFile tells whether the database file, or its write-ahead log, was
// deleted or replaced since this Store opened it. A long-running process
// calls it now and then, to say so (and save what its log holds) before
// anyone acts.
func (s *Store) CheckFile(ctx context.Context) error {
	if err := s.lockWriter(ctx); err != nil {
		return err
	}
	defer s.unlockWriter()
	return s.checkFiles(ctx)
}

// noteCorruption marks the database damaged when err is SQLite reporting
// corruption, and returns err.
func (s *Store) noteCorruption(err error) error {
	if err != nil && isCorrupt(err) {
		s.MarkDamaged("SQLite reported corruption: " + err.Error())
	}
	return err
}

// Wrote reports whether anything was committed through this Store.
func (s *Store) Wrote() bool { return s.wrote.Load() }

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
// when the file is sound). Problems found mark the database damaged.
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	res, err := s.pragmaCheck(ctx, "integrity_check")
	switch {
	case err != nil && isCorrupt(err):
		s.MarkDamaged("integrity_check: " + err.Error())
		return "", fmt.Errorf("integrity check: %w", err)
	case err != nil:
		return "", fmt.Errorf("integrity check: %w", err)
	case res != "ok":
		s.MarkDamaged("integrity_check: " + strings.ReplaceAll(res, "\n", "; "))
	}
	return res, nil
}
