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
		return r.Observe(ctx, actor, a.Objective, text)
	case DoMark:
		return r.Mark(ctx, actor, a.Expect, Result(a.Result), text)
	case DoRate:
		return r.Rate(ctx, actor, a.Objective, Rating(a.Rating), text)
	}
	r.mu.Lock()
	id, err := r.requireIncident()
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
	case DoCustomer:
		return svc.LinkCustomer(ctx, actor, id, a.Customer)
	case DoClose:
		return svc.Close(ctx, actor, id, text)
	case DoApprove:
		return r.approve(ctx, actor, id, a.Notification)
	}
	return refused("unknown action %q; use %s", a.Do, strings.Join(DrillDos, ", "))
}

func (r *Run) applyDeclare(ctx context.Context, actor identity.Actor, a DrillAction) error {
	if r.rb == nil {
		return notFound("runbook %s is not loaded", r.sc.Runbook)
	}
	answers := classify.Answers{}
	for _, key := range sortedKeys(a.Answers) {
		q, ok := findQuestion(r.rb, key)
		if !ok {
			return refused("unknown question %q in runbook %s", key, r.rb.ID)
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
	_, err := r.DeclareAnswers(ctx, actor, a.Title, answers, a.Customers, aware)
	return err
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// approve approves a notice of the drill incident: through the notify
// approver when one is wired in, else as a timeline entry the score counts.
func (r *Run) approve(ctx context.Context, actor identity.Actor, incidentID, notificationID string) error {
	if r.deps.Approve != nil {
		return r.deps.Approve(ctx, actor, incidentID, notificationID)
	}
	audience := ""
	if r.rb != nil {
		n, ok := r.rb.Notification(notificationID)
		if !ok {
			return notFound("runbook %s has no notification %q", r.rb.ID, notificationID)
		}
		audience = n.Audience
	}
	now := r.clk.Now()
	data, err := json.Marshal(map[string]any{"notification": notificationID, "audience": audience, "drill": true})
	if err != nil {
		return err
	}
	entry := store.TimelineEntry{IncidentID: incidentID, At: now, Actor: actor.ID(), Auth: actor.Auth(), Kind: SimulatedApprovalKind,
		Summary: fmt.Sprintf("Drill: notice %s to %s approved", notificationID, audience), Data: data}
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
		if err := tx.AppendTimeline(ctx, &entry); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: actor.ID(), Auth: actor.Auth(), Action: "drill_notice_approve",
			IncidentID: incidentID, Outcome: store.OutcomeOK, Detail: notificationID})
	})
}

// moveTo moves a headless run's clock to t, delivering the injects due by
// then in one transaction.
func (r *Run) moveTo(ctx context.Context, actor identity.Actor, t time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t.Before(r.clk.Now()) {
		return nil
	}
	if _, err := r.deliverUpTo(ctx, actor, t, t, nil); err != nil {
		return err
	}
	r.clk.set(t, r.deps.real().Now())
	return nil
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
		for _, text := range hw.WentWell {
			if _, err := r.AddHotWash(ctx, actor, store.HotWashStrength, text, ""); err != nil {
				return fail(err)
			}
		}
		for _, text := range hw.ToImprove {
			if _, err := r.AddHotWash(ctx, actor, store.HotWashImprovement, text, ""); err != nil {
				return fail(err)
			}
		}
		for _, item := range hw.Actions {
			_, err := r.AddActionItem(ctx, actor, ActionItemInput{Text: item.Text, Owner: item.Owner, Due: item.Due,
				ObjectiveID: item.Objective, Element: item.Element, Improvement: item.Improvement})
			if err != nil {
				return fail(err)
			}
		}
	}
	if err := r.Finish(ctx, actor); err != nil {
		return fail(err)
	}
	return r, nil
}
