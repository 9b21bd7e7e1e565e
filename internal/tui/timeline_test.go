package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/store"
)

// longTimeline declares an incident and adds n notes to its timeline in
// one transaction.
func (h *harness) longTimeline(t *testing.T, n int) string {
	t.Helper()
	in := h.declare(t, "lost-device", "Laptop stolen", classify.Answers{})
	ctx := context.Background()
	err := h.st.Update(ctx, func(tx *store.Tx) error {
		for i := range n {
			e := store.TimelineEntry{IncidentID: in.ID, At: start.Add(time.Duration(i) * time.Second), Actor: "bob", Auth: "os:bob",
				Kind: "note", Summary: fmt.Sprintf("Note %d", i+1), Data: []byte(`{}`)}
			if err := tx.AppendTimeline(ctx, &e); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: start, Actor: "alice", Action: "seed", Outcome: store.OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	return in.ID
}

func (h *harness) timelineSeq() int64 {
	dm := &h.m.detail
	return dm.d.Timeline[dm.cursor[tabTimeline]].Seq
}

// The incident view reads a window of the timeline and pages through the
// rest: walking up from the newest entry to the first and down again shows
// every entry once, in order, the window never holds more than a few
// pages, g and G jump to the ends, a refresh keeps the cursor on its
// entry, and scrolling writes no audit entry: the open was audited.
func TestTimelinePagesThroughALongTimeline(t *testing.T) {
	h := newHarness(t)
	id := h.longTimeline(t, 1234)
	h.openIncident(id, tabTimeline)
	dm := &h.m.detail
	total := int64(dm.d.TimelineTotal)
	if total < 1235 || len(dm.d.Timeline) != timelinePage || h.timelineSeq() != total || !dm.follow {
		t.Fatalf("opened: %d of %d entries, cursor on #%d", len(dm.d.Timeline), total, h.timelineSeq())
	}
	if s := h.screen(); !strings.Contains(s, fmt.Sprintf("of %s entries", thousands(int(total)))) {
		t.Fatalf("no position:\n%s", s)
	}
	audits := func() int {
		a, err := h.st.Audit(context.Background(), store.AuditFilter{IncidentID: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(a)
	}
	before := audits()
	for want := total; want >= 1; want-- {
		if got := h.timelineSeq(); got != want {
			t.Fatalf("going up: on #%d, want #%d", got, want)
		}
		if len(dm.d.Timeline) > timelineWindow {
			t.Fatalf("the window holds %d entries", len(dm.d.Timeline))
		}
		h.press(first(h.m.keys.Up))
		h.screen()
	}
	if dm.hasOlder() || h.timelineSeq() != 1 {
		t.Fatalf("at the top: on #%d, older %v", h.timelineSeq(), dm.hasOlder())
	}
	for want := int64(1); want <= total; want++ {
		if got := h.timelineSeq(); got != want {
			t.Fatalf("going down: on #%d, want #%d", got, want)
		}
		h.press(first(h.m.keys.Down))
	}
	if !dm.follow {
		t.Error("at the newest entry, the view does not follow it")
	}
	if after := audits(); after != before {
		t.Errorf("scrolling wrote %d audit entries", after-before)
	}

	h.press(first(h.m.keys.Top))
	if h.timelineSeq() != 1 || dm.follow {
		t.Fatalf("g: on #%d", h.timelineSeq())
	}
	h.press(first(h.m.keys.Bottom))
	if h.timelineSeq() != total || !dm.follow || len(dm.d.Timeline) > timelineWindow {
		t.Fatalf("G: on #%d of %d, %d held", h.timelineSeq(), total, len(dm.d.Timeline))
	}

	// In the middle, a change made elsewhere reloads the window: the
	// cursor stays on its entry.
	h.press(first(h.m.keys.Top))
	for range 300 {
		h.press(first(h.m.keys.Down))
	}
	on := h.timelineSeq()
	if err := h.svc.AddNote(context.Background(), as("bob"), id, "from another responder"); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.reload())
	if h.timelineSeq() != on || dm.follow {
		t.Fatalf("after a refresh: on #%d, want #%d", h.timelineSeq(), on)
	}
	if int64(dm.d.TimelineTotal) != total+1 {
		t.Errorf("after a refresh: %d entries, want %d", dm.d.TimelineTotal, total+1)
	}
}

// Keys pressed faster than a page is read can bring the cursor to the
// last loaded entry while the timeline goes on past it: that entry is not
// the newest, so the view must not follow the newest entry, and a refresh
// (a change made elsewhere) keeps the cursor on its entry instead of
// jumping to the end of the timeline.
func TestTimelineDoesNotFollowAtTheEndOfAWindow(t *testing.T) {
	h := newHarness(t)
	id := h.longTimeline(t, 1234)
	h.openIncident(id, tabTimeline)
	dm := &h.m.detail
	h.press(first(h.m.keys.Top))
	if h.timelineSeq() != 1 || len(dm.d.Timeline) != timelinePage {
		t.Fatalf("g: on #%d, %d held", h.timelineSeq(), len(dm.d.Timeline))
	}
	// The page reads these keys start are still on their way.
	var pending []tea.Cmd
	for range timelinePage - 1 {
		_, cmd := h.m.Update(keyMsg(first(h.m.keys.Down)))
		pending = append(pending, cmd)
	}
	if h.timelineSeq() != timelinePage || !dm.hasNewer() {
		t.Fatalf("on #%d, newer %v", h.timelineSeq(), dm.hasNewer())
	}
	if dm.follow {
		t.Error("on the last loaded entry with more after it, the view follows the newest entry")
	}
	for _, cmd := range pending {
		h.run(cmd)
	}
	on := h.timelineSeq()
	if err := h.svc.AddNote(context.Background(), as("bob"), id, "from another responder"); err != nil {
		t.Fatal(err)
	}
	h.run(h.m.reload())
	if h.timelineSeq() != on {
		t.Fatalf("after a refresh: on #%d, want #%d", h.timelineSeq(), on)
	}
}
