package tabletop

// Drill action files: a script of participant and facilitator actions at
// drill-clock offsets, for a headless drill. docs/drills.md describes the
// format.

import (
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/strictyaml"
)

// DrillActions is a file of scripted participant actions for a headless
// drill: each applied at its offset on the drill clock. See
// docs/drills.md.
type DrillActions struct {
	// Scenario, if set, is the id of the scenario the actions are for.
	Scenario string        `yaml:"scenario,omitempty" json:"scenario,omitempty"`
	As       string        `yaml:"as,omitempty" json:"as,omitempty"` // default actor
	Actions  []DrillAction `yaml:"actions" json:"actions"`
	HotWash  *DrillHotWash `yaml:"hot_wash,omitempty" json:"hot_wash,omitempty"`
}

// DrillAction is one scripted action. Do says what; the other fields are
// its arguments.
type DrillAction struct {
	At string `yaml:"at" json:"at"`
	Do string `yaml:"do" json:"do"`
	As string `yaml:"as,omitempty" json:"as,omitempty"`

	Title        string         `yaml:"title,omitempty" json:"title,omitempty"`         // declare
	Answers      map[string]any `yaml:"answers,omitempty" json:"answers,omitempty"`     // declare
	Customers    []string       `yaml:"customers,omitempty" json:"customers,omitempty"` // declare
	Aware        string         `yaml:"aware,omitempty" json:"aware,omitempty"`         // declare: offset of awareness
	Role         string         `yaml:"role,omitempty" json:"role,omitempty"`
	Person       string         `yaml:"person,omitempty" json:"person,omitempty"`
	Step         string         `yaml:"step,omitempty" json:"step,omitempty"`
	Severity     string         `yaml:"severity,omitempty" json:"severity,omitempty"`
	Notification string         `yaml:"notification,omitempty" json:"notification,omitempty"`
	Obligation   string         `yaml:"obligation,omitempty" json:"obligation,omitempty"`
	Customer     string         `yaml:"customer,omitempty" json:"customer,omitempty"`
	Text         string         `yaml:"text,omitempty" json:"text,omitempty"`     // note, observe; or the reason of skip, severity, close
	Expect       string         `yaml:"expect,omitempty" json:"expect,omitempty"` // mark
	Result       string         `yaml:"result,omitempty" json:"result,omitempty"` // mark: met, late or missed
	Objective    string         `yaml:"objective,omitempty" json:"objective,omitempty"`
	Rating       string         `yaml:"rating,omitempty" json:"rating,omitempty"` // rate: P, S, M or U

	Offset time.Duration `yaml:"-" json:"offset"`
	Line   int           `yaml:"-" json:"-"` // where the action is, for error messages
}

// DrillHotWash is the hot wash recorded at the end of a headless drill.
type DrillHotWash struct {
	WentWell  []string          `yaml:"went_well,omitempty" json:"went_well,omitempty"`
	ToImprove []string          `yaml:"to_improve,omitempty" json:"to_improve,omitempty"`
	Actions   []DrillActionItem `yaml:"actions,omitempty" json:"actions,omitempty"`
}

// DrillActionItem is an improvement-plan item: who fixes what by when.
type DrillActionItem struct {
	Text        string `yaml:"text" json:"text"` // the corrective action
	Owner       string `yaml:"owner" json:"owner"`
	Due         string `yaml:"due" json:"due"` // YYYY-MM-DD, or a duration from the end of the drill ("14d")
	Objective   string `yaml:"objective,omitempty" json:"objective,omitempty"`
	Element     string `yaml:"element,omitempty" json:"element,omitempty"`         // POETE: planning, organization, equipment, training, exercise
	Improvement string `yaml:"improvement,omitempty" json:"improvement,omitempty"` // the area for improvement it addresses
}

// The participant and facilitator actions of an actions file.
const (
	DoDeclare  = "declare"
	DoAssign   = "assign"
	DoAck      = "ack"
	DoStep     = "step"
	DoSkip     = "skip"
	DoNote     = "note"
	DoSeverity = "severity"
	DoApprove  = "approve"
	DoSubmit   = "submit"
	DoCustomer = "customer"
	DoClose    = "close"
	DoObserve  = "observe"
	DoMark     = "mark"
	DoRate     = "rate"
)

// DrillDos lists the actions an actions file may script.
var DrillDos = []string{DoDeclare, DoAssign, DoAck, DoStep, DoSkip, DoNote, DoSeverity, DoApprove, DoSubmit,
	DoCustomer, DoClose, DoObserve, DoMark, DoRate}

// Elements are the POETE capability elements of an improvement plan.
var Elements = []string{"planning", "organization", "equipment", "training", "exercise"}

// Results a facilitator may mark an expectation with.
var Results = []string{"met", "late", "missed"}

// doFields lists the fields each action takes; those before "|" are
// required.
var doFields = map[string][]string{
	DoDeclare:  {"title", "|", "answers", "customers", "aware"},
	DoAssign:   {"role", "person"},
	DoAck:      {"role"},
	DoStep:     {"step", "|", "text"},
	DoSkip:     {"step", "text"},
	DoNote:     {"text"},
	DoSeverity: {"severity", "|", "text"},
	DoApprove:  {"notification"},
	DoSubmit:   {"obligation"},
	DoCustomer: {"customer"},
	DoClose:    {"|", "text"},
	DoObserve:  {"text", "|", "objective"},
	DoMark:     {"expect", "result", "|", "text"},
	DoRate:     {"objective", "rating", "|", "text"},
}

// ParseDrillActions decodes and checks an actions file for a scenario
// whose drill incident uses runbook rb. Every problem has its
// path:line:col.
func ParseDrillActions(name string, data []byte, sc *Scenario, rb *runbook.Runbook, opts runbook.ValidateOptions) (*DrillActions, strictyaml.Problems) {
	doc, probs := strictyaml.Parse(name, data)
	if probs != nil {
		return nil, probs
	}
	da := new(DrillActions)
	probs = doc.Decode(da)
	if !doc.IsMapping() {
		if len(probs) == 0 {
			probs = strictyaml.Problems{{Path: name, Line: 1, Col: 1, Msg: "an actions file must be a mapping with an actions list"}}
		}
		return nil, probs
	}
	v := &checker{obligations: opts.Obligation}
	validateActions(v, da, sc, rb)
	probs = append(probs, doc.Report(v.Issues, probs)...)
	if len(probs) > 0 {
		probs.Sort()
		return nil, probs
	}
	for i := range da.Actions {
		p, _, _ := doc.Place(strictyaml.Issue{At: path{"actions", i}})
		da.Actions[i].Line = p.Line
	}
	return da, nil
}

func validateActions(v *checker, da *DrillActions, sc *Scenario, rb *runbook.Runbook) {
	if sc != nil && da.Scenario != "" && da.Scenario != sc.ID {
		v.Addf(path{"scenario"}, "these actions are for scenario %q, not %q", da.Scenario, sc.ID)
	}
	if len(da.Actions) == 0 && da.HotWash == nil {
		v.Missing(path{"actions"}, "actions")
	}
	var last time.Duration
	declared := false
	for i := range da.Actions {
		a := &da.Actions[i]
		at := path{"actions", i}
		if a.At == "" {
			v.Missing(at.With("at"), "at")
		} else if off, err := ParseOffset(a.At); err != nil {
			v.Addf(at.With("at"), "%v", err)
		} else {
			if off < last {
				v.Addf(at.With("at"), "action at %s is listed after one at %s; list actions in time order", FormatOffset(off), FormatOffset(last))
			}
			a.Offset, last = off, max(off, last)
		}
		if a.Do == "" {
			v.Missing(at.With("do"), "do")
			continue
		}
		fields, known := doFields[a.Do]
		if !known {
			v.Addf(at.With("do"), "unknown action %q%s; use %s", a.Do, suggestName(a.Do, DrillDos), strings.Join(DrillDos, ", "))
			continue
		}
		set := map[string]bool{"title": a.Title != "", "answers": a.Answers != nil, "customers": a.Customers != nil,
			"aware": a.Aware != "", "role": a.Role != "", "person": a.Person != "", "step": a.Step != "",
			"severity": a.Severity != "", "notification": a.Notification != "", "obligation": a.Obligation != "",
			"customer": a.Customer != "", "text": a.Text != "", "expect": a.Expect != "", "result": a.Result != "",
			"objective": a.Objective != "", "rating": a.Rating != ""}
		required := true
		allowed := map[string]bool{}
		for _, name := range fields {
			if name == "|" {
				required = false
				continue
			}
			allowed[name] = true
			if required && !set[name] {
				v.Missing(at.With(name), name)
			}
		}
		for _, name := range sortedKeys(set) {
			if set[name] && !allowed[name] {
				v.Addf(at.With(name), "%s does not apply to action %s", name, a.Do)
			}
		}
		switch a.Do {
		case DoAssign, DoAck, DoStep, DoSkip, DoNote, DoSeverity, DoApprove, DoSubmit, DoCustomer, DoClose:
			if !declared {
				v.Addf(at.With("do"), "%s needs the drill incident: declare it in an earlier action", a.Do)
			}
		}
		switch a.Do {
		case DoDeclare:
			if declared {
				v.Addf(at.With("do"), "the drill incident is already declared by an earlier action")
			}
			declared = true
			if a.Aware != "" {
				if off, err := ParseOffset(a.Aware); err != nil {
					v.Addf(at.With("aware"), "%v", err)
				} else if off > a.Offset {
					v.Addf(at.With("aware"), "awareness at %s is after the declaration at %s", FormatOffset(off), FormatOffset(a.Offset))
				}
			}
			if rb != nil {
				for _, key := range sortedKeys(a.Answers) {
					q, ok := findQuestion(rb, key)
					if !ok {
						v.Keyf(at.With("answers", key), "unknown question %q in runbook %s%s", key, rb.ID, suggestName(key, questionIDs(rb)))
						continue
					}
					val := runbook.Normalize(a.Answers[key])
					if q.Type == runbook.YesNo {
						if s, isStr := val.(string); isStr && slices.Contains([]string{"yes", "no"}, strings.ToLower(s)) {
							continue
						}
					}
					if msg := runbook.CheckAnswer(q, val); msg != "" {
						v.Addf(at.With("answers", key), "question %q: %s", key, msg)
					}
				}
			}
		case DoAssign, DoAck:
			if rb != nil && a.Role != "" && !slices.ContainsFunc(rb.Roles, func(r runbook.Role) bool { return r.ID == a.Role }) {
				v.Addf(at.With("role"), "role %q is not a role of runbook %s", a.Role, rb.ID)
			}
		case DoStep, DoSkip:
			if rb != nil && a.Step != "" && !hasStep(rb, a.Step) {
				v.Addf(at.With("step"), "unknown step %q in runbook %s%s", a.Step, rb.ID, suggestName(a.Step, stepIDs(rb)))
			}
		case DoSeverity:
			if a.Severity != "" && !slices.Contains(runbook.Severities, a.Severity) {
				v.Addf(at.With("severity"), "unknown severity %q; use SEV1, SEV2, SEV3 or SEV4", a.Severity)
			}
		case DoApprove:
			if rb != nil && a.Notification != "" && !slices.ContainsFunc(rb.Notify, func(n runbook.Notification) bool { return n.ID == a.Notification }) {
				v.Addf(at.With("notification"), "unknown notification %q in runbook %s", a.Notification, rb.ID)
			}
		case DoSubmit:
			if v.obligations != nil && a.Obligation != "" && !v.obligations(a.Obligation) {
				v.Addf(at.With("obligation"), "unknown obligation %q", a.Obligation)
			}
		case DoMark:
			if sc != nil && a.Expect != "" {
				if _, _, ok := sc.Expectation(a.Expect); !ok {
					v.Addf(at.With("expect"), "unknown expectation %q in scenario %s", a.Expect, sc.ID)
				}
			}
			if a.Result != "" && !slices.Contains(Results, a.Result) {
				v.Addf(at.With("result"), "unknown result %q; use met, late or missed", a.Result)
			}
		case DoRate:
			v.objective(at.With("objective"), sc, a.Objective)
			if a.Rating != "" && !slices.Contains(Ratings, a.Rating) {
				v.Addf(at.With("rating"), "unknown rating %q; use P, S, M or U (HSEEP)", a.Rating)
			}
		}
	}
	if hw := da.HotWash; hw != nil {
		for i, item := range hw.Actions {
			at := path{"hot_wash", "actions", i}
			v.Required(at, "text", item.Text)
			v.Required(at, "owner", item.Owner)
			if item.Due == "" {
				v.Missing(at.With("due"), "due")
			} else if _, err := ParseDue(item.Due, time.Time{}); err != nil {
				v.Addf(at.With("due"), "%v", err)
			}
			if item.Element != "" && !slices.Contains(Elements, item.Element) {
				v.Addf(at.With("element"), "unknown element %q; use %s (POETE)", item.Element, strings.Join(Elements, ", "))
			}
			v.objective(at.With("objective"), sc, item.Objective)
		}
	}
}

func (v *checker) objective(at path, sc *Scenario, id string) {
	if sc == nil || id == "" {
		return
	}
	if _, ok := sc.Objective(id); !ok {
		ids := make([]string, 0, len(sc.Objectives))
		for _, o := range sc.Objectives {
			ids = append(ids, o.ID)
		}
		v.Addf(at, "unknown objective %q in scenario %s (objectives: %s)", id, sc.ID, strings.Join(ids, ", "))
	}
}

func findQuestion(rb *runbook.Runbook, id string) (runbook.Question, bool) {
	for _, q := range rb.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return runbook.Question{}, false
}

func questionIDs(rb *runbook.Runbook) []string {
	ids := make([]string, 0, len(rb.Questions))
	for _, q := range rb.Questions {
		ids = append(ids, q.ID)
	}
	return ids
}

func hasStep(rb *runbook.Runbook, id string) bool { return slices.Contains(stepIDs(rb), id) }

func stepIDs(rb *runbook.Runbook) []string {
	var ids []string
	for _, ph := range rb.Phases {
		for _, st := range ph.Steps {
			ids = append(ids, st.ID)
		}
	}
	return ids
}
