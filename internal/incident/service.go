// Package incident is the domain service behind both the TUI and the CLI:
// declaring incidents (or recording dismissed events), classifying them,
// assigning and handing over roles, working the checklist, recording
// regulatory submissions, closing and reopening, and reading and exporting.
//
// Every action is one store transaction that writes the state change, its
// timeline entries and its audit entry together. Refused and failed actions
// are audited too, in a transaction of their own. Every read of an incident
// is audited. The acting user is always passed in explicitly, as an
// authenticated identity.Actor.
package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// Incident and Detail are the store's records, shown as they are.
type (
	Incident = store.Incident
	Detail   = store.Detail
)

// Errors callers may test with errors.Is. Each returned error is an *Error
// whose message names the incident, step, role, person or customer.
var (
	// ErrNotFound: the incident, step, role, person or customer is unknown.
	ErrNotFound = store.ErrNotFound
	// ErrInvalidState: the action does not fit the current state, such as
	// completing a step of a closed incident or closing it twice.
	ErrInvalidState = errors.New("invalid state")
	// ErrRefused: the action breaks a rule (a reason is missing, required
	// steps are open, the wrong person acknowledges) or its input is bad.
	ErrRefused = errors.New("refused")
)

// Error is an error of one of the kinds above with a message for people.
type Error struct {
	Kind   error // ErrNotFound, ErrInvalidState or ErrRefused
	Msg    string
	denied bool
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is match the kind, and identity.ErrDenied for a
// refusal because of who asked.
func (e *Error) Unwrap() []error {
	if e.denied {
		return []error{e.Kind, identity.ErrDenied}
	}
	return []error{e.Kind}
}

// Denied makes a refusal because of who asked (an *identity.Denied) an
// *Error of kind ErrRefused that errors.Is also finds identity.ErrDenied
// in; any other error is returned as it is.
func Denied(err error) error {
	var d *identity.Denied
	if errors.As(err, &d) {
		return &Error{Kind: ErrRefused, Msg: d.Msg, denied: true}
	}
	return err
}

func notFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

func invalidState(format string, args ...any) error {
	return &Error{Kind: ErrInvalidState, Msg: fmt.Sprintf(format, args...)}
}

func refused(format string, args ...any) error {
	return &Error{Kind: ErrRefused, Msg: fmt.Sprintf(format, args...)}
}

// Service carries out incident actions. Store and Clock are required.
type Service struct {
	Store *store.Store
	Clock clock.Clock
	// Notifier, if set, hears of every event a notification rule may fire
	// on, inside the transaction that records it (a transactional outbox).
	Notifier Notifier
	// Policy is the regulatory policy the incident's clocks run under
	// (re-assessment and closing name them); nil: deadline.DefaultPolicy.
	Policy *deadline.Policy
}

func (s *Service) policy() deadline.Policy {
	if s.Policy != nil {
		return *s.Policy
	}
	return deadline.DefaultPolicy()
}

// Event kinds a Notifier hears of. They match the runbook's notification
// triggers, except EventFlagsSet (trigger "flag:NAME" per flag) and
// EventCustomerLinked, which no rule names.
const (
	EventDeclared       = "declared"
	EventClassified     = "classified"
	EventSeverityRaised = "severity_raised"
	EventFlagsSet       = "flags_set"
	EventRoleAssigned   = "role_assigned"
	EventCustomerLinked = "customer_linked"
	EventClosed         = "closed"
	EventReopened       = "reopened"
)

// Event is an incident change a notification rule may fire on.
type Event struct {
	Kind     string
	Incident Incident // as it is after the change
	Actor    identity.Actor
	At       time.Time
	Flags    []string // EventFlagsSet: the flags newly set
	Role     string   // EventRoleAssigned
	Person   string   // EventRoleAssigned
	Customer string   // EventCustomerLinked, EventCustomerUnlinked
	From     string   // EventSeverityRaised: the severity before
	// EventReassessed: the obligations that no longer apply; Flags then
	// are the flags cleared. Reason: why (reassessed, unlinked).
	Obligations []string
	Reason      string
}

// Notifier is told of incident events inside the transaction that records
// them, after their timeline entries. What it writes commits or rolls back
// with the change; an error it returns fails the action.
type Notifier interface {
	OnEvent(ctx context.Context, tx *store.Tx, ev Event) error
}

// op is one audited action in progress.
type op struct {
	actor    identity.Actor
	action   string // the audit action
	incident string // set once known
	drill    bool   // the action is on a drill, though incident is not set yet (a drill's declaration)
	drillRun string // the drill run a declaration is for: its time is the run's clock
	drillEnd bool   // the run itself ends its incident: allowed while the run is paused
	setup    bool   // the installer may do it while setting the database up (identity.Scope.Setup)
	detail   string // audit detail on success
	events   []Event
	who      identity.Who // the actor as checked against the directory, before fn runs
}

// emit queues an event for the Notifier; change fills in the incident,
// the actor and the time.
func (o *op) emit(ev Event) { o.events = append(o.events, ev) }

// change runs fn in one write transaction and appends the audit entry
// when fn succeeds. When fn fails, nothing it wrote is kept, and the
// refusal or failure is audited in a transaction of its own.
//
// fn gets the incident's time: the wall clock's for a real incident, the
// drill clock's for a drill incident, read from its run inside the
// transaction, so that every process stamps a drill alike. An action on a
// drill incident whose run is paused or has ended is refused. Audit
// entries keep the wall-clock time.
func (s *Service) change(ctx context.Context, o *op, fn func(tx *store.Tx, now time.Time) error) error {
	real := s.Clock.Now()
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := s.check(ctx, tx, o); err != nil {
			return err
		}
		now, err := s.timeOf(ctx, tx, o, real)
		if err != nil {
			return err
		}
		if err := fn(tx, now); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, o, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: real, Actor: o.actor.ID(), Auth: o.actor.Auth(),
			Action: o.action, IncidentID: o.incident, Outcome: store.OutcomeOK, Detail: o.detail})
	})
	if err != nil {
		s.auditFailure(ctx, o, real, err)
		return err
	}
	return nil
}

// timeOf is the time an action on o's incident is stamped with: the
// drill clock for a drill incident of a run (see DrillTime), otherwise the
// wall-clock time real.
func (s *Service) timeOf(ctx context.Context, tx *store.Tx, o *op, real time.Time) (time.Time, error) {
	var (
		c   store.DrillClock
		ok  bool
		err error
	)
	switch {
	case o.drillRun != "":
		c, err = tx.DrillRunClock(ctx, o.drillRun)
		if errors.Is(err, store.ErrNotFound) {
			return time.Time{}, notFound("drill run %s does not exist", o.drillRun)
		}
		ok = err == nil
	case o.drill && o.incident != "":
		c, ok, err = tx.DrillClockOf(ctx, o.incident)
	}
	if err != nil || !ok {
		return real, err
	}
	if !o.drillEnd {
		if err := DrillLive(c, o.incident); err != nil {
			return time.Time{}, err
		}
	}
	return c.Now(real), nil
}

// DrillLive refuses an action on a drill incident whose run is paused or
// has ended: while a drill is paused its clock stands still, and what
// players did then would be scored at the wrong moment.
func DrillLive(c store.DrillClock, incidentID string) error {
	what := "its incident"
	if incidentID != "" {
		what = incidentID
	}
	switch {
	case c.Status == store.DrillPaused:
		return invalidState("drill %s is paused: nothing can be done on %s until the facilitator resumes it "+
			"(`irtui drill resume %s`, or the app's drill screen)", c.RunID, what, c.RunID)
	case c.Ended():
		return invalidState("drill %s is %s: %s is its record and takes no more actions", c.RunID, c.Status, what)
	}
	return nil
}

// DrillTime is the time of an incident for someone reading it at the
// wall-clock time real: the drill clock of a drill incident's run, which
// its deadlines are read on, otherwise real.
func DrillTime(d Detail, real time.Time) time.Time {
	if d.Drill != nil {
		return d.Drill.Now(real)
	}
	return real
}

// dirReader is what check reads the directory and the incident's drill
// flag from: the store, or a write transaction.
type dirReader interface {
	identity.Reader
	IncidentDrill(ctx context.Context, id string) (bool, error)
}

// check establishes who acts (identity.Check) for an action on o's
// incident, which may be a drill, and keeps it in o.who.
func (s *Service) check(ctx context.Context, r dirReader, o *op) error {
	scope := identity.Scope{Drill: o.drill, Setup: o.setup}
	if o.incident != "" && !o.drill {
		drill, err := r.IncidentDrill(ctx, o.incident)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		scope.Drill, o.drill = drill, drill
	}
	who, err := identity.Check(ctx, r, o.actor, scope)
	if err != nil {
		return Denied(err)
	}
	o.who = who
	return nil
}

// requireOverride lets an action that overrides the incident's process
// (closing with required steps open, reopening, lowering the severity,
// dismissing an incident) through for the incident's commander and for
// people with the override permission, and refuses it to anyone else.
func requireOverride(ctx context.Context, tx *store.Tx, who identity.Who, in Incident, doing string) error {
	if who.Can(identity.Override) {
		return nil
	}
	cur, err := tx.CurrentAssignment(ctx, in.ID, identity.CommanderRole)
	switch {
	case err == nil && who.Person.ID != "" && cur.PersonID == who.Person.ID:
		return nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	}
	return Denied(&identity.Denied{Msg: fmt.Sprintf("only the incident commander of %s, or someone with the override "+
		"permission, may %s; %s is neither", in.ID, doing, who.ID())})
}

// notify hands the action's events to the Notifier.
func (s *Service) notify(ctx context.Context, tx *store.Tx, o *op, now time.Time) error {
	if s.Notifier == nil || len(o.events) == 0 {
		return nil
	}
	in, err := tx.Incident(ctx, o.incident)
	if err != nil {
		return err
	}
	for _, ev := range o.events {
		ev.Incident, ev.Actor, ev.At = in, o.actor, now
		if err := s.Notifier.OnEvent(ctx, tx, ev); err != nil {
			return fmt.Errorf("notifications for %s: %w", in.ID, err)
		}
	}
	return nil
}

// auditFailure records a refused or failed action. It is best effort: if
// the database cannot take even that, the caller's error is what matters.
func (s *Service) auditFailure(ctx context.Context, o *op, now time.Time, cause error) {
	s.recordFailure(ctx, o, now, cause, false)
}

// recordFailure is auditFailure; read makes it wait for no writer, as the
// audit of a read does.
func (s *Service) recordFailure(ctx context.Context, o *op, now time.Time, cause error, read bool) {
	outcome := store.OutcomeFailed
	var e *Error
	if errors.As(cause, &e) {
		outcome = store.OutcomeRefused
	}
	if read {
		identity.RecordRead(ctx, s.Store, now, o.actor, o.action, o.incident, outcome, cause.Error())
		return
	}
	identity.Record(ctx, s.Store, now, o.actor, o.action, o.incident, outcome, cause.Error())
}

// audited runs a read: fn, then an audit entry of its own, which must be
// recorded before the caller may see the data. Opening and listing commit
// their audit entry without waiting for the disk: crash-safe, and made
// durable by the next change; exports, which hand data out, wait. A read
// never waits for a writer: if another process holds the write lock, the
// entry goes to the pending-audit journal, which the next write takes in
// (store.RecordRead).
func (s *Service) audited(ctx context.Context, o *op, fn func() error) error {
	return s.auditedStream(ctx, o, func(record func() error) error {
		if err := fn(); err != nil {
			return err
		}
		return record()
	})
}

// auditedStream is audited for a read that hands its data out while it
// reads (an export or a show of any length, streamed): read calls record
// once, after its checks and before the first of the data goes out, and
// record commits the audit entry then, so nothing is shown unrecorded. A
// failure after that (the reader went away, the disk failed) is recorded
// as well, as a failed access.
func (s *Service) auditedStream(ctx context.Context, o *op, read func(record func() error) error) error {
	now := s.Clock.Now()
	err := s.check(ctx, s.Store, o)
	if err == nil {
		err = read(func() error {
			_, err := s.Store.RecordRead(ctx, store.AuditEntry{At: now, Actor: o.actor.ID(), Auth: o.actor.Auth(),
				Action: o.action, IncidentID: o.incident, Outcome: store.OutcomeOK, Detail: o.detail}, o.action == "export")
			if err != nil {
				return fmt.Errorf("cannot record this access in the audit log, so it is not shown: %w", err)
			}
			return nil
		})
	}
	if err != nil {
		s.recordFailure(ctx, o, now, err, true)
		return err
	}
	return nil
}

// appendEntry adds one timeline entry.
func appendEntry(ctx context.Context, tx *store.Tx, now time.Time, actor identity.Actor, incidentID, kind, summary string,
	data map[string]any) (store.TimelineEntry, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return store.TimelineEntry{}, fmt.Errorf("timeline data for %s: %w", kind, err)
	}
	e := store.TimelineEntry{IncidentID: incidentID, At: now, Actor: actor.ID(), Auth: actor.Auth(), Kind: kind, Summary: summary, Data: raw}
	if err := tx.AppendTimeline(ctx, &e); err != nil {
		return store.TimelineEntry{}, err
	}
	return e, nil
}

// loadIncident reads an incident inside tx, with a clear not-found error.
func loadIncident(ctx context.Context, tx *store.Tx, id string) (store.Incident, error) {
	in, err := tx.Incident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return in, notFound("incident %s does not exist", id)
	}
	return in, err
}

// requireOpenIncident refuses events and closed incidents.
func requireOpenIncident(in store.Incident, doing string) error {
	if in.Kind == store.KindEvent {
		return invalidState("cannot %s: %s is an event that was dismissed as not an incident; "+
			"reclassify it as an incident first", doing, in.ID)
	}
	if in.Status != store.StatusOpen {
		return invalidState("cannot %s: %s is closed; reopen it first", doing, in.ID)
	}
	return nil
}

// severities from most to least severe, as in the runbook schema.
var severities = []string{"SEV1", "SEV2", "SEV3", "SEV4"}

func checkSeverity(sev string) error {
	if !slices.Contains(severities, sev) {
		return refused("severity %q is not one of %s", sev, strings.Join(severities, ", "))
	}
	return nil
}

// rank orders severities: 1 is the most severe.
func rank(sev string) int { return slices.Index(severities, sev) + 1 }

// List lists incidents, most recent first, and audits the access.
//
// Someone acting under a claim (--as) outside local trust mode may see
// drill incidents only: their list holds drills alone.
func (s *Service) List(ctx context.Context, actor identity.Actor, f store.ListFilter) ([]Incident, error) {
	return s.list(ctx, actor, f, func(f store.ListFilter) ([]Incident, error) { return s.Store.ListIncidents(ctx, f) })
}

// list checks and audits a list; read reads it (and what else the caller
// shows with it), before the access is audited.
func (s *Service) list(ctx context.Context, actor identity.Actor, f store.ListFilter, read func(store.ListFilter) ([]Incident, error)) ([]Incident, error) {
	if actor.Method == identity.Claim && !actor.Trusted {
		f.Drill = store.DrillOnly
	}
	o := &op{actor: actor, action: "list", detail: describeFilter(f), drill: f.Drill == store.DrillOnly}
	var out []Incident
	err := s.audited(ctx, o, func() error {
		if !slices.Contains([]string{"", store.StatusOpen, store.StatusClosed}, f.Status) {
			return refused("cannot list incidents with status %q: use open, closed or nothing for both", f.Status)
		}
		if !slices.Contains([]string{"", store.KindIncident, store.KindEvent}, f.Kind) {
			return refused("cannot list %q: use incident, event or nothing for both", f.Kind)
		}
		var err error
		out, err = read(f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Page is a page of the incident list with what the list shows beside
// each open incident: its commander and the submissions and pauses its
// clocks depend on.
type Page struct {
	store.Page
	Summaries map[string]store.Summary
	// Total counts the list's incidents, all pages together; -1 when the
	// list is filtered by text (counting those would read them all).
	Total int
}

// ListPage reads one page of a list (store.ListFilter: newest first, by
// keyset), the summaries of its open incidents and the list's count. It
// reads what it shows, whatever the number of incidents, and is audited
// as one list.
func (s *Service) ListPage(ctx context.Context, actor identity.Actor, f store.ListFilter) (Page, error) {
	var p Page
	_, err := s.list(ctx, actor, f, func(f store.ListFilter) ([]Incident, error) {
		var err error
		if p.Page, err = s.Store.ListPage(ctx, f); err != nil {
			return nil, err
		}
		// Open incidents show their commander and next deadline; drill
		// incidents show their age and deadlines on their drill's clock.
		var ids []string
		for _, in := range p.Incidents {
			if (in.Status == store.StatusOpen && in.Kind == store.KindIncident) || in.Drill {
				ids = append(ids, in.ID)
			}
		}
		if p.Summaries, err = s.Store.Summaries(ctx, ids); err != nil {
			return nil, err
		}
		p.Total = -1
		if f.Match == "" {
			if p.Total, err = s.Store.CountIncidents(ctx, f); err != nil {
				return nil, err
			}
		}
		return p.Incidents, nil
	})
	if err != nil {
		return Page{}, err
	}
	return p, nil
}

// Version changes when what the app shows has changed, in this process or
// another (store.Version); Changed is closed when this process next
// commits such a change (store.Changed). Neither reads incident data, so
// neither is audited.
func (s *Service) Version(ctx context.Context) (int64, error) { return s.Store.Version(ctx) }

// Changed: see Version.
func (s *Service) Changed() <-chan struct{} { return s.Store.Changed() }

func describeFilter(f store.ListFilter) string {
	parts := []string{"status=" + orAll(f.Status), "kind=" + orAll(f.Kind)}
	switch f.Drill {
	case store.DrillExclude:
		parts = append(parts, "drills excluded")
	case store.DrillOnly:
		parts = append(parts, "drills only")
	}
	if f.Limit > 0 {
		parts = append(parts, fmt.Sprintf("limit=%d", f.Limit))
	}
	switch {
	case f.Before > 0:
		parts = append(parts, fmt.Sprintf("before=%s", store.IncidentID(f.Before)))
	case f.Oldest:
		parts = append(parts, "oldest")
	case f.After > 0:
		parts = append(parts, fmt.Sprintf("after=%s", store.IncidentID(f.After)))
	}
	if f.Match != "" {
		parts = append(parts, fmt.Sprintf("match=%q", f.Match))
	}
	return strings.Join(parts, " ")
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

// VerifyAudit checks the record (store.Verify: the hash chains, the state
// tables, the given checkpoints, SQLite's integrity check) for someone
// allowed to see all of it, and audits the access. Problems found in the
// file mark it damaged, so that nothing more is written to it.
func (s *Service) VerifyAudit(ctx context.Context, actor identity.Actor, opts ...store.VerifyOptions) (store.Report, error) {
	o := &op{actor: actor, action: "audit_verify", setup: true}
	var opt store.VerifyOptions
	if len(opts) > 0 {
		opt = opts[0]
	}
	var rep store.Report
	err := s.audited(ctx, o, func() error {
		var err error
		rep, err = store.Verify(ctx, s.Store.Path(), opt)
		o.detail = fmt.Sprintf("%d timeline and %d audit entries, %d checkpoints", rep.Timeline.Entries, rep.Audit.Entries,
			rep.Checkpoints)
		if !rep.OK {
			o.detail += fmt.Sprintf("; %d problem(s)", len(rep.Problems))
		}
		if rep.Integrity != "" && rep.Integrity != "ok" {
			s.Store.MarkDamaged("integrity_check: " + strings.ReplaceAll(rep.Integrity, "\n", "; "))
		}
		return err
	})
	if err != nil {
		return store.Report{}, err
	}
	return rep, nil
}
