package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// notifier is the outbox writer the incident service calls inside its
// transactions. It needs only the routing settings: credentials are read
// by the worker that sends, so a broken token file never stops anyone
// from declaring an incident.
func (g *globals) notifier(ctx context.Context, st *store.Store, cfg config.Config) *notify.Service {
	return &notify.Service{
		Store:    st,
		Clock:    clock.Real{},
		Config:   cfg,
		Settings: notify.Settings{Channel: strings.TrimSpace(os.Getenv(notify.EnvChannel))},
		Runbook: notify.LibraryLookup(func() *runbook.Library {
			lib, _ := g.library(ctx) // nil when interrupted: no runbook is found
			return lib
		}),
	}
}

// notifySession is what a notify command works with.
type notifySession struct {
	session
	ns *notify.Service
}

func (g *globals) withNotify(cmd *cobra.Command, fn func(s notifySession) error) error {
	return g.withSession(cmd, func(s session) error {
		ns, ok := s.svc.Notifier.(*notify.Service)
		if !ok {
			ns = g.notifier(cmd.Context(), s.svc.Store, s.cfg)
		}
		return fn(notifySession{session: s, ns: ns})
	})
}

func parseNoticeID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(s), "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a notification number (see `irtui notify list`)", s)
	}
	return id, nil
}

func newNotifyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Notifications: review, fill in and approve notices, and deliver the outbox",
		Long: "Notification rules in the runbooks write messages to an outbox when incident events happen.\n" +
			"Stakeholder messages are queued at once; customer and regulator notices are drafts that need their\n" +
			"content filled in and approval by the incident commander (not by whoever drafted or filled them in).\n" +
			"`irtui notify send` delivers what is queued: to Slack (SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL), as .md/.eml\n" +
			"files for mail, or to the console when no Slack is configured. See docs/notifications.md.",
	}
	idCmd := func(use, short string, run func(s notifySession, c *cobra.Command, id int64) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, a []string) error {
				id, err := parseNoticeID(a[0])
				if err != nil {
					return err
				}
				return g.withNotify(c, func(s notifySession) error { return run(s, c, id) })
			}}
	}
	cmd.AddCommand(newNotifyListCmd(g), newNotifyShowCmd(g), newNotifySetCmd(g), newNotifySendCmd(g),
		idCmd("approve ID", "Approve a draft notice and queue it (the approver role's holder only)",
			func(s notifySession, c *cobra.Command, id int64) error {
				if err := s.ns.Approve(c.Context(), s.actor, id); err != nil {
					return err
				}
				what := "Deliver with `irtui notify send`."
				if settings, err := notify.SettingsFromEnv(os.Getenv); err == nil {
					if v, err := s.ns.Get(c.Context(), s.actor, id); err == nil {
						what = "With `irtui notify send`, " + settings.WhatHappensTo(v.Notification) + "."
					}
				}
				fmt.Fprintf(c.OutOrStdout(), "Approved #%d; it is queued. %s\n", id, what)
				return nil
			}),
		idCmd("retry ID", "Queue a failed notification, or one whose outcome is unknown, again",
			func(s notifySession, c *cobra.Command, id int64) error {
				return done(c, s.ns.Retry(c.Context(), s.actor, id),
					"Queued #%d again. Deliver with `irtui notify send`.", id)
			}),
		newNotifyConfirmCmd(g),
	)
	return cmd
}

func newNotifyConfirmCmd(g *globals) *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "confirm ID [--at TIME]",
		Short: "Record that a notification arrived: one whose outcome is unknown, or one exported that you delivered",
		Long: "Record that a notification reached its recipient: one whose outcome is unknown (you checked the\n" +
			"channel or asked the recipient), or one exported as files that you sent or submitted yourself.\n" +
			"It is then not sent again, and it counts as delivered: the customer-notice obligation is met once\n" +
			"every affected customer's notice is. For a Slack message, irtui looks it up on Slack by the key in\n" +
			"its metadata (with SLACK_BOT_TOKEN), so later messages of the incident reply in its thread.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			id, err := parseNoticeID(a[0])
			if err != nil {
				return err
			}
			var when time.Time
			if at != "" {
				if when, err = time.Parse(time.RFC3339, at); err != nil {
					return fmt.Errorf("--at %q: give the time as RFC 3339, such as 2026-03-14T09:30:00+01:00", at)
				}
			}
			return g.withNotify(c, func(s notifySession) error {
				out := c.OutOrStdout()
				v, err := s.ns.Get(c.Context(), s.actor, id)
				if err != nil {
					return err
				}
				conf := notify.Confirmation{At: when}
				found := ""
				if v.Status == store.NoticeUnknown && v.Via == notify.ViaSlack {
					found = lookUpOnSlack(c, s, v.Notification, &conf)
				}
				v, err = s.ns.Confirm(c.Context(), s.actor, id, conf)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "Recorded #%d as delivered to %s.%s\n", id, safetext.Line(v.Recipient), found)
				if v.Status == store.NoticeQueued {
					fmt.Fprintf(out, "The rest of it follows in its thread: deliver with `irtui notify send`.\n")
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "when it was delivered (RFC 3339; default now)")
	return cmd
}

// lookUpOnSlack finds the Slack timestamp of a message whose outcome is
// unknown, by the key in its metadata, for Confirm; it returns what to
// tell the user.
func lookUpOnSlack(c *cobra.Command, s notifySession, n store.Notification, conf *notify.Confirmation) string {
	settings, err := notify.SettingsFromEnv(os.Getenv)
	if err != nil || !settings.BotToken.IsSet() {
		return " It was not looked up on Slack (no SLACK_BOT_TOKEN): later messages of the incident start a new thread."
	}
	w := &notify.Worker{Store: s.svc.Store, Clock: s.svc.Clock, Settings: settings, Org: s.cfg.Org, Actor: s.actor}
	ts, err := w.Locate(c.Context(), n)
	switch {
	case err != nil:
		return " " + safetext.Line(err.Error()) + "; later messages of the incident may start a new thread."
	case ts == "":
		return " It was not found on Slack by its key, so later messages of the incident may start a new thread."
	}
	conf.SlackTS = ts
	return " Found on Slack (ts " + ts + "): later messages of the incident reply in its thread."
}

func newNotifyListCmd(g *globals) *cobra.Command {
	var incidentID string
	var statuses []string
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--incident ID] [--status S]... [--json]",
		Short: "List notifications with their status, recipient and delivery time",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return g.withNotify(c, func(s notifySession) error {
				list, err := s.ns.List(c.Context(), s.actor, notify.Filter{IncidentID: incidentID, Statuses: statuses, Limit: limit})
				if err != nil {
					return err
				}
				if asJSON {
					if list == nil {
						list = []notify.View{}
					}
					return writeJSON(c.OutOrStdout(), list)
				}
				if len(list) == 0 {
					fmt.Fprintln(c.OutOrStdout(), "No notifications.")
					return nil
				}
				// How long a drill's notice has waited is on its drill's clock.
				real, clocks := s.svc.Clock.Now(), map[string]time.Time{}
				now := func(v notify.View) time.Time {
					if !v.Drill {
						return real
					}
					if t, ok := clocks[v.IncidentID]; ok {
						return t
					}
					t := real
					if dc, ok, err := s.svc.Store.DrillClockOf(c.Context(), v.IncidentID); err == nil && ok {
						t = dc.Now(real)
					}
					clocks[v.IncidentID] = t
					return t
				}
				printNoticeList(c.OutOrStdout(), list, now)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&incidentID, "incident", "", "only this incident's notifications")
	f.StringSliceVar(&statuses, "status", nil, "only these statuses (draft, queued, sending, sent, exported, failed, unknown)")
	f.IntVar(&limit, "limit", 500, "at most this many, the newest")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printNoticeList(w io.Writer, list []notify.View, now func(notify.View) time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tINCIDENT\tSTATUS\tAUDIENCE\tTO\tTIME\tSUBJECT")
	for _, v := range list {
		status := v.State
		if v.Alert {
			status = "!" + status
		}
		if v.Status == store.NoticeDraft && len(v.Missing) > 0 {
			status += fmt.Sprintf(" (%d to fill)", len(v.Missing))
		}
		when := "waiting " + roundDur(now(v).Sub(v.TriggeredAt))
		switch {
		case v.Delivered:
			when = "in " + roundDur(v.Latency())
		case !v.SentAt.IsZero():
			when = "at " + roundDur(v.Latency())
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\t%s\t%s\t%s\t%s\n", v.ID, v.IncidentID, status, v.Audience,
			safetext.Line(v.Recipient), when, safetext.Line(v.Subject))
	}
	tw.Flush()
	for _, v := range list {
		if v.Alert {
			fmt.Fprintf(w, "#%d %s: %s\n", v.ID, v.State, safetext.Line(alertText(v)))
		}
	}
}

// alertText says what a person must do about a notification that needs one.
func alertText(v notify.View) string {
	if v.Status == store.NoticeExported {
		return fmt.Sprintf("written to %s, and nobody has received it; send it yourself, then `irtui notify confirm %d`",
			v.ExportPath, v.ID)
	}
	return v.LastError
}

func roundDur(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func newNotifyShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a notification: recipient, status, content fields and the full text",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			id, err := parseNoticeID(a[0])
			if err != nil {
				return err
			}
			return g.withNotify(c, func(s notifySession) error {
				v, err := s.ns.Get(c.Context(), s.actor, id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.OutOrStdout(), v)
				}
				printNotice(c.OutOrStdout(), v, s.cfg.Policy.Location())
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printNotice(w io.Writer, v notify.View, loc *time.Location) {
	t := func(tm time.Time) string {
		if tm.IsZero() {
			return "—"
		}
		return tm.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	line := func(k, val string) {
		if val != "" {
			fmt.Fprintf(w, "%-14s %s\n", k+":", safetext.Line(val))
		}
	}
	status := v.State
	if v.Alert {
		status += "  <-- needs a person"
	}
	fmt.Fprintf(w, "Notification #%d (%s, rule %s, trigger %s)\n", v.ID, v.IncidentID, v.RuleID, v.Trigger)
	line("Status", status)
	line("Audience", v.Audience)
	line("To", v.Recipient)
	line("Language", v.Language)
	if v.ObligationID != "" {
		line("Obligation", v.ObligationID)
	}
	if !v.DueAt.IsZero() {
		line("Due", t(v.DueAt))
	}
	if v.ApproverRole != "" {
		line("Approver", v.ApproverRole)
	}
	line("Drafted by", v.DraftedBy)
	line("Triggered", t(v.TriggeredAt))
	if v.ApprovedBy != "" {
		line("Approved", v.ApprovedBy+" at "+t(v.ApprovedAt))
	}
	switch {
	case v.Delivered && v.ConfirmedBy != "":
		line("Delivered", fmt.Sprintf("%s, recorded by %s, %s after the trigger", t(v.SentAt), v.ConfirmedBy,
			roundDur(v.Latency())))
	case v.Delivered:
		line("Delivered", fmt.Sprintf("%s via %s, %s after the trigger", t(v.SentAt), v.Via, roundDur(v.Latency())))
	case v.Status == store.NoticeExported:
		line("Delivered", "NO: exported only; send it yourself, then `irtui notify confirm "+strconv.FormatInt(v.ID, 10)+"`")
	case !v.SentAt.IsZero():
		line("Delivered", "NO: written to the console only, at "+t(v.SentAt))
	}
	if n := 1 + len(v.MoreBlocks); n > 1 {
		line("Slack parts", fmt.Sprintf("%d messages (%d posted)", n, v.PartsSent))
	}
	if v.Attempts > 0 {
		line("Attempts", fmt.Sprintf("%d (%d failed)", v.Attempts, v.Failures))
	}
	if !v.NextAttemptAt.IsZero() && v.Status == store.NoticeQueued {
		line("Next attempt", t(v.NextAttemptAt))
	}
	line("Last error", v.LastError)
	line("Slack ts", v.SlackTS)
	if len(v.PartTS) > 0 {
		line("Parts ts", strings.Join(v.PartTS, ", "))
	}
	line("Thread", v.ThreadTS)
	if !v.VerifyAt.IsZero() {
		line("Second look", t(v.VerifyAt)+" (for a copy an earlier attempt may have left)")
	}
	line("Message-ID", v.MessageID)
	line("Exported to", v.ExportPath)
	if v.Drill {
		line("Drill", "yes: delivered to the drill channel or console only, never to customers")
	}
	if len(v.Fields) > 0 {
		fmt.Fprintln(w, "\nContent (irtui notify set ID FIELD TEXT):")
		for _, f := range v.Fields {
			val := v.Content[f.ID]
			mark := " "
			if f.Required && strings.TrimSpace(val) == "" {
				mark = "!"
			}
			req := ""
			if f.Required {
				req = ", required"
			}
			fmt.Fprintf(w, " %s %s (%s%s): %s\n", mark, f.ID, safetext.Line(f.Label), req, orDash(safetext.Line(val)))
			if by := v.ContentBy[f.ID]; by != "" {
				fmt.Fprintf(w, "     filled in by %s\n", by)
			}
		}
	}
	if len(v.Requires) > 0 {
		fmt.Fprintf(w, "\nThe obligation %s requires the notice to:\n", v.ObligationID)
		for _, r := range v.Requires {
			fmt.Fprintf(w, "  - %s\n", safetext.Line(r))
		}
		if v.IfLate != "" {
			fmt.Fprintf(w, "  If late: %s\n", safetext.Line(v.IfLate))
		}
	}
	fmt.Fprintf(w, "\nSubject: %s\n\n%s\n", safetext.Line(v.Subject), safetext.Clean(v.Body))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// maxFieldValue is the largest content field value read from standard
// input.
const maxFieldValue = 1 << 20

func newNotifySetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "set ID FIELD VALUE",
		Short: "Fill in a content field of a draft notice (VALUE - reads standard input)",
		Args:  cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, a []string) error {
			id, err := parseNoticeID(a[0])
			if err != nil {
				return err
			}
			value := a[2]
			if value == "-" {
				b, err := io.ReadAll(io.LimitReader(c.InOrStdin(), maxFieldValue+1))
				if err != nil {
					return err
				}
				if len(b) > maxFieldValue {
					// Never store a silently shortened text.
					return errors.New("the value on standard input is larger than 1 MiB; nothing was set")
				}
				value = string(b)
			}
			return g.withNotify(c, func(s notifySession) error {
				v, err := s.ns.SetContent(c.Context(), s.actor, id, a[1], value)
				if err != nil {
					return err
				}
				out := c.OutOrStdout()
				fmt.Fprintf(out, "Set %s of #%d.\n", a[1], id)
				if len(v.Missing) > 0 {
					fmt.Fprintf(out, "Still to fill in: %s\n", strings.Join(v.Missing, "; "))
				} else {
					role := v.ApproverRole
					if role == "" {
						role = notify.DefaultApprover
					}
					fmt.Fprintf(out, "All required content is there; the %s (not you) approves with `irtui notify approve %d`.\n",
						role, id)
				}
				return nil
			})
		},
	}
}

func newNotifySendCmd(g *globals) *cobra.Command {
	var wait, asJSON bool
	cmd := &cobra.Command{
		Use:   "send [--wait]",
		Short: "Deliver queued notifications now (--wait: until nothing is left to send)",
		Long: "Send what is queued: to Slack with SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE) or SLACK_WEBHOOK_URL,\n" +
			"as .md and .eml files in IRTUI_OUTBOX_DIR for mail, or to the console when no Slack is configured.\n" +
			"Deadline reminders that are due are written first. At most one message per second goes to a\n" +
			"channel; rate limits, server errors and timeouts are retried. Without --wait, retries further off\n" +
			"than a few seconds stay queued for the next run. Exits 3 when a notification failed or its\n" +
			"outcome is unknown, and 130 when interrupted (Ctrl-C): the sends under way are finished and\n" +
			"recorded first.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			settings, err := notify.SettingsFromEnv(os.Getenv)
			if err != nil {
				return err
			}
			return g.withNotify(c, func(s notifySession) error {
				if err := s.ns.CheckSender(c.Context(), s.actor); err != nil {
					return err
				}
				if settings.SMTP != nil && s.cfg.Org.Sender() == "" {
					return fmt.Errorf("%s is set, but mail needs a sender: set org.mail_from (or org.contact) "+
						"in the configuration file", notify.EnvSMTPURL)
				}
				out := c.OutOrStdout()
				w := &notify.Worker{Store: s.svc.Store, Clock: s.svc.Clock, Settings: settings, Org: s.cfg.Org,
					Actor: s.actor, Service: s.ns}
				if !asJSON {
					w.Progress = func(p notify.Progress) { fmt.Fprintln(out, safetext.Line(p.String())) }
					fmt.Fprintf(out, "Delivering by %s.\n", settings.Describe())
				}
				if _, err := s.ns.ScanDeadlines(c.Context()); err != nil {
					return err
				}
				run := w.SendDue
				if wait {
					run = w.Drain
				}
				rep, err := run(c.Context())
				interrupted := err != nil && c.Context().Err() != nil
				if err != nil && !interrupted {
					return err
				}
				rep.Interrupted = interrupted
				bg := context.WithoutCancel(c.Context())
				if asJSON {
					if rep.Results == nil {
						rep.Results = []notify.Progress{}
					}
					if err := writeJSON(out, rep); err != nil {
						return err
					}
				} else {
					pending, next, _ := s.svc.Store.OutboxPending(bg)
					fmt.Fprint(out, rep.Summary())
					if pending > 0 && !next.IsZero() {
						fmt.Fprintf(out, " %d still to send or check; next at %s.", pending,
							next.In(s.cfg.Policy.Location()).Format("15:04:05 MST"))
					} else if pending > 0 {
						fmt.Fprintf(out, " %d still to send or check.", pending)
					}
					fmt.Fprintln(out)
					if rep.Exported > 0 {
						fmt.Fprintf(c.ErrOrStderr(), "%d notice(s) were EXPORTED, NOT DELIVERED: send each yourself, then "+
							"`irtui notify confirm ID` (see `irtui notify list --status exported`).\n", rep.Exported)
					}
				}
				if interrupted {
					if !asJSON {
						fmt.Fprintln(c.ErrOrStderr(), "Interrupted. Every send that had started was finished and recorded; "+
							"what is still queued goes out with the next `irtui notify send` or in the app.")
					}
					return exitCode(exitInterrupted)
				}
				if rep.Failed > 0 || rep.Unknown > 0 {
					if !asJSON {
						fmt.Fprintln(c.ErrOrStderr(), "Some notifications need a person: see `irtui notify list --status failed,unknown`.")
					}
					return exitCode(3)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "keep going until every queued notification is sent, failed or unknown")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON report")
	return cmd
}
