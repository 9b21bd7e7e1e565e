package tabletop

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// Apply carries out one participant or facilitator action (the actions of
// an actions file, docs/drills.md) at the current drill time: through the
// incident service for the drill incident, or on the run for
// observations, marks and ratings. actor is used when the action names no
// one (As).
func (r *Run) Apply(ctx context.Context, actor identity.Actor, a DrillAction) error {
	actor = actor.As(a.As)
	text := strings.TrimSpace(a.Text)
	switch a.Do {
	case DoDeclare:
		return r.applyDeclare(ctx, actor, a)
	case DoObserve:
		return r.Observe(ctx, actor, ObservationInput{Objective: a.Objective, Kind: a.Kind, Text: text})
	case DoMark:
		return r.Mark(ctx, actor, a.Expect, Result(a.Result), text)
	case DoRate:
		return r.Rate(ctx, actor, a.Objective, Rating(a.Rating), text)
	}
	r.mu.Lock()
	id, err := r.requireIncident(a.Module)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	svc := r.svc
	switch a.Do {
	case DoAssign:
		return svc.Assign(ctx, actor, id, a.Role, a.Person)
	case DoAck:
		return svc.Acknowledge(ctx, actor, id, a.Role)
	case DoStep:
		return svc.CompleteStep(ctx, actor, id, a.Step, text)
	case DoSkip:
		return svc.SkipStep(ctx, actor, id, a.Step, text)
	case DoNote:
		return svc.AddNote(ctx, actor, id, text)
	case DoSeverity:
		return svc.ChangeSeverity(ctx, actor, id, strings.ToUpper(a.Severity), text)
	case DoSubmit:
		return svc.RecordSubmission(ctx, actor, id, a.Obligation, time.Time{})
	case DoCustomer, DoLink:
		return svc.LinkCustomer(ctx, actor, id, a.Customer)
	case DoUnlink:
		return svc.UnlinkCustomer(ctx, actor, id, a.Customer, text)
	case DoReassess:
		_, err := r.Reassess(ctx, actor, a.Module, a.Answers, text)
		return err
	case DoClose:
		return svc.Close(ctx, actor, id, text)
	case DoApprove:
		return r.approve(ctx, actor, id, a.Module, a.Notification)
	}
	return refused("unknown action %q; use %s", a.Do, strings.Join(DrillDos, ", "))
}

func (r *Run) applyDeclare(ctx context.Context, actor identity.Actor, a DrillAction) error {
	rb := r.RunbookFor(a.Module)
	if rb == nil {
		return notFound("runbook %s is not loaded", r.sc.RunbookOf(a.Module))
	}
	answers := classify.Answers{}
	for _, key := range sortedKeys(a.Answers) {
		q, ok := findQuestion(rb, key)
		if !ok {
			return refused("unknown question %q in runbook %s", key, rb.ID)
		}
		if a.Answers[key] == nil {
			continue
		}
		v, err := classify.Coerce(q, a.Answers[key])
		if err != nil {
			return refused("question %q: %v", key, err)
		}
		answers[key] = v
	}
	var aware time.Time
	if a.Aware != "" {
		off, err := ParseOffset(a.Aware)
		if err != nil {
			return refused("%v", err)
		}
		aware = r.epoch.Add(off)
	}
	_, err := r.DeclareModuleAnswers(ctx, actor, a.Module, a.Title, answers, a.Customers, aware)
	return err
}

// Reassess answers the triage of a drill incident again (of module, for
// a scenario module with an incident of its own) when new facts arrive in
// play: changes replace the answers on record, a nil one takes its answer
// back (unanswered: its worst case), and the others are kept. The incident
// service records the new assessment on the drill clock; reason says what
// changed (required when the severity goes down).
func (r *Run) Reassess(ctx context.Context, actor identity.Actor, module string, changes map[string]any, reason string) (incident.Reassessed, error) {
	r.mu.Lock()
	id, err := r.requireIncident(module)
	r.mu.Unlock()
	if err != nil {
		return incident.Reassessed{}, err
	}
	rb := r.RunbookFor(module)
	if rb == nil {
		return incident.Reassessed{}, notFound("runbook %s is not loaded", r.sc.RunbookOf(module))
	}
	d, err := r.svc.Head(ctx, actor, id)
	if err != nil {
		return incident.Reassessed{}, err
	}
	in := d.Incident
	given := maps.Clone(in.Answers)
	if given == nil {
		given = map[string]any{}
	}
	for _, key := range sortedKeys(changes) {
		if _, ok := findQuestion(rb, key); !ok {
			return incident.Reassessed{}, refused("unknown question %q in runbook %s", key, rb.ID)
		}
		if changes[key] == nil {
			delete(given, key)
		} else {
			given[key] = changes[key]
		}
	}
	answers := classify.Answers{}
	for _, key := range sortedKeys(given) {
		q, ok := findQuestion(rb, key)
		if !ok {
			continue // the runbook asks it no more
		}
		v, err := classify.Coerce(q, given[key])
		if err != nil {
			return incident.Reassessed{}, refused("question %q: %v", key, err)
		}
		answers[key] = v
	}
	v, err := classify.Classify(rb, answers, r.deps.Policy, classify.Events{Aware: in.AwareAt, Classified: in.DeclaredAt}, nil)
	if err != nil {
		return incident.Reassessed{}, err
	}
	re := incident.NewReassessment(rb, v, answers)
	re.Reason = reason
	return r.svc.Reassess(ctx, actor, id, re)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// approve approves a notice of the drill incident: through the notify
// approver when one is wired in, else as a timeline entry the score counts.
func (r *Run) approve(ctx context.Context, actor identity.Actor, incidentID, module, notificationID string) error {
	if r.deps.Approve != nil {
		return r.deps.Approve(ctx, actor, incidentID, notificationID)
	}
	audience := ""
	if rb := r.RunbookFor(module); rb != nil {
		n, ok := rb.Notification(notificationID)
		if !ok {
			return notFound("runbook %s has no notification %q", rb.ID, notificationID)
		}
		audience = n.Audience
	}
	data, err := json.Marshal(map[string]any{"notification": notificationID, "audience": audience, "drill": true})
	if err != nil {
		return err
	}
	real := r.deps.real().Now()
	return r.deps.Store.Update(ctx, func(tx *store.Tx) error {
		if err := checkActor(ctx, tx, actor); err != nil {
			return err
		}
		in, err := tx.Incident(ctx, incidentID)
		if err != nil {
			return err
		}
		if !in.Drill {
			return refused("%s is not a drill incident", incidentID)
		}
		c, ok, err := tx.DrillClockOf(ctx, incidentID)
		if err != nil {
			return err
		}
		now := real
		if ok {
			if err := incident.DrillLive(c, incidentID); err != nil {
				return err
			}
			now = c.Now(real)
		}
		entry := store.TimelineEntry{IncidentID: incidentID, At: now, Actor: actor.ID(), Auth: actor.Auth(), Kind: SimulatedApprovalKind,
			Summary: fmt.Sprintf("Drill: notice %s to %s approved", notificationID, audience), Data: data}
		if err := tx.AppendTimeline(ctx, &entry); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: real, Actor: actor.ID(), Auth: actor.Auth(), Action: "drill_notice_approve",
			IncidentID: incidentID, Outcome: store.OutcomeOK, Detail: notificationID})
	})
}

// moveTo moves a headless run's clock to t, delivering the injects due by
// then in one transaction.
func (r *Run) moveTo(ctx context.Context, actor identity.Actor, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !t.After(r.rec.Clock.Base) && len(r.due(t)) == 0 {
		return nil
	}
	if len(r.due(t)) == 0 {
		// Nothing to deliver: only the clock moves.
		real := r.deps.real().Now()
		if err := r.deps.Store.MoveDrillClock(ctx, r.id, t, real); err != nil {
			return err
		}
		r.rec.Clock = r.rec.Clock.Set(t, real)
		r.rec.Position = later(r.rec.Position, t)
		return nil
	}
	_, err := r.deliverUpTo(ctx, actor, t, func(cur *store.DrillRun, _, real time.Time) ([]store.DrillEvent, string, error) {
		cur.Clock = cur.Clock.Set(t, real)
		cur.Position = later(cur.Position, t)
		return nil, "", nil
	})
	return err
}

// Replay plays a scenario headless: the drill clock jumps from one moment
// to the next without waiting, injects are delivered at their times and
// each scripted action is applied at its offset (injects due at the same
// moment come first), then the hot wash and action items are recorded
// and play ends at the scenario's planned end (or the last action, if
// later). Given the same scenario, actions and epoch, the result is the
// same. If an action fails, the run is abandoned with the reason and the
// error names the action.
func Replay(ctx context.Context, deps Deps, sc *Scenario, acts *DrillActions, actor identity.Actor,
	opts Options) (*Run, error) {
	if acts == nil {
		acts = &DrillActions{}
	}
	if acts.As != "" && actor.IsZero() {
		actor = actor.As(acts.As)
	}
	opts.Headless = true
	r, err := Start(ctx, deps, sc, actor, opts)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Run, error) {
		reason := "headless replay stopped: " + firstLine(err.Error())
		if aerr := r.Abandon(context.WithoutCancel(ctx), actor, reason); aerr != nil {
			return r, fmt.Errorf("%w (and abandoning %s failed: %v)", err, r.ID(), aerr)
		}
		return r, err
	}
	epoch := r.epoch
	end := epoch.Add(sc.Length)
	for i, a := range acts.Actions {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		at := epoch.Add(a.Offset)
		if err := r.moveTo(ctx, actor, at); err != nil {
			return fail(err)
		}
		who := actor.As(acts.As)
		if err := r.Apply(ctx, who, a); err != nil {
			where := fmt.Sprintf("action %d", i+1)
			if a.Line > 0 {
				where = fmt.Sprintf("line %d", a.Line)
			}
			return fail(fmt.Errorf("%s (%s at %s): %w", where, a.Do, FormatOffset(a.Offset), err))
		}
		if at.After(end) {
			end = at
		}
	}
	if err := r.moveTo(ctx, actor, end); err != nil {
		return fail(err)
	}
	if hw := acts.HotWash; hw != nil {
		if err := r.hotWash(ctx, actor, hw); err != nil {
			return fail(err)
		}
	}
	if err := r.Finish(ctx, actor); err != nil {
		return fail(err)
	}
	return r, nil
}

// hotWash records the hot wash of an actions file.
func (r *Run) hotWash(ctx context.Context, actor identity.Actor, hw *DrillHotWash) error {
	var entries []HotWashInput
	for _, text := range hw.WentWell {
		entries = append(entries, HotWashInput{Kind: store.HotWashStrength, Text: text})
	}
	for _, f := range hw.Strengths {
		entries = append(entries, HotWashInput{Kind: store.HotWashStrength, Text: f.Text, Objective: f.Objective})
	}
	for _, text := range hw.ToImprove {
		entries = append(entries, HotWashInput{Kind: store.HotWashImprovement, Text: text})
	}
	for _, f := range hw.Improvements {
		var nums []int64
		for _, n := range f.Observations {
			nums = append(nums, int64(n))
		}
		entries = append(entries, HotWashInput{Kind: store.HotWashImprovement, Text: f.Text, Objective: f.Objective,
			RootCause: f.RootCause, Observations: nums})
	}
	for _, e := range entries {
		if _, err := r.AddHotWash(ctx, actor, e); err != nil {
			return err
		}
	}
	for _, item := range hw.Actions {
		_, err := r.AddActionItem(ctx, actor, ActionItemInput{Text: item.Text, Owner: item.Owner, Due: item.Due,
			Start: item.Start, ObjectiveID: item.Objective, Element: item.Element, Improvement: item.Improvement,
			Organisation: item.Organisation})
		if err != nil {
			return err
		}
	}
	for _, f := range hw.Feedback {
		if _, err := r.AddFeedback(ctx, actor.As(f.Person), FeedbackInput(f)); err != nil {
			return err
		}
	}
	return nil
}
