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

// slackBot posts with chat.postMessage.
type slackBot struct{ api *slack.Client }

func newSlackBot(s Settings, hc *http.Client) *slackBot {
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if s.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(s.APIURL))
	}
	return &slackBot{api: slack.New(s.BotToken.Reveal(), opts...)}
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
		slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl()}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if m.threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(m.threadTS))
	}
	_, ts, err := b.api.PostMessageContext(ctx, m.channel, opts...)
	return receipt{ts: ts}, err
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
