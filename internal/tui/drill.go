package tui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/tabletop"
)

// drillModel is the facilitator's screen of a table-top drill: the drill
// clock, the injects delivered so far, and the score of every expected
// action, live. The run itself lives in the tabletop package (and its
// clock in the database); this screen lets time pass (Tick on the app's
// poll) and records what the facilitator decides. The app may hold
// several drills; one is on screen.
type drillModel struct {
	run       *tabletop.Run
	status    tabletop.Status
	score     tabletop.Score
	delivered []tabletop.Delivered // as of the last tick; Update and View never lock the run
	cursor    int                  // the selected delivered inject, newest first
	ticked    bool                 // a tick has filled the fields above
}

// Messages of the drill screen.
type (
	drillStartedMsg struct {
		run *tabletop.Run
		err error
		// reattached: the run was taken up again rather than started.
		reattached bool
	}
	drillTickMsg struct {
		run       *tabletop.Run
		status    tabletop.Status
		score     tabletop.Score
		fresh     []tabletop.Delivered
		delivered []tabletop.Delivered
		err       error
	}
	// drillRunsMsg lists the drills on record that are not over, for the
	// drill chooser.
	drillRunsMsg struct {
		runs []store.DrillRun
		err  error
	}
)

// drillDeps are the tabletop package's dependencies, from the app's.
func (m *Model) drillDeps() tabletop.Deps {
	return m.deps.Drills(m.lib)
}

// drillKeys are the facilitator's keys on the drill screen.
var drillKeys = struct {
	Pause, Next, Jump, Speed, Triage, Brief, Observe, Mark, Rate, WentWell, Improve, Action, Feedback,
	Finish, Abandon, Report, Drills key.Binding
}{
	Pause:    key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "pause/resume")),
	Next:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next inject")),
	Jump:     key.NewBinding(key.WithKeys("J"), key.WithHelp("J", "jump to an inject")),
	Speed:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "speed")),
	Triage:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "triage / open the drill incident")),
	Brief:    key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "briefing")),
	Observe:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "observe")),
	Mark:     key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "mark expected action")),
	Rate:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "rate objective")),
	WentWell: key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "went well")),
	Improve:  key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "to improve")),
	Action:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "action item")),
	Feedback: key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "feedback")),
	Finish:   key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "finish")),
	Abandon:  key.NewBinding(key.WithKeys("X"), key.WithHelp("X", "abandon")),
	Report:   key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "report")),
	Drills:   key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "drills: switch, reattach, new")),
}

func (m *Model) drillHelp() helpKeys {
	d, k := drillKeys, m.keys
	return helpKeys{
		short: []key.Binding{d.Pause, d.Next, d.Triage, d.Report, d.Drills, k.Back, k.Help},
		full: [][]key.Binding{
			{d.Pause, d.Next, d.Jump, d.Speed, d.Brief, d.Triage},
			{d.Observe, d.Mark, d.Rate, d.WentWell, d.Improve, d.Action, d.Feedback},
			{d.Finish, d.Abandon, d.Report, d.Drills, k.Up, k.Down, k.Back, k.Help, k.Quit},
		},
	}
}

// startDrill is D on the incident list: the drill on screen before, or
// the drill chooser.
func (m *Model) startDrill() tea.Cmd {
	if m.drill != nil {
		m.screen = screenDrill
		return m.drillTick()
	}
	return m.chooseDrill()
}

// chooseDrill offers the drills open in this app, those on record that
// are not over (to take up again after a restart), and a new drill; with
// none of the first two, it goes straight to the scenarios.
func (m *Model) chooseDrill() tea.Cmd {
	switch {
	case m.lib == nil || m.scenarios == nil:
		m.drillWhenLoaded = true
		return m.setStatus("Runbooks and scenarios are still loading… the drills open when they are in.", false)
	case m.deps.Drills == nil:
		return m.setStatus("Drills are not available here.", true)
	}
	deps, actor := m.drillDeps(), m.deps.Actor
	return func() tea.Msg {
		runs, err := tabletop.LiveRuns(m.ctx(), deps, actor)
		return drillRunsMsg{runs: runs, err: err}
	}
}

func (m *Model) offerDrills(msg drillRunsMsg) tea.Cmd {
	if msg.err != nil {
		return m.setStatus("Could not list the drills: "+msg.err.Error(), true)
	}
	var items []choice
	open := map[string]bool{}
	for _, d := range m.drills {
		open[d.run.ID()] = true
		st := d.status
		items = append(items, choice{value: "open:" + d.run.ID(), label: d.run.ID() + " " + clean(d.run.Scenario().Title),
			detail: fmt.Sprintf("open here, %s at %s", st.State, st.Elapsed)})
	}
	for _, r := range msg.runs {
		if open[r.ID] {
			continue
		}
		items = append(items, choice{value: "resume:" + r.ID, label: r.ID + " " + clean(r.ScenarioTitle),
			detail: fmt.Sprintf("take up again: %s at %s", r.Status, tabletop.FormatOffset(r.Clock.At(m.now).Sub(r.Epoch)))})
	}
	if len(items) == 0 {
		return m.pickScenario()
	}
	items = append(items, choice{value: "new", label: "Start a new drill", detail: "pick a scenario"})
	m.overlay = newChoice("Table-top drills", items, func(c choice) tea.Cmd {
		switch {
		case c.value == "new":
			return m.pickScenario()
		case strings.HasPrefix(c.value, "open:"):
			id := strings.TrimPrefix(c.value, "open:")
			for _, d := range m.drills {
				if d.run.ID() == id {
					m.drill, m.screen = d, screenDrill
				}
			}
			return m.drillTick()
		}
		id := strings.TrimPrefix(c.value, "resume:")
		deps, actor := m.drillDeps(), m.deps.Actor
		return func() tea.Msg {
			run, err := tabletop.ResumeRun(m.ctx(), deps, id, actor, tabletop.Options{})
			return drillStartedMsg{run: run, err: err, reattached: true}
		}
	})
	return nil
}

// pickScenario asks for a scenario, shows its briefing, then asks for a
// pace and starts the run.
func (m *Model) pickScenario() tea.Cmd {
	if len(m.scenarios.Scenarios) == 0 {
		return m.setStatus("No drill scenarios are loaded: check `irtui runbooks lint`.", true)
	}
	var items []choice
	for _, sc := range m.scenarios.Scenarios {
		items = append(items, choice{value: sc.ID, label: clean(sc.Title), detail: sc.Runbook})
	}
	back := m.screen
	m.overlay = newChoice("Start a table-top drill: scenario", items, func(c choice) tea.Cmd {
		sc, _ := m.scenarios.Get(c.value)
		return m.showPager("Briefing: "+sc.Title, tabletop.Briefing(sc), back, func() tea.Cmd { return m.askPace(sc) },
			"choose the pace and start")
	})
	return nil
}

func (m *Model) askPace(sc *tabletop.Scenario) tea.Cmd {
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
			opts.Speed, _ = strconv.ParseFloat(p.value, 64)
		}
		deps, actor := m.drillDeps(), m.deps.Actor
		return func() tea.Msg {
			run, err := tabletop.Start(m.ctx(), deps, sc, actor, opts)
			return drillStartedMsg{run: run, err: err}
		}
	})
	return nil
}

// updateDrill handles the drill messages; it reports whether msg was one.
func (m *Model) updateDrill(msg tea.Msg) (bool, tea.Cmd) {
	switch msg := msg.(type) {
	case drillRunsMsg:
		return true, m.offerDrills(msg)
	case pagerMsg:
		if msg.err != nil {
			return true, m.setStatus(msg.err.Error(), true)
		}
		m.pager.set(msg)
		m.screen = screenPager
		return true, nil
	case drillStartedMsg:
		if msg.err != nil {
			return true, m.setStatus("Could not start the drill: "+msg.err.Error(), true)
		}
		d := &drillModel{run: msg.run}
		m.drills = append(m.drills, d)
		m.drill, m.screen = d, screenDrill
		st := msg.run.Status(m.deps.Clock.Now())
		text := "Drill " + msg.run.ID() + " started. "
		switch {
		case msg.reattached && st.Attached:
			text = "Joined " + msg.run.ID() + ", running in another process. "
		case msg.reattached:
			text = "Took up " + msg.run.ID() + ", paused at " + st.Elapsed.String() + ": press space to resume. "
		}
		switch {
		case st.Delivered == 0 && st.Mode == store.DrillModeManual:
			text += "Press n to release the first inject."
		case st.Delivered == 0:
			text += "The first inject arrives at " + st.NextAt.String() + "."
		case st.IncidentID == "":
			text += "Press t to triage and declare the drill incident."
		}
		return true, tea.Batch(m.drillTick(), m.setStatus(text, false))
	case drillTickMsg:
		d := m.drillOf(msg.run)
		if d == nil {
			return true, nil
		}
		if msg.err != nil {
			return true, m.setStatus("Drill: "+msg.err.Error(), true)
		}
		d.apply(msg)
		if len(msg.fresh) > 0 && d == m.drill {
			in := msg.fresh[len(msg.fresh)-1].Inject
			text := fmt.Sprintf("New inject %s via %s.", in.ID, in.Channel)
			if msg.status.ModuleIncident == "" {
				text += " Press t to triage it and declare the drill incident."
			}
			return true, m.setStatus(text, false)
		}
		return true, nil
	}
	return false, nil
}

func (m *Model) drillOf(run *tabletop.Run) *drillModel {
	for _, d := range m.drills {
		if d.run == run {
			return d
		}
	}
	return nil
}

// drillTick lets drill time pass and reads the score of every drill open
// in the app; the app calls it on every poll.
func (m *Model) drillTick() tea.Cmd {
	var cmds []tea.Cmd
	realNow := m.deps.Clock.Now()
	for _, d := range m.drills {
		run := d.run
		cmds = append(cmds, func() tea.Msg {
			fresh, err := run.Tick(m.ctx(), realNow)
			if err != nil {
				return drillTickMsg{run: run, err: err}
			}
			score, err := run.Score(m.ctx())
			return drillTickMsg{run: run, status: run.Status(realNow), score: score, fresh: fresh, delivered: run.Delivered(), err: err}
		})
	}
	return tea.Batch(cmds...)
}

func (dm *drillModel) apply(msg drillTickMsg) {
	dm.status, dm.score, dm.delivered, dm.ticked = msg.status, msg.score, msg.delivered, true
	if len(msg.fresh) > 0 {
		dm.cursor = 0 // the newest inject
	}
}

// running lists the drills open in this app whose clock runs: quitting
// pauses them.
func (m *Model) running() []*drillModel {
	var out []*drillModel
	for _, d := range m.drills {
		if d.status.State == store.DrillRunning && !d.status.Attached && d.status.Mode != store.DrillModeHeadless {
			out = append(out, d)
		}
	}
	return out
}

// quitDrills asks before quitting while a drill runs, and pauses the
// running drills before quitting.
func (m *Model) quitDrills() (tea.Cmd, bool) {
	running := m.running()
	if len(running) == 0 {
		return nil, false
	}
	var ids []string
	for _, d := range running {
		ids = append(ids, d.run.ID())
	}
	ctx, actor := m.ctx(), m.deps.Actor
	m.overlay = &confirmOverlay{prompt: fmt.Sprintf("Drill %s is running. Quit? It will be paused; take it up again with D.",
		strings.Join(ids, ", ")), yes: func() tea.Cmd {
		m.quitting = true
		return tea.Sequence(func() tea.Msg {
			for _, d := range running {
				_ = d.run.Pause(ctx, actor)
			}
			return nil
		}, tea.Quit)
	}}
	return nil, true
}

// drillAct runs a facilitator action on the run and refreshes the screen.
func (m *Model) drillAct(done string, fn func(run *tabletop.Run) error) tea.Cmd {
	run := m.drill.run
	return tea.Batch(m.act(done, func() error { return fn(run) }), m.drillTick())
}

func (dm *drillModel) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	run := dm.run
	ctx, actor := m.ctx(), m.deps.Actor
	d := drillKeys
	switch {
	case key.Matches(msg, m.keys.Back):
		m.screen = screenList
		return nil
	case key.Matches(msg, m.keys.Up):
		dm.cursor = max(dm.cursor-1, 0)
	case key.Matches(msg, m.keys.Down):
		dm.cursor = min(dm.cursor+1, max(len(dm.delivered)-1, 0))
	case key.Matches(msg, d.Pause):
		if dm.status.State == store.DrillPaused {
			return m.drillAct("Drill clock running.", func(r *tabletop.Run) error { return r.Resume(ctx, actor) })
		}
		return m.drillAct("Drill clock paused: nothing can be done on the drill incident until you resume.",
			func(r *tabletop.Run) error { return r.Pause(ctx, actor) })
	case key.Matches(msg, d.Next):
		return tea.Batch(func() tea.Msg {
			out, err := run.Next(ctx, actor)
			if err != nil {
				return actionMsg{err: err}
			}
			return actionMsg{done: released(out, run.Status(m.deps.Clock.Now()))}
		}, m.drillTick())
	case key.Matches(msg, d.Jump):
		return dm.askJump(m)
	case key.Matches(msg, d.Speed):
		return dm.askSpeed(m)
	case key.Matches(msg, d.Brief):
		return m.showPager("Briefing: "+run.Scenario().Title, tabletop.Briefing(run.Scenario()), screenDrill, nil, "")
	case key.Matches(msg, d.Triage):
		return dm.triage(m)
	case key.Matches(msg, d.Observe):
		return dm.askObservation(m)
	case key.Matches(msg, d.Mark):
		return dm.askMark(m)
	case key.Matches(msg, d.Rate):
		return dm.askRate(m)
	case key.Matches(msg, d.WentWell):
		return dm.askHotWash(m, store.HotWashStrength)
	case key.Matches(msg, d.Improve):
		return dm.askHotWash(m, store.HotWashImprovement)
	case key.Matches(msg, d.Action):
		return dm.askActionItem(m)
	case key.Matches(msg, d.Feedback):
		return dm.askFeedback(m)
	case key.Matches(msg, d.Finish):
		m.overlay = &confirmOverlay{prompt: "Finish the drill? What was not done counts as missed; injects never released are not scored.", yes: func() tea.Cmd {
			return m.drillAct("Drill finished: press R for the report.", func(r *tabletop.Run) error { return r.Finish(ctx, actor) })
		}}
	case key.Matches(msg, d.Abandon):
		m.overlay = newInput(m, "Abandon "+run.ID()+": why? (only what was delivered is scored)", "the room was needed", true, func(reason string) tea.Cmd {
			return m.drillAct("Drill abandoned: press R for the report of what was played.", func(r *tabletop.Run) error {
				return r.Abandon(ctx, actor, reason)
			})
		})
	case key.Matches(msg, d.Report):
		return dm.report(m)
	case key.Matches(msg, d.Drills):
		return m.chooseDrill()
	}
	return nil
}

// released says which injects were released, and what to do next.
func released(out []tabletop.Delivered, st tabletop.Status) string {
	var ids []string
	for _, d := range out {
		ids = append(ids, d.Inject.ID)
	}
	text := "Released " + strings.Join(ids, ", ") + "."
	if st.ModuleIncident == "" {
		text += " Press t to triage it and declare the drill incident."
	}
	return text
}

// triage starts the triage of the drill incident of the module being
// played, or opens it once declared.
func (dm *drillModel) triage(m *Model) tea.Cmd {
	run, st := dm.run, dm.status
	ctx, actor := m.ctx(), m.deps.Actor
	if id := st.ModuleIncident; id != "" {
		m.detail = newDetailModel(id)
		m.returnDrill = true
		return m.loadDetail(id, true)
	}
	if st.Delivered == 0 {
		return m.setStatus("No inject has been released yet: press n first.", true)
	}
	module := run.CurrentModule()
	rb := run.RunbookFor(module)
	if rb == nil {
		return m.setStatus("The scenario's runbook is not loaded.", true)
	}
	cmd := m.startTriageOn(rb, run.Clock(), func(d incident.Declaration) (incident.Incident, error) {
		d.DrillModule = module
		return run.Declare(ctx, actor, d)
	})
	what := "the drill incident"
	if module != "" {
		what = "the drill incident of module " + module
	}
	m.triage.exercise = fmt.Sprintf("drill %s: this triage declares %s, on the drill clock", run.ID(), what)
	m.returnDrill = true
	return cmd
}

func (dm *drillModel) askJump(m *Model) tea.Cmd {
	var items []choice
	delivered := map[string]bool{}
	for _, d := range dm.delivered {
		delivered[d.Inject.ID] = true
	}
	for _, in := range dm.run.Scenario().Injects {
		if !delivered[in.ID] {
			items = append(items, choice{value: in.ID, label: in.ID, detail: tabletop.FormatOffset(in.Offset) + " " + in.Channel})
		}
	}
	if len(items) == 0 {
		return m.setStatus("Every inject is delivered.", false)
	}
	ctx, actor := m.ctx(), m.deps.Actor
	m.overlay = newChoice("Jump to an inject (those before it are delivered too)", items, func(c choice) tea.Cmd {
		run := dm.run
		return tea.Batch(func() tea.Msg {
			out, err := run.Jump(ctx, actor, c.value)
			if err != nil {
				return actionMsg{err: err}
			}
			return actionMsg{done: released(out, run.Status(m.deps.Clock.Now()))}
		}, m.drillTick())
	})
	return nil
}

func (dm *drillModel) askSpeed(m *Model) tea.Cmd {
	items := []choice{
		{value: "step", label: "Inject by inject", detail: "real time between injects"},
		{value: "1", label: "Real time"},
		{value: "10", label: "Ten times faster"},
		{value: "60", label: "An hour a minute"},
		{value: "600", label: "Ten hours a minute"},
	}
	ctx, actor := m.ctx(), m.deps.Actor
	m.overlay = newChoice("Drill clock speed", items, func(c choice) tea.Cmd {
		speed, manual := 1.0, c.value == "step"
		if !manual {
			speed, _ = strconv.ParseFloat(c.value, 64)
		}
		return m.drillAct("Speed set: "+c.label+".", func(r *tabletop.Run) error { return r.SetSpeed(ctx, actor, speed, manual) })
	})
	return nil
}

// objectiveChoices are the scenario's objectives, and one for the drill
// as a whole.
func (dm *drillModel) objectiveChoices(general string) []choice {
	items := []choice{{value: "", label: general}}
	for _, o := range dm.run.Scenario().Objectives {
		items = append(items, choice{value: o.ID, label: o.ID + " " + clean(o.Text), detail: o.Capability})
	}
	return items
}

func (dm *drillModel) askObservation(m *Model) tea.Cmd {
	ctx, actor := m.ctx(), m.deps.Actor
	m.overlay = newChoice("Observation: about which objective?", dm.objectiveChoices("The drill as a whole"), func(o choice) tea.Cmd {
		kinds := []choice{
			{value: tabletop.ObserveStrength, label: "A strength"},
			{value: tabletop.ObserveImprovement, label: "An area for improvement"},
			{value: "", label: "A note"},
		}
		m.overlay = newChoice("Observation: what does it show?", kinds, func(k choice) tea.Cmd {
			m.overlay = newInput(m, "Observation (evaluator's note)", "what you saw, for the after-action report", true, func(text string) tea.Cmd {
				in := tabletop.ObservationInput{Objective: o.value, Kind: k.value, Text: text}
				return m.drillAct("Observation recorded.", func(r *tabletop.Run) error { return r.Observe(ctx, actor, in) })
			})
			return nil
		})
		return nil
	})
	return nil
}

func (dm *drillModel) askMark(m *Model) tea.Cmd {
	var items []choice
	for _, e := range dm.score.Expectations {
		label := clean(e.Description)
		if e.Critical {
			label = "CRITICAL " + label
		}
		items = append(items, choice{value: e.ID, label: label, detail: e.ID + " · " + string(e.Result)})
	}
	if len(items) == 0 {
		return nil
	}
	ctx, actor, run := m.ctx(), m.deps.Actor, dm.run
	m.overlay = newChoice("Mark an expected action", items, func(c choice) tea.Cmd {
		results := []choice{{value: string(tabletop.Met), label: "Met"}, {value: string(tabletop.Late), label: "Late"}, {value: string(tabletop.Missed), label: "Missed"}}
		m.overlay = newChoice("Result of "+c.label, results, func(r choice) tea.Cmd {
			m.overlay = newInput(m, "Why "+r.label+"? (what you saw; enter to leave it out)", "", false, func(note string) tea.Cmd {
				return m.drillAct("Marked "+c.value+" "+r.value+".", func(*tabletop.Run) error {
					return run.Mark(ctx, actor, c.value, tabletop.Result(r.value), note)
				})
			})
			return nil
		})
		return nil
	})
	return nil
}

func (dm *drillModel) askRate(m *Model) tea.Cmd {
	var items []choice
	for _, o := range dm.score.Objectives {
		detail := o.Capability
		if o.Suggested != "" {
			detail += " · suggested " + string(o.Suggested)
		}
		if o.Rating != "" {
			detail += " · rated " + string(o.Rating)
		}
		items = append(items, choice{value: o.ID, label: o.ID + " " + clean(o.Text), detail: detail})
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
			m.overlay = newInput(m, "Why "+r.value+"? (enter to leave it out)", "", false, func(note string) tea.Cmd {
				return m.drillAct(c.value+" rated "+r.value+".", func(*tabletop.Run) error {
					return run.Rate(ctx, actor, c.value, tabletop.Rating(r.value), note)
				})
			})
			return nil
		})
		return nil
	})
	return nil
}

func (dm *drillModel) askHotWash(m *Model, kind string) tea.Cmd {
	ctx, actor := m.ctx(), m.deps.Actor
	prompt := "Hot wash: what went well?"
	if kind == store.HotWashImprovement {
		prompt = "Hot wash: what should improve?"
	}
	m.overlay = newChoice(prompt+" About which objective?", dm.objectiveChoices("The drill as a whole"), func(o choice) tea.Cmd {
		m.overlay = newInput(m, prompt, "", true, func(text string) tea.Cmd {
			in := tabletop.HotWashInput{Kind: kind, Objective: o.value, Text: text}
			if kind == store.HotWashStrength {
				return m.drillAct("Recorded.", func(r *tabletop.Run) error { _, err := r.AddHotWash(ctx, actor, in); return err })
			}
			m.overlay = newInput(m, "Root cause: why did it happen? Add the observations it rests on after |",
				"nobody owned the identity console | 1, 3", false, func(text string) tea.Cmd {
					cause, nums, _ := strings.Cut(text, "|")
					in.RootCause = strings.TrimSpace(cause)
					for _, f := range strings.FieldsFunc(nums, func(r rune) bool { return r == ',' || r == ' ' }) {
						n, err := strconv.ParseInt(strings.TrimPrefix(f, "#"), 10, 64)
						if err != nil {
							return m.setStatus(fmt.Sprintf("%q is not an observation number.", f), true)
						}
						in.Observations = append(in.Observations, n)
					}
					return m.drillAct("Recorded.", func(r *tabletop.Run) error { _, err := r.AddHotWash(ctx, actor, in); return err })
				})
			return nil
		})
		return nil
	})
	return nil
}

// askActionItem asks for the owner (someone in the directory), then the
// rest of the item.
func (dm *drillModel) askActionItem(m *Model) tea.Cmd {
	owners := m.peopleChoices()
	if len(owners) == 0 {
		return m.setStatus("The directory lists nobody to own an action item: import it with `irtui directory import`.", true)
	}
	ctx, actor := m.ctx(), m.deps.Actor
	m.overlay = newChoice("Action item: who owns it?", owners, func(o choice) tea.Cmd {
		m.overlay = newChoice("Action item: which objective does it serve?", dm.objectiveChoices("None in particular"), func(obj choice) tea.Cmd {
			m.overlay = newInput(m, "Action item for "+o.label+": DUE (YYYY-MM-DD or 14d) | what | organisation | POETE element",
				"30d | Keep an offline contact list | Security operations | planning", true, func(text string) tea.Cmd {
					parts := strings.Split(text, "|")
					if len(parts) < 2 {
						return m.setStatus("Write DUE | what, then optionally | organisation | element, separated by |.", true)
					}
					in := tabletop.ActionItemInput{Owner: o.value, ObjectiveID: obj.value, Due: strings.TrimSpace(parts[0]),
						Text: strings.TrimSpace(parts[1])}
					if len(parts) > 2 {
						in.Organisation = strings.TrimSpace(parts[2])
					}
					if len(parts) > 3 {
						in.Element = strings.TrimSpace(parts[3])
					}
					return m.drillAct("Action item added.", func(r *tabletop.Run) error { _, err := r.AddActionItem(ctx, actor, in); return err })
				})
			return nil
		})
		return nil
	})
	return nil
}

func (dm *drillModel) askFeedback(m *Model) tea.Cmd {
	people := m.peopleChoices()
	if len(people) == 0 {
		return nil
	}
	ctx, actor := m.ctx(), m.deps.Actor
	m.overlay = newChoice("Participant feedback: from whom?", people, func(p choice) tea.Cmd {
		ratings := []choice{{value: "5", label: "5 — excellent"}, {value: "4", label: "4 — good"}, {value: "3", label: "3 — fair"},
			{value: "2", label: "2 — poor"}, {value: "1", label: "1 — very poor"}, {value: "0", label: "No rating"}}
		m.overlay = newChoice("How was the exercise for "+p.label+"?", ratings, func(r choice) tea.Cmd {
			m.overlay = newInput(m, "What "+p.label+" says about the exercise", "", true, func(text string) tea.Cmd {
				n, _ := strconv.Atoi(r.value)
				in := tabletop.FeedbackInput{Person: p.value, Rating: n, Text: text}
				return m.drillAct("Feedback recorded.", func(run *tabletop.Run) error { _, err := run.AddFeedback(ctx, actor, in); return err })
			})
			return nil
		})
		return nil
	})
	return nil
}

// peopleChoices are the people of the directory, to pick one.
func (m *Model) peopleChoices() []choice {
	var out []choice
	for _, p := range m.people {
		out = append(out, choice{value: p.ID, label: clean(p.Name), detail: p.ID})
	}
	return out
}

// report builds the after-action report and shows it.
func (dm *drillModel) report(m *Model) tea.Cmd {
	run, actor, loc := dm.run, m.deps.Actor, m.deps.Config.Policy.Location()
	w, styles, plain := max(m.width, 40), m.styles, m.deps.NoColor
	return func() tea.Msg {
		rep, err := run.Report(m.ctx(), actor)
		if err != nil {
			return pagerMsg{err: fmt.Errorf("the report of %s: %w", run.ID(), err)}
		}
		return pagerMsg{title: "After-action report: " + run.ID(), text: pagerText(rep.Markdown(loc), w, styles, plain), back: screenDrill}
	}
}

func (dm *drillModel) view(m *Model, w, h int) string {
	s := m.styles
	st := dm.status
	if !dm.ticked {
		return s.Warn.Render("EXERCISE ") + s.Bold.Render(dm.run.ID()+" · "+clean(dm.run.Scenario().Title)) + "\n\n" + s.Subtle.Render("Reading the drill…")
	}
	var b strings.Builder
	state := st.State
	switch {
	case st.Waiting:
		state = s.Warn.Render("waiting for you to release " + st.Next.ID + " (n)")
	case st.State == store.DrillPaused:
		state = s.Warn.Render("paused (space resumes)")
	case st.State == store.DrillRunning:
		state = s.OK.Render(fmt.Sprintf("running ×%g", st.Speed))
	}
	others := ""
	if len(m.drills) > 1 {
		others = s.Subtle.Render(fmt.Sprintf("  (%d drills open: D switches)", len(m.drills)))
	}
	b.WriteString(s.Warn.Render("EXERCISE ") + s.Bold.Render(st.RunID+" · "+clean(st.Title)) + others + "\n")
	line := fmt.Sprintf("Drill clock %s (%s) · %s · injects %d/%d", st.Now.In(m.deps.Config.Policy.Location()).Format("Mon 15:04:05"), st.Elapsed, state, st.Delivered, st.Injects)
	if st.Next != nil && !st.Waiting {
		line += fmt.Sprintf(" · next %s at %s", st.Next.ID, st.NextAt)
	}
	b.WriteString(truncate(line, w) + "\n")
	b.WriteString(dm.incidentLine(m) + "\n\n")

	sc := dm.score
	b.WriteString(s.Bold.Render(truncate(sc.Headline, w)) + "\n")
	exps := sc.Expectations
	expH := min(len(exps), max(h/3, 3))
	for i := 0; i < expH; i++ {
		e := exps[i]
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
		what := clean(e.Description)
		if e.Critical {
			what = "! " + what
		}
		b.WriteString(truncate(style.Render(padRight(res, 10))+" "+padRight(e.ID, 14)+" "+padRight(what, max(w-40, 10))+" "+s.Subtle.Render(due), w) + "\n")
	}
	if len(exps) > expH {
		b.WriteString(s.Subtle.Render(fmt.Sprintf("… %d more (x marks one; ! is a critical task)", len(exps)-expH)) + "\n")
	}

	b.WriteString("\n" + s.Bold.Render("Injects delivered") + s.Subtle.Render("  newest first · ↑/↓ select") + "\n")
	delivered := dm.delivered
	if len(delivered) == 0 {
		b.WriteString(s.Subtle.Render("None yet.") + "\n")
	}
	for i := 0; i < len(delivered) && i < 4; i++ {
		d := delivered[len(delivered)-1-i]
		line := fmt.Sprintf("%-9s %-14s %-9s %s", d.Offset, d.Inject.ID, d.Inject.Channel, firstLine(d.Inject.Content))
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
		if in.Module != "" {
			if mod, ok := dm.run.Scenario().Module(in.Module); ok {
				b.WriteString(s.Subtle.Render(" · module " + mod.ID + " " + clean(mod.Title)))
			}
		}
		b.WriteString("\n" + strings.Join(wrapLines(safeMarkdown(in.Content), w), "\n") + "\n")
		for _, q := range in.Questions {
			b.WriteString(s.Info.Render("? "+clean(q)) + "\n")
		}
	}
	return b.String()
}

// incidentLine says which drill incident the team works, or what to do
// to get one.
func (dm *drillModel) incidentLine(m *Model) string {
	s, st := m.styles, dm.status
	id, module := st.ModuleIncident, ""
	if st.Module != "" && dm.run.Scenario().IncidentModule(&tabletop.Inject{Module: st.Module}) != "" {
		module = " of module " + st.Module
	}
	switch {
	case st.State == store.DrillFinished || st.State == store.DrillAbandoned:
		return s.Subtle.Render("Drill " + st.State + ": R shows the after-action report.")
	case id != "":
		return "drill incident" + module + " " + s.Accent.Render(id) + " (t opens it)"
	case st.Delivered == 0 && st.Mode == store.DrillModeManual:
		return s.Subtle.Render("No inject released yet: brief the players (b), then press n.")
	case st.Delivered == 0:
		return s.Subtle.Render("Waiting for the first inject at " + st.NextAt.String() + ".")
	}
	return s.Warn.Render("no drill incident" + module + " yet — press t to triage and declare it")
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

// backFromIncident is where esc from an incident or its triage goes: the
// drill screen when that is where it was opened.
func (m *Model) backFromIncident() screen {
	if m.returnDrill && m.drill != nil {
		m.returnDrill = false
		return screenDrill
	}
	m.returnDrill = false
	return screenList
}
