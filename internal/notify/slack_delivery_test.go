package notify

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/irtui/irtui/internal/store"
)

// approveGlobex declares an incident for globex (a Dutch customer on
// Slack Connect) and fills in its notice with text(field), then approves
// it; it returns the notice and the approval's error.
func (f *fixture) approveGlobex(text func(field string) string) (store.Notification, error) {
	f.t.Helper()
	in := f.declare("Support export in a public bucket", false, "globex")
	n := f.byAudience(in.ID, AudienceCustomers)[0]
	for _, fl := range n.Fields {
		if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, fl.ID, text(fl.ID)); err != nil {
			f.t.Fatal(err)
		}
	}
	f.commander(n.IncidentID, "dave")
	err := f.ns.Approve(f.ctx, as("dave"), n.ID)
	return f.get(n.ID), err
}

// prose is n characters of text in lines, with an ampersand now and then
// (escaped to &amp; for Slack).
func prose(n int, seed string) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%s line %d: records of Smith & Jones were in the export.\n", seed, i)
	}
	return b.String()[:n]
}

// A notice of 13,000 characters does not fit in one Slack message (Slack
// refuses it: msg_blocks_too_long). It goes out in parts, the first in
// the channel and the rest in its thread, in order, each with its own key,
// each within Slack's limits.
func TestLongNoticeGoesOutInPartsInItsThread(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	n, err := f.approveGlobex(func(field string) string { return prose(2600, field) })
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Body) < 13000 {
		t.Fatalf("the notice is only %d bytes", len(n.Body))
	}
	// Laid out whole, as before, Slack refuses it.
	var whole []slack.Block
	for _, raw := range append([]json.RawMessage{n.Blocks}, n.MoreBlocks...) {
		blocks, err := decodeBlocks(raw)
		if err != nil {
			t.Fatal(err)
		}
		whole = append(whole, blocks...)
	}
	raw, _ := json.Marshal(slack.Blocks{BlockSet: whole})
	if p := blocksProblem(string(raw)); p != "msg_blocks_too_long" {
		t.Fatalf("the whole notice in one message: %q", p)
	}
	parts := 1 + len(n.MoreBlocks)
	if parts < 2 || parts > MaxSlackParts {
		t.Fatalf("%d parts", parts)
	}
	w := f.worker(sl.settings())
	var progress []Progress
	w.Progress = func(p Progress) { progress = append(progress, p) }
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Failed+rep.Unknown != 0 || sl.tooLong != 0 {
		t.Fatalf("%+v %v (%d refused as too long)", rep, err, sl.tooLong)
	}
	var posts []slackPost
	for _, p := range sl.stored() {
		if p.form.Get("channel") == "#globex-incidents" {
			posts = append(posts, p)
		}
	}
	if len(posts) != parts {
		t.Fatalf("%d posts for %d parts", len(posts), parts)
	}
	seen := map[string]bool{}
	var text strings.Builder
	for i, p := range posts {
		if i == 0 && p.form.Get("thread_ts") != "" || i > 0 && p.form.Get("thread_ts") != posts[0].ts {
			t.Errorf("part %d: thread %q", i+1, p.form.Get("thread_ts"))
		}
		var md slack.SlackMetadata
		if err := json.Unmarshal([]byte(p.form.Get("metadata")), &md); err != nil {
			t.Fatal(err)
		}
		key, _ := md.EventPayload["key"].(string)
		if key != noticeKey(n, i+1) || seen[key] {
			t.Errorf("part %d: key %q", i+1, key)
		}
		seen[key] = true
		if size := blocksSize(decodePostBlocks(t, p.form)); size > messageBudget {
			t.Errorf("part %d: %d characters of blocks", i+1, size)
		}
		for _, s := range mrkdwnTexts(decodePostBlocks(t, p.form)) {
			text.WriteString(s)
		}
		if i > 0 && !strings.Contains(p.form.Get("text"), fmt.Sprintf("(part %d of %d)", i+1, parts)) {
			t.Errorf("part %d: fallback text %q", i+1, p.form.Get("text"))
		}
	}
	// Every line of the notice arrived, escaped, in order.
	all := text.String()
	last := -1
	for _, line := range strings.Split(strings.TrimSpace(n.Body), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		i := strings.Index(all[max(last, 0):], strings.ReplaceAll(line, "&", "&amp;"))
		if i >= 0 {
			i += max(last, 0)
		}
		if i < 0 || i < last {
			t.Fatalf("line %q is missing or out of order", line)
		}
		last = i
	}
	n = f.get(n.ID)
	if n.Status != store.NoticeSent || n.PartsSent != parts || len(n.PartTS) != parts-1 || n.SlackTS != posts[0].ts ||
		n.PartTS[parts-2] != posts[parts-1].ts || !Delivered(n) {
		t.Errorf("%s parts %d %v", n.Status, n.PartsSent, n.PartTS)
	}
	var mine []string
	for _, p := range progress {
		if p.ID == n.ID {
			mine = append(mine, p.String())
		}
	}
	if len(mine) != parts || !strings.Contains(mine[0], fmt.Sprintf("Sent part 1 of %d", parts)) ||
		!strings.Contains(mine[parts-1], fmt.Sprintf("(%d messages)", parts)) {
		t.Errorf("progress: %q", mine)
	}
	// A later message of the incident to that channel replies in the
	// notice's thread, after its last part.
	if err := f.svc.Close(f.ctx, as("alice"), n.IncidentID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
}

// Approval refuses a notice too long for Slack, and says how long it is
// and what to shorten; nothing is cut.
func TestApprovalRefusesANoticeTooLongForSlack(t *testing.T) {
	f := newFixture(t)
	// Ampersands grow fivefold when escaped: 4,000 of them are 20,000
	// characters on Slack.
	n, err := f.approveGlobex(func(field string) string { return strings.Repeat("&", maxContentText) })
	if err == nil {
		t.Fatal("a notice that needs more than 8 Slack messages was approved")
	}
	for _, want := range []string{"cannot approve customer notice", fmt.Sprintf("more than %d messages", MaxSlackParts),
		"after escaping", "The longest field is", "irtui notify set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal lacks %q: %v", want, err)
		}
	}
	if n.Status != store.NoticeDraft {
		t.Errorf("%s", n.Status)
	}
	sz := slackSize(n)
	if !sz.Cut || sz.Escaped < 5*sz.Text/2 {
		t.Errorf("size %+v", sz)
	}
}

// Escaping for Slack makes text longer: & becomes &amp;, < &lt;, > &gt;.
// The layout measures the escaped text, so the worst case still fits.
func TestEscapingGrowthIsMeasured(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
	}{
		{"plain", strings.Repeat("a", 20000)},
		{"ampersands", strings.Repeat("&", 20000)},
		{"angle brackets", strings.Repeat("<>", 10000)},
		{"mixed", strings.Repeat("Smith & Jones <ops@example.com> ", 625)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := store.Notification{IncidentID: "INC-0001", Audience: AudienceCustomers, Subject: "S", Body: tc.body}
			sz := slackSize(n)
			parts, cut := layout(&n, headBlocks(&n, facts{}))
			t.Logf("%d characters become %d on Slack (×%.2f), in %d messages", sz.Text, sz.Escaped,
				float64(sz.Escaped)/float64(sz.Text), sz.Parts)
			for i, p := range parts {
				raw, _ := json.Marshal(slack.Blocks{BlockSet: p})
				if size := blocksSize(p); size > messageBudget || blocksProblem(string(raw)) != "" {
					t.Errorf("part %d: %d characters (%s)", i+1, size, blocksProblem(string(raw)))
				}
			}
			if !cut && sz.Parts*(messageBudget-1000) < sz.Escaped {
				t.Errorf("%d parts cannot hold %d characters", sz.Parts, sz.Escaped)
			}
		})
	}
}

// A message stored whole by an older irtui, which Slack refuses, is laid
// out again in parts when a person retries it; the text is unchanged.
func TestRetryAfterMsgBlocksTooLongSendsInParts(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	id := f.queue(in.ID, "#sec-incidents", "Long")
	n := f.get(id)
	var blocks []slack.Block
	n.Body = prose(13009, "legacy")
	blocks = append(blocks, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "Long", false, false)))
	for _, c := range chunks(n.Body, 3000) {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(c), nil, nil))
	}
	n.Blocks, _ = json.Marshal(slack.Blocks{BlockSet: blocks})
	n.MoreBlocks = nil
	if err := f.st.Update(f.ctx, func(tx *store.Tx) error {
		_, err := tx.UpdateNotification(f.ctx, &n, store.NoticeQueued)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	w := f.worker(sl.settings())
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	n = f.get(id)
	if n.Status != store.NoticeFailed || !strings.Contains(n.LastError, "msg_blocks_too_long") || sl.tooLong != 1 {
		t.Fatalf("%s: %s", n.Status, n.LastError)
	}
	body := n.Body
	if err := f.ns.Retry(f.ctx, as("bob"), id); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	n = f.get(id)
	if n.Status != store.NoticeSent || n.PartsSent < 2 || n.Body != body || sl.tooLong != 1 {
		t.Errorf("%s in %d parts: %s", n.Status, n.PartsSent, n.LastError)
	}
}

// hangThenLand makes the server's first post give no answer, and store
// the post `late` after the client gave up, as Slack may.
func hangThenLand(sl *slackServer, late time.Duration) {
	sl.fail = func(n int, form url.Values, _ http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		<-r.Context().Done()
		sl.recordLate(form, late)
		return true
	}
}

// A post that Slack stores 20 s after the client gave up is found by the
// look, which waits for a late commit, and is not posted again.
func TestPostCommittedLateIsFoundNotSentTwice(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangThenLand(sl, 20*time.Second)
	foundNotResent(t, f, sl)
}

// foundNotResent declares an incident whose stakeholder message's first
// post gets no answer (the test arranged how it lands), delivers, and
// checks that the post was found on Slack and not made again.
func foundNotResent(t *testing.T, f *fixture, sl *slackServer) {
	t.Helper()
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Sent != 1 || !rep.Results[len(rep.Results)-1].Found {
		t.Fatalf("%+v %v", rep, err)
	}
	if sl.postCalls() != 1 || len(sl.delivered()) != 1 {
		t.Fatalf("%d posts, %d on Slack", sl.postCalls(), len(sl.delivered()))
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeSent || n.SlackTS != sl.stored()[0].ts {
		t.Errorf("%s ts %q", n.Status, n.SlackTS)
	}
}

// A post that lands after the look (here 100 s after the attempt, past
// the 90 s wait) is posted again, and the look made after the re-post
// finds both copies and deletes the later one. Follow-ups wait for that
// look, so they reply to the copy that stays.
func TestSecondCopyThatLandsLateIsDeleted(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangThenLand(sl, 100*time.Second)
	in := f.declare("Export", false)
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "done"); err != nil {
		t.Fatal(err)
	}
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	var progress []Progress
	w.Progress = func(p Progress) { progress = append(progress, p) }
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Sent != 2 || rep.Retrying != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	stored := sl.stored()
	// stored[0] is the late copy, stored[1] the re-post, stored[2] the follow-up.
	if len(stored) != 3 || !stored[0].deleted || stored[1].deleted {
		t.Fatalf("stored: %+v", stored)
	}
	if compareTS(stored[1].ts, stored[0].ts) >= 0 {
		t.Fatalf("the re-post %s is not the earlier copy (late copy %s)", stored[1].ts, stored[0].ts)
	}
	if d := sl.deleted(); len(d) != 1 || d[0] != stored[0].ts {
		t.Errorf("deleted %v", d)
	}
	first := f.byAudience(in.ID, AudienceStakeholders)[0]
	if first.SlackTS != stored[1].ts || !first.VerifyAt.IsZero() || first.DuplicateTS != "" {
		t.Errorf("kept %q verify %v dup %q", first.SlackTS, first.VerifyAt, first.DuplicateTS)
	}
	if !hasEntry(t, f, in.ID, "notification_duplicate_deleted", "Deleted 1 second copy of stakeholder message") {
		t.Error("the deletion is not on the timeline")
	}
	if follow := stored[2]; follow.form.Get("thread_ts") != stored[1].ts || follow.local.Before(stored[1].local.Add(w.LateCommit)) {
		t.Errorf("the follow-up went to thread %q at %v, before the look at %v", follow.form.Get("thread_ts"),
			follow.local, stored[1].local.Add(w.LateCommit))
	}
	found := false
	for _, p := range progress {
		found = found || p.Checked && len(p.Deleted) == 1 && strings.Contains(p.String(), "deleted 1 second copy")
	}
	if !found {
		t.Errorf("no progress says the copy was deleted: %v", progress)
	}
}

// A second copy that cannot be deleted is shown loudly, for a person.
func TestSecondCopyThatCannotBeDeletedIsFlagged(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangThenLand(sl, 100*time.Second)
	sl.failDelete = func(_ string, w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":false,"error":"cant_delete_message"}`)
		return true
	}
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	v := NewView(n)
	if n.DuplicateTS == "" || !v.Alert || v.State != "sent — POSTED TWICE" || !strings.Contains(n.LastError, "cant_delete_message") {
		t.Errorf("%+v: %s", v.State, n.LastError)
	}
	if len(sl.delivered()) != 2 {
		t.Errorf("%d on Slack", len(sl.delivered()))
	}
}

// The look's window is set on Slack's clock, from its Date header: a local
// clock six minutes ahead (or behind) neither misses the first post nor
// posts it twice.
func TestClockSixMinutesApartStillFindsThePost(t *testing.T) {
	for _, skew := range []time.Duration{-6 * time.Minute, 6 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			f := newFixture(t)
			sl := newSlackServer(t, f.clock)
			sl.skew = skew
			hangFirstPost(sl, true)
			foundNotResent(t, f, sl)
		})
	}
}

// Without the Date header the window would be set on the local clock:
// this shows the skew the test above survives is real.
func TestSlackClockReadsTheDateHeader(t *testing.T) {
	var c slackClock
	local := time.Date(2026, 3, 14, 2, 53, 0, 400e6, time.UTC)
	c.observe(local.Add(-6*time.Minute).Format(http.TimeFormat), local)
	if got := c.offset(); got != -6*time.Minute {
		t.Errorf("offset %v", got)
	}
	c.observe("not a date", local) // the first answer counts
	var none slackClock
	none.observe("garbage", local)
	if none.offset() != 0 || c.offset() != -6*time.Minute {
		t.Errorf("offsets %v %v", none.offset(), c.offset())
	}
}

// notify confirm finds the message on Slack by its key, so the thread
// continues from it.
func TestLocateFindsAnUnknownPostByItsKey(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangFirstPost(sl, true)
	sl.failLookup = func(m string, _ url.Values, w http.ResponseWriter) bool {
		if sl.postCalls() > 1 || m != "conversations.history" {
			return false
		}
		missingScope(w)
		return true
	}
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeUnknown {
		t.Fatalf("%s: %s", n.Status, n.LastError)
	}
	sl.failLookup = nil // the scope was added
	ts, err := w.Locate(f.ctx, n)
	if err != nil || ts != sl.stored()[0].ts {
		t.Fatalf("located %q, %v", ts, err)
	}
	if _, err := f.ns.Confirm(f.ctx, as("bob"), n.ID, Confirmation{SlackTS: ts}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	posts := sl.delivered()
	if len(posts) != 2 || posts[1].Get("thread_ts") != ts {
		t.Errorf("the follow-up: %d posts, thread %q", len(posts), posts[len(posts)-1].Get("thread_ts"))
	}
}

// A second look that cannot be made leaves the notice sent but loudly
// unchecked: a copy may be on Slack twice, and a person looks.
func TestSecondLookThatCannotBeMadeIsFlagged(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangFirstPost(sl, false)
	sl.failLookup = func(m string, _ url.Values, w http.ResponseWriter) bool {
		if m != "conversations.history" || sl.postCalls() < 2 {
			return false // the first look works; the one after the re-post does not
		}
		missingScope(w)
		return true
	}
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Sent != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	last := rep.Results[len(rep.Results)-1]
	if !last.Checked || !last.Alert() || !strings.Contains(last.String(), "could not look again") {
		t.Errorf("progress: %s", last)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	v := NewView(n)
	if n.Status != store.NoticeSent || !v.Alert || v.State != "sent — NOT CHECKED for a second copy" ||
		!strings.Contains(n.LastError, "missing_scope") || !n.VerifyAt.IsZero() {
		t.Errorf("%s %q: %s", n.Status, v.State, n.LastError)
	}
}
