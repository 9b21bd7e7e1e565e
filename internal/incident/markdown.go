package incident

import (
	"fmt"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// Markdown renders an export as a Markdown report, with times in loc. All
// stored text is stripped of control sequences; Markdown table cells have
// their pipes escaped.
func (ex Export) Markdown(loc *time.Location) string {
	var b strings.Builder
	b.WriteString(ex.MarkdownHead(loc))
	for _, e := range ex.Timeline {
		b.WriteString(MarkdownEntry(e, loc))
	}
	b.WriteString(ex.MarkdownFoot(loc))
	return b.String()
}

// reportTime writes a time of a report in loc; "—" for none.
func reportTime(tm time.Time, loc *time.Location) string {
	if tm.IsZero() {
		return "—"
	}
	return tm.In(loc).Format("2006-01-02 15:04:05 MST")
}

// MarkdownHead is the Markdown report of an export up to the rows of its
// timeline, MarkdownEntry one row, MarkdownFoot the end: a report of any
// length is written an entry at a time (ExportStream).
func (ex Export) MarkdownHead(loc *time.Location) string {
	var b strings.Builder
	in := ex.Incident
	t := func(tm time.Time) string { return reportTime(tm, loc) }
	fmt.Fprintf(&b, "# %s: %s\n\n", in.ID, line(in.Title))
	if ex.Scope == "customer" {
		fmt.Fprintf(&b, "> Prepared for customer **%s**. It holds that customer's data only; other customers are left out or shown as %q.\n\n", line(ex.Customer), Redacted)
	}
	if in.Drill {
		b.WriteString("> **EXERCISE** — this record belongs to a table-top drill")
		if ex.DrillRun != "" {
			b.WriteString(", " + ex.DrillRun + "; its times are on the drill clock")
		}
		b.WriteString(". Nothing here happened for real.\n\n")
	}
	b.WriteString("| | |\n|---|---|\n")
	rows := [][2]string{
		{"Kind", in.Kind}, {"Status", in.Status}, {"Severity", in.Severity},
		{"Category", in.Category}, {"Attack vector", in.AttackVector},
		{"Runbook", in.RunbookID + " v" + in.RunbookVersion},
		{"Aware", t(in.AwareAt)}, {"Declared", t(in.DeclaredAt)}, {"Closed", t(in.ClosedAt)},
		{"Declared by", in.CreatedBy}, {"Flags", strings.Join(in.Flags, ", ")},
	}
	if in.DismissedReason != "" {
		rows = append(rows, [2]string{"Not an incident because", in.DismissedReason})
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], cell(r[1]))
	}
	if len(in.Rationale) > 0 {
		b.WriteString("\n## Classification\n\n")
		for _, r := range in.Rationale {
			fmt.Fprintf(&b, "- %s\n", line(r))
		}
	}
	b.WriteString("\n## Affected customers\n\n")
	if len(ex.Customers) == 0 {
		b.WriteString("None recorded.\n")
	}
	for _, c := range ex.Customers {
		fmt.Fprintf(&b, "- %s (`%s`), %s, language %s\n", line(c.Name), c.ID, line(c.Region), c.Language)
	}
	b.WriteString("\n## Roles\n\n| Role | Person | Assigned | Acknowledged | Ended |\n|---|---|---|---|---|\n")
	for _, a := range ex.Roles {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(a.Role), cell(a.PersonID), t(a.AssignedAt), t(a.AcknowledgedAt), t(a.EndedAt))
	}
	b.WriteString("\n## Checklist\n\n")
	for _, s := range ex.Steps {
		box := "[ ]"
		switch s.Status {
		case "done":
			box = "[x]"
		case "skipped":
			box = "[-]"
		}
		req := ""
		if !s.Required {
			req = " (optional)"
		}
		fmt.Fprintf(&b, "- %s **%s**%s — %s", box, line(s.Title), req, s.Role)
		if s.Status != "open" {
			fmt.Fprintf(&b, "; %s by %s at %s", s.Status, line(s.Actor), t(s.At))
			if s.Note != "" {
				fmt.Fprintf(&b, ": %s", line(s.Note))
			}
		}
		b.WriteString("\n")
	}
	if len(ex.Obligations) > 0 {
		b.WriteString("\n## Notification obligations, anchors and decisions recorded\n\n")
		for _, o := range ex.Obligations {
			switch o.Kind {
			case store.ObligationAnchor:
				fmt.Fprintf(&b, "- anchor %s at %s, recorded by %s %s\n", o.ObligationID, t(o.At), line(o.Actor), line(o.Note))
			case store.ObligationDecision:
				fmt.Fprintf(&b, "- decision %s = %s at %s by %s: %s\n", o.ObligationID, line(o.Value), t(o.At), line(o.Actor), line(o.Note))
			default:
				fmt.Fprintf(&b, "- %s %s at %s by %s %s\n", o.ObligationID, o.Kind, t(o.At), line(o.Actor), line(o.Note))
			}
		}
	}
	b.WriteString("\n## Timeline\n\n| # | Time | Who | What | Summary |\n|---|---|---|---|---|\n")
	return b.String()
}

// MarkdownEntry is one row of the timeline of a Markdown report.
func MarkdownEntry(e ExportEntry, loc *time.Location) string {
	who := identity.Describe(e.Actor, e.Auth)
	if e.Auth == "claim" {
		who = e.Actor + " (claimed)"
	}
	return fmt.Sprintf("| %d | %s | %s | %s | %s |\n", e.Seq, reportTime(e.At, loc), cell(who), e.Kind, cell(e.Summary))
}

// MarkdownFoot ends a Markdown report.
func (ex Export) MarkdownFoot(loc *time.Location) string {
	return fmt.Sprintf("\n_Generated %s by %s with irtui._\n", reportTime(ex.GeneratedAt, loc), line(ex.GeneratedBy))
}

// cell is text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(line(s), "|", `\|`) }

func line(s string) string { return safetext.Line(s) }
