package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/tabletop"
)

// drillModel is the facilitator's screen of a table-top drill: the drill
// clock, the injects delivered so far, and the score of every expected
// action, live. The run itself lives in the tabletop package; this screen
// lets time pass (Tick on the app's poll) and records what the facilitator
// decides.
type drillModel struct {
	run       *tabletop.Run
	status    tabletop.Status
	score     tabletop.Score
	delivered []tabletop.Delivered // as of the last tick; Update and View never lock the run
	cursor    int                  // the selected delivered inject, newest first
}

// Messages of the drill screen.
type (
	drillStartedMsg struct {
		run *tabletop.Run
		err error
	}
	drillTickMsg struct {
		status    tabletop.Status
		score     tabletop.Score
		fresh     []tabletop.Delivered
		delivered []tabletop.Delivered
		err       error
	}
)

// drillDeps are the tabletop package's dependencies, from the app's.
func (m *Model) drillDeps() tabletop.Deps {
	return m.deps.Drills(m.lib)
}

// startDrill asks for a scenario and a pace, then starts the run.
func (m *Model) startDrill() tea.Cmd {
	if m.drill != nil && m.drill.run != nil {
		m.screen = screenDrill
		return m.drillTick()
	}
	if m.lib == nil || m.scenarios == nil {
		return m.setStatus("Runbooks and scenarios are still loading…", false)
	}
	if m.deps.Drills == nil {
		return m.setStatus("Drills are not available here.", true)
	}
	if len(m.scenarios.Scenarios) == 0 {
		return m.setStatus("No drill scenarios are loaded: check `irtui runbooks lint`.", true)
	}
	var items []choice
	for _, sc := range m.scenarios.Scenarios {
		items = append(items, choice{value: sc.ID, label: clean(sc.Title), detail: sc.Runbook})
	}
	m.overlay = newChoice("Start a table-top drill: scenario", items, func(c choice) tea.Cmd {
		sc, _ := m.scenarios.Get(c.value)
		paces := []choice{
			{value: "manual", label: "Inject by inject", detail: "you release each inject"},
			{value: "1", label: "Real time"},
			{value: "10", label: "Ten times faster"},
			{value: "60", label: "An hour a minute"},
		}
		m.overlay = newChoice("Pace of "+clean(sc.Title), paces, func(p choice) tea.Cmd {
			opts := tabletop.Options{Speed: 1}
			if p.value == "manual" {
				opts.Manual = true
			} else {
				fmt.Sscan(p.value, &opts.Speed)
			}
			deps, actor := m.drillDeps(), m.deps.Actor
			return func() tea.Msg {
				run, err := tabletop.Start(m.ctx(), deps, sc, actor, opts)
				return drillStartedMsg{run: run, err: err}
			}
		})
		return nil
	})
	return nil
}

// drillTick lets drill time pass and reads the score; the app calls it on
// every poll while a drill is on screen.
func (m *Model) drillTick() tea.Cmd {
	if m.drill == nil || m.drill.run == nil {
		return nil
	}
	run, realNow := m.drill.run, m.deps.Clock.Now()
	return func() tea.Msg {
		fresh, err := run.Tick(m.ctx(), realNow)
		if err != nil {
			return drillTickMsg{err: err}
		}
		score, err := run.Score(m.ctx())
		return drillTickMsg{status: run.Status(realNow), score: score, fresh: fresh, delivered: run.Delivered(), err: err}
	}
}

func (dm *drillModel) apply(msg drillTickMsg) {
	dm.status, dm.score, dm.delivered = msg.status, msg.score, msg.delivered
	if len(msg.fresh) > 0 {
		dm.cursor = 0 // the newest inject
	}
}

// drillAct runs a facilitator action on the run and refreshes the screen.
func (m *Model) drillAct(done string, fn func(run *tabletop.Run) error) tea.Cmd {
	run := m.drill.run
	return tea.Batch(m.act(done, func() error { return fn(run) }), m.drillTick())
}

func (dm *drillModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	run := dm.run
	ctx, actor := m.ctx(), m.deps.Actor
	delivered := dm.delivered
	switch msg.String() {
	case "esc":
		m.screen = screenList
		return nil
	case "up", "k":
		dm.cursor = max(dm.cursor-1, 0)
	case "down", "j":
		dm.cursor = min(dm.cursor+1, max(len(delivered)-1, 0))
	case "space", " ":
		if dm.status.State == "paused" {
			return m.drillAct("Drill clock running.", func(r *tabletop.Run) error { return r.Resume(ctx, actor) })
		}
		return m.drillAct("Drill clock paused.", func(r *tabletop.Run) error { return r.Pause(ctx, actor) })
	case "n":
		return m.drillAct("Next inject released.", func(r *tabletop.Run) error { _, err := r.Next(ctx, actor); return err })
	case "t":
		if id := dm.status.IncidentID; id != "" {
			m.detail = newDetailModel(id)
			return m.loadDetail(id, true)
		}
		if rb := run.Runbook(); rb != nil {
			return m.startTriageOn(rb, run.Clock(), func(d incident.Declaration) (incident.Incident, error) { return run.Declare(ctx, actor, d) })
		}
		return m.setStatus("The scenario's runbook is not loaded.", true)
	case "o":
		m.overlay = newInput(m, "Observation (evaluator's note)", "what you saw, for the after-action report", true, func(text string) tea.Cmd {
			return m.drillAct("Observation recorded.", func(r *tabletop.Run) error { return r.Observe(ctx, actor, "", text) })
		})
	case "x":
		return dm.askMark(m)
	case "r":
		return dm.askRate(m)
	case "w", "i":
		kind, prompt := store.HotWashStrength, "Hot wash: what went well?"
		if msg.String() == "i" {
			kind, prompt = store.HotWashImprovement, "Hot wash: what should improve?"
		}
		m.overlay = newInput(m, prompt, "", true, func(text string) tea.Cmd {
			return m.drillAct("Recorded.", func(r *tabletop.Run) error { _, err := r.AddHotWash(ctx, actor, kind, text, ""); return err })
		})
	case "a":
		m.overlay = newInput(m, "Action item: OWNER | DUE (YYYY-MM-DD or 14d) | what", "alice | 14d | Keep an offline contact list", true, func(text string) tea.Cmd {
			parts := strings.SplitN(text, "|", 3)
			if len(parts) != 3 {
				return m.setStatus("Write OWNER | DUE | what, separated by |.", true)
			}
			in := tabletop.ActionItemInput{Owner: strings.TrimSpace(parts[0]), Due: strings.TrimSpace(parts[1]), Text: strings.TrimSpace(parts[2])}
			return m.drillAct("Action item added.", func(r *tabletop.Run) error { _, err := r.AddActionItem(ctx, actor, in); return err })
		})
	case "F":
		m.overlay = &confirmOverlay{prompt: "Finish the drill? What was not done counts as missed.", yes: func() tea.Cmd {
			return m.drillAct("Drill finished. Report: irtui drill report "+run.ID(), func(r *tabletop.Run) error { return r.Finish(ctx, actor) })
		}}
	}
	return nil
}

func (dm *drillModel) askMark(m *Model) tea.Cmd {
	var items []choice
	for _, e := range dm.score.Expectations {
		items = append(items, choice{value: e.ID, label: clean(e.Description), detail: string(e.Result)})
	}
	if len(items) == 0 {
		return nil
	}
	ctx, actor, run := m.ctx(), m.deps.Actor, dm.run
	m.overlay = newChoice("Mark an expected action", items, func(c choice) tea.Cmd {
		results := []choice{{value: string(tabletop.Met), label: "Met"}, {value: string(tabletop.Late), label: "Late"}, {value: string(tabletop.Missed), label: "Missed"}}
		m.overlay = newChoice("Result of "+c.label, results, func(r choice) tea.Cmd {
			return m.drillAct("Marked "+c.value+" "+r.value+".", func(*tabletop.Run) error {
				return run.Mark(ctx, actor, c.value, tabletop.Result(r.value), "marked by the facilitator")
			})
		})
		return nil
	})
	return nil
}

func (dm *drillModel) askRate(m *Model) tea.Cmd {
	var items []choice
	for _, o := range dm.run.Scenario().Objectives {
		items = append(items, choice{value: o.ID, label: clean(o.Text), detail: o.Capability})
	}
	if len(items) == 0 {
		return nil
	}
	ctx, actor, run := m.ctx(), m.deps.Actor, dm.run
	m.overlay = newChoice("Rate an objective (HSEEP)", items, func(c choice) tea.Cmd {
		ratings := []choice{
			{value: string(tabletop.Performed), label: "P — performed without challenges"},
			{value: string(tabletop.SomeChallenges), label: "S — performed with some challenges"},
			{value: string(tabletop.MajorChallenge), label: "M — performed with major challenges"},
			{value: string(tabletop.Unable), label: "U — unable to be performed"},
		}
		m.overlay = newChoice("Rating of "+c.value, ratings, func(r choice) tea.Cmd {
			return m.drillAct(c.value+" rated "+r.value+".", func(*tabletop.Run) error {
				return run.Rate(ctx, actor, c.value, tabletop.Rating(r.value), "")
			})
		})
		return nil
	})
	return nil
}

var drillKeys = []key.Binding{
	key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "pause/resume")),
	key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next inject")),
	key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "triage / open the drill incident")),
	key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "observe")),
	key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "mark expected action")),
	key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rate objective")),
	key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "went well")),
	key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "to improve")),
	key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "action item")),
	key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "finish")),
}

func (dm *drillModel) view(m *Model, w, h int) string {
	s := m.styles
	st := dm.status
	var b strings.Builder
	state := st.State
	switch {
	case st.Waiting:
		state = s.Warn.Render("waiting for you to release " + st.Next.ID + " (n)")
	case st.State == "paused":
		state = s.Warn.Render("paused")
	case st.State == "running":
		state = s.OK.Render(fmt.Sprintf("running ×%g", st.Speed))
	}
	b.WriteString(s.Warn.Render("EXERCISE ") + s.Bold.Render(st.RunID+" · "+clean(st.Title)) + "\n")
	line := fmt.Sprintf("Drill clock %s (%s) · %s · injects %d/%d", st.Now.In(m.deps.Config.Policy.Location()).Format("Mon 15:04:05"), st.Elapsed, state, st.Delivered, st.Injects)
	if st.Next != nil && !st.Waiting {
		line += fmt.Sprintf(" · next %s at %s", st.Next.ID, st.NextAt)
	}
	b.WriteString(truncate(line, w) + "\n")
	inc := s.Warn.Render("no drill incident yet — press t to triage and declare it")
	if st.IncidentID != "" {
		inc = "drill incident " + s.Accent.Render(st.IncidentID) + " (t opens it)"
	}
	b.WriteString(inc + "\n\n")

	sc := dm.score
	b.WriteString(s.Bold.Render(fmt.Sprintf("Expected actions  met %d · late %d · missed %d · pending %d", sc.Met, sc.Late, sc.Missed, sc.Pending)) + "\n")
	expH := min(len(sc.Expectations), max(h/3, 3))
	for i := 0; i < expH; i++ {
		e := sc.Expectations[i]
		res := string(e.Result)
		style := s.Subtle
		switch e.Result {
		case tabletop.Met:
			style = s.OK
		case tabletop.Late:
			style = s.Warn
		case tabletop.Missed:
			style = s.Danger
		}
		if e.Overdue {
			res, style = "overdue", s.Overdue
		}
		due := ""
		if e.Due != nil {
			due = "by " + e.Due.String()
		}
		b.WriteString(truncate(style.Render(padRight(res, 8))+" "+padRight(e.ID, 8)+" "+padRight(clean(e.Description), max(w-32, 10))+" "+s.Subtle.Render(due), w) + "\n")
	}
	if len(sc.Expectations) > expH {
		b.WriteString(s.Subtle.Render(fmt.Sprintf("… %d more (x marks one)", len(sc.Expectations)-expH)) + "\n")
	}

	b.WriteString("\n" + s.Bold.Render("Injects delivered") + s.Subtle.Render("  newest first · ↑/↓ select") + "\n")
	delivered := dm.delivered
	if len(delivered) == 0 {
		b.WriteString(s.Subtle.Render("None yet.") + "\n")
	}
	for i := 0; i < len(delivered) && i < 4; i++ {
		d := delivered[len(delivered)-1-i]
		line := fmt.Sprintf("%-9s %-8s %-9s %s", d.Offset, d.Inject.ID, d.Inject.Channel, firstLine(d.Inject.Content))
		if i == dm.cursor {
			line = s.Cursor.Render("›") + line
		} else {
			line = " " + line
		}
		b.WriteString(truncate(line, w) + "\n")
	}
	if dm.cursor < len(delivered) {
		in := delivered[len(delivered)-1-dm.cursor].Inject
		b.WriteString("\n" + s.Accent.Render(fmt.Sprintf("%s via %s", in.ID, in.Channel)))
		if in.From != "" {
			b.WriteString(s.Subtle.Render(" from " + clean(in.From)))
		}
		b.WriteString("\n" + strings.Join(wrapLines(safeMarkdown(in.Content), w), "\n") + "\n")
		for _, q := range in.Questions {
			b.WriteString(s.Info.Render("? "+clean(q)) + "\n")
		}
	}
	return b.String()
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return clean(l)
		}
	}
	return ""
}

// wrapLines breaks text into lines of at most w columns at spaces. Blank
// lines separate paragraphs; single line breaks are spaces, as in Markdown.
func wrapLines(text string, w int) []string {
	var out []string
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			out = append(out, "")
		}
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len(line)+1+len(word) > w {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		out = append(out, line)
	}
	return out
}

// scenarioLibrary loads the scenarios; it runs in a command.
type scenariosMsg struct{ lib *tabletop.ScenarioLibrary }

// wrapEach wraps every line of text on its own, keeping its line breaks
// (letters, notices).
func wrapEach(text string, w int) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		out = append(out, wrapLines(line, w)...)
	}
	return out
}
