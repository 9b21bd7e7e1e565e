package deadline

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at parses "2006-01-02 15:04" (or with ":05") in loc.
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout = time.DateTime
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCalendarAdd(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	ny := mustLoc(t, "America/New_York")
	utc := time.UTC
	tests := []struct {
		name   string
		cal    Calendar
		anchor time.Time
		offset string
		want   string // Format of the due time
	}{
		{"72h across the spring DST change is 72 real hours (wall clock +73)",
			Calendar{Location: ams}, at(t, ams, "2026-03-27 10:00"), "72h", "2026-03-30 11:00 CEST"},
		{"72h across the autumn DST change (wall clock +71)",
			Calendar{Location: ams}, at(t, ams, "2026-10-23 10:00"), "72h", "2026-10-26 09:00 CET"},
		{"3 calendar days across the spring DST change keep the wall clock",
			Calendar{Location: ams}, at(t, ams, "2026-03-27 10:00"), "3d", "2026-03-30 10:00 CEST"},
		{"1 week across the autumn DST change keeps the wall clock",
			Calendar{Location: ams}, at(t, ams, "2026-10-22 10:00"), "1w", "2026-10-29 10:00 CET"},
		{"30 minutes",
			Calendar{}, at(t, utc, "2026-01-01 23:45"), "30m", "2026-01-02 00:15 UTC"},
		{"the anchor is shown in the calendar's zone",
			Calendar{Location: ams}, at(t, utc, "2026-01-05 09:00"), "1h", "2026-01-05 11:00 CET"},
		{"calendar month at month end: 31 Jan 2026 + 1 mo = 28 Feb 2026",
			Calendar{}, at(t, utc, "2026-01-31 14:00"), "1mo", "2026-02-28 14:00 UTC"},
		{"calendar month in a leap year: 31 Jan 2028 + 1 mo = 29 Feb 2028",
			Calendar{}, at(t, utc, "2028-01-31 14:00"), "1mo", "2028-02-29 14:00 UTC"},
		{"calendar month: 31 Mar + 1 mo = 30 Apr",
			Calendar{}, at(t, utc, "2026-03-31 08:00"), "1mo", "2026-04-30 08:00 UTC"},
		{"calendar months across a year end: 31 Dec 2026 + 2 mo = 28 Feb 2027",
			Calendar{}, at(t, utc, "2026-12-31 08:00"), "2mo", "2027-02-28 08:00 UTC"},
		{"calendar month mid-month keeps the day",
			Calendar{}, at(t, utc, "2026-01-15 08:00"), "1mo", "2026-02-15 08:00 UTC"},
		{"12 months",
			Calendar{}, at(t, utc, "2028-02-29 08:00"), "12mo", "2029-02-28 08:00 UTC"},
		{"calendar month across the spring DST change keeps the wall clock",
			Calendar{Location: ams}, at(t, ams, "2026-03-15 10:00"), "1mo", "2026-04-15 10:00 CEST"},
		{"4 business days over a weekend and a holiday end at 23:59:59",
			Calendar{Location: ny, Holidays: []string{"2026-07-03"}}, at(t, ny, "2026-07-02 10:00"), "4bd", "2026-07-09 23:59 EDT"},
		{"business days from a Saturday anchor start on Monday",
			Calendar{Location: ny}, at(t, ny, "2026-07-11 10:00"), "1bd", "2026-07-13 23:59 EDT"},
		{"business days: the anchor day never counts",
			Calendar{Location: ny}, at(t, ny, "2026-07-06 00:01"), "1bd", "2026-07-07 23:59 EDT"},
		{"0 business days is the end of the anchor's day",
			Calendar{Location: ny}, at(t, ny, "2026-07-06 09:00"), "0bd", "2026-07-06 23:59 EDT"},
		{"business days follow the calendar's own date, not UTC's",
			Calendar{Location: ny}, at(t, utc, "2026-07-10 02:00"), "1bd", "2026-07-10 23:59 EDT"}, // Thu 9 Jul 22:00 in New York
		{"a Friday/Saturday weekend",
			Calendar{Weekend: []time.Weekday{time.Friday, time.Saturday}}, at(t, utc, "2026-07-09 10:00"), "1bd", "2026-07-12 23:59 UTC"},
		{"an empty weekend counts every day",
			Calendar{Weekend: []time.Weekday{}}, at(t, utc, "2026-07-10 10:00"), "1bd", "2026-07-11 23:59 UTC"},
		{"a weekend of every day falls back to Saturday and Sunday",
			Calendar{Weekend: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}, at(t, utc, "2026-07-10 10:00"), "1bd", "2026-07-13 23:59 UTC"},
		{"malformed holidays are ignored",
			Calendar{Holidays: []string{"2026-7-13", "July 13"}}, at(t, utc, "2026-07-10 10:00"), "1bd", "2026-07-13 23:59 UTC"},
		{"business days across the spring DST change",
			Calendar{Location: ams}, at(t, ams, "2026-03-27 10:00"), "1bd", "2026-03-30 23:59 CEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cal.Add(tt.anchor, MustParseOffset(tt.offset))
			if Format(got) != tt.want {
				t.Fatalf("Add(%s, %s) = %s, want %s", Format(tt.anchor), tt.offset, Format(got), tt.want)
			}
		})
	}
}

func TestCalendarAddExact(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	cal := Calendar{Location: ams}
	a := at(t, ams, "2026-03-27 10:00")
	if d := cal.Add(a, MustParseOffset("72h")).Sub(a); d != 72*time.Hour {
		t.Errorf("72h elapsed %v", d)
	}
	if d := cal.Add(a, MustParseOffset("3d")).Sub(a); d != 71*time.Hour {
		t.Errorf("3d across spring forward elapsed %v, want 71h", d)
	}
	bd := Calendar{Location: mustLoc(t, "America/New_York")}.Add(a, MustParseOffset("1bd"))
	if h, m, s := bd.Clock(); h != 23 || m != 59 || s != 59 || bd.Nanosecond() != 0 {
		t.Errorf("business-day due %v is not 23:59:59", bd)
	}
}

func TestCalendarDSTWallTimes(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	cal := Calendar{Location: ams}
	// 02:30 does not exist on 29 Mar 2026: moved forward by the gap.
	got := cal.Add(at(t, ams, "2026-03-28 02:30"), MustParseOffset("1d"))
	if Format(got) != "2026-03-29 03:30 CEST" {
		t.Errorf("into the spring gap: %s", Format(got))
	}
	// 02:30 exists twice on 25 Oct 2026: the earlier (CEST) one is used.
	got = cal.Add(at(t, ams, "2026-10-24 02:30"), MustParseOffset("1d"))
	if Format(got) != "2026-10-25 02:30 CEST" {
		t.Errorf("into the repeated autumn hour: %s", Format(got))
	}
	// Same for months.
	got = cal.Add(at(t, ams, "2026-09-25 02:30"), MustParseOffset("1mo"))
	if Format(got) != "2026-10-25 02:30 CEST" {
		t.Errorf("month into the repeated autumn hour: %s", Format(got))
	}
}

func TestCalendarHelpers(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	cal := Calendar{Location: ny, Holidays: []string{"2026-07-03"}}
	for s, want := range map[string]bool{"2026-07-02 12:00": true, "2026-07-03 12:00": false, "2026-07-04 12:00": false, "2026-07-06 12:00": true} {
		if got := cal.IsBusinessDay(at(t, ny, s)); got != want {
			t.Errorf("IsBusinessDay(%s) = %v", s, got)
		}
	}
	if got := Format(cal.EndOfDay(at(t, time.UTC, "2026-07-03 02:00"))); got != "2026-07-02 23:59 EDT" {
		t.Errorf("EndOfDay = %s", got)
	}
	if Format(time.Time{}) != "" {
		t.Error("Format(zero) is not empty")
	}
	if err := cal.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	bad := Calendar{Holidays: []string{"2026-7-3", "2026-02-30"}, Weekend: []time.Weekday{0, 1, 2, 3, 4, 5, 6, 9}}
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad calendar")
	}
	for _, want := range []string{`"2026-7-3"`, `"2026-02-30"`, "weekend day 9", "no business day"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q lacks %q", err, want)
		}
	}
}

func TestUSFederalHolidays(t *testing.T) {
	tests := []struct {
		year int
		want []string
	}{
		{2026, []string{"2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03",
			"2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25"}},
		// Juneteenth on a Saturday, Independence Day on a Sunday, Christmas
		// on a Saturday, and New Year's Day 2028 (a Saturday) observed on
		// 31 Dec 2027.
		{2027, []string{"2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05",
			"2027-09-06", "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24", "2027-12-31"}},
		{2028, []string{"2028-01-17", "2028-02-21", "2028-05-29", "2028-06-19", "2028-07-04",
			"2028-09-04", "2028-10-09", "2028-11-10", "2028-11-23", "2028-12-25"}},
	}
	for _, tt := range tests {
		if got := USFederalHolidays(tt.year); !slices.Equal(got, tt.want) {
			t.Errorf("USFederalHolidays(%d) =\n%v\nwant\n%v", tt.year, got, tt.want)
		}
	}
}
