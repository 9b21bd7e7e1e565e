package deadline

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // due times must not depend on the host having a zoneinfo database
)

// Calendar turns an anchor time plus an Offset into a due time. It knows a
// time zone, the weekend days and a list of holidays.
//
// Arithmetic by unit:
//
//   - minutes, hours: absolute elapsed time. 72 hours across a daylight
//     saving change are 72 real hours; the wall clock moves 71 or 73.
//   - calendar days, weeks: the same wall-clock time N days later in the
//     calendar's zone, whatever the daylight saving changes in between.
//   - calendar months: the same day of the month N months later, clamped to
//     the last day of a shorter month (31 Jan + 1 month = 28 Feb, or 29 Feb
//     in a leap year; never 3 Mar as time.AddDate gives), at the same
//     wall-clock time.
//   - business days: the due time is the END of the Nth business day after
//     the anchor's day, 23:59:59 in the calendar's zone. The anchor's own day
//     never counts, even when it is a business day, and weekend days and
//     holidays are skipped. This is the reading that gives the filer the
//     whole last day (as for an SEC Form 8-K "within four business days");
//     a regulator's office hours may end earlier, so file before then.
//     "0bd" is the end of the anchor's own day.
//
// When a wall-clock time does not exist on the due day (the hour skipped
// when clocks go forward) the due time moves forward by the gap; when it
// exists twice (the hour repeated when clocks go back) the earlier instant
// is used, which is the stricter deadline.
type Calendar struct {
	// Location is the calendar's time zone; nil means UTC.
	Location *time.Location
	// Builtin, if set, is a built-in holiday calendar (US federal
	// holidays, Dutch holidays) whose days are not business days.
	Builtin *HolidayCalendar
	// Holidays are further non-business days written YYYY-MM-DD. Entries
	// that do not parse are ignored by Add and reported by Validate.
	Holidays []string
	// Removed are days (YYYY-MM-DD) that count as business days although
	// Builtin lists them (an office that opens on a holiday).
	Removed []string
	// Weekend lists the non-business weekdays. nil means Saturday and
	// Sunday; an empty non-nil slice means every weekday is a business day.
	Weekend []time.Weekday
}

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// Add returns t plus o in the calendar's time zone, following the rules in
// the Calendar documentation. The result is expressed in the calendar's
// zone. An unknown unit returns t unchanged (in the calendar's zone).
func (c Calendar) Add(t time.Time, o Offset) time.Time {
	loc := c.loc()
	t = t.In(loc)
	switch o.Unit {
	case Minutes:
		return t.Add(time.Duration(o.N) * time.Minute)
	case Hours:
		return t.Add(time.Duration(o.N) * time.Hour)
	case CalendarDays, Weeks:
		days := o.N
		if o.Unit == Weeks {
			days *= 7
		}
		y, m, d := t.Date()
		hh, mm, ss := t.Clock()
		return wallTime(y, m, d+days, hh, mm, ss, t.Nanosecond(), loc)
	case Months:
		y, m, d := t.Date()
		hh, mm, ss := t.Clock()
		total := int(m) - 1 + o.N
		ny, nm := y+total/12, time.Month(total%12+1)
		if last := daysIn(ny, nm); d > last {
			d = last
		}
		return wallTime(ny, nm, d, hh, mm, ss, t.Nanosecond(), loc)
	case BusinessDays:
		return c.AddBusinessDays(t, o.N, EndOfBusinessDay)
	}
	return t
}

// ClockTime is a time of day, such as EDGAR's 17:30 filing cut-off.
type ClockTime struct{ Hour, Minute, Second int }

// EndOfBusinessDay is 23:59:59, the default end of a business day.
var EndOfBusinessDay = ClockTime{23, 59, 59}

// ParseClockTime reads "HH:MM" (00:00 to 23:59).
func ParseClockTime(s string) (ClockTime, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return ClockTime{}, fmt.Errorf("bad time of day %q: use HH:MM, such as 17:30", s)
	}
	return ClockTime{t.Hour(), t.Minute(), 0}, nil
}

// String renders the time of day as "17:30" (or "23:59:59").
func (c ClockTime) String() string {
	if c.Second != 0 {
		return fmt.Sprintf("%02d:%02d:%02d", c.Hour, c.Minute, c.Second)
	}
	return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute)
}

// AddBusinessDays returns the time of day end on the nth business day after
// t's date in the calendar's zone. t's own day never counts; weekend days,
// the built-in calendar's holidays and the extra holidays are skipped.
func (c Calendar) AddBusinessDays(t time.Time, n int, end ClockTime) time.Time {
	loc := c.loc()
	y, m, d := t.In(loc).Date()
	day := time.Date(y, m, d, 12, 0, 0, 0, time.UTC) // civil date walker
	mask := c.weekendMask()
	for k := 0; k < n; {
		day = day.AddDate(0, 0, 1)
		if c.businessDay(day, mask) {
			k++
		}
	}
	y, m, d = day.Date()
	return wallTime(y, m, d, end.Hour, end.Minute, end.Second, 0, loc)
}

// NextBusinessDayAt returns t unchanged when its date (in the calendar's
// zone) is a business day, and otherwise the time of day at on the next
// business day: DORA's "by 12:00 on the next working day" for a deadline
// that falls on a weekend or bank holiday (RTS 2025/301 Art. 5(4)).
func (c Calendar) NextBusinessDayAt(t time.Time, at ClockTime) time.Time {
	loc := c.loc()
	t = t.In(loc)
	if c.IsBusinessDay(t) {
		return t
	}
	return c.AddBusinessDays(t, 1, at)
}

// Covers reports whether the calendar knows the holidays of year: its
// built-in calendar covers it, or, without one, the extra holidays list a
// day of that year. A calendar with neither knows no holidays at all, so it
// covers no year.
func (c Calendar) Covers(year int) bool {
	if c.Builtin != nil {
		return c.Builtin.Covers(year)
	}
	prefix := fmt.Sprintf("%04d-", year)
	for _, h := range c.Holidays {
		if strings.HasPrefix(h, prefix) {
			return true
		}
	}
	return false
}

// UncoveredYears lists the years from from's to to's (in the calendar's
// zone) whose holidays the calendar does not know: business days counted
// in them may be wrong.
func (c Calendar) UncoveredYears(from, to time.Time) []int {
	loc := c.loc()
	var out []int
	for y := from.In(loc).Year(); y <= to.In(loc).Year(); y++ {
		if !c.Covers(y) {
			out = append(out, y)
		}
	}
	return out
}

// IsBusinessDay reports whether t's date, in the calendar's zone, is neither
// a weekend day nor a holiday (built-in or extra, unless removed).
func (c Calendar) IsBusinessDay(t time.Time) bool {
	y, m, d := t.In(c.loc()).Date()
	return c.businessDay(time.Date(y, m, d, 12, 0, 0, 0, time.UTC), c.weekendMask())
}

// EndOfDay returns 23:59:59 of t's date in the calendar's zone.
func (c Calendar) EndOfDay(t time.Time) time.Time {
	loc := c.loc()
	y, m, d := t.In(loc).Date()
	return wallTime(y, m, d, 23, 59, 59, 0, loc)
}

// Validate reports holidays that are not YYYY-MM-DD dates and weekends that
// leave no business day.
func (c Calendar) Validate() error {
	var errs []error
	for _, h := range c.Holidays {
		if err := checkDate(h); err != nil {
			errs = append(errs, err)
		}
	}
	for _, h := range c.Removed {
		if err := checkDate(h); err != nil {
			errs = append(errs, err)
		}
	}
	for _, w := range c.Weekend {
		if w < time.Sunday || w > time.Saturday {
			errs = append(errs, fmt.Errorf("weekend day %d is not a weekday (0 = Sunday … 6 = Saturday)", int(w)))
		}
	}
	if c.Weekend != nil && c.weekendBits() == 0x7f {
		errs = append(errs, errors.New("the weekend covers every day: no business day is left"))
	}
	return errors.Join(errs...)
}

func checkDate(s string) error {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return fmt.Errorf("holiday %q is not a date written YYYY-MM-DD", s)
	}
	return nil
}

// weekendBits is the set of weekend days, one bit per weekday.
func (c Calendar) weekendBits() uint8 {
	var b uint8
	for _, w := range c.Weekend {
		if w >= time.Sunday && w <= time.Saturday {
			b |= 1 << uint(w)
		}
	}
	return b
}

// weekendMask is weekendBits with the defaults applied: Saturday and Sunday
// when Weekend is nil, and also when it would leave no business day (Add
// must terminate).
func (c Calendar) weekendMask() uint8 {
	const satSun = 1<<uint(time.Saturday) | 1<<uint(time.Sunday)
	if c.Weekend == nil {
		return satSun
	}
	if b := c.weekendBits(); b != 0x7f {
		return b
	}
	return satSun
}

// businessDay reports whether the civil date of day (a UTC noon) is a
// business day.
func (c Calendar) businessDay(day time.Time, mask uint8) bool {
	if mask&(1<<uint(day.Weekday())) != 0 {
		return false
	}
	if len(c.Holidays) == 0 && c.Builtin == nil {
		return true
	}
	var k [10]byte
	y, m, d := day.Date()
	dateKey(&k, y, m, d)
	key := string(k[:])
	if slices.Contains(c.Removed, key) {
		return true
	}
	if slices.Contains(c.Holidays, key) {
		return false
	}
	return !builtinHoliday(c.Builtin, y, key)
}

// builtinDays caches a built-in calendar's days per year.
var builtinDays sync.Map // "ID/YEAR" -> []string

func builtinHoliday(h *HolidayCalendar, year int, key string) bool {
	if h == nil {
		return false
	}
	ck := h.ID + "/" + strconv.Itoa(year)
	v, ok := builtinDays.Load(ck)
	if !ok {
		v, _ = builtinDays.LoadOrStore(ck, h.Days(year))
	}
	return slices.Contains(v.([]string), key)
}

// dateKey writes y-m-d as YYYY-MM-DD (years 0–9999; others never match a
// valid holiday, which is what is wanted).
func dateKey(k *[10]byte, y int, m time.Month, d int) {
	if y < 0 || y > 9999 {
		*k = [10]byte{'?'}
		return
	}
	k[0], k[1], k[2], k[3] = byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	k[4] = '-'
	k[5], k[6] = byte('0'+int(m)/10), byte('0'+int(m)%10)
	k[7] = '-'
	k[8], k[9] = byte('0'+d/10), byte('0'+d%10)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// wallTime is time.Date made deterministic around daylight saving changes:
// in a repeated hour it returns the earlier instant; in a skipped hour it
// keeps time.Date's normalisation, which moves forward by the gap.
func wallTime(y int, m time.Month, d, hh, mm, ss, ns int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, hh, mm, ss, ns, loc)
	_, off := t.Zone()
	_, before := t.Add(-12 * time.Hour).Zone()
	_, after := t.Add(12 * time.Hour).Zone()
	if before == after {
		return t // no offset change nearby
	}
	wy, wm, wd := t.Date()
	wh, wmi, ws := t.Clock()
	for _, other := range [2]int{before, after} {
		if other == off {
			continue
		}
		c := t.Add(time.Duration(off-other) * time.Second)
		if !c.Before(t) {
			continue
		}
		cy, cm, cd := c.Date()
		ch, cmi, cs := c.Clock()
		if cy == wy && cm == wm && cd == wd && ch == wh && cmi == wmi && cs == ws {
			return c
		}
	}
	return t
}

// Format shows a due time with its date, minute and zone abbreviation, such
// as "2026-03-30 11:00 CEST". The zero time formats as "".
func Format(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04 MST")
}
