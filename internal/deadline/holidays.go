package deadline

import (
	"slices"
	"time"
)

// USFederalHolidays returns the days in year on which US federal offices
// (and so the SEC's EDGAR business days) observe the eleven public holidays
// of 5 U.S.C. 6103(a), as YYYY-MM-DD strings in date order. A fixed-date
// holiday that falls on a Saturday is observed on the Friday before and one
// on a Sunday on the Monday after; so New Year's Day of year+1 may be
// observed on 31 December of year, and a Saturday 1 January of year is not
// in year's list. Ad-hoc closures (such as a national day of mourning) and
// the Washington-area Inauguration Day are not included: add them to the
// policy's holidays by hand.
//
// The result is meant to fill Policy.Holidays; the package does not apply
// it by itself.
func USFederalHolidays(year int) []string {
	fixed := func(y int, m time.Month, d int) time.Time {
		t := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
		switch t.Weekday() {
		case time.Saturday:
			return t.AddDate(0, 0, -1)
		case time.Sunday:
			return t.AddDate(0, 0, 1)
		}
		return t
	}
	// nth returns the nth wd of the month; n = -1 is the last one.
	nth := func(m time.Month, wd time.Weekday, n int) time.Time {
		if n < 0 {
			t := time.Date(year, m+1, 0, 12, 0, 0, 0, time.UTC)
			for t.Weekday() != wd {
				t = t.AddDate(0, 0, -1)
			}
			return t
		}
		t := time.Date(year, m, 1, 12, 0, 0, 0, time.UTC)
		for t.Weekday() != wd {
			t = t.AddDate(0, 0, 1)
		}
		return t.AddDate(0, 0, 7*(n-1))
	}
	days := []time.Time{
		fixed(year, time.January, 1),         // New Year's Day
		nth(time.January, time.Monday, 3),    // Birthday of Martin Luther King, Jr.
		nth(time.February, time.Monday, 3),   // Washington's Birthday
		nth(time.May, time.Monday, -1),       // Memorial Day
		fixed(year, time.June, 19),           // Juneteenth National Independence Day
		fixed(year, time.July, 4),            // Independence Day
		nth(time.September, time.Monday, 1),  // Labor Day
		nth(time.October, time.Monday, 2),    // Columbus Day
		fixed(year, time.November, 11),       // Veterans Day
		nth(time.November, time.Thursday, 4), // Thanksgiving Day
		fixed(year, time.December, 25),       // Christmas Day
		fixed(year+1, time.January, 1),       // next New Year's Day, if observed on 31 Dec
	}
	out := make([]string, 0, len(days))
	for _, d := range days {
		if d.Year() == year {
			out = append(out, d.Format(time.DateOnly))
		}
	}
	slices.Sort(out)
	return out
}

// HolidayCalendar is a built-in list of the days a place does not count as
// working or business days, computed from the law that fixes them. It
// covers the years First to Last: the law can change, and a clock that
// counts business days past Last is flagged (Obligation.Warnings) so that
// someone checks that year's days.
type HolidayCalendar struct {
	ID          string // the key used in the configuration: "US", "NL"
	Name        string
	Source      string // the law the days come from
	First, Last int    // the years covered
	days        func(year int) []string
}

// Days returns the holidays of year (YYYY-MM-DD, in date order), or nil
// outside the covered years.
func (h *HolidayCalendar) Days(year int) []string {
	if h == nil || year < h.First || year > h.Last {
		return nil
	}
	return h.days(year)
}

// Covers reports whether the calendar knows the holidays of year.
func (h *HolidayCalendar) Covers(year int) bool {
	return h != nil && year >= h.First && year <= h.Last
}

// holidayCalendars are the built-in calendars, by ID.
var holidayCalendars = map[string]*HolidayCalendar{
	"US": {
		ID: "US", Name: "US federal holidays (EDGAR business days)",
		Source: "5 U.S.C. 6103(a) and Executive Order 11582 (observed days); 17 CFR 232.11 (EDGAR business day)",
		First:  2021, Last: 2035, days: USFederalHolidays,
	},
	"NL": {
		ID: "NL", Name: "Netherlands generally recognised holidays",
		Source: "Algemene termijnenwet, Art. 3(1) (Koningsdag: Wet van 2013 on the King's birthday)",
		First:  2014, Last: 2035, days: DutchHolidays,
	},
}

// HolidayCalendarByID returns the built-in calendar id ("US", "NL").
func HolidayCalendarByID(id string) (*HolidayCalendar, bool) {
	h, ok := holidayCalendars[id]
	return h, ok
}

// HolidayCalendarIDs lists the built-in calendars, sorted.
func HolidayCalendarIDs() []string {
	ids := make([]string, 0, len(holidayCalendars))
	for id := range holidayCalendars {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// DutchHolidays returns the generally recognised holidays of the
// Algemene termijnenwet (Art. 3(1)) that can fall on a weekday, for year:
// New Year's Day, Easter Monday, King's Day (27 April, or 26 April when the
// 27th is a Sunday), Liberation Day (5 May), Ascension Day, Whit Monday,
// and Christmas and Boxing Day. Easter Sunday and Whit Sunday are Sundays
// anyway. Good Friday is not on the list: many Dutch banks and offices
// close, but the law does not count it; add it to the configuration
// (calendars: {NL: {add: [...]}}) if your competent authority or your bank
// does. Years before 2014 (Queen's Day) are not supported.
func DutchHolidays(year int) []string {
	easter := easterSunday(year)
	kings := time.Date(year, time.April, 27, 12, 0, 0, 0, time.UTC)
	if kings.Weekday() == time.Sunday {
		kings = kings.AddDate(0, 0, -1)
	}
	days := []time.Time{
		time.Date(year, time.January, 1, 12, 0, 0, 0, time.UTC),
		easter.AddDate(0, 0, 1), // Tweede Paasdag
		kings,
		time.Date(year, time.May, 5, 12, 0, 0, 0, time.UTC),
		easter.AddDate(0, 0, 39), // Hemelvaartsdag
		easter.AddDate(0, 0, 50), // Tweede Pinksterdag
		time.Date(year, time.December, 25, 12, 0, 0, 0, time.UTC),
		time.Date(year, time.December, 26, 12, 0, 0, 0, time.UTC),
	}
	out := make([]string, len(days))
	for i, d := range days {
		out[i] = d.Format(time.DateOnly)
	}
	slices.Sort(out)
	return out
}

// easterSunday is the Gregorian Easter Sunday of year (the anonymous
// Gregorian algorithm, Meeus/Jones/Butcher), at noon UTC.
func easterSunday(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 12, 0, 0, 0, time.UTC)
}
