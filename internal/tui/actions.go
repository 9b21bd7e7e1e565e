package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/store"
)

// applier is a command's result that knows how to apply itself to the
// model: the messages of the incident view's actions.
type applier interface {
	apply(m *Model) tea.Cmd
}

// fieldSavedMsg: a notice field was saved from the field picker; it opens
// again on the next field.
type fieldSavedMsg struct {
	view  notify.View
	field string
	done  string
}

func (msg fieldSavedMsg) apply(m *Model) tea.Cmd {
	cmds := []tea.Cmd{m.setStatus(msg.done, false), m.reload()}
	v := msg.view
	if m.screen == screenIncident && m.overlay == nil && v.Status == store.NoticeDraft {
		next := m.detail.nextField(v, msg.field)
		if i := slices.IndexFunc(v.Fields, func(f store.NoticeField) bool { return f.ID == msg.field }); next > i {
			m.detail.editField(m, v, next)
		} else if len(v.Missing) == 0 {
			cmds = append(cmds, m.setStatus(fmt.Sprintf("%s #%d has every required field; someone who did not write it approves it (p).", msg.done, v.ID), false))
		}
	}
	return tea.Batch(cmds...)
}

// closeCheckedMsg: the service said what closing leaves open.
type closeCheckedMsg struct {
	id   string
	ends incident.OpenEnds
	now  time.Time
	err  error
}

func (msg closeCheckedMsg) apply(m *Model) tea.Cmd {
	if msg.err != nil {
		return m.setStatus(msg.err.Error(), true) // refused before anyone typed a reason
	}
	id, svc, actor := msg.id, m.service(msg.id), m.deps.Actor
	if msg.ends.Empty() {
		m.overlay = &confirmOverlay{prompt: "Close " + id + "? Every required step is done, every clock met and every notice sent.",
			yes: func() tea.Cmd {
				return m.act(id+" closed.", func() error { return svc.Close(m.ctx(), actor, id, "") })
			}}
		return nil
	}
	lines := msg.ends.Lines(msg.now)
	in := newInput(m, "Reason to close "+id+" over them (recorded):", "e.g. regulator notified by phone; tracked in ticket SEC-42", true,
		func(reason string) tea.Cmd {
			return m.act(id+" closed.", func() error { return svc.Close(m.ctx(), actor, id, reason) })
		})
	in.detail = fmt.Sprintf("Closing %s leaves open:\n• %s", id, strings.Join(lines, "\n• "))
	m.overlay = in
	return nil
}

// overrideCheckedMsg: the service said whether the user may override an
// incident's process; ask opens the question that follows.
type overrideCheckedMsg struct {
	err error
	ask func()
}

func (msg overrideCheckedMsg) apply(m *Model) tea.Cmd {
	if msg.err != nil {
		return m.setStatus(msg.err.Error(), true) // refused before anyone typed a reason
	}
	msg.ask()
	return nil
}

// checkOverride asks the service whether the user may do what doing
// describes to incident id (reopen it, lower its severity), and only then
// runs ask, which asks for the reason.
func (m *Model) checkOverride(id, doing string, ask func()) tea.Cmd {
	svc, actor := m.service(id), m.deps.Actor
	return func() tea.Msg {
		return overrideCheckedMsg{err: svc.CheckOverride(m.ctx(), actor, id, doing), ask: ask}
	}
}

// approvalsCheckedMsg: the service said which notices the user may
// approve now, and why not the others.
type approvalsCheckedMsg struct {
	ok      []notify.View
	refused []string
	// none, when no notice was ready to ask about, says so (an error when
	// noneErr).
	none    string
	noneErr bool
}

// checkApprovals asks the service, for each notice, whether the user may
// approve it now; the question "approve?" comes only after.
func (m *Model) checkApprovals(views []notify.View) tea.Cmd {
	ns, actor := m.deps.Notify, m.deps.Actor
	if ns == nil {
		return m.setStatus("Notifications are not set up in this session.", true)
	}
	return func() tea.Msg { return checkEach(m.ctx(), ns, actor, views) }
}

// checkEach asks the service about each notice; it runs in a command.
func checkEach(ctx context.Context, ns *notify.Service, actor identity.Actor, views []notify.View) approvalsCheckedMsg {
	var msg approvalsCheckedMsg
	for _, v := range views {
		if err := ns.CheckApproval(ctx, actor, v.ID); err != nil {
			msg.refused = append(msg.refused, fmt.Sprintf("#%d: %s", v.ID, err.Error()))
			continue
		}
		if nv, err := ns.Get(ctx, actor, v.ID); err == nil {
			v = nv // as it will go out
		}
		msg.ok = append(msg.ok, v)
	}
	return msg
}

func (msg approvalsCheckedMsg) apply(m *Model) tea.Cmd {
	if msg.none != "" {
		return m.setStatus(msg.none, msg.noneErr)
	}
	if len(msg.ok) == 0 {
		if len(msg.refused) == 0 {
			return m.setStatus("Nothing to approve.", false)
		}
		return m.setStatus(strings.Join(msg.refused, " · "), true)
	}
	s := m.styles
	var b strings.Builder
	if len(msg.ok) == 1 {
		fmt.Fprintf(&b, "%s\n\n", s.Bold.Render(fmt.Sprintf("Approve #%d?", msg.ok[0].ID)))
	} else {
		fmt.Fprintf(&b, "%s\n", s.Bold.Render(fmt.Sprintf("Approve these %d notices? Each is approved, and recorded, on its own.", len(msg.ok))))
	}
	for _, v := range msg.ok {
		fmt.Fprintf(&b, "• #%d %s to %s: %s.\n", v.ID, v.RuleID, clean(v.Recipient), upperFirst(m.deps.Delivery.WhatHappensTo(v.Notification)))
	}
	if len(msg.refused) > 0 {
		b.WriteString("\n" + s.Warn.Render("Not included:") + "\n")
		for _, r := range msg.refused {
			b.WriteString("• " + clean(r) + "\n")
		}
	}
	for _, v := range msg.ok {
		b.WriteString("\n" + s.Subtle.Render(strings.Repeat("─", 20)) + "\n" + noticeText(m, v) + "\n")
	}
	ns, actor, wake := m.deps.Notify, m.deps.Actor, m.deps.Wake
	ids := make([]int64, len(msg.ok))
	for i, v := range msg.ok {
		ids[i] = v.ID
	}
	views := msg.ok
	m.overlay = &confirmOverlay{prompt: strings.TrimRight(b.String(), "\n"), styled: true, yes: func() tea.Cmd {
		return func() tea.Msg {
			approved, refused := ns.ApproveEach(m.ctx(), actor, ids)
			if len(approved) > 0 && wake != nil {
				wake()
			}
			var parts []string
			for _, v := range views {
				if slices.Contains(approved, v.ID) {
					parts = append(parts, fmt.Sprintf("#%d approved; %s", v.ID, m.deps.Delivery.WhatHappensTo(v.Notification)))
				}
			}
			var errs []string
			for _, id := range ids {
				if err, ok := refused[id]; ok {
					errs = append(errs, fmt.Sprintf("#%d: %v", id, err))
				}
			}
			if len(errs) > 0 {
				return actionMsg{err: fmt.Errorf("%s", strings.Join(append(parts, errs...), " · "))}
			}
			return actionMsg{done: strings.Join(parts, " · ") + "."}
		}
	}}
	return nil
}

// hasDrafts reports whether the incident has notices waiting to be
// written or approved.
func (dm *detailModel) hasDrafts() bool {
	return slices.ContainsFunc(dm.notices, func(v notify.View) bool { return v.Status == store.NoticeDraft })
}

// approveAll approves, after one question, every draft the user may
// approve that has everything it needs. The drafts are read again first:
// P pressed just after leaving the composer must act on the notices as
// they are, not as the incident view last showed them.
func (dm *detailModel) approveAll(m *Model) tea.Cmd {
	ns, actor, id := m.deps.Notify, m.deps.Actor, dm.id
	if ns == nil {
		return m.setStatus("Notifications are not set up in this session.", true)
	}
	return func() tea.Msg {
		views, err := ns.List(m.ctx(), actor, notify.Filter{IncidentID: id})
		if err != nil {
			return approvalsCheckedMsg{none: err.Error(), noneErr: true}
		}
		ready, why := readyDrafts(views)
		switch {
		case len(ready) == 0 && len(why) == 0:
			return approvalsCheckedMsg{none: "No notice is waiting for approval."}
		case len(ready) == 0:
			return approvalsCheckedMsg{none: "No notice is ready for approval: " + strings.Join(why, " · "), noneErr: true}
		}
		return checkEach(m.ctx(), ns, actor, ready)
	}
}

// readyDrafts picks the drafts that have everything they need, and says
// why each other draft is not ready.
func readyDrafts(views []notify.View) (ready []notify.View, why []string) {
	for _, v := range views {
		if v.Status != store.NoticeDraft {
			continue
		}
		switch {
		case len(v.Missing) > 0:
			why = append(why, fmt.Sprintf("#%d needs %s", v.ID, strings.Join(v.Missing, "; ")))
		case len(v.Blocked) > 0:
			why = append(why, fmt.Sprintf("#%d: %s", v.ID, strings.Join(v.Blocked, "; ")))
		default:
			ready = append(ready, v)
		}
	}
	return ready, why
}

// reassess opens the triage again with the incident's answers.
func (dm *detailModel) reassess(m *Model) tea.Cmd {
	if m.lib == nil {
		return m.setStatus("Runbooks are still loading…", false)
	}
	in := dm.d.Incident
	if in.Kind != store.KindIncident || in.Status != store.StatusOpen {
		return m.setStatus(in.ID+" is not an open incident; only an open incident is re-assessed.", true)
	}
	return m.startReassess(dm.d)
}

// askCustomers links a customer to the incident, or unlinks one with a
// reason.
func (dm *detailModel) askCustomers(m *Model) tea.Cmd {
	if len(m.customers) == 0 {
		return m.setStatus("The directory has no customers: import them with `irtui directory import FILE`.", true)
	}
	linked := map[string]bool{}
	for _, c := range dm.d.Customers {
		linked[c.ID] = true
	}
	var items []choice
	for _, c := range m.customers {
		detail := "not affected — enter links it"
		if linked[c.ID] {
			detail = "AFFECTED — enter unlinks it"
		}
		items = append(items, choice{value: c.ID, label: clean(c.Name) + " (" + c.ID + ")", detail: detail})
	}
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	m.overlay = newChoice("Affected customers of "+id, items, func(c choice) tea.Cmd {
		if !linked[c.value] {
			return m.act(fmt.Sprintf("%s is affected; its notices are drafted (w writes them).", c.value), func() error {
				return svc.LinkCustomer(m.ctx(), actor, id, c.value)
			})
		}
		m.overlay = newInput(m, "Unlink "+c.label+": why is it not affected?", "the reason is recorded; its drafts are withdrawn", true,
			func(reason string) tea.Cmd {
				return m.act(c.value+" unlinked; its drafts are withdrawn.", func() error {
					return svc.UnlinkCustomer(m.ctx(), actor, id, c.value, reason)
				})
			})
		return nil
	})
	return nil
}

// showEntry shows the selected timeline entry in full.
func (dm *detailModel) showEntry(m *Model) tea.Cmd {
	if len(dm.d.Timeline) == 0 {
		return nil
	}
	e := dm.d.Timeline[min(dm.cursor[tabTimeline], len(dm.d.Timeline)-1)]
	s := m.styles
	loc := m.deps.Config.Policy.Location()
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", s.Bold.Render(e.Kind), s.Subtle.Render(fmt.Sprintf("entry %d of %s", e.Seq, dm.id)))
	who := clean(e.Actor)
	if identity.IsClaim(e.Auth) {
		who += " (claimed by " + clean(identity.ClaimedBy(e.Auth)) + ")"
	}
	fmt.Fprintf(&b, "%s by %s", localTime(e.At, loc), who)
	if e.Auth != "" {
		b.WriteString(s.Subtle.Render(" · " + clean(e.Auth)))
	}
	b.WriteString("\n\n" + cleanBlock(e.Summary) + "\n")
	if len(e.Data) > 2 {
		var v any
		if json.Unmarshal(e.Data, &v) == nil {
			if pretty, err := json.MarshalIndent(v, "", "  "); err == nil {
				b.WriteString("\n" + s.Subtle.Render("Recorded data:") + "\n" + cleanBlock(string(pretty)) + "\n")
			}
		}
	}
	m.overlay = newTextOverlay(strings.TrimRight(b.String(), "\n"))
	return nil
}

// askAnchor records when a moment happened that clocks run from: which
// moment, when (now unless changed), and why.
func (dm *detailModel) askAnchor(m *Model) tea.Cmd {
	var items []choice
	for _, a := range deadline.AnchorKinds {
		detail := a.Title
		if rules := deadline.RulesUsing(a.Event); len(rules) > 0 {
			var labels []string
			for _, r := range rules {
				labels = append(labels, deadline.LabelOf(r))
			}
			detail += " — starts: " + strings.Join(labels, ", ")
		}
		items = append(items, choice{value: a.Name, label: a.Name, detail: detail})
	}
	id, svc, actor, loc := dm.id, m.service(dm.id), m.deps.Actor, m.deps.Config.Policy.Location()
	now := m.nowFor(dm.id)
	m.overlay = newChoice("Record when something happened ("+id+")", items, func(c choice) tea.Cmd {
		kind, _ := deadline.AnchorByName(c.value)
		in := newInput(m, fmt.Sprintf("When was it: %s? YYYY-MM-DD HH:MM, %s", kind.Title, loc), "", true, func(text string) tea.Cmd {
			at, err := deadline.ParseTime(strings.TrimSpace(text), loc)
			if err != nil {
				return func() tea.Msg { return actionMsg{err: fmt.Errorf("%s: %w", kind.Name, err)} }
			}
			prompt := "Why, or what it rests on"
			if kind.NeedsNote {
				prompt += " (required)"
			}
			m.overlay = newInput(m, prompt+":", "e.g. the board's decision of 10:30, minutes in the ticket", kind.NeedsNote, func(note string) tea.Cmd {
				return m.act(fmt.Sprintf("Recorded %s at %s; the clocks that run from it follow.", kind.Name, deadline.Format(at)),
					func() error { return svc.RecordAnchor(m.ctx(), actor, id, kind.Name, at, note) })
			})
			return nil
		})
		in.input.SetValue(now.In(loc).Format("2006-01-02 15:04"))
		m.overlay = in
		return nil
	})
	return nil
}
