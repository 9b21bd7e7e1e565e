package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/strictyaml"
	"github.com/irtui/irtui/internal/tabletop"
	"github.com/spf13/cobra"
)

func newRunbooksCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runbooks",
		Short: "List, read and lint runbooks",
	}
	var listJSON, showJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the runbooks (bundled and from --runbooks folders)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lib, err := g.library(cmd.Context())
			if err != nil {
				return err
			}
			if listJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"runbooks": summaries(lib), "failed": nonNil(lib.Failed)})
			}
			printRunbookList(cmd.OutOrStdout(), lib)
			warnFailed(cmd, lib)
			return nil
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one runbook: questions, rules, roles, steps and notifications",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rb, err := g.runbook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if showJSON {
				return writeJSON(cmd.OutOrStdout(), rb)
			}
			printRunbook(cmd.OutOrStdout(), rb)
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	lint := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Check runbook files; prints path:line:col: message per problem and exits 1 if any",
		Long: "Check runbook files or folders. With no PATH, checks the bundled runbooks and the --runbooks folders.\n" +
			"Every problem is printed as path:line:col: message; the exit status is 1 if there is any.",
		RunE: func(cmd *cobra.Command, args []string) error {
			probs, err := tabletop.Lint(cmd.Context(), args, g.loadOptions())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, p := range probs {
				fmt.Fprintln(out, oneLine(p.String())) // problems quote the files
			}
			if len(probs) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) found\n", len(probs))
				return exitCode(1)
			}
			return nil
		},
	}
	annotate(lint, sshPathArgs)
	cmd.AddCommand(list, show, lint)
	return cmd
}

type runbookSummary struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Version  string `json:"version"`
	Category string `json:"category"`
	Source   string `json:"source"`
	Bundled  bool   `json:"bundled"`
	Replaces bool   `json:"replaces_bundled"`
}

func summaries(lib *runbook.Library) []runbookSummary {
	out := make([]runbookSummary, 0, len(lib.Runbooks))
	for _, rb := range lib.Runbooks {
		out = append(out, runbookSummary{ID: rb.ID, Title: rb.Title, Version: rb.Version,
			Category: rb.Category.String(), Source: rb.Source.Path, Bundled: rb.Source.Bundled, Replaces: rb.Source.Replaces})
	}
	return out
}

func nonNil(ps strictyaml.Problems) strictyaml.Problems {
	if ps == nil {
		return strictyaml.Problems{}
	}
	return ps
}

func printRunbookList(w io.Writer, lib *runbook.Library) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tVERSION\tCATEGORY\tSOURCE")
	for _, s := range summaries(lib) {
		src := "bundled"
		if !s.Bundled {
			src = s.Source
			if s.Replaces {
				src += " (replaces bundled)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, oneLine(s.Title), oneLine(s.Version), s.Category, oneLine(src))
	}
	tw.Flush()
}

// oneLine makes text from a runbook file safe for the terminal, on one line.
func oneLine(s string) string { return safetext.Line(s) }

func printRunbook(w io.Writer, rb *runbook.Runbook) {
	fmt.Fprintf(w, "%s  (%s, version %s)\n", oneLine(rb.Title), rb.ID, oneLine(rb.Version))
	fmt.Fprintf(w, "Owner: %s   Category: %s   Attack vector: %s\n", oneLine(rb.Owner), rb.Category, rb.AttackVector)
	fmt.Fprintf(w, "Source: %s\n\n", oneLine(rb.Source.Path))
	fmt.Fprintln(w, safetext.Clean(strings.TrimSpace(rb.Summary)))
	for _, u := range rb.Uses {
		line := "\nShared assessment: " + u.Assessment
		if a := u.Shared(); a != nil {
			line += " — " + oneLine(a.Title)
			if len(a.Policy) > 0 {
				line += " (asked only with " + strings.Join(a.Policy, ", ") + ")"
			}
		}
		fmt.Fprintln(w, line)
		for _, id := range slices.Sorted(maps.Keys(u.With)) {
			fmt.Fprintf(w, "  %s = %s\n", id, oneLine(u.With[id]))
		}
	}
	fmt.Fprintln(w, "\nTriage questions:")
	for _, q := range rb.Questions {
		from := ""
		if q.From != "" {
			from = "  (" + q.From + ")"
		}
		fmt.Fprintf(w, "  %s [%s] %s%s\n", q.ID, q.Type, oneLine(q.Text), from)
		for _, c := range q.Choices {
			fmt.Fprintf(w, "      - %s: %s\n", oneLine(c.Value), oneLine(c.Label))
		}
	}
	fmt.Fprintln(w, "\nIncident when:")
	for _, r := range rb.Rules.Incident {
		fmt.Fprintf(w, "  %s   (%s)\n", oneLine(r.When), oneLine(r.Because))
	}
	fmt.Fprintln(w, "Severity:")
	for _, r := range rb.Rules.Severity {
		fmt.Fprintf(w, "  %s when %s   (%s)\n", r.Level, oneLine(r.When), oneLine(r.Because))
	}
	if len(rb.Rules.Flags) > 0 {
		fmt.Fprintln(w, "Flags:")
		for _, r := range rb.Rules.Flags {
			fmt.Fprintf(w, "  %s when %s   (%s)\n", r.Flag, oneLine(r.When), oneLine(r.Because))
		}
	}
	fmt.Fprintln(w, "\nRoles:")
	for _, r := range rb.Roles {
		fmt.Fprintf(w, "  %s: %s\n", r.ID, oneLine(r.Title))
		for _, d := range r.Duties {
			fmt.Fprintf(w, "      - %s\n", oneLine(d))
		}
	}
	for _, ph := range rb.Phases {
		fmt.Fprintf(w, "\n%s:\n", oneLine(ph.Title))
		for _, st := range ph.Steps {
			req := "required"
			if st.Optional {
				req = "optional"
			}
			if st.Target != "" {
				req += ", within " + st.Target
			}
			fmt.Fprintf(w, "  [ ] %s  %s  (%s, %s)\n", st.ID, oneLine(st.Title), st.Role, req)
			if st.When != "" {
				fmt.Fprintf(w, "      only when %s\n", oneLine(st.When))
			}
		}
	}
	if len(rb.Notify) > 0 {
		fmt.Fprintln(w, "\nNotifications:")
		for _, n := range rb.Notify {
			fmt.Fprintf(w, "  %s → %s on %s", n.ID, n.Audience, n.On)
			if n.Obligation != "" {
				fmt.Fprintf(w, " (obligation %s)", n.Obligation)
			}
			if n.Approver != "" {
				fmt.Fprintf(w, ", approved by %s", n.Approver)
			}
			fmt.Fprintln(w)
		}
	}
}

// writeJSON is the one way the CLI writes JSON (--json, --format json).
// Characters a terminal or a log viewer could act on or that disguise
// text (C1 controls, bidirectional overrides, invisible characters) are
// written as \u escapes, whatever the text came from (safetext.JSON).
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(safetext.JSON(b.Bytes()))
	return err
}
