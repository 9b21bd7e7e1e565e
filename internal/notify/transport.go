package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// Ways a notification goes out (store.Notification.Via).
const (
	ViaSlack   = "slack"   // chat.postMessage with the bot token
	ViaWebhook = "webhook" // a Slack incoming webhook
	ViaConsole = "console" // kept in the outbox (and IRTUI_CONSOLE_LOG)
	ViaFile    = "file"    // .md and .eml files in the export folder
)

// message is one notification on its way out.
type message struct {
	n        store.Notification
	channel  string // the Slack channel, resolved
	threadTS string // reply in this thread
}

// receipt is what a transport learned while sending.
type receipt struct {
	ts   string // Slack message timestamp
	path string // the .md file of a file export
}

// transport sends one message. Its errors are classified by classify.
type transport interface {
	send(ctx context.Context, m message) (receipt, error)
}

// finder is a transport that can tell whether an earlier attempt at a
// message arrived after all: the bot (a webhook cannot).
type finder interface {
	// find looks for m among the messages posted since since; ts is the
	// message timestamp of the one found.
	find(ctx context.Context, m message, since time.Time) (ts string, found bool, err error)
}

// permanentError marks an error that no retry can fix.
type permanentError struct{ msg string }

func (e permanentError) Error() string { return e.msg }

func decodeBlocks(raw json.RawMessage) ([]slack.Block, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var b slack.Blocks
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, permanentError{"the stored Slack blocks do not decode: " + err.Error()}
	}
	return b.BlockSet, nil
}

// slackBot posts with chat.postMessage. Every message carries the
// notification's key in its metadata, so that one whose post may or may
// not have arrived (a timeout) can be looked for before it is sent again
// (find).
type slackBot struct {
	api *slack.Client
	mu  sync.Mutex
	ids map[string]string // channel name (lowercase, no "#") -> channel id
}

func newSlackBot(s Settings, hc *http.Client) *slackBot {
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if s.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(s.APIURL))
	}
	return &slackBot{api: slack.New(s.BotToken.Reveal(), opts...), ids: map[string]string{}}
}

// noticeEventType is the metadata event type of irtui's messages.
const noticeEventType = "irtui_notice"

// noticeKey is what a message's metadata carries to recognise it later:
// a digest of the notification's idempotency key, which is unique per
// notification. A digest rather than the key itself, because metadata is
// readable by every app in the channel, a customer's own apps included in
// a Slack Connect channel, and the key names rules and triggers.
func noticeKey(n store.Notification) string {
	sum := sha256.Sum256([]byte(n.IdempotencyKey))
	return hex.EncodeToString(sum[:16])
}

func (b *slackBot) send(ctx context.Context, m message) (receipt, error) {
	if m.channel == "" {
		return receipt{}, permanentError{"no Slack channel: set IRTUI_SLACK_CHANNEL or slack.channel in the configuration"}
	}
	blocks, err := decodeBlocks(m.n.Blocks)
	if err != nil {
		return receipt{}, err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(fallbackText(m.n), false),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: noticeEventType,
			EventPayload: map[string]any{"key": noticeKey(m.n)}})}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if m.threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.threadTS))
	}
	id, ts, err := b.api.PostMessageContext(ctx, m.channel, opts...)
	if err == nil && id != "" {
		b.remember(m.channel, id)
	}
	return receipt{ts: ts}, err
}

// Bounds of a look for an earlier attempt (find).
const (
	lookupPageSize = 200 // messages per conversations.history page
	lookupMaxPages = 10  // pages of history
	listPageSize   = 1000
	listMaxPages   = 20 // pages of conversations.list, to find a channel by name
)

// find looks for the message in its channel (or in its thread) among the
// messages posted since since, by the key in their metadata: with
// conversations.history (conversations.replies for a thread reply),
// include_all_metadata, at most lookupMaxPages pages. A channel given by
// name is found with conversations.list first. The bot token needs
// channels:history and groups:history, and channels:read and groups:read
// for channels given by name; without them the look fails, and the
// worker leaves the outcome to a person. found is false only when every
// message since since was seen.
func (b *slackBot) find(ctx context.Context, m message, since time.Time) (ts string, found bool, err error) {
	id, err := b.channelID(ctx, m.channel)
	if err != nil {
		return "", false, err
	}
	key := noticeKey(m.n)
	oldest := slackTime(since)
	cursor := ""
	for range lookupMaxPages {
		var (
			msgs []slack.Message
			more bool
			next string
		)
		if m.threadTS != "" {
			msgs, more, next, err = b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: id, Timestamp: m.threadTS, Cursor: cursor, Oldest: oldest, Inclusive: true,
				Limit: lookupPageSize, IncludeAllMetadata: true})
			if err != nil {
				return "", false, fmt.Errorf("conversations.replies: %w", err)
			}
		} else {
			resp, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: id, Cursor: cursor, Oldest: oldest, Inclusive: true, Limit: lookupPageSize,
				IncludeAllMetadata: true})
			if err != nil {
				return "", false, fmt.Errorf("conversations.history: %w", err)
			}
			msgs, more, next = resp.Messages, resp.HasMore, resp.ResponseMetaData.NextCursor
		}
		for _, msg := range msgs {
			if msg.Metadata.EventType == noticeEventType && msg.Metadata.EventPayload["key"] == key {
				return msg.Timestamp, true, nil
			}
		}
		if !more {
			return "", false, nil
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return "", false, permanentError{fmt.Sprintf("%s has more messages since %s than irtui looks through (%d)",
		m.channel, since.UTC().Format(time.RFC3339), lookupPageSize*lookupMaxPages)}
}

// slackTime is t as a Slack timestamp ("1700000000.000000").
func slackTime(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// isChannelID reports whether a channel is given by id (C0123456789; G or
// D for older private channels and direct messages: nine characters or
// more) rather than by name.
func isChannelID(ch string) bool {
	if len(ch) < 9 || (ch[0] != 'C' && ch[0] != 'G' && ch[0] != 'D') {
		return false
	}
	for i := 1; i < len(ch); i++ {
		if c := ch[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func channelName(ch string) string { return strings.ToLower(strings.TrimPrefix(ch, "#")) }

func (b *slackBot) remember(ch, id string) {
	if isChannelID(ch) {
		return
	}
	b.mu.Lock()
	b.ids[channelName(ch)] = id
	b.mu.Unlock()
}

// channelID is the id of a channel given by id or by name. Reading a
// channel's history needs its id; a name is looked up in what earlier
// posts answered, else with conversations.list.
func (b *slackBot) channelID(ctx context.Context, ch string) (string, error) {
	if isChannelID(ch) {
		return ch, nil
	}
	name := channelName(ch)
	b.mu.Lock()
	id, ok := b.ids[name]
	b.mu.Unlock()
	if ok {
		return id, nil
	}
	cursor := ""
	for range listMaxPages {
		chans, next, err := b.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{Cursor: cursor,
			ExcludeArchived: true, Limit: listPageSize, Types: []string{"public_channel", "private_channel"}})
		if err != nil {
			return "", fmt.Errorf("conversations.list: %w", err)
		}
		for _, c := range chans {
			if strings.EqualFold(c.Name, name) {
				b.remember(ch, c.ID)
				return c.ID, nil
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return "", permanentError{fmt.Sprintf("channel %s is not among the channels the bot can list", ch)}
}

// webhook posts to an incoming webhook, which has a fixed channel and
// returns no timestamp (so no threads).
type webhook struct {
	url    Secret
	client *http.Client
}

func (w *webhook) send(ctx context.Context, m message) (receipt, error) {
	blocks, err := decodeBlocks(m.n.Blocks)
	if err != nil {
		return receipt{}, err
	}
	no := false
	msg := &slack.WebhookMessage{Text: fallbackText(m.n), UnfurlLinks: &no, UnfurlMedia: &no}
	if len(blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: blocks}
	}
	return receipt{}, slack.PostWebhookCustomHTTPContext(ctx, w.url.Reveal(), w.client, msg)
}

// console keeps the message in the outbox, where the app shows it, and
// appends it to IRTUI_CONSOLE_LOG when that is set.
type console struct {
	path string
	mu   sync.Mutex
}

func (c *console) send(_ context.Context, m message) (receipt, error) {
	if c.path == "" {
		return receipt{}, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return receipt{}, fmt.Errorf("console log: %w", err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return receipt{}, fmt.Errorf("console log: %w", err)
	}
	n := m.n
	_, err = fmt.Fprintf(f, "==== %s  %s  %s  to %s\n%s\n\n%s\n\n", time.Now().UTC().Format(time.RFC3339),
		n.IncidentID, label(&n), safetext.Line(n.Recipient), n.Subject, n.Body)
	if err != nil {
		return receipt{}, fmt.Errorf("console log: %w", err)
	}
	return receipt{}, nil
}

// fileExport writes a notice as Markdown (to read and paste) and as an
// RFC 5322 message (.eml, to open in a mail program and send), both mode
// 0600 in a folder of mode 0700.
type fileExport struct {
	dir string
	org config.Org
}

func (e *fileExport) send(_ context.Context, m message) (receipt, error) {
	if e.dir == "" {
		return receipt{}, permanentError{"no export folder: set IRTUI_OUTBOX_DIR"}
	}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		return receipt{}, fmt.Errorf("export folder: %w", err)
	}
	n := m.n
	who := n.CustomerID
	if who == "" {
		who = n.Audience
	}
	base := filepath.Join(e.dir, fmt.Sprintf("%s-%d-%s", slug(n.IncidentID), n.ID, slug(who)))
	eml, err := emlFile(n, e.org)
	if err != nil {
		return receipt{}, err
	}
	if err := writeFile(base+".eml", eml); err != nil {
		return receipt{}, err
	}
	if err := writeFile(base+".md", mdFile(n)); err != nil {
		return receipt{}, err
	}
	return receipt{path: base + ".md"}, nil
}

// writeFile replaces path atomically with data, mode 0600.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".irtui-export-*")
	if err != nil {
		return fmt.Errorf("export %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("export %s: %w", filepath.Base(path), err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	for _, err := range []error{werr, serr, cerr} {
		if err != nil {
			return fmt.Errorf("export %s: %w", filepath.Base(path), err)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("export %s: %w", filepath.Base(path), err)
	}
	return nil
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Trim(b.String(), ".")
	if out == "" {
		return "notice"
	}
	return out
}

// mdFile is the Markdown export: a short header of facts, then the text.
func mdFile(n store.Notification) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", n.Subject)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "- **%s:** %s\n", k, safetext.Line(v))
		}
	}
	line("Incident", n.IncidentID)
	line("Notification", fmt.Sprintf("#%d (%s)", n.ID, n.RuleID))
	line("To", n.Recipient)
	line("Language", n.Language)
	if n.ObligationID != "" {
		ob := n.ObligationID
		if !n.DueAt.IsZero() {
			ob += ", due " + n.DueAt.UTC().Format(time.RFC3339)
		}
		line("Obligation", ob)
	}
	if n.ApprovedBy != "" {
		line("Approved by", n.ApprovedBy+" at "+n.ApprovedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "\n---\n\n%s\n", n.Body)
	return b.Bytes()
}

// emlFile is the mail export. Header values come from the directory and
// the rendered subject, which hold no line breaks (safetext.Line), so they
// cannot add headers.
func emlFile(n store.Notification, org config.Org) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	from := "irtui <irtui@localhost.invalid>"
	if a, err := mail.ParseAddress(strings.TrimSpace(org.Contact)); err == nil {
		if a.Name == "" {
			a.Name = safetext.Line(org.Name)
		}
		from = a.String()
	}
	h("From", from)
	if n.DestKind == store.DestEmail && !n.Drill {
		a, err := mail.ParseAddress(n.Channel)
		if err != nil {
			return nil, permanentError{fmt.Sprintf("the contact of customer %s is not a mail address", n.CustomerID)}
		}
		h("To", a.String())
	}
	h("Subject", mime.QEncoding.Encode("utf-8", safetext.Line(n.Subject)))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	sum := sha256.Sum256([]byte(n.IdempotencyKey))
	h("Message-ID", fmt.Sprintf("<irtui.%d.%s@irtui.invalid>", n.ID, hex.EncodeToString(sum[:8])))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Content-Language", slug(n.Language))
	h("X-Irtui-Incident", slug(n.IncidentID))
	h("X-Irtui-Notification", fmt.Sprint(n.ID))
	if n.DestKind == store.DestSlack {
		h("X-Irtui-Deliver-To", "Slack "+safetext.Line(n.Channel))
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(n.Body, "\n", "\r\n") + "\r\n")); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
