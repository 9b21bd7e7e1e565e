package deadline

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseOffset(t *testing.T) {
	tests := []struct {
		name, in string
		want     Offset
		err      string
	}{
		{"72 hours", "72h", Offset{72, Hours}, ""},
		{"30 minutes", "30m", Offset{30, Minutes}, ""},
		{"60 calendar days", "60d", Offset{60, CalendarDays}, ""},
		{"4 business days", "4bd", Offset{4, BusinessDays}, ""},
		{"1 calendar month", "1mo", Offset{1, Months}, ""},
		{"2 weeks", "2w", Offset{2, Weeks}, ""},
		{"zero is allowed", "0h", Offset{0, Hours}, ""},
		{"leading zeros", "007d", Offset{7, CalendarDays}, ""},
		{"largest", "99999mo", Offset{99999, Months}, ""},
		{"unknown unit", "7x", Offset{}, `bad duration "7x": use a number with h, m, d, bd, w or mo`},
		{"empty", "", Offset{}, `bad duration "": use a number with h, m, d, bd, w or mo`},
		{"no number", "h", Offset{}, `bad duration "h": use a number with h, m, d, bd, w or mo`},
		{"no unit", "72", Offset{}, `bad duration "72": use a number with h, m, d, bd, w or mo`},
		{"negative", "-1h", Offset{}, `bad duration "-1h": use a number with h, m, d, bd, w or mo`},
		{"fraction", "1.5h", Offset{}, `bad duration "1.5h": use a number with h, m, d, bd, w or mo`},
		{"upper case is not minutes or months", "1M", Offset{}, `bad duration "1M": use a number with h, m, d, bd, w or mo`},
		{"space inside", "72 h", Offset{}, `bad duration "72 h": use a number with h, m, d, bd, w or mo`},
		{"leading space", " 72h", Offset{}, `bad duration " 72h": use a number with h, m, d, bd, w or mo`},
		{"Go duration syntax", "1h30m", Offset{}, `bad duration "1h30m": use a number with h, m, d, bd, w or mo`},
		{"too large", "100000h", Offset{}, `bad duration "100000h": the number must be at most 99999`},
		{"overflows int", "18446744073709551617d", Offset{}, `bad duration "18446744073709551617d": the number must be at most 99999`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOffset(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("ParseOffset(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseOffset(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("ParseOffset(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestOffsetString(t *testing.T) {
	for in, want := range map[string]string{"72h": "72h", "007d": "7d", "4bd": "4bd", "1mo": "1mo", "2w": "2w", "30m": "30m"} {
		if got := MustParseOffset(in).String(); got != want {
			t.Errorf("%q.String() = %q, want %q", in, got, want)
		}
	}
	if s := (Offset{}).String(); s != "" {
		t.Errorf("zero Offset String() = %q, want empty", s)
	}
	if d, ok := MustParseOffset("72h").Elapsed(); !ok || d != 72*time.Hour {
		t.Errorf("72h.Elapsed() = %v, %v", d, ok)
	}
	if _, ok := MustParseOffset("1mo").Elapsed(); ok {
		t.Error("1mo.Elapsed() is ok, want not")
	}
}

func TestOffsetJSON(t *testing.T) {
	var v struct {
		Target Offset `json:"target"`
	}
	if err := json.Unmarshal([]byte(`{"target":"4bd"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.Target != (Offset{4, BusinessDays}) {
		t.Fatalf("decoded %+v", v.Target)
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"target":"4bd"}` {
		t.Fatalf("encoded %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"target":"7x"}`), &v); err == nil {
		t.Fatal("decoding 7x succeeded")
	}
}

func FuzzParseOffset(f *testing.F) {
	for _, s := range []string{"72h", "30m", "60d", "4bd", "1mo", "2w", "7x", "", "99999bd"} {
		f.Add(s)
	}
	anchor := time.Date(2026, 3, 27, 10, 0, 0, 0, time.UTC)
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		f.Fatal(err)
	}
	cal := Calendar{Location: ams, Holidays: []string{"2026-03-30", "2026-04-03"}}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOffset(s)
		if err != nil {
			if o != (Offset{}) {
				t.Fatalf("ParseOffset(%q) failed but returned %+v", s, o)
			}
			return
		}
		if o.N < 0 || o.N > MaxOffset || o.Unit.String() == "" {
			t.Fatalf("ParseOffset(%q) = %+v out of range", s, o)
		}
		back, err := ParseOffset(o.String())
		if err != nil || back != o {
			t.Fatalf("round trip of %q: %q -> %+v, %v", s, o.String(), back, err)
		}
		due := cal.Add(anchor, o)
		if due.Before(anchor) {
			t.Fatalf("%s after %v is %v, before the anchor", o, anchor, due)
		}
		if due.Location() != ams {
			t.Fatalf("due %v not in the calendar's zone", due)
		}
	})
}
