package runbook

import (
	"strings"
	"testing"
)

// FuzzParseFile feeds arbitrary bytes to the loader: it must never panic,
// and it must either load a runbook or say what is wrong, with a position.
// Seeds: testdata/minimal.yaml, a few broken variants below, and the
// corpus in testdata/fuzz/FuzzParseFile.
func FuzzParseFile(f *testing.F) {
	base := minimal(f)
	f.Add([]byte(base))
	f.Add([]byte(strings.Replace(base, "owner:", "ownr:", 1)))
	f.Add([]byte(strings.Replace(base, "  class:", "\tclass:", 1)))
	f.Add([]byte(strings.Replace(base, "when: down", "when: down +", 1)))
	f.Add([]byte(strings.Replace(base, "{{.Content.what}}", "{{.Content.what", 1)))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("id: !!binary aGVsbG8=\n"))
	f.Add([]byte("- [a, b\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		rb, probs := ParseFile("fuzz.yaml", data, ValidateOptions{})
		if rb == nil && len(probs) == 0 {
			t.Fatal("neither a runbook nor a problem")
		}
		if rb != nil && len(probs) > 0 {
			t.Fatal("both a runbook and problems")
		}
		for _, p := range probs {
			if p.Line < 1 || p.Col < 1 || p.Msg == "" || p.Path != "fuzz.yaml" {
				t.Fatalf("bad problem %#v", p)
			}
		}
	})
}
