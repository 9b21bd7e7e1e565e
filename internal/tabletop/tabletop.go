// Package tabletop holds the whole drill feature. It reads and checks
// scenarios and the actions files of headless drills, and runs table-top
// exercises: it replays a scenario's injects on a drill clock (real time,
// accelerated, inject by inject, or headless with a script of participant
// actions) in the facilitator's Console or the app, lets the team work a
// drill-flagged incident through the real incident service, scores every
// expected action as met, late or missed against its target and the
// regulatory clocks, and keeps the facilitator's observations and ratings
// (HSEEP P/S/M/U), the hot wash and the improvement plan in SQLite. It
// renders the after-action report, and turns a closed incident into a
// scenario so a team can rehearse what actually happened.
//
// A Run holds no goroutines: the TUI or the CLI drives it by calling Tick
// with the wall-clock time, and every change is persisted at once, in one
// transaction with its audit entry, so a drill interrupted by a crash can be
// resumed (ResumeRun) or abandoned with its record consistent.
package tabletop

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// Deps are what drills need. Store, Runbooks and Policy are required.
type Deps struct {
	Store    *store.Store
	Runbooks *runbook.Library
	Policy   deadline.Policy
	// Real is the wall clock; nil means clock.Real{}.
	Real clock.Clock
	// Service is the incident service a drill's incident is worked with:
	// the caller's own, on the wall clock, with its notifier. It stamps a
	// drill incident's actions with the drill clock it reads from the
	// database. Nil: a plain incident.Service on the store and Real.
	Service *incident.Service
	// Approve approves the drafted notice of a runbook notification on the
	// drill incident (the notify package's approval, which stamps it on the
	// drill clock too), used by scripted "approve" actions. Nil: the
	// approval is recorded on the drill incident's timeline as a
	// "drill_notice_approved" entry, which scoring counts like an approval
	// in the outbox.
	Approve func(ctx context.Context, actor identity.Actor, incidentID, notificationID string) error
}

func (d Deps) real() clock.Clock {
	if d.Real == nil {
		return clock.Real{}
	}
	return d.Real
}

func (d Deps) check() error {
	switch {
	case d.Store == nil:
		return errors.New("tabletop: no store")
	case d.Runbooks == nil:
		return errors.New("tabletop: no runbooks")
	}
	return nil
}

// Errors callers may test with errors.Is.
var (
	// ErrNotFound: the run, inject, expectation, objective or action item
	// does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidState: the run is ended, paused, or not yet linked to its
	// incident, or the inject was already delivered.
	ErrInvalidState = errors.New("invalid state")
	// ErrRefused: the input is bad, such as an empty observation.
	ErrRefused = errors.New("refused")
)

// Error is an error of one of the kinds above with a message for people.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Unwrap lets errors.Is match the kind.
func (e *Error) Unwrap() error { return e.Kind }

func notFound(format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

func invalidState(format string, args ...any) error {
	return &Error{Kind: ErrInvalidState, Msg: fmt.Sprintf(format, args...)}
}

func refused(format string, args ...any) error {
	return &Error{Kind: ErrRefused, Msg: fmt.Sprintf(format, args...)}
}

// Result is how an expected action went.
type Result string

// Results of an expected action.
const (
	Met     Result = "met"     // done by its target time (or done, when it has none)
	Late    Result = "late"    // done after its target time
	Missed  Result = "missed"  // not done by the end of play
	Pending Result = "pending" // not done yet; play goes on
	// NotPlayed: the inject it follows was never delivered before play
	// ended (an abandoned or shortened run): not scored.
	NotPlayed Result = "not played"
)

// Rating is the HSEEP rating of an objective.
type Rating string

// The HSEEP ratings.
const (
	Performed      Rating = "P" // performed without challenges
	SomeChallenges Rating = "S" // performed with some challenges
	MajorChallenge Rating = "M" // performed with major challenges
	Unable         Rating = "U" // unable to be performed
)

// RatingText is the meaning of each rating, as in the HSEEP evaluation guides.
var RatingText = map[Rating]string{
	Performed:      "Performed without challenges",
	SomeChallenges: "Performed with some challenges",
	MajorChallenge: "Performed with major challenges",
	Unable:         "Unable to be performed",
}

// Offset is a drill time from T+0. In JSON it is a number of seconds.
type Offset time.Duration

// MarshalJSON renders the offset in seconds.
func (o Offset) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(o).Seconds(), 'f', -1, 64)), nil
}

// UnmarshalJSON reads seconds.
func (o *Offset) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("offset: %w", err)
	}
	*o = Offset(time.Duration(f * float64(time.Second)))
	return nil
}

// String renders the offset as T+1h05m.
func (o Offset) String() string { return FormatOffset(time.Duration(o)) }

func offsetPtr(d time.Duration) *Offset {
	o := Offset(d)
	return &o
}
