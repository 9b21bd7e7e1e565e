package incident

import (
	"time"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/store"
)

// CurrentHolder is who holds role on the incident now.
func CurrentHolder(d Detail, role string) (store.Assignment, bool) {
	for i := len(d.Roles) - 1; i >= 0; i-- {
		if a := d.Roles[i]; a.Role == role && a.Current() {
			return a, true
		}
	}
	return store.Assignment{}, false
}

// OpenRequiredSteps lists the required checklist steps that are neither
// done nor skipped: what stops Close without an override.
func OpenRequiredSteps(d Detail) []store.Step {
	var open []store.Step
	for _, st := range d.Steps {
		if st.Required && st.Status == store.StepOpen {
			open = append(open, st)
		}
	}
	return open
}

// DeadlineInput is what package deadline needs to know about an incident:
// its flags and facts, the anchor events irtui records (aware, classified
// = declared as an incident, the anchors people recorded, and each
// submission) and the pauses. A DPO's latest decision on the breach risk
// sets unlikely_risk and high_risk, whatever a later re-classification
// wrote.
func DeadlineInput(in Incident, events []store.ObligationEvent) deadline.Input {
	di := deadline.Input{
		Incident: in.Kind == store.KindIncident,
		Flags:    make(map[string]bool, len(in.Flags)),
		Facts:    in.Facts,
		Events: map[string]time.Time{
			deadline.EventAware:      in.AwareAt,
			deadline.EventClassified: in.DeclaredAt,
		},
	}
	for _, f := range in.Flags {
		di.Flags[f] = true
	}
	open := map[string]int{} // obligation id -> index of its open pause
	decision := ""
	for _, e := range events {
		switch e.Kind {
		case store.ObligationAnchor:
			di.Events[e.ObligationID] = e.At // a later record replaces an earlier one
		case store.ObligationDecision:
			if e.ObligationID == BreachRisk {
				decision = e.Value
			}
		case store.ObligationSubmitted:
			di.Events[deadline.SubmittedEvent(e.ObligationID)] = e.At
		case store.ObligationPauseStart:
			open[e.ObligationID] = len(di.Pauses)
			di.Pauses = append(di.Pauses, deadline.Pause{Start: e.At, Reason: e.Note, Rules: []string{e.ObligationID}})
		case store.ObligationPauseEnd:
			if i, ok := open[e.ObligationID]; ok {
				di.Pauses[i].End = e.At
				delete(open, e.ObligationID)
			}
		}
	}
	if decision != "" && di.Flags["personal_data_breach"] {
		di.Flags["unlikely_risk"] = decision == RiskNone
		di.Flags["high_risk"] = decision == RiskHigh
	}
	return di
}

// RiskDecision returns the latest decision on the breach risk among an
// incident's obligation events.
func RiskDecision(events []store.ObligationEvent) (store.ObligationEvent, bool) {
	return latestEvent(events, store.ObligationDecision, BreachRisk)
}

// Obligations evaluates the policy's regulatory and contractual clocks for
// an incident, soonest due first. A dismissed event has none.
func Obligations(in Incident, events []store.ObligationEvent, p deadline.Policy) []deadline.Obligation {
	return p.Obligations(DeadlineInput(in, events))
}

// NextDeadline is the obligation whose clock a responder must watch first
// at now: the soonest due one that is neither met nor waiting for its
// anchor. ok is false when there is none.
func NextDeadline(obs []deadline.Obligation, now time.Time) (o deadline.Obligation, st deadline.Status, ok bool) {
	for _, ob := range obs {
		if ob.Rule.Info {
			continue // someone else's clock, shown for planning
		}
		s := ob.At(now)
		if s.State == deadline.Met || s.State == deadline.Waiting {
			continue
		}
		if !ok || s.Due.Before(st.Due) {
			o, st, ok = ob, s, true
		}
	}
	return o, st, ok
}
