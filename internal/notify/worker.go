package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

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
	// SendTimeout bounds one request to Slack (default 15 s), and the look
	// for an earlier attempt that may have arrived.
	SendTimeout time.Duration
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

// Progress is one outcome of a delivery attempt.
type Progress struct {
	ID          int64     `json:"id"`
	IncidentID  string    `json:"incident_id"`
	Status      string    `json:"status"` // sent, queued (will retry), failed, unknown
	Via         string    `json:"via,omitempty"`
	Recipient   string    `json:"recipient,omitempty"`
	Error       string    `json:"error,omitempty"`
	RetryAt     time.Time `json:"retry_at,omitzero"`
	RateLimited bool      `json:"rate_limited,omitempty"`
}

func (p Progress) String() string {
	switch {
	case p.Status == store.NoticeSent:
		return fmt.Sprintf("Sent #%d (%s) to %s via %s", p.ID, p.IncidentID, p.Recipient, p.Via)
	case p.RateLimited:
		return fmt.Sprintf("Slack rate-limited #%d (%s); retrying at %s", p.ID, p.IncidentID, p.RetryAt.Local().Format("15:04:05"))
	case p.Status == store.NoticeQueued:
		return fmt.Sprintf("#%d (%s) not delivered: %s; retrying at %s", p.ID, p.IncidentID, p.Error,
			p.RetryAt.Local().Format("15:04:05"))
	case p.Status == store.NoticeUnknown:
		return fmt.Sprintf("#%d (%s) OUTCOME UNKNOWN: %s", p.ID, p.IncidentID, p.Error)
	case p.ID == 0:
		return p.Error
	default:
		return fmt.Sprintf("#%d (%s) FAILED: %s", p.ID, p.IncidentID, p.Error)
	}
}

// Report sums up a SendDue or Drain.
type Report struct {
	Sent     int        `json:"sent"`
	Retrying int        `json:"retrying"`
	Failed   int        `json:"failed"`
	Unknown  int        `json:"unknown"`
	Results  []Progress `json:"results"`
}

func (r *Report) add(p Progress) {
	switch p.Status {
	case store.NoticeSent:
		r.Sent++
	case store.NoticeQueued:
		r.Retrying++
	case store.NoticeFailed:
		r.Failed++
	case store.NoticeUnknown:
		r.Unknown++
	}
	r.Results = append(r.Results, p)
}

func (r *Report) merge(o Report) {
	for _, p := range o.Results {
		r.add(p)
	}
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
		hc := &http.Client{Timeout: w.SendTimeout}
		w.transports = map[string]transport{
			ViaConsole: &console{path: w.Settings.ConsoleLog},
			ViaFile:    &fileExport{dir: w.Settings.ExportDir, org: w.Org},
		}
		if w.Settings.BotToken.IsSet() {
			w.transports[ViaSlack] = newSlackBot(w.Settings, hc)
		}
		if w.Settings.WebhookURL.IsSet() {
			w.transports[ViaWebhook] = &webhook{url: w.Settings.WebhookURL, client: hc}
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
// A customer's Slack Connect channel needs the bot token; without it the
// notice is exported as files for a person to deliver, never posted to a
// webhook (which reaches our own workspace). A drill reaches the drill
// channel through the bot only, else the console.
func (w *Worker) route(n store.Notification) (via, key, channel string) {
	bot, hook := w.Settings.BotToken.IsSet(), w.Settings.WebhookURL.IsSet()
	switch n.DestKind {
	case store.DestConsole:
		return ViaConsole, "", ""
	case store.DestEmail, store.DestFile:
		if n.Drill {
			return ViaConsole, "", "" // a drill never reaches a customer or regulator
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
			ch = w.Settings.Channel
		}
		return ViaSlack, "slack:" + ch, ch
	case hook:
		return ViaWebhook, "webhook", ch
	default:
		return ViaConsole, "", ch
	}
}

// claimed is a notification this worker holds in status sending.
type claimed struct {
	n       store.Notification
	via     string
	key     string
	channel string
	// uncertainSince, when set, is the time of an earlier attempt that may
	// have reached Slack: the message is looked for before it is posted.
	uncertainSince time.Time
}

// uncertainPrefix starts the last error of a queued notification whose
// earlier attempt may have been posted (a timeout, a connection lost after
// the request was written, a 5xx), followed by the time of the first such
// attempt. Before it is posted again, the worker looks for it in Slack.
const uncertainPrefix = "may have been posted at "

// lookupMargin is how far before the uncertain attempt the look for it
// starts: clocks differ, and Slack stamps a message when it posts it.
const lookupMargin = 5 * time.Minute

func markUncertain(since time.Time, msg string) string {
	return uncertainPrefix + since.UTC().Format(time.RFC3339) +
		" (it is looked for in Slack before it is sent again): " + msg
}

// uncertainSince is the time of the first attempt at n that may have been
// posted, from its last error; zero if there is none. A mark whose time
// does not read falls back to the time n was written: looking further
// back costs a page, not a duplicate.
func uncertainSince(n store.Notification) time.Time {
	rest, ok := strings.CutPrefix(n.LastError, uncertainPrefix)
	if !ok {
		return time.Time{}
	}
	at, _, _ := strings.Cut(rest, " ")
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return n.CreatedAt
	}
	return t
}

// maxBatch bounds how many notifications one claim takes.
const maxBatch = 32

// maxChannelHold is the longest a channel is held back (spacing or
// Retry-After).
const maxChannelHold = time.Hour

// claim moves the notifications that may be sent now from queued to
// sending, at most one per rate-limited channel, in one transaction. wait
// is how soon another could be claimed (negative: nothing is waiting).
func (w *Worker) claim(ctx context.Context) (out []claimed, wait time.Duration, err error) {
	wait = -1
	note := func(d time.Duration) {
		if d > 0 && (wait < 0 || d < wait) {
			wait = d
		}
	}
	err = w.Store.Update(ctx, func(tx *store.Tx) error {
		out = out[:0]
		now := w.Clock.Now()
		queued, err := tx.NotificationsWithStatus(ctx, store.NoticeQueued, 0)
		if err != nil {
			return err
		}
		used := map[string]bool{}
		for _, n := range queued {
			if len(out) >= maxBatch {
				note(time.Millisecond)
				break
			}
			if n.NextAttemptAt.After(now) {
				note(n.NextAttemptAt.Sub(now))
				continue
			}
			earlier, err := tx.PendingBefore(ctx, n)
			if err != nil {
				return err
			}
			if earlier {
				continue // after the one before it, to keep order (and threads)
			}
			via, key, ch := w.route(n)
			if key != "" {
				if used[key] {
					note(w.Spacing)
					continue
				}
				next, err := tx.ChannelNextAt(ctx, key)
				if err != nil {
					return err
				}
				// A hold longer than any Retry-After is a clock that went
				// back (or another process's clock): it must not stall
				// the channel.
				if next.After(now) && next.Sub(now) <= maxChannelHold {
					note(next.Sub(now))
					continue
				}
			}
			n.Status, n.Via, n.Attempts, n.ClaimedBy, n.ClaimedAt, n.UpdatedAt =
				store.NoticeSending, via, n.Attempts+1, w.id, now, now
			if via == ViaSlack {
				if n.ThreadTS, err = tx.ThreadRoot(ctx, n.IncidentID, n.Channel); err != nil {
					return err
				}
			} else {
				n.ThreadTS = ""
			}
			ok, err := tx.UpdateNotification(ctx, &n, store.NoticeQueued)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if key != "" {
				if err := tx.SetChannelNextAt(ctx, key, now.Add(w.Spacing)); err != nil {
					return err
				}
				used[key] = true
			}
			dest := n.Recipient
			if ch != "" && ch != n.Recipient {
				dest += " (" + ch + ")"
			}
			if err := w.record(ctx, tx, &n, now, "notification_sending",
				fmt.Sprintf("Sending %s to %s via %s (attempt %d)", label(&n), dest, via, n.Attempts),
				map[string]any{"via": via, "attempt": n.Attempts, "worker": w.id}); err != nil {
				return err
			}
			out = append(out, claimed{n: n, via: via, key: key, channel: ch, uncertainSince: uncertainSince(n)})
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, wait, nil
}

// record writes a status change's timeline entry and its audit entry.
func (w *Worker) record(ctx context.Context, tx *store.Tx, n *store.Notification, now time.Time, kind, summary string,
	extra map[string]any) error {
	if err := entry(ctx, tx, n, now, w.Actor, kind, summary, extra); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: w.Actor.ID(), Auth: w.Actor.Auth(), Action: "notify_send",
		IncidentID: n.IncidentID, Outcome: store.OutcomeOK, Detail: fmt.Sprintf("notification #%d %s", n.ID, n.Status)})
}

// result is the outcome of one send.
type result struct {
	c   claimed
	rec receipt
	err error
	// found: an earlier attempt had arrived; rec.ts is its timestamp and
	// nothing was posted now.
	found bool
	// lookup: err is from looking for an earlier attempt; nothing was
	// posted now.
	lookup bool
}

func (w *Worker) send(ctx context.Context, c claimed) result {
	t, ok := w.transports[c.via]
	if !ok {
		return result{c: c, err: permanentError{"no transport " + c.via}}
	}
	m := message{n: c.n, channel: c.channel, threadTS: c.n.ThreadTS}
	// A send that has started is finished even if ctx is cancelled, so
	// that its outcome is recorded rather than lost; the timeout bounds it.
	ctx = context.WithoutCancel(ctx)
	if !c.uncertainSince.IsZero() {
		// An earlier attempt may have been posted: look for it first, and
		// post only if it is certainly not there.
		f, ok := t.(finder)
		if !ok {
			return result{c: c, lookup: true, err: permanentError{"sending via " + c.via + " cannot look for messages"}}
		}
		lctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
		ts, found, err := f.find(lctx, m, c.uncertainSince.Add(-lookupMargin))
		cancel()
		if err != nil {
			return result{c: c, lookup: true, err: err}
		}
		if found {
			return result{c: c, rec: receipt{ts: ts}, found: true}
		}
	}
	sctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	defer cancel()
	rec, err := t.send(sctx, m)
	return result{c: c, rec: rec, err: err}
}

// errorKind says what to do after a failed send.
type errorKind uint8

const (
	retryable   errorKind = iota // certainly not delivered (connection refused, 503): back off and retry
	rateLimited                  // 429: wait as told, not a failure
	permanent                    // retrying cannot help
	// uncertain: the request may have been carried out (a timeout, a
	// connection lost after the request was written, a 500, 502 or 504):
	// look before sending again, or leave it to a person.
	uncertain
)

// retryableSlackErrors are Slack API errors worth trying again.
var retryableSlackErrors = map[string]bool{"internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true}

// uncertainSlackErrors are those after which, Slack says, "some aspect of
// the operation" may have succeeded.
var uncertainSlackErrors = map[string]bool{"internal_error": true, "fatal_error": true}

// lookupHints explain the Slack errors of looking for an earlier attempt.
var lookupHints = map[string]string{
	"missing_scope": "the bot token lacks channels:history (groups:history for a private channel), " +
		"or channels:read and groups:read to find a channel given by name",
	"not_in_channel":    "the bot is not in the channel",
	"channel_not_found": "the channel does not exist or the bot cannot see it",
	"invalid_auth":      "the bot token is not valid",
	"token_revoked":     "the bot token was revoked",
}

// slackHints explain the Slack errors people can fix.
var slackHints = map[string]string{
	"channel_not_found": "the channel does not exist or the bot cannot see it",
	"not_in_channel":    "invite the bot to the channel",
	"is_archived":       "the channel is archived",
	"invalid_auth":      "the bot token is not valid",
	"not_authed":        "no bot token was sent",
	"token_revoked":     "the bot token was revoked",
	"account_inactive":  "the bot token belongs to a deactivated account",
	"missing_scope":     "the bot token lacks the chat:write scope",
	"msg_too_long":      "the message is too long",
	"invalid_blocks":    "Slack refused the message layout",
}

// classify says what a failed send via via means. Only requests to Slack
// (via slack or webhook) can be uncertain: a file or console write that
// failed did not happen.
func (w *Worker) classify(via string, err error) (errorKind, time.Duration, string) {
	msg := err.Error()
	remote := via == ViaSlack || via == ViaWebhook
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	var pe permanentError
	switch {
	case errors.As(err, &rl):
		return rateLimited, max(rl.RetryAfter, w.Spacing), msg
	case errors.As(err, &sc) && sc.Code == http.StatusTooManyRequests:
		return rateLimited, 30 * time.Second, msg
	case errors.As(err, &sc) && sc.Code >= 500:
		// 501 and 503 refuse a request without carrying it out; a 500,
		// or a gateway's 502 or 504, may come after the post was made.
		if remote && sc.Code != http.StatusNotImplemented && sc.Code != http.StatusServiceUnavailable {
			return uncertain, 0, msg
		}
		return retryable, 0, msg
	case errors.As(err, &sc):
		return permanent, 0, msg
	case errors.As(err, &se) && se.Err == "ratelimited":
		return rateLimited, 30 * time.Second, msg
	case errors.As(err, &se) && remote && uncertainSlackErrors[se.Err]:
		return uncertain, 0, "Slack: " + se.Err
	case errors.As(err, &se) && retryableSlackErrors[se.Err]:
		return retryable, 0, "Slack: " + se.Err
	case errors.As(err, &se):
		if h, ok := slackHints[se.Err]; ok {
			return permanent, 0, "Slack: " + se.Err + " (" + h + ")"
		}
		return permanent, 0, "Slack: " + se.Err
	case errors.As(err, &pe):
		return permanent, 0, msg
	case !remote || notSent(err):
		return retryable, 0, msg
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "Client.Timeout"):
		return uncertain, 0, "no answer within " + w.SendTimeout.String() + ": " + msg
	default:
		// A connection reset or closed after the request was written, an
		// answer cut short: Slack may have posted the message.
		return uncertain, 0, msg
	}
}

// notSent reports whether a request certainly did not reach the server:
// the connection was never made (refused, unreachable, DNS, a proxy), or
// TLS failed before the request was written.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var (
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		ua   x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
	)
	return errors.As(err, &dns) || errors.As(err, &cert) || errors.As(err, &ua) || errors.As(err, &host) ||
		errors.As(err, &inv) || strings.Contains(err.Error(), "TLS handshake timeout")
}

// lookupError describes a failure to look for an earlier attempt.
func lookupError(err error, msg string) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		msg = "Slack: " + se.Err
		if h, ok := lookupHints[se.Err]; ok {
			msg += " (" + h + ")"
		}
	}
	return "could not look in Slack for an earlier attempt: " + msg
}

// backoff is the wait after the nth failure: exponential, capped, with
// "equal jitter" (half fixed, half random) so workers do not retry in step.
func (w *Worker) backoff(failures int) time.Duration {
	d := w.BackoffMax
	if failures < 30 {
		if b := w.BackoffBase << (failures - 1); b > 0 && b < d {
			d = b
		}
	}
	half := d / 2
	w.rngMu.Lock()
	j := time.Duration(w.rng.Int64N(int64(half) + 1))
	w.rngMu.Unlock()
	return half + j
}

// finish records the outcome of a send.
func (w *Worker) finish(ctx context.Context, r result) (Progress, error) {
	var p Progress
	ctx = context.WithoutCancel(ctx)
	err := w.Store.Update(ctx, func(tx *store.Tx) error {
		now := w.Clock.Now()
		n, err := tx.Notification(ctx, r.c.n.ID)
		if err != nil {
			return err
		}
		from := n.Status
		mine := from == store.NoticeSending && n.ClaimedBy == w.id
		p = Progress{ID: n.ID, IncidentID: n.IncidentID, Via: r.c.via, Recipient: n.Recipient}
		if r.err == nil {
			// Delivered. Also when someone marked it unknown or queued it
			// again meanwhile: recording it as sent stops a second send.
			if !mine && from != store.NoticeUnknown && from != store.NoticeQueued && from != store.NoticeFailed {
				p.Status = from
				return nil
			}
			n.Status, n.Via, n.SentAt, n.UpdatedAt = store.NoticeSent, r.c.via, now, now
			n.SlackTS, n.ExportPath, n.LastError, n.NextAttemptAt = r.rec.ts, r.rec.path, "", time.Time{}
			n.ThreadTS = r.c.n.ThreadTS
			if ok, err := tx.UpdateNotification(ctx, &n, from); err != nil || !ok {
				return err
			}
			p.Status = n.Status
			extra := map[string]any{"via": r.c.via, "slack_ts": n.SlackTS, "thread_ts": n.ThreadTS,
				"latency_seconds": now.Sub(n.TriggeredAt).Seconds()}
			if r.found {
				extra["found_in_slack"] = true
			}
			return w.record(ctx, tx, &n, now, "notification_sent", sentSummary(&n, r), extra)
		}
		if !mine {
			p.Status = from // marked unknown meanwhile: a person decides
			return nil
		}
		kind, after, msg := w.classify(r.c.via, r.err)
		if r.lookup {
			msg = lookupError(r.err, msg)
			if kind == uncertain {
				kind = retryable // reading history changes nothing: read it again
			}
		}
		msg = truncate(firstLine(w.Settings.scrub(msg)), 500)
		// since is the first attempt that may have been posted, if any.
		since := r.c.uncertainSince
		if kind == uncertain && since.IsZero() {
			since = r.c.n.ClaimedAt
		}
		_, canLook := w.transports[r.c.via].(finder)
		n.LastError, n.UpdatedAt, n.ClaimedBy, n.ClaimedAt = msg, now, "", time.Time{}
		p.Error = msg
		unknown := false
		switch {
		case kind == rateLimited:
			n.Status, n.NextAttemptAt = store.NoticeQueued, now.Add(after)
			if r.c.key != "" {
				if err := tx.SetChannelNextAt(ctx, r.c.key, n.NextAttemptAt); err != nil {
					return err
				}
			}
			p.RateLimited = true
		case r.lookup && kind == permanent, kind == uncertain && !canLook:
			// It may have arrived, and there is no way to find out: a
			// person checks, as after a crash.
			n.Failures++
			unknown = true
		case kind == permanent:
			n.Failures++
			n.Status, n.NextAttemptAt = store.NoticeFailed, time.Time{}
		case n.Failures+1 < w.MaxFailures:
			n.Failures++
			n.Status, n.NextAttemptAt = store.NoticeQueued, now.Add(w.backoff(n.Failures))
		default:
			// Too many failures. If the last attempt may have been posted,
			// or an earlier one could not be looked for, nobody knows.
			n.Failures++
			n.Status, n.NextAttemptAt = store.NoticeFailed, time.Time{}
			unknown = kind == uncertain || r.lookup
		}
		if unknown {
			n.Status, n.NextAttemptAt = store.NoticeUnknown, time.Time{}
			n.LastError = fmt.Sprintf("%s may have reached %s: %s; check, then `irtui notify retry %d` or `irtui notify confirm %d`",
				label(&n), n.Recipient, msg, n.ID, n.ID)
			p.Error = n.LastError
		} else if n.Status == store.NoticeQueued && !since.IsZero() {
			n.LastError = markUncertain(since, msg)
		}
		if ok, err := tx.UpdateNotification(ctx, &n, store.NoticeSending); err != nil || !ok {
			return err
		}
		p.Status, p.RetryAt = n.Status, n.NextAttemptAt
		switch {
		case n.Status == store.NoticeUnknown:
			return w.record(ctx, tx, &n, now, "notification_unknown",
				fmt.Sprintf("OUTCOME UNKNOWN for %s to %s (%s): it may have arrived, and it will not be sent again "+
					"until a person checks", label(&n), n.Recipient, msg),
				map[string]any{"via": r.c.via, "error": msg, "failures": n.Failures})
		case n.Status == store.NoticeFailed:
			why := "it cannot succeed"
			if kind != permanent {
				why = fmt.Sprintf("%d failed attempts", n.Failures)
			}
			return w.record(ctx, tx, &n, now, "notification_failed",
				fmt.Sprintf("FAILED to send %s to %s (%s): %s; fix the cause, then `irtui notify retry %d`",
					label(&n), n.Recipient, why, msg, n.ID), map[string]any{"via": r.c.via, "error": msg})
		}
		extra := map[string]any{"via": r.c.via, "error": msg, "retry_at": store.FormatTime(n.NextAttemptAt),
			"rate_limited": kind == rateLimited}
		if !since.IsZero() {
			extra["uncertain_since"] = store.FormatTime(since)
		}
		at := n.NextAttemptAt.UTC().Format(time.RFC3339)
		var summary string
		switch {
		case kind == rateLimited:
			summary = fmt.Sprintf("%s rate-limited by Slack (%s); trying again at %s", label(&n), msg, at)
		case kind == uncertain:
			summary = fmt.Sprintf("%s may or may not have reached Slack (%s); at %s it is looked for there, "+
				"and sent again only if it is not found", label(&n), msg, at)
		case r.lookup:
			summary = fmt.Sprintf("%s not sent again: an earlier attempt may have reached Slack, and %s; "+
				"looking again at %s", label(&n), msg, at)
		default:
			summary = fmt.Sprintf("%s not delivered (%s); trying again at %s", label(&n), msg, at)
		}
		return w.record(ctx, tx, &n, now, "notification_retry", summary, extra)
	})
	return p, err
}

func sentSummary(n *store.Notification, r result) string {
	if r.found {
		return fmt.Sprintf("Found %s on Slack in %s: an earlier attempt whose outcome was uncertain had posted it, "+
			"so it was not sent again", label(n), r.c.channel)
	}
	switch r.c.via {
	case ViaSlack:
		s := fmt.Sprintf("Sent %s to %s on Slack", label(n), r.c.channel)
		if n.ThreadTS != "" {
			s += " (in the incident's thread)"
		}
		return s
	case ViaWebhook:
		return fmt.Sprintf("Sent %s to Slack by webhook", label(n))
	case ViaFile:
		return fmt.Sprintf("Exported %s for %s to %s", label(n), n.Recipient, n.ExportPath)
	default:
		return fmt.Sprintf("Wrote %s for %s to the console (no Slack configured or a drill)", label(n), n.Recipient)
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
