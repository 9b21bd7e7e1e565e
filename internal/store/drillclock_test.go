package store

import (
	"context"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
)

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

// A file with a drill run from before the record and the drill clock is
// upgraded in place: the run's row is left as it was, so the record's
// baseline of it still holds, and its clock stands at its position.
func TestDrillClockMigrationLeavesOldRunsAsTheyWere(t *testing.T) {
	ctx := context.Background()
	path, ids := oldFile(t, versionBefore(t, "_record.sql"), 1)
	db := raw(t, path)
	epoch, pos, upd := "2026-03-13T23:10:00.000000000Z", "2026-03-14T01:00:00.000000000Z", "2026-04-01T09:00:00.000000000Z"
	mustExec(t, db, `INSERT INTO drill_runs (num, id, scenario_id, scenario_title, scenario, runbook_id, incident_id, status,
		mode, speed, epoch, position, started_at, updated_at, created_by)
		VALUES (1, 'DR-0001', 'sc', 'Scenario', '{}', 'rb', ?, 'paused', 'realtime', 60, ?, ?, ?, ?, 'fac')`,
		ids[0], epoch, pos, upd, upd)
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep, err := s.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains after the upgrade: %+v %v", rep, err)
	}
	r, err := s.DrillRun(ctx, "DR-0001")
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	if got := r.Clock.At(wall); got.Format(time.RFC3339) != "2026-03-14T01:00:00Z" || r.Clock.Running {
		t.Fatalf("the old run's clock reads %s (running %v), want its position", got, r.Clock.Running)
	}
	c, ok, err := s.DrillClockOf(ctx, ids[0])
	if err != nil || !ok || c.Now(wall).Format(time.RFC3339) != "2026-03-14T01:00:00Z" {
		t.Fatalf("the old run's incident clock: %+v %v %v", c, ok, err)
	}
}
