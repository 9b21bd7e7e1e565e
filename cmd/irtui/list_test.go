package main

import (
	"fmt"
	"strings"
	"testing"
)

// `incident list` pages: --limit N shows the newest N, says how many the
// list holds and gives the command for the next page, which --after runs.
func TestCLIListPages(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	for i := 1; i <= 5; i++ {
		c.ok("incident", "declare", "--runbook", "lost-device", "--title", fmt.Sprintf("Phone %d lost", i))
	}
	c.ok("incident", "close", "INC-0004", "--override", "found it")
	first := c.ok("incident", "list", "--limit", "2")
	if !strings.Contains(first, "INC-0005") || !strings.Contains(first, "INC-0003") || strings.Contains(first, "INC-0004") ||
		strings.Contains(first, "INC-0002") {
		t.Fatalf("first page:\n%s", first)
	}
	if !strings.Contains(first, "2 of 4 open incidents. Next page: irtui incident list --limit 2 --after INC-0003.") {
		t.Fatalf("first page does not say how to go on:\n%s", first)
	}
	second := c.ok("incident", "list", "--limit", "2", "--after", "INC-0003")
	if !strings.Contains(second, "INC-0002") || !strings.Contains(second, "INC-0001") || strings.Contains(second, "Phone 3") ||
		strings.Contains(second, "Next page") || !strings.Contains(second, "2 of 4 open incidents, older than INC-0003.") {
		t.Fatalf("second page:\n%s", second)
	}
	all := c.ok("incident", "list", "--all", "--limit", "3", "--after", "5")
	if !strings.Contains(all, "INC-0004") || !strings.Contains(all, "3 of 5 open and closed incidents, older than INC-0005. Next page: irtui incident list --all --limit 3 --after INC-0002.") {
		t.Fatalf("all:\n%s", all)
	}
	if out := c.ok("incident", "list", "--after", "INC-0001"); !strings.Contains(out, "No open incidents older than INC-0001.") {
		t.Fatalf("past the end:\n%s", out)
	}
	c.fails(`--after "yesterday": give an incident id such as INC-0042`, "incident", "list", "--after", "yesterday")
	c.fails("--limit 0: give a number of incidents from 1 to 10000", "incident", "list", "--limit", "0")
	c.fails("--limit 9223372036854775807: give a number of incidents from 1 to 10000", "incident", "list", "--limit", "9223372036854775807")
}
