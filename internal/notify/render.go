package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"text/template"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// Limits that keep a message within what Slack accepts.
const (
	maxHeader      = 150   // header block text
	maxSection     = 3000  // section block text
	maxBody        = 30000 // rendered body
	maxContentText = 4000  // one content field
)

// facts are the incident facts a stakeholder message shows as fields.
type facts struct {
	Severity     string
	Status       string
	Commander    string
	NextDeadline string
}

// templates caches parsed templates by their text: a notice rendered for a
// thousand customers parses its template once. Parsed templates are safe
// for concurrent use.
var templates sync.Map // text -> *template.Template

func execTemplate(text string, data runbook.TemplateData) (string, error) {
	var t *template.Template
	if v, ok := templates.Load(text); ok {
		t = v.(*template.Template)
	} else {
		// runbook.ParseTemplate offers text/template's built-ins only, with
		// missingkey=error: a template is data, it cannot run code.
		p, err := runbook.ParseTemplate("notice", text)
		if err != nil {
			return "", err
		}
		templates.Store(text, p)
		t = p
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// pickTemplate chooses the template for a language: an exact translation
// ("pt-BR"), then the base language ("pt"), else the rule's own template,
// which is English. It returns the language used.
func pickTemplate(rule runbook.Notification, lang string) (runbook.Template, string) {
	lang = strings.TrimSpace(lang)
	if lang != "" && len(rule.Translations) > 0 {
		for code, t := range rule.Translations {
			if strings.EqualFold(code, lang) {
				return t, code
			}
		}
		if base, _, ok := strings.Cut(lang, "-"); ok {
			for code, t := range rule.Translations {
				if strings.EqualFold(code, base) {
					return t, code
				}
			}
		}
	}
	return rule.Template, "en"
}

// placeholder stands in a preview for a required field still empty. It
// never reaches anyone: a notice with an empty required field cannot be
// approved.
func placeholder(f store.NoticeField) string { return "[to be filled in: " + f.Label + "]" }

// render fills n.Subject, n.Body and n.Blocks from n.Template, n.Content
// and data. redact, if not nil, is applied to each content value (a
// customer's notice).
func render(n *store.Notification, data runbook.TemplateData, f facts, redact func(string) string) error {
	content := make(map[string]string, len(n.Fields))
	for _, fl := range n.Fields {
		v := n.Content[fl.ID]
		if redact != nil {
			v = redact(v)
		}
		if strings.TrimSpace(v) == "" && fl.Required {
			v = placeholder(fl)
		}
		content[fl.ID] = v
	}
	data.Content = content
	data.Exercise = n.Drill
	subject, err := execTemplate(n.Template.Subject, data)
	if err != nil {
		return fmt.Errorf("rule %s: subject template: %w", n.RuleID, err)
	}
	body, err := execTemplate(n.Template.Body, data)
	if err != nil {
		return fmt.Errorf("rule %s: body template: %w", n.RuleID, err)
	}
	subject = strings.TrimSpace(safetext.Line(subject))
	body = strings.TrimRight(safetext.Clean(body), " \n\t")
	if len(body) > maxBody {
		body = truncate(body, maxBody) + "\n[…]"
	}
	if n.Drill {
		subject = Exercise + " " + subject
		body = Exercise + " This is a drill message.\n\n" + body
	}
	n.Subject, n.Body = subject, body
	n.Blocks, err = buildBlocks(n, f)
	return err
}

// buildBlocks lays a message out in Block Kit: a header, for stakeholders
// the incident's severity, status, commander and next deadline, the body,
// and a context line. Text people wrote goes into mrkdwn escaped, so a
// title cannot ping @channel or forge a link; the header is plain_text,
// which Slack does not parse.
func buildBlocks(n *store.Notification, f facts) (json.RawMessage, error) {
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	esc := safetext.Mrkdwn
	header := n.Subject
	if header == "" {
		header = n.IncidentID
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(header, maxHeader), false, false)),
	}
	if n.Audience == AudienceStakeholders || n.Audience == AudienceInternal {
		or := func(s, none string) string {
			if s == "" {
				return "_" + none + "_"
			}
			return esc(s)
		}
		blocks = append(blocks, slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			md("*Severity*\n" + or(f.Severity, "unknown")),
			md("*Status*\n" + or(f.Status, "unknown")),
			md("*Incident commander*\n" + or(f.Commander, "not yet assigned")),
			md("*Next deadline*\n" + or(f.NextDeadline, "none running")),
		}, nil))
	}
	for _, chunk := range chunks(esc(n.Body), maxSection) {
		blocks = append(blocks, slack.NewSectionBlock(md(chunk), nil, nil))
	}
	context := "Incident " + esc(n.IncidentID) + " · sent by irtui"
	if n.Drill {
		context = Exercise + " " + context
	}
	blocks = append(blocks, slack.NewContextBlock("", md(context)))
	raw, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		return nil, fmt.Errorf("notification blocks: %w", err)
	}
	return raw, nil
}

// fallbackText is the plain text Slack shows in notifications and where
// blocks cannot be shown; it is mrkdwn, so it is escaped too.
func fallbackText(n store.Notification) string {
	return truncate(safetext.Mrkdwn(n.Subject+"\n\n"+n.Body), maxSection)
}

// chunks splits escaped mrkdwn into pieces of at most max bytes, at line
// ends where it can and never inside an entity such as &amp;.
func chunks(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := strings.LastIndexByte(s[:max], '\n')
		if cut < max/2 {
			cut = max
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
			if amp := strings.LastIndexByte(s[:cut], '&'); amp >= 0 && cut-amp < 6 && !strings.Contains(s[amp:cut], ";") {
				cut = amp
			}
		}
		out = append(out, s[:cut])
		s = strings.TrimLeft(s[cut:], "\n")
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

// truncate cuts s to at most max bytes at a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
