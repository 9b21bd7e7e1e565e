// Package notify tells people about incidents: stakeholders on Slack at
// once, customers whose data is affected with an approved notice, and
// regulators with a notice exported for submission.
//
// It is a transactional outbox. The runbook's notification rules fire on
// incident events inside the transaction that records the event
// (Service.OnEvent, an incident.Notifier), and on deadline crossings
// (Service.ScanDeadlines); each rendered message is a row in the store's
// outbox. A Worker sends queued rows later, to Slack (bot token or incoming
// webhook; a long notice in parts, in its first part's thread), by mail
// (SMTP over TLS), to the console, or as .md and .eml files — which are
// "exported", never "sent": nobody received them until a person records
// the delivery. It keeps per-channel spacing, Retry-After, backoff and a
// final failed state. Nothing is lost when Slack or the mail server is
// slow, rate-limited or down. A post that may have arrived without an
// answer is looked for on Slack, by the key in its metadata, no sooner
// than a late commit could land (LateCommit) and on Slack's clock, before
// it is posted again; a re-post is looked for once more later and a second
// copy deleted. A message can therefore stay posted twice only when Slack
// stores an attempt later than both looks (docs/notifications.md says
// exactly what is guaranteed). One whose outcome cannot be known (after a crash, a mail
// server silent after the message, or when Slack cannot be asked) is
// flagged for a person. Delivering every affected customer's notice meets
// the obligation it serves. Every status change is a timeline entry with
// its audit entry.
//
// See docs/notifications.md.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// Audiences of notification rules.
const (
	AudienceStakeholders = "stakeholders"
	AudienceCustomers    = "customers"
	AudienceRegulator    = "regulator"
	AudienceInternal     = "internal"
)

// Exercise prefixes every message of a drill.
const Exercise = "[EXERCISE]"

// DefaultApprover approves notices whose rule names no approver role.
const DefaultApprover = "incident_commander"

// SystemActor is recorded for what irtui does by itself: deadline
// reminders it drafts, and deliveries when no one is named.
const SystemActor = identity.SystemID

// Service writes notifications and carries out what people do with them:
// fill in content, approve, retry. Store, Clock and Runbook are required.
type Service struct {
	Store  *store.Store
	Clock  clock.Clock
	Config config.Config // organisation, policy and Slack routing
	// Settings supply the default stakeholder channel (IRTUI_SLACK_CHANNEL).
	// Credentials in them are not used here.
	Settings Settings
	// Runbook finds a loaded runbook by id.
	Runbook func(id string) (*runbook.Runbook, bool)
}

var _ incident.Notifier = (*Service)(nil)

// LibraryLookup adapts a runbook library loader to Service.Runbook; load
// is called once, on first use. The result is safe for concurrent use.
func LibraryLookup(load func() *runbook.Library) func(string) (*runbook.Runbook, bool) {
	get := sync.OnceValue(load)
	return func(id string) (*runbook.Runbook, bool) {
		lib := get()
		if lib == nil {
			return nil, false
		}
		return lib.Get(id)
	}
}

// Errors are incident.Errors, so callers test them the same way:
// errors.Is(err, incident.ErrRefused) and so on.
func notFound(format string, args ...any) error {
	return &incident.Error{Kind: incident.ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

func refused(format string, args ...any) error {
	return &incident.Error{Kind: incident.ErrRefused, Msg: fmt.Sprintf(format, args...)}
}

func invalidState(format string, args ...any) error {
	return &incident.Error{Kind: incident.ErrInvalidState, Msg: fmt.Sprintf(format, args...)}
}

func isRefusal(err error) bool {
	var e *incident.Error
	return errors.As(err, &e)
}

// dirReader is what check reads: the store or a write transaction.
type dirReader interface {
	identity.Reader
	IncidentDrill(ctx context.Context, id string) (bool, error)
}

// check establishes who acts on a notification of incidentID (a drill's
// notices are in drill scope, where a claim holds).
func check(ctx context.Context, r dirReader, actor identity.Actor, incidentID string) (identity.Who, error) {
	scope := identity.Scope{}
	if incidentID != "" {
		drill, err := r.IncidentDrill(ctx, incidentID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return identity.Who{}, err
		}
		scope.Drill = drill
	}
	who, err := identity.Check(ctx, r, actor, scope)
	return who, incident.Denied(err)
}

// change runs fn in one write transaction with an audit entry, and audits
// a refusal or failure in a transaction of its own, as the incident
// service does.
func (s *Service) change(ctx context.Context, actor identity.Actor, action, incidentID string, detail *string,
	fn func(tx *store.Tx, now time.Time) error) error {
	return change(ctx, s.Store, s.Clock.Now(), actor, action, incidentID, detail, fn)
}

// change's fn gets the incident's time (timeOf): a drill incident's
// notices are stamped on its drill clock, and changing them is refused
// while the drill is paused or after it ended.
func change(ctx context.Context, st *store.Store, real time.Time, actor identity.Actor, action, incidentID string, detail *string,
	fn func(tx *store.Tx, now time.Time) error) error {
	err := st.Update(ctx, func(tx *store.Tx) error {
		if _, err := check(ctx, tx, actor, incidentID); err != nil {
			return err
		}
		now, err := timeOf(ctx, tx, incidentID, real, true)
		if err != nil {
			return err
		}
		if err := fn(tx, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: real, Actor: actor.ID(), Auth: actor.Auth(), Action: action,
			IncidentID: incidentID, Outcome: store.OutcomeOK, Detail: deref(detail)})
	})
	if err != nil {
		outcome := store.OutcomeFailed
		if isRefusal(err) {
			outcome = store.OutcomeRefused
		}
		identity.Record(ctx, st, real, actor, action, incidentID, outcome, err.Error())
		return err
	}
	return nil
}

// timeOf is the time of incidentID at the wall-clock time real: the drill
// clock of a drill incident's run, which its notices are stamped with
// and its deadlines read on (live refuses a people's change while the
// drill is paused or after it ended), otherwise real.
func timeOf(ctx context.Context, tx *store.Tx, incidentID string, real time.Time, live bool) (time.Time, error) {
	if incidentID == "" {
		return real, nil
	}
	c, ok, err := tx.DrillClockOf(ctx, incidentID)
	if err != nil || !ok {
		return real, err
	}
	if live {
		if err := incident.DrillLive(c, incidentID); err != nil {
			return time.Time{}, err
		}
	}
	return c.Now(real), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// entry appends the timeline entry of one notification's change. Entries
// about one customer's notice carry its customer_id, so a customer's
// export of the incident leaves out the notices of the others.
func entry(ctx context.Context, tx *store.Tx, n *store.Notification, at time.Time, actor identity.Actor, kind, summary string,
	extra map[string]any) error {
	if n.IncidentID == "" {
		return nil // a notice about the record itself (a checkpoint): its audit entry is the record
	}
	data := map[string]any{"rule": n.RuleID, "audience": n.Audience}
	if n.ID != 0 {
		data["notification"], data["status"], data["recipient"] = n.ID, n.Status, n.Recipient
	}
	if n.CustomerID != "" {
		data["customer_id"] = n.CustomerID
	}
	for k, v := range extra {
		data[k] = v
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return tx.AppendTimeline(ctx, &store.TimelineEntry{IncidentID: n.IncidentID, At: at, Actor: actor.ID(), Auth: actor.Auth(),
		Kind: kind, Summary: summary, Data: raw})
}

// label names a notification for people: "customer notice #12".
func label(n *store.Notification) string {
	switch n.Audience {
	case AudienceCustomers:
		return fmt.Sprintf("customer notice #%d", n.ID)
	case AudienceRegulator:
		return fmt.Sprintf("regulator notice #%d", n.ID)
	case AudienceInternal:
		return fmt.Sprintf("internal message #%d", n.ID)
	default:
		return fmt.Sprintf("stakeholder message #%d", n.ID)
	}
}
