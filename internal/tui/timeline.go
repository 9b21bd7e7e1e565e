package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// The incident view holds a window of the timeline, never all of it: the
// newest page when the incident is opened, then a page more, read by seq
// through the service, whenever the cursor comes within timelineMargin
// entries of a loaded end and the timeline goes on past it. The window
// keeps at most timelineWindow entries, dropping those furthest from the
// cursor, so an incident of 100,000 entries costs what one of 300 does.
const (
	timelinePage   = 100
	timelineMargin = 40
	timelineWindow = 5 * timelinePage
)

// timelineWay says what part of the timeline a page read fetches.
type timelineWay uint8

const (
	timelineOlder  timelineWay = iota // the page before the window
	timelineNewer                     // the page after the window
	timelineFirst                     // the first page (g)
	timelineLatest                    // the newest page (G)
)

// timelineReq is one page read of an incident's timeline.
type timelineReq struct {
	id  string
	way timelineWay
	w   incident.Window
	seq int
}

// timelinePageMsg carries a page read for req.
type timelinePageMsg struct {
	req     timelineReq
	entries []store.TimelineEntry
	err     error
}

// timelinePaging is the paging state of the incident view's timeline.
type timelinePaging struct {
	pending bool // a page is being read
	seq     int  // the read whose answer is awaited: older answers are dropped
	// noOlder and noNewer: a page read past an end came back empty (the
	// seq numbers promised more), so the view stops asking.
	noOlder, noNewer bool
}

func (dm *detailModel) hasOlder() bool {
	tl := dm.d.Timeline
	return len(tl) > 0 && tl[0].Seq > 1 && !dm.tl.noOlder
}

func (dm *detailModel) hasNewer() bool {
	tl := dm.d.Timeline
	return len(tl) > 0 && tl[len(tl)-1].Seq < int64(dm.d.TimelineTotal) && !dm.tl.noNewer
}

// refreshWindow is the part of the timeline a refresh reads again: the
// newest page when the view follows the newest entry, or else the window
// on screen, from its first entry.
func (dm *detailModel) refreshWindow() incident.Window {
	tl := dm.d.Timeline
	if dm.follow || len(tl) == 0 {
		return incident.Window{Limit: max(min(len(tl), timelineWindow), timelinePage)}
	}
	return incident.Window{After: tl[0].Seq - 1, Oldest: tl[0].Seq <= 1, Limit: max(min(len(tl), timelineWindow), timelinePage)}
}

// pageRequest starts a page read; an answer to an earlier one that is
// still on its way is then dropped.
func (dm *detailModel) pageRequest(way timelineWay) timelineReq {
	tl := dm.d.Timeline
	w := incident.Window{Limit: timelinePage}
	switch way {
	case timelineOlder:
		w.Before = tl[0].Seq
	case timelineNewer:
		w.After = tl[len(tl)-1].Seq
	case timelineFirst:
		w.Oldest = true
	}
	dm.tl.seq++
	dm.tl.pending = true
	return timelineReq{id: dm.id, way: way, w: w, seq: dm.tl.seq}
}

// loadTimelinePage reads a page of the timeline of the incident on screen.
func (m *Model) loadTimelinePage(req timelineReq) tea.Cmd {
	svc, actor := m.deps.Service, m.deps.Actor
	return func() tea.Msg {
		entries, err := svc.TimelinePage(m.ctx(), actor, req.id, req.w)
		return timelinePageMsg{req: req, entries: entries, err: err}
	}
}

// followTimeline reads the next page when the cursor comes near a loaded
// end of the window and the timeline goes on past it.
func (dm *detailModel) followTimeline(m *Model) tea.Cmd {
	if dm.tab != tabTimeline || dm.tl.pending || len(dm.d.Timeline) == 0 {
		return nil
	}
	c := dm.cursor[tabTimeline]
	switch {
	case dm.hasNewer() && c >= len(dm.d.Timeline)-timelineMargin:
		return m.loadTimelinePage(dm.pageRequest(timelineNewer))
	case dm.hasOlder() && c < timelineMargin:
		return m.loadTimelinePage(dm.pageRequest(timelineOlder))
	}
	return nil
}

// applyPage takes a page read for req into the window.
func (dm *detailModel) applyPage(req timelineReq, page []store.TimelineEntry) {
	if req.id != dm.id || req.seq != dm.tl.seq {
		return // another incident's, or overtaken by a later read or a refresh
	}
	dm.tl.pending = false
	tl := dm.d.Timeline
	c, off := &dm.cursor[tabTimeline], &dm.offset[tabTimeline]
	switch req.way {
	case timelineFirst:
		dm.d.Timeline, *c, *off = page, 0, 0
		dm.tl.noOlder, dm.tl.noNewer = false, false
		dm.follow = false
	case timelineLatest:
		dm.d.Timeline, *c, *off = page, max(len(page)-1, 0), 0
		dm.tl.noOlder, dm.tl.noNewer = false, false
		dm.follow = true
	case timelineOlder:
		if len(page) == 0 {
			dm.tl.noOlder = true
			return
		}
		tl = append(page, tl...)
		*c, *off = *c+len(page), *off+len(page)
		if len(tl) > timelineWindow {
			tl = tl[:timelineWindow]
			dm.tl.noNewer = false
		}
		dm.d.Timeline = tl
	case timelineNewer:
		if len(page) == 0 {
			dm.tl.noNewer = true
			return
		}
		tl = append(tl, page...)
		if drop := len(tl) - timelineWindow; drop > 0 {
			tl = tl[drop:]
			*c, *off = max(*c-drop, 0), max(*off-drop, 0)
			dm.tl.noOlder = false
		}
		dm.d.Timeline = tl
	}
	*c = min(*c, max(len(dm.d.Timeline)-1, 0))
	// A page may hold entries written since the incident was read (the
	// refresh for them is on its way): seq counts them.
	if tl := dm.d.Timeline; len(tl) > 0 && tl[len(tl)-1].Seq > int64(dm.d.TimelineTotal) {
		dm.d.TimelineTotal = int(tl[len(tl)-1].Seq)
	}
}

// timelineKey moves in the timeline: g and G read the first or the newest
// page when the window does not hold it; any move near an end of the
// window reads the next page past it.
func (dm *detailModel) timelineKey(m *Model, top, bottom bool) tea.Cmd {
	switch {
	case top && dm.hasOlder():
		return m.loadTimelinePage(dm.pageRequest(timelineFirst))
	case bottom && dm.hasNewer():
		return m.loadTimelinePage(dm.pageRequest(timelineLatest))
	}
	return dm.followTimeline(m)
}
