package tabletop

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// Report is the after-action report and improvement plan of a run, in the
// shape of the HSEEP AAR/IP: an executive summary; the exercise overview;
// the analysis of each objective and its core capability with its rating,
// strengths and areas for improvement tied to what was observed; the
// results (expected actions, response times, clocks) and the timeline;
// the improvement plan; and the participants' feedback.
type Report struct {
	Exercise        string               `json:"exercise"` // the EXERCISE note
	GeneratedAt     time.Time            `json:"generated_at"`
	GeneratedBy     string               `json:"generated_by"`
	Run             store.DrillRun       `json:"run"`
	Scenario        *Scenario            `json:"scenario"`
	Summary         ExecutiveSummary     `json:"executive_summary"`
	Overview        ExerciseOverview     `json:"overview"`
	Analysis        []ObjectiveAnalysis  `json:"analysis"`
	Incidents       []IncidentSummary    `json:"incidents"`
	Injects         []InjectRecord       `json:"injects"`
	Timeline        []TimelineItem       `json:"timeline"`
	Score           Score                `json:"score"`
	Observations    []Observation        `json:"observations"`
	Strengths       []store.HotWashEntry `json:"strengths"`
	Improvements    []store.HotWashEntry `json:"improvements"`
	ImprovementPlan []PlanItem           `json:"improvement_plan"`
	Feedback        []store.Feedback     `json:"feedback"`
}

// ExecutiveSummary is what leadership reads first.
type ExecutiveSummary struct {
	Headline     string   `json:"headline"`
	Ratings      []string `json:"ratings"`      // "O1 S: Performed with some challenges"
	Strengths    []string `json:"strengths"`    // the major ones
	Improvements []string `json:"improvements"` // the primary ones, with their root causes
	Plan         string   `json:"plan"`         // how many corrective actions, owned by whom
}

// ExerciseOverview is the report's exercise overview.
type ExerciseOverview struct {
	Name          string    `json:"name"`
	Type          string    `json:"type"`
	Scope         string    `json:"scope,omitempty"`
	MissionAreas  []string  `json:"mission_areas,omitempty"`
	Capabilities  []string  `json:"core_capabilities"`
	Threat        string    `json:"threat,omitempty"`
	Sponsor       string    `json:"sponsor,omitempty"`
	Location      string    `json:"location,omitempty"`
	Organisations []string  `json:"organisations,omitempty"`
	Contacts      []Contact `json:"points_of_contact,omitempty"`
	// The dates on the drill clock (the scenario's time) and on the wall
	// clock (when it was played).
	DrillStart time.Time `json:"drill_start"`
	DrillEnd   time.Time `json:"drill_end"`
	Played     Offset    `json:"played"` // drill time played
	WallStart  time.Time `json:"wall_start"`
	WallEnd    time.Time `json:"wall_end,omitzero"`
	Mode       string    `json:"mode"`
}

// ObjectiveAnalysis is the analysis of one objective and its core
// capability: the rating, the critical tasks and expected actions that
// evidence it, and the strengths and areas for improvement noted about
// it.
type ObjectiveAnalysis struct {
	Objective    ObjectiveScore     `json:"objective"`
	Expectations []ExpectationScore `json:"expectations"` // critical tasks first
	Strengths    []Finding          `json:"strengths"`
	Improvements []Finding          `json:"improvements"`
}

// Finding is a strength or an area for improvement, from the hot wash or
// an evaluator's observation, with the observations it rests on.
type Finding struct {
	Text         string        `json:"text"`
	RootCause    string        `json:"root_cause,omitempty"`
	Source       string        `json:"source"` // hot wash | observation
	Actor        string        `json:"actor"`
	Observations []Observation `json:"observations,omitempty"`
}

// PlanItem is a row of the improvement plan, numbered within the report.
type PlanItem struct {
	Number int `json:"number"`
	store.ActionItem
	OwnerName string `json:"owner_name"`
	Objective string `json:"objective_text,omitempty"`
}

// IncidentSummary is a drill incident as the report shows it.
type IncidentSummary struct {
	ID       string `json:"id"`
	Module   string `json:"module,omitempty"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Category string `json:"category,omitempty"`
	// ClosedWithRun: the incident was closed when the run ended, not by
	// the team.
	ClosedWithRun bool `json:"closed_with_run,omitempty"`
}

// InjectRecord is an inject of the scenario and whether it was played.
type InjectRecord struct {
	ID        string `json:"id"`
	Module    string `json:"module,omitempty"`
	Channel   string `json:"channel"`
	From      string `json:"from,omitempty"`
	Offset    Offset `json:"offset"`
	Delivered bool   `json:"delivered"`
	Content   string `json:"content"`
}

// TimelineItem is one line of the drill's merged timeline: the scenario's
// injects, the team's actions on the drill incidents and the
// facilitator's clock changes, marks and ratings.
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
	Number    int       `json:"number"` // 1 is the first noted in the run
	At        time.Time `json:"at"`
	Offset    Offset    `json:"offset"`
	Actor     string    `json:"actor"`
	Objective string    `json:"objective,omitempty"`
	Kind      string    `json:"kind,omitempty"`   // strength | improvement | "" (a note)
	Inject    string    `json:"inject,omitempty"` // the latest inject when it was noted
	Text      string    `json:"text"`
}

// Report builds the after-action report. Reading the drill incidents'
// timelines for it is audited as an export by actor.
func (r *Run) Report(ctx context.Context, actor identity.Actor) (*Report, error) {
	r.mu.Lock()
	rec := r.rec
	delivered := slices.Clone(r.delivered)
	r.mu.Unlock()
	sc, err := r.Score(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{Exercise: incident.ExerciseNote, GeneratedAt: r.deps.real().Now().UTC(), GeneratedBy: actor.ID(), Run: rec,
		Scenario: r.sc, Score: sc, Incidents: []IncidentSummary{}, Injects: []InjectRecord{}, Timeline: []TimelineItem{},
		Observations: []Observation{}, Strengths: []store.HotWashEntry{}, Improvements: []store.HotWashEntry{},
		ImprovementPlan: []PlanItem{}, Feedback: []store.Feedback{}, Analysis: []ObjectiveAnalysis{}}
	epoch := rec.Epoch
	item := func(at time.Time, source, actor, kind, text string) {
		rep.Timeline = append(rep.Timeline, TimelineItem{At: at.UTC(), Offset: Offset(at.Sub(epoch)), Source: source,
			Actor: actor, Kind: kind, Text: text})
	}
	for i, in := range r.sc.Injects {
		rep.Injects = append(rep.Injects, InjectRecord{ID: in.ID, Module: in.Module, Channel: in.Channel, From: in.From,
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
			var data struct{ Kind string }
			_ = json.Unmarshal([]byte(e.Data), &data)
			o := Observation{Number: len(rep.Observations) + 1, At: e.DrillAt.UTC(), Offset: Offset(e.DrillAt.Sub(epoch)),
				Actor: e.Actor, Objective: e.Ref, Kind: data.Kind, Inject: e.Value, Text: e.Text}
			rep.Observations = append(rep.Observations, o)
			item(e.DrillAt, "facilitator", e.Actor, "observation", fmt.Sprintf("Observation %d: %s", o.Number, e.Text))
		case "mark":
			item(e.DrillAt, "facilitator", e.Actor, "mark", fmt.Sprintf("Marked %s %s%s", e.Ref, e.Value, prefixed(": ", e.Text)))
		case "rating":
			item(e.DrillAt, "facilitator", e.Actor, "rating", fmt.Sprintf("Rated objective %s %s (%s)%s", e.Ref, e.Value,
				RatingText[Rating(e.Value)], prefixed(": ", e.Text)))
		case "declared":
			// The team's own "declared" entry says it, once.
		default:
			item(e.DrillAt, "facilitator", e.Actor, e.Kind, eventText(e))
		}
	}
	if err := r.reportIncidents(ctx, actor, rep, item); err != nil {
		return nil, err
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
	if err := r.reportPlan(ctx, rep); err != nil {
		return nil, err
	}
	if rep.Feedback, err = r.deps.Store.Feedback(ctx, rec.ID); err != nil {
		return nil, err
	}
	rep.Overview = overview(r.sc, rec, sc)
	rep.Analysis = analyse(rep)
	rep.Summary = summarise(rep)
	return rep, nil
}

// reportIncidents adds the drill incidents and their timelines.
func (r *Run) reportIncidents(ctx context.Context, actor identity.Actor, rep *Report, item func(time.Time, string, string, string, string)) error {
	ids := map[string]string{"": rep.Run.IncidentID}
	byModule, err := r.deps.Store.DrillIncidents(ctx, rep.Run.ID)
	if err != nil {
		return err
	}
	for m, id := range byModule {
		ids[m] = id
	}
	for _, module := range sortedKeys(ids) {
		id := ids[module]
		if id == "" {
			continue
		}
		ex, err := r.svc.Export(ctx, actor, id, "")
		if err != nil {
			return err
		}
		in := ex.Incident
		s := IncidentSummary{ID: in.ID, Module: module, Title: in.Title, Severity: in.Severity, Status: in.Status, Category: in.Category}
		for _, e := range ex.Timeline {
			if e.Kind == "closed" && strings.Contains(string(e.Data), `"drill_end"`) {
				s.ClosedWithRun = true
			}
			item(e.At, "team", e.Actor, e.Kind, e.Summary)
		}
		rep.Incidents = append(rep.Incidents, s)
	}
	return nil
}

// reportPlan numbers the improvement plan within the report and names the
// owners.
func (r *Run) reportPlan(ctx context.Context, rep *Report) error {
	items, err := r.deps.Store.ActionItems(ctx, store.ActionItemFilter{RunID: rep.Run.ID})
	if err != nil {
		return err
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	for i, a := range items {
		p := PlanItem{Number: i + 1, ActionItem: a, OwnerName: a.Owner}
		if person, err := r.deps.Store.Person(ctx, a.Owner); err == nil && person.Name != "" {
			p.OwnerName = person.Name
		}
		if o, ok := r.sc.Objective(a.ObjectiveID); ok {
			p.Objective = o.Text
		}
		rep.ImprovementPlan = append(rep.ImprovementPlan, p)
	}
	return nil
}

func overview(sc *Scenario, rec store.DrillRun, s Score) ExerciseOverview {
	o := ExerciseOverview{Name: sc.Title, Type: cmpOr(sc.Type, "tabletop"), DrillStart: rec.Epoch.UTC(),
		DrillEnd: rec.Epoch.Add(time.Duration(s.At)).UTC(), Played: s.At, WallStart: rec.StartedAt.UTC(), WallEnd: rec.EndedAt.UTC(),
		Mode: modeText(rec.Mode, rec.Speed), Capabilities: []string{}}
	if rec.EndedAt.IsZero() {
		o.WallEnd = time.Time{}
	}
	for _, ob := range sc.Objectives {
		if !slices.Contains(o.Capabilities, ob.Capability) {
			o.Capabilities = append(o.Capabilities, ob.Capability)
		}
	}
	if ov := sc.Overview; ov != nil {
		o.Scope, o.MissionAreas, o.Threat, o.Sponsor, o.Location = ov.Scope, ov.MissionAreas, ov.Threat, ov.Sponsor, ov.Location
		o.Organisations, o.Contacts = ov.Organisations, ov.Contacts
	}
	return o
}

// analyse gathers, per objective, its score, the expected actions that
// evidence it (critical tasks first) and the findings about it; findings
// about no objective form a last, general section.
func analyse(rep *Report) []ObjectiveAnalysis {
	obs := func(nums []int64) []Observation {
		var out []Observation
		for _, n := range nums {
			if n >= 1 && int(n) <= len(rep.Observations) {
				out = append(out, rep.Observations[n-1])
			}
		}
		return out
	}
	sections := map[string]*ObjectiveAnalysis{}
	var out []*ObjectiveAnalysis
	for _, os := range rep.Score.Objectives {
		a := &ObjectiveAnalysis{Objective: os, Expectations: []ExpectationScore{}, Strengths: []Finding{}, Improvements: []Finding{}}
		sections[os.ID] = a
		out = append(out, a)
	}
	general := &ObjectiveAnalysis{Objective: ObjectiveScore{Text: "Findings about the exercise as a whole"},
		Expectations: []ExpectationScore{}, Strengths: []Finding{}, Improvements: []Finding{}}
	section := func(id string) *ObjectiveAnalysis {
		if a, ok := sections[id]; ok {
			return a
		}
		return general
	}
	for _, e := range criticalFirst(rep.Score.Expectations) {
		if a, ok := sections[e.Objective]; ok {
			a.Expectations = append(a.Expectations, e)
		}
	}
	// Observations tied to a hot-wash finding are shown with it; the
	// others that judge are findings of their own.
	cited := map[int64]bool{}
	for _, e := range rep.Improvements {
		for _, n := range e.Observations {
			cited[n] = true
		}
	}
	for _, e := range rep.Strengths {
		a := section(e.ObjectiveID)
		a.Strengths = append(a.Strengths, Finding{Text: e.Text, Source: "hot wash", Actor: e.Actor})
	}
	for _, e := range rep.Improvements {
		a := section(e.ObjectiveID)
		a.Improvements = append(a.Improvements, Finding{Text: e.Text, RootCause: e.RootCause, Source: "hot wash",
			Actor: e.Actor, Observations: obs(e.Observations)})
	}
	for _, o := range rep.Observations {
		if cited[int64(o.Number)] {
			continue
		}
		f := Finding{Text: o.Text, Source: "observation", Actor: o.Actor, Observations: []Observation{o}}
		a := section(o.Objective)
		switch o.Kind {
		case ObserveStrength:
			a.Strengths = append(a.Strengths, f)
		case ObserveImprovement:
			a.Improvements = append(a.Improvements, f)
		}
	}
	result := make([]ObjectiveAnalysis, 0, len(out)+1)
	for _, a := range out {
		result = append(result, *a)
	}
	if len(general.Strengths)+len(general.Improvements) > 0 {
		result = append(result, *general)
	}
	return result
}

// criticalFirst orders expectations with the critical tasks first, each
// group in scenario order.
func criticalFirst(es []ExpectationScore) []ExpectationScore {
	out := slices.Clone(es)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Critical && !out[j].Critical })
	return out
}

func summarise(rep *Report) ExecutiveSummary {
	s := ExecutiveSummary{Headline: rep.Score.Headline, Ratings: []string{}, Strengths: []string{}, Improvements: []string{}}
	for _, o := range rep.Score.Objectives {
		r := "not rated"
		if o.Rating != "" {
			r = string(o.Rating) + ": " + o.RatingText
		}
		s.Ratings = append(s.Ratings, fmt.Sprintf("%s (%s) %s", o.ID, o.Capability, r))
	}
	for _, a := range rep.Analysis {
		for _, f := range a.Strengths {
			s.Strengths = append(s.Strengths, f.Text)
		}
		for _, f := range a.Improvements {
			text := f.Text
			if f.RootCause != "" {
				text += " (root cause: " + f.RootCause + ")"
			}
			s.Improvements = append(s.Improvements, text)
		}
	}
	s.Strengths, s.Improvements = s.Strengths[:min(3, len(s.Strengths))], s.Improvements[:min(3, len(s.Improvements))]
	owners := map[string]bool{}
	var names []string
	for _, p := range rep.ImprovementPlan {
		if !owners[p.OwnerName] {
			owners[p.OwnerName] = true
			names = append(names, p.OwnerName)
		}
	}
	switch n := len(rep.ImprovementPlan); n {
	case 0:
		s.Plan = "No corrective action was recorded."
	default:
		s.Plan = fmt.Sprintf("%d corrective action(s), owned by %s: see the improvement plan.", n, strings.Join(names, ", "))
	}
	return s
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
	w := &mdWriter{loc: loc}
	rep.mdTitle(w)
	rep.mdSummary(w)
	rep.mdOverview(w)
	rep.mdAnalysis(w)
	rep.mdResults(w)
	rep.mdTimeline(w)
	rep.mdPlan(w)
	rep.mdFeedback(w)
	rep.mdAppendix(w)
	return w.String()
}

// mdWriter writes Markdown with safe text.
type mdWriter struct {
	strings.Builder
	loc *time.Location
}

func (w *mdWriter) f(format string, args ...any) { fmt.Fprintf(w, format, args...) }

func (w *mdWriter) line(s string) string { return safetext.Line(s) }

func (w *mdWriter) cell(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return strings.ReplaceAll(safetext.Line(s), "|", `\|`)
}

func (w *mdWriter) t(tm time.Time) string {
	if tm.IsZero() {
		return "—"
	}
	return tm.In(w.loc).Format("Mon 2006-01-02 15:04 MST")
}

func (w *mdWriter) wall(tm time.Time) string {
	if tm.IsZero() {
		return "—"
	}
	return tm.In(w.loc).Format("2006-01-02 15:04:05 MST")
}

func (w *mdWriter) o(p *Offset) string {
	if p == nil {
		return "—"
	}
	return p.String()
}

func (w *mdWriter) table(head []string, rows [][]string) {
	w.f("| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		w.f("| %s |\n", strings.Join(r, " | "))
	}
}

func (w *mdWriter) list(items []string, none string) {
	if len(items) == 0 {
		w.f("%s\n", none)
	}
	for _, it := range items {
		w.f("- %s\n", w.line(it))
	}
}

func (rep *Report) mdTitle(w *mdWriter) {
	sc, run := rep.Scenario, rep.Run
	w.f("# After-action report and improvement plan: %s\n\n", w.line(sc.Title))
	w.f("> **EXERCISE** — a table-top drill, %s. Nothing here happened for real.\n\n", run.ID)
	rows := [][]string{{"Drill", run.ID}, {"Scenario", sc.ID + " v" + sc.Version}, {"Status", run.Status}}
	if run.EndReason != "" {
		rows = append(rows, []string{"Abandoned because", w.cell(run.EndReason)})
	}
	rows = append(rows, []string{"Facilitator", w.cell(run.CreatedBy)},
		[]string{"Report", fmt.Sprintf("generated %s by %s", w.wall(rep.GeneratedAt), w.cell(rep.GeneratedBy))})
	for i := range rows {
		rows[i][1] = w.cell(rows[i][1])
	}
	w.table([]string{"", ""}, rows)
}

func (rep *Report) mdSummary(w *mdWriter) {
	s := rep.Summary
	w.f("\n## Executive summary\n\n**%s**\n\n", w.line(s.Headline))
	w.f("%s\n\n", w.line(firstParagraph(rep.Scenario.Summary)))
	w.f("Objectives as rated:\n\n")
	w.list(s.Ratings, "None.")
	w.f("\nMajor strengths:\n\n")
	w.list(s.Strengths, "None recorded.")
	w.f("\nPrimary areas for improvement:\n\n")
	w.list(s.Improvements, "None recorded.")
	w.f("\n%s\n", w.line(s.Plan))
}

func (rep *Report) mdOverview(w *mdWriter) {
	ov := rep.Overview
	w.f("\n## 1. Exercise overview\n\n")
	played := fmt.Sprintf("T+0 is %s; play reached %s (%s), %s", w.t(ov.DrillStart), ov.Played, w.t(ov.DrillEnd), ov.Mode)
	wall := fmt.Sprintf("started %s", w.wall(ov.WallStart))
	if !ov.WallEnd.IsZero() {
		wall += fmt.Sprintf(", ended %s (%s)", w.wall(ov.WallEnd), ov.WallEnd.Sub(ov.WallStart).Round(time.Second))
	}
	var contacts []string
	for _, c := range ov.Contacts {
		parts := []string{c.Name}
		for _, p := range []string{c.Role, c.Organisation, c.Contact} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		contacts = append(contacts, strings.Join(parts, ", "))
	}
	rows := [][]string{
		{"Exercise name", ov.Name}, {"Exercise type", ov.Type},
		{"Dates (drill clock)", played}, {"Dates (wall clock)", wall},
		{"Scope", ov.Scope}, {"Mission areas", strings.Join(ov.MissionAreas, ", ")},
		{"Core capabilities", strings.Join(ov.Capabilities, ", ")}, {"Threat or hazard", ov.Threat},
		{"Sponsor", ov.Sponsor}, {"Location", ov.Location},
		{"Participating organisations", strings.Join(ov.Organisations, ", ")},
		{"Points of contact", strings.Join(contacts, "; ")},
	}
	for i := range rows {
		rows[i][1] = w.cell(rows[i][1])
	}
	w.table([]string{"", ""}, rows)
	w.f("\n### Objectives\n\n")
	var orows [][]string
	for _, o := range rep.Scenario.Objectives {
		orows = append(orows, []string{w.cell(o.ID), w.cell(o.Text), w.cell(o.Capability)})
	}
	w.table([]string{"Objective", "", "Core capability"}, orows)
	w.f("\n### Scenario summary\n\n%s\n", strings.TrimSpace(safetext.Clean(rep.Scenario.Summary)))
	if len(rep.Scenario.Modules) > 0 {
		w.f("\n### Modules\n\n")
		for i, m := range rep.Scenario.Modules {
			w.f("%d. **%s** (%s)%s\n", i+1, w.line(m.Title), m.ID, prefixed(" — ", w.line(firstParagraph(m.Summary))))
		}
	}
	if len(rep.Scenario.Participants) > 0 {
		w.f("\n### Participants\n\n")
		for _, p := range rep.Scenario.Participants {
			w.f("- **%s**: %s\n", w.line(p.Role), w.line(p.Who))
		}
	}
}

func (rep *Report) mdAnalysis(w *mdWriter) {
	w.f("\n## 2. Analysis of core capabilities\n\n" +
		"Each objective with its core capability: the facilitator's rating (P performed without challenges, S with some\n" +
		"challenges, M with major challenges, U unable to be performed), the critical tasks and expected actions that\n" +
		"evidence it, and the strengths and areas for improvement observed, with their root causes.\n")
	for _, a := range rep.Analysis {
		o := a.Objective
		if o.ID == "" {
			w.f("\n### %s\n\n", w.line(o.Text))
		} else {
			rating := "not rated"
			if o.Rating != "" {
				rating = fmt.Sprintf("**%s** — %s", o.Rating, o.RatingText)
			}
			w.f("\n### %s: %s\n\nCore capability: %s. Rating: %s", o.ID, w.line(o.Text), w.line(o.Capability), rating)
			if o.RatedBy != "" {
				w.f(" (by %s%s)", w.line(o.RatedBy), prefixed(": ", w.line(o.Note)))
			}
			if o.Suggested != "" && o.Suggested != o.Rating {
				w.f("; the expected actions suggest %s", o.Suggested)
			}
			w.f(".\n\n")
			if len(a.Expectations) > 0 {
				var rows [][]string
				for _, e := range a.Expectations {
					task := w.cell(e.Description)
					if e.Critical {
						task = "**Critical:** " + task
					}
					rows = append(rows, []string{task, w.o(e.Due), w.o(e.Done), w.cell(resultText(e))})
				}
				w.table([]string{"Task", "Target", "Done", "Result"}, rows)
				w.f("\n")
			}
		}
		w.f("Strengths:\n\n")
		if len(a.Strengths) == 0 {
			w.f("None recorded.\n")
		}
		for _, f := range a.Strengths {
			w.f("- %s%s\n", w.line(f.Text), w.observations(f))
		}
		w.f("\nAreas for improvement:\n\n")
		if len(a.Improvements) == 0 {
			w.f("None recorded.\n")
		}
		for _, f := range a.Improvements {
			w.f("- %s\n  - Root cause: %s\n", w.line(f.Text), w.line(cmpOr(f.RootCause, "not analysed")))
			for _, ob := range f.Observations {
				w.f("  - Observation %d (%s, %s): %s\n", ob.Number, ob.Offset, w.line(ob.Actor), w.line(ob.Text))
			}
		}
	}
}

// observations names what a strength rests on.
func (w *mdWriter) observations(f Finding) string {
	if len(f.Observations) == 0 {
		return ""
	}
	var parts []string
	for _, ob := range f.Observations {
		parts = append(parts, fmt.Sprintf("observation %d, %s, %s", ob.Number, ob.Offset, w.line(ob.Actor)))
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func resultText(e ExpectationScore) string {
	result := string(e.Result)
	switch {
	case e.Result == Late && e.Delay != nil:
		result = "late by " + strings.TrimPrefix(e.Delay.String(), "T+")
	case e.Overdue:
		result = "pending, overdue"
	}
	if e.Manual {
		result += fmt.Sprintf(" (marked by %s%s)", e.MarkedBy, prefixed(": ", e.Note))
	}
	return result
}

func (rep *Report) mdResults(w *mdWriter) {
	score := rep.Score
	w.f("\n## 3. Results\n\n%s (Scored at %s.)\n\n", w.line(score.Headline), score.At)
	for _, in := range rep.Incidents {
		status := in.Status
		if in.ClosedWithRun {
			status = "closed with the drill"
		}
		w.f("Drill incident %s%s: %s, %s — %s.\n", in.ID, prefixed(" (module ", in.Module)+map[bool]string{true: ")", false: ""}[in.Module != ""],
			in.Severity, status, w.line(in.Title))
	}
	if len(rep.Incidents) == 0 {
		w.f("The drill incident was never declared.\n")
	}
	w.f("\n### Expected actions (critical tasks first)\n\n")
	var rows [][]string
	for _, e := range criticalFirst(score.Expectations) {
		what := fmt.Sprintf("%s (`%s`)", w.cell(e.Description), e.ID)
		if e.Critical {
			what = "**Critical:** " + what
		}
		rows = append(rows, []string{w.cell(e.Inject), what, w.o(e.Due), w.o(e.Done), w.cell(resultText(e))})
	}
	w.table([]string{"Inject", "Expected action", "Target", "Done", "Result"}, rows)
	w.f("\n### Response times\n\n")
	rows = nil
	for _, ts := range score.Times {
		rows = append(rows, []string{ts.Label, w.o(ts.At), w.o(ts.Target), w.cell(string(ts.Result))})
	}
	w.table([]string{"Measure", "Time", "Target", "Result"}, rows)
	w.f("\n### Regulatory and contractual clocks (drill clock)\n\n")
	if len(score.Clocks) == 0 {
		w.f("No clock applied to the drill incident under the configured policy.\n")
		return
	}
	w.f("A notice approved in the drill counts as sent to its audience then, as in the expected actions.\n\n")
	rows = nil
	for _, c := range score.Clocks {
		state := c.State
		if c.Late {
			state += ", late"
		}
		rows = append(rows, []string{w.cell(c.Obligation) + " — " + w.cell(c.Title) + prefixed(" (", c.Incident) +
			map[bool]string{true: ")", false: ""}[c.Incident != ""], w.cell(c.Regime), w.o(c.Start), w.o(c.Due),
			w.o(c.Submitted), w.cell(c.Via), state})
	}
	w.table([]string{"Obligation", "Regime", "Started", "Due", "Submitted", "How", "State"}, rows)
}

func (rep *Report) mdTimeline(w *mdWriter) {
	w.f("\n## 4. Timeline\n\n")
	var rows [][]string
	for _, it := range rep.Timeline {
		rows = append(rows, []string{it.Offset.String(), w.t(it.At), it.Source, w.cell(it.Actor), w.cell(it.Text)})
	}
	w.table([]string{"Drill time", "Scenario clock", "Source", "Who", "What"}, rows)
	var unplayed []string
	for _, in := range rep.Injects {
		if !in.Delivered {
			unplayed = append(unplayed, fmt.Sprintf("%s (%s)", in.ID, in.Offset))
		}
	}
	if len(unplayed) > 0 {
		w.f("\nInjects not played (their expected actions are not scored): %s.\n", strings.Join(unplayed, ", "))
	}
}

func (rep *Report) mdPlan(w *mdWriter) {
	w.f("\n## Appendix A: Improvement plan\n\n")
	if len(rep.ImprovementPlan) == 0 {
		w.f("No corrective action recorded.\n")
		return
	}
	var rows [][]string
	for _, p := range rep.ImprovementPlan {
		status := p.Status
		if p.Status == store.ActionClosed {
			status = fmt.Sprintf("closed %s by %s: %s", w.wall(p.ClosedAt), w.line(p.ClosedBy), w.line(p.CloseNote))
		}
		objective := p.ObjectiveID
		if p.Objective != "" {
			objective += " " + p.Objective
		}
		rows = append(rows, []string{fmt.Sprint(p.Number), w.cell(objective), w.cell(p.Capability), w.cell(p.Improvement), w.cell(p.Text),
			w.cell(p.Element), w.cell(p.Organisation), w.cell(p.OwnerName), w.cell(p.Start), w.cell(p.Due), w.cell(status)})
	}
	w.table([]string{"#", "Objective", "Core capability", "Area for improvement", "Corrective action", "Element (POETE)",
		"Responsible organisation", "Owner", "Start", "Completion", "Status"}, rows)
	w.f("\nItems are tracked across drills with `irtui drill actions`; the numbers above are this report's.\n")
}

func (rep *Report) mdFeedback(w *mdWriter) {
	w.f("\n## Appendix B: Participant feedback\n\n")
	if len(rep.Feedback) == 0 {
		w.f("None given.\n")
		return
	}
	total, n := 0, 0
	for _, f := range rep.Feedback {
		rating := "—"
		if f.Rating > 0 {
			rating = fmt.Sprintf("%d/5", f.Rating)
			total, n = total+f.Rating, n+1
		}
		w.f("- %s%s, %s: %s\n", w.line(f.Person), prefixed(" (", w.line(f.Role))+map[bool]string{true: ")", false: ""}[f.Role != ""],
			rating, w.line(f.Text))
	}
	if n > 0 {
		w.f("\nAverage rating of the exercise: %.1f of 5 (%d rating(s)).\n", float64(total)/float64(n), n)
	}
}

func (rep *Report) mdAppendix(w *mdWriter) {
	sc := rep.Scenario
	w.f("\n## Appendix C: Exercise material\n\n")
	if len(sc.Assumptions) > 0 {
		w.f("Assumptions and artificialities:\n\n")
		w.list(sc.Assumptions, "")
		w.f("\n")
	}
	w.f("Observations, in the order noted:\n\n")
	if len(rep.Observations) == 0 {
		w.f("None recorded.\n")
	}
	for _, ob := range rep.Observations {
		about := ""
		if ob.Objective != "" {
			about = ", objective " + w.line(ob.Objective)
		}
		kind := ""
		if ob.Kind != "" {
			kind = " [" + ob.Kind + "]"
		}
		w.f("%d. %s, %s%s%s: %s\n", ob.Number, ob.Offset, w.line(ob.Actor), about, kind, w.line(ob.Text))
	}
	if len(sc.HotWash) > 0 {
		w.f("\nHot-wash questions:\n\n")
		w.list(sc.HotWash, "")
	}
	if len(sc.References) > 0 {
		w.f("\nReferences:\n\n")
		w.list(sc.References, "")
	}
}
