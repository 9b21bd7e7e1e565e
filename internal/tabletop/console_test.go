package tabletop

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// TestConsoleThroughItsReader plays a drill in the facilitator's console
// as `irtui drill run --step` does, by feeding it lines through an
// io.Reader, on a real SQLite file: it checks what the console prints and
// what the run recorded, read back from the file after the console is
// done.
func TestConsoleThroughItsReader(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := Start(ctx, f.deps, scenario(t, "ransomware-friday-night"), as("fac"), Options{Speed: 1, Manual: true, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"status",
		"next",
		"",
		"answer observed encryption",
		"answer data_types personal,customer",
		"answer",
		"declare Encryption on FS-02",
		"as alice",
		"assign incident_commander alice",
		"assign incident_commander",
		"step record-awareness Pager at 23:10",
		"observe @O1 Nobody watched the identity console.",
		"mark privileged-reset met krbtgt reset twice",
		"rate O1 s",
		"went-well Fast isolation",
		"action alice 2026-05-01 Write the comms template",
		"jump nope",
		"bogus",
		"finish",
		"note after the end", // never read: the console stops at finish
	}, "\n") + "\n"
	var out bytes.Buffer
	c := &Console{Run: r, Actor: as("fac"), In: strings.NewReader(script), Out: &out, Poll: time.Millisecond}
	if err := c.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"Drill DR-0001: Ransomware on a Friday night (inject by inject, clock at 1x between injects). T+0 is Fri 2026-03-13 23:10 UTC.",
		"DR-0001 running at T+0m (Fri 23:10), inject by inject, clock at 1x between injects; 0 of 10 injects delivered, next edr-alert at T+0m (waiting: type next); incident —\n",
		"\n[T+0m · Fri 23:10] ALERT from EDR console to Security on-call (pager) (edr-alert)\n",
		"  expected (facilitator): ic-assigned — Role incident_commander assigned, within 30m\n",
		"observed = encryption\ndata_types = [personal customer]\nanswer QUESTION VALUE\n",
		"Declared INC-0001; the team works it with the commands below, or in the app.\nActing as alice.\nOK (T+0m)\n",
		"error: usage: assign ROLE PERSON\nOK (T+0m)\nNoted as observation 1.\nMarked.\nRated.\nNoted.\n",
		"Action item 1: Write the comms template (owner alice, due 2026-05-01).\n",
		`error: scenario ransomware-friday-night has no inject "nope"` + "\n",
		`error: unknown command "bogus"; type help` + "\n",
		// Only the first inject was played: the others' expected actions
		// are not scored.
		"Finished.\nFinal score: Critical tasks: 1 of 1 met. Weighted score 100% (critical tasks count 3 times). " +
			"Expected actions: 5 met, 0 late, 0 missed; 10 not played " +
			"(their injects were never delivered). Report: irtui drill report DR-0001\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q; it is:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "Report: irtui drill report DR-0001\n") {
		t.Errorf("the console went on after the drill finished:\n%s", got)
	}

	// What the console did is on record in the file.
	g := openFixture(t, f.path, false)
	again, err := Open(ctx, g.deps, r.ID())
	if err != nil {
		t.Fatal(err)
	}
	if rec := again.Record(); rec.Status != store.DrillFinished || rec.IncidentID != "INC-0001" {
		t.Fatalf("run on record: %+v", rec)
	}
	rep, err := again.Report(ctx, as("fac"))
	if err != nil {
		t.Fatal(err)
	}
	var assigned, noted bool
	for _, it := range rep.Timeline {
		assigned = assigned || it.Actor == "alice" && strings.Contains(it.Text, "incident_commander")
		noted = noted || strings.Contains(it.Text, "after the end")
	}
	if !assigned || noted {
		t.Errorf("timeline: assigned by alice %v, the line after finish applied %v:\n%+v", assigned, noted, rep.Timeline)
	}
	if len(rep.Observations) != 1 || rep.Observations[0].Objective != "O1" || rep.Observations[0].Actor != "fac" {
		t.Errorf("observations: %+v", rep.Observations)
	}
	if len(rep.Strengths) != 1 || len(rep.ImprovementPlan) != 1 || rep.ImprovementPlan[0].Owner != "alice" {
		t.Errorf("hot wash %+v, plan %+v", rep.Strengths, rep.ImprovementPlan)
	}
	res := results(rep.Score)
	if res["classify-sev2"] != Met || res["ic-assigned"] != Met || res["awareness-recorded"] != Met || res["privileged-reset"] != Met {
		t.Errorf("results: %v", res)
	}
	for _, o := range rep.Score.Objectives {
		if o.ID == "O1" && o.Rating != SomeChallenges {
			t.Errorf("O1 rated %q", o.Rating)
		}
	}
}

// TestConsoleLeavesTheDrillPaused: when its input ends, the console
// pauses a running drill so that it can be resumed later.
func TestConsoleLeavesTheDrillPaused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := Start(ctx, f.deps, scenario(t, "ransomware-friday-night"), as("fac"), Options{Speed: 60, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &Console{Run: r, Actor: as("fac"), In: strings.NewReader("as\nquit\n"), Out: &out}
	if err := c.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	want := "as NAME: whom the team's actions are recorded as (now fac)\n" +
		"Drill DR-0001 is paused at T+0m. Resume it with `irtui drill resume DR-0001`, or end it with `irtui drill abandon DR-0001 --reason TEXT`.\n"
	if !strings.HasSuffix(out.String(), want) {
		t.Errorf("got:\n%s", out.String())
	}
	if st := r.Record().Status; st != store.DrillPaused {
		t.Errorf("status %q", st)
	}
}
