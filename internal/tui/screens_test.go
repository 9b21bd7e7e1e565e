package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/store"
)

// referenceAnswers are the reference case of issue 14: a customer-database
// export on a paste site, about 12,000 people, all of it customers' data.
var referenceAnswers = classify.Answers{"personal_data": true, "exposure": "published",
	"data_categories": []string{"contact", "identifiers"}, "records": 12000.0, "encrypted": false,
	"customers_affected": true, "controller_data": false}

// sizes are the terminal sizes every screen is drawn at; golden files are
// kept for the first three.
var sizes = [][2]int{{60, 20}, {80, 24}, {120, 40}, {200, 60}}

// screen is one state of the app to draw: how to get there from the
// incident list.
type screenCase struct {
	name  string
	enter func(h *harness)
}

// referenceIncident declares the reference case through the service, as
// alice, with a note, a step done and a commander, and a day passed.
func referenceIncident(t *testing.T, h *harness) incident.Incident {
	t.Helper()
	in := h.declare(t, "personal-data-breach", "Customer database export on a paste site", referenceAnswers,
		"acme", "zuiderzee", "northwind")
	ctx := context.Background()
	h.declare(t, "ddos", "Storefront slow", classify.Answers{"functional_impact": "low"})
	h.declare(t, "lost-device", "Phone found again", classify.Answers{"status": "found"})
	if err := h.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.AddNote(ctx, as("alice"), in.ID, "The host removed the paste at 10:42; we keep a copy of it as "+
		"evidence in the case file, with the headers of the page and the hash of the export, for the regulator."); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.CompleteStep(ctx, as("bob"), in.ID, "record-awareness", ""); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(71*time.Hour + 59*time.Minute - 72*time.Hour + 23*time.Hour) // nearly a day
	h.m.now = h.clk.Now()
	return in
}

func (h *harness) openIncident(id string, tb tab) {
	h.m.overlay, h.m.triage, h.m.composer = nil, nil, nil
	h.run(h.m.loadDetail(id, true))
	h.m.screen = screenIncident
	h.m.detail.tab = tb
}

func screenCases(t *testing.T, in incident.Incident) []screenCase {
	return []screenCase{
		{"list", func(h *harness) { h.m.screen = screenList; h.run(h.m.loadIncidents()) }},
		{"picker", func(h *harness) { h.m.screen = screenList; h.press("n"); h.typeText("pers") }},
		{"triage", func(h *harness) {
			h.m.screen = screenList
			h.press("n")
			h.typeText("pers")
			h.press("enter")
			h.typeText("Customer database export on a paste site")
			h.press("enter", "enter", "y", "5") // to the kinds of data
		}},
		{"triage-customers", func(h *harness) {
			h.m.screen = screenList
			h.press("n")
			h.typeText("pers")
			h.press("enter")
			h.press("ctrl+e")
			h.typeText("zui")
			h.press("space")
		}},
		{"overview", func(h *harness) { h.openIncident(in.ID, tabOverview) }},
		{"roles", func(h *harness) { h.openIncident(in.ID, tabRoles) }},
		{"runbook", func(h *harness) { h.openIncident(in.ID, tabRunbook) }},
		{"timeline", func(h *harness) { h.openIncident(in.ID, tabTimeline) }},
		{"notifications", func(h *harness) { h.openIncident(in.ID, tabNotifications) }},
		{"composer", func(h *harness) { h.openIncident(in.ID, tabOverview); h.press("w") }},
		{"help", func(h *harness) { h.openIncident(in.ID, tabOverview); h.press("?") }},
		{"notice", func(h *harness) {
			h.openIncident(in.ID, tabNotifications)
			h.m.detail.cursor[tabNotifications] = 1
			h.press("enter")
		}},
		{"timeline-entry", func(h *harness) {
			h.openIncident(in.ID, tabTimeline)
			for i, e := range h.m.detail.d.Timeline {
				if e.Kind == "note" {
					h.m.detail.cursor[tabTimeline] = i
				}
			}
			h.press("enter")
		}},
		{"close", func(h *harness) { h.openIncident(in.ID, tabOverview); h.press("C") }},
		{"reassess", func(h *harness) { h.openIncident(in.ID, tabOverview); h.press("T") }},
		{"anchor", func(h *harness) { h.openIncident(in.ID, tabOverview); h.press("t") }},
		{"drill", func(h *harness) {
			h.m.screen = screenList
			started := h.m.drill != nil
			h.press("D")
			if !started {
				h.typeText("ransomware")
				h.press("enter") // the briefing
				h.press("enter") // the pace
				h.typeText("inject by inject")
				h.press("enter", "n")
			}
		}},
		{"drill-briefing", func(h *harness) { h.m.screen = screenList; h.press("D", "b") }},
		// The drill's triage is marked EXERCISE in the triage form.
		{"drill-triage", func(h *harness) {
			h.m.screen = screenList
			h.press("D", "t")
			h.typeText("FS-02 encrypted")
		}},
		// x on the list shows the drill incidents, apart from the real ones.
		{"drill-list", func(h *harness) {
			if h.m.drill.run.IncidentID() == "" {
				if _, err := h.m.drill.run.DeclareAnswers(context.Background(), as("alice"), "FS-02 encrypted",
					classify.Answers{"observed": "encryption"}, nil, time.Time{}); err != nil {
					t.Fatal(err)
				}
			}
			h.m.screen, h.m.list.drills = screenList, false
			h.run(h.m.loadIncidents())
			h.press("x")
		}},
	}
}

// TestEveryScreenGoldenAndFits draws every screen at 60×20, 80×24,
// 120×40 and 200×60: each fills the terminal exactly and no line is wider
// than it; the first three sizes are golden files (go test -update
// refreshes them).
func TestEveryScreenGoldenAndFits(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	for _, sc := range screenCases(t, in) {
		for _, size := range sizes {
			h.m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			h.m.overlay, h.m.triage, h.m.composer, h.m.status = nil, nil, nil, ""
			sc.enter(h)
			h.m.status = "" // the status line holds what the last action said
			out := h.screen()
			checkFits(t, sc.name, size, h.m.View().Content)
			if size[0] < 200 {
				golden(t, filepath.Join("testdata", "golden", fmt.Sprintf("%s-%dx%d.golden", sc.name, size[0], size[1])), out)
			}
		}
	}
}

func checkFits(t *testing.T, name string, size [2]int, content string) {
	t.Helper()
	lines := strings.Split(content, "\n")
	if len(lines) != size[1] {
		t.Errorf("%s at %dx%d: %d lines", name, size[0], size[1], len(lines))
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > size[0] {
			t.Errorf("%s at %dx%d: line %d is %d wide: %q", name, size[0], size[1], i, w, l)
			return
		}
	}
}

// An open window is laid out again when the terminal changes size, and
// still fits.
func TestOverlaysRelayOutOnResize(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	for _, sc := range screenCases(t, in) {
		h.m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
		h.m.overlay, h.m.triage, h.m.composer = nil, nil, nil
		sc.enter(h)
		for _, size := range [][2]int{{60, 20}, {120, 40}, {80, 24}} {
			h.m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			checkFits(t, sc.name+" after a resize", size, h.m.View().Content)
		}
	}
}

// The help, a notice and a timeline entry scroll: at 80×24 the end of
// each is reachable.
func TestLongTextScrolls(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	h.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.openIncident(in.ID, tabOverview)
	h.press("?")
	if strings.Contains(h.screen(), "close incident") {
		t.Fatalf("the whole help fits at 80×24; this test needs one that does not:\n%s", h.screen())
	}
	for i := 0; i < 40 && !strings.Contains(h.screen(), "close incident"); i++ {
		h.press("down")
	}
	if !strings.Contains(h.screen(), "close incident") || !strings.Contains(h.screen(), "lines") {
		t.Errorf("the end of the help is not reachable:\n%s", h.screen())
	}
	h.press("esc")

	// A notice, to its last line.
	h.m.detail.tab = tabNotifications
	h.m.detail.cursor[tabNotifications] = 1
	h.press("enter")
	v := h.m.detail.notices[1]
	last := lastLine(v.Body)
	for i := 0; i < 60 && !strings.Contains(h.screen(), last); i++ {
		h.press("down")
	}
	if !strings.Contains(h.screen(), last) {
		t.Errorf("the notice's last line %q is not reachable:\n%s", last, h.screen())
	}
	h.press("esc")

	// A timeline entry in full, where the row cuts it.
	h.m.detail.tab = tabTimeline
	for i, e := range h.m.detail.d.Timeline {
		if e.Kind == "note" {
			h.m.detail.cursor[tabTimeline] = i
		}
	}
	if strings.Contains(h.screen(), "for the regulator") {
		t.Fatal("the note fits its row at 80 columns; make it longer")
	}
	h.press("enter")
	for i := 0; i < 20 && !strings.Contains(h.screen(), "regulator"); i++ {
		h.press("down")
	}
	if !strings.Contains(h.screen(), "regulator") {
		t.Errorf("the entry's end is not reachable:\n%s", h.screen())
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func TestPickerRanksByTitleWords(t *testing.T) {
	h := newHarness(t)
	for q, want := range map[string]string{
		"pers": "personal-data-breach", "personal data": "personal-data-breach", "ransom": "ransomware",
		"lost": "lost-device", "by pers": "insider-access", "ddos": "ddos",
	} {
		h.m.screen = screenList
		h.press("n")
		h.typeText(q)
		if vis := h.m.picker.visible(); len(vis) == 0 || vis[0].ID != want {
			got := "nothing"
			if len(vis) > 0 {
				got = vis[0].ID
			}
			t.Errorf("%q puts %s first, want %s", q, got, want)
		}
		h.press("esc")
	}
}

// Every option of every question of every bundled runbook is on screen
// when the question has the focus, at 80×24 and larger; at 60×20 the
// options scroll with the highlighted one in view.
func TestEveryOptionIsVisible(t *testing.T) {
	h := newHarness(t)
	for _, rb := range h.lib.Runbooks {
		for _, size := range sizes {
			h.m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			h.m.overlay, h.m.screen = nil, screenList
			h.run(h.m.startTriage(rb))
			tr := h.m.triage
			fw := size[0]
			if fw >= 100 {
				fw = fw/2 - 1
			}
			for i, f := range tr.fields {
				opts := f.options(tr, h.m)
				if len(opts) == 0 {
					continue
				}
				h.run(tr.focusField(i))
				for c := range opts {
					f.cursor = c
					scr := h.screen()
					if !strings.Contains(scr, firstWords(opts[c].label, fw-8)) {
						t.Errorf("%s %s at %dx%d: option %q is not on screen with the cursor on it:\n%s",
							rb.ID, f.q.ID, size[0], size[1], opts[c].label, scr)
						break
					}
					if size[1] >= 24 && c == 0 {
						for _, o := range opts {
							if !strings.Contains(scr, firstWords(o.label, fw-8)) {
								t.Errorf("%s %s at %dx%d: option %q is not on screen:\n%s", rb.ID, f.q.ID, size[0], size[1], o.label, scr)
							}
						}
					}
				}
				f.cursor = 0
			}
		}
	}
}

// firstWords is the start of a label that fits in w columns, cut at a
// word, as wrapping shows it on its first line.
func firstWords(s string, w int) string {
	s = clean(s)
	if len(s) <= w {
		return s
	}
	cut := strings.LastIndex(s[:w], " ")
	if cut <= 0 {
		return s[:w]
	}
	return s[:cut]
}

func TestTriageNumbersAndErrorsBesideTheField(t *testing.T) {
	h := newHarness(t)
	h.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.press("n")
	h.typeText("pers")
	h.press("enter")
	tr := h.m.triage
	idx := -1
	for i, f := range tr.fields {
		if f.kind == fieldQuestion && f.q.ID == "records" {
			idx = i
		}
	}
	for in, want := range map[string]float64{"12000": 12000, "12,000": 12000, "12k": 12000, "~12000": 12000} {
		h.run(tr.focusField(idx))
		tr.fields[idx].input.SetValue("")
		h.typeText(in)
		if got := tr.answers()["records"]; got != want {
			t.Errorf("%q: records = %v, want %v", in, got, want)
		}
	}
	h.run(tr.focusField(idx))
	tr.fields[idx].input.SetValue("")
	h.typeText("12.000")
	h.press("enter")
	if tr.focus != idx {
		t.Fatal("enter went past a number that is not one")
	}
	var row string
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, "> 12.000") {
			row = l
		}
	}
	if !strings.Contains(row, "ambiguous") && !strings.Contains(h.screen(), "✗") {
		t.Errorf("the error is not beside the field:\n%s", h.screen())
	}
	if _, ok := tr.answers()["records"]; ok {
		t.Error("an ambiguous number was taken")
	}
}

// The verdict's deadlines are on screen at 80×24 before declaring, by
// their human names, and numbers as people write them.
func TestTriageShowsDeadlinesAt80x24(t *testing.T) {
	h := newHarness(t)
	h.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.press("n")
	h.typeText("pers")
	h.press("enter")
	scr := h.screen()
	for _, want := range []string{"⏱ Notice to the customers", "in 1d", "⏱ GDPR", "INCIDENT"} {
		if !strings.Contains(scr, want) {
			t.Errorf("the triage at 80×24 lacks %q:\n%s", want, scr)
		}
	}
	if strings.Contains(scr, "customer-notice") || strings.Contains(scr, "e+0") {
		t.Errorf("an id or a number in e-notation on screen:\n%s", scr)
	}
	h.press("ctrl+o")
	for i := 0; i < 100 && !strings.Contains(h.screen(), "1,000,000"); i++ {
		h.press("down")
	}
	if v := h.screen(); !strings.Contains(v, "1,000,000") || strings.Contains(v, "1e+06") {
		t.Errorf("the verdict in full:\n%s", v)
	}
}

func TestCustomerPickerFiltersAndShowsSelection(t *testing.T) {
	h := newHarness(t)
	h.press("n")
	h.typeText("pers")
	h.press("enter", "ctrl+e")
	tr := h.m.triage
	if tr.focused().kind != fieldCustomers {
		t.Fatalf("ctrl+e should go to the customers, focus %d", tr.focus)
	}
	h.typeText("zui")
	if opts := tr.focused().options(tr, h.m); len(opts) != 1 || opts[0].value != "zuiderzee" {
		t.Fatalf("filter: %+v", opts)
	}
	h.press("space")
	if !strings.Contains(h.screen(), "Selected (1): zuiderzee") {
		t.Errorf("the selection is not shown:\n%s", h.screen())
	}
	for range 3 {
		h.press("backspace")
	}
	h.press("1", "2")
	if got := strings.Join(tr.focused().multi, ","); got != "zuiderzee,acme,northwind" {
		t.Errorf("selected %s", got)
	}
}

// After declaring, T answers the triage again; the incident follows.
func TestReassessFromTheApp(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "personal-data-breach", "Export", classify.Answers{"personal_data": true, "exposure": "disclosed",
		"encrypted": true, "customers_affected": false, "controller_data": true, "records": 40.0})
	h.openIncident(in.ID, tabOverview)
	h.press("T")
	tr := h.m.triage
	if h.m.screen != screenTriage || tr == nil || tr.mode != modeReassess {
		t.Fatalf("T did not open the re-assessment (status %q)", h.m.status)
	}
	if tr.question("records").input.Value() != "40" || tr.question("encrypted").sel != "yes" {
		t.Fatalf("the stored answers are not filled in")
	}
	// Misuse confirmed: the data was not encrypted after all.
	h.run(tr.focusField(slices_index(tr, "encrypted")))
	h.press("n")
	h.press("ctrl+e")
	h.typeText("the bank confirmed misuse")
	h.press("enter")
	d := h.detail(t, in.ID)
	if d.Incident.Answers["encrypted"] != false {
		t.Fatalf("answers: %+v (status %q)", d.Incident.Answers, h.m.status)
	}
	last := ""
	for _, e := range d.Timeline {
		if e.Kind == "reassessed" {
			last = e.Summary
		}
	}
	if !strings.Contains(last, "the bank confirmed misuse") {
		t.Fatalf("no re-assessment entry with the reason: %q", last)
	}
	if h.m.screen != screenIncident {
		t.Errorf("after re-assessing, screen %d", h.m.screen)
	}
}

func slices_index(tr *triageModel, id string) int {
	for i, f := range tr.fields {
		if f.kind == fieldQuestion && f.q.ID == id {
			return i
		}
	}
	return -1
}

func TestLinkAndUnlinkCustomersFromTheApp(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	h.openIncident(in.ID, tabOverview)
	h.press("L")
	if _, ok := h.m.overlay.(*choiceOverlay); !ok {
		t.Fatal("L should offer the customers")
	}
	h.typeText("zuid")
	h.press("enter")
	if _, ok := h.m.overlay.(*inputOverlay); !ok {
		t.Fatal("unlinking should ask why")
	}
	h.typeText("their tenant was not in the export")
	h.press("enter")
	d := h.detail(t, in.ID)
	if len(d.Customers) != 2 {
		t.Fatalf("customers: %+v (status %q)", d.Customers, h.m.status)
	}
	list, _ := h.st.ListNotifications(context.Background(), store.NotificationFilter{IncidentID: in.ID})
	for _, n := range list {
		if n.CustomerID == "zuiderzee" && n.Status != store.NoticeWithdrawn {
			t.Errorf("zuiderzee's draft is %s", n.Status)
		}
	}
	h.press("L")
	h.typeText("zuid")
	h.press("enter")
	if d := h.detail(t, in.ID); len(d.Customers) != 3 {
		t.Fatalf("linking again: %+v", d.Customers)
	}
}

// The composer: the English facts written once reach acme and northwind,
// the Dutch ones zuiderzee; enter goes on to the next field to write.
func TestComposerWritesEachFactOncePerLanguage(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	h.openIncident(in.ID, tabOverview)
	h.press("w")
	cm := h.m.composer
	if h.m.screen != screenComposer || cm == nil || !cm.editing {
		t.Fatalf("w did not open the composer (status %q)", h.m.status)
	}
	if !strings.Contains(h.screen(), "write these in Dutch") {
		t.Errorf("the Dutch fields are not marked:\n%s", h.screen())
	}
	var seen []string
	for i := 0; i < 10 && cm.editing; i++ {
		r := cm.rows[cm.idx]
		seen = append(seen, cm.group(r).Language+":"+cm.field(r).ID)
		if cm.input.Value() == "" {
			h.typeText("Text " + cm.group(r).Language + " " + cm.field(r).ID)
		}
		h.press("enter")
	}
	if len(seen) != 10 || seen[0] != "en:what_happened" || seen[5] != "nl:what_happened" {
		t.Fatalf("the fields were visited in this order: %v", seen)
	}
	list, _ := h.st.ListNotifications(context.Background(), store.NotificationFilter{IncidentID: in.ID})
	for _, n := range list {
		if n.Audience != "customers" {
			continue
		}
		want := "Text en measures"
		if n.CustomerID == "zuiderzee" {
			want = "Text nl measures"
		}
		if n.Content["measures"] != want || n.ContentBy["measures"] != "alice" {
			t.Errorf("%s: measures %q by %q", n.CustomerID, n.Content["measures"], n.ContentBy["measures"])
		}
		if n.CustomerID != "zuiderzee" && !strings.Contains(n.Content["data_involved"], "12,000 people") {
			t.Errorf("%s: the suggestion was not kept: %q", n.CustomerID, n.Content["data_involved"])
		}
	}
	if !strings.Contains(h.screen(), "Ready for approval: 3 of 3") {
		t.Errorf("composer after writing everything:\n%s", h.screen())
	}
}

// Closing names what is still open and asks a reason; someone who may not
// close over it is told so before typing one.
func TestCloseNamesWhatIsOpen(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	h.m.deps.Actor = as("bob") // neither commander nor override
	h.openIncident(in.ID, tabOverview)
	h.press("C")
	if h.m.overlay != nil || !h.m.statusErr || !strings.Contains(h.m.status, "override") {
		t.Fatalf("bob was asked for a reason he cannot give; status %q, overlay %T", h.m.status, h.m.overlay)
	}
	h.m.deps.Actor = as("alice")
	h.press("C")
	if _, ok := h.m.overlay.(*inputOverlay); !ok {
		t.Fatalf("no reason asked; status %q", h.m.status)
	}
	scr := h.screen()
	for _, want := range []string{"clock still running: Notice to the customers", "notice not sent", "required step(s) still open"} {
		if !strings.Contains(strings.ReplaceAll(scr, "\n", " "), want) && !strings.Contains(joinOverlay(h), want) {
			t.Errorf("the close question lacks %q:\n%s", want, scr)
		}
	}
	h.typeText("handled by the customers themselves")
	h.press("enter")
	if d := h.detail(t, in.ID); d.Incident.Status != store.StatusClosed {
		t.Fatalf("not closed: %q", h.m.status)
	}
}

func joinOverlay(h *harness) string {
	if in, ok := h.m.overlay.(*inputOverlay); ok {
		return in.detail
	}
	return ""
}

// A day and 23 h 59 m is "1d 23h", never "2d".
func TestDurationsRoundDown(t *testing.T) {
	h := newHarness(t)
	in := h.declare(t, "personal-data-breach", "Export", referenceAnswers, "acme")
	h.clk.Advance(time.Minute) // 71 h 59 m left on a 72 h clock
	h.m.now = h.clk.Now()
	h.openIncident(in.ID, tabOverview)
	if scr := h.screen(); !strings.Contains(scr, "in 2d 23h") || strings.Contains(scr, "in 3d") {
		t.Errorf("clocks:\n%s", scr)
	}
}

// A palette chosen by the user (--theme, ui.theme, COLORFGBG) is not
// overridden by the terminal's answer to the background query.
func TestChosenPaletteStays(t *testing.T) {
	h := newHarness(t)
	light := false
	h.m.deps.Dark = &light
	h.m.styles = NewStyles(false)
	h.m.Update(tea.BackgroundColorMsg{})
	if h.m.styles.Dark {
		t.Error("the terminal's answer replaced the chosen light palette")
	}
}

func TestAnchorFromTheApp(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	h.openIncident(in.ID, tabOverview)
	h.press("t")
	h.typeText("discovered")
	h.press("enter")
	in2, ok := h.m.overlay.(*inputOverlay)
	if !ok {
		t.Fatalf("no time asked; overlay %T", h.m.overlay)
	}
	in2.input.SetValue(h.clk.Now().Add(-2 * time.Hour).Format("2006-01-02 15:04"))
	h.press("enter")
	h.typeText("the SOC's first alert")
	h.press("enter")
	d := h.detail(t, in.ID)
	found := false
	for _, e := range d.Timeline {
		found = found || e.Kind == "anchor_recorded" && strings.Contains(e.Summary, "discovered")
	}
	if !found {
		t.Fatalf("no anchor recorded; status %q", h.m.status)
	}
}

// Notices approved as dana, the DPO: P asks the service first, then shows
// each notice and what approving it will do, then approves each.
func TestApproveReadyNoticesInOneStep(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	ctx := context.Background()
	// dana has the incident open while the notices are still to be
	// written; they are written meanwhile (by eli) and P, pressed before
	// her view is read again, acts on the notices as they are now.
	h.m.deps.Actor = as("dana")
	h.openIncident(in.ID, tabOverview)
	if _, why := readyDrafts(h.m.detail.notices); len(why) == 0 {
		t.Fatal("the incident view should hold drafts still to be written")
	}
	list, _ := h.st.ListNotifications(ctx, store.NotificationFilter{IncidentID: in.ID})
	for _, n := range list {
		if n.Audience != "customers" {
			continue
		}
		for _, f := range n.Fields {
			if _, err := h.m.deps.Notify.SetContent(ctx, as("eli"), n.ID, f.ID, "Text for "+f.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.press("P")
	c, ok := h.m.overlay.(*confirmOverlay)
	if !ok {
		t.Fatalf("no confirmation; status %q", h.m.status)
	}
	if !strings.Contains(c.prompt, "Approve these 3 notices?") || !strings.Contains(c.prompt, notify.StateExported[:8]) &&
		!strings.Contains(c.prompt, "EXPORTED") {
		t.Errorf("the question:\n%s", c.prompt)
	}
	h.press("y")
	list, _ = h.st.ListNotifications(ctx, store.NotificationFilter{IncidentID: in.ID})
	for _, n := range list {
		if n.Audience == "customers" && n.ApprovedBy != "dana" {
			t.Errorf("#%d approved by %q (status %q)", n.ID, n.ApprovedBy, h.m.status)
		}
	}
}
