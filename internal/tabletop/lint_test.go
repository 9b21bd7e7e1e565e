package tabletop

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/strictyaml"
	"github.com/irtui/irtui/runbooks"
)

func minimalScenario(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/minimal-scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// edit replaces old with new and fails if old is not there, so a test
// cannot silently check the unchanged file.
func edit(t *testing.T, src, old, new string) string {
	t.Helper()
	if !strings.Contains(src, old) {
		t.Fatalf("test bug: %q not in source", old)
	}
	return strings.Replace(src, old, new, 1)
}

func parseScenario(t testing.TB, src string) (*Scenario, strictyaml.Problems) {
	t.Helper()
	lib, _ := library(t)
	return ParseScenario("s.yaml", []byte(src), lib.Get, validate)
}

func TestMinimalScenarioParses(t *testing.T) {
	sc, probs := parseScenario(t, minimalScenario(t))
	if probs != nil {
		t.Fatal(probs)
	}
	if got := sc.Injects[2].Offset; got != 30*time.Minute {
		t.Errorf("after chain: note at %v, want 30m", got)
	}
	if sc.Length != 2*time.Hour {
		t.Errorf("length %v", sc.Length)
	}
	e, _, _ := sc.Expectation("isolate")
	if e.Target == nil || e.Target.From != "declared" || e.Target.After != 15*time.Minute {
		t.Errorf("isolate target %+v: want the runbook's 15m from declaration", e.Target)
	}
	e, _, _ = sc.Expectation("told")
	if e.Target == nil || e.Target.From != "declared" || e.Target.After != 30*time.Minute || e.Audience != "stakeholders" {
		t.Errorf("told target %+v, audience %q", e.Target, e.Audience)
	}
}

// TestScenarioLintReportsPositions covers every bad input a scenario
// author can reach: each problem is reported with its line and column.
func TestScenarioLintReportsPositions(t *testing.T) {
	base := minimalScenario(t)
	tests := []struct {
		name string
		src  string
		want []string // "line:col: message" prefixes, in order
	}{
		{"inject after the end of play",
			edit(t, base, "    at: 20m\n", "    at: 2h\n"),
			[]string{`37:9: inject "note" at T+2h10m comes after the end of play (duration 2h)`}},
		{"injects listed out of time order",
			edit(t, edit(t, base, "duration: 2h\n", ""), "    at: 0m\n", "    at: 25m\n"),
			[]string{`26:9: inject "call" at T+20m is listed after "alert" at T+25m; list injects in time order`}},
		{"unknown runbook",
			edit(t, base, "runbook: ransomware\nduration", "runbook: ransomwear\nduration"),
			[]string{`4:10: unknown runbook "ransomwear"`}},
		{"objective names an unknown runbook",
			edit(t, base, "    runbook: ransomware\n", "    runbook: phishing\n"),
			[]string{`10:14: unknown runbook "phishing"`}},
		{"unknown step",
			edit(t, base, "step: isolate", "step: isolat"),
			[]string{`33:15: unknown step "isolat" in runbook ransomware (did you mean "isolate"?)`}},
		{"unknown notification",
			edit(t, base, "notification: stakeholders-declared", "notification: board-briefing"),
			[]string{`43:23: unknown notification "board-briefing" in runbook ransomware`}},
		{"unknown role",
			edit(t, base, "  - role: incident_commander", "  - role: ciso"),
			[]string{`13:11: role "ciso" is neither a role of runbook ransomware`}},
		{"after names an unknown inject",
			edit(t, base, "after: call", "after: cal"),
			[]string{`36:12: unknown inject "cal" (did you mean "call"?)`}},
		{"cycle in after chains",
			edit(t, edit(t, base, "    at: 20m\n", "    after: note\n"), "after: call\n    at: 10m", "after: call"),
			[]string{`27:12: the after chain of inject "call" forms a cycle: call -> note -> call`}},
		{"inject after itself",
			edit(t, base, "after: call", "after: note"),
			[]string{`36:12: inject "note" cannot come after itself`}},
		{"inject with neither at nor after",
			edit(t, base, "    at: 20m\n", ""),
			[]string{`26:9: inject "call" needs at (an offset from the start) or after (an earlier inject)`}},
		{"bad offset",
			edit(t, base, "at: 20m", "at: soon"),
			[]string{`27:9: bad time offset "soon"`}},
		{"unknown channel",
			edit(t, base, "channel: phone", "channel: fax"),
			[]string{`28:14: unknown channel "fax"; use alert, email, phone, slack, news, customer`}},
		{"unknown action",
			edit(t, base, "action: classify", "action: clasify"),
			[]string{`22:17: unknown action "clasify" (did you mean "classify"?)`}},
		{"field that does not apply to the action",
			edit(t, base, "        step: isolate\n", "        step: isolate\n        severity: SEV1\n"),
			[]string{`34:19: severity does not apply to action step`}},
		{"within target without a runbook target",
			edit(t, base, "step: isolate", "step: restore"),
			[]string{`34:17: step "restore" has no target in runbook ransomware; give a duration such as 1h`}},
		{"bad within",
			edit(t, base, "within: 15m", "within: quickly"),
			[]string{`24:17: bad duration "quickly"`}},
		{"unknown objective",
			edit(t, base, "objective: O1", "objective: O9"),
			[]string{`25:20: unknown objective "O9"`}},
		{"unknown capability with suggestion",
			edit(t, base, "capability: operational_coordination", "capability: operational_cordination"),
			[]string{`11:17: unknown core capability "operational_cordination" (did you mean "operational_coordination"?)`}},
		{"duplicate inject id",
			edit(t, base, "  - id: call", "  - id: alert"),
			[]string{`26:9: duplicate inject id "alert"`, `36:12: unknown inject "call"`}},
		{"duplicate expectation id",
			edit(t, base, "      - id: told", "      - id: classify"),
			[]string{`41:13: duplicate expectation id "classify"`}},
		{"unknown field with suggestion",
			edit(t, base, "    content: The service desk calls.", "    contents: The service desk calls."),
			[]string{`29:5: unknown field "contents" (did you mean "content"?)`}},
		{"missing required field",
			edit(t, base, "title: Minimal scenario\n", ""),
			[]string{`1:1: missing required field "title"`}},
		{"wrong type",
			edit(t, base, "  - id: O1\n", "  - id: [O1]\n"),
			[]string{`8:9: expected text, found a list`}},
		{"bad start",
			edit(t, base, "duration: 2h", "duration: 2h\nstart: Caturday 9am"),
			[]string{`6:8: bad start "Caturday 9am"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := parseScenario(t, tc.src)
			wantProblems(t, probs, "s.yaml:", tc.want)
		})
	}
}

// TestLintChecksScenarioFolders: `irtui runbooks lint` checks the
// scenarios/ sub-folder of a runbook folder, and scenario files named
// directly, with their paths.
func TestLintChecksScenarioFolders(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "scenarios"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := edit(t, minimalScenario(t), "step: isolate", "step: isolat")
	good := edit(t, minimalScenario(t), "id: minimal", "id: minimal-2")
	for name, src := range map[string]string{"bad.yaml": bad, "good.yaml": good} {
		if err := os.WriteFile(filepath.Join(dir, "scenarios", name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := runbook.Options{Bundled: runbooks.FS(), Validate: validate}
	want := filepath.Join(dir, "scenarios", "bad.yaml") + `:33:15: unknown step "isolat"`
	for _, args := range [][]string{{dir}, {filepath.Join(dir, "scenarios")}, {filepath.Join(dir, "scenarios", "bad.yaml")}} {
		probs, _ := Lint(context.Background(), args, opts)
		if len(probs) != 1 || !strings.HasPrefix(probs[0].String(), want) {
			t.Errorf("lint %v:\n%v", args, probs)
		}
	}
	// Configured folders: their scenarios are linted with the bundled ones.
	probs, _ := Lint(context.Background(), nil, runbook.Options{Bundled: runbooks.FS(), Dirs: []string{dir}, Validate: validate})
	if len(probs) != 1 || !strings.HasPrefix(probs[0].String(), want) {
		t.Errorf("lint configured folders:\n%v", probs)
	}
	// A duplicate id across files.
	if err := os.WriteFile(filepath.Join(dir, "scenarios", "bad.yaml"), []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	probs, _ = Lint(context.Background(), []string{dir}, opts)
	if len(probs) != 1 || !strings.Contains(probs[0].String(), `duplicate scenario id "minimal-2"`) {
		t.Errorf("duplicate ids:\n%v", probs)
	}
}

func TestBundledScenariosLintClean(t *testing.T) {
	if probs, _ := Lint(context.Background(), nil, runbook.Options{Bundled: runbooks.FS(), Validate: validate}); len(probs) > 0 {
		t.Fatalf("bundled runbooks and scenarios:\n%v", probs)
	}
	_, scs := library(t)
	if len(scs.Scenarios) < 4 {
		t.Fatalf("%d bundled scenarios, want at least 4", len(scs.Scenarios))
	}
}

// TestActionsFileReportsPositions: the actions file of a headless run is
// checked like a scenario.
func TestActionsFileReportsPositions(t *testing.T) {
	sc, probs := parseScenario(t, minimalScenario(t))
	if probs != nil {
		t.Fatal(probs)
	}
	lib, _ := library(t)
	rb, _ := lib.Get("ransomware")
	decl := "actions:\n  - at: 0m\n    do: declare\n    title: T\n"
	tests := []struct {
		name, src string
		want      []string
	}{
		{"out of order", "actions:\n  - at: 10m\n    do: observe\n    text: a\n  - at: 5m\n    do: observe\n    text: b\n",
			[]string{`5:9: action at T+5m is listed after one at T+10m`}},
		{"unknown action", "actions:\n  - at: 1m\n    do: declar\n", []string{`3:9: unknown action "declar" (did you mean "declare"?)`}},
		{"unknown step", decl + "  - at: 1m\n    do: step\n    step: isolat\n", []string{`7:11: unknown step "isolat" in runbook ransomware`}},
		{"missing argument", decl + "  - at: 1m\n    do: assign\n    role: incident_commander\n", []string{`5:5: missing required field "person"`}},
		{"needs the incident", "actions:\n  - at: 1m\n    do: note\n    text: x\n", []string{`3:9: note needs the drill incident: declare it in an earlier action`}},
		{"unknown question", "actions:\n  - at: 1m\n    do: declare\n    title: T\n    answers:\n      observd: encryption\n",
			[]string{`6:7: unknown question "observd" in runbook ransomware (did you mean "observed"?)`}},
		{"bad answer", "actions:\n  - at: 1m\n    do: declare\n    title: T\n    answers:\n      observed: melted\n",
			[]string{`6:17: question "observed": expected one of false_positive, precursor, encryption, got "melted"`}},
		{"unknown expectation", "actions:\n  - at: 1m\n    do: mark\n    expect: nope\n    result: met\n",
			[]string{`4:13: unknown expectation "nope" in scenario minimal`}},
		{"bad rating", "actions:\n  - at: 1m\n    do: rate\n    objective: O1\n    rating: A\n", []string{`5:13: unknown rating "A"`}},
		{"field that does not apply", "actions:\n  - at: 1m\n    do: observe\n    text: x\n    step: isolate\n",
			[]string{`5:11: step does not apply to action observe`}},
		{"wrong scenario", "scenario: other\nactions:\n  - at: 1m\n    do: observe\n    text: x\n",
			[]string{`1:11: these actions are for scenario "other", not "minimal"`}},
		{"bad due date", "hot_wash:\n  actions:\n    - text: x\n      owner: bob\n      due: next week\n",
			[]string{`5:12: bad due date "next week"`}},
		{"reassess before the declaration", "actions:\n  - at: 1m\n    do: reassess\n    answers: {observed: encryption}\n",
			[]string{`3:9: reassess needs the drill incident: declare it in an earlier action`}},
		{"reassess without answers", decl + "  - at: 1m\n    do: reassess\n    text: why\n", []string{`5:5: missing required field "answers"`}},
		{"reassess bad answer", decl + "  - at: 1m\n    do: reassess\n    answers:\n      observed: melted\n",
			[]string{`8:17: question "observed": expected one of false_positive, precursor, encryption, got "melted"`}},
		{"reassess unknown question taken back", decl + "  - at: 1m\n    do: reassess\n    answers:\n      observd: null\n",
			[]string{`8:7: unknown question "observd" in runbook ransomware (did you mean "observed"?)`}},
		{"unlink without a reason", decl + "  - at: 1m\n    do: unlink\n    customer: acme\n", []string{`5:5: missing required field "text"`}},
		{"link takes no reason", decl + "  - at: 1m\n    do: link\n    customer: acme\n    text: x\n", []string{`8:11: text does not apply to action link`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := ParseDrillActions("a.yaml", []byte(tc.src), sc, rb, validate)
			wantProblems(t, probs, "a.yaml:", tc.want)
		})
	}
}

func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(minimalScenario(f)))
	for _, name := range []string{"ransomware-friday-night", "chat-workspace-compromised"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "runbooks", "scenarios", name+".yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	lib, _ := library(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, probs := ParseScenario("f.yaml", data, lib.Get, validate)
		if (sc == nil) == (probs == nil) {
			t.Fatalf("scenario %v with problems %v", sc != nil, probs)
		}
		for _, p := range probs {
			if p.Line < 1 || p.Col < 1 || p.Msg == "" {
				t.Fatalf("problem without a position: %+v", p)
			}
		}
	})
}

func FuzzParseDrillActions(f *testing.F) {
	for _, name := range []string{"ransomware-friday-night", "bec-fraudulent-payment"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", "drills", name+".actions.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("actions:\n  - at: 10m\n    do: observe\n    text: a\n  - at: 5m\n    do: note\n"))
	sc := scenario(f, "ransomware-friday-night")
	lib, _ := library(f)
	rb, _ := lib.Get(sc.Runbook)
	f.Fuzz(func(t *testing.T, data []byte) {
		acts, probs := ParseDrillActions("f.yaml", data, sc, rb, validate)
		if (acts == nil) == (probs == nil) {
			t.Fatalf("actions %v with problems %v", acts != nil, probs)
		}
		for _, p := range probs {
			if p.Line < 1 || p.Col < 1 || p.Msg == "" {
				t.Fatalf("problem without a position: %+v", p)
			}
		}
	})
}

func modulesScenario(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/modules-scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestModulesParse: a scenario in modules lists each module's injects in
// order, with their module, checks each module's expectations against its
// own runbook, and reads compound offsets.
func TestModulesParse(t *testing.T) {
	sc, probs := parseScenario(t, modulesScenario(t))
	if probs != nil {
		t.Fatal(probs)
	}
	if len(sc.Injects) != 2 || sc.Injects[0].Module != "M1" || sc.Injects[1].Module != "M2" {
		t.Fatalf("injects %+v", sc.Injects)
	}
	if got := sc.Injects[1].Offset; got != 26*time.Hour+30*time.Minute {
		t.Errorf("1d2h30m read as %v", got)
	}
	if sc.Length != 52*time.Hour {
		t.Errorf("duration 2d4h read as %v", sc.Length)
	}
	if m := sc.IncidentModule(&sc.Injects[0]); m != "M1" {
		t.Errorf("M1 has a runbook of its own, so an incident of its own; got %q", m)
	}
	if m := sc.IncidentModule(&sc.Injects[1]); m != "" {
		t.Errorf("M2 is played on the scenario's incident; got %q", m)
	}
	e, _, _ := sc.Expectation("wiped")
	if e.Target == nil || e.Target.From != "declared" || e.Target.After != 15*time.Minute || !e.Critical {
		t.Errorf("wiped is lost-device's lock-wipe with its 15m target, critical: %+v", e)
	}
	// The stored form (what a run keeps) reads back the same.
	raw, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var back Scenario
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Injects) != 2 || back.Injects[0].Module != "M1" ||
		len(back.Modules) != 2 || back.RunbookOf("M1") != "lost-device" {
		t.Fatalf("stored scenario: %v %+v", err, back)
	}
}

// TestModulesLintReportsPositions: the modules format, linted with
// path:line:col.
func TestModulesLintReportsPositions(t *testing.T) {
	base := modulesScenario(t)
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown runbook of a module",
			edit(t, base, "runbook: lost-device", "runbook: lost-phone"),
			[]string{`18:14: unknown runbook "lost-phone"`}},
		{"a step checked against the module's runbook",
			edit(t, base, "step: lock-wipe", "step: isolate"),
			[]string{`29:19: unknown step "isolate" in runbook lost-device`}},
		{"a step of the scenario's runbook in a module sharing its incident",
			edit(t, base, "step: isolate", "step: lock-wipe"),
			[]string{`42:19: unknown step "lock-wipe" in runbook ransomware`}},
		{"a module with another runbook cannot share the incident",
			edit(t, base, "    runbook: lost-device\n", "    runbook: lost-device\n    incident: shared\n"),
			[]string{`19:15: module "M1" is played with runbook lost-device, not the scenario's ransomware, so it needs an incident of its own`}},
		{"unknown incident kind",
			edit(t, base, "    title: The encryption\n", "    title: The encryption\n    incident: separate\n"),
			[]string{`34:15: unknown incident "separate"; use own`}},
		{"duplicate module id",
			edit(t, base, "  - id: M2\n", "  - id: M1\n"),
			[]string{`32:9: duplicate module id "M1"`, `42:19: unknown step "isolate" in runbook lost-device`}},
		{"module without injects",
			edit(t, base, "    title: The encryption\n    injects:\n", "    title: The encryption\n    questions: [Who?]\n    other:\n"),
			[]string{`32:5: missing required field "injects"`, `35:5: unknown field "other"`}},
		{"module injects out of order",
			edit(t, base, "at: 1d2h30m", "at: 0m\n        after: laptop\n        x: 1"),
			[]string{`38:9: unknown field "x"`}},
		{"injects beside modules",
			edit(t, base, "modules:\n", "injects:\n  - id: x\n    at: 0m\n    channel: phone\n    content: x\nmodules:\n"),
			[]string{`16:3: a scenario in modules lists its injects in its modules`}},
		{"bad compound offset",
			edit(t, base, "at: 1d2h30m", "at: 2h1d"),
			[]string{`36:13: bad time offset "2h1d": use a duration from the start such as 0m, 15m, T+1h30m, 2d or 2d4h`}},
		{"empty module question",
			edit(t, base, "      - Was it encrypted?", "      - \"\""),
			[]string{`20:9: empty discussion question`}},
		{"an inject in time order across modules",
			edit(t, base, "at: 1d2h30m", "at: 0m\n        after: laptop"),
			nil},
		{"unknown mission area",
			edit(t, base, "objectives:\n", "overview:\n  mission_areas: [respond]\nobjectives:\n"),
			[]string{`8:19: unknown mission area "respond" (did you mean "response"?)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := parseScenario(t, tc.src)
			wantProblems(t, probs, "s.yaml:", tc.want)
		})
	}
}

// TestModuleActionsReportPositions: an actions file names the module
// whose incident an action works on.
func TestModuleActionsReportPositions(t *testing.T) {
	sc, probs := parseScenario(t, modulesScenario(t))
	if probs != nil {
		t.Fatal(probs)
	}
	lib, _ := library(t)
	rb, _ := lib.Get("ransomware")
	decl := "actions:\n  - at: 0m\n    module: M1\n    do: declare\n    title: T\n"
	tests := []struct {
		name, src string
		want      []string
	}{
		{"a step of the module's runbook", decl + "  - at: 1m\n    module: M1\n    do: step\n    step: lock-wipe\n", nil},
		{"a step of another runbook", decl + "  - at: 1m\n    module: M1\n    do: step\n    step: isolate\n",
			[]string{`9:11: unknown step "isolate" in runbook lost-device`}},
		{"unknown module", "actions:\n  - at: 0m\n    module: M9\n    do: declare\n    title: T\n",
			[]string{`3:13: unknown module "M9" in scenario modules`}},
		{"a module on the scenario's incident", "actions:\n  - at: 0m\n    module: M2\n    do: declare\n    title: T\n",
			[]string{`3:13: module "M2" is played on the scenario's incident; leave module out`}},
		{"the module's incident not declared", "actions:\n  - at: 0m\n    do: declare\n    title: T\n  - at: 1m\n    module: M1\n    do: note\n    text: x\n",
			[]string{`7:9: note needs module M1's drill incident: declare it in an earlier action`}},
		{"answers checked against the module's runbook", "actions:\n  - at: 0m\n    module: M1\n    do: declare\n    title: T\n    answers:\n      observed: encryption\n",
			[]string{`7:7: unknown question "observed" in runbook lost-device`}},
		{"an observation the hot wash cites", "actions:\n  - at: 0m\n    do: observe\n    text: x\nhot_wash:\n  improvements:\n    - text: y\n      observations: [2]\n",
			[]string{`8:22: there is no observation 2: the actions observe 1 time(s)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := ParseDrillActions("a.yaml", []byte(tc.src), sc, rb, validate)
			wantProblems(t, probs, "a.yaml:", tc.want)
		})
	}
}

// wantProblems checks that probs are, in order, want: "line:col: message"
// prefixes after the file's name.
func wantProblems(t *testing.T, probs strictyaml.Problems, file string, want []string) {
	t.Helper()
	if len(probs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(probs), len(want), probs)
	}
	for i, w := range want {
		if got := strings.TrimPrefix(probs[i].String(), file); !strings.HasPrefix(got, w) {
			t.Errorf("problem %d:\n got  %s\n want %s...", i, got, w)
		}
	}
}
