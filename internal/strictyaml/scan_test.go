package strictyaml

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// bombs are files built to make a YAML parser spend memory or time out of
// all proportion to their size.
func bombs() map[string]string {
	var deepMap strings.Builder
	for i := range 200 {
		fmt.Fprintf(&deepMap, "%sk%d:\n", strings.Repeat(" ", i), i)
	}
	var keys strings.Builder
	for i := range 300 {
		fmt.Fprintf(&keys, "k%03d: 1\n", i)
	}
	return map[string]string{
		// The runbook: 100,000 levels in 200 KB took 14.6 GiB.
		"flow lists 100,000 deep": "id: x\nq: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n",
		"flow maps deep":          "q: " + strings.Repeat("{a: ", 50_000) + "1" + strings.Repeat("}", 50_000) + "\n",
		"unclosed flow":           "q: " + strings.Repeat("[", 150_000) + "\n",
		"block lists deep":        strings.Repeat("- ", 100_000) + "x\n",
		"block maps deep":         deepMap.String(),
		"pairs in flow lists":     "q: " + strings.Repeat("[a: ", 40_000) + "1" + strings.Repeat("]", 40_000) + "\n",
		"many keys":               keys.String(),
	}
}

// TestCheckRefusesBombsOfEveryKind: each bomb is refused, for every kind of
// file, with the limit it crosses at its line and column.
func TestCheckRefusesBombsOfEveryKind(t *testing.T) {
	want := map[string]string{
		"flow lists 100,000 deep": "2:67: nesting is too deep: more than 64 levels of lists and mappings",
		"flow maps deep":          "1:256: nesting is too deep: more than 64 levels of lists and mappings",
		"unclosed flow":           "1:67: nesting is too deep: more than 64 levels of lists and mappings",
		"block lists deep":        "1:129: nesting is too deep: more than 64 levels of lists and mappings",
		"block maps deep":         "65:68: nesting is too deep: more than 64 levels of lists and mappings",
		"pairs in flow lists":     "1:130: nesting is too deep: more than 64 levels of lists and mappings",
		"many keys":               "257:5: a mapping has more than 256 keys",
	}
	for _, kind := range allKinds[:len(allKinds)-1] { // the cache is JSON, not YAML
		for name, src := range bombs() {
			probs := Check(kind, "f.yaml", []byte(src))
			if len(probs) != 1 || probs[0].String() != "f.yaml:"+want[name] {
				t.Errorf("%s, %s: got %v, want f.yaml:%s", kind, name, probs, want[name])
			}
			// Every way in is guarded: the parsers never see the bomb.
			if _, probs := Parse(kind, "f.yaml", []byte(src)); len(probs) != 1 || !strings.HasPrefix(probs[0].String(), "f.yaml:"+want[name]) {
				t.Errorf("%s, %s: Parse gave %v", kind, name, probs)
			}
			if DecodeFast(kind, []byte(src), new(sample)) {
				t.Errorf("%s, %s: the fast path decoded it", kind, name)
			}
		}
	}
	if _, probs := DecodeValues(Answers, "a.yaml", []byte(bombs()["unclosed flow"])); len(probs) != 1 || !strings.Contains(probs[0].Msg, "too deep") {
		t.Errorf("answers: %v", probs)
	}
}

// TestCheckLimitsOfSize: the token and path budgets.
func TestCheckLimitsOfSize(t *testing.T) {
	flat := "x: [" + strings.Repeat("1,", 60_000) + "1]\n"
	if probs := Check(Runbook, "f.yaml", []byte(flat)); len(probs) != 1 ||
		probs[0].Msg != "the file holds too much: more than 50000 keys, values, punctuation marks and lines" {
		t.Errorf("tokens: %v", probs)
	}
	if probs := Check(Directory, "f.yaml", []byte(flat)); probs != nil {
		t.Errorf("a directory may hold more: %v", probs)
	}
	// Every item under a long key stores the key in its path.
	long := strings.Repeat("k", 100_000) + ":\n" + strings.Repeat("  - 1\n", 40_000)
	if probs := Check(Directory, "f.yaml", []byte(long)); len(probs) != 1 || !strings.Contains(probs[0].Msg, "nested too deeply under long keys") {
		t.Errorf("paths: %v", probs)
	}
}

// TestCheckRefusesWhatTheParsersReadTwoWays: constructs on which
// goccy/go-yaml and yaml.v3 (or YAML) disagree about where text ends, each
// refused with a message that says what to write instead.
func TestCheckRefusesWhatTheParsersReadTwoWays(t *testing.T) {
	for src, want := range map[string]string{
		"a:\n\tb: 1\n":            "2:1: a tab character; YAML readers disagree about tabs outside quotes, so use spaces (or quote the text)",
		"a: \"x\ty\"\n":           `1:6: a tab character in quoted text; write \t instead`,
		"? a\n: b\n":              `1:1: explicit keys ("? ") are not allowed; write key: value`,
		"a: !!binary x\n":         "1:4: YAML tags such as !!binary are not allowed in answers files",
		"a: &x:, [1]\n":           `1:6: an anchor (&) or alias (*) name cannot hold ":,"; YAML readers end it in different places`,
		"<<: {a: 1}\n":            `1:1: merge keys ("<<") are not allowed`,
		"%YAML 1.2\n---\na: 1\n":  "1:1: YAML directives (%) are not allowed, and text cannot start with %; quote it",
		"a: 1\rb: 2\n":            "1:5: a carriage return not followed by a line feed; save the file with LF or CRLF line endings",
		"a: \x1b[31mred\n":        "1:4: the file holds a control character (U+001B); write it as an escape in double quotes if it is meant",
		"a: \u009b31m\n":          "1:4: the file holds a control character (U+009B); write it as an escape in double quotes if it is meant",
		"a: caf\xe9\n":            "1:7: the file is not valid UTF-8 (byte 0xe9); save it as UTF-8",
		"a: x\n  - y\n":           `2:3: this line continues the text of the line before but starts with '-', which YAML readers take differently; quote the text, or write it as a block (|)`,
		"a: x\n  b: y\n":          `2:4: this line continues the text of the line before, where ": " is not allowed; quote the text, write it as a block (|), or indent the line as a key of its own`,
		"a: b: c\n":               `1:5: a second key on one line; put a nested key on a line of its own, or quote text holding ": "`,
		"a: - b\n":                "1:4: a list cannot start on the line of its key; put its items on the lines below",
		"[a, b]: c\n":             "1:1: a list or mapping cannot be a key",
		"a: [b] c\n":              "1:8: nothing but a comment may follow a list or mapping in brackets on its line",
		"a: \"b\" c\n":            "1:8: nothing but a comment may follow quoted text on its line",
		"a: \"\\q\"\n":            `1:5: \q is not an escape YAML knows; write \\ for a backslash`,
		"a: & b\n":                "1:4: an anchor (&) or alias (*) needs a name that starts with a letter or digit right after it",
		"a: |x\n  b\n":            `1:5: after "|" or ">" only an indentation number, "+" or "-" and a comment may follow on the line`,
		"|\n  text\n":             `1:1: a block of text ("|" or ">") must follow a key or a list item "-" on its line`,
		"a: {b:\"c\"}\n":          `1:6: write a blank after ":" here, or quote the key`,
		"\"a\":b\n":               `1:4: write a blank after ":"`,
		"a: 1\n... b\n":           `2:5: nothing but a comment may follow "..." on its line`,
		": a\n":                   `1:1: a ":" with no key before it; write key: value`,
		"a: |\n  \ttext\n":        "2:3: a tab in the indentation of a block of text; use spaces",
		"a: [b\n  -c]\n":          `2:3: this line continues the text of the line before but starts with '-', which YAML readers take differently; quote the text`,
		"a: [?b]\n":               `1:5: explicit keys ("? ") are not allowed; write key: value, or quote text that starts with "?"`,
		"a: \"x\ny\n":             "", // an unclosed quote is left to the parser, which says so
		"a: |\n  [[[[\n  - - -\n": "", // text in a block is text
	} {
		probs := Check(Answers, "a.yaml", []byte(src))
		switch {
		case want == "" && probs != nil:
			t.Errorf("%q: got %v, want no problem", src, probs)
		case want != "" && (len(probs) != 1 || probs[0].String() != "a.yaml:"+want):
			t.Errorf("%q:\n got %v\nwant a.yaml:%s", src, probs, want)
		}
	}
}

// TestTagsMessageNamesTheKind: the message about YAML tags names the kind
// of file, from the scan and from the decoder (for a tag it finds after
// an alias, say).
func TestTagsMessageNamesTheKind(t *testing.T) {
	for kind, in := range map[Kind]string{Runbook: "runbooks", Scenario: "scenarios", Answers: "answers files",
		Configuration: "the configuration", Directory: "the directory", Actions: "actions files", Assessment: "shared assessments"} {
		_, probs := Parse(kind, "f.yaml", []byte("name: !x y\n"))
		if want := "f.yaml:1:7: YAML tags such as !x are not allowed in " + in; len(probs) != 1 || probs[0].String() != want {
			t.Errorf("%s: got %v, want %s", kind, probs, want)
		}
	}
}

// TestEveryRealFilePassesCheck: the bundled runbooks, scenarios,
// assessments and directory, and the documented examples, are far from
// every limit.
func TestEveryRealFilePassesCheck(t *testing.T) {
	var n int
	for glob, kind := range map[string]Kind{
		"../../runbooks/*.yaml": Runbook, "../../runbooks/scenarios/*.yaml": Scenario,
		"../../runbooks/assessments/*.yaml": Assessment, "../../runbooks/directory/*.yaml": Directory,
		"../../docs/examples/answers/*.yaml": Answers, "../../docs/examples/*.yaml": Configuration,
	} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			st, probs := check(kind, name, data)
			if probs != nil {
				t.Errorf("%s: %v", name, probs)
			}
			if lim := kind.Limits(); st.depth > 8 || st.entries > lim.Entries/4 || st.tokens > lim.Tokens/4 {
				t.Errorf("%s is near a limit: %+v", name, st)
			}
			n++
		}
	}
	if n < 20 {
		t.Fatalf("only %d files checked", n)
	}
}

// BenchmarkCheck measures the scan on the bundled runbooks: it runs
// before every parse, so it must cost little beside one.
func BenchmarkCheck(b *testing.B) {
	files, _ := filepath.Glob("../../runbooks/*.yaml")
	var all [][]byte
	var total int64
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, data)
		total += int64(len(data))
	}
	b.SetBytes(total)
	for b.Loop() {
		for _, data := range all {
			if probs := Check(Runbook, "f.yaml", data); probs != nil {
				b.Fatal(probs)
			}
		}
	}
}
