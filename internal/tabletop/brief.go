package tabletop

import (
	"fmt"
	"strings"

	"github.com/irtui/irtui/internal/safetext"
)

// Briefing is what the players are told before play (the situation
// manual's participant briefing), as Markdown: the exercise, its scope and
// objectives, who plays what, the assumptions and the scenario's
// background, with the modules to be played. It leaves out what only the
// facilitator sees: the injects and the expected actions.
func Briefing(sc *Scenario) string {
	var b strings.Builder
	line := safetext.Line
	fmt.Fprintf(&b, "# Briefing: %s\n\n", line(sc.Title))
	b.WriteString("**EXERCISE** — a table-top drill. Nothing in it is happening for real.\n\n")
	if ov := sc.Overview; ov != nil {
		if ov.Scope != "" {
			fmt.Fprintf(&b, "**Scope.** %s\n\n", line(ov.Scope))
		}
		if ov.Threat != "" {
			fmt.Fprintf(&b, "**Threat or hazard.** %s\n\n", line(ov.Threat))
		}
	}
	b.WriteString("## The situation\n\n")
	b.WriteString(strings.TrimSpace(safetext.Clean(sc.Summary)) + "\n")
	if len(sc.Modules) > 0 {
		b.WriteString("\n## Modules\n\n")
		for i, m := range sc.Modules {
			fmt.Fprintf(&b, "%d. **%s**", i+1, line(m.Title))
			if m.Summary != "" {
				fmt.Fprintf(&b, " — %s", line(firstParagraph(m.Summary)))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n## Objectives\n\n")
	for _, o := range sc.Objectives {
		fmt.Fprintf(&b, "- **%s** %s\n", line(o.ID), line(o.Text))
	}
	if len(sc.Participants) > 0 {
		b.WriteString("\n## Who plays what\n\n")
		for _, p := range sc.Participants {
			fmt.Fprintf(&b, "- %s: %s\n", line(p.Role), line(p.Who))
		}
	}
	if len(sc.Assumptions) > 0 {
		b.WriteString("\n## Assumptions and artificialities\n\n")
		for _, a := range sc.Assumptions {
			fmt.Fprintf(&b, "- %s\n", line(a))
		}
	}
	b.WriteString("\n## How we play\n\n" +
		"The facilitator releases the news as it comes in. Work the drill incident as you would a real one, in the\n" +
		"app or the console: triage, roles, the checklist, the notices. Say what you would do and why; no fault is\n" +
		"attributed. The clock is the drill's: every action is timed on it.\n")
	return b.String()
}

// firstParagraph is the first paragraph of a Markdown text, on one line.
func firstParagraph(s string) string {
	p, _, _ := strings.Cut(strings.TrimSpace(s), "\n\n")
	return strings.Join(strings.Fields(p), " ")
}
