package tui

import (
	"strings"

	"charm.land/bubbles/v2/textinput"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/irtui/irtui/internal/safetext"
)

// fit pads or cuts s to exactly w columns and h lines.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lw := lipgloss.Width(l)
		switch {
		case lw > w:
			lines[i] = ansi.Truncate(l, w, "…")
		case lw < w:
			lines[i] = l + strings.Repeat(" ", w-lw)
		}
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

// clip cuts s to at most w columns and h lines, without padding: an
// overlay box that is larger than the body.
func clip(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if lipgloss.Width(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	return strings.Join(lines, "\n")
}

// place centres a box in a w×h area.
func place(box string, w, h int) string {
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, box)
}

// truncate cuts plain or styled text to w columns.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// safeMarkdown strips control sequences from Markdown before rendering.
func safeMarkdown(s string) string { return safetext.Clean(s) }

// clean makes stored text safe for the terminal, on one line.
func clean(s string) string { return safetext.Line(s) }

// padRight pads plain text to w columns, cutting it if longer.
func padRight(s string, w int) string {
	s = truncate(s, w)
	if d := w - lipgloss.Width(s); d > 0 {
		s += strings.Repeat(" ", d)
	}
	return s
}

// window returns the first index of a view of size h that keeps cursor
// visible, given the previous offset.
func window(cursor, offset, h, n int) int {
	if h <= 0 {
		return 0
	}
	if cursor < offset {
		offset = cursor
	}
	if cursor >= offset+h {
		offset = cursor - h + 1
	}
	return max(0, min(offset, max(n-h, 0)))
}

// newTextInput is a text field with a steady cursor: no blink timer to
// redraw the screen twice a second over a slow SSH link.
func newTextInput(placeholder string, width int) textinput.Model {
	ti := textinput.New()
	ti.Placeholder = placeholder
	ti.SetWidth(width)
	st := ti.Styles()
	st.Cursor.Blink = false
	ti.SetStyles(st)
	return ti
}
