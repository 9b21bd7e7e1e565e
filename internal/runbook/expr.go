package runbook

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Names an expression may use besides the runbook's own questions, flags and
// facts. severity is 1 for SEV1 through 4 for SEV4.
const (
	NameSeverity = "severity"
	NameIncident = "incident"
)

// Zero returns the typed zero answer of a question; expressions are
// compiled against these types.
func (q Question) Zero() any {
	switch q.Type {
	case YesNo:
		return false
	case Multi:
		return []string{}
	case Number:
		return 0.0
	default:
		return ""
	}
}

// WorstValue is the answer assumed while the question is unanswered.
func (q Question) WorstValue() any {
	if q.Worst != nil {
		switch w := q.Worst.(type) {
		case []any:
			out := make([]string, 0, len(w))
			for _, v := range w {
				out = append(out, fmt.Sprint(v))
			}
			return out
		case []string:
			return w
		}
		return q.Worst
	}
	switch q.Type {
	case YesNo:
		return true
	case Choice:
		if len(q.Choices) > 0 {
			return q.Choices[len(q.Choices)-1].Value
		}
		return ""
	case Multi:
		out := make([]string, len(q.Choices))
		for i, c := range q.Choices {
			out[i] = c.Value
		}
		return out
	case Number:
		if q.Max != nil {
			return *q.Max
		}
		return 0.0
	}
	return ""
}

// AnswerEnv is the expression environment of the classification rules:
// one name per question, and the questions and results (conclusion, flags,
// facts) of the shared assessments the runbook uses.
func (r *Runbook) AnswerEnv() map[string]any {
	env := make(map[string]any, len(r.Questions))
	for _, q := range r.Questions {
		env[q.ID] = q.Zero()
	}
	r.sharedEnv(env)
	return env
}

// FlagNames lists the flags the runbook's rules and its shared
// assessments set.
func (r *Runbook) FlagNames() []string {
	var out []string
	for _, f := range r.Rules.Flags {
		if !slices.Contains(out, f.Flag) {
			out = append(out, f.Flag)
		}
	}
	for i := range r.Uses {
		if a := r.Uses[i].shared; a != nil {
			for _, f := range a.Flags {
				if !slices.Contains(out, f.Flag) {
					out = append(out, f.Flag)
				}
			}
		}
	}
	return out
}

// FullEnv is the environment of step and notification conditions: the
// answers plus every flag, every fact, severity and incident.
func (r *Runbook) FullEnv() map[string]any {
	env := r.AnswerEnv()
	for _, f := range r.Rules.Flags {
		env[f.Flag] = false
	}
	for _, f := range r.Rules.Facts {
		env[f.Fact] = 0.0
	}
	env[NameSeverity] = 4
	env[NameIncident] = false
	return env
}

type exprKind uint8

const (
	boolExpr exprKind = iota
	numberExpr
	stringExpr
	listExpr
)

// compileCache memoises compiled programs by environment shape, kind and
// source: a library repeats the same conditions across runbooks, and a
// compiled program is immutable and safe to share.
var compileCache sync.Map

func envKey(env map[string]any) string {
	keys := make([]string, 0, len(env))
	for k, v := range env {
		keys = append(keys, fmt.Sprintf("%s:%T", k, v))
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func compile(src string, env map[string]any, key string, kind exprKind) (*vm.Program, error) {
	ck := key + "\x00" + string(rune('0'+kind)) + "\x00" + src
	if p, ok := compileCache.Load(ck); ok {
		return p.(*vm.Program), nil
	}
	opts := []expr.Option{expr.Env(env)}
	switch kind {
	case boolExpr:
		opts = append(opts, expr.AsBool())
	case numberExpr:
		opts = append(opts, expr.AsFloat64())
	case stringExpr:
		opts = append(opts, expr.AsKind(reflect.String))
	case listExpr:
		opts = append(opts, expr.AsKind(reflect.Slice))
	}
	p, err := expr.Compile(src, opts...)
	if err != nil {
		return nil, err
	}
	compileCache.Store(ck, p)
	return p, nil
}

func runBool(p *vm.Program, env map[string]any) (bool, error) {
	if p == nil {
		return false, fmt.Errorf("condition was not compiled; load the runbook with the loader")
	}
	out, err := expr.Run(p, env)
	if err != nil {
		return false, err
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("condition gave %T, not a boolean", out)
	}
	return b, nil
}

// Holds reports whether the rule's condition holds for env.
func (r *Rule) Holds(env map[string]any) (bool, error) { return runBool(r.prog, env) }

// Holds reports whether the severity rule's condition holds for env.
func (r *SeverityRule) Holds(env map[string]any) (bool, error) { return runBool(r.prog, env) }

// Holds reports whether the flag rule's condition holds for env.
func (r *FlagRule) Holds(env map[string]any) (bool, error) { return runBool(r.prog, env) }

// Compute evaluates the fact's numeric expression.
func (r *FactRule) Compute(env map[string]any) (float64, error) {
	if r.prog == nil {
		return 0, fmt.Errorf("fact %s was not compiled", r.Fact)
	}
	out, err := expr.Run(r.prog, env)
	if err != nil {
		return 0, err
	}
	f, ok := out.(float64)
	if !ok {
		return 0, fmt.Errorf("fact %s gave %T, not a number", r.Fact, out)
	}
	return f, nil
}

// Applies reports whether the step applies: always when it has no
// condition, otherwise when the condition holds for env (FullEnv's names).
func (s *Step) Applies(env map[string]any) (bool, error) {
	if s.When == "" {
		return true, nil
	}
	return runBool(s.prog, env)
}

// Applies reports whether the notification rule's condition holds.
func (n *Notification) Applies(env map[string]any) (bool, error) {
	if n.When == "" {
		return true, nil
	}
	return runBool(n.prog, env)
}

// usesOf lists the names a compiled expression refers to, in order of
// first use, so a verdict can say which answers a rule looked at.
func usesOf(p *vm.Program) []string {
	if p == nil {
		return nil
	}
	var v nameCollector
	root := p.Node()
	ast.Walk(&root, &v)
	return v.names
}

type nameCollector struct{ names []string }

func (c *nameCollector) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && !slices.Contains(c.names, id.Value) {
		c.names = append(c.names, id.Value)
	}
}

// Uses lists the names the rule's condition refers to.
func (r *Rule) Uses() []string { return usesOf(r.prog) }

// Uses lists the names the severity rule's condition refers to.
func (r *SeverityRule) Uses() []string { return usesOf(r.prog) }

// Uses lists the names the flag rule's condition refers to.
func (r *FlagRule) Uses() []string { return usesOf(r.prog) }

// Uses lists the names the fact's expression refers to.
func (r *FactRule) Uses() []string { return usesOf(r.prog) }
