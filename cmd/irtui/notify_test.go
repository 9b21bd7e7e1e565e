package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slack-go/slack/slacktest"
)

type notifyCLI struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newNotifyCLI(t *testing.T) *notifyCLI {
	dir := t.TempDir()
	c := &notifyCLI{t: t, bin: cliBinary(t), dir: dir}
	c.env = []string{"IRTUI_DB=" + filepath.Join(dir, "irtui.db"), "IRTUI_CACHE=off", "NO_COLOR=1",
		"XDG_DATA_HOME=" + dir, "HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	return c
}

// run runs irtui as user and returns stdout, stderr and the exit code.
func (c *notifyCLI) run(user string, extraEnv []string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(append(append([]string{}, c.env...), "IRTUI_USER="+user), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func (c *notifyCLI) ok(user string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(user, nil, args...)
	if code != 0 {
		c.t.Fatalf("irtui %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

type noticeJSON struct {
	ID         int64    `json:"id"`
	Status     string   `json:"status"`
	Audience   string   `json:"audience"`
	CustomerID string   `json:"customer_id"`
	Language   string   `json:"language"`
	Via        string   `json:"via"`
	Missing    []string `json:"missing"`
	Fields     []struct {
		ID       string `json:"id"`
		Required bool   `json:"required"`
	} `json:"fields"`
	ExportPath string `json:"export_path"`
	LastError  string `json:"last_error"`
}

func (c *notifyCLI) notices() []noticeJSON {
	c.t.Helper()
	var list []noticeJSON
	if err := json.Unmarshal([]byte(c.ok("dave", "notify", "list", "--json")), &list); err != nil {
		c.t.Fatal(err)
	}
	return list
}

const cliDirectory = `people:
  - {id: alice, name: Alice, roles: [incident_commander]}
  - {id: chen, name: Chen, roles: [incident_commander]}
  - {id: eli, name: Eli, roles: [customer_liaison]}
  - {id: dave, name: Dave}
customers:
  - {id: acme, name: Acme Holdings, language: en, contact_kind: email, contact: sec@acme.test}
  - {id: zuid, name: Zuiderzee Zorg, language: nl, contact_kind: email, contact: sec@zuid.test}
`

const cliAnswers = `personal_data: yes
exposure: disclosed
data_categories: [contact]
records: 300
encrypted: no
customers_affected: yes
controller_data: no
ongoing: no
functional_impact: none
us_health_data: no
ca_residents: 0
discovered_by: a customer
unavailable_hours: 0
identifiable: direct
recipients: unknown
malicious: no
undetected_days: 0
used_against_people: no
consequences: limited
uk_people: no
`

func TestCLINotifyFlow(t *testing.T) {
	c := newNotifyCLI(t)
	dirFile, answers := filepath.Join(c.dir, "dir.yaml"), filepath.Join(c.dir, "answers.yaml")
	if err := os.WriteFile(dirFile, []byte(cliDirectory), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(answers, []byte(cliAnswers), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("admin", "directory", "import", dirFile)
	c.ok("alice", "incident", "declare", "--runbook", "personal-data-breach", "--title", "Export <!channel>",
		"--answers", answers, "--customer", "acme", "--customer", "zuid")

	list := c.notices()
	var stake, zuid noticeJSON
	for _, n := range list {
		switch {
		case n.Audience == "stakeholders":
			stake = n
		case n.CustomerID == "zuid":
			zuid = n
		}
	}
	if stake.Status != "queued" || zuid.Status != "draft" || zuid.Language != "nl" || len(zuid.Missing) == 0 {
		t.Fatalf("notifications: %+v", list)
	}
	table := c.ok("dave", "notify", "list")
	if !strings.Contains(table, "to fill") || !strings.Contains(table, "Beveiligingsincident") {
		t.Errorf("list:\n%s", table)
	}

	// Approval before the content is there is refused, with the reason.
	id := jsonID(zuid.ID)
	_, errOut, code := c.run("alice", nil, "notify", "approve", id)
	if code != 1 || !strings.Contains(errOut, "required content is empty") {
		t.Fatalf("approve an empty draft: exit %d %s", code, errOut)
	}
	for _, f := range zuid.Fields {
		if f.Required {
			c.ok("eli", "notify", "set", id, f.ID, "Tekst voor "+f.ID)
		}
	}
	_, errOut, code = c.run("eli", nil, "notify", "approve", id)
	if code != 1 || !strings.Contains(errOut, "nobody holds incident_commander") {
		t.Fatalf("approve without a commander: exit %d %s", code, errOut)
	}
	c.ok("alice", "incident", "assign", "INC-0001", "incident_commander", "alice")
	if _, errOut, code = c.run("alice", nil, "notify", "approve", id); code != 1 || !strings.Contains(errOut, "you drafted") {
		t.Fatalf("the drafter approved: exit %d %s", code, errOut)
	}
	c.ok("alice", "incident", "assign", "INC-0001", "incident_commander", "chen")
	c.ok("chen", "notify", "approve", id)

	show := c.ok("dave", "notify", "show", id)
	if !strings.Contains(show, "Status:        queued") || !strings.Contains(show, "Tekst voor what_happened") {
		t.Errorf("show:\n%s", show)
	}

	// No Slack: the console, and a file export for mail.
	consoleLog := filepath.Join(c.dir, "console.log")
	out, errOut, code := c.run("ops", []string{"IRTUI_CONSOLE_LOG=" + consoleLog}, "notify", "send", "--wait")
	if code != 0 || !strings.Contains(out, "Delivering by console") || !strings.Contains(out, "2 sent") {
		t.Fatalf("send: exit %d\n%s%s", code, out, errOut)
	}
	for _, n := range c.notices() {
		switch n.ID {
		case stake.ID:
			if n.Status != "sent" || n.Via != "console" {
				t.Errorf("stakeholder message: %+v", n)
			}
		case zuid.ID:
			if n.Status != "sent" || n.Via != "file" || !strings.HasPrefix(n.ExportPath, filepath.Join(c.dir, "irtui", "outbox")) {
				t.Errorf("customer notice: %+v", n)
			}
		}
	}
	if b, err := os.ReadFile(consoleLog); err != nil || !strings.Contains(string(b), "Export <!channel>") {
		t.Errorf("console log: %v\n%s", err, b)
	}
	if _, errOut, code = c.run("chen", nil, "notify", "retry", id); code != 1 || !strings.Contains(errOut, "only a failed") {
		t.Errorf("retry of a sent notice: exit %d %s", code, errOut)
	}
	if _, errOut, code = c.run("chen", nil, "notify", "show", "x"); code != 1 || !strings.Contains(errOut, "not a notification number") {
		t.Errorf("bad id: exit %d %s", code, errOut)
	}
}

func TestCLINotifySendKeepsTheTokenSecret(t *testing.T) {
	const token = "xoxb-CLI-SECRET-TOKEN-55aa"
	c := newNotifyCLI(t)
	srv := slacktest.NewTestServer(func(cz slacktest.Customize) {
		cz.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
		})
	})
	srv.Start()
	defer srv.Stop()
	dirFile := filepath.Join(c.dir, "dir.yaml")
	if err := os.WriteFile(dirFile, []byte(cliDirectory), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("admin", "directory", "import", dirFile)
	c.ok("alice", "incident", "declare", "--runbook", "personal-data-breach", "--title", "Export")
	tokenFile := filepath.Join(c.dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SLACK_BOT_TOKEN_FILE=" + tokenFile, "IRTUI_SLACK_API_URL=" + srv.GetAPIURL(), "IRTUI_SLACK_CHANNEL=#sec"}
	out, errOut, code := c.run("ops", env, "notify", "send")
	if code != 3 || !strings.Contains(out, "invalid_auth") || !strings.Contains(out, "1 failed") {
		t.Fatalf("send with a bad token: exit %d\n%s%s", code, out, errOut)
	}
	list := c.ok("dave", "notify", "list")
	for _, s := range []string{out, errOut, list} {
		if strings.Contains(s, token) {
			t.Errorf("the token is shown:\n%s", s)
		}
	}
	for _, p := range []string{"irtui.db", "irtui.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(c.dir, p))
		if bytes.Contains(b, []byte(token)) {
			t.Errorf("%s holds the token", p)
		}
	}
	// Both token variables at once is a mistake, said without the token.
	_, errOut, code = c.run("ops", append(env, "SLACK_BOT_TOKEN="+token), "notify", "send")
	if code != 1 || strings.Contains(errOut, token) || !strings.Contains(errOut, "not both") {
		t.Errorf("two tokens: exit %d %s", code, errOut)
	}
}

func jsonID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}
