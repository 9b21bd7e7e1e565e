package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// OpenEnds is what closing an incident would leave behind: required steps
// still open, regulatory and contractual clocks still running (started
// and not met), and notices nobody received yet (drafts, queued, failed,
// unknown, exported to a file). Closing over any of them needs a reason.
type OpenEnds struct {
	Steps   []store.Step
	Clocks  []deadline.Obligation
	Notices []store.Notification
}

// Empty reports whether nothing is left open.
func (e OpenEnds) Empty() bool { return len(e.Steps) == 0 && len(e.Clocks) == 0 && len(e.Notices) == 0 }

// UnsentStatuses are the statuses of a notice nobody has received: what
// closing names. A notice only written to the console was sent where the
// configuration says; a withdrawn one no longer applies.
var UnsentStatuses = []string{store.NoticeDraft, store.NoticeApproved, store.NoticeQueued, store.NoticeSending,
	store.NoticeFailed, store.NoticeUnknown, store.NoticeExported}

// FindOpenEnds lists what is still open on an incident at now, from its
// checklist, its clocks and its notifications.
func FindOpenEnds(steps []store.Step, obs []deadline.Obligation, notices []store.Notification, now time.Time) OpenEnds {
	var e OpenEnds
	for _, st := range steps {
		if st.Required && st.Status == store.StepOpen {
			e.Steps = append(e.Steps, st)
		}
	}
	for _, o := range obs {
		switch o.At(now).State {
		case deadline.Met, deadline.Waiting:
		default:
			e.Clocks = append(e.Clocks, o)
		}
	}
	for _, n := range notices {
		for _, st := range UnsentStatuses {
			if n.Status == st {
				e.Notices = append(e.Notices, n)
			}
		}
	}
	return e
}

// Lines says what is open, one item a line, for the close question and
// the refusal.
func (e OpenEnds) Lines(now time.Time) []string {
	var out []string
	for _, o := range e.Clocks {
		st := o.At(now)
		kind := "legal clock"
		if o.Rule.Soft {
			kind = "clock"
		}
		when := ""
		switch st.State {
		case deadline.Overdue:
			when = "OVERDUE by " + deadline.Span(st.Remaining)
		case deadline.Paused:
			when = "paused"
		case deadline.Escalated:
			when = "past its target"
		default:
			when = "due in " + deadline.Span(st.Remaining)
		}
		out = append(out, fmt.Sprintf("%s still running: %s (%s), %s", kind, deadline.Label(o.Rule), o.Rule.ID, when))
	}
	for _, n := range e.Notices {
		to := n.Audience
		if n.CustomerID != "" {
			to = n.CustomerID
		}
		state := n.Status
		if n.Status == store.NoticeExported {
			state = "exported, not delivered"
		}
		out = append(out, fmt.Sprintf("notice not sent: #%d %s to %s (%s)", n.ID, n.RuleID, to, state))
	}
	if len(e.Steps) > 0 {
		ids := make([]string, len(e.Steps))
		for i, st := range e.Steps {
			ids[i] = st.ID
		}
		out = append(out, fmt.Sprintf("%d required step(s) still open: %s", len(e.Steps), strings.Join(ids, ", ")))
	}
	return out
}

// CheckClose says what closing the incident would leave open, as of the
// service's now, and refuses at once someone who could not close over it
// (only the commander or the override permission may): the app asks for
// a reason only when closing can happen. It changes nothing; it is
// audited ("close_check"), a refusal as a refusal.
func (s *Service) CheckClose(ctx context.Context, actor identity.Actor, id string) (OpenEnds, time.Time, error) {
	o := &op{actor: actor, action: "close_check", incident: id}
	var (
		ends OpenEnds
		at   time.Time
	)
	err := s.change(ctx, o, func(tx *store.Tx, now time.Time) error {
		at = now
		in, e, err := s.openEnds(ctx, tx, id, now)
		if err != nil {
			return err
		}
		ends = e
		o.detail = fmt.Sprintf("%d step(s), %d clock(s), %d notice(s) open", len(ends.Steps), len(ends.Clocks), len(ends.Notices))
		if !ends.Empty() {
			return requireOverride(ctx, tx, o.who, in, "close it over what is still open")
		}
		return nil
	})
	return ends, at, err
}

// openEnds reads an incident that can be closed and what closing it at
// now would leave open.
func (s *Service) openEnds(ctx context.Context, tx *store.Tx, id string, now time.Time) (Incident, OpenEnds, error) {
	in, err := loadIncident(ctx, tx, id)
	if err != nil {
		return in, OpenEnds{}, err
	}
	if in.Kind == store.KindEvent {
		return in, OpenEnds{}, invalidState("%s is an event that was dismissed as not an incident; there is nothing to close", id)
	}
	if in.Status == store.StatusClosed {
		return in, OpenEnds{}, invalidState("%s is already closed (at %s)", id, in.ClosedAt.Format(time.RFC3339))
	}
	steps, err := tx.Steps(ctx, id)
	if err != nil {
		return in, OpenEnds{}, err
	}
	events, err := tx.ObligationEvents(ctx, id)
	if err != nil {
		return in, OpenEnds{}, err
	}
	notices, err := tx.IncidentNotifications(ctx, id, UnsentStatuses...)
	if err != nil {
		return in, OpenEnds{}, err
	}
	return in, FindOpenEnds(steps, Obligations(in, events, s.policy()), notices, now), nil
}

// CheckOverride tells the app, before it asks for a reason, whether actor
// may override id's process to do what doing describes (reopen it, lower
// its severity): only the incident commander and people with the override
// permission may. It is audited as "override_check", refusals included,
// like the action it precedes; the action checks again when it runs.
func (s *Service) CheckOverride(ctx context.Context, actor identity.Actor, id, doing string) error {
	o := &op{actor: actor, action: "override_check", incident: id, detail: doing}
	return s.change(ctx, o, func(tx *store.Tx, _ time.Time) error {
		in, err := loadIncident(ctx, tx, id)
		if err != nil {
			return err
		}
		return requireOverride(ctx, tx, o.who, in, doing)
	})
}
