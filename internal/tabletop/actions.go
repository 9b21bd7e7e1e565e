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
	// Module names a scenario module with a drill incident of its own,
	// which the action works on (a declare declares it); empty: the
	// scenario's incident.
	Module string `yaml:"module,omitempty" json:"module,omitempty"`

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
	Kind         string         `yaml:"kind,omitempty" json:"kind,omitempty"`     // observe: strength or improvement

	Offset time.Duration `yaml:"-" json:"offset"`
	Line   int           `yaml:"-" json:"-"` // where the action is, for error messages
}

// DrillHotWash is the hot wash recorded at the end of a headless drill:
// strengths and areas for improvement (plain lines in went_well and
// to_improve, or with their objective, root cause and observations in
// strengths and improvements), the improvement plan and the
// participants' feedback.
type DrillHotWash struct {
	WentWell     []string          `yaml:"went_well,omitempty" json:"went_well,omitempty"`
	ToImprove    []string          `yaml:"to_improve,omitempty" json:"to_improve,omitempty"`
	Strengths    []DrillFinding    `yaml:"strengths,omitempty" json:"strengths,omitempty"`
	Improvements []DrillFinding    `yaml:"improvements,omitempty" json:"improvements,omitempty"`
	Actions      []DrillActionItem `yaml:"actions,omitempty" json:"actions,omitempty"`
	Feedback     []DrillFeedback   `yaml:"feedback,omitempty" json:"feedback,omitempty"`
}

// DrillFinding is a strength or an area for improvement of the hot wash.
type DrillFinding struct {
	Text      string `yaml:"text" json:"text"`
	Objective string `yaml:"objective,omitempty" json:"objective,omitempty"`
	// RootCause and Observations (their numbers: 1 is the first observe
	// action) are for areas for improvement.
	RootCause    string `yaml:"root_cause,omitempty" json:"root_cause,omitempty"`
	Observations []int  `yaml:"observations,omitempty" json:"observations,omitempty"`
}

// DrillFeedback is a participant's feedback.
type DrillFeedback struct {
	Person string `yaml:"person" json:"person"`
	Role   string `yaml:"role,omitempty" json:"role,omitempty"`
	Rating int    `yaml:"rating,omitempty" json:"rating,omitempty"` // 1 to 5
	Text   string `yaml:"text" json:"text"`
}

// DrillActionItem is an improvement-plan item: who fixes what by when.
type DrillActionItem struct {
	Text         string `yaml:"text" json:"text"` // the corrective action
	Owner        string `yaml:"owner" json:"owner"`
	Due          string `yaml:"due" json:"due"`                         // YYYY-MM-DD, or a duration from the end of the drill ("14d")
	Start        string `yaml:"start,omitempty" json:"start,omitempty"` // likewise; default: the end of the drill
	Objective    string `yaml:"objective,omitempty" json:"objective,omitempty"`
	Element      string `yaml:"element,omitempty" json:"element,omitempty"`           // POETE: planning, organization, equipment, training, exercise
	Improvement  string `yaml:"improvement,omitempty" json:"improvement,omitempty"`   // the area for improvement it addresses
	Organisation string `yaml:"organisation,omitempty" json:"organisation,omitempty"` // the primary responsible organisation
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
	DoCustomer = "customer" // the older name of link
	DoLink     = "link"
	DoUnlink   = "unlink"
	DoReassess = "reassess"
	DoClose    = "close"
	DoObserve  = "observe"
	DoMark     = "mark"
	DoRate     = "rate"
)

// DrillDos lists the actions an actions file may script.
var DrillDos = []string{DoDeclare, DoAssign, DoAck, DoStep, DoSkip, DoNote, DoSeverity, DoApprove, DoSubmit,
	DoLink, DoUnlink, DoCustomer, DoReassess, DoClose, DoObserve, DoMark, DoRate}

// Elements are the POETE capability elements of an improvement plan.
var Elements = []string{"planning", "organization", "equipment", "training", "exercise"}

// Results a facilitator may mark an expectation with.
var Results = []string{"met", "late", "missed"}

// ParseDrillActions decodes and checks an actions file for a scenario
// whose drill incident uses runbook rb. Every problem has its
// path:line:col.
func ParseDrillActions(name string, data []byte, sc *Scenario, rb *runbook.Runbook, opts runbook.ValidateOptions) (*DrillActions, strictyaml.Problems) {
	da := new(DrillActions)
	doc, probs := decodeChecked(strictyaml.Actions, name, data, da, "an actions file must be a mapping with an actions list",
		func() []strictyaml.Issue {
			v := &checker{obligations: opts.Obligation}
			validateActions(v, da, sc, rb)
			return v.Issues
		})
	if probs != nil {
		return nil, probs
	}
	for i := range da.Actions {
		p, _, _ := doc.Place(strictyaml.Issue{At: path{"actions", i}})
		da.Actions[i].Line = p.Line
	}
	return da, nil
}

// doSpec is what an action of an actions file takes and how it is
// checked beyond its fields.
type doSpec struct {
	// fields lists the fields the action takes; those before "|" are
	// required.
	fields []string
	// incident: the action works on the drill incident, so an earlier
	// action must declare it.
	incident bool
	// check checks the action's arguments against the scenario and the
	// runbook; nil when there is nothing to check.
	check func(ac *actionsCheck, at path, a *DrillAction)
}

// doSpecs is every action an actions file may script.
var doSpecs = map[string]doSpec{
	DoDeclare:  {fields: []string{"title", "|", "answers", "customers", "aware"}, check: (*actionsCheck).declare},
	DoAssign:   {fields: []string{"role", "person"}, incident: true, check: (*actionsCheck).role},
	DoAck:      {fields: []string{"role"}, incident: true, check: (*actionsCheck).role},
	DoStep:     {fields: []string{"step", "|", "text"}, incident: true, check: (*actionsCheck).step},
	DoSkip:     {fields: []string{"step", "text"}, incident: true, check: (*actionsCheck).step},
	DoNote:     {fields: []string{"text"}, incident: true},
	DoSeverity: {fields: []string{"severity", "|", "text"}, incident: true, check: (*actionsCheck).severity},
	DoApprove:  {fields: []string{"notification"}, incident: true, check: (*actionsCheck).notification},
	DoSubmit:   {fields: []string{"obligation"}, incident: true, check: (*actionsCheck).obligation},
	DoCustomer: {fields: []string{"customer"}, incident: true},
	DoLink:     {fields: []string{"customer"}, incident: true},
	DoUnlink:   {fields: []string{"customer", "text"}, incident: true},
	DoReassess: {fields: []string{"answers", "|", "text"}, incident: true, check: (*actionsCheck).reassess},
	DoClose:    {fields: []string{"|", "text"}, incident: true},
	DoObserve:  {fields: []string{"text", "|", "objective", "kind"}, check: (*actionsCheck).observe},
	DoMark:     {fields: []string{"expect", "result", "|", "text"}, check: (*actionsCheck).mark},
	DoRate:     {fields: []string{"objective", "rating", "|", "text"}, check: (*actionsCheck).rate},
}

// given lists which of an action's argument fields are set.
func (a *DrillAction) given() map[string]bool {
	return map[string]bool{"title": a.Title != "", "answers": a.Answers != nil, "customers": a.Customers != nil,
		"aware": a.Aware != "", "role": a.Role != "", "person": a.Person != "", "step": a.Step != "",
		"severity": a.Severity != "", "notification": a.Notification != "", "obligation": a.Obligation != "",
		"customer": a.Customer != "", "text": a.Text != "", "expect": a.Expect != "", "result": a.Result != "",
		"objective": a.Objective != "", "rating": a.Rating != "", "kind": a.Kind != ""}
}

// actionsCheck is the state of checking one actions file.
type actionsCheck struct {
	*checker
	sc       *Scenario        // nil: references to the scenario are not checked
	rb       *runbook.Runbook // nil: references to the runbook are not checked
	declared map[string]bool  // an earlier action declares the drill incident (of a module)
	last     time.Duration    // the latest offset so far
	observed int              // observe actions so far
}

// runbook is the runbook of the incident an action works on: its
// module's, for a module with an incident of its own.
func (ac *actionsCheck) runbook(a *DrillAction) *runbook.Runbook {
	if a.Module != "" && ac.sc != nil {
		return ac.sc.runbooks[a.Module]
	}
	return ac.rb
}

func validateActions(v *checker, da *DrillActions, sc *Scenario, rb *runbook.Runbook) {
	if sc != nil && da.Scenario != "" && da.Scenario != sc.ID {
		v.Addf(path{"scenario"}, "these actions are for scenario %q, not %q", da.Scenario, sc.ID)
	}
	if len(da.Actions) == 0 && da.HotWash == nil {
		v.Missing(path{"actions"}, "actions")
	}
	ac := &actionsCheck{checker: v, sc: sc, rb: rb, declared: map[string]bool{}}
	for i := range da.Actions {
		ac.action(path{"actions", i}, &da.Actions[i])
	}
	if hw := da.HotWash; hw != nil {
		for i, item := range hw.Actions {
			ac.actionItem(path{"hot_wash", "actions", i}, item)
		}
		for i, f := range hw.Strengths {
			at := path{"hot_wash", "strengths", i}
			ac.Required(at, "text", f.Text)
			ac.objective(at.With("objective"), ac.sc, f.Objective)
			if f.RootCause != "" || len(f.Observations) > 0 {
				ac.Addf(at, "a strength takes no root_cause or observations; an improvement does")
			}
		}
		for i, f := range hw.Improvements {
			at := path{"hot_wash", "improvements", i}
			ac.Required(at, "text", f.Text)
			ac.objective(at.With("objective"), ac.sc, f.Objective)
			for j, n := range f.Observations {
				if n < 1 || n > ac.observed {
					ac.Addf(at.With("observations", j), "there is no observation %d: the actions observe %d time(s)", n, ac.observed)
				}
			}
		}
		for i, f := range hw.Feedback {
			at := path{"hot_wash", "feedback", i}
			ac.Required(at, "person", f.Person)
			ac.Required(at, "text", f.Text)
			if f.Rating < 0 || f.Rating > 5 {
				ac.Addf(at.With("rating"), "rate the exercise from 1 (poor) to 5 (excellent), not %d", f.Rating)
			}
		}
	}
}

func (ac *actionsCheck) observe(at path, a *DrillAction) {
	ac.observed++
	ac.objective(at.With("objective"), ac.sc, a.Objective)
	if a.Kind != "" && a.Kind != ObserveStrength && a.Kind != ObserveImprovement {
		ac.Addf(at.With("kind"), "unknown kind %q; use strength or improvement (or leave it out for a note)", a.Kind)
	}
}

// action checks one scripted action and resolves its offset.
func (ac *actionsCheck) action(at path, a *DrillAction) {
	ac.offset(at, a)
	if a.Do == "" {
		ac.Missing(at.With("do"), "do")
		return
	}
	spec, known := doSpecs[a.Do]
	if !known {
		ac.Addf(at.With("do"), "unknown action %q%s; use %s", a.Do, suggestName(a.Do, DrillDos), strings.Join(DrillDos, ", "))
		return
	}
	ac.fields(at, a, spec.fields)
	if a.Module != "" && ac.sc != nil {
		m, ok := ac.sc.Module(a.Module)
		switch {
		case !ok:
			ac.Addf(at.With("module"), "unknown module %q in scenario %s%s", a.Module, ac.sc.ID, suggestName(a.Module, moduleIDs(ac.sc)))
			return
		case !m.OwnIncident(ac.sc):
			ac.Addf(at.With("module"), "module %q is played on the scenario's incident; leave module out", a.Module)
			return
		case !spec.incident && a.Do != DoDeclare:
			ac.Addf(at.With("module"), "module does not apply to action %s", a.Do)
		}
	}
	if spec.incident && !ac.declared[a.Module] {
		what := "the drill incident"
		if a.Module != "" {
			what = "module " + a.Module + "'s drill incident"
		}
		ac.Addf(at.With("do"), "%s needs %s: declare it in an earlier action", a.Do, what)
	}
	if spec.check != nil {
		spec.check(ac, at, a)
	}
}

// offset reads the action's offset, which must not come before the
// previous action's.
func (ac *actionsCheck) offset(at path, a *DrillAction) {
	if a.At == "" {
		ac.Missing(at.With("at"), "at")
		return
	}
	off, err := ParseOffset(a.At)
	if err != nil {
		ac.Addf(at.With("at"), "%v", err)
		return
	}
	if off < ac.last {
		ac.Addf(at.With("at"), "action at %s is listed after one at %s; list actions in time order", FormatOffset(off), FormatOffset(ac.last))
	}
	a.Offset, ac.last = off, max(off, ac.last)
}

// fields reports the required fields an action lacks and those it does
// not take.
func (ac *actionsCheck) fields(at path, a *DrillAction, fields []string) {
	set := a.given()
	required := true
	allowed := map[string]bool{}
	for _, name := range fields {
		if name == "|" {
			required = false
			continue
		}
		allowed[name] = true
		if required && !set[name] {
			ac.Missing(at.With(name), name)
		}
	}
	for _, name := range sortedKeys(set) {
		if set[name] && !allowed[name] {
			ac.Addf(at.With(name), "%s does not apply to action %s", name, a.Do)
		}
	}
}

func (ac *actionsCheck) declare(at path, a *DrillAction) {
	if ac.declared[a.Module] {
		ac.Addf(at.With("do"), "the drill incident is already declared by an earlier action")
	}
	ac.declared[a.Module] = true
	if a.Aware != "" {
		if off, err := ParseOffset(a.Aware); err != nil {
			ac.Addf(at.With("aware"), "%v", err)
		} else if off > a.Offset {
			ac.Addf(at.With("aware"), "awareness at %s is after the declaration at %s", FormatOffset(off), FormatOffset(a.Offset))
		}
	}
	ac.answers(at, a, false)
}

// reassess checks the answers a re-assessment changes; null takes an
// answer back.
func (ac *actionsCheck) reassess(at path, a *DrillAction) { ac.answers(at, a, true) }

// answers checks an action's answers against its runbook's questions;
// orNull accepts null for any of them.
func (ac *actionsCheck) answers(at path, a *DrillAction, orNull bool) {
	rb := ac.runbook(a)
	if rb == nil {
		return
	}
	for _, key := range sortedKeys(a.Answers) {
		if orNull && a.Answers[key] == nil {
			if _, ok := findQuestion(rb, key); !ok {
				ac.Keyf(at.With("answers", key), "unknown question %q in runbook %s%s", key, rb.ID, suggestName(key, questionIDs(rb)))
			}
			continue
		}
		ac.answer(at.With("answers", key), rb, key, a.Answers[key])
	}
}

// answer checks one answer of a declare action against the runbook's
// question.
func (ac *actionsCheck) answer(at path, rb *runbook.Runbook, key string, value any) {
	q, ok := findQuestion(rb, key)
	if !ok {
		ac.Keyf(at, "unknown question %q in runbook %s%s", key, rb.ID, suggestName(key, questionIDs(rb)))
		return
	}
	val := runbook.Normalize(value)
	if q.Type == runbook.YesNo {
		if s, isStr := val.(string); isStr && slices.Contains([]string{"yes", "no"}, strings.ToLower(s)) {
			return
		}
	}
	if msg := runbook.CheckAnswer(q, val); msg != "" {
		ac.Addf(at, "question %q: %s", key, msg)
	}
}

func (ac *actionsCheck) role(at path, a *DrillAction) {
	rb := ac.runbook(a)
	if rb != nil && a.Role != "" && !slices.ContainsFunc(rb.Roles, func(r runbook.Role) bool { return r.ID == a.Role }) {
		ac.Addf(at.With("role"), "role %q is not a role of runbook %s", a.Role, rb.ID)
	}
}

func (ac *actionsCheck) step(at path, a *DrillAction) {
	rb := ac.runbook(a)
	if rb != nil && a.Step != "" && !hasStep(rb, a.Step) {
		ac.Addf(at.With("step"), "unknown step %q in runbook %s%s", a.Step, rb.ID, suggestName(a.Step, stepIDs(rb)))
	}
}

func (ac *actionsCheck) severity(at path, a *DrillAction) {
	if a.Severity != "" && !slices.Contains(runbook.Severities, a.Severity) {
		ac.Addf(at.With("severity"), "unknown severity %q; use SEV1, SEV2, SEV3 or SEV4", a.Severity)
	}
}

func (ac *actionsCheck) notification(at path, a *DrillAction) {
	rb := ac.runbook(a)
	if rb != nil && a.Notification != "" && !slices.ContainsFunc(rb.Notify, func(n runbook.Notification) bool { return n.ID == a.Notification }) {
		ac.Addf(at.With("notification"), "unknown notification %q in runbook %s", a.Notification, rb.ID)
	}
}

func (ac *actionsCheck) obligation(at path, a *DrillAction) {
	if ac.obligations != nil && a.Obligation != "" && !ac.obligations(a.Obligation) {
		ac.Addf(at.With("obligation"), "unknown obligation %q", a.Obligation)
	}
}

func (ac *actionsCheck) mark(at path, a *DrillAction) {
	if sc := ac.sc; sc != nil && a.Expect != "" {
		if _, _, ok := sc.Expectation(a.Expect); !ok {
			ac.Addf(at.With("expect"), "unknown expectation %q in scenario %s", a.Expect, sc.ID)
		}
	}
	if a.Result != "" && !slices.Contains(Results, a.Result) {
		ac.Addf(at.With("result"), "unknown result %q; use met, late or missed", a.Result)
	}
}

func (ac *actionsCheck) rate(at path, a *DrillAction) {
	ac.objective(at.With("objective"), ac.sc, a.Objective)
	if a.Rating != "" && !slices.Contains(Ratings, a.Rating) {
		ac.Addf(at.With("rating"), "unknown rating %q; use P, S, M or U (HSEEP)", a.Rating)
	}
}

// actionItem checks an improvement-plan item of the hot wash.
func (ac *actionsCheck) actionItem(at path, item DrillActionItem) {
	ac.Required(at, "text", item.Text)
	ac.Required(at, "owner", item.Owner)
	if item.Due == "" {
		ac.Missing(at.With("due"), "due")
	} else if _, err := ParseDue(item.Due, time.Time{}); err != nil {
		ac.Addf(at.With("due"), "%v", err)
	}
	if item.Start != "" {
		if _, err := ParseDue(item.Start, time.Time{}); err != nil {
			ac.Addf(at.With("start"), "%v", err)
		}
	}
	if item.Element != "" && !slices.Contains(Elements, item.Element) {
		ac.Addf(at.With("element"), "unknown element %q; use %s (POETE)", item.Element, strings.Join(Elements, ", "))
	}
	ac.objective(at.With("objective"), ac.sc, item.Objective)
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

func moduleIDs(sc *Scenario) []string {
	ids := make([]string, 0, len(sc.Modules))
	for _, m := range sc.Modules {
		ids = append(ids, m.ID)
	}
	return ids
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
