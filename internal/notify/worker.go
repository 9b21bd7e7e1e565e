package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// Worker delivers queued notifications. It is safe to run several, in one
// process or many, on the same database: a notification is claimed in a
// write transaction (queued -> sending) before it is sent, so no two
// workers send the same one. Store and Clock are required; every other
// field has a default.
//
// In the app: go (&notify.Worker{...}).Run(ctx). From the command line:
// SendDue (irtui notify send) or Drain (irtui notify send --wait).
type Worker struct {
	Store    *store.Store
	Clock    clock.Clock
	Settings Settings
	// Org is the sender of mail exports (From: org.contact).
	Org config.Org
	// Actor is recorded on the status changes the worker makes (default
	// "irtui").
	Actor identity.Actor
	// Service, if set, lets Run fire deadline rules (ScanDeadlines).
	Service *Service

	// Spacing is the least time between two messages to one channel, across
	// every worker (default 1 s, Slack's posting limit).
	Spacing time.Duration
	// MaxFailures is how many failed attempts (5xx, network errors,
	// timeouts, failed looks for an uncertain post) make a notification
	// failed, or unknown when the last may have arrived (default 10). Rate
	// limiting is not a failure.
	MaxFailures int
	// BackoffBase and BackoffMax bound the exponential backoff after a
	// failure (default 2 s doubling up to 10 min, with jitter).
	BackoffBase, BackoffMax time.Duration
	// SendTimeout bounds one request to Slack (default 15 s), the look for
	// an earlier attempt that may have arrived, and each step of a mail
	// submission.
	SendTimeout time.Duration
	// LateCommit is how long the worker waits after an attempt whose
	// outcome is uncertain before it looks for it, and after posting it
	// again before it looks once more for a second copy: Slack may store a
	// post well after it stopped answering (default 90 s; the issue that
	// asked for this saw 20 s).
	LateCommit time.Duration
	// Lease is how long a claim may stay unrecorded before the message
	// counts as lost in a crash and is marked unknown (default 2 min, and
	// at least four send timeouts). A claim by a process on this machine
	// that no longer runs is marked unknown at once.
	Lease time.Duration
	// InlineWait is how long SendDue waits for a message that becomes due
	// soon (channel spacing, a short Retry-After) before returning
	// (default 5 s).
	InlineWait time.Duration
	// Poll is how often Run looks for work when idle (default 2 s), and
	// ScanEvery how often it checks deadlines (default 30 s).
	Poll, ScanEvery time.Duration
	// Sleep waits; tests pass one that moves a fake clock. Default: a
	// timer, cut short by ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Progress, if set, is told of every outcome (for a status line:
	// "Slack rate-limited, retrying in 3s"). It must not block.
	Progress func(Progress)

	once       sync.Once
	id         string
	host       string
	rngMu      sync.Mutex
	rng        *mrand.Rand
	transports map[string]transport
	wake       chan struct{}
	// wrap lets tests interpose on a transport (a crash after sending).
	wrap func(via string, t transport) transport
}

func (w *Worker) init() {
	w.once.Do(func() {
		if w.Actor.IsZero() {
			w.Actor = identity.Irtui()
		}
		def := func(d *time.Duration, v time.Duration) {
			if *d <= 0 {
				*d = v
			}
		}
		def(&w.Spacing, time.Second)
		def(&w.BackoffBase, 2*time.Second)
		def(&w.BackoffMax, 10*time.Minute)
		def(&w.SendTimeout, 15*time.Second)
		def(&w.LateCommit, 90*time.Second)
		def(&w.Lease, max(2*time.Minute, 4*w.SendTimeout))
		def(&w.InlineWait, 5*time.Second)
		def(&w.Poll, 2*time.Second)
		def(&w.ScanEvery, 30*time.Second)
		if w.MaxFailures <= 0 {
			w.MaxFailures = 10
		}
		w.host, _ = os.Hostname()
		var b [6]byte
		_, _ = rand.Read(b[:])
		w.id = fmt.Sprintf("%s/%d/%s", w.host, os.Getpid(), hex.EncodeToString(b[:]))
		w.rng = mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
		w.wake = make(chan struct{}, 1)
		w.transports = map[string]transport{
			ViaConsole: &console{path: w.Settings.ConsoleLog, now: w.Clock.Now},
			ViaFile:    &fileExport{dir: w.Settings.ExportDir, org: w.Org, now: w.Clock.Now},
		}
		if w.Settings.BotToken.IsSet() {
			w.transports[ViaSlack] = newSlackBot(w.Settings, w.SendTimeout, w.Clock.Now)
		}
		if w.Settings.WebhookURL.IsSet() {
			w.transports[ViaWebhook] = &webhook{url: w.Settings.WebhookURL, client: &http.Client{Timeout: w.SendTimeout}}
		}
		if w.Settings.SMTP != nil {
			w.transports[ViaMail] = newMailer(*w.Settings.SMTP, w.Org, w.SendTimeout, w.Clock.Now)
		}
		if w.wrap != nil {
			for via, t := range w.transports {
				w.transports[via] = w.wrap(via, t)
			}
		}
	})
}

// Wake makes a running Run look for work now, such as after an approval.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// route decides how a notification goes out now: the transport, the key
// its channel is rate-limited under ("" for none), and the Slack channel.
// A customer's mail goes by SMTP when IRTUI_SMTP_URL is set, else it is
// exported as files for a person to send. A customer's Slack Connect
// channel needs the bot token; without it the notice is exported as files
// for a person to deliver, never posted to a webhook (which reaches our
// own workspace). A drill reaches the drill channel through the bot only,
// else the console.
func (w *Worker) route(n store.Notification) (via, key, channel string) {
	return w.Settings.route(n)
}

// Via is how n would go out with these settings: ViaSlack, ViaWebhook,
// ViaMail, ViaConsole, or ViaFile (an export: NOT delivered).
func (s Settings) Via(n store.Notification) string {
	via, _, _ := s.route(n)
	return via
}

// WhatHappensTo says in a sentence what delivering n will do with these
// settings, for the person who approves it.
func (s Settings) WhatHappensTo(n store.Notification) string {
	switch s.Via(n) {
	case ViaFile:
		why := "regulators are reached through their portals"
		switch {
		case n.DestKind == store.DestEmail:
			why = EnvSMTPURL + " is not set"
		case n.DestKind == store.DestSlack:
			why = "a customer's Slack channel needs " + EnvBotToken
		}
		return fmt.Sprintf("it will be EXPORTED to a file, NOT delivered (%s): send it yourself, then record that "+
			"(c in the app, or `irtui notify confirm %d`)", why, n.ID)
	case ViaConsole:
		return "it will be written to the console only: nobody will be sent it"
	case ViaMail:
		return "it will be mailed to " + n.Channel
	default:
		return "it will be posted to Slack"
	}
}

func (s Settings) route(n store.Notification) (via, key, channel string) {
	bot, hook := s.BotToken.IsSet(), s.WebhookURL.IsSet()
	switch n.DestKind {
	case store.DestConsole:
		return ViaConsole, "", ""
	case store.DestEmail, store.DestFile:
		switch {
		case n.Drill:
			return ViaConsole, "", "" // a drill never reaches a customer or regulator
		case n.DestKind == store.DestEmail && s.SMTP != nil:
			return ViaMail, "", ""
		}
		return ViaFile, "", ""
	}
	ch := n.Channel
	switch {
	case n.Drill && !bot:
		return ViaConsole, "", ch
	case n.Audience == AudienceCustomers && !n.Drill:
		if bot {
			return ViaSlack, "slack:" + ch, ch
		}
		return ViaFile, "", ch
	case bot:
		if ch == "" {
			ch = s.Channel
		}
		return ViaSlack, "slack:" + ch, ch
	case hook:
		return ViaWebhook, "webhook", ch
	default:
		return ViaConsole, "", ch
	}
}

// Recover marks unknown the notifications left in status sending by a
// worker that stopped: its process on this machine is gone, or its claim
// is older than the lease. Such a message may or may not have arrived, so
// it is neither sent again nor dropped: a person checks and then retries
// it or confirms it. SendDue and Run call Recover themselves.
func (w *Worker) Recover(ctx context.Context) (Report, error) {
	w.init()
	var rep Report
	err := w.Store.Update(ctx, func(tx *store.Tx) error {
		rep = Report{}
		now := w.Clock.Now()
		sending, err := tx.NotificationsWithStatus(ctx, store.NoticeSending, 0)
		if err != nil {
			return err
		}
		for _, n := range sending {
			if n.ClaimedBy == w.id || (now.Sub(n.ClaimedAt) < w.Lease && !w.claimerGone(n.ClaimedBy)) {
				continue
			}
			claimer := n.ClaimedBy
			if !n.VerifyAt.IsZero() {
				// It was being looked at again for a second copy: nothing
				// was posted, so the look is simply made again.
				n.Status, n.ClaimedBy, n.ClaimedAt, n.UpdatedAt = store.NoticeQueued, "", time.Time{}, now
				if n.PartsSent >= partsVia(n, n.Via) {
					n.Status = store.NoticeSent
				} else {
					n.NextAttemptAt = n.VerifyAt
				}
				if _, err := tx.UpdateNotification(ctx, &n, store.NoticeSending); err != nil {
					return err
				}
				continue
			}
			n.Status, n.UpdatedAt = store.NoticeUnknown, now
			n.LastError = fmt.Sprintf("the worker sending it (%s, since %s) stopped before recording whether it arrived; "+
				"check %s, then `irtui notify retry %d` or `irtui notify confirm %d`",
				claimer, n.ClaimedAt.UTC().Format(time.RFC3339), n.Recipient, n.ID, n.ID)
			if ok, err := tx.UpdateNotification(ctx, &n, store.NoticeSending); err != nil {
				return err
			} else if !ok {
				continue
			}
			if err := w.record(ctx, tx, &n, now, "notification_unknown",
				fmt.Sprintf("OUTCOME UNKNOWN for %s to %s: the worker stopped while sending it; it will not be sent again "+
					"until a person checks", label(&n), n.Recipient),
				map[string]any{"worker": claimer, "via": n.Via}); err != nil {
				return err
			}
			rep.add(Progress{ID: n.ID, IncidentID: n.IncidentID, Status: n.Status, Via: n.Via,
				Recipient: n.Recipient, Error: n.LastError})
		}
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	for _, p := range rep.Results {
		w.report(p)
	}
	return rep, nil
}

// claimerGone reports whether the worker that made a claim is known to be
// gone: a process on this machine that no longer runs. Claims made in this
// process, or on another machine, wait for the lease.
func (w *Worker) claimerGone(claimedBy string) bool {
	parts := strings.Split(claimedBy, "/")
	if len(parts) != 3 || parts[0] != w.host {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return processGone(pid)
}

func (w *Worker) report(p Progress) {
	if w.Progress != nil {
		w.Progress(p)
	}
}

func (w *Worker) sleep(ctx context.Context, d time.Duration) error {
	if w.Sleep != nil {
		return w.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SendDue sends every notification that is due, and waits for those that
// become due within InlineWait (channel spacing, a short Retry-After); it
// leaves longer retries queued. It first marks unknown what a stopped
// worker left in status sending.
func (w *Worker) SendDue(ctx context.Context) (Report, error) {
	w.init()
	// A read first: an idle worker polling does not take the write lock.
	if n, _, err := w.Store.OutboxPending(ctx); err != nil || n == 0 {
		return Report{}, err
	}
	rep, err := w.Recover(ctx)
	if err != nil {
		return rep, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		batch, wait, err := w.claim(ctx)
		if err != nil {
			return rep, err
		}
		if len(batch) == 0 {
			if wait >= 0 && wait <= w.InlineWait {
				if err := w.sleep(ctx, wait); err != nil {
					return rep, err
				}
				continue
			}
			return rep, nil
		}
		results := make([]result, len(batch))
		var wg sync.WaitGroup
		for i := range batch {
			wg.Go(func() { results[i] = w.send(ctx, batch[i]) })
		}
		wg.Wait()
		for _, r := range results {
			p, err := w.finish(ctx, r)
			if err != nil {
				return rep, err
			}
			rep.add(p)
			w.report(p)
		}
	}
}

// Drain sends until nothing is left to send: every notification is sent,
// failed, unknown or a draft. It waits out retries and Retry-After.
func (w *Worker) Drain(ctx context.Context) (Report, error) {
	w.init()
	var rep Report
	for {
		r, err := w.SendDue(ctx)
		rep.merge(r)
		if err != nil {
			return rep, err
		}
		n, next, err := w.Store.OutboxPending(ctx)
		if err != nil {
			return rep, err
		}
		if n == 0 {
			return rep, nil
		}
		d := w.Poll
		if now := w.Clock.Now(); next.After(now) && next.Sub(now) < w.Lease {
			d = next.Sub(now)
		}
		if err := w.sleep(ctx, d); err != nil {
			return rep, err
		}
	}
}

// Run delivers until ctx is done: it marks what a stopped worker left
// unknown, fires deadline rules every ScanEvery (with Service), and sends
// what is due, then waits for the next due time, Poll, or Wake. Errors are
// reported through Progress and retried; Run returns when ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	w.init()
	var lastScan time.Time
	for {
		now := w.Clock.Now()
		if w.Service != nil && (lastScan.IsZero() || now.Sub(lastScan) >= w.ScanEvery) {
			lastScan = now
			if _, err := w.Service.ScanDeadlines(ctx); err != nil && ctx.Err() == nil {
				w.report(Progress{Status: store.NoticeFailed, Error: "deadline reminders: " + w.Settings.scrub(err.Error())})
			}
		}
		if _, err := w.SendDue(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.report(Progress{Status: store.NoticeFailed, Error: "delivery: " + w.Settings.scrub(err.Error())})
		}
		d := w.Poll
		if n, next, err := w.Store.OutboxPending(ctx); err == nil && n > 0 && next.After(w.Clock.Now()) {
			d = min(d, next.Sub(w.Clock.Now()))
		}
		if w.Sleep != nil {
			if err := w.Sleep(ctx, d); err != nil {
				return nil
			}
			continue
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
