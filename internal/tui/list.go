package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/store"
)

type listScope uint8

const (
	scopeOpen listScope = iota
	scopeClosed
	scopeAll
)

func (s listScope) String() string {
	return [...]string{"open", "closed", "all"}[s]
}

// listModel is the incidents list.
type listModel struct {
	rows      []listRow
	shown     []int // indexes into rows after scope and filter
	cursor    int
	offset    int
	scope     listScope
	filter    textinput.Model
	filtering bool
	loading   bool
	// drills shows drill incidents (exercises) instead of real ones: the
	// two are never mixed.
	drills bool
	// lines keeps the rows' drawn lines by everything a line shows: the
	// list is drawn after every message, the clocks tick twice a second,
	// every change reloads it, and in irtui serve many sessions draw it at
	// once. A line is drawn again only when something it shows changed.
	lines map[lineKey]string
}

// lineKey is everything a row's line shows.
type lineKey struct {
	id, title, status, severity, kind, commander string
	drill, hasNext                               bool
	next, remaining                              string
	clock                                        deadline.State
	warn                                         bool // the clock has used half its time
	age                                          string
	cursor                                       bool
	width                                        int
	dark                                         bool
}

func (l *listModel) lineKey(m *Model, r listRow, cursor bool, w int) lineKey {
	k := lineKey{id: r.inc.ID, title: r.inc.Title, status: r.inc.Status, severity: r.inc.Severity, kind: r.inc.Kind,
		commander: r.commander, drill: r.inc.Drill, hasNext: r.hasNext, age: age(r.nowOr(m.now).Sub(r.inc.DeclaredAt)),
		cursor: cursor, width: w, dark: m.styles.Dark}
	if r.hasNext {
		k.next, k.remaining, k.clock, k.warn = r.next.Rule.ID, remaining(r.nextSt), r.nextSt.State, r.nextSt.Used >= 0.5
	}
	return k
}

func newListModel() listModel {
	return listModel{filter: newTextInput("filter by title, id, runbook, severity", 40)}
}

func (l *listModel) setRows(rows []listRow) {
	var keep string
	if c, ok := l.current(); ok {
		keep = c.inc.ID
	}
	l.rows = rows
	l.refilter()
	for i, idx := range l.shown {
		if l.rows[idx].inc.ID == keep {
			l.cursor = i
		}
	}
}

func (l *listModel) refilter() {
	l.shown = l.shown[:0]
	q := strings.TrimSpace(l.filter.Value())
	for i, r := range l.rows {
		if r.inc.Drill != l.drills {
			continue
		}
		switch l.scope {
		case scopeOpen:
			if r.inc.Status != store.StatusOpen {
				continue
			}
		case scopeClosed:
			if r.inc.Status == store.StatusOpen {
				continue
			}
		}
		if q != "" && !fuzzy(q, r.inc.ID+" "+r.inc.Title+" "+r.inc.RunbookID+" "+r.inc.Severity+" "+r.commander) {
			continue
		}
		l.shown = append(l.shown, i)
	}
	l.cursor = min(l.cursor, max(len(l.shown)-1, 0))
}

func (l *listModel) current() (listRow, bool) {
	if l.cursor < len(l.shown) {
		return l.rows[l.shown[l.cursor]], true
	}
	return listRow{}, false
}

func (l *listModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	if l.filtering {
		switch msg.String() {
		case "esc":
			l.filtering = false
			l.filter.Blur()
			l.filter.SetValue("")
			l.refilter()
			return nil
		case "enter":
			l.filtering = false
			l.filter.Blur()
			return nil
		}
		var cmd tea.Cmd
		l.filter, cmd = l.filter.Update(msg)
		l.refilter()
		return cmd
	}
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		l.cursor = max(l.cursor-1, 0)
	case key.Matches(msg, k.Down):
		l.cursor = min(l.cursor+1, max(len(l.shown)-1, 0))
	case key.Matches(msg, k.Top):
		l.cursor = 0
	case key.Matches(msg, k.Bottom):
		l.cursor = max(len(l.shown)-1, 0)
	case key.Matches(msg, k.Filter):
		l.filtering = true
		return l.filter.Focus()
	case key.Matches(msg, k.Scope):
		l.scope = (l.scope + 1) % 3
		l.refilter()
	case key.Matches(msg, k.Drills):
		l.drills = !l.drills
		l.cursor, l.offset = 0, 0
		l.refilter()
	case key.Matches(msg, k.New):
		return m.startPicker()
	case key.Matches(msg, k.Drill):
		return m.startDrill()
	case key.Matches(msg, k.Open):
		if r, ok := l.current(); ok {
			m.detail = newDetailModel(r.inc.ID)
			return m.loadDetail(r.inc.ID, true)
		}
	case key.Matches(msg, k.Back):
		if l.filter.Value() != "" {
			l.filter.SetValue("")
			l.refilter()
		}
	}
	return nil
}

func (l *listModel) view(m *Model, w, h int) string {
	s := m.styles
	var b strings.Builder
	title := s.Title.Render(fmt.Sprintf("Incidents · %s", l.scope))
	if l.drills {
		title = s.Warn.Render("EXERCISE ") + s.Title.Render(fmt.Sprintf("Drill incidents · %s", l.scope)) +
			s.Subtle.Render("  x: real incidents · deadlines on each drill's clock")
	}
	if l.filtering || l.filter.Value() != "" {
		title += "  " + l.filter.View()
	}
	b.WriteString(title + "\n")
	if l.loading {
		b.WriteString("\n  " + s.Subtle.Render("Loading incidents…"))
		return b.String()
	}
	if len(l.shown) == 0 {
		b.WriteString(l.empty(m))
		return b.String()
	}
	// Columns: severity, id, title, status, age, next deadline, commander.
	// The commander stays at every width; the title gives way, and on
	// narrow screens the age goes.
	wide, narrow := w >= 100, w < 80
	dlW, cmdW := 22, 10
	switch {
	case wide:
		dlW, cmdW = 36, 12
	case narrow:
		dlW = 17
	}
	fixed := 1 + 7 + 10 + (dlW + 1) + cmdW
	if !narrow {
		fixed += 8 // the status; the scope above says it on narrow screens
	}
	if wide {
		fixed += 6
	}
	titleW := max(w-fixed-1, 8)
	head := fmt.Sprintf("%-6s %-9s %s ", "SEV", "ID", padRight("TITLE", titleW))
	if !narrow {
		head += fmt.Sprintf("%-7s ", "STATUS")
	}
	if wide {
		head += fmt.Sprintf("%-5s ", "AGE")
	}
	head += padRight("NEXT DEADLINE", dlW) + " COMMANDER"
	b.WriteString(s.Subtle.Render(truncate(" "+head, w)) + "\n")
	rows := h - 2
	l.offset = window(l.cursor, l.offset, rows, len(l.shown))
	if len(l.lines) > 4*rows+64 { // lines nothing shows any more: older ages, other sizes, gone rows
		l.lines = nil
	}
	for i := l.offset; i < len(l.shown) && i < l.offset+rows; i++ {
		r := l.rows[l.shown[i]]
		key := l.lineKey(m, r, i == l.cursor, w)
		if line, ok := l.lines[key]; ok {
			b.WriteString(line)
			continue
		}
		sev := s.severity(r.inc.Severity) + "  "
		if r.inc.Kind == store.KindEvent {
			sev = s.Faint.Render("event ")
		}
		status := r.inc.Status
		if r.inc.Drill {
			status = "drill"
		}
		cmdr := clean(r.commander)
		if cmdr == "" && r.inc.Status == store.StatusOpen && r.inc.Kind == store.KindIncident {
			cmdr = s.Warn.Render("unassigned")
		}
		line := sev + " " + padRight(r.inc.ID, 9) + " " + padRight(clean(r.inc.Title), titleW) + " "
		if !narrow {
			line += padRight(status, 7) + " "
		}
		if wide {
			line += padRight(key.age, 5) + " "
		}
		line += l.deadlineCell(m, r, dlW) + " " + truncate(cmdr, cmdW)
		if i == l.cursor {
			line = s.Cursor.Render("›") + line
		} else {
			line = " " + line
		}
		line = truncate(line, w) + "\n"
		if l.lines == nil {
			l.lines = map[lineKey]string{}
		}
		l.lines[key] = line
		b.WriteString(line)
	}
	return b.String()
}

func (l *listModel) deadlineCell(m *Model, r listRow, w int) string {
	if !r.hasNext {
		return padRight(m.styles.Faint.Render("—"), w)
	}
	st := r.nextSt
	text := fmt.Sprintf("%s %s", deadline.Label(r.next.Rule), remaining(st))
	if rem := remaining(st); lipgloss.Width(text) > w {
		text = truncate(deadline.Label(r.next.Rule), max(w-lipgloss.Width(rem)-1, 4)) + " " + rem
	}
	return padRight(clockStyle(m.styles, st).Render(truncate(text, w)), w)
}

func (l *listModel) empty(m *Model) string {
	s := m.styles
	if l.drills {
		return "\n  " + s.Subtle.Render(fmt.Sprintf("No %s drill incidents. Press D to run a table-top drill, x for the real incidents.", l.scope))
	}
	if len(l.rows) > 0 {
		return "\n  " + s.Subtle.Render(fmt.Sprintf("No %s incidents match. Press c to show open/closed/all, x for drill incidents, esc to clear the filter.", l.scope))
	}
	return "\n" + s.Box.Render(
		s.Bold.Render("No incidents yet.")+"\n\n"+
			"Press "+s.Accent.Render("n")+" to assess a new security event: pick a runbook, answer its\n"+
			"questions and irtui shows the verdict and every notification deadline.\n"+
			"Declare it as an incident, or record it as an event that needs no response.\n\n"+
			s.Subtle.Render("Press ? for all keys, q to quit."))
}

// age shows how old something is compactly, rounded down: 5m, 3h, 2d.
func age(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// remaining shows the time left on a clock, or how late it is.
func remaining(st deadline.Status) string {
	switch st.State {
	case deadline.Overdue:
		return "OVERDUE " + deadline.Span(st.Remaining)
	case deadline.Escalated:
		return fmt.Sprintf("ESCALATED L%d", st.Level)
	case deadline.Paused:
		return "paused"
	case deadline.Met:
		return "met"
	case deadline.Waiting:
		return "waiting"
	}
	return "in " + deadline.Span(st.Remaining)
}
