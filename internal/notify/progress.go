package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// Progress is one outcome of a delivery attempt.
type Progress struct {
	ID          int64     `json:"id"`
	IncidentID  string    `json:"incident_id"`
	Status      string    `json:"status"` // sent, exported, queued (will be tried again), failed, unknown
	Via         string    `json:"via,omitempty"`
	Recipient   string    `json:"recipient,omitempty"`
	Error       string    `json:"error,omitempty"`
	RetryAt     time.Time `json:"retry_at,omitzero"`
	RateLimited bool      `json:"rate_limited,omitempty"`
	// Part and Parts: the Slack message of a notice in several (0 for one).
	Part  int `json:"part,omitempty"`
	Parts int `json:"parts,omitempty"`
	// Uncertain: the attempt may have arrived; it is looked for before it
	// is sent again.
	Uncertain bool `json:"uncertain,omitempty"`
	// Found: an earlier attempt had posted it, so it was not sent again.
	Found bool `json:"found,omitempty"`
	// Checked: a part posted after an uncertain attempt was looked for
	// again, for a second copy.
	Checked bool `json:"checked,omitempty"`
	// Deleted lists the second copies deleted on Slack.
	Deleted []string `json:"deleted,omitempty"`
	// Path is the export's .md file.
	Path string `json:"path,omitempty"`
}

func (p Progress) ref() string { return fmt.Sprintf("#%d (%s)", p.ID, p.IncidentID) }

func (p Progress) String() string {
	at := p.RetryAt.Local().Format("15:04:05")
	deleted := ""
	if len(p.Deleted) > 0 {
		deleted = fmt.Sprintf("; deleted %d second cop%s on Slack", len(p.Deleted), plural(len(p.Deleted), "y", "ies"))
	}
	switch {
	case p.ID == 0:
		return p.Error
	case p.Status == store.NoticeExported:
		return fmt.Sprintf("EXPORTED, NOT DELIVERED: %s for %s is in %s; send it yourself, then "+
			"`irtui notify confirm %d`", p.ref(), p.Recipient, p.Path, p.ID)
	case p.Checked && p.Error != "":
		return fmt.Sprintf("%s: could not look again on Slack for a second copy: %s", p.ref(), p.Error)
	case p.Status == store.NoticeSent && p.Checked:
		if deleted == "" {
			return fmt.Sprintf("Checked %s on Slack again: posted once", p.ref())
		}
		return fmt.Sprintf("Checked %s on Slack again: an earlier attempt had landed late%s", p.ref(), deleted)
	case p.Status == store.NoticeSent && p.Found:
		return fmt.Sprintf("Found %s on Slack (an earlier attempt had posted it), not re-sent%s", p.ref(), deleted)
	case p.Status == store.NoticeSent && p.Via == ViaConsole:
		return fmt.Sprintf("%s is on the console only (no Slack configured, or a drill): nobody was sent it", p.ref())
	case p.Status == store.NoticeSent && p.Via == ViaMail:
		return fmt.Sprintf("Mailed %s to %s", p.ref(), p.Recipient)
	case p.Status == store.NoticeSent:
		s := fmt.Sprintf("Sent %s to %s via %s", p.ref(), p.Recipient, p.Via)
		if p.Parts > 1 {
			s += fmt.Sprintf(" (%d messages)", p.Parts)
		}
		return s + deleted
	case p.RateLimited:
		return fmt.Sprintf("Slack rate-limited %s; trying again at %s", p.ref(), at)
	case p.Status == store.NoticeQueued && p.Checked:
		return fmt.Sprintf("Checked part %d of %s on Slack again%s; the next part follows", p.Part, p.ref(), deleted)
	case p.Status == store.NoticeQueued && p.Found:
		return fmt.Sprintf("Found part %d of %s on Slack (an earlier attempt had posted it), not re-sent%s; the next part follows",
			p.Part, p.ref(), deleted)
	case p.Status == store.NoticeQueued && p.Part > 0 && p.Error == "":
		return fmt.Sprintf("Sent part %d of %d of %s to %s; the rest follows in its thread", p.Part, p.Parts, p.ref(), p.Recipient)
	case p.Status == store.NoticeQueued && p.Uncertain:
		return fmt.Sprintf("%s may have reached %s (%s); it is looked for there at %s and sent again only if it is not found",
			p.ref(), p.Recipient, p.Error, at)
	case p.Status == store.NoticeQueued:
		return fmt.Sprintf("%s not sent yet: %s; trying again at %s", p.ref(), p.Error, at)
	case p.Status == store.NoticeUnknown:
		return fmt.Sprintf("%s OUTCOME UNKNOWN: %s", p.ref(), p.Error)
	default:
		return fmt.Sprintf("%s FAILED: %s", p.ref(), p.Error)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Alert reports whether the outcome needs a person: failed, unknown,
// exported and not delivered, or a second look that failed.
func (p Progress) Alert() bool {
	return p.Status == store.NoticeFailed || p.Status == store.NoticeUnknown || p.Status == store.NoticeExported ||
		p.Checked && p.Error != ""
}

// Report sums up a SendDue or Drain. The counts are of notifications, by
// where each stands at the end: one that failed twice and was then sent
// counts once, as sent. Results lists every outcome on the way.
type Report struct {
	Sent     int `json:"sent"`     // posted to Slack or mailed
	Exported int `json:"exported"` // written to files: NOT delivered
	Console  int `json:"console"`  // on the console only: nobody was sent it
	Retrying int `json:"retrying"` // still queued, to be tried again
	Failed   int `json:"failed"`
	Unknown  int `json:"unknown"`
	// Interrupted: the run was stopped (Ctrl-C) before it was done.
	Interrupted bool       `json:"interrupted,omitempty"`
	Results     []Progress `json:"results"`

	last map[int64]*int // each notification's count
}

func (r *Report) counter(p Progress) *int {
	switch {
	case p.Status == store.NoticeSent && p.Via == ViaConsole:
		return &r.Console
	case p.Status == store.NoticeSent:
		return &r.Sent
	case p.Status == store.NoticeExported:
		return &r.Exported
	case p.Status == store.NoticeQueued:
		return &r.Retrying
	case p.Status == store.NoticeFailed:
		return &r.Failed
	case p.Status == store.NoticeUnknown:
		return &r.Unknown
	}
	return nil
}

func (r *Report) add(p Progress) {
	r.Results = append(r.Results, p)
	if p.ID == 0 {
		return
	}
	if r.last == nil {
		r.last = map[int64]*int{}
	}
	if c := r.last[p.ID]; c != nil {
		*c--
	}
	c := r.counter(p)
	if c != nil {
		*c++
	}
	r.last[p.ID] = c
}

func (r *Report) merge(o Report) {
	for _, p := range o.Results {
		r.add(p)
	}
}

// Summary is the report in one line, for people.
func (r Report) Summary() string {
	parts := []string{fmt.Sprintf("%d sent", r.Sent)}
	if r.Exported > 0 {
		parts = append(parts, fmt.Sprintf("%d EXPORTED, NOT DELIVERED", r.Exported))
	}
	if r.Console > 0 {
		parts = append(parts, fmt.Sprintf("%d on the console only", r.Console))
	}
	parts = append(parts, fmt.Sprintf("%d still queued", r.Retrying), fmt.Sprintf("%d failed", r.Failed),
		fmt.Sprintf("%d unknown", r.Unknown))
	return strings.Join(parts, ", ") + "."
}
