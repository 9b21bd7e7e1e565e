package deadline

import (
	"testing"
	"time"
)

func TestSpanRoundsDown(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{71*time.Hour + 59*time.Minute, "2d 23h"}, // never "3d", never "2d" alone
		{72 * time.Hour, "3d"},
		{5*time.Hour + 12*time.Minute + 59*time.Second, "5h 12m"},
		{5 * time.Hour, "5h"},
		{42*time.Minute + 59*time.Second, "42m"},
		{59 * time.Second, "<1m"},
		{-(26*time.Hour + 30*time.Minute), "1d 2h"},
	} {
		if got := Span(c.d); got != c.want {
			t.Errorf("Span(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestLabelNamesEveryShippedRule(t *testing.T) {
	for _, id := range RuleIDs() {
		if l, ok := shortLabels[id]; !ok || len(l) > 32 {
			t.Errorf("rule %s has no short human label (at most 32 characters, for a list column): %q", id, l)
		}
	}
	if got := LabelOf("gdpr-33-5"); got != "GDPR breach register" {
		t.Errorf("LabelOf(gdpr-33-5) = %q", got)
	}
}
