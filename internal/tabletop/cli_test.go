package tabletop

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDrillCommands runs the built irtui binary against a temporary
// database: a headless run prints its run id, the report and the score
// read it back, bad scenarios fail lint with positions.
func TestDrillCommands(t *testing.T) {
	c := newIrtui(t)
	dir := c.dir
	// Drills are run as eli, a claim (IRTUI_USER) that holds on drills;
	// real incidents as the OS user, who created the database and so acts
	// as the demo's incident commander.
	run := c.run
	examples := filepath.Join("..", "..", "docs", "examples", "drills")

	out, errOut, code := run("--init", "drill", "run", "ransomware-friday-night", "--speed", "max",
		"--actions", filepath.Join(examples, "ransomware-friday-night.actions.yaml"), "--epoch", "2026-03-13T23:10:00Z")
	if code != 0 || out != "DR-0001\n" || !strings.Contains(errOut, "9 met, 3 late, 3 missed") {
		t.Fatalf("headless run: %d %q %q", code, out, errOut)
	}
	// Drill incidents are left out of the real list, closed with their
	// run, and listed with --drills, marked EXERCISE.
	c.as = ""
	if out := c.ok("incident", "list", "--all"); strings.Contains(out, "DRILL") {
		t.Fatalf("the real list shows the drill incident:\n%s", out)
	}
	if out := c.ok("incident", "list", "--drills"); strings.Contains(out, "DRILL") {
		t.Fatalf("the finished drill's incident is still open:\n%s", out)
	}
	if out := c.ok("incident", "list", "--drills", "--all"); !strings.Contains(out, "EXERCISE closed") ||
		!strings.Contains(out, "[DRILL DR-0001]") {
		t.Fatalf("incident list --drills --all:\n%s", out)
	}
	c.as = "eli"
	out, _, code = run("drill", "score", "DR-0001", "--json")
	var s Score
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil || s.Met != 9 || s.Late != 3 || s.Missed != 3 {
		t.Fatalf("score: %d %s", code, out)
	}
	out, _, code = run("drill", "report", "DR-0001")
	if code != 0 || !strings.Contains(out, "# After-action report and improvement plan: Ransomware on a Friday night") ||
		!strings.Contains(out, "| Dates (drill clock) | T+0 is Fri 2026-03-13 23:10 UTC;") {
		t.Fatalf("report: %d\n%s", code, out)
	}
	out, _, code = run("drill", "report", "DR-0001", "--format", "json")
	var rep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep["improvement_plan"] == nil {
		t.Fatalf("report json: %d %s", code, out)
	}
	out, _, code = run("drill", "actions")
	if code != 0 || !strings.Contains(out, "Add the identity provider's alerts to the on-call dashboard.") {
		t.Fatalf("actions: %d\n%s", code, out)
	}
	id := regexp.MustCompile(`(?m)^(\d+)\s+2026-05-31`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no action item due 2026-05-31:\n%s", out)
	}
	if _, errOut, code := run("drill", "actions", "close", id[1]); code == 0 || !strings.Contains(errOut, "needs a note") {
		t.Fatalf("close without a note: %d %s", code, errOut)
	}
	if out, _, code := run("drill", "actions", "close", id[1], "--note", "Rota updated"); code != 0 || !strings.Contains(out, "Closed action item") {
		t.Fatalf("close: %d %s", code, out)
	}
	out, _, _ = run("drill", "list")
	if !strings.Contains(out, "ransomware-friday-night") || !strings.Contains(out, "DR-0001") {
		t.Fatalf("list:\n%s", out)
	}

	// Bad input: an unknown scenario, a bad actions file, a bad scenario.
	if _, errOut, code := run("drill", "run", "nope", "--speed", "max", "--actions", "x.yaml"); code != 1 || !strings.Contains(errOut, `no scenario "nope"`) {
		t.Fatalf("unknown scenario: %d %s", code, errOut)
	}
	bad := filepath.Join(dir, "bad.actions.yaml")
	os.WriteFile(bad, []byte("actions:\n  - at: 5m\n    do: assign\n    role: ic\n    person: alice\n"), 0o600)
	if _, errOut, code := run("drill", "run", "ransomware-friday-night", "--speed", "max", "--actions", bad); code != 1 ||
		!strings.Contains(errOut, bad+`:4:11: role "ic" is not a role of runbook ransomware`) {
		t.Fatalf("bad actions: %d %s", code, errOut)
	}
	scDir := filepath.Join(dir, "rb", "scenarios")
	os.MkdirAll(scDir, 0o700)
	src := edit(t, minimalScenario(t), "after: call", "after: cal")
	os.WriteFile(filepath.Join(scDir, "s.yaml"), []byte(src), 0o600)
	out, _, code = run("runbooks", "lint", filepath.Join(dir, "rb"))
	if code != 1 || !strings.Contains(out, filepath.Join(scDir, "s.yaml")+`:36:12: unknown inject "cal"`) {
		t.Fatalf("lint: %d\n%s", code, out)
	}
	if out, _, code := run("runbooks", "lint"); code != 0 {
		t.Fatalf("lint of the bundled runbooks and scenarios: %d\n%s", code, out)
	}

	// A closed incident becomes a scenario that lints clean and replays.
	c.as = ""
	if _, errOut, code := run("incident", "declare", "--runbook", "ransomware", "--title", "Encrypted share at Acme Logistics",
		"--customer", "acme"); code != 0 {
		t.Fatalf("declare: %s", errOut)
	}
	run("incident", "assign", "INC-0002", "incident_commander", "alice")
	run("incident", "note", "INC-0002", "Alice Jansen called Acme Logistics")
	if _, errOut, code := run("incident", "close", "INC-0002", "--override", "exercise data"); code != 0 {
		t.Fatalf("close: %s", errOut)
	}
	replay := filepath.Join(dir, "replay.yaml")
	if _, errOut, code := run("drill", "from-incident", "INC-0002", "-o", replay); code != 0 {
		t.Fatalf("from-incident: %s", errOut)
	}
	c.as = "eli"
	data, _ := os.ReadFile(replay)
	if bytes.Contains(data, []byte("Acme")) || bytes.Contains(data, []byte("Alice")) || !bytes.Contains(data, []byte("Customer A")) {
		t.Fatalf("replay scenario:\n%s", data)
	}
	if out, _, code := run("runbooks", "lint", replay); code != 0 {
		t.Fatalf("lint of the replay: %s", out)
	}
	acts := filepath.Join(dir, "replay.actions.yaml")
	os.WriteFile(acts, []byte("actions:\n  - at: 1m\n    do: declare\n    title: Replay\n    answers: {observed: encryption}\n"), 0o600)
	if out, errOut, code := run("drill", "run", replay, "--speed", "max", "--actions", acts); code != 0 || out != "DR-0002\n" {
		t.Fatalf("replay run: %d %q %s", code, out, errOut)
	}
	c.as = ""
	if out, _, code := run("audit", "verify"); code != 0 {
		t.Fatalf("audit verify: %s", out)
	}
}
