package runbook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/irtui/irtui/internal/strictyaml"
)

func minimal(t testing.TB) string {
	t.Helper()
	data, err := os.ReadFile("testdata/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// edit replaces old with new in the minimal runbook and fails if old is
// not there, so a test cannot silently check the unchanged file.
func edit(t *testing.T, src, old, new string) string {
	t.Helper()
	if !strings.Contains(src, old) {
		t.Fatalf("test bug: %q not in source", old)
	}
	return strings.Replace(src, old, new, 1)
}

func TestMinimalRunbookLoads(t *testing.T) {
	rb, probs := ParseFile("minimal.yaml", []byte(minimal(t)), ValidateOptions{})
	if probs != nil {
		t.Fatalf("unexpected problems:\n%v", probs)
	}
	if rb.ID != "minimal" || len(rb.Questions) != 3 || rb.Questions[1].Max == nil || *rb.Questions[1].Max != 100000 {
		t.Fatalf("decoded wrong: %+v", rb)
	}
	env := rb.AnswerEnv()
	env["down"] = true
	ok, err := rb.Rules.Incident[0].Holds(env)
	if err != nil || !ok {
		t.Fatalf("incident rule: %v %v", ok, err)
	}
	// Both decoders must agree on a valid file.
	doc, _ := strictyaml.Parse(strictyaml.Runbook, "minimal.yaml", []byte(minimal(t)))
	slow := new(Runbook)
	if probs := doc.Decode(slow); probs != nil {
		t.Fatal(probs)
	}
	if slow.Questions[1].Max == nil || *slow.Questions[1].Max != *rb.Questions[1].Max || slow.Notify[0].Template.Body != rb.Notify[0].Template.Body {
		t.Fatalf("fast and slow decoders disagree:\n%+v\n%+v", slow, rb)
	}
}

func TestLintReportsPositions(t *testing.T) {
	base := minimal(t)
	tests := []struct {
		name string
		src  string
		want []string // "line:col: message" prefixes, in order
	}{
		{"unknown top-level field with suggestion",
			edit(t, base, "owner: Security team", "ownr: Security team"),
			[]string{`4:1: unknown field "ownr" (did you mean "owner"?)`}},
		{"unknown nested field",
			edit(t, base, "        target: 15m", "        target: 15m\n        colour: red"),
			[]string{`53:9: unknown field "colour"`}},
		{"every unknown field is reported, not just the first",
			edit(t, edit(t, base, "    text: Is the service down?", "    txt: Is the service down?"), "    title: Incident commander", "    titel: Incident commander"),
			[]string{`12:5: unknown field "txt" (did you mean "text"?)`, `42:5: unknown field "titel" (did you mean "title"?)`}},
		{"tab indentation",
			edit(t, base, "  class: availability", "\tclass: availability"),
			[]string{`7:1: a tab character; YAML readers disagree about tabs outside quotes, so use spaces`}},
		{"duplicate key",
			edit(t, base, "version: 0.1.0", "version: 0.1.0\nversion: 0.2.0"),
			[]string{`4:1: mapping key "version" already defined at [3:1]`}},
		{"wrong type: text where a list is expected",
			edit(t, base, "    duties:\n      - Owns the incident.", "    duties: Owns the incident."),
			[]string{`43:13: expected a list, found text "Owns the incident."`}},
		{"missing required field points at its mapping",
			edit(t, base, "    text: Is the service down?\n", ""),
			[]string{`11:5: missing required field "text"`}},
		{"missing top-level field",
			edit(t, base, "owner: Security team\n", ""),
			[]string{`1:1: missing required field "owner"`}},
		{"wrong type: text where a boolean is expected",
			edit(t, base, "    approver: incident_commander", "    approver: incident_commander\n    optional: maybe"),
			[]string{`58:5: unknown field "optional"`}},
		{"step names an undefined role",
			edit(t, base, "        role: incident_commander\n        target", "        role: scribe\n        target"),
			[]string{`51:15: role "scribe" is not defined in this runbook's roles`}},
		{"expression names an unknown question, position inside the expression",
			edit(t, base, `when: impact == "high" && users > 1000`, `when: impact == "high" && usrs > 1000`),
			[]string{`33:33: expression: unknown name usrs`}},
		{"expression with a type error",
			edit(t, base, "    - when: down\n", "    - when: down + 1\n"),
			[]string{`29:18: expression: invalid operation: + (mismatched types bool and int)`}},
		{"template uses a field that does not exist",
			edit(t, base, "{{.Content.what}}", "{{.Content.wat}}"),
			[]string{`64:13: template uses something that does not exist: executing "body" at <.Content.wat>: map has no entry for key "wat"`}},
		{"template does not parse",
			edit(t, base, `"Outage {{.Incident.ID}}"`, `"Outage {{.Incident.ID}"`),
			[]string{`63:16: template does not parse: bad character U+007D '}'`}},
		{"template uses an incident field that does not exist",
			edit(t, base, `"Outage {{.Incident.ID}}"`, `"Outage {{.Incident.Number}}"`),
			[]string{`63:16: template uses something that does not exist:`}},
		{"bad duration",
			edit(t, base, "target: 15m", "target: soon"),
			[]string{`52:17: bad duration "soon"`}},
		{"unknown severity and RSIT type",
			edit(t, edit(t, base, "level: SEV1", "level: SEV0"), "type: outage", "type: blackout"),
			[]string{`8:9: type "blackout" is not in RSIT class availability`, `32:14: unknown severity "SEV0"`}},
		{"customer notice without approver",
			edit(t, base, "    approver: incident_commander\n", ""),
			[]string{`55:15: a notice to customers needs an approver role`}},
		{"trigger names a flag nobody sets",
			edit(t, base, "    on: declared", "    on: flag:personal_data_breach"),
			[]string{`56:9: trigger "flag:personal_data_breach" names flag "personal_data_breach", which no classification rule or shared assessment sets`}},
		{"number question without worst case",
			edit(t, base, "    max: 100000\n", ""),
			[]string{`16:11: number question "users" needs worst or max`}},
		{"choice worst outside the choices",
			edit(t, base, "    type: choice\n", "    type: choice\n    worst: extreme\n"),
			[]string{`22:12: worst: expected one of low, high, got "extreme"`}},
		{"phases out of order",
			edit(t, base, "  - id: detection_analysis\n    title: Detection & analysis\n", "  - id: recovery\n    title: Recovery\n") +
				"", nil},
		{"not YAML at all",
			"\x00\x01\x02 binary {{{ [[[", []string{`1:`}},
		{"top level is a list",
			"- a\n- b\n", []string{`1:1: expected a mapping of fields, found a list`}},
		{"empty file", "", []string{`1:1: file is empty`}},
		{"only comments", "# nothing here\n", []string{`1:1: file has no content, only comments`}},
		{"two documents", base + "---\n" + base, []string{`1:1: file holds more than one YAML document`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb, probs := ParseFile("rb.yaml", []byte(tc.src), ValidateOptions{})
			if tc.want == nil {
				if probs != nil {
					t.Fatalf("want no problems, got:\n%v", probs)
				}
				return
			}
			if rb != nil {
				t.Fatalf("broken file loaded")
			}
			if len(probs) != len(tc.want) {
				t.Fatalf("want %d problems, got %d:\n%v", len(tc.want), len(probs), probs)
			}
			for i, w := range tc.want {
				if got := probs[i].String(); !strings.HasPrefix(got, "rb.yaml:"+w) {
					t.Errorf("problem %d:\n got %s\nwant rb.yaml:%s...", i, got, w)
				}
			}
		})
	}
}

func TestLintHugeFile(t *testing.T) {
	huge := strings.Repeat("# padding\n", strictyaml.MaxFileSize/10+1)
	_, probs := ParseFile("huge.yaml", []byte(huge), ValidateOptions{})
	if len(probs) != 1 || !strings.Contains(probs[0].String(), "huge.yaml:1:1: file is too large") {
		t.Fatalf("got %v", probs)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(path, []byte(huge), 0o600); err != nil {
		t.Fatal(err)
	}
	got := lint(t, []string{path}, Options{})
	if len(got) != 1 || !strings.Contains(got[0].Msg, "too large") {
		t.Fatalf("got %v", got)
	}
}

func TestObligationCheck(t *testing.T) {
	src := edit(t, minimal(t), "    approver: incident_commander", "    approver: incident_commander\n    obligation: gdpr-99")
	known := func(id string) bool { return id == "gdpr-33" }
	_, probs := ParseFile("rb.yaml", []byte(src), ValidateOptions{Obligation: known})
	if len(probs) != 1 || !strings.HasPrefix(probs[0].String(), `rb.yaml:58:17: unknown obligation "gdpr-99"`) {
		t.Fatalf("got %v", probs)
	}
}

func TestLoadBrokenFileDoesNotStopOthers(t *testing.T) {
	dir := t.TempDir()
	base := minimal(t)
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", edit(t, base, "id: minimal", "id: alpha"))
	write("b.yaml", "id: [broken")
	write("c.yaml", edit(t, base, "id: minimal", "id: alpha")) // duplicate of a.yaml
	write("d.yaml", base)                                      // replaces the bundled one
	write("notes.txt", "not a runbook")
	bundled := fstest.MapFS{
		"minimal.yaml": {Data: []byte(base)},
		"other.yaml":   {Data: []byte(edit(t, base, "id: minimal", "id: other"))},
	}
	lib := load(t, Options{Bundled: bundled, Dirs: []string{dir}})
	var ids []string
	for _, rb := range lib.Runbooks {
		ids = append(ids, rb.ID)
	}
	if strings.Join(ids, ",") != "alpha,minimal,other" {
		t.Fatalf("ids = %v", ids)
	}
	m, _ := lib.Get("minimal")
	if !m.Source.Replaces || m.Source.Bundled || m.Source.Path != filepath.Join(dir, "d.yaml") {
		t.Fatalf("minimal should come from d.yaml and replace the bundled one: %+v", m.Source)
	}
	o, _ := lib.Get("other")
	if !o.Source.Bundled || o.Source.Path != "bundled:other.yaml" {
		t.Fatalf("other: %+v", o.Source)
	}
	if len(lib.Failed) != 2 {
		t.Fatalf("want 2 problems, got:\n%v", lib.Failed)
	}
	if !strings.HasPrefix(lib.Failed[0].String(), filepath.Join(dir, "b.yaml")+":1:") {
		t.Errorf("b.yaml problem: %v", lib.Failed[0])
	}
	want := filepath.Join(dir, "c.yaml") + `:1:5: duplicate runbook id "alpha", already defined at ` + filepath.Join(dir, "a.yaml") + ":1"
	if lib.Failed[1].String() != want {
		t.Errorf("duplicate:\n got %v\nwant %v", lib.Failed[1], want)
	}
}

func TestLintPathsAndMissingFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(minimal(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	if probs := lint(t, []string{good}, Options{}); len(probs) != 0 {
		t.Fatalf("good file: %v", probs)
	}
	probs := lint(t, []string{good, good, filepath.Join(dir, "missing.yaml")}, Options{})
	if len(probs) != 2 {
		t.Fatalf("got %v", probs)
	}
	if !strings.Contains(probs[0].Msg, "duplicate runbook id") {
		t.Errorf("dup: %v", probs[0])
	}
	if !strings.HasSuffix(probs[1].String(), "missing.yaml:1:1: no such file or folder") {
		t.Errorf("missing: %v", probs[1])
	}
}

func TestParseDuration(t *testing.T) {
	for in, ok := range map[string]bool{"15m": true, "4h": true, "2d": true, "1w": true, "1h30m": true,
		"": false, "soon": false, "-1h": false, "0d": false, "1.5d": false, "99999d": false} {
		_, err := ParseDuration(in)
		if (err == nil) != ok {
			t.Errorf("ParseDuration(%q) err=%v", in, err)
		}
	}
}

// TestDocExampleIsValid keeps the complete example in docs/runbook-format.md
// honest: it must load without a single problem.
func TestDocExampleIsValid(t *testing.T) {
	doc, err := os.ReadFile("../../docs/runbook-format.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	if !ok {
		t.Fatal("no yaml block in the doc")
	}
	example, _, _ := strings.Cut(rest, "```")
	rb, probs := ParseFile("docs/runbook-format.md", []byte(example), ValidateOptions{})
	if probs != nil {
		t.Fatalf("the documented example has problems:\n%v", probs)
	}
	if len(rb.Notify[1].Translations) != 1 || rb.Rules.Facts[0].Fact != "affected_people" {
		t.Fatalf("example decoded wrong: %+v", rb)
	}
}

func TestDecodeCache(t *testing.T) {
	dir := t.TempDir()
	cache := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(minimal(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Dirs: []string{dir}, CacheDir: cache}
	first := load(t, opts)
	cacheFile := filepath.Join(cache, cacheSchema+".json")
	for _, name := range []string{cacheFile, filepath.Join(cache, cacheKeyFile)} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatalf("not written: %v", err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", name, st.Mode().Perm())
		}
	}
	second := load(t, opts)
	if len(first.Runbooks) != 1 || len(second.Runbooks) != 1 || len(second.Warnings) != 0 {
		t.Fatalf("runbook lost, or warnings: %v", second.Warnings)
	}
	a, b := first.Runbooks[0], second.Runbooks[0]
	if a.Title != b.Title || len(a.Phases[0].Steps) != len(b.Phases[0].Steps) || a.Source.Hash != b.Source.Hash {
		t.Fatalf("cached runbook differs")
	}
	// Zero values survive the cache: "min: 0" stays a minimum of 0.
	if q := b.Questions[1]; q.Min == nil || *q.Min != 0 || q.Max == nil || *q.Max != 100000 {
		t.Fatalf("cached bounds lost: min=%v max=%v", q.Min, q.Max)
	}
	// Compiled conditions are rebuilt for cached runbooks.
	env := b.AnswerEnv()
	env["down"] = true
	if ok, err := b.Rules.Incident[0].Holds(env); err != nil || !ok {
		t.Fatalf("cached rule does not run: %v %v", ok, err)
	}
	// A damaged cache is reported and rebuilt, and a changed file is
	// parsed again.
	if err := os.WriteFile(cacheFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(strings.Replace(minimal(t), "Minimal runbook", "Changed", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	third := load(t, opts)
	if len(third.Runbooks) != 1 || third.Runbooks[0].Title != "Changed" || len(third.Failed) != 0 {
		t.Fatalf("after change: %+v %v", third.Runbooks, third.Failed)
	}
	if len(third.Warnings) != 1 || !strings.Contains(third.Warnings[0], "is damaged and is rebuilt") {
		t.Fatalf("warnings: %q", third.Warnings)
	}
	if fourth := load(t, opts); len(fourth.Warnings) != 0 || fourth.Runbooks[0].Title != "Changed" {
		t.Fatalf("rebuilt cache: %q", fourth.Warnings)
	}
}

func TestAliasAbuse(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
		"references: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	for name, src := range map[string]string{
		"self alias": "id: &x *x\n",
		"alias bomb": bomb,
		"worst bomb": strings.Replace(bomb, "references: [", "questions: [{worst: [", 1) + "}]",
		"undefined":  "id: *nope\n",
	} {
		t.Run(name, func(t *testing.T) {
			done := make(chan strictyaml.Problems)
			go func() { _, p := ParseFile("a.yaml", []byte(src), ValidateOptions{}); done <- p }()
			select {
			case p := <-done:
				if len(p) == 0 {
					t.Fatal("no problem reported")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("loader hangs")
			}
		})
	}
}

func load(tb testing.TB, opts Options) *Library {
	tb.Helper()
	lib, err := Load(context.Background(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return lib
}

func lint(tb testing.TB, paths []string, opts Options) strictyaml.Problems {
	tb.Helper()
	probs, err := Lint(context.Background(), paths, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return probs
}
