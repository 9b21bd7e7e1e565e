package notify

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
	if f := strings.TrimSpace(getenv(EnvBotTokenFile)); f != "" {
		if s.BotToken.IsSet() {
			return Settings{}, fmt.Errorf("set %s or %s, not both", EnvBotToken, EnvBotTokenFile)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return Settings{}, fmt.Errorf("%s: cannot read the token file %s: %w", EnvBotTokenFile, f, err)
		}
		s.BotToken = NewSecret(string(b))
		if !s.BotToken.IsSet() {
			return Settings{}, fmt.Errorf("%s: the token file %s is empty", EnvBotTokenFile, f)
		}
	}
	if s.WebhookURL.IsSet() {
		u, err := url.Parse(s.WebhookURL.Reveal())
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Settings{}, fmt.Errorf("%s is not an http(s) URL", EnvWebhookURL)
		}
	}
	if s.APIURL != "" {
		u, err := url.Parse(s.APIURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Settings{}, fmt.Errorf("%s %q is not an http(s) URL", EnvAPIURL, s.APIURL)
		}
		if !strings.HasSuffix(s.APIURL, "/") {
			s.APIURL += "/" // slack-go joins method names onto it
		}
	}
	if s.ExportDir == "" {
		s.ExportDir = defaultExportDir(getenv)
	}
	return s, nil
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
	switch {
	case s.BotToken.IsSet():
		ch := s.Channel
		if ch == "" {
			ch = "the configured channels"
		}
		return "Slack bot (chat.postMessage) to " + ch
	case s.WebhookURL.IsSet():
		return "Slack incoming webhook"
	default:
		return "console (no Slack configured)"
	}
}

// scrub removes every credential from an error message, whatever shape
// the HTTP stack gave it (the webhook URL may appear escaped or in parts).
func (s Settings) scrub(msg string) string {
	var secrets []string
	if t := s.BotToken.Reveal(); t != "" {
		secrets = append(secrets, t, url.QueryEscape(t))
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
