package tabletop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
type Run struct {
	mu        sync.Mutex
	deps      Deps
	sc        *Scenario
	rb        *runbook.Runbook // nil if the runbook is no longer loaded
	rec       store.DrillRun   // guarded by mu
	id        string           // rec.ID and rec.Epoch, which never change,
	epoch     time.Time        // readable without mu
	clk       *drillClock
	svc       *incident.Service
	delivered []bool // per inject
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
	Delivered  int       `json:"delivered"`
	Injects    int       `json:"injects"`
	// Next is the next inject to deliver and when; nil when all are out.
	Next   *Inject `json:"next,omitempty"`
	NextAt Offset  `json:"next_at"`
	// Waiting: inject by inject, the clock has reached Next and waits for
	// the facilitator to release it.
	Waiting bool `json:"waiting"`
}

// TitlePrefix starts the title of a run's drill incident, so that
// everyone sees it is a drill and a run interrupted between declaring and
// recording its incident finds it again.
func TitlePrefix(runID string) string { return "[DRILL " + runID + "] " }

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
		CreatedBy: actor.ID()}
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
	r.clk.set(epoch, realNow)
	r.clk.running = mode != store.DrillModeHeadless
	r.clk.speed = speed
	r.updateLimit(realNow)
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
	r := &Run{deps: deps, sc: sc, rb: rb, rec: rec, id: rec.ID, epoch: rec.Epoch, delivered: make([]bool, len(sc.Injects))}
	r.clk = &drillClock{real: deps.real(), speed: rec.Speed}
	if deps.NewService != nil {
		r.svc = deps.NewService(r.clk)
	} else {
		r.svc = &incident.Service{Store: deps.Store, Clock: r.clk}
	}
	return r
}

// Open reads a run from the database, for its score, report, ratings and
// hot wash. Its clock stands still at the run's last recorded position;
// use ResumeRun to carry on playing an interrupted drill.
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
	events, err := deps.Store.DrillEvents(ctx, runID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Kind == "inject" {
			if i := slices.IndexFunc(sc.Injects, func(in Inject) bool { return in.ID == e.Ref }); i >= 0 {
				r.delivered[i] = true
			}
		}
	}
	r.clk.set(rec.Position, deps.real().Now())
	return r, nil
}

// ResumeRun picks up a drill that was interrupted (the program crashed or
// was stopped): play resumes, paused, from the latest moment on record —
// the last inject, clock change or action on the drill incident. A drill
// incident declared but not yet recorded with the run is found by its
// title. opts.Speed and opts.Manual, when set, replace the run's speed
// and make it inject by inject; a headless drill resumes in real time.
// Start the clock with Resume.
func ResumeRun(ctx context.Context, deps Deps, runID string, actor identity.Actor, opts Options) (*Run, error) {
	if err := checkActor(ctx, deps.Store, actor); err != nil {
		identity.Record(ctx, deps.Store, deps.real().Now(), actor, "drill_resume", "", store.OutcomeRefused, runID+": "+err.Error())
		return nil, err
	}
	r, err := Open(ctx, deps, runID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec.Ended() {
		return nil, invalidState("drill %s was %s at %s; it cannot be resumed", runID, r.rec.Status,
			r.rec.EndedAt.Format(time.RFC3339))
	}
	pos := r.rec.Position
	events, err := deps.Store.DrillEvents(ctx, runID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.DrillAt.After(pos) {
			pos = e.DrillAt
		}
	}
	incidentID := r.rec.IncidentID
	if incidentID == "" {
		in, err := deps.Store.FindDrillIncident(ctx, TitlePrefix(runID))
		switch {
		case err == nil:
			incidentID = in.ID
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		}
	}
	if incidentID != "" {
		tl, err := deps.Store.Timeline(ctx, incidentID, 0, 0)
		if err != nil {
			return nil, err
		}
		for _, e := range tl {
			if e.At.After(pos) {
				pos = e.At
			}
		}
	}
	mode, speed := r.rec.Mode, r.rec.Speed
	switch {
	case opts.Headless:
		return nil, refused("a drill is resumed with a running clock; replay the actions on a new run instead")
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
	if incidentID != r.rec.IncidentID {
		text += "; found its incident " + incidentID
	}
	ev := store.DrillEvent{Kind: "reopened", DrillAt: pos, Actor: actor.ID(), Ref: incidentID, Value: modeText(mode, speed), Text: text}
	err = r.change(ctx, actor, "drill_resume", text, []store.DrillEvent{ev}, func(rec *store.DrillRun) {
		rec.Status, rec.Mode, rec.Speed, rec.Position, rec.IncidentID = store.DrillPaused, mode, speed, pos, incidentID
	}, nil)
	if err != nil {
		return nil, err
	}
	realNow := deps.real().Now()
	r.clk.set(pos, realNow)
	r.clk.running, r.clk.speed = false, speed
	r.updateLimit(realNow)
	return r, nil
}

// change persists one change of the run in one transaction: its log
// events, the run's new record (mutate edits a copy; nil leaves the record
// alone), anything extra writes, and an audit entry. The run keeps the new
// record only when the transaction commits. A change that would move an
// ended run is refused.
func (r *Run) change(ctx context.Context, actor identity.Actor, action, detail string, events []store.DrillEvent,
	mutate func(*store.DrillRun), extra func(*store.Tx) error) error {
	realNow := r.deps.real().Now()
	next := r.rec
	if mutate != nil {
		mutate(&next)
		next.UpdatedAt = realNow
	}
	err := r.deps.Store.Update(ctx, func(tx *store.Tx) error {
		if err := checkActor(ctx, tx, actor); err != nil {
			return err
		}
		cur, err := tx.DrillRun(ctx, r.rec.ID)
		if err != nil {
			return err
		}
		if mutate != nil && cur.Ended() {
			return invalidState("drill %s was %s at %s", cur.ID, cur.Status, cur.EndedAt.Format(time.RFC3339))
		}
		if mutate != nil {
			if err := tx.UpdateDrillRun(ctx, &next); err != nil {
				return err
			}
		}
		for i := range events {
			e := events[i]
			e.RunID = r.rec.ID
			if e.RealAt.IsZero() {
				e.RealAt = realNow
			}
			if e.Actor == "" {
				e.Actor = actor.ID()
			}
			if err := tx.AppendDrillEvent(ctx, &e); err != nil {
				return err
			}
		}
		if extra != nil {
			if err := extra(tx); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: realNow, Actor: actor.ID(), Auth: actor.Auth(), Action: action,
			IncidentID: next.IncidentID, Outcome: store.OutcomeOK, Detail: r.rec.ID + ": " + detail})
	})
	if err != nil {
		return r.refuse(ctx, actor, action, err)
	}
	r.rec = next
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

// Clock is the drill clock: drill time, for everything done in the drill.
func (r *Run) Clock() clock.Clock { return r.clk }

// Service is the incident service to work the drill incident with: it
// stamps every action in drill time.
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
	now := r.clk.at(realNow)
	s := Status{RunID: r.rec.ID, ScenarioID: r.sc.ID, Title: r.sc.Title, State: r.rec.Status, Mode: r.rec.Mode,
		Speed: r.rec.Speed, Epoch: r.rec.Epoch, Now: now, Elapsed: Offset(now.Sub(r.rec.Epoch)),
		IncidentID: r.rec.IncidentID, Injects: len(r.sc.Injects)}
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
	return s
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

// Tick lets time pass: it delivers, and returns, the injects that became
// due by the wall-clock time realNow. Inject by inject and headless, it
// delivers nothing: the facilitator releases injects with Next or Jump.
// The TUI calls it on each tick of its own timer.
func (r *Run) Tick(ctx context.Context, realNow time.Time) ([]Delivered, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rec.Ended() || r.rec.Mode != store.DrillModeRealtime {
		return nil, nil
	}
	now := r.clk.at(realNow)
	// The drill clock delivers, on behalf of whoever started the run.
	return r.deliverUpTo(ctx, identity.Actor{Person: r.rec.CreatedBy, Method: identity.System}, now, now, nil)
}

// deliverUpTo delivers every undelivered inject due at or before upTo,
// in one transaction, with extra events after them, and moves the
// recorded position to pos.
func (r *Run) deliverUpTo(ctx context.Context, actor identity.Actor, upTo, pos time.Time, extra []store.DrillEvent) ([]Delivered, error) {
	var (
		idx    []int
		events []store.DrillEvent
		ids    []string
	)
	for i, in := range r.sc.Injects {
		if r.delivered[i] || r.rec.Epoch.Add(in.Offset).After(upTo) {
			continue
		}
		idx = append(idx, i)
		ids = append(ids, in.ID)
		events = append(events, store.DrillEvent{Kind: "inject", DrillAt: r.rec.Epoch.Add(in.Offset), Ref: in.ID,
			Value: in.Channel, Actor: actor.ID()})
	}
	events = append(events, extra...)
	if len(events) == 0 {
		return nil, nil
	}
	detail := "delivered " + strings.Join(ids, ", ")
	action := "drill_inject"
	if len(extra) > 0 {
		action, detail = "drill_"+extra[0].Kind, extra[0].Kind+" "+extra[0].Ref
		if len(ids) > 0 {
			detail += "; delivered " + strings.Join(ids, ", ")
		}
	}
	err := r.change(ctx, actor, action, detail, events, func(rec *store.DrillRun) {
		if pos.After(rec.Position) {
			rec.Position = pos
		}
	}, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Delivered, 0, len(idx))
	for _, i := range idx {
		r.delivered[i] = true
		out = append(out, r.delivery(i))
	}
	return out, nil
}

// updateLimit makes an inject-by-inject clock wait at the next
// undelivered inject.
func (r *Run) updateLimit(realNow time.Time) {
	var limit time.Time
	if r.rec.Mode == store.DrillModeManual {
		for i, d := range r.delivered {
			if !d {
				limit = r.rec.Epoch.Add(r.sc.Injects[i].Offset)
				break
			}
		}
	}
	r.clk.setLimit(realNow, limit)
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
		return nil, r.refuse(ctx, actor, "drill_jump", notFound("scenario %s has no inject %q", r.sc.ID, injectID))
	case r.delivered[i]:
		return nil, r.refuse(ctx, actor, "drill_jump", invalidState("inject %q was already delivered", injectID))
	}
	return r.advance(ctx, actor, i, "jumped")
}

func (r *Run) advance(ctx context.Context, actor identity.Actor, i int, kind string) ([]Delivered, error) {
	if err := r.requireLive("release an inject"); err != nil {
		return nil, r.refuse(ctx, actor, "drill_"+kind, err)
	}
	realNow := r.deps.real().Now()
	target := r.rec.Epoch.Add(r.sc.Injects[i].Offset)
	now := r.clk.at(realNow)
	pos := now
	if target.After(pos) {
		pos = target
	}
	ev := store.DrillEvent{Kind: kind, DrillAt: pos, Ref: r.sc.Injects[i].ID, Actor: actor.ID()}
	out, err := r.deliverUpTo(ctx, actor, target, pos, []store.DrillEvent{ev})
	if err != nil {
		return nil, err
	}
	if pos.After(now) {
		r.clk.set(pos, realNow)
	}
	r.updateLimit(realNow)
	return out, nil
}

// Pause stops the drill clock.
func (r *Run) Pause(ctx context.Context, actor identity.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.rec.Ended():
		return r.refuse(ctx, actor, "drill_pause", r.requireLive("pause"))
	case r.rec.Mode == store.DrillModeHeadless:
		return r.refuse(ctx, actor, "drill_pause", invalidState("drill %s is headless: its clock does not run", r.rec.ID))
	case r.rec.Status == store.DrillPaused:
		return r.refuse(ctx, actor, "drill_pause", invalidState("drill %s is already paused", r.rec.ID))
	}
	realNow := r.deps.real().Now()
	t := r.clk.at(realNow)
	err := r.change(ctx, actor, "drill_pause", "paused at "+FormatOffset(t.Sub(r.rec.Epoch)),
		[]store.DrillEvent{{Kind: "paused", DrillAt: t}}, func(rec *store.DrillRun) {
			rec.Status = store.DrillPaused
			if t.After(rec.Position) {
				rec.Position = t
			}
		}, nil)
	if err != nil {
		return err
	}
	r.clk.hold(realNow, false)
	return nil
}

// Resume starts the drill clock again after Pause (or ResumeRun).
func (r *Run) Resume(ctx context.Context, actor identity.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.rec.Ended():
		return r.refuse(ctx, actor, "drill_resume", r.requireLive("resume"))
	case r.rec.Status != store.DrillPaused:
		return r.refuse(ctx, actor, "drill_resume", invalidState("drill %s is not paused", r.rec.ID))
	}
	realNow := r.deps.real().Now()
	t := r.clk.at(realNow)
	err := r.change(ctx, actor, "drill_resume", "resumed at "+FormatOffset(t.Sub(r.rec.Epoch)),
		[]store.DrillEvent{{Kind: "resumed", DrillAt: t}}, func(rec *store.DrillRun) { rec.Status = store.DrillRunning }, nil)
	if err != nil {
		return err
	}
	r.clk.hold(realNow, true)
	return nil
}

// SetSpeed changes how fast the drill clock runs (drill seconds per
// wall-clock second), and whether injects wait for the facilitator.
func (r *Run) SetSpeed(ctx context.Context, actor identity.Actor, speed float64, manual bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.rec.Ended():
		return r.refuse(ctx, actor, "drill_speed", r.requireLive("change the speed"))
	case r.rec.Mode == store.DrillModeHeadless:
		return r.refuse(ctx, actor, "drill_speed", invalidState("drill %s is headless", r.rec.ID))
	case speed <= 0 || speed > 10000:
		return r.refuse(ctx, actor, "drill_speed", refused("speed %g is out of range: use a number from 0.1 to 10000", speed))
	}
	mode := store.DrillModeRealtime
	if manual {
		mode = store.DrillModeManual
	}
	realNow := r.deps.real().Now()
	t := r.clk.at(realNow)
	err := r.change(ctx, actor, "drill_speed", modeText(mode, speed),
		[]store.DrillEvent{{Kind: "speed", DrillAt: t, Value: modeText(mode, speed)}}, func(rec *store.DrillRun) {
			rec.Speed, rec.Mode = speed, mode
		}, nil)
	if err != nil {
		return err
	}
	r.clk.setSpeed(realNow, speed)
	r.updateLimit(realNow)
	return nil
}

// Finish ends play. Expected actions not done by now are missed; injects
// not yet delivered are reported as not played. Ratings, observations and
// the hot wash may still be added.
func (r *Run) Finish(ctx context.Context, actor identity.Actor) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.end(ctx, actor, store.DrillFinished, "")
}

// Abandon ends the drill without a result worth scoring, such as after an
// interruption nobody wants to resume; the reason is required.
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
	realNow := r.deps.real().Now()
	t := r.clk.at(realNow)
	if t.Before(r.rec.Position) {
		t = r.rec.Position
	}
	err := r.change(ctx, actor, "drill_"+verb, status+" at "+FormatOffset(t.Sub(r.rec.Epoch)),
		[]store.DrillEvent{{Kind: status, DrillAt: t, Text: reason}}, func(rec *store.DrillRun) {
			rec.Status, rec.EndedAt, rec.EndReason, rec.Position = status, realNow, reason, t
		}, nil)
	if err != nil {
		return err
	}
	r.clk.hold(realNow, false)
	r.clk.set(t, realNow)
	return nil
}

// Declare declares the drill incident with the real incident service on
// the drill clock: drill-flagged, with the run's id in its title, and
// records it as the run's incident.
func (r *Run) Declare(ctx context.Context, actor identity.Actor, d incident.Declaration) (incident.Incident, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.rec.Ended():
		return incident.Incident{}, r.refuse(ctx, actor, "drill_declare", r.requireLive("declare the drill incident"))
	case r.rec.IncidentID != "":
		return incident.Incident{}, r.refuse(ctx, actor, "drill_declare",
			invalidState("drill %s already has its incident, %s", r.rec.ID, r.rec.IncidentID))
	case d.RunbookID != r.sc.Runbook:
		return incident.Incident{}, r.refuse(ctx, actor, "drill_declare",
			refused("scenario %s is played with runbook %s, not %s", r.sc.ID, r.sc.Runbook, d.RunbookID))
	}
	d.Drill = true
	prefix := TitlePrefix(r.rec.ID)
	if !strings.HasPrefix(d.Title, prefix) {
		d.Title = prefix + strings.TrimSpace(d.Title)
	}
	in, err := r.svc.Declare(ctx, actor, d)
	if err != nil {
		return incident.Incident{}, err
	}
	err = r.link(ctx, actor, in.ID, "declared")
	return in, err
}

// DeclareAnswers classifies answers with the scenario's runbook under the
// policy (unanswered questions count as their worst case) and declares the
// drill incident. aware is when the organisation became aware (zero: now
// on the drill clock).
func (r *Run) DeclareAnswers(ctx context.Context, actor identity.Actor, title string, answers classify.Answers, customers []string,
	aware time.Time) (incident.Incident, error) {
	if r.rb == nil {
		return incident.Incident{}, notFound("runbook %s is not loaded", r.sc.Runbook)
	}
	now := r.clk.Now()
	if aware.IsZero() {
		aware = now
	}
	v, err := classify.Classify(r.rb, answers, r.deps.Policy, classify.Events{Aware: aware, Classified: now}, nil)
	if err != nil {
		return incident.Incident{}, err
	}
	if !v.Incident {
		return incident.Incident{}, refused("the answers classify this as an event, not an incident: " +
			"a drill needs an incident to work; change the answers")
	}
	d := incident.NewDeclaration(r.rb, v, answers)
	d.Title, d.Customers, d.AwareAt = title, customers, aware
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
	d, err := r.deps.Store.Incident(ctx, incidentID)
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
	if other, err := r.deps.Store.DrillRunForIncident(ctx, incidentID); err == nil {
		return r.refuse(ctx, actor, "drill_link", invalidState("%s is already the incident of drill %s", incidentID, other.ID))
	}
	return r.link(ctx, actor, incidentID, "linked")
}

func (r *Run) link(ctx context.Context, actor identity.Actor, incidentID, kind string) error {
	t := r.clk.Now()
	return r.change(ctx, actor, "drill_link", kind+" "+incidentID,
		[]store.DrillEvent{{Kind: kind, DrillAt: t, Ref: incidentID}}, func(rec *store.DrillRun) {
			rec.IncidentID = incidentID
			if t.After(rec.Position) {
				rec.Position = t
			}
		}, nil)
}

// requireIncident returns the drill incident's id, or an error saying to
// declare it first.
func (r *Run) requireIncident() (string, error) {
	if r.rec.IncidentID == "" {
		return "", invalidState("drill %s has no incident yet: declare it first", r.rec.ID)
	}
	return r.rec.IncidentID, nil
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

// Observe records an evaluator's observation, about an objective or
// (objectiveID empty) the drill in general.
func (r *Run) Observe(ctx context.Context, actor identity.Actor, objectiveID, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	text = strings.TrimSpace(text)
	if text == "" {
		return r.refuse(ctx, actor, "drill_observe", refused("an observation needs some text"))
	}
	if objectiveID != "" {
		if _, ok := r.sc.Objective(objectiveID); !ok {
			return r.refuse(ctx, actor, "drill_observe", notFound("scenario %s has no objective %q", r.sc.ID, objectiveID))
		}
	}
	return r.change(ctx, actor, "drill_observe", firstLine(text),
		[]store.DrillEvent{{Kind: "observation", DrillAt: r.clk.Now(), Ref: objectiveID, Value: r.lastInject(), Text: text}}, nil, nil)
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
	return r.change(ctx, actor, "drill_mark", expectationID+" "+string(result),
		[]store.DrillEvent{{Kind: "mark", DrillAt: r.clk.Now(), Ref: expectationID, Value: string(result),
			Text: strings.TrimSpace(note)}}, nil, nil)
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
	return r.change(ctx, actor, "drill_rate", objectiveID+" "+string(rating),
		[]store.DrillEvent{{Kind: "rating", DrillAt: r.clk.Now(), Ref: objectiveID, Value: string(rating),
			Text: strings.TrimSpace(note)}}, nil, nil)
}

// AddHotWash records a strength (kind store.HotWashStrength) or an area
// for improvement (store.HotWashImprovement) from the hot wash, optionally
// about one objective.
func (r *Run) AddHotWash(ctx context.Context, actor identity.Actor, kind, text, objectiveID string) (store.HotWashEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := store.HotWashEntry{RunID: r.rec.ID, Kind: kind, Text: strings.TrimSpace(text), ObjectiveID: objectiveID,
		Actor: actor.ID(), At: r.deps.real().Now()}
	switch {
	case kind != store.HotWashStrength && kind != store.HotWashImprovement:
		return e, r.refuse(ctx, actor, "drill_hotwash", refused("a hot-wash entry is a strength or an improvement, not %q", kind))
	case e.Text == "":
		return e, r.refuse(ctx, actor, "drill_hotwash", refused("a hot-wash entry needs some text"))
	case objectiveID != "":
		if _, ok := r.sc.Objective(objectiveID); !ok {
			return e, r.refuse(ctx, actor, "drill_hotwash", notFound("scenario %s has no objective %q", r.sc.ID, objectiveID))
		}
	}
	err := r.change(ctx, actor, "drill_hotwash", kind+": "+firstLine(e.Text), nil, nil, func(tx *store.Tx) error {
		return tx.InsertHotWash(ctx, &e)
	})
	return e, err
}

// ActionItemInput is a new improvement-plan item.
type ActionItemInput struct {
	Text        string // the corrective action
	Owner       string // who will do it
	Due         string // YYYY-MM-DD, or a duration from today such as 14d
	ObjectiveID string // the objective it serves, if any
	Element     string // POETE: planning, organization, equipment, training, exercise
	Improvement string // the area for improvement it addresses
}

// AddActionItem adds an item to the improvement plan: who will fix what by
// when. It stays open, across all drills, until closed with a note.
func (r *Run) AddActionItem(ctx context.Context, actor identity.Actor, in ActionItemInput) (store.ActionItem, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	realNow := r.deps.real().Now()
	a := store.ActionItem{RunID: r.rec.ID, ScenarioTitle: r.sc.Title, Text: strings.TrimSpace(in.Text),
		Owner: strings.TrimSpace(in.Owner), ObjectiveID: in.ObjectiveID, Element: in.Element,
		Improvement: strings.TrimSpace(in.Improvement), CreatedAt: realNow, CreatedBy: actor.ID()}
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
	a.Due = due
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
	err = r.change(ctx, actor, "drill_action_item", fmt.Sprintf("%s, owner %s, due %s", firstLine(a.Text), a.Owner, a.Due),
		nil, nil, func(tx *store.Tx) error { return tx.InsertActionItem(ctx, &a) })
	return a, err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(line); len(r) > 120 {
		line = string(r[:120]) + "..."
	}
	return line
}
