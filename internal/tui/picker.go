package tui

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/runbook"
)

// pickerModel chooses the runbook for a new event, with a fuzzy filter.
type pickerModel struct {
	all    []*runbook.Runbook
	filter textinput.Model
	cursor int
	offset int
}

func (p *pickerModel) setRunbooks(lib *runbook.Library) {
	p.all = lib.Runbooks
}

func (m *Model) startPicker() tea.Cmd {
	if m.lib == nil {
		m.pickWhenLoaded = true
		return m.setStatus("Runbooks are still loading… the list opens when they are in.", false)
	}
	if len(m.lib.Runbooks) == 0 {
		return m.setStatus("No runbook loaded: check `irtui runbooks lint`.", true)
	}
	m.picker.filter = newTextInput("type to filter: ransomware, phishing, data…", 50)
	m.picker.cursor, m.picker.offset = 0, 0
	m.screen = screenPicker
	return m.picker.filter.Focus()
}

// visible lists the runbooks that match the filter, best first: those
// whose title starts with it, then those whose title words start with its
// words ("pers" finds "Personal data breach" before "Unauthorised access
// by personnel"), then by id, then containing it, then as a subsequence.
func (p *pickerModel) visible() []*runbook.Runbook {
	q := strings.ToLower(strings.TrimSpace(p.filter.Value()))
	if q == "" {
		return p.all
	}
	type scored struct {
		rb    *runbook.Runbook
		score int
	}
	var hits []scored
	for _, rb := range p.all {
		if sc, ok := rankRunbook(q, rb); ok {
			hits = append(hits, scored{rb, sc})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return a.score - b.score })
	out := make([]*runbook.Runbook, len(hits))
	for i, h := range hits {
		out[i] = h.rb
	}
	return out
}

// rankRunbook scores how well a lower-case query matches a runbook; lower
// is better.
func rankRunbook(q string, rb *runbook.Runbook) (int, bool) {
	title := strings.ToLower(rb.Title)
	words := strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	qw := strings.Fields(q)
	prefixOfWord := func(w string) int {
		for i, tw := range words {
			if strings.HasPrefix(tw, w) {
				return i
			}
		}
		return -1
	}
	switch {
	case strings.HasPrefix(title, q):
		return 0, true
	case allMatch(qw, prefixOfWord):
		return 1 + min(prefixOfWord(qw[0]), 5), true // earlier words first
	case strings.HasPrefix(rb.ID, strings.ReplaceAll(q, " ", "-")):
		return 10, true
	case strings.Contains(rb.ID+" "+title, q):
		return 11, true
	case fuzzy(q, rb.ID+" "+rb.Title+" "+rb.Category.String()):
		return 12, true
	}
	return 0, false
}

func allMatch(ws []string, idx func(string) int) bool {
	for _, w := range ws {
		if idx(w) < 0 {
			return false
		}
	}
	return len(ws) > 0
}

func (p *pickerModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	vis := p.visible()
	switch msg.String() {
	case "esc":
		m.screen = screenList
		return nil
	case "up", "ctrl+p":
		p.cursor = max(p.cursor-1, 0)
		return nil
	case "down", "ctrl+n":
		p.cursor = min(p.cursor+1, max(len(vis)-1, 0))
		return nil
	case "enter":
		if len(vis) == 0 {
			return nil
		}
		return m.startTriage(vis[min(p.cursor, len(vis)-1)])
	}
	var cmd tea.Cmd
	p.filter, cmd = p.filter.Update(msg)
	p.cursor = 0
	return cmd
}

func (p *pickerModel) view(m *Model, w, h int) string {
	s := m.styles
	var b strings.Builder
	b.WriteString(s.Title.Render("New security event · choose the runbook that fits best") + "\n")
	b.WriteString(p.filter.View() + "\n\n")
	vis := p.visible()
	listH := h - 9
	p.offset = window(p.cursor, p.offset, listH, len(vis))
	for i := p.offset; i < len(vis) && i < p.offset+listH; i++ {
		rb := vis[i]
		line := padRight(clean(rb.Title), min(46, w/2)) + " " + s.Subtle.Render(rb.Category.String())
		if i == p.cursor {
			line = s.Cursor.Render("› ") + s.Bold.Render(line)
		} else {
			line = "  " + line
		}
		b.WriteString(truncate(line, w) + "\n")
	}
	if len(vis) == 0 {
		b.WriteString(s.Subtle.Render("  No runbook matches. esc goes back.") + "\n")
	} else if sel := vis[min(p.cursor, len(vis)-1)]; sel != nil {
		summary := strings.Join(strings.Fields(clean(sel.Summary)), " ")
		b.WriteString("\n" + s.Subtle.Render(truncate(fmt.Sprintf("%s: %s", sel.ID, summary), w*2)))
	}
	return b.String()
}
