package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// task is what a claim is for.
type task uint8

const (
	taskSend   task = iota // send the next part (the whole notice, unless it is in parts)
	taskVerify             // look again for a second copy of a part posted after an uncertain attempt
)

// claimed is a notification this worker holds in status sending.
type claimed struct {
	n       store.Notification // as claimed
	from    string             // its status before the claim
	via     string
	key     string // rate-limit key ("" for none)
	channel string
	task    task
	// part of parts is the Slack message this claim is about (1 of 1 for
	// anything else).
	part, parts int
	threadTS    string
	// uncertainSince, when set, is the first attempt at the part that may
	// have reached Slack: it is looked for before it is posted.
	uncertainSince time.Time
}

// uncertainPrefix starts the last error of a queued notification whose
// earlier attempt may have been posted (a timeout, a connection lost after
// the request was written, a 5xx), followed by the time of the first such
// attempt. The time is also kept in UncertainAt; databases written before
// that column existed have only this text.
const uncertainPrefix = "may have been posted at "

// lookupMargin is how far before the uncertain attempt the look for it
// starts, on Slack's clock: Slack stamps a message when it stores it, and
// the Date header it is measured by has whole seconds.
const lookupMargin = 5 * time.Minute

func markUncertain(since time.Time, msg string) string {
	return uncertainPrefix + since.UTC().Format(time.RFC3339) +
		" (it is looked for in Slack before it is sent again): " + msg
}

// uncertainSince is the time of the first attempt at n's part in flight
// that may have been posted; zero if there is none. A legacy mark whose
// time does not read falls back to the time n was written: looking
// further back costs a page, not a duplicate.
func uncertainSince(n store.Notification) time.Time {
	if !n.UncertainAt.IsZero() {
		return n.UncertainAt
	}
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

// partsVia is how many messages n takes when sent via via: its Slack
// parts on Slack, one anywhere else.
func partsVia(n store.Notification, via string) int {
	if via == ViaSlack || via == ViaWebhook {
		return 1 + len(n.MoreBlocks)
	}
	return 1
}

// claim moves the notifications that may be worked on now from queued
// (or, for a second look, sent) to sending, at most one post per
// rate-limited channel, in one transaction. wait is how soon another
// could be claimed (negative: nothing is waiting).
func (w *Worker) claim(ctx context.Context) (out []claimed, wait time.Duration, err error) {
	wait = -1
	note := func(d time.Duration) {
		if d > 0 && (wait < 0 || d < wait) {
			wait = d
		}
	}
	err = w.Store.Update(ctx, func(tx *store.Tx) error {
		out = out[:0]
		wait = -1
		now := w.Clock.Now()
		cands, err := tx.NotificationsWithStatus(ctx, store.NoticeQueued, 0)
		if err != nil {
			return err
		}
		checks, err := tx.NotificationsToVerify(ctx)
		if err != nil {
			return err
		}
		for _, n := range checks {
			if n.Status == store.NoticeSent {
				cands = append(cands, n)
			}
		}
		slices.SortFunc(cands, func(a, b store.Notification) int { return int(a.ID - b.ID) })
		used := map[string]bool{}
		for _, n := range cands {
			if len(out) >= maxBatch {
				note(time.Millisecond)
				break
			}
			verifying := !n.VerifyAt.IsZero()
			due := n.NextAttemptAt
			if verifying {
				due = n.VerifyAt
			}
			if due.After(now) {
				note(due.Sub(now))
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
			c := claimed{from: n.Status, via: via, key: key, channel: ch, uncertainSince: uncertainSince(n),
				parts: partsVia(n, via)}
			if verifying {
				c.task, c.part = taskVerify, max(n.PartsSent, 1)
			} else {
				c.part = n.PartsSent + 1
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
				n.Attempts++
			}
			c.part = min(c.part, c.parts)
			n.Status, n.Via, n.ClaimedBy, n.ClaimedAt, n.UpdatedAt = store.NoticeSending, via, w.id, now, now
			switch {
			case via != ViaSlack:
				if n.PartsSent == 0 {
					n.ThreadTS = ""
				}
			case c.part == 1 && !verifying && n.PartsSent == 0:
				if n.ThreadTS, err = tx.ThreadRoot(ctx, n.IncidentID, n.Channel); err != nil {
					return err
				}
			}
			c.threadTS = n.ThreadTS
			if via == ViaSlack && c.part > 1 && c.threadTS == "" {
				c.threadTS = n.SlackTS // the rest of a notice replies to its first part
			}
			ok, err := tx.UpdateNotification(ctx, &n, c.from)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			c.n = n
			out = append(out, c)
			if verifying {
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
			what := label(&n)
			if c.parts > 1 {
				what = fmt.Sprintf("part %d of %d of %s", c.part, c.parts, what)
			}
			if err := w.record(ctx, tx, &n, now, "notification_sending",
				fmt.Sprintf("Sending %s to %s via %s (attempt %d)", what, dest, via, n.Attempts),
				map[string]any{"via": via, "attempt": n.Attempts, "worker": w.id, "part": c.part}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, wait, nil
}

// record writes a status change's timeline entry and its audit entry.
// A drill notice's entry is stamped on its drill's clock, where the
// drill's incident keeps its time; the audit entry keeps the wall clock's.
func (w *Worker) record(ctx context.Context, tx *store.Tx, n *store.Notification, now time.Time, kind, summary string,
	extra map[string]any) error {
	at, err := timeOf(ctx, tx, n.IncidentID, now, false)
	if err != nil {
		return err
	}
	if err := entry(ctx, tx, n, at, w.Actor, kind, summary, extra); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: w.Actor.ID(), Auth: w.Actor.Auth(), Action: "notify_send",
		IncidentID: n.IncidentID, Outcome: store.OutcomeOK, Detail: fmt.Sprintf("notification #%d %s", n.ID, n.Status)})
}

// result is the outcome of one claim.
type result struct {
	c   claimed
	rec receipt
	err error
	// lookup: err is from looking for copies; nothing was posted now.
	lookup bool
	// found: an earlier attempt had posted it; rec.ts is that copy and
	// nothing was posted now.
	found bool
	// copies are the copies a look found, oldest first; deleted and
	// undeleted are the later ones, removed or not (deleteErr).
	copies, deleted, undeleted []string
	deleteErr                  error
}

func (w *Worker) send(ctx context.Context, c claimed) result {
	t, ok := w.transports[c.via]
	if !ok {
		return result{c: c, err: permanentError{"no transport " + c.via}}
	}
	m := message{n: c.n, channel: c.channel, threadTS: c.threadTS, part: c.part, parts: c.parts}
	// A send that has started is finished even if ctx is cancelled, so
	// that its outcome is recorded rather than lost; the timeout bounds it.
	ctx = context.WithoutCancel(ctx)
	if c.task == taskVerify || !c.uncertainSince.IsZero() {
		// An attempt may have been posted: look for it first, and post
		// only if it is certainly not there. A second copy is deleted.
		f, ok := t.(finder)
		if !ok {
			return result{c: c, lookup: true, err: permanentError{"sending via " + c.via + " cannot look for messages"}}
		}
		since := c.uncertainSince
		if since.IsZero() {
			since = c.n.CreatedAt
		}
		lctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
		copies, err := f.find(lctx, m, since.Add(-lookupMargin))
		cancel()
		if err != nil {
			return result{c: c, lookup: true, err: err}
		}
		r := result{c: c, copies: copies}
		if len(copies) > 0 || c.task == taskVerify {
			if len(copies) > 0 {
				r.rec.ts, r.found = copies[0], c.task == taskSend
			}
			for _, ts := range copies[min(1, len(copies)):] {
				dctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
				err := f.remove(dctx, m, ts)
				cancel()
				if err != nil {
					r.undeleted, r.deleteErr = append(r.undeleted, ts), err
				} else {
					r.deleted = append(r.deleted, ts)
				}
			}
			return r
		}
	}
	sctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	defer cancel()
	rec, err := t.send(sctx, m)
	return result{c: c, rec: rec, err: err}
}

// finish records the outcome of a claim.
func (w *Worker) finish(ctx context.Context, r result) (Progress, error) {
	var p Progress
	ctx = context.WithoutCancel(ctx)
	err := w.Store.Update(ctx, func(tx *store.Tx) error {
		now := w.Clock.Now()
		n, err := tx.Notification(ctx, r.c.n.ID)
		if err != nil {
			return err
		}
		p = Progress{ID: n.ID, IncidentID: n.IncidentID, Via: r.c.via, Recipient: n.Recipient}
		if r.c.parts > 1 {
			p.Part, p.Parts = r.c.part, r.c.parts
		}
		switch {
		case r.c.task == taskVerify:
			return w.finishCheck(ctx, tx, &n, r, now, &p)
		case r.err == nil:
			return w.finishSent(ctx, tx, &n, r, now, &p)
		default:
			return w.finishFailed(ctx, tx, &n, r, now, &p)
		}
	})
	return p, err
}

// mine reports whether n is still this worker's claim.
func (w *Worker) mine(n *store.Notification) bool {
	return n.Status == store.NoticeSending && n.ClaimedBy == w.id
}

// setPartTS records the Slack timestamp of part (1-based) of n.
func setPartTS(n *store.Notification, part int, ts string) {
	if part <= 1 {
		n.SlackTS = ts
		return
	}
	for len(n.PartTS) < part-1 {
		n.PartTS = append(n.PartTS, "")
	}
	n.PartTS[part-2] = ts
}

// what names a part of a notice for people: "customer notice #12", or
// "part 2 of 3 of customer notice #12".
func what(n *store.Notification, c claimed) string {
	if c.parts > 1 {
		return fmt.Sprintf("part %d of %d of %s", c.part, c.parts, label(n))
	}
	return label(n)
}

// duplicates records the second copies a look deleted or could not
// delete, on n and its timeline.
func (w *Worker) duplicates(ctx context.Context, tx *store.Tx, n *store.Notification, r result, now time.Time) error {
	if len(r.deleted) > 0 {
		if err := w.record(ctx, tx, n, now, "notification_duplicate_deleted",
			fmt.Sprintf("Deleted %d second cop%s of %s on Slack in %s (%s): an attempt whose outcome was uncertain had "+
				"landed as well; the copy kept is %s", len(r.deleted), plural(len(r.deleted), "y", "ies"), what(n, r.c),
				r.c.channel, strings.Join(r.deleted, ", "), r.rec.ts),
			map[string]any{"deleted_ts": r.deleted, "kept_ts": r.rec.ts, "part": r.c.part}); err != nil {
			return err
		}
	}
	if len(r.undeleted) > 0 {
		n.DuplicateTS = r.undeleted[0]
		n.LastError = truncate(firstLine(w.Settings.scrub(fmt.Sprintf(
			"POSTED TWICE: %s is on Slack in %s more than once, and the later copy (%s) could not be deleted (%v); "+
				"delete it in Slack", what(n, r.c), r.c.channel, strings.Join(r.undeleted, ", "), r.deleteErr))), 500)
		return w.record(ctx, tx, n, now, "notification_duplicate", n.LastError,
			map[string]any{"duplicate_ts": r.undeleted, "kept_ts": r.rec.ts, "part": r.c.part})
	}
	return nil
}

// finishSent records a send that succeeded: a part posted (or found
// posted by an earlier attempt), a mail submitted, an export written.
func (w *Worker) finishSent(ctx context.Context, tx *store.Tx, n *store.Notification, r result, now time.Time,
	p *Progress) error {
	from := n.Status
	// Delivered. Also when someone marked it unknown or queued it again
	// meanwhile: recording it stops a second send.
	if !w.mine(n) && from != store.NoticeUnknown && from != store.NoticeQueued && from != store.NoticeFailed {
		p.Status = from
		return nil
	}
	c := r.c
	n.Via, n.UpdatedAt, n.ClaimedBy, n.ClaimedAt = c.via, now, "", time.Time{}
	n.LastError, n.NextAttemptAt = "", time.Time{}
	extra := map[string]any{"via": c.via, "latency_seconds": now.Sub(n.TriggeredAt).Seconds()}
	switch c.via {
	case ViaFile:
		n.Status, n.ExportPath, n.MessageID = store.NoticeExported, r.rec.path, r.rec.messageID
		if ok, err := tx.UpdateNotification(ctx, n, from); err != nil || !ok {
			return err
		}
		p.Status, p.Path = n.Status, n.ExportPath
		extra["export_path"] = n.ExportPath
		return w.record(ctx, tx, n, now, "notification_exported",
			fmt.Sprintf("EXPORTED, NOT DELIVERED: %s for %s was written to %s; nobody has received it. "+
				"Send it yourself, then record that with `irtui notify confirm %d`", label(n), n.Recipient, n.ExportPath, n.ID),
			extra)
	case ViaMail:
		n.MessageID = r.rec.messageID
		extra["message_id"] = n.MessageID
	case ViaSlack, ViaWebhook:
		setPartTS(n, c.part, r.rec.ts)
		if c.part <= 1 {
			n.ThreadTS = c.threadTS
		}
		n.PartsSent = c.part
		extra["slack_ts"], extra["thread_ts"], extra["part"] = r.rec.ts, c.threadTS, c.part
	}
	// A part posted again after an attempt whose outcome was uncertain is
	// looked for once more later: the earlier attempt may still land.
	if _, canLook := w.transports[c.via].(finder); canLook && !c.uncertainSince.IsZero() && !r.found {
		n.UncertainAt, n.VerifyAt = c.uncertainSince, now.Add(w.LateCommit)
		extra["check_at"] = store.FormatTime(n.VerifyAt)
	} else {
		n.UncertainAt, n.VerifyAt = time.Time{}, time.Time{}
	}
	if r.found {
		extra["found_in_slack"] = true
	}
	if err := w.duplicates(ctx, tx, n, r, now); err != nil {
		return err
	}
	p.Found, p.Deleted = r.found, r.deleted
	if c.part < c.parts {
		n.Status = store.NoticeQueued
		n.NextAttemptAt = now
		if !n.VerifyAt.IsZero() {
			n.NextAttemptAt = n.VerifyAt
		}
		if ok, err := tx.UpdateNotification(ctx, n, from); err != nil || !ok {
			return err
		}
		p.Status = n.Status
		summary := fmt.Sprintf("Posted %s to %s on Slack; the rest follows in its thread", what(n, c), c.channel)
		if r.found {
			summary = fmt.Sprintf("Found %s on Slack in %s: an earlier attempt whose outcome was uncertain had "+
				"posted it, so it was not sent again", what(n, c), c.channel)
		}
		return w.record(ctx, tx, n, now, "notification_part_sent", summary, extra)
	}
	// A drill notice is sent at its drill's time, as its timeline says.
	sentAt, err := timeOf(ctx, tx, n.IncidentID, now, false)
	if err != nil {
		return err
	}
	n.Status, n.SentAt = store.NoticeSent, sentAt
	if ok, err := tx.UpdateNotification(ctx, n, from); err != nil || !ok {
		return err
	}
	p.Status = n.Status
	if err := w.record(ctx, tx, n, now, "notification_sent", sentSummary(n, r), extra); err != nil {
		return err
	}
	return meetObligation(ctx, tx, *n, now, w.Actor)
}

func sentSummary(n *store.Notification, r result) string {
	check := ""
	if !n.VerifyAt.IsZero() {
		check = fmt.Sprintf("; an earlier attempt may still land, so it is looked for again at %s",
			n.VerifyAt.UTC().Format(time.RFC3339))
	}
	if r.found {
		return fmt.Sprintf("Found %s on Slack in %s: an earlier attempt whose outcome was uncertain had posted it, "+
			"so it was not sent again", what(n, r.c), r.c.channel)
	}
	switch r.c.via {
	case ViaSlack:
		s := fmt.Sprintf("Sent %s to %s on Slack", label(n), r.c.channel)
		if r.c.parts > 1 {
			s += fmt.Sprintf(" (%d messages, the rest in the first one's thread)", r.c.parts)
		}
		if n.ThreadTS != "" {
			s += " (in the incident's thread)"
		}
		return s + check
	case ViaWebhook:
		return fmt.Sprintf("Sent %s to Slack by webhook", label(n)) + check
	case ViaMail:
		return fmt.Sprintf("Mailed %s to %s (Message-ID %s); the mail server took it", label(n), n.Recipient, n.MessageID)
	default:
		return fmt.Sprintf("Wrote %s for %s to the console only (no Slack configured, or a drill): nobody was sent it",
			label(n), n.Recipient)
	}
}

// finishFailed records a send that failed.
func (w *Worker) finishFailed(ctx context.Context, tx *store.Tx, n *store.Notification, r result, now time.Time,
	p *Progress) error {
	if !w.mine(n) {
		p.Status = n.Status // marked unknown meanwhile: a person decides
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
	// since is the first attempt at this part that may have been posted.
	since := r.c.uncertainSince
	if kind == uncertain && since.IsZero() {
		since = r.c.n.ClaimedAt
	}
	_, canLook := w.transports[r.c.via].(finder)
	n.LastError, n.UpdatedAt, n.ClaimedBy, n.ClaimedAt = msg, now, "", time.Time{}
	n.UncertainAt = since
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
		if kind == uncertain {
			// Look no sooner than a late commit could land.
			n.NextAttemptAt = now.Add(max(w.LateCommit, n.NextAttemptAt.Sub(now)))
		}
	default:
		// Too many failures. If the last attempt may have been posted,
		// or an earlier one could not be looked for, nobody knows.
		n.Failures++
		n.Status, n.NextAttemptAt = store.NoticeFailed, time.Time{}
		unknown = kind == uncertain || r.lookup
	}
	part := ""
	if r.c.parts > 1 {
		part = fmt.Sprintf(" (part %d of %d)", r.c.part, r.c.parts)
	}
	if unknown {
		n.Status, n.NextAttemptAt = store.NoticeUnknown, time.Time{}
		n.LastError = fmt.Sprintf("%s%s may have reached %s: %s; check, then `irtui notify retry %d` or `irtui notify confirm %d`",
			label(n), part, n.Recipient, msg, n.ID, n.ID)
		if r.c.via == ViaMail {
			n.LastError = fmt.Sprintf("%s may have reached %s: %s. It is not sent again, so it does not arrive twice: "+
				"ask the recipient or look in the mail server's log for Message-ID <%s>, then `irtui notify confirm %d` "+
				"(it arrived) or `irtui notify retry %d` (send it again)", label(n), n.Recipient, msg,
				messageID(*n, w.Org), n.ID, n.ID)
		}
		p.Error = n.LastError
	} else if n.Status == store.NoticeQueued && !since.IsZero() {
		n.LastError = markUncertain(since, msg)
	}
	if n.Status != store.NoticeQueued && !unknown {
		n.UncertainAt = time.Time{}
	}
	if ok, err := tx.UpdateNotification(ctx, n, store.NoticeSending); err != nil || !ok {
		return err
	}
	p.Status, p.RetryAt = n.Status, n.NextAttemptAt
	p.Uncertain = n.Status == store.NoticeQueued && kind == uncertain
	switch {
	case n.Status == store.NoticeUnknown:
		return w.record(ctx, tx, n, now, "notification_unknown",
			fmt.Sprintf("OUTCOME UNKNOWN for %s%s to %s (%s): it may have arrived, and it will not be sent again "+
				"until a person checks", label(n), part, n.Recipient, msg),
			map[string]any{"via": r.c.via, "error": msg, "failures": n.Failures})
	case n.Status == store.NoticeFailed:
		why := "it cannot succeed"
		if kind != permanent {
			why = fmt.Sprintf("%d failed attempts", n.Failures)
		}
		return w.record(ctx, tx, n, now, "notification_failed",
			fmt.Sprintf("FAILED to send %s%s to %s (%s): %s; fix the cause, then `irtui notify retry %d`",
				label(n), part, n.Recipient, why, msg, n.ID), map[string]any{"via": r.c.via, "error": msg})
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
		summary = fmt.Sprintf("%s%s rate-limited by Slack (%s); trying again at %s", label(n), part, msg, at)
	case kind == uncertain:
		summary = fmt.Sprintf("%s%s may or may not have reached Slack (%s); at %s it is looked for there, "+
			"and sent again only if it is not found", label(n), part, msg, at)
	case r.lookup:
		summary = fmt.Sprintf("%s%s not sent again: an earlier attempt may have reached Slack, and %s; "+
			"looking again at %s", label(n), part, msg, at)
	default:
		summary = fmt.Sprintf("%s%s not delivered (%s); trying again at %s", label(n), part, msg, at)
	}
	return w.record(ctx, tx, n, now, "notification_retry", summary, extra)
}

// uncheckedMark is DuplicateTS for a part that could not be looked for
// again: a second copy may be on Slack.
const uncheckedMark = "unchecked"

// finishCheck records the second look for a part posted after an
// uncertain attempt.
func (w *Worker) finishCheck(ctx context.Context, tx *store.Tx, n *store.Notification, r result, now time.Time,
	p *Progress) error {
	if !w.mine(n) {
		p.Status = n.Status
		return nil
	}
	c := r.c
	back := store.NoticeQueued
	if n.PartsSent >= c.parts {
		back = store.NoticeSent
	}
	n.Status, n.ClaimedBy, n.ClaimedAt, n.UpdatedAt = back, "", time.Time{}, now
	p.Checked = true
	if r.err != nil {
		kind, _, msg := w.classify(c.via, r.err)
		msg = truncate(firstLine(w.Settings.scrub(lookupError(r.err, msg))), 400)
		if kind != permanent && n.Failures+1 < w.MaxFailures {
			n.Failures++
			n.VerifyAt = now.Add(w.backoff(n.Failures))
			if back == store.NoticeQueued {
				n.NextAttemptAt = n.VerifyAt
			}
			if ok, err := tx.UpdateNotification(ctx, n, store.NoticeSending); err != nil || !ok {
				return err
			}
			p.Status, p.Error, p.RetryAt = n.Status, msg, n.VerifyAt
			return w.record(ctx, tx, n, now, "notification_check_retry",
				fmt.Sprintf("Could not yet look again for a second copy of %s (%s); trying at %s", what(n, c), msg,
					n.VerifyAt.UTC().Format(time.RFC3339)), map[string]any{"error": msg})
		}
		n.VerifyAt, n.UncertainAt, n.DuplicateTS = time.Time{}, time.Time{}, uncheckedMark
		n.LastError = fmt.Sprintf("NOT CHECKED FOR A SECOND COPY: %s was posted again after an attempt whose outcome was "+
			"uncertain, and irtui could not look again (%s): if that attempt landed late, %s shows it twice; look, and "+
			"delete the later copy", what(n, c), msg, c.channel)
		if back == store.NoticeQueued {
			n.NextAttemptAt = now
		}
		if ok, err := tx.UpdateNotification(ctx, n, store.NoticeSending); err != nil || !ok {
			return err
		}
		p.Status, p.Error = n.Status, n.LastError
		return w.record(ctx, tx, n, now, "notification_unchecked", n.LastError, map[string]any{"error": msg})
	}
	extra := map[string]any{"copies": r.copies, "part": c.part}
	if len(r.copies) > 0 {
		setPartTS(n, c.part, r.copies[0])
		if c.part <= 1 && n.ThreadTS == "" {
			extra["slack_ts"] = r.copies[0]
		}
	}
	n.VerifyAt, n.UncertainAt = time.Time{}, time.Time{}
	if back == store.NoticeQueued {
		n.NextAttemptAt = now
	}
	if err := w.duplicates(ctx, tx, n, r, now); err != nil {
		return err
	}
	if ok, err := tx.UpdateNotification(ctx, n, store.NoticeSending); err != nil || !ok {
		return err
	}
	p.Status, p.Deleted = n.Status, r.deleted
	if len(r.deleted) > 0 || len(r.undeleted) > 0 {
		return nil // duplicates recorded it
	}
	summary := fmt.Sprintf("Looked again for %s on Slack in %s: posted once", what(n, c), c.channel)
	if len(r.copies) == 0 {
		summary = fmt.Sprintf("Looked again for %s on Slack in %s and found no copy: someone may have deleted it",
			what(n, c), c.channel)
	}
	return w.record(ctx, tx, n, now, "notification_checked", summary, extra)
}

// Locate looks on Slack, by the key in its metadata, for the part of n
// whose outcome is unknown, and returns the timestamp of the earliest
// copy ("" when there is none): `irtui notify confirm` records it, so
// later messages of the incident reply in its thread. It needs the bot
// token and the history scopes; errors say what is missing.
func (w *Worker) Locate(ctx context.Context, n store.Notification) (string, error) {
	w.init()
	via, _, ch := w.route(n)
	f, ok := w.transports[via].(finder)
	if !ok || n.Via != ViaSlack {
		return "", fmt.Errorf("%s was not posted by the Slack bot (SLACK_BOT_TOKEN), so it cannot be looked up", label(&n))
	}
	parts := partsVia(n, via)
	part := min(n.PartsSent+1, parts)
	thread := n.ThreadTS
	if part > 1 && thread == "" {
		thread = n.SlackTS
	}
	since := n.UncertainAt
	for _, t := range []time.Time{n.ClaimedAt, n.ApprovedAt, n.CreatedAt} {
		if since.IsZero() {
			since = t
		}
	}
	lctx, cancel := context.WithTimeout(ctx, w.SendTimeout)
	defer cancel()
	copies, err := f.find(lctx, message{n: n, channel: ch, threadTS: thread, part: part, parts: parts},
		since.Add(-lookupMargin))
	if err != nil {
		return "", fmt.Errorf("looking for %s on Slack: %s", label(&n), w.Settings.scrub(lookupError(err, err.Error())))
	}
	if len(copies) == 0 {
		return "", nil
	}
	return copies[0], nil
}
