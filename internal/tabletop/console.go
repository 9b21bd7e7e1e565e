package tabletop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// consoleHelp lists the console's commands.
const consoleHelp = `Facilitator:
  next                      release the next inject
  jump INJECT               jump forward to an inject (delivering those before it)
  pause | resume            stop or restart the drill clock
  speed N [step]            drill seconds per real second; "step" waits at each inject
  status | score | brief    where the drill is; the score so far; the players' briefing
  observe [@OBJECTIVE] [+|-] TEXT   an evaluator's observation (+ a strength, - to improve)
  mark EXPECTATION met|late|missed [NOTE]
  rate OBJECTIVE P|S|M|U [NOTE]
  went-well [@OBJECTIVE] TEXT                the hot wash: a strength
  to-improve [@OBJECTIVE] TEXT [| ROOT CAUSE [| OBSERVATIONS]]   an area for improvement
                            (OBSERVATIONS: their numbers, such as 1,3)
  action OWNER DUE TEXT [| key=value]...     an action item (DUE: YYYY-MM-DD or 14d); keys:
                            org, objective, element, start, improvement
  feedback [1-5] TEXT       a participant's feedback (as the current participant)
  finish | abandon REASON | quit (pauses; resume later)
Team (recorded as you, or as NAME after "as NAME"):
  answer QUESTION VALUE     an answer for the triage (lists: a,b)
  declare TITLE             classify the answers and declare the drill incident
  reassess [REASON]         classify again with the answers given since the declaration
                            (or the last reassess); REASON says what changed
  assign ROLE PERSON | ack ROLE | step STEP [NOTE] | skip STEP REASON | note TEXT
  severity SEV [REASON] | approve NOTIFICATION | submit OBLIGATION | close [REASON]
  link CUSTOMER | unlink CUSTOMER REASON   an affected customer (customer ID: link)
  as NAME                   act as another participant`

// Console is the facilitator's console of a drill: it prints the injects
// as they become due on the drill clock and carries out commands read
// from In, one per line, printing what happened to Out. `irtui drill run`
// and `irtui drill resume` wire it to the terminal.
type Console struct {
	Run *Run
	// Actor is the facilitator. The team's actions are recorded as the
	// facilitator too, until "as NAME" names another participant.
	Actor identity.Actor
	In    io.Reader
	Out   io.Writer
	// Loc is the time zone times are shown in; nil means UTC.
	Loc *time.Location
	// Poll is how often the drill clock is checked for injects that are
	// due; zero means every 250 ms.
	Poll time.Duration
}

// consoleSession is the state of one Serve.
type consoleSession struct {
	*Console
	ctx     context.Context
	actor   string         // whom the team's actions are recorded as
	answers map[string]any // the triage answers for declare
	// changed are the answers given since the last declare or reassess:
	// what a reassess changes.
	changed map[string]any
}

// consoleVerb is one console command.
type consoleVerb struct {
	do func(s *consoleSession, rest string) (string, error)
	// local: the command changes only the console's own state, so the
	// run cannot have ended by it.
	local bool
}

// errQuit stops the console, leaving the drill paused.
var errQuit = errors.New("quit")

// consoleVerbs is every console command, by its first word; verbs builds
// it on first use rather than at every start of irtui.
var (
	consoleVerbs     map[string]consoleVerb
	consoleVerbsOnce sync.Once
)

func verbs() map[string]consoleVerb {
	consoleVerbsOnce.Do(buildConsoleVerbs)
	return consoleVerbs
}

func buildConsoleVerbs() {
	facilitator := map[string]func(s *consoleSession, rest string) (string, error){
		"help": (*consoleSession).help, "?": (*consoleSession).help,
		"next": (*consoleSession).next, "jump": (*consoleSession).jump,
		"pause": (*consoleSession).pause, "resume": (*consoleSession).resume, "speed": (*consoleSession).speed,
		"status": (*consoleSession).status, "score": (*consoleSession).score, "brief": (*consoleSession).brief,
		"feedback": (*consoleSession).feedback, "module": (*consoleSession).module,
		"observe": (*consoleSession).observe, "mark": (*consoleSession).mark, "rate": (*consoleSession).rate,
		"went-well":  func(s *consoleSession, rest string) (string, error) { return s.hotWash(store.HotWashStrength, rest) },
		"to-improve": func(s *consoleSession, rest string) (string, error) { return s.hotWash(store.HotWashImprovement, rest) },
		"action":     (*consoleSession).actionItem,
		"finish":     (*consoleSession).finish, "abandon": (*consoleSession).abandon,
		// The team's actions.
		"declare": (*consoleSession).declare, "assign": (*consoleSession).assign, "ack": (*consoleSession).ack,
		"step": stepVerb(DoStep), "skip": stepVerb(DoSkip), "note": (*consoleSession).note,
		"severity": (*consoleSession).severity, "approve": (*consoleSession).approve, "submit": (*consoleSession).submit,
		"customer": (*consoleSession).customer, "close": (*consoleSession).close,
		"link": (*consoleSession).customer, "unlink": (*consoleSession).unlink, "reassess": (*consoleSession).reassess,
	}
	consoleVerbs = map[string]consoleVerb{
		"quit":   {do: func(*consoleSession, string) (string, error) { return "", errQuit }, local: true},
		"exit":   {do: func(*consoleSession, string) (string, error) { return "", errQuit }, local: true},
		"as":     {do: (*consoleSession).as, local: true},
		"answer": {do: (*consoleSession).answer, local: true},
	}
	for name, do := range facilitator {
		consoleVerbs[name] = consoleVerb{do: do}
	}
}

// Serve plays the drill until it ends, In ends (the drill is then left
// paused, to be resumed later) or ctx is cancelled (likewise).
func (c *Console) Serve(ctx context.Context) error {
	r := c.Run
	s := &consoleSession{Console: c, ctx: ctx, actor: c.Actor.ID(), answers: map[string]any{},
		changed: map[string]any{}}
	st := r.Status(c.now())
	s.say("Drill %s: %s (%s). T+0 is %s. Type help for the commands.", r.ID(), safetext.Line(st.Title),
		modeLabel(st), st.Epoch.In(c.loc()).Format("Mon 2006-01-02 15:04 MST"))
	for _, d := range r.Delivered() {
		s.say("  already delivered: %s %s", d.Offset, d.Inject.ID)
	}

	done := make(chan struct{})
	defer close(done)
	lines := readLines(c.In, done)
	poll := c.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.stop()
		case <-ticker.C:
			ds, err := r.Tick(ctx, c.now())
			if err != nil {
				s.say("error: %v", err)
			}
			for _, d := range ds {
				s.say("%s", injectText(d, c.loc()))
			}
		case line, ok := <-lines:
			if !ok {
				return s.stop()
			}
			if ended, err := s.command(line); ended || err != nil {
				return err
			}
		}
	}
}

// readLines sends the lines of in until it ends or done is closed.
func readLines(in io.Reader, done <-chan struct{}) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
	}()
	return lines
}

// command carries out one line and reports whether the console is done.
func (s *consoleSession) command(line string) (bool, error) {
	verb, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	rest = strings.TrimSpace(rest)
	if verb == "" {
		return false, nil
	}
	cmd, known := verbs()[verb]
	if !known {
		s.say("error: %v", fmt.Errorf("unknown command %q; type help", verb))
		return s.ended()
	}
	msg, err := cmd.do(s, rest)
	switch {
	case errors.Is(err, errQuit):
		return true, s.stop()
	case err != nil:
		s.say("error: %v", err)
	case msg != "":
		s.say("%s", msg)
	}
	if cmd.local {
		return false, nil
	}
	return s.ended()
}

// ended prints the final score once the run has ended.
func (s *consoleSession) ended() (bool, error) {
	r := s.Run
	if !r.Record().Ended() {
		return false, nil
	}
	if score, err := r.Score(s.ctx); err == nil {
		s.say("Final score: %s Report: irtui drill report %s", score.Headline, r.ID())
	}
	return true, nil
}

// stop leaves a run that has not ended paused, to be resumed later.
func (s *consoleSession) stop() error {
	r := s.Run
	rec := r.Record()
	if rec.Ended() {
		return nil
	}
	if r.Status(s.now()).Attached && rec.Status == store.DrillRunning {
		s.say("Left drill %s; it keeps running in the other process.", r.ID())
		return nil
	}
	bg := context.WithoutCancel(s.ctx)
	if rec.Status == store.DrillRunning {
		if err := r.Pause(bg, s.Actor); err != nil {
			return err
		}
	}
	s.say("Drill %s is paused at %s. Resume it with `irtui drill resume %s`, or end it with `irtui drill abandon %s --reason TEXT`.",
		r.ID(), r.Status(s.now()).Elapsed, r.ID(), r.ID())
	return nil
}

func (c *Console) say(format string, args ...any) {
	fmt.Fprintf(c.Out, format+"\n", args...)
}

func (c *Console) now() time.Time { return c.Run.deps.real().Now() }

func (c *Console) loc() *time.Location {
	if c.Loc == nil {
		return time.UTC
	}
	return c.Loc
}

func usage(ok bool, text string) error {
	if !ok {
		return fmt.Errorf("usage: %s", text)
	}
	return nil
}

// delivered renders the injects a command delivered.
func (s *consoleSession) delivered(ds []Delivered, err error) (string, error) {
	if err != nil {
		return "", err
	}
	var parts []string
	for _, d := range ds {
		parts = append(parts, injectText(d, s.loc()))
	}
	return strings.Join(parts, "\n"), nil
}

// apply carries out a team action as the current participant.
func (s *consoleSession) apply(a DrillAction) (string, error) {
	a.As = s.actor // a claim of the team member's name, by the facilitator
	if a.Module == "" {
		// The module being played, when it has an incident of its own.
		a.Module = s.Run.CurrentModule()
	}
	if err := s.Run.Apply(s.ctx, s.Actor, a); err != nil {
		return "", err
	}
	return "OK (" + s.Run.Status(s.now()).Elapsed.String() + ")", nil
}

// words splits rest into at most n words, the last taking the rest.
func words(rest string, n int) []string { return strings.SplitN(rest, " ", n) }

// optional returns w[i], or "" when there are fewer words.
func optional(w []string, i int) string {
	if len(w) > i {
		return w[i]
	}
	return ""
}

func (s *consoleSession) as(rest string) (string, error) {
	if rest == "" {
		return fmt.Sprintf("as NAME: whom the team's actions are recorded as (now %s)", s.actor), nil
	}
	s.actor = rest
	return fmt.Sprintf("Acting as %s.", s.actor), nil
}

func (s *consoleSession) answer(rest string) (string, error) {
	q, v, _ := strings.Cut(rest, " ")
	if q == "" || strings.TrimSpace(v) == "" {
		return "answer QUESTION VALUE", nil
	}
	s.answers[q] = answerValue(s.Run.Runbook(), q, strings.TrimSpace(v))
	s.changed[q] = s.answers[q]
	return fmt.Sprintf("%s = %v", q, s.answers[q]), nil
}

func (s *consoleSession) help(string) (string, error) { return consoleHelp, nil }

func (s *consoleSession) next(string) (string, error) {
	return s.delivered(s.Run.Next(s.ctx, s.Actor))
}

func (s *consoleSession) jump(rest string) (string, error) {
	if err := usage(rest != "", "jump INJECT"); err != nil {
		return "", err
	}
	return s.delivered(s.Run.Jump(s.ctx, s.Actor, rest))
}

func (s *consoleSession) pause(string) (string, error) { return "Paused.", s.Run.Pause(s.ctx, s.Actor) }

func (s *consoleSession) resume(string) (string, error) {
	return "Running.", s.Run.Resume(s.ctx, s.Actor)
}

func (s *consoleSession) speed(rest string) (string, error) {
	w := strings.Fields(rest)
	if err := usage(len(w) >= 1, "speed N [step]"); err != nil {
		return "", err
	}
	speed, headless, err := ParseSpeed(w[0])
	if err != nil || headless {
		return "", fmt.Errorf("speed N: a number from 0.1 to 10000")
	}
	return "Speed set.", s.Run.SetSpeed(s.ctx, s.Actor, speed, len(w) > 1 && w[1] == "step")
}

func (s *consoleSession) status(string) (string, error) {
	st := s.Run.Status(s.now())
	next := "all injects delivered"
	if st.Next != nil {
		next = fmt.Sprintf("next %s at %s", st.Next.ID, st.NextAt)
		if st.Waiting {
			next += " (waiting: type next)"
		}
	}
	return fmt.Sprintf("%s %s at %s (%s), %s; %d of %d injects delivered, %s; incident %s", st.RunID, st.State, st.Elapsed,
		st.Now.In(s.loc()).Format("Mon 15:04"), modeLabel(st), st.Delivered, st.Injects, next, dash(st.IncidentID)), nil
}

func (s *consoleSession) score(string) (string, error) {
	score, err := s.Run.Score(s.ctx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	WriteScore(&b, score)
	return strings.TrimRight(b.String(), "\n"), nil
}

// objectivePrefix splits "@O1 rest" into O1 and rest.
func objectivePrefix(rest string) (objective, text string) {
	if strings.HasPrefix(rest, "@") {
		objective, rest, _ = strings.Cut(strings.TrimPrefix(rest, "@"), " ")
	}
	return objective, strings.TrimSpace(rest)
}

func (s *consoleSession) observe(rest string) (string, error) {
	in := ObservationInput{}
	in.Objective, rest = objectivePrefix(rest)
	switch {
	case strings.HasPrefix(rest, "+ "):
		in.Kind, rest = ObserveStrength, rest[2:]
	case strings.HasPrefix(rest, "- "):
		in.Kind, rest = ObserveImprovement, rest[2:]
	}
	in.Text = rest
	if err := s.Run.Observe(s.ctx, s.Actor, in); err != nil {
		return "", err
	}
	n, err := s.Run.observations(s.ctx)
	return fmt.Sprintf("Noted as observation %d.", n), err
}

func (s *consoleSession) mark(rest string) (string, error) {
	w := words(rest, 3)
	if err := usage(len(w) >= 2, "mark EXPECTATION met|late|missed [NOTE]"); err != nil {
		return "", err
	}
	return "Marked.", s.Run.Mark(s.ctx, s.Actor, w[0], Result(w[1]), optional(w, 2))
}

func (s *consoleSession) rate(rest string) (string, error) {
	w := words(rest, 3)
	if err := usage(len(w) >= 2, "rate OBJECTIVE P|S|M|U [NOTE]"); err != nil {
		return "", err
	}
	return "Rated.", s.Run.Rate(s.ctx, s.Actor, w[0], Rating(strings.ToUpper(w[1])), optional(w, 2))
}

func (s *consoleSession) hotWash(kind, rest string) (string, error) {
	in := HotWashInput{Kind: kind}
	in.Objective, rest = objectivePrefix(rest)
	parts := strings.Split(rest, "|")
	in.Text = parts[0]
	if len(parts) > 1 {
		in.RootCause = parts[1]
	}
	if len(parts) > 2 {
		nums, err := parseNumbers(parts[2])
		if err != nil {
			return "", err
		}
		in.Observations = nums
	}
	if len(parts) > 3 {
		return "", fmt.Errorf("usage: to-improve [@OBJECTIVE] TEXT [| ROOT CAUSE [| OBSERVATIONS]]")
	}
	_, err := s.Run.AddHotWash(s.ctx, s.Actor, in)
	return "Noted.", err
}

// parseNumbers reads "1, 3" or "#1 #3".
func parseNumbers(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.ParseInt(strings.TrimPrefix(f, "#"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an observation number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// actionKeys are the options of the console's action command.
var actionKeys = map[string]func(in *ActionItemInput, v string){
	"org":          func(in *ActionItemInput, v string) { in.Organisation = v },
	"organisation": func(in *ActionItemInput, v string) { in.Organisation = v },
	"objective":    func(in *ActionItemInput, v string) { in.ObjectiveID = v },
	"element":      func(in *ActionItemInput, v string) { in.Element = v },
	"start":        func(in *ActionItemInput, v string) { in.Start = v },
	"improvement":  func(in *ActionItemInput, v string) { in.Improvement = v },
}

func (s *consoleSession) actionItem(rest string) (string, error) {
	parts := strings.Split(rest, "|")
	w := words(strings.TrimSpace(parts[0]), 3)
	if err := usage(len(w) == 3, "action OWNER DUE TEXT [| key=value]..."); err != nil {
		return "", err
	}
	in := ActionItemInput{Owner: w[0], Due: w[1], Text: w[2]}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		set, known := actionKeys[strings.TrimSpace(k)]
		if !ok || !known {
			return "", fmt.Errorf("%q: use key=value with a key of org, objective, element, start, improvement", strings.TrimSpace(p))
		}
		set(&in, strings.TrimSpace(v))
	}
	item, err := s.Run.AddActionItem(s.ctx, s.Actor, in)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Action item %d: %s (owner %s, due %s).", item.ID, item.Text, item.Owner, item.Due), nil
}

func (s *consoleSession) feedback(rest string) (string, error) {
	in := FeedbackInput{Person: s.actor, Text: rest}
	if w := words(rest, 2); len(w) == 2 {
		if n, err := strconv.Atoi(w[0]); err == nil {
			in.Rating, in.Text = n, w[1]
		}
	}
	_, err := s.Run.AddFeedback(s.ctx, s.Actor.As(s.actor), in)
	return "Thank you.", err
}

func (s *consoleSession) brief(string) (string, error) {
	return strings.TrimRight(Briefing(s.Run.Scenario()), "\n"), nil
}

func (s *consoleSession) module(string) (string, error) {
	st := s.Run.Status(s.now())
	if len(s.Run.Scenario().Modules) == 0 {
		return "This scenario has no modules.", nil
	}
	m, ok := s.Run.Scenario().Module(st.Module)
	if !ok {
		return "No module has begun yet: type next.", nil
	}
	inc := "the scenario's incident"
	if s.Run.Scenario().IncidentModule(&Inject{Module: m.ID}) != "" {
		inc = "its own incident (" + dash(st.ModuleIncident) + ", runbook " + st.ModuleRunbook + ")"
	}
	return fmt.Sprintf("Module %s: %s, played on %s.", m.ID, safetext.Line(m.Title), inc), nil
}

func (s *consoleSession) finish(string) (string, error) {
	return "Finished.", s.Run.Finish(s.ctx, s.Actor)
}

func (s *consoleSession) abandon(rest string) (string, error) {
	return "Abandoned.", s.Run.Abandon(s.ctx, s.Actor, rest)
}

func (s *consoleSession) declare(rest string) (string, error) {
	if err := usage(rest != "", "declare TITLE"); err != nil {
		return "", err
	}
	if _, err := s.apply(DrillAction{Do: DoDeclare, Title: rest, Answers: s.answers}); err != nil {
		return "", err
	}
	clear(s.changed)
	return fmt.Sprintf("Declared %s; the team works it with the commands below, or in the app.", s.Run.IncidentID()), nil
}

func (s *consoleSession) assign(rest string) (string, error) {
	w := strings.Fields(rest)
	if err := usage(len(w) == 2, "assign ROLE PERSON"); err != nil {
		return "", err
	}
	return s.apply(DrillAction{Do: DoAssign, Role: w[0], Person: w[1]})
}

func (s *consoleSession) ack(rest string) (string, error) {
	return s.apply(DrillAction{Do: DoAck, Role: rest})
}

// stepVerb is "step STEP [NOTE]" or "skip STEP REASON".
func stepVerb(do string) func(s *consoleSession, rest string) (string, error) {
	return func(s *consoleSession, rest string) (string, error) {
		w := words(rest, 2)
		return s.apply(DrillAction{Do: do, Step: w[0], Text: optional(w, 1)})
	}
}

func (s *consoleSession) note(rest string) (string, error) {
	return s.apply(DrillAction{Do: DoNote, Text: rest})
}

func (s *consoleSession) severity(rest string) (string, error) {
	w := words(rest, 2)
	return s.apply(DrillAction{Do: DoSeverity, Severity: strings.ToUpper(w[0]), Text: optional(w, 1)})
}

func (s *consoleSession) approve(rest string) (string, error) {
	return s.apply(DrillAction{Do: DoApprove, Notification: rest})
}

func (s *consoleSession) submit(rest string) (string, error) {
	return s.apply(DrillAction{Do: DoSubmit, Obligation: rest})
}

func (s *consoleSession) customer(rest string) (string, error) {
	if err := usage(rest != "", "link CUSTOMER"); err != nil {
		return "", err
	}
	return s.apply(DrillAction{Do: DoLink, Customer: rest})
}

func (s *consoleSession) unlink(rest string) (string, error) {
	w := words(rest, 2)
	if err := usage(len(w) == 2 && strings.TrimSpace(w[1]) != "", "unlink CUSTOMER REASON"); err != nil {
		return "", err
	}
	return s.apply(DrillAction{Do: DoUnlink, Customer: w[0], Text: w[1]})
}

// reassess classifies the drill incident again with the answers given
// since the declaration or the last reassess; the others stay as they are.
func (s *consoleSession) reassess(rest string) (string, error) {
	if len(s.changed) == 0 {
		return "", refused("nothing to re-assess: give the new answers first (answer QUESTION VALUE), then reassess [REASON]")
	}
	module := s.Run.CurrentModule()
	res, err := s.Run.Reassess(s.ctx, s.Actor.As(s.actor), module, s.changed, rest)
	if err != nil {
		return "", err
	}
	clear(s.changed)
	return fmt.Sprintf("Re-assessed %s: %s", res.Incident.ID, safetext.Line(res.Summary())), nil
}

func (s *consoleSession) close(rest string) (string, error) {
	return s.apply(DrillAction{Do: DoClose, Text: rest})
}

// ParseSpeed reads a drill speed: a number of drill seconds per real
// second, or "max" for a headless run.
func ParseSpeed(s string) (speed float64, headless bool, err error) {
	if strings.EqualFold(s, "max") {
		return 0, true, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 10000 {
		return 0, false, fmt.Errorf("bad --speed %q: use a number from 0.1 to 10000 (60 plays an hour a minute) or max", s)
	}
	return f, false, nil
}

func modeLabel(st Status) string {
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
func injectText(d Delivered, loc *time.Location) string {
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
		fmt.Fprintf(&b, "  expected (facilitator): %s — %s%s\n", e.ID, safetext.Line(Describe(e)), within)
	}
	return strings.TrimRight(b.String(), "\n")
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func optOffset(o *Offset) string {
	if o == nil {
		return "—"
	}
	return o.String()
}

// WriteScore writes a drill's score as text tables, as `irtui drill score`
// and the console's score command show it.
func WriteScore(w io.Writer, s Score) {
	fmt.Fprintf(w, "%s %s (%s, scored at %s): %s\n", s.RunID, s.ScenarioID, s.Status, s.At, s.Headline)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nEXPECTED\tINJECT\tTARGET\tDONE\tRESULT\tWHAT")
	for _, e := range criticalFirst(s.Expectations) {
		res := string(e.Result)
		if e.Overdue {
			res += " (overdue)"
		}
		if e.Manual {
			res += " (marked)"
		}
		what := safetext.Line(e.Description)
		if e.Critical {
			what = "CRITICAL " + what
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Inject, optOffset(e.Due), optOffset(e.Done), res, what)
	}
	fmt.Fprintln(tw, "\nTIME TO\tAT\tTARGET\tRESULT\t\t")
	for _, t := range s.Times {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t\n", t.Label, optOffset(t.At), optOffset(t.Target), dash(string(t.Result)))
	}
	if len(s.Clocks) > 0 {
		fmt.Fprintln(tw, "\nCLOCK\tSTARTED\tDUE\tSUBMITTED\tSTATE\tHOW")
		for _, c := range s.Clocks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Obligation+prefixed(" on ", c.Incident), optOffset(c.Start), optOffset(c.Due),
				optOffset(c.Submitted), c.State, dash(c.Via))
		}
	}
	fmt.Fprintln(tw, "\nOBJECTIVE\tCAPABILITY\tRATING\tSUGGESTED\tMET/LATE/MISSED\t")
	for _, o := range s.Objectives {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d/%d\t\n", o.ID, o.Capability, dash(string(o.Rating)), dash(string(o.Suggested)), o.Met, o.Late, o.Missed)
	}
	tw.Flush()
}
