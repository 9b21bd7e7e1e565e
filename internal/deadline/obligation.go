package deadline

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// A Rule describes one notification or record-keeping obligation: when it
// applies, which recorded event starts its clock, how long the clock runs
// and what the notice must contain. The shipped rules are listed by Rules
// and RuleByID; docs/deadlines.md describes each.
type Rule struct {
	ID        string `yaml:"id" json:"id"`
	Title     string `yaml:"title" json:"title"`
	Regime    string `yaml:"regime" json:"regime"`       // GDPR, NIS2, DORA, SEC, HIPAA, California, NYDFS, Contract
	Source    string `yaml:"source" json:"source"`       // legal citation
	Recipient string `yaml:"recipient" json:"recipient"` // who receives the notice or record
	// Confidence is the reference material's label for the rule: V
	// (verified against the text), S (secondary sources agree), M (not
	// re-checked); combinations such as "V/M" qualify parts of the rule.
	Confidence string `yaml:"confidence" json:"confidence"`
	// Soft rules ("without undue delay") have no legal due time: their clock
	// runs to an internal target and escalates past it instead of becoming
	// overdue.
	Soft bool `yaml:"soft,omitempty" json:"soft,omitempty"`
	// Pausable rules honour every Pause that names no rules (a
	// law-enforcement delay); a Pause that names rules applies to exactly
	// those, pausable or not.
	Pausable bool `yaml:"pausable,omitempty" json:"pausable,omitempty"`
	// Zone, if set, is the IANA time zone the rule's clock is kept in,
	// instead of the policy's (the SEC counts EDGAR business days in New
	// York).
	Zone string `yaml:"zone,omitempty" json:"zone,omitempty"`
	// Authority marks a notice to a government body, self-regulatory agency
	// or supervisory authority (a regulator), as opposed to one to people,
	// customers or the media, or an internal record.
	Authority bool `yaml:"authority,omitempty" json:"authority,omitempty"`
	// Info marks a clock that is not ours but is shown for planning, such
	// as each controller's own Art. 33 deadline once we have told it of a
	// breach. It never becomes overdue: past its due time it is Passed.
	Info bool `yaml:"info,omitempty" json:"info,omitempty"`
	// Calendar names the holiday calendar the rule's business days are
	// counted in: "US", "NL", or "member_state" for the policy's
	// member_state. Empty: weekends only.
	Calendar string `yaml:"calendar,omitempty" json:"calendar,omitempty"`
	// Relief, if set, moves a due time that falls on a weekend day or a
	// holiday to a time of day on the next business day (DORA: RTS
	// 2025/301 Art. 5(4)).
	Relief *Relief `yaml:"relief,omitempty" json:"relief,omitempty"`
	// When says when the rule applies.
	When Condition `yaml:"when" json:"when"`
	// Or lists further conditions under any of which the rule applies too
	// (NIS2: significant under Art. 23(3), or for a managed service
	// provider under Implementing Regulation (EU) 2024/2690).
	Or []Condition `yaml:"or,omitempty" json:"or,omitempty"`
	// AlsoWhenAuthority makes the rule apply also when When's flags, unless
	// flags and thresholds do not hold, as long as When's policy switches
	// are on and a hard (not soft) Authority rule of another regime applies
	// to the incident by its own condition. 23 NYCRR 500.1(g)(1) and
	// 500.17(a): an incident that must be notified to any government body,
	// self-regulatory agency or supervisory body must be notified to NY DFS
	// too. The dependency is one level deep: a rule that applies only
	// through it makes no other rule apply.
	AlsoWhenAuthority bool `yaml:"also_when_authority,omitempty" json:"also_when_authority,omitempty"`
	// Due lists (anchor, offset) terms; the due time is the earliest among
	// those whose anchor is recorded. Ignored when Branches is set.
	Due []Term `yaml:"due,omitempty" json:"due,omitempty"`
	// Branches, if set, replace Due: the first branch whose condition holds
	// gives the terms; if none holds the rule does not apply.
	Branches []Branch `yaml:"branches,omitempty" json:"branches,omitempty"`
	// Content lists what the notice must contain.
	Content []ContentItem `yaml:"content" json:"content"`
	// IfLate is what a late notice must add (GDPR: the reasons for the delay).
	IfLate string `yaml:"if_late,omitempty" json:"if_late,omitempty"`
	// Notes are further conditions, exemptions and practical advice.
	Notes []string `yaml:"notes,omitempty" json:"notes,omitempty"`
	// Limits say what the rule cannot know and takes from people: the
	// anchors, judgements and facts it trusts.
	Limits []string `yaml:"limits,omitempty" json:"limits,omitempty"`
	// MetBy lists other rules whose submission also meets this one, when
	// it has none of its own: the customer notice to each controller
	// serves GDPR Art. 33(2).
	MetBy []string `yaml:"met_by,omitempty" json:"met_by,omitempty"`
}

// Relief moves a due time that falls on a non-business day of Calendar to
// the time of day At on the next business day, when the policy switch When
// is on.
type Relief struct {
	When     string `yaml:"when" json:"when"`
	Calendar string `yaml:"calendar" json:"calendar"`
	At       string `yaml:"at" json:"at"` // "12:00"
	Source   string `yaml:"source" json:"source"`
}

// ContentItem is one thing a notice must contain, such as GDPR
// Art. 33(3)(c) "describe the likely consequences of the breach".
type ContentItem struct {
	ID   string `yaml:"id" json:"id"`
	Text string `yaml:"text" json:"text"`
}

// Term is one (anchor, offset) pair of a rule's due time.
type Term struct {
	// Anchors are event names; the first one recorded in Input.Events
	// starts the clock, so later names are fallbacks ("determined", then
	// "classified"). "submitted:RULE-ID" chains to another obligation.
	Anchors []string `yaml:"anchors" json:"anchors"`
	Offset  Offset   `yaml:"offset" json:"offset"`
	// OffsetFrom names a policy key whose value replaces Offset; only
	// "customer_notice_target" is known.
	OffsetFrom string `yaml:"offset_from,omitempty" json:"offset_from,omitempty"`
	// FromYearEnd runs the offset from the end (31 Dec 23:59:59) of the
	// calendar year containing the anchor, as for HIPAA's annual log.
	FromYearEnd bool `yaml:"from_year_end,omitempty" json:"from_year_end,omitempty"`
	// Cutoff is the time of day ("17:30") at which a business-day offset
	// ends; empty means 23:59:59. EDGAR dates a filing made after 17:30
	// Eastern time on the next business day.
	Cutoff string `yaml:"cutoff,omitempty" json:"cutoff,omitempty"`
	// IgnoreIfBefore lists anchors: the term is left out when its due
	// time comes before the first of them that is recorded. DORA: an
	// incident classified as major more than 24 hours after awareness is
	// due 4 hours after the classification (RTS 2025/301 Art. 5(2)), not at
	// the 24-hour mark already past.
	IgnoreIfBefore []string `yaml:"ignore_if_before,omitempty" json:"ignore_if_before,omitempty"`
}

// Branch is one alternative of a rule whose clock depends on a threshold.
type Branch struct {
	Name string    `yaml:"name" json:"name"`
	When Condition `yaml:"when" json:"when"`
	Due  []Term    `yaml:"due" json:"due"`
}

// Condition is a conjunction: every listed policy switch is on, every flag
// is set, no Unless flag is set and every threshold holds.
type Condition struct {
	// Policy switches are the policy's snake_case boolean keys, or
	// "us_state:XX" for a state listed in us_states.
	Policy []string    `yaml:"policy,omitempty" json:"policy,omitempty"`
	Flags  []string    `yaml:"flags,omitempty" json:"flags,omitempty"`
	Unless []string    `yaml:"unless,omitempty" json:"unless,omitempty"`
	Facts  []Threshold `yaml:"facts,omitempty" json:"facts,omitempty"`
}

// Op is a comparison operator of a Threshold.
type Op string

// The comparison operators.
const (
	GE Op = ">="
	GT Op = ">"
	LE Op = "<="
	LT Op = "<"
	EQ Op = "=="
	NE Op = "!="
)

// Threshold compares a numeric fact with a value.
type Threshold struct {
	// Facts are fact names; the first one present in Input.Facts is
	// compared, so later names are fallbacks.
	Facts []string `yaml:"facts" json:"facts"`
	Op    Op       `yaml:"op" json:"op"`
	Value float64  `yaml:"value" json:"value"`
	// IfUnknown is the result when none of the facts is known: true for
	// "assume the worst" thresholds. The obligation notes the assumption.
	IfUnknown bool `yaml:"if_unknown,omitempty" json:"if_unknown,omitempty"`
}

func (t Threshold) holds(v float64) bool {
	switch t.Op {
	case GE:
		return v >= t.Value
	case GT:
		return v > t.Value
	case LE:
		return v <= t.Value
	case LT:
		return v < t.Value
	case EQ:
		return v == t.Value
	case NE:
		return v != t.Value
	}
	return false
}

// Input is what is known about one incident.
type Input struct {
	// Incident is false for an event that was not declared an incident:
	// it has no obligations.
	Incident bool
	// Flags are named yes/no facts set by the runbook's classification
	// ("personal_data_breach", "dora_major", ...).
	Flags map[string]bool
	// Facts are named numbers ("affected_people", ...).
	Facts map[string]float64
	// Events are the recorded anchor times: "aware", "classified",
	// "determined", "discovered", "classified_major", "ransom_paid" and
	// "submitted:RULE-ID" for every obligation met. Zero times count as
	// not recorded.
	Events map[string]time.Time
	// Pauses are law-enforcement and similar delays.
	Pauses []Pause
}

// Pause is an interval during which obligation clocks stand still, such as a
// law-enforcement delay. An open pause (zero End) freezes the clock until it
// is closed.
type Pause struct {
	Start  time.Time `yaml:"start" json:"start"`
	End    time.Time `yaml:"end,omitzero" json:"end,omitzero"`
	Reason string    `yaml:"reason,omitempty" json:"reason,omitempty"`
	// Rules are the rule ids the pause applies to; empty means every
	// pausable rule.
	Rules []string `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// Interval is one stretch of time during which an obligation's clock stood
// still. End is zero while it is open.
type Interval struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end,omitzero"`
}

// Candidate is one (anchor, offset) term of an obligation, as evaluated.
type Candidate struct {
	Anchor string    `json:"anchor"`          // the anchor used, or the first one looked for
	At     time.Time `json:"at,omitzero"`     // the anchor time; zero if not recorded
	Offset Offset    `json:"offset"`          // as resolved from the policy
	Due    time.Time `json:"due,omitzero"`    // At plus Offset (before pauses)
	Chosen bool      `json:"chosen,omitzero"` // this term gives the due time
	// Ignored says why the term was left out (Term.IgnoreIfBefore).
	Ignored string `json:"ignored,omitempty"`
}

// Obligation is a Rule evaluated for one incident. Its times are in the
// rule's time zone. The Rule is shared with the package's table: treat its
// slices as read-only.
type Obligation struct {
	Rule Rule `json:"rule"`
	// Branch names the threshold branch that applied, for rules with
	// branches.
	Branch string `json:"branch,omitempty"`
	// Anchor is the event whose time starts the clock, e.g. "classified"
	// when "determined" was not recorded; Fallback is then true.
	Anchor   string `json:"anchor,omitempty"`
	Fallback bool   `json:"fallback,omitempty"`
	// WaitingFor is, while no anchor is recorded, the event that would start
	// the clock (e.g. "submitted:nis2-notification").
	WaitingFor string `json:"waiting_for,omitempty"`
	// Start is the anchor time (zero while waiting).
	Start time.Time `json:"start,omitzero"`
	// Due is the legal due time, or the internal target of a soft rule,
	// shifted by every closed pause. It is zero while waiting; while a pause
	// is open it excludes that pause (Status.Due includes it).
	Due time.Time `json:"due,omitzero"`
	// Allowed is the running time the rule gives: Due minus Start, before
	// pauses.
	Allowed time.Duration `json:"allowed"`
	// Pauses are the stretches of the clock that stood still, clipped to
	// the clock's run, merged and in order; an open one is last.
	Pauses []Interval `json:"pauses,omitempty"`
	// Submitted is the recorded "submitted:RULE-ID" time; zero if none.
	Submitted time.Time `json:"submitted,omitzero"`
	// Candidates are the rule's (anchor, offset) terms as evaluated.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Via lists, for a rule that applies through Rule.AlsoWhenAuthority
	// rather than its own condition, the other regimes' authority notices
	// that made it apply, in rule order.
	Via []string `json:"via,omitempty"`
	// Notes explain assumptions: fallback anchors, unknown facts, and why a
	// rule applies through another (Via).
	Notes []string `json:"notes,omitempty"`
	// Warnings say where the computed due time cannot be trusted as it
	// is, such as business days counted in a year whose holidays irtui
	// does not know.
	Warnings []string `json:"warnings,omitempty"`
}

// State is where an obligation stands at a moment.
type State string

// The states of an obligation.
const (
	Waiting   State = "waiting"   // the anchor event has not happened (or been recorded)
	Running   State = "running"   // less than DueSoonAt of the time used
	DueSoon   State = "due_soon"  // at least DueSoonAt of the time used, not yet past due
	Overdue   State = "overdue"   // past the due time, not submitted
	Paused    State = "paused"    // a pause is open: the clock stands still
	Escalated State = "escalated" // a soft obligation past its internal target
	Met       State = "met"       // submitted
	Passed    State = "passed"    // an Info clock (not ours) past its due time
)

// DueSoonAt is the fraction of the allowed time from which an obligation is
// due soon.
const DueSoonAt = 0.8

// Status is an obligation's standing at a moment, for countdown bars.
type Status struct {
	State State `json:"state"`
	// Due is the due time as of the moment: it grows while a pause is open.
	// Zero while waiting for an anchor.
	Due time.Time `json:"due,omitzero"`
	// Used is the fraction of the allowed time used (0 at the anchor, 1 at
	// the due time, above 1 past it). For a met obligation it is the
	// fraction used at submission.
	Used float64 `json:"used"`
	// Remaining is the running time left (negative past due). It does not
	// shrink while paused.
	Remaining time.Duration `json:"remaining"`
	// Level is a soft obligation's escalation level: 0 up to the target, 1
	// past it, 2 past twice the target interval, and so on.
	Level int `json:"level,omitempty"`
	// Late is set for an overdue obligation and one met after its due time:
	// the notice must then carry Rule.IfLate (GDPR: reasons for the delay).
	Late bool `json:"late,omitempty"`
}

// At returns the obligation's status at now. Events after now (a submission,
// the anchor itself, the start of a pause) are not yet seen, so a replay at
// an earlier time gives the status as it was then.
func (o Obligation) At(now time.Time) Status {
	submitted := !o.Submitted.IsZero() && !o.Submitted.After(now)
	if o.Start.IsZero() {
		if submitted {
			return Status{State: Met}
		}
		return Status{State: Waiting}
	}
	loc := o.Start.Location()
	if now.Before(o.Start) {
		return Status{State: Waiting, Due: o.Start.Add(o.Allowed), Remaining: o.Allowed}
	}
	at := now
	if submitted {
		at = o.Submitted
	}
	running, paused := o.running(at)
	s := Status{Used: o.fraction(running), Remaining: o.Allowed - running}
	s.Due = at.Add(s.Remaining).In(loc)
	late := running > o.Allowed
	switch {
	case submitted:
		s.State, s.Late = Met, late
	case paused:
		s.State = Paused
	case late && o.Rule.Info:
		s.State = Passed
	case late && o.Rule.Soft:
		s.State = Escalated
		s.Level = 1
		if o.Allowed > 0 {
			s.Level = max(1, int(running/o.Allowed))
		}
	case late:
		s.State, s.Late = Overdue, true
	case s.Used >= DueSoonAt:
		s.State = DueSoon
	default:
		s.State = Running
	}
	return s
}

// running returns the clock's running time from Start to t, without the
// paused stretches, and whether a pause is in force at t.
func (o Obligation) running(t time.Time) (time.Duration, bool) {
	d := t.Sub(o.Start)
	paused := false
	for _, iv := range o.Pauses {
		if !iv.Start.Before(t) {
			break
		}
		end := iv.End
		if end.IsZero() || end.After(t) {
			end, paused = t, true
		}
		d -= end.Sub(iv.Start)
	}
	return d, paused
}

func (o Obligation) fraction(running time.Duration) float64 {
	if o.Allowed <= 0 {
		return 1 // due at the anchor: all the time is used at once
	}
	return float64(running) / float64(o.Allowed)
}

// Crossing returns when the clock reaches fraction f of the allowed time
// (0.5 = half, 1 = the due time, 2 = a soft rule's second escalation),
// counting closed pauses. ok is false while waiting, and when an open pause
// stands before the crossing, which then is not yet known.
func (o Obligation) Crossing(f float64) (at time.Time, ok bool) {
	if o.Start.IsZero() || f < 0 {
		return time.Time{}, false
	}
	var d time.Duration
	if f == 1 {
		d = o.Allowed
	} else {
		d = time.Duration(float64(o.Allowed) * f)
	}
	t := o.Start.Add(d)
	for _, iv := range o.Pauses {
		if !iv.Start.Before(t) {
			break
		}
		if iv.End.IsZero() {
			return time.Time{}, false
		}
		t = t.Add(iv.End.Sub(iv.Start))
	}
	return t, true
}

// Crossing is a moment a notification may fire on: Trigger is the runbook
// trigger name ("deadline_50", "deadline_80", "deadline_overdue").
type Crossing struct {
	Trigger  string    `json:"trigger"`
	Fraction float64   `json:"fraction"`
	At       time.Time `json:"at,omitzero"`
	Known    bool      `json:"known"` // false while waiting or while an open pause stands before it
}

// Crossings returns the 50 %, 80 % and 100 % crossing times. For a soft
// rule "deadline_overdue" is the moment it escalates to level 1.
func (o Obligation) Crossings() []Crossing {
	marks := [...]struct {
		trigger string
		f       float64
	}{{"deadline_50", 0.5}, {"deadline_80", DueSoonAt}, {"deadline_overdue", 1}}
	out := make([]Crossing, len(marks))
	for i, m := range marks {
		at, ok := o.Crossing(m.f)
		out[i] = Crossing{Trigger: m.trigger, Fraction: m.f, At: at, Known: ok}
	}
	return out
}

// EscalationAt returns when a soft obligation reaches escalation level
// (1 = past the target, 2 = past twice the target interval, ...).
func (o Obligation) EscalationAt(level int) (time.Time, bool) {
	if level < 1 {
		return time.Time{}, false
	}
	return o.Crossing(float64(level))
}

// evaluate turns rule r into an obligation for one incident; ok is false
// when the rule does not apply. With via empty the rule applies by its own
// condition; otherwise via names the other regimes' authority notices it
// follows (Rule.AlsoWhenAuthority), and only its policy switches must hold.
func (e *env) evaluate(r *Rule, via []string) (o Obligation, ok bool) {
	var notes []string
	if len(via) == 0 {
		if !e.holdsAny(r, &notes) {
			return o, false
		}
	} else {
		if !e.policy.allOn(r.When.Policy) {
			return o, false
		}
		o.Via = via
		notes = append(notes, viaNote(r, via))
	}
	terms := r.Due
	if len(r.Branches) > 0 {
		found := false
		for i := range r.Branches {
			b := &r.Branches[i]
			var bnotes []string
			if e.holds(&b.When, &bnotes) {
				terms, o.Branch, found = b.Due, b.Name, true
				notes = append(notes, bnotes...)
				break
			}
		}
		if !found {
			return o, false
		}
	}
	o.Rule = *r
	cal := e.calendar(r)
	loc := cal.loc()
	o.Candidates = make([]Candidate, len(terms))
	best := -1
	for i, term := range terms {
		c := &o.Candidates[i]
		c.Offset = term.Offset
		switch term.OffsetFrom {
		case "customer_notice_target":
			c.Offset = e.customerTarget
		case "processor_notice_target":
			c.Offset = e.processorTarget
		}
		fallback := false
		for j, name := range term.Anchors {
			if t, ok := e.in.Events[name]; ok && !t.IsZero() {
				c.Anchor, c.At, fallback = name, t.In(loc), j > 0
				break
			}
		}
		if c.At.IsZero() {
			if len(term.Anchors) > 0 {
				c.Anchor = term.Anchors[0]
			}
			continue
		}
		from := c.At
		if term.FromYearEnd {
			from = wallTime(from.Year(), time.December, 31, 23, 59, 59, 0, loc)
		}
		if c.Offset.Unit == BusinessDays {
			end := EndOfBusinessDay
			if term.Cutoff != "" {
				if ct, err := ParseClockTime(term.Cutoff); err == nil {
					end = ct
				}
			}
			c.Due = cal.AddBusinessDays(from, c.Offset.N, end)
			o.Warnings = append(o.Warnings, coverageWarnings(cal, r.Calendar, from, c.Due)...)
		} else {
			c.Due = cal.Add(from, c.Offset)
		}
		if after, name, ok := e.firstRecorded(term.IgnoreIfBefore); ok && c.Due.Before(after) {
			c.Ignored = fmt.Sprintf("%s is after this term's due time %s", name, Format(c.Due))
			continue
		}
		if best < 0 || c.Due.Before(o.Candidates[best].Due) {
			best = i
			o.Fallback = fallback
		}
	}
	if sub, ok := e.in.Events["submitted:"+r.ID]; ok && !sub.IsZero() {
		o.Submitted = sub.In(loc)
		if other := e.metBy[r.ID]; other != "" {
			notes = append(notes, "met by the submission of "+other)
		}
	}
	if best < 0 {
		if len(o.Candidates) > 0 {
			o.WaitingFor = o.Candidates[0].Anchor
		}
		o.Notes = notes
		return o, true
	}
	c := &o.Candidates[best]
	c.Chosen = true
	o.Anchor, o.Start = c.Anchor, c.At
	if o.Fallback {
		missing := firstAnchor(terms[best])
		note := "clock runs from " + c.Anchor + ": " + missing + " is not recorded"
		if a, ok := AnchorByName(missing); ok {
			note += " (record it with `irtui incident anchor ID " + a.Name + " --at TIME`)"
		}
		notes = append(notes, note)
	}
	for _, ic := range o.Candidates {
		if ic.Ignored != "" {
			notes = append(notes, fmt.Sprintf("the %s term (%s + %s) is left out: %s", ic.Anchor, ic.Anchor, ic.Offset, ic.Ignored))
		}
	}
	o.Allowed = c.Due.Sub(c.At)
	o.Due, o.Pauses = e.applyPauses(r, o.Start, c.Due)
	notes = e.relieve(r, &o, loc, notes)
	o.Notes = notes
	return o, true
}

// relieve applies the rule's weekend and holiday relief to o's due time.
func (e *env) relieve(r *Rule, o *Obligation, loc *time.Location, notes []string) []string {
	if r.Relief == nil {
		return notes
	}
	if !e.policy.On(r.Relief.When) {
		return append(notes, fmt.Sprintf("no weekend or holiday relief for this report under the policy (%s)", r.Relief.Source))
	}
	rc := e.policy.HolidayCalendar(r.Relief.Calendar, loc)
	at, err := ParseClockTime(r.Relief.At)
	if err != nil {
		return notes
	}
	o.Warnings = append(o.Warnings, coverageWarnings(rc, r.Relief.Calendar, o.Due, o.Due)...)
	moved := rc.NextBusinessDayAt(o.Due, at)
	if moved.Equal(o.Due) {
		return notes
	}
	notes = append(notes, fmt.Sprintf("%s falls on a weekend day or holiday: it may be submitted by %s on the next working day, %s (%s)",
		Format(o.Due), r.Relief.At, Format(moved), r.Relief.Source))
	o.Allowed += moved.Sub(o.Due)
	o.Due = moved
	return notes
}

// coverageWarnings warns when business days were counted in a year whose
// holidays the calendar does not know.
func coverageWarnings(cal Calendar, id string, from, to time.Time) []string {
	years := cal.UncoveredYears(from, to)
	if len(years) == 0 {
		return nil
	}
	ys := make([]string, len(years))
	for i, y := range years {
		ys[i] = fmt.Sprint(y)
	}
	name := id
	if cal.Builtin != nil {
		name = cal.Builtin.ID
	}
	what := "weekends only"
	if cal.Builtin != nil {
		what = fmt.Sprintf("its built-in holidays cover %d–%d", cal.Builtin.First, cal.Builtin.Last)
	}
	if name == "" || name == CalendarMemberState {
		return []string{fmt.Sprintf("business days in %s are counted without holidays: set member_state (or list the holidays "+
			"under calendars) so that holidays are skipped", strings.Join(ys, ", "))}
	}
	return []string{fmt.Sprintf("business days in %s are counted with the %s calendar, which does not cover %s (%s): "+
		"check that year's holidays and list them under calendars.%s.add", strings.Join(ys, ", "), name,
		strings.Join(ys, ", "), what, name)}
}

// firstRecorded returns the time of the first of names that is recorded.
func (e *env) firstRecorded(names []string) (time.Time, string, bool) {
	for _, n := range names {
		if t, ok := e.in.Events[n]; ok && !t.IsZero() {
			return t, n, true
		}
	}
	return time.Time{}, "", false
}

// viaNote explains why rule r applies through the authority notices via.
func viaNote(r *Rule, via []string) string {
	own := "its own condition does not hold"
	if len(r.When.Flags) > 0 {
		own = strings.Join(r.When.Flags, ", ") + " is not set"
	}
	return fmt.Sprintf("applies because the incident must also be notified to other authorities (%s), although %s",
		strings.Join(via, ", "), own)
}

func firstAnchor(t Term) string {
	if len(t.Anchors) == 0 {
		return ""
	}
	return t.Anchors[0]
}

// applyPauses shifts due by the pauses that apply to r and start before the
// (shifting) due time, and returns the effective pause intervals.
func (e *env) applyPauses(r *Rule, start, due time.Time) (time.Time, []Interval) {
	var ps []Pause
	for _, p := range e.in.Pauses {
		if p.Start.IsZero() {
			continue
		}
		if len(p.Rules) == 0 && !r.Pausable || len(p.Rules) > 0 && !slices.Contains(p.Rules, r.ID) {
			continue
		}
		ps = append(ps, p)
	}
	if len(ps) == 0 {
		return due, nil
	}
	slices.SortStableFunc(ps, func(a, b Pause) int { return a.Start.Compare(b.Start) })
	loc := start.Location()
	var out []Interval
	prevEnd := start
	for _, p := range ps {
		s := p.Start
		if s.Before(prevEnd) {
			s = prevEnd
		}
		if !s.Before(due) {
			break // the clock had run out before this pause
		}
		if p.End.IsZero() {
			out = append(out, Interval{Start: s.In(loc)})
			break
		}
		if !p.End.After(s) {
			continue
		}
		out = append(out, Interval{Start: s.In(loc), End: p.End.In(loc)})
		due = due.Add(p.End.Sub(s))
		prevEnd = p.End
	}
	return due, out
}
