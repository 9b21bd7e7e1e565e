package tui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// Messages carrying the results of commands. Each carries its error;
// commands never touch the model.
type (
	runbooksMsg  struct{ lib *runbook.Library }
	directoryMsg struct {
		people    []store.Person
		customers []store.Customer
		err       error
	}
	incidentsMsg struct {
		req  listReq
		rows []listRow
		page incident.Page
		err  error
	}
	detailMsg struct {
		detail      store.Detail
		obligations []deadline.Obligation
		notices     []notify.View
		open        bool
		err         error
	}
	versionMsg struct {
		version int64
		err     error
	}
	// actionMsg reports a finished change; open names an incident to show.
	actionMsg struct {
		done string
		open string
		err  error
	}
)

// listRow is one incident of the list with what the list shows of it.
type listRow struct {
	inc       store.Incident
	commander string
	next      deadline.Obligation
	nextSt    deadline.Status
	hasNext   bool
	// now is a drill incident's drill time when the list was read; its
	// age and deadlines are on it, never the wall clock.
	now time.Time
}

func (r listRow) nowOr(wall time.Time) time.Time {
	if r.now.IsZero() {
		return wall
	}
	return r.now
}

func (m *Model) loadRunbooks() tea.Cmd {
	load := m.deps.Runbooks
	return func() tea.Msg { return runbooksMsg{lib: load()} }
}

func (m *Model) loadDirectory() tea.Cmd {
	dir, actor := m.deps.Directory, m.deps.Actor
	if dir == nil {
		return nil
	}
	return func() tea.Msg {
		d, err := dir.Directory(m.ctx(), actor)
		return directoryMsg{people: d.People, customers: d.Customers, err: err}
	}
}

// loadIncidents reads the list's window again, after a change.
func (m *Model) loadIncidents() tea.Cmd {
	return m.loadList(m.list.request(listRefresh))
}

// loadList reads a page of the list with each open incident's commander
// and nearest deadline, computed here rather than in View.
func (m *Model) loadList(req listReq) tea.Cmd {
	svc, actor, policy, clk := m.deps.Service, m.deps.Actor, m.deps.Config.Policy, m.deps.Clock
	return func() tea.Msg {
		p, err := svc.ListPage(m.ctx(), actor, req.filter)
		if err != nil {
			return incidentsMsg{req: req, err: err}
		}
		real := clk.Now()
		rows := make([]listRow, 0, len(p.Incidents))
		for _, in := range p.Incidents {
			row := listRow{inc: in}
			sm := p.Summaries[in.ID]
			if sm.Drill != nil {
				row.now = sm.Drill.Now(real)
			}
			if in.Kind == store.KindIncident && in.Status == store.StatusOpen {
				row.commander = sm.Commander
				row.next, row.nextSt, row.hasNext = incident.NextDeadline(incident.Obligations(in, sm.Obligations, policy), row.nowOr(real))
			}
			rows = append(rows, row)
		}
		return incidentsMsg{req: req, rows: rows, page: p}
	}
}

// loadDetail reads one incident and its notifications: opening it, or
// refreshing it after a change. Both are audited accesses.
//
// Either reads a window of the timeline, never all of it: the newest page
// on opening, the window on screen on a refresh (timeline.go).
func (m *Model) loadDetail(id string, open bool) tea.Cmd {
	svc, ns, actor, policy := m.deps.Service, m.deps.Notify, m.deps.Actor, m.deps.Config.Policy
	w := incident.Window{Limit: timelinePage}
	if !open && m.detail.id == id {
		w = m.detail.refreshWindow()
	}
	return func() tea.Msg {
		ctx := m.ctx()
		var d store.Detail
		var err error
		if open {
			d, err = svc.Open(ctx, actor, id, w)
		} else {
			d, err = svc.Refresh(ctx, actor, id, w)
		}
		if err != nil {
			return detailMsg{err: err}
		}
		msg := detailMsg{detail: d, obligations: incident.Obligations(d.Incident, d.Obligations, policy), open: open}
		if ns != nil {
			if msg.notices, err = ns.List(ctx, actor, notify.Filter{IncidentID: id}); err != nil {
				return detailMsg{err: err}
			}
		}
		return msg
	}
}

// poll reads the change counter; a change made anywhere (a second
// responder, the CLI, another session) reloads what is on screen.
func (m *Model) poll() tea.Cmd {
	ch := m.deps.Changes
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		v, err := ch.Version(m.ctx())
		return versionMsg{version: v, err: err}
	}
}

// pushed reports whether the app is told at once of the changes this
// process commits (waitForChange), rather than finding them by polling.
func (m *Model) pushed() bool {
	return m.deps.Changes != nil && m.deps.Poll >= 0 && m.deps.Changes.Changed() != nil
}

// changedMsg: this process committed a change (Changes.Changed).
type changedMsg struct{}

// waitForChange waits for the next change made in this process, so that
// sessions sharing it see one another's changes at once rather than at
// the next poll. It gives up when the session ends.
func (m *Model) waitForChange() tea.Cmd {
	if !m.pushed() {
		return nil
	}
	ch := m.deps.Changes.Changed()
	ctx := m.ctx()
	return func() tea.Msg {
		select {
		case <-ch:
			return changedMsg{}
		case <-ctx.Done():
			return nil
		}
	}
}

// reloadOnce reloads what is on screen after a change, unless a reload
// is in flight: then it reloads once more when that one is in. A burst of
// changes (an action and the deliveries it sets off) costs two reloads,
// not one each, in every session that shows them, and each reload is
// audited reads.
func (m *Model) reloadOnce() tea.Cmd {
	if m.reloading {
		m.reloadAgain = true
		return nil
	}
	m.reloading = true
	return m.reload()
}

func (m *Model) reload() tea.Cmd {
	cmds := []tea.Cmd{m.loadIncidents(), m.loadDirectory()}
	if m.screen == screenIncident {
		cmds = append(cmds, m.loadDetail(m.detail.id, false))
	}
	return tea.Batch(cmds...)
}

// act runs a change through the incident service and reports it.
func (m *Model) act(done string, fn func() error) tea.Cmd {
	return func() tea.Msg {
		if err := fn(); err != nil {
			return actionMsg{err: err}
		}
		return actionMsg{done: done}
	}
}
