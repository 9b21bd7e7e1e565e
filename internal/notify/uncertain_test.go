package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/irtui/irtui/internal/store"
)

// hangFirstPost makes the server's first post hang until the client gives up,
// recording it first (Slack posted it, the answer never came) or not.
func hangFirstPost(sl *slackServer, posted bool) {
	sl.fail = func(n int, form url.Values, _ http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		if posted {
			sl.record(form)
		}
		<-r.Context().Done()
		return true
	}
}

// missingScope answers as Slack does to a token without the history scope.
func missingScope(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"ok":false,"error":"missing_scope","needed":"channels:history"}`)
}

func hasEntry(t *testing.T, f *fixture, incidentID, kind, text string) bool {
	t.Helper()
	d, err := f.st.Incident(f.ctx, incidentID)
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(d.Timeline, func(e store.TimelineEntry) bool {
		return e.Kind == kind && strings.Contains(e.Summary, text)
	})
}

// (a) Slack posted the message but the answer never came: the retry
// finds it in the channel's history and records it as sent, without
// posting it again.
func TestTimedOutPostThatArrivedIsFoundNotSentAgain(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangFirstPost(sl, true)
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	firstAttempt := f.clock.Now()
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Sent != 1 || rep.Retrying != 0 || len(rep.Results) != 2 || !rep.Results[0].Uncertain ||
		!rep.Results[1].Found {
		t.Fatalf("%+v %v", rep, err)
	}
	if s := rep.Results[1].String(); !strings.Contains(s, "found") && !strings.Contains(s, "Found") ||
		!strings.Contains(s, "not re-sent") {
		t.Errorf("progress: %s", s)
	}
	if s := rep.Results[0].String(); strings.Contains(s, "not delivered") || !strings.Contains(s, "may have reached") {
		t.Errorf("an uncertain outcome reads: %s", s)
	}
	if sl.postCalls() != 1 {
		t.Fatalf("chat.postMessage was called %d times", sl.postCalls())
	}
	exactlyOnce(t, sl.delivered(), "SEV2 personal data breach: Export")
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeSent || n.SlackTS != firstTS || n.Failures != 1 || n.LastError != "" {
		t.Errorf("%s ts %q failures %d: %q", n.Status, n.SlackTS, n.Failures, n.LastError)
	}
	looks := sl.lookedUp()
	if len(looks) != 1 {
		t.Fatalf("%d looks", len(looks))
	}
	l := looks[0]
	if l.Get("method") != "conversations.history" || l.Get("channel") != channelIDOf("#sec-incidents") ||
		l.Get("include_all_metadata") != "1" {
		t.Errorf("look: %v", l)
	}
	// It looked no sooner than a late commit could have landed.
	if at, _ := strconv.ParseInt(l.Get("slack_now"), 10, 64); time.Duration(at-slackEpoch.Unix())*time.Second <
		firstAttempt.Sub(t0)+60*time.Second {
		t.Errorf("looked at Slack time %d, %v after the attempt", at, time.Duration(at-slackEpoch.Unix())*time.Second)
	}
	if !hasEntry(t, f, in.ID, "notification_retry", "may or may not have reached Slack (no answer within 200ms") {
		t.Error("the uncertain attempt is not on the timeline")
	}
	if !hasEntry(t, f, in.ID, "notification_sent", "Found stakeholder message") {
		t.Error("finding it is not on the timeline")
	}
	// The thread root is the message found: a follow-up replies to it.
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	if posts := sl.delivered(); len(posts) != 2 || posts[1].Get("thread_ts") != firstTS {
		t.Errorf("follow-up: %d posts, thread %q", len(posts), posts[len(posts)-1].Get("thread_ts"))
	}
}

// (b) The post never arrived: the retry looks, does not find it, and
// posts it once more.
func TestTimedOutPostThatDidNotArriveIsSentOnce(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangFirstPost(sl, false)
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, sl.delivered(), "SEV2 personal data breach: Export")
	// It looked before posting again, and looked once more after.
	if sl.postCalls() != 2 || len(sl.lookedUp()) != 2 {
		t.Errorf("%d posts, %d looks", sl.postCalls(), len(sl.lookedUp()))
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeSent || n.Failures != 1 || n.SlackTS != sl.stored()[0].ts || !n.VerifyAt.IsZero() {
		t.Errorf("%s failures %d ts %q", n.Status, n.Failures, n.SlackTS)
	}
	if !hasEntry(t, f, in.ID, "notification_retry", "no answer within 200ms") {
		t.Error("the timeout is not on the timeline")
	}
}

// (c) When history cannot be read, the message is left to a person, as
// after a crash: it is neither sent again nor dropped.
func TestUnreadableHistoryLeavesTheOutcomeUnknown(t *testing.T) {
	for _, method := range []string{"conversations.history", "conversations.list"} {
		t.Run(method, func(t *testing.T) {
			f := newFixture(t)
			sl := newSlackServer(t, f.clock)
			hangFirstPost(sl, false)
			sl.failLookup = func(m string, _ url.Values, w http.ResponseWriter) bool {
				if m != method {
					return false
				}
				missingScope(w)
				return true
			}
			in := f.declare("Export", false)
			w := f.worker(sl.settings())
			w.SendTimeout = 200 * time.Millisecond
			rep, err := w.Drain(f.ctx)
			if err != nil || rep.Unknown != 1 || rep.Sent != 0 {
				t.Fatalf("%+v %v", rep, err)
			}
			n := f.byAudience(in.ID, AudienceStakeholders)[0]
			if n.Status != store.NoticeUnknown || !NewView(n).Alert || !strings.Contains(n.LastError, "missing_scope") ||
				!strings.Contains(n.LastError, "channels:history") || !strings.Contains(n.LastError, "irtui notify confirm") {
				t.Fatalf("%s: %s", n.Status, n.LastError)
			}
			if !hasEntry(t, f, in.ID, "notification_unknown", "OUTCOME UNKNOWN") {
				t.Error("the unknown outcome is not on the timeline")
			}
			if _, err := w.Drain(f.ctx); err != nil || sl.postCalls() != 1 {
				t.Fatalf("sent again: %d posts, %v", sl.postCalls(), err)
			}
			// A person checked and sends it again: no look this time.
			looks := len(sl.lookedUp())
			if err := f.ns.Retry(f.ctx, as("bob"), n.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.Drain(f.ctx); err != nil {
				t.Fatal(err)
			}
			if n = f.get(n.ID); n.Status != store.NoticeSent || sl.postCalls() != 2 || len(sl.lookedUp()) != looks {
				t.Errorf("after retry: %s, %d posts, %d looks", n.Status, sl.postCalls(), len(sl.lookedUp())-looks)
			}
		})
	}
}

// (d) A webhook cannot be asked what it posted: an answer that never
// came leaves the outcome to a person.
func TestWebhookTimeoutIsUnknownNotSentAgain(t *testing.T) {
	f := newFixture(t)
	var (
		mu    sync.Mutex
		calls int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // then the server notices when the client gives up
		mu.Lock()
		calls++
		mu.Unlock()
		<-r.Context().Done()
	}))
	defer srv.Close()
	in := f.declare("Export", false)
	w := f.worker(Settings{WebhookURL: NewSecret(srv.URL + "/services/T0/B0/SECRETPATH")})
	w.SendTimeout = 200 * time.Millisecond
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Unknown != 1 || rep.Retrying != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeUnknown || !strings.Contains(n.LastError, "no answer within 200ms") ||
		strings.Contains(n.LastError, "SECRETPATH") {
		t.Fatalf("%s: %s", n.Status, n.LastError)
	}
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 1 {
		t.Errorf("the webhook was called %d times", calls)
	}
}

// A follow-up in the incident's thread is looked for in the thread.
func TestTimedOutThreadReplyIsLookedForInTheThread(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	if _, err := w.SendDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	sl.fail = func(n int, form url.Values, _ http.ResponseWriter, r *http.Request) bool {
		if n != 2 {
			return false
		}
		sl.record(form)
		<-r.Context().Done()
		return true
	}
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "done"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	if sl.postCalls() != 2 || len(sl.delivered()) != 2 {
		t.Fatalf("%d posts, %d delivered", sl.postCalls(), len(sl.delivered()))
	}
	looks, stored := sl.lookedUp(), sl.stored()
	if len(looks) != 1 || looks[0].Get("method") != "conversations.replies" || looks[0].Get("ts") != stored[0].ts ||
		looks[0].Get("include_all_metadata") != "1" {
		t.Fatalf("looks: %v", looks)
	}
	last := f.byAudience(in.ID, AudienceStakeholders)[1]
	if last.Status != store.NoticeSent || last.SlackTS != stored[1].ts || last.ThreadTS != stored[0].ts {
		t.Errorf("%s ts %q thread %q", last.Status, last.SlackTS, last.ThreadTS)
	}
}

// A look through history is bounded: if the channel holds more since the
// attempt than it reads, the outcome is left to a person.
func TestTooMuchHistoryLeavesTheOutcomeUnknown(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	sl.filler = lookupPageSize*lookupMaxPages + 1
	hangFirstPost(sl, false)
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 2 * time.Second
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Unknown != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeUnknown || !strings.Contains(n.LastError, "more messages") {
		t.Errorf("%s: %s", n.Status, n.LastError)
	}
	if sl.postCalls() != 1 || len(sl.lookedUp()) != lookupMaxPages {
		t.Errorf("%d posts, %d pages read", sl.postCalls(), len(sl.lookedUp()))
	}
}

// A look that fails for a while (Slack down) is tried again, and never
// replaced by a post.
func TestFailedLookIsRetriedBeforeAnyPost(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	hangFirstPost(sl, true)
	down := 2
	sl.failLookup = func(m string, _ url.Values, w http.ResponseWriter) bool {
		if m != "conversations.history" || down == 0 {
			return false
		}
		down--
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	in := f.declare("Export", false)
	w := f.worker(sl.settings())
	w.SendTimeout = 200 * time.Millisecond
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Sent != 1 || rep.Retrying != 0 || len(rep.Results) != 4 {
		t.Fatalf("%+v %v", rep, err)
	}
	n := f.byAudience(in.ID, AudienceStakeholders)[0]
	if n.Status != store.NoticeSent || n.Failures != 3 || sl.postCalls() != 1 || len(sl.lookedUp()) != 3 {
		t.Errorf("%s failures %d, %d posts, %d looks", n.Status, n.Failures, sl.postCalls(), len(sl.lookedUp()))
	}
	if !hasEntry(t, f, in.ID, "notification_retry", "not sent again: an earlier attempt may have reached Slack, "+
		"and could not look in Slack for an earlier attempt: conversations.history: slack server error: 503") {
		t.Error("the failed look is not on the timeline")
	}
}

func TestUncertainMarkReadsBack(t *testing.T) {
	at := time.Date(2026, 3, 14, 2, 47, 31, 0, time.UTC)
	n := store.Notification{LastError: markUncertain(at, "no answer within 15s: x"), CreatedAt: at.Add(-time.Hour)}
	if got := uncertainSince(n); !got.Equal(at) {
		t.Errorf("uncertainSince = %v", got)
	}
	n.LastError = uncertainPrefix + "garbled"
	if got := uncertainSince(n); !got.Equal(n.CreatedAt) {
		t.Errorf("a garbled mark: %v", got)
	}
	for _, e := range []string{"", "slack server error: 503", "could not render"} {
		if got := uncertainSince(store.Notification{LastError: e}); !got.IsZero() {
			t.Errorf("%q: %v", e, got)
		}
	}
}

// TestClassify checks which failures are certain (the request never
// reached Slack: retry), uncertain (it may have been carried out: look
// first), rate limits and permanent errors, with real network errors
// where they can be made.
func TestClassify(t *testing.T) {
	w := &Worker{Spacing: time.Second, SendTimeout: 100 * time.Millisecond}
	client := &http.Client{Timeout: 100 * time.Millisecond}
	post := func(u string) error {
		resp, err := client.Post(u, "text/plain", strings.NewReader("x"))
		if err == nil {
			resp.Body.Close()
			return fmt.Errorf("no error from %s", u)
		}
		return err
	}
	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	refused := post(dead)
	hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		<-r.Context().Done()
	}))
	defer hang.Close()
	// Reads the request, then drops the connection without an answer.
	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	defer drop.Close()

	for _, tc := range []struct {
		name string
		via  string
		err  error
		want errorKind
	}{
		{"connection refused", ViaSlack, refused, retryable},
		{"DNS failure", ViaSlack, &url.Error{Op: "Post", URL: "https://slack.invalid/api/chat.postMessage",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "slack.invalid", IsNotFound: true}}}, retryable},
		{"DNS failure alone", ViaWebhook, &url.Error{Op: "Post", Err: &net.DNSError{Err: "no such host", Name: "hooks.invalid"}}, retryable},
		{"certificate", ViaSlack, &url.Error{Op: "Post", Err: &tls.CertificateVerificationError{Err: errors.New("x509: bad")}}, retryable},
		{"timeout", ViaSlack, post(hang.URL), uncertain},
		{"context deadline", ViaSlack, fmt.Errorf("post: %w", context.DeadlineExceeded), uncertain},
		{"connection dropped after the request", ViaSlack, post(drop.URL), uncertain},
		{"connection reset while reading", ViaWebhook, &url.Error{Op: "Post", Err: &net.OpError{Op: "read", Net: "tcp",
			Err: os.NewSyscallError("read", errors.New("connection reset by peer"))}}, uncertain},
		{"answer cut short", ViaSlack, io.ErrUnexpectedEOF, uncertain},
		{"500", ViaSlack, slack.StatusCodeError{Code: 500, Status: "500 Internal Server Error"}, uncertain},
		{"502", ViaWebhook, slack.StatusCodeError{Code: 502, Status: "502 Bad Gateway"}, uncertain},
		{"504", ViaSlack, slack.StatusCodeError{Code: 504, Status: "504 Gateway Timeout"}, uncertain},
		{"503", ViaSlack, slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}, retryable},
		{"429 without Retry-After", ViaSlack, slack.StatusCodeError{Code: 429, Status: "429 Too Many Requests"}, rateLimited},
		{"429", ViaSlack, &slack.RateLimitedError{RetryAfter: 3 * time.Second}, rateLimited},
		{"404", ViaWebhook, slack.StatusCodeError{Code: 404, Status: "404 Not Found"}, permanent},
		{"ok=false", ViaSlack, slack.SlackErrorResponse{Err: "channel_not_found"}, permanent},
		{"ratelimited", ViaSlack, slack.SlackErrorResponse{Err: "ratelimited"}, rateLimited},
		{"internal_error", ViaSlack, slack.SlackErrorResponse{Err: "internal_error"}, uncertain},
		{"service_unavailable", ViaSlack, slack.SlackErrorResponse{Err: "service_unavailable"}, retryable},
		{"a file that could not be written", ViaFile, fmt.Errorf("export x.md: %w", os.ErrPermission), retryable},
		{"a console log that could not be written", ViaConsole, io.ErrShortWrite, retryable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			kind, after, msg := w.classify(tc.via, tc.err)
			if kind != tc.want {
				t.Errorf("%v (%T): kind %d, want %d", tc.err, tc.err, kind, tc.want)
			}
			if kind == rateLimited && after < time.Second || msg == "" {
				t.Errorf("after %v, message %q", after, msg)
			}
		})
	}
}
