package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// pagerModel shows a long text a page at a time: a drill's briefing or
// its after-action report. The text is drawn (Markdown, renderMarkdown)
// in a command, never in View.
type pagerModel struct {
	title  string
	lines  []string
	offset int
	back   screen
	// enter, if set, is what enter does (the briefing starts the drill);
	// hint says so in the footer.
	enter func() tea.Cmd
	hint  string
}

// pagerMsg carries a rendered text to show.
type pagerMsg struct {
	title string
	text  string
	back  screen
	enter func() tea.Cmd
	hint  string
	err   error
}

// pagerText draws Markdown for the pager at width w (renderMarkdown); it
// runs in a command.
func pagerText(md string, w int, s Styles, plain bool) string {
	return renderMarkdown(safeMarkdown(md), max(w-2, 38), s, plain)
}

// showPager returns a command that renders md and opens it in the pager.
func (m *Model) showPager(title, md string, back screen, enter func() tea.Cmd, hint string) tea.Cmd {
	w, styles, plain := max(m.width, 40), m.styles, m.deps.NoColor
	return func() tea.Msg {
		return pagerMsg{title: title, text: pagerText(md, w, styles, plain), back: back, enter: enter, hint: hint}
	}
}

func (p *pagerModel) set(msg pagerMsg) {
	p.title, p.lines, p.offset, p.back, p.enter, p.hint = msg.title, strings.Split(msg.text, "\n"), 0, msg.back, msg.enter, msg.hint
}

func (p *pagerModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	page := max(m.height-6, 1)
	last := max(len(p.lines)-page, 0)
	switch {
	case key.Matches(msg, k.Back):
		m.screen = p.back
		return nil
	case p.enter != nil && key.Matches(msg, k.Open):
		enter := p.enter
		m.screen = p.back
		return enter()
	case key.Matches(msg, k.Down):
		p.offset = min(p.offset+1, last)
	case key.Matches(msg, k.Up):
		p.offset = max(p.offset-1, 0)
	case key.Matches(msg, k.PageDown), msg.String() == "space":
		p.offset = min(p.offset+page, last)
	case key.Matches(msg, k.PageUp):
		p.offset = max(p.offset-page, 0)
	case key.Matches(msg, k.Top):
		p.offset = 0
	case key.Matches(msg, k.Bottom):
		p.offset = last
	}
	return nil
}

func (p *pagerModel) view(m *Model, w, h int) string {
	s := m.styles
	var b strings.Builder
	pos := ""
	if len(p.lines) > h-1 {
		pos = fmt.Sprintf("  lines %d–%d of %d", p.offset+1, min(p.offset+h-1, len(p.lines)), len(p.lines))
	}
	b.WriteString(s.Warn.Render("EXERCISE ") + s.Title.Render(clean(p.title)) + s.Subtle.Render(pos) + "\n")
	for i := p.offset; i < len(p.lines) && i < p.offset+h-1; i++ {
		b.WriteString(p.lines[i] + "\n")
	}
	return b.String()
}

// pagerKeys are the pager's bindings, for the footer and help.
func (m *Model) pagerKeys() helpKeys {
	k := m.keys
	short := []key.Binding{k.Down, k.Up, k.PageDown, k.Back}
	if m.pager.enter != nil {
		short = append([]key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", m.pager.hint))}, short...)
	}
	return helpKeys{short: append(short, k.Help), full: [][]key.Binding{short, {k.Top, k.Bottom, k.PageUp, k.Help, k.Quit}}}
}
