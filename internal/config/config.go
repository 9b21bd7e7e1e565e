// Package config reads irtui's configuration file: the organisation, the
// regulatory regimes that apply to it, and Slack routing. Secrets are never
// in this file; they come from the environment or a file named there.
package config

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/contact"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/runbook"
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
func Load(ctx context.Context, path string) (Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	data, err := strictyaml.ReadFile(ctx, strictyaml.Configuration, path)
	if err != nil {
		return c, err // "configuration: open ...", or the file's problems
	}
	return Parse(path, data)
}

// Parse reads the configuration file data, named path in problems, over
// the defaults.
func Parse(path string, data []byte) (Config, error) {
	c := Default()
	if probs := strictyaml.DecodeFile(strictyaml.Configuration, path, data, &c); probs != nil {
		return c, probs
	}
	if issues := c.check(); len(issues) > 0 {
		// Positions are looked up only for a file with problems.
		doc, probs := strictyaml.Parse(strictyaml.Configuration, path, data)
		if probs != nil {
			return c, probs
		}
		return c, doc.Report(issues, nil)
	}
	if c.Policy.CustomerNoticeTarget == "" {
		c.Policy.CustomerNoticeTarget = deadline.DefaultCustomerNoticeTarget
	}
	if err := c.Policy.Validate(); err != nil {
		return c, fmt.Errorf("%s: policy: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return c, nil
}

// check finds the values irtui cannot use, each with its place in the
// file: addresses that net/mail does not parse, Slack channels outside
// Slack's rules, severities and US states that do not exist, and the
// like. Values left at their defaults are not checked.
func (c *Config) check() []strictyaml.Issue {
	var ck strictyaml.Checker
	at := func(steps ...any) strictyaml.Path { return strictyaml.Path(steps) }
	if v := strings.TrimSpace(c.Org.DPOContact); v != Default().Org.DPOContact && v != "" {
		if err := contact.HasMailbox(v); err != nil {
			ck.Addf(at("org", "dpo_contact"), "org.dpo_contact: %s", err)
		}
	}
	for _, f := range []struct{ key, v string }{{"mail_from", c.Org.MailFrom}, {"reply_to", c.Org.ReplyTo}} {
		if f.v == "" {
			continue
		}
		if err := contact.Email(f.v); err != nil {
			ck.Addf(at("org", f.key), "org.%s: %s", f.key, err)
		}
	}
	for _, f := range []struct {
		path strictyaml.Path
		v    string
	}{{at("slack", "channel"), c.Slack.Channel}, {at("slack", "drill_channel"), c.Slack.DrillChannel},
		{at("audit", "slack_channel"), c.Audit.SlackChannel}} {
		if f.v == "" {
			continue
		}
		if err := contact.SlackChannel(f.v); err != nil {
			ck.Addf(f.path, "%s.%s: %s", f.path[0], f.path[1], err)
		}
	}
	for i, r := range c.Slack.Routes {
		route := at("slack", "routes", i)
		if r.Channel == "" {
			ck.Addf(route.With("channel"), "slack.routes[%d]: a route needs a channel", i)
		} else if err := contact.SlackChannel(r.Channel); err != nil {
			ck.Addf(route.With("channel"), "slack.routes[%d].channel: %s", i, err)
		}
		for k, sev := range r.Severities {
			if !slices.Contains(runbook.Severities, sev) {
				ck.Addf(route.With("severities", k), "slack.routes[%d].severities: %q is not a severity; use %s",
					i, sev, strings.Join(runbook.Severities, ", "))
			}
		}
	}
	for k, st := range c.Policy.USStates {
		if !deadline.IsUSState(st) {
			ck.Addf(at("policy", "us_states", k), "policy.us_states: %q is not the upper-case code of a US state, DC or "+
				"a territory (such as CA or NY)", st)
		}
	}
	for _, f := range []struct{ key, v string }{{"checkpoint_every", c.Audit.CheckpointEvery}, {"slack_every", c.Audit.SlackEvery}} {
		if _, _, err := (Audit{CheckpointEvery: f.v}).Intervals(); err != nil {
			ck.Addf(at("audit", f.key), "audit.%s: %q is not a duration of a second or more (such as 30s, 5m, 1h)", f.key, f.v)
		}
	}
	if t := c.UI.Theme; t != "" && !slices.Contains(Themes, t) {
		ck.Addf(at("ui", "theme"), "ui.theme %q: use light, dark or auto", t)
	}
	return ck.Issues
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
