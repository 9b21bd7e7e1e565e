package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/contact"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/strictyaml"
	"github.com/spf13/cobra"
)

func validateOptions() runbook.ValidateOptions {
	return runbook.ValidateOptions{Obligation: func(id string) bool { return deadline.IsObligationID(id) },
		PolicySwitch: deadline.IsPolicySwitch}
}

func (g *globals) loadConfig(ctx context.Context) (config.Config, error) {
	if g.remote != nil {
		return g.remote.cfg, nil
	}
	// IRTUI_AUDIT_SLACK_CHANNEL overrides audit.slack_channel (see
	// witnessOptions) and follows the same rule.
	if v := os.Getenv("IRTUI_AUDIT_SLACK_CHANNEL"); v != "" {
		if err := contact.SlackChannel(v); err != nil {
			return config.Config{}, fmt.Errorf("IRTUI_AUDIT_SLACK_CHANNEL: %w", err)
		}
	}
	return config.Load(ctx, g.config)
}

func newClassifyCmd(g *globals) *cobra.Command {
	var rbID, answersPath, awareAt string
	var anchors []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "classify --runbook ID [--answers FILE] [--aware-at TIME] [--json]",
		Short: "Classify an event: verdict, rationale and every notification deadline",
		Long: "Evaluate a runbook's rules on an answers file (YAML or JSON: question id to answer) and show the verdict —\n" +
			"incident or event, category, severity, flags — with the rule and answers behind each part, and every\n" +
			"regulatory obligation that follows under the configured policy, with its due time.\n" +
			"Unanswered questions count as their worst case. See docs/answers-format.md and docs/deadlines.md.\n\n" +
			"--anchor NAME=TIME sets a moment a clock runs from (repeatable), as `irtui incident anchor` records it\n" +
			"for an incident: " + strings.Join(deadline.AnchorNames(), ", ") + ".\n\n" +
			"Known obligations: " + strings.Join(deadline.RuleIDs(), ", "),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.loadConfig(cmd.Context())
			if err != nil {
				return err
			}
			rb, err := g.runbook(cmd.Context(), rbID)
			if err != nil {
				return err
			}
			answers, err := readAnswers(cmd, rb, answersPath)
			if err != nil {
				return err
			}
			now := time.Now()
			aware, err := parseTime(awareAt, now, cfg.Policy.Location())
			if err != nil {
				return err
			}
			ev := classify.Events{Aware: aware, Classified: now, Extra: map[string]time.Time{}}
			for _, a := range anchors {
				name, at, ok := strings.Cut(a, "=")
				kind, known := deadline.AnchorByName(name)
				if !ok || !known {
					return fmt.Errorf("bad --anchor %q: use NAME=TIME with NAME one of %s", a, strings.Join(deadline.AnchorNames(), ", "))
				}
				t, err := parseTime(strings.TrimSpace(at), now, cfg.Policy.Location())
				if err != nil {
					return fmt.Errorf("--anchor %s: %w", name, err)
				}
				if kind.Event == deadline.EventAware {
					ev.Aware = t
				}
				ev.Extra[kind.Event] = t
			}
			v, err := classify.Classify(rb, answers, cfg.Policy, ev, nil)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), v)
			}
			printVerdict(cmd.OutOrStdout(), v, now)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&anchors, "anchor", nil, "a recorded moment a clock runs from, NAME=TIME (repeatable), such as materiality-determined=\"2026-04-16 18:00\"")
	cmd.Flags().StringVar(&rbID, "runbook", "", "runbook id (see `irtui runbooks list`)")
	cmd.Flags().StringVar(&answersPath, "answers", "", "answers file, YAML or JSON; - for standard input")
	readsFile(cmd.Flags(), "answers")
	cmd.Flags().StringVar(&awareAt, "aware-at", "", "when you became aware: RFC 3339, or YYYY-MM-DD HH:MM in the policy's time zone (default now)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("runbook")
	return cmd
}

// readAnswers reads an answers file, or the command's standard input for
// "-"; with no path every question is unanswered and assumed the worst.
func readAnswers(cmd *cobra.Command, rb *runbook.Runbook, path string) (classify.Answers, error) {
	if path == "" {
		return classify.Answers{}, nil
	}
	name, data, err := readInput(cmd, strictyaml.Answers, path)
	if err != nil {
		return nil, err
	}
	return classify.ParseAnswers(rb, name, data)
}

// readInput reads an input file of kind, or for "-" the command's
// standard input (called "stdin" in messages): over SSH that is how a
// file on the client's side comes in. It returns the name to report
// problems under.
func readInput(cmd *cobra.Command, kind strictyaml.Kind, path string) (string, []byte, error) {
	if path != "-" {
		data, err := strictyaml.ReadFile(cmd.Context(), kind, path)
		return path, data, err
	}
	// The same size limit as a file of the kind; it stops waiting for
	// input when the command is interrupted.
	data, err := strictyaml.ReadStream(cmd.Context(), kind, "stdin", cmd.InOrStdin())
	return "stdin", data, err
}

// parseTime reads RFC 3339 or "YYYY-MM-DD HH:MM" in loc; empty means now.
// A wall-clock time that occurs twice (the autumn clock change) is the
// earlier instant; one that does not exist is refused (deadline.ParseTime).
func parseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if s == "" {
		return now, nil
	}
	return deadline.ParseTime(s, loc)
}

func printVerdict(w io.Writer, v classify.Verdict, now time.Time) {
	kind := "EVENT (not an incident)"
	if v.Incident {
		kind = "INCIDENT"
	}
	fmt.Fprintf(w, "Verdict:   %s\n", kind)
	fmt.Fprintf(w, "Severity:  %s\n", v.Severity)
	fmt.Fprintf(w, "Category:  %s   Attack vector: %s\n", v.Category, v.AttackVector)
	if set := sortedFlags(v.Flags); len(set) > 0 {
		fmt.Fprintf(w, "Flags:     %s\n", strings.Join(set, ", "))
	}
	if len(v.Assumed) > 0 {
		fmt.Fprintf(w, "Assumed:   %s unanswered, taken as the worst case\n", strings.Join(v.Assumed, ", "))
	}
	for _, a := range v.Assessments {
		if a.Level == "" {
			continue
		}
		decided := "no factor decided it: the default"
		if !a.ByDefault {
			decided = "decided by " + strings.Join(a.Decided, ", ")
		}
		fmt.Fprintf(w, "%-10s %s (%s) — %s\n", a.Name+":", a.Level, decided, safetext.Line(a.Label))
	}
	fmt.Fprintln(w, "\nWhy:")
	for _, r := range v.Rationale {
		// The texts and rules come from runbook files, the answers from an
		// answers file.
		fmt.Fprintf(w, "  - [%s] %s\n", r.Part, safetext.Line(r.Text))
		if r.Rule != "" {
			fmt.Fprintf(w, "      rule:    %s\n", safetext.Line(strings.Join(strings.Fields(r.Rule), " ")))
		}
		if len(r.Answers) > 0 && r.Part != "assumed" {
			fmt.Fprintf(w, "      answers: %s\n", safetext.Line(strings.Join(r.Answers, ", ")))
		}
		if len(r.Assumed) > 0 {
			fmt.Fprintf(w, "      assumed: %s (unanswered)\n", strings.Join(r.Assumed, ", "))
		}
	}
	fmt.Fprintln(w)
	if !v.Incident {
		fmt.Fprintln(w, "Obligations: none — an event that is not an incident starts no notification clock.")
		return
	}
	if len(v.Obligations) == 0 {
		fmt.Fprintln(w, "Obligations: none under the configured policy.")
		return
	}
	fmt.Fprintln(w, "Obligations:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tDUE\tIN\tSTATE\tFROM\tWHAT")
	for _, o := range v.Obligations {
		st := o.At(now)
		due, left := "—", "—"
		switch {
		case !st.Due.IsZero():
			due = deadline.Format(st.Due)
			left = humanDuration(st.Remaining)
			if o.Rule.Soft {
				due += " (target)"
			}
			if o.Rule.Info {
				due += " (theirs)"
			}
		case o.WaitingFor != "":
			due = "after " + o.WaitingFor
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", o.Rule.ID, due, left, st.State, anchorOf(o), o.Rule.Title)
	}
	tw.Flush()
	if len(v.Warnings) > 0 {
		fmt.Fprintln(w)
		for _, wn := range v.Warnings {
			fmt.Fprintf(w, "WARNING: %s\n", safetext.Line(wn))
		}
	}
	fmt.Fprintln(w)
	for _, o := range v.Obligations {
		fmt.Fprintf(w, "%s — to %s (%s)\n", o.Rule.ID, o.Rule.Recipient, o.Rule.Source)
		for _, c := range o.Rule.Content {
			fmt.Fprintf(w, "    must contain: %s\n", c.Text)
		}
		for _, n := range o.Notes {
			fmt.Fprintf(w, "    note: %s\n", n)
		}
	}
}

// anchorOf says which anchor an obligation's clock runs from; a fallback
// is marked with "*" (its note says what is missing).
func anchorOf(o deadline.Obligation) string {
	switch {
	case o.Anchor == "":
		return "—"
	case o.Fallback:
		return o.Anchor + "*"
	}
	return o.Anchor
}

func sortedFlags(flags map[string]bool) []string {
	var out []string
	for f, on := range flags {
		if on {
			out = append(out, f)
		}
	}
	sortStrings(out)
	return out
}

// humanDuration shows a remaining time like "71h 58m" or "-2h 05m".
func humanDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	h := (d % (24 * time.Hour)) / time.Hour
	m := (d % time.Hour) / time.Minute
	if days > 0 {
		return fmt.Sprintf("%s%dd %02dh", sign, days, h)
	}
	return fmt.Sprintf("%s%dh %02dm", sign, h, m)
}
