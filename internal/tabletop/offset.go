package tabletop

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseOffset reads a time offset of a scenario or actions file: "0",
// "15m", "T+15m", "1h30m", "2d", "2d4h". Unlike ParseDuration it accepts
// zero.
func ParseOffset(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "T+"), "t+")
	if t == "0" {
		return 0, nil
	}
	d, ok := parseSpan(t)
	if !ok {
		return 0, fmt.Errorf("bad time offset %q: use a duration from the start such as 0m, 15m, T+1h30m, 2d or 2d4h", s)
	}
	return d, nil
}

// ParseDuration reads a duration of a scenario (its length, an
// expectation's target): a number and a unit (w, d, h, m, s), or several
// from the largest unit down ("2d4h", "1h30m").
func ParseDuration(s string) (time.Duration, error) {
	d, ok := parseSpan(strings.TrimSpace(s))
	if !ok || d <= 0 {
		return 0, fmt.Errorf("bad duration %q: use a number with w, d, h, m or s, such as 30m, 4h, 2d or 2d4h", s)
	}
	return d, nil
}

// spanUnits are the units of a span, largest first.
var spanUnits = []struct {
	unit string
	d    time.Duration
}{{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}

// parseSpan reads "2d4h30m": whole numbers, each with a unit, units
// from the largest down and each at most once. Zero is allowed ("0m").
func parseSpan(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total time.Duration
	next := 0 // the first unit still allowed
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 {
			return 0, false
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, false
		}
		s = s[i:]
		found := false
		for u := next; u < len(spanUnits); u++ {
			if strings.HasPrefix(s, spanUnits[u].unit) {
				total += time.Duration(n) * spanUnits[u].d
				s, next, found = s[len(spanUnits[u].unit):], u+1, true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return total, total <= 3650*24*time.Hour
}

// FormatOffset renders an offset as "T+1h05m".
func FormatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var out string
	switch {
	case h > 0:
		out = fmt.Sprintf("%dh%02dm", h, m)
	default:
		out = fmt.Sprintf("%dm", m)
	}
	if s != 0 {
		out += fmt.Sprintf("%02ds", s)
	}
	return "T" + sign + out
}

// StartSpec is a parsed scenario start: a weekday and time of day, a time
// of day, or a fixed moment.
type StartSpec struct {
	Weekday    time.Weekday
	HasWeekday bool
	Hour, Min  int
	Fixed      time.Time // set for a date and time
	Local      bool      // Fixed is a wall-clock time in the policy's zone
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseStart reads a scenario's start: "Friday 23:10", "Fri 23:10",
// "23:10", RFC 3339, or "2006-01-02 15:04" (in the policy's time zone).
func ParseStart(s string) (StartSpec, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return StartSpec{Fixed: t}, nil
	}
	if t, err := time.Parse("2006-01-02 15:04", s); err == nil {
		return StartSpec{Fixed: t, Local: true}, nil
	}
	bad := fmt.Errorf("bad start %q: use a weekday and time (Friday 23:10), a time (23:10) or a date and time (2026-03-13 23:10)", s)
	spec := StartSpec{}
	rest := s
	if day, tm, ok := strings.Cut(s, " "); ok {
		wd, known := weekdays[strings.ToLower(strings.TrimSpace(day))]
		if !known {
			return StartSpec{}, bad
		}
		spec.Weekday, spec.HasWeekday, rest = wd, true, strings.TrimSpace(tm)
	}
	t, err := time.Parse("15:04", rest)
	if err != nil {
		return StartSpec{}, bad
	}
	spec.Hour, spec.Min = t.Hour(), t.Minute()
	return spec, nil
}

// Epoch is the drill time at T+0 for a drill started at now: the fixed
// moment, or the latest moment at or before now that matches the weekday
// and time of day, in loc.
func (s StartSpec) Epoch(now time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if !s.Fixed.IsZero() {
		if s.Local {
			f := s.Fixed
			return time.Date(f.Year(), f.Month(), f.Day(), f.Hour(), f.Minute(), 0, 0, loc)
		}
		return s.Fixed
	}
	n := now.In(loc)
	t := time.Date(n.Year(), n.Month(), n.Day(), s.Hour, s.Min, 0, 0, loc)
	if t.After(n) {
		t = t.AddDate(0, 0, -1)
	}
	if s.HasWeekday {
		back := (int(t.Weekday()) - int(s.Weekday) + 7) % 7
		t = t.AddDate(0, 0, -back)
	}
	return t
}

// ParseDue reads an action item's due date: YYYY-MM-DD, or a duration
// ("14d", "2w") from from.
func ParseDue(s string, from time.Time) (string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("2006-01-02"), nil
	}
	if d, err := ParseDuration(s); err == nil {
		return from.Add(d).Format("2006-01-02"), nil
	}
	return "", fmt.Errorf("bad due date %q: use YYYY-MM-DD or a duration such as 14d", s)
}
