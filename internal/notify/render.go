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

// Limits that keep a message within what Slack accepts. Slack documents
// 150 characters for a header, 3,000 for a section's text and 50 blocks a
// message; it also refuses a message whose blocks hold too much text in
// all (msg_blocks_too_long) without documenting where: reports put it near
// 12,000 characters with some allowance for the blocks around the text
// (slackapi/bolt-js#2509: accepted up to 13,172-13,297 characters; #2867:
// refused at 11,341 characters of text in many small blocks). irtui counts
// the whole JSON of a message's blocks, not only its text, and keeps it
// under 10,000 characters; a longer notice continues in replies in the
// first message's thread. See docs/notifications.md.
const (
	maxHeader       = 150   // header block text
	maxSection      = 3000  // section block text (fallback text too)
	sectionBudget   = 2800  // bytes of escaped mrkdwn irtui puts in one section
	messageBudget   = 10000 // characters of block JSON in one Slack message
	maxBlocksPerMsg = 40    // blocks in one Slack message (Slack: 50)
	// MaxSlackParts is the most Slack messages one notice may take.
	MaxSlackParts = 8
	// maxBody is the longest text an approved notice may have; a longer
	// one is refused at approval rather than cut.
	maxBody = 30000
	// maxRendered bounds what rendering keeps of a template's output.
	maxRendered    = 64 << 10
	maxContentText = 4000 // one content field
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
	if len(body) > maxRendered {
		body = truncate(body, maxRendered) + "\n[…]"
	}
	if n.Drill {
		subject = Exercise + " " + subject
		body = Exercise + " This is a drill message.\n\n" + body
	}
	n.Subject, n.Body = subject, body
	n.Blocks, n.MoreBlocks, _, err = buildMessages(n, f)
	return err
}

// buildMessages lays a message out in Block Kit, in as many Slack
// messages (parts) as its text needs, at most MaxSlackParts: the first
// has a header, for stakeholders the incident's severity, status,
// commander and next deadline, and the start of the text; each further
// part continues the text; each ends with a context line. Text people
// wrote goes into mrkdwn escaped, so a title cannot ping @channel or forge
// a link; the header is plain_text, which Slack does not parse. cut
// reports text that did not fit in MaxSlackParts messages (a notice like
// that cannot be approved).
func buildMessages(n *store.Notification, f facts) (first json.RawMessage, more []json.RawMessage, cut bool, err error) {
	return encodeParts(layout(n, headBlocks(n, f)))
}

func encodeParts(parts [][]slack.Block, cut bool) (first json.RawMessage, more []json.RawMessage, _ bool, err error) {
	for i, p := range parts {
		raw, err := json.Marshal(slack.Blocks{BlockSet: p})
		if err != nil {
			return nil, nil, cut, fmt.Errorf("notification blocks: %w", err)
		}
		if i == 0 {
			first = raw
		} else {
			more = append(more, raw)
		}
	}
	return first, more, cut, nil
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func headerText(n *store.Notification) string {
	if n.Subject == "" {
		return n.IncidentID
	}
	return n.Subject
}

// headBlocks are the blocks the first part starts with: the header and,
// for stakeholders, the incident's facts.
func headBlocks(n *store.Notification, f facts) []slack.Block {
	esc := safetext.Mrkdwn
	head := []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, truncate(headerText(n), maxHeader), false, false)),
	}
	if n.Audience == AudienceStakeholders || n.Audience == AudienceInternal {
		or := func(s, none string) string {
			if s == "" {
				return "_" + none + "_"
			}
			return esc(s)
		}
		head = append(head, slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn("*Severity*\n" + or(f.Severity, "unknown")),
			mrkdwn("*Status*\n" + or(f.Status, "unknown")),
			mrkdwn("*Incident commander*\n" + or(f.Commander, "not yet assigned")),
			mrkdwn("*Next deadline*\n" + or(f.NextDeadline, "none running")),
		}, nil))
	}
	return head
}

// relayout lays a stored notice out again in parts from its text, keeping
// the head of its stored blocks (header and facts) as it was approved:
// for a notice stored by an irtui that put it all in one message, which
// Slack refused (msg_blocks_too_long). The text does not change.
func relayout(n *store.Notification) error {
	old, err := decodeBlocks(n.Blocks)
	if err != nil {
		return err
	}
	var head []slack.Block
	for _, b := range old {
		switch b := b.(type) {
		case *slack.HeaderBlock:
			head = append(head, b)
		case *slack.SectionBlock:
			if len(b.Fields) > 0 {
				head = append(head, b)
			}
		}
	}
	if len(head) == 0 {
		head = headBlocks(n, facts{})
	}
	n.Blocks, n.MoreBlocks, _, err = encodeParts(layout(n, head))
	return err
}

// layout packs the escaped text into sections and the sections into
// messages within messageBudget, after head in the first.
func layout(n *store.Notification, head []slack.Block) (parts [][]slack.Block, cut bool) {
	esc := safetext.Mrkdwn
	header := headerText(n)
	footer := func(part, of int) slack.Block {
		text := "Incident " + esc(n.IncidentID) + " · sent by irtui"
		if of > 1 {
			text = fmt.Sprintf("Incident %s · part %d of %d · sent by irtui", esc(n.IncidentID), part, of)
		}
		if n.Drill {
			text = Exercise + " " + text
		}
		return slack.NewContextBlock("", mrkdwn(text))
	}
	cont := func(part, of int) slack.Block {
		return slack.NewContextBlock("", mrkdwn(fmt.Sprintf("_Continued (part %d of %d):_ %s", part, of,
			esc(truncate(header, maxHeader)))))
	}
	// Measure with the widest part numbers the labels can take.
	wide := MaxSlackParts*10 + 9
	var msgs [][]string
	var cur []string
	base := append(append([]slack.Block(nil), head...), footer(wide, wide))
	size := blocksSize(base)
	for _, chunk := range chunks(esc(n.Body), sectionBudget) {
		add := blocksSize([]slack.Block{slack.NewSectionBlock(mrkdwn(chunk), nil, nil)}) + 1
		if len(cur) > 0 && (size+add > messageBudget || len(base)+len(cur)+1 > maxBlocksPerMsg) {
			msgs = append(msgs, cur)
			cur = nil
			base = []slack.Block{cont(wide, wide), footer(wide, wide)}
			size = blocksSize(base)
		}
		cur = append(cur, chunk)
		size += add
	}
	msgs = append(msgs, cur)
	if len(msgs) > MaxSlackParts {
		msgs, cut = msgs[:MaxSlackParts], true
		last := msgs[MaxSlackParts-1]
		last[len(last)-1] = truncate(last[len(last)-1], sectionBudget-200) +
			"\n\n_[The rest does not fit in Slack; the whole text is in irtui.]_"
	}
	for i, m := range msgs {
		var blocks []slack.Block
		if i == 0 {
			blocks = append(blocks, head...)
		} else {
			blocks = append(blocks, cont(i+1, len(msgs)))
		}
		for _, chunk := range m {
			blocks = append(blocks, slack.NewSectionBlock(mrkdwn(chunk), nil, nil))
		}
		parts = append(parts, append(blocks, footer(i+1, len(msgs))))
	}
	return parts, cut
}

// blocksSize is how many characters the JSON of blocks holds, as Slack
// reads it (no HTML escaping of <, > and &): what messageBudget bounds.
func blocksSize(blocks []slack.Block) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(blocks); err != nil {
		return messageBudget + 1
	}
	return utf8.RuneCount(bytes.TrimSpace(b.Bytes()))
}

// SlackSize describes how a notice fits in Slack: the characters of its
// text, after escaping for mrkdwn, and the number of messages it takes.
type SlackSize struct {
	Text    int // characters of the text
	Escaped int // characters after escaping &, < and >
	Parts   int // Slack messages
	Cut     bool
}

func slackSize(n store.Notification) SlackSize {
	parts, cut := layout(&n, headBlocks(&n, facts{}))
	return SlackSize{Text: utf8.RuneCountInString(n.Body), Escaped: utf8.RuneCountInString(safetext.Mrkdwn(n.Body)),
		Parts: len(parts), Cut: cut}
}

// fallbackText is the plain text Slack shows in notifications and where
// blocks cannot be shown, for part (1-based) of a notice in parts; it is
// mrkdwn, so it is escaped too.
func fallbackText(n store.Notification, part int) string {
	if part > 1 {
		return truncate(safetext.Mrkdwn(fmt.Sprintf("%s (part %d of %d)", n.Subject, part, 1+len(n.MoreBlocks))),
			maxSection)
	}
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
