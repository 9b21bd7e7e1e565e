package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// The case: with --db naming a missing file, the CLI used to
// create an empty database with a second INC-0001. It refuses, says why,
// and offers --init.
func TestCLIMissingDatabaseIsNotCreated(t *testing.T) {
	c := newBareCLI(t)
	c.fails("does not exist. To create a new, empty database there, run again with --init", "incident", "list")
	c.fails("does not exist", "incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	if _, err := os.Stat(c.db); !os.IsNotExist(err) {
		t.Fatalf("a database was created: %v", err)
	}
	c.installer("--init", "directory", "import", "../../runbooks/directory/demo.yaml")
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	c.ok("incident", "show", "INC-0001")
}

// On the default path (no --db, no IRTUI_DB) the first run creates the
// database; once checkpoints show a database was there, a missing one is
// not silently started afresh.
func TestCLIDefaultPathDeletedDatabase(t *testing.T) {
	c := newBareCLI(t)
	c.db = "" // IRTUI_DB= : the default path under XDG_DATA_HOME
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	path := filepath.Join(c.dir, "irtui", "irtui.db")
	if _, err := os.Stat(path + ".witness"); err != nil {
		t.Fatalf("no witness beside the default database: %v", err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	c.fails("holds checkpoints of the database that was there: it was deleted or moved", "incident", "list")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a new database was created in place of the deleted one")
	}
	c.installer("--init", "directory", "import", "../../runbooks/directory/demo.yaml")
	out := c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost again")
	if !strings.Contains(out, "INC-0001") {
		t.Fatalf("new database: %s", out)
	}
	// verify tells the two databases' checkpoints apart.
	v := c.ok("audit", "verify")
	if !strings.Contains(v, "of other databases left aside") {
		t.Errorf("verify output:\n%s", v)
	}
}

func TestCLIEmptyFileIsRefused(t *testing.T) {
	c := newBareCLI(t)
	if err := os.WriteFile(c.db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails("it is empty (0 bytes)", "incident", "list")
	c.fails("it is empty (0 bytes)", "--init", "incident", "list")
	c.fails("empty", "audit", "verify")
	if st, _ := os.Stat(c.db); st.Size() != 0 {
		t.Fatal("the empty file was written to")
	}
}

// The first checkpoint makes the signing key and shows its public key;
// verify holds the chains to the checkpoints and names what went missing
// when the newest incident is removed and its number taken again.
func TestCLICheckpointsCatchARemovedIncident(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Laptop lost")
	out, errs, code := c.run("audit", "checkpoint")
	if code != 0 || !strings.Contains(out, "appended to "+c.db+".witness") {
		t.Fatalf("checkpoint: exit %d\n%s%s", code, out, errs)
	}
	keyPath := filepath.Join(c.dir, "irtui", "checkpoint.key")
	pub, err := os.ReadFile(keyPath + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	// Made by the first command that wrote, which said so.
	if st, err := os.Stat(keyPath); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key: %v, %v", st, err)
	}
	if v := c.ok("audit", "verify"); !strings.Contains(v, "OK: ") || !strings.Contains(v, "Checkpoints: ") {
		t.Fatalf("verify before tampering:\n%s", v)
	}
	// Remove INC-0002 with everything that names it, and declare again.
	db, err := sql.Open("sqlite3", c.db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER timeline_no_delete", "DROP TRIGGER audit_no_delete",
		"DELETE FROM step_state WHERE incident_id = 'INC-0002'", "DELETE FROM incident_customers WHERE incident_id = 'INC-0002'",
		"DELETE FROM outbox WHERE incident_id = 'INC-0002'", "DELETE FROM notify_fired WHERE incident_id = 'INC-0002'",
		"DELETE FROM audit WHERE id >= (SELECT MIN(a.id) FROM audit a JOIN timeline t ON t.id = a.timeline_id WHERE t.incident_id = 'INC-0002')",
		"DELETE FROM timeline WHERE incident_id = 'INC-0002'", "DELETE FROM incidents WHERE id = 'INC-0002'",
		"CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline BEGIN SELECT RAISE(ABORT, 'x'); END",
		"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'x'); END"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	// The next command finds the database behind its checkpoint, says so,
	// and refuses to write: the number INC-0002 is not taken again.
	_, errs, code = c.run("incident", "declare", "--runbook", "lost-device", "--title", "Tablet lost")
	if code == 0 || !strings.Contains(errs, "does not hold what its last checkpoint recorded") {
		t.Fatalf("declare after the removal: exit %d\n%s", code, errs)
	}
	out, _, code = c.run("audit", "verify", "--pubkey", strings.TrimSpace(string(pub)))
	if code != 1 {
		t.Fatalf("verify: exit %d\n%s", code, out)
	}
	for _, want := range []string{"incident INC-0002 is gone", "are missing: the checkpoint of", c.db + ".witness:"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	// With another key as the only one trusted, the checkpoints are not
	// taken on trust.
	other := "ed25519:" + strings.Repeat("A", 43) + "="
	out, _, _ = c.run("audit", "verify", "--pubkey", other)
	if !strings.Contains(out, "which is not a key you trust") {
		t.Errorf("verify with another key:\n%s", out)
	}
}

// The file damaged in the middle: verify says so, writes are refused
// until a person acts, and unblock refuses while it is still damaged.
func TestCLIDamagedFile(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	for i := range 30 {
		c.ok("incident", "declare", "--runbook", "lost-device", "--title", fmt.Sprintf("Phone %d lost", i))
	}
	db, _ := sql.Open("sqlite3", c.db)
	db.Exec("VACUUM")
	var root int64
	if err := db.QueryRow("SELECT rootpage FROM sqlite_schema WHERE name = 'timeline'").Scan(&root); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(c.db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 256)
	for i := range junk {
		junk[i] = 0xA5
	}
	f.WriteAt(junk, (root-1)*4096) // 256 bytes of the timeline's root page
	f.Close()
	out, _, code := c.run("audit", "verify")
	if code != 1 || !strings.Contains(out, "DAMAGED:") {
		t.Fatalf("verify of a damaged file: exit %d\n%s", code, out)
	}
	c.fails("marked damaged", "incident", "note", "INC-0001", "onto damaged pages")
	c.fails("integrity_check still finds problems", "audit", "unblock", "--reason", "looked at it")
}

// holdChildEnv tells the test binary to act as a writer stopped in the
// middle of a transaction.
const holdChildEnv = "IRTUI_HOLD_WRITE_DB"

// TestMain runs the test binary as a stopped writer's child when asked
// (holdChildEnv), and as the tests otherwise.
func TestMain(m *testing.M) {
	if path := os.Getenv(holdChildEnv); path != "" {
		holdWrite(path)
		return
	}
	os.Exit(m.Run())
}

// holdWrite is the child of TestCLIReadersBesideAStoppedWriter: it begins
// a write transaction, writes, says so, and waits (the parent stops it
// with SIGSTOP).
func holdWrite(path string) {
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	_ = st.Update(ctx, func(tx *store.Tx) error {
		err := tx.AppendAudit(ctx, &store.AuditEntry{At: time.Now(), Actor: "stuck", Action: "note", Outcome: store.OutcomeOK})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("in transaction")
		time.Sleep(time.Minute)
		return nil
	})
	os.Exit(0)
}

// The case: a writer stopped in the middle of a transaction
// (SIGSTOP) used to block even `incident show` and `audit verify` for 10 s
// and then fail with "database is locked". Readers never wait for it: the
// reads' audit entries go to the pending-audit journal, and the next write
// after the writer is gone takes them in.
func TestCLIReadersBesideAStoppedWriter(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), holdChildEnv+"="+c.db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "in transaction" {
		t.Fatalf("child: %q, %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, out)

	for _, args := range [][]string{
		{"incident", "show", "INC-0001"},
		{"incident", "list"},
		{"audit", "verify"},
	} {
		start := time.Now()
		o, errs, code := c.run(args...)
		el := time.Since(start)
		if code != 0 {
			t.Fatalf("%v beside a stopped writer: exit %d\n%s%s", args, code, o, errs)
		}
		// The budget is not the point (the machine may be slow); waiting
		// out the writer's 10 s lock timeout would be.
		if el > 5*time.Second {
			t.Errorf("%v took %v beside a stopped writer", args, el)
		}
	}
	if st, err := os.Stat(store.JournalPath(c.db)); err != nil || st.Size() == 0 {
		t.Fatalf("the reads were not journaled: %v, %v", st, err)
	}
	// A write waits for the lock; it fails rather than hang forever.
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Process.Kill()
	cmd.Wait()
	c.ok("incident", "note", "INC-0001", "after the stuck writer")
	var show struct {
		store.Detail
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "INC-0001", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.Audit(context.Background(), store.AuditFilter{IncidentID: "INC-0001"})
	if err != nil {
		t.Fatal(err)
	}
	late := 0
	for _, e := range entries {
		if strings.Contains(e.Detail, "recorded late: the database was busy") {
			late++
		}
	}
	if late < 1 {
		t.Errorf("the journaled reads are not in the audit log: %+v", entries)
	}
	if r, err := st.VerifyChains(context.Background()); err != nil || !r.OK {
		t.Errorf("verify: %+v, %v", r, err)
	}
}

// verify works on a copy that cannot be written: a read-only file in a
// read-only folder (a bind mount, as root; permissions otherwise), with
// its write-ahead log (copied privately and read from there) and without
// (opened as immutable).
func TestCLIVerifyReadOnlyCopy(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	// A process that has the database open keeps changes in the log.
	ctx := context.Background()
	st, err := store.Open(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.AppendTimeline(ctx, &store.TimelineEntry{IncidentID: "INC-0001", At: time.Now(), Actor: "alice",
			Kind: "note", Summary: "in the log, not yet in the file"}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: time.Now(), Actor: "alice", Action: "note", IncidentID: "INC-0001", Outcome: store.OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(c.dir, "evidence")
	if err := os.MkdirAll(src, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", ".witness"} {
		b, err := os.ReadFile(c.db + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "irtui.db"+suffix), b, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	ro := filepath.Join(c.dir, "ro")
	if os.Geteuid() == 0 {
		if err := os.MkdirAll(ro, 0o700); err != nil {
			t.Fatal(err)
		}
		if !bindReadOnly(t, src, ro) {
			return
		}
	} else {
		ro = src
		if err := os.Chmod(src, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(src, 0o700) })
	}
	copyDB := filepath.Join(ro, "irtui.db")
	out, errs, code := c.run("audit", "verify", "--db", copyDB, "--readonly")
	withLog := timelineEntries(out)
	if code != 0 || withLog == 0 || !strings.Contains(out, " of this database from ") ||
		!strings.Contains(errs, "verifying a private copy") {
		t.Fatalf("verify --readonly of a read-only copy with its log: exit %d\n%s%s", code, out, errs)
	}
	// The main file alone (its log not copied): opened as immutable.
	if os.Geteuid() == 0 {
		exec.Command("umount", "-l", ro).Run()
		os.Remove(filepath.Join(src, "irtui.db-wal"))
		if !bindReadOnly(t, src, ro) {
			return
		}
	} else {
		os.Chmod(src, 0o700)
		os.Remove(filepath.Join(src, "irtui.db-wal"))
		os.Chmod(src, 0o500)
	}
	out, errs, code = c.run("audit", "verify", "--db", copyDB, "--readonly")
	if code != 0 || timelineEntries(out) != withLog-1 {
		t.Fatalf("verify --readonly of the main file alone: exit %d\n%s%s", code, out, errs)
	}
	entries, _ := os.ReadDir(ro)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-shm") || strings.HasSuffix(e.Name(), ".damaged") || strings.HasSuffix(e.Name(), ".pending-audit") {
			t.Errorf("verify wrote %s beside the copy", e.Name())
		}
	}
}

// timelineEntries reads the count from verify's "OK: N timeline entries".
func timelineEntries(out string) int {
	var n int
	if i := strings.Index(out, "OK: "); i >= 0 {
		fmt.Sscanf(out[i:], "OK: %d timeline entries", &n)
	}
	return n
}
