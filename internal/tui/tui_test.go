package tui

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/strictyaml"
	"github.com/irtui/irtui/internal/tabletop"
	"github.com/irtui/irtui/runbooks"
)

// updateGolden reports whether -update was given. The flag is defined by
// the golden package that teatest uses; its meaning is the same here.
func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// start is a fixed moment so that clocks and golden files are stable.
var start = time.Date(2026, 3, 27, 9, 0, 0, 0, time.UTC)

type harness struct {
	m     *Model
	svc   *incident.Service
	st    *store.Store
	clk   *clock.Fake
	lib   *runbook.Library
	path  string
	actor identity.Actor
}

func loadLibrary(t testing.TB) *runbook.Library {
	t.Helper()
	lib, _ := runbook.Load(context.Background(), runbook.Options{Bundled: runbooks.FS(), Validate: runbook.ValidateOptions{Obligation: deadline.IsObligationID}})
	if len(lib.Failed) > 0 {
		t.Fatalf("bundled runbooks: %v", lib.Failed)
	}
	return lib
}

// configured is the default configuration with the organisation's
// details filled in, as a team sets them up before the first incident.
func configured() config.Config {
	c := config.Default()
	c.Org = config.Org{Name: "Example B.V.", DPOContact: "dpo@example.org", Contact: "security@example.org"}
	return c
}

// newHarness opens a real database file with the demo directory and builds
// the app on it, with a fake clock and no timers.
func newHarness(t testing.TB) *harness { return newHarnessPoll(t, -1) }

func newHarnessPoll(t testing.TB, poll time.Duration) *harness {
	t.Helper()
	clk := clock.NewFake(start)
	path := filepath.Join(t.TempDir(), "irtui.db")
	st, err := store.Open(context.Background(), path, store.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var dir store.Directory
	if probs := strictyaml.DecodeFile(strictyaml.Directory, "demo", runbooks.DemoDirectory(), &dir); probs != nil {
		t.Fatal(probs)
	}
	if _, err := st.ImportDirectory(context.Background(), "admin", dir); err != nil {
		t.Fatal(err)
	}
	lib := loadLibrary(t)
	dark := true
	cfg := configured()
	ns := &notify.Service{Store: st, Clock: clk, Config: cfg,
		Runbook: notify.LibraryLookup(func() *runbook.Library { return lib })}
	h := &harness{st: st, clk: clk, lib: lib, path: path, actor: identity.Local("alice", "alice"),
		svc: &incident.Service{Store: st, Clock: clk, Notifier: ns}}
	h.m = New(Deps{Service: h.svc, Directory: &identity.Service{Store: st, Clock: clk}, Changes: h.svc,
		Runbooks: func() *runbook.Library { return lib },
		Config:   cfg, Actor: h.actor, Clock: clk, Dark: &dark, Poll: poll, Notify: ns,
		Scenarios: func(lib *runbook.Library) *tabletop.ScenarioLibrary {
			sl, _ := tabletop.Load(context.Background(), runbook.Options{Bundled: runbooks.FS()}, lib)
			return sl
		},
		Drills: func(lib *runbook.Library) tabletop.Deps {
			return tabletop.Deps{Store: st, Runbooks: lib, Policy: config.Default().Policy, Real: clk, Service: h.svc}
		},
	})
	if poll < 0 {
		h.run(h.m.Init())
		h.m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	}
	return h
}

// run executes a command and every command that follows from it, feeding
// each message to the model, as the Bubble Tea runtime would.
func (h *harness) run(cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := runCmd(c)
		switch msg := msg.(type) {
		case nil:
			continue
		case tea.BatchMsg:
			queue = append(queue, msg...)
			continue
		case tea.BackgroundColorMsg:
			continue
		}
		if isRequest(msg) {
			continue
		}
		_, next := h.m.Update(msg)
		queue = append(queue, next)
	}
}

// isRequest reports terminal requests (background colour, ...) that only
// a real program answers, and the form's cursor blinks.
func isRequest(msg tea.Msg) bool {
	name := strings.ToLower(fmt.Sprintf("%T", msg))
	return strings.Contains(name, "request") || strings.Contains(name, "blink")
}

// runCmd runs a command with a time limit, so a test never hangs on one.
func runCmd(c tea.Cmd) tea.Msg {
	done := make(chan tea.Msg, 1)
	go func() { done <- c() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(5 * time.Second):
		panic("a command did not return within 5 s")
	}
}

// press sends key presses (a binding's first key, or text) and runs the
// resulting commands.
func (h *harness) press(keys ...string) {
	for _, k := range keys {
		_, cmd := h.m.Update(keyMsg(k))
		h.run(cmd)
	}
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		_, cmd := h.m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		h.run(cmd)
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "pgup":
		return tea.KeyPressMsg{Code: tea.KeyPgUp}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// key returns the first key of a binding, so tests press what the keymap
// says rather than literals.
func first(b interface{ Keys() []string }) string { return b.Keys()[0] }

func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }

// declare creates an incident through the service, as the CLI would.
func (h *harness) declare(t testing.TB, runbookID, title string, answers classify.Answers, customers ...string) incident.Incident {
	t.Helper()
	rb, ok := h.lib.Get(runbookID)
	if !ok {
		t.Fatalf("no runbook %s", runbookID)
	}
	v, err := classify.Classify(rb, answers, deadline.DefaultPolicy(), classify.Events{Aware: h.clk.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := incident.NewDeclaration(rb, v, answers)
	d.Title, d.Customers, d.AwareAt = title, customers, h.clk.Now()
	if !v.Incident {
		d.DismissReason = "false alarm"
	}
	in, err := h.svc.Declare(context.Background(), as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func (h *harness) detail(t testing.TB, id string) store.Detail {
	t.Helper()
	d, err := h.st.Incident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestEmptyStateTellsANewUserHowToStart(t *testing.T) {
	h := newHarness(t)
	out := h.screen()
	for _, want := range []string{"No incidents yet", "Press n to assess a new security event", "you are alice", "n new event"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen lacks %q:\n%s", want, out)
		}
	}
}

func TestTriageVerdictFollowsAnswers(t *testing.T) {
	h := newHarness(t)
	h.press(first(h.m.keys.New))
	if h.m.screen != screenPicker {
		t.Fatalf("n should open the runbook picker, screen=%d", h.m.screen)
	}
	h.typeText("ransom")
	h.press("enter")
	tr := h.m.triage
	if h.m.screen != screenTriage || tr == nil || tr.rb.ID != "ransomware" {
		t.Fatalf("enter should start triage of ransomware")
	}
	// Everything unanswered: the verdict assumes the worst.
	if !tr.verdict.Incident || tr.verdict.Severity != "SEV1" || len(tr.verdict.Assumed) != len(tr.questions) {
		t.Fatalf("unanswered ransomware should be a SEV1 incident with every answer assumed: %+v", tr.verdict)
	}
	if !strings.Contains(h.screen(), "Live verdict") || !strings.Contains(h.screen(), "assumed the worst") {
		t.Fatalf("verdict pane missing:\n%s", h.screen())
	}
	// Answer that it was a false alarm: the verdict follows.
	rb := tr.rb
	for _, q := range tr.questions {
		if q.Type == runbook.Choice {
			tr.question(q.ID).sel = q.Choices[0].Value
			break
		}
	}
	if _, cmd := h.m.Update(tea.WindowSizeMsg{Width: 120, Height: 40}); cmd != nil {
		h.run(cmd)
	}
	tr.reclassify(h.m)
	if len(tr.verdict.Assumed) != len(tr.questions)-1 || len(tr.questions) >= len(rb.Questions) {
		t.Fatalf("one answer given, assumed %d of %d (%d in the runbook; the managed service provider's are not asked)",
			len(tr.verdict.Assumed), len(tr.questions), len(rb.Questions))
	}
}

func TestTriageRecordsAnEventWithItsReason(t *testing.T) {
	h := newHarness(t)
	h.press("n")
	h.typeText("ddos")
	h.press("enter")
	tr := h.m.triage
	tr.field(fieldTitle).input.SetValue("Traffic spike on the storefront")
	tr.field(fieldDecision).sel = decEvent
	tr.field(fieldReason).input.SetValue("Marketing campaign traffic, confirmed by the web team")
	tr.field(fieldCustomers).multi = []string{"acme"}
	tr.reclassify(h.m)
	h.run(tr.submit(h.m))
	list, _ := h.st.ListIncidents(context.Background(), store.ListFilter{})
	if len(list) != 1 || list[0].Kind != store.KindEvent || !strings.Contains(list[0].DismissedReason, "Marketing campaign") {
		t.Fatalf("event not recorded: %+v", list)
	}
	if h.m.screen != screenIncident || !strings.Contains(h.screen(), "assessed event, not an incident") {
		t.Fatalf("the recorded event should be shown:\n%s", h.screen())
	}
	d := h.detail(t, list[0].ID)
	if len(d.Customers) != 1 || d.Customers[0].ID != "acme" {
		t.Fatalf("customers: %+v", d.Customers)
	}
}

func TestTriageRefusalKeepsTheForm(t *testing.T) {
	h := newHarness(t)
	h.press("n", "enter")
	tr := h.m.triage
	tr.field(fieldTitle).input.SetValue("x")
	tr.field(fieldDecision).sel = decEvent
	tr.field(fieldReason).input.SetValue("-") // the service refuses this incident's declaration (below)
	d := tr.field(fieldAware)
	d.input.SetValue(start.Add(-time.Hour).Format("2006-01-02 15:04"))
	tr.declare = func(incident.Declaration) (incident.Incident, error) {
		return incident.Incident{}, &incident.Error{Kind: incident.ErrRefused, Msg: "refused for the test"}
	}
	h.run(tr.submit(h.m))
	if h.m.screen != screenTriage || !h.m.statusErr || tr.sent {
		t.Fatalf("a refused declaration should keep the form open for a retry (screen %d, status %q)", h.m.screen, h.m.status)
	}
}

func TestAssignAcknowledgeStepNoteClose(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "lost-device", "Laptop stolen from car", classify.Answers{"encrypted": true})
	h.run(h.m.loadIncidents())
	if !strings.Contains(h.screen(), "Laptop stolen from car") {
		t.Fatalf("list lacks the incident:\n%s", h.screen())
	}
	h.press(first(h.m.keys.Open))
	if h.m.screen != screenIncident || !strings.Contains(h.screen(), "unassigned") {
		t.Fatalf("incident view:\n%s", h.screen())
	}

	// Roles: assign the incident commander from the directory, acknowledge.
	h.press(first(h.m.keys.Tab2), first(h.m.keys.Assign))
	if _, ok := h.m.overlay.(*choiceOverlay); !ok {
		t.Fatal("a should open the person picker")
	}
	h.typeText("alice")
	h.press("enter")
	h.press(first(h.m.keys.Acknowledge))
	d := h.detail(t, in.ID)
	a, ok := incident.CurrentHolder(d, "incident_commander")
	if !ok || a.PersonID != "alice" || a.AcknowledgedAt.IsZero() {
		t.Fatalf("commander not assigned and acknowledged: %+v", d.Roles)
	}
	if !strings.Contains(h.screen(), "acknowledged") {
		t.Fatalf("roles pane:\n%s", h.screen())
	}

	// Runbook: complete the first step, skip the next with a reason.
	h.press(first(h.m.keys.Tab3), first(h.m.keys.Done))
	h.press(first(h.m.keys.Skip))
	h.typeText("Handled by the device vendor")
	h.press("enter")
	d = h.detail(t, in.ID)
	if d.Steps[0].Status != store.StepDone || d.Steps[1].Status != store.StepSkipped || d.Steps[1].Note != "Handled by the device vendor" {
		t.Fatalf("steps: %+v", d.Steps[:2])
	}

	// Note from any pane.
	h.press(first(h.m.keys.Tab4), first(h.m.keys.Note))
	h.typeText("Police report filed, reference 2026-1234")
	h.press("enter")
	if !strings.Contains(h.screen(), "Police report filed") {
		t.Fatalf("timeline lacks the note:\n%s", h.screen())
	}

	// Close: required steps are open, so a reason is asked for.
	h.press(first(h.m.keys.Close))
	if _, ok := h.m.overlay.(*inputOverlay); !ok {
		t.Fatal("closing with open steps should ask for a reason")
	}
	h.press("enter") // empty reason is refused in the overlay
	if h.m.overlay == nil {
		t.Fatal("an empty reason was accepted")
	}
	h.typeText("Device wiped remotely; remaining steps tracked in ticket SEC-42")
	h.press("enter")
	d = h.detail(t, in.ID)
	if d.Incident.Status != store.StatusClosed {
		t.Fatalf("not closed: %+v", d.Incident)
	}
	var kinds []string
	for _, e := range d.Timeline {
		kinds = append(kinds, e.Kind)
	}
	joined := strings.Join(kinds, ",")
	for _, k := range []string{"role_assigned", "role_acknowledged", "step_completed", "step_skipped", "note", "closed"} {
		if !strings.Contains(joined, k) {
			t.Errorf("timeline lacks %s: %s", k, joined)
		}
	}
}

func TestServiceErrorsShowInTheStatusLine(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "lost-device", "Phone lost", classify.Answers{})
	h.run(h.m.loadIncidents())
	h.press("enter", first(h.m.keys.Tab2), first(h.m.keys.Acknowledge))
	if !h.m.statusErr || h.m.status == "" {
		t.Fatalf("acknowledging an unassigned role should report an error, status=%q", h.m.status)
	}
	if d := h.detail(t, in.ID); len(d.Roles) != 0 {
		t.Fatal("nothing should have changed")
	}
}

func TestQuitAsksWhenTriageWouldBeLost(t *testing.T) {
	h := newHarness(t)
	h.press("n", "enter")
	h.typeText("Half-typed title")
	_, cmd := h.m.Update(keyMsg("ctrl+c"))
	if cmd != nil || h.m.overlay == nil {
		t.Fatal("ctrl+c in a dirty triage should ask first")
	}
	h.press("esc")
	if h.m.overlay != nil || h.m.screen != screenTriage {
		t.Fatal("esc should keep the triage")
	}
	h.m.Update(keyMsg("ctrl+c"))
	_, cmd = h.m.Update(keyMsg("y"))
	if cmd == nil {
		t.Fatal("confirming should quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("expected tea.Quit")
	}
}

func TestQuitAsksWhenANoteWouldBeLost(t *testing.T) {
	h := newHarness(t)
	h.declare(t, "lost-device", "Phone lost", classify.Answers{})
	h.run(h.m.loadIncidents())
	h.press("enter", first(h.m.keys.Note))
	h.typeText("half a note")
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); cmd != nil {
		t.Fatal("ctrl+c with text in the note should ask first")
	}
	if _, ok := h.m.overlay.(*confirmOverlay); !ok {
		t.Fatal("no confirmation")
	}
	h.press("esc")
	h.press("esc") // close the note input
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); cmd == nil {
		t.Fatal("ctrl+c with nothing typed should quit at once")
	}
}

func TestControlSequencesInStoredTextAreStripped(t *testing.T) {
	h := newHarness(t)
	h.declare(t, "lost-device", "Evil\x1b[2J\x1b]0;pwned\x07 title\x1b[31m", classify.Answers{})
	h.run(h.m.loadIncidents())
	raw := h.m.View().Content
	for _, bad := range []string{"\x1b[2J", "\x1b]0;pwned", "\x07"} {
		if strings.Contains(raw, bad) {
			t.Fatalf("control sequence %q reached the screen", bad)
		}
	}
	if !strings.Contains(ansi.Strip(raw), "Evil title") {
		t.Fatalf("title not shown:\n%s", ansi.Strip(raw))
	}
	h.press("enter", first(h.m.keys.Tab4))
	if strings.Contains(h.m.View().Content, "\x1b]0;pwned") {
		t.Fatal("control sequence reached the timeline")
	}
}

func TestEveryScreenFitsAnySize(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "ransomware", strings.Repeat("Very long title ", 20), classify.Answers{})
	h.run(h.m.loadIncidents())
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}, {60, 20}} {
		h.m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for name, enter := range map[string]func(){
			"list":     func() { h.m.screen = screenList },
			"incident": func() { h.run(h.m.loadDetail(in.ID, true)) },
			"runbook":  func() { h.run(h.m.loadDetail(in.ID, true)); h.m.detail.tab = tabRunbook },
			"picker":   func() { h.m.screen = screenList; h.press("n") },
			"triage":   func() { h.m.screen = screenList; h.press("n", "enter") },
		} {
			enter()
			lines := strings.Split(h.m.View().Content, "\n")
			if len(lines) != size[1] {
				t.Errorf("%s at %dx%d: %d lines", name, size[0], size[1], len(lines))
			}
			for i, l := range lines {
				if w := lipgloss.Width(l); w > size[0] {
					t.Errorf("%s at %dx%d: line %d is %d wide", name, size[0], size[1], i, w)
					break
				}
			}
			h.m.overlay, h.m.triage = nil, nil
		}
	}
}

func TestLiveRefreshFromAnotherProcess(t *testing.T) {
	h := newHarness(t)
	h.run(h.m.poll()) // learn the current version
	// A second responder, with its own connection to the same file.
	other, err := store.Open(context.Background(), h.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	h2 := &harness{st: other, svc: &incident.Service{Store: other, Clock: h.clk}, lib: h.lib, clk: h.clk}
	h2.declare(t, "ddos", "Storefront down", classify.Answers{})
	h.run(h.m.poll())
	if !strings.Contains(h.screen(), "Storefront down") {
		t.Fatalf("change by another process not shown:\n%s", h.screen())
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

func TestNotificationsPaneFillAndApprove(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "personal-data-breach", "Customer export on a paste site",
		classify.Answers{"personal_data": true, "exposure": "disclosed", "customers_affected": true, "controller_data": true,
			"encrypted": false, "records": 40.0, "data_categories": []string{"contact"}, "recipients": "unknown", "malicious": false,
			"undetected_days": 0.0, "used_against_people": false, "consequences": "limited", "uk_people": false}, "acme", "zuiderzee")
	if err := h.svc.Assign(context.Background(), as("alice"), in.ID, "incident_commander", "bob"); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadIncidents())
	h.press("enter", first(h.m.keys.Tab5))
	out := h.screen()
	for _, want := range []string{"draft", "customers:acme", "customers:zuiderzee", "queued"} {
		if !strings.Contains(out, want) {
			t.Errorf("notifications pane lacks %q:\n%s", want, out)
		}
	}
	// Select acme's customer notice and fill in its required fields.
	idx := -1
	for i, v := range h.m.detail.notices {
		if v.CustomerID == "acme" && v.Status == store.NoticeDraft {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("no draft for acme: %+v", h.m.detail.notices)
	}
	h.m.detail.cursor[tabNotifications] = idx
	notice := h.m.detail.notices[idx]
	// The field picker opens on the first empty field and, after each
	// save, on the next one: enter, text, enter per field.
	h.press(first(h.m.keys.Edit))
	for _, f := range notice.Fields {
		c, ok := h.m.overlay.(*choiceOverlay)
		if !ok {
			t.Fatalf("no field picker before %s", f.ID)
		}
		if got := c.visible()[c.cursor].value; got != f.ID {
			t.Fatalf("the picker offers %s, want %s (the next field, not the first)", got, f.ID)
		}
		if !f.Required {
			h.press("esc")
			break
		}
		h.press("enter")
		h.typeText("Filled in for " + f.ID)
		h.press("enter")
	}
	v, err := h.m.deps.Notify.Get(context.Background(), as("alice"), notice.ID)
	if err != nil || len(v.Missing) > 0 {
		t.Fatalf("fields not filled: %v %+v (status %q)", err, v.Missing, h.m.status)
	}
	// Alice filled it in, so she may not approve it: she is told so at
	// once, before any "are you sure?"; Bob, the commander, may.
	h.press(first(h.m.keys.Approve))
	if !h.m.statusErr || h.m.overlay != nil || !strings.Contains(h.m.status, "may approve") {
		t.Fatalf("the person who filled in the notice must be refused before a confirmation; status %q, overlay %T", h.m.status, h.m.overlay)
	}
	h.m.deps.Actor = as("bob")
	h.press(first(h.m.keys.Approve), "enter")
	if h.m.statusErr {
		t.Fatalf("bob's approval failed: %s", h.m.status)
	}
	v, _ = h.m.deps.Notify.Get(context.Background(), as("bob"), notice.ID)
	if v.Status != store.NoticeQueued || v.ApprovedBy != "bob" {
		t.Fatalf("after approval: %s by %q", v.Status, v.ApprovedBy)
	}
	if strings.Contains(strings.ToLower(v.Body), "zuiderzee") {
		t.Fatal("acme's notice mentions another customer")
	}
}

func TestChangeSeverityAsksForAReason(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "lost-device", "Phone lost", classify.Answers{"encrypted": true})
	h.run(h.m.loadIncidents())
	target := "SEV1"
	if in.Severity == "SEV1" {
		target = "SEV2"
	}
	h.press("enter", first(h.m.keys.Severity))
	h.typeText(target)
	h.press("enter")
	if _, ok := h.m.overlay.(*inputOverlay); !ok {
		t.Fatal("choosing a severity should ask for the reason")
	}
	h.typeText("Unencrypted backup found on it")
	h.press("enter")
	if d := h.detail(t, in.ID); d.Incident.Severity != target {
		t.Fatalf("severity %s", d.Incident.Severity)
	}
}

func TestTypedTextSurvivesAFailedAction(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "lost-device", "Phone lost", classify.Answers{})
	h.run(h.m.loadIncidents())
	h.press("enter", first(h.m.keys.Tab3), first(h.m.keys.Skip))
	// Someone else closes the incident while the reason is being typed.
	if err := h.svc.Close(context.Background(), as("chen"), in.ID, "closed elsewhere"); err != nil {
		t.Fatal(err)
	}
	h.typeText("Vendor handles this")
	h.press("enter")
	o, ok := h.m.overlay.(*inputOverlay)
	if !ok || o.input.Value() != "Vendor handles this" || o.problem == "" {
		t.Fatalf("the refused reason should come back with the error; overlay %#v", h.m.overlay)
	}
	// esc with text asks once before discarding it.
	h.press("esc")
	if h.m.overlay == nil {
		t.Fatal("one esc discarded typed text")
	}
	h.press("esc")
	if h.m.overlay != nil {
		t.Fatal("a second esc should discard")
	}
}

func TestStatusLineIsStripped(t *testing.T) {
	h := newHarness(t)
	h.m.setStatus("Sent to Evil \x1b]0;PWN\x07 Corp", false)
	if strings.Contains(h.m.View().Content, "\x1b]0;PWN") {
		t.Fatal("a control sequence reached the status line")
	}
}

// as is a trusted local actor named name, as in local trust mode.
func as(name string) identity.Actor { return identity.Local(name, "tester") }

// drive feeds msg to m and runs what follows. A command still waiting
// after half a second (the wait for the next change) is left behind; the
// test's context ends it.
func drive(t *testing.T, m *Model, msg tea.Msg) {
	t.Helper()
	queue := []tea.Msg{msg}
	for len(queue) > 0 {
		msg, queue = queue[0], queue[1:]
		_, cmd := m.Update(msg)
		cmds := []tea.Cmd{cmd}
		for len(cmds) > 0 {
			c := cmds[0]
			cmds = cmds[1:]
			if c == nil {
				continue
			}
			switch next := runCmdWithin(c, 500*time.Millisecond).(type) {
			case tea.BatchMsg:
				cmds = append(cmds, next...)
			case nil, tickMsg, statusExpiredMsg:
			default:
				if !isRequest(next) {
					queue = append(queue, next)
				}
			}
		}
	}
}

// Two sessions in one process (as irtui serve runs them), each its own
// app with its own actor on shared services: a change one makes wakes the
// other at once, without waiting for a poll, and it reloads through the
// services as its own actor.
func TestSessionsInOneProcessSeeEachOthersChangesAtOnce(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deps := h.m.deps
	deps.Actor, deps.Poll, deps.Context = as("dana"), time.Hour, ctx
	other := New(deps)
	drive(t, other, other.poll()()) // the version it starts from

	wait := other.waitForChange()
	if wait == nil {
		t.Fatal("no wait for changes in this process")
	}
	woke := make(chan tea.Msg, 1)
	go func() { woke <- wait() }()
	select {
	case <-woke:
		t.Fatal("woke before any change")
	case <-time.After(50 * time.Millisecond):
	}
	in := h.declare(t, "lost-device", "Phone lost on the train", classify.Answers{})
	var msg tea.Msg
	select {
	case msg = <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("the other session was not woken by the change")
	}
	if _, ok := msg.(changedMsg); !ok {
		t.Fatalf("woke with %T", msg)
	}
	drive(t, other, msg)
	if len(other.list.rows) != 1 || other.list.rows[0].inc.ID != in.ID {
		t.Fatalf("the other session lists %d incidents", len(other.list.rows))
	}
	audit, _ := h.st.Audit(context.Background(), store.AuditFilter{})
	last := audit[len(audit)-1]
	if last.Actor != "dana" || (last.Action != "list" && last.Action != "directory_list") {
		t.Fatalf("the other session's reload was not audited as dana's read: %+v", last)
	}

	// Its own reads do not wake anyone or move the version.
	v1, _ := h.svc.Version(context.Background())
	changed := h.svc.Changed()
	drive(t, other, other.reload()())
	if v2, _ := h.svc.Version(context.Background()); v2 != v1 {
		t.Fatalf("reading moved the version %d -> %d", v1, v2)
	}
	select {
	case <-changed:
		t.Fatal("a read woke the sessions")
	default:
	}
	cancel()
	if msg := runCmdWithin(other.waitForChange(), time.Second); msg != nil {
		t.Fatalf("a finished session still waits: %T", msg)
	}
}

// runCmdWithin runs c, or gives up after d and returns nil.
func runCmdWithin(c tea.Cmd, d time.Duration) tea.Msg {
	done := make(chan tea.Msg, 1)
	go func() { done <- c() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(d):
		return nil
	}
}

// n pressed while the runbooks are still loading is not lost: the picker
// opens when they arrive.
func TestNewEventWhileRunbooksLoad(t *testing.T) {
	h := newHarness(t)
	h.m.lib = nil
	h.m.screen = screenList
	h.press(first(h.m.keys.New))
	if h.m.screen != screenList || !strings.Contains(h.m.status, "still loading") {
		t.Fatalf("screen %v, status %q", h.m.screen, h.m.status)
	}
	h.run(h.m.loadRunbooks())
	if h.m.screen != screenPicker {
		t.Fatalf("the picker did not open when the runbooks arrived (screen %v)", h.m.screen)
	}
}

// A notice written only to a file is shown as EXPORTED — not delivered
// everywhere, at every size: in the notifications pane, in the notice
// window and in the status line; recording the delivery (c) turns it into
// a delivered notice.
func TestExportedNoticeIsNeverShownAsSent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	in := h.declare(t, "personal-data-breach", "Customer export on a paste site",
		classify.Answers{"personal_data": true, "exposure": "disclosed", "customers_affected": true, "controller_data": true,
			"encrypted": false, "records": 40.0, "data_categories": []string{"contact"}}, "zuiderzee")
	if err := h.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "bob"); err != nil {
		t.Fatal(err)
	}
	var notice store.Notification
	list, _ := h.st.ListNotifications(ctx, store.NotificationFilter{IncidentID: in.ID})
	for _, n := range list {
		if n.CustomerID == "zuiderzee" {
			notice = n
		}
	}
	for _, f := range notice.Fields {
		if _, err := h.m.deps.Notify.SetContent(ctx, as("alice"), notice.ID, f.ID, "Tekst "+f.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.m.deps.Notify.Approve(ctx, as("bob"), notice.ID); err != nil {
		t.Fatal(err)
	}
	var progress []notify.Progress
	w := &notify.Worker{Store: h.st, Clock: h.clk, Settings: notify.Settings{ExportDir: t.TempDir()},
		Progress: func(p notify.Progress) { progress = append(progress, p) }}
	if _, err := w.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	var exported notify.Progress
	for _, p := range progress {
		if p.ID == notice.ID {
			exported = p
		}
	}
	if exported.Status != store.NoticeExported || !exported.Alert() {
		t.Fatalf("progress: %+v", exported)
	}
	h.run(h.m.loadIncidents())
	h.press("enter", first(h.m.keys.Tab5))
	for i, v := range h.m.detail.notices {
		if v.ID == notice.ID {
			h.m.detail.cursor[tabNotifications] = i
		}
	}
	for _, size := range [][2]int{{60, 20}, {80, 24}, {120, 40}, {200, 60}} {
		h.m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		h.m.Update(NotifyProgressMsg{Text: exported.String(), Alert: exported.Alert()})
		out := h.screen()
		row := ""
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, fmt.Sprintf("#%d ", notice.ID)) && !strings.Contains(line, "NOT DELIVERED:") {
				row = line
			}
		}
		if os.Getenv("IRTUI_SHOW") != "" {
			t.Logf("%dx%d:\n%s", size[0], size[1], out)
		}
		if !strings.Contains(row, notify.StateExported) || strings.Contains(row, " sent") {
			t.Errorf("%dx%d: the notice's row reads %q", size[0], size[1], row)
		}
		if !strings.Contains(out, "EXPORTED, NOT DELIVERED") {
			t.Errorf("%dx%d: the status line does not say it was not delivered:\n%s", size[0], size[1], out)
		}
		h.press("enter")
		window := h.screen()
		if !strings.Contains(window, notify.StateExported) || !strings.Contains(window, "Nobody has received it") {
			t.Errorf("%dx%d: the notice window:\n%s", size[0], size[1], window)
		}
		h.press("esc")
	}
	h.m.deps.Actor = as("bob")
	h.press(first(h.m.keys.Delivered), "enter")
	if h.m.statusErr {
		t.Fatalf("recording the delivery failed: %s", h.m.status)
	}
	v, err := h.m.deps.Notify.Get(ctx, as("bob"), notice.ID)
	if err != nil || !v.Delivered || v.ConfirmedBy != "bob" || v.Status != store.NoticeSent {
		t.Fatalf("after c: %+v %v", v, err)
	}
	if out := h.screen(); !strings.Contains(out, "delivered (recorded by bob)") {
		t.Errorf("after c the pane shows:\n%s", out)
	}
	// The only affected customer's notice is delivered: the customer
	// notice clock has stopped.
	d := h.detail(t, in.ID)
	met := false
	for _, e := range d.Obligations {
		met = met || e.ObligationID == "customer-notice" && e.Kind == store.ObligationSubmitted
	}
	if !met {
		t.Error("the customer-notice obligation was not met by the delivered notice")
	}
}

// NO_COLOR comes with the session (Deps.NoColor), never from the
// process's environment: irtui serve runs sessions that differ.
func TestStepInstructionsFollowTheSessionsNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "") // the process asks for colour; a session may not
	h := newHarness(t)
	in := h.declare(t, "leaked-credentials", "Key in a public repository", classify.Answers{})
	h.run(h.m.loadDetail(in.ID, true))
	var st store.Step
	for _, s := range h.detail(t, in.ID).Steps {
		if s.ID == "identify-secret" { // its instructions hold code, drawn in colour
			st = s
		}
	}
	coloured := h.m.detail.stepBody(h.m, st, 80)
	if !strings.Contains(coloured, "\x1b[") {
		t.Fatalf("the step's instructions have no styling to begin with: %q", coloured)
	}
	h.m.deps.NoColor = true
	h.m.detail.bodies = map[string]string{}
	plain := h.m.detail.stepBody(h.m, st, 80)
	if strings.Contains(plain, "\x1b[") || ansi.Strip(coloured) == "" {
		t.Fatalf("with NO_COLOR the instructions are still styled: %q", plain)
	}
}

// Changes that come while a reload is in flight cost one more reload,
// not one each: in irtui serve every session reloads on every change, and
// each reload is audited reads.
func TestChangesDuringAReloadCostOneMoreReload(t *testing.T) {
	h := newHarness(t)
	lists := func() int {
		a, err := h.st.Audit(context.Background(), store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range a {
			if e.Action == "list" {
				n++
			}
		}
		return n
	}
	before := lists()
	h.m.version = 1
	_, first := h.m.Update(versionMsg{version: 2})
	_, second := h.m.Update(versionMsg{version: 3})
	_, third := h.m.Update(versionMsg{version: 4})
	if first == nil || second != nil || third != nil {
		t.Fatalf("reloads started: %v %v %v", first != nil, second != nil, third != nil)
	}
	h.run(first) // the reload, and the one more it sets off when it is in
	if got := lists() - before; got != 2 {
		t.Fatalf("%d list reads for three changes during a reload, want 2", got)
	}
	if h.m.reloading || h.m.reloadAgain {
		t.Fatal("a reload is still marked in flight")
	}
}

// The list keeps each row's drawn line and draws it again only when what
// it shows changed: its age, the cursor, the width, the palette, or the
// rows themselves.
func TestListRowsRedrawWhenWhatTheyShowChanges(t *testing.T) {
	h := newHarness(t)
	h.declare(t, "lost-device", "Phone lost", classify.Answers{})
	h.declare(t, "lost-device", "Tablet lost", classify.Answers{})
	h.run(h.m.loadIncidents())
	before := h.screen()
	if again := h.screen(); again != before || !strings.Contains(before, "Tablet lost") {
		t.Fatalf("the same list drew differently:\n%s\n---\n%s", before, again)
	}
	line := func(title string) string {
		for _, l := range strings.Split(h.screen(), "\n") {
			if strings.Contains(l, title) {
				return l
			}
		}
		return ""
	}
	if !strings.Contains(line("Phone lost"), " 0m ") {
		t.Fatalf("age: %q", line("Phone lost"))
	}
	h.clk.Advance(3 * time.Hour)
	h.m.Update(tickMsg(h.clk.Now()))
	if !strings.Contains(line("Phone lost"), " 3h ") {
		t.Fatalf("the age did not move: %q", line("Phone lost"))
	}
	h.press("j")
	if !strings.HasPrefix(strings.TrimSpace(line("Phone lost")), "›") || strings.HasPrefix(strings.TrimSpace(line("Tablet lost")), "›") {
		t.Fatalf("the cursor did not move:\n%s", h.screen())
	}
	h.m.Update(tea.WindowSizeMsg{Width: 90, Height: 30})
	if w := len([]rune(line("Tablet lost"))); w > 90 {
		t.Fatalf("a row is %d wide in 90 columns", w)
	}
	h.declare(t, "lost-device", "Laptop lost", classify.Answers{})
	h.run(h.m.loadIncidents())
	if line("Laptop lost") == "" {
		t.Fatalf("a new row is missing:\n%s", h.screen())
	}
}

// The case, in the model: the database file is deleted while the
// app runs; a note is refused, the note comes back to the input, and the
// screen says, and keeps saying, that the last action may not be saved.
func TestDeletedDatabaseKeepsAnAlertOnScreen(t *testing.T) {
	h := newHarness(t)
	h.declare(t, "lost-device", "Phone lost", classify.Answers{})
	h.run(h.m.loadIncidents())
	h.press("enter")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(h.path + suffix)
	}
	h.press(first(h.m.keys.Note))
	h.typeText("after the delete")
	h.press("enter")
	screen := h.screen()
	if !strings.Contains(screen, "Your last action may not be saved") || strings.Contains(screen, "Note added") {
		t.Fatalf("screen after a note into a deleted file:\n%s", screen)
	}
	// A later status message does not replace the alert.
	h.m.Update(statusMsg{text: "something else"})
	if !strings.Contains(h.screen(), "Your last action may not be saved") {
		t.Fatal("the alert went away")
	}
	// A record alert from the checkpoint schedule shows the same way.
	h2 := newHarness(t)
	h2.m.Update(RecordAlertMsg{Text: "the database file was deleted"})
	if !strings.Contains(h2.screen(), "the database file was deleted") {
		t.Fatal("record alert not shown")
	}
}

// TestOverridesAreRefusedBeforeTheReason: reopening and lowering the
// severity override the incident's process; someone who may not do that
// is told so at once, before typing a reason, and the refusal is audited.
func TestOverridesAreRefusedBeforeTheReason(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "lost-device", "Phone lost", classify.Answers{"encrypted": false})
	lower := "SEV4"
	if in.Severity == lower {
		t.Fatalf("the test needs an incident above %s; got %s", lower, in.Severity)
	}
	h.run(h.m.loadIncidents())
	h.m.deps.Actor = as("bob") // neither commander nor allowed to override
	h.press("enter", first(h.m.keys.Severity))
	h.typeText(lower)
	h.press("enter")
	if !h.m.statusErr || h.m.overlay != nil || !strings.Contains(h.m.status, "override") {
		t.Fatalf("bob must be refused before a reason is asked; status %q, overlay %T", h.m.status, h.m.overlay)
	}
	if d := h.detail(t, in.ID); d.Incident.Severity != in.Severity {
		t.Fatalf("severity changed to %s", d.Incident.Severity)
	}
	if err := h.svc.Close(context.Background(), as("alice"), in.ID, "test: closed"); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.reload())
	h.press(first(h.m.keys.Reopen))
	if !h.m.statusErr || h.m.overlay != nil || !strings.Contains(h.m.status, "reopen") {
		t.Fatalf("bob must be refused before a reason is asked; status %q, overlay %T", h.m.status, h.m.overlay)
	}
	entries, err := h.st.Audit(context.Background(), store.AuditFilter{IncidentID: in.ID})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range entries {
		if e.Action == "override_check" && e.Outcome == store.OutcomeRefused && e.Actor == "bob" {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("want 2 audited refusals of bob's override checks, got %d of %d entries", refused, len(entries))
	}
	// Alice, who may, is asked for the reason, and reopens.
	h.m.deps.Actor = as("alice")
	h.press(first(h.m.keys.Reopen))
	if _, ok := h.m.overlay.(*inputOverlay); !ok {
		t.Fatalf("alice should be asked why; status %q, overlay %T", h.m.status, h.m.overlay)
	}
	h.typeText("The phone was found unlocked")
	h.press("enter")
	if d := h.detail(t, in.ID); d.Incident.Status != store.StatusOpen {
		t.Fatalf("not reopened: %s (status %q)", d.Incident.Status, h.m.status)
	}
}

// D pressed while the runbooks and scenarios are still loading is not
// lost either: the drills open when they arrive.
func TestDrillWhileScenariosLoad(t *testing.T) {
	h := newHarness(t)
	h.m.lib, h.m.scenarios = nil, nil
	h.m.screen = screenList
	h.press(first(h.m.keys.Drill))
	if h.m.overlay != nil || !strings.Contains(h.m.status, "still loading") {
		t.Fatalf("overlay %T, status %q", h.m.overlay, h.m.status)
	}
	h.run(h.m.loadRunbooks())
	if h.m.scenarios == nil {
		t.Fatal("the scenarios were not loaded after the runbooks")
	}
	if !strings.Contains(h.screen(), "Start a table-top drill") {
		t.Fatalf("the drills did not open when the scenarios arrived:\n%s", h.screen())
	}
}
