package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

type tab uint8

const (
	tabOverview tab = iota
	tabRoles
	tabRunbook
	tabTimeline
	tabNotifications
	tabCount
)

var tabNames = [...]string{"1 Overview", "2 Roles", "3 Runbook", "4 Timeline", "5 Notifications"}

// detailModel is the incident view.
type detailModel struct {
	id          string
	loaded      bool
	d           store.Detail
	obligations []deadline.Obligation
	tab         tab

	cursor [tabCount]int // per pane
	offset [tabCount]int
	follow bool           // timeline sticks to the newest entry
	tl     timelinePaging // d.Timeline is a window of the timeline (timeline.go)

	bodies map[string]string // rendered step bodies by step id and width

	notices []notify.View // the outbox of this incident, oldest first
}

func newDetailModel(id string) detailModel {
	return detailModel{id: id, follow: true, bodies: map[string]string{}}
}

func (dm *detailModel) set(d store.Detail, obs []deadline.Obligation) {
	if dm.id != d.Incident.ID || dm.bodies == nil {
		*dm = newDetailModel(d.Incident.ID)
	}
	// The window is read again: keep the cursor on the entry it was on,
	// at the same place on screen, and drop page reads still on their way.
	var keep int64
	if c := dm.cursor[tabTimeline]; c < len(dm.d.Timeline) {
		keep = dm.d.Timeline[c].Seq
	}
	onScreen := dm.cursor[tabTimeline] - dm.offset[tabTimeline]
	dm.d, dm.obligations, dm.loaded = d, obs, true
	dm.tl = timelinePaging{seq: dm.tl.seq + 1}
	if dm.follow {
		dm.cursor[tabTimeline] = max(len(d.Timeline)-1, 0)
	} else if i, ok := slices.BinarySearchFunc(d.Timeline, keep, func(e store.TimelineEntry, seq int64) int {
		return cmp.Compare(e.Seq, seq)
	}); ok {
		dm.cursor[tabTimeline], dm.offset[tabTimeline] = i, max(i-onScreen, 0)
	}
	for t := range tabCount {
		dm.cursor[t] = min(dm.cursor[t], max(dm.items(t)-1, 0))
	}
}

// invalidate drops cached renderings (after a change of colours).
func (dm *detailModel) invalidate() { dm.bodies = map[string]string{} }

func (dm *detailModel) items(t tab) int {
	switch t {
	case tabOverview:
		return len(dm.obligations)
	case tabRoles:
		return len(dm.roleIDs())
	case tabRunbook:
		return len(dm.d.Steps)
	case tabTimeline:
		return len(dm.d.Timeline)
	case tabNotifications:
		return len(dm.notices)
	}
	return 0
}

// roleIDs are the runbook's roles, or the roles ever assigned.
func (dm *detailModel) roleIDs() []string {
	ids := slices.Clone(dm.d.Incident.Roles)
	for _, a := range dm.d.Roles {
		if !slices.Contains(ids, a.Role) {
			ids = append(ids, a.Role)
		}
	}
	if !slices.Contains(ids, "incident_commander") {
		ids = append([]string{"incident_commander"}, ids...)
	}
	return ids
}

func (dm *detailModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	if !dm.loaded {
		if key.Matches(msg, m.keys.Back) {
			m.screen = m.backFromIncident()
		}
		return nil
	}
	k := m.keys
	n := dm.items(dm.tab)
	c := &dm.cursor[dm.tab]
	switch {
	case key.Matches(msg, k.Back):
		m.screen = m.backFromIncident()
		return m.loadIncidents()
	case key.Matches(msg, k.NextTab):
		dm.tab = (dm.tab + 1) % tabCount
	case key.Matches(msg, k.PrevTab):
		dm.tab = (dm.tab + tabCount - 1) % tabCount
	case key.Matches(msg, k.Tab1):
		dm.tab = tabOverview
	case key.Matches(msg, k.Tab2):
		dm.tab = tabRoles
	case key.Matches(msg, k.Tab3):
		dm.tab = tabRunbook
	case key.Matches(msg, k.Tab4):
		dm.tab = tabTimeline
	case key.Matches(msg, k.Tab5):
		dm.tab = tabNotifications
	case key.Matches(msg, k.Up):
		*c = max(*c-1, 0)
		dm.follow = dm.tab == tabTimeline && *c == n-1 && !dm.hasNewer()
	case key.Matches(msg, k.Down):
		*c = min(*c+1, max(n-1, 0))
		// The last loaded entry is the newest only when the window ends
		// the timeline.
		dm.follow = dm.tab == tabTimeline && *c == n-1 && !dm.hasNewer()
	case key.Matches(msg, k.PageUp):
		*c = max(*c-10, 0)
		dm.follow = false
	case key.Matches(msg, k.PageDown):
		*c = min(*c+10, max(n-1, 0))
	case key.Matches(msg, k.Top):
		*c = 0
		dm.follow = false
		return dm.timelineKey(m, true, false)
	case key.Matches(msg, k.Bottom):
		*c = max(n-1, 0)
		dm.follow = dm.tab == tabTimeline && !dm.hasNewer()
		return dm.timelineKey(m, false, true)
	case key.Matches(msg, k.Note):
		return dm.askNote(m)
	case key.Matches(msg, k.Assign) && dm.tab == tabRoles:
		return dm.askAssign(m)
	case key.Matches(msg, k.Acknowledge) && dm.tab == tabRoles:
		return dm.acknowledge(m)
	case key.Matches(msg, k.Done) && dm.tab == tabRunbook:
		return dm.completeStep(m)
	case key.Matches(msg, k.Skip) && dm.tab == tabRunbook:
		return dm.askSkip(m)
	case key.Matches(msg, k.Severity):
		return dm.askSeverity(m)
	case key.Matches(msg, k.Approve) && dm.tab == tabNotifications:
		return dm.approve(m)
	case key.Matches(msg, k.Edit) && dm.tab == tabNotifications:
		return dm.askEdit(m)
	case key.Matches(msg, k.Retry) && dm.tab == tabNotifications:
		return dm.retry(m)
	case key.Matches(msg, k.Delivered) && dm.tab == tabNotifications:
		return dm.askDelivered(m)
	case key.Matches(msg, k.Open) && dm.tab == tabNotifications:
		return dm.preview(m)
	case key.Matches(msg, k.Open) && dm.tab == tabTimeline:
		return dm.showEntry(m)
	case key.Matches(msg, k.Compose):
		return m.startComposer(dm.id)
	case key.Matches(msg, k.ApproveAll):
		return dm.approveAll(m)
	case key.Matches(msg, k.Reassess):
		return dm.reassess(m)
	case key.Matches(msg, k.Customers):
		return dm.askCustomers(m)
	case key.Matches(msg, k.Anchor):
		return dm.askAnchor(m)
	case key.Matches(msg, k.Submitted) && dm.tab == tabOverview:
		return dm.askSubmitted(m)
	case key.Matches(msg, k.Close):
		return dm.askClose(m)
	case key.Matches(msg, k.Reopen):
		return dm.askReopen(m)
	}
	return dm.followTimeline(m)
}

// Actions: each asks what it needs in an overlay, then runs the service
// call in a command.

func (dm *detailModel) askNote(m *Model) tea.Cmd {
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	m.overlay = newInput(m, "Add a note to the timeline ("+id+")", "what happened, what was decided, by whom", true, func(text string) tea.Cmd {
		return m.act("Note added.", func() error { return svc.AddNote(m.ctx(), actor, id, text) })
	})
	return nil
}

func (dm *detailModel) selectedRole() (string, bool) {
	roles := dm.roleIDs()
	if len(roles) == 0 {
		return "", false
	}
	return roles[min(dm.cursor[tabRoles], len(roles)-1)], true
}

func (dm *detailModel) askAssign(m *Model) tea.Cmd {
	role, ok := dm.selectedRole()
	if !ok {
		return nil
	}
	if len(m.people) == 0 {
		return m.setStatus("The directory has no people: import one with `irtui directory import FILE`.", true)
	}
	var items, others []choice
	for _, p := range m.people {
		it := choice{value: p.ID, label: clean(p.Name) + " (" + p.ID + ")", detail: strings.Join(p.Roles, ", ")}
		if slices.Contains(p.Roles, role) {
			items = append(items, it)
		} else {
			others = append(others, it)
		}
	}
	items = append(items, others...)
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	m.overlay = newChoice("Assign "+roleTitle(m, dm.d.Incident.RunbookID, role), items, func(c choice) tea.Cmd {
		return m.act(fmt.Sprintf("%s assigned to %s; they acknowledge with A.", role, c.value), func() error {
			return svc.Assign(m.ctx(), actor, id, role, c.value)
		})
	})
	return nil
}

func (dm *detailModel) acknowledge(m *Model) tea.Cmd {
	role, ok := dm.selectedRole()
	if !ok {
		return nil
	}
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	return m.act("You acknowledged "+role+".", func() error { return svc.Acknowledge(m.ctx(), actor, id, role) })
}

func (dm *detailModel) selectedStep() (store.Step, bool) {
	if len(dm.d.Steps) == 0 {
		return store.Step{}, false
	}
	return dm.d.Steps[min(dm.cursor[tabRunbook], len(dm.d.Steps)-1)], true
}

func (dm *detailModel) completeStep(m *Model) tea.Cmd {
	st, ok := dm.selectedStep()
	if !ok {
		return nil
	}
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	dm.cursor[tabRunbook] = min(dm.cursor[tabRunbook]+1, len(dm.d.Steps)-1) // on to the next step
	return m.act("Done: "+st.Title, func() error { return svc.CompleteStep(m.ctx(), actor, id, st.ID, "") })
}

func (dm *detailModel) askSkip(m *Model) tea.Cmd {
	st, ok := dm.selectedStep()
	if !ok {
		return nil
	}
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	m.overlay = newInput(m, "Skip \""+clean(st.Title)+"\": why?", "the reason is recorded", true, func(reason string) tea.Cmd {
		return m.act("Skipped: "+st.Title, func() error { return svc.SkipStep(m.ctx(), actor, id, st.ID, reason) })
	})
	return nil
}

func (dm *detailModel) askSeverity(m *Model) tea.Cmd {
	var items []choice
	for _, s := range runbook.Severities {
		items = append(items, choice{value: s, label: s})
	}
	id, svc, actor, cur := dm.id, m.service(dm.id), m.deps.Actor, dm.d.Incident.Severity
	m.overlay = newChoice("Change severity (now "+cur+")", items, func(c choice) tea.Cmd {
		if c.value == cur {
			return nil
		}
		ask := func() {
			m.overlay = newInput(m, fmt.Sprintf("Severity %s → %s: reason", cur, c.value), "why the severity changes", true, func(reason string) tea.Cmd {
				return m.act("Severity is now "+c.value+".", func() error { return svc.ChangeSeverity(m.ctx(), actor, id, c.value, reason) })
			})
		}
		if slices.Index(runbook.Severities, c.value) > slices.Index(runbook.Severities, cur) { // lowering overrides the process
			return m.checkOverride(id, fmt.Sprintf("lower its severity from %s to %s", cur, c.value), ask)
		}
		ask()
		return nil
	})
	return nil
}

func (dm *detailModel) askSubmitted(m *Model) tea.Cmd {
	if len(dm.obligations) == 0 {
		return nil
	}
	o := dm.obligations[min(dm.cursor[tabOverview], len(dm.obligations)-1)]
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	m.overlay = &confirmOverlay{prompt: fmt.Sprintf("Record that %s (%s: %s) was submitted now?", deadline.Label(o.Rule), o.Rule.ID, o.Rule.Title), yes: func() tea.Cmd {
		return m.act(deadline.Label(o.Rule)+" recorded as submitted.", func() error {
			return svc.RecordSubmission(m.ctx(), actor, id, o.Rule.ID, time.Time{}) // now, on the service's clock
		})
	}}
	return nil
}

// askClose asks the service first what closing leaves open and whether
// the user may close over it; only then does it ask for the reason (or
// "are you sure?" when nothing is open).
func (dm *detailModel) askClose(m *Model) tea.Cmd {
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	return func() tea.Msg {
		ends, now, err := svc.CheckClose(m.ctx(), actor, id)
		return closeCheckedMsg{id: id, ends: ends, now: now, err: err}
	}
}

// askReopen asks for the reason only once the service said the user may
// reopen the incident.
func (dm *detailModel) askReopen(m *Model) tea.Cmd {
	id, svc, actor := dm.id, m.service(dm.id), m.deps.Actor
	return m.checkOverride(id, "reopen it", func() {
		m.overlay = newInput(m, "Reopen "+id+": why?", "new information, recurrence, …", true, func(reason string) tea.Cmd {
			return m.act(id+" reopened.", func() error { return svc.Reopen(m.ctx(), actor, id, reason) })
		})
	})
}

func roleTitle(m *Model, runbookID, role string) string {
	if m.lib != nil {
		if rb, ok := m.lib.Get(runbookID); ok {
			for _, r := range rb.Roles {
				if r.ID == role {
					return r.Title
				}
			}
		}
	}
	return strings.ReplaceAll(role, "_", " ")
}

// View.

func (dm *detailModel) view(m *Model, w, h int) string {
	s := m.styles
	if !dm.loaded {
		return s.Subtle.Render("Loading " + dm.id + "…")
	}
	in := dm.d.Incident
	var b strings.Builder
	kind := ""
	if in.Kind == store.KindEvent {
		kind = s.Faint.Render(" [assessed event, not an incident]")
	}
	if in.Drill {
		kind += s.Warn.Render(" [EXERCISE]")
	}
	b.WriteString(s.severity(in.Severity) + " " + s.Bold.Render(in.ID+" · "+clean(in.Title)) + kind + "\n")
	var tabs []string
	for i, name := range tabNames {
		if tab(i) == dm.tab {
			tabs = append(tabs, s.TabActive.Render(name))
		} else {
			tabs = append(tabs, s.Tab.Render(name))
		}
	}
	b.WriteString(truncate(strings.Join(tabs, ""), w) + "\n")
	bodyH := h - 2
	switch dm.tab {
	case tabOverview:
		b.WriteString(dm.overview(m, w, bodyH))
	case tabRoles:
		b.WriteString(dm.roles(m, w, bodyH))
	case tabRunbook:
		b.WriteString(dm.runbook(m, w, bodyH))
	case tabTimeline:
		b.WriteString(dm.timeline(m, w, bodyH))
	case tabNotifications:
		b.WriteString(dm.notifications(m, w, bodyH))
	}
	return b.String()
}

func (dm *detailModel) overview(m *Model, w, h int) string {
	s := m.styles
	in := dm.d.Incident
	loc := m.deps.Config.Policy.Location()
	var b strings.Builder
	status := in.Status
	if !in.ClosedAt.IsZero() {
		status += " at " + localTime(in.ClosedAt, loc)
	}
	// A long value wraps under itself rather than being cut.
	row := func(label, value string) {
		lines := wrapText(value, max(w-12, 10))
		for i, l := range lines {
			if i == 0 {
				b.WriteString(s.Label.Render(label) + l + "\n")
			} else {
				b.WriteString(strings.Repeat(" ", 12) + l + "\n")
			}
		}
	}
	row("Status", status)
	row("Runbook", in.RunbookID+" v"+in.RunbookVersion)
	row("Category", in.Category+" · "+in.AttackVector)
	row("Aware", localTime(in.AwareAt, loc))
	row("Declared", localTime(in.DeclaredAt, loc)+" by "+clean(in.CreatedBy))
	cmdr := s.Warn.Render("unassigned — press 2, then a")
	if a, ok := incident.CurrentHolder(dm.d, "incident_commander"); ok {
		cmdr = a.PersonID
		if a.AcknowledgedAt.IsZero() {
			cmdr += s.Warn.Render(" (not acknowledged)")
		}
	}
	row("Commander", cmdr)
	if len(in.Flags) > 0 {
		row("Flags", s.Warn.Render(strings.Join(in.Flags, " · ")))
	}
	var custs []string
	for _, c := range dm.d.Customers {
		custs = append(custs, clean(c.Name)+" ("+c.ID+")")
	}
	if len(custs) == 0 {
		custs = []string{s.Faint.Render("none recorded")}
	}
	row("Customers", strings.Join(custs, ", "))
	if in.DismissedReason != "" {
		row("Dismissed", clean(in.DismissedReason))
	}
	b.WriteString("\n" + s.Bold.Render("Regulatory clocks") + s.Subtle.Render("  (m: mark the selected notice submitted)") + "\n")
	if len(dm.obligations) == 0 {
		b.WriteString(s.Subtle.Render("No notification obligations under the configured policy.") + "\n")
	}
	used := strings.Count(b.String(), "\n")
	rows := max(h-used, 1)
	c := dm.cursor[tabOverview]
	dm.offset[tabOverview] = window(c, dm.offset[tabOverview], rows, len(dm.obligations))
	for i := dm.offset[tabOverview]; i < len(dm.obligations) && i < dm.offset[tabOverview]+rows; i++ {
		o := dm.obligations[i]
		line := clockBar(s, o, o.At(m.nowFor(dm.id)), w-2)
		if i == c {
			line = s.Cursor.Render("›") + line
		} else {
			line = " " + line
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func (dm *detailModel) roles(m *Model, w, h int) string {
	s := m.styles
	loc := m.deps.Config.Policy.Location()
	var b strings.Builder
	b.WriteString(s.Subtle.Render("a: assign or hand over the selected role · A: acknowledge a role you were given") + "\n\n")
	for i, role := range dm.roleIDs() {
		holder := s.Faint.Render("unassigned")
		if a, ok := incident.CurrentHolder(dm.d, role); ok {
			holder = a.PersonID + s.Subtle.Render(" since "+localTime(a.AssignedAt, loc))
			if a.AcknowledgedAt.IsZero() {
				holder += " " + s.Warn.Render("awaiting acknowledgement")
			} else {
				holder += " " + s.OK.Render("acknowledged")
			}
		}
		line := padRight(roleTitle(m, dm.d.Incident.RunbookID, role), 32) + " " + holder
		if i == dm.cursor[tabRoles] {
			line = s.Cursor.Render("› ") + line
		} else {
			line = "  " + line
		}
		b.WriteString(truncate(line, w) + "\n")
	}
	var history []string
	for _, a := range dm.d.Roles {
		if a.HandedOverTo != "" {
			history = append(history, fmt.Sprintf("%s: %s → %s at %s", a.Role, a.PersonID, a.HandedOverTo, localTime(a.EndedAt, loc)))
		}
	}
	if len(history) > 0 {
		b.WriteString("\n" + s.Bold.Render("Hand-overs") + "\n")
		for _, hline := range history {
			b.WriteString(s.Subtle.Render(truncate(hline, w)) + "\n")
		}
	}
	return b.String()
}

func (dm *detailModel) runbook(m *Model, w, h int) string {
	s := m.styles
	var b strings.Builder
	steps := dm.d.Steps
	if len(steps) == 0 {
		return s.Subtle.Render("This record has no checklist.")
	}
	listH := max(h/2, 5)
	c := dm.cursor[tabRunbook]
	dm.offset[tabRunbook] = window(c, dm.offset[tabRunbook], listH, len(steps))
	phase := ""
	lines := 0
	for i := dm.offset[tabRunbook]; i < len(steps) && lines < listH; i++ {
		st := steps[i]
		if st.Phase != phase {
			phase = st.Phase
			b.WriteString(s.Title.Render(phaseTitle(phase)) + "\n")
			lines++
		}
		box := "[ ]"
		switch st.Status {
		case store.StepDone:
			box = s.OK.Render("[x]")
		case store.StepSkipped:
			box = s.Faint.Render("[-]")
		}
		req := ""
		if !st.Required {
			req = s.Faint.Render(" optional")
		}
		line := box + " " + padRight(clean(st.Title), max(w-32, 10)) + " " + s.Subtle.Render(padRight(st.Role, 18)) + req
		if i == c {
			line = s.Cursor.Render("›") + line
		} else {
			line = " " + line
		}
		b.WriteString(truncate(line, w) + "\n")
		lines++
	}
	if st, ok := dm.selectedStep(); ok {
		b.WriteString("\n")
		info := s.Bold.Render(clean(st.Title)) + s.Subtle.Render("  owner: "+st.Role)
		if st.Status != store.StepOpen {
			info += s.Subtle.Render(fmt.Sprintf("  %s by %s", st.Status, st.Actor))
			if st.Note != "" {
				info += s.Subtle.Render(": " + clean(st.Note))
			}
		}
		b.WriteString(truncate(info, w) + "\n")
		b.WriteString(dm.stepBody(m, st, w))
	}
	return b.String()
}

func phaseTitle(id string) string {
	switch id {
	case "detection_analysis":
		return "Detection & analysis"
	case "post_incident":
		return "Post-incident activity"
	}
	if id == "" {
		return ""
	}
	return strings.ToUpper(id[:1]) + strings.ReplaceAll(id[1:], "_", " ")
}

// stepBody renders a step's Markdown body (renderMarkdown), cached per
// width.
func (dm *detailModel) stepBody(m *Model, st store.Step, w int) string {
	cacheKey := fmt.Sprintf("%s/%d", st.ID, w)
	if out, ok := dm.bodies[cacheKey]; ok {
		return out
	}
	body := ""
	if m.lib != nil {
		if rb, ok := m.lib.Get(dm.d.Incident.RunbookID); ok {
			for _, ph := range rb.Phases {
				for _, rs := range ph.Steps {
					if rs.ID == st.ID {
						body = rs.Body
					}
				}
			}
		}
	}
	out := m.styles.Faint.Render("(no instructions in the runbook)")
	if strings.TrimSpace(body) != "" {
		out = renderMarkdown(safeMarkdown(body), max(w-4, 20), m.styles, m.deps.NoColor)
	}
	dm.bodies[cacheKey] = out
	return out
}

func (dm *detailModel) timeline(m *Model, w, h int) string {
	s := m.styles
	loc := m.deps.Config.Policy.Location()
	entries := dm.d.Timeline
	var b strings.Builder
	rows := max(h-1, 1)
	c := dm.cursor[tabTimeline]
	dm.offset[tabTimeline] = window(c, dm.offset[tabTimeline], rows, len(entries))
	head := fmt.Sprintf("%d entries", dm.d.TimelineTotal)
	if len(entries) > 0 && len(entries) < dm.d.TimelineTotal {
		// A window of a long timeline: say where it is.
		first := entries[dm.offset[tabTimeline]].Seq
		last := entries[min(dm.offset[tabTimeline]+rows, len(entries))-1].Seq
		head = fmt.Sprintf("#%s–%s of %s entries", thousands(int(first)), thousands(int(last)), thousands(dm.d.TimelineTotal))
		if dm.tl.pending {
			head += " (reading…)"
		}
	}
	head += " · enter: read one in full · N: add a note · g/G: first/last"
	b.WriteString(s.Subtle.Render(truncate(head, w)) + "\n")
	// Narrow screens keep the summary: a shorter time, no kind column.
	wide := w >= 110
	for i := dm.offset[tabTimeline]; i < len(entries) && i < dm.offset[tabTimeline]+rows; i++ {
		e := entries[i]
		who, claim := clean(e.Actor), ""
		if identity.IsClaim(e.Auth) {
			// Named with --as: say who was behind the name.
			who += "*"
			claim = s.Subtle.Render("  (*claimed by " + clean(identity.ClaimedBy(e.Auth)) + ")")
		}
		at := e.At.In(loc).Format("01-02 15:04")
		line := s.Subtle.Render(at) + " " + s.Accent.Render(padRight(who, 9)) + " "
		if wide {
			line = s.Subtle.Render(localTime(e.At, loc)) + " " + s.Accent.Render(padRight(who, 12)) + " " + padRight(e.Kind, 22) + " "
		}
		line += clean(e.Summary) + claim
		if i == c {
			line = s.Cursor.Render("›") + line
		} else {
			line = " " + line
		}
		b.WriteString(truncate(line, w) + "\n")
	}
	return b.String()
}

func (dm *detailModel) notifications(m *Model, w, h int) string {
	s := m.styles
	var b strings.Builder
	if m.deps.Notify == nil {
		return s.Subtle.Render("Notifications are not set up in this session.")
	}
	b.WriteString(s.Subtle.Render(truncate("enter: read · w: write customer notices · e: fill in · p/P: approve one/all ready · r: retry · c: record delivered", w)) + "\n")
	if len(dm.notices) == 0 {
		b.WriteString("\n" + s.Subtle.Render("No notifications for this incident yet. The runbook's rules draft them as the incident unfolds.") + "\n")
		return b.String()
	}
	rows := max(h-4, 1)
	c := dm.cursor[tabNotifications]
	dm.offset[tabNotifications] = window(c, dm.offset[tabNotifications], rows, len(dm.notices))
	// The state comes first on the line, in full, so that it shows at any
	// width: "EXPORTED — not delivered" is never cut to "sent".
	sw := 9
	for i := dm.offset[tabNotifications]; i < len(dm.notices) && i < dm.offset[tabNotifications]+rows; i++ {
		sw = max(sw, lipgloss.Width(dm.notices[i].State))
	}
	for i := dm.offset[tabNotifications]; i < len(dm.notices) && i < dm.offset[tabNotifications]+rows; i++ {
		v := dm.notices[i]
		status := noticeStyle(s, v).Render(padRight(v.State, sw))
		tail := clean(v.Preview)
		switch {
		case v.Status == store.NoticeExported:
			tail = s.Danger.Render("nobody has received it: send it yourself, then press c") + " " + tail
		case v.Alert && v.LastError != "":
			tail = s.Danger.Render(clean(v.LastError))
		case len(v.Missing) > 0:
			tail = s.Warn.Render(fmt.Sprintf("needs %d field(s): %s", len(v.Missing), strings.Join(v.Missing, "; ")))
		case len(v.Blocked) > 0:
			tail = s.Warn.Render("not approvable yet: " + strings.Join(v.Blocked, "; "))
		case v.Status == store.NoticeWithdrawn:
			tail = s.Subtle.Render(clean(v.LastError))
		case v.Delivered:
			tail = s.Subtle.Render("delivered in "+v.Latency().Round(time.Second).String()) + " " + tail
		}
		to := v.Audience
		if v.CustomerID != "" {
			to += ":" + v.CustomerID
		}
		ruleW := 22
		if w < 100 {
			ruleW = 0 // the state, recipient and what it needs matter more
		}
		line := fmt.Sprintf("#%-4d %s %s ", v.ID, status, padRight(to, 20))
		if ruleW > 0 {
			line += padRight(v.RuleID, ruleW) + " "
		}
		line += tail
		if i == c {
			line = s.Cursor.Render("›") + line
		} else {
			line = " " + line
		}
		b.WriteString(truncate(line, w) + "\n")
	}
	return b.String()
}

// noticeStyle shows failed, unknown and undelivered messages loudly.
func noticeStyle(s Styles, v notify.View) lipgloss.Style {
	switch {
	case v.Alert:
		return s.Overdue
	case v.Delivered:
		return s.OK
	case v.Status == store.NoticeDraft:
		return s.Warn
	}
	return s.Info
}

func (dm *detailModel) selectedNotice() (notify.View, bool) {
	if len(dm.notices) == 0 {
		return notify.View{}, false
	}
	return dm.notices[min(dm.cursor[tabNotifications], len(dm.notices)-1)], true
}

func (dm *detailModel) preview(m *Model) tea.Cmd {
	v, ok := dm.selectedNotice()
	if !ok {
		return nil
	}
	m.overlay = newTextOverlay(noticeText(m, v))
	return nil
}

// noticeText is a notice in full, with where it stands and what it still
// needs: what the notice window and the approval question show.
func noticeText(m *Model, v notify.View) string {
	s := m.styles
	var b strings.Builder
	state := noticeStyle(s, v).Render(v.State)
	fmt.Fprintf(&b, "#%d %s\nTo %s (%s, in %s)\n", v.ID, state, clean(v.Recipient), v.Audience, notify.LanguageName(v.Language))
	switch {
	case v.Status == store.NoticeExported:
		b.WriteString(s.Danger.Render("Nobody has received it. It was written to "+clean(v.ExportPath)+
			": send it yourself, then press c to record that.") + "\n")
	case v.Alert && v.LastError != "":
		b.WriteString(s.Danger.Render(clean(v.LastError)) + "\n")
	case v.Status == store.NoticeWithdrawn:
		b.WriteString(s.Subtle.Render("Withdrawn: "+clean(v.LastError)) + "\n")
	case v.Status == store.NoticeDraft || v.Status == store.NoticeQueued:
		b.WriteString(s.Subtle.Render("When sent, "+m.deps.Delivery.WhatHappensTo(v.Notification)+".") + "\n")
	}
	if v.ObligationID != "" {
		fmt.Fprintf(&b, "Serves %s (%s), due %s\n", deadline.LabelOf(v.ObligationID), v.ObligationID, deadline.Format(v.DueAt))
	}
	b.WriteString("\n" + s.Bold.Render(clean(v.Subject)) + "\n\n")
	b.WriteString(cleanBlock(safeMarkdown(v.Body)))
	if len(v.Missing) > 0 {
		b.WriteString("\n\n" + s.Warn.Render("Still needed before approval: "+strings.Join(v.Missing, "; ")))
	}
	if len(v.Blocked) > 0 {
		b.WriteString("\n\n" + s.Warn.Render("Not approvable yet: "+strings.Join(v.Blocked, "; ")))
	}
	var optional []string
	for _, f := range v.Fields {
		if !f.Required && strings.TrimSpace(v.Content[f.ID]) == "" {
			optional = append(optional, f.Label)
		}
	}
	if len(optional) > 0 && v.Status == store.NoticeDraft {
		b.WriteString("\n\n" + s.Subtle.Render("Left out (optional, empty): "+strings.Join(optional, "; ")))
	}
	return b.String()
}

// askEdit offers the selected notice's fields; after a field is saved it
// offers them again with the next field highlighted, not the first, so
// that filling in a notice is enter, text, enter for each field.
func (dm *detailModel) askEdit(m *Model) tea.Cmd {
	v, ok := dm.selectedNotice()
	if !ok || len(v.Fields) == 0 {
		return m.setStatus("This notification has no fields to fill in.", false)
	}
	if v.Status != store.NoticeDraft {
		return m.setStatus(fmt.Sprintf("#%d is %s: only a draft can be filled in.", v.ID, v.State), true)
	}
	dm.editField(m, v, dm.nextField(v, ""))
	return nil
}

// nextField is the field to offer first: the first empty one after the
// one just saved (or from the top).
func (dm *detailModel) nextField(v notify.View, after string) int {
	start := 0
	if after != "" {
		for i, f := range v.Fields {
			if f.ID == after {
				start = i + 1
			}
		}
	}
	for i := start; i < len(v.Fields); i++ {
		if strings.TrimSpace(v.Content[v.Fields[i].ID]) == "" {
			return i
		}
	}
	return min(start, len(v.Fields)-1)
}

func (dm *detailModel) editField(m *Model, v notify.View, at int) {
	var items []choice
	for _, f := range v.Fields {
		detail := "empty"
		if val := strings.TrimSpace(v.Content[f.ID]); val != "" {
			detail = val
		} else if f.Required {
			detail = "required"
		}
		items = append(items, choice{value: f.ID, label: clean(f.Label), detail: detail})
	}
	ns, actor, id := m.deps.Notify, m.deps.Actor, v.ID
	lang := ""
	if v.Language != "" && v.Language != "en" {
		lang = " · write in " + notify.LanguageName(v.Language)
	}
	c := newChoice(fmt.Sprintf("Fill in #%d%s", v.ID, lang), items, func(c choice) tea.Cmd {
		in := newInput(m, c.label+lang, "", false, func(text string) tea.Cmd {
			return func() tea.Msg {
				nv, err := ns.SetContent(m.ctx(), actor, id, c.value, text)
				if err != nil {
					return actionMsg{err: err}
				}
				return fieldSavedMsg{view: nv, field: c.value, done: c.label + " saved."}
			}
		})
		in.input.SetValue(v.Content[c.value])
		m.overlay = in
		return nil
	})
	c.cursor = max(0, min(at, len(items)-1))
	m.overlay = c
}

// approve asks the service whether the user may approve the selected
// notice, and only then asks "are you sure?", saying what approving
// will do.
func (dm *detailModel) approve(m *Model) tea.Cmd {
	v, ok := dm.selectedNotice()
	if !ok {
		return nil
	}
	return m.checkApprovals([]notify.View{v})
}

func (dm *detailModel) retry(m *Model) tea.Cmd {
	v, ok := dm.selectedNotice()
	if !ok {
		return nil
	}
	ns, actor, wake := m.deps.Notify, m.deps.Actor, m.deps.Wake
	return m.act(fmt.Sprintf("#%d queued again.", v.ID), func() error {
		if err := ns.Retry(m.ctx(), actor, v.ID); err != nil {
			return err
		}
		if wake != nil {
			wake()
		}
		return nil
	})
}

// askDelivered records that the selected notice reached its recipient:
// one exported that the user delivered by hand, or one whose outcome is
// unknown that the user checked. A Slack message is looked up first, so
// the incident's thread continues.
func (dm *detailModel) askDelivered(m *Model) tea.Cmd {
	v, ok := dm.selectedNotice()
	if !ok {
		return nil
	}
	if v.Status != store.NoticeExported && v.Status != store.NoticeUnknown {
		return m.setStatus(fmt.Sprintf("#%d is %s: only an exported notice, or one whose outcome is unknown, "+
			"can be recorded as delivered.", v.ID, v.State), true)
	}
	ns, actor, wake, locate := m.deps.Notify, m.deps.Actor, m.deps.Wake, m.deps.Locate
	prompt := fmt.Sprintf("Record #%d as delivered to %s? Only if you sent it or saw that it arrived.", v.ID, clean(v.Recipient))
	m.overlay = &confirmOverlay{prompt: prompt, yes: func() tea.Cmd {
		return m.act(fmt.Sprintf("#%d recorded as delivered.", v.ID), func() error {
			conf := notify.Confirmation{}
			if v.Status == store.NoticeUnknown && v.Via == notify.ViaSlack && locate != nil {
				if ts, err := locate(m.ctx(), v.Notification); err == nil {
					conf.SlackTS = ts
				}
			}
			if _, err := ns.Confirm(m.ctx(), actor, v.ID, conf); err != nil {
				return err
			}
			if wake != nil {
				wake() // the rest of a notice in parts follows
			}
			return nil
		})
	}}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04 MST")
}
