package classify

import (
	"strings"
	"testing"
)

func TestParseNumberAsPeopleWriteIt(t *testing.T) {
	for in, want := range map[string]float64{
		"12000": 12000, "12,000": 12000, "12 000": 12000, "12_000": 12000, "12k": 12000, "12K": 12000,
		"~12000": 12000, "~12,000": 12000, "about 12000": 12000, "ca. 12k": 12000, "≈ 12000": 12000,
		"12000+": 12000, "1.5m": 1500000, "1.5": 1.5, "0": 0, " 40 ": 40, "1,200,000": 1200000,
	} {
		got, err := ParseNumber(in)
		if err != nil || got != want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"":       "enter a number",
		"twelve": "not a number",
		"12.000": "ambiguous",
		"~":      "enter a number",
	} {
		if _, err := ParseNumber(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseNumber(%q): %v, want an error saying %q", in, err, msg)
		}
	}
}

func TestFormatNumberAsPeopleWriteIt(t *testing.T) {
	for in, want := range map[float64]string{
		1e6: "1,000,000", 12000: "12,000", 999: "999", 0: "0", 1.5: "1.5", 1234.567: "1,234.57", -2500: "-2,500",
	} {
		if got := FormatNumber(in); got != want {
			t.Errorf("FormatNumber(%v) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"12000", "12,000", "~12k", "12.000", "about 1.5m", "", "+-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseNumber(s)
		if err == nil && (v != v) {
			t.Fatalf("NaN from %q", s)
		}
	})
}
