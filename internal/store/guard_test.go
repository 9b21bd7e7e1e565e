package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func note(ctx context.Context, s *Store, id, text string) error {
	return s.Update(ctx, func(tx *Tx) error {
		if err := tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: id, At: t0, Actor: "alice", Kind: "note", Summary: text}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Action: "note", IncidentID: id, Outcome: OutcomeOK})
	})
}

func TestOpenMustExistCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "irtui.db")
	_, err := Open(context.Background(), path, MustExist())
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want ErrNoDatabase naming %s", err, path)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open with MustExist created the folder: %v", err)
	}
}

func TestCreateLeavesOnlyTheDatabase(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "irtui.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "irtui.db" {
		t.Errorf("folder holds %v after creating a database, want only irtui.db", names)
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("new database: %v, %v", st, err)
	}
}

func TestOpenRefusesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "irtui.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if !errors.Is(err, ErrNotIrtui) || !strings.Contains(err.Error(), "empty (0 bytes)") {
		t.Fatalf("err = %v, want a refusal of the empty file", err)
	}
	if st, _ := os.Stat(path); st.Size() != 0 {
		t.Errorf("the empty file was written to (%d bytes)", st.Size())
	}
}

// The case: with irtui open, the files are removed; the next
// change must fail loudly, not be acknowledged into a file that is gone.
func TestDeletedWhileOpenStopsWriting(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove []string
		want   string
	}{
		{"all files", []string{"", "-wal", "-shm"}, "irtui.db no longer exists"},
		{"database only", []string{""}, "irtui.db no longer exists"},
		{"write-ahead log", []string{"-wal"}, "irtui.db-wal no longer exists"},
		{"shared memory", []string{"-shm"}, "irtui.db-shm no longer exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t)
			ctx := context.Background()
			ids := seed(t, s, 1, 1)
			for _, suffix := range tc.remove {
				if err := os.Remove(path + suffix); err != nil {
					t.Fatal(err)
				}
			}
			err := note(ctx, s, ids[0], "after the delete")
			if !errors.Is(err, ErrFileGone) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), "not saved") {
				t.Fatalf("err = %v, want ErrFileGone naming %q", err, tc.want)
			}
			// It stays stopped, and nothing was created in the file's place.
			if err := note(ctx, s, ids[0], "again"); !errors.Is(err, ErrFileGone) {
				t.Errorf("second write: %v", err)
			}
			if _, err := s.RecordRead(ctx, AuditEntry{At: t0, Actor: "a", Action: "open", Outcome: OutcomeOK}, false); !errors.Is(err, ErrFileGone) {
				t.Errorf("read audit after the delete: %v", err)
			}
			if _, err := os.Stat(path); tc.remove[0] == "" && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a database reappeared at %s", path)
			}
			if s.Stopped() == nil {
				t.Error("Stopped() is nil")
			}
		})
	}
}

func TestReplacedWhileOpenStopsWriting(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 1)
	other, _ := openTest(t)
	other.Close()
	if err := os.Rename(other.Path(), path); err != nil {
		t.Fatal(err)
	}
	err := note(ctx, s, ids[0], "into the replaced file")
	if !errors.Is(err, ErrFileGone) || !strings.Contains(err.Error(), "is no longer the file irtui opened") {
		t.Fatalf("err = %v", err)
	}
}

// Entries this Store committed that are no longer in the file: it stops
// and marks the file damaged, instead of chaining onto a shorter record.
func TestLostEntriesStopWriting(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 1)
	if err := note(ctx, s, ids[0], "will be lost"); err != nil {
		t.Fatal(err)
	}
	tamper(t, path, "DELETE FROM timeline WHERE id = 2", "DELETE FROM audit WHERE id = 2")
	err := note(ctx, s, ids[0], "after the loss")
	if !errors.Is(err, ErrFileGone) || !strings.Contains(err.Error(), "committed up to #2 and #2") {
		t.Fatalf("err = %v", err)
	}
	if s.Damage() == "" {
		t.Error("the loss did not mark the database damaged")
	}
	if _, err := os.Stat(DamageMarkerPath(path)); err != nil {
		t.Errorf("no damage marker: %v", err)
	}
}

// flip overwrites n bytes at off with 0xA5.
func flip(t *testing.T, path string, off, n int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xA5
	}
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// closedSeeded is a database with some history, closed (checkpointed into
// the main file) so that its pages can be damaged on disk.
func closedSeeded(t *testing.T) string {
	t.Helper()
	s, path := openTest(t)
	seed(t, s, 40, 10)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// No free pages: every page damaged below is one in use.
	db := raw(t, path)
	mustExec(t, db, "VACUUM")
	db.Close() // the last connection: the log goes into the main file
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the write-ahead log outlived the last connection: %v", err)
	}
	return path
}

func TestFlippedBytesRefuseWrites(t *testing.T) {
	path := closedSeeded(t)
	flip(t, path, pageOf(t, path, "timeline"), 256) // the timeline's root page, from its header on
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("a damaged file must still open for reading: %v", err)
	}
	defer s.Close()
	err = note(ctx, s, "INC-0001", "onto damaged pages")
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("write to a damaged file: %v, want ErrDamaged", err)
	}
	if !strings.Contains(err.Error(), "quick_check") || !strings.Contains(err.Error(), "irtui audit unblock") {
		t.Errorf("the refusal should say what was found and what to do: %v", err)
	}
	// The mark outlives the process: another open refuses too, at once.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Damage() == "" {
		t.Fatal("reopened store does not know the file is damaged")
	}
	if err := note(ctx, s2, "INC-0001", "x"); !errors.Is(err, ErrDamaged) {
		t.Errorf("write after reopening: %v", err)
	}
	// A person cannot clear the mark while the file is still damaged.
	if err := s2.ClearDamage(ctx, "alice", "", "looked at it"); err == nil {
		t.Error("ClearDamage succeeded on a damaged file")
	}
}

// pageOf is the file offset of the root page of a table or index.
func pageOf(t *testing.T, path, name string) int64 {
	t.Helper()
	db := raw(t, path)
	defer db.Close()
	var root, pageSize int64
	if err := db.QueryRow("SELECT rootpage FROM sqlite_schema WHERE name = ?", name).Scan(&root); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	return (root - 1) * pageSize
}

// A damaged index page: the chains read fine, quick_check may not look,
// integrity_check finds it and marks the file.
func TestIntegrityCheckFindsDamagedIndexPage(t *testing.T) {
	path := closedSeeded(t)
	flip(t, path, pageOf(t, path, "audit_by_incident"), 16)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.IntegrityCheck(ctx)
	if err == nil && res == "ok" {
		t.Fatal("integrity_check passed a damaged index page")
	}
	if s.Damage() == "" {
		t.Error("integrity_check's finding did not mark the file damaged")
	}
	if err := note(ctx, s, "INC-0001", "x"); !errors.Is(err, ErrDamaged) {
		t.Errorf("write after integrity_check failed: %v", err)
	}
}

func TestClearDamage(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 1)
	s.MarkDamaged("a test said so")
	if err := note(ctx, s, ids[0], "x"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "a test said so") {
		t.Fatalf("err = %v", err)
	}
	if err := s.ClearDamage(ctx, "alice", "", ""); err == nil {
		t.Error("cleared without a reason")
	}
	if err := s.ClearDamage(ctx, "alice", "", "restored from last night's backup"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(DamageMarkerPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("marker still there: %v", err)
	}
	if err := note(ctx, s, ids[0], "writing again"); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Audit(ctx, AuditFilter{})
	found := false
	for _, e := range a {
		if e.Action == "unblock" && e.Actor == "alice" && strings.Contains(e.Detail, "last night's backup") {
			found = true
		}
	}
	if !found {
		t.Errorf("clearing the mark was not audited: %+v", a)
	}
}

// holdWriteLock takes the write lock in a plain connection, as another
// process in the middle of a transaction would, until the test ends.
func holdWriteLock(t *testing.T, path string) func() {
	t.Helper()
	db := raw(t, path)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "INSERT INTO irtui_meta (key, value) VALUES ('held', 'x')"); err != nil {
		t.Fatal(err)
	}
	done := false
	release := func() {
		if !done {
			done = true
			conn.ExecContext(context.Background(), "ROLLBACK")
			conn.Close()
		}
	}
	t.Cleanup(release)
	return release
}

func TestReadersDoNotWaitForAWriter(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 2, 3)
	s.Close()
	release := holdWriteLock(t, path)

	start := time.Now()
	r, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open while another holds the write lock: %v", err)
	}
	defer r.Close()
	if _, err := r.Incident(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	journaled, err := r.RecordRead(ctx, AuditEntry{At: t0, Actor: "bob", Action: "open", IncidentID: ids[0], Outcome: OutcomeOK}, false)
	if err != nil || !journaled {
		t.Fatalf("RecordRead = %v, %v; want it journaled", journaled, err)
	}
	rep, err := r.VerifyChains(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify while locked: %+v, %v", rep, err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("reading beside a held write lock took %v", el)
	}

	release()
	// The next write takes the journal in, before its own entries.
	if err := note(ctx, r, ids[0], "after the lock"); err != nil {
		t.Fatal(err)
	}
	a, _ := r.Audit(ctx, AuditFilter{})
	if len(a) < 2 {
		t.Fatalf("audit: %+v", a)
	}
	got := a[len(a)-2]
	if got.Actor != "bob" || got.Action != "open" || !strings.Contains(got.Detail, "recorded late: the database was busy") || !got.At.Equal(t0) {
		t.Errorf("journaled read in the chain: %+v", got)
	}
	if _, err := os.Stat(JournalPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal after taking it in: %v", err)
	}
	// Taken in once only.
	if err := note(ctx, r, ids[0], "again"); err != nil {
		t.Fatal(err)
	}
	n := 0
	a, _ = r.Audit(ctx, AuditFilter{})
	for _, e := range a {
		if e.Actor == "bob" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the journaled read is in the audit log %d times", n)
	}
	if rep, err := r.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// A crash after the commit that took the journal in, before the file was
// emptied, must not take its entries in twice.
func TestJournalTakenInOnce(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 1)
	if err := s.journal(AuditEntry{At: t0, Actor: "carol", Action: "list", Outcome: OutcomeOK}, false); err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(JournalPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if err := note(ctx, s, ids[0], "takes it in"); err != nil {
		t.Fatal(err)
	}
	// As if the process died before emptying it.
	if err := os.WriteFile(JournalPath(path), saved, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := note(ctx, s, ids[0], "must not take it in again"); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Audit(ctx, AuditFilter{})
	n := 0
	for _, e := range a {
		if e.Actor == "carol" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("journaled entry recorded %d times", n)
	}
}

// A torn or edited journal line is recorded as such, not dropped.
func TestJournalBadLineIsRecorded(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 1)
	if err := os.WriteFile(JournalPath(path), []byte("{\"id\":\"ab\",\"act\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := note(ctx, s, ids[0], "x"); err != nil {
		t.Fatal(err)
	}
	a, _ := s.Audit(ctx, AuditFilter{})
	found := false
	for _, e := range a {
		if e.Action == "journal" && e.Outcome == OutcomeFailed && strings.Contains(e.Detail, ".pending-audit:1: unreadable") {
			found = true
		}
	}
	if !found {
		t.Errorf("bad journal line not recorded: %+v", a)
	}
}

// Opening a file whose schema is current takes no lock; one that is behind
// says so before it waits for the lock.
func TestOpenUpgradesOnlyWhenBehindAndSaysSo(t *testing.T) {
	s, path := openTest(t)
	s.Close()
	var notices []string
	s, err := Open(context.Background(), path, WithNotice(func(m string) { notices = append(notices, m) }))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(notices) != 0 {
		t.Errorf("notices for a current file: %v", notices)
	}
	db := raw(t, path)
	mustExec(t, db, "PRAGMA journal_mode = DELETE")
	db.Close()
	s, err = Open(context.Background(), path, WithNotice(func(m string) { notices = append(notices, m) }))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if len(notices) != 1 || !strings.Contains(notices[0], "to write-ahead logging") {
		t.Errorf("notices: %v", notices)
	}
}

// The case: the write-ahead log is deleted while irtui runs. What
// it held was acknowledged; irtui must not lose it silently. The next
// write (or CheckFile) finds the log gone, copies what the process still
// holds into the database file, and stops.
func TestDeletedWALIsRescued(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 1)
	for i := range 20 {
		if err := note(ctx, s, ids[0], fmt.Sprintf("acknowledged %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	err := s.CheckFile(ctx)
	if !errors.Is(err, ErrFileGone) || !strings.Contains(err.Error(), "copied what it had committed") {
		t.Fatalf("CheckFile = %v", err)
	}
	if err := note(ctx, s, ids[0], "after"); !errors.Is(err, ErrFileGone) {
		t.Fatalf("write after the log was deleted: %v", err)
	}
	// Before the process ends (it could be killed now), the database file
	// alone holds every acknowledged note.
	var n int
	other := raw(t, path)
	if err := other.QueryRow("SELECT count(*) FROM timeline").Scan(&n); err != nil || n != 21 {
		t.Fatalf("the database file holds %d timeline entries (%v), want 21", n, err)
	}
	other.Close()
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	d, err := s2.Incident(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if d.TimelineTotal != 21 {
		t.Errorf("after the rescue the incident has %d entries, want 21 (1 + 20 acknowledged notes)", d.TimelineTotal)
	}
	if rep, err := s2.VerifyChains(ctx); err != nil || !rep.OK {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}
