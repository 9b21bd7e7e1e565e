package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// Delivered reports whether n reached its recipient: posted to Slack
// (bot or webhook), mailed, or recorded as delivered by a person. A
// notice only exported, or only written to the console, was not.
func Delivered(n store.Notification) bool {
	if n.Status != store.NoticeSent {
		return false
	}
	switch n.Via {
	case ViaSlack, ViaWebhook, ViaMail:
		return true
	}
	return n.ConfirmedBy != ""
}

// meetObligation records the obligation n serves as met once n is
// delivered and, for a customer notice, every affected customer's notice
// for it is: the clock stops by itself, with a timeline entry saying why.
// A regulator's notice counts once a person records that it was
// submitted (it is only ever exported). Nothing happens for other
// audiences, when the obligation was already recorded as met, or in a
// drill: a drill's notices reach the drill channel, not the customer, and
// its clocks run on the drill's own time, so the team records a
// submission there as part of the exercise.
func meetObligation(ctx context.Context, tx *store.Tx, n store.Notification, now time.Time, actor identity.Actor) error {
	if n.ObligationID == "" || n.Drill || !Delivered(n) ||
		(n.Audience != AudienceCustomers && n.Audience != AudienceRegulator) {
		return nil
	}
	events, err := tx.ObligationEvents(ctx, n.IncidentID)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(events, func(e store.ObligationEvent) bool {
		return e.ObligationID == n.ObligationID && e.Kind == store.ObligationSubmitted
	}) {
		return nil
	}
	note := fmt.Sprintf("%s was delivered", label(&n))
	if n.Audience == AudienceCustomers {
		affected, err := tx.IncidentCustomers(ctx, n.IncidentID)
		if err != nil {
			return err
		}
		done, err := tx.DeliveredCustomers(ctx, n.IncidentID, n.ObligationID)
		if err != nil {
			return err
		}
		for _, c := range affected {
			if !slices.Contains(done, c.ID) {
				return nil
			}
		}
		note = fmt.Sprintf("every affected customer's notice was delivered (%d; the last, %s)", len(affected), label(&n))
	}
	at := n.SentAt
	if at.IsZero() || at.After(now) {
		at = now
	}
	if err := tx.InsertObligationEvent(ctx, &store.ObligationEvent{IncidentID: n.IncidentID,
		ObligationID: n.ObligationID, Kind: store.ObligationSubmitted, At: at, Actor: actor.ID(), Note: note,
		RecordedAt: now}); err != nil {
		return err
	}
	raw, err := json.Marshal(map[string]any{"obligation": n.ObligationID, "at": store.FormatTime(at), "note": note,
		"notification": n.ID})
	if err != nil {
		return err
	}
	if err := tx.AppendTimeline(ctx, &store.TimelineEntry{IncidentID: n.IncidentID, At: now, Actor: actor.ID(), Auth: actor.Auth(),
		Kind: "obligation_submitted", Summary: fmt.Sprintf("Met %s: %s", n.ObligationID, note), Data: raw}); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: actor.ID(), Auth: actor.Auth(), Action: "obligation_submit",
		IncidentID: n.IncidentID, Outcome: store.OutcomeOK, Detail: n.ObligationID + " met by delivery"})
}
