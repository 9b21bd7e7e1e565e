package tabletop

import (
	"sync"
	"time"

	"github.com/irtui/irtui/internal/clock"
)

// drillClock is a drill's virtual clock. It runs at speed drill seconds
// per wall-clock second from (anchor, base), stands still while stopped,
// and never passes limit (inject-by-inject play waits there for the
// facilitator). A headless drill's clock is always stopped and is moved
// by set. It is a clock.Clock, so the incident service stamps the drill's
// incident in drill time.
type drillClock struct {
	mu      sync.Mutex
	real    clock.Clock
	base    time.Time // drill time at anchor
	anchor  time.Time // wall-clock time when base was set
	speed   float64
	running bool
	limit   time.Time // zero: none
}

var _ clock.Clock = (*drillClock)(nil)

// Now is the drill time now.
func (c *drillClock) Now() time.Time { return c.at(c.real.Now()) }

// at is the drill time at the wall-clock time real.
func (c *drillClock) at(real time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.atLocked(real)
}

func (c *drillClock) atLocked(real time.Time) time.Time {
	t := c.base
	if c.running && c.speed > 0 && real.After(c.anchor) {
		t = c.base.Add(time.Duration(float64(real.Sub(c.anchor)) * c.speed))
	}
	if !c.limit.IsZero() && t.After(c.limit) {
		t = c.limit
	}
	if t.Before(c.base) {
		t = c.base
	}
	return t
}

// set moves the clock to t at the wall-clock time real.
func (c *drillClock) set(t, real time.Time) {
	c.mu.Lock()
	c.base, c.anchor = t, real
	c.mu.Unlock()
}

// hold stops the clock at its current reading (running false) or starts
// it from there (running true).
func (c *drillClock) hold(real time.Time, running bool) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.atLocked(real)
	c.base, c.anchor, c.running = t, real, running
	return t
}

// setSpeed changes the speed from the current reading on.
func (c *drillClock) setSpeed(real time.Time, speed float64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.atLocked(real)
	c.base, c.anchor, c.speed = t, real, speed
}

// setLimit makes the clock wait at limit (zero: no limit). The current
// reading is kept, so lifting a limit does not jump over the time held.
func (c *drillClock) setLimit(real, limit time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.atLocked(real)
	c.base, c.anchor, c.limit = t, real, limit
}
