package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/irtui/irtui/internal/clock"
)

// DrillClock is the clock a drill incident's time is told by: the clock
// of the drill run the incident belongs to, as stored, so that every
// process reads the same drill time.
type DrillClock struct {
	RunID  string        `json:"run_id"`
	Status string        `json:"status"` // running | paused | finished | abandoned
	Epoch  time.Time     `json:"epoch"`  // drill time at T+0
	Clock  clock.Virtual `json:"-"`
}

// Now is the drill time at the wall-clock time real.
func (c DrillClock) Now(real time.Time) time.Time { return c.Clock.At(real) }

// Ended reports whether the run is finished or abandoned.
func (c DrillClock) Ended() bool { return c.Status == DrillFinished || c.Status == DrillAbandoned }

// drillClockQuery finds the run of a drill incident: the run's own
// incident, or the incident of one of its modules.
const drillClockQuery = `SELECT r.id, r.status, r.epoch, r.speed, COALESCE(NULLIF(r.clock_base, ''), r.position),
	COALESCE(NULLIF(r.clock_anchor, ''), r.updated_at), r.clock_running, r.clock_limit FROM drill_runs r
	WHERE r.incident_id = ?1 OR r.id = (SELECT run_id FROM drill_incidents WHERE incident_id = ?1)
	LIMIT 1`

func scanDrillClock(sc scanner) (DrillClock, error) {
	var (
		c                    DrillClock
		epoch, base, anchor  string
		limit                sql.NullString
		speed                float64
		running              bool
		errEpoch, errB, errA error
	)
	if err := sc.Scan(&c.RunID, &c.Status, &epoch, &speed, &base, &anchor, &running, &limit); err != nil {
		return c, err
	}
	c.Epoch, errEpoch = parseTime(epoch)
	c.Clock.Base, errB = parseTime(base)
	c.Clock.Anchor, errA = parseTime(anchor)
	if err := errors.Join(errEpoch, errB, errA); err != nil {
		return c, err
	}
	c.Clock.Speed, c.Clock.Running = speed, running
	var err error
	c.Clock.Limit, err = scanNullTime(limit)
	return c, err
}

// DrillClockOf finds the clock of the drill run incidentID belongs to;
// ok is false for a real incident, and for a drill incident declared
// outside any run (its time is the wall clock's).
func (s *Store) DrillClockOf(ctx context.Context, incidentID string) (DrillClock, bool, error) {
	return drillClockOf(s.r.QueryRowContext(ctx, drillClockQuery, incidentID), incidentID)
}

// DrillClockOf is Store.DrillClockOf inside the transaction.
func (tx *Tx) DrillClockOf(ctx context.Context, incidentID string) (DrillClock, bool, error) {
	return drillClockOf(tx.queryRow(ctx, drillClockQuery, incidentID), incidentID)
}

// DrillRunClock reads the clock of a run inside the transaction.
func (tx *Tx) DrillRunClock(ctx context.Context, runID string) (DrillClock, error) {
	c, err := scanDrillClock(tx.queryRow(ctx, `SELECT id, status, epoch, speed, COALESCE(NULLIF(clock_base, ''), position),
		COALESCE(NULLIF(clock_anchor, ''), updated_at), clock_running, clock_limit FROM drill_runs WHERE id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("drill run %s: %w", runID, ErrNotFound)
	}
	return c, err
}

func drillClockOf(row *sql.Row, incidentID string) (DrillClock, bool, error) {
	c, err := scanDrillClock(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return DrillClock{}, false, nil
	case err != nil:
		return DrillClock{}, false, fmt.Errorf("read the drill clock of %s: %w", incidentID, err)
	}
	return c, true, nil
}

// drillClocks reads the clocks of the drill runs of the incidents in
// (a list of ? placeholders for args), by incident: what a list needs to
// show drill incidents on drill time.
func drillClocks(ctx context.Context, q querier, in string, args []any) (map[string]DrillClock, error) {
	rows, err := q.QueryContext(ctx, `SELECT i.incident_id, r.id, r.status, r.epoch, r.speed,
		COALESCE(NULLIF(r.clock_base, ''), r.position), COALESCE(NULLIF(r.clock_anchor, ''), r.updated_at),
		r.clock_running, r.clock_limit
		FROM (SELECT incident_id, id AS run_id FROM drill_runs WHERE incident_id IN (`+in+`)
		      UNION SELECT incident_id, run_id FROM drill_incidents WHERE incident_id IN (`+in+`)) i
		JOIN drill_runs r ON r.id = i.run_id`, append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read drill clocks: %w", err)
	}
	defer rows.Close()
	out := map[string]DrillClock{}
	for rows.Next() {
		var id string
		c, err := scanDrillClock(scanFunc(func(dest ...any) error { return rows.Scan(append([]any{&id}, dest...)...) }))
		if err != nil {
			return nil, fmt.Errorf("read drill clocks: %w", err)
		}
		out[id] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read drill clocks: %w", err)
	}
	return out, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// SeeDrillRun records that a process driving a run's clock is alive at
// the wall-clock time real (drill_heartbeats). It changes nothing a UI
// shows and nothing of the record, so it neither moves Version nor needs
// an audit entry.
func (s *Store) SeeDrillRun(ctx context.Context, runID string, real time.Time) error {
	return s.UpdateNoSync(ctx, func(tx *Tx) error { return tx.SeeDrillRun(ctx, runID, real) })
}

// SeeDrillRun is Store.SeeDrillRun inside the transaction.
func (tx *Tx) SeeDrillRun(ctx context.Context, runID string, real time.Time) error {
	if _, err := tx.exec(ctx, seeDrillRunQuery, runID, FormatTime(real)); err != nil {
		return fmt.Errorf("drill run %s: %w", runID, err)
	}
	return nil
}

const seeDrillRunQuery = "INSERT INTO drill_heartbeats (run_id, seen_at) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET seen_at = excluded.seen_at"

// ErrConflict: a drill run already has an incident (for that module).
var ErrConflict = errors.New("conflict")

// AttachDrillIncident makes incidentID the drill incident of a run (of
// its module, for a scenario module with an incident of its own) and logs
// it in the run's log as "declared" at the drill time at, in the
// transaction that declares the incident, so that no moment passes in
// which the incident exists without its run.
func (tx *Tx) AttachDrillIncident(ctx context.Context, runID, module, incidentID string, at time.Time, actor string) error {
	var (
		res written
		err error
	)
	if module == "" {
		res, err = tx.write(ctx, "drill_runs", `UPDATE drill_runs SET incident_id = ? WHERE id = ? AND incident_id IS NULL`, incidentID, runID)
	} else {
		res, err = tx.write(ctx, "drill_incidents", `INSERT INTO drill_incidents (run_id, module, incident_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, runID, module, incidentID)
	}
	if err != nil {
		return fmt.Errorf("attach %s to drill %s: %w", incidentID, runID, err)
	}
	if res.n == 0 {
		if module != "" {
			return fmt.Errorf("drill %s already has an incident for module %s: %w", runID, module, ErrConflict)
		}
		return fmt.Errorf("drill %s already has its incident: %w", runID, ErrConflict)
	}
	return tx.AppendDrillEvent(ctx, &DrillEvent{RunID: runID, Kind: "declared", DrillAt: at, RealAt: tx.st.clock.Now(), Actor: actor,
		Ref: incidentID, Value: module})
}

// DrillIncidents lists the incidents of a run's modules that have their
// own, by module.
func (s *Store) DrillIncidents(ctx context.Context, runID string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT module, incident_id FROM drill_incidents WHERE run_id = ?", runID)
	if err != nil {
		return nil, fmt.Errorf("read the incidents of drill %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var module, id string
		if err := rows.Scan(&module, &id); err != nil {
			return nil, fmt.Errorf("read the incidents of drill %s: %w", runID, err)
		}
		out[module] = id
	}
	return out, rows.Err()
}

// DrillRunState reads a run without its scenario: what a process playing
// the run reads again on every tick, to follow what other processes did.
func (s *Store) DrillRunState(ctx context.Context, id string) (DrillRun, error) {
	return one(s.r.QueryRowContext(ctx, "SELECT "+drillRunStateColumns+" FROM drill_runs WHERE id = ?", id),
		scanDrillRun, "drill run %s", id)
}

// drillRunStateColumns are drillRunColumns with an empty scenario.
const drillRunStateColumns = `num, id, scenario_id, scenario_title, scenario_version, scenario_hash, '' AS scenario,
	runbook_id, COALESCE(incident_id, ''), status, mode, speed, epoch, position, started_at, updated_at,
	ended_at, end_reason, created_by, ` + drillClockColumns

// DeliveredInjects lists the injects of a run delivered so far, in the
// order they were.
func (s *Store) DeliveredInjects(ctx context.Context, runID string) ([]string, error) {
	return deliveredInjects(ctx, s.r, runID)
}

// DeliveredInjects is Store.DeliveredInjects inside the transaction.
func (tx *Tx) DeliveredInjects(ctx context.Context, runID string) ([]string, error) {
	return deliveredInjects(ctx, prepared{tx}, runID)
}

func deliveredInjects(ctx context.Context, q querier, runID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT ref FROM drill_events WHERE run_id = ? AND kind = 'inject' ORDER BY seq", runID)
	if err != nil {
		return nil, fmt.Errorf("read the injects of drill %s: %w", runID, err)
	}
	return collect(rows, func(sc scanner) (string, error) {
		var ref string
		err := sc.Scan(&ref)
		return ref, err
	}, "read the injects of drill "+runID)
}

// DrillRunState is Store.DrillRunState inside the transaction.
func (tx *Tx) DrillRunState(ctx context.Context, id string) (DrillRun, error) {
	return one(tx.queryRow(ctx, "SELECT "+drillRunStateColumns+" FROM drill_runs WHERE id = ?", id),
		scanDrillRun, "drill run %s", id)
}

// MoveDrillClock sets a headless run's stopped clock to read t (and its
// position to t, if later), at the wall-clock time real: a replay moving
// on to its next action. Nobody did anything, so no one's audit entry
// records it (the record's own entry covers the changed row), and it
// commits without waiting for the disk: the action that follows it does,
// and takes it along.
func (s *Store) MoveDrillClock(ctx context.Context, runID string, t, real time.Time) error {
	return s.UpdateNoSync(ctx, func(tx *Tx) error {
		res, err := tx.write(ctx, "drill_runs", `UPDATE drill_runs SET clock_base = ?, clock_anchor = ?, clock_running = 0,
			position = max(position, ?) WHERE id = ? AND mode = ? AND status = ?`,
			FormatTime(t), FormatTime(real), FormatTime(t), runID, DrillModeHeadless, DrillRunning)
		if err != nil {
			return fmt.Errorf("move the clock of drill %s: %w", runID, err)
		}
		if res.n == 0 {
			return fmt.Errorf("drill %s is not a headless run in play: %w", runID, ErrNotFound)
		}
		return nil
	})
}
