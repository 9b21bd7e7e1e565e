package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	// Local trust mode: the people of these tests share the OS account
	// that runs them and name themselves with IRTUI_USER.
	trust := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte(orgConfig+"identity:\n  local_trust: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = []string{"IRTUI_DB=" + filepath.Join(dir, "irtui.db"), "IRTUI_CACHE=off", "NO_COLOR=1",
		"XDG_DATA_HOME=" + dir, "HOME=" + dir, "PATH=" + os.Getenv("PATH"), "IRTUI_CONFIG=" + trust}
	if _, errs, code := c.run("", nil, "--init", "directory", "list"); code != 0 { // the OS user creates it
		t.Fatalf("create the database: exit %d: %s", code, errs)
	}
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
	State      string `json:"state"`
	Delivered  bool   `json:"delivered"`
	Alert      bool   `json:"alert"`
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
  - {id: ops, name: Ops on call}
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
	c.declareExport("acme", "zuid")

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
	// Nothing was sent to anyone, and the output says so.
	if code != 0 || !strings.Contains(out, "Delivering by console") || !strings.Contains(out, "0 sent") ||
		!strings.Contains(out, "1 EXPORTED, NOT DELIVERED") || !strings.Contains(out, "1 on the console only") ||
		!strings.Contains(errOut, "EXPORTED, NOT DELIVERED") || strings.Contains(out, "Sent #") {
		t.Fatalf("send: exit %d\n%s%s", code, out, errOut)
	}
	for _, n := range c.notices() {
		switch n.ID {
		case stake.ID:
			if n.Status != "sent" || n.Via != "console" || n.State != "console only — not sent" || n.Delivered {
				t.Errorf("stakeholder message: %+v", n)
			}
		case zuid.ID:
			if n.Status != "exported" || n.Via != "file" || n.State != "EXPORTED — not delivered" || n.Delivered ||
				!n.Alert || !strings.HasPrefix(n.ExportPath, filepath.Join(c.dir, "irtui", "outbox")) {
				t.Errorf("customer notice: %+v", n)
			}
		}
	}
	table = c.ok("dave", "notify", "list")
	if !strings.Contains(table, "!EXPORTED — not delivered") || !strings.Contains(table, "irtui notify confirm "+id) {
		t.Errorf("list after the export:\n%s", table)
	}
	show = c.ok("dave", "notify", "show", id)
	if !strings.Contains(show, "EXPORTED — not delivered  <-- needs a person") || !strings.Contains(show, "Delivered:     NO") {
		t.Errorf("show after the export:\n%s", show)
	}
	// The customer-notice clock keeps running until someone records the
	// delivery; then it stops.
	if inc := c.ok("dave", "incident", "show", "INC-0001"); strings.Contains(inc, "Met customer-notice") {
		t.Errorf("the export met the obligation:\n%s", inc)
	}
	if out := c.ok("chen", "notify", "confirm", id); !strings.Contains(out, "Recorded #"+id+" as delivered") {
		t.Errorf("confirm: %s", out)
	}
	// One of two customers has theirs: the clock runs on.
	if inc := c.ok("dave", "incident", "show", "INC-0001"); strings.Contains(inc, "Met customer-notice") {
		t.Errorf("one customer's notice met the obligation:\n%s", inc)
	}
	var acme noticeJSON
	for _, n := range c.notices() {
		if n.CustomerID == "acme" {
			acme = n
		}
	}
	for _, f := range acme.Fields {
		if f.Required {
			c.ok("eli", "notify", "set", jsonID(acme.ID), f.ID, "Text for "+f.ID)
		}
	}
	c.ok("chen", "notify", "approve", jsonID(acme.ID))
	c.ok("ops", "notify", "send")
	c.ok("chen", "notify", "confirm", jsonID(acme.ID))
	if inc := c.ok("dave", "incident", "show", "INC-0001"); !strings.Contains(inc, "Met customer-notice: every affected customer's notice was delivered") {
		t.Errorf("every customer's delivered notice did not meet the obligation:\n%s", inc)
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
	c.declareExport()
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

// declareExport imports the directory and declares a personal data
// breach, which queues a stakeholder message; with customers, the answers
// of a customer data breach, which drafts a notice for each.
func (c *notifyCLI) declareExport(customers ...string) {
	c.t.Helper()
	dirFile, answers := filepath.Join(c.dir, "dir.yaml"), filepath.Join(c.dir, "answers.yaml")
	if err := os.WriteFile(dirFile, []byte(cliDirectory), 0o600); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(answers, []byte(cliAnswers), 0o600); err != nil {
		c.t.Fatal(err)
	}
	c.ok("", "directory", "import", dirFile) // the OS user who created the database
	args := []string{"incident", "declare", "--runbook", "personal-data-breach", "--title", "Export <!channel>"}
	if len(customers) > 0 {
		args = append(args, "--answers", answers)
	}
	for _, id := range customers {
		args = append(args, "--customer", id)
	}
	c.ok("alice", args...)
}

func jsonID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}

// Ctrl-C during `notify send --wait` ends calmly: the send under way is
// recorded, the summary says what is still queued, and the exit status is
// 130, not 1 with "context canceled".
func TestCLINotifySendWaitInterrupted(t *testing.T) {
	c := newNotifyCLI(t)
	srv := slacktest.NewTestServer(func(cz slacktest.Customize) {
		cz.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable) // certainly not posted: retried with backoff
		})
	})
	srv.Start()
	defer srv.Stop()
	c.declareExport()
	cmd := exec.Command(c.bin, "notify", "send", "--wait")
	cmd.Env = append(append([]string{}, c.env...), "IRTUI_USER=ops", "SLACK_BOT_TOKEN=xoxb-test",
		"IRTUI_SLACK_API_URL="+srv.GetAPIURL(), "IRTUI_SLACK_CHANNEL=#sec")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	waiting, read := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		seen := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !seen && strings.Contains(sc.Text(), "not sent yet") {
				seen = true
				close(waiting)
			}
		}
	}()
	select {
	case <-waiting:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("no failed attempt reported:\n%s%s", out.String(), errb.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-read // all of stdout, before Wait closes the pipe
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 130 || !strings.Contains(errb.String(), "Interrupted.") || strings.Contains(errb.String(), "context canceled") ||
		!strings.Contains(out.String(), "0 sent") || !strings.Contains(out.String(), "1 still queued") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	// The attempt is recorded; the message is still queued for next time.
	for _, n := range c.notices() {
		if n.Audience == "stakeholders" && (n.Status != "queued" || !strings.Contains(n.LastError, "503")) {
			t.Errorf("after the interrupt: %+v", n)
		}
	}
}
