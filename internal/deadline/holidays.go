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
