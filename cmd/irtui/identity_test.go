package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// teamDirectory maps the OS user running the tests to "me", an
// administrator who may override and export, and lets chen approve; the
// demo directory's other people have no OS users on this machine.
func teamDirectory(osUser string) string {
	return fmt.Sprintf(`people:
  - {id: me, name: Me, roles: [incident_commander], os_users: [%q], permissions: [admin, override, export]}
  - {id: chen, name: Chen, roles: [incident_commander], permissions: [approve]}
`, osUser)
}

// noTrust is a CLI whose team has loaded the demo directory and mapped
// the OS user running the tests to "me", without local trust mode.
func noTrust(t *testing.T) (*cli, string) {
	t.Helper()
	c := newCLI(t)
	c.config = c.write("org.yaml", orgConfig) // no local trust mode
	osUser := identity.OSUserName()
	c.withDirectory()
	c.installer("directory", "import", c.write("team.yaml", teamDirectory(osUser)))
	c.as = ""
	return c, osUser
}

func (c *cli) audit() []store.AuditEntry {
	c.t.Helper()
	st, err := store.Open(context.Background(), c.db)
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Audit(context.Background(), store.AuditFilter{})
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

func (c *cli) timeline(id string) []store.TimelineEntry {
	c.t.Helper()
	st, err := store.Open(context.Background(), c.db)
	if err != nil {
		c.t.Fatal(err)
	}
	defer st.Close()
	tl, err := st.Timeline(context.Background(), id)
	if err != nil {
		c.t.Fatal(err)
	}
	return tl
}

// refusedAndAudited checks that the newest audit entry records action as
// refused for actor, authenticated as auth.
func (c *cli) refusedAndAudited(action, actor, auth string) {
	c.t.Helper()
	a := c.audit()
	last := a[len(a)-1]
	if last.Action != action || last.Outcome != store.OutcomeRefused || last.Actor != actor || last.Auth != auth {
		c.t.Fatalf("want %s refused for %s (%s) audited; the last entry is %+v", action, actor, auth, last)
	}
}

func TestCLIAsIsRefusedOnARealIncidentOutsideTrustMode(t *testing.T) {
	c, osUser := noTrust(t)
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost", "--customer", "acme")
	tl := c.timeline("INC-0001")
	if tl[0].Actor != "me" || tl[0].Auth != "os:"+osUser {
		t.Fatalf("the declaration is recorded as %q (%q); want me, by OS user %s", tl[0].Actor, tl[0].Auth, osUser)
	}
	before := len(tl)

	// Naming someone else, by flag or by environment, changes nothing.
	c.fails("allowed only on drill incidents", "--as", "alice", "incident", "note", "INC-0001", "as alice")
	c.refusedAndAudited("note", "alice", "claim by os:"+osUser)
	c.as = "chen"
	c.fails("allowed only on drill incidents", "incident", "close", "INC-0001", "--override", "done")
	c.refusedAndAudited("close", "chen", "claim by os:"+osUser)
	if out := c.ok("incident", "list"); strings.Contains(out, "INC-0001") {
		t.Fatalf("a claim lists drills only:\n%s", out)
	}
	c.fails("allowed only on drill incidents", "incident", "show", "INC-0001")
	c.as = ""
	if n := len(c.timeline("INC-0001")); n != before {
		t.Fatalf("refused claims wrote %d timeline entries", n-before)
	}
	// Without --as the same person acts as themselves.
	c.ok("incident", "note", "INC-0001", "as me")
	if out := c.ok("incident", "show", "INC-0001"); !strings.Contains(out, "as me") {
		t.Fatalf("show:\n%s", out)
	}

	// On a drill incident, a claim holds, and the record says who made it.
	c.as = "alice"
	out := c.ok("incident", "list", "--json")
	if strings.Contains(out, "INC-0001") {
		t.Fatalf("a claim lists drills only:\n%s", out)
	}
	out = c.ok("drill", "run", "bec-fraudulent-payment", "--speed", "max", "--actions",
		"../../docs/examples/drills/bec-fraudulent-payment.actions.yaml")
	run := strings.TrimSpace(out)
	if !strings.HasPrefix(run, "DR-") {
		t.Fatalf("drill run printed %q", out)
	}
	// The drill's incident was closed with its run.
	out = c.ok("incident", "list", "--all", "--json")
	var drills []store.Incident
	if err := json.Unmarshal([]byte(out), &drills); err != nil || len(drills) != 1 || !drills[0].Drill {
		t.Fatalf("alice's list: %v\n%s", err, out)
	}
	claimed := false
	for _, e := range c.timeline(drills[0].ID) {
		claimed = claimed || e.Actor == "alice" && e.Auth == "claim by os:"+osUser
	}
	if !claimed {
		t.Fatal("the drill's timeline does not record alice's claim with the OS user behind it")
	}
	c.as = ""
}

func TestCLIDrafterCannotApproveTheirOwnNotice(t *testing.T) {
	c, osUser := noTrust(t)
	answers := c.write("answers.yaml", cliAnswers)
	c.ok("incident", "declare", "--runbook", "personal-data-breach", "--title", "Export", "--answers", answers, "--customer", "acme")
	var list []noticeJSON
	if err := json.Unmarshal([]byte(c.ok("notify", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	var notice noticeJSON
	for _, n := range list {
		if n.CustomerID == "acme" {
			notice = n
		}
	}
	id := jsonID(notice.ID)
	for _, f := range notice.Fields {
		if f.Required {
			c.ok("notify", "set", id, f.ID, "text for "+f.ID)
		}
	}
	c.ok("incident", "assign", "INC-0001", "incident_commander", "me")
	// me drafted (declared) and filled it in; holding the role is not enough.
	c.fails("you drafted", "notify", "approve", id)
	c.refusedAndAudited("notify_approve", "me", "os:"+osUser)
	// Naming the approver with --as is a claim: refused on a real incident.
	c.fails("allowed only on drill incidents", "--as", "chen", "notify", "approve", id)
	c.refusedAndAudited("notify_approve", "chen", "claim by os:"+osUser)
	if out := c.ok("notify", "show", id); !strings.Contains(out, "draft") {
		t.Fatalf("the notice moved:\n%s", out)
	}
}

// The mallory: a name in no directory, in local trust mode,
// tries everything she did before and changes nothing.
func TestCLIStrangerCannotChangeAnything(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	c.ok("incident", "assign", "INC-0001", "incident_commander", "alice")
	before := len(c.timeline("INC-0001"))
	mallory := c.write("mallory.yaml", "people:\n  - {id: mallory, roles: [incident_commander], permissions: [admin]}\n")
	c.as = "mallory"
	for _, tc := range []struct {
		action string
		args   []string
	}{
		{"close", []string{"incident", "close", "INC-0001", "--override", "mine now"}},
		{"severity", []string{"incident", "severity", "INC-0001", "SEV4", "--reason", "nothing to see"}},
		{"import", []string{"directory", "import", mallory}},
		{"assign", []string{"incident", "assign", "INC-0001", "incident_commander", "bob"}},
		{"acknowledge", []string{"incident", "ack", "INC-0001", "incident_commander"}},
		{"note", []string{"incident", "note", "INC-0001", "hello"}},
		{"export", []string{"incident", "export", "INC-0001"}},
		{"directory_list", []string{"directory", "list"}},
		{"audit_verify", []string{"audit", "verify"}},
	} {
		c.fails("mallory is not a person in the directory", tc.args...)
		c.refusedAndAudited(tc.action, "mallory", "claim by os:"+identity.OSUserName()+" in trust mode")
	}
	// Look-alikes of alice and control characters fare no better.
	c.as = "\u0430lice"
	c.fails("looks like alice", "incident", "note", "INC-0001", "hi")
	c.as = "alice\x1b[K"
	c.fails("control, invisible or bidirectional formatting character", "incident", "note", "INC-0001", "hi")
	c.refusedAndAudited("identify", `"alice\x1b[K"`, "claim by os:"+identity.OSUserName()+" in trust mode")
	c.as = "alice"
	if n := len(c.timeline("INC-0001")); n != before {
		t.Fatalf("a stranger changed the timeline: %d entries, want %d", n, before)
	}
	if out := c.ok("incident", "show", "INC-0001"); !strings.Contains(out, "open") {
		t.Fatalf("show:\n%s", out)
	}
}

// In trust mode a claim holds, and each entry shows the OS user behind it.
func TestCLIClaimsShowWhoMadeThem(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	c.ok("incident", "declare", "--runbook", "lost-device", "--title", "Phone lost")
	want := "alice (claimed by OS user " + identity.OSUserName() + ")"
	if out := c.ok("incident", "show", "INC-0001"); !strings.Contains(out, want) {
		t.Fatalf("show lacks %q:\n%s", want, out)
	}
	if out := c.ok("incident", "export", "INC-0001"); !strings.Contains(out, want) {
		t.Fatalf("export lacks %q:\n%s", want, out)
	}
	out := c.ok("incident", "export", "INC-0001", "--format", "json")
	if !strings.Contains(out, `"auth": "claim by os:`+identity.OSUserName()+` in trust mode"`) {
		t.Fatalf("JSON export lacks the auth:\n%s", out)
	}
}
