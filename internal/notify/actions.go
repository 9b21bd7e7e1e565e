package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// View is a notification as the notifications pane and `irtui notify`
// show it.
type View struct {
	store.Notification
	// Preview is one line: the subject and the start of the body.
	Preview string `json:"preview"`
	// Missing lists the labels of required content fields still empty:
	// while there are any, the notice cannot be approved.
	Missing []string `json:"missing,omitempty"`
	// LatencySeconds is the time from the trigger to delivery, for sent
	// notifications.
	LatencySeconds float64 `json:"latency_seconds,omitempty"`
	// State is where it stands, as people read it: "sent", "EXPORTED — not
	// delivered", "console only — not sent", "sending (part 1 of 3 sent)",
	// "OUTCOME UNKNOWN", ... Every screen shows this rather than Status.
	State string `json:"state"`
	// Delivered reports whether it reached its recipient: by Slack or
	// mail, or recorded as delivered by a person.
	Delivered bool `json:"delivered"`
	// Alert is set when a person must act: failed, unknown, exported and
	// not delivered, or posted twice.
	Alert bool `json:"alert"`
	// Requires lists what the obligation the notice serves says it must
	// contain, for the person who fills it in and the approver; IfLate is
	// what a late notice must add.
	Requires []string `json:"requires,omitempty"`
	IfLate   string   `json:"if_late,omitempty"`
	// Blocked lists, for a draft, what stops its approval besides empty
	// required fields: placeholder text, organisation details that are
	// not configured (where to set them).
	Blocked []string `json:"blocked,omitempty"`
}

// view is NewView with what only the service knows: the configured
// organisation the notice's template uses.
func (s *Service) view(n store.Notification) View {
	v := NewView(n)
	if n.Status == store.NoticeDraft {
		v.Blocked = append(OrgProblems(n.Template, s.Config.Org), Placeholders(n)...)
	}
	return v
}

// Latency is the time from the trigger to delivery; zero until sent.
func (v View) Latency() time.Duration {
	if v.SentAt.IsZero() {
		return 0
	}
	return v.SentAt.Sub(v.TriggeredAt)
}

// Short states, for narrow screens and the list's status column.
const (
	StateExported = "EXPORTED — not delivered"
	StateConsole  = "console only — not sent"
	StateUnknown  = "OUTCOME UNKNOWN"
	StateFailed   = "FAILED"
)

// stateOf says where n stands, for people.
func stateOf(n store.Notification) string {
	switch n.Status {
	case store.NoticeExported:
		return StateExported
	case store.NoticeFailed:
		return StateFailed
	case store.NoticeUnknown:
		return StateUnknown
	case store.NoticeQueued:
		switch {
		case n.PartsSent > 0:
			return fmt.Sprintf("sending (%d of %d parts sent)", n.PartsSent, 1+len(n.MoreBlocks))
		case !n.UncertainAt.IsZero():
			return "queued (may have been posted: it is looked for first)"
		}
	case store.NoticeSent:
		switch {
		case n.DuplicateTS == uncheckedMark:
			return "sent — NOT CHECKED for a second copy"
		case n.DuplicateTS != "":
			return "sent — POSTED TWICE"
		case n.Via == ViaConsole && n.ConfirmedBy == "":
			return StateConsole
		case n.ConfirmedBy != "":
			return "delivered (recorded by " + n.ConfirmedBy + ")"
		case !n.VerifyAt.IsZero():
			return "sent (looking again for a second copy)"
		}
	}
	return n.Status
}

// NewView describes a notification for people.
func NewView(n store.Notification) View {
	v := View{Notification: n, Missing: missing(n), State: stateOf(n), Delivered: Delivered(n),
		Alert: n.Status == store.NoticeFailed || n.Status == store.NoticeUnknown || n.Status == store.NoticeExported ||
			n.DuplicateTS != ""}
	if !n.SentAt.IsZero() {
		v.LatencySeconds = n.SentAt.Sub(n.TriggeredAt).Seconds()
	}
	body := strings.TrimPrefix(n.Body, Exercise+" This is a drill message.\n\n")
	first := ""
	for _, line := range strings.Split(body, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			first = line
			break
		}
	}
	v.Preview = truncate(safetext.Line(n.Subject+" — "+first), 160)
	if r, ok := deadline.RuleByID(n.ObligationID); ok {
		for _, c := range r.Content {
			v.Requires = append(v.Requires, c.Text)
		}
		v.IfLate = r.IfLate
	}
	return v
}

// DelayField is the content field a late notice explains its delay in,
// when the obligation asks for that (GDPR Art. 33(1)).
const DelayField = "delay_reasons"

func missing(n store.Notification) []string {
	var out []string
	for _, f := range n.Fields {
		if f.Required && strings.TrimSpace(n.Content[f.ID]) == "" {
			out = append(out, f.Label)
		}
	}
	return out
}

// Filter selects notifications for List.
type Filter struct {
	IncidentID string   // "" for every incident
	Statuses   []string // empty for every status
	Limit      int      // 0: 500, the newest
}

// List lists notifications, oldest first, and audits the access
// (action "notify_list"): they hold incident and customer data.
func (s *Service) List(ctx context.Context, actor identity.Actor, f Filter) ([]View, error) {
	for _, st := range f.Statuses {
		if !slices.Contains(store.NoticeStatuses, st) {
			return nil, refused("unknown status %q; use %s", st, strings.Join(store.NoticeStatuses, ", "))
		}
	}
	var out []View
	detail := "incident=" + cmpOr(f.IncidentID, "all")
	err := s.audited(ctx, actor, "notify_list", f.IncidentID, detail, func() error {
		list, err := s.Store.ListNotifications(ctx, store.NotificationFilter{IncidentID: f.IncidentID,
			Statuses: f.Statuses, Limit: f.Limit})
		if err != nil {
			return err
		}
		out = make([]View, len(list))
		for i, n := range list {
			out[i] = s.view(n)
		}
		return nil
	})
	return out, err
}

// Get reads one notification and audits the access ("notify_show").
func (s *Service) Get(ctx context.Context, actor identity.Actor, id int64) (View, error) {
	var v View
	incidentID := ""
	if n, err := s.Store.Notification(ctx, id); err == nil {
		incidentID = n.IncidentID
	}
	err := s.audited(ctx, actor, "notify_show", incidentID, fmt.Sprintf("notification #%d", id), func() error {
		n, err := s.Store.Notification(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("notification #%d does not exist", id)
		}
		if err != nil {
			return err
		}
		v = s.view(n)
		return nil
	})
	return v, err
}

// audited runs a read, then records it in the audit log before the caller
// may see the data, as the incident service does for incident reads.
func (s *Service) audited(ctx context.Context, actor identity.Actor, action, incidentID, detail string, fn func() error) error {
	now := s.Clock.Now()
	_, err := check(ctx, s.Store, actor, incidentID)
	if err == nil {
		err = fn()
	}
	if err == nil {
		// A read does not wait for a writer: when the lock is not free at
		// once, the entry goes to the pending-audit journal.
		_, err = s.Store.RecordRead(ctx, store.AuditEntry{At: now, Actor: actor.ID(), Auth: actor.Auth(), Action: action,
			IncidentID: incidentID, Outcome: store.OutcomeOK, Detail: detail}, false)
		if err != nil {
			err = fmt.Errorf("cannot record this access in the audit log, so it is not shown: %w", err)
		}
	}
	if err != nil {
		outcome := store.OutcomeFailed
		if isRefusal(err) {
			outcome = store.OutcomeRefused
		}
		identity.RecordRead(ctx, s.Store, now, actor, action, incidentID, outcome, err.Error())
	}
	return err
}

// CheckSender establishes that actor may have queued notifications sent
// (irtui notify send): someone the directory knows. A refusal is audited
// ("notify_send").
func (s *Service) CheckSender(ctx context.Context, actor identity.Actor) error {
	if _, err := check(ctx, s.Store, actor, ""); err != nil {
		identity.Record(ctx, s.Store, s.Clock.Now(), actor, "notify_send", "", store.OutcomeRefused, err.Error())
		return err
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// load reads a notification inside a transaction with a clear error.
func load(ctx context.Context, tx *store.Tx, id int64) (store.Notification, error) {
	n, err := tx.Notification(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return n, notFound("notification #%d does not exist", id)
	}
	return n, err
}

// incidentOf names the incident of a notification for audit entries,
// before the transaction (a refusal is audited against it too).
func (s *Service) incidentOf(ctx context.Context, id int64) string {
	if n, err := s.Store.Notification(ctx, id); err == nil {
		return n.IncidentID
	}
	return ""
}

// SetContent fills in (or, with an empty value, clears) one content field
// of a draft and renders the notice again. In a customer's notice, other
// customers' names and ids are replaced by incident.Redacted, so the
// notice keeps holding that customer's data only. Whoever fills in a field
// can no longer approve the notice. Timeline: "notification_edited".
func (s *Service) SetContent(ctx context.Context, actor identity.Actor, id int64, field, value string) (View, error) {
	field = strings.TrimSpace(field)
	value = strings.TrimSpace(safetext.Clean(value))
	detail := fmt.Sprintf("notification #%d field %s", id, field)
	var out store.Notification
	err := s.change(ctx, actor, "notify_edit", s.incidentOf(ctx, id), &detail, func(tx *store.Tx, now time.Time) error {
		n, err := s.edit(ctx, tx, actor, id, field, value, now)
		out = n
		return err
	})
	if err != nil {
		return View{}, err
	}
	return NewView(out), nil
}

// edit fills in one field of a draft inside tx: SetContent's work.
func (s *Service) edit(ctx context.Context, tx *store.Tx, actor identity.Actor, id int64, field, value string, now time.Time) (store.Notification, error) {
	n, err := load(ctx, tx, id)
	if err != nil {
		return n, err
	}
	if n.Status != store.NoticeDraft {
		return n, invalidState("%s is %s: only a draft can be edited", label(&n), stateOf(n))
	}
	i := slices.IndexFunc(n.Fields, func(f store.NoticeField) bool { return f.ID == field })
	if i < 0 {
		ids := make([]string, len(n.Fields))
		for j, f := range n.Fields {
			ids[j] = f.ID
		}
		if len(ids) == 0 {
			return n, refused("%s has no content fields to fill in", label(&n))
		}
		return n, refused("%s has no field %q; its fields are %s", label(&n), field, strings.Join(ids, ", "))
	}
	if len(value) > maxContentText {
		return n, refused("the text for %s is %d bytes; at most %d fit in a notice", field, len(value), maxContentText)
	}
	if err := s.rerender(ctx, tx, &n, func(n *store.Notification, redact func(string) string) {
		if redact != nil {
			value = redact(value)
		}
		n.Content[field] = value
		n.ContentBy[field] = actor.ID()
	}); err != nil {
		return n, err
	}
	n.UpdatedAt = now
	if ok, err := tx.UpdateNotification(ctx, &n, store.NoticeDraft); err != nil || !ok {
		return n, cmpErr(err, invalidState("%s changed while it was being edited; try again", label(&n)))
	}
	summary := fmt.Sprintf("%s filled in %q of %s", actor, n.Fields[i].Label, label(&n))
	if value == "" {
		summary = fmt.Sprintf("%s cleared %q of %s", actor, n.Fields[i].Label, label(&n))
	}
	return n, entry(ctx, tx, &n, now, actor, "notification_edited", summary,
		map[string]any{"field": field, "value": value})
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// rerender renders n again from its template with the incident as it is
// now, after edit has changed it. edit gets the redaction for a customer's
// notice (nil otherwise).
func (s *Service) rerender(ctx context.Context, tx *store.Tx, n *store.Notification,
	edit func(n *store.Notification, redact func(string) string)) error {
	in, err := tx.Incident(ctx, n.IncidentID)
	if err != nil {
		return err
	}
	ec, err := s.newEventCtx(ctx, tx, in, nil, identity.Actor{Person: n.DraftedBy}, n.TriggeredAt)
	if err != nil {
		return err
	}
	data := ec.base
	var redact func(string) string
	if n.CustomerID != "" {
		c, err := tx.Customer(ctx, n.CustomerID)
		if err != nil {
			return err
		}
		if err := ec.directory(ctx, tx); err != nil {
			return err
		}
		data.Customer = runbook.CustomerData{ID: c.ID, Name: c.Name, Language: c.Language, Region: c.Region}
		data.Incident.Title = ec.title.forCustomer(c.ID)
		data.Incident.Summary = ec.summary.forCustomer(c.ID)
		red, cid := ec.red, c.ID
		redact = func(v string) string { return red.redact(v, cid) }
	}
	edit(n, redact)
	due := n.DueAt
	s.obligation(ec, &runbook.Notification{ID: n.RuleID, Obligation: n.ObligationID}, n, &data)
	if n.DueAt.IsZero() {
		n.DueAt = due
	}
	if err := render(n, data, ec.facts, redact); err != nil {
		return fmt.Errorf("%s could not be rendered: %w", label(n), err)
	}
	return nil
}

// Approve approves a draft and queues it for delivery. It is refused
// while a required content field is empty; to anyone but the current
// holder of the notice's approver role (the incident commander unless the
// rule names another) and, for customer and regulator notices, people
// with the approve permission; and always to the person who drafted it
// (whose action triggered it) or filled in any of its content, compared by
// the authenticated person: a notice to a customer or a regulator is a
// legal act, and two people see it before it goes. Timeline:
// "notification_approved", then "notification_queued".
func (s *Service) Approve(ctx context.Context, actor identity.Actor, id int64) error {
	detail := fmt.Sprintf("notification #%d", id)
	return s.change(ctx, actor, "notify_approve", s.incidentOf(ctx, id), &detail, func(tx *store.Tx, now time.Time) error {
		n, me, err := s.approvable(ctx, tx, actor, id, now)
		if err != nil {
			return err
		}
		n.Status, n.ApprovedBy, n.ApprovedAt, n.UpdatedAt = store.NoticeApproved, me, now, now
		if ok, err := tx.UpdateNotification(ctx, &n, store.NoticeDraft); err != nil || !ok {
			return cmpErr(err, invalidState("%s changed while it was being approved; try again", label(&n)))
		}
		if err := entry(ctx, tx, &n, now, actor, "notification_approved",
			fmt.Sprintf("%s approved %s to %s", actor, label(&n), n.Recipient), nil); err != nil {
			return err
		}
		n.Status, n.NextAttemptAt = store.NoticeQueued, time.Time{}
		if ok, err := tx.UpdateNotification(ctx, &n, store.NoticeApproved); err != nil || !ok {
			return cmpErr(err, invalidState("%s changed while it was being approved; try again", label(&n)))
		}
		return entry(ctx, tx, &n, now, actor, "notification_queued",
			fmt.Sprintf("Queued %s to %s", label(&n), n.Recipient), nil)
	})
}

// lateness refuses a late notice that does not say why it is late, when
// its obligation asks for that (GDPR Art. 33(1)).
func lateness(n store.Notification, now time.Time) error {
	if r, ok := deadline.RuleByID(n.ObligationID); ok && r.IfLate != "" && !n.DueAt.IsZero() && now.After(n.DueAt) {
		i := slices.IndexFunc(n.Fields, func(f store.NoticeField) bool { return f.ID == DelayField })
		if i >= 0 && strings.TrimSpace(n.Content[DelayField]) == "" {
			return refused("cannot approve %s: it is late (due %s), and %s Fill in %q with `irtui notify set %d %s TEXT`",
				label(&n), n.DueAt.UTC().Format(time.RFC3339), r.IfLate, n.Fields[i].Label, n.ID, DelayField)
		}
	}
	return nil
}

// deniedf is a refusal because of who asked.
func deniedf(format string, args ...any) error {
	return incident.Denied(&identity.Denied{Msg: fmt.Sprintf(format, args...)})
}

// approvers names who besides the role holder may approve a notice.
func approvers(legal bool) string {
	if legal {
		return " or someone with the approve permission"
	}
	return ""
}

// checkSize refuses a notice too long to deliver whole: longer than
// maxBody, or, for Slack, longer than MaxSlackParts messages once escaped.
// The message says how long it is and which field is the longest.
func checkSize(n store.Notification) error {
	longest, size := "", 0
	for _, f := range n.Fields {
		if l := utf8.RuneCountInString(n.Content[f.ID]); l > size {
			longest, size = f.ID, l
		}
	}
	hint := ""
	if longest != "" {
		hint = fmt.Sprintf(" The longest field is %s (%d characters): shorten it with `irtui notify set %d %s TEXT`.",
			longest, size, n.ID, longest)
	}
	if l := len(n.Body); l > maxBody {
		return refused("cannot approve %s: its text is %d bytes, and at most %d fit in a notice.%s", label(&n), l, maxBody, hint)
	}
	if n.DestKind != store.DestSlack {
		return nil
	}
	if sz := slackSize(n); sz.Cut {
		return refused("cannot approve %s: on Slack it would take more than %d messages (%d characters of text, %d "+
			"after escaping &, < and > for Slack; one message holds about %d).%s", label(&n), MaxSlackParts, sz.Text,
			sz.Escaped, messageBudget-1000, hint)
	}
	return nil
}

// ApproveRule approves every draft of the runbook notification ruleID on
// an incident, each with Approve and under its rules: what a drill's
// "approve" action does, as the team names a notification by its rule. It
// fails when the incident has no such draft.
func (s *Service) ApproveRule(ctx context.Context, actor identity.Actor, incidentID, ruleID string) error {
	list, err := s.Store.ListNotifications(ctx, store.NotificationFilter{IncidentID: incidentID,
		Statuses: []string{store.NoticeDraft}})
	if err != nil {
		return err
	}
	n := 0
	for _, no := range list {
		if no.RuleID == ruleID {
			if err := s.Approve(ctx, actor, no.ID); err != nil {
				return err
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("there is no draft of %s on %s to approve (`irtui notify list --incident %s`)", ruleID, incidentID, incidentID)
	}
	return nil
}

// Retry queues a failed notification, or one whose outcome is unknown,
// for delivery again. For an unknown one, check first that it did not
// arrive (ConfirmSent records that it did). Timeline:
// "notification_requeued".
func (s *Service) Retry(ctx context.Context, actor identity.Actor, id int64) error {
	detail := fmt.Sprintf("notification #%d", id)
	return s.change(ctx, actor, "notify_retry", s.incidentOf(ctx, id), &detail, func(tx *store.Tx, now time.Time) error {
		n, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		if n.Status != store.NoticeFailed && n.Status != store.NoticeUnknown {
			return invalidState("%s is %s: only a failed notification, or one whose outcome is unknown, can be retried",
				label(&n), n.Status)
		}
		from := n.Status
		switch {
		case strings.HasPrefix(n.LastError, "could not render"):
			if err := s.rerender(ctx, tx, &n, func(*store.Notification, func(string) string) {}); err != nil {
				return refused("%s still cannot be rendered: %v", label(&n), err)
			}
		case strings.Contains(n.LastError, "msg_blocks_too_long"):
			// Stored in one message by an older irtui: the same text, in parts.
			if err := relayout(&n); err != nil {
				return refused("%s cannot be laid out again: %v", label(&n), err)
			}
		}
		// A person has looked: the part in flight is sent again without a
		// look for an earlier attempt.
		n.Status, n.Failures, n.NextAttemptAt, n.ClaimedBy, n.ClaimedAt, n.UpdatedAt =
			store.NoticeQueued, 0, time.Time{}, "", time.Time{}, now
		n.UncertainAt, n.VerifyAt = time.Time{}, time.Time{}
		if ok, err := tx.UpdateNotification(ctx, &n, from); err != nil || !ok {
			return cmpErr(err, invalidState("%s changed meanwhile; look again", label(&n)))
		}
		return entry(ctx, tx, &n, now, actor, "notification_requeued",
			fmt.Sprintf("%s queued %s (%s) again", actor, label(&n), from), map[string]any{"from": from})
	})
}

// Confirmation is what a person records with Confirm.
type Confirmation struct {
	// SlackTS is the Slack timestamp of the message, found on Slack by the
	// key in its metadata (Worker.Locate), so that later messages of the
	// incident reply in its thread. Empty when it was not looked up.
	SlackTS string
	// At is when it was delivered (zero: now).
	At time.Time
}

// ConfirmSent records that a notification arrived: see Confirm.
func (s *Service) ConfirmSent(ctx context.Context, actor identity.Actor, id int64) error {
	_, err := s.Confirm(ctx, actor, id, Confirmation{})
	return err
}

// Confirm records that a notification reached its recipient: one whose
// outcome was unknown (someone checked the channel or asked the
// recipient), or one exported as files that a person delivered by hand.
// It is then not sent again, and it counts as delivered: when it was the
// last affected customer's notice for an obligation, the obligation is
// met. A part of a Slack notice in several confirmed this way is followed
// by the rest. Timeline: "notification_sent" (or "notification_part_sent").
func (s *Service) Confirm(ctx context.Context, actor identity.Actor, id int64, c Confirmation) (View, error) {
	detail := fmt.Sprintf("notification #%d", id)
	var out store.Notification
	err := s.change(ctx, actor, "notify_confirm", s.incidentOf(ctx, id), &detail, func(tx *store.Tx, now time.Time) error {
		n, err := load(ctx, tx, id)
		if err != nil {
			return err
		}
		from := n.Status
		if from != store.NoticeUnknown && from != store.NoticeExported {
			return invalidState("%s is %s: only a notification whose outcome is unknown, or one exported for a person "+
				"to deliver, can be recorded as delivered", label(&n), stateOf(n))
		}
		at := c.At
		if at.IsZero() {
			at = now
		}
		if at.After(now) {
			return refused("%s: %s is in the future", label(&n), at.Format(time.RFC3339))
		}
		n.ConfirmedBy, n.UpdatedAt, n.ClaimedBy, n.ClaimedAt = actor.ID(), now, "", time.Time{}
		n.UncertainAt, n.VerifyAt, n.NextAttemptAt = time.Time{}, time.Time{}, time.Time{}
		n.LastError = "confirmed as delivered by " + actor.ID()
		extra := map[string]any{"confirmed_by": actor.ID(), "from": from}
		summary := fmt.Sprintf("%s confirmed that %s reached %s", actor, label(&n), n.Recipient)
		parts := partsVia(n, n.Via)
		if from == store.NoticeExported {
			summary = fmt.Sprintf("%s recorded that %s, exported to %s, was delivered to %s by hand", actor, label(&n),
				n.ExportPath, n.Recipient)
		} else if n.Via == ViaSlack || n.Via == ViaWebhook {
			part := min(n.PartsSent+1, parts)
			if c.SlackTS != "" {
				setPartTS(&n, part, c.SlackTS)
				extra["slack_ts"] = c.SlackTS
			}
			n.PartsSent = part
			if part < parts {
				n.Status, n.NextAttemptAt = store.NoticeQueued, now
				if ok, err := tx.UpdateNotification(ctx, &n, from); err != nil || !ok {
					return cmpErr(err, invalidState("%s changed meanwhile; look again", label(&n)))
				}
				out = n
				return entry(ctx, tx, &n, now, actor, "notification_part_sent",
					fmt.Sprintf("%s confirmed that part %d of %d of %s reached %s; the rest follows", actor, part, parts,
						label(&n), n.Recipient), extra)
			}
		}
		n.Status, n.SentAt = store.NoticeSent, at
		if ok, err := tx.UpdateNotification(ctx, &n, from); err != nil || !ok {
			return cmpErr(err, invalidState("%s changed meanwhile; look again", label(&n)))
		}
		out = n
		if err := entry(ctx, tx, &n, now, actor, "notification_sent", summary, extra); err != nil {
			return err
		}
		return meetObligation(ctx, tx, n, now, actor)
	})
	if err != nil {
		return View{}, err
	}
	return NewView(out), nil
}
