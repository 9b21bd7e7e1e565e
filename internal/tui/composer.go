package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/notify"
)

// composerModel writes an incident's customer notices: each fact once per
// language, for every notice in that language, prefilled from the triage
// answers where the runbook suggests it; a customer's own text where it
// differs. Enter saves a field and goes on to the next one to write.
type composerModel struct {
	id    string
	comps []notify.Composition
	rows  []composeRow
	idx   int // the row with the cursor
	// at names the cursor's row, so that it stays put when the
	// compositions are read again after a save.
	at      rowKey
	offset  int
	editing bool
	input   textinput.Model
	// original is what the input started with: leaving a changed field
	// saves it, so typed text is never lost.
	original string
	warned   bool
	// drill: the incident is a drill incident, and the screen says so.
	drill bool
}

type composeRow struct{ c, g, f int }

type rowKey struct{ rule, lang, field string }

func (cm *composerModel) group(r composeRow) notify.LanguageGroup { return cm.comps[r.c].Groups[r.g] }
func (cm *composerModel) field(r composeRow) notify.ComposeField {
	return cm.comps[r.c].Groups[r.g].Fields[r.f]
}
func (cm *composerModel) key(r composeRow) rowKey {
	return rowKey{cm.comps[r.c].RuleID, cm.group(r).Language, cm.field(r).ID}
}

// composerKeys are the composer's bindings.
var composerKeys = struct{ Save, Skip, Own, Read key.Binding }{
	Save: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save and next")),
	Skip: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
	Own:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "one customer's own text")),
	Read: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "read the notices")),
}

// Messages of the composer.
type (
	composerLoadedMsg struct {
		id    string
		comps []notify.Composition
		first bool
		err   error
	}
	composerSavedMsg struct {
		done string
		err  error
	}
)

// startComposer reads the incident's customer notices still to be written
// and opens the composer on the first fact to write.
func (m *Model) startComposer(id string) tea.Cmd {
	if m.deps.Notify == nil {
		return m.setStatus("Notifications are not set up in this session.", true)
	}
	return m.loadComposition(id, true)
}

func (m *Model) loadComposition(id string, first bool) tea.Cmd {
	ns, actor := m.deps.Notify, m.deps.Actor
	return func() tea.Msg {
		comps, err := ns.Compose(m.ctx(), actor, id)
		return composerLoadedMsg{id: id, comps: comps, first: first, err: err}
	}
}

func (msg composerLoadedMsg) apply(m *Model) tea.Cmd {
	if msg.err != nil {
		return m.setStatus(msg.err.Error(), true)
	}
	if msg.first {
		if len(msg.comps) == 0 {
			return m.setStatus("No customer notice of "+msg.id+" is waiting to be written: they are drafted when "+
				"customers are affected (L links one).", false)
		}
		cm := &composerModel{id: msg.id, comps: msg.comps}
		cm.drill = m.detail.d.Incident.ID == msg.id && m.detail.d.Incident.Drill
		cm.rebuild()
		m.composer = cm
		m.screen = screenComposer
		cm.idx = cm.nextToWrite(-1)
		return cm.edit(m)
	}
	cm := m.composer
	if cm == nil || cm.id != msg.id {
		return nil
	}
	cm.comps = msg.comps
	cm.rebuild()
	return nil
}

// rebuild lists the rows and finds the cursor's row again.
func (cm *composerModel) rebuild() {
	cm.rows = cm.rows[:0]
	for c, comp := range cm.comps {
		for g, grp := range comp.Groups {
			for f := range grp.Fields {
				cm.rows = append(cm.rows, composeRow{c, g, f})
			}
		}
	}
	for i, r := range cm.rows {
		if cm.key(r) == cm.at {
			cm.idx = i
			return
		}
	}
	cm.idx = min(cm.idx, max(len(cm.rows)-1, 0))
}

// nextToWrite is the first row after i whose fact is not written yet, or
// -1 when every one is.
func (cm *composerModel) nextToWrite(i int) int {
	for j := i + 1; j < len(cm.rows); j++ {
		if strings.TrimSpace(cm.field(cm.rows[j]).Shared) == "" {
			return j
		}
	}
	return -1
}

// edit starts writing the cursor's row, with what it holds or what is
// suggested for it.
func (cm *composerModel) edit(m *Model) tea.Cmd {
	if cm.idx < 0 || cm.idx >= len(cm.rows) {
		cm.editing, cm.idx = false, max(min(cm.idx, len(cm.rows)-1), 0)
		return nil
	}
	r := cm.rows[cm.idx]
	cm.at = cm.key(r)
	f := cm.field(r)
	value := f.Shared
	if strings.TrimSpace(value) == "" {
		value = f.Suggestion
	}
	cm.input = newTextInput(placeholderFor(cm.group(r), f), cm.inputWidth(m))
	cm.input.CharLimit = 20000
	cm.input.SetValue(value)
	cm.original, cm.warned, cm.editing = f.Shared, false, true
	return cm.input.Focus()
}

func placeholderFor(g notify.LanguageGroup, f notify.ComposeField) string {
	lang := ""
	if !g.Base {
		lang = " — in " + g.Name
	}
	if f.Required {
		return "required" + lang
	}
	return "optional: leave empty to leave it out" + lang
}

func (cm *composerModel) inputWidth(m *Model) int { return max(m.width-6, 20) }

func (cm *composerModel) resize(m *Model) { cm.input.SetWidth(cm.inputWidth(m)) }

func (cm *composerModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if cm.editing {
		switch msg.String() {
		case "enter":
			save := cm.save(m)
			cm.idx = cm.nextToWrite(cm.idx)
			if cm.idx < 0 {
				cm.editing, cm.idx = false, len(cm.rows)-1
				return tea.Batch(save, m.setStatus("Every fact is written. Someone who did not write them approves the notices (P).", false))
			}
			return tea.Batch(save, cm.edit(m))
		case "tab", "down":
			save := cm.save(m)
			if cm.idx+1 >= len(cm.rows) {
				cm.editing = false
				return save
			}
			cm.idx++
			return tea.Batch(save, cm.edit(m))
		case "shift+tab", "up":
			save := cm.save(m)
			cm.idx = max(cm.idx-1, 0)
			return tea.Batch(save, cm.edit(m))
		case "esc":
			if strings.TrimSpace(cm.input.Value()) != strings.TrimSpace(cm.original) && !cm.warned &&
				strings.TrimSpace(cm.input.Value()) != strings.TrimSpace(cm.field(cm.rows[cm.idx]).Suggestion) {
				cm.warned = true
				return m.setStatus("Press esc again to drop what you typed in this field, or enter to save it.", true)
			}
			cm.editing = false
			return nil
		}
		cm.warned = false
		var cmd tea.Cmd
		cm.input, cmd = cm.input.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(msg, k.Back):
		m.composer = nil
		m.screen = screenIncident
		return m.loadDetail(cm.id, false)
	case key.Matches(msg, k.Up):
		cm.idx = max(cm.idx-1, 0)
		cm.at = cm.key(cm.rows[cm.idx])
	case key.Matches(msg, k.Down), msg.String() == "tab":
		cm.idx = min(cm.idx+1, len(cm.rows)-1)
		cm.at = cm.key(cm.rows[cm.idx])
	case key.Matches(msg, composerKeys.Save):
		return cm.edit(m)
	case key.Matches(msg, composerKeys.Own):
		return cm.askOwn(m)
	case key.Matches(msg, composerKeys.Read):
		return cm.read(m)
	}
	return nil
}

// save writes the input into every notice of the row's language that
// holds the shared text (customers with their own text keep it). Nothing
// is written when nothing changed.
func (cm *composerModel) save(m *Model) tea.Cmd {
	if !cm.editing || cm.idx >= len(cm.rows) {
		return nil
	}
	r := cm.rows[cm.idx]
	f, g := cm.field(r), cm.group(r)
	value := strings.TrimSpace(cm.input.Value())
	if value == strings.TrimSpace(f.Shared) {
		return nil
	}
	var ids []int64
	for _, n := range g.Notices {
		if _, own := f.Own[n.CustomerID]; !own {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// Shown at once; the service's answer follows.
	grp := &cm.comps[r.c].Groups[r.g]
	grp.Fields[r.f].Shared = value
	ns, actor, id, label := m.deps.Notify, m.deps.Actor, cm.id, f.Label
	return func() tea.Msg {
		_, err := ns.SetContentEach(m.ctx(), actor, ids, f.ID, value)
		if err != nil {
			return composerSavedMsg{err: err}
		}
		return composerSavedMsg{done: fmt.Sprintf("%s saved in %d notice(s) of %s.", label, len(ids), id)}
	}
}

func (msg composerSavedMsg) apply(m *Model) tea.Cmd {
	cmds := []tea.Cmd{}
	if msg.err != nil {
		cmds = append(cmds, m.setStatus(msg.err.Error(), true))
	} else {
		cmds = append(cmds, m.setStatus(msg.done, false))
	}
	if m.composer != nil {
		cmds = append(cmds, m.loadComposition(m.composer.id, false))
	}
	return tea.Batch(append(cmds, m.loadIncidents())...)
}

// askOwn writes one customer's own text for the cursor's fact.
func (cm *composerModel) askOwn(m *Model) tea.Cmd {
	if len(cm.rows) == 0 {
		return nil
	}
	r := cm.rows[cm.idx]
	g, f := cm.group(r), cm.field(r)
	var items []choice
	for _, n := range g.Notices {
		detail := "shares the text above"
		if v, own := f.Own[n.CustomerID]; own {
			detail = "own: " + v
		}
		items = append(items, choice{value: fmt.Sprint(n.ID), label: n.CustomerID, detail: detail})
	}
	ns, actor := m.deps.Notify, m.deps.Actor
	m.overlay = newChoice("Own text of one customer: "+clean(f.Label), items, func(c choice) tea.Cmd {
		var n notify.View
		for _, v := range g.Notices {
			if fmt.Sprint(v.ID) == c.value {
				n = v
			}
		}
		lang := ""
		if !g.Base {
			lang = " (in " + g.Name + ")"
		}
		in := newInput(m, fmt.Sprintf("%s for %s%s", clean(f.Label), n.CustomerID, lang), "empty: the same text as the others", false,
			func(text string) tea.Cmd {
				if strings.TrimSpace(text) == "" {
					text = f.Shared
				}
				return func() tea.Msg {
					_, err := ns.SetContent(m.ctx(), actor, n.ID, f.ID, text)
					if err != nil {
						return composerSavedMsg{err: err}
					}
					return composerSavedMsg{done: fmt.Sprintf("%s of %s saved.", f.Label, n.CustomerID)}
				}
			})
		in.input.SetValue(n.Content[f.ID])
		m.overlay = in
		return nil
	})
	return nil
}

// read shows every notice of the cursor's language in full.
func (cm *composerModel) read(m *Model) tea.Cmd {
	if len(cm.rows) == 0 {
		return nil
	}
	g := cm.group(cm.rows[cm.idx])
	var parts []string
	for _, v := range g.Notices {
		parts = append(parts, noticeText(m, v))
	}
	m.overlay = newTextOverlay(strings.Join(parts, "\n\n"+m.styles.Subtle.Render(strings.Repeat("─", 20))+"\n"))
	return nil
}

func (cm *composerModel) view(m *Model, w, h int) string {
	s := m.styles
	var head []string
	total, ready := 0, 0
	var blocked []string
	for _, c := range cm.comps {
		for _, g := range c.Groups {
			for _, n := range g.Notices {
				total++
				if len(n.Missing) == 0 && len(n.Blocked) == 0 {
					ready++
				}
				for _, b := range n.Blocked {
					if !slices.Contains(blocked, b) {
						blocked = append(blocked, b)
					}
				}
			}
		}
	}
	title := fmt.Sprintf("Customer notices of %s · %d draft(s)", cm.id, total)
	if len(cm.comps) == 1 && cm.comps[0].ObligationID != "" {
		title += " · " + deadline.LabelOf(cm.comps[0].ObligationID)
	}
	titleLine := s.Title.Render(truncate(title, w))
	if cm.drill {
		titleLine = s.Warn.Render("EXERCISE ") + s.Title.Render(truncate(title, max(w-9, 10)))
	}
	head = append(head, titleLine,
		s.Subtle.Render(truncate("Write each fact once per language: it goes into every notice in that language.", w)))
	var lines []string
	cursorLine := 0
	labelW := min(36, max(w/2-4, 12))
	prevGroup := [2]int{-1, -1}
	for i, r := range cm.rows {
		g, f := cm.group(r), cm.field(r)
		if [2]int{r.c, r.g} != prevGroup {
			prevGroup = [2]int{r.c, r.g}
			var who []string
			for _, n := range g.Notices {
				who = append(who, n.CustomerID)
			}
			lang := s.Bold.Render(g.Name)
			if !g.Base {
				lang += " " + s.Warn.Render("· write these in "+g.Name)
			}
			rule := ""
			if len(cm.comps) > 1 {
				rule = cm.comps[r.c].RuleID + " · "
			}
			lines = append(lines, truncate(rule+lang+s.Subtle.Render(" · for "+strings.Join(who, ", ")), w))
		}
		label := clean(f.Label)
		if !g.Base {
			label = "[" + g.Language + "] " + label
		}
		mark, value := s.OK.Render("✓ "), clean(f.Shared)
		switch {
		case strings.TrimSpace(f.Shared) == "" && f.Required:
			mark, value = s.Warn.Render("! "), s.Warn.Render("required")
		case strings.TrimSpace(f.Shared) == "":
			mark, value = s.Faint.Render("· "), s.Faint.Render("optional, empty: left out")
		}
		if len(f.Own) > 0 {
			var own []string
			for c := range f.Own {
				own = append(own, c)
			}
			slices.Sort(own)
			value += s.Info.Render(" · own text: " + strings.Join(own, ", "))
		}
		cur := "  "
		if i == cm.idx {
			cur = s.Cursor.Render("› ")
			cursorLine = len(lines)
		}
		if i == cm.idx && cm.editing {
			lines = append(lines, truncate(cur+s.Bold.Render(label), w))
			lines = append(lines, "  "+cm.input.View())
			if strings.TrimSpace(f.Shared) == "" && f.Suggestion != "" && cm.input.Value() == f.Suggestion {
				lines = append(lines, "  "+s.Info.Render(truncate("suggested from the triage answers: enter keeps it, or edit it", w-2)))
			}
			continue
		}
		lines = append(lines, truncate(cur+mark+s.Subtle.Render(padRight(label, labelW))+" "+value, w))
	}
	foot := []string{s.Subtle.Render(truncate(fmt.Sprintf("Ready for approval: %d of %d", ready, total), w))}
	for _, b := range blocked {
		foot = append(foot, s.Warn.Render(truncate("Not approvable yet: "+b, w)))
	}
	room := max(h-len(head)-len(foot), 1)
	// Keep the cursor's lines in view.
	if cursorLine < cm.offset {
		cm.offset = cursorLine
	}
	if cursorLine+3 > cm.offset+room {
		cm.offset = cursorLine + 3 - room
	}
	cm.offset = max(0, min(cm.offset, max(len(lines)-room, 0)))
	body := lines[cm.offset:min(len(lines), cm.offset+room)]
	for len(body) < room {
		body = append(body, "")
	}
	return strings.Join(append(append(head, body...), foot...), "\n")
}
