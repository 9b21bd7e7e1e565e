package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// session is what an incident command works with.
type session struct {
	svc   *incident.Service
	dir   *identity.Service
	cfg   config.Config
	actor identity.Actor
}

// withSession opens the configuration and the database for a command and
// closes the database after it.
func (g *globals) withSession(cmd *cobra.Command, fn func(s session) error) error {
	cfg, err := g.loadConfig(cmd.Context())
	if err != nil {
		return err
	}
	svc, closeDB, err := g.open(cmd, cfg)
	if err != nil {
		return err
	}
	defer closeDB()
	actor, err := g.identify(cmd.Context(), svc.Store, cfg)
	if err != nil {
		return err
	}
	return fn(session{svc: svc, dir: directory(svc.Store), cfg: cfg, actor: actor})
}

func newIncidentCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "incident", Short: "Declare, work and export incidents from the command line"}
	cmd.AddCommand(newDeclareCmd(g), newListCmd(g), newShowCmd(g), newExportCmd(g))
	simple := func(use, short string, args int, run func(s session, ctx *cobra.Command, args []string) error) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(args),
			RunE: func(c *cobra.Command, a []string) error {
				return g.withSession(c, func(s session) error { return run(s, c, a) })
			}}
	}
	cmd.AddCommand(
		simple("assign ID ROLE PERSON", "Give a role to a person from the directory (a hand-over if someone holds it)", 3,
			func(s session, c *cobra.Command, a []string) error {
				return done(c, s.svc.Assign(c.Context(), s.actor, a[0], a[1], a[2]), "%s is now %s on %s; they acknowledge with `irtui incident ack %s %s`.", a[2], a[1], a[0], a[0], a[1])
			}),
		simple("ack ID ROLE", "Acknowledge a role you were given", 2,
			func(s session, c *cobra.Command, a []string) error {
				return done(c, s.svc.Acknowledge(c.Context(), s.actor, a[0], a[1]), "%s acknowledged %s on %s.", s.actor, a[1], a[0])
			}),
		simple("note ID TEXT", "Add a note to the timeline", 2,
			func(s session, c *cobra.Command, a []string) error {
				return done(c, s.svc.AddNote(c.Context(), s.actor, a[0], a[1]), "Note added to %s.", a[0])
			}),
	)
	cmd.AddCommand(newStepCmd(g), newSeverityCmd(g), newSubmittedCmd(g), newAnchorCmd(g), newRiskCmd(g), newCloseCmd(g),
		newReopenCmd(g), newReassessCmd(g))
	cmd.AddCommand(newLinkCmds(g)...)
	return cmd
}

func done(c *cobra.Command, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), format+"\n", args...)
	return nil
}

func newDeclareCmd(g *globals) *cobra.Command {
	var rbID, title, answersPath, awareAt, reason string
	var customers []string
	var asEvent, drill, asJSON bool
	cmd := &cobra.Command{
		Use:   "declare --runbook ID --title T [--answers FILE] [--customer ID]... [--aware-at TIME]",
		Short: "Classify an event with a runbook and declare it as an incident (or record it as an event)",
		Long: "Classify the answers with the runbook (as `irtui classify` does) and record the result: an incident with its\n" +
			"checklist and affected customers, or with --event an assessed event that needs no response (--reason required).\n" +
			"Unanswered questions count as their worst case.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return g.withSession(c, func(s session) error {
				rb, err := g.runbook(c.Context(), rbID)
				if err != nil {
					return err
				}
				answers, err := readAnswers(c, rb, answersPath)
				if err != nil {
					return err
				}
				now := s.svc.Clock.Now()
				aware, err := parseTime(awareAt, now, s.cfg.Policy.Location())
				if err != nil {
					return err
				}
				v, err := classify.Classify(rb, answers, s.cfg.Policy, classify.Events{Aware: aware, Classified: now}, nil)
				if err != nil {
					return err
				}
				d := incident.NewDeclaration(rb, v, answers)
				d.Title, d.Customers, d.AwareAt, d.Drill = title, customers, aware, drill
				if asEvent {
					d.Incident, d.DismissReason = false, reason
				} else if !v.Incident {
					return fmt.Errorf("the runbook's rules say this is an event, not an incident; record it with --event --reason \"why\", or change the answers")
				}
				in, err := s.svc.Declare(c.Context(), s.actor, d)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.OutOrStdout(), in)
				}
				if in.Kind == store.KindEvent {
					fmt.Fprintf(c.OutOrStdout(), "Recorded %s as an assessed event: %s\n", in.ID, safetext.Line(in.Title))
					return nil
				}
				fmt.Fprintf(c.OutOrStdout(), "Declared %s (%s): %s\n", in.ID, in.Severity, safetext.Line(in.Title))
				obs := incident.Obligations(in, nil, s.cfg.Policy)
				for _, o := range obs {
					st := o.At(now)
					if !st.Due.IsZero() {
						fmt.Fprintf(c.OutOrStdout(), "  %-18s due %s\n", o.Rule.ID, deadline.Format(st.Due))
					}
				}
				for _, wn := range classify.Warnings(obs) {
					fmt.Fprintf(c.OutOrStdout(), "  WARNING: %s\n", wn)
				}
				fmt.Fprintf(c.OutOrStdout(), "Next: irtui incident assign %s incident_commander PERSON\n", in.ID)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&rbID, "runbook", "", "runbook id")
	f.StringVar(&title, "title", "", "a short, factual title")
	f.StringVar(&answersPath, "answers", "", "answers file (YAML or JSON); - for standard input")
	readsFile(f, "answers")
	f.StringSliceVar(&customers, "customer", nil, "affected customer id from the directory (repeatable)")
	f.StringVar(&awareAt, "aware-at", "", "when you became aware (RFC 3339 or YYYY-MM-DD HH:MM; default now)")
	f.BoolVar(&asEvent, "event", false, "record an assessed event that is not an incident (needs --reason)")
	f.StringVar(&reason, "reason", "", "why it is not an incident (with --event)")
	f.BoolVar(&drill, "drill", false, "mark as a table-top drill")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("runbook")
	_ = cmd.MarkFlagRequired("title")
	return cmd
}

func newListCmd(g *globals) *cobra.Command {
	var all, closed, drills, asJSON bool
	var limit int
	var after string
	cmd := &cobra.Command{
		Use:   "list [--closed|--all] [--drills] [--limit N] [--after ID]",
		Short: "List open incidents (--closed, --all), newest first, with the next deadline; drill incidents with --drills",
		Long: `List incidents, newest first, a page at a time, with the next deadline of each open one:
--limit says how many (50 unless set), and --after ID lists the ones older than ID, so the
next page of a list is the same command with --after the last ID shown (the text output
ends with that command).

Drill incidents (table-top exercises) are kept apart from real work: they are listed only
with --drills, which lists them alone, with their deadlines on their drill's clock. Someone
acting under a claim (--as) outside local trust mode sees drill incidents only.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if limit < 1 || limit > store.MaxListPage {
				return fmt.Errorf("--limit %d: give a number of incidents from 1 to %d; --after ID lists the next page", limit, store.MaxListPage)
			}
			f := store.ListFilter{Status: store.StatusOpen, Limit: limit, Drill: store.DrillExclude}
			switch {
			case all:
				f.Status = ""
			case closed:
				f.Status = store.StatusClosed
			}
			if drills {
				f.Drill = store.DrillOnly
			}
			if after != "" {
				n, ok := store.IncidentNumber(after)
				if !ok {
					return fmt.Errorf("--after %q: give an incident id such as INC-0042", after)
				}
				f.After = n
			}
			return g.withSession(c, func(s session) error {
				p, err := s.svc.ListPage(c.Context(), s.actor, f)
				if err != nil {
					return err
				}
				if asJSON {
					list := p.Incidents
					if list == nil {
						list = []incident.Incident{}
					}
					return writeJSON(c.OutOrStdout(), list)
				}
				out := c.OutOrStdout()
				if len(p.Incidents) == 0 {
					if f.After > 0 {
						fmt.Fprintf(out, "No %s incidents older than %s.\n", listWhat(f), store.IncidentID(f.After))
						return nil
					}
					fmt.Fprintln(out, "No incidents. Declare one with `irtui incident declare --runbook ID --title T`, or open the app with `irtui`.")
					return nil
				}
				real := s.svc.Clock.Now()
				tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSEV\tSTATUS\tDECLARED\tNEXT DEADLINE\tTITLE")
				for _, in := range p.Incidents {
					next := "—"
					now := real
					if dc := p.Summaries[in.ID].Drill; dc != nil {
						now = dc.Now(real) // a drill's deadlines run on its clock
					}
					if in.Kind == store.KindIncident && in.Status == store.StatusOpen {
						if o, st, ok := incident.NextDeadline(incident.Obligations(in, p.Summaries[in.ID].Obligations, s.cfg.Policy), now); ok {
							next = fmt.Sprintf("%s %s (%s)", o.Rule.ID, deadline.Format(st.Due), st.State)
						}
					}
					status := in.Status
					if in.Kind == store.KindEvent {
						status = "event"
					}
					if in.Drill {
						status = "EXERCISE " + status
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", in.ID, in.Severity, status, in.DeclaredAt.In(s.cfg.Policy.Location()).Format("2006-01-02 15:04"), next, safetext.Line(in.Title))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				if p.Older || f.After > 0 {
					last := p.Incidents[len(p.Incidents)-1].ID
					fmt.Fprintf(out, "%d of %d %s incidents", len(p.Incidents), p.Total, listWhat(f))
					if f.After > 0 {
						fmt.Fprintf(out, ", older than %s", store.IncidentID(f.After))
					}
					if p.Older {
						fmt.Fprintf(out, ". Next page: irtui incident list%s --after %s", listFlags(all, closed, drills, limit), last)
					}
					fmt.Fprintln(out, ".")
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "open and closed")
	cmd.Flags().BoolVar(&closed, "closed", false, "closed only")
	cmd.Flags().BoolVar(&drills, "drills", false, "drill incidents (table-top exercises) instead of real ones")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many, most recent first")
	cmd.Flags().StringVar(&after, "after", "", "only incidents older than this one (the next page)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// listWhat names a list's incidents: open, closed, or "open and closed".
func listWhat(f store.ListFilter) string {
	what := f.Status
	if f.Status == "" {
		what = "open and closed"
	}
	if f.Drill == store.DrillOnly {
		what += " drill"
	}
	return what
}

// listFlags repeats the list's flags for the next page's command.
func listFlags(all, closed, drills bool, limit int) string {
	s := ""
	switch {
	case all:
		s += " --all"
	case closed:
		s += " --closed"
	}
	if drills {
		s += " --drills"
	}
	if limit != 50 {
		s += fmt.Sprintf(" --limit %d", limit)
	}
	return s
}

// showView is the JSON form of `incident show`.
type showView struct {
	store.Detail
	Clocks []clockView `json:"clocks"`
}

type clockView struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Status   deadline.Status `json:"status"`
	Soft     bool            `json:"soft"`
	Info     bool            `json:"info,omitempty"`
	Anchor   string          `json:"anchor,omitempty"`
	Fallback bool            `json:"fallback,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
}

func newShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident: state, clocks, roles, checklist and timeline",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				// The timeline is streamed: an incident of any length is
				// printed an entry at a time, never held whole.
				out := bufio.NewWriter(c.OutOrStdout())
				loc := s.cfg.Policy.Location()
				var (
					js    *jsonStream
					entry func(store.TimelineEntry) error
				)
				err := s.svc.Read(c.Context(), s.actor, a[0], func(d store.Detail) error {
					// A drill incident's clocks are read on its drill's clock.
					now := incident.DrillTime(d, s.svc.Clock.Now())
					obs := incident.Obligations(d.Incident, d.Obligations, s.cfg.Policy)
					if !asJSON {
						printHead(out, d, obs, now, loc)
						t := showTime(loc)
						entry = func(e store.TimelineEntry) error { return printEntry(out, e, t) }
						return nil
					}
					v := showView{Detail: d, Clocks: []clockView{}}
					for _, o := range obs {
						v.Clocks = append(v.Clocks, clockView{ID: o.Rule.ID, Title: o.Rule.Title, Status: o.At(now), Soft: o.Rule.Soft,
							Info: o.Rule.Info, Anchor: o.Anchor, Fallback: o.Fallback, Notes: o.Notes, Warnings: o.Warnings})
					}
					var err error
					js, err = startJSONStream(out, v, "timeline")
					entry = func(e store.TimelineEntry) error { return js.add(e) }
					return err
				}, func(e store.TimelineEntry) error { return entry(e) })
				if err == nil && js != nil {
					err = js.end()
				}
				if ferr := out.Flush(); err == nil {
					err = ferr
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printHead prints what `incident show` shows of an incident before the
// entries of its timeline (printEntry).
func printHead(w io.Writer, d store.Detail, obs []deadline.Obligation, now time.Time, loc *time.Location) {
	in := d.Incident
	t := showTime(loc)
	if in.Drill {
		fmt.Fprint(w, "EXERCISE — a drill incident; nothing here happened for real.")
		if d.Drill != nil {
			fmt.Fprintf(w, " Drill %s (%s); its clocks run on the drill clock, now %s.", d.Drill.RunID, d.Drill.Status, t(now))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s %s  %s\n", in.ID, in.Severity, safetext.Line(in.Title))
	fmt.Fprintf(w, "Status: %s (%s)   Runbook: %s v%s   Category: %s\n", in.Status, in.Kind, in.RunbookID, in.RunbookVersion, in.Category)
	fmt.Fprintf(w, "Aware: %s   Declared: %s by %s   Closed: %s\n", t(in.AwareAt), t(in.DeclaredAt), safetext.Line(in.CreatedBy), t(in.ClosedAt))
	if len(in.Flags) > 0 {
		fmt.Fprintf(w, "Flags: %s\n", strings.Join(in.Flags, ", "))
	}
	var custs []string
	for _, cu := range d.Customers {
		custs = append(custs, safetext.Line(cu.Name)+" ("+cu.ID+")")
	}
	if len(custs) > 0 {
		fmt.Fprintf(w, "Customers: %s\n", strings.Join(custs, ", "))
	}
	printAnchors(w, d, t)
	if len(obs) > 0 {
		fmt.Fprintln(w, "\nClocks:")
		for _, o := range obs {
			st := o.At(now)
			due := "after " + o.WaitingFor
			if !st.Due.IsZero() {
				due = deadline.Format(st.Due)
			}
			fmt.Fprintf(w, "  %-26s %-10s %-22s from %-24s %s\n", o.Rule.ID, st.State, due, anchorOf(o), o.Rule.Title)
		}
		for _, wn := range classify.Warnings(obs) {
			fmt.Fprintf(w, "  WARNING: %s\n", wn)
		}
	}
	fmt.Fprintln(w, "\nRoles:")
	seen := map[string]bool{}
	for _, role := range append(append([]string{}, in.Roles...), "incident_commander") {
		if seen[role] {
			continue
		}
		seen[role] = true
		holder := "unassigned"
		if a, ok := incident.CurrentHolder(d, role); ok {
			holder = a.PersonID + " since " + t(a.AssignedAt)
			if a.AcknowledgedAt.IsZero() {
				holder += " (not acknowledged)"
			}
		}
		fmt.Fprintf(w, "  %-22s %s\n", role, holder)
	}
	fmt.Fprintln(w, "\nChecklist:")
	for _, st := range d.Steps {
		box := "[ ]"
		switch st.Status {
		case store.StepDone:
			box = "[x]"
		case store.StepSkipped:
			box = "[-]"
		}
		opt := ""
		if !st.Required {
			opt = " (optional)"
		}
		fmt.Fprintf(w, "  %s %-24s %s%s\n", box, st.ID, safetext.Line(st.Title), opt)
	}
	fmt.Fprintf(w, "\nTimeline (%d entries):\n", d.TimelineTotal)
}

// printEntry prints one line of the timeline of `incident show`.
func printEntry(w io.Writer, e store.TimelineEntry, t func(time.Time) string) error {
	_, err := fmt.Fprintf(w, "  %s  %-10s %-18s %s\n", t(e.At), safetext.Line(identity.Describe(e.Actor, e.Auth)), e.Kind, safetext.Line(e.Summary))
	return err
}

// showTime writes the times of `incident show` in loc; "—" for none.
func showTime(loc *time.Location) func(time.Time) string {
	return func(tm time.Time) string {
		if tm.IsZero() {
			return "—"
		}
		return tm.In(loc).Format("2006-01-02 15:04 MST")
	}
}

// printAnchors lists the moments the incident's clocks run from: awareness
// and the declaration, the anchors recorded since, and a DPO's decision on
// the breach risk.
func printAnchors(w io.Writer, d store.Detail, t func(time.Time) string) {
	fmt.Fprintln(w, "\nAnchors:")
	in := d.Incident
	if rec, ok := incident.RecordedAnchor(d.Obligations, deadline.EventAware); ok {
		fmt.Fprintf(w, "  %-24s %s (corrected by %s: %s; declared with %s)\n", "aware", t(rec.At), safetext.Line(rec.Actor),
			safetext.Line(rec.Note), t(in.AwareAt))
	} else {
		fmt.Fprintf(w, "  %-24s %s (at declaration)\n", "aware", t(in.AwareAt))
	}
	fmt.Fprintf(w, "  %-24s %s (declared)\n", "classified", t(in.DeclaredAt))
	for _, k := range deadline.AnchorKinds {
		if k.Event == deadline.EventAware {
			continue
		}
		rec, ok := incident.RecordedAnchor(d.Obligations, k.Event)
		if !ok {
			continue
		}
		line := fmt.Sprintf("  %-24s %s by %s", k.Name, t(rec.At), safetext.Line(rec.Actor))
		if rec.Note != "" {
			line += ": " + safetext.Line(rec.Note)
		}
		fmt.Fprintln(w, line)
	}
	if dec, ok := incident.RiskDecision(d.Obligations); ok {
		fmt.Fprintf(w, "  breach risk decided       %s by %s at %s: %s\n", safetext.Line(dec.Value), safetext.Line(dec.Actor),
			t(dec.At), safetext.Line(dec.Note))
	}
}

func newStepCmd(g *globals) *cobra.Command {
	var note, reason string
	var skip bool
	cmd := &cobra.Command{
		Use:   "step ID STEP [--note T] | step ID STEP --skip --reason R",
		Short: "Mark a checklist step done, or skip it with a reason",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				if skip {
					return done(c, s.svc.SkipStep(c.Context(), s.actor, a[0], a[1], reason), "Skipped %s on %s.", a[1], a[0])
				}
				return done(c, s.svc.CompleteStep(c.Context(), s.actor, a[0], a[1], note), "Done: %s on %s.", a[1], a[0])
			})
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "what was done")
	cmd.Flags().BoolVar(&skip, "skip", false, "skip the step (needs --reason)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the step is skipped")
	return cmd
}

func newSeverityCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "severity ID SEV --reason R",
		Short: "Change the severity (lowering it needs a reason)",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				return done(c, s.svc.ChangeSeverity(c.Context(), s.actor, a[0], strings.ToUpper(a[1]), reason), "%s is now %s.", a[0], strings.ToUpper(a[1]))
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the severity changes")
	return cmd
}

func newSubmittedCmd(g *globals) *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "submitted ID OBLIGATION [--at TIME]",
		Short: "Record that a regulatory notice was submitted (stops its clock; starts chained ones)",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				// Without --at, the service records it now on the incident's
				// clock: a drill's own, for a drill incident.
				when, err := parseTime(at, time.Time{}, s.cfg.Policy.Location())
				if err != nil {
					return err
				}
				if !deadline.IsObligationID(a[1]) || a[1] == deadline.NoObligation {
					return fmt.Errorf("unknown obligation %q; known: %s", a[1], strings.Join(deadline.RuleIDs(), ", "))
				}
				if when.IsZero() {
					return done(c, s.svc.RecordSubmission(c.Context(), s.actor, a[0], a[1], when), "Recorded %s as submitted now.", a[1])
				}
				return done(c, s.svc.RecordSubmission(c.Context(), s.actor, a[0], a[1], when), "Recorded %s as submitted at %s.", a[1], deadline.Format(when.In(s.cfg.Policy.Location())))
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "when it was submitted (default now)")
	return cmd
}

func newAnchorCmd(g *globals) *cobra.Command {
	var at, note string
	var names []string
	for _, a := range deadline.AnchorKinds {
		names = append(names, fmt.Sprintf("  %-24s %s; starts %s", a.Name, a.Title, strings.Join(deadline.RulesUsing(a.Event), ", ")))
	}
	cmd := &cobra.Command{
		Use:   "anchor ID NAME [--at TIME] [--note T]",
		Short: "Record when a moment a regulatory clock runs from happened (materiality determined, ransom paid, ...)",
		Long: "Record when a moment happened that a regulatory clock runs from; the clocks that run from it start or move at once.\n" +
			"--at takes RFC 3339 or YYYY-MM-DD HH:MM in the policy's time zone (default now). Recording an anchor again\n" +
			"replaces its time and needs --note; so does correcting awareness. Moving an anchor later (its clocks move\n" +
			"later) is for the incident commander or someone with the override permission. Anchors:\n\n" + strings.Join(names, "\n"),
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				kind, ok := deadline.AnchorByName(a[1])
				if !ok {
					return fmt.Errorf("unknown anchor %q; known: %s", a[1], strings.Join(deadline.AnchorNames(), ", "))
				}
				// Without --at, now on the incident's clock (a drill's own).
				when, err := parseTime(at, time.Time{}, s.cfg.Policy.Location())
				if err != nil {
					return err
				}
				if err := s.svc.RecordAnchor(c.Context(), s.actor, a[0], kind.Name, when, note); err != nil {
					return err
				}
				if when.IsZero() {
					fmt.Fprintf(c.OutOrStdout(), "Recorded %s of %s now.\n", kind.Name, a[0])
				} else {
					fmt.Fprintf(c.OutOrStdout(), "Recorded %s of %s at %s.\n", kind.Name, a[0], deadline.Format(when.In(s.cfg.Policy.Location())))
				}
				if !when.IsZero() && deadline.Ambiguous(when.In(s.cfg.Policy.Location())) && !strings.ContainsAny(at, "Z+") {
					fmt.Fprintf(c.OutOrStdout(), "That time occurs twice on that night (the clocks went back): the earlier one is recorded.\n")
				}
				if rules := deadline.RulesUsing(kind.Event); len(rules) > 0 {
					fmt.Fprintf(c.OutOrStdout(), "Clocks that run from it: %s (irtui incident show %s).\n", strings.Join(rules, ", "), a[0])
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "when it happened (RFC 3339 or YYYY-MM-DD HH:MM; default now)")
	cmd.Flags().StringVar(&note, "note", "", "why, or what it rests on (required to correct awareness or replace an earlier record)")
	return cmd
}

func newRiskCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "risk ID none|risk|high --reason R",
		Short: "Record the DPO's decision on a personal data breach's risk, overriding the assessment's conclusion",
		Long: "Record the decision on the breach risk of a personal data breach: none (unlikely to result in a risk: no\n" +
			"notice to the authority), risk (notify the supervisory authority) or high (also tell the people). It overrides\n" +
			"the breach risk assessment's conclusion from now on; the GDPR clocks follow it. --reason is required.\n" +
			"Lowering the risk is for the incident's dpo, its commander, or someone with the override permission.",
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				return done(c, s.svc.DecideRisk(c.Context(), s.actor, a[0], strings.ToLower(a[1]), reason),
					"Recorded the breach risk of %s as %s.", a[0], strings.ToLower(a[1]))
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why: the factors you weighed (required)")
	return cmd
}

func newCloseCmd(g *globals) *cobra.Command {
	var override string
	cmd := &cobra.Command{
		Use:   "close ID [--override REASON]",
		Short: "Close an incident (refused while required steps, running clocks or unsent notices are open, unless overridden with a reason)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				return done(c, s.svc.Close(c.Context(), s.actor, a[0], override), "Closed %s.", a[0])
			})
		},
	}
	cmd.Flags().StringVar(&override, "override", "", "close although required steps, clocks or notices are open, for this reason")
	return cmd
}

func newReopenCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "reopen ID --reason R",
		Short: "Reopen a closed incident",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			return g.withSession(c, func(s session) error {
				return done(c, s.svc.Reopen(c.Context(), s.actor, a[0], reason), "Reopened %s.", a[0])
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why it is reopened")
	return cmd
}

func newExportCmd(g *globals) *cobra.Command {
	var format, customer, output string
	cmd := &cobra.Command{
		Use:   "export ID [--format md|json] [--customer ID] [--output FILE]",
		Short: "Export an incident as Markdown or JSON; --customer holds only that customer's data",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			if format != "md" && format != "json" {
				return fmt.Errorf("unknown format %q: use md or json", format)
			}
			return g.withSession(c, func(s session) error {
				// The export is streamed, an entry at a time. The output is
				// opened only once the export is allowed and audited, and a
				// file left half written by a failure is removed.
				loc := s.cfg.Policy.Location()
				var (
					out   *bufio.Writer
					done  = func() error { return nil }
					js    *jsonStream
					ex    incident.Export
					entry func(incident.ExportEntry) error
				)
				err := s.svc.ExportStream(c.Context(), s.actor, a[0], customer, func(h incident.Export) error {
					w, closeOut, err := outputTo(c, output)
					if err != nil {
						return err
					}
					ex, done, out = h, closeOut, bufio.NewWriter(w)
					if format == "json" {
						js, err = startJSONStream(out, h, "timeline")
						entry = func(e incident.ExportEntry) error { return js.add(e) }
						return err
					}
					entry = func(e incident.ExportEntry) error {
						_, err := out.WriteString(incident.MarkdownEntry(e, loc))
						return err
					}
					_, err = out.WriteString(h.MarkdownHead(loc))
					return err
				}, func(e incident.ExportEntry) error { return entry(e) })
				switch {
				case err != nil:
				case js != nil:
					err = js.end()
				default:
					_, err = out.WriteString(ex.MarkdownFoot(loc))
				}
				if out != nil {
					if ferr := out.Flush(); err == nil {
						err = ferr
					}
				}
				if derr := done(); err == nil {
					err = derr
				}
				if err != nil && out != nil && output != "" {
					os.Remove(output) // never leave half an export looking whole
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "md", "md or json")
	cmd.Flags().StringVar(&customer, "customer", "", "only this customer's data")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (created 0600) instead of standard output")
	writesFile(cmd.Flags(), "output")
	return cmd
}

func newDirectoryCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "directory", Short: "People (who may hold roles) and customers (tenants)"}
	var asJSON bool
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Add or update people (OS users, SSH keys, permissions) and customers from a YAML file, or - for standard input (all or nothing; administrators only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, a []string) error {
			d, err := readDirectory(c, a[0])
			if err != nil {
				return err
			}
			return g.withSession(c, func(s session) error {
				r, err := s.dir.Import(c.Context(), s.actor, d)
				from := a[0]
				if from == "-" {
					from = "standard input"
				}
				return done(c, err, "Imported %d people and %d customers from %s.", r.People, r.Customers, from)
			})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List people and customers",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return g.withSession(c, func(s session) error {
				d, err := s.dir.Directory(c.Context(), s.actor)
				if err != nil {
					return err
				}
				people, customers := d.People, d.Customers
				if asJSON {
					return writeJSON(c.OutOrStdout(), d)
				}
				tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
				fmt.Fprintln(tw, "PERSON\tNAME\tSLACK\tROLES\tPERMISSIONS\tOS USERS\tSSH KEYS")
				for _, p := range people {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", safetext.Line(p.ID), safetext.Line(p.Name), safetext.Line(p.SlackUserID),
						safetext.Line(strings.Join(p.Roles, ", ")), strings.Join(p.Permissions, ", "),
						safetext.Line(strings.Join(p.OSUsers, ", ")), strings.Join(p.Fingerprints, ", "))
				}
				fmt.Fprintln(tw, "\nCUSTOMER\tNAME\tLANGUAGE\tCONTACT")
				for _, cu := range customers {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\n", cu.ID, safetext.Line(cu.Name), cu.Language, cu.ContactKind, safetext.Line(cu.Contact))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	annotate(imp, sshFileArgs)
	cmd.AddCommand(imp, list)
	return cmd
}
