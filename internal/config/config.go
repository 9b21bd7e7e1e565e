// Package config reads irtui's configuration file: the organisation, the
// regulatory regimes that apply to it, and Slack routing. Secrets are never
// in this file; they come from the environment or a file named there.
package config

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/strictyaml"
)

// Config is the configuration file.
type Config struct {
	Org      Org             `yaml:"org" json:"org"`
	Policy   deadline.Policy `yaml:"policy" json:"policy"`
	Slack    Slack           `yaml:"slack" json:"slack"`
	Identity Identity        `yaml:"identity" json:"identity"`
	UI       UI              `yaml:"ui" json:"ui"`
	Audit    Audit           `yaml:"audit" json:"audit"`
}

// UI holds the app's display settings.
type UI struct {
	// Theme is "light", "dark", or "" (auto: the terminal's COLORFGBG,
	// else its answer to the background colour query). --theme overrides
	// it.
	Theme string `yaml:"theme" json:"theme,omitempty"`
}

// Themes are the values of ui.theme and --theme.
var Themes = []string{"auto", "light", "dark"}

// Identity says how irtui tells who acts (docs/identity.md).
type Identity struct {
	// LocalTrust turns on local trust mode: --as and IRTUI_USER name who
	// acts everywhere, not only on drills, and each entry records the OS
	// user behind the name. For a machine where the team shares one OS
	// account and trusts one another's typed names; off by default.
	LocalTrust bool `yaml:"local_trust" json:"local_trust"`
}

// Audit says where checkpoints of the record go besides the witness file
// beside the database. See docs/data-model.md.
type Audit struct {
	// SlackChannel receives checkpoints through the outbox, so that a copy
	// of them is kept off this machine (IRTUI_AUDIT_SLACK_CHANNEL
	// overrides it).
	SlackChannel string `yaml:"slack_channel" json:"slack_channel,omitempty"`
	// Witness is the witness file ("" for the database's path with
	// .witness appended; IRTUI_WITNESS overrides it).
	Witness string `yaml:"witness" json:"witness,omitempty"`
	// CheckpointEvery is how often the app checkpoints the record while it
	// changes (a Go duration, default 1m); SlackEvery how often at most it
	// posts one to Slack (default 1h).
	CheckpointEvery string `yaml:"checkpoint_every" json:"checkpoint_every,omitempty"`
	SlackEvery      string `yaml:"slack_every" json:"slack_every,omitempty"`
}

// Intervals are the checkpoint intervals, with their defaults.
func (a Audit) Intervals() (every, slack time.Duration, err error) {
	every, slack = time.Minute, time.Hour
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"audit.checkpoint_every", a.CheckpointEvery, &every}, {"audit.slack_every", a.SlackEvery, &slack}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v < time.Second {
			return 0, 0, fmt.Errorf("%s: %q is not a duration of a second or more (such as 30s, 5m, 1h)", d.name, d.v)
		}
		*d.dst = v
	}
	return every, slack, nil
}

// Org describes the organisation that sends notices.
type Org struct {
	Name       string `yaml:"name" json:"name"`
	DPOContact string `yaml:"dpo_contact" json:"dpo_contact"`
	Contact    string `yaml:"contact" json:"contact"`
	// MailFrom is the From: address of mailed notices (default: Contact);
	// ReplyTo their Reply-To: (default: none, replies go to From).
	MailFrom string `yaml:"mail_from" json:"mail_from,omitempty"`
	ReplyTo  string `yaml:"reply_to" json:"reply_to,omitempty"`
}

// Sender is the From: address of mail: MailFrom, else Contact, as a bare
// address with the organisation's name; "" when neither is an address.
func (o Org) Sender() string {
	for _, v := range []string{o.MailFrom, o.Contact} {
		if a, err := mail.ParseAddress(strings.TrimSpace(v)); err == nil {
			return a.Address
		}
	}
	return ""
}

// ReplyAddress is the Reply-To: address of mail ("" for none).
func (o Org) ReplyAddress() string {
	if a, err := mail.ParseAddress(strings.TrimSpace(o.ReplyTo)); err == nil {
		return a.Address
	}
	return ""
}

// Slack holds channel routing. Tokens are not configured here: see
// SLACK_BOT_TOKEN, SLACK_BOT_TOKEN_FILE and SLACK_WEBHOOK_URL.
type Slack struct {
	// Channel is the default stakeholder channel (IRTUI_SLACK_CHANNEL
	// overrides it).
	Channel string `yaml:"channel" json:"channel"`
	// DrillChannel receives every message of a drill incident.
	DrillChannel string `yaml:"drill_channel" json:"drill_channel"`
	// Routes send stakeholder messages elsewhere by severity and runbook;
	// the first matching route wins.
	Routes []Route `yaml:"routes" json:"routes"`
}

// Route picks a channel for incidents of some severities and runbooks.
// An empty list matches everything.
type Route struct {
	Severities []string `yaml:"severities" json:"severities"`
	Runbooks   []string `yaml:"runbooks" json:"runbooks"`
	Channel    string   `yaml:"channel" json:"channel"`
}

// Default is the configuration without a file: an EU controller with a
// 24-hour customer notice promise, UTC clocks.
func Default() Config {
	return Config{
		Org:    Org{Name: "Your organisation", DPOContact: "the data protection officer (set org.dpo_contact in the configuration)"},
		Policy: deadline.DefaultPolicy(),
	}
}

// Load reads the file at path over the defaults; an empty path gives the
// defaults. Errors name the file, line and column.
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	// Load has no context of its own yet; the read is bounded by
	// strictyaml's size cap.
	data, err := strictyaml.ReadFile(context.TODO(), strictyaml.Configuration, path)
	if err != nil {
		return c, err // "configuration: open ...", or the file's problems
	}
	if probs := strictyaml.DecodeFile(path, data, &c); probs != nil {
		return c, probs
	}
	if c.Policy.CustomerNoticeTarget == "" {
		c.Policy.CustomerNoticeTarget = deadline.DefaultCustomerNoticeTarget
	}
	if err := c.Policy.Validate(); err != nil {
		return c, fmt.Errorf("%s: policy: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if _, _, err := c.Audit.Intervals(); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	for _, f := range []struct{ key, v string }{{"org.mail_from", c.Org.MailFrom}, {"org.reply_to", c.Org.ReplyTo}} {
		if f.v == "" {
			continue
		}
		if a, err := mail.ParseAddress(f.v); err != nil || a.Name != "" || a.Address != strings.TrimSpace(f.v) {
			return c, fmt.Errorf("%s: %s %q is not a bare mail address (name@example.com)", path, f.key, f.v)
		}
	}
	if t := c.UI.Theme; t != "" && !contains(Themes, t) {
		return c, fmt.Errorf("%s: ui.theme %q: use light, dark or auto", path, t)
	}
	for i, r := range c.Slack.Routes {
		if r.Channel == "" {
			return c, fmt.Errorf("%s: slack.routes[%d]: a route needs a channel", path, i)
		}
	}
	return c, nil
}

// ChannelFor returns the stakeholder channel for an incident.
func (s Slack) ChannelFor(severity, runbookID string, fallback string) string {
	for _, r := range s.Routes {
		if (len(r.Severities) == 0 || contains(r.Severities, severity)) && (len(r.Runbooks) == 0 || contains(r.Runbooks, runbookID)) {
			return r.Channel
		}
	}
	if s.Channel != "" {
		return s.Channel
	}
	return fallback
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
