package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/incident"
)

func newReassessCmd(g *globals) *cobra.Command {
	var answersPath, reason string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "reassess ID --answers FILE [--reason R]",
		Short: "Answer an incident's triage questions again when new facts arrive; flags, severity, clocks, checklist and drafts follow",
		Long: "Classify the incident again with its runbook and the new answers (the whole set: an answer left out is\n" +
			"unanswered, so it counts as its worst case), and record the new assessment. Obligations that now apply run\n" +
			"from their anchors (awareness, the declaration, or an anchor recorded for them); those that no longer apply are\n" +
			"recorded as not applicable, with the reason, and their drafts are withdrawn. New flags draft their notices;\n" +
			"steps that now apply join the checklist, open ones that no longer apply are skipped. Lowering the severity\n" +
			"needs --reason and the incident commander or the override permission.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				d, err := s.svc.Head(c.Context(), s.actor, a[0])
				if err != nil {
					return err
				}
				in := d.Incident
				rb, err := g.runbook(c.Context(), in.RunbookID)
				if err != nil {
					return err
				}
				if answersPath == "" {
					return fmt.Errorf("give the new answers with --answers FILE (docs/answers-format.md)")
				}
				answers, err := readAnswers(c, rb, answersPath)
				if err != nil {
					return err
				}
				v, err := classify.Classify(rb, answers, s.cfg.Policy, classify.Events{Aware: in.AwareAt, Classified: in.DeclaredAt}, nil)
				if err != nil {
					return err
				}
				r := incident.NewReassessment(rb, v, answers)
				r.Reason = reason
				res, err := s.svc.Reassess(c.Context(), s.actor, a[0], r)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.OutOrStdout(), res)
				}
				w := c.OutOrStdout()
				fmt.Fprintf(w, "Re-assessed %s: %s\n", a[0], res.Summary())
				now := s.svc.Clock.Now()
				for _, o := range incident.Obligations(res.Incident, d.Obligations, s.cfg.Policy) {
					st := o.At(now)
					if !st.Due.IsZero() {
						fmt.Fprintf(w, "  %-30s %-18s due %s (%s)\n", deadline.Label(o.Rule), o.Rule.ID, deadline.Format(st.Due.In(s.cfg.Policy.Location())), st.State)
					}
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&answersPath, "answers", "", "the new answers file (YAML or JSON); - for standard input")
	readsFile(f, "answers")
	f.StringVar(&reason, "reason", "", "what changed (required when the severity goes down)")
	f.BoolVar(&asJSON, "json", false, "print what changed as JSON")
	return cmd
}

func newLinkCmds(g *globals) []*cobra.Command {
	link := &cobra.Command{
		Use:   "link ID CUSTOMER",
		Short: "Record that an incident affects one more customer; its notices are drafted",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				return done(c, s.svc.LinkCustomer(c.Context(), s.actor, a[0], a[1]),
					"%s is affected by %s; its notices are drafted (irtui notify list --incident %s).", a[1], a[0], a[0])
			})
		},
	}
	var reason string
	unlink := &cobra.Command{
		Use:   "unlink ID CUSTOMER --reason R",
		Short: "Record that an incident does not affect a customer after all; its drafts are withdrawn",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				return done(c, s.svc.UnlinkCustomer(c.Context(), s.actor, a[0], a[1], reason),
					"%s is no longer linked to %s; its drafts are withdrawn, what was sent stays on record.", a[1], a[0])
			})
		},
	}
	unlink.Flags().StringVar(&reason, "reason", "", "why the customer is not affected (required)")
	return []*cobra.Command{link, unlink}
}
