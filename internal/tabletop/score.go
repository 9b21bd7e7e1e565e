package tabletop

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// SimulatedApprovalKind is the timeline entry a scripted approval records
// on the drill incident when no notify approver is wired in (Deps.Approve).
const SimulatedApprovalKind = "drill_notice_approved"

// Score is how the team did, at a moment of play or at its end.
type Score struct {
	RunID      string `json:"run_id"`
	ScenarioID string `json:"scenario_id"`
	Status     string `json:"status"`
	// Final: the run has ended, so what was not done is missed.
	Final bool `json:"final"`
	// At is how far into play the score was taken.
	At           Offset             `json:"at"`
	Met          int                `json:"met"`
	Late         int                `json:"late"`
	Missed       int                `json:"missed"`
	Pending      int                `json:"pending"`
	Expectations []ExpectationScore `json:"expectations"`
	Times        []TimeScore        `json:"times"`
	Clocks       []ClockScore       `json:"clocks"`
	Objectives   []ObjectiveScore   `json:"objectives"`
}

// ExpectationScore is the verdict on one expected action, with its times
// from T+0.
type ExpectationScore struct {
	ID          string `json:"id"`
	Inject      string `json:"inject"`
	Objective   string `json:"objective,omitempty"`
	Action      string `json:"action"`
	Description string `json:"description"`
	Result      Result `json:"result"`
	// Due is the target time; nil when the expectation has none (or its
	// anchor, such as the declaration, has not happened).
	Due *Offset `json:"due,omitempty"`
	// Done is when the action was taken, from the drill incident's record.
	Done *Offset `json:"done,omitempty"`
	// Delay is how late it was, for a late action.
	Delay *Offset `json:"delay,omitempty"`
	// Overdue: pending and past its target.
	Overdue  bool   `json:"overdue,omitempty"`
	Evidence string `json:"evidence,omitempty"`
	// Manual: the facilitator marked the result; Auto is what the record
	// alone said.
	Manual   bool   `json:"manual,omitempty"`
	Auto     Result `json:"auto,omitempty"`
	MarkedBy string `json:"marked_by,omitempty"`
	Note     string `json:"note,omitempty"`
}

// TimeScore is a key response time: to declare, to classify, to assign a
// commander, to notify stakeholders and customers. Target and Result come
// from the scenario's first expectation of that kind, if there is one.
type TimeScore struct {
	Name   string  `json:"name"` // declared, classified, commander, stakeholders, customers
	Label  string  `json:"label"`
	At     *Offset `json:"at,omitempty"`
	Target *Offset `json:"target,omitempty"`
	Result Result  `json:"result,omitempty"`
}

// ClockScore is a regulatory or contractual clock of the drill incident,
// on the drill clock.
type ClockScore struct {
	Obligation string  `json:"obligation"`
	Title      string  `json:"title"`
	Regime     string  `json:"regime"`
	Soft       bool    `json:"soft,omitempty"`
	Start      *Offset `json:"start,omitempty"`
	Due        *Offset `json:"due,omitempty"`
	Submitted  *Offset `json:"submitted,omitempty"`
	State      string  `json:"state"`
	Late       bool    `json:"late,omitempty"`
}

// ObjectiveScore is an objective with the facilitator's rating and the
// results of the expectations that evidence it.
type ObjectiveScore struct {
	ID         string `json:"id"`
	Text       string `json:"text"`
	Runbook    string `json:"runbook"`
	Capability string `json:"capability"`
	Rating     Rating `json:"rating,omitempty"`
	RatingText string `json:"rating_text,omitempty"`
	RatedBy    string `json:"rated_by,omitempty"`
	Note       string `json:"note,omitempty"`
	// Suggested is a rating from the expectations alone: all met P, some
	// late S, some missed M, all missed U. The facilitator decides.
	Suggested Rating `json:"suggested,omitempty"`
	Met       int    `json:"met"`
	Late      int    `json:"late"`
	Missed    int    `json:"missed"`
	Pending   int    `json:"pending"`
}

// Describe says in words what an expectation asks for.
func Describe(e Expectation) string {
	if e.Text != "" {
		return e.Text
	}
	switch e.Action {
	case ExpectDeclare:
		return "Incident declared"
	case ExpectClassify:
		if e.Severity == "SEV1" {
			return "Classified as an incident of SEV1"
		}
		return fmt.Sprintf("Classified as an incident of %s or worse", e.Severity)
	case ExpectAssign:
		return "Role " + e.Role + " assigned"
	case ExpectAck:
		return "Role " + e.Role + " acknowledged by its holder"
	case ExpectStep:
		return "Step " + e.Step + " done"
	case ExpectApprove:
		if e.Notification != "" {
			return "Notice " + e.Notification + " approved"
		}
		return "A notice to " + e.Audience + " approved"
	case ExpectSubmit:
		return "Submission for " + e.Obligation + " recorded"
	case ExpectCustomer:
		return "Affected customer linked"
	case ExpectClose:
		return "Incident closed"
	}
	return e.Action
}

// evidence is what the drill incident's record shows, for scoring.
type evidence struct {
	in        store.Incident
	hasInc    bool
	entries   []entry
	approvals []approval
	obs       []deadline.Obligation
}

type entry struct {
	store.TimelineEntry
	data map[string]any
}

type approval struct {
	rule, audience, summary string
	at                      time.Time
}

func (ev *evidence) str(e entry, key string) string {
	s, _ := e.data[key].(string)
	return s
}

// Score computes the score now (drill time), or at the end of play.
func (r *Run) Score(ctx context.Context) (Score, error) {
	real := r.deps.real().Now()
	r.mu.Lock()
	rec := r.rec
	now := rec.Clock.At(real)
	r.mu.Unlock()
	if rec.Ended() {
		now = rec.Position
	}
	ev, err := r.gather(ctx, rec)
	if err != nil {
		return Score{}, err
	}
	events, err := r.deps.Store.DrillEvents(ctx, rec.ID)
	if err != nil {
		return Score{}, err
	}
	return score(r.sc, rec, ev, events, now), nil
}

// gather reads the drill incident's record: timeline, notices and clocks.
func (r *Run) gather(ctx context.Context, rec store.DrillRun) (*evidence, error) {
	ev := &evidence{}
	if rec.IncidentID == "" {
		return ev, nil
	}
	d, err := r.deps.Store.Incident(ctx, rec.IncidentID)
	if err != nil {
		return nil, err
	}
	ev.in, ev.hasInc = d.Incident, true
	for _, e := range d.Timeline {
		en := entry{TimelineEntry: e}
		_ = json.Unmarshal(e.Data, &en.data)
		ev.entries = append(ev.entries, en)
		if e.Kind == SimulatedApprovalKind {
			ev.approvals = append(ev.approvals, approval{rule: ev.str(en, "notification"),
				audience: ev.str(en, "audience"), summary: e.Summary, at: e.At})
		}
	}
	sort.SliceStable(ev.entries, func(i, j int) bool { return ev.entries[i].At.Before(ev.entries[j].At) })
	notices, err := r.deps.Store.DrillNotices(ctx, rec.IncidentID)
	if err != nil {
		return nil, err
	}
	for _, n := range notices {
		ev.approvals = append(ev.approvals, approval{rule: n.RuleID, audience: n.Audience, at: n.At,
			summary: fmt.Sprintf("Notice %s to %s %s", n.RuleID, n.Audience, n.Status)})
	}
	sort.SliceStable(ev.approvals, func(i, j int) bool { return ev.approvals[i].at.Before(ev.approvals[j].at) })
	ev.obs = incident.Obligations(d.Incident, d.Obligations, r.deps.Policy)
	return ev, nil
}

// first returns the first entry of kind for which match holds.
func (ev *evidence) first(kind string, match func(entry) bool) (entry, bool) {
	for _, e := range ev.entries {
		if e.Kind == kind && (match == nil || match(e)) {
			return e, true
		}
	}
	return entry{}, false
}

// classifiedAs finds when the incident was first an incident of severity
// sev or worse ("" for any).
func (ev *evidence) classifiedAs(sev string) (entry, bool) {
	isIncident, current := false, ""
	for _, e := range ev.entries {
		switch e.Kind {
		case "declared", "classified":
			if inc, ok := e.data["incident"].(bool); ok {
				isIncident = inc
			}
			if s := ev.str(e, "severity"); s != "" {
				current = s
			}
		case "severity_raised", "severity_lowered":
			if s := ev.str(e, "to"); s != "" {
				current = s
			}
		case "dismissed":
			isIncident = false
		default:
			continue
		}
		if isIncident && current != "" && (sev == "" || classify.SeverityRank(current) <= classify.SeverityRank(sev)) {
			return e, true
		}
	}
	return entry{}, false
}

// flagSet finds the first classification that set flag.
func (ev *evidence) flagSet(flag string) (entry, bool) {
	return ev.first("classified", func(e entry) bool {
		flags, _ := e.data["flags"].([]any)
		return slices.Contains(flags, any(flag))
	})
}

// done finds when an expectation's action was taken, and how it shows.
func (ev *evidence) done(e Expectation) (time.Time, string, bool) {
	found := func(en entry, ok bool) (time.Time, string, bool) {
		if !ok {
			return time.Time{}, "", false
		}
		return en.At, en.Summary, true
	}
	switch e.Action {
	case ExpectDeclare:
		return found(ev.first("declared", func(en entry) bool { inc, _ := en.data["incident"].(bool); return inc }))
	case ExpectClassify:
		return found(ev.classifiedAs(e.Severity))
	case ExpectAssign:
		return found(ev.first("role_assigned", func(en entry) bool { return ev.str(en, "role") == e.Role }))
	case ExpectAck:
		return found(ev.first("role_acknowledged", func(en entry) bool { return ev.str(en, "role") == e.Role }))
	case ExpectStep:
		return found(ev.first("step_completed", func(en entry) bool { return ev.str(en, "step") == e.Step }))
	case ExpectSubmit:
		return found(ev.first("obligation_submitted", func(en entry) bool { return ev.str(en, "obligation") == e.Obligation }))
	case ExpectCustomer:
		return found(ev.first("customer_linked", nil))
	case ExpectClose:
		return found(ev.first("closed", nil))
	case ExpectApprove:
		for _, a := range ev.approvals {
			if (e.Notification == "" || a.rule == e.Notification) && (e.Audience == "" || a.audience == e.Audience) {
				return a.at, a.summary, true
			}
		}
	}
	return time.Time{}, "", false
}

// due resolves an expectation's target to a drill time; ok is false when
// it has none, or its anchor has not happened.
func (ev *evidence) due(e Expectation, inject time.Time) (time.Time, bool) {
	t := e.Target
	if t == nil {
		return time.Time{}, false
	}
	switch {
	case t.From == "inject":
		return inject.Add(t.After), true
	case t.From == "declared":
		if en, ok := ev.first("declared", nil); ok {
			return en.At.Add(t.After), true
		}
	case t.From == "classified":
		if en, ok := ev.classifiedAs(""); ok {
			return en.At.Add(t.After), true
		}
	case len(t.From) > 5 && t.From[:5] == "flag:":
		if en, ok := ev.flagSet(t.From[5:]); ok {
			return en.At.Add(t.After), true
		}
	case t.From == "obligation":
		for _, o := range ev.obs {
			if o.Rule.ID == t.Obligation && !o.Due.IsZero() {
				return o.Due, true
			}
		}
	}
	return time.Time{}, false
}

func score(sc *Scenario, rec store.DrillRun, ev *evidence, events []store.DrillEvent, now time.Time) Score {
	epoch := rec.Epoch
	off := func(t time.Time) *Offset { return offsetPtr(t.Sub(epoch)) }
	s := Score{RunID: rec.ID, ScenarioID: sc.ID, Status: rec.Status, Final: rec.Ended(), At: Offset(now.Sub(epoch)),
		Expectations: []ExpectationScore{}, Times: []TimeScore{}, Clocks: []ClockScore{}, Objectives: []ObjectiveScore{}}

	marks := map[string]store.DrillEvent{}
	ratings := map[string]store.DrillEvent{}
	for _, e := range events {
		switch e.Kind {
		case "mark":
			marks[e.Ref] = e
		case "rating":
			ratings[e.Ref] = e
		}
	}

	dueOf := map[string]*Offset{}
	for _, in := range sc.Injects {
		injectAt := epoch.Add(in.Offset)
		for _, e := range in.Expect {
			es := ExpectationScore{ID: e.ID, Inject: in.ID, Objective: e.Objective, Action: e.Action, Description: Describe(e)}
			doneAt, summary, done := ev.done(e)
			dueAt, hasDue := ev.due(e, injectAt)
			if hasDue {
				es.Due = off(dueAt)
				dueOf[e.ID] = es.Due
			}
			switch {
			case done:
				es.Done, es.Evidence = off(doneAt), summary
				es.Result = Met
				if hasDue && doneAt.After(dueAt) {
					es.Result, es.Delay = Late, offsetPtr(doneAt.Sub(dueAt))
				}
			case s.Final:
				es.Result = Missed
			default:
				es.Result = Pending
				es.Overdue = hasDue && now.After(dueAt)
			}
			if m, ok := marks[e.ID]; ok {
				es.Auto, es.Result, es.Manual, es.MarkedBy, es.Note = es.Result, Result(m.Value), true, m.Actor, m.Text
				es.Overdue = false
			}
			switch es.Result {
			case Met:
				s.Met++
			case Late:
				s.Late++
			case Missed:
				s.Missed++
			default:
				s.Pending++
			}
			s.Expectations = append(s.Expectations, es)
		}
	}

	// Key response times, with the target of the first expectation of
	// each kind.
	type key struct {
		name, label string
		at          func() (entry, bool)
		approval    string // audience, for notices
		target      func(Expectation) bool
	}
	keys := []key{
		{name: "declared", label: "Incident declared", at: func() (entry, bool) {
			return ev.first("declared", func(en entry) bool { inc, _ := en.data["incident"].(bool); return inc })
		}, target: func(e Expectation) bool { return e.Action == ExpectDeclare }},
		{name: "classified", label: "Classified as an incident", at: func() (entry, bool) { return ev.classifiedAs("") },
			target: func(e Expectation) bool { return e.Action == ExpectClassify }},
		{name: "commander", label: "Incident commander assigned", at: func() (entry, bool) {
			return ev.first("role_assigned", func(en entry) bool { return ev.str(en, "role") == "incident_commander" })
		}, target: func(e Expectation) bool {
			return e.Action == ExpectAssign && e.Role == "incident_commander"
		}},
		{name: "stakeholders", label: "Stakeholders notified", approval: "stakeholders", target: func(e Expectation) bool {
			return e.Action == ExpectApprove && e.Audience == "stakeholders"
		}},
		{name: "customers", label: "Customers notified", approval: "customers", target: func(e Expectation) bool {
			return e.Action == ExpectApprove && e.Audience == "customers"
		}},
	}
	for _, k := range keys {
		ts := TimeScore{Name: k.name, Label: k.label}
		var at time.Time
		var ok bool
		if k.approval != "" {
			for _, a := range ev.approvals {
				if a.audience == k.approval {
					at, ok = a.at, true
					break
				}
			}
		} else if en, found := k.at(); found {
			at, ok = en.At, true
		}
		if ok {
			ts.At = off(at)
		}
	find:
		for _, in := range sc.Injects {
			for _, e := range in.Expect {
				if k.target(e) {
					if d := dueOf[e.ID]; d != nil {
						ts.Target = d
						switch {
						case ok && time.Duration(*ts.At) <= time.Duration(*d):
							ts.Result = Met
						case ok:
							ts.Result = Late
						case s.Final:
							ts.Result = Missed
						default:
							ts.Result = Pending
						}
					}
					break find
				}
			}
		}
		s.Times = append(s.Times, ts)
	}

	for _, o := range ev.obs {
		st := o.At(now)
		cs := ClockScore{Obligation: o.Rule.ID, Title: o.Rule.Title, Regime: o.Rule.Regime, Soft: o.Rule.Soft,
			State: string(st.State), Late: st.Late}
		if !o.Start.IsZero() {
			cs.Start = off(o.Start)
		}
		if !st.Due.IsZero() {
			cs.Due = off(st.Due)
		}
		if !o.Submitted.IsZero() && !o.Submitted.After(now) {
			cs.Submitted = off(o.Submitted)
		}
		s.Clocks = append(s.Clocks, cs)
	}

	for _, o := range sc.Objectives {
		os := ObjectiveScore{ID: o.ID, Text: o.Text, Runbook: o.Runbook, Capability: o.Capability}
		for _, es := range s.Expectations {
			if es.Objective != o.ID {
				continue
			}
			switch es.Result {
			case Met:
				os.Met++
			case Late:
				os.Late++
			case Missed:
				os.Missed++
			default:
				os.Pending++
			}
		}
		os.Suggested = suggestRating(os.Met, os.Late, os.Missed, os.Pending)
		if rt, ok := ratings[o.ID]; ok {
			os.Rating, os.RatedBy, os.Note = Rating(rt.Value), rt.Actor, rt.Text
			os.RatingText = RatingText[os.Rating]
		}
		s.Objectives = append(s.Objectives, os)
	}
	return s
}

func suggestRating(met, late, missed, pending int) Rating {
	total := met + late + missed + pending
	switch {
	case total == 0:
		return ""
	case missed == total:
		return Unable
	case missed > 0:
		return MajorChallenge
	case late > 0:
		return SomeChallenges
	case pending > 0:
		return ""
	}
	return Performed
}
