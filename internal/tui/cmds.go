package tui

import (
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
		rows []listRow
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
}

func (m *Model) loadRunbooks() tea.Cmd {
	load := m.deps.Runbooks
	return func() tea.Msg { return runbooksMsg{lib: load()} }
}

func (m *Model) loadDirectory() tea.Cmd {
	st := m.deps.Store
	return func() tea.Msg {
		ctx := m.ctx()
		people, err := st.People(ctx)
		if err != nil {
			return directoryMsg{err: err}
		}
		customers, err := st.Customers(ctx)
		return directoryMsg{people: people, customers: customers, err: err}
	}
}

// loadIncidents lists open and closed incidents with each one's commander
// and nearest deadline, computed here rather than in View.
func (m *Model) loadIncidents() tea.Cmd {
	svc, st, actor, policy, clk := m.deps.Service, m.deps.Store, m.deps.Actor, m.deps.Config.Policy, m.deps.Clock
	return func() tea.Msg {
		ctx := m.ctx()
		list, err := svc.List(ctx, actor, store.ListFilter{Limit: 500})
		if err != nil {
			return incidentsMsg{err: err}
		}
		sums, err := st.OpenSummaries(ctx)
		if err != nil {
			return incidentsMsg{err: err}
		}
		now := clk.Now()
		rows := make([]listRow, 0, len(list))
		for _, in := range list {
			row := listRow{inc: in}
			if in.Kind == store.KindIncident && in.Status == store.StatusOpen {
				sm := sums[in.ID]
				row.commander = sm.Commander
				row.next, row.nextSt, row.hasNext = incident.NextDeadline(incident.Obligations(in, sm.Obligations, policy), now)
			}
			rows = append(rows, row)
		}
		return incidentsMsg{rows: rows}
	}
}

// loadDetail reads one incident and its notifications. Opening it is an
// audited access; a refresh of what is already on screen is not.
func (m *Model) loadDetail(id string, open bool) tea.Cmd {
	svc, ns, st, actor, policy := m.deps.Service, m.deps.Notify, m.deps.Store, m.deps.Actor, m.deps.Config.Policy
	return func() tea.Msg {
		ctx := m.ctx()
		var d store.Detail
		var err error
		if open {
			d, err = svc.Get(ctx, actor, id)
		} else {
			d, err = st.Incident(ctx, id)
		}
		if err != nil {
			return detailMsg{err: err}
		}
		msg := detailMsg{detail: d, obligations: incident.Obligations(d.Incident, d.Obligations, policy), open: open}
		if ns != nil {
			if open {
				msg.notices, err = ns.List(ctx, actor, notify.Filter{IncidentID: id})
			} else {
				var list []store.Notification
				list, err = st.ListNotifications(ctx, store.NotificationFilter{IncidentID: id})
				for _, n := range list {
					msg.notices = append(msg.notices, notify.NewView(n))
				}
			}
			if err != nil {
				return detailMsg{err: err}
			}
		}
		return msg
	}
}

// poll reads the database's change counter; a change made by another
// process (a second responder, the CLI) reloads what is on screen.
func (m *Model) poll() tea.Cmd {
	st := m.deps.Store
	return func() tea.Msg {
		v, err := st.DataVersion(m.ctx())
		return versionMsg{version: v, err: err}
	}
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
