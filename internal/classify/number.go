package classify

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// ambiguousThousands matches "12.000" and "1.200.000": a thousands
// separator in much of Europe, a decimal point elsewhere.
var ambiguousThousands = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d{1,3}(\.\d{3})+$`) })

// ParseNumber reads a number as people write an estimate: "12000",
// "12,000", "12 000", "12_000", "12k", "1.5m", "~12000", "about 12000",
// "ca. 12000", "≈12k", "12000+". "12.000" is refused as ambiguous (twelve
// or twelve thousand?), with the two ways to write it.
func ParseNumber(s string) (float64, error) {
	orig := strings.TrimSpace(s)
	t := strings.ToLower(orig)
	for _, p := range []string{"approximately", "approx.", "approx", "about", "around", "roughly", "circa", "ca.", "ca", "~", "≈", ">", "<", "+-", "±"} {
		if strings.HasPrefix(t, p) {
			t = strings.TrimSpace(t[len(p):])
			break
		}
	}
	t = strings.TrimSuffix(strings.TrimSpace(t), "+")
	t = strings.TrimSpace(t)
	if t == "" {
		return 0, fmt.Errorf("enter a number, such as 12000, 12,000 or 12k")
	}
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "mln"):
		mult, t = 1e6, strings.TrimSuffix(t, "mln")
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, strings.TrimSuffix(t, "m")
	case strings.HasSuffix(t, "bn"):
		mult, t = 1e9, strings.TrimSuffix(t, "bn")
	}
	t = strings.TrimSpace(t)
	if ambiguousThousands().MatchString(t) && mult == 1 {
		n := strings.ReplaceAll(t, ".", "")
		return 0, fmt.Errorf("%q is ambiguous: write %s (or %s) for %s, or %s for a decimal", orig,
			n, FormatNumber(mustFloat(n)), FormatNumber(mustFloat(n)), strings.Replace(t, ".", ",", 1))
	}
	// Thousands separators: commas, spaces, underscores, apostrophes.
	t = strings.NewReplacer(",", "", " ", "", "_", "", "'", "", "\u00a0", "", "\u202f", "").Replace(t)
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a number: write it as 12000, 12,000 or 12k", orig)
	}
	return f * mult, nil
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// FormatNumber prints a number as people write it: whole numbers with
// thousands separators ("1,000,000", never "1e+06"), others with at most
// two decimals.
func FormatNumber(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	neg := f < 0
	if neg {
		f = -f
	}
	whole := math.Floor(f)
	frac := ""
	if f != whole {
		s := strconv.FormatFloat(f, 'f', 2, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		if i := strings.IndexByte(s, '.'); i >= 0 {
			frac = s[i:]
			whole, _ = strconv.ParseFloat(s[:i], 64)
		} else {
			whole, _ = strconv.ParseFloat(s, 64)
		}
	}
	digits := strconv.FormatFloat(whole, 'f', 0, 64)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String() + frac
}
