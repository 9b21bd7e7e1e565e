package notify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
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
	ViaMail    = "mail"    // SMTP submission (IRTUI_SMTP_URL)
	ViaConsole = "console" // kept in the outbox (and IRTUI_CONSOLE_LOG)
	ViaFile    = "file"    // .md and .eml files in the export folder
)

// message is one notification on its way out: for Slack, one part of it.
type message struct {
	n        store.Notification
	channel  string // the Slack channel, resolved
	threadTS string // reply in this thread
	part     int    // 1-based; a notice too long for one Slack message has several
	parts    int
}

// blocks are the Block Kit blocks of the part.
func (m message) blocks() (json.RawMessage, error) {
	if m.part <= 1 {
		return m.n.Blocks, nil
	}
	if m.part-2 >= len(m.n.MoreBlocks) {
		return nil, permanentError{fmt.Sprintf("part %d of %s was not rendered", m.part, label(&m.n))}
	}
	return m.n.MoreBlocks[m.part-2], nil
}

// receipt is what a transport learned while sending.
type receipt struct {
	ts        string // Slack message timestamp
	path      string // the .md file of a file export
	messageID string // the Message-ID of mail
}

// transport sends one message. Its errors are classified by classify.
type transport interface {
	send(ctx context.Context, m message) (receipt, error)
}

// finder is a transport that can tell whether an attempt at a message
// arrived after all, and remove a second copy: the bot (a webhook and
// mail cannot).
type finder interface {
	// find lists the timestamps of the copies of m posted since since,
	// oldest first, on Slack's clock (see slackBot.find).
	find(ctx context.Context, m message, since time.Time) (ts []string, err error)
	// remove deletes the copy of m posted at ts.
	remove(ctx context.Context, m message, ts string) error
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

// newSlackBot makes the bot's client; now is the worker's clock, which
// Slack's Date headers are compared with.
func newSlackBot(s Settings, timeout time.Duration, now func() time.Time) *slackBot {
	hc := &http.Client{Timeout: timeout, Transport: dateTransport{base: http.DefaultTransport, now: now}}
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if s.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(s.APIURL))
	}
	return &slackBot{api: slack.New(s.BotToken.Reveal(), opts...), ids: map[string]string{}}
}

// noticeEventType is the metadata event type of irtui's messages.
const noticeEventType = "irtui_notice"

// partKey is the idempotency key of one part of a notice: the notice's
// own for the first (or only) part, with "|part N" after it for the rest,
// so each Slack message is recognised on its own.
func partKey(n store.Notification, part int) string {
	if part <= 1 {
		return n.IdempotencyKey
	}
	return fmt.Sprintf("%s|part %d", n.IdempotencyKey, part)
}

// noticeKey is what a message's metadata carries to recognise it later:
// a digest of the part's idempotency key, which is unique per part of a
// notification. A digest rather than the key itself, because metadata is
// readable by every app in the channel, a customer's own apps included in
// a Slack Connect channel, and the key names rules and triggers.
func noticeKey(n store.Notification, part int) string {
	sum := sha256.Sum256([]byte(partKey(n, part)))
	return hex.EncodeToString(sum[:16])
}

func (b *slackBot) send(ctx context.Context, m message) (receipt, error) {
	if m.channel == "" {
		return receipt{}, permanentError{"no Slack channel: set IRTUI_SLACK_CHANNEL or slack.channel in the configuration"}
	}
	raw, err := m.blocks()
	if err != nil {
		return receipt{}, err
	}
	blocks, err := decodeBlocks(raw)
	if err != nil {
		return receipt{}, err
	}
	opts := []slack.MsgOption{slack.MsgOptionText(fallbackText(m.n, m.part), false),
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl(),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: noticeEventType,
			EventPayload: map[string]any{"key": noticeKey(m.n, m.part)}})}
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

// find lists the copies of the message in its channel (or in its
// thread) posted since since, by the key in their metadata:
// conversations.history (conversations.replies for a thread reply) with
// include_all_metadata, newest first, at most lookupMaxPages pages. since
// is on this machine's clock; the window is set on Slack's, from the Date
// of Slack's first answer, so a clock that is minutes off neither hides a
// copy nor widens the look. A channel given by name is found with
// conversations.list first. The bot token needs channels:history and
// groups:history, and channels:read and groups:read for channels given by
// name; without them the look fails, and the worker leaves the outcome to
// a person. An empty result means every message since since was seen.
func (b *slackBot) find(ctx context.Context, m message, since time.Time) ([]string, error) {
	id, err := b.channelID(ctx, m.channel)
	if err != nil {
		return nil, err
	}
	key := noticeKey(m.n, m.part)
	var (
		found  []string
		oldest string // the window's start on Slack's clock, once known
		cursor string
		cl     = &slackClock{}
	)
	ctx = withSlackClock(ctx, cl)
	for range lookupMaxPages {
		var (
			msgs []slack.Message
			more bool
			next string
		)
		if m.threadTS != "" {
			msgs, more, next, err = b.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: id, Timestamp: m.threadTS, Cursor: cursor, Limit: lookupPageSize, IncludeAllMetadata: true})
			if err != nil {
				return nil, fmt.Errorf("conversations.replies: %w", err)
			}
		} else {
			resp, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: id, Cursor: cursor, Limit: lookupPageSize, IncludeAllMetadata: true})
			if err != nil {
				return nil, fmt.Errorf("conversations.history: %w", err)
			}
			msgs, more, next = resp.Messages, resp.HasMore, resp.ResponseMetaData.NextCursor
		}
		if oldest == "" {
			oldest = slackTime(since.Add(cl.offset()))
		}
		reached := false // a message older than the window: history reads newest first
		for _, msg := range msgs {
			if tsBefore(msg.Timestamp, oldest) {
				reached = m.threadTS == "" || reached
				continue
			}
			if msg.Metadata.EventType == noticeEventType && msg.Metadata.EventPayload["key"] == key &&
				!slices.Contains(found, msg.Timestamp) {
				found = append(found, msg.Timestamp)
			}
		}
		if !more || reached {
			slices.SortFunc(found, compareTS)
			return found, nil
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return nil, permanentError{fmt.Sprintf("%s has more messages since %s than irtui looks through (%d)",
		m.channel, since.UTC().Format(time.RFC3339), lookupPageSize*lookupMaxPages)}
}

// remove deletes a second copy with chat.delete (a bot may delete its own
// messages with chat:write). One that is already gone counts as deleted.
func (b *slackBot) remove(ctx context.Context, m message, ts string) error {
	id, err := b.channelID(ctx, m.channel)
	if err != nil {
		return err
	}
	_, _, err = b.api.DeleteMessageContext(ctx, id, ts)
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && se.Err == "message_not_found" {
		return nil
	}
	return err
}

// compareTS orders Slack timestamps ("1700000000.000100") in time.
func compareTS(a, b string) int {
	as, af, _ := strings.Cut(a, ".")
	bs, bf, _ := strings.Cut(b, ".")
	if c := cmp.Compare(len(as), len(bs)); c != 0 {
		return c
	}
	if c := strings.Compare(as, bs); c != 0 {
		return c
	}
	return strings.Compare(af, bf)
}

func tsBefore(ts, oldest string) bool { return compareTS(ts, oldest) < 0 }

// slackClock records Slack's time from the Date header of an answer
// (dateTransport), to set history windows on Slack's clock.
type slackClock struct {
	mu    sync.Mutex
	delta time.Duration // Slack's clock minus ours
	known bool
}

// offset is Slack's clock minus this machine's: zero until an answer
// carried a Date header.
func (c *slackClock) offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.delta
}

func (c *slackClock) observe(date string, local time.Time) {
	t, err := http.ParseTime(date)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		// Date has whole seconds: round our time the same way.
		c.delta, c.known = t.Sub(local.Truncate(time.Second)), true
	}
}

type slackClockKey struct{}

func withSlackClock(ctx context.Context, c *slackClock) context.Context {
	return context.WithValue(ctx, slackClockKey{}, c)
}

// dateTransport hands the Date header of each answer to the slackClock
// in the request's context, if there is one.
type dateTransport struct {
	base http.RoundTripper
	now  func() time.Time
}

func (t dateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if c, ok := r.Context().Value(slackClockKey{}).(*slackClock); ok && err == nil {
		c.observe(resp.Header.Get("Date"), t.now())
	}
	return resp, err
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
	raw, err := m.blocks()
	if err != nil {
		return receipt{}, err
	}
	blocks, err := decodeBlocks(raw)
	if err != nil {
		return receipt{}, err
	}
	no := false
	msg := &slack.WebhookMessage{Text: fallbackText(m.n, m.part), UnfurlLinks: &no, UnfurlMedia: &no}
	if len(blocks) > 0 {
		msg.Blocks = &slack.Blocks{BlockSet: blocks}
	}
	return receipt{}, slack.PostWebhookCustomHTTPContext(ctx, w.url.Reveal(), w.client, msg)
}

// console keeps the message in the outbox, where the app shows it, and
// appends it to IRTUI_CONSOLE_LOG when that is set.
type console struct {
	path string
	now  func() time.Time
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
	_, err = fmt.Fprintf(f, "==== %s  %s  %s  to %s\n%s\n\n%s\n\n", c.now().UTC().Format(time.RFC3339),
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
	now func() time.Time
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
	eml, err := emlFile(n, e.org, e.now())
	if err != nil {
		return receipt{}, err
	}
	if err := writeFile(base+".eml", eml); err != nil {
		return receipt{}, err
	}
	if err := writeFile(base+".md", mdFile(n)); err != nil {
		return receipt{}, err
	}
	return receipt{path: base + ".md", messageID: "<" + messageID(n, e.org) + ">"}, nil
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
func emlFile(n store.Notification, org config.Org, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	from := "irtui <irtui@localhost.invalid>"
	if addr := org.Sender(); addr != "" {
		from = (&mail.Address{Name: safetext.Line(org.Name), Address: addr}).String()
	}
	h("From", from)
	if r := org.ReplyAddress(); r != "" {
		h("Reply-To", r)
	}
	if n.DestKind == store.DestEmail && !n.Drill {
		a, err := mail.ParseAddress(n.Channel)
		if err != nil {
			return nil, permanentError{fmt.Sprintf("the contact of customer %s is not a mail address", n.CustomerID)}
		}
		h("To", a.String())
	}
	h("Subject", mime.QEncoding.Encode("utf-8", safetext.Line(n.Subject)))
	h("Date", now.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+messageID(n, org)+">")
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
