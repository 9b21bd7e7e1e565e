package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIAnchorsAndRiskDecision records anchors and a DPO's risk decision
// with the real binary, and checks what `incident show` and `classify`
// say about them.
func TestCLIAnchorsAndRiskDecision(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	cfg := filepath.Join(c.dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`policy:
  eu_controller: true
  sec_registrant: true
  nydfs_covered_entity: true
  time_zone: Europe/Amsterdam
identity:
  local_trust: true
`), 0o600); err != nil {
		t.Fatal(err)
	}
	answers := "../../docs/examples/answers/ransomware.yaml"
	out := c.ok("--config", cfg, "incident", "declare", "--runbook", "ransomware", "--title", "Encrypted file servers",
		"--answers", answers, "--aware-at", "2026-10-24 22:00")
	if !strings.Contains(out, "Declared INC-0001") {
		t.Fatalf("declare: %s", out)
	}
	// A time in the hour the clocks repeat is the earlier instant, and the
	// command says so; one in the hour they skip is refused.
	out = c.ok("--config", cfg, "incident", "anchor", "INC-0001", "materiality-determined", "--at", "2026-10-25 02:30",
		"--note", "Disclosure committee, minute 3")
	if !strings.Contains(out, "Recorded materiality-determined of INC-0001 at 2026-10-25 02:30 CEST") ||
		!strings.Contains(out, "the earlier one is recorded") || !strings.Contains(out, "sec-8k-1.05") {
		t.Errorf("anchor: %s", out)
	}
	_, errs, code := c.run("--config", cfg, "incident", "anchor", "INC-0001", "ransom-paid", "--at", "2026-03-29 02:30")
	if code == 0 || !strings.Contains(errs, "2026-03-29 02:30 does not exist in Europe/Amsterdam") {
		t.Errorf("a time in the spring gap: exit %d, %s", code, errs)
	}
	_, errs, code = c.run("incident", "anchor", "INC-0001", "materiality")
	if code == 0 || !strings.Contains(errs, `unknown anchor "materiality"`) {
		t.Errorf("unknown anchor: exit %d, %s", code, errs)
	}
	_, errs, code = c.run("--config", cfg, "incident", "anchor", "INC-0001", "materiality-determined", "--at", "2026-10-26 09:00")
	if code == 0 || !strings.Contains(errs, "needs a note") {
		t.Errorf("recording again without a note: exit %d, %s", code, errs)
	}
	c.ok("--config", cfg, "incident", "risk", "INC-0001", "high", "--reason", "customer portal passwords were on the shares")

	show := c.ok("--config", cfg, "incident", "show", "INC-0001")
	for _, want := range []string{
		"materiality-determined   2026-10-25 02:30 CEST by alice: Disclosure committee, minute 3",
		"breach risk decided       high by alice",
		// Sun 25 Oct (EDT in New York until 1 Nov): Mon to Thu, 17:30.
		"sec-8k-1.05", "2026-10-29 17:30 EDT", "from determined ",
		"anchor_recorded", "risk_decided",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	var v struct {
		Clocks []struct {
			ID     string `json:"id"`
			Anchor string `json:"anchor"`
		} `json:"clocks"`
	}
	if err := json.Unmarshal([]byte(c.ok("--config", cfg, "incident", "show", "INC-0001", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cl := range v.Clocks {
		if cl.ID == "sec-8k-1.05" && cl.Anchor == "determined" {
			found = true
		}
		if cl.ID == "gdpr-34" {
			found = found && true
		}
	}
	if !found {
		t.Errorf("show --json: %+v", v.Clocks)
	}

	// classify takes the same anchors, and warns past a calendar's years.
	out = c.ok("--config", cfg, "classify", "--runbook", "exploited-vulnerability", "--answers",
		"../../docs/examples/answers/exploited-vulnerability.yaml", "--aware-at", "2035-12-27 09:00",
		"--anchor", "materiality-determined=2035-12-27 10:00")
	for _, want := range []string{"breach_risk: high (decided by ", "FROM", "determined",
		"WARNING: sec-8k-1.05: business days in 2036 are counted with the US calendar, which does not cover 2036"} {
		if !strings.Contains(out, want) {
			t.Errorf("classify lacks %q:\n%s", want, out)
		}
	}
	_, errs, code = c.run("classify", "--runbook", "ransomware", "--anchor", "paid=2026-01-01 10:00")
	if code == 0 || !strings.Contains(errs, `bad --anchor "paid=2026-01-01 10:00"`) {
		t.Errorf("bad --anchor: exit %d, %s", code, errs)
	}
}
