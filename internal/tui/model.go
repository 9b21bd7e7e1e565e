// Package tui is irtui's terminal app, built on Bubble Tea v2: the
// incident list, triage of a new event with a live verdict, and the
// incident view with its clocks, roles, checklist, timeline and
// notifications. It calls the same services as the CLI and does no I/O in
// Update: every database call runs in a command that returns a message.
package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/tabletop"
)

type screen uint8

const (
	screenList screen = iota
	screenPicker
	screenTriage
	screenIncident
	screenDrill
	screenComposer
	screenPager
)

// Deps are the services the app works with. The app reaches data only
// through them, as Actor, so it obeys the same permission checks and read
// audits as the CLI. Many apps may share one set of services in one
// process (irtui serve: one app per SSH session), each with its own Actor
// and Context.
type Deps struct {
	Service *incident.Service
	// Directory lists people and customers (an audited read).
	Directory *identity.Service
	// Changes says when to reload what is on screen: Version is polled
	// every Poll, and Changed, when set, wakes the app at once on a change
	// made in this process. The incident service is one.
	Changes Changes
	// Runbooks loads the runbook library; it runs in a command so the
	// first frame never waits for it.
	Runbooks func() *runbook.Library
	Config   config.Config
	Actor    identity.Actor
	Clock    clock.Clock
	// Dark forces the dark or light palette (--theme, the configuration,
	// or the terminal's COLORFGBG, read by the caller); nil asks the
	// terminal for its background colour.
	Dark *bool
	// NoColor says the user asked for no colour (NO_COLOR in their
	// environment: the process's locally, the SSH client's in irtui serve).
	// The app reads no process-wide state itself, so that sessions of one
	// server each keep their own.
	NoColor bool
	// Poll is how often the database is checked for changes made by other
	// processes (default 500 ms) and the clocks are redrawn. A negative
	// value turns polling and status expiry off (embedding, tests).
	Poll time.Duration
	// Notice is shown in the status line at start.
	Notice string
	// FirstList, if set, is called once, when the first page of the list
	// has arrived: the local app starts the delivery worker then, so that
	// the worker's first scan of the deadlines does not hold up the first
	// frame. It must not block.
	FirstList func()
	// Notify, if set, fills the notifications pane and takes approvals;
	// Wake tells the delivery worker that something became sendable.
	Notify *notify.Service
	Wake   func()
	// Delivery is how the worker delivers (from the environment): the app
	// says what approving a notice will do (posted, mailed, or only
	// exported) before anyone believes it was sent.
	Delivery notify.Settings
	// Locate, if set, finds a Slack message whose outcome is unknown by
	// the key in its metadata (notify.Worker.Locate), so that recording
	// it as delivered keeps the incident's thread.
	Locate func(ctx context.Context, n store.Notification) (string, error)
	// Scenarios loads the drill scenarios once the runbooks are loaded.
	Scenarios func(*runbook.Library) *tabletop.ScenarioLibrary
	// Drills gives the drill package what it needs, with the loaded
	// runbooks: the store and the incident service of a drill, on the
	// drill clock (with notifications wired to it).
	Drills func(*runbook.Library) tabletop.Deps
	// Context ends with the session: commands in flight stop, and the app
	// stops waiting for changes. Nil: context.Background().
	Context context.Context
}

// Changes tells the app that something it shows changed.
type Changes interface {
	// Version changes when what the app shows has changed, in this process
	// or another; reads (which the services audit) do not change it.
	Version(ctx context.Context) (int64, error)
	// Changed returns a channel closed at the next change made in this
	// process, or nil when changes are only polled.
	Changed() <-chan struct{}
}

// NotifyProgressMsg carries a delivery worker's report to the status line.
type NotifyProgressMsg struct {
	Text  string
	Alert bool
}

// RecordAlertMsg says the record can no longer be trusted to keep what is
// done: the database file was deleted or replaced, lost entries, or was
// found damaged. It stays on screen until the app quits.
type RecordAlertMsg struct{ Text string }

// Model is the root model: it owns the screen, routes messages and draws
// the frame. Children are plain structs with methods it calls.
type Model struct {
	deps   Deps
	keys   KeyMap
	styles Styles
	help   help.Model

	width, height int
	screen        screen
	now           time.Time

	lib       *runbook.Library
	people    []store.Person
	customers []store.Customer
	version   int64

	list     listModel
	picker   pickerModel
	triage   *triageModel
	detail   detailModel
	drill    *drillModel   // the drill on screen
	drills   []*drillModel // every drill open in this app
	composer *composerModel
	pager    pagerModel
	overlay  overlay
	// returnDrill: the incident or triage on screen was opened from the
	// drill screen, and esc goes back there.
	returnDrill bool

	// reloading: a reload for a change is in flight; reloadAgain: another
	// change came meanwhile (see reloadOnce).
	reloading, reloadAgain bool

	scenarios *tabletop.ScenarioLibrary
	// pickWhenLoaded: n was pressed before the runbooks were in; the
	// picker opens when they arrive. drillWhenLoaded: D was pressed before
	// the runbooks and scenarios were in; the drills open when they are.
	pickWhenLoaded, drillWhenLoaded bool

	// submitted is the input whose text is being saved; it comes back if
	// saving fails, so nothing typed is lost.
	submitted *inputOverlay

	status    string
	statusErr bool
	statusSeq int
	quitting  bool
	// alert is a RecordAlertMsg, or what a failed action said about the
	// database file: shown above the status line until the app quits.
	alert string
}

// New builds the app.
func New(d Deps) *Model {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Poll == 0 {
		d.Poll = 500 * time.Millisecond
	}
	dark := true
	if d.Dark != nil {
		dark = *d.Dark
	}
	m := &Model{deps: d, keys: DefaultKeyMap(), styles: NewStyles(dark), help: help.New(), width: 80, height: 24}
	m.help.Styles = help.DefaultStyles(dark)
	m.now = d.Clock.Now()
	m.list = newListModel()
	m.list.loading = true
	return m
}

// Init starts loading; the first frame shows progress instead of waiting.
func (m *Model) Init() tea.Cmd {
	// Runbooks load after the first list, so they do not compete with it
	// for the first frames; the picker says so if they are not in yet.
	cmds := []tea.Cmd{m.loadIncidents(), m.loadDirectory(), m.tick(), m.waitForChange()}
	if m.deps.Notice != "" {
		cmds = append(cmds, m.setStatus(m.deps.Notice, false))
	}
	if m.deps.Dark == nil {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

type tickMsg time.Time

func (m *Model) tick() tea.Cmd {
	if m.deps.Poll < 0 {
		return nil
	}
	return tea.Tick(m.deps.Poll, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// statusMsg shows a message in the status line for a while.
type statusMsg struct {
	text string
	err  bool
}

type statusExpiredMsg struct{ seq int }

func (m *Model) setStatus(text string, isErr bool) tea.Cmd {
	// Status text often quotes stored or external text (titles, names).
	m.status, m.statusErr = clean(text), isErr
	m.statusSeq++
	seq := m.statusSeq
	if m.deps.Poll < 0 {
		return nil
	}
	ttl := 4 * time.Second
	if isErr {
		ttl = 8 * time.Second
	}
	return tea.Tick(ttl, func(time.Time) tea.Msg { return statusExpiredMsg{seq} })
}

// Update routes a message: results of commands first, then overlays, then
// the focused screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ok, cmd := m.updateDrill(msg); ok {
		return m, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		if m.triage != nil {
			m.triage.resize(m)
		}
		if m.composer != nil {
			m.composer.resize(m)
		}
		m.detail.invalidate() // step bodies are wrapped to the width
		return m, nil
	case tea.BackgroundColorMsg:
		if m.deps.Dark != nil {
			return m, nil // the user chose
		}
		m.styles = NewStyles(msg.IsDark())
		m.help.Styles = help.DefaultStyles(msg.IsDark())
		m.detail.invalidate()
		return m, nil
	case tickMsg:
		m.now = time.Time(msg)
		if c, ok := m.deps.Clock.(*clock.Fake); ok {
			m.now = c.Now()
		}
		cmds := []tea.Cmd{m.tick(), m.poll()}
		if len(m.drills) > 0 { // drill time passes on every screen
			cmds = append(cmds, m.drillTick())
		}
		return m, tea.Batch(cmds...)
	case changedMsg:
		return m, tea.Batch(m.poll(), m.waitForChange())
	case versionMsg:
		if msg.err != nil || msg.version == m.version {
			return m, nil
		}
		first := m.version == 0
		m.version = msg.version
		if first {
			return m, nil
		}
		return m, m.reloadOnce()
	case statusMsg:
		return m, m.setStatus(msg.text, msg.err)
	case statusExpiredMsg:
		if msg.seq == m.statusSeq {
			m.status = ""
		}
		return m, nil
	case runbooksMsg:
		m.lib = msg.lib
		m.picker.setRunbooks(msg.lib)
		var cmds []tea.Cmd
		if m.pickWhenLoaded && m.screen == screenList && m.overlay == nil {
			cmds = append(cmds, m.startPicker())
		}
		m.pickWhenLoaded = false
		if load := m.deps.Scenarios; load != nil {
			lib := msg.lib
			cmds = append(cmds, func() tea.Msg { return scenariosMsg{lib: load(lib)} })
		}
		switch {
		case len(msg.lib.Failed) > 0:
			cmds = append(cmds, m.setStatus(fmt.Sprintf("%d runbook problem(s): run `irtui runbooks lint`", len(msg.lib.Failed)), true))
		case len(msg.lib.Warnings) > 0:
			cmds = append(cmds, m.setStatus(msg.lib.Warnings[0], true))
		}
		return m, tea.Batch(cmds...)
	case scenariosMsg:
		m.scenarios = msg.lib
		if m.drillWhenLoaded && m.screen == screenList && m.overlay == nil {
			m.drillWhenLoaded = false
			return m, m.chooseDrill()
		}
		m.drillWhenLoaded = false
		return m, nil
	case NotifyProgressMsg:
		// What the worker records is committed in this process: an app
		// told of changes at once (waitForChange) reloads then, so only one
		// that is not reloads here. In irtui serve every session hears each
		// report, and each reload is two audited reads.
		if m.pushed() {
			return m, m.setStatus(msg.Text, msg.Alert)
		}
		return m, tea.Batch(m.setStatus(msg.Text, msg.Alert), m.reload())
	case directoryMsg:
		if msg.err != nil {
			return m, m.setStatus("Could not read the directory: "+msg.err.Error(), true)
		}
		m.people, m.customers = msg.people, msg.customers
		return m, nil
	case incidentsMsg:
		var more tea.Cmd
		if m.list.loading && m.lib == nil {
			more = m.loadRunbooks()
		}
		if m.deps.FirstList != nil {
			m.deps.FirstList()
			m.deps.FirstList = nil
		}
		if m.reloading { // the list is what a reload waits for
			m.reloading = false
			if m.reloadAgain {
				m.reloadAgain = false
				more = tea.Batch(more, m.reloadOnce())
			}
		}
		m.list.loading = false
		if msg.err != nil {
			if msg.req.seq == m.list.seq {
				m.list.pending = false
			}
			return m, m.setStatus("Could not list incidents: "+msg.err.Error(), true)
		}
		m.list.apply(msg.req, msg.rows, msg.page)
		if m.screen == screenList {
			return m, tea.Batch(more, m.list.follow(m))
		}
		return m, more
	case detailMsg:
		if msg.err != nil {
			return m, m.setStatus(msg.err.Error(), true)
		}
		if m.screen == screenIncident && m.detail.id == msg.detail.Incident.ID || msg.open {
			m.detail.set(msg.detail, msg.obligations)
			m.detail.notices = msg.notices
			if msg.open {
				m.screen = screenIncident
			}
		}
		return m, nil
	case timelinePageMsg:
		if msg.err != nil {
			if msg.req.seq == m.detail.tl.seq {
				m.detail.tl.pending = false
			}
			return m, m.setStatus(msg.err.Error(), true)
		}
		m.detail.applyPage(msg.req, msg.entries)
		return m, m.detail.followTimeline(m)
	case RecordAlertMsg:
		m.alert = clean(msg.Text)
		return m, nil
	case actionMsg:
		submitted := m.submitted
		m.submitted = nil
		if msg.err != nil {
			m.noteRecordError(msg.err)
			if m.screen == screenTriage && m.triage != nil {
				m.triage.retry() // let the user fix the form and submit again
			}
			if submitted != nil && m.overlay == nil {
				// Give back what was typed, with the reason it failed.
				submitted.problem = msg.err.Error()
				m.overlay = submitted
			}
			return m, m.setStatus(msg.err.Error(), true)
		}
		cmds := []tea.Cmd{m.setStatus(msg.done, false), m.loadIncidents(), m.drillTick()}
		if msg.open != "" && m.screen == screenTriage && m.returnDrill && m.drill != nil {
			// A drill's triage declared its incident: back to the
			// facilitator's screen, where t opens it.
			m.triage, m.returnDrill = nil, false
			m.screen = screenDrill
			cmds[0] = m.setStatus(msg.done+" Back on the drill: t opens it.", false)
		} else if msg.open != "" {
			m.triage = nil
			m.detail = newDetailModel(msg.open)
			m.screen = screenIncident
			cmds = append(cmds, m.loadDetail(msg.open, true))
		} else if m.screen == screenIncident {
			cmds = append(cmds, m.loadDetail(m.detail.id, false))
		}
		return m, tea.Batch(cmds...)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		return m, m.paste(msg)
	case applier:
		return m, msg.apply(m)
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		if _, asking := m.overlay.(*confirmOverlay); !asking {
			return m.quit()
		}
	}
	if o := m.overlay; o != nil {
		closeIt, cmd := o.update(m, msg)
		if closeIt && m.overlay == o { // it may have opened the next step
			m.overlay = nil
			if in, ok := o.(*inputOverlay); ok && cmd != nil {
				m.submitted = in // kept until the action reports back
			}
		}
		return cmd
	}
	if key.Matches(msg, m.keys.Quit) && m.screen != screenTriage && !m.typing() {
		return m.quit()
	}
	if key.Matches(msg, m.keys.Help) && !m.typing() {
		m.overlay = &helpOverlay{}
		return nil
	}
	switch m.screen {
	case screenList:
		return m.list.update(m, msg)
	case screenPicker:
		return m.picker.update(m, msg)
	case screenTriage:
		return m.triage.update(m, msg)
	case screenIncident:
		return m.detail.update(m, msg)
	case screenDrill:
		return m.drill.update(m, msg)
	case screenComposer:
		return m.composer.update(m, msg)
	case screenPager:
		return m.pager.update(m, msg)
	}
	return nil
}

// typing reports whether keys go to a text field, so q and ? are text.
func (m *Model) typing() bool {
	switch m.screen {
	case screenList:
		return m.list.filtering
	case screenPicker:
		return true
	case screenTriage:
		return m.triage != nil && (m.triage.focused().textual() || m.triage.focused().kind == fieldCustomers)
	case screenComposer:
		return m.composer != nil && m.composer.editing
	}
	return false
}

// paste puts pasted text into the text field that has the focus.
func (m *Model) paste(msg tea.PasteMsg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case m.overlay != nil:
		if in, ok := m.overlay.(*inputOverlay); ok {
			in.input, cmd = in.input.Update(msg)
		}
	case m.screen == screenTriage && m.triage != nil:
		if f := m.triage.focused(); f.textual() || f.kind == fieldCustomers {
			f.input, cmd = f.input.Update(msg)
			m.triage.reclassify(m)
		}
	case m.screen == screenComposer && m.composer != nil && m.composer.editing:
		m.composer.input, cmd = m.composer.input.Update(msg)
	case m.screen == screenPicker:
		m.picker.filter, cmd = m.picker.filter.Update(msg)
	case m.screen == screenList && m.list.filtering:
		m.list.filter, cmd = m.list.filter.Update(msg)
		cmd = tea.Batch(cmd, m.list.refilter(m))
	}
	return cmd
}

// quit asks first when leaving would lose what the user typed: triage
// answers, or text in an open input.
func (m *Model) quit() tea.Cmd {
	if cmd, asked := m.quitDrills(); asked {
		return cmd
	}
	in, typing := m.overlay.(*inputOverlay)
	typing = typing && strings.TrimSpace(in.input.Value()) != ""
	if typing || m.screen == screenTriage && m.triage != nil && m.triage.dirty() {
		m.overlay = &confirmOverlay{prompt: "Quit and lose what you typed?", yes: func() tea.Cmd {
			m.quitting = true
			return tea.Quit
		}}
		return nil
	}
	m.quitting = true
	return tea.Quit
}

// View draws the frame: header, body, status line and help footer.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "irtui"
	return v
}

func (m *Model) render() string {
	if m.quitting {
		return ""
	}
	w, h := max(m.width, 20), max(m.height, 5)
	header := m.renderHeader(w)
	footer := m.renderFooter(w)
	bodyH := h - lipgloss.Height(header) - lipgloss.Height(footer)
	var body string
	switch m.screen {
	case screenList:
		body = m.list.view(m, w, bodyH)
	case screenPicker:
		body = m.picker.view(m, w, bodyH)
	case screenTriage:
		body = m.triage.view(m, w, bodyH)
	case screenIncident:
		body = m.detail.view(m, w, bodyH)
	case screenDrill:
		body = m.drill.view(m, w, bodyH)
	case screenComposer:
		body = m.composer.view(m, w, bodyH)
	case screenPager:
		body = m.pager.view(m, w, bodyH)
	}
	body = fit(body, w, bodyH)
	if m.overlay != nil {
		body = place(clip(m.overlay.view(m, w, bodyH), w, bodyH), w, bodyH)
	}
	return header + "\n" + body + "\n" + footer
}

func (m *Model) renderHeader(w int) string {
	left := m.styles.HeaderTitle.Render("irtui") + m.styles.HeaderUser.Render(" · security incident response")
	right := m.styles.HeaderUser.Render("you are " + clean(m.deps.Actor.String()))
	gap := w - lipgloss.Width(left) - lipgloss.Width(right) - 2
	if gap < 1 {
		right = ""
		gap = max(w-lipgloss.Width(left)-2, 0)
	}
	return m.styles.Header.Width(w).Render(left + m.styles.Header.UnsetPadding().Render(strings.Repeat(" ", gap)) + right)
}

// noteRecordError keeps on screen an error that says the database cannot
// be trusted to keep what is done.
func (m *Model) noteRecordError(err error) {
	switch {
	case errors.Is(err, store.ErrFileGone):
		m.alert = clean("Your last action may not be saved: " + err.Error() + ". Quit (q), and check the database file.")
	case errors.Is(err, store.ErrDamaged):
		m.alert = clean("Nothing can be saved: " + err.Error() + ".")
	}
}

func (m *Model) renderFooter(w int) string {
	alert := ""
	if m.alert != "" {
		alert = m.styles.StatusErr.Width(w).Render(m.alert) + "\n"
	}
	status := ""
	if m.status != "" {
		st := m.styles.StatusInfo
		if m.statusErr {
			st = m.styles.StatusErr
		}
		status = st.Render(truncate(m.status, w))
	}
	m.help.SetWidth(w)
	return alert + status + "\n" + truncate(m.help.View(m.bindings()), w)
}

// service is the incident service for an incident. A drill incident's
// actions are stamped on its drill clock by the service itself, which
// reads it from the database.
func (m *Model) service(string) *incident.Service { return m.deps.Service }

// nowFor is the time an incident's clocks are read at: the drill clock
// for a drill incident of a run (never the wall clock), otherwise now.
func (m *Model) nowFor(incidentID string) time.Time {
	if d := m.detail.d; d.Incident.ID == incidentID && d.Drill != nil {
		return d.Drill.Now(m.now)
	}
	return m.now
}

// ctx is the context for commands. Commands are short database calls.
func (m *Model) ctx() context.Context {
	if m.deps.Context != nil {
		return m.deps.Context
	}
	return context.Background()
}
