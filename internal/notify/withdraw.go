package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// withdrawStale withdraws the drafts of an incident that no longer apply
// after a re-assessment (their obligation no longer applies, the flag that
// triggered them was cleared, or their rule's condition no longer holds)
// or after a customer was unlinked (that customer's drafts). What was
// approved or sent stays as it is. A rule whose drafts were all withdrawn
// by a re-assessment may fire again if it applies again later.
func (s *Service) withdrawStale(ctx context.Context, tx *store.Tx, ev incident.Event) error {
	in := ev.Incident
	drafts, err := tx.IncidentNotifications(ctx, in.ID, store.NoticeDraft)
	if err != nil || len(drafts) == 0 {
		return err
	}
	var env map[string]any
	rb, haveRunbook := s.Runbook(in.RunbookID)
	if haveRunbook {
		env = ruleEnv(rb, in)
	}
	retired := map[[2]string]bool{} // rule, trigger key
	for _, n := range drafts {
		why := ""
		switch ev.Kind {
		case incident.EventCustomerUnlinked:
			if n.CustomerID == ev.Customer {
				why = fmt.Sprintf("customer %s is not affected: %s", n.CustomerID, ev.Reason)
			}
		case incident.EventReassessed:
			why = staleReason(n, ev, rb, env)
		}
		if why == "" {
			continue
		}
		ok, err := tx.WithdrawNotification(ctx, n.ID, why, ev.At)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		n.Status, n.LastError = store.NoticeWithdrawn, why
		if err := entry(ctx, tx, &n, ev.At, ev.Actor, "notification_withdrawn",
			fmt.Sprintf("Withdrew %s to %s: %s", label(&n), n.Recipient, why), map[string]any{"reason": why}); err != nil {
			return err
		}
		if ev.Kind == incident.EventReassessed {
			retired[[2]string{n.RuleID, triggerKey(n)}] = true
		}
	}
	if ev.Kind == incident.EventCustomerUnlinked {
		return s.meetAfterUnlink(ctx, tx, ev)
	}
	if len(retired) == 0 {
		return nil
	}
	// Forget a firing only when none of its notices is left: it may then
	// fire again if it applies again.
	all, err := tx.IncidentNotifications(ctx, in.ID)
	if err != nil {
		return err
	}
	for rk := range retired {
		if slices.ContainsFunc(all, func(n store.Notification) bool {
			return n.Status != store.NoticeWithdrawn && n.RuleID == rk[0] && triggerKey(n) == rk[1]
		}) {
			continue
		}
		if err := tx.UnmarkFired(ctx, in.ID, rk[0], rk[1]); err != nil {
			return err
		}
	}
	return nil
}

// staleReason says why a draft no longer applies after a re-assessment,
// or "" when it still does.
func staleReason(n store.Notification, ev incident.Event, rb *runbook.Runbook, env map[string]any) string {
	if n.ObligationID != "" && slices.Contains(ev.Obligations, n.ObligationID) {
		return fmt.Sprintf("%s (%s) no longer applies after re-assessment: %s", deadline.LabelOf(n.ObligationID),
			n.ObligationID, ev.Reason)
	}
	if f, ok := strings.CutPrefix(n.Trigger, "flag:"); ok && slices.Contains(ev.Flags, f) {
		return fmt.Sprintf("flag %s is no longer set after re-assessment: %s", f, ev.Reason)
	}
	if rb == nil {
		return ""
	}
	i := slices.IndexFunc(rb.Notify, func(r runbook.Notification) bool { return r.ID == n.RuleID })
	if i < 0 || rb.Notify[i].When == "" {
		return ""
	}
	if ok, err := rb.Notify[i].Applies(env); err == nil && !ok {
		return fmt.Sprintf("its rule's condition (%s) no longer holds after re-assessment: %s", rb.Notify[i].When, ev.Reason)
	}
	return ""
}

// triggerKey is the trigger key a notification was written for: the third
// part of its idempotency key (incident|rule|key[|customer]).
func triggerKey(n store.Notification) string {
	parts := strings.SplitN(n.IdempotencyKey, "|", 4)
	if len(parts) < 3 {
		return ""
	}
	return parts[2]
}

// meetAfterUnlink: once a customer is no longer affected, the others'
// delivered notices may be every affected customer's: the obligation
// they serve is then met.
func (s *Service) meetAfterUnlink(ctx context.Context, tx *store.Tx, ev incident.Event) error {
	all, err := tx.IncidentNotifications(ctx, ev.Incident.ID, store.NoticeSent)
	if err != nil {
		return err
	}
	done := map[string]bool{}
	for _, n := range all {
		if n.Audience != AudienceCustomers || n.ObligationID == "" || done[n.ObligationID] || !Delivered(n) {
			continue
		}
		done[n.ObligationID] = true
		if err := meetObligation(ctx, tx, n, ev.At, ev.Actor); err != nil {
			return err
		}
	}
	return nil
}
