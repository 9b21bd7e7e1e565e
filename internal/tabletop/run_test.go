package tabletop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

func ids(ds []Delivered) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Inject.ID)
	}
	return strings.Join(out, ",")
}

var ransomwareAnswers = classify.Answers{"observed": "encryption", "systems_affected": 1.0, "domain_compromise": false,
	"functional_impact": "low", "recoverability": "supplemented", "exfiltration": "unknown",
	"data_types": []string{"personal", "customer"}, "people": 48000.0, "ransom": "received", "materiality": "not_material"}

// TestRealTimeDrill plays the clock at 60 times real speed, driven by
// Tick as the TUI drives it, with pause, resume, speed and jump.
func TestRealTimeDrill(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := scenario(t, "ransomware-friday-night")
	r, err := Start(ctx, f.deps, sc, as("fac"), Options{Speed: 60, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Tick(ctx, f.real.Now())
	if err != nil || ids(got) != "edr-alert" {
		t.Fatalf("first tick: %s, %v", ids(got), err)
	}
	if got, _ := r.Tick(ctx, f.real.Now()); len(got) != 0 {
		t.Fatalf("a second tick delivered %s again", ids(got))
	}
	f.real.Advance(12 * time.Second) // 12 drill minutes
	got, err = r.Tick(ctx, f.real.Now())
	if err != nil || ids(got) != "service-desk-call" || got[0].Offset.String() != "T+12m" {
		t.Fatalf("tick at T+12m: %s, %v", ids(got), err)
	}
	if now := r.Clock().Now(); !now.Equal(epoch.Add(12 * time.Minute)) {
		t.Fatalf("drill clock %v", now)
	}
	in, err := r.DeclareAnswers(ctx, as("alice"), "Encryption on FS-02", ransomwareAnswers, nil, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !in.Drill || in.Title != "[DRILL "+r.ID()+"] Encryption on FS-02" || !in.DeclaredAt.Equal(epoch.Add(12*time.Minute)) {
		t.Fatalf("declared %+v", in)
	}
	f.real.Advance(time.Second)
	if err := r.Service().Assign(ctx, as("alice"), in.ID, "incident_commander", "alice"); err != nil {
		t.Fatal(err)
	}

	if err := r.Pause(ctx, as("fac")); err != nil {
		t.Fatal(err)
	}
	paused := r.Clock().Now()
	f.real.Advance(time.Hour)
	if !r.Clock().Now().Equal(paused) {
		t.Fatal("the clock moved while paused")
	}
	if got, _ := r.Tick(ctx, f.real.Now()); len(got) != 0 {
		t.Fatalf("paused tick delivered %s", ids(got))
	}
	if err := r.Pause(ctx, as("fac")); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("pausing twice: %v", err)
	}
	if err := r.Resume(ctx, as("fac")); err != nil {
		t.Fatal(err)
	}
	if err := r.SetSpeed(ctx, as("fac"), 120, false); err != nil {
		t.Fatal(err)
	}
	f.real.Advance(5 * time.Second) // 10 drill minutes
	if now := r.Clock().Now(); !now.Equal(paused.Add(10 * time.Minute)) {
		t.Fatalf("after resume at speed 120: %v, want %v", now, paused.Add(10*time.Minute))
	}
	got, err = r.Jump(ctx, as("fac"), "leak-site")
	if err != nil || ids(got) != "ransom-note,backups-deleted,domain-admin,leak-site" {
		t.Fatalf("jump: %s, %v", ids(got), err)
	}
	if now := r.Clock().Now(); !now.Equal(epoch.Add(100 * time.Minute)) {
		t.Fatalf("after the jump the clock reads %v", now)
	}
	if _, err := r.Jump(ctx, as("fac"), "ransom-note"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("jumping back: %v", err)
	}
	if err := r.Observe(ctx, as("eve"), ObservationInput{Objective: "O1", Kind: ObserveImprovement, Text: "Nobody watched the identity console."}); err != nil {
		t.Fatal(err)
	}
	if err := r.Observe(ctx, as("eve"), ObservationInput{Objective: "O7", Text: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("observing an unknown objective: %v", err)
	}
	if err := r.Mark(ctx, as("fac"), "privileged-reset", Met, "krbtgt reset twice"); err != nil {
		t.Fatal(err)
	}
	if err := r.Mark(ctx, as("fac"), "privileged-reset", "done", ""); !errors.Is(err, ErrRefused) {
		t.Fatalf("bad mark: %v", err)
	}
	if err := r.Rate(ctx, as("fac"), "O1", SomeChallenges, ""); err != nil {
		t.Fatal(err)
	}
	st := r.Status(f.real.Now())
	if st.Delivered != 6 || st.Next == nil || st.Next.ID != "press-call" || st.IncidentID != in.ID || st.State != store.DrillRunning {
		t.Fatalf("status %+v", st)
	}
	s, err := r.Score(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := results(s)
	if res["classify-sev2"] != Met || res["ic-assigned"] != Met || res["privileged-reset"] != Met ||
		res["isolate"] != Pending || res["classify-sev1"] != Pending || s.Final {
		t.Fatalf("live score %+v", res)
	}
	for _, e := range s.Expectations {
		if e.ID == "isolate" && !e.Overdue {
			t.Errorf("isolate is past its target (T+42m) and should be overdue: %+v", e)
		}
	}
	if err := r.Finish(ctx, as("fac")); err != nil {
		t.Fatal(err)
	}
	if err := r.Pause(ctx, as("fac")); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("pausing a finished drill: %v", err)
	}
	if got, err := r.Tick(ctx, f.real.Now().Add(time.Hour)); err != nil || len(got) != 0 {
		t.Fatalf("tick after finish: %s %v", ids(got), err)
	}
	s, _ = r.Score(ctx)
	if res := results(s); !s.Final || res["isolate"] != Missed || res["classify-sev1"] != Missed {
		t.Fatalf("final score %+v", res)
	}
	// Ratings are still taken after play.
	if err := r.Rate(ctx, as("fac"), "O2", Unable, "never isolated"); err != nil {
		t.Fatal(err)
	}
	if rep, err := f.deps.Store.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains: %+v %v", rep, err)
	}
}

// TestInjectByInject: the facilitator releases each inject; the clock runs
// in between and waits at the next one.
func TestInjectByInject(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := Start(ctx, f.deps, scenario(t, "ransomware-friday-night"), as("fac"), Options{Manual: true, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Tick(ctx, f.real.Now()); len(got) != 0 {
		t.Fatalf("inject by inject, Tick delivered %s", ids(got))
	}
	if st := r.Status(f.real.Now()); !st.Waiting || st.Next.ID != "edr-alert" {
		t.Fatalf("status %+v", st)
	}
	got, err := r.Next(ctx, as("fac"))
	if err != nil || ids(got) != "edr-alert" {
		t.Fatalf("next: %s %v", ids(got), err)
	}
	f.real.Advance(5 * time.Minute)
	if now := r.Clock().Now(); !now.Equal(epoch.Add(5 * time.Minute)) {
		t.Fatalf("clock between injects: %v", now)
	}
	f.real.Advance(time.Hour)
	if now := r.Clock().Now(); !now.Equal(epoch.Add(12 * time.Minute)) {
		t.Fatalf("the clock should wait at the next inject (T+12m): %v", now)
	}
	if st := r.Status(f.real.Now()); !st.Waiting || st.Next.ID != "service-desk-call" {
		t.Fatalf("status %+v", st)
	}
	got, err = r.Next(ctx, as("fac"))
	if err != nil || ids(got) != "service-desk-call" {
		t.Fatalf("next: %s %v", ids(got), err)
	}
	f.real.Advance(time.Minute)
	if now := r.Clock().Now(); !now.Equal(epoch.Add(13 * time.Minute)) {
		t.Fatalf("after releasing: %v", now)
	}
	// Released early: the clock jumps forward to the inject.
	got, err = r.Next(ctx, as("fac"))
	if err != nil || ids(got) != "ransom-note" || !r.Clock().Now().Equal(epoch.Add(25*time.Minute)) {
		t.Fatalf("early next: %s %v at %v", ids(got), err, r.Clock().Now())
	}
}

// crashChildEnv names the database the crash child plays a drill in.
const crashChildEnv = "IRTUI_TABLETOP_CRASH_CHILD"

// TestCrashChild is not a test of its own: TestCrashResumeAndAbandon runs
// it in a child process, which plays part of a drill and is then killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("runs only as the child of TestCrashResumeAndAbandon")
	}
	f := openFixture(t, path, true)
	f.deps.Real = clock.Real{}
	ctx := context.Background()
	r, err := Start(ctx, f.deps, scenario(t, "ransomware-friday-night"), as("fac"), Options{Speed: 60, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Tick(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	in, err := r.DeclareAnswers(ctx, as("alice"), "Encryption on FS-02", ransomwareAnswers, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Service().Assign(ctx, as("alice"), in.ID, "incident_commander", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Jump(ctx, as("fac"), "ransom-note"); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("READY %s %s\n", r.ID(), in.ID)
	// Keep writing until killed: the parent kills the process mid-flight.
	for i := 0; ; i++ {
		if err := r.Service().AddNote(ctx, as("bob"), in.ID, fmt.Sprintf("note %d", i)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCrashResumeAndAbandon kills a child process in the middle of a
// drill, then resumes the drill from the database, and abandons another;
// the records stay consistent.
func TestCrashResumeAndAbandon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "irtui.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var runID, incidentID string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "READY %s %s", &runID, &incidentID); err == nil {
			break
		}
	}
	if runID == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the child never got ready")
	}
	time.Sleep(50 * time.Millisecond) // let it write some notes
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	ctx := context.Background()
	f := openFixture(t, path, false)
	// A minute after the crash: the child's last sign of life is older
	// than a live process's would be.
	f.real.Set(time.Now().Add(time.Minute))
	if res, err := f.deps.Store.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity after the kill: %q %v", res, err)
	}
	if rep, err := f.deps.Store.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains after the kill: %+v %v", rep, err)
	}
	rec, err := f.deps.Store.DrillRun(ctx, runID)
	if err != nil || rec.Status != store.DrillRunning || rec.IncidentID != incidentID {
		t.Fatalf("run after the kill: %+v %v", rec, err)
	}
	tl, _ := f.deps.Store.Timeline(ctx, incidentID)
	last := tl[len(tl)-1].At

	r, err := ResumeRun(ctx, f.deps, runID, as("fac"), Options{Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	st := r.Status(f.real.Now())
	if st.State != store.DrillPaused || st.Delivered != 3 || st.IncidentID != incidentID || st.Mode != store.DrillModeManual {
		t.Fatalf("resumed status %+v", st)
	}
	if !st.Now.Equal(last) {
		t.Fatalf("resumed at %v, want the last action at %v", st.Now, last)
	}
	if err := r.Resume(ctx, as("fac")); err != nil {
		t.Fatal(err)
	}
	if got, err := r.Next(ctx, as("fac")); err != nil || ids(got) != "backups-deleted" {
		t.Fatalf("next after resume: %s %v", ids(got), err)
	}
	if err := r.Finish(ctx, as("fac")); err != nil {
		t.Fatal(err)
	}
	if _, err := ResumeRun(ctx, f.deps, runID, as("fac"), Options{}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("resuming a finished drill: %v", err)
	}
	s, err := r.Score(ctx)
	if err != nil || !s.Final || results(s)["ic-assigned"] != Met {
		t.Fatalf("score after resume: %+v %v", s, err)
	}
	if rep, err := f.deps.Store.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains after resume: %+v %v", rep, err)
	}
}

// TestInterruptedBetweenDeclareAndLink: an older irtui declared a drill
// incident and recorded it with its run in two steps; a process that
// stopped in between left the incident without its run. Resuming finds it
// by title. (A run's declaration is now one transaction.) Then the drill
// is abandoned, and stays consistent.
func TestInterruptedBetweenDeclareAndLink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "irtui.db")
	ctx := context.Background()
	f := openFixture(t, path, true)
	sc := scenario(t, "ransomware-friday-night")
	r, err := Start(ctx, f.deps, sc, as("fac"), Options{Speed: 60, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Tick(ctx, f.real.Now()); err != nil {
		t.Fatal(err)
	}
	rb, _ := f.deps.Runbooks.Get(sc.Runbook)
	v, err := classify.Classify(rb, ransomwareAnswers, f.deps.Policy, classify.Events{Aware: epoch, Classified: epoch}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := incident.NewDeclaration(rb, v, ransomwareAnswers)
	d.Title, d.Drill = TitlePrefix(r.ID())+"Encryption", true
	// The older irtui stamped it on its own copy of the drill clock.
	older := &incident.Service{Store: f.deps.Store, Clock: clock.NewFake(epoch)}
	in, err := older.Declare(ctx, as("alice"), d) // the declaration commits; the link never does
	if err != nil {
		t.Fatal(err)
	}
	f.deps.Store.Close() // the crash

	g := openFixture(t, path, false)
	r2, err := ResumeRun(ctx, g.deps, r.ID(), as("fac"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r2.IncidentID() != in.ID {
		t.Fatalf("resumed run has incident %q, want %s", r2.IncidentID(), in.ID)
	}
	if err := r2.Abandon(ctx, as("fac"), ""); !errors.Is(err, ErrRefused) {
		t.Fatalf("abandon without a reason: %v", err)
	}
	if err := r2.Abandon(ctx, as("fac"), "the room was needed for a real incident"); err != nil {
		t.Fatal(err)
	}
	rec, _ := g.deps.Store.DrillRun(ctx, r.ID())
	if rec.Status != store.DrillAbandoned || rec.EndReason != "the room was needed for a real incident" || rec.EndedAt.IsZero() {
		t.Fatalf("abandoned run %+v", rec)
	}
	if _, err := ResumeRun(ctx, g.deps, r.ID(), as("fac"), Options{}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("resuming an abandoned drill: %v", err)
	}
	r3, err := Open(ctx, g.deps, r.ID())
	if err != nil {
		t.Fatal(err)
	}
	s, err := r3.Score(ctx)
	if err != nil || !s.Final || s.Pending != 0 || results(s)["classify-sev2"] != Met {
		t.Fatalf("score of the abandoned drill: %+v %v", s, err)
	}
	events, _ := g.deps.Store.DrillEvents(ctx, r.ID())
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "started,inject,reopened,abandoned" {
		t.Fatalf("drill log %s", got)
	}
	if rep, err := g.deps.Store.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains: %+v %v", rep, err)
	}
}

func TestLinkRefusesRealIncidents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := scenario(t, "ransomware-friday-night")
	rb, _ := f.deps.Runbooks.Get(sc.Runbook)
	svc := &incident.Service{Store: f.deps.Store, Clock: clock.NewFake(epoch)}
	v, _ := classify.Classify(rb, ransomwareAnswers, f.deps.Policy, classify.Events{Aware: epoch, Classified: epoch}, nil)
	d := incident.NewDeclaration(rb, v, ransomwareAnswers)
	d.Title = "A real one"
	real, err := svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(ctx, f.deps, sc, as("fac"), Options{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Link(ctx, as("fac"), real.ID); !errors.Is(err, ErrRefused) {
		t.Fatalf("linking a real incident: %v", err)
	}
	d.Title, d.Drill = "Drill from the triage screen", true
	drill, err := svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Link(ctx, as("fac"), drill.ID); err != nil {
		t.Fatal(err)
	}
	r2, _ := Start(ctx, f.deps, sc, as("fac"), Options{Epoch: epoch})
	if err := r2.Link(ctx, as("fac"), drill.ID); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("linking an incident of another drill: %v", err)
	}
	if _, err := r.Declare(ctx, as("alice"), d); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("declaring a second incident: %v", err)
	}
	// Refusals are audited.
	audit, err := f.deps.Store.Audit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	refusals := 0
	for _, a := range audit {
		if strings.HasPrefix(a.Action, "drill_") && a.Outcome == store.OutcomeRefused {
			refusals++
		}
	}
	if refusals != 3 {
		t.Errorf("%d audited drill refusals, want 3", refusals)
	}
}

func TestActionItemsAcrossDrills(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := scenario(t, "bec-fraudulent-payment")
	r, err := Start(ctx, f.deps, sc, as("fac"), Options{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.AddActionItem(ctx, as("fac"), ActionItemInput{Text: "Call-back on bank detail changes", Owner: "fatima",
		Due: "14d", ObjectiveID: "O2", Element: "planning"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Due != wall.AddDate(0, 0, 14).Format("2006-01-02") || a.Capability != "cybersecurity" {
		t.Fatalf("item %+v", a)
	}
	for _, bad := range []ActionItemInput{{Owner: "x", Due: "14d"}, {Text: "x", Due: "14d"}, {Text: "x", Owner: "bob", Due: "soon"},
		{Text: "x", Owner: "bob", Due: "14d", Element: "money"}, {Text: "x", Owner: "bob", Due: "14d", ObjectiveID: "O9"},
		{Text: "x", Owner: "bob", Due: "2026-05-01", Start: "2026-06-01"}} {
		if _, err := r.AddActionItem(ctx, as("fac"), bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
	// Nobody owns nothing: the owner is a person in the directory.
	if _, err := r.AddActionItem(ctx, as("fac"), ActionItemInput{Text: "x", Owner: "nobody", Due: "14d"}); !errors.Is(err, ErrNotFound) ||
		!strings.Contains(err.Error(), `owner "nobody" is not a person in the directory`) {
		t.Fatalf("an unknown owner: %v", err)
	}
	if _, err := r.AddHotWash(ctx, as("fac"), HotWashInput{Kind: store.HotWashStrength, Text: "Recall sent in time"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddHotWash(ctx, as("fac"), HotWashInput{Kind: "maybe", Text: "x"}); !errors.Is(err, ErrRefused) {
		t.Fatalf("bad hot-wash kind: %v", err)
	}
	if err := r.Abandon(ctx, as("fac"), "fire alarm"); err != nil {
		t.Fatal(err)
	}
	// Items can still be added after play, and are listed across drills.
	r2, _ := Start(ctx, f.deps, scenario(t, "chat-workspace-compromised"), as("fac"), Options{Epoch: epoch})
	if _, err := r2.AddActionItem(ctx, as("fac"), ActionItemInput{Text: "Test the bridge", Owner: "bob", Due: "2026-04-30"}); err != nil {
		t.Fatal(err)
	}
	items, err := ActionItems(ctx, f.deps.Store, false)
	if err != nil || len(items) != 2 || items[0].Due != "2026-04-16" || items[0].ScenarioTitle != sc.Title {
		t.Fatalf("open items %+v %v", items, err)
	}
	if err := CloseActionItem(ctx, f.deps.Store, f.real, as("fatima"), a.ID, ""); !errors.Is(err, ErrRefused) {
		t.Fatalf("closing without a note: %v", err)
	}
	if err := CloseActionItem(ctx, f.deps.Store, f.real, as("fatima"), a.ID, "In the AP procedure since April"); err != nil {
		t.Fatal(err)
	}
	if err := CloseActionItem(ctx, f.deps.Store, f.real, as("fatima"), a.ID, "again"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("closing twice: %v", err)
	}
	if err := CloseActionItem(ctx, f.deps.Store, f.real, as("fatima"), 999, "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("closing an unknown item: %v", err)
	}
	items, _ = ActionItems(ctx, f.deps.Store, false)
	all, _ := ActionItems(ctx, f.deps.Store, true)
	if len(items) != 1 || len(all) != 2 || all[1].Status != store.ActionClosed || all[1].CloseNote != "In the AP procedure since April" {
		t.Fatalf("open %+v, all %+v", items, all)
	}
}

// TestConcurrentUse: the TUI ticks from its update loop while commands
// run in their own goroutines.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := Start(ctx, f.deps, scenario(t, "ransomware-friday-night"), as("fac"), Options{Speed: 600, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.DeclareAnswers(ctx, as("alice"), "Encryption", ransomwareAnswers, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	go func() {
		for range 50 {
			f.real.Advance(time.Second)
			if _, err := r.Tick(ctx, f.real.Now()); err != nil {
				done <- err
				return
			}
			_ = r.Status(f.real.Now())
		}
		done <- nil
	}()
	go func() {
		for i := range 20 {
			if err := r.Observe(ctx, as("eve"), ObservationInput{Text: fmt.Sprintf("observation %d", i)}); err != nil {
				done <- err
				return
			}
			if _, err := r.Score(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	go func() {
		for i := range 20 {
			if err := r.Service().AddNote(ctx, as("bob"), r.IncidentID(), fmt.Sprintf("note %d", i)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if st := r.Status(f.real.Now()); st.Delivered < 5 {
		t.Fatalf("after 50 s at 600x: %+v", st)
	}
}
