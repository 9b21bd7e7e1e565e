package tui

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// bigIncident is an incident with n timeline entries, built in memory: the
// benchmark measures drawing, not reading the database.
func bigIncident(n int) store.Detail {
	in := store.Incident{ID: "INC-0001", Kind: store.KindIncident, Status: store.StatusOpen, RunbookID: "ransomware",
		RunbookVersion: "1.0.0", Title: "File server encrypted", Severity: "SEV1", Flags: []string{"personal_data_breach", "nis2_significant"},
		AwareAt: start, DeclaredAt: start, CreatedBy: "alice", Roles: []string{"incident_commander", "scribe", "sme"}}
	d := store.Detail{Incident: in, TimelineTotal: n}
	for i := range n {
		d.Timeline = append(d.Timeline, store.TimelineEntry{ID: int64(i + 1), IncidentID: in.ID, Seq: int64(i + 1),
			At: start.Add(time.Duration(i) * time.Second), Actor: "bob", Kind: "note",
			Summary: fmt.Sprintf("Note %d: checked host FS-%02d, no further encryption seen", i, i%40), Data: json.RawMessage(`{}`)})
	}
	for i := range 20 {
		d.Steps = append(d.Steps, store.Step{ID: fmt.Sprintf("step-%d", i), Position: i, Phase: "containment", Title: fmt.Sprintf("Step %d", i), Role: "sme", Required: true, Status: store.StepOpen})
	}
	return d
}

// BenchmarkViewTimeline10k draws the incident view of an incident with
// 10,000 timeline entries. Budget: 2 ms (one 60 Hz frame).
func BenchmarkViewTimeline10k(b *testing.B) {
	for _, tb := range []struct {
		name string
		tab  tab
	}{{"timeline", tabTimeline}, {"overview", tabOverview}, {"roles", tabRoles}} {
		b.Run(tb.name, func(b *testing.B) {
			h := newHarness(b)
			h.m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			d := bigIncident(10_000)
			obs := incident.Obligations(d.Incident, nil, deadline.DefaultPolicy())
			h.m.detail.set(d, obs)
			h.m.screen = screenIncident
			h.m.detail.tab = tb.tab
			for b.Loop() {
				if v := h.m.View(); len(v.Content) == 0 {
					b.Fatal("empty view")
				}
			}
		})
	}
}

// BenchmarkKeyScrollTimeline10k is a key press in the timeline and the
// frame that follows it.
func BenchmarkKeyScrollTimeline10k(b *testing.B) {
	h := newHarness(b)
	d := bigIncident(10_000)
	h.m.detail.set(d, nil)
	h.m.screen = screenIncident
	h.m.detail.tab = tabTimeline
	up := keyMsg("up")
	for b.Loop() {
		h.m.Update(up)
		_ = h.m.View()
	}
}

// BenchmarkTriageKey is one answer in the triage of the personal data
// breach runbook at 80×24: the key, the verdict computed again, and the
// frame drawn. It runs at every key, so it must stay well under a frame.
func BenchmarkTriageKey(b *testing.B) {
	h := newHarness(b)
	h.m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.press("n")
	h.typeText("pers")
	h.press("enter", "enter", "enter") // to the first question
	keys := []tea.KeyPressMsg{keyMsg("y"), keyMsg("backspace")}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.m.Update(keys[i%2])
		_ = h.m.View()
	}
}
