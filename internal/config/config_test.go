package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/irtui/irtui/internal/strictyaml"
)

func write(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "irtui.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readmeExample is the configuration README.md shows.
func readmeExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Configuration\n.*?```yaml\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("no configuration example in README.md")
	}
	return string(m[1])
}

func TestREADMEExampleLoads(t *testing.T) {
	c, err := Load(context.Background(), write(t, readmeExample(t)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Org.DPOContact != "dpo@example.com" || c.Slack.Routes[0].Channel != "#sev1" || c.Policy.USStates[0] != "CA" {
		t.Fatalf("loaded %+v", c)
	}
}

// TestLoadRefusesValuesItCannotUse: the issue's cases (hostile input,
// item 5) and their neighbours, each at the file, line and column of the
// value, naming the field.
func TestLoadRefusesValuesItCannotUse(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"a channel that is not one", "slack:\n  channel: Not A Channel!\n",
			`:2:12: slack.channel: "Not A Channel!" is not a Slack channel: write #name (lowercase letters, digits, - and _, at most 80) or a channel id such as C0123456789`},
		{"a channel without #", "slack:\n  drill_channel: drills\n", `:2:18: slack.drill_channel: "drills" is not a Slack channel`},
		{"a channel name of 81", "slack:\n  channel: \"#" + strings.Repeat("a", 81) + "\"\n", `:2:12: slack.channel: "#aaa`},
		{"an audit channel", "audit:\n  slack_channel: \"#Sec Audit\"\n", `:2:18: audit.slack_channel: "#Sec Audit" is not a Slack channel`},
		{"a route's channel", "slack:\n  routes:\n    - {severities: [SEV1], channel: \"#SEV1\"}\n",
			`:3:37: slack.routes[0].channel: "#SEV1" is not a Slack channel`},
		{"a route without a channel", "slack:\n  routes:\n    - severities: [SEV1]\n", `:3:7: slack.routes[0]: a route needs a channel`},
		{"a severity that does not exist", "slack:\n  routes:\n    - {severities: [SEV1, SEV9], channel: \"#sev\"}\n",
			`:3:27: slack.routes[0].severities: "SEV9" is not a severity; use SEV1, SEV2, SEV3, SEV4`},
		{"a DPO contact that is not an address", "org:\n  dpo_contact: not an address\n",
			`:2:16: org.dpo_contact: "not an address" does not hold an email address`},
		{"a DPO contact with a phone number only", "org:\n  dpo_contact: DPO, +31 20 555 0100\n", `:2:16: org.dpo_contact: "DPO, +31 20 555 0100" does not hold an email address`},
		{"a mail_from with a name", "org:\n  mail_from: Sec <sec@example.com>\n", `:2:14: org.mail_from: "Sec <sec@example.com>" is not an email address`},
		{"a reply_to that is not an address", "org:\n  reply_to: security\n", `:2:13: org.reply_to: "security" is not an email address`},
		{"a state that does not exist", "policy:\n  us_states: [CA, XX]\n",
			`:2:19: policy.us_states: "XX" is not the upper-case code of a US state, DC or a territory (such as CA or NY)`},
		{"a lower-case state", "policy:\n  us_states:\n    - ny\n", `:3:7: policy.us_states: "ny" is not the upper-case code`},
		{"a checkpoint interval", "audit:\n  checkpoint_every: 10ms\n", `:2:21: audit.checkpoint_every: "10ms" is not a duration of a second or more`},
		{"a theme", "ui:\n  theme: blue\n", `:2:10: ui.theme "blue": use light, dark or auto`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := write(t, tc.src)
			_, err := Load(context.Background(), path)
			if err == nil || !strings.Contains(err.Error(), path+tc.want) {
				t.Fatalf("got  %v\nwant %s%s", err, path, tc.want)
			}
		})
	}
	for _, src := range []string{
		"org:\n  dpo_contact: Jane Doe <dpo@example.com>\n",
		"org:\n  dpo_contact: Data Protection Officer, dpo@example.com, +31 20 555 0100\n",
		"slack:\n  channel: C0123456789\n  drill_channel: \"#ir_drills-2\"\n",
		"policy:\n  us_states: [CA, NY, DC, PR]\n",
		"slack:\n  routes:\n    - {severities: [SEV1, SEV2, SEV3, SEV4], runbooks: [ransomware], channel: \"#sev\"}\n",
	} {
		if _, err := Load(context.Background(), write(t, src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
	// Without dpo_contact the default placeholder stays, and is no error.
	if c, err := Load(context.Background(), write(t, "org:\n  name: Example\n")); err != nil || c.Org.DPOContact != Default().Org.DPOContact {
		t.Fatalf("%+v %v", c.Org, err)
	}
}

// FuzzParse: any file gives a configuration or problems at a line and
// column of it; a configuration it accepts passes its own checks.
func FuzzParse(f *testing.F) {
	f.Add([]byte("slack:\n  channel: Not A Channel!\n"))
	f.Add([]byte("org:\n  dpo_contact: not an address\npolicy:\n  us_states: [XX]\n"))
	f.Add([]byte("slack:\n  routes:\n    - {severities: [SEV9], channel: \"#a\"}\n"))
	f.Add([]byte("ui: {theme: dark}\naudit: {checkpoint_every: 5m}\n"))
	if data, err := os.ReadFile("../../docs/examples/config-all-regimes.yaml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.yaml", data)
		if err != nil {
			var probs strictyaml.Problems
			if errors.As(err, &probs) {
				for _, p := range probs {
					if p.Path != "f.yaml" || p.Line < 1 || p.Col < 1 || p.Msg == "" {
						t.Fatalf("problem without a place: %+v", p)
					}
				}
			} else if !strings.HasPrefix(err.Error(), "f.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if issues := c.check(); len(issues) > 0 {
			t.Fatalf("accepted with issues: %+v", issues)
		}
	})
}
