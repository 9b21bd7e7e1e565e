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

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/deadline"
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
		{ID: "alice", Name: "Alice Ng", Roles: []string{"incident_commander"}},
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
	"us_health_data": false, "ca_residents": 0.0, "discovered_by": "a researcher"}

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
	in, err := f.svc.Declare(f.ctx, "alice", d)
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
		if _, err := f.ns.SetContent(f.ctx, "bob", n.ID, fl.ID, text(fl.ID)); err != nil {
			f.t.Fatal(err)
		}
	}
	f.commander(n.IncidentID, "dave")
	if err := f.ns.Approve(f.ctx, "dave", n.ID); err != nil {
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
	if err := f.svc.Assign(f.ctx, "alice", incidentID, DefaultApprover, person); err != nil {
		f.t.Fatal(err)
	}
}

// worker is a worker on the fixture's database whose sleeps move the fake
// clock, so retries and spacing take no real time.
func (f *fixture) worker(s Settings) *Worker {
	return &Worker{Store: f.st, Clock: f.clock, Settings: s, Org: f.cfg.Org, Actor: "ops",
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			f.clock.Advance(d)
			return nil
		}}
}

// slackServer is a slacktest server that records every chat.postMessage
// it answers with ok, and lets a test decide how to answer each call. It
// also answers conversations.list (every channel a post was tried to),
// conversations.history and conversations.replies (the recorded posts,
// newest first, with their metadata when include_all_metadata is set,
// in pages of the limit asked for).
type slackServer struct {
	*slacktest.Server
	mu    sync.Mutex
	calls int
	posts []url.Values
	tss   []string // the ts of each recorded post
	// fail, if set, may answer call n (1-based) with an error; it returns
	// false to let the post succeed. It may record the post first (record).
	fail func(n int, form url.Values, w http.ResponseWriter, r *http.Request) bool
	// at, if set, stamps each recorded post with the (fake) time.
	at    func() time.Time
	times []time.Time
	// failLookup, if set, may answer a conversations.* call with an error.
	failLookup func(method string, form url.Values, w http.ResponseWriter) bool
	lookups    []url.Values // conversations.history and .replies requests, with "method"
	lists      int          // conversations.list requests
	channels   []string     // channel names posts were tried to, in order
	filler     int          // unrelated messages history holds besides the posts
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

func newSlackServer(t testing.TB) *slackServer {
	s := &slackServer{}
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
			ts := s.record(r.PostForm)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": channelIDOf(r.PostForm.Get("channel")), "ts": ts})
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
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channels": chans,
				"response_metadata": map[string]any{"next_cursor": ""}})
		})
		for _, method := range []string{"conversations.history", "conversations.replies"} {
			c.Handle("/"+method, func(w http.ResponseWriter, r *http.Request) {
				s.lookup(method, w, r)
			})
		}
	})
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// record keeps a post as delivered and returns its ts.
func (s *slackServer) record(form url.Values) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts = append(s.posts, form)
	if s.at != nil {
		s.times = append(s.times, s.at())
	}
	ts := fmt.Sprintf("1700000000.%06d", len(s.posts))
	s.tss = append(s.tss, ts)
	return ts
}

func (s *slackServer) lookup(method string, w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form := r.PostForm
	s.mu.Lock()
	req := url.Values{"method": {method}}
	for k, v := range form {
		if k != "token" {
			req[k] = v
		}
	}
	s.lookups = append(s.lookups, req)
	fail := s.failLookup
	// Newest first, as Slack lists them.
	var msgs []map[string]any
	for i := len(s.posts) - 1; i >= 0; i-- {
		p := s.posts[i]
		if channelIDOf(p.Get("channel")) != form.Get("channel") {
			continue
		}
		if method == "conversations.history" && p.Get("thread_ts") != "" ||
			method == "conversations.replies" && p.Get("thread_ts") != form.Get("ts") && s.tss[i] != form.Get("ts") {
			continue
		}
		m := map[string]any{"type": "message", "ts": s.tss[i], "text": p.Get("text")}
		if p.Get("thread_ts") != "" {
			m["thread_ts"] = p.Get("thread_ts")
		}
		if md := p.Get("metadata"); md != "" && form.Get("include_all_metadata") == "1" {
			m["metadata"] = json.RawMessage(md)
		}
		msgs = append(msgs, m)
	}
	for i := range s.filler {
		msgs = append(msgs, map[string]any{"type": "message", "ts": fmt.Sprintf("1600000000.%06d", s.filler-i),
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
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": page, "has_more": next != "",
		"response_metadata": map[string]any{"next_cursor": next}})
}

func (s *slackServer) delivered() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.posts...)
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
