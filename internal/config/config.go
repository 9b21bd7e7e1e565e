// Package config reads irtui's configuration file: the organisation, the
// regulatory regimes that apply to it, and Slack routing. Secrets are never
// in this file; they come from the environment or a file named there.
package config

import (
	"context"
	"fmt"
	"strings"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/strictyaml"
)

// Config is the configuration file.
type Config struct {
	Org    Org             `yaml:"org" json:"org"`
	Policy deadline.Policy `yaml:"policy" json:"policy"`
	Slack  Slack           `yaml:"slack" json:"slack"`
}

// Org describes the organisation that sends notices.
type Org struct {
	Name       string `yaml:"name" json:"name"`
	DPOContact string `yaml:"dpo_contact" json:"dpo_contact"`
	Contact    string `yaml:"contact" json:"contact"`
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
	if probs := strictyaml.DecodeFile(strictyaml.Configuration, path, data, &c); probs != nil {
		return c, probs
	}
	if c.Policy.CustomerNoticeTarget == "" {
		c.Policy.CustomerNoticeTarget = deadline.DefaultCustomerNoticeTarget
	}
	if err := c.Policy.Validate(); err != nil {
		return c, fmt.Errorf("%s: policy: %s", path, strings.ReplaceAll(err.Error(), "\n", "; "))
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
