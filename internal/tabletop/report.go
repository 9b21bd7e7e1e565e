package tabletop

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// Report is the after-action report and improvement plan (HSEEP AAR/IP)
// of a run: the scenario, what happened when, the scores, the
// observations, the hot wash and the action items.
type Report struct {
	GeneratedAt     time.Time            `json:"generated_at"`
	GeneratedBy     string               `json:"generated_by"`
	Run             store.DrillRun       `json:"run"`
	Scenario        *Scenario            `json:"scenario"`
	Incident        *IncidentSummary     `json:"incident,omitempty"`
	Injects         []InjectRecord       `json:"injects"`
	Timeline        []TimelineItem       `json:"timeline"`
	Score           Score                `json:"score"`
	Observations    []Observation        `json:"observations"`
	Strengths       []store.HotWashEntry `json:"strengths"`
	Improvements    []store.HotWashEntry `json:"improvements"`
	ImprovementPlan []store.ActionItem   `json:"improvement_plan"`
}

// IncidentSummary is the drill incident as the report shows it.
type IncidentSummary struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Category string `json:"category,omitempty"`
}

// InjectRecord is an inject of the scenario and whether it was played.
type InjectRecord struct {
	ID        string `json:"id"`
	Channel   string `json:"channel"`
	From      string `json:"from,omitempty"`
	Offset    Offset `json:"offset"`
	Delivered bool   `json:"delivered"`
	Content   string `json:"content"`
}

// TimelineItem is one line of the drill's merged timeline: the scenario's
// injects, the team's actions on the drill incident and the facilitator's
// clock changes, marks and ratings.
type TimelineItem struct {
	At     time.Time `json:"at"` // drill time
	Offset Offset    `json:"offset"`
	Source string    `json:"source"` // scenario | team | facilitator
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"`
	Text   string    `json:"text"`
}

// Observation is an evaluator's note.
type Observation struct {
	At        time.Time `json:"at"`
	Offset    Offset    `json:"offset"`
	Actor     string    `json:"actor"`
	Objective string    `json:"objective,omitempty"`
	Inject    string    `json:"inject,omitempty"` // the latest inject when it was noted
	Text      string    `json:"text"`
}

// Report builds the after-action report. Reading the drill incident's
// timeline for it is audited as an export by actor.
func (r *Run) Report(ctx context.Context, actor identity.Actor) (*Report, error) {
	r.mu.Lock()
	rec := r.rec
	delivered := append([]bool(nil), r.delivered...)
	r.mu.Unlock()
	sc, err := r.Score(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{GeneratedAt: r.deps.real().Now().UTC(), GeneratedBy: actor.ID(), Run: rec, Scenario: r.sc, Score: sc,
		Injects: []InjectRecord{}, Timeline: []TimelineItem{}, Observations: []Observation{},
		Strengths: []store.HotWashEntry{}, Improvements: []store.HotWashEntry{}}
	epoch := rec.Epoch
	item := func(at time.Time, source, actor, kind, text string) {
		rep.Timeline = append(rep.Timeline, TimelineItem{At: at.UTC(), Offset: Offset(at.Sub(epoch)), Source: source,
			Actor: actor, Kind: kind, Text: text})
	}
	for i, in := range r.sc.Injects {
		rep.Injects = append(rep.Injects, InjectRecord{ID: in.ID, Channel: in.Channel, From: in.From,
			Offset: Offset(in.Offset), Delivered: delivered[i], Content: in.Content})
	}
	events, err := r.deps.Store.DrillEvents(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		switch e.Kind {
		case "inject":
			text := e.Ref
			if in, ok := r.sc.Inject(e.Ref); ok {
				text = fmt.Sprintf("%s (%s%s): %s", in.ID, in.Channel, prefixed(", from ", in.From), firstLine(in.Content))
			}
			item(e.DrillAt, "scenario", e.Actor, "inject", text)
		case "observation":
			rep.Observations = append(rep.Observations, Observation{At: e.DrillAt.UTC(), Offset: Offset(e.DrillAt.Sub(epoch)),
				Actor: e.Actor, Objective: e.Ref, Inject: e.Value, Text: e.Text})
			item(e.DrillAt, "facilitator", e.Actor, "observation", e.Text)
		case "mark":
			item(e.DrillAt, "facilitator", e.Actor, "mark", fmt.Sprintf("Marked %s %s%s", e.Ref, e.Value, prefixed(": ", e.Text)))
		case "rating":
			item(e.DrillAt, "facilitator", e.Actor, "rating", fmt.Sprintf("Rated objective %s %s (%s)%s", e.Ref, e.Value,
				RatingText[Rating(e.Value)], prefixed(": ", e.Text)))
		default:
			item(e.DrillAt, "facilitator", e.Actor, e.Kind, eventText(e))
		}
	}
	if rec.IncidentID != "" {
		ex, err := r.svc.Export(ctx, actor, rec.IncidentID, "")
		if err != nil {
			return nil, err
		}
		in := ex.Incident
		rep.Incident = &IncidentSummary{ID: in.ID, Title: in.Title, Severity: in.Severity, Status: in.Status, Category: in.Category}
		for _, e := range ex.Timeline {
			item(e.At, "team", e.Actor, e.Kind, e.Summary)
		}
	}
	sort.SliceStable(rep.Timeline, func(i, j int) bool { return rep.Timeline[i].At.Before(rep.Timeline[j].At) })
	hw, err := r.deps.Store.HotWash(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range hw {
		if e.Kind == store.HotWashStrength {
			rep.Strengths = append(rep.Strengths, e)
		} else {
			rep.Improvements = append(rep.Improvements, e)
		}
	}
	if rep.ImprovementPlan, err = r.deps.Store.ActionItems(ctx, store.ActionItemFilter{RunID: rec.ID}); err != nil {
		return nil, err
	}
	return rep, nil
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func eventText(e store.DrillEvent) string {
	switch e.Kind {
	case "started":
		return fmt.Sprintf("Drill started (%s): %s", e.Value, e.Text)
	case "paused":
		return "Clock paused"
	case "resumed":
		return "Clock resumed"
	case "speed":
		return "Clock set to " + e.Value
	case "next":
		return "Released inject " + e.Ref
	case "jumped":
		return "Jumped to inject " + e.Ref
	case "declared":
		return "Drill incident " + e.Ref + " declared"
	case "linked":
		return "Drill incident " + e.Ref + " linked"
	case "reopened":
		return "Drill reopened: " + e.Text
	case store.DrillFinished:
		return "Drill finished"
	case store.DrillAbandoned:
		return "Drill abandoned: " + e.Text
	}
	return strings.TrimSpace(e.Kind + " " + e.Ref + " " + e.Value + " " + e.Text)
}

// Markdown renders the report, with wall-clock times in loc. All stored
// text is stripped of control sequences; table cells have their pipes
// escaped.
func (rep *Report) Markdown(loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	line := safetext.Line
	cell := func(s string) string {
		if s == "" {
			return "—"
		}
		return strings.ReplaceAll(line(s), "|", `\|`)
	}
	t := func(tm time.Time) string {
		if tm.IsZero() {
			return "—"
		}
		return tm.In(loc).Format("2006-01-02 15:04 MST")
	}
	o := func(p *Offset) string {
		if p == nil {
			return "—"
		}
		return p.String()
	}
	sc, run, score := rep.Scenario, rep.Run, rep.Score

	fmt.Fprintf(&b, "# After-action report: %s\n\n", line(sc.Title))
	b.WriteString("> **EXERCISE** — a table-top drill. Nothing here happened for real.\n\n")
	b.WriteString("| | |\n|---|---|\n")
	rows := [][2]string{
		{"Drill", run.ID}, {"Scenario", sc.ID + " v" + sc.Version}, {"Exercise type", cmpOr(sc.Type, "tabletop")},
		{"Runbook", sc.Runbook}, {"Status", run.Status}, {"Clock", modeText(run.Mode, run.Speed)},
		{"Scenario time at T+0", t(run.Epoch)}, {"Started", t(run.StartedAt)}, {"Ended", t(run.EndedAt)},
		{"Facilitator", run.CreatedBy},
	}
	if run.EndReason != "" {
		rows = append(rows, [2]string{"Abandoned because", run.EndReason})
	}
	if rep.Incident != nil {
		in := rep.Incident
		rows = append(rows, [2]string{"Drill incident", fmt.Sprintf("%s (%s, %s): %s", in.ID, in.Severity, in.Status, in.Title)})
	} else {
		rows = append(rows, [2]string{"Drill incident", "never declared"})
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], cell(r[1]))
	}
	fmt.Fprintf(&b, "\nReport generated %s by %s.\n", t(rep.GeneratedAt), line(rep.GeneratedBy))

	b.WriteString("\n## Exercise overview\n\n")
	b.WriteString(strings.TrimSpace(safetext.Clean(sc.Summary)) + "\n")
	b.WriteString("\n### Objectives\n\n| Objective | Core capability | Runbook |\n|---|---|---|\n")
	for _, ob := range sc.Objectives {
		fmt.Fprintf(&b, "| **%s** %s | %s | %s |\n", cell(ob.ID), cell(ob.Text), cell(ob.Capability), cell(ob.Runbook))
	}
	if len(sc.Participants) > 0 {
		b.WriteString("\n### Participants\n\n")
		for _, p := range sc.Participants {
			fmt.Fprintf(&b, "- **%s**: %s\n", line(p.Role), line(p.Who))
		}
	}
	if len(sc.Assumptions) > 0 {
		b.WriteString("\n### Assumptions and artificialities\n\n")
		for _, a := range sc.Assumptions {
			fmt.Fprintf(&b, "- %s\n", line(a))
		}
	}

	b.WriteString("\n## Results\n\n")
	fmt.Fprintf(&b, "Expected actions: **%d met**, **%d late**, **%d missed**", score.Met, score.Late, score.Missed)
	if score.Pending > 0 {
		fmt.Fprintf(&b, ", %d pending", score.Pending)
	}
	fmt.Fprintf(&b, " (scored at %s).\n", score.At)
	b.WriteString("\n### Objectives (HSEEP ratings)\n\n| Objective | Capability | Rating | Suggested | Met / late / missed | Rated by | Note |\n|---|---|---|---|---|---|---|\n")
	for _, ob := range score.Objectives {
		rating := "not rated"
		if ob.Rating != "" {
			rating = fmt.Sprintf("**%s** — %s", ob.Rating, ob.RatingText)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d / %d / %d | %s | %s |\n", cell(ob.ID), cell(ob.Capability), rating,
			cell(string(ob.Suggested)), ob.Met, ob.Late, ob.Missed, cell(ob.RatedBy), cell(ob.Note))
	}
	b.WriteString("\n### Expected actions\n\n| Inject | Expected action | Target | Done | Result |\n|---|---|---|---|---|\n")
	for _, e := range score.Expectations {
		result := string(e.Result)
		switch {
		case e.Result == Late && e.Delay != nil:
			result = fmt.Sprintf("late by %s", strings.TrimPrefix(e.Delay.String(), "T+"))
		case e.Overdue:
			result = "pending, overdue"
		}
		if e.Manual {
			result += fmt.Sprintf(" (marked by %s%s)", line(e.MarkedBy), prefixed(": ", line(e.Note)))
		}
		fmt.Fprintf(&b, "| %s | %s (`%s`) | %s | %s | %s |\n", cell(e.Inject), cell(e.Description), e.ID, o(e.Due), o(e.Done), cell(result))
	}
	b.WriteString("\n### Response times\n\n| Measure | Time | Target | Result |\n|---|---|---|---|\n")
	for _, ts := range score.Times {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", ts.Label, o(ts.At), o(ts.Target), cell(string(ts.Result)))
	}
	b.WriteString("\n### Regulatory and contractual clocks (drill clock)\n\n")
	if len(score.Clocks) == 0 {
		b.WriteString("No clock applied to the drill incident under the configured policy.\n")
	} else {
		b.WriteString("| Obligation | Regime | Started | Due | Submitted | State |\n|---|---|---|---|---|---|\n")
		for _, c := range score.Clocks {
			state := c.State
			if c.Late {
				state += ", late"
			}
			fmt.Fprintf(&b, "| %s — %s | %s | %s | %s | %s | %s |\n", cell(c.Obligation), cell(c.Title), cell(c.Regime),
				o(c.Start), o(c.Due), o(c.Submitted), state)
		}
	}

	b.WriteString("\n## Timeline\n\n| Drill time | Scenario clock | Source | Who | What |\n|---|---|---|---|---|\n")
	for _, it := range rep.Timeline {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", it.Offset, t(it.At), it.Source, cell(it.Actor), cell(it.Text))
	}
	var unplayed []string
	for _, in := range rep.Injects {
		if !in.Delivered {
			unplayed = append(unplayed, fmt.Sprintf("%s (%s)", in.ID, in.Offset))
		}
	}
	if len(unplayed) > 0 {
		fmt.Fprintf(&b, "\nInjects not played: %s.\n", strings.Join(unplayed, ", "))
	}

	b.WriteString("\n## Observations\n\n")
	if len(rep.Observations) == 0 {
		b.WriteString("None recorded.\n")
	}
	for _, ob := range rep.Observations {
		about := ""
		if ob.Objective != "" {
			about = " (objective " + line(ob.Objective) + ")"
		}
		fmt.Fprintf(&b, "- %s, %s%s: %s\n", ob.Offset, line(ob.Actor), about, line(ob.Text))
	}

	b.WriteString("\n## Hot wash\n\n### Strengths\n\n")
	hotwash := func(es []store.HotWashEntry) {
		if len(es) == 0 {
			b.WriteString("None recorded.\n")
		}
		for _, e := range es {
			fmt.Fprintf(&b, "- %s\n", line(e.Text))
		}
	}
	hotwash(rep.Strengths)
	b.WriteString("\n### Areas for improvement\n\n")
	hotwash(rep.Improvements)
	if len(sc.HotWash) > 0 {
		b.WriteString("\n### Hot-wash questions\n\n")
		for _, q := range sc.HotWash {
			fmt.Fprintf(&b, "- %s\n", line(q))
		}
	}

	b.WriteString("\n## Improvement plan\n\n")
	if len(rep.ImprovementPlan) == 0 {
		b.WriteString("No action items recorded.\n")
	} else {
		b.WriteString("| # | Corrective action | Area for improvement | Capability | Element | Owner | Due | Status |\n|---|---|---|---|---|---|---|---|\n")
		for _, a := range rep.ImprovementPlan {
			status := a.Status
			if a.Status == store.ActionClosed {
				status = fmt.Sprintf("closed %s by %s: %s", t(a.ClosedAt), line(a.ClosedBy), line(a.CloseNote))
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", a.ID, cell(a.Text), cell(a.Improvement),
				cell(a.Capability), cell(a.Element), cell(a.Owner), a.Due, cell(status))
		}
	}
	return b.String()
}
