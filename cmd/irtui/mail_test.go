package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailbox is a local SMTP relay (emersion/go-smtp) that takes a login and
// keeps what it is given.
type mailbox struct {
	mu   sync.Mutex
	msgs [][]byte
	rcpt []string
}

type mailboxSession struct{ b *mailbox }

func (s mailboxSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s mailboxSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "notices" || pass != "cli-MAIL-SECRET-77" {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}
func (s mailboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s mailboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.b.mu.Lock()
	s.b.rcpt = append(s.b.rcpt, to)
	s.b.mu.Unlock()
	return nil
}
func (s mailboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.b.mu.Lock()
	s.b.msgs = append(s.b.msgs, b)
	s.b.mu.Unlock()
	return err
}
func (s mailboxSession) Reset()        {}
func (s mailboxSession) Logout() error { return nil }

// irtui notify send mails each customer notice through IRTUI_SMTP_URL,
// from the organisation in the configuration file; the password comes
// from a file and appears nowhere; a mailed notice is delivered, and the
// obligation it serves is met.
func TestCLINotifySendMailsCustomers(t *testing.T) {
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return mailboxSession{box}, nil }))
	srv.AllowInsecureAuth = true // a relay on this machine
	srv.Domain = "relay.test"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	c := newNotifyCLI(t)
	c.declareExport("zuid")
	cfg := filepath.Join(c.dir, "irtui.yaml")
	pwFile := filepath.Join(c.dir, "smtp-password")
	// Local trust mode as in newNotifyCLI's configuration, which this one replaces.
	if err := os.WriteFile(cfg, []byte("org:\n  name: Example B.V.\n  contact: security@example.com\n  dpo_contact: dpo@example.com\n"+
		"  mail_from: notices@example.com\n  reply_to: dpo@example.com\nidentity:\n  local_trust: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pwFile, []byte("cli-MAIL-SECRET-77\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.env = append(c.env, "IRTUI_CONFIG="+cfg)
	var zuid noticeJSON
	for _, n := range c.notices() {
		if n.CustomerID == "zuid" {
			zuid = n
		}
	}
	if zuid.ID == 0 {
		t.Fatalf("no notice for zuid: %+v", c.notices())
	}
	id := jsonID(zuid.ID)
	for _, f := range zuid.Fields {
		if f.Required {
			c.ok("eli", "notify", "set", id, f.ID, "Tekst voor "+f.ID)
		}
	}
	c.ok("alice", "incident", "assign", "INC-0001", "incident_commander", "chen")
	mailEnv := []string{"IRTUI_SMTP_URL=smtp://notices@" + ln.Addr().String(), "IRTUI_SMTP_PASSWORD_FILE=" + pwFile}
	out, errOut, code := c.run("chen", mailEnv, "notify", "approve", id)
	if code != 0 || !strings.Contains(out, "it will be mailed to sec@zuid.test") {
		t.Fatalf("approve: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = c.run("ops", mailEnv, "notify", "send", "--wait")
	if code != 0 || !strings.Contains(out, "mail by SMTP to "+ln.Addr().String()) ||
		!strings.Contains(out, "Mailed #"+id) || !strings.Contains(out, "1 sent") {
		t.Fatalf("send: exit %d\n%s%s", code, out, errOut)
	}
	box.mu.Lock()
	msgs, rcpt := box.msgs, box.rcpt
	box.mu.Unlock()
	if len(msgs) != 1 || len(rcpt) != 1 || rcpt[0] != "sec@zuid.test" {
		t.Fatalf("%d mails to %v", len(msgs), rcpt)
	}
	for _, want := range []string{"From: \"Example B.V.\" <notices@example.com>", "Reply-To: <dpo@example.com>",
		"Content-Language: nl", "Message-ID: <irtui.", "@example.com>", "Tekst voor what_happened"} {
		if !bytes.Contains(msgs[0], []byte(want)) {
			t.Errorf("the mail lacks %q:\n%s", want, msgs[0])
		}
	}
	show := c.ok("dave", "notify", "show", id)
	if !strings.Contains(show, "Delivered:") || !strings.Contains(show, "via mail") || !strings.Contains(show, "Message-ID:") {
		t.Errorf("show:\n%s", show)
	}
	// zuid is the only affected customer: the obligation is met.
	if inc := c.ok("dave", "incident", "show", "INC-0001"); !strings.Contains(inc, "Met customer-notice") {
		t.Errorf("the mailed notice did not meet the obligation:\n%s", inc)
	}
	for _, s := range []string{out, errOut, show} {
		if strings.Contains(s, "cli-MAIL-SECRET-77") {
			t.Errorf("the password is shown:\n%s", s)
		}
	}
	for _, p := range []string{"irtui.db", "irtui.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(c.dir, p))
		if bytes.Contains(b, []byte("cli-MAIL-SECRET-77")) {
			t.Errorf("%s holds the mail password", p)
		}
	}
	// Plain text to a host that is not this machine is refused before
	// anything is sent.
	_, errOut, code = c.run("ops", []string{"IRTUI_SLACK_API_URL=http://slack.example/api/"}, "notify", "send")
	if code != 1 || !strings.Contains(errOut, "must use https://") {
		t.Errorf("plain Slack API URL: exit %d %s", code, errOut)
	}
	_, errOut, code = c.run("ops", []string{"SLACK_WEBHOOK_URL=http://hooks.example/services/T0/B0/HOOKSECRET"}, "notify", "send")
	if code != 1 || !strings.Contains(errOut, "SLACK_WEBHOOK_URL must use https://") || strings.Contains(errOut, "HOOKSECRET") {
		t.Errorf("plain webhook URL: exit %d %s", code, errOut)
	}
}
