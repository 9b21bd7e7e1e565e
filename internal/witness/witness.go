package witness

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/store"
)

// Options say where a checkpoint goes and how it is signed.
type Options struct {
	// To is the witness file; "" is the one beside the database.
	To string
	// Key is the signing key file; "" is DefaultKeyPath.
	Key string
	// Slack is the channel to post the checkpoint to through the outbox
	// ("" for none).
	Slack string
	// Actor is who asked for the checkpoint, and Auth how they were
	// authenticated (recorded with a Slack post).
	Actor, Auth string
	Clock       clock.Clock
	// KeyCreated hears of a signing key made now, with its public key, so
	// that it can be shown for safekeeping.
	KeyCreated func(path, public string)
}

func (o Options) now() time.Time {
	if o.Clock == nil {
		return clock.Real{}.Now()
	}
	return o.Clock.Now()
}

func (o Options) file(st *store.Store) string {
	if o.To != "" {
		return o.To
	}
	return DefaultPath(st.Path())
}

// Signer loads (or makes) the signing key the options name.
func (o Options) Signer() (*Signer, error) {
	path := o.Key
	if path == "" {
		var err error
		if path, err = DefaultKeyPath(); err != nil {
			return nil, err
		}
	}
	s, created, err := LoadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	if created && o.KeyCreated != nil {
		o.KeyCreated(path, s.Public())
	}
	return s, nil
}

// Write takes a checkpoint of the database now: it reads the heads of
// both chains, signs them, appends the line to the witness file and, when
// a Slack channel is set, queues it in the outbox for that channel. It is
// the one call the CLI, the app and a server make.
func Write(ctx context.Context, st *store.Store, o Options) (Line, error) {
	s, err := o.Signer()
	if err != nil {
		return Line{}, err
	}
	h, err := st.Heads(ctx)
	if err != nil {
		return Line{}, err
	}
	l := s.Sign(h.Checkpoint(o.now()))
	if err := Append(o.file(st), l); err != nil {
		return l, err
	}
	if o.Slack != "" {
		if err := Post(ctx, st, o, l); err != nil {
			return l, fmt.Errorf("checkpoint written to %s, but not queued for Slack: %w", o.file(st), err)
		}
	}
	return l, nil
}

// Checkpoint notices in the outbox.
const (
	NoticeRule    = "audit-checkpoint"
	NoticeTrigger = "checkpoint"
)

// Post queues a checkpoint in the outbox for a Slack channel, with an
// audit entry; the delivery worker sends it. A notice for the same heads
// is queued once.
func Post(ctx context.Context, st *store.Store, o Options, l Line) error {
	now := o.now()
	text := fmt.Sprintf("Checkpoint of the irtui record: timeline entry #%d, audit entry #%d", l.Timeline.ID, l.Audit.ID)
	if l.Incident != "" {
		text += ", newest incident " + l.Incident
	}
	line := string(l.Marshal())
	blocks, err := json.Marshal([]map[string]any{{"type": "section", "text": map[string]any{"type": "mrkdwn",
		"text": escapeMrkdwn(text) + ". Keep this line; `irtui audit verify --checkpoints FILE` checks the record against it:\n```" +
			escapeMrkdwn(line) + "```"}}})
	if err != nil {
		return err
	}
	actor := o.Actor
	if actor == "" {
		actor = store.SystemActor
	}
	n := store.Notification{RuleID: NoticeRule, Trigger: NoticeTrigger, Audience: "internal", DestKind: store.DestSlack,
		Channel: o.Slack, Recipient: o.Slack, Language: "en", Subject: "irtui checkpoint", Body: text + "\n\n" + line,
		Blocks: blocks, Status: store.NoticeQueued, DraftedBy: actor, TriggeredAt: now, CreatedAt: now, UpdatedAt: now,
		IdempotencyKey: "checkpoint:" + l.DB + ":" + strconv.FormatInt(l.Timeline.ID, 10) + ":" + strconv.FormatInt(l.Audit.ID, 10),
		Content:        map[string]string{"timeline_id": strconv.FormatInt(l.Timeline.ID, 10), "audit_id": strconv.FormatInt(l.Audit.ID, 10)}}
	return st.Update(ctx, func(tx *store.Tx) error {
		inserted, err := tx.InsertNotification(ctx, &n)
		if err != nil || !inserted {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: actor, Auth: o.Auth, Action: "checkpoint_notice", Outcome: store.OutcomeOK,
			Detail: fmt.Sprintf("checkpoint of timeline #%d and audit #%d queued for %s (notification #%d)",
				l.Timeline.ID, l.Audit.ID, o.Slack, n.ID)})
	})
}

func escapeMrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// LocalKeys are the public keys a process trusts without being told: the
// local signing key's, if there is one.
func LocalKeys(keyPath string) []ed25519.PublicKey {
	if keyPath == "" {
		var err error
		if keyPath, err = DefaultKeyPath(); err != nil {
			return nil
		}
	}
	s, err := LoadKey(keyPath)
	if err != nil {
		return nil
	}
	return []ed25519.PublicKey{s.key.Public().(ed25519.PublicKey)}
}

// CheckAtOpen holds a database just opened to the newest checkpoint of it
// in its witness file signed by a trusted key: if entries that checkpoint
// recorded are gone or changed, the database is marked damaged (writes
// stop) and the error says what is missing. No witness file, or no
// checkpoint of this database in it, is not an error.
func CheckAtOpen(ctx context.Context, st *store.Store, witnessPath string, keys []ed25519.PublicKey) error {
	if witnessPath == "" {
		witnessPath = DefaultPath(st.Path())
	}
	h, err := st.Heads(ctx)
	if err != nil {
		return err
	}
	if h.DatabaseID == "" || len(keys) == 0 {
		return nil
	}
	e, ok, err := Last(witnessPath, h.DatabaseID, keys)
	if err != nil || !ok {
		return err
	}
	cp, err := e.Line.Checkpoint(e.Source)
	if err != nil {
		return nil
	}
	return st.CheckCheckpoint(ctx, cp)
}

// HasCheckpoints reports whether the witness file holds any checkpoint:
// a database missing beside a witness that has them was there before.
func HasCheckpoints(witnessPath string) bool {
	entries, _, err := ReadFile(witnessPath)
	return err == nil && len(entries) > 0
}

// Event is what the schedule reports. Fatal says the record can no
// longer keep what is done (the database file is gone or replaced).
type Event struct {
	Text  string
	Fatal bool
}

// Run writes a checkpoint every `every` while the database changes, and a
// last one when ctx ends (the app closing); it also checks every time
// that the database file is still the one open, and reports once if it is
// not. Checkpoints go to Slack too (o.Slack) at most every slackEvery,
// and only after an incident changed (the timeline moved): posting a
// checkpoint changes the audit log, so posting on every change of it
// would never stop. report may be nil.
func Run(ctx context.Context, st *store.Store, o Options, every, slackEvery time.Duration, report func(Event)) {
	if report == nil {
		report = func(Event) {}
	}
	var (
		last      store.Heads
		lastSlack struct {
			timeline int64
			at       time.Time
		}
		fileBad bool
	)
	if h, err := st.Heads(ctx); err == nil {
		last = h // nothing new to record until it changes
		lastSlack.timeline = h.Timeline.LastID
	}
	write := func(ctx context.Context, final bool) {
		if st.Stopped() != nil {
			return // the file is gone: a checkpoint would describe what is not there
		}
		h, err := st.Heads(ctx)
		if err != nil || (h.Timeline == last.Timeline && h.Audit == last.Audit) {
			return
		}
		slack := o.Slack != "" && h.Timeline.LastID != lastSlack.timeline &&
			(final || lastSlack.at.IsZero() || o.now().Sub(lastSlack.at) >= slackEvery)
		wo := o
		if !slack {
			wo.Slack = ""
		}
		l, err := Write(ctx, st, wo)
		if err != nil {
			report(Event{Text: "Checkpoint not written: " + err.Error()})
			return
		}
		last = h
		if slack {
			lastSlack.timeline, lastSlack.at = l.Timeline.ID, o.now()
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			write(context.WithoutCancel(ctx), true)
			return
		case <-t.C:
			if err := st.CheckFile(ctx); err != nil && !fileBad && !errors.Is(err, context.Canceled) {
				fileBad = true
				report(Event{Text: err.Error() + ". Your last action may not be saved; quit, and check the file.", Fatal: true})
			}
			write(ctx, false)
		}
	}
}
