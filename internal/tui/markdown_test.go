package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

func TestRenderMarkdown(t *testing.T) {
	s := NewStyles(true)
	tests := []struct {
		name, src string
		w         int
		want      string
	}{
		{"paragraphs reflow to the width", "Issue a new secret, deploy it,\nthen **revoke the old one**; if it takes long,\nrevoke first.\n\nThen check.", 30,
			"Issue a new secret, deploy it,\nthen revoke the old one; if it\ntakes long, revoke first.\n\nThen check."},
		{"lists nest and hang", "- Revoke sessions created with the old secret\n- Rotate:\n  1. the key\n  2. the _token_\n\nAfter.", 24,
			"• Revoke sessions\n  created with the old\n  secret\n• Rotate:\n  1. the key\n  2. the token\n\nAfter."},
		{"snake_case and 2*3 stay", "Set max_retry_count to 2*3 now.", 40, "Set max_retry_count to 2*3 now."},
		{"code spans, links and autolinks", "Run `irtui audit verify` and see [the guide](https://x.test/g) or <https://x.test>.", 80,
			"Run irtui audit verify and see the guide (https://x.test/g) or https://x.test."},
		{"headings, quotes, rules and code blocks", "# Contain\n\n> Do **not** power off.\n\n---\n\n```sh\nkill -9 1234\n```", 40,
			"Contain\n\n│ Do not power off.\n\n────────────────────────────────────────\n\n  kill -9 1234"},
		{"escapes and hard breaks", "Keep \\*this\\* as is  \nnext line\\\nlast", 40, "Keep *this* as is\nnext line\nlast"},
		{"a word longer than the line is cut", "abcdefghijklmnopqrstuvwxyz end", 10, "abcdefghij\nklmnopqrst\nuvwxyz end"},
		{"a long word in two styles is cut, not lost", "x **abcdefghijklmnopqrstuvwxyz**, end", 10, "x\nabcdefghij\nklmnopqrst\nuvwxyz,\nend"},
		{"unclosed markers stay text", "a ** b and `c and [d](", 40, "a ** b and `c and [d]("},
		{"a link shown as its address keeps what follows", "see [https://x.test](https://x.test). Then", 40, "see https://x.test. Then"},
		{"quotes hold lists and blank lines", "> quote\n> - item\n>\n> after", 40, "│ quote\n│\n│ • item\n│\n│ after"},
		{"tables as written", "| a | b |\n|---|---|\n| 1 | 2 |", 40, "| a | b |\n|---|---|\n| 1 | 2 |"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ansi.Strip(renderMarkdown(tc.src, tc.w, s, false))
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// Bold text is drawn bold, code in the accent colour.
func TestRenderMarkdownStyles(t *testing.T) {
	s := NewStyles(true)
	out := renderMarkdown("then **revoke** and `run`", 40, s, false)
	if !strings.Contains(out, s.Bold.Inherit(s.App).UnsetForeground().Bold(true).Render("revoke")) &&
		!strings.Contains(out, "\x1b[1m") {
		t.Errorf("no bold in %q", out)
	}
	if !strings.Contains(out, s.Accent.Render("run")) {
		t.Errorf("no accent for code in %q", out)
	}
}

// A session that asked for no colour gets the text with no styling at
// all, laid out the same.
func TestRenderMarkdownPlain(t *testing.T) {
	src := "# Contain\n\nRun `isolate` **now**, see [the guide](https://x.test/g).\n\n> quoted\n\n---"
	plain := renderMarkdown(src, 40, NewStyles(true), true)
	if strings.Contains(plain, "\x1b") {
		t.Errorf("styling in %q", plain)
	}
	if styled := renderMarkdown(src, 40, NewStyles(true), false); ansi.Strip(styled) != plain {
		t.Errorf("plain text differs from the styled one:\n%s\n---\n%s", plain, ansi.Strip(styled))
	}
}

// A body's escape sequences never reach the terminal: what is left once
// the renderer's own colours are taken out holds no control character.
func TestRenderMarkdownCleansControls(t *testing.T) {
	src := "Run `a\x1b]0;pwned\x07` and **b\x1b[2J**\n\n```\nc\x1b[31m\td\n```\n\n| x\t| \x9b2J |\n\n[l\x1b]8;;http://evil\x1b\\](u\x07)"
	out := renderMarkdown(safeMarkdown(src), 40, NewStyles(true), false)
	if err := controlsIn(out); err != "" {
		t.Errorf("%s in %q", err, out)
	}
}

// sgr is the styling the renderer itself writes.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// controlsIn names a control character in s other than newlines and the
// renderer's own styling, or returns "".
func controlsIn(s string) string {
	for _, r := range sgr.ReplaceAllString(s, "") {
		if r != '\n' && unicode.IsControl(r) {
			return fmt.Sprintf("control character %U", r)
		}
	}
	return ""
}

// Every line fits the width and no control character gets through,
// whatever the input.
func FuzzRenderMarkdown(f *testing.F) {
	for _, seed := range []string{"# h\n\n- a\n  - b\n\n> q\n\n```\nc\n```", "**b** _i_ `c` [l](u) <https://x>", "| t |", "    code",
		"1. one\n2. two\n\n* x", "a\\\nb  \nc", "***", "__x__y", "[a]([b](c))"} {
		f.Add(seed, 30, false)
	}
	s := NewStyles(true)
	f.Fuzz(func(t *testing.T, src string, w int, plain bool) {
		w = 10 + abs(w)%120
		out := renderMarkdown(safeMarkdown(src), w, s, plain)
		for _, l := range strings.Split(out, "\n") {
			if lw := ansi.StringWidth(l); lw > w {
				t.Fatalf("line %q is %d wide, more than %d", ansi.Strip(l), lw, w)
			}
		}
		if err := controlsIn(out); err != "" {
			t.Fatalf("%s in %q", err, out)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Hostile bodies (a runbook file may be 1 MiB) cost one pass: unclosed
// brackets, angle brackets and backticks, and one endless word.
func BenchmarkRenderMarkdown(b *testing.B) {
	s := NewStyles(true)
	for _, bc := range []struct{ name, src string }{
		{"step", "Disconnect affected hosts from the network (EDR isolation, switch port, VLAN) but **do\nnot power them off**: run `isolate`, see [the guide](https://x.test/g).\n\n- one\n- two\n  1. nested\n"},
		{"unclosed-brackets-1MiB", strings.Repeat("[a](", 1<<18)},
		{"unclosed-angles-1MiB", strings.Repeat("<", 1<<20)},
		{"one-word-1MiB", strings.Repeat("a\\", 1<<19)},
		{"words-1MiB", strings.Repeat("word ", 1<<18)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				renderMarkdown(bc.src, 80, s, false)
			}
		})
	}
}
