package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Notification statuses. A notice that needs approval starts as a draft;
// one that does not starts queued. See docs/notifications.md.
const (
	NoticeDraft    = "draft"    // waiting for content and approval
	NoticeApproved = "approved" // approved; queued in the same transaction
	NoticeQueued   = "queued"   // waiting to be sent (again, after a retryable error)
	NoticeSending  = "sending"  // claimed by a worker that is sending it now
	NoticeSent     = "sent"     // posted, mailed, written to the console, or confirmed by a person
	NoticeExported = "exported" // written to files for a person to deliver: NOT delivered
	NoticeFailed   = "failed"   // given up; a person may retry it
	NoticeUnknown  = "unknown"  // it may or may not have arrived: a person must check
	// NoticeWithdrawn: a draft that no longer applies (its customer was
	// unlinked, its obligation or rule no longer holds after a
	// re-assessment). It was never sent; LastError says why it was
	// withdrawn.
	NoticeWithdrawn = "withdrawn"
)

// NoticeStatuses lists every status, in lifecycle order.
var NoticeStatuses = []string{NoticeDraft, NoticeApproved, NoticeQueued, NoticeSending, NoticeSent,
	NoticeExported, NoticeFailed, NoticeUnknown, NoticeWithdrawn}

// Notification destinations, decided when the notice is written.
const (
	DestSlack   = "slack"   // a Slack channel (ours, or a customer's Slack Connect channel)
	DestEmail   = "email"   // a mail address: mailed over SMTP, or exported as .md and .eml files
	DestFile    = "file"    // a file export with no address (a regulator's portal)
	DestConsole = "console" // no Slack configured, or a drill without a drill channel
)

// NoticeTemplate is the template a notice was rendered from, kept so that
// editing its content renders it again even if the runbook changed since.
type NoticeTemplate struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// NoticeField is a content field a person fills in before approval.
type NoticeField struct {
	ID       string `json:"id"`
	Label    string `json:"label"`
	Help     string `json:"help,omitempty"`
	Required bool   `json:"required,omitempty"`
}

// Notification is one row of the outbox.
type Notification struct {
	ID int64 `json:"id"`
	// IncidentID is "" for a notice about the record itself (a checkpoint).
	IncidentID string `json:"incident_id"`
	RuleID     string `json:"rule_id"`
	Trigger    string `json:"trigger"`
	Audience   string `json:"audience"`
	DestKind   string `json:"dest_kind"`
	Channel    string `json:"channel,omitempty"`
	Recipient  string `json:"recipient"`
	CustomerID string `json:"customer_id,omitempty"`
	Language   string `json:"language"`

	Subject string          `json:"subject"`
	Body    string          `json:"body"`
	Blocks  json.RawMessage `json:"blocks"`
	// MoreBlocks are the blocks of each further Slack message of a notice
	// too long for one: they follow as replies in the first one's thread.
	MoreBlocks []json.RawMessage `json:"more_blocks,omitempty"`
	Template   NoticeTemplate    `json:"template"`
	Fields     []NoticeField     `json:"fields"`
	Content    map[string]string `json:"content"`
	ContentBy  map[string]string `json:"content_by"`

	ObligationID string    `json:"obligation_id,omitempty"`
	DueAt        time.Time `json:"due_at,omitzero"`
	ApproverRole string    `json:"approver_role,omitempty"`

	Status        string    `json:"status"`
	Via           string    `json:"via,omitempty"`
	Attempts      int       `json:"attempts"`
	Failures      int       `json:"failures"`
	LastError     string    `json:"last_error,omitempty"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	ClaimedBy     string    `json:"claimed_by,omitempty"`
	ClaimedAt     time.Time `json:"claimed_at,omitzero"`

	IdempotencyKey string `json:"idempotency_key"`
	ThreadTS       string `json:"thread_ts,omitempty"`
	SlackTS        string `json:"slack_ts,omitempty"`
	// PartsSent counts the Slack messages of the notice posted so far;
	// PartTS holds the timestamps of parts 2, 3, ... (SlackTS is part 1's).
	PartsSent int      `json:"parts_sent,omitempty"`
	PartTS    []string `json:"part_ts,omitempty"`
	// UncertainAt is the first attempt at the part in flight whose outcome
	// is uncertain (it may have been posted): it is looked for before it is
	// posted again. VerifyAt is when a part posted after such an attempt is
	// looked for again, to delete a second copy that landed late.
	UncertainAt time.Time `json:"uncertain_at,omitzero"`
	VerifyAt    time.Time `json:"verify_at,omitzero"`
	// DuplicateTS is a second copy on Slack that could not be deleted.
	DuplicateTS string `json:"duplicate_ts,omitempty"`
	// MessageID is the Message-ID of a mailed (or exported) notice.
	MessageID string `json:"message_id,omitempty"`
	// ConfirmedBy is the person who recorded that it arrived (an unknown
	// outcome checked, or an export delivered by hand).
	ConfirmedBy string `json:"confirmed_by,omitempty"`
	ExportPath  string `json:"export_path,omitempty"`

	DraftedBy   string    `json:"drafted_by"`
	ApprovedBy  string    `json:"approved_by,omitempty"`
	ApprovedAt  time.Time `json:"approved_at,omitzero"`
	TriggeredAt time.Time `json:"triggered_at"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	Drill       bool      `json:"drill"`
}

// FiredRule records that a notification rule fired for an incident.
type FiredRule struct {
	IncidentID string
	RuleID     string
	TriggerKey string // unique per firing: "declared", "deadline_80:gdpr-33", "closed@TIME"
	Trigger    string // the runbook trigger
	Audience   string
	At         time.Time
	Actor      string
}

// NotificationFilter selects notifications for ListNotifications.
type NotificationFilter struct {
	IncidentID string   // "" for every incident
	Statuses   []string // empty for every status
	Limit      int      // 0: 500
}

const notificationColumns = `id, COALESCE(incident_id, ''), rule_id, trigger_name, audience, dest_kind, channel, recipient,
	COALESCE(customer_id, ''), language, subject, body, blocks, more_blocks, template, fields, content, content_by,
	obligation_id, due_at, approver_role, status, via, attempts, failures, last_error, next_attempt_at,
	claimed_by, claimed_at, idempotency_key, thread_ts, slack_ts, parts_sent, part_ts, uncertain_at, verify_at,
	duplicate_ts, message_id, confirmed_by, export_path, drafted_by, approved_by,
	approved_at, triggered_at, created_at, updated_at, sent_at, drill`

func scanNotification(sc scanner) (Notification, error) {
	var (
		n                                   Notification
		blocks, more, tmpl, fields, content string
		contentBy, partTS                   string
		due, next, claimed, approved, sent  sql.NullString
		uncertain, verify                   sql.NullString
		triggered, created, updated         string
		drill                               int
	)
	err := sc.Scan(&n.ID, &n.IncidentID, &n.RuleID, &n.Trigger, &n.Audience, &n.DestKind, &n.Channel,
		&n.Recipient, &n.CustomerID, &n.Language, &n.Subject, &n.Body, &blocks, &more, &tmpl, &fields, &content,
		&contentBy, &n.ObligationID, &due, &n.ApproverRole, &n.Status, &n.Via, &n.Attempts, &n.Failures,
		&n.LastError, &next, &n.ClaimedBy, &claimed, &n.IdempotencyKey, &n.ThreadTS, &n.SlackTS,
		&n.PartsSent, &partTS, &uncertain, &verify, &n.DuplicateTS, &n.MessageID, &n.ConfirmedBy,
		&n.ExportPath, &n.DraftedBy, &n.ApprovedBy, &approved, &triggered, &created, &updated, &sent, &drill)
	if err != nil {
		return Notification{}, err
	}
	n.Drill = drill != 0
	n.Blocks = json.RawMessage(blocks)
	for _, j := range []struct {
		src string
		dst any
	}{{more, &n.MoreBlocks}, {partTS, &n.PartTS}, {tmpl, &n.Template}, {fields, &n.Fields}, {content, &n.Content},
		{contentBy, &n.ContentBy}} {
		if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
			return Notification{}, fmt.Errorf("notification %d: stored JSON: %w", n.ID, err)
		}
	}
	if n.Content == nil {
		n.Content = map[string]string{}
	}
	if n.ContentBy == nil {
		n.ContentBy = map[string]string{}
	}
	for _, t := range []struct {
		src sql.NullString
		dst *time.Time
	}{{due, &n.DueAt}, {next, &n.NextAttemptAt}, {claimed, &n.ClaimedAt}, {approved, &n.ApprovedAt}, {sent, &n.SentAt},
		{uncertain, &n.UncertainAt}, {verify, &n.VerifyAt}} {
		if *t.dst, err = scanNullTime(t.src); err != nil {
			return Notification{}, err
		}
	}
	for _, t := range []struct {
		src string
		dst *time.Time
	}{{triggered, &n.TriggeredAt}, {created, &n.CreatedAt}, {updated, &n.UpdatedAt}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return Notification{}, err
		}
	}
	return n, nil
}

// notificationJSON encodes the JSON columns of n.
type notificationJSONCols struct {
	blocks, more, tmpl, fields, content, contentBy, partTS string
}

func notificationJSON(n *Notification) (c notificationJSONCols, err error) {
	c.blocks = strings.TrimSpace(string(n.Blocks))
	if c.blocks == "" || c.blocks == "null" {
		c.blocks = "[]"
	}
	if c.more, err = marshalJSON(n.MoreBlocks, "[]"); err != nil {
		return
	}
	if c.partTS, err = marshalJSON(n.PartTS, "[]"); err != nil {
		return
	}
	if c.tmpl, err = marshalJSON(n.Template, "{}"); err != nil {
		return
	}
	if c.fields, err = marshalJSON(n.Fields, "[]"); err != nil {
		return
	}
	if c.content, err = marshalJSON(n.Content, "{}"); err != nil {
		return
	}
	c.contentBy, err = marshalJSON(n.ContentBy, "{}")
	return
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertNotification adds a notification to the outbox and sets n.ID. A
// notification whose idempotency key is already there is not added again:
// inserted is then false and n.ID is that of the existing one.
func (tx *Tx) InsertNotification(ctx context.Context, n *Notification) (inserted bool, err error) {
	c, err := notificationJSON(n)
	if err != nil {
		return false, fmt.Errorf("notification for %s: %w", n.IncidentID, err)
	}
	res, err := tx.write(ctx, "outbox", `INSERT INTO outbox (incident_id, rule_id, trigger_name, audience,
		dest_kind, channel, recipient, customer_id, language, subject, body, blocks, more_blocks, template, fields,
		content, content_by, obligation_id, due_at, approver_role, status, via, attempts, failures, last_error,
		next_attempt_at, idempotency_key, drafted_by, triggered_at, created_at, updated_at, drill)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		nullString(n.IncidentID), n.RuleID, n.Trigger, n.Audience, n.DestKind, n.Channel, n.Recipient,
		nullString(n.CustomerID), n.Language, n.Subject, n.Body, c.blocks, c.more, c.tmpl, c.fields, c.content,
		c.contentBy,
		n.ObligationID, nullTime(n.DueAt), n.ApproverRole, n.Status, n.Via, n.Attempts, n.Failures,
		n.LastError, nullTime(n.NextAttemptAt), n.IdempotencyKey, n.DraftedBy, FormatTime(n.TriggeredAt),
		FormatTime(n.CreatedAt), FormatTime(n.UpdatedAt), boolInt(n.Drill))
	if err != nil {
		return false, fmt.Errorf("add notification %s to the outbox: %w", n.IdempotencyKey, err)
	}
	if res.n == 0 {
		err := tx.tx.QueryRowContext(ctx, "SELECT id FROM outbox WHERE idempotency_key = ?", n.IdempotencyKey).Scan(&n.ID)
		if err != nil {
			return false, fmt.Errorf("read notification %s: %w", n.IdempotencyKey, err)
		}
		return false, nil
	}
	n.ID = res.id
	return true, nil
}

// UpdateNotification writes every changeable field of n, provided its
// status is still fromStatus; ok is false when another transaction or
// process changed it first. The incident, rule, audience, idempotency key
// and creation time never change.
func (tx *Tx) UpdateNotification(ctx context.Context, n *Notification, fromStatus string) (ok bool, err error) {
	c, err := notificationJSON(n)
	if err != nil {
		return false, fmt.Errorf("notification %d: %w", n.ID, err)
	}
	res, err := tx.write(ctx, "outbox", `UPDATE outbox SET dest_kind = ?, channel = ?, recipient = ?,
		language = ?, subject = ?, body = ?, blocks = ?, more_blocks = ?, template = ?, fields = ?, content = ?,
		content_by = ?, obligation_id = ?, due_at = ?, approver_role = ?, status = ?, via = ?, attempts = ?,
		failures = ?, last_error = ?, next_attempt_at = ?, claimed_by = ?, claimed_at = ?, thread_ts = ?,
		slack_ts = ?, parts_sent = ?, part_ts = ?, uncertain_at = ?, verify_at = ?, duplicate_ts = ?,
		message_id = ?, confirmed_by = ?, export_path = ?, approved_by = ?, approved_at = ?, updated_at = ?,
		sent_at = ?
		WHERE id = ? AND status = ?`,
		n.DestKind, n.Channel, n.Recipient, n.Language, n.Subject, n.Body, c.blocks, c.more, c.tmpl, c.fields,
		c.content, c.contentBy, n.ObligationID, nullTime(n.DueAt), n.ApproverRole, n.Status, n.Via, n.Attempts,
		n.Failures, n.LastError, nullTime(n.NextAttemptAt), n.ClaimedBy, nullTime(n.ClaimedAt), n.ThreadTS,
		n.SlackTS, n.PartsSent, c.partTS, nullTime(n.UncertainAt), nullTime(n.VerifyAt), n.DuplicateTS,
		n.MessageID, n.ConfirmedBy, n.ExportPath, n.ApprovedBy, nullTime(n.ApprovedAt), FormatTime(n.UpdatedAt),
		nullTime(n.SentAt), n.ID, fromStatus)
	if err != nil {
		return false, fmt.Errorf("update notification %d: %w", n.ID, err)
	}
	return res.n == 1, nil
}

// Notification reads one notification inside the transaction.
func (tx *Tx) Notification(ctx context.Context, id int64) (Notification, error) {
	return getNotification(ctx, tx.tx, id)
}

func getNotification(ctx context.Context, q querier, id int64) (Notification, error) {
	return one(q.QueryRowContext(ctx, "SELECT "+notificationColumns+" FROM outbox WHERE id = ?", id),
		scanNotification, "notification %d", id)
}

func collectNotifications(rows *sql.Rows, err error) ([]Notification, error) {
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return collect(rows, scanNotification, "read outbox")
}

// NotificationsWithStatus lists the notifications in one status, oldest
// first, at most limit (0: all).
func (tx *Tx) NotificationsWithStatus(ctx context.Context, status string, limit int) ([]Notification, error) {
	if limit <= 0 {
		limit = -1
	}
	return collectNotifications(tx.tx.QueryContext(ctx, "SELECT "+notificationColumns+
		" FROM outbox WHERE status = ? ORDER BY id LIMIT ?", status, limit))
}

// NotificationsToVerify lists the notifications with a look for a second
// copy still to make (VerifyAt set), oldest first.
func (tx *Tx) NotificationsToVerify(ctx context.Context) ([]Notification, error) {
	return collectNotifications(tx.tx.QueryContext(ctx, "SELECT "+notificationColumns+
		" FROM outbox WHERE verify_at IS NOT NULL AND status IN ('queued', 'sent') ORDER BY id"))
}

// inProgress is the SQL condition of a notice part-way through going out:
// some of its Slack parts posted and the rest to follow, or a re-posted
// part still to be checked for a second copy. Nothing else of its incident
// goes to its channel meanwhile, so its parts stay together in order.
const inProgress = `((parts_sent > 0 AND status IN ('queued', 'sending'))
	OR (verify_at IS NOT NULL AND status IN ('queued', 'sending', 'sent')))`

// PendingBefore reports whether another notification of the same incident
// to the same destination must go first, so that messages reach a channel
// (and its thread) in the order they were written: an earlier one still
// waiting to be sent, or one part-way through going out. A notice that is
// itself part-way through waits only for one that started before it.
func (tx *Tx) PendingBefore(ctx context.Context, n Notification) (bool, error) {
	cond := `(id < ? AND status IN ('approved', 'queued', 'sending')) OR ` + inProgress
	if n.PartsSent > 0 || !n.VerifyAt.IsZero() {
		cond = `id < ? AND ` + inProgress
	}
	var k int
	err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE incident_id = ? AND dest_kind = ?
		AND channel = ? AND id != ? AND (`+cond+`)`,
		n.IncidentID, n.DestKind, n.Channel, n.ID, n.ID).Scan(&k)
	if err != nil {
		return false, fmt.Errorf("read outbox order: %w", err)
	}
	return k > 0, nil
}

// ThreadRoot is the Slack timestamp of the first message posted for the
// incident to channel by the bot, which follow-ups reply to; "" if none.
func (tx *Tx) ThreadRoot(ctx context.Context, incidentID, channel string) (string, error) {
	var ts string
	err := tx.tx.QueryRowContext(ctx, `SELECT slack_ts FROM outbox WHERE incident_id = ? AND channel = ?
		AND via = 'slack' AND status = 'sent' AND slack_ts != '' AND thread_ts = ''
		ORDER BY sent_at, id LIMIT 1`, incidentID, channel).Scan(&ts)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read Slack thread of %s: %w", incidentID, err)
	}
	return ts, nil
}

// MarkFired records that a rule fired; fired is false when this firing
// (the same trigger key) was recorded before.
func (tx *Tx) MarkFired(ctx context.Context, f FiredRule) (fired bool, err error) {
	res, err := tx.write(ctx, "notify_fired", `INSERT INTO notify_fired (incident_id, rule_id, trigger_key,
		trigger_name, audience, fired_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		f.IncidentID, f.RuleID, f.TriggerKey, f.Trigger, f.Audience, FormatTime(f.At), f.Actor)
	if err != nil {
		return false, fmt.Errorf("record rule %s firing for %s: %w", f.RuleID, f.IncidentID, err)
	}
	return res.n == 1, nil
}

// FiredCount counts how often a rule fired for an incident on a trigger.
func (tx *Tx) FiredCount(ctx context.Context, incidentID, ruleID, trigger string) (int, error) {
	var n int
	err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM notify_fired WHERE incident_id = ? AND rule_id = ?
		AND trigger_name = ?`, incidentID, ruleID, trigger).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read fired rules of %s: %w", incidentID, err)
	}
	return n, nil
}

// FiredRules lists the rules that fired for an incident, oldest first.
func (tx *Tx) FiredRules(ctx context.Context, incidentID string) ([]FiredRule, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT incident_id, rule_id, trigger_key, trigger_name, audience,
		fired_at, actor FROM notify_fired WHERE incident_id = ? ORDER BY fired_at, rule_id, trigger_key`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("read fired rules of %s: %w", incidentID, err)
	}
	defer rows.Close()
	var out []FiredRule
	for rows.Next() {
		var (
			f  FiredRule
			at string
		)
		if err := rows.Scan(&f.IncidentID, &f.RuleID, &f.TriggerKey, &f.Trigger, &f.Audience, &at, &f.Actor); err != nil {
			return nil, fmt.Errorf("read fired rules of %s: %w", incidentID, err)
		}
		if f.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ChannelNextAt is the earliest time the next message may go to a
// channel (zero if it never received one).
func (tx *Tx) ChannelNextAt(ctx context.Context, channel string) (time.Time, error) {
	var at string
	err := tx.tx.QueryRowContext(ctx, "SELECT next_at FROM notify_channels WHERE channel = ?", channel).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read send spacing of a channel: %w", err)
	}
	return parseTime(at)
}

// SetChannelNextAt holds back the next message to a channel until at.
func (tx *Tx) SetChannelNextAt(ctx context.Context, channel string, at time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO notify_channels (channel, next_at) VALUES (?, ?)
		ON CONFLICT (channel) DO UPDATE SET next_at = excluded.next_at`, channel, FormatTime(at))
	if err != nil {
		return fmt.Errorf("record send spacing of a channel: %w", err)
	}
	return nil
}

// CustomerDirectory lists every customer in the directory by id.
func (tx *Tx) CustomerDirectory(ctx context.Context) ([]Customer, error) {
	rows, err := tx.tx.QueryContext(ctx, "SELECT "+customerColumns+" FROM customers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read customers: %w", err)
	}
	return collectCustomers(rows)
}

// Notification reads one notification; ErrNotFound when there is none.
func (s *Store) Notification(ctx context.Context, id int64) (Notification, error) {
	return getNotification(ctx, s.r, id)
}

// ListNotifications lists notifications, oldest first.
func (s *Store) ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	var (
		where []string
		args  []any
	)
	if f.IncidentID != "" {
		where, args = append(where, "incident_id = ?"), append(args, f.IncidentID)
	}
	if len(f.Statuses) > 0 {
		marks := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			marks[i] = "?"
			args = append(args, st)
		}
		where = append(where, "status IN ("+strings.Join(marks, ", ")+")")
	}
	q := "SELECT " + notificationColumns + " FROM outbox"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	// The newest limit rows, shown oldest first.
	q = "SELECT * FROM (" + q + " ORDER BY id DESC LIMIT ?) ORDER BY id"
	args = append(args, limit)
	return collectNotifications(s.r.QueryContext(ctx, q, args...))
}

// OutboxPending counts the notifications still to be sent (queued or being
// sent) or checked for a second copy, and tells when the soonest of them
// may be tried (zero: now).
func (s *Store) OutboxPending(ctx context.Context) (n int, next time.Time, err error) {
	var at sql.NullString
	err = s.r.QueryRowContext(ctx, `SELECT count(*),
		(SELECT MIN(t) FROM (
			SELECT COALESCE(next_attempt_at, '') AS t FROM outbox WHERE status = 'queued'
			UNION ALL
			SELECT verify_at FROM outbox WHERE verify_at IS NOT NULL AND status = 'sent'))
		FROM outbox WHERE status IN ('approved', 'queued', 'sending')
			OR (verify_at IS NOT NULL AND status = 'sent')`).Scan(&n, &at)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read outbox: %w", err)
	}
	if at.Valid && at.String != "" {
		if next, err = parseTime(at.String); err != nil {
			return 0, time.Time{}, err
		}
	}
	return n, next, nil
}

// DeliveredCustomers lists the customers of an incident whose notice for
// an obligation reached them: sent by Slack (bot or webhook) or mail, or
// recorded as delivered by a person. A notice only exported, or only
// written to the console, is not among them.
func (tx *Tx) DeliveredCustomers(ctx context.Context, incidentID, obligationID string) ([]string, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT DISTINCT customer_id FROM outbox WHERE incident_id = ?
		AND obligation_id = ? AND audience = 'customers' AND customer_id IS NOT NULL AND status = 'sent'
		AND (via IN ('slack', 'webhook', 'mail') OR confirmed_by != '') ORDER BY customer_id`, incidentID, obligationID)
	if err != nil {
		return nil, fmt.Errorf("read delivered notices of %s: %w", incidentID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read delivered notices of %s: %w", incidentID, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// IncidentNotifications lists an incident's notifications in the given
// statuses (all when none are given), oldest first, inside the
// transaction.
func (tx *Tx) IncidentNotifications(ctx context.Context, incidentID string, statuses ...string) ([]Notification, error) {
	q := "SELECT " + notificationColumns + " FROM outbox WHERE incident_id = ?"
	args := []any{incidentID}
	if len(statuses) > 0 {
		q += " AND status IN (?" + strings.Repeat(", ?", len(statuses)-1) + ")"
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	return collectNotifications(tx.tx.QueryContext(ctx, q+" ORDER BY id", args...))
}

// WithdrawNotification marks a draft withdrawn with the reason, provided
// it is still a draft; ok is false otherwise. Its idempotency key is
// retired (suffixed with its id), so that the same notice can be drafted
// afresh if it applies again.
func (tx *Tx) WithdrawNotification(ctx context.Context, id int64, reason string, at time.Time) (ok bool, err error) {
	res, err := tx.write(ctx, "outbox", `UPDATE outbox SET status = ?, last_error = ?, updated_at = ?,
		idempotency_key = idempotency_key || '|withdrawn#' || id WHERE id = ? AND status = ?`,
		NoticeWithdrawn, reason, FormatTime(at), id, NoticeDraft)
	if err != nil {
		return false, fmt.Errorf("withdraw notification %d: %w", id, err)
	}
	return res.n == 1, nil
}

// UnmarkFired forgets that a rule fired on a trigger, so that it fires
// again when the trigger recurs: its notices were withdrawn.
func (tx *Tx) UnmarkFired(ctx context.Context, incidentID, ruleID, triggerKey string) error {
	if _, err := tx.write(ctx, "notify_fired", `DELETE FROM notify_fired WHERE incident_id = ? AND rule_id = ? AND trigger_key = ?`,
		incidentID, ruleID, triggerKey); err != nil {
		return fmt.Errorf("forget rule %s firing for %s: %w", ruleID, incidentID, err)
	}
	return nil
}
