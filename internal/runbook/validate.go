package runbook

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/irtui/irtui/internal/strictyaml"
)

// path and issue are strictyaml's: where in a document a problem sits,
// and the problem before it has a line and column.
type (
	path  = strictyaml.Path
	issue = strictyaml.Issue
)

type validator struct {
	issues      []issue
	obligations func(string) bool
	failedAsmt  func(string) (string, bool)
}

func (v *validator) failedAssessment(id string) (string, bool) {
	if v.failedAsmt == nil {
		return "", false
	}
	return v.failedAsmt(id)
}

func (v *validator) addf(at path, format string, args ...any) {
	v.issues = append(v.issues, issue{At: at, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) missing(at path, field string) {
	v.issues = append(v.issues, issue{At: at, Key: true, Msg: fmt.Sprintf("missing required field %q", field)})
}

func (v *validator) required(at path, field, val string) {
	if strings.TrimSpace(val) == "" {
		v.missing(at.With(field), field)
	}
}

var (
	idPattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`) })
	namePattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z_][a-z0-9_]*$`) })
	langPattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`) })
	reservedName = map[string]bool{NameSeverity: true, NameIncident: true}
)

// ValidateOptions tunes the checks that need knowledge from outside the
// runbook package.
type ValidateOptions struct {
	// Obligation reports whether an obligation id is known; nil accepts any.
	Obligation func(id string) bool
	// Assessments finds the shared assessments runbooks use; Load and
	// Lint set it from the assessments/ folders when it is nil.
	Assessments func(id string) (*Assessment, bool)
	// AssessmentFailed, if set, names the file of a shared assessment
	// that did not load, so a runbook using it says so.
	AssessmentFailed func(id string) (path string, failed bool)
	// PolicySwitch, if set, reports whether a shared assessment's policy
	// switch is known.
	PolicySwitch func(key string) bool
}

// validations counts the runbooks validated (validate), and links those
// only linked (link), for the tests and benchmarks that show a warm start
// validates nothing.
var validations, links atomic.Int64

// validate checks the decoded runbook and compiles its expressions.
func validate(rb *Runbook, opts ValidateOptions) []issue {
	validations.Add(1)
	v := &validator{obligations: opts.Obligation, failedAsmt: opts.AssessmentFailed}
	root := path{}
	v.required(root, "id", rb.ID)
	if rb.ID != "" && !idPattern().MatchString(rb.ID) {
		v.addf(root.With("id"), "id %q must be lower case letters, digits, '-', '_' or '.'", rb.ID)
	}
	v.required(root, "title", rb.Title)
	v.required(root, "version", rb.Version)
	v.required(root, "owner", rb.Owner)
	v.required(root, "summary", rb.Summary)
	v.category(rb.Category)
	if rb.AttackVector == "" {
		v.missing(root.With("attack_vector"), "attack_vector")
	} else if !slices.Contains(AttackVectors, rb.AttackVector) {
		v.addf(root.With("attack_vector"), "unknown attack vector %q; use one of %s", rb.AttackVector, strings.Join(AttackVectors, ", "))
	}

	questions := v.questions(rb.Questions)
	v.uses(rb, opts.Assessments)
	answerEnv := rb.AnswerEnv()
	answerKey := envKey(answerEnv)
	v.classification(rb, questions, answerEnv, answerKey)

	roles := v.roles(rb.Roles)
	fullEnv := rb.FullEnv()
	fullKey := envKey(fullEnv)
	v.phases(rb, roles, fullEnv, fullKey)
	v.notifications(rb, roles, fullEnv, fullKey)
	return v.issues
}

// link does for a runbook validated before in the same context (see
// checkedKey) what validate derives, without its checks: it resolves the
// shared assessments the runbook uses (with their bindings) and compiles
// its expressions, which the compile cache mostly already holds. It
// reports false if anything failed, and the runbook is then validated.
func link(rb *Runbook, opts ValidateOptions) bool {
	links.Add(1)
	v := &validator{obligations: opts.Obligation, failedAsmt: opts.AssessmentFailed}
	v.uses(rb, opts.Assessments)
	env := rb.AnswerEnv()
	key := envKey(env)
	c := &rb.Rules
	for i := range c.Incident {
		c.Incident[i].prog = v.expr(nil, c.Incident[i].When, env, key, boolExpr)
	}
	for i := range c.Severity {
		c.Severity[i].prog = v.expr(nil, c.Severity[i].When, env, key, boolExpr)
	}
	for i := range c.Flags {
		c.Flags[i].prog = v.expr(nil, c.Flags[i].When, env, key, boolExpr)
	}
	for i := range c.Facts {
		c.Facts[i].prog = v.expr(nil, c.Facts[i].Value, env, key, numberExpr)
	}
	env = rb.FullEnv()
	key = envKey(env)
	for p := range rb.Phases {
		for i := range rb.Phases[p].Steps {
			if st := &rb.Phases[p].Steps[i]; st.When != "" {
				st.prog = v.expr(nil, st.When, env, key, boolExpr)
			}
		}
	}
	for i := range rb.Notify {
		if n := &rb.Notify[i]; n.When != "" {
			n.prog = v.expr(nil, n.When, env, key, boolExpr)
		}
	}
	return len(v.issues) == 0
}

func (v *validator) category(c Category) {
	at := path{"category"}
	if c.Class == "" {
		v.missing(at.With("class"), "class")
		return
	}
	types, ok := RSIT[c.Class]
	if !ok {
		v.addf(at.With("class"), "unknown ENISA RSIT class %q; use one of %s", c.Class, strings.Join(sortedKeys(RSIT), ", "))
		return
	}
	if c.Type == "" {
		v.missing(at.With("type"), "type")
	} else if !slices.Contains(types, c.Type) {
		v.addf(at.With("type"), "type %q is not in RSIT class %s; use one of %s", c.Type, c.Class, strings.Join(types, ", "))
	}
}

func (v *validator) questions(qs []Question) map[string]bool {
	ids := map[string]bool{}
	if len(qs) == 0 {
		v.missing(path{"questions"}, "questions")
	}
	for i, q := range qs {
		at := path{"questions", i}
		switch {
		case q.ID == "":
			v.missing(at.With("id"), "id")
		case !namePattern().MatchString(q.ID):
			v.addf(at.With("id"), "question id %q must be snake_case (letters, digits, _), as expressions use it as a name", q.ID)
		case reservedName[q.ID]:
			v.addf(at.With("id"), "question id %q is reserved", q.ID)
		case ids[q.ID]:
			v.addf(at.With("id"), "duplicate question id %q", q.ID)
		}
		ids[q.ID] = true
		v.required(at, "text", q.Text)
		switch q.Type {
		case YesNo, Text:
			if len(q.Choices) > 0 {
				v.addf(at.With("choices"), "a %s question has no choices", q.Type)
			}
		case Choice, Multi:
			if len(q.Choices) < 2 {
				v.addf(at.With("choices"), "a %s question needs at least two choices", q.Type)
			}
			seen := map[string]bool{}
			for j, c := range q.Choices {
				if c.Value == "" {
					v.missing(at.With("choices", j, "value"), "value")
				} else if seen[c.Value] {
					v.addf(at.With("choices", j, "value"), "duplicate choice %q", c.Value)
				}
				seen[c.Value] = true
				v.required(at.With("choices", j), "label", c.Label)
			}
		case Number:
			if len(q.Choices) > 0 {
				v.addf(at.With("choices"), "a number question has no choices")
			}
			if q.Worst == nil && q.Max == nil {
				v.addf(at.With("type"), "number question %q needs worst or max, the value assumed while it is unanswered", q.ID)
			}
			if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
				v.addf(at.With("min"), "min %v is greater than max %v", *q.Min, *q.Max)
			}
		case "":
			v.missing(at.With("type"), "type")
		default:
			v.addf(at.With("type"), "unknown question type %q; use yesno, choice, multi, number or text", q.Type)
		}
		if q.Type != Number && (q.Min != nil || q.Max != nil) {
			v.addf(at.With("type"), "min and max apply only to number questions")
		}
		if q.Worst != nil {
			if msg := checkAnswer(q, q.Worst); msg != "" {
				v.addf(at.With("worst"), "worst: %s", msg)
			}
		}
	}
	return ids
}

// checkAnswer says what is wrong with value as an answer to q, or "".
func checkAnswer(q Question, value any) string {
	choices := make([]string, len(q.Choices))
	for i, c := range q.Choices {
		choices[i] = c.Value
	}
	switch q.Type {
	case YesNo:
		if _, ok := value.(bool); !ok {
			return fmt.Sprintf("expected true or false, got %s", show(value))
		}
	case Choice:
		s, ok := value.(string)
		if !ok || !slices.Contains(choices, s) {
			return fmt.Sprintf("expected one of %s, got %s", strings.Join(choices, ", "), show(value))
		}
	case Multi:
		list, ok := value.([]any)
		if !ok {
			if ss, isStrings := value.([]string); isStrings {
				for _, s := range ss {
					list = append(list, s)
				}
				ok = true
			}
		}
		if !ok {
			return fmt.Sprintf("expected a list of %s, got %s", strings.Join(choices, ", "), show(value))
		}
		for _, item := range list {
			s, isStr := item.(string)
			if !isStr || !slices.Contains(choices, s) {
				return fmt.Sprintf("%s is not one of %s", show(item), strings.Join(choices, ", "))
			}
		}
	case Number:
		f, ok := value.(float64)
		if !ok {
			return fmt.Sprintf("expected a number, got %s", show(value))
		}
		if q.Min != nil && f < *q.Min {
			return fmt.Sprintf("%v is below the minimum %v", f, *q.Min)
		}
		if q.Max != nil && f > *q.Max {
			return fmt.Sprintf("%v is above the maximum %v", f, *q.Max)
		}
	case Text:
		if _, ok := value.(string); !ok {
			return fmt.Sprintf("expected text, got %s", show(value))
		}
	}
	return ""
}

// CheckAnswer says what is wrong with value as an answer to q (YAML or
// JSON decoded: bool, float64, string, []any), or returns "".
func CheckAnswer(q Question, value any) string { return checkAnswer(q, value) }

func show(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case nil:
		return "nothing"
	case []any, []string:
		return fmt.Sprintf("the list %v", x)
	}
	return fmt.Sprintf("%v", v)
}

func (v *validator) expr(at path, src string, env map[string]any, key string, kind exprKind) *vm.Program {
	if strings.TrimSpace(src) == "" {
		v.addf(at, "empty condition")
		return nil
	}
	p, err := compile(src, env, key, kind)
	if err != nil {
		v.exprIssue(at, err)
	}
	return p
}

// exprIssue turns an expr-lang compile error into an issue that keeps the
// error's own line and column inside the expression.
func (v *validator) exprIssue(at path, err error) {
	is := issue{At: at, Msg: "expression: " + err.Error()}
	if fe, ok := err.(*file.Error); ok {
		is.Msg = "expression: " + fe.Message
		is.TextLine, is.TextCol = fe.Line, fe.Column+1
	}
	v.issues = append(v.issues, is)
}

func (v *validator) classification(rb *Runbook, questions map[string]bool, env map[string]any, key string) {
	at := path{"classification"}
	c := &rb.Rules
	if len(c.Incident) == 0 {
		v.missing(at.With("incident"), "incident")
	}
	for i := range c.Incident {
		r := &c.Incident[i]
		rat := at.With("incident", i)
		r.prog = v.expr(rat.With("when"), r.When, env, key, boolExpr)
		v.required(rat, "because", r.Because)
	}
	for i := range c.Severity {
		r := &c.Severity[i]
		rat := at.With("severity", i)
		if !slices.Contains(Severities, r.Level) {
			v.addf(rat.With("level"), "unknown severity %q; use SEV1, SEV2, SEV3 or SEV4", r.Level)
		}
		r.prog = v.expr(rat.With("when"), r.When, env, key, boolExpr)
		v.required(rat, "because", r.Because)
	}
	if c.Default != "" && !slices.Contains(Severities, c.Default) {
		v.addf(at.With("default_severity"), "unknown severity %q; use SEV1, SEV2, SEV3 or SEV4", c.Default)
	}
	for i := range c.Flags {
		r := &c.Flags[i]
		rat := at.With("flags", i)
		switch {
		case r.Flag == "":
			v.missing(rat.With("flag"), "flag")
		case !namePattern().MatchString(r.Flag):
			v.addf(rat.With("flag"), "flag %q must be snake_case", r.Flag)
		case questions[r.Flag] || reservedName[r.Flag]:
			v.addf(rat.With("flag"), "flag %q has the name of a question or a reserved name", r.Flag)
		}
		r.prog = v.expr(rat.With("when"), r.When, env, key, boolExpr)
		v.required(rat, "because", r.Because)
	}
	flags := map[string]bool{}
	for _, f := range c.Flags {
		flags[f.Flag] = true
	}
	facts := map[string]bool{}
	for i := range c.Facts {
		r := &c.Facts[i]
		rat := at.With("facts", i)
		switch {
		case r.Fact == "":
			v.missing(rat.With("fact"), "fact")
		case !namePattern().MatchString(r.Fact):
			v.addf(rat.With("fact"), "fact %q must be snake_case", r.Fact)
		case questions[r.Fact] || flags[r.Fact] || reservedName[r.Fact]:
			v.addf(rat.With("fact"), "fact %q has the name of a question, a flag or a reserved name", r.Fact)
		case facts[r.Fact]:
			v.addf(rat.With("fact"), "duplicate fact %q", r.Fact)
		}
		facts[r.Fact] = true
		r.prog = v.expr(rat.With("value"), r.Value, env, key, numberExpr)
	}
}

func (v *validator) roles(roles []Role) map[string]bool {
	ids := map[string]bool{}
	if len(roles) == 0 {
		v.missing(path{"roles"}, "roles")
	}
	for i, r := range roles {
		at := path{"roles", i}
		switch {
		case r.ID == "":
			v.missing(at.With("id"), "id")
		case !namePattern().MatchString(r.ID):
			v.addf(at.With("id"), "role id %q must be snake_case", r.ID)
		case ids[r.ID]:
			v.addf(at.With("id"), "duplicate role id %q", r.ID)
		}
		ids[r.ID] = true
		v.required(at, "title", r.Title)
		if len(r.Duties) == 0 {
			v.missing(at.With("duties"), "duties")
		}
	}
	if len(roles) > 0 && !ids["incident_commander"] {
		v.addf(path{"roles"}, "every runbook needs the incident_commander role: it approves notices and closes the incident")
	}
	return ids
}

func (v *validator) role(at path, roles map[string]bool, id string) {
	if !roles[id] {
		v.addf(at, "role %q is not defined in this runbook's roles", id)
	}
}

func (v *validator) phases(rb *Runbook, roles map[string]bool, env map[string]any, key string) {
	if len(rb.Phases) == 0 {
		v.missing(path{"phases"}, "phases")
	}
	phaseIDs := map[string]bool{}
	stepIDs := map[string]bool{}
	last := -1
	for i := range rb.Phases {
		ph := &rb.Phases[i]
		at := path{"phases", i}
		order := slices.Index(PhaseIDs, ph.ID)
		switch {
		case ph.ID == "":
			v.missing(at.With("id"), "id")
		case order < 0:
			v.addf(at.With("id"), "unknown phase %q; use %s", ph.ID, strings.Join(PhaseIDs, ", "))
		case phaseIDs[ph.ID]:
			v.addf(at.With("id"), "duplicate phase %q", ph.ID)
		case order < last:
			v.addf(at.With("id"), "phase %q is out of order; phases follow %s", ph.ID, strings.Join(PhaseIDs, ", "))
		}
		if order > last {
			last = order
		}
		phaseIDs[ph.ID] = true
		v.required(at, "title", ph.Title)
		if len(ph.Steps) == 0 {
			v.missing(at.With("steps"), "steps")
		}
		for j := range ph.Steps {
			st := &ph.Steps[j]
			sat := at.With("steps", j)
			switch {
			case st.ID == "":
				v.missing(sat.With("id"), "id")
			case !idPattern().MatchString(st.ID):
				v.addf(sat.With("id"), "step id %q must be lower case letters, digits, '-', '_' or '.'", st.ID)
			case stepIDs[st.ID]:
				v.addf(sat.With("id"), "duplicate step id %q", st.ID)
			}
			stepIDs[st.ID] = true
			v.required(sat, "title", st.Title)
			if st.Role == "" {
				v.missing(sat.With("role"), "role")
			} else {
				v.role(sat.With("role"), roles, st.Role)
			}
			if st.When != "" {
				st.prog = v.expr(sat.With("when"), st.When, env, key, boolExpr)
			}
			if st.Target != "" {
				if _, err := ParseDuration(st.Target); err != nil {
					v.addf(sat.With("target"), "%v", err)
				}
			}
		}
	}
}

func (v *validator) notifications(rb *Runbook, roles map[string]bool, env map[string]any, key string) {
	ids := map[string]bool{}
	flags := map[string]bool{}
	for _, f := range rb.Rules.Flags {
		flags[f.Flag] = true
	}
	for _, u := range rb.Uses {
		if u.shared != nil {
			for _, f := range u.shared.Flags {
				flags[f.Flag] = true
			}
		}
	}
	for i := range rb.Notify {
		n := &rb.Notify[i]
		at := path{"notifications", i}
		switch {
		case n.ID == "":
			v.missing(at.With("id"), "id")
		case !idPattern().MatchString(n.ID):
			v.addf(at.With("id"), "notification id %q must be lower case letters, digits, '-', '_' or '.'", n.ID)
		case ids[n.ID]:
			v.addf(at.With("id"), "duplicate notification id %q", n.ID)
		}
		ids[n.ID] = true
		if n.Audience == "" {
			v.missing(at.With("audience"), "audience")
		} else if !slices.Contains(Audiences, n.Audience) {
			v.addf(at.With("audience"), "unknown audience %q; use %s", n.Audience, strings.Join(Audiences, ", "))
		}
		if n.On == "" {
			v.missing(at.With("on"), "on")
		} else if flag, ok := strings.CutPrefix(n.On, "flag:"); ok {
			if !flags[flag] {
				v.addf(at.With("on"), "trigger %q names flag %q, which no classification rule or shared assessment sets", n.On, flag)
			}
		} else if !slices.Contains(Triggers, n.On) {
			v.addf(at.With("on"), "unknown trigger %q; use flag:NAME or one of %s", n.On, strings.Join(Triggers, ", "))
		}
		if n.When != "" {
			n.prog = v.expr(at.With("when"), n.When, env, key, boolExpr)
		}
		if n.Obligation != "" && n.Obligation != "none" && v.obligations != nil && !v.obligations(n.Obligation) {
			v.addf(at.With("obligation"), "unknown obligation %q; `irtui classify --help` lists the known ones", n.Obligation)
		}
		if n.Approver != "" {
			v.role(at.With("approver"), roles, n.Approver)
		} else if n.Audience == "customers" || n.Audience == "regulator" {
			v.addf(at.With("audience"), "a notice to %s needs an approver role (for example incident_commander)", n.Audience)
		}
		if n.Within != "" {
			if _, err := ParseDuration(n.Within); err != nil {
				v.addf(at.With("within"), "%v", err)
			}
		}
		fields := map[string]bool{}
		for j, c := range n.Content {
			cat := at.With("content", j)
			switch {
			case c.ID == "":
				v.missing(cat.With("id"), "id")
			case !namePattern().MatchString(c.ID):
				v.addf(cat.With("id"), "content field %q must be snake_case", c.ID)
			case fields[c.ID]:
				v.addf(cat.With("id"), "duplicate content field %q", c.ID)
			}
			fields[c.ID] = true
			v.required(cat, "label", c.Label)
			if c.Suggest != "" {
				if msg := checkSuggestion(c.Suggest, rb); msg != "" {
					v.addf(cat.With("suggest"), "%s", msg)
				}
			}
		}
		v.template(at.With("template"), n.Template, *n)
		for _, lang := range sortedKeys(n.Translations) {
			tat := at.With("translations", lang)
			if !langPattern().MatchString(lang) {
				v.issues = append(v.issues, issue{At: tat, Key: true, Msg: fmt.Sprintf("language %q must be a code such as nl or pt-BR", lang)})
			}
			v.template(tat, n.Translations[lang], *n)
		}
	}
}

func (v *validator) template(at path, t Template, n Notification) {
	v.required(at, "subject", t.Subject)
	v.required(at, "body", t.Body)
	if t.Subject != "" {
		if msg := checkTemplate("subject", t.Subject, n); msg != "" {
			v.addf(at.With("subject"), "%s", msg)
		}
	}
	if t.Body != "" {
		if msg := checkTemplate("body", t.Body, n); msg != "" {
			v.addf(at.With("body"), "%s", msg)
		}
	}
}

// ParseDuration reads a target such as "30m", "4h", "2d" or "1w". Go
// durations ("1h30m") are accepted too.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad duration %q: use a number with m, h, d or w, such as 30m, 4h or 2d", s)
	if s == "" {
		return 0, bad
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			n, err := strconv.Atoi(num)
			if err != nil || n <= 0 || n > 3650 {
				return 0, bad
			}
			return time.Duration(n) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, bad
	}
	return d, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ValidID reports whether id is a valid runbook id: lower case letters,
// digits, '-', '_' or '.'. Scenario ids follow the same rule.
func ValidID(id string) bool { return idPattern().MatchString(id) }
