package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// On every screen (and every pane of an incident) the ? help lists each
// binding once, no key is bound to two things, and the footer shows only
// keys the help lists: the keys of the drills and of the 3 a.m. path
// (which were added side by side) must not collide.
func TestHelpListsEveryKeyOncePerScreen(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	h.m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	check := func(name string) {
		t.Helper()
		hk := h.m.bindings()
		listed := map[string]bool{}  // help key, as shown
		owner := map[string]string{} // key pressed -> its binding's help
		for _, group := range hk.full {
			for _, b := range group {
				shown := b.Help().Key + " " + b.Help().Desc
				if listed[shown] {
					t.Errorf("%s: the help lists %q twice", name, shown)
				}
				listed[shown] = true
				for _, k := range b.Keys() {
					if o, ok := owner[k]; ok && o != shown {
						t.Errorf("%s: %q is bound to both %q and %q", name, k, o, shown)
					}
					owner[k] = shown
				}
			}
		}
		help := h.m.keys.Help.Help()
		listed[help.Key+" "+help.Desc] = true // the help need not list itself
		for _, b := range hk.short {
			if shown := b.Help().Key + " " + b.Help().Desc; !listed[shown] {
				t.Errorf("%s: the footer shows %q, which the help does not list", name, shown)
			}
		}
	}
	for _, sc := range screenCases(t, in) {
		h.m.overlay, h.m.triage, h.m.composer, h.m.status = nil, nil, nil, ""
		sc.enter(h)
		check(sc.name)
		if h.m.screen == screenIncident {
			for tb := tabOverview; tb <= tabNotifications; tb++ {
				h.m.detail.tab = tb
				check(sc.name + "/" + tabNames[tb])
			}
		}
	}
	// The pager with enter: the briefing before a drill starts.
	h.m.overlay, h.m.triage = nil, nil
	h.m.screen = screenPager
	h.m.pager.enter = func() tea.Cmd { return nil }
	h.m.pager.hint = "start the drill"
	check("briefing")
}

// The drill screen's keys and the incident screen's keys are different
// screens: t, w, x and R mean one thing on each, and the help of each
// says which.
func TestSharedLettersMeanOneThingPerScreen(t *testing.T) {
	h := newHarness(t)
	in := referenceIncident(t, h)
	h.openIncident(in.ID, tabOverview)
	inc := helpText(h.m.bindings())
	h.m.screen = screenDrill
	dr := helpText(h.m.drillHelp())
	for _, want := range []string{"t record when something happened", "w write customer notices", "R reopen", "T re-assess"} {
		if !strings.Contains(inc, want) || strings.Contains(dr, want) {
			t.Errorf("%q: incident help %v, drill help %v", want, strings.Contains(inc, want), strings.Contains(dr, want))
		}
	}
	for _, want := range []string{"t triage / open the drill incident", "w went well", "R report", "x mark expected action"} {
		if !strings.Contains(dr, want) || strings.Contains(inc, want) {
			t.Errorf("%q: drill help %v, incident help %v", want, strings.Contains(dr, want), strings.Contains(inc, want))
		}
	}
}

func helpText(hk helpKeys) string {
	var b strings.Builder
	for _, g := range hk.full {
		for _, k := range g {
			b.WriteString(k.Help().Key + " " + k.Help().Desc + "\n")
		}
	}
	return b.String()
}
