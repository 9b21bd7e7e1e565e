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
	RunbookID      string                `json:"runbook_id"`
	RunbookVersion string                `json:"runbook_version"`
	Incident       bool                  `json:"incident"`
	Category       string                `json:"category"`
	AttackVector   string                `json:"attack_vector"`
	Severity       string                `json:"severity"`
	Flags          map[string]bool       `json:"flags"`
	Facts          map[string]float64    `json:"facts"`
	Assumed        []string              `json:"assumed"` // unanswered question ids
	Rationale      []Reason              `json:"rationale"`
	Obligations    []deadline.Obligation `json:"obligations"`
	// Steps are the checklist steps that apply under this verdict.
	Steps []Step `json:"steps"`
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

// Classify evaluates the runbook's rules for the answers, then the policy's
// obligations for the resulting flags and facts.
func Classify(rb *runbook.Runbook, answers Answers, policy deadline.Policy, ev Events, pauses []deadline.Pause) (Verdict, error) {
	v := Verdict{
		RunbookID: rb.ID, RunbookVersion: rb.Version,
		Category: rb.Category.String(), AttackVector: rb.AttackVector,
		Flags: map[string]bool{}, Facts: map[string]float64{},
	}
	env := rb.AnswerEnv()
	assumed := map[string]bool{}
	for _, q := range rb.Questions {
		if a, ok := answers[q.ID]; ok {
			env[q.ID] = a
			continue
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
	if v.Assumed == nil {
		v.Assumed = []string{}
	}
	return v, nil
}

// Obligations evaluates the policy for a verdict's flags and facts.
func Obligations(v Verdict, policy deadline.Policy, ev Events, pauses []deadline.Pause) []deadline.Obligation {
	events := map[string]time.Time{"aware": ev.Aware}
	classified := ev.Classified
	if classified.IsZero() {
		classified = ev.Aware
	}
	events["classified"] = classified
	if v.Flags["dora_major"] {
		events["classified_major"] = classified
	}
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
