package witness

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/store"
)

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "irtui.db"), store.WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openAt opens the database at path; the test closes it.
func openAt(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func act(t *testing.T, st *store.Store, title string) string {
	t.Helper()
	ctx := context.Background()
	var id string
	err := st.Update(ctx, func(tx *store.Tx) error {
		in := store.Incident{Kind: store.KindIncident, Status: store.StatusOpen, RunbookID: "rb", RunbookVersion: "1",
			Title: title, Severity: "SEV2", AwareAt: t0, DeclaredAt: t0, UpdatedAt: t0, CreatedBy: "alice"}
		if err := tx.InsertIncident(ctx, &in); err != nil {
			return err
		}
		id = in.ID
		if err := tx.AppendTimeline(ctx, &store.TimelineEntry{IncidentID: in.ID, At: t0, Actor: "alice", Kind: "declared", Summary: title}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: t0, Actor: "alice", Action: "declare", IncidentID: in.ID, Outcome: store.OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestKeyIsCreatedPrivateOnce(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "cfg", "irtui", "checkpoint.key")
	var shown string
	o := Options{Key: path, KeyCreated: func(p, pub string) { shown = pub }}
	s, err := o.Signer()
	if err != nil {
		t.Fatal(err)
	}
	if shown == "" || shown != s.Public() || !strings.HasPrefix(shown, "ed25519:") {
		t.Fatalf("public key shown: %q (key %s)", shown, s.Public())
	}
	for _, p := range []string{path, path + ".pub"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 600", p, st, err)
		}
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("key folder mode %o", st.Mode().Perm())
	}
	pub, err := ParsePublicKey(path + ".pub")
	if err != nil || PublicKeyString(pub) != s.Public() {
		t.Errorf("public key file: %v, %v", pub, err)
	}
	shown = ""
	s2, err := o.Signer()
	if err != nil || s2.Public() != s.Public() || shown != "" {
		t.Errorf("second use: %v, %v, shown %q", s2, err, shown)
	}
	// A key others can read is refused, as ssh refuses one.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Signer(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("readable key: %v", err)
	}
}

func TestLinesAreSignedAndChecked(t *testing.T) {
	st := openStore(t)
	act(t, st, "one")
	dir := t.TempDir()
	o := Options{Key: filepath.Join(dir, "k"), To: filepath.Join(dir, "w"), Clock: clock.NewFake(t0)}
	l, err := Write(context.Background(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	if l.Timeline.ID != 1 || l.Audit.ID != 1 || l.Incident != "INC-0001" || l.DB == "" {
		t.Fatalf("line: %+v", l)
	}
	if _, err := l.Check(); err != nil {
		t.Fatalf("fresh line: %v", err)
	}
	for name, edit := range map[string]func(*Line){
		"timeline id":   func(l *Line) { l.Timeline.ID-- },
		"audit hash":    func(l *Line) { l.Audit.Hash = strings.Repeat("0", 64) },
		"incident":      func(l *Line) { l.Incident = "" },
		"time":          func(l *Line) { l.At = store.FormatTime(t0.Add(time.Hour)) },
		"database":      func(l *Line) { l.DB = "x" },
		"key swapped":   func(l *Line) { l.Key = PublicKeyString(make(ed25519.PublicKey, 32)) },
		"signature cut": func(l *Line) { l.Sig = l.Sig[:10] },
	} {
		c := l
		edit(&c)
		if _, err := c.Check(); err == nil {
			t.Errorf("%s altered: the signature still checks", name)
		}
	}
}

func TestReadNamesBadLines(t *testing.T) {
	st := openStore(t)
	act(t, st, "one")
	dir := t.TempDir()
	w := filepath.Join(dir, "w")
	o := Options{Key: filepath.Join(dir, "k"), To: w}
	if _, err := Write(context.Background(), st, o); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(w, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not json\n{\"v\":1,\"extra\":true}\n")
	f.Close()
	if _, err := Write(context.Background(), st, o); err != nil {
		t.Fatal(err)
	}
	entries, probs, err := ReadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || len(probs) != 2 {
		t.Fatalf("entries %d, problems %v", len(entries), probs)
	}
	if !strings.HasPrefix(probs[0], w+":2:2: not a checkpoint") || !strings.HasPrefix(probs[1], w+":3:") {
		t.Errorf("problems: %q", probs)
	}
	if entries[1].Source != w+":4" {
		t.Errorf("source %q", entries[1].Source)
	}
}

func TestTrust(t *testing.T) {
	st := openStore(t)
	act(t, st, "one")
	dir := t.TempDir()
	w := filepath.Join(dir, "w")
	mine := Options{Key: filepath.Join(dir, "mine"), To: w}
	theirs := Options{Key: filepath.Join(dir, "theirs"), To: w}
	for _, o := range []Options{mine, theirs, mine} {
		if _, err := Write(context.Background(), st, o); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, _ := ReadFile(w)
	keys := LocalKeys(mine.Key)
	cps, probs, signers := Trust(entries, keys)
	if len(cps) != 2 || len(probs) != 1 || !strings.Contains(probs[0], "not a key you trust") || len(signers) != 1 {
		t.Errorf("trusting mine: %d checkpoints, %q, signers %v", len(cps), probs, signers)
	}
	cps, probs, signers = Trust(entries, nil)
	if len(cps) != 3 || len(probs) != 0 || len(signers) != 2 {
		t.Errorf("trusting any: %d checkpoints, %q, signers %v", len(cps), probs, signers)
	}
}

// The cases: entries cut off the end of both chains, or the
// newest incident removed, with the database reopened: the checkpoint in
// the witness file catches it when the database is opened, and writing
// stops until a person acts.
func TestCheckAtOpenCatchesALostTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "irtui.db")
	ctx := context.Background()
	st := openAt(t, path)
	act(t, st, "one")
	act(t, st, "two")
	o := Options{Key: filepath.Join(dir, "k")}
	if _, err := Write(ctx, st, o); err != nil {
		t.Fatal(err)
	}
	keys := LocalKeys(o.Key)
	if err := CheckAtOpen(ctx, st, "", keys); err != nil {
		t.Fatalf("intact: %v", err)
	}
	st.Close()
	// Remove the newest incident altogether, as someone with the file could.
	rawExec(t, path,
		"DROP TRIGGER timeline_no_delete", "DROP TRIGGER audit_no_delete",
		"DELETE FROM timeline WHERE incident_id = 'INC-0002'", "DELETE FROM audit WHERE incident_id = 'INC-0002'",
		"DELETE FROM incidents WHERE id = 'INC-0002'")
	st = openAt(t, path)
	defer st.Close()
	err := CheckAtOpen(ctx, st, "", keys)
	if !errors.Is(err, store.ErrBehindCheckpoint) || !strings.Contains(err.Error(), "timeline entry #2 is missing") {
		t.Fatalf("CheckAtOpen = %v", err)
	}
	if st.Damage() == "" {
		t.Error("not marked damaged")
	}
	// Its number would be taken again; writing is refused instead.
	if got := act2(st); !errors.Is(got, store.ErrDamaged) {
		t.Errorf("declaring after the loss: %v", got)
	}
}

// rawExec changes the file through a plain connection, as another
// program would.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func act2(st *store.Store) error {
	ctx := context.Background()
	return st.Update(ctx, func(tx *store.Tx) error {
		in := store.Incident{Kind: store.KindIncident, Status: store.StatusOpen, RunbookID: "rb", RunbookVersion: "1",
			Title: "reuses the number", Severity: "SEV2", AwareAt: t0, DeclaredAt: t0, UpdatedAt: t0, CreatedBy: "alice"}
		return tx.InsertIncident(ctx, &in)
	})
}

func TestPostQueuesACheckpointNotice(t *testing.T) {
	st := openStore(t)
	act(t, st, "one")
	dir := t.TempDir()
	ctx := context.Background()
	o := Options{Key: filepath.Join(dir, "k"), To: filepath.Join(dir, "w"), Slack: "#sec-audit", Actor: "alice", Clock: clock.NewFake(t0)}
	l, err := Write(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.ListNotifications(ctx, store.NotificationFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("outbox: %v, %v", list, err)
	}
	n := list[0]
	if n.IncidentID != "" || n.Channel != "#sec-audit" || n.Status != store.NoticeQueued || n.RuleID != NoticeRule ||
		!strings.Contains(n.Body, string(l.Marshal())) || !strings.Contains(string(n.Blocks), "irtui audit verify --checkpoints") {
		t.Errorf("notice: %+v", n)
	}
	// The same heads are queued once.
	if err := Post(ctx, st, o, l); err != nil {
		t.Fatal(err)
	}
	if list, _ := st.ListNotifications(ctx, store.NotificationFilter{}); len(list) != 1 {
		t.Errorf("queued twice: %d", len(list))
	}
	if rep, err := st.VerifyChains(ctx); err != nil || !rep.OK {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

func TestRunWritesOnChangeAndAtTheEnd(t *testing.T) {
	st := openStore(t)
	act(t, st, "one")
	dir := t.TempDir()
	w := filepath.Join(dir, "w")
	o := Options{Key: filepath.Join(dir, "k"), To: w}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, st, o, 20*time.Millisecond, time.Hour, nil)
	}()
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(w); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a checkpoint was written with nothing new: %v", err)
	}
	act(t, st, "two")
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, _, _ := ReadFile(w)
		if len(entries) == 1 && entries[0].Line.Timeline.ID == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of the change: %+v", entries)
		}
		time.Sleep(10 * time.Millisecond)
	}
	act(t, st, "three")
	cancel()
	<-done
	entries, _, _ := ReadFile(w)
	if last := entries[len(entries)-1].Line; last.Timeline.ID != 3 || last.Incident != "INC-0003" {
		t.Errorf("last checkpoint at close: %+v", last)
	}
}

// The case: the write-ahead log is deleted and the process that
// held it killed, so what it held is gone from the file; the checkpoint
// the app wrote meanwhile is ahead of the database, and both the check at
// open and verify say what is missing.
func TestLostWALContentIsCaughtByTheCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "irtui.db")
	ctx := context.Background()
	st := openAt(t, path)
	defer st.Close()
	act(t, st, "one")
	// Everything so far is in the database file itself.
	if _, err := st.Heads(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = openAt(t, path)
	defer st.Close()
	// Twenty acknowledged notes, in the log only, and a checkpoint of them.
	for i := range 20 {
		act(t, st, fmt.Sprintf("acknowledged %d", i))
	}
	o := Options{Key: filepath.Join(dir, "k")}
	if _, err := Write(ctx, st, o); err != nil {
		t.Fatal(err)
	}
	// What is left when the log is deleted and the process killed: the
	// database file as it was before the log.
	lost := filepath.Join(dir, "lost.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lost, b, 0o600); err != nil {
		t.Fatal(err)
	}
	wb, _ := os.ReadFile(DefaultPath(path))
	if err := os.WriteFile(DefaultPath(lost), wb, 0o600); err != nil {
		t.Fatal(err)
	}
	entries, _, err := ReadFile(DefaultPath(lost))
	if err != nil {
		t.Fatal(err)
	}
	cps, probs, _ := Trust(entries, LocalKeys(o.Key))
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	rep, err := store.Verify(ctx, lost, store.VerifyOptions{Checkpoints: cps})
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprint(rep.Problems)
	if rep.OK || !strings.Contains(text, "timeline entries #2 to #21 are missing") ||
		!strings.Contains(text, "incident INC-0021 is gone") {
		t.Fatalf("verify of the file without its log: %+v", rep)
	}
	lst := openAt(t, lost)
	defer lst.Close()
	if err := CheckAtOpen(ctx, lst, "", LocalKeys(o.Key)); !errors.Is(err, store.ErrBehindCheckpoint) {
		t.Fatalf("CheckAtOpen = %v", err)
	}
}
