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
	"github.com/irtui/irtui/internal/incident"
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

// listModel is the incidents list. It holds a window of the list, a few
// pages around the cursor, and reads the next page when the cursor comes
// near an end of it, so it costs what is on screen however long the
// list is. Scope and filter are applied by the query, never to the rows.
type listModel struct {
	rows      []listRow // the window, newest first
	cursor    int       // index into rows
	offset    int       // first row on screen
	visible   int       // rows on screen at the last frame
	scope     listScope
	filter    textinput.Model
	filtering bool
	loading   bool // the first page is not in yet

	// skip is how many of the list's incidents come before the window
	// (for the position shown); total counts the list (-1: filtered by
	// text, not counted); older and newer say the list goes on past the
	// window's ends.
	skip          int
	total         int
	older, newer  bool
	pending       bool   // a page is being read
	seq           int    // the read whose answer is awaited: older ones are dropped
	matchFiltered string // the filter text the window was read with
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
	width, idW                                   int
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

// List paging: a page of listPage rows is read when the cursor comes
// within listMargin rows of a loaded end, and the window keeps at most
// listWindow rows.
const (
	listPage   = 64
	listMargin = 16
	listWindow = 4 * listPage
)

func newListModel() listModel {
	return listModel{filter: newTextInput("filter by title, id, runbook, severity", 40), total: -1}
}

// listWay says what part of the list a read fetches.
type listWay uint8

const (
	listRefresh listWay = iota // the window again, from its first row (the newest page when at the top)
	listOlder                  // the page after the window
	listNewer                  // the page before the window
	listNewest                 // the first page
	listOldest                 // the last page
)

// listReq is one read of the list.
type listReq struct {
	way    listWay
	filter store.ListFilter
	seq    int
}

func (l *listModel) baseFilter() store.ListFilter {
	f := store.ListFilter{Limit: listPage, Match: strings.TrimSpace(l.filter.Value()), Drill: store.DrillExclude}
	if l.drills {
		f.Drill = store.DrillOnly // drill incidents are never mixed with real ones
	}
	switch l.scope {
	case scopeOpen:
		f.Status = store.StatusOpen
	case scopeClosed:
		f.Status = store.StatusClosed
	}
	return f
}

// request starts a read of the list; an answer to an earlier one that is
// still on its way is then dropped.
func (l *listModel) request(way listWay) listReq {
	f := l.baseFilter()
	switch way {
	case listRefresh:
		// Not at the top (skip counts the rows above, or, in a filtered
		// list, which has no count, newer says there are some): read the
		// window again from its first row.
		if len(l.rows) > 0 && (l.skip > 0 || l.newer) {
			f.After = l.rows[0].inc.Number + 1
			f.Limit = max(len(l.rows), listPage)
		} else {
			f.Limit = max(min(len(l.rows), listWindow), listPage)
		}
	case listOlder:
		f.After = l.rows[len(l.rows)-1].inc.Number
	case listNewer:
		f.Before = l.rows[0].inc.Number
	case listOldest:
		f.Oldest = true
	}
	l.seq++
	l.pending = way != listRefresh
	return listReq{way: way, filter: f, seq: l.seq}
}

// apply takes a page read for req into the window.
func (l *listModel) apply(req listReq, rows []listRow, p incident.Page) {
	if req.seq != l.seq {
		return // an answer to a read that was overtaken
	}
	l.pending = false
	l.total = p.Total
	var keep string
	if c, ok := l.current(); ok {
		keep = c.inc.ID
	}
	switch req.way {
	case listRefresh:
		l.rows, l.older, l.newer = rows, p.Older, req.filter.After > 0
		l.cursor = min(l.cursor, max(len(rows)-1, 0))
		for i, r := range rows {
			if r.inc.ID == keep {
				l.cursor = i
			}
		}
	case listNewest:
		l.rows, l.skip, l.cursor, l.offset = rows, 0, 0, 0
		l.older, l.newer = p.Older, false
	case listOldest:
		l.rows, l.cursor, l.offset = rows, max(len(rows)-1, 0), 0
		l.older, l.newer = false, p.Newer
		l.skip = max(l.total-len(rows), 0)
	case listOlder:
		l.rows, l.older = append(l.rows, rows...), p.Older
		if drop := len(l.rows) - listWindow; drop > 0 {
			l.rows = l.rows[drop:]
			l.skip += drop
			l.cursor, l.offset = max(l.cursor-drop, 0), max(l.offset-drop, 0)
			l.newer = true
		}
	case listNewer:
		l.rows = append(rows, l.rows...)
		l.skip = max(l.skip-len(rows), 0)
		l.cursor, l.offset = l.cursor+len(rows), l.offset+len(rows)
		l.newer = p.Newer
		if !p.Newer {
			l.skip = 0
		}
		if len(l.rows) > listWindow {
			l.rows = l.rows[:listWindow]
			l.older = true
		}
	}
	l.cursor = min(l.cursor, max(len(l.rows)-1, 0))
}

func (l *listModel) current() (listRow, bool) {
	if l.cursor < len(l.rows) {
		return l.rows[l.cursor], true
	}
	return listRow{}, false
}

// reread reads the list from its start again, after the scope or the
// filter changed.
func (l *listModel) reread(m *Model) tea.Cmd {
	l.cursor, l.offset, l.skip = 0, 0, 0
	return m.loadList(l.request(listNewest))
}

// follow reads the next page when the cursor comes near a loaded end of
// the window and the list goes on past it.
func (l *listModel) follow(m *Model) tea.Cmd {
	switch {
	case l.pending || len(l.rows) == 0:
		return nil
	case l.older && l.cursor >= len(l.rows)-listMargin:
		return m.loadList(l.request(listOlder))
	case l.newer && l.cursor < listMargin:
		return m.loadList(l.request(listNewer))
	}
	return nil
}

func (l *listModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	if l.filtering {
		switch msg.String() {
		case "esc":
			l.filtering = false
			l.filter.Blur()
			l.filter.SetValue("")
			return l.refilter(m)
		case "enter":
			l.filtering = false
			l.filter.Blur()
			return nil
		}
		var cmd tea.Cmd
		l.filter, cmd = l.filter.Update(msg)
		return tea.Batch(cmd, l.refilter(m))
	}
	k := m.keys
	page := max(l.visible-1, 1)
	switch {
	case key.Matches(msg, k.Up):
		l.cursor = max(l.cursor-1, 0)
	case key.Matches(msg, k.Down):
		l.cursor = min(l.cursor+1, max(len(l.rows)-1, 0))
	case key.Matches(msg, k.PageUp):
		l.cursor = max(l.cursor-page, 0)
	case key.Matches(msg, k.PageDown):
		l.cursor = min(l.cursor+page, max(len(l.rows)-1, 0))
	case key.Matches(msg, k.Top):
		l.cursor = 0
		if l.newer {
			return l.reread(m)
		}
	case key.Matches(msg, k.Bottom):
		l.cursor = max(len(l.rows)-1, 0)
		if l.older {
			return m.loadList(l.request(listOldest))
		}
	case key.Matches(msg, k.Filter):
		l.filtering = true
		return l.filter.Focus()
	case key.Matches(msg, k.Scope):
		l.scope = (l.scope + 1) % 3
		return l.reread(m)
	case key.Matches(msg, k.Drills):
		l.drills = !l.drills
		return l.reread(m)
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
			return l.refilter(m)
		}
	}
	return l.follow(m)
}

// refilter reads the list again when the filter's text changed.
func (l *listModel) refilter(m *Model) tea.Cmd {
	q := strings.TrimSpace(l.filter.Value())
	if q == l.matchFiltered {
		return nil
	}
	l.matchFiltered = q
	return l.reread(m)
}

func (l *listModel) view(m *Model, w, h int) string {
	s := m.styles
	var b strings.Builder
	l.visible = h - 2
	l.offset = window(l.cursor, l.offset, l.visible, len(l.rows))
	title := s.Title.Render(fmt.Sprintf("Incidents · %s", l.scope))
	if l.drills {
		title = s.Warn.Render("EXERCISE ") + s.Title.Render(fmt.Sprintf("Drill incidents · %s", l.scope)) +
			s.Subtle.Render("  x: real incidents · deadlines on each drill's clock")
	}
	title += l.position(m)
	if l.filtering || l.filter.Value() != "" {
		title += "  " + l.filter.View()
	}
	b.WriteString(title + "\n")
	if l.loading {
		b.WriteString("\n  " + s.Subtle.Render("Loading incidents…"))
		return b.String()
	}
	if len(l.rows) == 0 {
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
	// Ids grow past INC-9999: the column takes the widest of the window.
	idW := 9
	for _, r := range l.rows {
		idW = max(idW, len(r.inc.ID)+1)
	}
	fixed := 1 + 7 + (idW + 1) + (dlW + 1) + cmdW
	if !narrow {
		fixed += 8 // the status; the scope above says it on narrow screens
	}
	if wide {
		fixed += 6
	}
	titleW := max(w-fixed-1, 8)
	head := fmt.Sprintf("%-6s %s %s ", "SEV", padRight("ID", idW), padRight("TITLE", titleW))
	if !narrow {
		head += fmt.Sprintf("%-7s ", "STATUS")
	}
	if wide {
		head += fmt.Sprintf("%-5s ", "AGE")
	}
	head += padRight("NEXT DEADLINE", dlW) + " COMMANDER"
	b.WriteString(s.Subtle.Render(truncate(" "+head, w)) + "\n")
	rows := l.visible
	if len(l.lines) > 4*rows+64 { // lines nothing shows any more: older ages, other sizes, gone rows
		l.lines = nil
	}
	for i := l.offset; i < len(l.rows) && i < l.offset+rows; i++ {
		r := l.rows[i]
		key := l.lineKey(m, r, i == l.cursor, w)
		key.idW = idW
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
		line := sev + " " + padRight(r.inc.ID, idW) + " " + padRight(clean(r.inc.Title), titleW) + " "
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
	if l.filter.Value() != "" || l.scope != scopeOpen || l.total > 0 {
		return "\n  " + s.Subtle.Render(fmt.Sprintf("No %s incidents match. Press c to show open/closed/all, x for drill incidents, esc to clear the filter.", l.scope))
	}
	return "\n" + s.Box.Render(
		s.Bold.Render("No incidents yet.")+"\n\n"+
			"Press "+s.Accent.Render("n")+" to assess a new security event: pick a runbook, answer its\n"+
			"questions and irtui shows the verdict and every notification deadline.\n"+
			"Declare it as an incident, or record it as an event that needs no response.\n\n"+
			s.Subtle.Render("Press ? for all keys, q to quit."))
}

// position says which rows of the list are on screen ("1–40 of 66,667"),
// and "reading…" while a page is on its way.
func (l *listModel) position(m *Model) string {
	if len(l.rows) == 0 {
		return ""
	}
	first := l.skip + l.offset + 1
	last := l.skip + min(l.offset+max(l.visible, 1), len(l.rows))
	var p string
	switch {
	case l.total >= 0:
		p = fmt.Sprintf("  %s–%s of %s", thousands(first), thousands(last), thousands(l.total))
	case l.older:
		p = fmt.Sprintf("  %s–%s of more", thousands(first), thousands(last))
	default:
		p = fmt.Sprintf("  %s–%s", thousands(first), thousands(last))
	}
	if l.pending {
		p += " · reading…"
	}
	return m.styles.Subtle.Render(p)
}

// thousands writes n with thousands separators: 66,667.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
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
