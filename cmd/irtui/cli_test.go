package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	_ "github.com/mattn/go-sqlite3"

	"github.com/irtui/irtui/internal/store"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// cliBinary builds irtui once for all CLI tests.
func cliBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "irtui-cli-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "irtui")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{string(out)}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct{ out string }

func (e *buildError) Error() string { return "go build: " + e.out }

type cli struct {
	t   *testing.T
	bin string
	db  string
	dir string
	as  string // IRTUI_USER: who the test team member names themselves; "" for the OS user
	// config is IRTUI_CONFIG. newCLI writes one with local trust mode on:
	// these tests play a team sharing the OS account that runs them, who
	// name themselves with IRTUI_USER. Tests of identity itself clear it.
	config string
	// stdin is the standard input of the runs that follow.
	stdin string
}

// orgConfig is the organisation's details in a configuration file: a
// notice whose template uses them cannot be approved without them.
const orgConfig = "org:\n  name: Example B.V.\n  dpo_contact: dpo@example.org\n  contact: security@example.org\n"

// newCLI makes a database (with --init, as a person would the first time)
// in a folder of its own, which also holds the checkpoint key.
func newCLI(t *testing.T) *cli {
	c := newBareCLI(t)
	c.installer("--init", "directory", "list")
	return c
}

// newBareCLI is newCLI without the database.
func newBareCLI(t *testing.T) *cli {
	dir := t.TempDir()
	c := &cli{t: t, bin: cliBinary(t), db: filepath.Join(dir, "irtui.db"), dir: dir, as: "alice"}
	c.config = c.write("trust.yaml", orgConfig+"identity:\n  local_trust: true\n")
	return c
}

// run runs irtui and returns stdout, stderr and the exit code.
func (c *cli) run(args ...string) (string, string, int) {
	c.t.Helper()
	return c.runContext(context.Background(), nil, args...)
}

// runContext runs irtui as run does, with more environment, and kills it
// when ctx ends.
func (c *cli) runContext(ctx context.Context, env []string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(append(os.Environ(), "IRTUI_DB="+c.db, "IRTUI_USER="+c.as, "IRTUI_CONFIG="+c.config, "IRTUI_CACHE=off",
		"NO_COLOR=1", "XDG_DATA_HOME="+c.dir, "XDG_CONFIG_HOME="+c.dir, "IRTUI_CHECKPOINT_KEY="), env...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(c.stdin), &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// ok runs irtui and fails the test unless it exits 0.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("irtui %v: exit %d\n%s%s", args, code, out, errs)
	}
	return out
}

// fails runs irtui and checks it exits non-zero with wantErr in stderr.
func (c *cli) fails(wantErr string, args ...string) {
	c.t.Helper()
	out, errs, code := c.run(args...)
	if code == 0 {
		c.t.Fatalf("irtui %v should fail; it printed:\n%s", args, out)
	}
	if !strings.Contains(errs, wantErr) {
		c.t.Fatalf("irtui %v: stderr lacks %q:\n%s", args, wantErr, errs)
	}
}

func (c *cli) write(name, content string) string {
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// withDirectory imports the demo directory as the OS user running the
// tests, who created the database and so administers it while nobody in
// the directory has an OS user or a key.
func (c *cli) withDirectory() {
	c.t.Helper()
	c.installer("directory", "import", "../../runbooks/directory/demo.yaml")
}

// installer runs irtui as the OS user who created the database (no
// IRTUI_USER) and fails the test unless it exits 0.
func (c *cli) installer(args ...string) string {
	c.t.Helper()
	as := c.as
	c.as = ""
	defer func() { c.as = as }()
	return c.ok(args...)
}

func TestCLIWholeIncident(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	out := c.ok("incident", "declare", "--runbook", "personal-data-breach", "--title", "Export on a paste site",
		"--answers", "../../docs/examples/answers/personal-data-breach.yaml", "--customer", "acme", "--customer", "zuiderzee", "--aware-at", "2026-03-27 10:00")
	if !strings.Contains(out, "Declared INC-0001") || !strings.Contains(out, "gdpr-33") {
		t.Fatalf("declare output:\n%s", out)
	}
	c.ok("incident", "assign", "INC-0001", "incident_commander", "alice")
	c.ok("incident", "ack", "INC-0001", "incident_commander")
	c.ok("incident", "assign", "INC-0001", "scribe", "bob")
	c.ok("incident", "assign", "INC-0001", "scribe", "eli") // a hand-over
	c.ok("incident", "step", "INC-0001", "record-awareness", "--note", "Aware 10:00 via customer ticket")
	c.ok("incident", "step", "INC-0001", "monitor", "--skip", "--reason", "Covered by the SOC's standing watch")
	c.ok("incident", "note", "INC-0001", "Zuiderzee Zorg asked for an update")
	c.ok("incident", "severity", "INC-0001", "SEV1", "--reason", "Special category data found")
	c.ok("incident", "submitted", "INC-0001", "gdpr-33", "--at", "2026-03-28 09:00")
	c.fails("required step(s) still open", "incident", "close", "INC-0001")
	c.ok("incident", "close", "INC-0001", "--override", "Remaining steps tracked in SEC-42")

	var show struct {
		store.Detail
		Clocks []struct {
			ID     string `json:"id"`
			Status struct {
				State string `json:"state"`
			} `json:"status"`
		} `json:"clocks"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "INC-0001", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	in := show.Incident
	if in.Status != store.StatusClosed || in.Severity != "SEV1" || len(show.Customers) != 2 {
		t.Fatalf("show: %+v", in)
	}
	handedOver := false
	for _, a := range show.Roles {
		handedOver = handedOver || a.Role == "scribe" && a.PersonID == "bob" && a.HandedOverTo == "eli"
	}
	if !handedOver {
		t.Fatalf("hand-over not recorded: %+v", show.Roles)
	}
	met := false
	for _, cl := range show.Clocks {
		met = met || cl.ID == "gdpr-33" && cl.Status.State == "met"
	}
	if !met {
		t.Fatalf("gdpr-33 should be met: %+v", show.Clocks)
	}

	// Exports: the full one, and one per customer with only its data.
	md := c.ok("incident", "export", "INC-0001", "--format", "md")
	for _, want := range []string{"# INC-0001: Export on a paste site", "Acme Logistics (demo)", "Zuiderzee Zorg B.V. (demo)", "| closed |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown export lacks %q", want)
		}
	}
	acme := c.ok("incident", "export", "INC-0001", "--customer", "acme", "--format", "json")
	if !strings.Contains(acme, "Acme Logistics") || strings.Contains(strings.ToLower(acme), "zuiderzee") {
		t.Fatalf("acme's export must hold acme's data only:\n%s", acme)
	}
	file := filepath.Join(c.dir, "acme.md")
	c.ok("incident", "export", "INC-0001", "--customer", "acme", "-o", file)
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", st, err)
	}

	list := c.ok("incident", "list", "--all")
	if !strings.Contains(list, "INC-0001") || !strings.Contains(list, "closed") {
		t.Fatalf("list:\n%s", list)
	}
	if out := c.ok("audit", "verify"); !strings.HasPrefix(out, "OK:") {
		t.Fatalf("audit verify: %s", out)
	}
}

func TestCLIBadInput(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	tests := []struct {
		name string
		want string
		args []string
	}{
		{"unknown incident", "INC-9999", []string{"incident", "show", "INC-9999"}},
		{"unknown runbook", `no runbook "nope"`, []string{"incident", "declare", "--runbook", "nope", "--title", "x"}},
		{"unknown role", `role "pilot" is not a role of runbook lost-device`, []string{"incident", "assign", "INC-0001", "pilot", "alice"}},
		{"unknown person", `person "zed" is not in the directory`, []string{"incident", "assign", "INC-0001", "incident_commander", "zed"}},
		{"unknown step", `step "fly" is not on the checklist`, []string{"incident", "step", "INC-0001", "fly"}},
		{"unknown customer", `customer "globex" is not in the directory`, []string{"incident", "declare", "--runbook", "lost-device", "--title", "x", "--customer", "globex"}},
		{"skip without reason", "needs a reason", []string{"incident", "step", "INC-0001", "check-encryption", "--skip"}},
		{"acknowledge a role nobody holds", "assign it first", []string{"incident", "ack", "INC-0001", "incident_commander"}},
		{"lower severity without reason", "needs a reason", []string{"incident", "severity", "INC-0001", "SEV4"}},
		{"unknown obligation", `unknown obligation "gdpr-99"`, []string{"incident", "submitted", "INC-0001", "gdpr-99"}},
		{"bad aware time", `bad time "yesterday"`, []string{"incident", "declare", "--runbook", "lost-device", "--title", "x", "--aware-at", "yesterday"}},
		{"bad export format", `unknown format "pdf"`, []string{"incident", "export", "INC-0001", "--format", "pdf"}},
		{"event without reason", "without a reason", []string{"incident", "declare", "--runbook", "lost-device", "--title", "x", "--event"}},
		{"answers naming an unknown question", `unknown question "colour"`, []string{"incident", "declare", "--runbook", "lost-device", "--title", "x", "--answers", c.write("a.yaml", "colour: red\n")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { c.t = t; c.fails(tc.want, tc.args...) })
	}
	c.t = t
	// Wrong state transitions.
	c.ok("incident", "close", "INC-0001", "--override", "test")
	c.fails("closed", "incident", "step", "INC-0001", "check-encryption")
	c.fails("already closed", "incident", "close", "INC-0001", "--override", "again")
	// A refused action changed nothing, and refusals are in the audit log.
	if out := c.ok("audit", "verify"); !strings.HasPrefix(out, "OK:") {
		t.Fatalf("audit verify after refusals: %s", out)
	}
	db, err := sql.Open("sqlite3", "file:"+c.db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var refusedN int
	if err := db.QueryRow(`SELECT count(*) FROM audit WHERE outcome IN ('refused','failed')`).Scan(&refusedN); err != nil {
		t.Fatal(err)
	}
	if refusedN < 8 {
		t.Fatalf("refused and failed attempts should be audited, found %d", refusedN)
	}
}

func TestCLIDirectoryImportErrors(t *testing.T) {
	c := newCLI(t)
	bad := c.write("dir.yaml", "people:\n  - id: alice\n    nmae: Alice\n    roles: incident_commander\ncustomers:\n  - id: acme\n    name: Acme\n    contact_kind: pigeon\n    contact: x\n")
	_, errs, code := c.run("directory", "import", bad)
	if code == 0 {
		t.Fatal("a broken directory was imported")
	}
	for _, want := range []string{bad + `:3:5: unknown field "nmae" (did you mean "name"?)`, bad + `:4:12: expected a list`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if out := c.installer("directory", "list", "--json"); !strings.Contains(out, `"people": []`) {
		t.Fatalf("nothing may be imported from a broken file:\n%s", out)
	}
}

// TestCLIDirectoryImportValidates: the directory values of the issue
// (hostile input, item 5) are refused, each at its file, line and column,
// and nothing is imported.
func TestCLIDirectoryImportValidates(t *testing.T) {
	c := newCLI(t)
	bad := c.write("dir.yaml", "people:\n"+
		"  - id: alice\n    name: Alice\n    email: alice\n"+
		"  - id: \"ali\u200bce\"\n    name: Alice Two\n"+
		"customers:\n"+
		"  - id: ../../etc/acme\n    name: Acme\n    contact_kind: email\n    contact: sec@acme.example\n"+
		"  - id: \u0430cme\n    name: Acme 2\n    language: english\n    contact_kind: slack\n    contact: \"Not A Channel!\"\n")
	_, errs, code := c.run("directory", "import", bad)
	if code == 0 {
		t.Fatal("a bad directory was imported")
	}
	for _, want := range []string{
		bad + `:4:12: email "alice" is not an email address`,
		bad + `:5:9: id "ali\u200bce" must not contain spaces, control characters, invisible`,
		bad + `:8:9: id "../../etc/acme" may hold only lowercase letters a-z, digits and "-"`,
		bad + `:12:9: id "аcme" may hold only lowercase letters a-z`,
		bad + `:14:15: language "english" is not a language tag such as en, nl or pt-BR`,
		bad + `:16:14: contact "Not A Channel!" is not a Slack channel`,
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	// Bytes that are not UTF-8 are refused, not replaced.
	latin1 := c.write("latin1.yaml", "people:\n  - id: jose\n    name: Jos\xe9\n")
	if _, errs, _ := c.run("directory", "import", latin1); !strings.Contains(errs, latin1+":3:14: the file is not valid UTF-8 (byte 0xe9); save it as UTF-8") {
		t.Errorf("latin-1: %s", errs)
	}
	if out := c.installer("directory", "list", "--json"); !strings.Contains(out, `"people": []`) {
		t.Fatalf("nothing may be imported from a bad file:\n%s", out)
	}
}

// TestCLIRefusesValuesItWouldCutOrCannotUse: a content field on standard
// input larger than the limit is refused, not shortened; a bad
// IRTUI_AUDIT_SLACK_CHANNEL stops a command before it does anything.
func TestCLIRefusesValuesItWouldCutOrCannotUse(t *testing.T) {
	c := newCLI(t)
	c.stdin = strings.Repeat("x", 1<<20+1)
	if _, errs, code := c.run("notify", "set", "1", "what_happened", "-"); code == 0 ||
		!strings.Contains(errs, "the value on standard input is larger than 1 MiB; nothing was set") {
		t.Errorf("exit %d: %s", code, errs)
	}
	c.stdin = ""
	_, errs, code := c.runContext(context.Background(), []string{"IRTUI_AUDIT_SLACK_CHANNEL=Not A Channel!"}, "incident", "list")
	if code == 0 || !strings.Contains(errs, `IRTUI_AUDIT_SLACK_CHANNEL: "Not A Channel!" is not a Slack channel`) {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func TestCLIRefusesForeignAndCorruptDatabases(t *testing.T) {
	c := newCLI(t)
	if err := os.WriteFile(c.db, bytes.Repeat([]byte("not a database "), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fails("not an irtui database", "incident", "list")
	before, _ := os.ReadFile(c.db)

	// Another application's SQLite file is refused and left untouched.
	c2 := newBareCLI(t)
	raw, err := sql.Open("sqlite3", c2.db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("CREATE TABLE recipes(id INTEGER)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	c2.fails("not an irtui database", "incident", "list")
	after, _ := os.ReadFile(c.db)
	if !bytes.Equal(before, after) {
		t.Fatal("the corrupt file was changed")
	}

	// A database from a newer irtui is refused with a clear message.
	c3 := newCLI(t)
	c3.withDirectory()
	c3.ok("incident", "list")
	raw, err = sql.Open("sqlite3", c3.db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	c3.fails("newer than this irtui", "incident", "list")
}

func TestCLIReadOnlyDatabase(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores file permissions; use a read-only bind of the
		// file's folder instead where possible.
		t.Log("running as root: checking with a read-only mount")
	}
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	ro := filepath.Join(c.dir, "ro")
	if err := os.MkdirAll(ro, 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if !bindReadOnly(t, c.dir, ro) {
			return
		}
	} else {
		ro = c.dir
		if err := os.Chmod(c.db, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	roCLI := *c
	roCLI.db = filepath.Join(ro, "irtui.db")
	_, errs, code := roCLI.run("incident", "note", "INC-0001", "a note")
	if code == 0 {
		t.Fatal("a write to a read-only database succeeded")
	}
	if !strings.Contains(strings.ToLower(errs), "read-only") && !strings.Contains(strings.ToLower(errs), "readonly") {
		t.Fatalf("the error should say the database is read-only:\n%s", errs)
	}
}

// TestCLIFullDisk writes until a tiny file system is full: the action fails
// with a clear message and the database stays consistent.
func TestCLIFullDisk(t *testing.T) {
	c := newCLI(t)
	mnt := filepath.Join(c.dir, "tiny")
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", mnt).CombinedOutput(); err != nil {
		requireRootMount(t, out, err)
		return
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	c.db = filepath.Join(mnt, "irtui.db")
	c.installer("--init", "directory", "import", "../../runbooks/directory/demo.yaml")
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	long := strings.Repeat("x", 60_000)
	var errs string
	for i := 0; i < 200; i++ {
		_, e, code := c.run("incident", "note", "INC-0001", long)
		if code != 0 {
			errs = e
			break
		}
	}
	if errs == "" {
		t.Fatal("the disk never filled up")
	}
	if !strings.Contains(strings.ToLower(errs), "full") {
		t.Fatalf("the error should say the disk is full:\n%s", errs)
	}
	st, err := store.Open(context.Background(), c.db)
	if err != nil {
		t.Fatalf("database unusable after a full disk: %v", err)
	}
	defer st.Close()
	if ok, err := st.IntegrityCheck(context.Background()); err != nil || ok != "ok" {
		t.Fatalf("integrity after a full disk: %q %v", ok, err)
	}
	if r, err := st.VerifyChains(context.Background()); err != nil || !r.OK {
		t.Fatalf("chains after a full disk: %+v %v", r, err)
	}
}

// bindReadOnly mounts dir read-only at mnt (which must exist), as root,
// until the test ends; false when the test was skipped for it.
func bindReadOnly(t *testing.T, dir, mnt string) bool {
	t.Helper()
	if out, err := exec.Command("mount", "--bind", dir, mnt).CombinedOutput(); err != nil {
		requireRootMount(t, out, err)
		return false
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	if out, err := exec.Command("mount", "-o", "remount,bind,ro", mnt).CombinedOutput(); err != nil {
		requireRootMount(t, out, err)
		return false
	}
	return true
}

// requireRootMount skips where mounting is not allowed (a developer's
// machine) and fails in CI, which runs as root.
func requireRootMount(t *testing.T, out []byte, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("mount failed in CI: %v %s", err, out)
	}
	t.Skipf("cannot mount here (%v): this test needs root", err)
}

// TestCLIAuditVerifyCatchesTampering edits a timeline row behind irtui's
// back, as someone with the file could, and checks that audit verify
// names it and exits 1.
func TestCLIAuditVerifyCatchesTampering(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	c.ok("incident", "note", "INC-0001", "Phone was in a taxi")
	c.ok("incident", "note", "INC-0001", "Taxi company has it")
	raw, err := sql.Open("sqlite3", c.db)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := raw.QueryRow(`SELECT id FROM timeline WHERE summary LIKE '%taxi%' ORDER BY id LIMIT 1`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	var triggers []string
	rows, err := raw.Query(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'timeline'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		triggers = append(triggers, n)
	}
	rows.Close()
	for _, n := range triggers {
		if _, err := raw.Exec("DROP TRIGGER " + n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`UPDATE timeline SET summary = 'Phone was at home' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	out, _, code := c.run("audit", "verify")
	if code != 1 {
		t.Fatalf("audit verify should exit 1 after tampering, got %d:\n%s", code, out)
	}
	if !strings.Contains(out, "TAMPERED") || !strings.Contains(out, "timeline") || !strings.Contains(out, strconv.FormatInt(id, 10)) {
		t.Fatalf("audit verify should name timeline entry %d:\n%s", id, out)
	}
}

func TestCLIOutputIsSafeAndPrivate(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	out := c.ok("incident", "declare", "--runbook", "lost-device", "--title", "evil \x1b]0;PWNED\x07 title \x1b[2J")
	if strings.ContainsRune(out, 0x1b) || strings.ContainsRune(out, 0x07) {
		t.Fatalf("declare printed control characters: %q", out)
	}
	// Exporting over an existing world-readable file makes it private.
	path := filepath.Join(c.dir, "old.md")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("incident", "export", "INC-0001", "-o", path)
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("export left mode %v", st.Mode().Perm())
	}
	// A symbolic link is refused, not followed.
	link := filepath.Join(c.dir, "link.md")
	if err := os.Symlink(filepath.Join(c.dir, "target.md"), link); err != nil {
		t.Fatal(err)
	}
	if _, _, code := c.run("incident", "export", "INC-0001", "-o", link); code == 0 {
		t.Fatal("export followed a symbolic link")
	}
}
