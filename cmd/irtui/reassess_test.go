package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The answers file of the example with one fact changed: the data turns
// out to belong to our customers too.
func changedAnswers(t *testing.T, c *cli, from, to string) string {
	t.Helper()
	data, err := os.ReadFile("../../docs/examples/answers/personal-data-breach.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, from) {
		t.Fatalf("the example answers lack %q", from)
	}
	return c.write("changed.yaml", strings.Replace(s, from, to, 1))
}

func TestCLIReassessLinkUnlink(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "personal-data-breach", "--title", "Bucket open",
		"--answers", "../../docs/examples/answers/personal-data-breach.yaml", "--aware-at", "2026-03-27 10:00")

	// Reassessing needs the new answers; bad ones say where.
	c.fails("--answers", "incident", "reassess", "INC-0001")
	c.fails("bad.yaml:1:1", "incident", "reassess", "INC-0001", "--answers", c.write("bad.yaml", "records: many\n"))

	out := c.ok("incident", "reassess", "INC-0001", "--answers",
		changedAnswers(t, c, "customers_affected: no", "customers_affected: yes"), "--reason", "the export held customer data too", "--json")
	var res struct {
		FlagsSet []string `json:"flags_set"`
		Changed  []string `json:"changed"`
		To       string   `json:"to"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(strings.Join(res.FlagsSet, ","), "customer_data_affected") || strings.Join(res.Changed, ",") != "customers_affected" {
		t.Fatalf("reassess: %s", out)
	}
	show := c.ok("incident", "show", "INC-0001")
	if !strings.Contains(show, "Re-assessed") || !strings.Contains(show, "the export held customer data too") {
		t.Errorf("show lacks the re-assessment:\n%s", show)
	}

	// The customer notice rule fired with nobody linked; linking drafts it.
	out = c.ok("incident", "link", "INC-0001", "zuiderzee")
	if !strings.Contains(out, "zuiderzee is affected") {
		t.Errorf("link: %s", out)
	}
	if list := c.ok("notify", "list", "--incident", "INC-0001"); !strings.Contains(list, "zuiderzee") {
		t.Errorf("no draft for zuiderzee:\n%s", list)
	}
	c.fails("already linked", "incident", "link", "INC-0001", "zuiderzee")
	c.fails("needs a reason", "incident", "unlink", "INC-0001", "zuiderzee")
	c.ok("incident", "unlink", "INC-0001", "zuiderzee", "--reason", "their tenant was not in the bucket")
	if list := c.ok("notify", "list", "--incident", "INC-0001"); !strings.Contains(list, "withdrawn") {
		t.Errorf("zuiderzee's draft was not withdrawn:\n%s", list)
	}
	c.fails("not linked", "incident", "unlink", "INC-0001", "zuiderzee", "--reason", "again")

	// Closing names the clocks and the drafts left.
	c.fails("legal clock still running", "incident", "close", "INC-0001")
	c.ok("incident", "close", "INC-0001", "--override", "regulator told by phone")
}
