package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// hostileTitle holds an 8-bit CSI (U+009B), a right-to-left override and
// a zero-width space, as a title pasted from a phishing mail may.
const hostileTitle = "Pay\u009b31m invoice \u202eexe.pdf\u200b"

// TestCLIJSONEscapesAndTextStrips: every JSON the CLI writes carries C1
// controls, bidirectional overrides and invisible characters as \u
// escapes (and means the same), and the text output leaves them out.
func TestCLIJSONEscapesAndTextStrips(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "ddos", "--title", hostileTitle, "--customer", "acme")
	c.ok("incident", "note", "INC-0001", hostileTitle)
	for _, args := range [][]string{
		{"incident", "show", "INC-0001", "--json"},
		{"incident", "list", "--json"},
		{"incident", "export", "INC-0001", "--format", "json"},
		{"incident", "export", "INC-0001", "--format", "json", "--customer", "acme"},
		{"notify", "list", "--json"},
	} {
		out := c.ok(args...)
		if strings.ContainsAny(out, "\u009b\u202e\u200b") {
			t.Errorf("%v: raw characters in the JSON:\n%s", args, out)
		}
		if args[0] == "incident" && !strings.Contains(out, `Pay\u009b31m invoice \u202eexe.pdf\u200b`) {
			t.Errorf("%v: the title is not escaped as \\u sequences:\n%s", args, out)
		}
		var v any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Errorf("%v: not JSON: %v", args, err)
		}
	}
	// The escapes mean the same: the title comes back whole.
	var d struct {
		Incident struct{ Title string } `json:"incident"`
	}
	if err := json.Unmarshal([]byte(c.ok("incident", "show", "INC-0001", "--json")), &d); err != nil || d.Incident.Title != hostileTitle {
		t.Fatalf("title %q, %v", d.Incident.Title, err)
	}
	for _, args := range [][]string{
		{"incident", "show", "INC-0001"},
		{"incident", "list"},
		{"incident", "export", "INC-0001"},
		{"notify", "list"},
	} {
		out := c.ok(args...)
		if strings.ContainsAny(out, "\u009b\u202e\u200b\x1b") {
			t.Errorf("%v: hidden characters in the text:\n%q", args, out)
		}
		if args[0] == "incident" && !strings.Contains(out, "Pay31m invoice exe.pdf") {
			t.Errorf("%v: the title is missing:\n%s", args, out)
		}
	}
}
