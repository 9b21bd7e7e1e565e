package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// manyIncidents stores n incidents in one transaction (every third one
// closed), numbered INC-0001 (oldest) to n.
func (h *harness) manyIncidents(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	err := h.st.Update(ctx, func(tx *store.Tx) error {
		for i := range n {
			at := start.Add(time.Duration(i-n) * time.Hour)
			in := store.Incident{Kind: store.KindIncident, Status: store.StatusOpen, RunbookID: "lost-device", RunbookVersion: "1",
				Title: fmt.Sprintf("Laptop %d stolen", i+1), Severity: "SEV3", AwareAt: at, DeclaredAt: at, UpdatedAt: at, CreatedBy: "alice"}
			if i%3 == 2 {
				in.Status, in.ClosedAt = store.StatusClosed, at
			}
			if err := tx.InsertIncident(ctx, &in); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: start, Actor: "alice", Action: "seed", Outcome: store.OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.run(h.m.loadIncidents())
}

// The list reads a page at a time: the window never holds more than a few
// pages, moving down it reads the next page when the cursor comes near
// its end, and walking the whole list shows every incident once, in order.
func TestListPagesThroughALongList(t *testing.T) {
	h := newHarness(t)
	h.manyIncidents(t, 700)
	h.screen()
	l := &h.m.list
	if len(l.rows) != listPage || !l.older || l.newer || l.total != 467 {
		t.Fatalf("first page: %d rows, older %v newer %v total %d", len(l.rows), l.older, l.newer, l.total)
	}
	if !strings.Contains(h.screen(), "Incidents · open  1–35 of 467") {
		t.Fatalf("position:\n%s", h.screen())
	}
	// Walk down the whole list with the down key.
	var seen []string
	last := ""
	for range 500 {
		c, _ := l.current()
		if c.inc.ID != last {
			seen = append(seen, c.inc.ID)
			last = c.inc.ID
		}
		if len(l.rows) > listWindow {
			t.Fatalf("the window holds %d rows", len(l.rows))
		}
		h.press(first(h.m.keys.Down))
		h.screen()
	}
	if len(seen) != 467 {
		t.Fatalf("saw %d incidents going down, want 467", len(seen))
	}
	for i, id := range seen {
		n, _ := store.IncidentNumber(id)
		if i > 0 {
			prev, _ := store.IncidentNumber(seen[i-1])
			if n >= prev {
				t.Fatalf("%s after %s", id, seen[i-1])
			}
		}
		if n%3 == 0 {
			t.Fatalf("%s is closed but listed as open", id)
		}
	}
	if !strings.Contains(h.screen(), "of 467") || !strings.Contains(h.screen(), "INC-0001") {
		t.Fatalf("at the end:\n%s", h.screen())
	}
	// Back up with page up: the window reads the newer pages again.
	for range 40 {
		h.press("pgup")
		h.screen()
	}
	if c, _ := l.current(); c.inc.ID != "INC-0700" || l.skip != 0 || l.newer {
		t.Fatalf("after paging up: at %s, skip %d, newer %v", c.inc.ID, l.skip, l.newer)
	}
	// End reads the oldest page; home the newest.
	h.press("end")
	h.screen()
	if c, _ := l.current(); c.inc.ID != "INC-0001" || !l.newer || l.older {
		t.Fatalf("after end: at %s (newer %v, older %v)", c.inc.ID, l.newer, l.older)
	}
	if !strings.Contains(h.screen(), "–467 of 467") {
		t.Fatalf("position at the end:\n%s", h.screen())
	}
	h.press("home")
	if c, _ := l.current(); c.inc.ID != "INC-0700" || l.newer {
		t.Fatalf("after home: at %s", c.inc.ID)
	}
	// The scope and the filter are the query's: closed ones, then those
	// that hold "99 s" in this order.
	h.press(first(h.m.keys.Scope))
	if l.total != 233 || l.rows[0].inc.ID != "INC-0699" {
		t.Fatalf("closed: total %d, first %s", l.total, l.rows[0].inc.ID)
	}
	h.press(first(h.m.keys.Filter))
	h.typeText("99 s")
	want := 0
	for n := 3; n <= 700; n += 3 {
		if fuzzy("99 s", fmt.Sprintf("INC-%04d Laptop %d stolen lost-device SEV3", n, n)) {
			want++
		}
	}
	if len(l.rows) != want || l.total != -1 || want < 5 {
		t.Fatalf("filtered: %d rows, total %d, want %d rows", len(l.rows), l.total, want)
	}
	for _, r := range l.rows {
		if r.inc.Status != store.StatusClosed || !fuzzy("99 s", r.inc.ID+" "+r.inc.Title) {
			t.Fatalf("filtered: %s %q", r.inc.ID, r.inc.Title)
		}
	}
	h.press("esc")
	if len(l.rows) != listPage {
		t.Fatalf("after clearing the filter: %d rows", len(l.rows))
	}
}

// Ids wider than INC-9999 are shown whole.
func TestListShowsWideIDsWhole(t *testing.T) {
	h := newHarness(t)
	h.m.list.rows = []listRow{{inc: store.Incident{ID: "INC-100000", Number: 100000, Kind: store.KindIncident, Status: store.StatusOpen,
		Title: "Newest", Severity: "SEV2", DeclaredAt: start}}, {inc: store.Incident{ID: "INC-99999", Number: 99999,
		Kind: store.KindIncident, Status: store.StatusOpen, Title: "Older", Severity: "SEV2", DeclaredAt: start}}}
	h.m.list.total = 2
	for _, w := range []int{80, 120} {
		h.m.width = w
		sc := h.screen()
		if !strings.Contains(sc, "INC-100000  Newest") || !strings.Contains(sc, "INC-99999   Older") {
			t.Fatalf("at %d columns:\n%s", w, sc)
		}
	}
}

// A filtered list has no count, so the oldest page (end) cannot say how
// many incidents come before it; a refresh (a change made elsewhere) must
// still read the window on screen again, not jump back to the newest page.
func TestFilteredListKeepsTheOldestPageOnRefresh(t *testing.T) {
	h := newHarness(t)
	h.manyIncidents(t, 700)
	h.screen()
	l := &h.m.list
	h.press(first(h.m.keys.Filter))
	h.typeText("stolen")
	h.press("enter")
	if l.total != -1 || !l.older {
		t.Fatalf("filtered: total %d, older %v", l.total, l.older)
	}
	h.press("end")
	h.screen()
	if c, _ := l.current(); c.inc.ID != "INC-0001" || !l.newer {
		t.Fatalf("after end: at %s, newer %v", c.inc.ID, l.newer)
	}
	h.run(h.m.reload())
	h.screen()
	if c, _ := l.current(); c.inc.ID != "INC-0001" || !l.newer {
		t.Fatalf("after a refresh: at %s, newer %v; want INC-0001 with newer ones above", c.inc.ID, l.newer)
	}
}
