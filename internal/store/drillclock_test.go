package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
)

// undoDrillClockMigration turns a file back into what the schema before
// the drill clock migration left.
func undoDrillClockMigration(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, col := range []string{"clock_base", "clock_anchor", "clock_running", "clock_limit", "seen_at"} {
		mustExec(t, db, "ALTER TABLE drill_runs DROP COLUMN "+col)
	}
	mustExec(t, db, "DROP TABLE drill_incidents")
	mustExec(t, db, "DROP TABLE drill_feedback")
	mustExec(t, db, "ALTER TABLE drill_events DROP COLUMN data")
	mustExec(t, db, "ALTER TABLE drill_hotwash DROP COLUMN root_cause")
	mustExec(t, db, "ALTER TABLE drill_hotwash DROP COLUMN observations")
	mustExec(t, db, "ALTER TABLE drill_action_items DROP COLUMN organisation")
	mustExec(t, db, "ALTER TABLE drill_action_items DROP COLUMN start")
}

// The drill clock is stored with its run: another handle on the file (as
// another process would have) reads the same drill time for the run's
// incident, and a heartbeat changes nothing a UI shows.
func TestDrillClockIsStoredWithItsRun(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 0)
	epoch := time.Date(2026, 3, 13, 23, 10, 0, 0, time.UTC)
	wall := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	run := DrillRun{ScenarioID: "sc", ScenarioTitle: "Scenario", RunbookID: "rb", Status: DrillRunning,
		Mode: DrillModeRealtime, Speed: 60, Epoch: epoch, Position: epoch, StartedAt: wall, UpdatedAt: wall,
		CreatedBy: "fac", Clock: clock.Virtual{Base: epoch, Anchor: wall, Running: true}}
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.InsertDrillRun(ctx, &run); err != nil {
			return err
		}
		run.IncidentID = ids[0]
		return tx.UpdateDrillRun(ctx, &run)
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c, ok, err := other.DrillClockOf(ctx, ids[0])
	if err != nil || !ok || c.RunID != run.ID {
		t.Fatalf("clock of %s: %+v %v %v", ids[0], c, ok, err)
	}
	// A minute of wall time is an hour of drill time at speed 60.
	if got, want := c.Now(wall.Add(time.Minute)), epoch.Add(time.Hour); !got.Equal(want) {
		t.Errorf("drill time a minute later: %s, want %s", got, want)
	}
	if _, ok, err := other.DrillClockOf(ctx, "INC-9999"); ok || err != nil {
		t.Errorf("a real incident has no drill clock: %v %v", ok, err)
	}
	v0, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.SeeDrillRun(ctx, run.ID, wall.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if v1, err := s.Version(ctx); err != nil || v1 != v0 {
		t.Errorf("a heartbeat moved the version: %d -> %d (%v)", v0, v1, err)
	}
	got, err := s.DrillRun(ctx, run.ID)
	if err != nil || !got.SeenAt.Equal(wall.Add(time.Second)) || !got.Clock.Running || got.Clock.Speed != 60 {
		t.Fatalf("run after the heartbeat: %+v %v", got, err)
	}
}
