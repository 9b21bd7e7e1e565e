package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the app. The help footer and the ?
// overlay are generated from it, and tests press these bindings.
type KeyMap struct {
	Quit, Help, Back key.Binding

	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Open, New, Filter, Scope                key.Binding

	NextTab, PrevTab             key.Binding
	Tab1, Tab2, Tab3, Tab4, Tab5 key.Binding
	Note, Assign, Acknowledge    key.Binding
	Done, Skip, Severity, Close  key.Binding
	Reopen, Submitted            key.Binding
	Approve, Edit, Retry         key.Binding
	Delivered                    key.Binding
	Drill, Drills                key.Binding
	// Compose opens the notice composer; ApproveAll approves every ready
	// notice the user may approve; Reassess answers the triage again;
	// Customers links and unlinks affected customers.
	Compose, ApproveAll, Reassess, Customers key.Binding
	// Anchor records a moment a clock runs from (materiality determined,
	// ransom paid, ...).
	Anchor key.Binding

	Confirm, Cancel key.Binding
}

// DefaultKeyMap returns the standard bindings.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Quit: b([]string{"q", "ctrl+c"}, "q", "quit"),
		Help: b([]string{"?"}, "?", "help"),
		Back: b([]string{"esc"}, "esc", "back"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g", "first"),
		Bottom:   b([]string{"end", "G"}, "G", "last"),
		Open:     b([]string{"enter"}, "enter", "open"),
		New:      b([]string{"n"}, "n", "new event"),
		Filter:   b([]string{"/"}, "/", "filter"),
		Scope:    b([]string{"c"}, "c", "open/closed/all"),

		NextTab:     b([]string{"tab", "right", "l"}, "tab", "next pane"),
		PrevTab:     b([]string{"shift+tab", "left", "h"}, "shift+tab", "previous pane"),
		Tab1:        b([]string{"1"}, "1", "overview"),
		Tab2:        b([]string{"2"}, "2", "roles"),
		Tab3:        b([]string{"3"}, "3", "runbook"),
		Tab4:        b([]string{"4"}, "4", "timeline"),
		Tab5:        b([]string{"5"}, "5", "notifications"),
		Note:        b([]string{"N", "ctrl+n"}, "N", "add note"),
		Assign:      b([]string{"a"}, "a", "assign role"),
		Acknowledge: b([]string{"A"}, "A", "acknowledge role"),
		Done:        b([]string{"d", "space"}, "d", "step done"),
		Skip:        b([]string{"s"}, "s", "skip step"),
		Severity:    b([]string{"v"}, "v", "change severity"),
		Close:       b([]string{"C"}, "C", "close incident"),
		Reopen:      b([]string{"R"}, "R", "reopen"),
		Submitted:   b([]string{"m"}, "m", "mark notice submitted"),
		Approve:     b([]string{"p"}, "p", "approve notice"),
		Edit:        b([]string{"e"}, "e", "fill in notice field"),
		Retry:       b([]string{"r"}, "r", "retry notice"),
		Delivered:   b([]string{"c"}, "c", "record notice delivered"),
		Drill:       b([]string{"D"}, "D", "table-top drill"),
		Drills:      b([]string{"x"}, "x", "drills"),
		Compose:     b([]string{"w"}, "w", "write customer notices"),
		ApproveAll:  b([]string{"P"}, "P", "approve ready notices"),
		Reassess:    b([]string{"T"}, "T", "re-assess (answer triage again)"),
		Customers:   b([]string{"L"}, "L", "link/unlink customers"),
		Anchor:      b([]string{"t"}, "t", "record when something happened (starts clocks)"),

		Confirm: b([]string{"enter", "y"}, "enter", "confirm"),
		Cancel:  b([]string{"esc"}, "esc", "cancel"),
	}
}

// helpKeys adapts a list of bindings to bubbles/help's KeyMap.
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

// bindings returns the help for the current screen: the short list for the
// footer and the groups for the ? overlay.
func (m *Model) bindings() helpKeys {
	k := m.keys
	switch m.screen {
	case screenList:
		return helpKeys{
			short: []key.Binding{k.New, k.Open, k.Filter, k.Scope, k.Drill, k.Drills, k.Help, k.Quit},
			full:  [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {k.Open, k.New, k.Filter, k.Scope, k.Drill, k.Drills}, {k.Help, k.Quit}},
		}
	case screenPicker:
		return helpKeys{
			short: []key.Binding{k.Open, k.Back, k.Help},
			full:  [][]key.Binding{{k.Up, k.Down}, {k.Open, k.Back}},
		}
	case screenTriage:
		tk := triageKeys
		short := []key.Binding{tk.Next, tk.Prev, tk.End, k.Back}
		if m.triage != nil && !m.triage.focused().textual() {
			short = []key.Binding{tk.Next, tk.Toggle, tk.Clear, tk.End, k.Back, k.Help}
		}
		return helpKeys{
			short: short,
			full:  [][]key.Binding{{tk.Next, tk.Prev, tk.End, tk.Toggle, tk.Clear, tk.QuestionHelp, tk.Verdict}, {k.Back, k.Help, k.Quit}},
		}
	case screenComposer:
		ck := composerKeys
		return helpKeys{
			short: []key.Binding{ck.Save, ck.Skip, ck.Own, ck.Read, k.Back},
			full:  [][]key.Binding{{ck.Save, ck.Skip, ck.Own, ck.Read, k.Up, k.Down}, {k.Back, k.Help, k.Quit}},
		}
	case screenIncident:
		short := []key.Binding{k.NextTab, k.Note}
		switch m.detail.tab {
		case tabRoles:
			short = append(short, k.Assign, k.Acknowledge)
		case tabRunbook:
			short = append(short, k.Done, k.Skip)
		case tabOverview:
			short = append(short, k.Submitted, k.Anchor, k.Reassess, k.Customers, k.Severity)
		case tabTimeline:
			short = append(short, k.Open)
		case tabNotifications:
			short = append(short, k.Open, k.Compose, k.Edit, k.Approve, k.ApproveAll, k.Retry, k.Delivered)
		}
		if m.detail.tab != tabNotifications && m.detail.hasDrafts() {
			short = append(short, k.Compose, k.ApproveAll)
		}
		short = append(short, k.Close, k.Back, k.Help)
		return helpKeys{
			short: short,
			full: [][]key.Binding{
				{k.NextTab, k.PrevTab, k.Tab1, k.Tab2, k.Tab3, k.Tab4, k.Tab5},
				{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Open},
				{k.Note, k.Assign, k.Acknowledge, k.Done, k.Skip},
				{k.Reassess, k.Customers, k.Anchor, k.Severity, k.Submitted},
				{k.Compose, k.Edit, k.Approve, k.ApproveAll, k.Retry, k.Delivered},
				{k.Close, k.Reopen, k.Back, k.Quit},
			},
		}
	case screenDrill:
		return m.drillHelp()
	case screenPager:
		return m.pagerKeys()
	}
	return helpKeys{short: []key.Binding{k.Back, k.Quit}, full: [][]key.Binding{{k.Back, k.Quit}}}
}
