// Package classify turns a runbook's triage answers into a verdict: event
// or incident, category, severity, flags and facts, each with the rule and
// the answers that produced it, and the regulatory obligations that follow
// under the organisation's policy. Unanswered questions count as their
// worst case, and the verdict says so.
package classify

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/runbook"
)

// Answers maps question ids to answers: bool for yesno, string for choice
// and text, []string for multi, float64 for number. A missing id is an
// unanswered question.
type Answers map[string]any

// Reason explains one part of a verdict.
type Reason struct {
	Part    string   `json:"part"`              // "incident", "severity", "flag:NAME", "fact:NAME", "assumed"
	Text    string   `json:"text"`              // the rule's because, or the assumption
	Rule    string   `json:"rule,omitempty"`    // the condition that held
	Answers []string `json:"answers,omitempty"` // "question=answer" the rule looked at
	Assumed []string `json:"assumed,omitempty"` // of those, unanswered ones taken as their worst case
}

// Verdict is the outcome of classifying an event.
type Verdict struct {
	RunbookID      string             `json:"runbook_id"`
	RunbookVersion string             `json:"runbook_version"`
	Incident       bool               `json:"incident"`
	Category       string             `json:"category"`
	AttackVector   string             `json:"attack_vector"`
	Severity       string             `json:"severity"`
	Flags          map[string]bool    `json:"flags"`
	Facts          map[string]float64 `json:"facts"`
	Assumed        []string           `json:"assumed"` // unanswered question ids
	Rationale      []Reason           `json:"rationale"`
	// Assessments are the conclusions of the shared assessments the
	// runbook uses (the breach risk), with the factors that held.
	Assessments []AssessmentResult    `json:"assessments"`
	Obligations []deadline.Obligation `json:"obligations"`
	// Warnings say where a due time cannot be trusted as it is (a
	// business-day clock past the years its holiday calendar covers),
	// each prefixed with its obligation's id.
	Warnings []string `json:"warnings"`
	// Steps are the checklist steps that apply under this verdict.
	Steps []Step `json:"steps"`
}

// AssessmentResult is what one shared assessment concluded.
type AssessmentResult struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Version string `json:"version"`
	// Name is the conclusion's name (breach_risk); Level is "" when the
	// assessment does not apply (no personal data breach).
	Name  string `json:"name"`
	Level string `json:"level"`
	Label string `json:"label,omitempty"`
	// Factors are the factors that held, in the assessment's order.
	Factors []FactorResult `json:"factors"`
	// Decided lists the factors that decided the level; empty when the
	// default applied (ByDefault).
	Decided   []string `json:"decided"`
	ByDefault bool     `json:"by_default,omitempty"`
	// Outweighed lists mitigations that held but did not lower the level,
	// because an aggravating factor held.
	Outweighed []string `json:"outweighed,omitempty"`
	// Inactive is true when a policy switch the assessment needs is off:
	// it was not evaluated.
	Inactive bool `json:"inactive,omitempty"`
}

// FactorResult is one factor of an assessment that held.
type FactorResult struct {
	ID     string `json:"id"`
	Effect string `json:"effect"` // raise | lower
	Level  string `json:"level"`
	Text   string `json:"text"`
}

// Step is a runbook step that applies to the incident.
type Step struct {
	ID       string `json:"id"`
	Phase    string `json:"phase"`
	Title    string `json:"title"`
	Role     string `json:"role"`
	Required bool   `json:"required"`
}

// SeverityRank is 1 for SEV1 through 4 for SEV4 (4 for anything unknown).
func SeverityRank(sev string) int {
	if i := slices.Index(runbook.Severities, sev); i >= 0 {
		return i + 1
	}
	return 4
}

// Events are the anchor times a verdict's clocks start from. Aware is
// required; Classified defaults to Aware.
type Events struct {
	Aware      time.Time
	Classified time.Time
	// Extra are further recorded anchors: "determined", "discovered",
	// "ransom_paid", "submitted:RULE-ID", ...
	Extra map[string]time.Time
}

// Questions returns the runbook's questions that apply under the policy:
// all of them except those of a shared assessment whose policy switches
// are off (the NIS2 criteria for managed service providers, for an
// organisation that is none). Those are not asked, and not assumed.
func Questions(rb *runbook.Runbook, policy deadline.Policy) []runbook.Question {
	off := inactiveAssessments(rb, policy)
	if len(off) == 0 {
		return rb.Questions
	}
	out := make([]runbook.Question, 0, len(rb.Questions))
	for _, q := range rb.Questions {
		if !off[q.From] {
			out = append(out, q)
		}
	}
	return out
}

func inactiveAssessments(rb *runbook.Runbook, policy deadline.Policy) map[string]bool {
	off := map[string]bool{}
	for i := range rb.Uses {
		if a := rb.Uses[i].Shared(); a != nil && !policy.AllOn(a.Policy) {
			off[a.ID] = true
		}
	}
	return off
}

// Classify evaluates the runbook's rules for the answers, then the policy's
// obligations for the resulting flags and facts.
func Classify(rb *runbook.Runbook, answers Answers, policy deadline.Policy, ev Events, pauses []deadline.Pause) (Verdict, error) {
	v := Verdict{
		RunbookID: rb.ID, RunbookVersion: rb.Version,
		Category: rb.Category.String(), AttackVector: rb.AttackVector,
		Flags: map[string]bool{}, Facts: map[string]float64{},
	}
	env := rb.AnswerEnv()
	// A shared assessment whose policy switches are off does not apply: its
	// questions are not asked for, so not assumed either.
	inactive := inactiveAssessments(rb, policy)
	assumed := map[string]bool{}
	for _, q := range rb.Questions {
		if a, ok := answers[q.ID]; ok {
			env[q.ID] = a
			continue
		}
		if inactive[q.From] {
			continue // its zero value from AnswerEnv
		}
		env[q.ID] = q.WorstValue()
		assumed[q.ID] = true
		v.Assumed = append(v.Assumed, q.ID)
	}
	if len(v.Assumed) > 0 {
		parts := make([]string, len(v.Assumed))
		for i, id := range v.Assumed {
			parts[i] = id + "=" + show(env[id])
		}
		v.Rationale = append(v.Rationale, Reason{Part: "assumed",
			Text:    fmt.Sprintf("%d unanswered question(s) taken as their worst case until answered", len(v.Assumed)),
			Answers: parts, Assumed: v.Assumed})
	}
	reason := func(part, because, rule string, uses []string) Reason {
		r := Reason{Part: part, Text: because, Rule: strings.TrimSpace(rule)}
		for _, name := range uses {
			val, isAnswer := env[name]
			if !isAnswer {
				continue
			}
			r.Answers = append(r.Answers, name+"="+show(val))
			if assumed[name] {
				r.Assumed = append(r.Assumed, name)
			}
		}
		return r
	}

	sharedReasons, err := v.evaluateShared(rb, env, assumed, inactive, reason)
	if err != nil {
		return v, err
	}

	for i := range rb.Rules.Incident {
		r := &rb.Rules.Incident[i]
		ok, err := r.Holds(env)
		if err != nil {
			return v, fmt.Errorf("runbook %s: incident rule %d: %w", rb.ID, i+1, err)
		}
		if ok {
			v.Incident = true
			v.Rationale = append(v.Rationale, reason("incident", r.Because, r.When, r.Uses()))
			break
		}
	}
	if !v.Incident {
		v.Rationale = append(v.Rationale, Reason{Part: "incident",
			Text: "No incident rule holds: this is a security event, assessed and not an incident."})
	}

	v.Severity = rb.Rules.Default
	if v.Severity == "" {
		v.Severity = "SEV4"
	}
	matched := false
	for i := range rb.Rules.Severity {
		r := &rb.Rules.Severity[i]
		ok, err := r.Holds(env)
		if err != nil {
			return v, fmt.Errorf("runbook %s: severity rule %d: %w", rb.ID, i+1, err)
		}
		if ok {
			v.Severity = r.Level
			v.Rationale = append(v.Rationale, reason("severity", r.Level+": "+r.Because, r.When, r.Uses()))
			matched = true
			break
		}
	}
	if !matched {
		v.Rationale = append(v.Rationale, Reason{Part: "severity", Text: v.Severity + ": no severity rule holds, so the runbook's default applies."})
	}
	v.Rationale = append(v.Rationale, sharedReasons...)

	for i := range rb.Rules.Flags {
		r := &rb.Rules.Flags[i]
		if v.Flags[r.Flag] {
			continue // an earlier rule already set it
		}
		ok, err := r.Holds(env)
		if err != nil {
			return v, fmt.Errorf("runbook %s: flag %s: %w", rb.ID, r.Flag, err)
		}
		v.Flags[r.Flag] = ok
		if ok {
			v.Rationale = append(v.Rationale, reason("flag:"+r.Flag, r.Because, r.When, r.Uses()))
		}
	}
	// A recorded anchor implies its flag (a materiality determination is a
	// material incident), as `irtui incident anchor` sets it on the incident.
	for _, k := range deadline.AnchorKinds {
		if t := ev.Extra[k.Event]; k.Sets != "" && !t.IsZero() && !v.Flags[k.Sets] {
			v.Flags[k.Sets] = true
			v.Rationale = append(v.Rationale, Reason{Part: "flag:" + k.Sets,
				Text: fmt.Sprintf("The %s moment is recorded (%s): %s.", k.Name, t.Format(time.RFC3339), k.Title)})
		}
	}
	for i := range rb.Rules.Facts {
		r := &rb.Rules.Facts[i]
		f, err := r.Compute(env)
		if err != nil {
			return v, fmt.Errorf("runbook %s: fact %s: %w", rb.ID, r.Fact, err)
		}
		v.Facts[r.Fact] = f
		because := r.Because
		if because == "" {
			because = "computed from the answers"
		}
		v.Rationale = append(v.Rationale, reason("fact:"+r.Fact, fmt.Sprintf("%s = %s: %s", r.Fact, FormatNumber(f), because), r.Value, r.Uses()))
	}

	// Steps and notifications see flags, facts and the verdict too.
	full := env
	for k, b := range v.Flags {
		full[k] = b
	}
	for k, f := range v.Facts {
		full[k] = f
	}
	full[runbook.NameSeverity] = SeverityRank(v.Severity)
	full[runbook.NameIncident] = v.Incident
	for _, ph := range rb.Phases {
		for i := range ph.Steps {
			st := &ph.Steps[i]
			ok, err := st.Applies(full)
			if err != nil {
				return v, fmt.Errorf("runbook %s: step %s: %w", rb.ID, st.ID, err)
			}
			if ok {
				v.Steps = append(v.Steps, Step{ID: st.ID, Phase: ph.ID, Title: st.Title, Role: st.Role, Required: !st.Optional})
			}
		}
	}

	v.Obligations = Obligations(v, policy, ev, pauses)
	v.Warnings = Warnings(v.Obligations)
	if v.Assumed == nil {
		v.Assumed = []string{}
	}
	if v.Assessments == nil {
		v.Assessments = []AssessmentResult{}
	}
	return v, nil
}

// Warnings lists the obligations' warnings, each prefixed with its rule id.
func Warnings(obs []deadline.Obligation) []string {
	out := []string{}
	for _, o := range obs {
		for _, w := range o.Warnings {
			if line := o.Rule.ID + ": " + w; !slices.Contains(out, line) {
				out = append(out, line)
			}
		}
	}
	return out
}

// evaluateShared evaluates the runbook's shared assessments on env: it
// binds their bound questions, draws each conclusion and computes their
// flags and facts, which it adds to env and the verdict. It returns the
// reasons to show after the severity.
func (v *Verdict) evaluateShared(rb *runbook.Runbook, env map[string]any, assumed, inactive map[string]bool,
	reason func(part, because, rule string, uses []string) Reason) ([]Reason, error) {
	var out []Reason
	for i := range rb.Uses {
		u := &rb.Uses[i]
		a := u.Shared()
		if a == nil {
			return nil, fmt.Errorf("runbook %s: shared assessment %s was not loaded", rb.ID, u.Assessment)
		}
		if inactive[a.ID] {
			// Off under the policy: its results stay unset (AnswerEnv's zeros).
			v.Assessments = append(v.Assessments, AssessmentResult{ID: a.ID, Title: a.Title, Version: a.Version,
				Name: a.Conclusion.Name, Factors: []FactorResult{}, Decided: []string{}, Inactive: true})
			for _, f := range a.Flags {
				v.Flags[f.Flag] = false
			}
			continue
		}
		bound, err := u.Bind(env)
		if err != nil {
			return nil, fmt.Errorf("runbook %s: %w", rb.ID, err)
		}
		for _, b := range bound {
			for _, name := range b.Uses {
				if assumed[name] {
					assumed[b.Question] = true
				}
			}
		}
		oc, err := a.Conclude(env)
		if err != nil {
			return nil, fmt.Errorf("runbook %s: %w", rb.ID, err)
		}
		c := &a.Conclusion
		res := AssessmentResult{ID: a.ID, Title: a.Title, Version: a.Version, Name: c.Name, Level: oc.Level,
			Label: c.LevelLabel(oc.Level), Factors: []FactorResult{}, Decided: []string{}, ByDefault: oc.Default,
			Outweighed: oc.Outweighed}
		var factorReasons []Reason
		for _, h := range oc.Held {
			f := h.Factor
			verb := "raises the level to "
			if f.Lower != "" {
				verb = "lowers the level to "
			}
			text := verb + f.Level() + ": " + f.Because
			if slices.Contains(oc.Outweighed, f.ID) {
				text = "would lower the level to " + f.Level() + ", but an aggravating factor outweighs it: " + f.Because
			}
			res.Factors = append(res.Factors, FactorResult{ID: f.ID, Effect: f.Effect(), Level: f.Level(), Text: f.Because})
			if h.Decisive {
				res.Decided = append(res.Decided, f.ID)
			}
			factorReasons = append(factorReasons, reason("factor:"+f.ID, text, f.When, f.Uses()))
		}
		if oc.Applies {
			text := oc.Level + ": " + res.Label
			switch {
			case oc.Default:
				text += ". No factor decided it: " + c.Because
			default:
				text += ". Decided by: " + strings.Join(res.Decided, ", ")
				if len(oc.Outweighed) > 0 {
					text += "; mitigations outweighed: " + strings.Join(oc.Outweighed, ", ")
				}
			}
			out = append(out, Reason{Part: "conclusion:" + c.Name, Text: text})
			out = append(out, factorReasons...)
		}
		v.Assessments = append(v.Assessments, res)
		for j := range a.Flags {
			r := &a.Flags[j]
			ok, err := r.Holds(env)
			if err != nil {
				return nil, fmt.Errorf("runbook %s: assessment %s: flag %s: %w", rb.ID, a.ID, r.Flag, err)
			}
			env[r.Flag] = ok
			v.Flags[r.Flag] = ok
			if ok {
				out = append(out, reason("flag:"+r.Flag, r.Because, r.When, r.Uses()))
			}
		}
		for j := range a.Facts {
			r := &a.Facts[j]
			f, err := r.Compute(env)
			if err != nil {
				return nil, fmt.Errorf("runbook %s: assessment %s: fact %s: %w", rb.ID, a.ID, r.Fact, err)
			}
			env[r.Fact] = f
			v.Facts[r.Fact] = f
			out = append(out, reason("fact:"+r.Fact, fmt.Sprintf("%s = %s: %s", r.Fact, FormatNumber(f), r.Because), r.Value, r.Uses()))
		}
	}
	return out, nil
}

// Obligations evaluates the policy for a verdict's flags and facts.
func Obligations(v Verdict, policy deadline.Policy, ev Events, pauses []deadline.Pause) []deadline.Obligation {
	events := map[string]time.Time{"aware": ev.Aware}
	classified := ev.Classified
	if classified.IsZero() {
		classified = ev.Aware
	}
	events["classified"] = classified
	for k, t := range ev.Extra {
		events[k] = t
	}
	obs := policy.Obligations(deadline.Input{Incident: v.Incident, Flags: v.Flags, Facts: v.Facts, Events: events, Pauses: pauses})
	if obs == nil {
		obs = []deadline.Obligation{}
	}
	return obs
}

func show(v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case []string:
		if len(x) == 0 {
			return "[]"
		}
		s := slices.Clone(x)
		sort.Strings(s)
		return "[" + strings.Join(s, ",") + "]"
	case string:
		if x == "" {
			return `""`
		}
		return x
	case float64:
		return FormatNumber(x)
	}
	return fmt.Sprint(v)
}
