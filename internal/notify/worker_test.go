package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/store"
)

// queue adds a queued stakeholder message to channel directly, for tests
// about delivery only.
func (f *fixture) queue(incidentID, channel, subject string) int64 {
	f.t.Helper()
	now := f.clock.Now()
	n := store.Notification{IncidentID: incidentID, RuleID: "test", Trigger: "test", Audience: AudienceStakeholders,
		DestKind: store.DestSlack, Channel: channel, Recipient: channel, Language: "en", Subject: subject,
		Body: "Body of " + subject, Status: store.NoticeQueued, IdempotencyKey: incidentID + "|" + subject,
		DraftedBy: "test", TriggeredAt: now, CreatedAt: now, UpdatedAt: now}
	var err error
	if n.Blocks, n.MoreBlocks, _, err = buildMessages(&n, facts{Severity: "SEV2"}); err != nil {
		f.t.Fatal(err)
	}
	err = f.st.Update(f.ctx, func(tx *store.Tx) error {
		_, err := tx.InsertNotification(f.ctx, &n)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return n.ID
}

func TestSlackPostContentAndBlocks(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	var auth string
	sl.fail = func(_ int, _ url.Values, _ http.ResponseWriter, r *http.Request) bool {
		auth = r.Header.Get("Authorization") + r.PostForm.Get("token")
		return false
	}
	in := f.declare(hostileTitle, false)
	f.commander(in.ID, "dave")
	rep, err := f.worker(sl.settings()).SendDue(f.ctx)
	if err != nil || rep.Sent != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if !strings.Contains(auth, testToken) {
		t.Fatal("the bot token was not sent: the test would prove nothing")
	}
	posts := sl.delivered()
	if len(posts) != 1 {
		t.Fatalf("%d posts", len(posts))
	}
	p := posts[0]
	if p.Get("channel") != "#sec-incidents" || p.Get("thread_ts") != "" || p.Get("unfurl_links") != "false" {
		t.Errorf("post: %v", p)
	}
	if !strings.HasPrefix(p.Get("text"), "SEV2 personal data breach: Acme Holdings export") ||
		strings.Contains(p.Get("text"), "<!channel>") {
		t.Errorf("fallback text: %q", p.Get("text"))
	}
	blocks := decodePostBlocks(t, p)
	h, ok := blocks[0].(*slack.HeaderBlock)
	if !ok || h.Text.Type != slack.PlainTextType || !strings.HasPrefix(h.Text.Text, "SEV2 personal data breach") {
		t.Fatalf("header: %#v", blocks[0])
	}
	fields := blocks[1].(*slack.SectionBlock).Fields
	var got []string
	for _, fl := range fields {
		got = append(got, fl.Text)
	}
	want := []string{"*Severity*\nSEV2", "*Status*\nopen", "*Incident commander*\n_not yet assigned_"}
	if len(got) != 4 || !slices.Equal(got[:3], want) || !strings.HasPrefix(got[3], "*Next deadline*\n") ||
		!strings.Contains(got[3], "(gdpr-33-2) due 2026-03-15 02:47 UTC") {
		t.Errorf("fields: %q", got)
	}
	texts := strings.Join(mrkdwnTexts(blocks), "\n")
	if strings.Contains(texts, "<!channel>") || strings.Contains(texts, "<https://evil") {
		t.Errorf("unescaped mrkdwn:\n%s", texts)
	}
	if !strings.Contains(texts, "Join the incident channel") || !strings.Contains(texts, "Incident "+in.ID) {
		t.Errorf("body or context missing:\n%s", texts)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeSent || n.SlackTS != firstTS || n.Via != ViaSlack || n.Attempts != 1 {
		t.Errorf("recorded: %s ts %q via %s attempts %d", n.Status, n.SlackTS, n.Via, n.Attempts)
	}
	// The message carries its key, to be found again after a timeout.
	var md slack.SlackMetadata
	if err := json.Unmarshal([]byte(p.Get("metadata")), &md); err != nil || md.EventType != "irtui_notice" ||
		md.EventPayload["key"] != noticeKey(n, 1) || len(noticeKey(n, 1)) != 32 {
		t.Errorf("metadata %q: %v", p.Get("metadata"), err)
	}
	if strings.Contains(p.Get("metadata"), n.IdempotencyKey) {
		t.Errorf("metadata shows the idempotency key itself: %s", p.Get("metadata"))
	}
	if v := NewView(n); v.Latency() != 0 || v.LatencySeconds != 0 {
		// The fake clock did not move: delivery took no (fake) time.
		t.Errorf("latency %v", v.Latency())
	}
}

func TestFollowUpsGoIntoTheIncidentThread(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	if _, err := w.SendDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	posts, stored := sl.delivered(), sl.stored()
	if len(posts) != 2 || posts[0].Get("thread_ts") != "" || posts[1].Get("thread_ts") != stored[0].ts {
		t.Fatalf("threads: %v / %v", posts[0].Get("thread_ts"), posts[len(posts)-1].Get("thread_ts"))
	}
	last := f.byAudience(in.ID, AudienceStakeholders)[1]
	if last.ThreadTS != stored[0].ts || last.SlackTS != stored[1].ts {
		t.Errorf("thread %q ts %q", last.ThreadTS, last.SlackTS)
	}
}

func exactlyOnce(t *testing.T, posts []url.Values, subjects ...string) {
	t.Helper()
	seen := map[string]int{}
	for _, p := range posts {
		subject, _, _ := strings.Cut(p.Get("text"), "\n")
		seen[subject]++
	}
	for _, s := range subjects {
		if seen[s] != 1 {
			t.Errorf("%q delivered %d times", s, seen[s])
		}
	}
	if len(posts) != len(subjects) {
		t.Errorf("%d posts for %d messages", len(posts), len(subjects))
	}
}

func TestBurstOf429sHonoursRetryAfter(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	var limited []time.Time
	sl.fail = func(n int, _ url.Values, w http.ResponseWriter, _ *http.Request) bool {
		if n <= 4 {
			limited = append(limited, f.clock.Now())
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}
	in := f.declare("Export", false)
	subjects := []string{"one", "two", "three"}
	for _, s := range subjects {
		f.queue(in.ID, "#sec-incidents", s)
	}
	w := f.worker(sl.settings())
	var progress []Progress
	w.Progress = func(p Progress) { progress = append(progress, p) }
	rep, err := w.SendDue(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, sl.delivered(), append([]string{"SEV2 personal data breach: Export"}, subjects...)...)
	// Counted by where each stands at the end: the rate-limited one was
	// sent in the end, so nothing is left to retry.
	if rep.Retrying != 0 || rep.Sent != 4 || len(rep.Results) != 8 {
		t.Errorf("report: %+v", rep)
	}
	for i := 1; i < len(limited); i++ {
		if d := limited[i].Sub(limited[i-1]); d < 3*time.Second {
			t.Errorf("retried after %v; Retry-After said 3s", d)
		}
	}
	if !progress[0].RateLimited || !strings.Contains(progress[0].String(), "rate-limited") {
		t.Errorf("progress: %v", progress[0])
	}
	for _, n := range f.list(in.ID) {
		if n.Audience == AudienceStakeholders && (n.Status != store.NoticeSent || n.Failures != 0) {
			t.Errorf("%d: %s failures %d", n.ID, n.Status, n.Failures)
		}
	}
}

func TestServerErrorsBackOffAndDeliverOnce(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	var failedAt []time.Time
	sl.fail = func(n int, _ url.Values, w http.ResponseWriter, _ *http.Request) bool {
		if n <= 4 {
			failedAt = append(failedAt, f.clock.Now())
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}
		return false
	}
	in := f.declare("Export", false)
	rep, err := f.worker(sl.settings()).Drain(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, sl.delivered(), "SEV2 personal data breach: Export")
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeSent || n.Failures != 4 || n.Attempts != 5 || rep.Retrying != 0 || rep.Sent != 1 {
		t.Errorf("%s failures %d attempts %d report %+v", n.Status, n.Failures, n.Attempts, rep)
	}
	// A 500 may come after the post was made: each retry looked first, and
	// the post that followed was looked for once more.
	if l := sl.lookedUp(); len(l) != 5 {
		t.Errorf("%d looks for 4 retries and a check", len(l))
	}
	// Exponential: each wait at least half of 2 s, 4 s, 8 s.
	for i := 1; i < len(failedAt); i++ {
		if d, min := failedAt[i].Sub(failedAt[i-1]), time.Second<<(i-1); d < min {
			t.Errorf("retry %d after %v, want at least %v", i, d, min)
		}
	}
}

func TestPermanentErrorFailsAtOnceAndRetryRequeues(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	broken := true
	sl.fail = func(_ int, _ url.Values, w http.ResponseWriter, _ *http.Request) bool {
		if broken {
			_, _ = w.Write([]byte(`{"ok":false,"error":"channel_not_found"}`))
		}
		return broken
	}
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeFailed || n.Attempts != 1 || !strings.Contains(n.LastError, "channel_not_found (the channel") {
		t.Fatalf("%s after %d attempts: %s", n.Status, n.Attempts, n.LastError)
	}
	if v := NewView(n); !v.Alert {
		t.Error("a failed notification is not an alert")
	}
	broken = false
	if err := f.ns.Retry(f.ctx, as("bob"), n.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.ns.Retry(f.ctx, as("bob"), n.ID); err == nil {
		t.Error("retried a queued notification")
	}
	if rep, err := w.Drain(f.ctx); err != nil || rep.Sent != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	exactlyOnce(t, sl.delivered(), "SEV2 personal data breach: Export")
}

func TestGivesUpAfterMaxFailures(t *testing.T) {
	// 503 refuses the post: after the last failure it is failed. A 502 may
	// come after the post was made: each retry looks for it first, and
	// after the last failure nobody knows whether it arrived.
	for _, tc := range []struct {
		code    int
		status  string
		lookups int
	}{
		{http.StatusServiceUnavailable, store.NoticeFailed, 0},
		{http.StatusBadGateway, store.NoticeUnknown, 3},
	} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			f := newFixture(t)
			sl := newSlackServer(t, f.clock)
			sl.fail = func(_ int, _ url.Values, w http.ResponseWriter, _ *http.Request) bool {
				w.WriteHeader(tc.code)
				return true
			}
			in := f.declare("Export", false)
			w := f.worker(sl.settings())
			w.MaxFailures = 4
			rep, err := w.Drain(f.ctx)
			if err != nil || rep.Retrying != 0 || rep.Failed+rep.Unknown != 1 || len(rep.Results) != 4 {
				t.Fatalf("%+v %v", rep, err)
			}
			n := f.byAudience(in.ID, AudienceStakeholders)[0]
			if n.Status != tc.status || n.Failures != 4 || !strings.Contains(n.LastError, strconv.Itoa(tc.code)) {
				t.Errorf("%s failures %d: %s", n.Status, n.Failures, n.LastError)
			}
			if sl.postCalls() != 4 || len(sl.lookedUp()) != tc.lookups {
				t.Errorf("%d posts, %d looks", sl.postCalls(), len(sl.lookedUp()))
			}
		})
	}
}

func TestAtMostOneMessagePerSecondPerChannel(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	in2 := f.declare("Other", false)
	for i := range 5 {
		f.queue(in.ID, "#a", fmt.Sprintf("a%d", i))
		f.queue(in2.ID, "#a", fmt.Sprintf("z%d", i))
	}
	for i := range 3 {
		f.queue(in.ID, "#b", fmt.Sprintf("b%d", i))
	}
	start := f.clock.Now()
	if _, err := f.worker(sl.settings()).Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	posts := sl.delivered()
	last := map[string]time.Time{}
	for i, p := range posts {
		ch, at := p.Get("channel"), sl.stored()[i].local
		if prev, ok := last[ch]; ok && at.Sub(prev) < time.Second {
			t.Errorf("two messages to %s within %v", ch, at.Sub(prev))
		}
		last[ch] = at
	}
	if len(posts) != 15 {
		t.Fatalf("%d posts", len(posts))
	}
	// 11 messages to #sec-incidents and #a each at 1/s, in parallel with #b.
	if took := f.clock.Now().Sub(start); took > 12*time.Second {
		t.Errorf("took %v of fake time: channels did not go in parallel", took)
	}
	// Per incident and channel, in the order they were written.
	var order []string
	for _, p := range posts {
		if s, _, _ := strings.Cut(p.Get("text"), "\n"); strings.HasPrefix(s, "a") {
			order = append(order, s)
		}
	}
	if !slices.Equal(order, []string{"a0", "a1", "a2", "a3", "a4"}) {
		t.Errorf("order %v", order)
	}
}

func TestWebhookDelivery(t *testing.T) {
	f := newFixture(t)
	var (
		mu    sync.Mutex
		got   []slack.WebhookMessage
		calls int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		var m slack.WebhookMessage
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		got = append(got, m)
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	in := f.declare(hostileTitle, false)
	rep, err := f.worker(Settings{WebhookURL: NewSecret(srv.URL + "/services/T0/B0/SECRETPATH")}).SendDue(f.ctx)
	if err != nil || rep.Sent != 1 || rep.Retrying != 0 || !rep.Results[0].RateLimited {
		t.Fatalf("%+v %v", rep, err)
	}
	if len(got) != 1 || got[0].Blocks == nil || len(got[0].Blocks.BlockSet) < 3 {
		t.Fatalf("webhook messages: %+v", got)
	}
	if strings.Contains(got[0].Text, "<!channel>") || !strings.Contains(got[0].Text, "&lt;!channel&gt;") {
		t.Errorf("webhook text not escaped: %q", got[0].Text)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Via != ViaWebhook || n.Status != store.NoticeSent {
		t.Errorf("%s via %s", n.Status, n.Via)
	}
}

func TestWithoutSlackMessagesGoToTheConsole(t *testing.T) {
	f := newFixture(t)
	log := filepath.Join(t.TempDir(), "console.log")
	in := f.declare("Export", false, "acme")
	rep, err := f.worker(Settings{ConsoleLog: log}).SendDue(f.ctx)
	if err != nil || rep.Sent != 0 || rep.Console != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Via != ViaConsole || n.Status != store.NoticeSent {
		t.Errorf("%s via %s", n.Status, n.Via)
	}
	st, err := os.Stat(log)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("console log: %v %v", st, err)
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "SEV2 personal data breach: Export") {
		t.Errorf("console log:\n%s", b)
	}
	// A customer notice with a Slack Connect contact and no bot token is
	// exported for a person to deliver, never posted to the console only.
	f.commander(in.ID, "dave")
	if err := f.svc.LinkCustomer(f.ctx, as("alice"), in.ID, "globex"); err != nil {
		t.Fatal(err)
	}
	g := f.byAudience(in.ID, AudienceCustomers)[1]
	f.fillAndApprove(g, func(string) string { return "text" })
	dir := t.TempDir()
	if _, err := f.worker(Settings{ExportDir: dir}).SendDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	if g = f.get(g.ID); g.Via != ViaFile || !strings.HasPrefix(g.ExportPath, dir) {
		t.Errorf("globex notice without a bot token: via %s to %s", g.Via, g.ExportPath)
	}
	eml, _ := os.ReadFile(strings.TrimSuffix(g.ExportPath, ".md") + ".eml")
	if !strings.Contains(string(eml), "X-Irtui-Deliver-To: Slack #globex-incidents") {
		t.Errorf("eml:\n%s", eml)
	}
}

func TestSlackOutageQueuesThenDelivers(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	down := true
	sl.fail = func(_ int, _ url.Values, w http.ResponseWriter, _ *http.Request) bool {
		if down {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		return down
	}
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.InlineWait = time.Millisecond // one attempt per SendDue
	for range 3 {
		if _, err := w.SendDue(f.ctx); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeQueued || n.Failures != 3 || !strings.Contains(n.LastError, "503") {
		t.Fatalf("during the outage: %s failures %d: %s", n.Status, n.Failures, n.LastError)
	}
	down = false
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, sl.delivered(), "SEV2 personal data breach: Export")
	if n = f.get(n.ID); n.Status != store.NoticeSent || n.LastError != "" {
		t.Errorf("after the outage: %s %q", n.Status, n.LastError)
	}
}

func TestTokenIsNeverStoredOrShown(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	sl.fail = func(_ int, _ url.Values, w http.ResponseWriter, _ *http.Request) bool {
		_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		return true
	}
	const hookSecret = "T0000/B0000/XyZsEcReTwEbHoOk"
	// A port nobody listens on: connection refused, and the URL in the
	// error.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	in := f.declare("Export", false)
	f.queue(in.ID, "#x", "second")

	var shown []string
	progress := func(p Progress) { shown = append(shown, p.String(), p.Error) }
	for _, set := range []Settings{
		sl.settings(), // invalid_auth
		{BotToken: NewSecret(testToken), APIURL: dead + "/api/"},        // network error
		{WebhookURL: NewSecret(dead + "/services/" + hookSecret)},       // network error
		{WebhookURL: NewSecret(sl.GetAPIURL() + "hooks/" + hookSecret)}, // 404
	} {
		for _, n := range f.list(in.ID) {
			if n.Status == store.NoticeFailed {
				if err := f.ns.Retry(f.ctx, as("bob"), n.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		w := f.worker(set)
		w.MaxFailures = 2
		w.Progress = progress
		if _, err := w.Drain(f.ctx); err != nil {
			shown = append(shown, err.Error())
		}
		shown = append(shown, fmt.Sprintf("%v %+v %#v %s", set, set, set, set.Describe()))
		raw, _ := json.Marshal(set)
		shown = append(shown, string(raw))
	}
	var errorsSeen int
	for _, n := range f.list(in.ID) {
		shown = append(shown, n.LastError)
		if n.LastError != "" {
			errorsSeen++
		}
	}
	if errorsSeen == 0 {
		t.Fatal("no send failed: the test proves nothing")
	}
	for _, s := range shown {
		if strings.Contains(s, testToken) || strings.Contains(s, "XyZsEcReTwEbHoOk") {
			t.Errorf("a secret is shown: %s", s)
		}
	}
	f.st.Close()
	for _, p := range []string{f.path, f.path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(testToken)) || bytes.Contains(b, []byte("XyZsEcReTwEbHoOk")) {
			t.Errorf("%s holds a secret", filepath.Base(p))
		}
	}
}

func TestSettingsFromEnv(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	s, err := SettingsFromEnv(env(map[string]string{EnvBotTokenFile: tokenFile, EnvAPIURL: "http://127.0.0.1:1/api",
		EnvChannel: " #sec ", "XDG_DATA_HOME": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if s.BotToken.Reveal() != testToken || s.APIURL != "http://127.0.0.1:1/api/" || s.Channel != "#sec" ||
		s.ExportDir != filepath.Join(dir, "irtui", "outbox") || !s.SlackConfigured() {
		t.Errorf("%+v", s)
	}
	for _, bad := range []map[string]string{
		{EnvBotTokenFile: filepath.Join(dir, "missing")},
		{EnvBotTokenFile: tokenFile, EnvBotToken: testToken},
		{EnvWebhookURL: "not a url " + testToken},
		{EnvAPIURL: "ftp://x"},
		{EnvChannel: "Not A Channel!"},
	} {
		_, err := SettingsFromEnv(env(bad))
		if err == nil {
			t.Errorf("%v accepted", bad)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("error shows the token: %v", err)
		}
	}
}

func TestExpiredClaimIsFlaggedUnknownNotResent(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	// A worker claims the message, then stops before sending or recording
	// (in this process, so only its lease can tell).
	gone := f.worker(sl.settings())
	gone.init()
	batch, _, err := gone.claim(f.ctx)
	if err != nil || len(batch) != 1 {
		t.Fatalf("claim: %d %v", len(batch), err)
	}
	w := f.worker(sl.settings())
	if rep, err := w.SendDue(f.ctx); err != nil || rep.Unknown != 0 || len(sl.delivered()) != 0 {
		t.Fatalf("within the lease: %+v %v", rep, err)
	}
	f.clock.Advance(3 * time.Minute)
	rep, err := w.SendDue(f.ctx)
	if err != nil || rep.Unknown != 1 || rep.Sent != 0 {
		t.Fatalf("after the lease: %+v %v", rep, err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeUnknown || !NewView(n).Alert || !strings.Contains(n.LastError, "stopped before recording") {
		t.Fatalf("%s: %s", n.Status, n.LastError)
	}
	if _, err := w.Drain(f.ctx); err != nil || len(sl.delivered()) != 0 {
		t.Fatalf("an unknown message was sent again: %v", err)
	}
	// The late worker's result, if it ever comes, is still recorded.
	if _, err := gone.finish(f.ctx, result{c: batch[0], rec: receipt{ts: "1.5"}}); err != nil {
		t.Fatal(err)
	}
	if n = f.get(n.ID); n.Status != store.NoticeSent || n.SlackTS != "1.5" {
		t.Errorf("late success: %s %q", n.Status, n.SlackTS)
	}
}

func TestConfirmSentResolvesUnknown(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export", false)
	gone := f.worker(Settings{})
	gone.init()
	if _, _, err := gone.claim(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	w := f.worker(Settings{})
	if _, err := w.Recover(f.ctx); err != nil {
		t.Fatal(err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if err := f.ns.ConfirmSent(f.ctx, as("bob"), n.ID); err != nil {
		t.Fatal(err)
	}
	if n = f.get(n.ID); n.Status != store.NoticeSent || !strings.Contains(n.LastError, "confirmed") {
		t.Errorf("%s %q", n.Status, n.LastError)
	}
}

// TestCrashChild is the worker that crashes: run by
// TestCrashBetweenSendAndRecord in a process of its own.
func TestCrashChild(t *testing.T) {
	if os.Getenv("IRTUI_NOTIFY_CRASH_DB") == "" {
		t.Skip("run by TestCrashBetweenSendAndRecord")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv("IRTUI_NOTIFY_CRASH_DB"))
	if err != nil {
		t.Fatal(err)
	}
	w := &Worker{Store: st, Clock: clock.Real{}, Settings: Settings{BotToken: NewSecret(testToken),
		APIURL: os.Getenv("IRTUI_NOTIFY_CRASH_API")}}
	w.wrap = func(via string, tr transport) transport { return crashAfter{tr} }
	_, _ = w.SendDue(ctx)
	t.Fatal("did not crash")
}

type crashAfter struct{ inner transport }

func (c crashAfter) send(ctx context.Context, m message) (receipt, error) {
	_, _ = c.inner.send(ctx, m)
	os.Exit(7) // the message went out; the process dies before recording it
	return receipt{}, nil
}

func TestCrashBetweenSendAndRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "IRTUI_NOTIFY_CRASH_DB="+f.path, "IRTUI_NOTIFY_CRASH_API="+sl.GetAPIURL())
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Fatalf("child exited %d (%v):\n%s", code, err, out)
	}
	if len(sl.delivered()) != 1 {
		t.Fatalf("the child delivered %d messages", len(sl.delivered()))
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeSending {
		t.Fatalf("after the crash: %s", n.Status)
	}
	// The next worker finds it in status sending, claimed by a process
	// that is gone: flagged unknown at once, not sent again.
	rep, err := f.worker(sl.settings()).Drain(f.ctx)
	if err != nil || rep.Unknown != 1 || rep.Sent != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	if n = f.get(n.ID); n.Status != store.NoticeUnknown || len(sl.delivered()) != 1 {
		t.Fatalf("%s, %d deliveries", n.Status, len(sl.delivered()))
	}
	d, _ := f.st.Incident(f.ctx, in.ID)
	if !slices.ContainsFunc(d.Timeline, func(e store.TimelineEntry) bool {
		return e.Kind == "notification_unknown" && strings.Contains(e.Summary, "OUTCOME UNKNOWN")
	}) {
		t.Error("the unknown outcome is not on the timeline")
	}
	// A person may decide to send it again.
	if err := f.ns.Retry(f.ctx, as("bob"), n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.worker(sl.settings()).Drain(f.ctx); err != nil || len(sl.delivered()) != 2 {
		t.Fatalf("after retry: %d deliveries, %v", len(sl.delivered()), err)
	}
}

func TestTwoWorkersNeverSendTheSameMessageTwice(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	var subjects []string
	for i := range 40 {
		s := fmt.Sprintf("m%02d", i)
		subjects = append(subjects, s)
		f.queue(in.ID, fmt.Sprintf("#c%d", i%5), s)
	}
	subjects = append(subjects, "SEV2 personal data breach: Export")
	// Two stores on one file: as two processes would have.
	st2, err := store.Open(f.ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var wg sync.WaitGroup
	reports := make([]Report, 2)
	for i, st := range []*store.Store{f.st, st2} {
		w := &Worker{Store: st, Clock: clock.Real{}, Settings: sl.settings(), Spacing: 2 * time.Millisecond,
			Poll: 5 * time.Millisecond}
		wg.Go(func() {
			r, err := w.Drain(f.ctx)
			if err != nil {
				t.Error(err)
			}
			reports[i] = r
		})
	}
	wg.Wait()
	exactlyOnce(t, sl.delivered(), subjects...)
	if reports[0].Sent+reports[1].Sent != len(subjects) {
		t.Errorf("sent %d + %d", reports[0].Sent, reports[1].Sent)
	}
	t.Logf("worker A sent %d, worker B sent %d", reports[0].Sent, reports[1].Sent)
}

func TestRunDeliversUntilCancelled(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	ctx, cancel := context.WithCancel(f.ctx)
	w := &Worker{Store: f.st, Clock: clock.Real{}, Settings: sl.settings(), Service: f.ns, Poll: 10 * time.Millisecond}
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for len(sl.delivered()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "done"); err != nil {
		t.Fatal(err)
	}
	w.Wake()
	for len(sl.delivered()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(sl.delivered()) != 2 {
		t.Fatalf("%d delivered", len(sl.delivered()))
	}
}

// A checkpoint of the record (package witness) is a notice that belongs
// to no incident: the worker posts it like any other, and records it in
// the audit log only (there is no incident timeline to write to).
func TestWorkerSendsANoticeAboutTheRecord(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	now := f.clock.Now()
	line := `{"v":1,"db":"d","timeline":{"id":3,"hash":"h"}}`
	n := store.Notification{RuleID: "audit-checkpoint", Trigger: "checkpoint", Audience: AudienceInternal,
		DestKind: store.DestSlack, Channel: "#sec-audit", Recipient: "#sec-audit", Subject: "irtui checkpoint",
		Body: "Checkpoint of the irtui record\n\n" + line, Blocks: []byte(`[{"type":"section","text":{"type":"mrkdwn","text":"x"}}]`),
		Status: store.NoticeQueued, IdempotencyKey: "checkpoint:d:3:4", DraftedBy: "alice", TriggeredAt: now, CreatedAt: now, UpdatedAt: now}
	err := f.st.Update(f.ctx, func(tx *store.Tx) error {
		if _, err := tx.InsertNotification(f.ctx, &n); err != nil {
			return err
		}
		return tx.AppendAudit(f.ctx, &store.AuditEntry{At: now, Actor: "alice", Action: "checkpoint_notice", Outcome: store.OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.st.MaxTimelineID(f.ctx)
	rep, err := f.worker(sl.settings()).SendDue(f.ctx)
	if err != nil || rep.Sent != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	posts := sl.delivered()
	if len(posts) != 1 || posts[0].Get("channel") != "#sec-audit" {
		t.Fatalf("posts: %v", posts)
	}
	got := f.get(n.ID)
	if got.Status != store.NoticeSent || got.IncidentID != "" {
		t.Errorf("recorded: %+v", got)
	}
	if after, _ := f.st.MaxTimelineID(f.ctx); after != before {
		t.Errorf("the timeline moved (%d -> %d) for a notice about no incident", before, after)
	}
	a, _ := f.st.Audit(f.ctx, store.AuditFilter{})
	if last := a[len(a)-1]; last.Action != "notify_send" || last.IncidentID != "" {
		t.Errorf("last audit entry: %+v", last)
	}
	if rep, err := f.st.VerifyChains(f.ctx); err != nil || !rep.OK {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}
