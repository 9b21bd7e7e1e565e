package deadline

import (
	"fmt"
	"strconv"
	"time"
)

// Unit is the unit of an Offset.
type Unit uint8

// The units an Offset can be written in. Their suffixes are given in the
// comments; they are case-sensitive, so "m" (minutes) and "mo" (months)
// cannot be confused with each other.
const (
	Minutes      Unit = iota + 1 // "m": elapsed minutes
	Hours                        // "h": elapsed hours
	CalendarDays                 // "d": calendar days, same wall-clock time
	BusinessDays                 // "bd": business days, due at the end of the last one
	Weeks                        // "w": 7 calendar days, same wall-clock time
	Months                       // "mo": calendar months, clamped to the month's end
)

var unitSuffix = [...]string{Minutes: "m", Hours: "h", CalendarDays: "d", BusinessDays: "bd", Weeks: "w", Months: "mo"}

// String returns the unit's suffix ("h", "bd", ...), or "" for an unknown unit.
func (u Unit) String() string {
	if int(u) < len(unitSuffix) {
		return unitSuffix[u]
	}
	return ""
}

// MaxOffset is the largest number an Offset may carry. It keeps every
// offset's arithmetic far from time.Duration's and time.Time's limits.
const MaxOffset = 99999

// Offset is a span of time as a rule writes it: a count and a unit, such as
// 72 hours, 60 calendar days, 4 business days or 1 calendar month. Calendar
// units are not fixed durations; Calendar.Add gives them meaning.
type Offset struct {
	N    int
	Unit Unit
}

const offsetHint = "use a number with h, m, d, bd, w or mo"

// ParseOffset reads an offset such as "72h", "30m", "60d", "4bd", "2w" or
// "1mo": a whole number from 0 to MaxOffset followed directly by a unit
// suffix. Signs, fractions, spaces and upper-case units are rejected.
func ParseOffset(s string) (Offset, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) {
		return Offset{}, fmt.Errorf("bad duration %q: %s", s, offsetHint)
	}
	var u Unit
	switch s[i:] {
	case "m":
		u = Minutes
	case "h":
		u = Hours
	case "d":
		u = CalendarDays
	case "bd":
		u = BusinessDays
	case "w":
		u = Weeks
	case "mo":
		u = Months
	default:
		return Offset{}, fmt.Errorf("bad duration %q: %s", s, offsetHint)
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n > MaxOffset {
		return Offset{}, fmt.Errorf("bad duration %q: the number must be at most %d", s, MaxOffset)
	}
	return Offset{N: n, Unit: u}, nil
}

// MustParseOffset is ParseOffset for constants; it panics on a bad offset.
func MustParseOffset(s string) Offset {
	o, err := ParseOffset(s)
	if err != nil {
		panic(err)
	}
	return o
}

// String renders the offset the way ParseOffset reads it ("72h", "1mo").
// The zero Offset renders as "".
func (o Offset) String() string {
	if o.Unit == 0 && o.N == 0 {
		return ""
	}
	return strconv.Itoa(o.N) + o.Unit.String()
}

// IsZero reports whether o is the zero Offset (no unit).
func (o Offset) IsZero() bool { return o == Offset{} }

// Elapsed returns the offset as a fixed duration for minutes and hours;
// ok is false for calendar units, whose length depends on the date.
func (o Offset) Elapsed() (d time.Duration, ok bool) {
	switch o.Unit {
	case Minutes:
		return time.Duration(o.N) * time.Minute, true
	case Hours:
		return time.Duration(o.N) * time.Hour, true
	}
	return 0, false
}

// MarshalText renders the offset as text, so it appears as "72h" in JSON
// and YAML.
func (o Offset) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText parses text written by MarshalText or by hand.
func (o *Offset) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*o = Offset{}
		return nil
	}
	v, err := ParseOffset(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}
