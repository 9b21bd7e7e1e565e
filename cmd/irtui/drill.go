package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/strictyaml"
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
}

func (g *globals) withDrill(cmd *cobra.Command, fn func(s *drillSession) error) error {
	return g.withSession(cmd, func(s session) error {
		lib, err := g.library(cmd.Context())
		if err != nil {
			return err
		}
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

// live wires a drill's incident into the notification outbox, so drill
// notices are drafted (to the drill channel) and approved; the services
// stamp them on the drill clock they read from the database.
func (s *drillSession) live() {
	s.deps.Service = s.svc
	s.deps.Approve = approveRule(s.svc)
}

// approveRule approves every draft of a runbook notification on an
// incident, for a drill's "approve" action.
func approveRule(svc *incident.Service) func(ctx context.Context, actor identity.Actor, incidentID, rule string) error {
	return func(ctx context.Context, actor identity.Actor, incidentID, rule string) error {
		ns, ok := svc.Notifier.(*notify.Service)
		if !ok {
			return fmt.Errorf("notifications are not set up")
		}
		return ns.ApproveRule(ctx, actor, incidentID, rule)
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
		newDrillRetroCmd(g), newDrillMarkCmd(g), newDrillRateCmd(g), newDrillObserveCmd(g), newDrillFeedbackCmd(g))
	return cmd
}

// scenarios loads the bundled and folder scenarios.
func (g *globals) scenarios(ctx context.Context) (*tabletop.ScenarioLibrary, error) {
	lib, err := g.library(ctx)
	if err != nil {
		return nil, err
	}
	return tabletop.Load(ctx, g.loadOptions(), lib)
}

// scenario finds a scenario by id, or reads a scenario file.
func (g *globals) scenario(ctx context.Context, arg string) (*tabletop.Scenario, error) {
	if g.remote != nil && (strings.ContainsRune(arg, '/') || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")) {
		// Not a file on the server; and not a hint of which files exist.
		return nil, errRemote("a scenario file", "give the id of a scenario the server has (irtui drill list shows them)")
	}
	if st, err := os.Stat(arg); g.remote == nil && err == nil && !st.IsDir() && (strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml")) {
		data, err := strictyaml.ReadFile(ctx, strictyaml.Scenario, arg)
		if err != nil {
			return nil, err
		}
		lib, err := g.library(ctx)
		if err != nil {
			return nil, err
		}
		sc, probs := tabletop.ParseScenario(arg, data, lib.Get, validateOptions())
		if probs != nil {
			return nil, probs
		}
		return sc, nil
	}
	lib, err := g.scenarios(ctx)
	if err != nil {
		return nil, err
	}
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
				lib, err := g.scenarios(c.Context())
				if err != nil {
					return err
				}
				runs, err := s.deps.Store.DrillRuns(c.Context(), store.DrillRunFilter{Limit: 20})
				if err != nil {
					return err
				}
				if asJSON {
					scs := lib.Scenarios
					if scs == nil {
						scs = []*tabletop.Scenario{}
					}
					return writeJSON(c.OutOrStdout(), map[string]any{"scenarios": scs, "runs": runs, "failed": nonNil(lib.Failed)})
				}
				w := c.OutOrStdout()
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "SCENARIO\tRUNBOOK\tINJECTS\tLENGTH\tTITLE")
				for _, sc := range lib.Scenarios {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", sc.ID, sc.Runbook, len(sc.Injects),
						strings.TrimPrefix(tabletop.FormatOffset(sc.Length), "T+"), safetext.Line(sc.Title))
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
			speed, headless, err := tabletop.ParseSpeed(speedFlag)
			if err != nil {
				return err
			}
			if actionsPath != "" && !headless {
				return fmt.Errorf("--actions runs headless: add --speed max")
			}
			if headless && actionsPath == "" {
				return fmt.Errorf("--speed max needs --actions FILE: the script of what the team does")
			}
			sc, err := g.scenario(c.Context(), a[0])
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
	f.StringVar(&actionsPath, "actions", "", "script of participant actions at drill-clock offsets (headless); - for standard input")
	readsFile(f, "actions")
	f.StringVar(&epochFlag, "epoch", "", "scenario time at T+0 (RFC 3339 or YYYY-MM-DD HH:MM; default the scenario's start)")
	f.BoolVar(&asJSON, "json", false, "headless: print the score as JSON instead of the run id")
	return cmd
}

// headless replays a scenario with an actions file and prints the run id.
func (s *drillSession) headless(sc *tabletop.Scenario, path string, opts tabletop.Options, asJSON bool) error {
	ctx := s.cmd.Context()
	path, data, err := readInput(s.cmd, strictyaml.Actions, path)
	if err != nil {
		return err
	}
	rb, ok := s.deps.Runbooks.Get(sc.Runbook)
	if !ok {
		return fmt.Errorf("scenario %s uses runbook %q, which is not loaded", sc.ID, sc.Runbook)
	}
	acts, probs := tabletop.ParseDrillActions(path, data, sc, rb, validateOptions())
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
	fmt.Fprintf(s.cmd.ErrOrStderr(), "%s: %s Report: irtui drill report %s\n", sc.Title, score.Headline, r.ID())
	return nil
}

func newDrillResumeCmd(g *globals) *cobra.Command {
	var speedFlag string
	var step bool
	cmd := &cobra.Command{
		Use:   "resume RUN [--speed N] [--step]",
		Short: "Resume a drill in the facilitator console: paused, where it stopped; or join one running elsewhere",
		Long: "Take up a drill that is not over. A paused drill (quit pauses it) resumes paused at the drill time it was\n" +
			"paused at; type resume to start its clock. A drill left running by a process that is gone (a crash) is paused\n" +
			"where its clock stood when that process was last seen. A drill still running in another process (the app,\n" +
			"another console) is joined as it is: both play it on its one clock, and leaving this console does not pause it.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			var speed float64
			if speedFlag != "" {
				var headless bool
				var err error
				if speed, headless, err = tabletop.ParseSpeed(speedFlag); err != nil {
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
				st := r.Status(time.Now())
				switch {
				case st.Attached:
					fmt.Fprintf(c.OutOrStdout(), "Joined %s, running in another process, at %s on the drill clock.\n", r.ID(), st.Elapsed)
				default:
					fmt.Fprintf(c.OutOrStdout(), "Resumed %s, paused at %s. Type resume to start the clock.\n", r.ID(), st.Elapsed)
				}
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
				tabletop.WriteScore(c.OutOrStdout(), score)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
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
				if format == "json" {
					err = writeJSON(w, rep)
				} else {
					_, err = io.WriteString(w, rep.Markdown(s.cfg.Policy.Location()))
				}
				return errors.Join(err, closeFn())
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "md", "md or json")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (created 0600) instead of standard output")
	writesFile(cmd.Flags(), "output")
	return cmd
}

// outputTo is standard output, or a private file (see createPrivate).
// Its closer syncs and closes the file and says when either failed, so a
// command never reports a file written that is not on disk whole.
func outputTo(c *cobra.Command, path string) (io.Writer, func() error, error) {
	if path == "" {
		return c.OutOrStdout(), func() error { return nil }, nil
	}
	f, err := createPrivate(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() error {
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}, nil
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
				_, err = w.Write(data)
				if err = errors.Join(err, closeFn()); err != nil {
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
	writesFile(cmd.Flags(), "output")
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
	af.StringVar(&in.Owner, "owner", "", "who will do it: a person in the directory")
	af.StringVar(&in.Due, "due", "", "completion date: YYYY-MM-DD, or a duration such as 14d")
	af.StringVar(&in.Start, "start", "", "start date (default: today)")
	af.StringVar(&in.Organisation, "organisation", "", "the primary responsible organisation")
	af.StringVar(&in.ObjectiveID, "objective", "", "the objective it serves")
	af.StringVar(&in.Element, "element", "", "planning, organization, equipment, training or exercise (POETE)")
	af.StringVar(&in.Improvement, "improvement", "", "the area for improvement it addresses")
	cmd.AddCommand(closeCmd, add)
	return cmd
}

func newDrillRetroCmd(g *globals) *cobra.Command {
	var wentWell, toImprove []string
	var objective, rootCause string
	var observations []int64
	cmd := &cobra.Command{
		Use:   "retro RUN [--went-well T]... [--to-improve T]... [--objective ID] [--root-cause T] [--observations N,...]",
		Short: "Record the hot wash: what went well and what to improve, with root causes",
		Long: "Record the hot wash of a drill: strengths (--went-well) and areas for improvement (--to-improve), about an\n" +
			"objective (--objective) or the exercise as a whole. An area for improvement names its root cause\n" +
			"(--root-cause) and the observations it rests on (--observations 1,3: their numbers in the report).",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			if len(wentWell)+len(toImprove) == 0 {
				return fmt.Errorf("give --went-well or --to-improve")
			}
			if (rootCause != "" || len(observations) > 0) && len(toImprove) == 0 {
				return fmt.Errorf("--root-cause and --observations go with --to-improve")
			}
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				for _, t := range wentWell {
					in := tabletop.HotWashInput{Kind: store.HotWashStrength, Text: t, Objective: objective}
					if _, err := r.AddHotWash(c.Context(), s.actor, in); err != nil {
						return err
					}
				}
				for _, t := range toImprove {
					in := tabletop.HotWashInput{Kind: store.HotWashImprovement, Text: t, Objective: objective,
						RootCause: rootCause, Observations: observations}
					if _, err := r.AddHotWash(c.Context(), s.actor, in); err != nil {
						return err
					}
				}
				fmt.Fprintf(c.OutOrStdout(), "Recorded %d strength(s) and %d area(s) for improvement on %s.\n", len(wentWell), len(toImprove), a[0])
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&wentWell, "went-well", nil, "a strength (repeatable)")
	f.StringArrayVar(&toImprove, "to-improve", nil, "an area for improvement (repeatable)")
	f.StringVar(&objective, "objective", "", "the objective they are about")
	f.StringVar(&rootCause, "root-cause", "", "why the area for improvement happened")
	f.Int64SliceVar(&observations, "observations", nil, "the observations it rests on, by number (1,3)")
	return cmd
}

func newDrillFeedbackCmd(g *globals) *cobra.Command {
	var in tabletop.FeedbackInput
	cmd := &cobra.Command{
		Use:   "feedback RUN TEXT [--rating 1-5] [--role R]",
		Short: "Give a participant's feedback on a drill (as you, or --as NAME)",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				in.Text = a[1]
				f, err := r.AddFeedback(c.Context(), s.actor, in)
				return done(c, err, "Thank you, %s: feedback recorded on %s.", f.Person, a[0])
			})
		},
	}
	cmd.Flags().IntVar(&in.Rating, "rating", 0, "the exercise from 1 (poor) to 5 (excellent)")
	cmd.Flags().StringVar(&in.Role, "role", "", "your role in the exercise")
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
	var in tabletop.ObservationInput
	var strength, improvement bool
	cmd := &cobra.Command{
		Use:   "observe RUN TEXT [--objective ID] [--strength|--improvement]",
		Short: "Record an evaluator's observation: a strength, an area for improvement, or a note",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			switch {
			case strength && improvement:
				return fmt.Errorf("an observation is a strength or an area for improvement, not both")
			case strength:
				in.Kind = tabletop.ObserveStrength
			case improvement:
				in.Kind = tabletop.ObserveImprovement
			}
			in.Text = a[1]
			return g.withRun(c, a[0], func(s *drillSession, r *tabletop.Run) error {
				return done(c, r.Observe(c.Context(), s.actor, in), "Noted.")
			})
		},
	}
	cmd.Flags().StringVar(&in.Objective, "objective", "", "the objective it is about")
	cmd.Flags().BoolVar(&strength, "strength", false, "it shows a strength")
	cmd.Flags().BoolVar(&improvement, "improvement", false, "it shows an area for improvement")
	return cmd
}

// console plays r in the facilitator's console on the terminal.
func (s *drillSession) console(r *tabletop.Run) error {
	c := &tabletop.Console{Run: r, Actor: s.actor, In: s.cmd.InOrStdin(), Out: s.cmd.OutOrStdout(),
		Loc: s.cfg.Policy.Location()}
	return c.Serve(s.cmd.Context())
}
