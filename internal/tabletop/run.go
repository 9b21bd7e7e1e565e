package tabletop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// Options say how a drill's clock runs.
type Options struct {
	// Speed is drill seconds per wall-clock second: 1 is real time, 60
	// plays an hour a minute. Zero means 1.
	Speed float64
	// Manual plays inject by inject: the clock runs at Speed after an
	// inject and waits at the next one until the facilitator releases it
	// (Next or Jump).
	Manual bool
	// Headless moves the clock only when told (Replay): nothing waits.
	Headless bool
	// Epoch is the drill time at T+0. Zero: the scenario's start ("Friday
	// 23:10": the latest such moment), or the wall-clock time at start.
	Epoch time.Time
}

// Run is one drill in progress or on record. Its methods are safe for
// concurrent use; it starts no goroutines: call Tick to let time pass.
//
// The drill clock lives in the database, with the run: every change of
// the run reads the run as stored and changes it in one transaction, so
// that several processes (the app, the console, the CLI, irtui serve) can
// play one drill, and Tick follows what the others did.
type Run struct {
	mu        sync.Mutex
	deps      Deps
	sc        *Scenario
	rb        *runbook.Runbook // nil if the runbook is no longer loaded
	rec       store.DrillRun   // as last read or written; guarded by mu
	id        string           // rec.ID and rec.Epoch, which never change,
	epoch     time.Time        // readable without mu
	svc       *incident.Service
	delivered []bool            // per inject, as last read
	modules   map[string]string // the incidents of modules with their own, by module, as last read
	seen      time.Time         // wall-clock time of the last heartbeat written
	// attached: the run was running in another process when this one
	// took it up (ResumeRun); leaving it does not pause it.
	attached bool
}

// Delivered is an inject that reached the players.
type Delivered struct {
	Index  int       `json:"index"`
	Inject *Inject   `json:"inject"`
	At     time.Time `json:"at"` // drill time
	Offset Offset    `json:"offset"`
}

// Status is a snapshot of a run for a facilitator screen.
type Status struct {
	RunID      string    `json:"run_id"`
	ScenarioID string    `json:"scenario_id"`
	Title      string    `json:"title"`
	State      string    `json:"state"` // running | paused | finished | abandoned
	Mode       string    `json:"mode"`  // realtime | manual | headless
	Speed      float64   `json:"speed"`
	Epoch      time.Time `json:"epoch"`
	Now        time.Time `json:"now"` // drill time
	Elapsed    Offset    `json:"elapsed"`
	IncidentID string    `json:"incident_id,omitempty"`
	// Module is the module of the latest inject delivered, if the
	// scenario has modules. ModuleIncident is the drill incident the team
	// works now (that module's own, or the scenario's; empty while it is
	// not declared), and ModuleRunbook the runbook it is declared with.
	Module         string `json:"module,omitempty"`
	ModuleIncident string `json:"module_incident,omitempty"`
	ModuleRunbook  string `json:"module_runbook,omitempty"`
	// Incidents are the incidents of modules with their own, by module.
	Incidents map[string]string `json:"incidents,omitempty"`
	Delivered int               `json:"delivered"`
	Injects   int               `json:"injects"`
	// Next is the next inject to deliver and when; nil when all are out.
	Next   *Inject `json:"next,omitempty"`
	NextAt Offset  `json:"next_at"`
	// Waiting: inject by inject, the clock has reached Next and waits for
	// the facilitator to release it.
	Waiting bool `json:"waiting"`
	// Attached: the run was running in another process when this one
	// took it up.
	Attached bool `json:"attached,omitempty"`
}

// TitlePrefix starts the title of a run's drill incident, so that
// everyone sees it is a drill.
func TitlePrefix(runID string) string { return "[DRILL " + runID + "] " }

// heartbeat is how often a process driving a running drill's clock
// records that it is alive; aliveFor is how long after its last heartbeat
// it counts as gone (ResumeRun then stops the clock where it stood).
const (
	heartbeat = 2 * time.Second
	aliveFor  = 10 * time.Second
)

// Start begins a drill of sc: it records the run and starts its clock at
// T+0. No inject is delivered until Tick (or, inject by inject, Next).
func Start(ctx context.Context, deps Deps, sc *Scenario, actor identity.Actor, opts Options) (*Run, error) {
	if err := deps.check(); err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, refused("no scenario")
	}
	rb, ok := deps.Runbooks.Get(sc.Runbook)
	if !ok {
		return nil, notFound("scenario %s uses runbook %q, which is not loaded", sc.ID, sc.Runbook)
	}
	realNow := deps.real().Now()
	epoch := opts.Epoch
	if epoch.IsZero() {
		epoch = realNow.Truncate(time.Second)
		if sc.Start != "" {
			spec, err := ParseStart(sc.Start)
			if err != nil {
				return nil, refused("scenario %s: %v", sc.ID, err)
			}
			epoch = spec.Epoch(realNow, deps.Policy.Location())
		}
	}
	mode, speed := store.DrillModeRealtime, opts.Speed
	if speed <= 0 {
		speed = 1
	}
	switch {
	case opts.Headless:
		mode, speed = store.DrillModeHeadless, 0
	case opts.Manual:
		mode = store.DrillModeManual
	}
	raw, err := json.Marshal(sc)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", sc.ID, err)
	}
	rec := store.DrillRun{ScenarioID: sc.ID, ScenarioTitle: sc.Title, ScenarioVersion: sc.Version,
		ScenarioHash: sc.Source.Hash, Scenario: raw, RunbookID: sc.Runbook, Status: store.DrillRunning,
		Mode: mode, Speed: speed, Epoch: epoch, Position: epoch, StartedAt: realNow, UpdatedAt: realNow,
		CreatedBy: actor.ID(), SeenAt: realNow,
		Clock: clock.Virtual{Base: epoch, Anchor: realNow, Running: mode != store.DrillModeHeadless}}
	delivered := make([]bool, len(sc.Injects))
	rec.Clock.Limit = limitOf(sc, rec, delivered)
	err = deps.Store.Update(ctx, func(tx *store.Tx) error {
		if err := checkActor(ctx, tx, actor); err != nil {
			return err
		}
		if err := tx.InsertDrillRun(ctx, &rec); err != nil {
			return err
		}
		if err := tx.AppendDrillEvent(ctx, &store.DrillEvent{RunID: rec.ID, Kind: "started", DrillAt: epoch,
			RealAt: realNow, Actor: actor.ID(), Ref: sc.ID, Value: modeText(mode, speed), Text: sc.Title}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: realNow, Actor: actor.ID(), Auth: actor.Auth(), Action: "drill_start",
			Outcome: store.OutcomeOK, Detail: fmt.Sprintf("%s: scenario %s, %s", rec.ID, sc.ID, modeText(mode, speed))})
	})
	var e *Error
	if errors.As(err, &e) {
		identity.Record(ctx, deps.Store, realNow, actor, "drill_start", "", store.OutcomeRefused, err.Error())
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("start drill of %s: %w", sc.ID, err)
	}
	r := newRun(deps, sc, rb, rec)
	r.seen = realNow
	return r, nil
}

func modeText(mode string, speed float64) string {
	switch mode {
	case store.DrillModeHeadless:
		return "headless"
	case store.DrillModeManual:
		return fmt.Sprintf("inject by inject, speed %g", speed)
	}
	if speed == 1 {
		return "real time"
	}
	return fmt.Sprintf("speed %g", speed)
}

func newRun(deps Deps, sc *Scenario, rb *runbook.Runbook, rec store.DrillRun) *Run {
	r := &Run{deps: deps, sc: sc, rb: rb, rec: rec, id: rec.ID, epoch: rec.Epoch, delivered: make([]bool, len(sc.Injects)),
		modules: map[string]string{}}
	r.svc = deps.Service
	if r.svc == nil {
		r.svc = &incident.Service{Store: deps.Store, Clock: deps.real()}
	}
	return r
}

// Open reads a run from the database, for its score, report, ratings and
// hot wash, or to follow it. Its clock is the drill clock as stored; use
// ResumeRun to carry on playing an interrupted drill.
func Open(ctx context.Context, deps Deps, runID string) (*Run, error) {
	if err := deps.check(); err != nil {
		return nil, err
	}
	rec, err := deps.Store.DrillRun(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("drill run %s does not exist; `irtui drill list` shows the runs", runID)
	}
	if err != nil {
		return nil, err
	}
	sc := new(Scenario)
	if err := json.Unmarshal(rec.Scenario, sc); err != nil {
		return nil, fmt.Errorf("drill run %s: stored scenario: %w", runID, err)
	}
	rb, _ := deps.Runbooks.Get(sc.Runbook)
	r := newRun(deps, sc, rb, rec)
	injects, err := deps.Store.DeliveredInjects(ctx, runID)
	if err != nil {
		return nil, err
	}
	r.markDelivered(injects)
	if len(sc.Modules) > 0 {
		if r.modules, err = deps.Store.DrillIncidents(ctx, runID); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// markDelivered sets the injects delivered, by id, and returns those
// that were not marked before.
func (r *Run) markDelivered(ids []string) []int {
	var fresh []int
	for _, id := range ids {
		if i := slices.IndexFunc(r.sc.Injects, func(in Inject) bool { return in.ID == id }); i >= 0 && !r.delivered[i] {
			r.delivered[i] = true
			fresh = append(fresh, i)
		}
	}
	return fresh
}

// ResumeRun takes up a drill that is not over: after a crash, after
// `quit`, or to play it from another process.
//
// A run that is paused stays paused at the drill time it was paused at.
// A running run whose driving process still says it is alive is attached
// to as it is: both processes now play it on the one clock. A running run
// whose process is gone (it crashed; nothing said it was alive for a
// while) is paused where its clock stood when the process was last seen
// (for older records: at the latest moment on record). opts.Speed and
// opts.Manual, when set, replace the run's speed and make it inject by
// inject; a headless drill resumes in real time. Start a paused clock
// with Resume.
func ResumeRun(ctx context.Context, deps Deps, runID string, actor identity.Actor, opts Options) (*Run, error) {
	if err := checkActor(ctx, deps.Store, actor); err != nil {
		identity.Record(ctx, deps.Store, deps.real().Now(), actor, "drill_resume", "", store.OutcomeRefused, runID+": "+err.Error())
		return nil, err
	}
	if opts.Headless {
		return nil, refused("a drill is resumed with a running clock; replay the actions on a new run instead")
	}
	r, err := Open(ctx, deps, runID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.rec
	if rec.Ended() {
		return nil, invalidState("drill %s was %s at %s; it cannot be resumed", runID, rec.Status,
			rec.EndedAt.Format(time.RFC3339))
	}
	realNow := deps.real().Now()
	alive := rec.Status == store.DrillRunning && rec.Mode != store.DrillModeHeadless &&
		!rec.SeenAt.IsZero() && realNow.Sub(rec.SeenAt) < aliveFor
	changed := opts.Manual && rec.Mode != store.DrillModeManual || opts.Speed > 0 && opts.Speed != rec.Speed
	incidentID := rec.IncidentID
	if incidentID == "" {
		// A drill incident declared for the run outside it, by its title.
		in, err := deps.Store.FindDrillIncident(ctx, TitlePrefix(runID))
		switch {
		case err == nil:
			if _, ok, err := deps.Store.DrillClockOf(ctx, in.ID); err != nil {
				return nil, err
			} else if !ok {
				incidentID = in.ID
			}
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	found := incidentID != rec.IncidentID
	if (alive || rec.Status == store.DrillPaused) && !changed && !found {
		r.attached = alive
		return r, nil
	}
	// Where the clock stands: paused or still running elsewhere, where it
	// reads; left running by a process that is gone, where it was when
	// that process was last seen, and never before the latest moment on
	// record.
	stood := func(cur store.DrillRun) (time.Time, error) {
		if cur.Status == store.DrillPaused || alive {
			return cur.Clock.At(realNow), nil
		}
		last, err := r.lastOnRecord(ctx, cur)
		if !cur.SeenAt.IsZero() && cur.Mode != store.DrillModeHeadless {
			last = later(last, cur.Clock.At(cur.SeenAt))
		}
		return last, err
	}
	err = r.change(ctx, actor, "drill_resume", true, func(tx *store.Tx, cur *store.DrillRun, _, real time.Time) ([]store.DrillEvent, string, error) {
		pos, err := stood(*cur)
		if err != nil {
			return nil, "", err
		}
		mode, speed := cur.Mode, cur.Speed
		switch {
		case opts.Manual:
			mode = store.DrillModeManual
		case mode == store.DrillModeHeadless:
			mode = store.DrillModeRealtime
		}
		if opts.Speed > 0 {
			speed = opts.Speed
		}
		if speed <= 0 {
			speed = 1
		}
		text := "resumed after an interruption"
		if alive {
			text = "taken up in another process"
		}
		if cur.IncidentID == "" && incidentID != "" {
			cur.IncidentID = incidentID
			text += "; found its incident " + incidentID
		}
		cur.Mode, cur.Speed = mode, speed
		running := alive && cur.Status == store.DrillRunning
		if !running {
			cur.Status = store.DrillPaused
		}
		cur.Clock = clock.Virtual{Base: pos, Anchor: real, Running: running}
		cur.Clock.Limit = limitOf(r.sc, *cur, r.delivered)
		cur.Position = later(cur.Position, pos)
		return []store.DrillEvent{{Kind: "reopened", DrillAt: pos, Ref: cur.IncidentID, Value: modeText(mode, speed), Text: text}}, text, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	r.attached = alive
	return r, nil
}

// lastOnRecord is the latest drill time on record: the last inject,
// clock change or action on the drill incident, all of which are stamped
// on the drill clock.
func (r *Run) lastOnRecord(ctx context.Context, rec store.DrillRun) (time.Time, error) {
	pos := rec.Position
	events, err := r.deps.Store.DrillEvents(ctx, rec.ID)
	if err != nil {
		return pos, err
	}
	for _, e := range events {
		pos = later(pos, e.DrillAt)
	}
	if rec.IncidentID != "" {
		err := r.deps.Store.EachTimeline(ctx, rec.IncidentID, func(e store.TimelineEntry) error {
			pos = later(pos, e.At)
			return nil
		})
		if err != nil {
			return pos, err
		}
	}
	return pos, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// runEdit changes a run as stored (cur, read in the transaction), at the
// drill time now and the wall-clock time real, and returns the log events
// and audit detail of the change.
type runEdit func(tx *store.Tx, cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error)

// change persists one change of the run in one transaction: it reads the
// run as stored, lets fn change it (when write is set: written back; a
// run that has ended is then refused), appends fn's log events and
// extra's writes and an audit entry. The run keeps the stored record and
// the injects delivered when the transaction commits.
func (r *Run) change(ctx context.Context, actor identity.Actor, action string, write bool, fn runEdit, extra func(*store.Tx) error) error {
	realNow := r.deps.real().Now()
	var (
		next     store.DrillRun
		injects  []string
		readBack bool
	)
	err := r.deps.Store.Update(ctx, func(tx *store.Tx) error {
		if err := checkActor(ctx, tx, actor); err != nil {
			return err
		}
		cur, err := tx.DrillRunState(ctx, r.id)
		if err != nil {
			return err
		}
		if write && cur.Ended() {
			return invalidState("drill %s was %s at %s", cur.ID, cur.Status, cur.EndedAt.Format(time.RFC3339))
		}
		now := cur.Clock.At(realNow)
		if cur.Ended() && now.Before(cur.Position) {
			now = cur.Position
		}
		events, detail, err := fn(tx, &cur, now, realNow)
		if err != nil {
			return err
		}
		if write {
			cur.UpdatedAt = realNow
			if err := tx.UpdateDrillRun(ctx, &cur); err != nil {
				return err
			}
			if cur.Status == store.DrillRunning && cur.Mode != store.DrillModeHeadless {
				// This process plays it: it is alive.
				if err := tx.SeeDrillRun(ctx, r.id, realNow); err != nil {
					return err
				}
				cur.SeenAt = realNow
			}
		}
		for i := range events {
			e := events[i]
			e.RunID = r.id
			if e.RealAt.IsZero() {
				e.RealAt = realNow
			}
			if e.Actor == "" {
				e.Actor = actor.ID()
			}
			if e.DrillAt.IsZero() {
				e.DrillAt = now
			}
			if err := tx.AppendDrillEvent(ctx, &e); err != nil {
				return err
			}
			readBack = readBack || e.Kind == "inject"
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		if readBack {
			if injects, err = tx.DeliveredInjects(ctx, r.id); err != nil {
				return err
			}
		}
		next = cur
		if detail == "" && len(events) == 0 {
			return nil // a headless run's clock moved on: nobody did anything
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: realNow, Actor: actor.ID(), Auth: actor.Auth(), Action: action,
			IncidentID: cur.IncidentID, Outcome: store.OutcomeOK, Detail: r.id + ": " + detail})
	})
	if err != nil {
		return r.refuse(ctx, actor, action, err)
	}
	next.Scenario = r.rec.Scenario
	r.rec = next
	if write && next.SeenAt.Equal(realNow) {
		r.seen = realNow
	}
	r.markDelivered(injects)
	return nil
}

// refuse audits a refused or failed change in a transaction of its own
// (best effort) and returns err.
func (r *Run) refuse(ctx context.Context, actor identity.Actor, action string, err error) error {
	outcome := store.OutcomeFailed
	var e *Error
	if errors.As(err, &e) {
		outcome = store.OutcomeRefused
	}
	identity.Record(ctx, r.deps.Store, r.deps.real().Now(), actor, action, r.rec.IncidentID, outcome,
		r.rec.ID+": "+err.Error())
	return err
}

// checkActor establishes who acts on a drill, where a claim (--as)
// holds: see identity.Check. A refusal is an *Error of kind ErrRefused.
func checkActor(ctx context.Context, r identity.Reader, actor identity.Actor) error {
	_, err := identity.Check(ctx, r, actor, identity.Scope{Drill: true})
	var d *identity.Denied
	if errors.As(err, &d) {
		return &Error{Kind: ErrRefused, Msg: d.Msg}
	}
	return err
}

// ID is the run's id (DR-0001).
func (r *Run) ID() string { return r.id }

// Scenario is the scenario as played. Treat it as read-only.
func (r *Run) Scenario() *Scenario { return r.sc }

// Runbook is the runbook of the drill incident; nil if it is no longer
// loaded.
func (r *Run) Runbook() *runbook.Runbook { return r.rb }

// Record is the run as stored.
func (r *Run) Record() store.DrillRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec
}

// runClock is a run's drill clock as a clock.Clock.
type runClock struct{ r *Run }

func (c runClock) Now() time.Time {
	real := c.r.deps.real().Now()
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	return c.r.rec.Clock.At(real)
}

// Clock is the drill clock, as this process last read it from the
// database (Tick reads it again).
func (r *Run) Clock() clock.Clock { return runClock{r} }

// Service is the incident service the drill incident is worked with. It
// is the app's or the CLI's own, on the wall clock: the service stamps a
// drill incident's actions with the drill clock it reads from the
// database, as it does for every process.
func (r *Run) Service() *incident.Service { return r.svc }

// IncidentID is the drill incident, once declared or linked.
func (r *Run) IncidentID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec.IncidentID
}

// Status is a snapshot of the run at the wall-clock time realNow.
func (r *Run) Status(realNow time.Time) Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.rec.Clock.At(realNow)
	if r.rec.Ended() {
		now = later(now, r.rec.Position)
	}
	s := Status{RunID: r.rec.ID, ScenarioID: r.sc.ID, Title: r.sc.Title, State: r.rec.Status, Mode: r.rec.Mode,
		Speed: r.rec.Speed, Epoch: r.rec.Epoch, Now: now, Elapsed: Offset(now.Sub(r.rec.Epoch)),
		IncidentID: r.rec.IncidentID, Injects: len(r.sc.Injects), Attached: r.attached}
	for i, d := range r.delivered {
		if d {
			s.Delivered++
			continue
		}
		if s.Next == nil {
			s.Next, s.NextAt = &r.sc.Injects[i], Offset(r.sc.Injects[i].Offset)
		}
	}
	if s.Next != nil && r.rec.Mode == store.DrillModeManual && !r.rec.Ended() {
		s.Waiting = !now.Before(r.rec.Epoch.Add(time.Duration(s.NextAt)))
	}
	s.ModuleIncident, s.ModuleRunbook = r.rec.IncidentID, r.sc.Runbook
	if len(r.sc.Modules) > 0 {
		s.Incidents = maps.Clone(r.modules)
		if i := r.current(); i >= 0 {
			in := &r.sc.Injects[i]
			s.Module = in.Module
			if m := r.sc.IncidentModule(in); m != "" {
				s.ModuleIncident, s.ModuleRunbook = r.modules[m], r.sc.RunbookOf(m)
			}
		}
	}
	return s
}

// current is the index of the latest inject delivered, or -1.
func (r *Run) current() int {
	for i := len(r.delivered) - 1; i >= 0; i-- {
		if r.delivered[i] {
			return i
		}
	}
	return -1
}

// IncidentFor is the drill incident a module's injects are played on:
// the module's own, or the scenario's ("" while not declared).
func (r *Run) IncidentFor(module string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.incidentFor(module)
}

func (r *Run) incidentFor(module string) string {
	if module == "" {
		return r.rec.IncidentID
	}
	return r.modules[module]
}

// RunbookFor is the runbook of a module's incident ("" : the scenario's);
// nil if it is not loaded.
func (r *Run) RunbookFor(module string) *runbook.Runbook {
	if module == "" {
		return r.rb
	}
	rb, _ := r.deps.Runbooks.Get(r.sc.RunbookOf(module))
	return rb
}

// CurrentModule is the module whose incident the team works now: that of
// the latest inject delivered, when it has an incident of its own;
// otherwise "" (the scenario's incident).
func (r *Run) CurrentModule() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := r.current(); i >= 0 {
		return r.sc.IncidentModule(&r.sc.Injects[i])
	}
	return ""
}

// Delivered lists the injects delivered so far, in order.
func (r *Run) Delivered() []Delivered {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Delivered
	for i, d := range r.delivered {
		if d {
			out = append(out, r.delivery(i))
		}
	}
	return out
}

func (r *Run) delivery(i int) Delivered {
	in := &r.sc.Injects[i]
	return Delivered{Index: i, Inject: in, At: r.rec.Epoch.Add(in.Offset), Offset: Offset(in.Offset)}
}

func (r *Run) requireLive(doing string) error {
	if r.rec.Ended() {
		return invalidState("cannot %s: drill %s was %s", doing, r.rec.ID, r.rec.Status)
	}
	return nil
}

// Tick lets time pass: it reads the run again (another process may have
// released an inject, paused the clock or ended the drill), delivers the
// injects that became due on a running real-time clock by the wall-clock
// time realNow, and returns the injects delivered since the last Tick, by
// this process or another. While the drill runs it records, every few
// seconds, that this process is alive. The TUI calls it on each tick of
// its own timer.
func (r *Run) Tick(ctx context.Context, realNow time.Time) ([]Delivered, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, err := r.deps.Store.DrillRunState(ctx, r.id)
	if err != nil {
		return nil, err
	}
	injects, err := r.deps.Store.DeliveredInjects(ctx, r.id)
	if err != nil {
		return nil, err
	}
	if len(r.sc.Modules) > 0 {
		if r.modules, err = r.deps.Store.DrillIncidents(ctx, r.id); err != nil {
			return nil, err
		}
	}
	rec.Scenario = r.rec.Scenario
	r.rec = rec
	fresh := r.markDelivered(injects)
	if !rec.Ended() && rec.Status == store.DrillRunning && rec.Mode == store.DrillModeRealtime {
		if due := r.due(rec.Clock.At(realNow)); len(due) > 0 {
			// The drill clock delivers, on behalf of whoever started the run.
			actor := identity.Actor{Person: r.rec.CreatedBy, Method: identity.System}
			more, err := r.deliverUpTo(ctx, actor, rec.Clock.At(realNow), nil)
			if err != nil {
				return nil, err
			}
			fresh = append(fresh, more...)
		}
	}
	if !rec.Ended() && rec.Status == store.DrillRunning && rec.Mode != store.DrillModeHeadless && realNow.Sub(r.seen) >= heartbeat {
		if err := r.deps.Store.SeeDrillRun(ctx, r.id, realNow); err != nil {
			return nil, err
		}
		r.seen, r.rec.SeenAt = realNow, realNow
	}
	slices.Sort(fresh)
	out := make([]Delivered, 0, len(fresh))
	for _, i := range slices.Compact(fresh) {
		out = append(out, r.delivery(i))
	}
	return out, nil
}

// due lists the injects not yet delivered that are due by upTo.
func (r *Run) due(upTo time.Time) []int {
	var idx []int
	for i, in := range r.sc.Injects {
		if !r.delivered[i] && !r.rec.Epoch.Add(in.Offset).After(upTo) {
			idx = append(idx, i)
		}
	}
	return idx
}

// deliverUpTo delivers every inject not yet delivered (as stored) that is
// due at or before upTo, in one transaction, with then's changes of the
// run and its events after them, and returns the injects it delivered.
func (r *Run) deliverUpTo(ctx context.Context, actor identity.Actor, upTo time.Time,
	then func(cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error)) ([]int, error) {
	var idx []int
	err := r.change(ctx, actor, "drill_inject", true, func(tx *store.Tx, cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error) {
		delivered, err := tx.DeliveredInjects(ctx, r.id)
		if err != nil {
			return nil, "", err
		}
		done := make([]bool, len(r.sc.Injects))
		for _, id := range delivered {
			if i := slices.IndexFunc(r.sc.Injects, func(in Inject) bool { return in.ID == id }); i >= 0 {
				done[i] = true
			}
		}
		// The reading now, with the clock's present limit: releasing an
		// inject moves the limit, not the clock.
		cur.Clock = cur.Clock.Hold(real, cur.Clock.Running)
		idx = idx[:0]
		var (
			events []store.DrillEvent
			names  []string
		)
		for i, in := range r.sc.Injects {
			at := r.rec.Epoch.Add(in.Offset)
			if done[i] || at.After(upTo) {
				continue
			}
			done[i] = true
			idx = append(idx, i)
			names = append(names, in.ID)
			events = append(events, store.DrillEvent{Kind: "inject", DrillAt: at, Ref: in.ID, Value: in.Channel, Actor: actor.ID()})
		}
		detail := ""
		if len(names) > 0 {
			detail = "delivered " + strings.Join(names, ", ")
		}
		if then != nil {
			more, d, err := then(cur, now, real)
			if err != nil {
				return nil, "", err
			}
			events = append(events, more...)
			if d != "" && detail != "" {
				d += "; " + detail
			}
			detail = cmpOr(d, detail)
		}
		cur.Clock.Limit = limitOf(r.sc, *cur, done)
		return events, detail, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return idx, nil
}

// limitOf is where an inject-by-inject clock waits: at the first inject
// not yet delivered. Other clocks do not wait.
func limitOf(sc *Scenario, rec store.DrillRun, delivered []bool) time.Time {
	if rec.Mode != store.DrillModeManual {
		return time.Time{}
	}
	for i, d := range delivered {
		if !d {
			return rec.Epoch.Add(sc.Injects[i].Offset)
		}
	}
	return time.Time{}
}

// Next releases the next inject (with any due at the same time), moving
// the drill clock forward to it if it is not there yet.
func (r *Run) Next(ctx context.Context, actor identity.Actor) ([]Delivered, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.Index(r.delivered, false)
	if i < 0 {
		return nil, r.refuse(ctx, actor, "drill_next", invalidState("every inject of drill %s is already delivered", r.rec.ID))
	}
	return r.advance(ctx, actor, i, "next")
}

// Jump moves the drill clock forward to an inject and delivers it, with
// every inject before it not yet delivered.
func (r *Run) Jump(ctx context.Context, actor identity.Actor, injectID string) ([]Delivered, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.sc.Injects, func(in Inject) bool { return in.ID == injectID })
	switch {
	case i < 0:
		return nil, r.refuse(ctx, actor, "drill_jump", notFound("scenario %s has no inject %q%s", r.sc.ID, injectID,
			suggestName(injectID, injectIDs(r.sc))))
	case r.delivered[i]:
		return nil, r.refuse(ctx, actor, "drill_jump", invalidState("inject %q was already delivered", injectID))
	}
	return r.advance(ctx, actor, i, "jumped")
}

func (r *Run) advance(ctx context.Context, actor identity.Actor, i int, kind string) ([]Delivered, error) {
	if err := r.requireLive("release an inject"); err != nil {
		return nil, r.refuse(ctx, actor, "drill_"+kind, err)
	}
	in := r.sc.Injects[i]
	target := r.rec.Epoch.Add(in.Offset)
	idx, err := r.deliverUpTo(ctx, actor, target, func(cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error) {
		pos := later(now, target)
		if pos.After(now) {
			cur.Clock = cur.Clock.Set(pos, real)
		}
		cur.Position = later(cur.Position, pos)
		return []store.DrillEvent{{Kind: kind, DrillAt: pos, Ref: in.ID}}, kind + " " + in.ID, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Delivered, 0, len(idx))
	for _, i := range idx {
		out = append(out, r.delivery(i))
	}
	return out, nil
}

// Pause stops the drill clock. While it is paused, nothing can be done on
// the drill incident.
func (r *Run) Pause(ctx context.Context, actor identity.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.change(ctx, actor, "drill_pause", true, func(_ *store.Tx, cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error) {
		switch {
		case cur.Mode == store.DrillModeHeadless:
			return nil, "", invalidState("drill %s is headless: its clock does not run", cur.ID)
		case cur.Status == store.DrillPaused:
			return nil, "", invalidState("drill %s is already paused", cur.ID)
		}
		cur.Status, cur.Clock = store.DrillPaused, cur.Clock.Hold(real, false)
		cur.Position = later(cur.Position, now)
		return []store.DrillEvent{{Kind: "paused", DrillAt: now}}, "paused at " + FormatOffset(now.Sub(cur.Epoch)), nil
	}, nil)
}

// Resume starts the drill clock again after Pause (or ResumeRun).
func (r *Run) Resume(ctx context.Context, actor identity.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.change(ctx, actor, "drill_resume", true, func(_ *store.Tx, cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error) {
		if cur.Status != store.DrillPaused {
			return nil, "", invalidState("drill %s is not paused", cur.ID)
		}
		cur.Status, cur.Clock = store.DrillRunning, cur.Clock.Hold(real, true)
		return []store.DrillEvent{{Kind: "resumed", DrillAt: now}}, "resumed at " + FormatOffset(now.Sub(cur.Epoch)), nil
	}, nil)
}

// SetSpeed changes how fast the drill clock runs (drill seconds per
// wall-clock second), and whether injects wait for the facilitator.
func (r *Run) SetSpeed(ctx context.Context, actor identity.Actor, speed float64, manual bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if speed <= 0 || speed > 10000 {
		return r.refuse(ctx, actor, "drill_speed", refused("speed %g is out of range: use a number from 0.1 to 10000", speed))
	}
	mode := store.DrillModeRealtime
	if manual {
		mode = store.DrillModeManual
	}
	delivered := slices.Clone(r.delivered)
	return r.change(ctx, actor, "drill_speed", true, func(_ *store.Tx, cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error) {
		if cur.Mode == store.DrillModeHeadless {
			return nil, "", invalidState("drill %s is headless", cur.ID)
		}
		cur.Clock = cur.Clock.Hold(real, cur.Clock.Running)
		cur.Speed, cur.Mode = speed, mode
		cur.Clock.Limit = limitOf(r.sc, *cur, delivered)
		return []store.DrillEvent{{Kind: "speed", DrillAt: now, Value: modeText(mode, speed)}}, modeText(mode, speed), nil
	}, nil)
}

// Finish ends play: the drill incident is closed with the run. Expected
// actions not done by now are missed, those of injects never delivered
// are not played. Ratings, observations, the hot wash and feedback may
// still be added.
func (r *Run) Finish(ctx context.Context, actor identity.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.end(ctx, actor, store.DrillFinished, "")
}

// Abandon ends the drill without playing it to the end, such as after an
// interruption nobody wants to resume; the reason is required. Only what
// was delivered is scored.
func (r *Run) Abandon(ctx context.Context, actor identity.Actor, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return r.refuse(ctx, actor, "drill_abandon", refused("abandoning drill %s needs a reason", r.rec.ID))
	}
	return r.end(ctx, actor, store.DrillAbandoned, reason)
}

func (r *Run) end(ctx context.Context, actor identity.Actor, status, reason string) error {
	verb := map[string]string{store.DrillFinished: "finish", store.DrillAbandoned: "abandon"}[status]
	if err := r.requireLive(verb); err != nil {
		return r.refuse(ctx, actor, "drill_"+verb, err)
	}
	// The drill incidents are closed first, while the run is live: a
	// drill's incident does not stay open among the real ones.
	why := fmt.Sprintf("drill %s %s", r.id, status)
	if reason != "" {
		why += ": " + reason
	}
	incidents, err := r.incidents(ctx)
	if err != nil {
		return err
	}
	for _, id := range incidents {
		if err := r.svc.EndDrill(ctx, actor, id, why); err != nil {
			return fmt.Errorf("close the drill incident %s: %w", id, err)
		}
	}
	return r.change(ctx, actor, "drill_"+verb, true, func(_ *store.Tx, cur *store.DrillRun, now, real time.Time) ([]store.DrillEvent, string, error) {
		t := later(now, cur.Position)
		cur.Status, cur.EndedAt, cur.EndReason, cur.Position = status, real, reason, t
		cur.Clock = clock.Virtual{Base: t, Anchor: real}
		return []store.DrillEvent{{Kind: status, DrillAt: t, Text: reason}}, status + " at " + FormatOffset(t.Sub(cur.Epoch)), nil
	}, nil)
}

// incidents lists the run's drill incidents: its own, then those of its
// modules.
func (r *Run) incidents(ctx context.Context) ([]string, error) {
	var out []string
	if r.rec.IncidentID != "" {
		out = append(out, r.rec.IncidentID)
	}
	byModule, err := r.deps.Store.DrillIncidents(ctx, r.id)
	if err != nil {
		return nil, err
	}
	for _, m := range r.sc.Modules {
		if id := byModule[m.ID]; id != "" {
			out = append(out, id)
		}
	}
	return out, nil
}

// Declare declares the drill incident with the real incident service:
// drill-flagged, with the run's id in its title, stamped on the drill
// clock and recorded as the run's incident in the same transaction. For
// a scenario module with an incident of its own, d.DrillModule names the
// module, and d's runbook is the module's.
func (r *Run) Declare(ctx context.Context, actor identity.Actor, d incident.Declaration) (incident.Incident, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	module := d.DrillModule
	want := r.sc.RunbookOf(module)
	m, isModule := r.sc.Module(module)
	switch {
	case r.rec.Ended():
		return incident.Incident{}, r.refuse(ctx, actor, "drill_declare", r.requireLive("declare the drill incident"))
	case module != "" && (!isModule || !m.OwnIncident(r.sc)):
		return incident.Incident{}, r.refuse(ctx, actor, "drill_declare",
			notFound("scenario %s has no module %q with an incident of its own", r.sc.ID, module))
	case r.incidentFor(module) != "":
		return incident.Incident{}, r.refuse(ctx, actor, "drill_declare",
			invalidState("drill %s already has its incident%s, %s", r.rec.ID, ofModule(module), r.incidentFor(module)))
	case d.RunbookID != want:
		return incident.Incident{}, r.refuse(ctx, actor, "drill_declare",
			refused("scenario %s%s is played with runbook %s, not %s", r.sc.ID, ofModule(module), want, d.RunbookID))
	}
	d.Drill, d.DrillRun = true, r.id
	prefix := TitlePrefix(r.rec.ID)
	if !strings.HasPrefix(d.Title, prefix) {
		d.Title = prefix + strings.TrimSpace(d.Title)
	}
	in, err := r.svc.Declare(ctx, actor, d)
	if err != nil {
		return incident.Incident{}, err
	}
	return in, r.reload(ctx)
}

func ofModule(module string) string {
	if module == "" {
		return ""
	}
	return " (module " + module + ")"
}

// reload reads the run again as stored.
func (r *Run) reload(ctx context.Context) error {
	rec, err := r.deps.Store.DrillRunState(ctx, r.id)
	if err != nil {
		return err
	}
	if len(r.sc.Modules) > 0 {
		if r.modules, err = r.deps.Store.DrillIncidents(ctx, r.id); err != nil {
			return err
		}
	}
	rec.Scenario = r.rec.Scenario
	r.rec = rec
	return nil
}

// DeclareAnswers classifies answers with the scenario's runbook under the
// policy (unanswered questions count as their worst case) and declares the
// drill incident. aware is when the organisation became aware (zero: now
// on the drill clock).
func (r *Run) DeclareAnswers(ctx context.Context, actor identity.Actor, title string, answers classify.Answers, customers []string,
	aware time.Time) (incident.Incident, error) {
	return r.DeclareModuleAnswers(ctx, actor, "", title, answers, customers, aware)
}

// DeclareModuleAnswers is DeclareAnswers for the incident of a scenario
// module with one of its own ("": the scenario's), with its runbook.
func (r *Run) DeclareModuleAnswers(ctx context.Context, actor identity.Actor, module, title string, answers classify.Answers,
	customers []string, aware time.Time) (incident.Incident, error) {
	rb := r.RunbookFor(module)
	if rb == nil {
		return incident.Incident{}, notFound("runbook %s is not loaded", r.sc.RunbookOf(module))
	}
	now := r.Clock().Now()
	if aware.IsZero() {
		aware = now
	}
	v, err := classify.Classify(rb, answers, r.deps.Policy, classify.Events{Aware: aware, Classified: now}, nil)
	if err != nil {
		return incident.Incident{}, err
	}
	if !v.Incident {
		return incident.Incident{}, refused("the answers classify this as an event, not an incident: " +
			"a drill needs an incident to work; change the answers")
	}
	d := incident.NewDeclaration(rb, v, answers)
	d.Title, d.Customers, d.AwareAt, d.DrillModule = title, customers, aware, module
	return r.Declare(ctx, actor, d)
}

// Link records an incident declared elsewhere (drill-flagged, with the
// scenario's runbook) as the run's drill incident.
func (r *Run) Link(ctx context.Context, actor identity.Actor, incidentID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.requireLive("link an incident"); err != nil {
		return r.refuse(ctx, actor, "drill_link", err)
	}
	if r.rec.IncidentID != "" {
		return r.refuse(ctx, actor, "drill_link", invalidState("drill %s already has its incident, %s", r.rec.ID, r.rec.IncidentID))
	}
	d, err := r.deps.Store.IncidentHead(ctx, incidentID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return r.refuse(ctx, actor, "drill_link", notFound("incident %s does not exist", incidentID))
	case err != nil:
		return err
	case !d.Incident.Drill:
		return r.refuse(ctx, actor, "drill_link", refused("%s is not a drill incident; a drill never touches a real one", incidentID))
	case d.Incident.RunbookID != r.sc.Runbook:
		return r.refuse(ctx, actor, "drill_link", refused("%s uses runbook %s; scenario %s is played with %s",
			incidentID, d.Incident.RunbookID, r.sc.ID, r.sc.Runbook))
	}
	if _, ok, err := r.deps.Store.DrillClockOf(ctx, incidentID); err != nil {
		return err
	} else if ok {
		other, _ := r.deps.Store.DrillRunForIncident(ctx, incidentID)
		return r.refuse(ctx, actor, "drill_link", invalidState("%s is already the incident of drill %s", incidentID, cmpOr(other.ID, "another run")))
	}
	return r.change(ctx, actor, "drill_link", true, func(_ *store.Tx, cur *store.DrillRun, now, _ time.Time) ([]store.DrillEvent, string, error) {
		if cur.IncidentID != "" {
			return nil, "", invalidState("drill %s already has its incident, %s", cur.ID, cur.IncidentID)
		}
		cur.IncidentID, cur.Position = incidentID, later(cur.Position, now)
		return []store.DrillEvent{{Kind: "linked", DrillAt: now, Ref: incidentID}}, "linked " + incidentID, nil
	}, nil)
}

// requireIncident returns the id of the drill incident of a module (""
// : the scenario's), or an error saying to declare it first.
func (r *Run) requireIncident(module string) (string, error) {
	if id := r.incidentFor(module); id != "" {
		return id, nil
	}
	return "", invalidState("drill %s has no incident%s yet: declare it first", r.rec.ID, ofModule(module))
}

// lastInject is the id of the latest delivered inject, the context of an
// observation.
func (r *Run) lastInject() string {
	for i := len(r.delivered) - 1; i >= 0; i-- {
		if r.delivered[i] {
			return r.sc.Injects[i].ID
		}
	}
	return ""
}

// note logs one facilitator's entry (an observation, a mark, a rating) at
// the drill time, as a change that leaves the run itself alone: it is
// taken after play too.
func (r *Run) note(ctx context.Context, actor identity.Actor, action, detail string, ev store.DrillEvent) error {
	return r.change(ctx, actor, action, false, func(*store.Tx, *store.DrillRun, time.Time, time.Time) ([]store.DrillEvent, string, error) {
		return []store.DrillEvent{ev}, detail, nil
	}, nil)
}

// Observation kinds: what an evaluator saw was done well, what should
// improve, or neither.
const (
	ObserveStrength    = "strength"
	ObserveImprovement = "improvement"
)

// ObservationInput is an evaluator's observation.
type ObservationInput struct {
	Objective string // the objective it is about, if any
	Kind      string // ObserveStrength, ObserveImprovement, or "" for a plain note
	Text      string
}

// Observe records an evaluator's observation, about an objective or
// (Objective empty) the drill in general, as a strength, an area for
// improvement, or a plain note.
func (r *Run) Observe(ctx context.Context, actor identity.Actor, in ObservationInput) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := strings.TrimSpace(in.Text)
	switch {
	case text == "":
		return r.refuse(ctx, actor, "drill_observe", refused("an observation needs some text"))
	case in.Kind != "" && in.Kind != ObserveStrength && in.Kind != ObserveImprovement:
		return r.refuse(ctx, actor, "drill_observe", refused("an observation is a strength, an improvement or a note, not %q", in.Kind))
	}
	if in.Objective != "" {
		if _, ok := r.sc.Objective(in.Objective); !ok {
			return r.refuse(ctx, actor, "drill_observe", notFound("scenario %s has no objective %q%s", r.sc.ID, in.Objective,
				suggestName(in.Objective, objectiveIDs(r.sc))))
		}
	}
	data := ""
	if in.Kind != "" {
		data = `{"kind":"` + in.Kind + `"}`
	}
	return r.note(ctx, actor, "drill_observe", firstLine(text),
		store.DrillEvent{Kind: "observation", Ref: in.Objective, Value: r.lastInject(), Text: text, Data: data})
}

func objectiveIDs(sc *Scenario) []string {
	ids := make([]string, 0, len(sc.Objectives))
	for _, o := range sc.Objectives {
		ids = append(ids, o.ID)
	}
	return ids
}

// Mark records the facilitator's verdict on an expected action the tool
// cannot judge, or corrects its verdict: met, late or missed. The latest
// mark wins over what the timeline shows.
func (r *Run) Mark(ctx context.Context, actor identity.Actor, expectationID string, result Result, note string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, _, ok := r.sc.Expectation(expectationID); !ok {
		return r.refuse(ctx, actor, "drill_mark", notFound("scenario %s has no expected action %q", r.sc.ID, expectationID))
	}
	if result != Met && result != Late && result != Missed {
		return r.refuse(ctx, actor, "drill_mark", refused("mark %q as met, late or missed, not %q", expectationID, result))
	}
	return r.note(ctx, actor, "drill_mark", expectationID+" "+string(result),
		store.DrillEvent{Kind: "mark", Ref: expectationID, Value: string(result), Text: strings.TrimSpace(note)})
}

// Rate records the facilitator's HSEEP rating of an objective.
func (r *Run) Rate(ctx context.Context, actor identity.Actor, objectiveID string, rating Rating, note string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.sc.Objective(objectiveID); !ok {
		return r.refuse(ctx, actor, "drill_rate", notFound("scenario %s has no objective %q", r.sc.ID, objectiveID))
	}
	if _, ok := RatingText[rating]; !ok {
		return r.refuse(ctx, actor, "drill_rate", refused("rate objective %s P, S, M or U, not %q", objectiveID, rating))
	}
	return r.note(ctx, actor, "drill_rate", objectiveID+" "+string(rating),
		store.DrillEvent{Kind: "rating", Ref: objectiveID, Value: string(rating), Text: strings.TrimSpace(note)})
}

// HotWashInput is a strength or an area for improvement from the hot
// wash.
type HotWashInput struct {
	Kind      string // store.HotWashStrength or store.HotWashImprovement
	Text      string
	Objective string // the objective it is about, if any
	// RootCause, for an area for improvement, is why it happened, and
	// Observations the numbers of the observations (1 is the first noted
	// in the drill) it rests on.
	RootCause    string
	Observations []int64
}

// AddHotWash records a strength or an area for improvement from the hot
// wash, optionally about one objective; an area for improvement may name
// its root cause and the observations it rests on.
func (r *Run) AddHotWash(ctx context.Context, actor identity.Actor, in HotWashInput) (store.HotWashEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := store.HotWashEntry{RunID: r.rec.ID, Kind: in.Kind, Text: strings.TrimSpace(in.Text), ObjectiveID: in.Objective,
		RootCause: strings.TrimSpace(in.RootCause), Observations: in.Observations, Actor: actor.ID(), At: r.deps.real().Now()}
	fail := func(err error) (store.HotWashEntry, error) { return e, r.refuse(ctx, actor, "drill_hotwash", err) }
	switch {
	case in.Kind != store.HotWashStrength && in.Kind != store.HotWashImprovement:
		return fail(refused("a hot-wash entry is a strength or an improvement, not %q", in.Kind))
	case e.Text == "":
		return fail(refused("a hot-wash entry needs some text"))
	case in.Kind == store.HotWashStrength && (e.RootCause != "" || len(e.Observations) > 0):
		return fail(refused("a strength takes no root cause; an area for improvement does"))
	case in.Objective != "":
		if _, ok := r.sc.Objective(in.Objective); !ok {
			return fail(notFound("scenario %s has no objective %q%s", r.sc.ID, in.Objective, suggestName(in.Objective, objectiveIDs(r.sc))))
		}
	}
	detail := in.Kind + ": " + firstLine(e.Text)
	err := r.change(ctx, actor, "drill_hotwash", false, func(*store.Tx, *store.DrillRun, time.Time, time.Time) ([]store.DrillEvent, string, error) {
		return nil, detail, nil
	}, func(tx *store.Tx) error {
		if len(e.Observations) > 0 {
			n, err := r.observations(ctx)
			if err != nil {
				return err
			}
			for _, o := range e.Observations {
				if o < 1 || o > int64(n) {
					return notFound("drill %s has no observation %d (it has %d)", r.id, o, n)
				}
			}
		}
		return tx.InsertHotWash(ctx, &e)
	})
	return e, err
}

// observations counts the observations noted in the run so far.
func (r *Run) observations(ctx context.Context) (int, error) {
	events, err := r.deps.Store.DrillEvents(ctx, r.id)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range events {
		if e.Kind == "observation" {
			n++
		}
	}
	return n, nil
}

// FeedbackInput is a participant's feedback on the exercise.
type FeedbackInput struct {
	Person string // who gives it; empty: the actor
	Role   string // their role in the exercise, if given
	Rating int    // 1 (poor) to 5 (excellent); 0: none
	Text   string
}

// AddFeedback records a participant's feedback (the HSEEP participant
// feedback form): what they thought of the exercise, and a rating from 1
// to 5. It is taken during and after play.
func (r *Run) AddFeedback(ctx context.Context, actor identity.Actor, in FeedbackInput) (store.Feedback, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := store.Feedback{RunID: r.id, Person: cmpOr(strings.TrimSpace(in.Person), actor.ID()), Role: strings.TrimSpace(in.Role),
		Rating: in.Rating, Text: strings.TrimSpace(in.Text), At: r.deps.real().Now()}
	fail := func(err error) (store.Feedback, error) { return f, r.refuse(ctx, actor, "drill_feedback", err) }
	switch {
	case f.Text == "":
		return fail(refused("feedback needs some text"))
	case f.Rating < 0 || f.Rating > 5:
		return fail(refused("rate the exercise from 1 (poor) to 5 (excellent), not %d", f.Rating))
	}
	err := r.change(ctx, actor, "drill_feedback", false, func(*store.Tx, *store.DrillRun, time.Time, time.Time) ([]store.DrillEvent, string, error) {
		return nil, "from " + f.Person, nil
	}, func(tx *store.Tx) error {
		if _, err := tx.Person(ctx, f.Person); errors.Is(err, store.ErrNotFound) {
			return notFound("%q is not a person in the directory (`irtui directory list`)", f.Person)
		} else if err != nil {
			return err
		}
		return tx.InsertFeedback(ctx, &f)
	})
	return f, err
}

// ActionItemInput is a new improvement-plan item.
type ActionItemInput struct {
	Text         string // the corrective action
	Owner        string // who will do it: a person in the directory
	Due          string // the completion date: YYYY-MM-DD, or a duration from today such as 14d
	Start        string // the start date, likewise; empty: today
	ObjectiveID  string // the objective it serves, if any
	Element      string // POETE: planning, organization, equipment, training, exercise
	Improvement  string // the area for improvement it addresses
	Organisation string // the primary responsible organisation
}

// AddActionItem adds an item to the improvement plan: who will fix what by
// when. It stays open, across all drills, until closed with a note.
func (r *Run) AddActionItem(ctx context.Context, actor identity.Actor, in ActionItemInput) (store.ActionItem, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	realNow := r.deps.real().Now()
	a := store.ActionItem{RunID: r.rec.ID, ScenarioTitle: r.sc.Title, Text: strings.TrimSpace(in.Text),
		Owner: strings.TrimSpace(in.Owner), ObjectiveID: in.ObjectiveID, Element: in.Element,
		Improvement: strings.TrimSpace(in.Improvement), Organisation: strings.TrimSpace(in.Organisation),
		CreatedAt: realNow, CreatedBy: actor.ID()}
	fail := func(err error) (store.ActionItem, error) { return a, r.refuse(ctx, actor, "drill_action_item", err) }
	if a.Text == "" {
		return fail(refused("an action item needs a corrective action"))
	}
	if a.Owner == "" {
		return fail(refused("action item %q needs an owner", a.Text))
	}
	due, err := ParseDue(in.Due, realNow)
	if err != nil {
		return fail(refused("action item %q: %v", a.Text, err))
	}
	// The start date is today unless given (or, for an item recorded
	// after its completion date, that date).
	a.Due, a.Start = due, min(realNow.Format("2006-01-02"), due)
	if strings.TrimSpace(in.Start) != "" {
		if a.Start, err = ParseDue(in.Start, realNow); err != nil {
			return fail(refused("action item %q: start: %v", a.Text, err))
		}
		if a.Start > a.Due {
			return fail(refused("action item %q starts %s, after its completion date %s", a.Text, a.Start, a.Due))
		}
	}
	if a.Element != "" && !slices.Contains(Elements, a.Element) {
		return fail(refused("element %q is not one of %s (POETE)", a.Element, strings.Join(Elements, ", ")))
	}
	if a.ObjectiveID != "" {
		o, ok := r.sc.Objective(a.ObjectiveID)
		if !ok {
			return fail(notFound("scenario %s has no objective %q", r.sc.ID, a.ObjectiveID))
		}
		a.Capability = o.Capability
	}
	detail := fmt.Sprintf("%s, owner %s, due %s", firstLine(a.Text), a.Owner, a.Due)
	err = r.change(ctx, actor, "drill_action_item", false, func(*store.Tx, *store.DrillRun, time.Time, time.Time) ([]store.DrillEvent, string, error) {
		return nil, detail, nil
	}, func(tx *store.Tx) error {
		// The owner is someone the directory knows: "nobody" owns
		// nothing.
		if _, err := tx.Person(ctx, a.Owner); errors.Is(err, store.ErrNotFound) {
			return notFound("owner %q is not a person in the directory: name who will do it (`irtui directory list`)", a.Owner)
		} else if err != nil {
			return err
		}
		return tx.InsertActionItem(ctx, &a)
	})
	return a, err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(line); len(r) > 120 {
		line = string(r[:120]) + "..."
	}
	return line
}
