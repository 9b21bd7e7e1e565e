package tui

import (
	"strings"
	"testing"
	"time"
)

// TestTriageVerdictShowsRiskAndWarnings: the live verdict names the breach
// risk conclusion and the factors that decided it, and shows every
// warning about a due time (a business-day clock past the years its
// holiday calendar covers).
func TestTriageVerdictShowsRiskAndWarnings(t *testing.T) {
	h := newHarness(t)
	h.press("n")
	h.typeText("personal data")
	h.press("enter")
	tr := h.m.triage
	if tr == nil || tr.rb.ID != "personal-data-breach" {
		t.Fatal("triage of personal-data-breach did not start")
	}
	// Unanswered: the worst case, a high risk decided by its factors.
	view := tr.verdictView(h.m, 75)
	if !strings.Contains(view, "breach_risk: high (") {
		t.Errorf("the verdict does not show the risk conclusion:\n%s", view)
	}
	tr.verdict.Warnings = []string{"sec-8k-1.05: business days in 2036 are counted with the US calendar, which does not cover 2036"}
	view = tr.verdictView(h.m, 75)
	if !strings.Contains(view, "Warning: sec-8k-1.05: business days in 2036") {
		t.Errorf("the verdict does not show the calendar warning:\n%s", view)
	}
}

// TestTriageAwarenessAroundClockChanges: a time in the hour the clocks
// skip is refused with the reason; one in the repeated hour is the
// earlier instant.
func TestTriageAwarenessAroundClockChanges(t *testing.T) {
	h := newHarness(t)
	h.m.deps.Config.Policy.TimeZone = "Europe/Amsterdam"
	h.press("n", "enter")
	tr := h.m.triage
	if _, err := tr.parseAware(h.m, "2025-03-30 02:30"); err == nil || !strings.Contains(err.Error(), "does not exist in Europe/Amsterdam") {
		t.Errorf("a time in the spring gap: %v", err)
	}
	at, err := tr.parseAware(h.m, "2025-10-26 02:30")
	if err != nil {
		t.Fatal(err)
	}
	if _, off := at.Zone(); off != 2*3600 {
		t.Errorf("a time in the repeated hour is %s, want the earlier instant (CEST)", at.Format(time.RFC3339))
	}
}
