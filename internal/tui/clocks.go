package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/irtui/irtui/internal/deadline"
)

// clockStyle colours a clock by how much of its time is used: calm while
// running, warning from 50 %, danger from 80 %, inverse when overdue.
func clockStyle(s Styles, st deadline.Status) lipgloss.Style {
	switch st.State {
	case deadline.Overdue:
		return s.Overdue
	case deadline.Escalated:
		return s.Danger
	case deadline.DueSoon:
		return s.Danger
	case deadline.Met:
		return s.OK
	case deadline.Waiting, deadline.Paused:
		return s.Subtle
	}
	if st.Used >= 0.5 {
		return s.Warn
	}
	return s.OK
}

// clockBar draws one obligation as a countdown bar of width w:
// "GDPR 72h to the authority ███████░░░░░ in 1d 17h · due 2026-03-30 11:00 CEST".
func clockBar(s Styles, o deadline.Obligation, st deadline.Status, w int) string {
	labelW := min(30, max(w/3, 14))
	label := padRight(deadline.Label(o.Rule), labelW)
	barW := max(min(w-labelW-50, 24), 4)
	used := st.Used
	if st.State == deadline.Waiting {
		used = 0
	}
	filled := int(float64(barW) * min(max(used, 0), 1))
	style := clockStyle(s, st)
	bar := style.Render(strings.Repeat("█", filled)) + s.BarEmpty.Render(strings.Repeat("░", barW-filled))
	var tail string
	switch {
	case st.State == deadline.Met:
		tail = "met " + deadline.Format(o.Submitted)
		if st.Late {
			tail += " (late)"
		}
	case st.State == deadline.Waiting:
		tail = "starts after " + o.WaitingFor
	case st.State == deadline.Overdue:
		tail = fmt.Sprintf("OVERDUE by %s · was due %s", deadline.Span(st.Remaining), deadline.Format(st.Due))
	case st.State == deadline.Escalated:
		tail = fmt.Sprintf("target passed · escalation level %d", st.Level)
	case st.State == deadline.Paused:
		tail = "paused"
	default:
		tail = fmt.Sprintf("%s · due %s", remaining(st), deadline.Format(st.Due))
	}
	if o.Rule.Soft && st.State != deadline.Met {
		tail += " (target)"
	}
	return label + " " + bar + " " + style.Render(truncate(tail, max(w-labelW-barW-2, 10)))
}
