package runbook

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedYAML is a small shared assessment: two questions, three levels, a
// raising and a lowering factor, and a flag from the conclusion.
const sharedYAML = `id: mini-risk
title: Mini risk
version: 1.0.0
owner: Privacy
summary: A shared assessment for the tests.
questions:
  - id: leaked
    text: Did it leak?
    type: yesno
  - id: kinds
    text: Which kinds?
    type: multi
    choices:
      - {value: basic, label: Basic}
      - {value: special, label: Special}
  - id: locked
    text: Was it encrypted?
    type: yesno
    worst: false
conclusion:
  name: mini_level
  applies: leaked
  levels:
    - {id: none, label: No risk}
    - {id: risk, label: Risk}
    - {id: high, label: High risk}
  default: risk
  because: A leak is a risk unless shown otherwise.
  factors:
    - id: special_leaked
      raise: high
      when: '"special" in kinds'
      because: Special data leaked.
    - id: encrypted
      lower: none
      when: locked
      because: It was encrypted.
flags:
  - flag: mini_high
    when: mini_level == "high"
    because: High.
`

// usingYAML is the minimal runbook with a uses: entry, a question that
// stands in for the assessment's "kinds", and a flag rule that reads the
// conclusion.
func usingYAML(t *testing.T) string {
	t.Helper()
	src := minimal(t)
	src = edit(t, src, "questions:\n", `uses:
  - assessment: mini-risk
    with:
      leaked: down
questions:
  - id: kinds
    text: What kinds of data?
    type: multi
    choices:
      - {value: basic, label: Basic}
      - {value: special, label: Special}
`)
	return src
}

func writeLibrary(t *testing.T, runbookSrc, sharedSrc string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, AssessmentDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rb.yaml"), []byte(runbookSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, AssessmentDir, "mini.yaml"), []byte(sharedSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSharedAssessmentLoads(t *testing.T) {
	dir := writeLibrary(t, usingYAML(t), sharedYAML)
	lib := load(t, Options{Dirs: []string{dir}})
	if len(lib.Failed) > 0 {
		t.Fatalf("problems:\n%v", lib.Failed)
	}
	rb, ok := lib.Get("minimal")
	if !ok {
		t.Fatal("runbook not loaded")
	}
	// Asked: locked (neither provided nor bound). Provided: kinds. Bound: leaked.
	var ids, from []string
	for _, q := range rb.Questions {
		ids = append(ids, q.ID)
		from = append(from, q.From)
	}
	if !slices.Equal(ids, []string{"kinds", "down", "users", "impact", "locked"}) || from[4] != "mini-risk" || from[0] != "" {
		t.Fatalf("questions %v from %v", ids, from)
	}
	env := rb.AnswerEnv()
	for _, name := range []string{"leaked", "locked", "mini_level", "mini_high"} {
		if _, ok := env[name]; !ok {
			t.Errorf("the environment lacks %s", name)
		}
	}
	a := rb.Uses[0].Shared()
	if a == nil || a.ID != "mini-risk" {
		t.Fatalf("use not resolved: %+v", rb.Uses[0])
	}
	tests := []struct {
		name    string
		down    bool
		kinds   []string
		locked  bool
		level   string
		decided []string
		def     bool
		out     []string
	}{
		{"no leak: no conclusion", false, []string{"basic"}, false, "", nil, false, nil},
		{"a leak with nothing else: the default", true, []string{"basic"}, false, "risk", nil, true, nil},
		{"a mitigation lowers it", true, []string{"basic"}, true, "none", []string{"encrypted"}, false, nil},
		{"an aggravating factor outweighs the mitigation", true, []string{"special"}, true, "high", []string{"special_leaked"}, false, []string{"encrypted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := rb.AnswerEnv()
			env["down"], env["kinds"], env["locked"] = tt.down, tt.kinds, tt.locked
			bound, err := rb.Uses[0].Bind(env)
			if err != nil || len(bound) != 1 || bound[0].Question != "leaked" || env["leaked"] != tt.down {
				t.Fatalf("bind: %v %+v", err, bound)
			}
			o, err := a.Conclude(env)
			if err != nil {
				t.Fatal(err)
			}
			var decided []string
			for _, h := range o.Held {
				if h.Decisive {
					decided = append(decided, h.Factor.ID)
				}
			}
			if o.Level != tt.level || o.Default != tt.def || !slices.Equal(decided, tt.decided) || !slices.Equal(o.Outweighed, tt.out) {
				t.Errorf("level %q default %v decided %v outweighed %v", o.Level, o.Default, decided, o.Outweighed)
			}
			if env["mini_level"] != tt.level {
				t.Errorf("the conclusion is not in the environment: %v", env["mini_level"])
			}
		})
	}
}

// TestSharedAssessmentLint: every problem is reported at path:line:col in
// the file that holds it, runbook or assessment.
func TestSharedAssessmentLint(t *testing.T) {
	rb := usingYAML(t)
	tests := []struct {
		name      string
		runbook   string
		shared    string
		want      []string // "file:line:col: message" prefixes; file is rb.yaml or mini.yaml
		wantCount int
	}{
		{"unknown assessment", edit(t, rb, "assessment: mini-risk", "assessment: maxi-risk"), sharedYAML,
			[]string{`rb.yaml:11:17: unknown shared assessment "maxi-risk"`}, 1},
		{"binding of the wrong type", edit(t, rb, "leaked: down", "leaked: users + 1"), sharedYAML,
			[]string{`rb.yaml:13:15: expression: expected bool, but got float64`}, 1},
		{"binding an unknown question", edit(t, rb, "leaked: down", "leaked: down\n      leakd: down"), sharedYAML,
			[]string{`rb.yaml:14:7: shared assessment mini-risk has no question "leakd"; its questions are leaked, kinds, locked`}, 1},
		{"a stand-in question of another type", edit(t, rb, "    type: multi\n    choices:\n      - {value: basic, label: Basic}\n      - {value: special, label: Special}\n",
			"    type: text\n"), sharedYAML,
			[]string{`rb.yaml:17:11: question "kinds" stands in for the shared assessment mini-risk's question of the same id`}, 1},
		{"a stand-in choice the assessment does not know", edit(t, rb, "{value: basic, label: Basic}", "{value: secret, label: Secret}"), sharedYAML,
			[]string{`rb.yaml:19:17: choice "secret" is not one the shared assessment mini-risk knows for "kinds" (basic, special)`}, 1},
		{"a runbook flag the assessment sets", edit(t, rb, "    - flag: customer_data_affected", "    - flag: mini_high"), sharedYAML,
			[]string{`rb.yaml:47:13: flag "mini_high" is set by the shared assessment mini-risk; remove this rule`}, 1},
		{"a factor with an unknown level", rb, strings.Replace(sharedYAML, "raise: high", "raise: severe", 1),
			[]string{`mini.yaml:31:14: level "severe" is not one of the levels (high, none, risk)`,
				`rb.yaml:11:17: shared assessment "mini-risk" did not load: see the problems in `}, 2},
		{"a bad expression in a factor", rb, strings.Replace(sharedYAML, `when: '"special" in kinds'`, `when: '"special" in kindz'`, 1),
			[]string{`mini.yaml:32:27: expression: unknown name kindz`, `rb.yaml:11:17: shared assessment "mini-risk" did not load`}, 2},
		{"a factor that neither raises nor lowers", rb, strings.Replace(sharedYAML, "      lower: none\n", "", 1),
			[]string{`mini.yaml:34:7: factor "encrypted" needs raise: LEVEL`}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeLibrary(t, tt.runbook, tt.shared)
			for _, args := range [][]string{{dir}, {filepath.Join(dir, "rb.yaml"), filepath.Join(dir, AssessmentDir, "mini.yaml")}} {
				probs := lint(t, args, Options{})
				var got []string
				for _, p := range probs {
					got = append(got, filepath.Base(p.Path)+":"+strings.SplitN(p.String(), ":", 2)[1])
				}
				if len(probs) != tt.wantCount {
					t.Errorf("lint %v: %d problems, want %d:\n%s", args, len(probs), tt.wantCount, strings.Join(got, "\n"))
				}
				for _, w := range tt.want {
					if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, w) }) {
						t.Errorf("lint %v lacks %q; got:\n%s", args, w, strings.Join(got, "\n"))
					}
				}
			}
		})
	}
}

// A bound choice that is not one of the question's choices is an error at
// classification time, not a silent wrong answer.
func TestBindRefusesUnknownChoice(t *testing.T) {
	shared := strings.Replace(sharedYAML, "  - id: locked\n", `  - id: where
    text: Where?
    type: choice
    choices:
      - {value: inside, label: Inside}
      - {value: outside, label: Outside}
  - id: locked
`, 1)
	src := edit(t, usingYAML(t), "leaked: down", "leaked: down\n      where: 'down ? \"outside\" : \"elsewhere\"'")
	dir := writeLibrary(t, src, shared)
	lib := load(t, Options{Dirs: []string{dir}})
	if len(lib.Failed) > 0 {
		t.Fatalf("problems:\n%v", lib.Failed)
	}
	rb, _ := lib.Get("minimal")
	env := rb.AnswerEnv()
	env["down"] = false
	if _, err := rb.Uses[0].Bind(env); err == nil || !strings.Contains(err.Error(), `with where: expected one of inside, outside, got "elsewhere"`) {
		t.Fatalf("Bind = %v", err)
	}
}

// The bundled library: every runbook that touches personal data uses the
// breach risk assessment, none redefines its flags.
func TestBundledRunbooksShareTheBreachRisk(t *testing.T) {
	lib := load(t, Options{Bundled: os.DirFS("../../runbooks")})
	if len(lib.Failed) > 0 {
		t.Fatalf("bundled runbooks do not load:\n%v", lib.Failed)
	}
	if _, ok := lib.Assessments.Get("breach-risk"); !ok {
		t.Fatal("no bundled breach-risk assessment")
	}
	for _, rb := range lib.Runbooks {
		uses := slices.ContainsFunc(rb.Uses, func(u Use) bool { return u.Assessment == "breach-risk" })
		if rb.ID == "ddos" {
			if uses {
				t.Errorf("ddos uses the breach risk assessment but touches no personal data")
			}
			continue
		}
		if !uses {
			t.Errorf("%s does not use the shared breach-risk assessment", rb.ID)
		}
	}
}
