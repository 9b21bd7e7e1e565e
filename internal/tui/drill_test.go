package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/classify"
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
