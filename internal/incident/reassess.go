package incident

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// EventReassessed: an incident's answers were given again. The Notifier
// withdraws drafts that no longer apply (Event.Flags: the flags cleared;
// Event.Obligations: the obligations that no longer apply) before the
// events of the new verdict draft what now applies. EventCustomerUnlinked:
// a customer is no longer affected (Event.Customer); its drafts are
// withdrawn.
const (
	EventReassessed       = "reassessed"
	EventCustomerUnlinked = "customer_unlinked"
)

// Reassessment is a new assessment of an incident: its runbook's
// questions answered again (when new facts arrive) and the verdict they
// give now.
type Reassessment struct {
	Answers      map[string]any
	Incident     bool // the verdict's; an incident stays one (see Reassess)
	Category     string
	AttackVector string
	Severity     string
	Flags        []string
	Facts        map[string]float64
	Rationale    []string
	// Steps are the runbook's steps that apply now; Order is every step
	// of the runbook, in its order, for placing new ones.
	Steps []StepRef
	Order []string
	// Reason says what changed; required when the severity goes down.
	Reason string
}

// NewReassessment fills a Reassessment from a runbook and the verdict of
// the new answers, as NewDeclaration does for a declaration.
func NewReassessment(rb *runbook.Runbook, v classify.Verdict, answers classify.Answers) Reassessment {
	d := NewDeclaration(rb, v, answers)
	r := Reassessment{Answers: d.Answers, Incident: v.Incident, Category: d.Category, AttackVector: d.AttackVector,
		Severity: d.Severity, Flags: d.Flags, Facts: d.Facts, Rationale: d.Rationale, Steps: d.Steps}
	for _, ph := range rb.Phases {
		for _, st := range ph.Steps {
			r.Order = append(r.Order, st.ID)
		}
	}
	return r
}

// Reassessed is what a re-assessment changed.
type Reassessed struct {
	Incident        Incident `json:"incident"`
	From            string   `json:"from"` // severities
	To              string   `json:"to"`
	FlagsSet        []string `json:"flags_set"`
	FlagsCleared    []string `json:"flags_cleared"`
	Changed         []string `json:"changed"` // question ids whose answer changed
	StepsAdded      []string `json:"steps_added"`
	StepsDropped    []string `json:"steps_dropped"`
	Applies         []string `json:"obligations_apply"` // obligation ids
	NoLongerApplies []string `json:"obligations_no_longer_apply"`
	NotAnIncident   bool     `json:"rules_say_not_an_incident"` // the rules now say it is not an incident
}

// Summary says in one line what changed.
func (r Reassessed) Summary() string {
	var parts []string
	if r.From != r.To {
		parts = append(parts, r.From+" → "+r.To)
	} else {
		parts = append(parts, "still "+r.To)
	}
	if len(r.FlagsSet) > 0 {
		parts = append(parts, "flags set: "+strings.Join(r.FlagsSet, ", "))
	}
	if len(r.FlagsCleared) > 0 {
		parts = append(parts, "flags cleared: "+strings.Join(r.FlagsCleared, ", "))
	}
	if len(r.Applies) > 0 {
		parts = append(parts, "now due: "+labels(r.Applies))
	}
	if len(r.NoLongerApplies) > 0 {
		parts = append(parts, "no longer applies: "+labels(r.NoLongerApplies))
	}
	if len(r.StepsAdded) > 0 {
		parts = append(parts, fmt.Sprintf("%d step(s) added", len(r.StepsAdded)))
	}
	if len(r.StepsDropped) > 0 {
		parts = append(parts, fmt.Sprintf("%d step(s) no longer apply", len(r.StepsDropped)))
	}
	if r.NotAnIncident {
		parts = append(parts, "the rules no longer make it an incident: dismiss it if so")
	}
	return strings.Join(parts, "; ")
}

func labels(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = deadline.LabelOf(id)
	}
	return strings.Join(out, ", ")
}

// Reassess records a new assessment of an open incident: its answers,
// category, severity, flags, facts and rationale follow the new verdict.
// The checklist gains the steps that now apply; open steps that no longer
// apply are skipped with the reason. Obligations follow the flags: one
// that now applies runs from its anchors (awareness, the declaration, or
// the anchor recorded for it), which may already be in the past; one that
// no longer applies is recorded as not applicable, with the reason, and
// the Notifier withdraws its drafts. New flags draft their notices, a
// higher severity its messages.
//
// The incident stays an incident even if the rules now say it is not one
// (dismissing it is the commander's decision: Reclassify). Lowering the
// severity needs a reason and the commander or the override permission.
// Timeline: "reassessed", "classified", and as they apply
// "severity_raised"/"severity_lowered", "checklist_changed",
// "obligation_applies", "obligation_not_applicable".
func (s *Service) Reassess(ctx context.Context, actor identity.Actor, id string, r Reassessment) (Reassessed, error) {
	o := &op{actor: actor, action: "reassess", incident: id}
	var res Reassessed
	err := s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := requireOpenIncident(in, "re-assess it"); err != nil {
			return err
		}
		if err := checkSeverity(r.Severity); err != nil {
			return err
		}
		r.Reason = strings.TrimSpace(r.Reason)
		old := in
		res = Reassessed{From: old.Severity, To: r.Severity, NotAnIncident: !r.Incident}
		lowering := rank(r.Severity) > rank(old.Severity)
		if lowering {
			if r.Reason == "" {
				return refused("re-assessing %s lowers its severity from %s to %s, which needs a reason", id, old.Severity, r.Severity)
			}
			if err := requireOverride(ctx, tx, o.who, in, fmt.Sprintf("lower its severity from %s to %s", old.Severity, r.Severity)); err != nil {
				return err
			}
		}
		flags := slices.Sorted(slices.Values(r.Flags))
		for _, f := range flags {
			if !slices.Contains(old.Flags, f) {
				res.FlagsSet = append(res.FlagsSet, f)
			}
		}
		for _, f := range old.Flags {
			if !slices.Contains(flags, f) {
				res.FlagsCleared = append(res.FlagsCleared, f)
			}
		}
		for k, v := range r.Answers {
			if ov, ok := old.Answers[k]; !ok || !sameAnswer(ov, v) {
				res.Changed = append(res.Changed, k)
			}
		}
		for k := range old.Answers {
			if _, ok := r.Answers[k]; !ok {
				res.Changed = append(res.Changed, k)
			}
		}
		slices.Sort(res.Changed)

		in.Category, in.AttackVector, in.Severity = r.Category, r.AttackVector, r.Severity
		in.Flags, in.Facts, in.Rationale, in.Answers = flags, r.Facts, r.Rationale, r.Answers
		in.UpdatedAt = now
		if in.Answers == nil {
			in.Answers = map[string]any{}
		}
		if err := tx.UpdateIncident(ctx, &in); err != nil {
			return err
		}
		res.Incident = in

		// Obligations before and after, on the same recorded anchors.
		events, err := tx.ObligationEvents(ctx, id)
		if err != nil {
			return err
		}
		before := obligationIDs(Obligations(old, events, s.policy()))
		afterObs := Obligations(in, events, s.policy())
		after := obligationIDs(afterObs)
		for _, ob := range after {
			if !slices.Contains(before, ob) {
				res.Applies = append(res.Applies, ob)
			}
		}
		for _, ob := range before {
			if !slices.Contains(after, ob) {
				res.NoLongerApplies = append(res.NoLongerApplies, ob)
			}
		}

		// The checklist.
		if err := s.reassessSteps(ctx, tx, now, actor, id, r, &res); err != nil {
			return err
		}

		reason := r.Reason
		if reason == "" {
			reason = "answers given again"
		}
		summary := "Re-assessed: " + res.Summary()
		if r.Reason != "" {
			summary += " — " + r.Reason
		}
		prevAnswers := old.Answers
		if prevAnswers == nil {
			prevAnswers = map[string]any{}
		}
		if _, err := appendEntry(ctx, tx, now, actor, id, "reassessed", summary, map[string]any{
			"reason": r.Reason, "changed": nonNil(res.Changed), "answers": in.Answers, "previous_answers": prevAnswers,
			"from": old.Severity, "to": in.Severity, "flags_set": nonNil(res.FlagsSet), "flags_cleared": nonNil(res.FlagsCleared),
			"obligations_apply": nonNil(res.Applies), "obligations_no_longer_apply": nonNil(res.NoLongerApplies),
			"steps_added": nonNil(res.StepsAdded), "steps_dropped": nonNil(res.StepsDropped),
			"rules_say_incident": r.Incident}); err != nil {
			return err
		}
		data := classifiedData(in, r.Reason)
		data["previous"] = map[string]any{"incident": true, "severity": old.Severity, "category": old.Category,
			"attack_vector": old.AttackVector}
		if _, err := appendEntry(ctx, tx, now, actor, id, "classified", classifiedSummary(in), data); err != nil {
			return err
		}
		switch {
		case rank(in.Severity) < rank(old.Severity):
			if _, err := appendEntry(ctx, tx, now, actor, id, "severity_raised",
				fmt.Sprintf("Severity raised from %s to %s by re-assessment", old.Severity, in.Severity),
				map[string]any{"from": old.Severity, "to": in.Severity, "reason": r.Reason}); err != nil {
				return err
			}
		case lowering:
			if _, err := appendEntry(ctx, tx, now, actor, id, "severity_lowered",
				fmt.Sprintf("Severity lowered from %s to %s by re-assessment: %s", old.Severity, in.Severity, r.Reason),
				map[string]any{"from": old.Severity, "to": in.Severity, "reason": r.Reason}); err != nil {
				return err
			}
		}
		for _, ob := range afterObs {
			if !slices.Contains(res.Applies, ob.Rule.ID) {
				continue
			}
			st := ob.At(now)
			when := "waits for " + ob.WaitingFor
			if !st.Due.IsZero() {
				when = fmt.Sprintf("runs from %s (%s), due %s", ob.Anchor, store.FormatTime(ob.Start), store.FormatTime(st.Due))
			}
			if _, err := appendEntry(ctx, tx, now, actor, id, "obligation_applies",
				fmt.Sprintf("Now applies: %s (%s); its clock %s", deadline.Label(ob.Rule), ob.Rule.ID, when),
				map[string]any{"obligation": ob.Rule.ID, "anchor": ob.Anchor, "start": store.FormatTime(ob.Start),
					"due": store.FormatTime(st.Due), "waiting_for": ob.WaitingFor}); err != nil {
				return err
			}
		}
		for _, ob := range res.NoLongerApplies {
			if _, err := appendEntry(ctx, tx, now, actor, id, "obligation_not_applicable",
				fmt.Sprintf("No longer applies: %s (%s), after re-assessment: %s", deadline.LabelOf(ob), ob, reason),
				map[string]any{"obligation": ob, "reason": reason, "flags_cleared": nonNil(res.FlagsCleared)}); err != nil {
				return err
			}
		}
		o.detail = fmt.Sprintf("%s -> %s; %d answer(s) changed", old.Severity, in.Severity, len(res.Changed))
		o.emit(Event{Kind: EventReassessed, Flags: res.FlagsCleared, Obligations: res.NoLongerApplies, Reason: reason})
		o.emit(Event{Kind: EventClassified})
		if rank(in.Severity) < rank(old.Severity) {
			o.emit(Event{Kind: EventSeverityRaised, From: old.Severity})
		}
		if len(in.Flags) > 0 {
			// Every flag that is set, not only the new ones: a rule whose
			// condition holds only now (or whose drafts were withdrawn and
			// apply again) fires; one that already fired does not fire twice.
			o.emit(Event{Kind: EventFlagsSet, Flags: slices.Clone(in.Flags)})
		}
		return nil
	})
	if err != nil {
		return Reassessed{}, err
	}
	return res, nil
}

// reassessSteps adds the steps that now apply and skips the open ones
// that no longer do, keeping the checklist in the runbook's order.
func (s *Service) reassessSteps(ctx context.Context, tx *store.Tx, now time.Time, actor identity.Actor, id string,
	r Reassessment, res *Reassessed) error {
	steps, err := tx.Steps(ctx, id)
	if err != nil {
		return err
	}
	have := map[string]store.Step{}
	for _, st := range steps {
		have[st.ID] = st
	}
	want := map[string]bool{}
	var added []store.Step
	for _, st := range r.Steps {
		want[st.ID] = true
		if _, ok := have[st.ID]; !ok {
			added = append(added, store.Step{ID: st.ID, Phase: st.Phase, Title: st.Title, Role: st.Role, Required: st.Required})
			res.StepsAdded = append(res.StepsAdded, st.ID)
		}
	}
	for _, st := range steps {
		if want[st.ID] || st.Status != store.StepOpen {
			continue
		}
		note := "no longer applies after re-assessment"
		if r.Reason != "" {
			note += ": " + r.Reason
		}
		if err := tx.SetStepState(ctx, id, st.ID, store.StepSkipped, note, actor.ID(), now); err != nil {
			return err
		}
		res.StepsDropped = append(res.StepsDropped, st.ID)
	}
	if len(added) == 0 && len(res.StepsDropped) == 0 {
		return nil
	}
	// Positions: the runbook's order; steps it no longer has keep theirs
	// after it.
	pos := map[string]int{}
	for i, sid := range r.Order {
		pos[sid] = i + 1
	}
	positions := map[string]int{}
	for _, st := range steps {
		if p, ok := pos[st.ID]; ok {
			positions[st.ID] = p
		} else {
			positions[st.ID] = len(r.Order) + st.Position
		}
	}
	for i := range added {
		p, ok := pos[added[i].ID]
		if !ok {
			p = len(r.Order) + len(steps) + i + 1
		}
		added[i].Position = p
	}
	if err := tx.SetStepPositions(ctx, id, positions); err != nil {
		return err
	}
	if err := tx.AddSteps(ctx, id, added); err != nil {
		return err
	}
	var parts []string
	if len(res.StepsAdded) > 0 {
		parts = append(parts, "added "+strings.Join(res.StepsAdded, ", "))
	}
	if len(res.StepsDropped) > 0 {
		parts = append(parts, "no longer apply (skipped): "+strings.Join(res.StepsDropped, ", "))
	}
	_, err = appendEntry(ctx, tx, now, actor, id, "checklist_changed", "Checklist after re-assessment: "+strings.Join(parts, "; "),
		map[string]any{"added": nonNil(res.StepsAdded), "dropped": nonNil(res.StepsDropped), "reason": r.Reason})
	return err
}

func obligationIDs(obs []deadline.Obligation) []string {
	out := make([]string, len(obs))
	for i, o := range obs {
		out[i] = o.Rule.ID
	}
	return out
}

// sameAnswer compares a stored answer (read back from JSON) with a new
// one: lists of strings and numbers compare by value.
func sameAnswer(a, b any) bool {
	norm := func(v any) any {
		switch x := v.(type) {
		case []string:
			out := make([]any, len(x))
			for i, s := range x {
				out[i] = s
			}
			return out
		case int:
			return float64(x)
		}
		return v
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// UnlinkCustomer records that the incident does not affect a customer
// after all; the reason is required. The customer's drafts are withdrawn
// (the Notifier does that); what was already sent to them stays on
// record. Timeline: "customer_unlinked".
func (s *Service) UnlinkCustomer(ctx context.Context, actor identity.Actor, id, customerID, reason string) error {
	o := &op{actor: actor, action: "unlink_customer", incident: id, detail: customerID}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.Kind == store.KindEvent {
			return invalidState("cannot unlink a customer: %s is an event that was dismissed as not an incident", id)
		}
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return refused("unlinking customer %s from %s needs a reason (why it is not affected)", customerID, id)
		}
		c, err := tx.Customer(ctx, customerID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("customer %q is not in the directory", customerID)
		}
		if err != nil {
			return err
		}
		removed, err := tx.UnlinkCustomer(ctx, id, customerID)
		if err != nil {
			return err
		}
		if !removed {
			return invalidState("customer %q is not linked to %s", customerID, id)
		}
		if err := tx.TouchIncident(ctx, id, now); err != nil {
			return err
		}
		o.detail = customerID + ": " + reason
		o.emit(Event{Kind: EventCustomerUnlinked, Customer: c.ID, Reason: reason})
		_, err = appendEntry(ctx, tx, now, actor, id, "customer_unlinked",
			fmt.Sprintf("Customer %s (%s) is not affected: %s", c.Name, c.ID, reason),
			map[string]any{"customer_id": c.ID, "reason": reason})
		return err
	})
}
