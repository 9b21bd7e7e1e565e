package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/runbooks"
)

var t0 = time.Date(2026, 3, 14, 2, 47, 0, 0, time.UTC)

// testToken is recognisable, so a test can look for it anywhere.
const testToken = "xoxb-IRTUI-TEST-TOKEN-7f3a9c"

var directory = store.Directory{
	People: []store.Person{
		// alice leads the tests' incidents: she may close them with steps open.
		{ID: "alice", Name: "Alice Ng", Roles: []string{"incident_commander"}, Permissions: []string{"override"}},
		{ID: "bob", Name: "Bob Okafor", Roles: []string{"incident_commander", "customer_liaison"}},
		{ID: "carol", Name: "Carol Diaz", Roles: []string{"dpo"}},
		{ID: "dave", Name: "Dave Kim"},
	},
	Customers: []store.Customer{
		{ID: "acme", Name: "Acme Holdings", Language: "en", ContactKind: "email", Contact: "security@acme.test"},
		{ID: "globex", Name: "Globex Corporation", Language: "nl", ContactKind: "slack", Contact: "#globex-incidents"},
		{ID: "initech", Name: "Initech", Language: "en-GB", ContactKind: "email", Contact: "ciso@initech.test"},
	},
}

// hostileTitle names every customer and tries to ping and forge a link.
const hostileTitle = "Acme Holdings export exposed Globex Corporation and Initech records <!channel> & <https://evil|x>"

var (
	libOnce sync.Once
	lib     *runbook.Library
)

func library(t testing.TB) *runbook.Library {
	libOnce.Do(func() {
		lib, _ = runbook.Load(context.Background(), runbook.Options{Bundled: runbooks.FS(),
			Validate: runbook.ValidateOptions{Obligation: deadline.IsObligationID}})
	})
	if len(lib.Failed) > 0 {
		t.Logf("runbooks that did not load: %v", lib.Failed)
	}
	return lib
}

type fixture struct {
	t      testing.TB
	ctx    context.Context
	path   string
	st     *store.Store
	clock  *clock.Fake
	cfg    config.Config
	ns     *Service
	svc    *incident.Service
	extras map[string][]runbook.Notification // rules added to a runbook copy
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "irtui.db"),
		clock: clock.NewFake(t0), cfg: config.Default(), extras: map[string][]runbook.Notification{}}
	f.cfg.Org = config.Org{Name: "Example Org", DPOContact: "dpo@example.org", Contact: "security@example.org"}
	f.cfg.Slack = config.Slack{Channel: "#sec-incidents", DrillChannel: "#drills",
		Routes: []config.Route{{Severities: []string{"SEV1"}, Channel: "#sev1-war-room"}}}
	var err error
	f.st, err = store.Open(f.ctx, f.path, store.WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	if _, err := f.st.ImportDirectory(f.ctx, "admin", directory); err != nil {
		t.Fatal(err)
	}
	l := library(t)
	copies := map[string]*runbook.Runbook{}
	f.ns = &Service{Store: f.st, Clock: f.clock, Config: f.cfg, Runbook: func(id string) (*runbook.Runbook, bool) {
		rb, ok := l.Get(id)
		if !ok || len(f.extras[id]) == 0 {
			return rb, ok
		}
		if c, ok := copies[id]; ok {
			return c, true
		}
		c := *rb
		c.Notify = append(append([]runbook.Notification(nil), rb.Notify...), f.extras[id]...)
		copies[id] = &c
		return &c, true
	}}
	f.svc = &incident.Service{Store: f.st, Clock: f.clock, Notifier: f.ns}
	return f
}

// breachAnswers make the bundled personal data breach runbook set
// personal_data_breach and customer_data_affected.
var breachAnswers = classify.Answers{"personal_data": true, "exposure": "disclosed",
	"data_categories": []string{"contact", "identifiers"}, "records": 3400.0, "encrypted": false,
	"customers_affected": true, "controller_data": true, "ongoing": false, "functional_impact": "none",
	"us_health_data": false, "ca_residents": 0.0, "discovered_by": "a researcher",
	// The shared breach risk assessment's own questions.
	"unavailable_hours": 0.0, "identifiable": "direct", "recipients": "unknown", "malicious": false,
	"undetected_days": 0.0, "used_against_people": false, "consequences": "limited", "uk_people": false}

func (f *fixture) declare(title string, drill bool, customers ...string) incident.Incident {
	f.t.Helper()
	rb, ok := library(f.t).Get("personal-data-breach")
	if !ok {
		f.t.Fatal("the bundled personal-data-breach runbook did not load")
	}
	now := f.clock.Now()
	v, err := classify.Classify(rb, breachAnswers, f.cfg.Policy, classify.Events{Aware: now, Classified: now}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	d := incident.NewDeclaration(rb, v, breachAnswers)
	d.Title, d.Customers, d.Drill, d.AwareAt = title, customers, drill, now
	in, err := f.svc.Declare(f.ctx, as("alice"), d)
	if err != nil {
		f.t.Fatal(err)
	}
	return in
}

func (f *fixture) list(incidentID string) []store.Notification {
	f.t.Helper()
	l, err := f.st.ListNotifications(f.ctx, store.NotificationFilter{IncidentID: incidentID, Limit: 100000})
	if err != nil {
		f.t.Fatal(err)
	}
	return l
}

func (f *fixture) get(id int64) store.Notification {
	f.t.Helper()
	n, err := f.st.Notification(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) byAudience(incidentID, audience string) []store.Notification {
	var out []store.Notification
	for _, n := range f.list(incidentID) {
		if n.Audience == audience {
			out = append(out, n)
		}
	}
	return out
}

// fillAndApprove fills every content field of a draft as bob (customer
// liaison), makes dave the commander, and approves it as dave: alice
// declared the incident, so she drafted the notice and may not approve.
func (f *fixture) fillAndApprove(n store.Notification, text func(field string) string) {
	f.t.Helper()
	for _, fl := range n.Fields {
		if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, fl.ID, text(fl.ID)); err != nil {
			f.t.Fatal(err)
		}
	}
	f.commander(n.IncidentID, "dave")
	if err := f.ns.Approve(f.ctx, as("dave"), n.ID); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) commander(incidentID, person string) {
	f.t.Helper()
	d, err := f.st.Incident(f.ctx, incidentID)
	if err != nil {
		f.t.Fatal(err)
	}
	if a, ok := incident.CurrentHolder(d, DefaultApprover); ok && a.PersonID == person {
		return
	}
	if err := f.svc.Assign(f.ctx, as("alice"), incidentID, DefaultApprover, person); err != nil {
		f.t.Fatal(err)
	}
}

// worker is a worker on the fixture's database whose sleeps move the fake
// clock, so retries and spacing take no real time.
func (f *fixture) worker(s Settings) *Worker {
	return &Worker{Store: f.st, Clock: f.clock, Settings: s, Org: f.cfg.Org, Actor: as("ops"),
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			f.clock.Advance(d)
			return nil
		}}
}

// slackServer is a slacktest server that models the parts of Slack's Web
// API irtui uses. It records every chat.postMessage it answers with ok,
// stamping it with Slack's clock (the fixture's fake clock, plus skew):
// ts is "<Slack's seconds>.<post number>", so the first post at t0 is
// firstTS. Every answer carries Slack's time in its Date
// header. It answers conversations.list (every channel a post was tried
// to), conversations.history and conversations.replies (the posts stored
// by then, newest first, with their metadata when include_all_metadata
// is set, from "oldest" on, in pages of the limit asked for), and
// chat.delete. It refuses, as Slack does, a message whose blocks hold too
// much (msg_blocks_too_long), and lets a test decide how to answer each
// call.
type slackServer struct {
	*slacktest.Server
	mu    sync.Mutex
	calls int
	posts []slackPost
	// clock is this machine's (fake) clock; skew is how far Slack's is
	// ahead of it. Slack's time is slackEpoch + (clock - t0) + skew.
	clock *clock.Fake
	skew  time.Duration
	// fail, if set, may answer call n (1-based) with an error; it returns
	// false to let the post succeed. It may record the post first (record).
	fail func(n int, form url.Values, w http.ResponseWriter, r *http.Request) bool
	// failLookup, if set, may answer a conversations.* call with an error.
	failLookup func(method string, form url.Values, w http.ResponseWriter) bool
	// failDelete, if set, may answer chat.delete with an error.
	failDelete func(ts string, w http.ResponseWriter) bool
	lookups    []url.Values // conversations.history and .replies requests, with "method"
	lists      int          // conversations.list requests
	deletes    []string     // timestamps chat.delete removed
	channels   []string     // channel names posts were tried to, in order
	filler     int          // unrelated messages history holds besides the posts
	tooLong    int          // posts refused with msg_blocks_too_long
}

// slackPost is a message Slack stored.
type slackPost struct {
	form    url.Values
	ts      string
	at      time.Time // on Slack's clock: when it was stored, and can be seen
	local   time.Time // on the fixture's clock
	deleted bool
}

// channelIDOf is the test server's id of a channel name.
func channelIDOf(ch string) string {
	if isChannelID(ch) {
		return ch
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(ch) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return "CTEST" + b.String()
}

// slackEpoch is Slack's time at t0 (without skew): the same clock as the
// fixture's, so a test that sets skew has the clocks that far apart.
var slackEpoch = t0

// firstTS is the ts of the first post at t0 without skew.
var firstTS = fmt.Sprintf("%d.000001", t0.Unix())

// slackNow is Slack's clock.
func (s *slackServer) slackNow() time.Time {
	return slackEpoch.Add(s.clock.Now().Sub(t0) + s.skew)
}

// Limits the server enforces, as Slack does: 3,000 characters of section
// text, 150 of header, 50 blocks, and (msg_blocks_too_long) an
// undocumented total that reports put between 11,341 and 13,297 characters
// of text; the server takes the lowest.
const (
	stubSectionLimit = 3000
	stubHeaderLimit  = 150
	stubTotalLimit   = 11341
)

// blocksProblem is the error Slack answers blocks with, or "".
func blocksProblem(raw string) string {
	if raw == "" {
		return ""
	}
	var b slack.Blocks
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return "invalid_blocks"
	}
	if len(b.BlockSet) > 50 {
		return "invalid_blocks"
	}
	total := 0
	for _, t := range mrkdwnTexts(b.BlockSet) {
		if utf8.RuneCountInString(t) > stubSectionLimit {
			return "invalid_blocks"
		}
		total += utf8.RuneCountInString(t)
	}
	for _, bl := range b.BlockSet {
		if h, ok := bl.(*slack.HeaderBlock); ok {
			if utf8.RuneCountInString(h.Text.Text) > stubHeaderLimit {
				return "invalid_blocks"
			}
			total += utf8.RuneCountInString(h.Text.Text)
		}
	}
	if total >= stubTotalLimit {
		return "msg_blocks_too_long"
	}
	return ""
}

func newSlackServer(t testing.TB, fake *clock.Fake) *slackServer {
	s := &slackServer{clock: fake}
	answer := func(w http.ResponseWriter, v any) {
		w.Header().Set("Date", s.slackNow().UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			s.mu.Lock()
			s.calls++
			n, fail := s.calls, s.fail
			if ch := r.PostForm.Get("channel"); !slices.Contains(s.channels, ch) {
				s.channels = append(s.channels, ch)
			}
			s.mu.Unlock()
			if fail != nil && fail(n, r.PostForm, w, r) {
				return
			}
			if p := blocksProblem(r.PostForm.Get("blocks")); p != "" {
				s.mu.Lock()
				s.tooLong++
				s.mu.Unlock()
				answer(w, map[string]any{"ok": false, "error": p})
				return
			}
			ts := s.record(r.PostForm)
			answer(w, map[string]any{"ok": true, "channel": channelIDOf(r.PostForm.Get("channel")), "ts": ts})
		})
		c.Handle("/chat.delete", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			ts := r.PostForm.Get("ts")
			s.mu.Lock()
			fail := s.failDelete
			s.mu.Unlock()
			if fail != nil && fail(ts, w) {
				return
			}
			s.mu.Lock()
			found := false
			for i := range s.posts {
				if s.posts[i].ts == ts && !s.posts[i].deleted &&
					channelIDOf(s.posts[i].form.Get("channel")) == r.PostForm.Get("channel") {
					s.posts[i].deleted, found = true, true
					s.deletes = append(s.deletes, ts)
				}
			}
			s.mu.Unlock()
			if !found {
				answer(w, map[string]any{"ok": false, "error": "message_not_found"})
				return
			}
			answer(w, map[string]any{"ok": true, "channel": r.PostForm.Get("channel"), "ts": ts})
		})
		c.Handle("/conversations.list", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			s.mu.Lock()
			s.lists++
			fail := s.failLookup
			var chans []map[string]any
			for _, ch := range s.channels {
				chans = append(chans, map[string]any{"id": channelIDOf(ch), "name": strings.TrimPrefix(ch, "#")})
			}
			s.mu.Unlock()
			if fail != nil && fail("conversations.list", r.PostForm, w) {
				return
			}
			answer(w, map[string]any{"ok": true, "channels": chans, "response_metadata": map[string]any{"next_cursor": ""}})
		})
		for _, method := range []string{"conversations.history", "conversations.replies"} {
			c.Handle("/"+method, func(w http.ResponseWriter, r *http.Request) {
				s.lookup(method, w, r, answer)
			})
		}
	})
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// record keeps a post as stored now and returns its ts.
func (s *slackServer) record(form url.Values) string {
	return s.recordLate(form, 0)
}

// recordLate keeps a post that Slack stores (and shows) only after a
// delay, as it may when it answers late or not at all, and returns its ts.
func (s *slackServer) recordLate(form url.Values, delay time.Duration) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.slackNow().Add(delay)
	ts := fmt.Sprintf("%d.%06d", at.Unix(), len(s.posts)+1)
	s.posts = append(s.posts, slackPost{form: form, ts: ts, at: at, local: s.clock.Now().Add(delay)})
	return ts
}

func (s *slackServer) lookup(method string, w http.ResponseWriter, r *http.Request, answer func(http.ResponseWriter, any)) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := r.PostForm
	s.mu.Lock()
	req := url.Values{"method": {method}, "slack_now": {strconv.FormatInt(s.slackNow().Unix(), 10)}}
	for k, v := range form {
		if k != "token" {
			req[k] = v
		}
	}
	s.lookups = append(s.lookups, req)
	fail := s.failLookup
	now := s.slackNow()
	oldest := form.Get("oldest")
	// Newest first, as Slack lists history.
	var msgs []map[string]any
	for i := len(s.posts) - 1; i >= 0; i-- {
		p := s.posts[i]
		if p.deleted || p.at.After(now) || channelIDOf(p.form.Get("channel")) != form.Get("channel") ||
			(oldest != "" && compareTS(p.ts, oldest) < 0) {
			continue
		}
		if method == "conversations.history" && p.form.Get("thread_ts") != "" ||
			method == "conversations.replies" && p.form.Get("thread_ts") != form.Get("ts") && p.ts != form.Get("ts") {
			continue
		}
		m := map[string]any{"type": "message", "ts": p.ts, "text": p.form.Get("text")}
		if p.form.Get("thread_ts") != "" {
			m["thread_ts"] = p.form.Get("thread_ts")
		}
		if md := p.form.Get("metadata"); md != "" && form.Get("include_all_metadata") == "1" {
			m["metadata"] = json.RawMessage(md)
		}
		msgs = append(msgs, m)
	}
	if method == "conversations.replies" {
		slices.Reverse(msgs) // a thread reads oldest first
	}
	for i := range s.filler {
		msgs = append(msgs, map[string]any{"type": "message", "ts": fmt.Sprintf("%d.%06d", now.Unix(), 900000+s.filler-i),
			"text": "chatter"})
	}
	s.mu.Unlock()
	if fail != nil && fail(method, form, w) {
		return
	}
	from, _ := strconv.Atoi(form.Get("cursor"))
	limit, _ := strconv.Atoi(form.Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	page, next := msgs[min(from, len(msgs)):], ""
	if len(page) > limit {
		page, next = page[:limit], strconv.Itoa(from+limit)
	}
	answer(w, map[string]any{"ok": true, "messages": page, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next}})
}

// delivered lists the posts on Slack now (not deleted), in the order
// they were posted.
func (s *slackServer) delivered() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, p := range s.posts {
		if !p.deleted {
			out = append(out, p.form)
		}
	}
	return out
}

// stored lists every post Slack stored, deleted ones included.
func (s *slackServer) stored() []slackPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackPost(nil), s.posts...)
}

// postCalls is how many chat.postMessage requests the server received.
func (s *slackServer) postCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// lookedUp lists the conversations.history and .replies requests.
func (s *slackServer) lookedUp() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.lookups...)
}

// deleted lists the timestamps chat.delete removed.
func (s *slackServer) deleted() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deletes...)
}

func (s *slackServer) settings() Settings {
	return Settings{BotToken: NewSecret(testToken), APIURL: s.GetAPIURL(), ExportDir: ""}
}

func decodePostBlocks(t testing.TB, form url.Values) []slack.Block {
	t.Helper()
	var b slack.Blocks
	if err := json.Unmarshal([]byte(form.Get("blocks")), &b); err != nil {
		t.Fatalf("blocks: %v\n%s", err, form.Get("blocks"))
	}
	return b.BlockSet
}

// mrkdwnTexts lists every mrkdwn text in blocks.
func mrkdwnTexts(blocks []slack.Block) []string {
	var out []string
	add := func(o *slack.TextBlockObject) {
		if o != nil && o.Type == slack.MarkdownType {
			out = append(out, o.Text)
		}
	}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			add(b.Text)
			for _, fl := range b.Fields {
				add(fl)
			}
		case *slack.ContextBlock:
			for _, e := range b.ContextElements.Elements {
				if o, ok := e.(*slack.TextBlockObject); ok {
					add(o)
				}
			}
		}
	}
	return out
}

// as is a trusted local actor named name, as in local trust mode.
func as(name string) identity.Actor { return identity.Local(name, "tester") }
