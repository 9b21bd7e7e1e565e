package tui

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// overlay is a modal drawn over the body; it gets keys before the screen.
// Its view is laid out at every frame for the size it is given, so a
// resized terminal re-lays it out, and the root cuts it to the body: it
// never overflows.
type overlay interface {
	// update handles a key; close reports that the overlay is done.
	update(m *Model, msg tea.KeyPressMsg) (close bool, cmd tea.Cmd)
	view(m *Model, w, h int) string
}

// boxWidth is the inner width of an overlay box on a w-wide body: the box
// adds a border and padding of 2 on each side.
func boxWidth(w, most int) int { return max(min(w-8, most), 10) }

// boxHeight is the number of text lines an overlay box holds on an h-high
// body: the box adds a border and a blank line above and below.
func boxHeight(h int) int { return max(h-4, 1) }

// scroll is a window over lines of text that do not all fit: the arrow
// keys, page keys, g and G move it.
type scroll struct{ offset int }

// key moves the window for a key; it reports whether the key was one.
func (s *scroll) key(m *Model, msg tea.KeyPressMsg, total, page int) bool {
	k := m.keys
	switch {
	case key.Matches(msg, k.Up):
		s.offset--
	case key.Matches(msg, k.Down):
		s.offset++
	case key.Matches(msg, k.PageUp):
		s.offset -= max(page-1, 1)
	case key.Matches(msg, k.PageDown), msg.String() == "space":
		s.offset += max(page-1, 1)
	case key.Matches(msg, k.Top):
		s.offset = 0
	case key.Matches(msg, k.Bottom):
		s.offset = total
	default:
		return false
	}
	return true
}

// window returns the lines that fit in h, with a last line saying where
// the window is when not everything fits.
func (s *scroll) window(m *Model, lines []string, h int) []string {
	if len(lines) <= h {
		s.offset = 0
		return lines
	}
	rows := max(h-1, 1)
	s.offset = max(0, min(s.offset, len(lines)-rows))
	out := append([]string{}, lines[s.offset:s.offset+rows]...)
	more := fmt.Sprintf("↑/↓ pgup/pgdn scroll · lines %d–%d of %d", s.offset+1, s.offset+rows, len(lines))
	return append(out, m.styles.Faint.Render(more))
}

// wrapText wraps styled or plain text to w columns, keeping its line
// breaks.
func wrapText(text string, w int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if lipgloss.Width(line) <= w {
			out = append(out, line)
			continue
		}
		out = append(out, strings.Split(lipgloss.NewStyle().Width(w).Render(line), "\n")...)
	}
	return out
}

// scrollBox draws text with a footer in an overlay box that fits w×h,
// scrolling the text when it does not fit.
func scrollBox(m *Model, sc *scroll, text, footer string, w, h, most int) string {
	inner := boxWidth(w, most)
	lines := wrapText(text, inner)
	foot := wrapText(m.styles.Subtle.Render(footer), inner)
	room := max(boxHeight(h)-len(foot)-1, 1)
	body := sc.window(m, lines, room)
	return m.styles.Overlay.Width(inner + 6).Render(strings.Join(body, "\n") + "\n\n" + strings.Join(foot, "\n"))
}

// helpOverlay lists every binding of the current screen; it scrolls.
type helpOverlay struct{ sc scroll }

func (o *helpOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	if key.Matches(msg, m.keys.Help, m.keys.Back, m.keys.Quit) {
		return true, nil
	}
	o.sc.key(m, msg, 1000, m.height/2)
	return false, nil
}

func (o *helpOverlay) view(m *Model, w, h int) string {
	var b strings.Builder
	b.WriteString(m.styles.Title.Render("Keys") + "\n")
	for _, group := range m.bindings().full {
		b.WriteString("\n")
		for _, k := range group {
			hp := k.Help()
			fmt.Fprintf(&b, "%s  %s\n", m.styles.Accent.Render(padRight(hp.Key, 10)), hp.Desc)
		}
	}
	return scrollBox(m, &o.sc, strings.TrimRight(b.String(), "\n"), "? or esc closes this help", w, h, 72)
}

// confirmOverlay asks a yes/no question; a long question (what closing
// leaves open, the notices an approval sends) scrolls.
type confirmOverlay struct {
	prompt string
	yes    func() tea.Cmd
	sc     scroll
	// styled: prompt holds our own styling (already cleaned text).
	styled bool
}

func (c *confirmOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Confirm):
		return true, c.yes()
	case key.Matches(msg, m.keys.Cancel), msg.String() == "n":
		return true, nil
	}
	c.sc.key(m, msg, 1000, m.height/2)
	return false, nil
}

func (c *confirmOverlay) view(m *Model, w, h int) string {
	prompt := c.prompt
	if !c.styled {
		prompt = cleanBlock(prompt)
	}
	return scrollBox(m, &c.sc, prompt, "enter/y: yes · esc/n: no", w, h, 76)
}

// cleanBlock makes stored text safe for the terminal, keeping its line
// breaks.
func cleanBlock(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n")
}

// inputOverlay asks for one line of text: a note, a reason.
type inputOverlay struct {
	prompt string
	// detail, if set, is shown above the prompt and scrolls (↑/↓,
	// pgup/pgdn): what the question is about, such as what closing leaves
	// open. The prompt and the field always show.
	detail   string
	sc       scroll
	input    textinput.Model
	required bool
	submit   func(text string) tea.Cmd
	problem  string
	// discarding: esc was pressed once with text in the field.
	discarding bool
}

func newInput(m *Model, prompt, placeholder string, required bool, submit func(string) tea.Cmd) *inputOverlay {
	ti := newTextInput(placeholder, boxWidth(m.width, 64)-2)
	ti.CharLimit = 2000
	ti.Focus()
	return &inputOverlay{prompt: prompt, input: ti, required: required, submit: submit}
}

func (o *inputOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	switch msg.String() {
	case "esc":
		// Typed text is not thrown away on one key.
		if strings.TrimSpace(o.input.Value()) != "" && !o.discarding {
			o.discarding = true
			o.problem = "Press esc again to discard what you typed."
			return false, nil
		}
		return true, nil
	case "enter":
		text := strings.TrimSpace(o.input.Value())
		if o.required && text == "" {
			o.problem = "This cannot be empty."
			return false, nil
		}
		return true, o.submit(text)
	case "up", "down", "pgup", "pgdown":
		if o.detail != "" {
			o.sc.key(m, msg, 1000, m.height/2)
			return false, nil
		}
	}
	o.discarding = false
	var cmd tea.Cmd
	o.input, cmd = o.input.Update(msg)
	return false, cmd
}

func (o *inputOverlay) view(m *Model, w, h int) string {
	inner := boxWidth(w, 64)
	o.input.SetWidth(inner - 4)
	prompt := wrapText(m.styles.Bold.Render(cleanBlock(o.prompt)), inner)
	tail := []string{"", o.input.View()}
	if o.problem != "" {
		tail = append(tail, wrapText(m.styles.StatusErr.Render(o.problem), inner)...)
	}
	tail = append(tail, "", m.styles.Subtle.Render(truncate("enter: save · esc: cancel", inner)))
	var body []string
	if o.detail != "" {
		room := max(boxHeight(h)-len(tail)-len(prompt)-1, 1)
		body = append(o.sc.window(m, wrapText(cleanBlock(o.detail), inner), room), "")
	}
	// Only when even that does not fit, the prompt gives way; the field
	// always shows.
	if room := boxHeight(h) - len(tail) - len(body); len(prompt) > room {
		prompt = prompt[:max(room, 0)]
	}
	return m.styles.Overlay.Width(inner + 6).Render(strings.Join(append(append(body, prompt...), tail...), "\n"))
}

// choice is one item of a choiceOverlay.
type choice struct {
	value, label, detail string
}

// choiceOverlay picks one item from a filterable list.
type choiceOverlay struct {
	title  string
	items  []choice
	filter textinput.Model
	cursor int
	offset int
	pick   func(choice) tea.Cmd
}

func newChoice(title string, items []choice, pick func(choice) tea.Cmd) *choiceOverlay {
	ti := newTextInput("type to filter", 40)
	ti.Focus()
	return &choiceOverlay{title: title, items: items, filter: ti, pick: pick}
}

func (c *choiceOverlay) visible() []choice {
	return filterChoices(c.items, c.filter.Value())
}

// filterChoices keeps the items that match q, best matches first: an id
// that starts with q, then a word that does, then q anywhere, then its
// letters in order (so "cust" picks customer-data-open-storage before a
// title that merely has c, u, s and t in it).
func filterChoices(items []choice, q string) []choice {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return items
	}
	type ranked struct {
		c    choice
		rank int
	}
	var out []ranked
	for _, it := range items {
		if r := matchRank(q, it); r >= 0 {
			out = append(out, ranked{it, r})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rank < out[j].rank })
	res := make([]choice, len(out))
	for i, r := range out {
		res[i] = r.c
	}
	return res
}

// matchRank is how well q matches a choice (lower is better); -1: not at
// all.
func matchRank(q string, c choice) int {
	value, text := strings.ToLower(c.value), strings.ToLower(c.value+" "+c.label+" "+c.detail)
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	switch {
	case strings.HasPrefix(value, q) || strings.HasPrefix(strings.ToLower(c.label), q):
		return 0
	case slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, q) }):
		return 1
	case strings.Contains(text, q):
		return 2
	case fuzzy(q, text):
		return 3
	}
	return -1
}

func (c *choiceOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	vis := c.visible()
	switch msg.String() {
	case "esc":
		return true, nil
	case "enter":
		if len(vis) == 0 {
			return false, nil
		}
		return true, c.pick(vis[min(c.cursor, len(vis)-1)])
	case "up", "ctrl+p":
		c.cursor = max(c.cursor-1, 0)
		return false, nil
	case "down", "ctrl+n":
		c.cursor = min(c.cursor+1, max(len(vis)-1, 0))
		return false, nil
	}
	var cmd tea.Cmd
	c.filter, cmd = c.filter.Update(msg)
	c.cursor = 0
	return false, cmd
}

func (c *choiceOverlay) view(m *Model, w, h int) string {
	inner := boxWidth(w, 72)
	c.filter.SetWidth(min(40, inner-2))
	var lines []string
	lines = append(lines, truncate(m.styles.Title.Render(clean(c.title)), inner), c.filter.View(), "")
	vis := c.visible()
	rows := max(boxHeight(h)-len(lines)-2, 1)
	if rows > 6 {
		rows -= 4 // room for the highlighted item's detail
	}
	c.offset = window(c.cursor, c.offset, rows, len(vis))
	labelW := min(30, inner/2)
	for i := c.offset; i < len(vis) && i < c.offset+rows; i++ {
		line := padRight(clean(vis[i].label), labelW) + " " + m.styles.Subtle.Render(clean(vis[i].detail))
		if i == c.cursor {
			line = m.styles.Cursor.Render("› ") + line
		} else {
			line = "  " + line
		}
		lines = append(lines, truncate(line, inner))
	}
	if len(vis) == 0 {
		lines = append(lines, m.styles.Subtle.Render("  nothing matches"))
	}
	foot := "↑/↓ move · enter pick · esc cancel"
	if len(vis) > rows {
		foot = fmt.Sprintf("%d of %d · ", min(rows, len(vis)), len(vis)) + foot
	}
	// The highlighted item's detail in full, where the row cuts it.
	if len(vis) > 0 {
		it := vis[min(c.cursor, len(vis)-1)]
		if lipgloss.Width(clean(it.detail)) > inner-labelW-3 {
			more := wrapText(m.styles.Subtle.Render(clean(it.detail)), inner)
			if room := boxHeight(h) - len(lines) - 3; len(more) > room {
				more = more[:max(room, 0)]
			}
			lines = append(append(lines, ""), more...)
		}
	}
	lines = append(lines, "", m.styles.Subtle.Render(truncate(foot, inner)))
	return m.styles.Overlay.Width(inner + 6).Render(strings.Join(lines, "\n"))
}

// fuzzy reports whether every rune of q appears in s in order, ignoring
// case: "pdb" matches "personal-data-breach".
func fuzzy(q, s string) bool {
	want := []rune(strings.ToLower(q))
	i := 0
	for _, r := range strings.ToLower(s) {
		if i < len(want) && want[i] == r {
			i++
		}
	}
	return i == len(want)
}

// textOverlay shows read-only text, such as a notice or a timeline entry
// in full; it scrolls.
type textOverlay struct {
	text string
	sc   scroll
}

// newTextOverlay shows text that our code styled and cleaned.
func newTextOverlay(text string) *textOverlay { return &textOverlay{text: text} }

func (o *textOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	if key.Matches(msg, m.keys.Back, m.keys.Open, m.keys.Quit) {
		return true, nil
	}
	o.sc.key(m, msg, 1000, m.height/2)
	return false, nil
}

func (o *textOverlay) view(m *Model, w, h int) string {
	return scrollBox(m, &o.sc, o.text, "esc closes", w, h, 96)
}
