package notify

import (
	"bytes"
	"mime"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/irtui/irtui/internal/store"
)

// approveCustomerNotices declares an incident for customers and fills in
// and approves every customer notice; it returns them.
func (f *fixture) approveCustomerNotices(customers ...string) []store.Notification {
	f.t.Helper()
	in := f.declare("Support export in a public bucket", false, customers...)
	notices := f.byAudience(in.ID, AudienceCustomers)
	for _, n := range notices {
		f.fillAndApprove(n, func(field string) string { return "Text of " + field + " for " + n.CustomerID })
	}
	return f.byAudience(in.ID, AudienceCustomers)
}

// addDutchMailCustomer adds zuid, a Dutch customer reached by mail.
func (f *fixture) addDutchMailCustomer() {
	f.t.Helper()
	_, err := f.st.ImportDirectory(f.ctx, "admin", store.Directory{Customers: []store.Customer{
		{ID: "zuid", Name: "Zuiderzee Zorg", Language: "nl", ContactKind: "email", Contact: "beveiliging@zuid.test"}}})
	if err != nil {
		f.t.Fatal(err)
	}
}

func parseMail(t *testing.T, m smtpMessage) (*mail.Message, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatalf("%v\n%s", err, m.data)
	}
	body := new(bytes.Buffer)
	if _, err := body.ReadFrom(msg.Body); err != nil {
		t.Fatal(err)
	}
	return msg, body.String()
}

// Each customer notice reaches its customer as one plain-text mail in the
// customer's language, over TLS, from the organisation, with a Message-ID
// derived from its key; the password is never stored.
func TestMailIsDeliveredOverTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode int
	}{{"STARTTLS", mailSTARTTLS}, {"implicit TLS", mailImplicit}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.cfg.Org.MailFrom, f.cfg.Org.ReplyTo = "notices@example.org", "dpo@example.org"
			f.addDutchMailCustomer()
			srv := newSMTPServer(t, tc.mode)
			notices := f.approveCustomerNotices("acme", "zuid")
			w := f.worker(srv.settings())
			w.Org = f.cfg.Org
			rep, err := w.Drain(f.ctx)
			// Two mails; the stakeholder message goes to the console (no Slack).
			if err != nil || rep.Sent != 2 || rep.Console != 1 || rep.Exported+rep.Failed+rep.Unknown != 0 {
				t.Fatalf("%+v %v", rep, err)
			}
			msgs := srv.messages()
			if len(msgs) != 2 {
				t.Fatalf("%d mails", len(msgs))
			}
			if logins := srv.logins; len(logins) != 2 || logins[0] != smtpUser {
				t.Errorf("logins: %v", logins)
			}
			for _, n := range notices {
				n = f.get(n.ID)
				if n.Status != store.NoticeSent || n.Via != ViaMail || !Delivered(n) || n.MessageID == "" {
					t.Fatalf("%s: %s via %s, %q: %s", n.CustomerID, n.Status, n.Via, n.MessageID, n.LastError)
				}
				var got smtpMessage
				for _, m := range msgs {
					if strings.Contains(string(m.data), n.MessageID) {
						got = m
					}
				}
				if got.data == nil {
					t.Fatalf("no mail with Message-ID %s", n.MessageID)
				}
				msg, body := parseMail(t, got)
				subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
				h := msg.Header
				if got.from != "notices@example.org" || len(got.to) != 1 || got.to[0] != n.Channel ||
					!strings.Contains(h.Get("From"), "notices@example.org") || !strings.Contains(h.Get("From"), "Example Org") ||
					h.Get("To") != "<"+n.Channel+">" || h.Get("Reply-To") != "<dpo@example.org>" ||
					h.Get("Message-ID") != "<"+messageID(n, f.cfg.Org)+">" || subject != n.Subject ||
					h.Get("Content-Language") != n.Language || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
					t.Errorf("%s: envelope %s -> %v, headers %v", n.CustomerID, got.from, got.to, h)
				}
				if !strings.Contains(body, "Text of what_happened for "+n.CustomerID) {
					t.Errorf("%s: body:\n%s", n.CustomerID, body)
				}
				if !strings.HasSuffix(h.Get("Message-ID"), "@example.org>") {
					t.Errorf("Message-ID %s is not in the sender's domain", h.Get("Message-ID"))
				}
			}
			dutch := f.get(notices[1].ID)
			if dutch.CustomerID != "zuid" || dutch.Language != "nl" {
				t.Fatalf("%s %s", dutch.CustomerID, dutch.Language)
			}
			// Both customers' notices were mailed: the customer-notice
			// obligation is met, without anyone pressing m.
			d, err := f.st.Incident(f.ctx, dutch.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			met := false
			for _, e := range d.Obligations {
				met = met || e.ObligationID == "customer-notice" && e.Kind == store.ObligationSubmitted
			}
			if !met || !hasEntry(t, f, dutch.IncidentID, "obligation_submitted", "every affected customer's notice was delivered") {
				t.Error("the customer-notice obligation is still open")
			}
			for _, p := range []string{f.path, f.path + "-wal"} {
				b, _ := os.ReadFile(p)
				if bytes.Contains(b, []byte(smtpPassword)) {
					t.Errorf("%s holds the mail password", filepath.Base(p))
				}
			}
		})
	}
}

// 421 and 451 are the server saying "not now": retried with backoff, then
// delivered once.
func TestMail4xxIsRetriedWithBackoff(t *testing.T) {
	f := newFixture(t)
	srv := newSMTPServer(t, mailSTARTTLS)
	var at []time.Time
	srv.fault = func(stage string, n int) error {
		switch {
		case stage == "mail" && n == 1:
			at = append(at, f.clock.Now())
			return smtpErr(421, smtp.EnhancedCode{4, 3, 0}, "Service not available, closing channel")
		case stage == "data" && n == 1:
			at = append(at, f.clock.Now())
			return smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Requested action aborted: local error")
		}
		return nil
	}
	n := f.approveCustomerNotices("acme")[0]
	w := f.worker(srv.settings())
	rep, err := w.Drain(f.ctx)
	if err != nil || rep.Sent != 1 || rep.Retrying != 0 || rep.Failed != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	n = f.get(n.ID)
	if n.Status != store.NoticeSent || n.Failures != 2 || len(srv.messages()) != 1 {
		t.Fatalf("%s failures %d, %d mails: %s", n.Status, n.Failures, len(srv.messages()), n.LastError)
	}
	if len(at) != 2 || at[1].Sub(at[0]) < time.Second {
		t.Errorf("retried at %v", at)
	}
	if !hasEntry(t, f, n.IncidentID, "notification_retry", "the mail server said to try later: 421") ||
		!hasEntry(t, f, n.IncidentID, "notification_retry", "451") {
		t.Error("the refusals are not on the timeline")
	}
}

// 550 is a refusal: failed at once, with the server's own words.
func TestMail5xxFailsWithTheServersWords(t *testing.T) {
	f := newFixture(t)
	srv := newSMTPServer(t, mailSTARTTLS)
	srv.fault = func(stage string, _ int) error {
		if stage == "rcpt" {
			return smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such user here")
		}
		return nil
	}
	n := f.approveCustomerNotices("acme")[0]
	rep, err := f.worker(srv.settings()).Drain(f.ctx)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	n = f.get(n.ID)
	if n.Status != store.NoticeFailed || n.Failures != 1 || !strings.Contains(n.LastError, "550 5.1.1 No such user here") ||
		!strings.Contains(n.LastError, "refused") || !NewView(n).Alert {
		t.Errorf("%s: %s", n.Status, n.LastError)
	}
	if mails, _ := srv.counts(); mails != 1 {
		t.Errorf("%d attempts", mails)
	}
}

// The connection drops, or the answer never comes, after the text was
// sent: the server may have taken it. It is flagged for a person and
// never sent again by itself.
func TestMailLostAfterDataIsUnknownNotResent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after func(s *smtpServer) func(int, *smtp.Conn) bool
	}{
		{"connection dropped", func(*smtpServer) func(int, *smtp.Conn) bool {
			return func(_ int, c *smtp.Conn) bool { _ = c.Conn().Close(); return true }
		}},
		{"no answer", func(s *smtpServer) func(int, *smtp.Conn) bool {
			return func(int, *smtp.Conn) bool { <-s.hang; return true }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			srv := newSMTPServer(t, mailSTARTTLS)
			srv.afterData = tc.after(srv)
			n := f.approveCustomerNotices("acme")[0]
			w := f.worker(srv.settings())
			w.SendTimeout = 300 * time.Millisecond
			rep, err := w.Drain(f.ctx)
			if err != nil || rep.Unknown != 1 || rep.Retrying != 0 {
				t.Fatalf("%+v %v", rep, err)
			}
			n = f.get(n.ID)
			if n.Status != store.NoticeUnknown || !strings.Contains(n.LastError, "did not confirm") ||
				!strings.Contains(n.LastError, messageID(n, f.cfg.Org)) || !strings.Contains(n.LastError, "irtui notify confirm") {
				t.Fatalf("%s: %s", n.Status, n.LastError)
			}
			if _, err := w.Drain(f.ctx); err != nil {
				t.Fatal(err)
			}
			if _, datas := srv.counts(); datas != 1 {
				t.Errorf("the text was sent %d times", datas)
			}
			// A person asked the customer: it arrived.
			if _, err := f.ns.Confirm(f.ctx, as("bob"), n.ID, Confirmation{}); err != nil {
				t.Fatal(err)
			}
			if n = f.get(n.ID); !Delivered(n) || n.ConfirmedBy != "bob" {
				t.Errorf("after confirm: %s by %q", n.Status, n.ConfirmedBy)
			}
		})
	}
}

// STARTTLS is required to any host but this machine: a server that does
// not offer it gets nothing, not even the login.
func TestMailServerWithoutSTARTTLSGetsNothing(t *testing.T) {
	f := newFixture(t)
	srv := newSMTPServer(t, mailPlain)
	n := f.approveCustomerNotices("acme")[0]
	rep, err := f.worker(srv.settings()).Drain(f.ctx)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	n = f.get(n.ID)
	if n.Status != store.NoticeFailed || !strings.Contains(n.LastError, "does not offer STARTTLS") {
		t.Errorf("%s: %s", n.Status, n.LastError)
	}
	if mails, _ := srv.counts(); mails != 0 || len(srv.logins) != 0 {
		t.Errorf("%d MAIL commands, logins %v over plain text", mails, srv.logins)
	}
	// To this machine, plain text is allowed (a local relay).
	local := srv.settings()
	local.SMTP.RequireTLS = false
	if err := f.ns.Retry(f.ctx, as("bob"), n.ID); err != nil {
		t.Fatal(err)
	}
	if rep, err := f.worker(local).Drain(f.ctx); err != nil || rep.Sent != 1 || len(srv.messages()) != 1 {
		t.Fatalf("local relay: %+v %v", rep, err)
	}
}

// A wrong password is refused by the server: failed with its words, and
// the password appears nowhere.
func TestMailLoginRefused(t *testing.T) {
	f := newFixture(t)
	srv := newSMTPServer(t, mailSTARTTLS)
	s := srv.settings()
	s.SMTP.Password = NewSecret("not-the-password-9f2e")
	n := f.approveCustomerNotices("acme")[0]
	rep, err := f.worker(s).Drain(f.ctx)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	n = f.get(n.ID)
	if n.Status != store.NoticeFailed || !strings.Contains(n.LastError, "refused the login of irtui-sender: SMTP AUTH failed: 535 5.7.8 Authentication failed") ||
		strings.Contains(n.LastError, "not-the-password") {
		t.Errorf("%s: %s", n.Status, n.LastError)
	}
}

// Without a mail server, a mail notice is exported, and it says so: it is
// not delivered, it alerts, and its obligation stays open until a person
// records the delivery.
func TestWithoutSMTPMailIsExportedNotDelivered(t *testing.T) {
	f := newFixture(t)
	n := f.approveCustomerNotices("acme")[0]
	dir := t.TempDir()
	rep, err := f.worker(Settings{ExportDir: dir}).Drain(f.ctx)
	if err != nil || rep.Exported != 1 || rep.Sent != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	var p Progress
	for _, r := range rep.Results {
		if r.ID == n.ID {
			p = r
		}
	}
	if s := p.String(); !strings.HasPrefix(s, "EXPORTED, NOT DELIVERED") || strings.Contains(s, "Sent") {
		t.Errorf("progress: %s", s)
	}
	n = f.get(n.ID)
	v := NewView(n)
	if n.Status != store.NoticeExported || v.Delivered || !v.Alert || v.State != StateExported || !n.SentAt.IsZero() {
		t.Fatalf("%+v", v)
	}
	eml, err := os.ReadFile(strings.TrimSuffix(n.ExportPath, ".md") + ".eml")
	if err != nil || !bytes.Contains(eml, []byte("Message-ID: <"+messageID(n, f.cfg.Org)+">")) {
		t.Errorf("the export's Message-ID: %v\n%s", err, eml)
	}
	d, _ := f.st.Incident(f.ctx, n.IncidentID)
	for _, e := range d.Obligations {
		if e.Kind == store.ObligationSubmitted {
			t.Fatal("an export met the obligation")
		}
	}
	if _, err := f.ns.Confirm(f.ctx, as("bob"), n.ID, Confirmation{At: f.clock.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	n = f.get(n.ID)
	if !Delivered(n) || n.ConfirmedBy != "bob" || !n.SentAt.Equal(f.clock.Now().Add(-time.Minute)) {
		t.Errorf("after confirm: %s %q %v", n.Status, n.ConfirmedBy, n.SentAt)
	}
	if !hasEntry(t, f, n.IncidentID, "obligation_submitted", "Met customer-notice") {
		t.Error("recording the delivery did not meet the obligation")
	}
	// It can be recorded once.
	if _, err := f.ns.Confirm(f.ctx, as("bob"), n.ID, Confirmation{}); err == nil {
		t.Error("confirmed twice")
	}
}

func TestSMTPSettingsFromEnv(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want SMTP
		err  string
	}{
		{"STARTTLS", map[string]string{EnvSMTPURL: "smtp://mailer@mail.example.com:587", EnvSMTPPassword: "pw"},
			SMTP{Host: "mail.example.com", Port: 587, RequireTLS: true, User: "mailer"}, ""},
		{"STARTTLS default port", map[string]string{EnvSMTPURL: "smtp://mailer@mail.example.com", EnvSMTPPasswordFile: pwFile},
			SMTP{Host: "mail.example.com", Port: 587, RequireTLS: true, User: "mailer"}, ""},
		{"implicit TLS", map[string]string{EnvSMTPURL: "smtps://mailer@mail.example.com", EnvSMTPPassword: "pw"},
			SMTP{Host: "mail.example.com", Port: 465, ImplicitTLS: true, User: "mailer"}, ""},
		{"loopback relay without TLS or login", map[string]string{EnvSMTPURL: "smtp://127.0.0.1:25"},
			SMTP{Host: "127.0.0.1", Port: 25}, ""},
		{"localhost relay", map[string]string{EnvSMTPURL: "smtp://localhost:2525"}, SMTP{Host: "localhost", Port: 2525}, ""},
		{"password in the URL", map[string]string{EnvSMTPURL: "smtp://mailer:hunter2@mail.example.com"}, SMTP{},
			"holds a password"},
		{"no password", map[string]string{EnvSMTPURL: "smtp://mailer@mail.example.com"}, SMTP{}, "set IRTUI_SMTP_PASSWORD"},
		{"both passwords", map[string]string{EnvSMTPURL: "smtp://mailer@mail.example.com", EnvSMTPPassword: "a",
			EnvSMTPPasswordFile: pwFile}, SMTP{}, "not both"},
		{"http", map[string]string{EnvSMTPURL: "http://mail.example.com"}, SMTP{}, "is not a smtps://, smtp:// URL"},
		{"bad port", map[string]string{EnvSMTPURL: "smtp://mail.example.com:0"}, SMTP{}, "is not a port number"},
		{"path", map[string]string{EnvSMTPURL: "smtp://mail.example.com/x"}, SMTP{}, "without a path"},
		{"password without a server", map[string]string{EnvSMTPPassword: "pw"}, SMTP{}, "IRTUI_SMTP_URL is not"},
		{"bad CA file", map[string]string{EnvSMTPURL: "smtp://127.0.0.1", EnvSMTPCAFile: caFile}, SMTP{}, "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := SettingsFromEnv(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				for _, secret := range []string{"hunter2", "s3cret-from-file"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows the password: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := *s.SMTP
			got.Password = Secret{}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if tc.want.User != "" && !s.SMTP.Password.IsSet() {
				t.Error("no password")
			}
			if d := s.Describe(); !strings.Contains(d, "mail by SMTP to "+s.SMTP.Addr()) || strings.Contains(d, "s3cret") {
				t.Errorf("Describe: %s", d)
			}
		})
	}
}

// One rule for every endpoint a secret travels to: TLS, or plain text to
// this machine only.
func TestEndpointsNeedTLSExceptOnLoopback(t *testing.T) {
	for _, tc := range []struct {
		url      string
		ok       bool
		loopback bool
	}{
		{"https://slack.com/api/", true, false},
		{"http://slack.example/api/", false, false},
		{"http://127.0.0.1:8080/api/", true, true},
		{"http://127.9.9.9/api/", true, true},
		{"http://[::1]:9/api/", true, true},
		{"http://localhost/api/", true, true},
		{"http://LOCALHOST./api/", true, true},
		{"http://localhost.example/api/", false, false},
		{"http://127.0.0.1.nip.io/api/", false, false},
		{"http://[::ffff:127.0.0.1]/api/", true, true},
		{"http://10.0.0.1/api/", false, false},
		{"ftp://slack.com/", false, false},
		{"https:///nohost", false, false},
	} {
		ep, err := CheckEndpoint("IRTUI_SLACK_API_URL", tc.url, false, "https", "http")
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if err == nil && ep.Loopback != tc.loopback {
			t.Errorf("%s: loopback %v", tc.url, ep.Loopback)
		}
	}
	// The webhook URL is a credential: its error shows no path.
	_, err := CheckEndpoint(EnvWebhookURL, "http://hooks.example/services/T0/B0/SECRETPATH", true, "https", "http")
	if err == nil || strings.Contains(err.Error(), "SECRETPATH") || !strings.Contains(err.Error(), "https://") {
		t.Errorf("webhook: %v", err)
	}
	for _, env := range []map[string]string{
		{EnvAPIURL: "http://slack.example/api/"},
		{EnvWebhookURL: "http://hooks.example/services/T0/B0/SECRETPATH"},
	} {
		if _, err := SettingsFromEnv(func(k string) string { return env[k] }); err == nil ||
			!strings.Contains(err.Error(), "only over TLS") {
			t.Errorf("%v: %v", env, err)
		}
	}
	if u, _ := url.Parse("smtp://mail.example.com"); !(Endpoint{URL: u}).TLSRequired() {
		t.Error("TLS not required to a remote host")
	}
}
