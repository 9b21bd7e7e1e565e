package notify

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/irtui/irtui/internal/contact"
)

// Secret holds a credential. It prints, formats and marshals as
// "[redacted]", so that a Secret that ends up in a log line, an error or a
// JSON dump gives nothing away; Reveal is the one way to read it.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: strings.TrimSpace(v)} }

// Reveal returns the credential, for the one call that sends it.
func (s Secret) Reveal() string { return s.v }

// IsSet reports whether there is a credential.
func (s Secret) IsSet() bool { return s.v != "" }

func (s Secret) String() string {
	if s.v == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the credential.
func (s Secret) GoString() string { return `notify.Secret("` + s.String() + `")` }

// MarshalText keeps encoders from writing the credential.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Settings are what the environment says about delivery. Tokens and the
// webhook URL are Secrets: they are used to send and never stored.
type Settings struct {
	// BotToken is SLACK_BOT_TOKEN, or the content of the file named by
	// SLACK_BOT_TOKEN_FILE.
	BotToken Secret
	// WebhookURL is SLACK_WEBHOOK_URL. Its path is a credential too.
	WebhookURL Secret
	// APIURL is IRTUI_SLACK_API_URL: the Slack Web API base URL (proxies,
	// Enterprise Grid, tests). Empty: https://slack.com/api/.
	APIURL string
	// Channel is IRTUI_SLACK_CHANNEL, the default stakeholder channel; it
	// overrides slack.channel in the configuration file.
	Channel string
	// ConsoleLog is IRTUI_CONSOLE_LOG: a file that console messages are
	// appended to (mode 0600). Empty: they are only kept in the outbox.
	ConsoleLog string
	// ExportDir is IRTUI_OUTBOX_DIR: where mail and regulator notices are
	// exported as .md and .eml files. Default $XDG_DATA_HOME/irtui/outbox.
	ExportDir string
	// SMTP is the mail submission server (IRTUI_SMTP_URL); nil: mail is
	// exported as files for a person to send.
	SMTP *SMTP
}

// SMTP is where customer notices are mailed: a submission server reached
// over TLS (implicit, or STARTTLS required), with the password from the
// environment or a file.
type SMTP struct {
	Host string
	Port int
	// ImplicitTLS is smtps:// (port 465): TLS from the first byte.
	ImplicitTLS bool
	// RequireTLS refuses to go on unless the server takes STARTTLS: smtp://
	// to any host but this machine (see Endpoint.TLSRequired).
	RequireTLS bool
	// User and Password authenticate the submission (none: no AUTH).
	User     string
	Password Secret
	// RootCAs are the certificate authorities the server's certificate is
	// checked against (IRTUI_SMTP_CA_FILE); nil: the system's.
	RootCAs *x509.CertPool
}

// Addr is host:port, for people.
func (m *SMTP) Addr() string { return hostPort(m.Host, m.Port) }

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// Environment variables Settings are read from.
const (
	EnvBotToken     = "SLACK_BOT_TOKEN"
	EnvBotTokenFile = "SLACK_BOT_TOKEN_FILE"
	EnvWebhookURL   = "SLACK_WEBHOOK_URL"
	EnvAPIURL       = "IRTUI_SLACK_API_URL"
	EnvChannel      = "IRTUI_SLACK_CHANNEL"
	EnvConsoleLog   = "IRTUI_CONSOLE_LOG"
	EnvExportDir    = "IRTUI_OUTBOX_DIR"

	EnvSMTPURL          = "IRTUI_SMTP_URL"
	EnvSMTPPassword     = "IRTUI_SMTP_PASSWORD"
	EnvSMTPPasswordFile = "IRTUI_SMTP_PASSWORD_FILE"
	EnvSMTPCAFile       = "IRTUI_SMTP_CA_FILE"
)

// SettingsFromEnv reads Settings with getenv (os.Getenv in the app). Its
// errors name the variable or file, never a credential.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		BotToken:   NewSecret(getenv(EnvBotToken)),
		WebhookURL: NewSecret(getenv(EnvWebhookURL)),
		APIURL:     strings.TrimSpace(getenv(EnvAPIURL)),
		Channel:    strings.TrimSpace(getenv(EnvChannel)),
		ConsoleLog: strings.TrimSpace(getenv(EnvConsoleLog)),
		ExportDir:  strings.TrimSpace(getenv(EnvExportDir)),
	}
	tok, err := secretFromFile(getenv, EnvBotToken, EnvBotTokenFile, "token")
	if err != nil {
		return Settings{}, err
	}
	s.BotToken = tok
	if s.WebhookURL.IsSet() {
		// The URL is a credential: errors name the variable, not the URL.
		if _, err := CheckEndpoint(EnvWebhookURL, s.WebhookURL.Reveal(), true, "https", "http"); err != nil {
			return Settings{}, err
		}
	}
	if s.APIURL != "" {
		if _, err := CheckEndpoint(EnvAPIURL, s.APIURL, false, "https", "http"); err != nil {
			return Settings{}, err
		}
		if !strings.HasSuffix(s.APIURL, "/") {
			s.APIURL += "/" // slack-go joins method names onto it
		}
	}
	if s.Channel != "" {
		if err := contact.SlackChannel(s.Channel); err != nil {
			return Settings{}, fmt.Errorf("%s: %w", EnvChannel, err)
		}
	}
	if s.ExportDir == "" {
		s.ExportDir = defaultExportDir(getenv)
	}
	if s.SMTP, err = smtpFromEnv(getenv); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// secretFromFile reads a credential from the variable env, or from the
// file named by fileEnv (a secrets mount), not both. Errors name the
// variable and the file, never the credential.
func secretFromFile(getenv func(string) string, env, fileEnv, what string) (Secret, error) {
	sec := NewSecret(getenv(env))
	f := strings.TrimSpace(getenv(fileEnv))
	if f == "" {
		return sec, nil
	}
	if sec.IsSet() {
		return Secret{}, fmt.Errorf("set %s or %s, not both", env, fileEnv)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return Secret{}, fmt.Errorf("%s: cannot read the %s file %s: %w", fileEnv, what, f, err)
	}
	sec = NewSecret(string(b))
	if !sec.IsSet() {
		return Secret{}, fmt.Errorf("%s: the %s file %s is empty", fileEnv, what, f)
	}
	return sec, nil
}

// smtpFromEnv reads IRTUI_SMTP_URL (smtp://user@host:587 with STARTTLS,
// smtps://user@host:465 with implicit TLS), its password and its CA file.
func smtpFromEnv(getenv func(string) string) (*SMTP, error) {
	raw := strings.TrimSpace(getenv(EnvSMTPURL))
	if raw == "" {
		for _, env := range []string{EnvSMTPPassword, EnvSMTPPasswordFile, EnvSMTPCAFile} {
			if strings.TrimSpace(getenv(env)) != "" {
				return nil, fmt.Errorf("%s is set but %s is not: set the mail server, or unset %s", env, EnvSMTPURL, env)
			}
		}
		return nil, nil
	}
	ep, err := CheckEndpoint(EnvSMTPURL, raw, false, "smtps", "smtp")
	if err != nil {
		return nil, err
	}
	u := ep.URL
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("%s holds a password: put it in %s or %s instead, so it stays out of process lists and logs",
			EnvSMTPURL, EnvSMTPPassword, EnvSMTPPasswordFile)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %s: only smtp://user@host:port or smtps://user@host:port, without a path or options",
			EnvSMTPURL, ep.Redacted())
	}
	m := &SMTP{Host: u.Hostname(), ImplicitTLS: u.Scheme == "smtps", RequireTLS: u.Scheme == "smtp" && ep.TLSRequired()}
	m.Port = 587
	if m.ImplicitTLS {
		m.Port = 465
	}
	if p := u.Port(); p != "" {
		if m.Port, err = strconv.Atoi(p); err != nil || m.Port <= 0 || m.Port > 65535 {
			return nil, fmt.Errorf("%s %s: the port %q is not a port number", EnvSMTPURL, ep.Redacted(), p)
		}
	}
	if u.User != nil {
		m.User = u.User.Username()
	}
	if m.Password, err = secretFromFile(getenv, EnvSMTPPassword, EnvSMTPPasswordFile, "password"); err != nil {
		return nil, err
	}
	switch {
	case m.User != "" && !m.Password.IsSet():
		return nil, fmt.Errorf("%s names the user %s: set %s or %s to its password", EnvSMTPURL, m.User,
			EnvSMTPPassword, EnvSMTPPasswordFile)
	case m.User == "" && m.Password.IsSet():
		return nil, fmt.Errorf("a mail password is set but %s names no user (smtp://USER@host:587)", EnvSMTPURL)
	}
	if f := strings.TrimSpace(getenv(EnvSMTPCAFile)); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvSMTPCAFile, err)
		}
		m.RootCAs = x509.NewCertPool()
		if !m.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %s holds no PEM certificate", EnvSMTPCAFile, f)
		}
	}
	return m, nil
}

// Endpoint is an outbound endpoint that passed CheckEndpoint.
type Endpoint struct {
	URL *url.URL
	// Loopback: the host is this machine (localhost, 127.0.0.0/8, ::1).
	Loopback bool
	secret   bool
}

// TLSRequired reports whether the connection must be encrypted: always,
// except to this machine. The one place that decides it, for the Slack
// API, webhooks and mail alike.
func (e Endpoint) TLSRequired() bool { return !e.Loopback }

// Redacted is the endpoint for messages: scheme and host only when the
// URL is a credential (a webhook's path), else without user information.
func (e Endpoint) Redacted() string {
	if e.secret {
		return e.URL.Scheme + "://" + e.URL.Host + "/[redacted]"
	}
	u := *e.URL
	u.User = nil
	return u.String()
}

// CheckEndpoint parses the URL of an outbound endpoint that secrets are
// sent to, from the variable env, and applies irtui's transport rule:
// TLS (https, smtps; smtp with STARTTLS required), and plain text only to
// a loopback host. schemes lists what the endpoint may use. secret keeps
// the URL out of error messages (a webhook's URL is its credential).
func CheckEndpoint(env, raw string, secret bool, schemes ...string) (Endpoint, error) {
	show := func() string {
		if secret {
			return ""
		}
		return " " + strconv.Quote(raw)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	ok := err == nil && u.Host != "" && u.Hostname() != ""
	if ok {
		u.Scheme = strings.ToLower(u.Scheme)
		found := false
		for _, sc := range schemes {
			found = found || u.Scheme == sc
		}
		ok = found
	}
	if !ok {
		return Endpoint{}, fmt.Errorf("%s%s is not a %s URL", env, show(), strings.Join(schemes, "://, ")+"://")
	}
	ep := Endpoint{URL: u, Loopback: IsLoopback(u.Hostname()), secret: secret}
	if u.Scheme == "http" && ep.TLSRequired() {
		return Endpoint{}, fmt.Errorf("%s must use https:// (%s): secrets are sent only over TLS; plain http:// is "+
			"allowed only to this machine (localhost, 127.0.0.0/8, ::1)", env, ep.Redacted())
	}
	return ep, nil
}

// IsLoopback reports whether host is this machine: "localhost", or an
// address in 127.0.0.0/8 or ::1. Names are not resolved, so a name that
// merely points at 127.0.0.1 does not count.
func IsLoopback(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if h == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// defaultExportDir is $XDG_DATA_HOME/irtui/outbox, or
// ~/.local/share/irtui/outbox.
func defaultExportDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "irtui", "outbox")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "irtui", "outbox")
	}
	return filepath.Join(os.TempDir(), "irtui-outbox")
}

// SlackConfigured reports whether a bot token or a webhook is set.
func (s Settings) SlackConfigured() bool { return s.BotToken.IsSet() || s.WebhookURL.IsSet() }

// Describe says in one line how messages will be delivered, for people.
func (s Settings) Describe() string {
	var out string
	switch {
	case s.BotToken.IsSet():
		ch := s.Channel
		if ch == "" {
			ch = "the configured channels"
		}
		out = "Slack bot (chat.postMessage) to " + ch
	case s.WebhookURL.IsSet():
		out = "Slack incoming webhook"
	default:
		out = "console (no Slack configured)"
	}
	if s.SMTP != nil {
		tls := "STARTTLS"
		switch {
		case s.SMTP.ImplicitTLS:
			tls = "TLS"
		case !s.SMTP.RequireTLS:
			tls = "STARTTLS if offered, on this machine"
		}
		return out + "; mail by SMTP to " + s.SMTP.Addr() + " (" + tls + ")"
	}
	return out + "; mail exported as files, NOT sent (no " + EnvSMTPURL + ")"
}

// scrub removes every credential from an error message, whatever shape
// the HTTP stack gave it (the webhook URL may appear escaped or in parts).
func (s Settings) scrub(msg string) string {
	var secrets []string
	if t := s.BotToken.Reveal(); t != "" {
		secrets = append(secrets, t, url.QueryEscape(t))
	}
	if s.SMTP != nil {
		if p := s.SMTP.Password.Reveal(); p != "" {
			secrets = append(secrets, p, url.QueryEscape(p))
		}
	}
	if w := s.WebhookURL.Reveal(); w != "" {
		secrets = append(secrets, w)
		if u, err := url.Parse(w); err == nil {
			if u.Path != "" && u.Path != "/" {
				secrets = append(secrets, u.Path, u.EscapedPath(), strings.TrimPrefix(u.Path, "/"))
			}
			if u.RawQuery != "" {
				secrets = append(secrets, u.RawQuery)
			}
		}
	}
	for _, sec := range secrets {
		if len(sec) >= 4 {
			msg = strings.ReplaceAll(msg, sec, "[redacted]")
		}
	}
	return msg
}
