package tabletop

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// ActionItems lists improvement-plan items across all drills: the open
// ones (soonest due first), or with all also the closed ones.
func ActionItems(ctx context.Context, st *store.Store, all bool) ([]store.ActionItem, error) {
	f := store.ActionItemFilter{Status: store.ActionOpen}
	if all {
		f.Status = ""
	}
	return st.ActionItems(ctx, f)
}

// CloseActionItem records that an action item is done; the note says
// what was done and is required.
func CloseActionItem(ctx context.Context, st *store.Store, real clock.Clock, actor identity.Actor, id int64, note string) error {
	if real == nil {
		real = clock.Real{}
	}
	now := real.Now()
	note = strings.TrimSpace(note)
	audit := func(outcome, detail string) {
		identity.Record(ctx, st, now, actor, "drill_action_close", "", outcome, detail)
	}
	if note == "" {
		err := refused("closing action item %d needs a note saying what was done", id)
		audit(store.OutcomeRefused, fmt.Sprintf("action item %d: %v", id, err))
		return err
	}
	err := st.Update(ctx, func(tx *store.Tx) error {
		if err := checkActor(ctx, tx, actor); err != nil {
			return err
		}
		a, err := tx.ActionItem(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("action item %d does not exist", id)
		}
		if err != nil {
			return err
		}
		if a.Status == store.ActionClosed {
			return invalidState("action item %d was already closed by %s at %s", id, a.ClosedBy, a.ClosedAt.Format("2006-01-02 15:04"))
		}
		if err := tx.CloseActionItem(ctx, id, now, actor.ID(), note); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: actor.ID(), Auth: actor.Auth(), Action: "drill_action_close",
			Outcome: store.OutcomeOK, Detail: fmt.Sprintf("action item %d of %s: %s", id, a.RunID, firstLine(note))})
	})
	if err != nil {
		outcome := store.OutcomeFailed
		var e *Error
		if errors.As(err, &e) {
			outcome = store.OutcomeRefused
		}
		audit(outcome, fmt.Sprintf("action item %d: %v", id, err))
	}
	return err
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// LiveRuns lists the drills that are not over (running or paused), most
// recent first: what a facilitator's app offers to take up again after a
// restart. The actor must be someone the directory knows.
func LiveRuns(ctx context.Context, deps Deps, actor identity.Actor) ([]store.DrillRun, error) {
	if err := checkActor(ctx, deps.Store, actor); err != nil {
		return nil, err
	}
	var out []store.DrillRun
	for _, status := range []string{store.DrillRunning, store.DrillPaused} {
		runs, err := deps.Store.DrillRuns(ctx, store.DrillRunFilter{Status: status, Limit: 20})
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
	}
	slices.SortFunc(out, func(a, b store.DrillRun) int { return int(b.Number - a.Number) })
	return out, nil
}
