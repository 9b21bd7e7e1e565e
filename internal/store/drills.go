package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/clock"
)

// Drill run statuses.
const (
	DrillRunning   = "running"
	DrillPaused    = "paused"
	DrillFinished  = "finished"
	DrillAbandoned = "abandoned"
)

// Drill clock modes: real time or accelerated, inject by inject (the
// facilitator releases each inject), or headless (scripted, no waiting).
const (
	DrillModeRealtime = "realtime"
	DrillModeManual   = "manual"
	DrillModeHeadless = "headless"
)

// Hot-wash entry kinds and action item statuses.
const (
	HotWashStrength    = "strength"
	HotWashImprovement = "improvement"

	ActionOpen   = "open"
	ActionClosed = "closed"
)

// DrillRun is one replay of a table-top scenario.
type DrillRun struct {
	ID              string          `json:"id"` // DR-0001
	Number          int64           `json:"number"`
	ScenarioID      string          `json:"scenario_id"`
	ScenarioTitle   string          `json:"scenario_title"`
	ScenarioVersion string          `json:"scenario_version"`
	ScenarioHash    string          `json:"scenario_hash,omitempty"`
	Scenario        json.RawMessage `json:"-"` // the scenario as played
	RunbookID       string          `json:"runbook_id"`
	IncidentID      string          `json:"incident_id,omitempty"`
	Status          string          `json:"status"` // running | paused | finished | abandoned
	Mode            string          `json:"mode"`   // realtime | manual | headless
	Speed           float64         `json:"speed"`
	Epoch           time.Time       `json:"epoch"`    // drill time at T+0
	Position        time.Time       `json:"position"` // drill time of the last recorded change
	StartedAt       time.Time       `json:"started_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	EndedAt         time.Time       `json:"ended_at,omitzero"`
	EndReason       string          `json:"end_reason,omitempty"`
	CreatedBy       string          `json:"created_by"`
	// Clock is the drill clock every process reads drill time from.
	Clock clock.Virtual `json:"-"`
	// SeenAt is when a process driving the clock last said it was alive
	// (drill_heartbeats).
	SeenAt time.Time `json:"-"`
}

// Now is the drill time at the wall-clock time real.
func (r DrillRun) Now(real time.Time) time.Time { return r.Clock.At(real) }

// Ended reports whether the run is finished or abandoned.
func (r DrillRun) Ended() bool { return r.Status == DrillFinished || r.Status == DrillAbandoned }

// DrillEvent is one entry of a run's append-only log.
type DrillEvent struct {
	ID      int64     `json:"id"`
	RunID   string    `json:"run_id"`
	Seq     int64     `json:"seq"`
	Kind    string    `json:"kind"`
	DrillAt time.Time `json:"drill_at"`
	RealAt  time.Time `json:"real_at"`
	Actor   string    `json:"actor"`
	Ref     string    `json:"ref,omitempty"`
	Value   string    `json:"value,omitempty"`
	Text    string    `json:"text,omitempty"`
	// Data holds what the other fields do not, as a JSON object (an
	// observation's kind); empty for most events.
	Data string `json:"data,omitempty"`
}

// HotWashEntry is a strength or an area for improvement noted in the hot
// wash.
type HotWashEntry struct {
	ID          int64  `json:"id"`
	RunID       string `json:"run_id"`
	Kind        string `json:"kind"` // strength | improvement
	Text        string `json:"text"`
	ObjectiveID string `json:"objective_id,omitempty"`
	// RootCause, for an area for improvement, is why it happened; and
	// Observations are the numbers of the run's observations it rests on
	// (1 is the first noted).
	RootCause    string    `json:"root_cause,omitempty"`
	Observations []int64   `json:"observations,omitempty"`
	Actor        string    `json:"actor"`
	At           time.Time `json:"at"`
}

// Feedback is a participant's feedback on a drill (the HSEEP participant
// feedback form): a rating of the exercise from 1 to 5 (0: none given)
// and what they say.
type Feedback struct {
	ID     int64     `json:"id"`
	RunID  string    `json:"run_id"`
	Person string    `json:"person"`
	Role   string    `json:"role,omitempty"`
	Rating int       `json:"rating,omitempty"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// ActionItem is an improvement-plan item: who will fix what by when.
type ActionItem struct {
	ID            int64     `json:"id"`
	RunID         string    `json:"run_id"`
	ScenarioTitle string    `json:"scenario_title,omitempty"` // of the run, filled by ActionItems
	Text          string    `json:"text"`
	Improvement   string    `json:"improvement,omitempty"`
	ObjectiveID   string    `json:"objective_id,omitempty"`
	Capability    string    `json:"capability,omitempty"`
	Element       string    `json:"element,omitempty"`      // POETE
	Organisation  string    `json:"organisation,omitempty"` // primary responsible organisation
	Owner         string    `json:"owner"`
	Start         string    `json:"start,omitempty"` // YYYY-MM-DD
	Due           string    `json:"due"`             // YYYY-MM-DD: the completion date
	Status        string    `json:"status"`
	CreatedAt     time.Time `json:"created_at"`
	CreatedBy     string    `json:"created_by"`
	ClosedAt      time.Time `json:"closed_at,omitzero"`
	ClosedBy      string    `json:"closed_by,omitempty"`
	CloseNote     string    `json:"close_note,omitempty"`
}

// DrillRunID renders a run number as its id.
func DrillRunID(num int64) string { return fmt.Sprintf("DR-%04d", num) }

const drillRunColumns = `num, id, scenario_id, scenario_title, scenario_version, scenario_hash, scenario,
	runbook_id, COALESCE(incident_id, ''), status, mode, speed, epoch, position, started_at, updated_at,
	ended_at, end_reason, created_by, ` + drillClockColumns

// drillClockColumns read a run's clock (a run recorded before the clock
// was stored stands at its position) and its last heartbeat.
const drillClockColumns = `COALESCE(NULLIF(clock_base, ''), position), COALESCE(NULLIF(clock_anchor, ''), updated_at),
	clock_running, clock_limit, (SELECT seen_at FROM drill_heartbeats h WHERE h.run_id = drill_runs.id)`

func scanDrillRun(sc scanner) (DrillRun, error) {
	var (
		r                                 DrillRun
		scenario                          string
		epoch, position, started, updated string
		base, anchor                      string
		ended, limit, seen                sql.NullString
	)
	err := sc.Scan(&r.Number, &r.ID, &r.ScenarioID, &r.ScenarioTitle, &r.ScenarioVersion, &r.ScenarioHash,
		&scenario, &r.RunbookID, &r.IncidentID, &r.Status, &r.Mode, &r.Speed, &epoch, &position, &started,
		&updated, &ended, &r.EndReason, &r.CreatedBy, &base, &anchor, &r.Clock.Running, &limit, &seen)
	if err != nil {
		return DrillRun{}, err
	}
	r.Scenario = json.RawMessage(scenario)
	for _, t := range []struct {
		src string
		dst *time.Time
	}{{epoch, &r.Epoch}, {position, &r.Position}, {started, &r.StartedAt}, {updated, &r.UpdatedAt},
		{base, &r.Clock.Base}, {anchor, &r.Clock.Anchor}} {
		if *t.dst, err = parseTime(t.src); err != nil {
			return DrillRun{}, err
		}
	}
	r.Clock.Speed = r.Speed
	if r.Clock.Limit, err = scanNullTime(limit); err != nil {
		return DrillRun{}, err
	}
	if r.SeenAt, err = scanNullTime(seen); err != nil {
		return DrillRun{}, err
	}
	r.EndedAt, err = scanNullTime(ended)
	return r, err
}

func emptyNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertDrillRun stores a new run, numbering it: sets r.Number and r.ID.
func (tx *Tx) InsertDrillRun(ctx context.Context, r *DrillRun) error {
	var num int64
	if err := tx.tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(num), 0) + 1 FROM drill_runs").Scan(&num); err != nil {
		return fmt.Errorf("number drill run: %w", err)
	}
	r.Number, r.ID = num, DrillRunID(num)
	scenario := string(r.Scenario)
	if scenario == "" {
		scenario = "{}"
	}
	r.Clock.Speed = r.Speed
	_, err := tx.write(ctx, "drill_runs", `INSERT INTO drill_runs (num, id, scenario_id, scenario_title, scenario_version,
		scenario_hash, scenario, runbook_id, incident_id, status, mode, speed, epoch, position, started_at,
		updated_at, ended_at, end_reason, created_by, clock_base, clock_anchor, clock_running, clock_limit)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		num, r.ID, r.ScenarioID, r.ScenarioTitle, r.ScenarioVersion, r.ScenarioHash, scenario, r.RunbookID,
		emptyNull(r.IncidentID), r.Status, r.Mode, r.Speed, FormatTime(r.Epoch), FormatTime(r.Position),
		FormatTime(r.StartedAt), FormatTime(r.UpdatedAt), nullTime(r.EndedAt), r.EndReason, r.CreatedBy,
		FormatTime(r.Clock.Base), FormatTime(r.Clock.Anchor), boolInt(r.Clock.Running), nullTime(r.Clock.Limit))
	if err != nil {
		return fmt.Errorf("insert drill run %s: %w", r.ID, err)
	}
	if !r.SeenAt.IsZero() {
		return tx.SeeDrillRun(ctx, r.ID, r.SeenAt)
	}
	return nil
}

// UpdateDrillRun writes the run's changing fields: incident, status, mode,
// speed, position, updated, end and the clock.
func (tx *Tx) UpdateDrillRun(ctx context.Context, r *DrillRun) error {
	r.Clock.Speed = r.Speed
	res, err := tx.write(ctx, "drill_runs", `UPDATE drill_runs SET incident_id = ?, status = ?, mode = ?, speed = ?,
		position = ?, updated_at = ?, ended_at = ?, end_reason = ?, clock_base = ?, clock_anchor = ?,
		clock_running = ?, clock_limit = ? WHERE id = ?`,
		emptyNull(r.IncidentID), r.Status, r.Mode, r.Speed, FormatTime(r.Position), FormatTime(r.UpdatedAt),
		nullTime(r.EndedAt), r.EndReason, FormatTime(r.Clock.Base), FormatTime(r.Clock.Anchor), boolInt(r.Clock.Running),
		nullTime(r.Clock.Limit), r.ID)
	if err != nil {
		return fmt.Errorf("update drill run %s: %w", r.ID, err)
	}
	if res.n == 0 {
		return fmt.Errorf("drill run %s: %w", r.ID, ErrNotFound)
	}
	return nil
}

// DrillRun reads a run inside the transaction.
func (tx *Tx) DrillRun(ctx context.Context, id string) (DrillRun, error) {
	return getDrillRun(ctx, tx.tx, id)
}

func getDrillRun(ctx context.Context, q querier, id string) (DrillRun, error) {
	return one(q.QueryRowContext(ctx, "SELECT "+drillRunColumns+" FROM drill_runs WHERE id = ?", id),
		scanDrillRun, "drill run %s", id)
}

// AppendDrillEvent appends e to its run's log; it sets e.ID and e.Seq.
func (tx *Tx) AppendDrillEvent(ctx context.Context, e *DrillEvent) error {
	if err := tx.tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM drill_events WHERE run_id = ?",
		e.RunID).Scan(&e.Seq); err != nil {
		return fmt.Errorf("number drill event: %w", err)
	}
	res, err := tx.write(ctx, "drill_events", `INSERT INTO drill_events (run_id, seq, kind, drill_at, real_at, actor, ref,
		value, text, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.RunID, e.Seq, e.Kind, FormatTime(e.DrillAt),
		FormatTime(e.RealAt), e.Actor, e.Ref, e.Value, e.Text, e.Data)
	if err != nil {
		return fmt.Errorf("record %s in drill %s: %w", e.Kind, e.RunID, err)
	}
	e.ID = res.id
	e.DrillAt, e.RealAt = e.DrillAt.UTC(), e.RealAt.UTC()
	return nil
}

// InsertHotWash stores a hot-wash entry and sets e.ID.
func (tx *Tx) InsertHotWash(ctx context.Context, e *HotWashEntry) error {
	obs, err := marshalJSON(e.Observations, "[]")
	if err != nil {
		return err
	}
	res, err := tx.write(ctx, "drill_hotwash", `INSERT INTO drill_hotwash (run_id, kind, text, objective_id, root_cause, observations, actor, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.RunID, e.Kind, e.Text, e.ObjectiveID, e.RootCause, obs, e.Actor, FormatTime(e.At))
	if err != nil {
		return fmt.Errorf("record hot wash of drill %s: %w", e.RunID, err)
	}
	e.ID = res.id
	return nil
}

// InsertFeedback stores a participant's feedback and sets f.ID.
func (tx *Tx) InsertFeedback(ctx context.Context, f *Feedback) error {
	res, err := tx.write(ctx, "drill_feedback", `INSERT INTO drill_feedback (run_id, person, role, rating, text, at)
		VALUES (?, ?, ?, ?, ?, ?)`, f.RunID, f.Person, f.Role, f.Rating, f.Text, FormatTime(f.At))
	if err != nil {
		return fmt.Errorf("record feedback on drill %s: %w", f.RunID, err)
	}
	f.ID = res.id
	return nil
}

// Feedback lists a run's participant feedback in the order it was given.
func (s *Store) Feedback(ctx context.Context, runID string) ([]Feedback, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, run_id, person, role, rating, text, at FROM drill_feedback
		WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("read feedback on %s: %w", runID, err)
	}
	return collect(rows, func(sc scanner) (Feedback, error) {
		var (
			f  Feedback
			at string
		)
		if err := sc.Scan(&f.ID, &f.RunID, &f.Person, &f.Role, &f.Rating, &f.Text, &at); err != nil {
			return f, err
		}
		var err error
		f.At, err = parseTime(at)
		return f, err
	}, "read feedback on "+runID)
}

// InsertActionItem stores an open action item and sets a.ID.
func (tx *Tx) InsertActionItem(ctx context.Context, a *ActionItem) error {
	res, err := tx.write(ctx, "drill_action_items", `INSERT INTO drill_action_items (run_id, text, improvement, objective_id,
		capability, element, organisation, owner, start, due, status, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.RunID, a.Text, a.Improvement, a.ObjectiveID, a.Capability, a.Element, a.Organisation, a.Owner, a.Start, a.Due,
		ActionOpen, FormatTime(a.CreatedAt), a.CreatedBy)
	if err != nil {
		return fmt.Errorf("record action item of drill %s: %w", a.RunID, err)
	}
	a.Status = ActionOpen
	a.ID = res.id
	return nil
}

// ActionItem reads one action item inside the transaction.
func (tx *Tx) ActionItem(ctx context.Context, id int64) (ActionItem, error) {
	items, err := actionItems(ctx, tx.tx, "a.id = ?", id)
	if err != nil {
		return ActionItem{}, err
	}
	if len(items) == 0 {
		return ActionItem{}, fmt.Errorf("action item %d: %w", id, ErrNotFound)
	}
	return items[0], nil
}

// CloseActionItem records that an action item was done.
func (tx *Tx) CloseActionItem(ctx context.Context, id int64, at time.Time, actor, note string) error {
	res, err := tx.write(ctx, "drill_action_items", `UPDATE drill_action_items SET status = ?, closed_at = ?, closed_by = ?,
		close_note = ? WHERE id = ? AND status = ?`, ActionClosed, FormatTime(at), actor, note, id, ActionOpen)
	if err != nil {
		return fmt.Errorf("close action item %d: %w", id, err)
	}
	if res.n == 0 {
		return fmt.Errorf("open action item %d: %w", id, ErrNotFound)
	}
	return nil
}

// DrillRun reads one run.
func (s *Store) DrillRun(ctx context.Context, id string) (DrillRun, error) {
	return getDrillRun(ctx, s.r, id)
}

// DrillRunFilter selects runs for DrillRuns.
type DrillRunFilter struct {
	Status     string // "" for all
	ScenarioID string // "" for all
	Limit      int    // 0: 50
}

// DrillRuns lists runs, most recent first.
func (s *Store) DrillRuns(ctx context.Context, f DrillRunFilter) ([]DrillRun, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.ScenarioID != "" {
		where, args = append(where, "scenario_id = ?"), append(args, f.ScenarioID)
	}
	q := "SELECT " + drillRunColumns + " FROM drill_runs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	rows, err := s.r.QueryContext(ctx, q+" ORDER BY num DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list drill runs: %w", err)
	}
	return collect(rows, scanDrillRun, "list drill runs")
}

// DrillRunForIncident finds the run whose drill incident is incidentID.
func (s *Store) DrillRunForIncident(ctx context.Context, incidentID string) (DrillRun, error) {
	return one(s.r.QueryRowContext(ctx, "SELECT "+drillRunColumns+" FROM drill_runs WHERE incident_id = ?", incidentID),
		scanDrillRun, "drill run of %s", incidentID)
}

// FindDrillIncident finds the oldest drill incident whose title starts
// with prefix: how a run finds its incident again when it was declared
// but the run was stopped before it recorded the link.
func (s *Store) FindDrillIncident(ctx context.Context, prefix string) (Incident, error) {
	return one(s.r.QueryRowContext(ctx, "SELECT "+incidentColumns+
		" FROM incidents WHERE drill = 1 AND substr(title, 1, ?) = ? ORDER BY num LIMIT 1", len([]rune(prefix)), prefix),
		scanIncident, "drill incident %q", prefix)
}

func scanDrillEvent(sc scanner) (DrillEvent, error) {
	var (
		e               DrillEvent
		drillAt, realAt string
	)
	err := sc.Scan(&e.ID, &e.RunID, &e.Seq, &e.Kind, &drillAt, &realAt, &e.Actor, &e.Ref, &e.Value, &e.Text, &e.Data)
	if err != nil {
		return e, err
	}
	if e.DrillAt, err = parseTime(drillAt); err != nil {
		return e, err
	}
	e.RealAt, err = parseTime(realAt)
	return e, err
}

// DrillEvents lists a run's log in order.
func (s *Store) DrillEvents(ctx context.Context, runID string) ([]DrillEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, run_id, seq, kind, drill_at, real_at, actor, ref, value, text, data
		FROM drill_events WHERE run_id = ? ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("read drill log of %s: %w", runID, err)
	}
	return collect(rows, scanDrillEvent, "read drill log of "+runID)
}

// HotWash lists a run's hot-wash entries in the order they were noted.
func (s *Store) HotWash(ctx context.Context, runID string) ([]HotWashEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, run_id, kind, text, objective_id, root_cause, observations, actor, at
		FROM drill_hotwash WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("read hot wash of %s: %w", runID, err)
	}
	defer rows.Close()
	out := []HotWashEntry{}
	for rows.Next() {
		var (
			e       HotWashEntry
			at, obs string
		)
		if err := rows.Scan(&e.ID, &e.RunID, &e.Kind, &e.Text, &e.ObjectiveID, &e.RootCause, &obs, &e.Actor, &at); err != nil {
			return nil, fmt.Errorf("read hot wash of %s: %w", runID, err)
		}
		if err := json.Unmarshal([]byte(obs), &e.Observations); err != nil {
			return nil, fmt.Errorf("read hot wash of %s: observations: %w", runID, err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read hot wash of %s: %w", runID, err)
	}
	return out, nil
}

// ActionItemFilter selects action items.
type ActionItemFilter struct {
	RunID  string // "" for every run
	Status string // open | closed | "" for both
}

// ActionItems lists action items: open ones by due date, others by id.
func (s *Store) ActionItems(ctx context.Context, f ActionItemFilter) ([]ActionItem, error) {
	var (
		where []string
		args  []any
	)
	if f.RunID != "" {
		where, args = append(where, "a.run_id = ?"), append(args, f.RunID)
	}
	if f.Status != "" {
		where, args = append(where, "a.status = ?"), append(args, f.Status)
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	return actionItems(ctx, s.r, cond, args...)
}

func actionItems(ctx context.Context, q querier, cond string, args ...any) ([]ActionItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.run_id, r.scenario_title, a.text, a.improvement,
		a.objective_id, a.capability, a.element, a.organisation, a.owner, a.start, a.due, a.status, a.created_at,
		a.created_by, a.closed_at, a.closed_by, a.close_note
		FROM drill_action_items a JOIN drill_runs r ON r.id = a.run_id
		WHERE `+cond+` ORDER BY a.status DESC, a.due, a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read action items: %w", err)
	}
	defer rows.Close()
	out := []ActionItem{}
	for rows.Next() {
		var (
			a       ActionItem
			created string
			closed  sql.NullString
		)
		if err := rows.Scan(&a.ID, &a.RunID, &a.ScenarioTitle, &a.Text, &a.Improvement, &a.ObjectiveID,
			&a.Capability, &a.Element, &a.Organisation, &a.Owner, &a.Start, &a.Due, &a.Status, &created, &a.CreatedBy,
			&closed, &a.ClosedBy, &a.CloseNote); err != nil {
			return nil, fmt.Errorf("read action items: %w", err)
		}
		if a.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if a.ClosedAt, err = scanNullTime(closed); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read action items: %w", err)
	}
	return out, nil
}

// DrillNotice is a notice of an incident in the outbox that was approved,
// or went out without needing approval: what scoring a drill counts.
type DrillNotice struct {
	ID       int64     `json:"id"`
	RuleID   string    `json:"rule_id"` // the runbook's notification id
	Audience string    `json:"audience"`
	Status   string    `json:"status"`
	At       time.Time `json:"at"` // approved; for one that needed no approval, triggered
}

// DrillNotices lists an incident's notices that were approved, or queued
// without needing approval, in the order that happened. The times are
// those of the incident's own clock (the trigger, the approval), never a
// delivery worker's.
func (s *Store) DrillNotices(ctx context.Context, incidentID string) ([]DrillNotice, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, rule_id, audience, status,
		COALESCE(approved_at, triggered_at) AS at
		FROM outbox WHERE incident_id = ? AND (approved_at IS NOT NULL OR status IN ('queued', 'sending', 'sent'))
		ORDER BY at, id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("read notices of %s: %w", incidentID, err)
	}
	defer rows.Close()
	out := []DrillNotice{}
	for rows.Next() {
		var (
			n  DrillNotice
			at string
		)
		if err := rows.Scan(&n.ID, &n.RuleID, &n.Audience, &n.Status, &at); err != nil {
			return nil, fmt.Errorf("read notices of %s: %w", incidentID, err)
		}
		if n.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read notices of %s: %w", incidentID, err)
	}
	return out, nil
}
