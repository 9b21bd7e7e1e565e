package strictyaml

import (
	"fmt"
	"strings"
)

// suggest offers the closest known field name for a misspelt one.
func suggest(got string, names []string) (hint, name string) {
	best, bestD := "", 3
	for _, n := range names {
		if dist := editDistance(got, n); dist < bestD {
			best, bestD = n, dist
		}
	}
	if best == "" {
		return "; known fields: " + strings.Join(names, ", "), ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best), best
}

// DidYouMean offers the closest of names for a misspelt one, as
// ` (did you mean "x"?)`, or "" when none is close.
func DidYouMean(got string, names []string) string {
	best, bestD := "", 4
	for _, n := range names {
		if d := editDistance(got, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if a == b {
		return 0
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
