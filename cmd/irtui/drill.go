package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/tabletop"
)

// drillSession is what a drill command works with.
type drillSession struct {
	g     *globals
	cmd   *cobra.Command
	svc   *incident.Service // on the wall clock, with the notifier
	cfg   config.Config
	deps  tabletop.Deps
	actor identity.Actor
	run   *tabletop.Run // the drill the console plays
}

func (g *globals) withDrill(cmd *cobra.Command, fn func(s *drillSession) error) error {
	return g.withSession(cmd, func(s session) error {
		lib := g.library()
		deps := tabletop.Deps{Store: s.svc.Store, Runbooks: lib, Policy: s.cfg.Policy, Real: clock.Real{}}
		return fn(&drillSession{g: g, cmd: cmd, svc: s.svc, cfg: s.cfg, deps: deps, actor: s.actor})
	})
}

// withRun is withDrill for a command about one run: it opens the run first.
func (g *globals) withRun(cmd *cobra.Command, id string, fn func(s *drillSession, r *tabletop.Run) error) error {
	return g.withDrill(cmd, func(s *drillSession) error {
		r, err := tabletop.Open(cmd.Context(), s.deps, id)
		if err != nil {
			return err
		}
		return fn(s, r)
	})
}

// live wires a drill's incident into the notification outbox, on the
// drill clock, so drill notices are drafted (to the drill channel) and
// approved in drill time.
func (s *drillSession) live() {
	base := s.svc
	s.deps.NewService = drillServices(base)
	s.deps.Approve = func(ctx context.Context, actor identity.Actor, incidentID, rule string) error {
		ns, ok := base.Notifier.(*notify.Service)
		if !ok {
			return fmt.Errorf("notifications are not set up")
		}
		// The notifier of the run's service carries the drill clock.
		if run := s.run; run != nil {
			if drillNS, ok := run.Service().Notifier.(*notify.Service); ok {
				ns = drillNS
			}
		}
		list, err := s.deps.Store.ListNotifications(ctx, store.NotificationFilter{IncidentID: incidentID,
			Statuses: []string{store.NoticeDraft}})
		if err != nil {
			return err
		}
		n := 0
		for _, no := range list {
			if no.RuleID == rule {
				if err := ns.Approve(ctx, actor, no.ID); err != nil {
					return err
				}
				n++
			}
		}
		if n == 0 {
			return fmt.Errorf("there is no draft of %s on %s to approve (`irtui notify list --incident %s`)", rule, incidentID, incidentID)
		}
		return nil
	}
}

// drillServices makes copies of the incident service that keep time on a
// drill's clock, notifications included.
func drillServices(base *incident.Service) func(clock.Clock) *incident.Service {
	return func(c clock.Clock) *incident.Service {
		svc := *base
		svc.Clock = c
		if ns, ok := base.Notifier.(*notify.Service); ok {
			cp := *ns
			cp.Clock = c
			svc.Notifier = &cp
		}
		return &svc
	}
}

func newDrillCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Table-top drills: replay scenarios, score the response, keep the lessons",
		Long: "Run a table-top exercise against the real runbooks: the scenario's injects arrive on a drill clock (real time,\n" +
			"accelerated, inject by inject, or headless with a script of actions), the team works a drill-flagged incident,\n" +
			"and every expected action is scored met, late or missed. See docs/drills.md.",
	}
	cmd.AddCommand(newDrillListCmd(g), newDrillRunCmd(g), newDrillResumeCmd(g), newDrillAbandonCmd(g),
		newDrillScoreCmd(g), newDrillReportCmd(g), newDrillFromIncidentCmd(g), newDrillActionsCmd(g),
		newDrillRetroCmd(g), newDrillMarkCmd(g), newDrillRateCmd(g), newDrillObserveCmd(g))
	return cmd
}

// scenarios loads the bundled and folder scenarios.
func (g *globals) scenarios() *runbook.ScenarioLibrary {
	return tabletop.Load(g.loadOptions(), g.library())
}

// scenario finds a scenario by id, or reads a scenario file.
func (g *globals) scenario(arg string) (*runbook.Scenario, error) {
	if st, err := os.Stat(arg); err == nil && !st.IsDir() && (strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")) {
		data, err := os.ReadFile(arg)
		if err != nil {
			return nil, err
		}
		sc, probs := runbook.ParseScenario(arg, data, g.library().Get, validateOptions())
		if probs != nil {
			return nil, probs
		}
		return sc, nil
	}
	lib := g.scenarios()
	if sc, ok := lib.Get(arg); ok {
		return sc, nil
	}
	ids := make([]string, 0, len(lib.Scenarios))
	for _, sc := range lib.Scenarios {
		ids = append(ids, sc.ID)
	}
	msg := fmt.Sprintf("no scenario %q; known scenarios: %s", arg, strings.Join(ids, ", "))
	if len(lib.Failed) > 0 {
		msg += " (some scenario files did not load: run `irtui runbooks lint`)"
	}
	return nil, errors.New(msg)
}

func newDrillListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the scenarios and the recent drill runs",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return g.withDrill(c, func(s *drillSession) error {
				lib := g.scenarios()
				runs, err := s.deps.Store.DrillRuns(c.Context(), store.DrillRunFilter{Limit: 20})
				if err != nil {
					return err
				}
				if asJSON {
					scs := lib.Scenarios
					if scs == nil {
						scs = []*runbook.Scenario{}
					}
					return writeJSON(c.OutOrStdout(), map[string]any{"scenarios": scs, "runs": runs, "failed": nonNil(lib.Failed)})
				}
				w := c.OutOrStdout()
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "SCENARIO\tRUNBOOK\tINJECTS\tLENGTH\tTITLE")
				for _, sc := range lib.Scenarios {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", sc.ID, sc.Runbook, len(sc.Injects),
						strings.TrimPrefix(runbook.FormatOffset(sc.Length), "T+"), safetext.Line(sc.Title))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if len(runs) > 0 {
					fmt.Fprintln(w)
					tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "RUN\tSCENARIO\tSTATUS\tINCIDENT\tSTARTED\tBY")
					for _, r := range runs {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.ScenarioID, r.Status, drillDash(r.IncidentID),
							r.StartedAt.In(s.cfg.Policy.Location()).Format("2006-01-02 15:04"), safetext.Line(r.CreatedBy))
					}
					if err := tw.Flush(); err != nil {
						return err
					}
				}
				if len(lib.Failed) > 0 {
					fmt.Fprintf(c.ErrOrStderr(), "Some scenario files did not load (run `irtui runbooks lint`):\n")
					for _, p := range lib.Failed {
						fmt.Fprintf(c.ErrOrStderr(), "  %s\n", p)
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func drillDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// parseSpeed reads --speed: a number of drill seconds per real second,
// or "max" for a headless run.
func parseSpeed(s string) (speed float64, headless bool, err error) {
	if strings.EqualFold(s, "max") {
		return 0, true, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 10000 {
		return 0, false, fmt.Errorf("bad --speed %q: use a number from 0.1 to 10000 (60 plays an hour a minute) or max", s)
	}
	return f, false, nil
}

func newDrillRunCmd(g *globals) *cobra.Command {
	var speedFlag, actionsPath, epochFlag string
	var step, asJSON bool
	cmd := &cobra.Command{
		Use:   "run SCENARIO [--speed N|max] [--step] [--actions FILE]",
		Short: "Run a drill: a facilitator console, or headless with --speed max --actions FILE",
		Long: "Run a drill of SCENARIO (a scenario id, or a scenario file).\n\n" +
			"Interactive: the injects are printed as they become due on the drill clock, which runs in real time, faster\n" +
			"(--speed 60 plays an hour a minute) or inject by inject (--step: type next to release each one). Type help for\n" +
			"the commands: the team's actions (declare, assign, step, approve, ...) and the facilitator's (pause, jump,\n" +
			"observe, mark, rate, finish).\n\n" +
			"Headless: --speed max --actions FILE applies a script of actions at their drill-clock offsets without waiting,\n" +
			"finishes, and prints the run id. The result is deterministic. A headless run drafts no notifications; its\n" +
			"approvals are recorded on the drill incident. The actions file format is in docs/drills.md.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			speed, headless, err := parseSpeed(speedFlag)
			if err != nil {
				return err
			}
			if actionsPath != "" && !headless {
				return fmt.Errorf("--actions runs headless: add --speed max")
			}
			if headless && actionsPath == "" {
				return fmt.Errorf("--speed max needs --actions FILE: the script of what the team does")
			}
			sc, err := g.scenario(a[0])
			if err != nil {
				return err
			}
			return g.withDrill(c, func(s *drillSession) error {
				ctx := c.Context()
				if seeded, err := seedDemoDirectory(ctx, s.deps.Store); err != nil {
					return err
				} else if seeded {
					fmt.Fprintln(c.ErrOrStderr(), "Loaded the demo directory of fictional people and customers into the empty database.")
					// Who acts may have changed: the installer now acts as the demo's commander.
					if s.actor, err = g.identify(ctx, s.deps.Store, s.cfg); err != nil {
						return err
					}
				}
				opts := tabletop.Options{Speed: speed, Manual: step, Headless: headless}
				if epochFlag != "" {
					t, err := parseTime(epochFlag, time.Now(), s.cfg.Policy.Location())
					if err != nil {
						return fmt.Errorf("--epoch: %w", err)
					}
					opts.Epoch = t
				}
				if headless {
					return s.headless(sc, actionsPath, opts, asJSON)
				}
				s.live()
				r, err := tabletop.Start(ctx, s.deps, sc, s.actor, opts)
				if err != nil {
					return err
				}
				return s.console(r)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&speedFlag, "speed", "1", "drill seconds per real second, or max (headless, with --actions)")
	f.BoolVar(&step, "step", false, "inject by inject: the clock waits at each inject until you type next")
	f.StringVar(&actionsPath, "actions", "", "script of participant actions at drill-clock offsets (headless)")
	f.StringVar(&epochFlag, "epoch", "", "scenario time at T+0 (RFC 3339 or YYYY-MM-DD HH:MM; default the scenario's start)")
	f.BoolVar(&asJSON, "json", false, "headless: print the score as JSON instead of the run id")
	return cmd
}

// headless replays a scenario with an actions file and prints the run id.
func (s *drillSession) headless(sc *runbook.Scenario, path string, opts tabletop.Options, asJSON bool) error {
	ctx := s.cmd.Context()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("actions: %w", err)
	}
	rb, ok := s.deps.Runbooks.Get(sc.Runbook)
	if !ok {
		return fmt.Errorf("scenario %s uses runbook %q, which is not loaded", sc.ID, sc.Runbook)
	}
	acts, probs := runbook.ParseDrillActions(path, data, sc, rb, validateOptions())
	if probs != nil {
		return probs
	}
	r, err := tabletop.Replay(ctx, s.deps, sc, acts, s.actor, opts)
	if err != nil {
		if r != nil {
			return fmt.Errorf("drill %s abandoned: %w", r.ID(), err)
		}
		return err
	}
	score, err := r.Score(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(s.cmd.OutOrStdout(), score)
	}
	fmt.Fprintln(s.cmd.OutOrStdout(), r.ID())
	fmt.Fprintf(s.cmd.ErrOrStderr(), "%s: %d met, %d late, %d missed; report: irtui drill report %s\n",
		sc.Title, score.Met, score.Late, score.Missed, r.ID())
	return nil
}

func newDrillResumeCmd(g *globals) *cobra.Command {
	var speedFlag string
	var step bool
	cmd := &cobra.Command{
		Use:   "resume RUN [--speed N] [--step]",
		Short: "Resume a drill that was interrupted, in the facilitator console (it starts paused)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			var speed float64
			if speedFlag != "" {
				var headless bool
				var err error
				if speed, headless, err = parseSpeed(speedFlag); err != nil {
					return err
				} else if headless {
					return fmt.Errorf("a resumed drill runs on a clock: give --speed a number")
				}
			}
			return g.withDrill(c, func(s *drillSession) error {
				s.live()
				r, err := tabletop.ResumeRun(c.Context(), s.deps, a[0], s.actor, tabletop.Options{Speed: speed, Manual: step})
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "Resumed %s, paused at %s. Type resume to start the clock.\n", r.ID(),
					r.Status(time.Now()).Elapsed)
				return s.console(r)
			})
		},
	}
	cmd.Flags().StringVar(&speedFlag, "speed", "", "drill seconds per real second (default: as before)")
	cmd.Flags().BoolVar(&step, "step", false, "inject by inject")
	return cmd
}

func newDrillAbandonCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "abandon RUN --reason R",
		Short: "Abandon a drill that will not be finished (its record is kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				return done(c, r.Abandon(c.Context(), s.actor, reason), "Abandoned %s.", a[0])
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the drill is abandoned")
	return cmd
}

func newDrillScoreCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "score RUN",
		Short: "Show a drill's score: expected actions met, late or missed, response times, clocks, ratings",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				score, err := r.Score(c.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.OutOrStdout(), score)
				}
				printScore(c.OutOrStdout(), score)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func optOffset(o *tabletop.Offset) string {
	if o == nil {
		return "—"
	}
	return o.String()
}

func printScore(w io.Writer, s tabletop.Score) {
	fmt.Fprintf(w, "%s %s (%s, scored at %s): %d met, %d late, %d missed", s.RunID, s.ScenarioID, s.Status, s.At, s.Met, s.Late, s.Missed)
	if s.Pending > 0 {
		fmt.Fprintf(w, ", %d pending", s.Pending)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nEXPECTED\tINJECT\tTARGET\tDONE\tRESULT\tWHAT")
	for _, e := range s.Expectations {
		res := string(e.Result)
		if e.Overdue {
			res += " (overdue)"
		}
		if e.Manual {
			res += " (marked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Inject, optOffset(e.Due), optOffset(e.Done), res, safetext.Line(e.Description))
	}
	fmt.Fprintln(tw, "\nTIME TO\tAT\tTARGET\tRESULT\t\t")
	for _, t := range s.Times {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\n", t.Label, optOffset(t.At), optOffset(t.Target), drillDash(string(t.Result)))
	}
	if len(s.Clocks) > 0 {
		fmt.Fprintln(tw, "\nCLOCK\tSTARTED\tDUE\tSUBMITTED\tSTATE\t")
		for _, c := range s.Clocks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", c.Obligation, optOffset(c.Start), optOffset(c.Due), optOffset(c.Submitted), c.State)
		}
	}
	fmt.Fprintln(tw, "\nOBJECTIVE\tCAPABILITY\tRATING\tSUGGESTED\tMET/LATE/MISSED\t")
	for _, o := range s.Objectives {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d/%d\t\n", o.ID, o.Capability, drillDash(string(o.Rating)), drillDash(string(o.Suggested)), o.Met, o.Late, o.Missed)
	}
	tw.Flush()
}

func newDrillReportCmd(g *globals) *cobra.Command {
	var format, output string
	cmd := &cobra.Command{
		Use:   "report RUN [--format md|json] [--output FILE]",
		Short: "The after-action report: scenario, timeline, scores, observations, hot wash and improvement plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			if format != "md" && format != "json" {
				return fmt.Errorf("unknown format %q: use md or json", format)
			}
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				rep, err := r.Report(c.Context(), s.actor)
				if err != nil {
					return err
				}
				w, closeFn, err := outputTo(c, output)
				if err != nil {
					return err
				}
				defer closeFn()
				if format == "json" {
					return writeJSON(w, rep)
				}
				_, err = io.WriteString(w, rep.Markdown(s.cfg.Policy.Location()))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "md", "md or json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (created 0600) instead of standard output")
	return cmd
}

// outputTo is standard output, or a private file (see createPrivate).
func outputTo(c *cobra.Command, path string) (io.Writer, func(), error) {
	if path == "" {
		return c.OutOrStdout(), func() {}, nil
	}
	f, err := createPrivate(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// createPrivate creates or truncates a file that only its owner can read:
// an existing file is set to 0600 too, and a symbolic link is refused
// rather than followed, since exports hold incident and customer data.
func createPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func newDrillFromIncidentCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "from-incident ID [--output FILE]",
		Short: "Turn a closed incident into a scenario, with placeholders for people and customers",
		Long: "Write a scenario that replays a closed incident: what the team learned arrives as injects at the original\n" +
			"offsets from awareness, and what it did becomes expected actions with the night's times as targets. People\n" +
			"and customers are replaced by placeholders (Responder 1, Customer A); check the text before sharing it.\n" +
			"Put the file in a scenarios/ folder of a --runbooks folder, or run it directly: irtui drill run FILE.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withDrill(c, func(s *drillSession) error {
				data, sc, err := tabletop.FromIncident(c.Context(), s.deps, s.actor, a[0])
				if err != nil {
					return err
				}
				w, closeFn, err := outputTo(c, output)
				if err != nil {
					return err
				}
				defer closeFn()
				if _, err := w.Write(data); err != nil {
					return err
				}
				if output != "" {
					fmt.Fprintf(c.ErrOrStderr(), "Wrote scenario %s (%d injects) to %s.\n", sc.ID, len(sc.Injects), output)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (created 0600) instead of standard output")
	return cmd
}

func newDrillActionsCmd(g *globals) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "actions [--all]",
		Short: "List the open action items of every drill (the improvement plan)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return g.withDrill(c, func(s *drillSession) error {
				items, err := tabletop.ActionItems(c.Context(), s.deps.Store, all)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.OutOrStdout(), items)
				}
				if len(items) == 0 {
					fmt.Fprintln(c.OutOrStdout(), "No open action items.")
					return nil
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tDUE\tOWNER\tSTATUS\tRUN\tACTION")
				for _, it := range items {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Due, safetext.Line(it.Owner), it.Status, it.RunID, safetext.Line(it.Text))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "closed ones too")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var note string
	closeCmd := &cobra.Command{
		Use:   "close ID --note T",
		Short: "Close an action item, saying what was done",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			id, err := strconv.ParseInt(strings.TrimPrefix(a[0], "#"), 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not an action item number (see `irtui drill actions`)", a[0])
			}
			return g.withDrill(c, func(s *drillSession) error {
				return done(c, tabletop.CloseActionItem(c.Context(), s.deps.Store, clock.Real{}, s.actor, id, note), "Closed action item %d.", id)
			})
		},
	}
	closeCmd.Flags().StringVar(&note, "note", "", "what was done")

	var in tabletop.ActionItemInput
	add := &cobra.Command{
		Use:   "add RUN --text T --owner O --due DATE",
		Short: "Add an action item to a drill's improvement plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				item, err := r.AddActionItem(c.Context(), s.actor, in)
				return done(c, err, "Added action item %d: %s (owner %s, due %s).", item.ID, item.Text, item.Owner, item.Due)
			})
		},
	}
	af := add.Flags()
	af.StringVar(&in.Text, "text", "", "the corrective action")
	af.StringVar(&in.Owner, "owner", "", "who will do it")
	af.StringVar(&in.Due, "due", "", "by when: YYYY-MM-DD, or a duration such as 14d")
	af.StringVar(&in.ObjectiveID, "objective", "", "the objective it serves")
	af.StringVar(&in.Element, "element", "", "planning, organization, equipment, training or exercise (POETE)")
	af.StringVar(&in.Improvement, "improvement", "", "the area for improvement it addresses")
	cmd.AddCommand(closeCmd, add)
	return cmd
}

func newDrillRetroCmd(g *globals) *cobra.Command {
	var wentWell, toImprove []string
	var objective string
	cmd := &cobra.Command{
		Use:   "retro RUN [--went-well T]... [--to-improve T]...",
		Short: "Record the hot wash: what went well and what to improve",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			if len(wentWell)+len(toImprove) == 0 {
				return fmt.Errorf("give --went-well or --to-improve")
			}
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				for _, t := range wentWell {
					if _, err := r.AddHotWash(c.Context(), s.actor, store.HotWashStrength, t, objective); err != nil {
						return err
					}
				}
				for _, t := range toImprove {
					if _, err := r.AddHotWash(c.Context(), s.actor, store.HotWashImprovement, t, objective); err != nil {
						return err
					}
				}
				fmt.Fprintf(c.OutOrStdout(), "Recorded %d strength(s) and %d area(s) for improvement on %s.\n", len(wentWell), len(toImprove), a[0])
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVar(&wentWell, "went-well", nil, "a strength (repeatable)")
	cmd.Flags().StringArrayVar(&toImprove, "to-improve", nil, "an area for improvement (repeatable)")
	cmd.Flags().StringVar(&objective, "objective", "", "the objective they are about")
	return cmd
}

func newDrillMarkCmd(g *globals) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "mark RUN EXPECTATION met|late|missed [--note T]",
		Short: "Mark an expected action by hand, where the tool cannot tell",
		Args:  cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				return done(c, r.Mark(c.Context(), s.actor, a[1], tabletop.Result(a[2]), note), "Marked %s %s.", a[1], a[2])
			})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why")
	return cmd
}

func newDrillRateCmd(g *globals) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "rate RUN OBJECTIVE P|S|M|U [--note T]",
		Short: "Rate an objective (HSEEP): P, S, M or U",
		Args:  cobra.ExactArgs(3),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				rating := tabletop.Rating(strings.ToUpper(a[2]))
				return done(c, r.Rate(c.Context(), s.actor, a[1], rating, note), "Rated %s %s (%s).", a[1], rating, tabletop.RatingText[rating])
			})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why")
	return cmd
}

func newDrillObserveCmd(g *globals) *cobra.Command {
	var objective string
	cmd := &cobra.Command{
		Use:   "observe RUN TEXT [--objective ID]",
		Short: "Record an evaluator's observation",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				return done(c, r.Observe(c.Context(), s.actor, objective, a[1]), "Noted.")
			})
		},
	}
	cmd.Flags().StringVar(&objective, "objective", "", "the objective it is about")
	return cmd
}

// consoleHelp lists the console's commands.
const consoleHelp = `Facilitator:
  next                      release the next inject
  jump INJECT               jump forward to an inject (delivering those before it)
  pause | resume            stop or restart the drill clock
  speed N [step]            drill seconds per real second; "step" waits at each inject
  status | score            where the drill is; the score so far
  observe [@OBJECTIVE] TEXT an evaluator's observation
  mark EXPECTATION met|late|missed [NOTE]
  rate OBJECTIVE P|S|M|U [NOTE]
  went-well TEXT | to-improve TEXT           the hot wash
  action OWNER DUE TEXT     an action item (DUE: YYYY-MM-DD or 14d)
  finish | abandon REASON | quit (pauses; resume later)
Team (recorded as you, or as NAME after "as NAME"):
  answer QUESTION VALUE     an answer for the triage (lists: a,b)
  declare TITLE             classify the answers and declare the drill incident
  assign ROLE PERSON | ack ROLE | step STEP [NOTE] | skip STEP REASON | note TEXT
  severity SEV [REASON] | approve NOTIFICATION | submit OBLIGATION | customer ID | close [REASON]
  as NAME                   act as another participant`

// console is the facilitator's console: it prints injects as they become
// due and takes commands, one per line.
func (s *drillSession) console(r *tabletop.Run) error {
	s.run = r
	ctx := s.cmd.Context()
	out := s.cmd.OutOrStdout()
	loc := s.cfg.Policy.Location()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", args...)
	}
	st := r.Status(time.Now())
	say("Drill %s: %s (%s). T+0 is %s. Type help for the commands.", r.ID(), safetext.Line(st.Title),
		modeLabel(st), st.Epoch.In(loc).Format("Mon 2006-01-02 15:04 MST"))
	for _, d := range r.Delivered() {
		say("  already delivered: %s %s", d.Offset, d.Inject.ID)
	}

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(s.cmd.InOrStdin())
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	actor := s.actor.ID()
	answers := map[string]any{}
	stop := func() error {
		rec := r.Record()
		if rec.Ended() {
			return nil
		}
		bg := context.WithoutCancel(ctx)
		if rec.Status == store.DrillRunning {
			if err := r.Pause(bg, s.actor); err != nil {
				return err
			}
		}
		say("Drill %s is paused at %s. Resume it with `irtui drill resume %s`, or end it with `irtui drill abandon %s --reason TEXT`.",
			r.ID(), r.Status(time.Now()).Elapsed, r.ID(), r.ID())
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return stop()
		case <-ticker.C:
			ds, err := r.Tick(ctx, time.Now())
			if err != nil {
				say("error: %v", err)
			}
			for _, d := range ds {
				say("%s", s.injectText(d, loc))
			}
		case line, ok := <-lines:
			if !ok {
				return stop()
			}
			verb, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
			rest = strings.TrimSpace(rest)
			switch verb {
			case "":
				continue
			case "quit", "exit":
				return stop()
			case "as":
				if rest == "" {
					say("as NAME: whom the team's actions are recorded as (now %s)", actor)
					continue
				}
				actor = rest
				say("Acting as %s.", actor)
				continue
			case "answer":
				q, v, _ := strings.Cut(rest, " ")
				if q == "" || strings.TrimSpace(v) == "" {
					say("answer QUESTION VALUE")
					continue
				}
				answers[q] = answerValue(r.Runbook(), q, strings.TrimSpace(v))
				say("%s = %v", q, answers[q])
				continue
			}
			msg, err := s.consoleCommand(r, actor, verb, rest, answers, loc)
			switch {
			case err != nil:
				say("error: %v", err)
			case msg != "":
				say("%s", msg)
			}
			if r.Record().Ended() {
				score, err := r.Score(ctx)
				if err == nil {
					say("Final score: %d met, %d late, %d missed. Report: irtui drill report %s", score.Met, score.Late, score.Missed, r.ID())
				}
				return nil
			}
		}
	}
}

func modeLabel(st tabletop.Status) string {
	switch {
	case st.Mode == store.DrillModeManual:
		return fmt.Sprintf("inject by inject, clock at %gx between injects", st.Speed)
	case st.Speed == 1:
		return "real time"
	}
	return fmt.Sprintf("%gx real time", st.Speed)
}

// answerValue turns a typed answer into what the question takes.
func answerValue(rb *runbook.Runbook, id, v string) any {
	if rb != nil {
		for _, q := range rb.Questions {
			if q.ID == id && q.Type == runbook.Multi {
				var list []any
				for _, item := range strings.Split(v, ",") {
					if item = strings.TrimSpace(item); item != "" {
						list = append(list, item)
					}
				}
				return list
			}
		}
	}
	return v
}

// injectText renders a delivered inject for the console, with what the
// facilitator expects to see.
func (s *drillSession) injectText(d tabletop.Delivered, loc *time.Location) string {
	in := d.Inject
	var b strings.Builder
	fmt.Fprintf(&b, "\n[%s · %s] %s", d.Offset, d.At.In(loc).Format("Mon 15:04"), strings.ToUpper(in.Channel))
	if in.From != "" {
		fmt.Fprintf(&b, " from %s", safetext.Line(in.From))
	}
	if in.To != "" {
		fmt.Fprintf(&b, " to %s", safetext.Line(in.To))
	}
	fmt.Fprintf(&b, " (%s)\n", in.ID)
	for _, l := range strings.Split(strings.TrimSpace(safetext.Clean(in.Content)), "\n") {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	for _, q := range in.Questions {
		fmt.Fprintf(&b, "  ? %s\n", safetext.Line(q))
	}
	for _, e := range in.Expect {
		within := ""
		if e.Within != "" {
			within = ", within " + e.Within
		}
		fmt.Fprintf(&b, "  expected (facilitator): %s — %s%s\n", e.ID, safetext.Line(tabletop.Describe(e)), within)
	}
	return strings.TrimRight(b.String(), "\n")
}

// consoleCommand carries out one console command other than the ones the
// loop itself handles.
func (s *drillSession) consoleCommand(r *tabletop.Run, actor, verb, rest string, answers map[string]any, loc *time.Location) (string, error) {
	ctx := s.cmd.Context()
	word := func(n int) []string { return strings.SplitN(rest, " ", n) }
	need := func(ok bool, usage string) error {
		if !ok {
			return fmt.Errorf("usage: %s", usage)
		}
		return nil
	}
	delivered := func(ds []tabletop.Delivered, err error) (string, error) {
		if err != nil {
			return "", err
		}
		var parts []string
		for _, d := range ds {
			parts = append(parts, s.injectText(d, loc))
		}
		return strings.Join(parts, "\n"), nil
	}
	apply := func(a runbook.DrillAction) (string, error) {
		a.As = actor
		if err := r.Apply(ctx, s.actor, a); err != nil {
			return "", err
		}
		return "OK (" + r.Status(time.Now()).Elapsed.String() + ")", nil
	}
	switch verb {
	case "help", "?":
		return consoleHelp, nil
	case "next":
		return delivered(r.Next(ctx, s.actor))
	case "jump":
		if err := need(rest != "", "jump INJECT"); err != nil {
			return "", err
		}
		return delivered(r.Jump(ctx, s.actor, rest))
	case "pause":
		return "Paused.", r.Pause(ctx, s.actor)
	case "resume":
		return "Running.", r.Resume(ctx, s.actor)
	case "speed":
		w := strings.Fields(rest)
		if err := need(len(w) >= 1, "speed N [step]"); err != nil {
			return "", err
		}
		speed, headless, err := parseSpeed(w[0])
		if err != nil || headless {
			return "", fmt.Errorf("speed N: a number from 0.1 to 10000")
		}
		return "Speed set.", r.SetSpeed(ctx, s.actor, speed, len(w) > 1 && w[1] == "step")
	case "status":
		st := r.Status(time.Now())
		next := "all injects delivered"
		if st.Next != nil {
			next = fmt.Sprintf("next %s at %s", st.Next.ID, st.NextAt)
			if st.Waiting {
				next += " (waiting: type next)"
			}
		}
		return fmt.Sprintf("%s %s at %s (%s), %s; %d of %d injects delivered, %s; incident %s", st.RunID, st.State, st.Elapsed,
			st.Now.In(loc).Format("Mon 15:04"), modeLabel(st), st.Delivered, st.Injects, next, drillDash(st.IncidentID)), nil
	case "score":
		score, err := r.Score(ctx)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		printScore(&b, score)
		return strings.TrimRight(b.String(), "\n"), nil
	case "observe":
		objective := ""
		if strings.HasPrefix(rest, "@") {
			objective, rest, _ = strings.Cut(strings.TrimPrefix(rest, "@"), " ")
		}
		return "Noted.", r.Observe(ctx, s.actor, objective, rest)
	case "mark":
		w := word(3)
		if err := need(len(w) >= 2, "mark EXPECTATION met|late|missed [NOTE]"); err != nil {
			return "", err
		}
		note := ""
		if len(w) == 3 {
			note = w[2]
		}
		return "Marked.", r.Mark(ctx, s.actor, w[0], tabletop.Result(w[1]), note)
	case "rate":
		w := word(3)
		if err := need(len(w) >= 2, "rate OBJECTIVE P|S|M|U [NOTE]"); err != nil {
			return "", err
		}
		note := ""
		if len(w) == 3 {
			note = w[2]
		}
		return "Rated.", r.Rate(ctx, s.actor, w[0], tabletop.Rating(strings.ToUpper(w[1])), note)
	case "went-well", "to-improve":
		kind := store.HotWashStrength
		if verb == "to-improve" {
			kind = store.HotWashImprovement
		}
		_, err := r.AddHotWash(ctx, s.actor, kind, rest, "")
		return "Noted.", err
	case "action":
		w := word(3)
		if err := need(len(w) == 3, "action OWNER DUE TEXT"); err != nil {
			return "", err
		}
		item, err := r.AddActionItem(ctx, s.actor, tabletop.ActionItemInput{Owner: w[0], Due: w[1], Text: w[2]})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Action item %d: %s (owner %s, due %s).", item.ID, item.Text, item.Owner, item.Due), nil
	case "finish":
		return "Finished.", r.Finish(ctx, s.actor)
	case "abandon":
		return "Abandoned.", r.Abandon(ctx, s.actor, rest)
	case "declare":
		if err := need(rest != "", "declare TITLE"); err != nil {
			return "", err
		}
		a := runbook.DrillAction{Do: runbook.DoDeclare, Title: rest, Answers: answers}
		if _, err := apply(a); err != nil {
			return "", err
		}
		return fmt.Sprintf("Declared %s; the team works it with the commands below, or in the app.", r.IncidentID()), nil
	case "assign":
		w := strings.Fields(rest)
		if err := need(len(w) == 2, "assign ROLE PERSON"); err != nil {
			return "", err
		}
		return apply(runbook.DrillAction{Do: runbook.DoAssign, Role: w[0], Person: w[1]})
	case "ack":
		return apply(runbook.DrillAction{Do: runbook.DoAck, Role: rest})
	case "step", "skip":
		w := word(2)
		text := ""
		if len(w) == 2 {
			text = w[1]
		}
		return apply(runbook.DrillAction{Do: verb, Step: w[0], Text: text})
	case "note":
		return apply(runbook.DrillAction{Do: runbook.DoNote, Text: rest})
	case "severity":
		w := word(2)
		text := ""
		if len(w) == 2 {
			text = w[1]
		}
		return apply(runbook.DrillAction{Do: runbook.DoSeverity, Severity: strings.ToUpper(w[0]), Text: text})
	case "approve":
		return apply(runbook.DrillAction{Do: runbook.DoApprove, Notification: rest})
	case "submit":
		return apply(runbook.DrillAction{Do: runbook.DoSubmit, Obligation: rest})
	case "customer":
		return apply(runbook.DrillAction{Do: runbook.DoCustomer, Customer: rest})
	case "close":
		return apply(runbook.DrillAction{Do: runbook.DoClose, Text: rest})
	}
	return "", fmt.Errorf("unknown command %q; type help", verb)
}
