package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// StepRef is one runbook step that applies to the incident, as the caller
// computed it from the runbook and the classification.
type StepRef struct {
	ID       string
	Phase    string
	Title    string
	Role     string
	Required bool
}

// Declaration is what Declare records: the runbook, the assessment and
// its verdict.
type Declaration struct {
	RunbookID      string
	RunbookVersion string
	Title          string
	Summary        string
	Category       string // RSIT "class/type"
	AttackVector   string
	Severity       string // SEV1..SEV4
	// Incident false records an event that was assessed and dismissed;
	// DismissReason must then say why.
	Incident      bool
	DismissReason string
	Flags         []string
	Answers       map[string]any
	Facts         map[string]float64
	Rationale     []string
	Customers     []string  // ids of affected customers, from the directory
	AwareAt       time.Time // when the organisation became aware; zero: now
	Drill         bool
	// DrillRun, for a drill incident declared in a drill run, is the run:
	// the declaration is stamped on its clock and the incident becomes
	// its incident (of DrillModule, for a scenario's module with its own
	// incident) in the same transaction.
	DrillRun    string
	DrillModule string
	Roles       []string // the runbook's role ids; empty accepts any role
	Steps       []StepRef
}

// Declare records a new incident, or a dismissed event, with its
// checklist and affected customers. Timeline: "declared" (or "dismissed"
// for an event) and "classified" with the rationale.
func (s *Service) Declare(ctx context.Context, actor identity.Actor, d Declaration) (Incident, error) {
	o := &op{actor: actor, action: "declare", drill: d.Drill || d.DrillRun != "", drillRun: d.DrillRun}
	var in Incident
	err := s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		if d.DrillRun != "" {
			d.Drill = true
		}
		if err := checkDeclaration(&d, now); err != nil {
			return err
		}
		in = Incident{Kind: store.KindIncident, Status: store.StatusOpen, RunbookID: d.RunbookID,
			RunbookVersion: d.RunbookVersion, Title: d.Title, Summary: d.Summary, Category: d.Category,
			AttackVector: d.AttackVector, Severity: d.Severity, Flags: d.Flags, Answers: d.Answers,
			Facts: d.Facts, Rationale: d.Rationale, Roles: d.Roles, AwareAt: d.AwareAt, DeclaredAt: now,
			UpdatedAt: now, Drill: d.Drill, CreatedBy: actor.ID()}
		if !d.Incident {
			in.Kind, in.Status, in.ClosedAt, in.DismissedReason = store.KindEvent, store.StatusClosed, now, d.DismissReason
		}
		if err := tx.InsertIncident(ctx, &in); err != nil {
			return err
		}
		var missing *store.MissingCustomerError
		if err := tx.LinkCustomers(ctx, in.ID, d.Customers, now, actor.ID()); errors.As(err, &missing) {
			return notFound("customer %q is not in the directory; import it first (irtui directory import)", missing.ID)
		} else if err != nil {
			return err
		}
		steps := make([]store.Step, len(d.Steps))
		for i, st := range d.Steps {
			steps[i] = store.Step{ID: st.ID, Phase: st.Phase, Title: st.Title, Role: st.Role, Required: st.Required}
		}
		if err := tx.InsertSteps(ctx, in.ID, steps); err != nil {
			return err
		}
		customerIDs := nonNil(d.Customers)
		data := map[string]any{"runbook": d.RunbookID, "runbook_version": d.RunbookVersion, "title": d.Title,
			"incident": d.Incident, "severity": d.Severity, "category": d.Category,
			"attack_vector": d.AttackVector, "customers": customerIDs, "aware_at": store.FormatTime(d.AwareAt),
			"drill": d.Drill, "steps": len(steps)}
		if d.Incident {
			summary := fmt.Sprintf("Declared %s incident: %s", d.Severity, d.Title)
			if d.Drill {
				summary = "Drill: " + summary
			}
			if _, err := appendEntry(ctx, tx, now, actor, in.ID, "declared", summary, data); err != nil {
				return err
			}
		} else {
			data["reason"] = d.DismissReason
			if _, err := appendEntry(ctx, tx, now, actor, in.ID, "dismissed",
				fmt.Sprintf("Assessed and dismissed as not an incident: %s", d.DismissReason), data); err != nil {
				return err
			}
		}
		if _, err := appendEntry(ctx, tx, now, actor, in.ID, "classified", classifiedSummary(in),
			classifiedData(in, "")); err != nil {
			return err
		}
		if d.DrillRun != "" {
			err := tx.AttachDrillIncident(ctx, d.DrillRun, d.DrillModule, in.ID, now, actor.ID())
			if errors.Is(err, store.ErrConflict) {
				return invalidState("%v", err)
			}
			if err != nil {
				return err
			}
		}
		// Named only now: a declaration that fails part-way leaves no
		// incident for its refusal to point at.
		o.incident = in.ID
		if d.Incident {
			o.emit(Event{Kind: EventDeclared})
		}
		o.emit(Event{Kind: EventClassified})
		if d.Incident && len(in.Flags) > 0 {
			o.emit(Event{Kind: EventFlagsSet, Flags: slices.Clone(in.Flags)})
		}
		o.detail = fmt.Sprintf("%s %s", in.Kind, in.Severity)
		return nil
	})
	if err != nil {
		return Incident{}, err
	}
	return in, nil
}

func checkDeclaration(d *Declaration, now time.Time) error {
	d.Title = strings.TrimSpace(d.Title)
	d.DismissReason = strings.TrimSpace(d.DismissReason)
	switch {
	case d.Title == "":
		return refused("cannot declare: a title is required")
	case d.RunbookID == "":
		return refused("cannot declare %q: the runbook id is required", d.Title)
	case !d.Incident && d.DismissReason == "":
		return refused("cannot record %q as not an incident without a reason for dismissing it", d.Title)
	}
	if err := checkSeverity(d.Severity); err != nil {
		return err
	}
	if d.AwareAt.IsZero() {
		d.AwareAt = now
	}
	if d.AwareAt.After(now) {
		return refused("cannot declare %q: aware-at %s is in the future", d.Title, d.AwareAt.Format(time.RFC3339))
	}
	seen := map[string]bool{}
	var customers []string
	for _, c := range d.Customers {
		if c = strings.TrimSpace(c); c != "" && !seen[c] {
			seen[c] = true
			customers = append(customers, c)
		}
	}
	d.Customers = customers
	steps := map[string]bool{}
	for _, st := range d.Steps {
		if st.ID == "" {
			return refused("cannot declare %q: a step has no id", d.Title)
		}
		if steps[st.ID] {
			return refused("cannot declare %q: step %q is listed twice", d.Title, st.ID)
		}
		steps[st.ID] = true
	}
	d.Flags = slices.Clone(d.Flags)
	slices.Sort(d.Flags)
	return nil
}

func classifiedSummary(in Incident) string {
	if in.Kind == store.KindEvent {
		return fmt.Sprintf("Classified as not an incident (%s, %s)", orNone(in.Category), in.Severity)
	}
	return fmt.Sprintf("Classified as %s incident: %s, vector %s", in.Severity, orNone(in.Category), orNone(in.AttackVector))
}

func classifiedData(in Incident, reason string) map[string]any {
	d := map[string]any{"incident": in.Kind == store.KindIncident, "severity": in.Severity,
		"category": in.Category, "attack_vector": in.AttackVector, "flags": nonNil(in.Flags),
		"facts": in.Facts, "rationale": nonNil(in.Rationale)}
	if reason != "" {
		d["reason"] = reason
	}
	return d
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Classification is a new verdict for an existing incident or event.
type Classification struct {
	Incident      bool
	DismissReason string // required when Incident is false
	Category      string
	AttackVector  string
	Severity      string
	Flags         []string
	Answers       map[string]any // replaces the stored answers when not nil
	Facts         map[string]float64
	Rationale     []string
	// Reason says why the verdict changed; required when it lowers the
	// severity of an incident.
	Reason string
}

// Reclassify records a new verdict. An event classified as an incident is
// reopened as one, declared now (timeline "declared"); an incident classified as not one
// is closed as a dismissed event ("dismissed"). A higher severity also
// records "severity_raised".
func (s *Service) Reclassify(ctx context.Context, actor identity.Actor, id string, c Classification) (Incident, error) {
	o := &op{actor: actor, action: "reclassify", incident: id}
	var in Incident
	err := s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		var err error
		if in, err = loadIncident(ctx, tx, id); err != nil {
			return err
		}
		c.DismissReason, c.Reason = strings.TrimSpace(c.DismissReason), strings.TrimSpace(c.Reason)
		if err := checkSeverity(c.Severity); err != nil {
			return err
		}
		if !c.Incident && c.DismissReason == "" {
			return refused("cannot dismiss %s as not an incident without a reason", id)
		}
		wasIncident := in.Kind == store.KindIncident
		lowering := wasIncident && c.Incident && rank(c.Severity) > rank(in.Severity)
		if lowering && c.Reason == "" {
			return refused("lowering the severity of %s from %s to %s needs a reason", id, in.Severity, c.Severity)
		}
		switch {
		case lowering:
			err = requireOverride(ctx, tx, o.who, in, fmt.Sprintf("lower its severity from %s to %s", in.Severity, c.Severity))
		case wasIncident && !c.Incident:
			err = requireOverride(ctx, tx, o.who, in, "dismiss it as not an incident")
		}
		if err != nil {
			return err
		}
		old := in
		in.Category, in.AttackVector, in.Severity = c.Category, c.AttackVector, c.Severity
		in.Flags = slices.Sorted(slices.Values(c.Flags))
		in.Facts, in.Rationale = c.Facts, c.Rationale
		if c.Answers != nil {
			in.Answers = c.Answers
		}
		in.UpdatedAt = now
		switch {
		case !wasIncident && c.Incident:
			// Declared now: clocks that start at classification start here.
			in.Kind, in.Status, in.ClosedAt, in.DismissedReason = store.KindIncident, store.StatusOpen, time.Time{}, ""
			in.DeclaredAt = now
		case wasIncident && !c.Incident:
			in.Kind, in.Status, in.DismissedReason = store.KindEvent, store.StatusClosed, c.DismissReason
			if in.ClosedAt.IsZero() {
				in.ClosedAt = now
			}
		case !c.Incident:
			in.DismissedReason = c.DismissReason
		}
		if err := tx.UpdateIncident(ctx, &in); err != nil {
			return err
		}
		data := classifiedData(in, cmpOr(c.Reason, c.DismissReason))
		data["previous"] = map[string]any{"incident": wasIncident, "severity": old.Severity,
			"category": old.Category, "attack_vector": old.AttackVector}
		if _, err := appendEntry(ctx, tx, now, actor, id, "classified", classifiedSummary(in), data); err != nil {
			return err
		}
		switch {
		case !wasIncident && c.Incident:
			if _, err := appendEntry(ctx, tx, now, actor, id, "declared",
				fmt.Sprintf("Declared %s incident: %s (was a dismissed event)", in.Severity, in.Title),
				map[string]any{"incident": true, "severity": in.Severity, "promoted_from_event": true,
					"reason": c.Reason}); err != nil {
				return err
			}
		case wasIncident && !c.Incident:
			if _, err := appendEntry(ctx, tx, now, actor, id, "dismissed",
				fmt.Sprintf("Dismissed as not an incident: %s", c.DismissReason),
				map[string]any{"reason": c.DismissReason}); err != nil {
				return err
			}
		case c.Incident && rank(in.Severity) < rank(old.Severity):
			if _, err := appendEntry(ctx, tx, now, actor, id, "severity_raised",
				fmt.Sprintf("Severity raised from %s to %s", old.Severity, in.Severity),
				map[string]any{"from": old.Severity, "to": in.Severity, "reason": c.Reason}); err != nil {
				return err
			}
		}
		o.detail = fmt.Sprintf("%s %s", in.Kind, in.Severity)
		if !wasIncident && c.Incident {
			o.emit(Event{Kind: EventDeclared})
		}
		o.emit(Event{Kind: EventClassified})
		if c.Incident && wasIncident && rank(in.Severity) < rank(old.Severity) {
			o.emit(Event{Kind: EventSeverityRaised, From: old.Severity})
		}
		var newFlags []string
		for _, f := range in.Flags {
			if !slices.Contains(old.Flags, f) || !wasIncident {
				newFlags = append(newFlags, f)
			}
		}
		if c.Incident && len(newFlags) > 0 {
			o.emit(Event{Kind: EventFlagsSet, Flags: newFlags})
		}
		return nil
	})
	if err != nil {
		return Incident{}, err
	}
	return in, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ChangeSeverity sets a new severity. Raising it records
// "severity_raised"; lowering it needs a reason and records
// "severity_lowered".
func (s *Service) ChangeSeverity(ctx context.Context, actor identity.Actor, id, severity, reason string) error {
	o := &op{actor: actor, action: "severity", incident: id}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := requireOpenIncident(in, "change the severity"); err != nil {
			return err
		}
		if err := checkSeverity(severity); err != nil {
			return err
		}
		reason = strings.TrimSpace(reason)
		from := in.Severity
		var kind, summary string
		switch {
		case rank(severity) == rank(from):
			return invalidState("%s is already %s", id, from)
		case rank(severity) < rank(from):
			kind, summary = "severity_raised", fmt.Sprintf("Severity raised from %s to %s", from, severity)
		case reason == "":
			return refused("lowering the severity of %s from %s to %s needs a reason", id, from, severity)
		default:
			if err := requireOverride(ctx, tx, o.who, in, fmt.Sprintf("lower its severity from %s to %s", from, severity)); err != nil {
				return err
			}
			kind, summary = "severity_lowered", fmt.Sprintf("Severity lowered from %s to %s", from, severity)
		}
		if reason != "" {
			summary += ": " + reason
		}
		in.Severity, in.UpdatedAt = severity, now
		if err := tx.UpdateIncident(ctx, &in); err != nil {
			return err
		}
		o.detail = from + " -> " + severity
		if kind == "severity_raised" {
			o.emit(Event{Kind: EventSeverityRaised, From: from})
		}
		_, err = appendEntry(ctx, tx, now, actor, id, kind, summary,
			map[string]any{"from": from, "to": severity, "reason": reason})
		return err
	})
}

// Assign gives a role to a person from the directory. If someone else
// holds it, this is a hand-over: their assignment ends, naming the new
// holder. Timeline: "role_assigned".
func (s *Service) Assign(ctx context.Context, actor identity.Actor, id, role, person string) error {
	o := &op{actor: actor, action: "assign", incident: id, detail: role + " -> " + person}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := requireOpenIncident(in, "assign a role"); err != nil {
			return err
		}
		if err := checkRole(in, role); err != nil {
			return err
		}
		p, err := tx.Person(ctx, person)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("person %q is not in the directory; import them first (irtui directory import)", person)
		}
		if err != nil {
			return err
		}
		previous := ""
		cur, err := tx.CurrentAssignment(ctx, id, role)
		switch {
		case err == nil && cur.PersonID == person:
			return invalidState("%s already holds %s on %s", person, role, id)
		case err == nil:
			previous = cur.PersonID
			if err := tx.EndAssignment(ctx, cur.ID, now, person); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		if err := tx.InsertAssignment(ctx, &store.Assignment{IncidentID: id, Role: role, PersonID: person,
			AssignedAt: now, AssignedBy: actor.ID()}); err != nil {
			return err
		}
		if err := tx.TouchIncident(ctx, id, now); err != nil {
			return err
		}
		summary := fmt.Sprintf("%s (%s) is now %s", p.Name, person, role)
		if previous != "" {
			summary = fmt.Sprintf("%s handed over from %s to %s (%s)", role, previous, p.Name, person)
		}
		// A person whose directory entry lists roles is outside that list
		// here; recorded, not refused: at 3 a.m. whoever is awake may have to.
		eligible := len(p.Roles) == 0 || slices.Contains(p.Roles, role)
		o.emit(Event{Kind: EventRoleAssigned, Role: role, Person: person})
		_, err = appendEntry(ctx, tx, now, actor, id, "role_assigned", summary,
			map[string]any{"role": role, "person": person, "previous": previous, "handover": previous != "",
				"listed_for_role": eligible})
		return err
	})
}

func checkRole(in Incident, role string) error {
	if strings.TrimSpace(role) == "" {
		return refused("a role is required")
	}
	if len(in.Roles) > 0 && !slices.Contains(in.Roles, role) {
		return notFound("role %q is not a role of runbook %s (roles: %s)", role, in.RunbookID, strings.Join(in.Roles, ", "))
	}
	return nil
}

// Acknowledge records that the current holder of a role took it on. Only
// that person may acknowledge. Timeline: "role_acknowledged".
func (s *Service) Acknowledge(ctx context.Context, actor identity.Actor, id, role string) error {
	o := &op{actor: actor, action: "acknowledge", incident: id, detail: role}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := requireOpenIncident(in, "acknowledge a role"); err != nil {
			return err
		}
		if err := checkRole(in, role); err != nil {
			return err
		}
		cur, err := tx.CurrentAssignment(ctx, id, role)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("nobody holds %s on %s; assign it first", role, id)
		}
		if err != nil {
			return err
		}
		if cur.PersonID != o.who.ID() {
			return refused("only %s, who holds %s on %s, can acknowledge it (you are %s)", cur.PersonID, role, id, actor)
		}
		if !cur.AcknowledgedAt.IsZero() {
			return invalidState("%s already acknowledged %s on %s at %s", actor.ID(), role, id,
				cur.AcknowledgedAt.Format(time.RFC3339))
		}
		if err := tx.AcknowledgeAssignment(ctx, cur.ID, now); err != nil {
			return err
		}
		_, err = appendEntry(ctx, tx, now, actor, id, "role_acknowledged",
			fmt.Sprintf("%s acknowledged %s", actor.ID(), role), map[string]any{"role": role, "person": actor.ID()})
		return err
	})
}

// CompleteStep marks a checklist step done. Timeline: "step_completed".
func (s *Service) CompleteStep(ctx context.Context, actor identity.Actor, id, stepID, note string) error {
	return s.finishStep(ctx, actor, id, stepID, store.StepDone, strings.TrimSpace(note))
}

// SkipStep marks a checklist step skipped, which needs a reason.
// Timeline: "step_skipped".
func (s *Service) SkipStep(ctx context.Context, actor identity.Actor, id, stepID, reason string) error {
	return s.finishStep(ctx, actor, id, stepID, store.StepSkipped, strings.TrimSpace(reason))
}

func (s *Service) finishStep(ctx context.Context, actor identity.Actor, id, stepID, status, note string) error {
	action, kind, verb := "step_complete", "step_completed", "complete"
	if status == store.StepSkipped {
		action, kind, verb = "step_skip", "step_skipped", "skip"
	}
	o := &op{actor: actor, action: action, incident: id, detail: stepID}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := requireOpenIncident(in, verb+" step "+stepID); err != nil {
			return err
		}
		st, err := tx.Step(ctx, id, stepID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("step %q is not on the checklist of %s", stepID, id)
		}
		if err != nil {
			return err
		}
		if st.Status != store.StepOpen {
			return invalidState("step %q of %s is already %s (by %s at %s)", stepID, id, st.Status, st.Actor,
				st.At.Format(time.RFC3339))
		}
		if status == store.StepSkipped && note == "" {
			return refused("skipping step %q of %s needs a reason", stepID, id)
		}
		if err := tx.SetStepState(ctx, id, stepID, status, note, actor.ID(), now); err != nil {
			return err
		}
		if err := tx.TouchIncident(ctx, id, now); err != nil {
			return err
		}
		summary := fmt.Sprintf("Step %s done: %s", stepID, st.Title)
		if status == store.StepSkipped {
			summary = fmt.Sprintf("Step %s skipped: %s", stepID, st.Title)
		}
		if note != "" {
			summary += " — " + note
		}
		_, err = appendEntry(ctx, tx, now, actor, id, kind, summary,
			map[string]any{"step": stepID, "phase": st.Phase, "required": st.Required, "note": note})
		return err
	})
}

// AddNote adds a free-text note to the timeline ("note"), also on closed
// incidents and dismissed events.
func (s *Service) AddNote(ctx context.Context, actor identity.Actor, id, text string) error {
	o := &op{actor: actor, action: "note", incident: id}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		if _, err := loadIncident(ctx, tx, id); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return refused("a note for %s needs some text", id)
		}
		_, err := appendEntry(ctx, tx, now, actor, id, "note", text, nil)
		return err
	})
}

// LinkCustomer records that the incident affects one more customer.
// Timeline: "customer_linked".
func (s *Service) LinkCustomer(ctx context.Context, actor identity.Actor, id, customerID string) error {
	o := &op{actor: actor, action: "link_customer", incident: id, detail: customerID}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.Kind == store.KindEvent {
			return invalidState("cannot link a customer: %s is an event that was dismissed as not an incident", id)
		}
		c, err := tx.Customer(ctx, customerID)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("customer %q is not in the directory; import it first (irtui directory import)", customerID)
		}
		if err != nil {
			return err
		}
		added, err := tx.LinkCustomer(ctx, id, customerID, now, actor.ID())
		if err != nil {
			return err
		}
		if !added {
			return invalidState("customer %q is already linked to %s", customerID, id)
		}
		o.emit(Event{Kind: EventCustomerLinked, Customer: c.ID})
		_, err = appendEntry(ctx, tx, now, actor, id, "customer_linked",
			fmt.Sprintf("Customer %s (%s) is affected", c.Name, c.ID), map[string]any{"customer_id": c.ID})
		return err
	})
}

// RecordSubmission records that the notice an obligation requires was
// submitted at the given time (zero: now). Later clocks of a chain (such
// as NIS2's 72-hour notification after the 24-hour early warning) count
// from it. Timeline: "obligation_submitted".
func (s *Service) RecordSubmission(ctx context.Context, actor identity.Actor, id, obligationID string, at time.Time) error {
	o := &op{actor: actor, action: "obligation_submit", incident: id, detail: obligationID}
	return s.obligationEvent(ctx, o, id, obligationID, store.ObligationSubmitted, at, "")
}

// PauseObligation stops an obligation's clock from the given time (zero:
// now), such as when law enforcement asks for a delay; the reason is
// required. Timeline: "obligation_paused".
func (s *Service) PauseObligation(ctx context.Context, actor identity.Actor, id, obligationID string, at time.Time, reason string) error {
	o := &op{actor: actor, action: "obligation_pause", incident: id, detail: obligationID}
	return s.obligationEvent(ctx, o, id, obligationID, store.ObligationPauseStart, at, reason)
}

// ResumeObligation restarts a paused obligation's clock. Timeline:
// "obligation_resumed".
func (s *Service) ResumeObligation(ctx context.Context, actor identity.Actor, id, obligationID string, at time.Time, note string) error {
	o := &op{actor: actor, action: "obligation_resume", incident: id, detail: obligationID}
	return s.obligationEvent(ctx, o, id, obligationID, store.ObligationPauseEnd, at, note)
}

func (s *Service) obligationEvent(ctx context.Context, o *op, id, obligationID, kind string, at time.Time, note string) error {
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.Kind == store.KindEvent {
			return invalidState("%s is an event that was dismissed as not an incident; it has no obligations", id)
		}
		obligationID = strings.TrimSpace(obligationID)
		note = strings.TrimSpace(note)
		if obligationID == "" {
			return refused("an obligation id is required")
		}
		if at.IsZero() {
			at = now
		}
		if at.After(now) {
			return refused("%s of %s: %s is in the future", kind, obligationID, at.Format(time.RFC3339))
		}
		events, err := tx.ObligationEvents(ctx, id)
		if err != nil {
			return err
		}
		submitted, paused := obligationState(events, obligationID)
		if !submitted.IsZero() {
			return invalidState("%s of %s was already recorded as submitted at %s", obligationID, id,
				submitted.Format(time.RFC3339))
		}
		var entryKind, summary string
		switch kind {
		case store.ObligationSubmitted:
			entryKind, summary = "obligation_submitted", fmt.Sprintf("Submitted %s", obligationID)
		case store.ObligationPauseStart:
			if paused {
				return invalidState("the clock of %s on %s is already paused", obligationID, id)
			}
			if note == "" {
				return refused("pausing the clock of %s on %s needs a reason", obligationID, id)
			}
			entryKind, summary = "obligation_paused", fmt.Sprintf("Paused the clock of %s: %s", obligationID, note)
		case store.ObligationPauseEnd:
			if !paused {
				return invalidState("the clock of %s on %s is not paused", obligationID, id)
			}
			entryKind, summary = "obligation_resumed", fmt.Sprintf("Resumed the clock of %s", obligationID)
		}
		if err := tx.InsertObligationEvent(ctx, &store.ObligationEvent{IncidentID: id, ObligationID: obligationID,
			Kind: kind, At: at, Actor: o.actor.ID(), Note: note, RecordedAt: now}); err != nil {
			return err
		}
		_, err = appendEntry(ctx, tx, now, o.actor, id, entryKind, summary,
			map[string]any{"obligation": obligationID, "at": store.FormatTime(at), "note": note})
		return err
	})
}

// obligationState replays an obligation's events.
func obligationState(events []store.ObligationEvent, obligationID string) (submitted time.Time, paused bool) {
	for _, e := range events {
		if e.ObligationID != obligationID {
			continue
		}
		switch e.Kind {
		case store.ObligationSubmitted:
			submitted = e.At
		case store.ObligationPauseStart:
			paused = true
		case store.ObligationPauseEnd:
			paused = false
		}
	}
	return submitted, paused
}

// Close closes an incident. While anything is left open — required steps,
// regulatory or contractual clocks still running, notices nobody received
// (OpenEnds) — it is refused, naming each, unless overrideReason says why
// it should close anyway; closing over them is for the incident's
// commander or someone with the override permission. Timeline: "closed".
func (s *Service) Close(ctx context.Context, actor identity.Actor, id, overrideReason string) error {
	o := &op{actor: actor, action: "close", incident: id}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, ends, err := s.openEnds(ctx, tx, id, now)
		if err != nil {
			return err
		}
		var open []string
		for _, st := range ends.Steps {
			open = append(open, st.ID)
		}
		overrideReason = strings.TrimSpace(overrideReason)
		if !ends.Empty() && overrideReason == "" {
			return refused("cannot close %s: %s; finish them, or give a reason to close over them", id,
				strings.Join(ends.Lines(now), "; "))
		}
		if !ends.Empty() {
			if err := requireOverride(ctx, tx, o.who, in, "close it over what is still open"); err != nil {
				return err
			}
		}
		in.Status, in.ClosedAt, in.UpdatedAt = store.StatusClosed, now, now
		if err := tx.UpdateIncident(ctx, &in); err != nil {
			return err
		}
		summary := "Closed"
		var clocks []string
		for _, ob := range ends.Clocks {
			clocks = append(clocks, ob.Rule.ID)
		}
		var unsent []int64
		for _, n := range ends.Notices {
			unsent = append(unsent, n.ID)
		}
		data := map[string]any{"open_required_steps": nonNil(open), "running_clocks": nonNil(clocks), "unsent_notices": unsent}
		if unsent == nil {
			data["unsent_notices"] = []int64{}
		}
		if !ends.Empty() {
			summary = fmt.Sprintf("Closed over %s: %s", strings.Join(ends.Lines(now), "; "), overrideReason)
			data["override_reason"] = overrideReason
			o.detail = "override: " + overrideReason
		}
		o.emit(Event{Kind: EventClosed})
		_, err = appendEntry(ctx, tx, now, actor, id, "closed", summary, data)
		return err
	})
}

// openRequiredSteps lists the incident's required steps still open.
func openRequiredSteps(ctx context.Context, tx *store.Tx, id string) ([]string, error) {
	steps, err := tx.Steps(ctx, id)
	if err != nil {
		return nil, err
	}
	var open []string
	for _, st := range steps {
		if st.Required && st.Status == store.StepOpen {
			open = append(open, st.ID)
		}
	}
	return open, nil
}

// EndDrill closes a drill incident because its run has ended (finished
// or abandoned): why says so ("drill DR-0001 finished"). Required steps
// left open stay open, for the report, and no notification fires. An
// incident closed already is left as it is. Timeline: "closed", with
// drill_end set, which scoring does not count as the team's close.
func (s *Service) EndDrill(ctx context.Context, actor identity.Actor, id, why string) error {
	o := &op{actor: actor, action: "close", incident: id, drillEnd: true}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case !in.Drill:
			return refused("%s is not a drill incident: only a drill's own incident is closed with its run", id)
		case in.Kind == store.KindEvent || in.Status == store.StatusClosed:
			o.detail = "already closed: " + why
			return nil
		}
		open, err := openRequiredSteps(ctx, tx, id)
		if err != nil {
			return err
		}
		in.Status, in.ClosedAt, in.UpdatedAt = store.StatusClosed, now, now
		if err := tx.UpdateIncident(ctx, &in); err != nil {
			return err
		}
		o.detail = why
		_, err = appendEntry(ctx, tx, now, actor, id, "closed", "Closed: "+why,
			map[string]any{"drill_end": why, "open_required_steps": nonNil(open)})
		return err
	})
}

// Reopen reopens a closed incident; the reason is required. Timeline:
// "reopened".
func (s *Service) Reopen(ctx context.Context, actor identity.Actor, id, reason string) error {
	o := &op{actor: actor, action: "reopen", incident: id}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.Kind == store.KindEvent {
			return invalidState("%s is an event that was dismissed as not an incident; reclassify it as an incident instead", id)
		}
		if in.Status == store.StatusOpen {
			return invalidState("%s is open", id)
		}
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return refused("reopening %s needs a reason", id)
		}
		if err := requireOverride(ctx, tx, o.who, in, "reopen it"); err != nil {
			return err
		}
		in.Status, in.ClosedAt, in.UpdatedAt = store.StatusOpen, time.Time{}, now
		if err := tx.UpdateIncident(ctx, &in); err != nil {
			return err
		}
		o.detail = reason
		o.emit(Event{Kind: EventReopened})
		_, err = appendEntry(ctx, tx, now, actor, id, "reopened", "Reopened: "+reason, map[string]any{"reason": reason})
		return err
	})
}

// RecordAnchor records when the moment name happened for the incident: an
// anchor a regulatory clock runs from, such as "materiality-determined"
// (the SEC clock), "ransom-paid" (NYDFS) or "classified-major" (DORA); see
// deadline.AnchorKinds. at is when it happened (zero: now), never in the
// future, and not before awareness for moments that cannot precede it.
// A moment that implies a flag sets it (a materiality determination sets
// sec_material, a ransom payment ransom_paid), as notifications hear.
// The note says why; it is required when correcting awareness and when
// replacing an earlier record of the same anchor. The clocks that run from
// the anchor start, or move, at once. Timeline: "anchor_recorded".
func (s *Service) RecordAnchor(ctx context.Context, actor identity.Actor, id, name string, at time.Time, note string) error {
	o := &op{actor: actor, action: "anchor", incident: id, detail: name}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.Kind == store.KindEvent {
			return invalidState("%s is an event that was dismissed as not an incident; it has no clocks", id)
		}
		kind, ok := deadline.AnchorByName(name)
		if !ok {
			return refused("unknown anchor %q; the clocks run from %s", name, strings.Join(deadline.AnchorNames(), ", "))
		}
		o.detail = kind.Name
		note = strings.TrimSpace(note)
		if at.IsZero() {
			at = now
		}
		if at.After(now) {
			return refused("%s of %s: %s is in the future", kind.Name, id, at.Format(time.RFC3339))
		}
		events, err := tx.ObligationEvents(ctx, id)
		if err != nil {
			return err
		}
		aware := in.AwareAt
		prev, replacing := RecordedAnchor(events, deadline.EventAware)
		if replacing {
			aware = prev.At
		}
		if kind.AfterAware && at.Before(aware) {
			return refused("%s of %s cannot be at %s, before the organisation became aware of the incident (%s)",
				kind.Name, id, at.Format(time.RFC3339), aware.Format(time.RFC3339))
		}
		prev, replacing = RecordedAnchor(events, kind.Event)
		// Moving a recorded moment later moves its clocks later: an
		// override of the process, like lowering the severity.
		later := replacing && at.After(prev.At) || kind.Event == deadline.EventAware && !replacing && at.After(in.AwareAt)
		if later {
			if err := requireOverride(ctx, tx, o.who, in, fmt.Sprintf("move its %s later, which moves its clocks later", kind.Name)); err != nil {
				return err
			}
		}
		switch {
		case kind.NeedsNote && note == "":
			return refused("recording %s of %s moves every clock that runs from it: say why with a note", kind.Name, id)
		case replacing && note == "":
			return refused("%s of %s was recorded as %s by %s; recording it again needs a note saying why",
				kind.Name, id, prev.At.Format(time.RFC3339), prev.Actor)
		}
		if err := tx.InsertObligationEvent(ctx, &store.ObligationEvent{IncidentID: id, ObligationID: kind.Event,
			Kind: store.ObligationAnchor, At: at, Actor: o.actor.ID(), Note: note, RecordedAt: now}); err != nil {
			return err
		}
		// The moment implies its flag: a recorded determination is a
		// material incident, a recorded payment a ransom paid.
		setFlag := kind.Sets != "" && !slices.Contains(in.Flags, kind.Sets)
		if setFlag {
			in.Flags = slices.Sorted(slices.Values(append(slices.Clone(in.Flags), kind.Sets)))
			in.UpdatedAt = now
			if err := tx.UpdateIncident(ctx, &in); err != nil {
				return err
			}
			o.emit(Event{Kind: EventFlagsSet, Flags: []string{kind.Sets}})
		} else if err := tx.TouchIncident(ctx, id, now); err != nil {
			return err
		}
		rules := deadline.RulesUsing(kind.Event)
		summary := fmt.Sprintf("Recorded %s at %s", kind.Name, deadline.Format(at))
		if replacing {
			summary = fmt.Sprintf("Recorded %s again at %s (was %s)", kind.Name, deadline.Format(at), deadline.Format(prev.At.In(at.Location())))
		}
		if setFlag {
			summary += "; flag " + kind.Sets + " set"
		}
		if note != "" {
			summary += ": " + note
		}
		data := map[string]any{"anchor": kind.Name, "event": kind.Event, "at": store.FormatTime(at), "note": note,
			"rules": nonNil(rules)}
		if setFlag {
			data["flag_set"] = kind.Sets
		}
		if replacing {
			data["previous"] = store.FormatTime(prev.At)
		}
		_, err = appendEntry(ctx, tx, now, o.actor, id, "anchor_recorded", summary, data)
		return err
	})
}

// RecordedAnchor returns the latest record of the anchor event (such as
// "determined") among an incident's obligation events.
func RecordedAnchor(events []store.ObligationEvent, event string) (store.ObligationEvent, bool) {
	return latestEvent(events, store.ObligationAnchor, event)
}

// latestEvent returns the last of events of kind about name.
func latestEvent(events []store.ObligationEvent, kind, name string) (store.ObligationEvent, bool) {
	for i := len(events) - 1; i >= 0; i-- {
		if e := events[i]; e.Kind == kind && e.ObligationID == name {
			return e, true
		}
	}
	return store.ObligationEvent{}, false
}

// BreachRisk is the name of the breach risk assessment's conclusion, the
// one a DPO decides with DecideRisk.
const BreachRisk = "breach_risk"

// Breach risk levels a DPO can decide.
const (
	RiskNone = "none" // unlikely to result in a risk: no notice to the authority
	RiskSome = "risk" // a risk: notify the authority
	RiskHigh = "high" // a high risk: also tell the people
)

// DecideRisk records a DPO's decision on the breach risk assessment's
// conclusion for a personal data breach: level none, risk or high, and the
// reason, which is required. The decision stands until another one
// replaces it: the flags unlikely_risk and high_risk follow it, so the
// clocks of GDPR Art. 33 and 34 (and the UK GDPR's) start or stop with it,
// and notifications on flag:high_risk fire when it sets that flag.
// Timeline: "risk_decided".
func (s *Service) DecideRisk(ctx context.Context, actor identity.Actor, id, level, reason string) error {
	o := &op{actor: actor, action: "risk_decide", incident: id, detail: level}
	return s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		if in.Kind == store.KindEvent {
			return invalidState("%s is an event that was dismissed as not an incident; there is no risk to decide", id)
		}
		if !slices.Contains(in.Flags, "personal_data_breach") {
			return invalidState("%s is not a personal data breach: there is no breach risk to decide", id)
		}
		level = strings.TrimSpace(level)
		if !slices.Contains([]string{RiskNone, RiskSome, RiskHigh}, level) {
			return refused("breach risk %q is not one of %s, %s, %s", level, RiskNone, RiskSome, RiskHigh)
		}
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return refused("deciding the breach risk of %s needs a reason, for the record the authority may ask for", id)
		}
		// The level in force: the last decision, which a re-classification
		// does not undo, else what the assessment concluded.
		previous := riskLevel(in.Flags)
		events, err := tx.ObligationEvents(ctx, id)
		if err != nil {
			return err
		}
		if dec, ok := RiskDecision(events); ok {
			previous = dec.Value
		}
		if riskRank(level) < riskRank(previous) {
			if err := requireRiskDecider(ctx, tx, o.who, in, previous, level); err != nil {
				return err
			}
		}
		old := slices.Clone(in.Flags)
		in.Flags = applyRiskDecision(in.Flags, level)
		in.UpdatedAt = now
		if err := tx.UpdateIncident(ctx, &in); err != nil {
			return err
		}
		if err := tx.InsertObligationEvent(ctx, &store.ObligationEvent{IncidentID: id, ObligationID: BreachRisk,
			Kind: store.ObligationDecision, At: now, Actor: o.actor.ID(), Note: reason, Value: level, RecordedAt: now}); err != nil {
			return err
		}
		var set []string
		for _, f := range in.Flags {
			if !slices.Contains(old, f) {
				set = append(set, f)
			}
		}
		if len(set) > 0 {
			o.emit(Event{Kind: EventFlagsSet, Flags: set})
		}
		o.detail = previous + " -> " + level
		summary := fmt.Sprintf("Breach risk decided: %s (was %s): %s", level, previous, reason)
		if level == previous {
			summary = fmt.Sprintf("Breach risk confirmed: %s: %s", level, reason)
		}
		_, err = appendEntry(ctx, tx, now, o.actor, id, "risk_decided", summary,
			map[string]any{"level": level, "previous": previous, "reason": reason, "flags": nonNil(in.Flags)})
		return err
	})
}

// DPORole is the runbook role of the data protection officer, who may
// lower a breach risk the assessment concluded.
const DPORole = "dpo"

// requireRiskDecider lets a decision that lowers the breach risk (and so
// stops the authority's or the people's clock) through for the incident's
// data protection officer (the dpo role) and commander, and for people
// with the override permission.
func requireRiskDecider(ctx context.Context, tx *store.Tx, who identity.Who, in Incident, from, to string) error {
	if who.Can(identity.Override) {
		return nil
	}
	for _, role := range []string{DPORole, identity.CommanderRole} {
		cur, err := tx.CurrentAssignment(ctx, in.ID, role)
		switch {
		case err == nil && who.Person.ID != "" && cur.PersonID == who.Person.ID:
			return nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	return Denied(&identity.Denied{Msg: fmt.Sprintf("only the data protection officer (role %s) or the incident commander of %s, "+
		"or someone with the override permission, may lower its breach risk from %s to %s; %s is none of them",
		DPORole, in.ID, from, to, who.ID())})
}

// riskRank orders the breach risk levels: none < risk < high.
func riskRank(level string) int {
	return slices.Index([]string{RiskNone, RiskSome, RiskHigh}, level)
}

// riskLevel reads the breach risk level from an incident's flags.
func riskLevel(flags []string) string {
	switch {
	case slices.Contains(flags, "high_risk"):
		return RiskHigh
	case slices.Contains(flags, "unlikely_risk"):
		return RiskNone
	}
	return RiskSome
}

// applyRiskDecision returns flags with unlikely_risk and high_risk set as
// level says, sorted.
func applyRiskDecision(flags []string, level string) []string {
	out := slices.DeleteFunc(slices.Clone(flags), func(f string) bool { return f == "unlikely_risk" || f == "high_risk" })
	switch level {
	case RiskNone:
		out = append(out, "unlikely_risk")
	case RiskHigh:
		out = append(out, "high_risk")
	}
	slices.Sort(out)
	return out
}
