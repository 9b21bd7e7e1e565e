package tabletop

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// TestResumeContinuesAtThePausedDrillTime is the repro: a drill
// played inject by inject is left (quit pauses it) just after its
// incident was declared; other processes then touch it on the wall clock
// (the delivery worker sending its notice, another player assigning the
// DPO); resuming must carry on at the drill time it was paused at, with
// one inject delivered, nothing overdue and nothing scored late.
func TestResumeContinuesAtThePausedDrillTime(t *testing.T) {
	c := newIrtui(t)
	out, errOut, code := c.runIn("next\ndeclare Open storage container\nquit\n",
		"drill", "run", "customer-data-open-storage", "--step")
	if code != 0 || !strings.Contains(out, "Declared INC-0001") {
		t.Fatalf("drill run: %d\n%s%s", code, out, errOut)
	}
	paused := regexp.MustCompile(`Drill DR-0001 is paused at (T\+\S+)\.`).FindStringSubmatch(out)
	if paused == nil {
		t.Fatalf("quit did not leave the drill paused:\n%s", out)
	}

	// The app's delivery worker (irtui notify send does the same) sends
	// the drill's stakeholder notice while the drill is paused.
	c.as = ""
	c.ok("notify", "send")
	// Another player assigns the DPO from their terminal: refused, with
	// a clear message, while the drill is paused.
	c.as = "dana"
	if _, errOut, code := c.run("incident", "assign", "INC-0001", "dpo", "dana"); code == 0 ||
		!strings.Contains(errOut, "drill DR-0001 is paused: nothing can be done on INC-0001 until the facilitator resumes it") {
		t.Fatalf("an action on a paused drill: %d %s", code, errOut)
	}

	c.as = "eli"
	p := c.console("drill", "resume", "DR-0001")
	p.waitFor("Resumed DR-0001, paused at " + paused[1] + ".")
	p.send("status")
	p.waitFor("DR-0001 paused at " + paused[1])
	p.send("resume")
	p.send("status")
	p.waitFor("1 of 6 injects delivered, next platform-confirms at T+20m")

	// Now the DPO is assigned, from another process, on the drill clock:
	// long before the DPO's inject is due, so it is not late.
	c.as = "dana"
	c.ok("incident", "assign", "INC-0001", "dpo", "dana")
	p.send("quit")
	p.end()
	for _, line := range p.seen {
		if strings.Contains(line, "[T+20m") || strings.Contains(line, "[T+22h") {
			t.Fatalf("resuming delivered later injects at once:\n%s", strings.Join(p.seen, "\n"))
		}
	}
	c.as = "eli"
	var s Score
	if err := json.Unmarshal([]byte(c.ok("drill", "score", "DR-0001", "--json")), &s); err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Expectations {
		if e.Result == Late || e.Overdue {
			t.Errorf("%s is %s (overdue %v) at %s, done %s: scored on the wall clock", e.ID, e.Result, e.Overdue, s.At, optOffset(e.Done))
		}
		if e.ID == "dpo-assigned" && (e.Done == nil || time.Duration(*e.Done) > time.Hour) {
			t.Errorf("the DPO assignment was stamped at %s, not on the drill clock", optOffset(e.Done))
		}
	}
	for _, cl := range s.Clocks {
		if cl.State == "overdue" || cl.State == "escalated" {
			t.Errorf("clock %s is %s at %s: read on the wall clock", cl.Obligation, cl.State, s.At)
		}
	}
	if time.Duration(s.At) > time.Hour {
		t.Errorf("the drill is at %s after a few seconds of play", s.At)
	}
	// The record holds: every change by every process is in the chains.
	c.as = ""
	if out, errOut, code := c.run("audit", "verify"); code != 0 {
		t.Fatalf("audit verify: %d\n%s%s", code, out, errOut)
	}
}

// TestTwoProcessesPlayOneDrillOnItsClock plays one accelerated drill from
// two processes: the facilitator's console and another participant's
// CLI. Both stamp the drill incident with the drill clock, which runs an
// hour a minute from a T+0 weeks before the wall clock.
func TestTwoProcessesPlayOneDrillOnItsClock(t *testing.T) {
	c := newIrtui(t)
	p := c.console("drill", "run", "customer-data-open-storage", "--speed", "60", "--epoch", "2026-03-10T10:05:00Z")
	p.waitFor("Type help")
	p.send("declare Open storage container")
	p.waitFor("Declared INC-0001")
	time.Sleep(time.Second) // a drill minute

	c.as = "bob"
	c.ok("incident", "note", "INC-0001", "From another terminal")
	p.send("as alice")
	p.send("note From the console")
	p.waitFor("OK (T+")
	p.send("quit")
	p.waitFor("is paused at")
	p.end()

	c.as = "eli"
	var d store.Detail
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "INC-0001", "--json")), &d); err != nil {
		t.Fatal(err)
	}
	epoch := time.Date(2026, 3, 10, 10, 5, 0, 0, time.UTC)
	notes := map[string]time.Time{}
	for _, e := range d.Timeline {
		switch e.Kind {
		case "declared", "note":
			notes[e.Summary] = e.At
		}
		// The whole test takes seconds of wall time: at 60 times, minutes
		// of drill time; the wall clock is weeks away.
		if off := e.At.Sub(epoch); off < 0 || off > time.Hour {
			t.Errorf("%s by %s stamped at %s, %s from T+0: not on the drill clock", e.Kind, e.Actor, e.At, off)
		}
	}
	if len(notes) != 3 {
		t.Fatalf("timeline: %+v", d.Timeline)
	}
	if d.Drill == nil || d.Drill.RunID != "DR-0001" || !d.Incident.Drill {
		t.Fatalf("the drill incident does not name its run: %+v", d.Drill)
	}
}
