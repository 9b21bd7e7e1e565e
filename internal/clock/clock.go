// Package clock gives services their notion of "now": the real time, a
// fixed time for tests, or a drill's virtual time. Services take a Clock
// instead of calling time.Now so that tests and table-top replays are exact.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Fake is a settable clock for tests. It is safe for concurrent use.
type Fake struct {
	mu sync.Mutex
	t  time.Time
}

// NewFake returns a Fake clock reading t.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// Virtual is a drill's clock as it is stored, so that every process reads
// the same drill time: it reads Base at the wall-clock time Anchor and,
// while Running, moves Speed drill seconds per wall-clock second from
// there, never past Limit (when set: an inject-by-inject drill waits
// there for its facilitator).
type Virtual struct {
	Base    time.Time
	Anchor  time.Time
	Speed   float64
	Running bool
	Limit   time.Time
}

// At is the drill time at the wall-clock time real.
func (v Virtual) At(real time.Time) time.Time {
	t := v.Base
	if v.Running && v.Speed > 0 && real.After(v.Anchor) {
		t = v.Base.Add(time.Duration(float64(real.Sub(v.Anchor)) * v.Speed))
	}
	if !v.Limit.IsZero() && t.After(v.Limit) {
		t = v.Limit
	}
	if t.Before(v.Base) {
		t = v.Base
	}
	return t
}

// Hold returns the clock read at real and set to run (or stand still)
// from there.
func (v Virtual) Hold(real time.Time, running bool) Virtual {
	v.Base, v.Anchor, v.Running = v.At(real), real, running
	return v
}

// Set returns the clock set to read t at the wall-clock time real.
func (v Virtual) Set(t, real time.Time) Virtual {
	v.Base, v.Anchor = t, real
	return v
}
