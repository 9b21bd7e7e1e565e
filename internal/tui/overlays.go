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
)

// overlay is a modal drawn over the body; it gets keys before the screen.
type overlay interface {
	// update handles a key; close reports that the overlay is done.
	update(m *Model, msg tea.KeyPressMsg) (close bool, cmd tea.Cmd)
	view(m *Model, w, h int) string
}

// helpOverlay lists every binding of the current screen.
type helpOverlay struct{}

func (helpOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	return key.Matches(msg, m.keys.Help, m.keys.Back, m.keys.Quit), nil
}

func (helpOverlay) view(m *Model, w, h int) string {
	var b strings.Builder
	b.WriteString(m.styles.Title.Render("Keys") + "\n\n")
	for _, group := range m.bindings().full {
		for _, k := range group {
			hp := k.Help()
			fmt.Fprintf(&b, "  %s  %s\n", m.styles.Accent.Render(padRight(hp.Key, 10)), hp.Desc)
		}
		b.WriteString("\n")
	}
	b.WriteString(m.styles.Subtle.Render("? or esc closes this help"))
	return m.styles.Overlay.Render(b.String())
}

// confirmOverlay asks a yes/no question.
type confirmOverlay struct {
	prompt string
	yes    func() tea.Cmd
}

func (c *confirmOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	switch {
	case key.Matches(msg, m.keys.Confirm):
		return true, c.yes()
	case key.Matches(msg, m.keys.Cancel), msg.String() == "n":
		return true, nil
	}
	return false, nil
}

func (c *confirmOverlay) view(m *Model, w, h int) string {
	return m.styles.Overlay.Render(clean(c.prompt) + "\n\n" + m.styles.Subtle.Render("enter/y: yes · esc/n: no"))
}

// inputOverlay asks for one line of text: a note, a reason.
type inputOverlay struct {
	prompt   string
	input    textinput.Model
	required bool
	submit   func(text string) tea.Cmd
	problem  string
	// discarding: esc was pressed once with text in the field.
	discarding bool
}

func newInput(m *Model, prompt, placeholder string, required bool, submit func(string) tea.Cmd) *inputOverlay {
	ti := newTextInput(placeholder, min(60, max(m.width-12, 20)))
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
	}
	o.discarding = false
	var cmd tea.Cmd
	o.input, cmd = o.input.Update(msg)
	return false, cmd
}

func (o *inputOverlay) view(m *Model, w, h int) string {
	body := m.styles.Bold.Render(clean(o.prompt)) + "\n\n" + o.input.View()
	if o.problem != "" {
		body += "\n" + m.styles.StatusErr.Render(o.problem)
	}
	body += "\n\n" + m.styles.Subtle.Render("enter: save · esc: cancel")
	return m.styles.Overlay.Render(body)
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
	var b strings.Builder
	b.WriteString(m.styles.Title.Render(clean(c.title)) + "\n" + c.filter.View() + "\n\n")
	vis := c.visible()
	rows := max(h-10, 3)
	off := window(c.cursor, 0, rows, len(vis))
	for i := off; i < len(vis) && i < off+rows; i++ {
		line := padRight(clean(vis[i].label), 30) + " " + m.styles.Subtle.Render(truncate(clean(vis[i].detail), 30))
		if i == c.cursor {
			line = m.styles.Cursor.Render("› ") + line
		} else {
			line = "  " + line
		}
		b.WriteString(line + "\n")
	}
	if len(vis) == 0 {
		b.WriteString(m.styles.Subtle.Render("  nothing matches") + "\n")
	}
	b.WriteString("\n" + m.styles.Subtle.Render("↑/↓ move · enter pick · esc cancel"))
	return m.styles.Overlay.Width(min(w-4, 72)).Render(b.String())
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

// textOverlay shows read-only text, such as a notice in full.
type textOverlay struct{ text string }

func (o *textOverlay) update(m *Model, msg tea.KeyPressMsg) (bool, tea.Cmd) {
	return key.Matches(msg, m.keys.Back, m.keys.Open, m.keys.Quit), nil
}

func (o *textOverlay) view(m *Model, w, h int) string {
	return m.styles.Overlay.Width(min(w-4, 96)).Render(o.text + "\n\n" + m.styles.Subtle.Render("esc closes"))
}
