package tabletop

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	At Offset `json:"at"`
	// Headline sums up the score, critical tasks first: what a reader of
	// the report sees before any table.
	Headline string `json:"headline"`
	// Critical counts the critical tasks (expectations flagged critical).
	Critical Tally `json:"critical"`
	// Weighted is the share of the expected actions achieved, in percent:
	// met counts whole, late half, missed nothing, and a critical task
	// three times as much as another. Pending and not played ones are left
	// out. -1 when nothing was scored yet.
	Weighted int `json:"weighted"`
	Met      int `json:"met"`
	Late     int `json:"late"`
	Missed   int `json:"missed"`
	Pending  int `json:"pending"`
	// NotPlayed counts the expectations of injects never delivered in a
	// run that has ended: not scored.
	NotPlayed    int                `json:"not_played"`
	Expectations []ExpectationScore `json:"expectations"`
	Times        []TimeScore        `json:"times"`
	Clocks       []ClockScore       `json:"clocks"`
	Objectives   []ObjectiveScore   `json:"objectives"`
}

// Tally counts results.
type Tally struct {
	Total     int `json:"total"`
	Met       int `json:"met"`
	Late      int `json:"late"`
	Missed    int `json:"missed"`
	Pending   int `json:"pending"`
	NotPlayed int `json:"not_played"`
}

func (t *Tally) add(r Result) {
	t.Total++
	switch r {
	case Met:
		t.Met++
	case Late:
		t.Late++
	case Missed:
		t.Missed++
	case NotPlayed:
		t.NotPlayed++
	default:
		t.Pending++
	}
}

// ExpectationScore is the verdict on one expected action, with its times
// from T+0.
type ExpectationScore struct {
	ID          string `json:"id"`
	Inject      string `json:"inject"`
	Module      string `json:"module,omitempty"`
	Objective   string `json:"objective,omitempty"`
	Action      string `json:"action"`
	Description string `json:"description"`
	Critical    bool   `json:"critical,omitempty"`
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
	Incident   string  `json:"incident,omitempty"`
	Soft       bool    `json:"soft,omitempty"`
	Start      *Offset `json:"start,omitempty"`
	Due        *Offset `json:"due,omitempty"`
	Submitted  *Offset `json:"submitted,omitempty"`
	// Via says how the clock was stopped: "recorded" (a submission
	// recorded on the incident), or the notice approved or delivered for
	// it ("approved customer-notice"): in a drill, an approved notice
	// counts as sent to its audience at that moment, as it does in the
	// expected actions.
	Via   string `json:"via,omitempty"`
	State string `json:"state"`
	Late  bool   `json:"late,omitempty"`
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
	// Critical lists the critical tasks that evidence the objective.
	Critical []string `json:"critical,omitempty"`
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
	obligation              string // the obligation the notice serves, if any
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
	delivered := slices.Clone(r.delivered)
	incidents := map[string]string{"": rec.IncidentID}
	for m, id := range r.modules {
		incidents[m] = id
	}
	r.mu.Unlock()
	if rec.Ended() {
		now = rec.Position
	}
	evs := map[string]*evidence{}
	for module, id := range incidents {
		ev, err := r.gather(ctx, module, id)
		if err != nil {
			return Score{}, err
		}
		evs[module] = ev
	}
	events, err := r.deps.Store.DrillEvents(ctx, rec.ID)
	if err != nil {
		return Score{}, err
	}
	return score(r.sc, rec, evs, delivered, events, now), nil
}

// gather reads the record of the drill incident of a module ("" : the
// scenario's): timeline, notices and clocks.
func (r *Run) gather(ctx context.Context, module, incidentID string) (*evidence, error) {
	ev := &evidence{}
	if incidentID == "" {
		return ev, nil
	}
	d, err := r.deps.Store.Incident(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	rb := r.RunbookFor(module)
	serves := func(rule, audience string) string {
		if rb != nil {
			if n, ok := rb.Notification(rule); ok && n.Obligation != "" && n.Obligation != "none" {
				return n.Obligation
			}
		}
		if audience == "customers" {
			return "customer-notice"
		}
		return ""
	}
	ev.in, ev.hasInc = d.Incident, true
	for _, e := range d.Timeline {
		en := entry{TimelineEntry: e}
		_ = json.Unmarshal(e.Data, &en.data)
		if e.Kind == "closed" && en.data["drill_end"] != nil {
			continue // closed with its run, not by the team
		}
		ev.entries = append(ev.entries, en)
		if e.Kind == SimulatedApprovalKind {
			rule, audience := ev.str(en, "notification"), ev.str(en, "audience")
			ev.approvals = append(ev.approvals, approval{rule: rule, audience: audience, summary: e.Summary, at: e.At,
				obligation: serves(rule, audience)})
		}
	}
	sort.SliceStable(ev.entries, func(i, j int) bool { return ev.entries[i].At.Before(ev.entries[j].At) })
	notices, err := r.deps.Store.DrillNotices(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	for _, n := range notices {
		ev.approvals = append(ev.approvals, approval{rule: n.RuleID, audience: n.Audience, at: n.At,
			summary: fmt.Sprintf("Notice %s to %s %s", n.RuleID, n.Audience, n.Status), obligation: serves(n.RuleID, n.Audience)})
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

// critical weighs a critical task against another expected action in
// Score.Weighted.
const criticalWeight = 3

func score(sc *Scenario, rec store.DrillRun, evs map[string]*evidence, delivered []bool, events []store.DrillEvent,
	now time.Time) Score {
	epoch := rec.Epoch
	off := func(t time.Time) *Offset { return offsetPtr(t.Sub(epoch)) }
	s := Score{RunID: rec.ID, ScenarioID: sc.ID, Status: rec.Status, Final: rec.Ended(), At: Offset(now.Sub(epoch)),
		Expectations: []ExpectationScore{}, Times: []TimeScore{}, Clocks: []ClockScore{}, Objectives: []ObjectiveScore{}}
	main := evs[""]
	if main == nil {
		main = &evidence{}
	}

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
	var weight, earned float64
	for i := range sc.Injects {
		in := &sc.Injects[i]
		injectAt := epoch.Add(in.Offset)
		ev := evs[sc.IncidentModule(in)]
		if ev == nil {
			ev = &evidence{}
		}
		played := i < len(delivered) && delivered[i]
		for _, e := range in.Expect {
			es := ExpectationScore{ID: e.ID, Inject: in.ID, Module: in.Module, Objective: e.Objective, Action: e.Action,
				Description: Describe(e), Critical: e.Critical}
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
			case s.Final && !played:
				// The team never got the news: nothing to score.
				es.Result = NotPlayed
			case s.Final:
				es.Result = Missed
			default:
				es.Result = Pending
				es.Overdue = played && hasDue && now.After(dueAt)
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
			case NotPlayed:
				s.NotPlayed++
			default:
				s.Pending++
			}
			if es.Critical {
				s.Critical.add(es.Result)
			}
			if w := expectationWeight(es); es.Result == Met || es.Result == Late || es.Result == Missed {
				weight += w
				switch es.Result {
				case Met:
					earned += w
				case Late:
					earned += w / 2
				}
			}
			s.Expectations = append(s.Expectations, es)
		}
	}
	s.Weighted = -1
	if weight > 0 {
		s.Weighted = int(earned/weight*100 + 0.5)
	}

	s.Times = responseTimes(sc, main, dueOf, s.Final, off)
	s.Clocks = clocks(evs, now, off)

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
			case NotPlayed:
			default:
				os.Pending++
			}
			if es.Critical {
				os.Critical = append(os.Critical, es.ID)
			}
		}
		os.Suggested = suggestRating(os.Met, os.Late, os.Missed, os.Pending)
		if rt, ok := ratings[o.ID]; ok {
			os.Rating, os.RatedBy, os.Note = Rating(rt.Value), rt.Actor, rt.Text
			os.RatingText = RatingText[os.Rating]
		}
		s.Objectives = append(s.Objectives, os)
	}
	s.Headline = headline(s)
	return s
}

func expectationWeight(es ExpectationScore) float64 {
	if es.Critical {
		return criticalWeight
	}
	return 1
}

// headline sums the score up in one line, critical tasks first and named
// when they were not met.
func headline(s Score) string {
	var b strings.Builder
	if c := s.Critical; c.Total > 0 {
		fmt.Fprintf(&b, "Critical tasks: %d of %d met", c.Met, c.Total-c.NotPlayed)
		var bad []string
		for _, e := range s.Expectations {
			if !e.Critical {
				continue
			}
			switch e.Result {
			case Missed:
				bad = append(bad, e.ID+" missed")
			case Late:
				what := e.ID + " late"
				if e.Delay != nil {
					what += " by " + strings.TrimPrefix(e.Delay.String(), "T+")
				}
				bad = append(bad, what)
			}
		}
		if len(bad) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(bad, "; "))
		}
		b.WriteString(". ")
	}
	if s.Weighted >= 0 {
		fmt.Fprintf(&b, "Weighted score %d%%", s.Weighted)
		if s.Critical.Total > 0 {
			fmt.Fprintf(&b, " (critical tasks count %d times)", criticalWeight)
		}
		b.WriteString(". ")
	}
	fmt.Fprintf(&b, "Expected actions: %d met, %d late, %d missed", s.Met, s.Late, s.Missed)
	if s.Pending > 0 {
		fmt.Fprintf(&b, ", %d pending", s.Pending)
	}
	if s.NotPlayed > 0 {
		fmt.Fprintf(&b, "; %d not played (their injects were never delivered)", s.NotPlayed)
	}
	b.WriteString(".")
	return b.String()
}

// responseTimes are the key response times on the scenario's incident,
// with the target of the scenario's first expectation of each kind.
func responseTimes(sc *Scenario, ev *evidence, dueOf map[string]*Offset, final bool, off func(time.Time) *Offset) []TimeScore {
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
	out := []TimeScore{}
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
		for i := range sc.Injects {
			if sc.IncidentModule(&sc.Injects[i]) != "" {
				continue
			}
			for _, e := range sc.Injects[i].Expect {
				if k.target(e) {
					if d := dueOf[e.ID]; d != nil {
						ts.Target = d
						switch {
						case ok && time.Duration(*ts.At) <= time.Duration(*d):
							ts.Result = Met
						case ok:
							ts.Result = Late
						case final:
							ts.Result = Missed
						default:
							ts.Result = Pending
						}
					}
					break find
				}
			}
		}
		out = append(out, ts)
	}
	return out
}

// clocks are the regulatory and contractual clocks of the drill
// incidents. A clock whose obligation has no recorded submission is
// stopped by the first notice approved (or sent without needing approval)
// that serves it: a drill counts an approved notice as sent at that
// moment, as its expected actions do, so the two tables agree.
func clocks(evs map[string]*evidence, now time.Time, off func(time.Time) *Offset) []ClockScore {
	out := []ClockScore{}
	for _, module := range sortedKeys(evs) {
		ev := evs[module]
		for _, o := range ev.obs {
			via := ""
			if !o.Submitted.IsZero() && !o.Submitted.After(now) {
				via = "recorded"
			} else {
				for _, a := range ev.approvals {
					if a.obligation == o.Rule.ID && !a.at.After(now) {
						o.Submitted, via = a.at, "approved "+a.rule
						break
					}
				}
			}
			st := o.At(now)
			cs := ClockScore{Obligation: o.Rule.ID, Title: o.Rule.Title, Regime: o.Rule.Regime, Soft: o.Rule.Soft,
				State: string(st.State), Late: st.Late, Via: via}
			if module != "" {
				cs.Incident = ev.in.ID
			}
			if !o.Start.IsZero() {
				cs.Start = off(o.Start)
			}
			if !st.Due.IsZero() {
				cs.Due = off(st.Due)
			}
			if via != "" {
				cs.Submitted = off(o.Submitted)
			}
			out = append(out, cs)
		}
	}
	return out
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
