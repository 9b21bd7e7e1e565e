package runbook

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/irtui/irtui/internal/strictyaml"
)

// AssessmentDir is the sub-folder of a runbook folder (and of the bundled
// runbooks) that holds shared assessments.
const AssessmentDir = "assessments"

// Assessment is a shared assessment: questions, factors and a conclusion
// that several runbooks use (a runbook's uses:), defined once. The bundled
// breach-risk assessment is the GDPR Art. 33/34 risk assessment every
// runbook that touches personal data relies on.
//
// Its questions are asked with the runbook's, unless the runbook provides
// one (a runbook question with the same id and type) or binds it to an
// expression over its own answers (uses.with). Its factors raise or lower
// the conclusion, a level such as none, risk or high; its flags and facts
// join the runbook's, and the runbook's rules see them.
type Assessment struct {
	ID         string   `yaml:"id" json:"id"`
	Title      string   `yaml:"title" json:"title"`
	Version    string   `yaml:"version" json:"version"`
	Owner      string   `yaml:"owner" json:"owner"`
	Summary    string   `yaml:"summary" json:"summary"`
	References []string `yaml:"references,omitempty" json:"references,omitempty"`
	// Policy lists policy switches (such as nis2_managed_service_provider)
	// that must all be on for the assessment to apply; with one off, its
	// questions are not asked for and its results stay unset.
	Policy     []string   `yaml:"policy,omitempty" json:"policy,omitempty"`
	Questions  []Question `yaml:"questions" json:"questions"`
	Conclusion Conclusion `yaml:"conclusion" json:"conclusion"`
	// Flags and Facts are computed from the questions and the conclusion
	// (by its name, a string), and join the runbook's.
	Flags []FlagRule `yaml:"flags,omitempty" json:"flags,omitempty"`
	Facts []FactRule `yaml:"facts,omitempty" json:"facts,omitempty"`

	Source Source `yaml:"-" json:"source"`
}

// Conclusion is what an assessment concludes: one of its levels.
//
// The level is the highest level of the raising factors that hold; when no
// raising factor holds, the lowest level of the lowering factors (the
// mitigations) that hold; when neither holds, Default. A mitigation never
// outweighs an aggravating factor: someone who judges that it does records
// a decision with the reason.
type Conclusion struct {
	// Name is the name rules use for the level (a string, "" when the
	// conclusion does not apply), such as breach_risk.
	Name string `yaml:"name" json:"name"`
	// Applies is the condition for drawing a conclusion at all (for the
	// breach risk: a personal data breach happened).
	Applies string `yaml:"applies" json:"applies"`
	// Levels are listed from least to most severe.
	Levels []Level `yaml:"levels" json:"levels"`
	// Default is the level when no factor holds, and Because says why.
	Default string   `yaml:"default" json:"default"`
	Because string   `yaml:"because" json:"because"`
	Factors []Factor `yaml:"factors" json:"factors"`
	prog    *vm.Program
}

// Level is one possible conclusion.
type Level struct {
	ID    string `yaml:"id" json:"id"`
	Label string `yaml:"label" json:"label"`
}

// Factor raises the conclusion to at least Raise, or lowers it to at most
// Lower, when its condition holds.
type Factor struct {
	ID      string `yaml:"id" json:"id"`
	Raise   string `yaml:"raise,omitempty" json:"raise,omitempty"`
	Lower   string `yaml:"lower,omitempty" json:"lower,omitempty"`
	When    string `yaml:"when" json:"when"`
	Because string `yaml:"because" json:"because"`
	prog    *vm.Program
}

// Level returns the level the factor raises to or lowers to.
func (f *Factor) Level() string { return f.Raise + f.Lower }

// Effect is "raise" or "lower".
func (f *Factor) Effect() string {
	if f.Raise != "" {
		return "raise"
	}
	return "lower"
}

// Holds reports whether the factor's condition holds for env.
func (f *Factor) Holds(env map[string]any) (bool, error) { return runBool(f.prog, env) }

// Uses lists the names the factor's condition refers to.
func (f *Factor) Uses() []string { return usesOf(f.prog) }

// Use is one shared assessment a runbook uses.
type Use struct {
	Assessment string `yaml:"assessment" json:"assessment"`
	// With binds assessment questions to expressions over the runbook's
	// own answers (and the questions and results of assessments listed
	// before): a bound question is not asked.
	With map[string]string `yaml:"with,omitempty" json:"with,omitempty"`

	shared *Assessment
	bound  []binding
}

type binding struct {
	q    Question
	src  string
	prog *vm.Program
	uses []string // usesOf(prog), computed once
}

// Shared returns the resolved assessment (nil before the runbook is
// validated).
func (u *Use) Shared() *Assessment { return u.shared }

// Bound is the value a runbook gave a bound assessment question.
type Bound struct {
	Question string
	Rule     string // the expression
	Uses     []string
	Value    any
}

// Bind computes the bound questions' values from env (the runbook's
// answers), checks them against the questions' choices, and stores them in
// env.
func (u *Use) Bind(env map[string]any) ([]Bound, error) {
	out := make([]Bound, 0, len(u.bound))
	for _, b := range u.bound {
		v, err := expr.Run(b.prog, env)
		if err != nil {
			return nil, fmt.Errorf("uses %s: with %s: %w", u.Assessment, b.q.ID, err)
		}
		if b.q.Type == Multi {
			v = stringList(v)
		}
		check := v
		if list, ok := v.([]string); ok {
			check = toAny(list)
		}
		if msg := checkAnswer(b.q, check); msg != "" {
			return nil, fmt.Errorf("uses %s: with %s: %s", u.Assessment, b.q.ID, msg)
		}
		env[b.q.ID] = v
		out = append(out, Bound{Question: b.q.ID, Rule: b.src, Uses: b.uses, Value: v})
	}
	return out, nil
}

func stringList(v any) any {
	switch x := v.(type) {
	case []string:
		return dedupe(x)
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return v // reported by checkAnswer
			}
			out = append(out, s)
		}
		return dedupe(out)
	}
	return v
}

func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// FactorResult is a factor that held.
type FactorResult struct {
	Factor   *Factor
	Decisive bool // it decided the level
}

// Outcome is an assessment's conclusion for one set of answers.
type Outcome struct {
	Applies bool
	Level   string // "" when it does not apply
	// Held are the factors that held, in the file's order.
	Held []FactorResult
	// Default is true when no factor decided the level.
	Default bool
	// Outweighed are the lowering factors that held but were outweighed
	// by a raising one.
	Outweighed []string
}

// LevelLabel returns the label of level id.
func (c *Conclusion) LevelLabel(id string) string {
	for _, l := range c.Levels {
		if l.ID == id {
			return l.Label
		}
	}
	return ""
}

func (c *Conclusion) rank(id string) int {
	return slices.IndexFunc(c.Levels, func(l Level) bool { return l.ID == id })
}

// Conclude evaluates the conclusion on env, which must hold every question
// of the assessment.
func (a *Assessment) Conclude(env map[string]any) (Outcome, error) {
	c := &a.Conclusion
	var o Outcome
	ok, err := runBool(c.prog, env)
	if err != nil {
		return o, fmt.Errorf("assessment %s: applies: %w", a.ID, err)
	}
	if !ok {
		return o, nil
	}
	o.Applies = true
	raise, lower := -1, -1
	for i := range c.Factors {
		f := &c.Factors[i]
		held, err := f.Holds(env)
		if err != nil {
			return o, fmt.Errorf("assessment %s: factor %s: %w", a.ID, f.ID, err)
		}
		if !held {
			continue
		}
		o.Held = append(o.Held, FactorResult{Factor: f})
		r := c.rank(f.Level())
		if f.Raise != "" && r > raise {
			raise = r
		}
		if f.Lower != "" && (lower < 0 || r < lower) {
			lower = r
		}
	}
	switch {
	case raise >= 0:
		o.Level = c.Levels[raise].ID
		for i := range o.Held {
			f := o.Held[i].Factor
			switch {
			case f.Raise == o.Level:
				o.Held[i].Decisive = true
			case f.Lower != "":
				o.Outweighed = append(o.Outweighed, f.ID)
			}
		}
	case lower >= 0:
		o.Level = c.Levels[lower].ID
		for i := range o.Held {
			o.Held[i].Decisive = o.Held[i].Factor.Lower == o.Level
		}
	default:
		o.Level, o.Default = c.Default, true
	}
	env[c.Name] = o.Level
	return o, nil
}

// env is the assessment's expression environment: its questions, plus
// the conclusion's name when withConclusion.
func (a *Assessment) env(withConclusion bool) map[string]any {
	env := make(map[string]any, len(a.Questions)+1)
	for _, q := range a.Questions {
		env[q.ID] = q.Zero()
	}
	if withConclusion && a.Conclusion.Name != "" {
		env[a.Conclusion.Name] = ""
	}
	return env
}

// outputs are the names an assessment adds to a runbook's environment, with
// their zero values: its conclusion, flags and facts.
func (a *Assessment) outputs(env map[string]any) {
	if a.Conclusion.Name != "" {
		env[a.Conclusion.Name] = ""
	}
	for _, f := range a.Flags {
		env[f.Flag] = false
	}
	for _, f := range a.Facts {
		env[f.Fact] = 0.0
	}
}

// Question returns the assessment's question id.
func (a *Assessment) Question(id string) (Question, bool) {
	for _, q := range a.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

func init() {
	strictyaml.Register(reflect.TypeFor[Assessment](), reflect.TypeFor[Conclusion](), reflect.TypeFor[Level](),
		reflect.TypeFor[Factor](), reflect.TypeFor[Use]())
}

// ParseAssessment decodes and validates one shared assessment file,
// returning it or every problem with its path:line:col.
// opts.PolicySwitch, if set, checks the policy switches it names.
func ParseAssessment(path string, data []byte, opts ValidateOptions) (*Assessment, strictyaml.Problems) {
	doc, probs := strictyaml.Parse(strictyaml.Assessment, path, data)
	if probs != nil {
		return nil, probs
	}
	a := new(Assessment)
	probs = doc.Decode(a)
	if !doc.IsMapping() {
		if len(probs) == 0 {
			probs = strictyaml.Problems{{Path: path, Line: 1, Col: 1,
				Msg: "a shared assessment file must be a mapping of fields (id, title, questions, conclusion, ...)"}}
		}
		return nil, probs
	}
	normalizeQuestions(a.Questions)
	probs = append(probs, doc.Report(validateAssessment(a, opts), probs)...)
	if len(probs) > 0 {
		probs.Sort()
		return nil, probs
	}
	a.Source = Source{Path: path, Hash: hash(data)}
	return a, nil
}

func normalizeQuestions(qs []Question) {
	for i := range qs {
		qs[i].Worst = Normalize(qs[i].Worst)
	}
}

// validateAssessment checks an assessment and compiles its expressions.
func validateAssessment(a *Assessment, opts ValidateOptions) []issue {
	v := &validator{}
	root := path{}
	for i, p := range a.Policy {
		if strings.TrimSpace(p) == "" || opts.PolicySwitch != nil && !opts.PolicySwitch(p) {
			v.addf(root.With("policy", i), "unknown policy switch %q", p)
		}
	}
	v.required(root, "id", a.ID)
	if a.ID != "" && !idPattern().MatchString(a.ID) {
		v.addf(root.With("id"), "id %q must be lower case letters, digits, '-', '_' or '.'", a.ID)
	}
	v.required(root, "title", a.Title)
	v.required(root, "version", a.Version)
	v.required(root, "owner", a.Owner)
	v.required(root, "summary", a.Summary)
	questions := v.questions(a.Questions)

	c := &a.Conclusion
	at := path{"conclusion"}
	switch {
	case c.Name == "":
		v.missing(at.With("name"), "name")
	case !namePattern().MatchString(c.Name):
		v.addf(at.With("name"), "conclusion name %q must be snake_case, as rules use it as a name", c.Name)
	case questions[c.Name] || reservedName[c.Name]:
		v.addf(at.With("name"), "conclusion name %q has the name of a question or a reserved name", c.Name)
	}
	if len(c.Levels) < 2 {
		v.addf(at.With("levels"), "a conclusion needs at least two levels, from least to most severe")
	}
	levels := map[string]bool{}
	for i, l := range c.Levels {
		lat := at.With("levels", i)
		switch {
		case l.ID == "":
			v.missing(lat.With("id"), "id")
		case !namePattern().MatchString(l.ID):
			v.addf(lat.With("id"), "level %q must be snake_case", l.ID)
		case levels[l.ID]:
			v.addf(lat.With("id"), "duplicate level %q", l.ID)
		}
		levels[l.ID] = true
		v.required(lat, "label", l.Label)
	}
	levelList := strings.Join(sortedKeys(levels), ", ")
	if c.Default == "" {
		v.missing(at.With("default"), "default")
	} else if !levels[c.Default] {
		v.addf(at.With("default"), "default level %q is not one of the levels (%s)", c.Default, levelList)
	}
	v.required(at, "because", c.Because)

	qenv := a.env(false)
	qkey := envKey(qenv)
	c.prog = v.expr(at.With("applies"), c.Applies, qenv, qkey, boolExpr)
	factors := map[string]bool{}
	for i := range c.Factors {
		f := &c.Factors[i]
		fat := at.With("factors", i)
		switch {
		case f.ID == "":
			v.missing(fat.With("id"), "id")
		case !namePattern().MatchString(f.ID):
			v.addf(fat.With("id"), "factor id %q must be snake_case", f.ID)
		case factors[f.ID]:
			v.addf(fat.With("id"), "duplicate factor %q", f.ID)
		}
		factors[f.ID] = true
		switch {
		case f.Raise == "" && f.Lower == "":
			v.issues = append(v.issues, issue{At: fat.With("id"), Key: true,
				Msg: fmt.Sprintf("factor %q needs raise: LEVEL (an aggravating factor) or lower: LEVEL (a mitigation)", f.ID)})
		case f.Raise != "" && f.Lower != "":
			v.addf(fat.With("lower"), "factor %q both raises and lowers the level; use one", f.ID)
		case f.Raise != "" && !levels[f.Raise]:
			v.addf(fat.With("raise"), "level %q is not one of the levels (%s)", f.Raise, levelList)
		case f.Lower != "" && !levels[f.Lower]:
			v.addf(fat.With("lower"), "level %q is not one of the levels (%s)", f.Lower, levelList)
		}
		f.prog = v.expr(fat.With("when"), f.When, qenv, qkey, boolExpr)
		v.required(fat, "because", f.Because)
	}

	env := a.env(true)
	key := envKey(env)
	outputs := map[string]bool{c.Name: true}
	for i := range a.Flags {
		r := &a.Flags[i]
		rat := path{"flags", i}
		switch {
		case r.Flag == "":
			v.missing(rat.With("flag"), "flag")
		case !namePattern().MatchString(r.Flag):
			v.addf(rat.With("flag"), "flag %q must be snake_case", r.Flag)
		case questions[r.Flag] || reservedName[r.Flag] || outputs[r.Flag]:
			v.addf(rat.With("flag"), "flag %q has the name of a question, the conclusion, another flag or a reserved name", r.Flag)
		}
		outputs[r.Flag] = true
		r.prog = v.expr(rat.With("when"), r.When, env, key, boolExpr)
		v.required(rat, "because", r.Because)
	}
	for i := range a.Facts {
		r := &a.Facts[i]
		rat := path{"facts", i}
		switch {
		case r.Fact == "":
			v.missing(rat.With("fact"), "fact")
		case !namePattern().MatchString(r.Fact):
			v.addf(rat.With("fact"), "fact %q must be snake_case", r.Fact)
		case questions[r.Fact] || reservedName[r.Fact] || outputs[r.Fact]:
			v.addf(rat.With("fact"), "fact %q has the name of a question, the conclusion, a flag or a reserved name", r.Fact)
		}
		outputs[r.Fact] = true
		r.prog = v.expr(rat.With("value"), r.Value, env, key, numberExpr)
	}
	return v.issues
}

// uses resolves and checks a runbook's shared assessments: each must be
// known and used once; a runbook question with an assessment question's id
// provides it and must match its type; each binding names an assessment
// question the runbook does not ask and gives a value of its type; the
// assessment's conclusion, flags and facts must not clash with the
// runbook's names.
func (v *validator) uses(rb *Runbook, lookup func(string) (*Assessment, bool)) {
	own := map[string]Question{}
	for _, q := range rb.Questions {
		if q.From == "" {
			own[q.ID] = q
		}
	}
	env := make(map[string]any, len(own))
	for id, q := range own {
		env[id] = q.Zero()
	}
	seen := map[string]bool{}
	taken := map[string]string{} // name -> the assessment that defines it
	for i := range rb.Uses {
		u := &rb.Uses[i]
		u.shared, u.bound = nil, nil
		at := path{"uses", i}
		if u.Assessment == "" {
			v.missing(at.With("assessment"), "assessment")
			continue
		}
		if seen[u.Assessment] {
			v.addf(at.With("assessment"), "shared assessment %q is used twice", u.Assessment)
			continue
		}
		seen[u.Assessment] = true
		var a *Assessment
		ok := false
		if lookup != nil {
			a, ok = lookup(u.Assessment)
		}
		if !ok {
			if path, failed := v.failedAssessment(u.Assessment); failed {
				v.addf(at.With("assessment"), "shared assessment %q did not load: see the problems in %s", u.Assessment, path)
			} else {
				v.addf(at.With("assessment"), "unknown shared assessment %q; shared assessments live in the %s/ folder beside the runbooks",
					u.Assessment, AssessmentDir)
			}
			continue
		}
		u.shared = a
		for _, id := range sortedKeys(u.With) {
			if _, ok := a.Question(id); !ok {
				ids := make([]string, len(a.Questions))
				for k, q := range a.Questions {
					ids[k] = q.ID
				}
				v.issues = append(v.issues, issue{At: at.With("with", id), Key: true,
					Msg: fmt.Sprintf("shared assessment %s has no question %q; its questions are %s", a.ID, id, strings.Join(ids, ", "))})
			}
		}
		key := envKey(env)
		for _, q := range a.Questions {
			src, isBound := u.With[q.ID]
			if prev, dup := taken[q.ID]; dup {
				v.addf(at.With("assessment"), "shared assessments %s and %s both define %q", prev, a.ID, q.ID)
				continue
			}
			taken[q.ID] = a.ID
			if mine, provided := own[q.ID]; provided {
				if isBound {
					v.issues = append(v.issues, issue{At: at.With("with", q.ID), Key: true,
						Msg: fmt.Sprintf("question %q is asked by this runbook, which provides it to %s; it cannot also be bound", q.ID, a.ID)})
				}
				v.provides(rb, mine, q, a)
				continue
			}
			if !isBound {
				env[q.ID] = q.Zero()
				continue
			}
			p := v.bindExpr(at.With("with", q.ID), src, q, env, key)
			u.bound = append(u.bound, binding{q: q, src: src, prog: p, uses: usesOf(p)})
		}
		for _, q := range a.Questions {
			env[q.ID] = q.Zero()
		}
		for name := range outputsOf(a) {
			if prev, dup := taken[name]; dup {
				v.addf(at.With("assessment"), "shared assessments %s and %s both define %q", prev, a.ID, name)
			}
			taken[name] = a.ID
		}
		a.outputs(env)
	}
	// The runbook's own flags and facts must not redefine what a shared
	// assessment computes: one definition.
	for i, f := range rb.Rules.Flags {
		if from, ok := taken[f.Flag]; ok {
			v.addf(path{"classification", "flags", i, "flag"},
				"flag %q is set by the shared assessment %s; remove this rule so that it has one definition", f.Flag, from)
		}
	}
	for i, f := range rb.Rules.Facts {
		if from, ok := taken[f.Fact]; ok {
			v.addf(path{"classification", "facts", i, "fact"},
				"fact %q is computed by the shared assessment %s; remove this rule so that it has one definition", f.Fact, from)
		}
	}
	for i, q := range rb.Questions {
		if from, ok := taken[q.ID]; ok && q.From == "" {
			if a, found := lookup(from); found {
				if _, isQuestion := a.Question(q.ID); !isQuestion {
					v.addf(path{"questions", i, "id"}, "question %q has the name of a result of the shared assessment %s", q.ID, from)
				}
			}
		}
	}
}

// fileID reads the top-level id of a YAML file, or "".
func fileID(data []byte) string {
	// A line scan, not a parse: the file did not load, perhaps because it
	// is too costly to parse.
	if m := topID().FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

func outputsOf(a *Assessment) map[string]bool {
	out := map[string]bool{}
	if a.Conclusion.Name != "" {
		out[a.Conclusion.Name] = true
	}
	for _, f := range a.Flags {
		out[f.Flag] = true
	}
	for _, f := range a.Facts {
		out[f.Fact] = true
	}
	return out
}

// provides checks that the runbook question mine can stand in for the
// assessment's question q.
func (v *validator) provides(rb *Runbook, mine, q Question, a *Assessment) {
	i := slices.IndexFunc(rb.Questions, func(x Question) bool { return x.ID == mine.ID && x.From == "" })
	at := path{"questions", i}
	where := a.Source.Path
	if mine.Type != q.Type {
		v.addf(at.With("type"), "question %q stands in for the shared assessment %s's question of the same id (%s), so it must be a %s question",
			mine.ID, a.ID, where, q.Type)
		return
	}
	if mine.Type == Choice || mine.Type == Multi {
		allowed := make([]string, len(q.Choices))
		for k, c := range q.Choices {
			allowed[k] = c.Value
		}
		for j, c := range mine.Choices {
			if !slices.Contains(allowed, c.Value) {
				v.addf(at.With("choices", j, "value"), "choice %q is not one the shared assessment %s knows for %q (%s)",
					c.Value, a.ID, q.ID, strings.Join(allowed, ", "))
			}
		}
	}
}

// bindExpr compiles a binding: an expression over env giving a value of
// q's type.
func (v *validator) bindExpr(at path, src string, q Question, env map[string]any, key string) *vm.Program {
	if strings.TrimSpace(src) == "" {
		v.addf(at, "empty expression")
		return nil
	}
	kind := map[QuestionType]exprKind{YesNo: boolExpr, Number: numberExpr, Choice: stringExpr, Text: stringExpr, Multi: listExpr}[q.Type]
	p, err := compile(src, env, key, kind)
	if err != nil {
		v.exprIssue(at, err)
	}
	return p
}

// mergeShared appends the questions the runbook's shared assessments ask
// (neither provided by the runbook nor bound) to its questions, marked
// with their assessment. The runbook must have been validated.
func (r *Runbook) mergeShared() {
	var asked []Question
	for i := range r.Uses {
		a := r.Uses[i].shared
		if a == nil {
			continue
		}
		for _, q := range a.Questions {
			if slices.ContainsFunc(r.Questions, func(x Question) bool { return x.ID == q.ID }) {
				continue
			}
			if _, bound := r.Uses[i].With[q.ID]; bound {
				continue
			}
			q.From = a.ID
			asked = append(asked, q)
		}
	}
	if len(asked) > 0 {
		r.Questions = append(slices.Clip(r.Questions), asked...)
	}
}

// sharedEnv adds the names the runbook's shared assessments bring to env:
// their questions (provided, bound or asked) and results.
func (r *Runbook) sharedEnv(env map[string]any) {
	for i := range r.Uses {
		a := r.Uses[i].shared
		if a == nil {
			continue
		}
		for _, q := range a.Questions {
			if _, ok := env[q.ID]; !ok {
				env[q.ID] = q.Zero()
			}
		}
		a.outputs(env)
	}
}

// AssessmentLibrary is the set of loaded shared assessments.
type AssessmentLibrary struct {
	Assessments []*Assessment // sorted by id
	Failed      strictyaml.Problems
	byID        map[string]*Assessment
	failed      map[string]string // id -> path of a file that did not load
}

// FailedPath returns the file of an assessment with id that did not load.
func (l *AssessmentLibrary) FailedPath(id string) (string, bool) {
	if l == nil {
		return "", false
	}
	p, ok := l.failed[id]
	return p, ok
}

// Get returns the assessment with id.
func (l *AssessmentLibrary) Get(id string) (*Assessment, bool) {
	if l == nil {
		return nil, false
	}
	a, ok := l.byID[id]
	return a, ok
}

// SubfolderFiles lists the files of kind in the sub-folder sub of the
// bundled runbooks and of every configured runbook folder (shared
// assessments in assessments/, scenarios in scenarios/). It stops, with
// ctx's error, when ctx is done.
func SubfolderFiles(ctx context.Context, opts Options, sub string, kind strictyaml.Kind) ([]strictyaml.File, error) {
	var files []strictyaml.File
	if opts.Bundled != nil {
		if bundled, err := strictyaml.ReadFS(opts.Bundled, sub); err == nil {
			files = append(files, bundled...)
		}
	}
	for _, dir := range opts.Dirs {
		more, err := FolderFiles(ctx, filepath.Join(dir, sub), kind)
		files = append(files, more...)
		if err != nil {
			return files, err
		}
	}
	return files, nil
}

// FolderFiles lists the files of kind in dir; a missing folder has none.
func FolderFiles(ctx context.Context, dir string, kind strictyaml.Kind) ([]strictyaml.File, error) {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil, nil
	}
	return strictyaml.ReadDir(ctx, kind, dir)
}

// LoadAssessments reads the bundled shared assessments and those in the
// assessments/ sub-folder of every runbook folder. A folder assessment
// with a bundled one's id replaces it.
func LoadAssessments(ctx context.Context, opts Options) (*AssessmentLibrary, error) {
	files, err := SubfolderFiles(ctx, opts, AssessmentDir, strictyaml.Assessment)
	return buildAssessments(files, opts.Validate, true), err
}

func buildAssessments(files []strictyaml.File, opts ValidateOptions, replace bool) *AssessmentLibrary {
	lib := &AssessmentLibrary{byID: map[string]*Assessment{}, failed: map[string]string{}}
	for _, f := range files {
		if f.Err != nil {
			lib.Failed = append(lib.Failed, f.Problems()...)
			continue
		}
		a, probs := ParseAssessment(f.Path, f.Data, opts)
		if probs != nil {
			lib.Failed = append(lib.Failed, probs...)
			if id := fileID(f.Data); id != "" {
				lib.failed[id] = f.Path
			}
			continue
		}
		a.Source.Bundled = f.Bundled
		prev, dup := lib.byID[a.ID]
		switch {
		case !dup:
			lib.byID[a.ID] = a
		case replace && prev.Source.Bundled && !a.Source.Bundled:
			a.Source.Replaces = true
			lib.byID[a.ID] = a
		default:
			line, col := idPosition(f)
			lib.Failed = append(lib.Failed, strictyaml.Problem{Path: f.Path, Line: line, Col: col,
				Msg: fmt.Sprintf("duplicate shared assessment id %q, already defined in %s", a.ID, prev.Source.Path)})
		}
	}
	for _, a := range lib.byID {
		lib.Assessments = append(lib.Assessments, a)
	}
	sort.Slice(lib.Assessments, func(i, j int) bool { return lib.Assessments[i].ID < lib.Assessments[j].ID })
	lib.Failed.Sort()
	return lib
}

// isAssessmentPath reports whether a file named on the lint command line
// is a shared assessment: it sits in an assessments/ folder or has a
// top-level conclusion key.
func isAssessmentPath(ctx context.Context, p string) bool {
	return IsPathOf(ctx, p, AssessmentDir, strictyaml.Assessment, "conclusion")
}

// IsPathOf reports whether a file named on the lint command line is of
// kind: it sits in a folder named dir, or has the top-level key that
// only that kind has (a scenario's injects, an assessment's conclusion).
func IsPathOf(ctx context.Context, p, dir string, kind strictyaml.Kind, key string) bool {
	if filepath.Base(filepath.Dir(p)) == dir {
		return true
	}
	data, err := strictyaml.ReadFile(ctx, kind, p)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, key+":") {
			return true
		}
	}
	return false
}
