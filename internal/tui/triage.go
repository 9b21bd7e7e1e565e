package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// Values of the triage form that are not a runbook's answers.
const (
	noneOfThem = "__none__" // a multi question answered with no choice
	decDeclare = "declare"
	decEvent   = "event"
)

// fieldKind is what a field of the triage form holds.
type fieldKind uint8

const (
	fieldTitle     fieldKind = iota // the incident's title
	fieldAware                      // when we became aware
	fieldQuestion                   // one of the runbook's questions
	fieldCustomers                  // the affected customers
	fieldDecision                   // declare, or record as an event
	fieldReason                     // why it is not an incident; in a re-assessment, what changed
)

// triageField is one field of the form. Text fields (title, awareness,
// number and text questions, reasons) type into input; the others pick
// from options with the arrow keys, digits or y/n.
type triageField struct {
	kind  fieldKind
	q     runbook.Question
	input textinput.Model
	// sel is a choice or yes/no answer ("" unanswered); multi the picked
	// values of a multi question or the customers.
	sel    string
	multi  []string
	cursor int // the highlighted option
	err    string
}

// textual reports whether keys type into the field.
func (f *triageField) textual() bool {
	switch f.kind {
	case fieldTitle, fieldAware, fieldReason:
		return true
	case fieldQuestion:
		return f.q.Type == runbook.Number || f.q.Type == runbook.Text
	}
	return false
}

// option is one line a picking field offers.
type option struct {
	value, label, detail string
}

// triageMode is what the form is for.
type triageMode uint8

const (
	modeDeclare  triageMode = iota // a new event: declare it or record it
	modeReassess                   // an incident's answers, answered again
)

// triageModel is the assessment of an event: the runbook's questions as a
// form that fits the screen, and beside or above it the live verdict with
// its deadlines, recomputed at every answer. Every option of the focused
// question is on screen (they scroll when the screen is short), and
// answering takes one key: y or n, a digit, or enter.
type triageModel struct {
	rb *runbook.Runbook
	// questions are the runbook's questions that apply under the policy.
	questions []runbook.Question
	mode      triageMode
	fields    []*triageField
	focus     int
	offset    int // first option line shown of the focused field
	verdict   classify.Verdict
	err       error
	started   time.Time
	sent      bool
	title     string // a re-assessment's incident, "ID · title"
	// incidentID, awareAt and declaredAt are the incident a re-assessment
	// is of.
	incidentID string
	awareAt    time.Time
	declaredAt time.Time
	// declare, if set, records the declaration instead of the incident
	// service, and clock, if set, is the time it happens in: a drill
	// declares its incident on the drill clock.
	declare func(incident.Declaration) (incident.Incident, error)
	clock   clock.Clock
	// drillClock, for the re-assessment of a drill incident of a run, is
	// the run's clock as read with the incident.
	drillClock *store.DrillClock
	// exercise, for a drill's triage, says so above the form.
	exercise string
}

func (t *triageModel) now(m *Model) time.Time {
	switch {
	case t.clock != nil:
		return t.clock.Now()
	case t.drillClock != nil:
		return t.drillClock.Now(m.now)
	}
	return m.now
}

// triageQuestions are the questions the form asks of a runbook: those
// that apply under the policy (a shared assessment for a regime the policy
// lacks asks none).
func triageQuestions(m *Model, rb *runbook.Runbook) []runbook.Question {
	return classify.Questions(rb, m.deps.Config.Policy)
}

func (m *Model) startTriage(rb *runbook.Runbook) tea.Cmd { return m.startTriageOn(rb, nil, nil) }

// startTriageOn starts a triage whose times come from clk (a drill's
// clock; nil: the app's) and whose declaration goes to declare (nil: the
// incident service).
func (m *Model) startTriageOn(rb *runbook.Runbook, clk clock.Clock, declare func(incident.Declaration) (incident.Incident, error)) tea.Cmd {
	t := &triageModel{rb: rb, started: m.now, clock: clk, declare: declare, mode: modeDeclare}
	w := t.inputWidth(m)
	title := newTextInput("e.g. Customer export found on a paste site", w)
	aware := newTextInput("YYYY-MM-DD HH:MM", w)
	aware.SetValue(t.now(m).In(m.deps.Config.Policy.Location()).Format("2006-01-02 15:04"))
	t.fields = []*triageField{{kind: fieldTitle, input: title}, {kind: fieldAware, input: aware}}
	t.questions = triageQuestions(m, rb)
	for _, q := range t.questions {
		t.fields = append(t.fields, newQuestionField(q, w))
	}
	if len(m.customers) > 0 {
		t.fields = append(t.fields, &triageField{kind: fieldCustomers, input: newTextInput("type to filter", w)})
	}
	t.fields = append(t.fields, &triageField{kind: fieldDecision}, &triageField{kind: fieldReason,
		input: newTextInput("e.g. planned load test, confirmed with the web team", w)})
	t.reclassify(m)
	m.triage = t
	m.screen = screenTriage
	return t.focusField(0)
}

// startReassess opens the triage of an incident again, with its stored
// answers, to record a new assessment.
func (m *Model) startReassess(d store.Detail) tea.Cmd {
	in := d.Incident
	rb, ok := m.lib.Get(in.RunbookID)
	if !ok {
		return m.setStatus("Runbook "+in.RunbookID+" is not loaded, so "+in.ID+" cannot be re-assessed here.", true)
	}
	t := &triageModel{rb: rb, started: m.now, mode: modeReassess, incidentID: in.ID,
		title: in.ID + " · " + clean(in.Title), awareAt: in.AwareAt, declaredAt: in.DeclaredAt}
	if d.Drill != nil {
		// A drill incident is re-assessed on its drill's clock, which the
		// service reads from the database; the form shows the time it
		// stood at when the detail was read, moving on with the app.
		t.drillClock = d.Drill
		t.exercise = fmt.Sprintf("drill %s: this re-assesses a drill incident, on the drill clock", d.Drill.RunID)
	} else if in.Drill {
		t.exercise = "a drill incident: this re-assessment changes an exercise, not a real incident"
	}
	w := t.inputWidth(m)
	t.questions = triageQuestions(m, rb)
	for _, q := range t.questions {
		f := newQuestionField(q, w)
		if v, ok := in.Answers[q.ID]; ok {
			f.setAnswer(v)
		}
		t.fields = append(t.fields, f)
	}
	t.fields = append(t.fields, &triageField{kind: fieldReason,
		input: newTextInput("what changed: e.g. misuse confirmed by the bank", w)})
	t.reclassify(m)
	m.triage = t
	m.screen = screenTriage
	return t.focusField(0)
}

func newQuestionField(q runbook.Question, w int) *triageField {
	f := &triageField{kind: fieldQuestion, q: q}
	switch q.Type {
	case runbook.Number:
		f.input = newTextInput("a number, e.g. 12000, 12,000, 12k or ~12000; empty = not answered", w)
	case runbook.Text:
		f.input = newTextInput("free text; empty = not answered", w)
	}
	return f
}

// setAnswer puts a stored answer into the field.
func (f *triageField) setAnswer(v any) {
	c, err := classify.Coerce(f.q, v)
	if err != nil {
		return
	}
	switch x := c.(type) {
	case bool:
		f.sel = "no"
		if x {
			f.sel = "yes"
		}
	case float64:
		f.input.SetValue(classify.FormatNumber(x))
	case string:
		if f.q.Type == runbook.Text {
			f.input.SetValue(x)
		} else {
			f.sel = x
		}
	case []string:
		f.multi = slices.Clone(x)
		if len(x) == 0 {
			f.multi = []string{noneOfThem}
		}
	}
}

func (t *triageModel) inputWidth(m *Model) int {
	return max(min(t.formWidth(m)-6, 60), 10)
}

func (t *triageModel) formWidth(m *Model) int {
	if m.width >= 100 {
		return m.width/2 - 1
	}
	return m.width
}

// resize fits the text fields to a new width.
func (t *triageModel) resize(m *Model) {
	for _, f := range t.fields {
		f.input.SetWidth(t.inputWidth(m))
	}
}

func (t *triageModel) field(kind fieldKind) *triageField {
	for _, f := range t.fields {
		if f.kind == kind {
			return f
		}
	}
	return nil
}

func (t *triageModel) focused() *triageField { return t.fields[t.focus] }

// question is the field of a runbook question.
func (t *triageModel) question(id string) *triageField {
	for _, f := range t.fields {
		if f.kind == fieldQuestion && f.q.ID == id {
			return f
		}
	}
	return nil
}

// visible reports whether a field is part of the form now: the reason for
// recording an event only once that is the decision.
func (t *triageModel) visible(i int) bool {
	f := t.fields[i]
	if f.kind == fieldReason && t.mode == modeDeclare {
		d := t.field(fieldDecision)
		return d != nil && d.sel == decEvent
	}
	return true
}

// focusField moves the focus to field i, focusing its text input.
func (t *triageModel) focusField(i int) tea.Cmd {
	i = max(0, min(i, len(t.fields)-1))
	t.fields[t.focus].input.Blur()
	t.focus, t.offset = i, 0
	f := t.fields[i]
	f.cursor = f.initialCursor(t)
	if f.textual() || f.kind == fieldCustomers {
		return f.input.Focus()
	}
	return nil
}

// initialCursor puts the option cursor on the current answer.
func (f *triageField) initialCursor(t *triageModel) int {
	opts := f.options(t, nil)
	switch f.kind {
	case fieldDecision:
		want := decDeclare
		if f.sel != "" {
			want = f.sel
		} else if !t.verdict.Incident {
			want = decEvent
		}
		return max(slices.IndexFunc(opts, func(o option) bool { return o.value == want }), 0)
	case fieldQuestion:
		if f.q.Type == runbook.YesNo || f.q.Type == runbook.Choice {
			return max(slices.IndexFunc(opts, func(o option) bool { return o.value == f.sel }), 0)
		}
	}
	return 0
}

// next moves to the next field that is part of the form; at the end of a
// re-assessment or a declaration it submits.
func (t *triageModel) next(m *Model) tea.Cmd {
	for i := t.focus + 1; i < len(t.fields); i++ {
		if t.visible(i) {
			return t.focusField(i)
		}
	}
	return t.submit(m)
}

func (t *triageModel) prev() tea.Cmd {
	for i := t.focus - 1; i >= 0; i-- {
		if t.visible(i) {
			return t.focusField(i)
		}
	}
	return nil
}

// toEnd jumps over the remaining questions to the customers and the
// decision (or a re-assessment's reason): what is left unanswered counts
// as the worst case.
func (t *triageModel) toEnd() tea.Cmd {
	for i, f := range t.fields {
		if f.kind == fieldCustomers || f.kind == fieldDecision || f.kind == fieldReason && t.mode == modeReassess {
			return t.focusField(i)
		}
	}
	return nil
}

// options are the lines a picking field offers, after the customers
// filter.
func (f *triageField) options(t *triageModel, m *Model) []option {
	switch f.kind {
	case fieldDecision:
		return []option{{value: decDeclare, label: "Declare an incident"},
			{value: decEvent, label: "Record as an assessed event (no incident)"}}
	case fieldCustomers:
		if m == nil {
			return nil
		}
		q := strings.TrimSpace(f.input.Value())
		var out []option
		for _, c := range m.customers {
			detail := strings.Join(nonEmpty(c.Language, c.Region, c.ContactKind), " · ")
			o := option{value: c.ID, label: clean(c.Name) + " (" + c.ID + ")", detail: detail}
			if q == "" || fuzzy(q, c.ID+" "+c.Name) {
				out = append(out, o)
			}
		}
		return out
	}
	switch f.q.Type {
	case runbook.YesNo:
		return []option{{value: "", label: "Not answered (assume the worst)"}, {value: "yes", label: "Yes"}, {value: "no", label: "No"}}
	case runbook.Choice:
		out := []option{{value: "", label: "Not answered (assume the worst)"}}
		for _, c := range f.q.Choices {
			out = append(out, option{value: c.Value, label: clean(c.Label)})
		}
		return out
	case runbook.Multi:
		var out []option
		for _, c := range f.q.Choices {
			out = append(out, option{value: c.Value, label: clean(c.Label)})
		}
		return append(out, option{value: noneOfThem, label: "None of these"})
	}
	return nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// digit is the option a digit key names: "1" the first numbered option.
// Single choices number "not answered" 0.
func (f *triageField) digit(t *triageModel, m *Model, k string) (int, bool) {
	if len(k) != 1 || k[0] < '0' || k[0] > '9' {
		return 0, false
	}
	n := int(k[0] - '0')
	opts := f.options(t, m)
	if !f.zeroBased() {
		n--
	}
	if n < 0 || n >= len(opts) {
		return 0, false
	}
	return n, true
}

// zeroBased: the first option ("not answered") is numbered 0.
func (f *triageField) zeroBased() bool {
	return f.kind == fieldQuestion && (f.q.Type == runbook.YesNo || f.q.Type == runbook.Choice)
}

func (f *triageField) toggle(v string) {
	if i := slices.Index(f.multi, v); i >= 0 {
		f.multi = slices.Delete(f.multi, i, i+1)
		return
	}
	if f.kind == fieldQuestion {
		// "None of these" and real choices exclude each other.
		if v == noneOfThem {
			f.multi = nil
		} else if i := slices.Index(f.multi, noneOfThem); i >= 0 {
			f.multi = slices.Delete(f.multi, i, i+1)
		}
	}
	f.multi = append(f.multi, v)
}

// triageKeys are the triage form's bindings: the footer and ? list them.
var triageKeys = struct {
	Next, Prev, End, Clear, Toggle, QuestionHelp, Verdict key.Binding
}{
	Next:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "answer and next")),
	Prev:         key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous field")),
	End:          key.NewBinding(key.WithKeys("ctrl+e"), key.WithHelp("ctrl+e", "skip to customers and decision")),
	Clear:        key.NewBinding(key.WithKeys("backspace", "0"), key.WithHelp("0", "not answered")),
	Toggle:       key.NewBinding(key.WithKeys("space"), key.WithHelp("space/1-9", "toggle")),
	QuestionHelp: key.NewBinding(key.WithKeys("ctrl+g"), key.WithHelp("ctrl+g", "the question's help in full")),
	Verdict:      key.NewBinding(key.WithKeys("ctrl+o"), key.WithHelp("ctrl+o", "the verdict in full")),
}

func (t *triageModel) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	f := t.focused()
	switch k.String() {
	case "esc":
		return t.leave(m)
	case "tab":
		return t.next(m)
	case "shift+tab":
		return t.prev()
	case "ctrl+e":
		return t.toEnd()
	case "ctrl+o":
		m.overlay = newTextOverlay(t.verdictView(m, boxWidth(m.width, 96)))
		return nil
	case "ctrl+g":
		if f.kind == fieldQuestion {
			text := m.styles.Bold.Render(clean(f.q.Text))
			if f.q.Help != "" {
				text += "\n\n" + clean(f.q.Help)
			}
			m.overlay = newTextOverlay(text)
		}
		return nil
	}
	if f.textual() {
		return t.updateText(m, f, k)
	}
	return t.updatePick(m, f, k)
}

// leave goes back to where the triage started, asking first when answers
// would be lost.
func (t *triageModel) leave(m *Model) tea.Cmd {
	back := func() tea.Cmd {
		m.triage = nil
		if t.mode == modeReassess {
			m.screen = screenIncident
			return nil
		}
		m.screen = m.backFromIncident()
		return nil
	}
	if t.dirty() {
		prompt := "Leave the triage? Your answers will be lost."
		if t.mode == modeReassess {
			prompt = "Leave the re-assessment? Nothing is recorded."
		}
		m.overlay = &confirmOverlay{prompt: prompt, yes: back}
		return nil
	}
	return back()
}

func (t *triageModel) updateText(m *Model, f *triageField, k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "enter":
		if f.err = t.validate(m, f); f.err != "" {
			return nil
		}
		return t.next(m)
	case "up":
		return t.prev()
	case "down":
		return t.next(m)
	}
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(k)
	f.err = ""
	if f.kind == fieldQuestion && f.q.Type == runbook.Number {
		// Say at once, beside the field, when it is not a number yet.
		f.err = t.validate(m, f)
	}
	t.reclassify(m)
	return cmd
}

// validate checks a text field; the message shows beside it.
func (t *triageModel) validate(m *Model, f *triageField) string {
	v := strings.TrimSpace(f.input.Value())
	switch f.kind {
	case fieldTitle:
		if v == "" {
			return "a title is required"
		}
	case fieldAware:
		if _, err := t.parseAware(m, v); err != nil {
			return err.Error()
		}
	case fieldReason:
		if v == "" && t.mode == modeDeclare {
			return "a reason is required"
		}
	case fieldQuestion:
		if f.q.Type != runbook.Number || v == "" {
			return ""
		}
		n, err := classify.ParseNumber(v)
		if err != nil {
			return err.Error()
		}
		if msg := runbook.CheckAnswer(f.q, n); msg != "" {
			return msg
		}
	}
	return ""
}

func (t *triageModel) updatePick(m *Model, f *triageField, k tea.KeyPressMsg) tea.Cmd {
	opts := f.options(t, m)
	s := k.String()
	pick := func(i int) tea.Cmd {
		if i < 0 || i >= len(opts) {
			return nil
		}
		f.cursor = i
		switch {
		case f.kind == fieldCustomers || f.kind == fieldQuestion && f.q.Type == runbook.Multi:
			f.toggle(opts[i].value)
			t.reclassify(m)
			return nil
		case f.kind == fieldDecision:
			f.sel = opts[i].value
			if f.sel == decDeclare {
				return t.submit(m)
			}
			return t.next(m)
		}
		f.sel = opts[i].value
		t.reclassify(m)
		return t.next(m)
	}
	switch {
	case s == "up":
		f.cursor = max(f.cursor-1, 0)
		return nil
	case s == "down":
		f.cursor = min(f.cursor+1, max(len(opts)-1, 0))
		return nil
	case s == "enter":
		if f.kind == fieldCustomers || f.kind == fieldQuestion && f.q.Type == runbook.Multi {
			return t.next(m)
		}
		return pick(f.cursor)
	case s == "space" && (f.kind == fieldCustomers || f.q.Type == runbook.Multi):
		return pick(f.cursor)
	case f.kind == fieldQuestion && f.q.Type == runbook.YesNo && (s == "y" || s == "n"):
		return pick(slices.IndexFunc(opts, func(o option) bool { return o.value == map[string]string{"y": "yes", "n": "no"}[s] }))
	case f.kind == fieldQuestion && s == "backspace" && f.q.Type != runbook.Multi:
		f.sel, f.cursor = "", 0
		t.reclassify(m)
		return nil
	}
	if i, ok := f.digit(t, m, s); ok {
		return pick(i)
	}
	if f.kind == fieldCustomers {
		// Anything else types into the filter.
		var cmd tea.Cmd
		f.input, cmd = f.input.Update(k)
		f.cursor = 0
		return cmd
	}
	return nil
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

// answers collects the answered questions from the form.
func (t *triageModel) answers() classify.Answers {
	a := classify.Answers{}
	for _, f := range t.fields {
		if f.kind != fieldQuestion {
			continue
		}
		q := f.q
		switch q.Type {
		case runbook.Multi:
			if len(f.multi) == 0 {
				continue
			}
			out := []string{}
			for _, s := range f.multi {
				if s != noneOfThem {
					out = append(out, s)
				}
			}
			a[q.ID] = out
		case runbook.YesNo:
			switch f.sel {
			case "yes":
				a[q.ID] = true
			case "no":
				a[q.ID] = false
			}
		case runbook.Number:
			if n, err := classify.ParseNumber(f.input.Value()); err == nil && runbook.CheckAnswer(q, n) == "" {
				a[q.ID] = n
			}
		case runbook.Text:
			if v := strings.TrimSpace(f.input.Value()); v != "" {
				a[q.ID] = v
			}
		default:
			if f.sel != "" {
				a[q.ID] = f.sel
			}
		}
	}
	return a
}

// events are the moments the verdict's clocks run from.
func (t *triageModel) events(m *Model) classify.Events {
	if t.mode == modeReassess {
		return classify.Events{Aware: t.awareAt, Classified: t.declaredAt}
	}
	aware, err := t.parseAware(m, t.field(fieldAware).input.Value())
	if err != nil {
		aware = t.now(m)
	}
	return classify.Events{Aware: aware, Classified: t.now(m)}
}

// reclassify recomputes the verdict: pure computation, fast enough to run
// on every key (see BenchmarkClassify).
func (t *triageModel) reclassify(m *Model) {
	t.verdict, t.err = classify.Classify(t.rb, t.answers(), m.deps.Config.Policy, t.events(m), nil)
}

func (t *triageModel) dirty() bool {
	if t.mode == modeReassess {
		return true
	}
	f := t.field(fieldTitle)
	return strings.TrimSpace(f.input.Value()) != "" || len(t.answers()) > 0
}

// retry reopens a submitted form after the service refused it.
func (t *triageModel) retry() { t.sent = false }

// submit checks every field, moving to the first that is wrong, then
// declares the incident, records the event, or records the re-assessment.
func (t *triageModel) submit(m *Model) tea.Cmd {
	if t.sent {
		return nil
	}
	for i, f := range t.fields {
		if !t.visible(i) || !f.textual() {
			continue
		}
		if f.err = t.validate(m, f); f.err != "" {
			return tea.Batch(t.focusField(i), m.setStatus("Fix "+fieldName(f)+": "+f.err, true))
		}
	}
	t.sent = true
	if t.mode == modeReassess {
		return t.submitReassess(m)
	}
	v := t.verdict
	d := incident.NewDeclaration(t.rb, v, t.answers())
	d.Title = strings.TrimSpace(t.field(fieldTitle).input.Value())
	d.Incident = t.field(fieldDecision).sel != decEvent
	d.DismissReason = strings.TrimSpace(t.field(fieldReason).input.Value())
	if c := t.field(fieldCustomers); c != nil {
		d.Customers = slices.Clone(c.multi)
	}
	d.AwareAt = t.events(m).Aware
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
		next := "Assign an incident commander next (2, a)."
		if len(d.Customers) > 0 {
			next = "Press w to write the customer notices."
		}
		return actionMsg{done: fmt.Sprintf("Declared %s (%s). %s", in.ID, in.Severity, next), open: in.ID}
	}
}

func (t *triageModel) submitReassess(m *Model) tea.Cmd {
	id := t.incidentID
	r := incident.NewReassessment(t.rb, t.verdict, t.answers())
	r.Reason = strings.TrimSpace(t.field(fieldReason).input.Value())
	svc, actor := m.service(id), m.deps.Actor
	return func() tea.Msg {
		res, err := svc.Reassess(m.ctx(), actor, id, r)
		if err != nil {
			return actionMsg{err: err}
		}
		return actionMsg{done: "Re-assessed " + id + ": " + res.Summary(), open: id}
	}
}

func fieldName(f *triageField) string {
	switch f.kind {
	case fieldTitle:
		return "the title"
	case fieldAware:
		return "when we became aware"
	case fieldReason:
		return "the reason"
	case fieldQuestion:
		return fmt.Sprintf("%q", clean(f.q.Text))
	}
	return "the form"
}

// View.

func (t *triageModel) view(m *Model, w, h int) string {
	if t.exercise != "" {
		banner := m.styles.Warn.Render(truncate("EXERCISE · "+t.exercise, w))
		return banner + "\n" + t.viewBody(m, w, h-1)
	}
	return t.viewBody(m, w, h)
}

// viewBody is the triage itself, in w×h.
func (t *triageModel) viewBody(m *Model, w, h int) string {
	s := m.styles
	head := s.Title.Render(clean(t.rb.Title))
	if t.mode == modeReassess {
		head = s.Title.Render("Re-assess "+t.title) + s.Subtle.Render(" · "+clean(t.rb.Title))
	}
	n, i := 0, 0
	for j := range t.fields {
		if t.visible(j) {
			n++
			if j <= t.focus {
				i = n
			}
		}
	}
	head = truncate(head+s.Subtle.Render(fmt.Sprintf("  field %d of %d", i, n)), w)
	if w >= 100 {
		leftW := w/2 - 1
		form := t.formView(m, leftW, h-1)
		right := m.styles.Box.Width(w - leftW - 1).Render(fit(t.verdictView(m, w-leftW-5), w-leftW-5, h-3))
		return head + "\n" + lipgloss.JoinHorizontal(lipgloss.Top, fit(form, leftW, h-1), " ", right)
	}
	// Narrow: the verdict and its deadlines above the form.
	n = 2
	if h >= 18 {
		n = 4
	}
	top := t.verdictLine(m, w) + "\n" + t.deadlines(m, w, n)
	formH := h - 1 - lipgloss.Height(top)
	return head + "\n" + top + "\n" + t.formView(m, w, formH)
}

// formView draws the fields in h lines: the focused one in full, with all
// its options (scrolled to keep the highlighted one in view when they do
// not fit), and around it the others on one line each.
func (t *triageModel) formView(m *Model, w, h int) string {
	s := m.styles
	block := t.fieldBlock(m, t.focused(), w, h)
	// The fields around the focused one, one line each, as room allows:
	// up to half the room for those before, the rest after, and what is
	// left over before again.
	var before, after []string
	room := h - len(block)
	var prevIdx, nextIdx []int
	for j := t.focus - 1; j >= 0; j-- {
		if t.visible(j) {
			prevIdx = append(prevIdx, j)
		}
	}
	for j := t.focus + 1; j < len(t.fields); j++ {
		if t.visible(j) {
			nextIdx = append(nextIdx, j)
		}
	}
	nb := min(len(prevIdx), max(room/2, room-len(nextIdx)))
	nb = max(nb, 0)
	na := min(len(nextIdx), max(room-nb, 0))
	nb = min(len(prevIdx), max(room-na, 0))
	for _, j := range prevIdx[:nb] {
		before = append([]string{t.fieldLine(m, t.fields[j], w)}, before...)
	}
	for _, j := range nextIdx[:na] {
		after = append(after, t.fieldLine(m, t.fields[j], w))
	}
	lines := append(append(before, block...), after...)
	if len(lines) < h {
		lines = append(lines, "", s.Faint.Render(truncate("  esc leaves · shift+tab goes back · ctrl+o the verdict in full", w)))
	}
	return strings.Join(lines, "\n")
}

// fieldLine is a field that is not focused: its name and answer.
func (t *triageModel) fieldLine(m *Model, f *triageField, w int) string {
	s := m.styles
	name, answer := t.fieldTitle(f), t.answerText(m, f)
	mark := s.OK.Render("✓ ")
	if answer == "" {
		mark, answer = s.Faint.Render("· "), s.Faint.Render(t.unansweredText(f))
	}
	if f.err != "" {
		mark, answer = s.Danger.Render("! "), s.StatusErr.Render(f.err)
	}
	nameW := min(max(w/2, 12), 40)
	return truncate(mark+s.Subtle.Render(padRight(name, nameW))+" "+answer, w)
}

func (t *triageModel) unansweredText(f *triageField) string {
	switch f.kind {
	case fieldQuestion:
		return "not answered: " + worstText(f.q)
	case fieldCustomers:
		return "none selected"
	}
	return "—"
}

// worstText says what an unanswered question is taken to be.
func worstText(q runbook.Question) string {
	w := q.WorstValue()
	switch x := w.(type) {
	case bool:
		if x {
			return "assumed yes"
		}
		return "assumed no"
	case float64:
		return "assumed " + classify.FormatNumber(x)
	case string:
		for _, c := range q.Choices {
			if c.Value == x {
				return "assumed " + clean(c.Label)
			}
		}
		if x == "" {
			return "left empty"
		}
		return "assumed " + x
	case []any:
		return fmt.Sprintf("assumed all %d", len(x))
	case []string:
		return fmt.Sprintf("assumed all %d", len(x))
	}
	return "assumed the worst"
}

func (t *triageModel) fieldTitle(f *triageField) string {
	switch f.kind {
	case fieldTitle:
		return "Title"
	case fieldAware:
		return "Became aware (" + "starts the clocks)"
	case fieldCustomers:
		return "Affected customers"
	case fieldDecision:
		return "Decision"
	case fieldReason:
		if t.mode == modeReassess {
			return "What changed (recorded with the re-assessment)"
		}
		return "Why is this not an incident?"
	}
	return clean(f.q.Text)
}

// answerText is a field's answer in words ("" when unanswered).
func (t *triageModel) answerText(m *Model, f *triageField) string {
	if f.textual() {
		return clean(strings.TrimSpace(f.input.Value()))
	}
	switch f.kind {
	case fieldCustomers:
		return strings.Join(f.multi, ", ")
	case fieldDecision:
		for _, o := range f.options(t, m) {
			if o.value == f.sel {
				return o.label
			}
		}
		return ""
	}
	if f.q.Type == runbook.Multi {
		var labels []string
		for _, o := range f.options(t, m) {
			if slices.Contains(f.multi, o.value) {
				labels = append(labels, o.label)
			}
		}
		return strings.Join(labels, "; ")
	}
	for _, o := range f.options(t, m) {
		if o.value == f.sel && f.sel != "" {
			return o.label
		}
	}
	return ""
}

// fieldBlock draws the focused field in at most h lines: its question,
// its help (cut first when space is short; ctrl+g shows it whole), its
// input or options, and its error beside it.
func (t *triageModel) fieldBlock(m *Model, f *triageField, w, h int) []string {
	s := m.styles
	wrap := func(text string, width int) []string {
		return strings.Split(lipgloss.NewStyle().Width(max(width, 10)).Render(text), "\n")
	}
	titleLines := wrap(s.Bold.Render(t.fieldTitle(f)), w)
	var help []string
	if f.kind == fieldQuestion && f.q.Help != "" {
		help = wrap(s.Subtle.Render(clean(f.q.Help)), w)
	}
	switch f.kind {
	case fieldAware:
		help = wrap(s.Subtle.Render("YYYY-MM-DD HH:MM, "+m.deps.Config.Policy.Location().String()+
			". The regulatory clocks run from this moment."), w-2)
	case fieldCustomers:
		help = wrap(s.Subtle.Render("Each gets its own notice with only its own data. Type to filter; space or 1-9 toggles; enter goes on."), w-2)
	case fieldDecision:
		help = wrap(s.Subtle.Render("Unanswered questions count as the worst case; the verdict shows what the rules make of them."), w-2)
	}
	var body []string
	errLine := ""
	if f.err != "" {
		errLine = s.StatusErr.Render("✗ " + f.err)
	}
	if f.textual() {
		in := "  " + f.input.View()
		if errLine != "" && lipgloss.Width(in)+2+lipgloss.Width(errLine) <= w {
			body = []string{in + "  " + errLine}
			errLine = ""
		} else {
			body = []string{in}
		}
		if errLine != "" {
			body = append(body, "  "+errLine)
		}
	} else {
		body = t.optionLines(m, f, w, h-len(titleLines)-1)
	}
	// Cut the help first: options and input always show.
	room := h - len(titleLines) - len(body)
	if len(help) > room {
		if room <= 0 {
			help = nil
		} else {
			help = append(help[:room-1:room-1], truncate(strings.TrimRight(help[room-1], " "), w-26)+s.Faint.Render(" … ctrl+g: all of it"))
		}
	}
	out := append(append(titleLines, help...), body...)
	if len(out) > h {
		out = out[:max(h, 1)]
	}
	return out
}

// optionLines lists a picking field's options in at most h lines,
// scrolled to keep the highlighted one in view.
func (t *triageModel) optionLines(m *Model, f *triageField, w, h int) []string {
	s := m.styles
	opts := f.options(t, m)
	var head []string
	if f.kind == fieldCustomers {
		sel := "none yet"
		if len(f.multi) > 0 {
			sel = strings.Join(f.multi, ", ")
		}
		head = append(head, "  "+f.input.View(), "  "+s.Accent.Render(truncate(fmt.Sprintf("Selected (%d): %s", len(f.multi), sel), w-2)))
	}
	rows := max(h-len(head), 1)
	if len(opts) == 0 {
		return append(head, s.Subtle.Render("  nothing matches; backspace edits the filter"))
	}
	// Each option is a block of lines: a long label wraps under itself.
	blocks := make([][]string, len(opts))
	total := 0
	for i, o := range opts {
		num := i + 1
		if f.zeroBased() {
			num = i
		}
		key := "  "
		if num <= 9 {
			key = fmt.Sprintf("%d ", num)
		}
		if f.kind == fieldQuestion && f.q.Type == runbook.YesNo && o.value != "" {
			key = strings.ToLower(o.label[:1]) + " "
		}
		mark := "( )"
		checked := false
		switch {
		case f.kind == fieldCustomers || f.kind == fieldQuestion && f.q.Type == runbook.Multi:
			mark, checked = "[ ]", slices.Contains(f.multi, o.value)
			if checked {
				mark = "[x]"
			}
		default:
			checked = f.sel == o.value && (f.sel != "" || f.kind == fieldQuestion)
			if checked {
				mark = "(•)"
			}
		}
		label := o.label
		if o.detail != "" {
			label += s.Subtle.Render("  " + o.detail)
		}
		wrapped := wrapText(label, max(w-8, 10))
		if len(wrapped) > 3 {
			wrapped = append(wrapped[:2], truncate(strings.Join(wrapped[2:], " "), max(w-8, 10)))
		}
		if checked {
			mark = s.OK.Render(mark)
		}
		cur := "  "
		if i == f.cursor {
			cur = s.Cursor.Render("› ")
		}
		block := []string{truncate(cur+s.Faint.Render(key)+mark+" "+wrapped[0], w)}
		for _, l := range wrapped[1:] {
			block = append(block, truncate(strings.Repeat(" ", 8)+l, w))
		}
		blocks[i] = block
		total += len(block)
	}
	lines := head
	if total <= rows {
		t.offset = 0
		for _, b := range blocks {
			lines = append(lines, b...)
		}
		return lines
	}
	if rows >= 3 {
		rows-- // a line saying more are there
	}
	// The window starts where it was, moved just enough to show the
	// cursor's option in full.
	t.offset = min(t.offset, f.cursor)
	height := func(from, to int) int {
		n := 0
		for i := from; i <= to; i++ {
			n += len(blocks[i])
		}
		return n
	}
	for t.offset < f.cursor && height(t.offset, f.cursor) > rows {
		t.offset++
	}
	used, shown := 0, 0
	for i := t.offset; i < len(blocks) && used+len(blocks[i]) <= rows; i++ {
		lines = append(lines, blocks[i]...)
		used += len(blocks[i])
		shown++
	}
	if shown == 0 { // one option taller than the room: its first lines
		lines = append(lines, blocks[f.cursor][:rows]...)
		shown = 1
	}
	lines = append(lines, s.Faint.Render(fmt.Sprintf("  ↑/↓ %d more", len(opts)-shown)))
	return lines
}

// verdictLine is the verdict on one line, for narrow screens.
func (t *triageModel) verdictLine(m *Model, w int) string {
	s := m.styles
	if t.err != nil {
		return s.StatusErr.Render(truncate("Rules failed: "+t.err.Error(), w))
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
	return truncate(line, w)
}

// deadlines lists the verdict's clocks in at most n lines: what a
// responder must see before declaring.
func (t *triageModel) deadlines(m *Model, w, n int) string {
	s := m.styles
	v := t.verdict
	if t.err != nil {
		return ""
	}
	if !v.Incident {
		return s.Subtle.Render(truncate("Deadlines: none, an event starts no notification clock.", w))
	}
	obs := v.Obligations
	if len(obs) == 0 {
		return s.Subtle.Render(truncate("Deadlines: none under the configured policy.", w))
	}
	var lines []string
	for i, o := range obs {
		if len(lines) == n-1 && len(obs) > n {
			lines = append(lines, s.Subtle.Render(truncate(fmt.Sprintf("  … %d more deadlines: ctrl+o shows the verdict in full", len(obs)-i), w)))
			break
		}
		lines = append(lines, truncate(t.deadlineText(m, o, w), w))
	}
	return strings.Join(lines, "\n")
}

func (t *triageModel) deadlineText(m *Model, o deadline.Obligation, w int) string {
	s := m.styles
	st := o.At(t.now(m))
	due := "after " + o.WaitingFor
	if !st.Due.IsZero() {
		due = remaining(st) + " · due " + deadline.Format(st.Due.In(m.deps.Config.Policy.Location()))
	}
	labelW := min(30, max(w/2, 12))
	return clockStyle(s, st).Render("⏱ "+padRight(deadline.Label(o.Rule), labelW)) + " " + due
}

// verdictView shows the verdict, then the deadlines, then the reasons; it
// is cut to the pane's height, so the most important part comes first.
func (t *triageModel) verdictView(m *Model, inner int) string {
	s := m.styles
	var b strings.Builder
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
		b.WriteString(lipgloss.NewStyle().Width(inner).Render(s.Warn.Render(strings.Join(flags, " · "))) + "\n")
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
	b.WriteString(t.deadlines(m, inner, len(v.Obligations)+1) + "\n")
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
