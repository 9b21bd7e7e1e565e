package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/tabletop"
)

// startDrill starts a drill of a bundled scenario as the app's deps would,
// with T+0 weeks before the harness's wall clock.
func (h *harness) startDrill(t *testing.T, id string, opts tabletop.Options) *tabletop.Run {
	t.Helper()
	sc, ok := h.m.deps.Scenarios(h.lib).Get(id)
	if !ok {
		t.Fatalf("no scenario %s", id)
	}
	if opts.Epoch.IsZero() {
		opts.Epoch = h.clk.Now().Add(-21 * 24 * time.Hour)
	}
	run, err := tabletop.Start(context.Background(), h.m.deps.Drills(h.lib), sc, as("alice"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// Drill incidents are kept out of the real incident list; x shows them,
// alone, marked EXERCISE, with their deadlines on the drill clock (weeks
// behind the wall clock, where they would all be overdue).
func TestDrillIncidentsAreAbsentFromTheRealList(t *testing.T) {
	h := newHarness(t)
	real := h.declare(t, "ransomware", "Encrypted share", classify.Answers{"observed": "encryption"})
	run := h.startDrill(t, "ransomware-friday-night", tabletop.Options{Speed: 1})
	drill, err := run.DeclareAnswers(context.Background(), as("alice"), "Encrypted in the drill",
		classify.Answers{"observed": "encryption", "data_types": []string{"personal"}}, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadIncidents())
	out := h.screen()
	if !strings.Contains(out, real.ID) || strings.Contains(out, drill.ID) || strings.Contains(out, "DRILL") {
		t.Fatalf("the real list shows the drill (or not the real incident):\n%s", out)
	}
	h.press(first(h.m.keys.Drills))
	out = h.screen()
	if strings.Contains(out, real.ID) || !strings.Contains(out, drill.ID) || !strings.Contains(out, "EXERCISE") {
		t.Fatalf("the drill list:\n%s", out)
	}
	if strings.Contains(out, "OVERDUE") || strings.Contains(out, "ESCALATED") {
		t.Fatalf("the drill's deadlines were read on the wall clock:\n%s", out)
	}
	// Finishing the run closes its incident: the open drill list is empty.
	if err := run.Finish(context.Background(), as("alice")); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadIncidents())
	if out := h.screen(); strings.Contains(out, drill.ID) {
		t.Fatalf("the finished drill's incident is still open:\n%s", out)
	}
	h.press(first(h.m.keys.Drills))
	if out := h.screen(); !strings.Contains(out, real.ID) {
		t.Fatalf("x goes back to the real incidents:\n%s", out)
	}
}

// TestFacilitatorRunsADrill plays a whole session from the app alone:
// the scenario picked by a filter, the briefing, inject by inject, the
// triage of the drill incident (EXERCISE, back to the drill after), the
// speed, a jump, marks and ratings with notes, an observation about an
// objective, the hot wash with a root cause, an action item whose owner
// comes from the directory, feedback, finish, and the report in the app.
func TestFacilitatorRunsADrill(t *testing.T) {
	h := newHarness(t)
	dk := drillKeys
	h.press(first(h.m.keys.Drill))
	if _, ok := h.m.overlay.(*choiceOverlay); !ok {
		t.Fatalf("D should offer the scenarios (status %q)", h.m.status)
	}
	// "cust" picks the customer data scenario, not the BEC one that merely
	// has c, u, s and t in it.
	h.typeText("cust")
	h.press("enter")
	if h.m.screen != screenPager || !strings.Contains(h.screen(), "Briefing: Customer personal data exposed") ||
		!strings.Contains(h.screen(), "Tuesday, 10:05") || !strings.Contains(h.screen(), "EXERCISE") {
		t.Fatalf("the briefing should show before play:\n%s", h.screen())
	}
	if strings.Contains(h.screen(), "expected") || strings.Contains(h.screen(), "researcher-email") {
		t.Fatalf("the players' briefing shows what only the facilitator sees:\n%s", h.screen())
	}
	h.press("enter") // the pace
	h.press("enter") // inject by inject
	if h.m.screen != screenDrill || h.m.drill == nil {
		t.Fatalf("drill not started: %q", h.m.status)
	}
	run := h.m.drill.run
	if st := h.m.status; strings.Contains(st, "press t") || strings.Contains(st, "Press t") || !strings.Contains(st, "Press n") {
		t.Fatalf("before any inject the status says %q", st)
	}
	if out := h.screen(); strings.Contains(out, "press t") || !strings.Contains(out, "No inject released yet") {
		t.Fatalf("before any inject:\n%s", out)
	}
	h.press(first(dk.Triage))
	if h.m.screen != screenDrill || !strings.Contains(h.m.status, "press n first") {
		t.Fatalf("t before any inject: screen %d, %q", h.m.screen, h.m.status)
	}
	h.press(first(dk.Next))
	if !strings.Contains(h.m.status, "Released researcher-email. Press t to triage it") {
		t.Fatalf("after n: %q", h.m.status)
	}
	// Triage from the drill declares the drill incident on the drill
	// clock, says EXERCISE, and comes back to the drill.
	h.press(first(dk.Triage))
	if h.m.screen != screenTriage || h.m.triage.declare == nil || !strings.Contains(h.screen(), "EXERCISE · drill "+run.ID()) {
		t.Fatalf("t should start the drill's triage:\n%s", h.screen())
	}
	h.m.triage.field(fieldTitle).input.SetValue("Customer exports readable")
	h.m.triage.field(fieldDecision).sel = decDeclare
	h.run(h.m.triage.submit(h.m))
	if run.IncidentID() == "" || h.m.screen != screenDrill {
		t.Fatalf("declared %q, screen %d (status %q)", run.IncidentID(), h.m.screen, h.m.status)
	}
	d := h.detail(t, run.IncidentID())
	if !d.Incident.Drill || !strings.HasPrefix(d.Incident.Title, tabletop.TitlePrefix(run.ID())) || d.Drill == nil {
		t.Fatalf("drill incident: %+v", d.Incident)
	}
	h.press(first(dk.Triage))
	if h.m.screen != screenIncident || !strings.Contains(h.screen(), "[EXERCISE]") {
		t.Fatalf("t should open the drill incident:\n%s", h.screen())
	}
	h.press(first(h.m.keys.Back))
	if h.m.screen != screenDrill {
		t.Fatal("esc from the drill's incident goes back to the drill")
	}
	// Speed and jump.
	h.press(first(dk.Speed))
	h.typeText("hour a minute")
	h.press("enter")
	if st := run.Status(h.clk.Now()); st.Speed != 60 || st.Mode != store.DrillModeRealtime {
		t.Fatalf("speed: %+v", st)
	}
	h.press(first(dk.Jump))
	h.typeText("care")
	h.press("enter")
	if st := run.Status(h.clk.Now()); st.Delivered != 4 || !strings.Contains(h.m.status, "Released platform-confirms, dpo-questions, care-provider.") {
		t.Fatalf("jump: %d delivered, %q", st.Delivered, h.m.status)
	}
	// A mark and a rating, each with a note; an observation about an
	// objective; the hot wash with a root cause tied to the observation.
	h.press(first(dk.Mark))
	h.typeText("takedown")
	h.press("enter")
	h.typeText("Met")
	h.press("enter")
	h.typeText("Request sent to the forum's host at 15:40")
	h.press("enter")
	h.press(first(dk.Rate))
	h.typeText("O2")
	h.press("enter", "down", "enter") // S
	h.typeText("Stopped quickly; scoping was slow")
	h.press("enter")
	h.press(first(dk.Observe))
	h.typeText("O3")
	h.press("enter", "down", "enter") // an area for improvement
	h.typeText("Nobody knew who the care provider's contact was")
	h.press("enter")
	h.press(first(dk.Improve))
	h.typeText("O3")
	h.press("enter")
	h.typeText("Customer contacts were not at hand")
	h.press("enter")
	h.typeText("The directory has no contact for processor customers | 1")
	h.press("enter")
	// An action item: its owner is picked from the directory.
	h.press(first(dk.Action))
	h.typeText("chen")
	h.press("enter")
	h.typeText("O3")
	h.press("enter")
	h.typeText("30d | Add a contact to every processor customer | Account management | planning")
	h.press("enter")
	h.press(first(dk.Feedback))
	h.typeText("dana")
	h.press("enter", "enter") // 5
	h.typeText("Good pace")
	h.press("enter")
	h.press(first(dk.Finish), "enter")
	if st := run.Status(h.clk.Now()); st.State != store.DrillFinished {
		t.Fatalf("drill state %s (status %q)", st.State, h.m.status)
	}
	h.press(first(dk.Report))
	out := h.screen()
	if h.m.screen != screenPager || !strings.Contains(out, "After-action report: "+run.ID()) {
		t.Fatalf("R should show the report:\n%s", out)
	}
	rep, err := run.Report(context.Background(), as("alice"))
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown(time.UTC)
	for _, want := range []string{"Request sent to the forum's host at 15:40", "Stopped quickly; scoping was slow",
		"- Customer contacts were not at hand\n  - Root cause: The directory has no contact for processor customers\n  - Observation 1",
		"Add a contact to every processor customer | planning | Account management | Chen Wei (demo)", "dana, 5/5: Good pace",
		"Drill incident " + run.IncidentID() + ": SEV"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

// TestQuittingARunningDrillAsksFirst: q with a drill running asks, and
// says the drill will be paused.
func TestQuittingARunningDrillAsksFirst(t *testing.T) {
	h := newHarness(t)
	h.press(first(h.m.keys.Drill))
	h.typeText("ransomware")
	h.press("enter", "enter") // the scenario, then its briefing
	h.typeText("real time")
	h.press("enter")
	if h.m.drill == nil || h.m.drill.status.State != store.DrillRunning {
		t.Fatalf("no running drill (status %q)", h.m.status)
	}
	h.press(first(h.m.keys.Back), first(h.m.keys.Quit))
	c, ok := h.m.overlay.(*confirmOverlay)
	if !ok || !strings.Contains(c.prompt, h.m.drill.run.ID()+" is running") || !strings.Contains(c.prompt, "paused") {
		t.Fatalf("q with a running drill: overlay %#v", h.m.overlay)
	}
	if h.m.quitting {
		t.Fatal("quit without asking")
	}
}

// TestAppTakesUpADrillAfterARestart: a drill left paused by an app that
// stopped is offered by the next app's D, taken up where it stood, and a
// second drill can be started beside it.
func TestAppTakesUpADrillAfterARestart(t *testing.T) {
	h := newHarness(t)
	run := h.startDrill(t, "ransomware-friday-night", tabletop.Options{Manual: true})
	if _, err := run.Next(context.Background(), as("alice")); err != nil {
		t.Fatal(err)
	}
	if err := run.Pause(context.Background(), as("alice")); err != nil {
		t.Fatal(err)
	}
	// A new app on the same database.
	h.press(first(h.m.keys.Drill))
	o, ok := h.m.overlay.(*choiceOverlay)
	if !ok || len(o.items) != 2 || o.items[0].value != "resume:"+run.ID() || o.items[1].value != "new" {
		t.Fatalf("D after a restart should offer the paused drill and a new one: %#v", h.m.overlay)
	}
	h.press("enter")
	if h.m.screen != screenDrill || h.m.drill == nil || h.m.drill.run.ID() != run.ID() ||
		!strings.Contains(h.m.status, "Took up "+run.ID()+", paused at T+0m") {
		t.Fatalf("took up: screen %d, status %q", h.m.screen, h.m.status)
	}
	if st := h.m.drill.status; st.Delivered != 1 || st.State != store.DrillPaused {
		t.Fatalf("the drill taken up: %+v", st)
	}
	// A second drill beside it; D switches between them.
	h.press(first(drillKeys.Drills))
	h.typeText("new")
	h.press("enter")
	h.typeText("bec")
	h.press("enter", "enter", "enter")
	if len(h.m.drills) != 2 || h.m.drill.run.ID() == run.ID() {
		t.Fatalf("second drill: %d open, on screen %s", len(h.m.drills), h.m.drill.run.ID())
	}
	h.press(first(drillKeys.Drills))
	h.typeText(run.ID())
	h.press("enter")
	if h.m.drill.run.ID() != run.ID() {
		t.Fatalf("D should switch back to %s", run.ID())
	}
}

// The screens of the 3 a.m. path say EXERCISE on a drill incident too:
// its re-assessment (on the drill clock, weeks behind the wall clock) and
// its notice composer.
func TestDrillIncidentReassessAndComposerSayExercise(t *testing.T) {
	h := newHarness(t)
	run := h.startDrill(t, "customer-data-open-storage", tabletop.Options{Speed: 1})
	in, err := run.DeclareAnswers(context.Background(), as("alice"), "Exports readable",
		referenceAnswers, []string{"acme", "zuiderzee"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	h.openIncident(in.ID, tabOverview)
	if h.m.detail.d.Drill == nil {
		t.Fatal("the drill incident's detail has no drill clock")
	}
	h.press(first(h.m.keys.Reassess))
	if h.m.screen != screenTriage || !strings.Contains(h.screen(), "EXERCISE · drill "+run.ID()) {
		t.Fatalf("the re-assessment of a drill incident should say EXERCISE:\n%s", h.screen())
	}
	drillNow := h.m.detail.d.Drill.Now(h.m.now)
	if got := h.m.triage.now(h.m); !got.Equal(drillNow) || got.Equal(h.m.now) {
		t.Fatalf("the re-assessment reads %s; the drill clock is at %s, the wall clock at %s", got, drillNow, h.m.now)
	}
	h.press(first(h.m.keys.Back))
	h.openIncident(in.ID, tabOverview)
	h.press(first(h.m.keys.Compose))
	if h.m.screen != screenComposer || !strings.Contains(h.screen(), "EXERCISE") {
		t.Fatalf("the composer of a drill incident should say EXERCISE (status %q):\n%s", h.m.status, h.screen())
	}
}
