package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// messageID is the Message-ID of a notice's mail (and of its .eml
// export): derived from its idempotency key, so the one notice always has
// the one Message-ID, in the sender's domain. Without the angle brackets.
func messageID(n store.Notification, org config.Org) string {
	domain := "irtui.invalid"
	if _, d, ok := strings.Cut(org.Sender(), "@"); ok && d != "" {
		domain = d
	}
	sum := sha256.Sum256([]byte(n.IdempotencyKey))
	return "irtui." + hex.EncodeToString(sum[:16]) + "@" + domain
}

// maxMailSessions bounds the SMTP connections one worker holds at once.
const maxMailSessions = 8

// mailer submits a notice as one plain-text message over SMTP: one
// connection per message, TLS from the first byte (smtps) or STARTTLS
// (required except to this machine), AUTH when a user is configured.
// Its errors say how far the submission got (see classifyMail).
type mailer struct {
	cfg     SMTP
	org     config.Org
	timeout time.Duration
	now     func() time.Time
	slots   chan struct{}
}

func newMailer(cfg SMTP, org config.Org, timeout time.Duration, now func() time.Time) *mailer {
	return &mailer{cfg: cfg, org: org, timeout: timeout, now: now, slots: make(chan struct{}, maxMailSessions)}
}

// mailStage is how far a failed submission got.
type mailStage uint8

const (
	// stageConnect: connecting, greeting, STARTTLS or AUTH failed: nothing
	// was submitted.
	stageConnect mailStage = iota
	// stageEnvelope: MAIL, RCPT, DATA or the text itself failed: the
	// server has not taken the message (it takes it only at the final
	// dot).
	stageEnvelope
	// stageAfterData: the text was sent, and the server's answer to the
	// final dot was a refusal or never came.
	stageAfterData
)

// mailError is a failed submission.
type mailError struct {
	stage mailStage
	code  int    // the server's reply code; 0 if it gave none
	words string // what the server said, or what went wrong
	err   error
}

func (e *mailError) Error() string { return e.words }
func (e *mailError) Unwrap() error { return e.err }

func (m *mailer) send(ctx context.Context, msg message) (receipt, error) {
	n := msg.n
	from := m.org.Sender()
	if from == "" {
		return receipt{}, permanentError{"no sender address for mail: set org.mail_from (or org.contact) in the configuration"}
	}
	to, err := mail.ParseAddress(n.Channel)
	if err != nil || n.DestKind != store.DestEmail {
		return receipt{}, permanentError{fmt.Sprintf("the contact of customer %s is not a mail address", n.CustomerID)}
	}
	id := messageID(n, m.org)
	em := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP),
		gomail.WithNoDefaultUserAgent())
	if err := em.FromFormat(safetext.Line(m.org.Name), from); err != nil {
		return receipt{}, permanentError{"the sender address " + from + " is not usable: " + err.Error()}
	}
	if err := em.To(to.Address); err != nil {
		return receipt{}, permanentError{fmt.Sprintf("the contact of customer %s is not usable: %v", n.CustomerID, err)}
	}
	if r := m.org.ReplyAddress(); r != "" {
		if err := em.ReplyTo(r); err != nil {
			return receipt{}, permanentError{"org.reply_to is not usable: " + err.Error()}
		}
	}
	em.Subject(safetext.Line(n.Subject))
	em.SetMessageIDWithValue(id)
	em.SetDateWithValue(m.now())
	em.SetGenHeader(gomail.HeaderContentLang, slug(n.Language))
	em.SetBodyString(gomail.TypeTextPlain, strings.ReplaceAll(n.Body, "\r", ""))

	select {
	case m.slots <- struct{}{}:
		defer func() { <-m.slots }()
	case <-ctx.Done():
		return receipt{}, &mailError{stage: stageConnect, words: "not sent: " + ctx.Err().Error(), err: ctx.Err()}
	}
	opts := []gomail.Option{gomail.WithPort(m.cfg.Port), gomail.WithTimeout(m.timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: m.cfg.Host, RootCAs: m.cfg.RootCAs, MinVersion: tls.VersionTLS12})}
	switch {
	case m.cfg.ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case m.cfg.RequireTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if m.cfg.User != "" {
		// PLAIN and LOGIN only over TLS (or to this machine): go-mail
		// refuses them otherwise.
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
			gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(m.cfg.User), gomail.WithPassword(m.cfg.Password.Reveal()))
	}
	client, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return receipt{}, permanentError{"mail server settings: " + err.Error()}
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return receipt{}, connectError(m.cfg, err)
	}
	sendErr := client.SendWithSMTPClient(conn, em)
	_ = client.CloseWithSMTPClient(conn) // a QUIT that fails changes nothing
	if em.IsDelivered() {
		// The server took it at the final dot; a failed RSET after that
		// does not undo it.
		return receipt{messageID: "<" + id + ">"}, nil
	}
	return receipt{}, submitError(sendErr)
}

// connectError describes a failure before anything was submitted.
func connectError(cfg SMTP, err error) error {
	msg := err.Error()
	var tp *textproto.Error
	code := 0
	if errors.As(err, &tp) {
		code = tp.Code
		msg = serverWords(msg)
	}
	switch {
	case strings.Contains(msg, "does not support STARTTLS"):
		return permanentError{fmt.Sprintf("the mail server %s does not offer STARTTLS, and irtui sends mail only over "+
			"TLS: use a server that does, or smtps:// on port 465", cfg.Addr())}
	case strings.Contains(msg, "SMTP AUTH failed") && code >= 500:
		return permanentError{fmt.Sprintf("the mail server %s refused the login of %s: %s", cfg.Addr(), cfg.User, msg)}
	case strings.Contains(msg, "does not support SMTP AUTH"):
		return permanentError{fmt.Sprintf("the mail server %s offers no login (AUTH), but %s names the user %s",
			cfg.Addr(), EnvSMTPURL, cfg.User)}
	}
	return &mailError{stage: stageConnect, code: code, words: "mail server " + cfg.Addr() + ": " + msg, err: err}
}

// submitError describes a failed submission by how far it got, with the
// server's reply code and words. (go-mail's SendError keeps the server's
// reply only as text: "closing SMTP DATA writer: 451 4.3.0 try later,
// affected message ID: <…>".)
func submitError(err error) error {
	if err == nil {
		return &mailError{stage: stageEnvelope, words: "the mail server did not take the message"}
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return &mailError{stage: stageEnvelope, words: err.Error(), err: err}
	}
	stage := stageEnvelope
	if se.Reason == gomail.ErrSMTPDataClose {
		stage = stageAfterData
	}
	words := strings.TrimPrefix(se.Error(), se.Reason.String()+": ")
	if i := strings.Index(words, ", affected message ID:"); i >= 0 {
		words = words[:i]
	}
	return &mailError{stage: stage, code: se.ErrorCode(), words: serverWords(words), err: err}
}

// quotedReply is a server reply as net/textproto prints it: 550 "5.1.1 …".
var quotedReply = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b([2-5]\d\d) ("(?:[^"\\]|\\.)*")`) })

// serverWords prints a server's replies as it wrote them, unquoted.
func serverWords(s string) string {
	return quotedReply().ReplaceAllStringFunc(s, func(m string) string {
		code, quoted, _ := strings.Cut(m, " ")
		if text, err := strconv.Unquote(quoted); err == nil {
			return code + " " + safetext.Line(text)
		}
		return m
	})
}

// classifyMail says what to do after a failed submission: a 4xx reply is
// the server saying "not now" (retry with backoff); a 5xx reply is a
// refusal, failed with the server's words; a connection lost or a
// timeout after the text was sent is uncertain (the server may have taken
// it), which mail cannot check: a person does. Anything that failed
// before the final dot was not taken, and is retried.
func classifyMail(err error) (errorKind, string) {
	var me *mailError
	if !errors.As(err, &me) {
		return retryable, err.Error()
	}
	switch {
	case me.code >= 500:
		return permanent, "the mail server refused it: " + me.words
	case me.code >= 400:
		return retryable, "the mail server said to try later: " + me.words
	case me.stage == stageAfterData:
		return uncertain, "the mail server did not confirm that it took the message (" + me.words + ")"
	default:
		return retryable, me.words
	}
}
