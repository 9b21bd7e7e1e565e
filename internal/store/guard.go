package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Errors about the file itself, which callers may test with errors.Is.
var (
	// ErrNoDatabase: the file named does not exist, and the caller asked
	// not to create one.
	ErrNoDatabase = errors.New("no database")
	// ErrFileGone: the database file, or its write-ahead log, was deleted
	// or replaced while this process had it open, or committed entries
	// went missing from it. Nothing more is written through this Store.
	ErrFileGone = errors.New("the database file was deleted or replaced while irtui had it open")
	// ErrDamaged: the database was found damaged (an integrity check
	// failed, SQLite reported corruption, or it lost entries a checkpoint
	// recorded). Writes are refused until a person clears the mark; see
	// Store.ClearDamage.
	ErrDamaged = errors.New("the database is marked damaged")
)

// DamageMarkerPath is the file beside a database that says it was found
// damaged. While it exists, irtui opens the database for reading only.
func DamageMarkerPath(dbPath string) string { return dbPath + ".damaged" }

// files are the database and its WAL companions as they were when this
// Store first saw them. A write checks that the names still lead to the
// same files: a file deleted or replaced under an open connection takes
// every later commit with it, silently.
//
// Deleting, creating or renaming a file changes its folder's modification
// time, so while the folder is unchanged one stat of it is the whole
// check. Its time is trusted once it is older than the file system's
// time granularity could hide (a jiffy where times have nanoseconds, two
// seconds where they do not), so that a later change cannot carry the
// same time. The full check also looks for the pending-audit journal and
// the damage marker, which another process may have made.
type files struct {
	dirMod       time.Time // the folder's time at the last full check
	trusted      bool      // dirMod was old enough to tell later changes
	db, wal, shm fs.FileInfo
	journal      bool   // the pending-audit journal existed at the last full check
	damage       string // the damage marker's reason at the last full check
}

const (
	coarseTime = 2 * time.Second       // file systems that keep times to the second (or two)
	fineTime   = 50 * time.Millisecond // a few jiffies, for times kept with nanoseconds
)

// check compares the files at path with those recorded, recording the
// WAL companions the first time they are seen. which names the file that
// is gone or replaced.
func (f *files) check(path string) (which string, err error) {
	dir, derr := os.Stat(filepath.Dir(path))
	if derr == nil && f.trusted && dir.ModTime().Equal(f.dirMod) {
		return "", nil
	}
	for _, c := range []struct {
		name string
		info *fs.FileInfo
		must bool
	}{{path, &f.db, true}, {path + "-wal", &f.wal, false}, {path + "-shm", &f.shm, false}} {
		now, err := os.Stat(c.name)
		switch {
		case errors.Is(err, fs.ErrNotExist) && *c.info == nil && !c.must:
			continue // not created yet
		case errors.Is(err, fs.ErrNotExist):
			return c.name, fmt.Errorf("%w: %s no longer exists", ErrFileGone, c.name)
		case err != nil:
			return c.name, fmt.Errorf("check %s: %w", c.name, err)
		case *c.info == nil:
			*c.info = now
		case !os.SameFile(*c.info, now):
			return c.name, fmt.Errorf("%w: %s is no longer the file irtui opened", ErrFileGone, c.name)
		}
	}
	_, jerr := os.Stat(JournalPath(path))
	f.journal = jerr == nil
	if f.damage, err = readDamage(path); err != nil {
		return "", err
	}
	if derr == nil {
		m := dir.ModTime()
		margin := coarseTime
		if m.Nanosecond() != 0 {
			margin = fineTime
		}
		f.dirMod, f.trusted = m, time.Since(m) > margin
	}
	return "", nil
}

// isCorrupt reports whether err is SQLite saying the file is damaged.
func isCorrupt(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// readDamage returns the reason recorded in the damage marker, or "".
func readDamage(path string) (string, error) {
	b, err := os.ReadFile(DamageMarkerPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", DamageMarkerPath(path), err)
	}
	reason := firstLine(strings.TrimSpace(string(b)))
	if reason == "" {
		reason = "(the marker gives no reason)"
	}
	return reason, nil
}

// MarkDamaged records that the database is damaged: from now on, this
// Store and every irtui that opens the file refuse to write to it, until a
// person clears the mark (ClearDamage, `irtui audit unblock`). The reason
// is kept in a marker file beside the database; if that cannot be written,
// this Store still refuses writes.
func (s *Store) MarkDamaged(reason string) {
	reason = firstLine(strings.TrimSpace(reason))
	s.guardMu.Lock()
	defer s.guardMu.Unlock()
	if s.damage != "" {
		return
	}
	s.damage = reason
	if s.readOnly {
		return
	}
	MarkFileDamaged(s.path, reason)
}

// MarkFileDamaged leaves the damage marker beside the database at path
// (see MarkDamaged), for a check that found damage without opening a
// Store (`irtui audit verify`). An existing marker is kept.
func MarkFileDamaged(path, reason string) {
	text := fmt.Sprintf("%s\n\nirtui found this database damaged at %s and refuses to write to it.\n"+
		"Check it (irtui audit verify), restore it from a backup if need be, then run\n"+
		"irtui audit unblock --reason \"what you did\" to allow writing again.\n",
		firstLine(strings.TrimSpace(reason)), FormatTime(time.Now()))
	_ = writeFileExcl(DamageMarkerPath(path), []byte(text))
}

// writeFileExcl writes a new 0600 file; it leaves an existing one alone.
func writeFileExcl(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Damage is why the database is marked damaged ("" when it is not).
func (s *Store) Damage() string {
	s.guardMu.Lock()
	defer s.guardMu.Unlock()
	return s.damage
}

// Stopped is why this Store stopped writing ("" when it did not): the file
// was deleted or replaced, or lost entries, while it was open.
func (s *Store) Stopped() error {
	s.guardMu.Lock()
	defer s.guardMu.Unlock()
	return s.stopped
}

func (s *Store) stop(err error) error {
	s.guardMu.Lock()
	defer s.guardMu.Unlock()
	if s.stopped == nil {
		s.stopped = err
	}
	return s.stopped
}

// writable says why a write must not start, if it must not.
func (s *Store) writable() error {
	s.guardMu.Lock()
	defer s.guardMu.Unlock()
	switch {
	case s.stopped != nil:
		return fmt.Errorf("%w; nothing more is written (quit, and check %s)", s.stopped, s.path)
	case s.damage != "":
		return fmt.Errorf("%w (%s): writes are refused until a person checks it and runs `irtui audit unblock`",
			ErrDamaged, s.damage)
	case s.readOnly:
		return fmt.Errorf("%s is open for reading only", s.path)
	}
	return nil
}

// ClearDamage removes the damage mark after a person checked the file:
// it runs PRAGMA integrity_check first and refuses while that finds
// problems, then removes the marker and records who cleared it and why in
// the audit log.
func (s *Store) ClearDamage(ctx context.Context, actor, auth, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return errors.New("say what was checked or done (--reason)")
	}
	res, err := s.IntegrityCheck(ctx)
	switch {
	case err != nil && isCorrupt(err):
		return fmt.Errorf("integrity_check still finds problems, so the mark stays: %v", err)
	case err != nil:
		return err
	case res != "ok":
		return fmt.Errorf("integrity_check still finds problems, so the mark stays:\n%s", res)
	}
	s.guardMu.Lock()
	was := s.damage
	s.guardMu.Unlock()
	if err := os.Remove(DamageMarkerPath(s.path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", DamageMarkerPath(s.path), err)
	}
	s.guardMu.Lock()
	s.damage = ""
	s.checkResult = "ok"
	s.guardMu.Unlock()
	if was == "" {
		was = "none"
	}
	return s.Update(ctx, func(tx *Tx) error {
		return tx.AppendAudit(ctx, &AuditEntry{At: s.clock.Now(), Actor: actor, Auth: auth, Action: "unblock", Outcome: OutcomeOK,
			Detail: firstLine(fmt.Sprintf("damage mark cleared (%s): %s", was, reason))})
	})
}

// startCheck runs PRAGMA quick_check once, in the background, on a reader
// connection. Writes wait for it (awaitCheck); reads do not.
func (s *Store) startCheck() {
	s.checkOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.checkCancel = cancel
		go func() {
			defer close(s.checkDone)
			res, err := s.pragmaCheck(ctx, "quick_check")
			s.guardMu.Lock()
			s.checkResult, s.checkErr = res, err
			s.guardMu.Unlock()
			switch {
			case err != nil && isCorrupt(err):
				s.MarkDamaged("quick_check: " + err.Error())
			case err == nil && res != "ok":
				s.MarkDamaged("quick_check: " + strings.ReplaceAll(res, "\n", "; "))
			}
		}()
	})
}

// CheckInBackground starts PRAGMA quick_check now, for a process that will
// write (the app, a server); otherwise it starts with the first write.
func (s *Store) CheckInBackground() { s.startCheck() }

// awaitCheck waits for the quick_check the first write starts.
func (s *Store) awaitCheck(ctx context.Context) error {
	s.startCheck()
	select {
	case <-s.checkDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.guardMu.Lock()
	err := s.checkErr
	s.guardMu.Unlock()
	if err != nil && !isCorrupt(err) {
		return fmt.Errorf("check the database before writing: %w", err)
	}
	return nil
}

func (s *Store) pragmaCheck(ctx context.Context, pragma string) (string, error) {
	rows, err := s.r.QueryContext(ctx, "PRAGMA "+pragma)
	if err != nil {
		return "", err
	}
	lines, err := collect(rows, func(sc scanner) (string, error) {
		var l string
		return l, sc.Scan(&l)
	}, pragma)
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}
