package tui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
)

// Values of the triage form that are not a runbook's answers.
const (
	unanswered = ""         // a select left at "not answered": assume the worst
	noneOfThem = "__none__" // a multi question answered with no choice
	decDeclare = "declare"
	decEvent   = "event"
)

// triageValues holds what the form's fields write to. It lives behind a
// pointer so the form's bindings survive the model being copied.
type triageValues struct {
	title     string
	awareAt   string
	single    map[string]*string   // yesno, choice, number, text
	multi     map[string]*[]string // multi
	customers []string
	decision  string
	reason    string
}

// triageModel is the assessment of a new event: the runbook's questions in
// a form, and beside it the verdict, recomputed at every change.
type triageModel struct {
	rb *runbook.Runbook
	// questions are the runbook's questions that apply under the policy
	// (a shared assessment for a regime the policy lacks asks none).
	questions []runbook.Question
	form      *huh.Form
	vals      *triageValues
	verdict   classify.Verdict
	err       error
	started   time.Time
	sent      bool
	// declare, if set, records the declaration instead of the incident
	// service, and clock, if set, is the time it happens in: a drill
	// declares its incident on the drill clock.
	declare func(incident.Declaration) (incident.Incident, error)
	clock   clock.Clock
}

func (t *triageModel) now(m *Model) time.Time {
	if t.clock != nil {
		return t.clock.Now()
	}
	return m.now
}

func (m *Model) startTriage(rb *runbook.Runbook) tea.Cmd { return m.startTriageOn(rb, nil, nil) }

// startTriageOn starts a triage whose times come from clk (a drill's
// clock; nil: the app's) and whose declaration goes to declare (nil: the
// incident service).
func (m *Model) startTriageOn(rb *runbook.Runbook, clk clock.Clock, declare func(incident.Declaration) (incident.Incident, error)) tea.Cmd {
	t := &triageModel{rb: rb, started: m.now, clock: clk, declare: declare,
		questions: classify.Questions(rb, m.deps.Config.Policy)}
	t.vals = &triageValues{
		awareAt: t.now(m).In(m.deps.Config.Policy.Location()).Format("2006-01-02 15:04"),
		single:  map[string]*string{},
		multi:   map[string]*[]string{},
	}
	t.form = t.buildForm(m)
	t.reclassify(m)
	m.triage = t
	m.screen = screenTriage
	t.resize(m)
	return t.form.Init()
}

func (t *triageModel) buildForm(m *Model) *huh.Form {
	v := t.vals
	groups := []*huh.Group{huh.NewGroup(
		huh.NewInput().Title("Title").Description("A short, factual name for the event.").
			Placeholder("e.g. Customer export found on a paste site").Value(&v.title).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return fmt.Errorf("a title is required")
				}
				return nil
			}),
		huh.NewInput().Title("When did we become aware?").
			Description("Starts the regulatory clocks. YYYY-MM-DD HH:MM, "+m.deps.Config.Policy.Location().String()).
			Value(&v.awareAt).Validate(func(s string) error {
			_, err := t.parseAware(m, s)
			return err
		}),
	).Title(clean(t.rb.Title)).Description("Answer what you know; anything unanswered counts as the worst case.")}

	for _, q := range t.questions {
		title := clean(q.Text)
		desc := clean(q.Help)
		switch q.Type {
		case runbook.YesNo:
			p := new(string)
			v.single[q.ID] = p
			groups = append(groups, huh.NewGroup(huh.NewSelect[string]().Title(title).Description(desc).
				Options(huh.NewOption("Not answered yet (assume the worst)", unanswered), huh.NewOption("Yes", "yes"), huh.NewOption("No", "no")).
				Value(p)))
		case runbook.Choice:
			p := new(string)
			v.single[q.ID] = p
			opts := []huh.Option[string]{huh.NewOption("Not answered yet (assume the worst)", unanswered)}
			for _, c := range q.Choices {
				opts = append(opts, huh.NewOption(clean(c.Label), c.Value))
			}
			groups = append(groups, huh.NewGroup(huh.NewSelect[string]().Title(title).Description(desc).Options(opts...).Value(p)))
		case runbook.Multi:
			p := new([]string)
			v.multi[q.ID] = p
			var opts []huh.Option[string]
			for _, c := range q.Choices {
				opts = append(opts, huh.NewOption(clean(c.Label), c.Value))
			}
			opts = append(opts, huh.NewOption("None of these", noneOfThem))
			groups = append(groups, huh.NewGroup(huh.NewMultiSelect[string]().Title(title).
				Description(strings.TrimSpace(desc+" Select nothing to leave it unanswered (assume the worst).")).
				Options(opts...).Value(p)))
		case runbook.Number:
			p := new(string)
			v.single[q.ID] = p
			groups = append(groups, huh.NewGroup(huh.NewInput().Title(title).Description(desc).
				Placeholder("a number; empty = not answered").Value(p).Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return nil
				}
				f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil {
					return fmt.Errorf("enter a number")
				}
				if msg := runbook.CheckAnswer(q, f); msg != "" {
					return fmt.Errorf("%s", msg)
				}
				return nil
			})))
		default:
			p := new(string)
			v.single[q.ID] = p
			groups = append(groups, huh.NewGroup(huh.NewInput().Title(title).Description(desc).Value(p)))
		}
	}
	if len(m.customers) > 0 {
		var opts []huh.Option[string]
		for _, c := range m.customers {
			opts = append(opts, huh.NewOption(fmt.Sprintf("%s (%s)", clean(c.Name), c.ID), c.ID))
		}
		groups = append(groups, huh.NewGroup(huh.NewMultiSelect[string]().Title("Affected customers").
			Description("Each gets its own notice with only its own data.").Options(opts...).Filterable(true).Value(&v.customers)))
	}
	groups = append(groups,
		huh.NewGroup(huh.NewSelect[string]().Title("Decision").
			Description("The live verdict says what the rules make of your answers.").
			Options(huh.NewOption("Declare an incident", decDeclare), huh.NewOption("Record as an assessed event (no incident)", decEvent)).
			Value(&v.decision)),
		huh.NewGroup(huh.NewInput().Title("Why is this not an incident?").
			Description("Recorded with the event, for the audit trail.").Value(&v.reason).
			Validate(func(s string) error {
				if strings.TrimSpace(s) == "" {
					return fmt.Errorf("a reason is required")
				}
				return nil
			})).WithHideFunc(func() bool { return v.decision != decEvent }),
	)
	f := huh.NewForm(groups...).WithShowHelp(true).WithTheme(huh.ThemeFunc(huh.ThemeCharm))
	return f
}

func (t *triageModel) parseAware(m *Model, s string) (time.Time, error) {
	// deadline.ParseTime: a time in the repeated hour of a clock change is
	// the earlier instant; one in the skipped hour is refused, saying why.
	at, err := deadline.ParseTime(strings.TrimSpace(s), m.deps.Config.Policy.Location())
	if err != nil {
		return time.Time{}, err
	}
	if at.After(t.now(m).Add(time.Minute)) {
		return time.Time{}, fmt.Errorf("awareness cannot be in the future")
	}
	return at, nil
}

// answers collects the answered questions from the form's values.
func (t *triageModel) answers() classify.Answers {
	a := classify.Answers{}
	for _, q := range t.questions {
		switch q.Type {
		case runbook.Multi:
			sel := *t.vals.multi[q.ID]
			if len(sel) == 0 {
				continue
			}
			out := []string{}
			for _, s := range sel {
				if s != noneOfThem {
					out = append(out, s)
				}
			}
			a[q.ID] = out
		case runbook.YesNo:
			switch *t.vals.single[q.ID] {
			case "yes":
				a[q.ID] = true
			case "no":
				a[q.ID] = false
			}
		case runbook.Number:
			if f, err := strconv.ParseFloat(strings.TrimSpace(*t.vals.single[q.ID]), 64); err == nil && runbook.CheckAnswer(q, f) == "" {
				a[q.ID] = f
			}
		default:
			if s := *t.vals.single[q.ID]; s != unanswered {
				a[q.ID] = s
			}
		}
	}
	return a
}

// reclassify recomputes the verdict: pure computation, fast enough to run
// on every key (see BenchmarkClassify).
func (t *triageModel) reclassify(m *Model) {
	aware, err := t.parseAware(m, t.vals.awareAt)
	if err != nil {
		aware = t.now(m)
	}
	t.verdict, t.err = classify.Classify(t.rb, t.answers(), m.deps.Config.Policy,
		classify.Events{Aware: aware, Classified: t.now(m)}, nil)
}

func (t *triageModel) dirty() bool {
	return t.vals.title != "" || len(t.answers()) > 0
}

func (t *triageModel) resize(m *Model) {
	t.form.WithWidth(t.formWidth(m)).WithHeight(max(m.height-6, 8))
}

func (t *triageModel) formWidth(m *Model) int {
	if m.width >= 100 {
		return m.width/2 - 2
	}
	return m.width - 2
}

func (t *triageModel) update(m *Model, msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok && k.String() == "esc" {
		if t.dirty() {
			m.overlay = &confirmOverlay{prompt: "Leave the triage? Your answers will be lost.", yes: func() tea.Cmd {
				m.triage = nil
				m.screen = screenList
				return nil
			}}
			return nil
		}
		m.triage = nil
		m.screen = screenList
		return nil
	}
	model, cmd := t.form.Update(msg)
	if f, ok := model.(*huh.Form); ok {
		t.form = f
	}
	t.reclassify(m)
	if t.form.State == huh.StateCompleted && !t.sent {
		t.sent = true
		return tea.Batch(cmd, t.submit(m))
	}
	return cmd
}

// retry reopens a submitted form after the service refused it.
func (t *triageModel) retry() {
	t.sent = false
	t.form.State = huh.StateNormal
}

// submit declares the incident or records the event.
func (t *triageModel) submit(m *Model) tea.Cmd {
	v := t.verdict
	aware, err := t.parseAware(m, t.vals.awareAt)
	if err != nil {
		aware = t.now(m)
	}
	d := incident.NewDeclaration(t.rb, v, t.answers())
	d.Title = strings.TrimSpace(t.vals.title)
	d.Incident = t.vals.decision == decDeclare
	d.DismissReason = strings.TrimSpace(t.vals.reason)
	d.Customers = t.vals.customers
	d.AwareAt = aware
	svc, actor, declare := m.deps.Service, m.deps.Actor, t.declare
	if declare == nil {
		declare = func(d incident.Declaration) (incident.Incident, error) { return svc.Declare(m.ctx(), actor, d) }
	}
	return func() tea.Msg {
		in, err := declare(d)
		if err != nil {
			return actionMsg{err: err}
		}
		if !d.Incident {
			return actionMsg{done: fmt.Sprintf("Recorded %s as an assessed event.", in.ID), open: in.ID}
		}
		return actionMsg{done: fmt.Sprintf("Declared %s (%s). Assign an incident commander next.", in.ID, in.Severity), open: in.ID}
	}
}

func (t *triageModel) view(m *Model, w, h int) string {
	form := t.form.View()
	verdict := t.verdictView(m, w, h)
	if w >= 100 {
		left := lipgloss.NewStyle().Width(w/2 - 1).Height(h).Render(form)
		right := m.styles.Box.Width(w - w/2 - 1).Render(fit(verdict, w-w/2-5, h-2))
		return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
	}
	// Narrow: the verdict's summary above the form.
	return t.verdictLine(m) + "\n" + form
}

func (t *triageModel) verdictLine(m *Model) string {
	s := m.styles
	if t.err != nil {
		return s.StatusErr.Render("Rules failed: " + t.err.Error())
	}
	v := t.verdict
	kind := s.OK.Render("event")
	if v.Incident {
		kind = s.Danger.Render("INCIDENT")
	}
	line := "Verdict: " + kind + " " + s.severity(v.Severity) + " " + s.Subtle.Render(v.Category)
	if len(v.Assumed) > 0 {
		line += s.Warn.Render(fmt.Sprintf(" · %d assumed worst", len(v.Assumed)))
	}
	if v.Incident && len(v.Obligations) > 0 {
		if o, st, ok := incident.NextDeadline(v.Obligations, m.now); ok {
			line += " · next " + clockStyle(s, st).Render(o.Rule.ID+" "+remaining(st))
		}
	}
	return line
}

// verdictView shows the verdict, then the deadlines, then the reasons; it
// is cut to the pane's height, so the most important part comes first.
func (t *triageModel) verdictView(m *Model, w, h int) string {
	s := m.styles
	var b strings.Builder
	inner := w - w/2 - 5
	b.WriteString(s.Title.Render("Live verdict") + "\n")
	if t.err != nil {
		b.WriteString(s.StatusErr.Render(t.err.Error()))
		return b.String()
	}
	v := t.verdict
	if v.Incident {
		b.WriteString(s.Danger.Render("INCIDENT") + "  " + s.severity(v.Severity) + "\n")
	} else {
		b.WriteString(s.OK.Render("Event — not an incident") + "\n")
	}
	b.WriteString(s.Subtle.Render(v.Category+" · "+v.AttackVector) + "\n")
	var flags []string
	for f, on := range v.Flags {
		if on {
			flags = append(flags, f)
		}
	}
	slices.Sort(flags)
	if len(flags) > 0 {
		b.WriteString(s.Warn.Render(strings.Join(flags, " · ")) + "\n")
	}
	if len(v.Assumed) > 0 {
		b.WriteString(s.Warn.Render(fmt.Sprintf("%d unanswered: assumed the worst", len(v.Assumed))) + "\n")
	}
	for _, a := range v.Assessments {
		if a.Level == "" {
			continue
		}
		line := a.Name + ": " + a.Level
		if len(a.Decided) > 0 {
			line += " (" + strings.Join(a.Decided, ", ") + ")"
		}
		b.WriteString(lipgloss.NewStyle().Width(inner).Render(s.Bold.Render(clean(line))) + "\n")
	}
	b.WriteString("\n" + s.Bold.Render("Deadlines") + "\n")
	if !v.Incident {
		b.WriteString(s.Subtle.Render("None: an event starts no notification clock.") + "\n")
	}
	for _, o := range v.Obligations {
		st := o.At(m.now)
		due := "after " + o.WaitingFor
		if !st.Due.IsZero() {
			due = deadline.Format(st.Due)
		}
		b.WriteString(clockStyle(s, st).Render(padRight(o.Rule.ID, 18)) + " " + truncate(due, inner-19) + "\n")
	}
	for _, wn := range v.Warnings {
		b.WriteString(lipgloss.NewStyle().Width(inner).Render(s.Warn.Render(clean("Warning: "+wn))) + "\n")
	}
	b.WriteString("\n" + s.Bold.Render("Why") + "\n")
	for _, r := range v.Rationale {
		if r.Part == "assumed" {
			continue
		}
		line := "• " + r.Text
		if len(r.Assumed) > 0 {
			line += " (assumed: " + strings.Join(r.Assumed, ", ") + ")"
		}
		b.WriteString(lipgloss.NewStyle().Width(inner).Render(clean(line)) + "\n")
	}
	return b.String()
}
