package deadline

import (
	"fmt"
	"strings"
	"time"
)

// wallLayouts are the wall-clock forms ParseTime reads in a zone.
var wallLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// ParseTime reads a time as a person types it: RFC 3339 with its offset
// (2026-03-27T10:00:00+01:00, any zone), or a wall-clock time in loc
// written "YYYY-MM-DD HH:MM", "YYYY-MM-DDTHH:MM" or with seconds.
//
// Around a daylight saving change a wall-clock time can be ambiguous or not
// exist. One that exists twice (the hour repeated when clocks go back) is
// the earlier instant, the stricter reading for a clock that runs from it.
// One that does not exist (the hour skipped when clocks go forward) is
// refused with a message saying why, rather than guessed.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range wallLayouts {
		f, err := time.Parse(layout, s) // the fields, read as UTC
		if err != nil {
			continue
		}
		y, m, d := f.Date()
		hh, mm, ss := f.Clock()
		t := wallTime(y, m, d, hh, mm, ss, 0, loc)
		ty, tm, td := t.Date()
		th, tmi, ts := t.Clock()
		if ty != y || tm != m || td != d || th != hh || tmi != mm || ts != ss {
			before := t.Add(-2 * time.Hour).In(loc)
			return time.Time{}, fmt.Errorf("%s does not exist in %s: the clocks went forward that night (from %s to %s); "+
				"give a time outside the gap, or an RFC 3339 time with its offset", s, loc,
				before.Format("-0700 MST"), t.Format("-0700 MST"))
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("bad time %q: use RFC 3339 (2026-03-27T10:00:00+01:00) or YYYY-MM-DD HH:MM", s)
}

// Ambiguous reports whether t's wall-clock time occurs twice in its
// location (the repeated hour when clocks go back). ParseTime reads such a
// time as the earlier instant; callers may say so.
func Ambiguous(t time.Time) bool {
	_, off := t.Zone()
	for _, d := range [2]time.Duration{-time.Hour, time.Hour} {
		o := t.Add(d)
		_, oo := o.Zone()
		if oo == off {
			continue
		}
		c := t.Add(time.Duration(off-oo) * time.Second)
		if c.Format(time.DateTime) == t.Format(time.DateTime) && !c.Equal(t) {
			return true
		}
	}
	return false
}
