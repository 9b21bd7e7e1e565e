package runbook

// Table-top scenarios and drill action files. A scenario is a rehearsal of
// one runbook: objectives tied to runbooks and HSEEP core capabilities, the
// people in play, and injects (timed pieces of news) with the actions the
// team is expected to take and by when. They are decoded with the same
// strict AST decoder as runbooks and every problem is reported as
// path:line:col. docs/scenario-format.md describes the format.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/strictyaml"
)

// Scenario is one table-top exercise as written in YAML.
type Scenario struct {
	ID      string `yaml:"id" json:"id"`
	Title   string `yaml:"title" json:"title"`
	Version string `yaml:"version" json:"version"`
	// Type is the HSEEP exercise type: tabletop (discussion-based, the
	// default) or drill (operations-based).
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// Runbook is the runbook the drill incident is declared with.
	Runbook string `yaml:"runbook" json:"runbook"`
	// Start is the scenario time at T+0: "Friday 23:10" (the latest such
	// moment before the drill starts), "23:10", or a date and time.
	Start string `yaml:"start,omitempty" json:"start,omitempty"`
	// Duration is the planned length of play ("4h").
	Duration     string        `yaml:"duration,omitempty" json:"duration,omitempty"`
	Summary      string        `yaml:"summary" json:"summary"` // background and initial situation, Markdown
	References   []string      `yaml:"references,omitempty" json:"references,omitempty"`
	Objectives   []Objective   `yaml:"objectives" json:"objectives"`
	Participants []Participant `yaml:"participants" json:"participants"`
	Assumptions  []string      `yaml:"assumptions,omitempty" json:"assumptions,omitempty"`
	Injects      []Inject      `yaml:"injects" json:"injects"`
	HotWash      []string      `yaml:"hot_wash,omitempty" json:"hot_wash,omitempty"` // questions for the hot wash

	// Set by the loader, not by the file.
	Source Source `yaml:"-" json:"source"`
	// Length is the planned end of play: Duration, or the last inject.
	Length time.Duration `yaml:"-" json:"length_ns"`
}

// Objective is what the exercise is meant to show, tied to a runbook and an
// HSEEP core capability; the facilitator rates each P, S, M or U.
type Objective struct {
	ID         string `yaml:"id" json:"id"`
	Text       string `yaml:"text" json:"text"`
	Runbook    string `yaml:"runbook" json:"runbook"`
	Capability string `yaml:"capability" json:"capability"`
}

// Participant is a role in play: a runbook role or an exercise role
// (facilitator, controller, evaluator, observer, player).
type Participant struct {
	Role string `yaml:"role" json:"role"`
	Who  string `yaml:"who" json:"who"`
}

// Inject is one piece of scenario news delivered to the players.
type Inject struct {
	ID string `yaml:"id" json:"id"`
	// At is the offset from T+0 ("0m", "T+15m", "1h30m"), or from the
	// inject named by After.
	At    string `yaml:"at,omitempty" json:"at,omitempty"`
	After string `yaml:"after,omitempty" json:"after,omitempty"`
	// Channel is how the news arrives: alert, email, phone, slack, news or
	// customer.
	Channel   string        `yaml:"channel" json:"channel"`
	From      string        `yaml:"from,omitempty" json:"from,omitempty"`
	To        string        `yaml:"to,omitempty" json:"to,omitempty"`
	Content   string        `yaml:"content" json:"content"` // Markdown
	Expect    []Expectation `yaml:"expect,omitempty" json:"expect,omitempty"`
	Questions []string      `yaml:"questions,omitempty" json:"questions,omitempty"` // discussion questions

	// Offset is the resolved time of the inject from T+0.
	Offset time.Duration `yaml:"-" json:"offset_ns"`
}

// Expectation is an action the team is expected to take after an inject,
// with its target time.
type Expectation struct {
	ID string `yaml:"id" json:"id"`
	// Action is one of ExpectActions.
	Action       string `yaml:"action" json:"action"`
	Severity     string `yaml:"severity,omitempty" json:"severity,omitempty"`         // classify: this severity or worse
	Role         string `yaml:"role,omitempty" json:"role,omitempty"`                 // assign, ack
	Step         string `yaml:"step,omitempty" json:"step,omitempty"`                 // step
	Notification string `yaml:"notification,omitempty" json:"notification,omitempty"` // approve
	Audience     string `yaml:"audience,omitempty" json:"audience,omitempty"`         // approve
	Obligation   string `yaml:"obligation,omitempty" json:"obligation,omitempty"`     // submit
	// Within is the target: a duration counted from the inject, or
	// "target" for the runbook's own target (a step's target from
	// declaration, a notification's "within" from its trigger, or the due
	// time of the obligation it serves).
	Within    string `yaml:"within,omitempty" json:"within,omitempty"`
	Objective string `yaml:"objective,omitempty" json:"objective,omitempty"`
	Text      string `yaml:"text,omitempty" json:"text,omitempty"` // what is expected, in words

	// Target is Within resolved against the runbook; nil means no target
	// time (met when done at all before the end of play).
	Target *Target `yaml:"-" json:"target,omitempty"`
}

// Target is when an expectation is due: After past the moment named by
// From.
type Target struct {
	// From is "inject" (the inject's time), "declared", "classified",
	// "flag:NAME" (the first classification that set the flag) or
	// "obligation" (the due time of Obligation under the policy).
	From       string        `json:"from"`
	After      time.Duration `json:"after_ns,omitempty"`
	Obligation string        `json:"obligation,omitempty"`
}

// The kinds of expected action.
const (
	ExpectDeclare  = "declare"  // the drill incident is declared
	ExpectClassify = "classify" // classified as an incident of Severity or worse
	ExpectAssign   = "assign"   // Role is assigned
	ExpectAck      = "ack"      // Role is acknowledged by its holder
	ExpectStep     = "step"     // Step is done
	ExpectApprove  = "approve"  // a notice (Notification, or any to Audience) is approved or sent
	ExpectSubmit   = "submit"   // the notice Obligation requires is recorded as submitted
	ExpectCustomer = "customer" // an affected customer is linked
	ExpectClose    = "close"    // the incident is closed
	ExpectManual   = "manual"   // only the facilitator can tell (Text says what)
)

// ExpectActions lists the kinds of expected action.
var ExpectActions = []string{ExpectDeclare, ExpectClassify, ExpectAssign, ExpectAck, ExpectStep, ExpectApprove,
	ExpectSubmit, ExpectCustomer, ExpectClose, ExpectManual}

// Channels an inject may arrive on.
var Channels = []string{"alert", "email", "phone", "slack", "news", "customer"}

// ScenarioTypes are the HSEEP exercise types a scenario may be.
var ScenarioTypes = []string{"tabletop", "drill"}

// ExerciseRoles are the participant roles besides the runbook's own.
var ExerciseRoles = []string{"facilitator", "controller", "evaluator", "observer", "player"}

// Capabilities are the 32 core capabilities of the US National
// Preparedness Goal that HSEEP objectives are mapped to, in snake_case.
var Capabilities = []string{
	"planning", "public_information_and_warning", "operational_coordination",
	"intelligence_and_information_sharing", "interdiction_and_disruption",
	"screening_search_and_detection", "forensics_and_attribution",
	"access_control_and_identity_verification", "cybersecurity", "physical_protective_measures",
	"risk_management_for_protection_programs_and_activities", "supply_chain_integrity_and_security",
	"community_resilience", "long_term_vulnerability_reduction", "risk_and_disaster_resilience_assessment",
	"threats_and_hazards_identification", "infrastructure_systems", "critical_transportation",
	"environmental_response_health_and_safety", "fatality_management_services",
	"fire_management_and_suppression", "logistics_and_supply_chain_management", "mass_care_services",
	"mass_search_and_rescue_operations", "on_scene_security_protection_and_law_enforcement",
	"operational_communications", "public_health_healthcare_and_emergency_medical_services",
	"situational_assessment", "economic_recovery", "health_and_social_services", "housing",
	"natural_and_cultural_resources",
}

// Ratings are the HSEEP evaluation ratings of an objective.
var Ratings = []string{"P", "S", "M", "U"}

// localID is the pattern of ids that live inside one scenario (objectives,
// injects, expectations): upper case is allowed, as in "O1".
var localID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func init() {
	strictyaml.Register(reflect.TypeFor[Scenario](), reflect.TypeFor[Objective](), reflect.TypeFor[Participant](),
		reflect.TypeFor[Inject](), reflect.TypeFor[Expectation](), reflect.TypeFor[DrillActions](),
		reflect.TypeFor[DrillAction](), reflect.TypeFor[DrillHotWash](), reflect.TypeFor[DrillActionItem]())
}

// Inject returns the inject with id.
func (s *Scenario) Inject(id string) (*Inject, bool) {
	for i := range s.Injects {
		if s.Injects[i].ID == id {
			return &s.Injects[i], true
		}
	}
	return nil, false
}

// Expectation returns the expectation with id and the inject it belongs to.
func (s *Scenario) Expectation(id string) (*Expectation, *Inject, bool) {
	for i := range s.Injects {
		for j := range s.Injects[i].Expect {
			if s.Injects[i].Expect[j].ID == id {
				return &s.Injects[i].Expect[j], &s.Injects[i], true
			}
		}
	}
	return nil, nil, false
}

// Objective returns the objective with id.
func (s *Scenario) Objective(id string) (*Objective, bool) {
	for i := range s.Objectives {
		if s.Objectives[i].ID == id {
			return &s.Objectives[i], true
		}
	}
	return nil, false
}

// ParseOffset reads a time offset of a scenario or actions file: "0",
// "15m", "T+15m", "1h30m", "2d". Unlike ParseDuration it accepts zero.
func ParseOffset(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad time offset %q: use a duration from the start such as 0m, 15m, T+1h30m or 2d", s)
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(strings.TrimPrefix(t, "T+"), "t+")
	if t == "" {
		return 0, bad
	}
	if t == "0" {
		return 0, nil
	}
	if strings.HasSuffix(t, "d") || strings.HasSuffix(t, "w") {
		d, err := ParseDuration(t)
		if err != nil {
			return 0, bad
		}
		return d, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
}

// FormatOffset renders an offset as "T+1h05m".
func FormatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var out string
	switch {
	case h > 0:
		out = fmt.Sprintf("%dh%02dm", h, m)
	default:
		out = fmt.Sprintf("%dm", m)
	}
	if s != 0 {
		out += fmt.Sprintf("%02ds", s)
	}
	return "T" + sign + out
}

// StartSpec is a parsed scenario start: a weekday and time of day, a time
// of day, or a fixed moment.
type StartSpec struct {
	Weekday    time.Weekday
	HasWeekday bool
	Hour, Min  int
	Fixed      time.Time // set for a date and time
	Local      bool      // Fixed is a wall-clock time in the policy's zone
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseStart reads a scenario's start: "Friday 23:10", "Fri 23:10",
// "23:10", RFC 3339, or "2006-01-02 15:04" (in the policy's time zone).
func ParseStart(s string) (StartSpec, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return StartSpec{Fixed: t}, nil
	}
	if t, err := time.Parse("2006-01-02 15:04", s); err == nil {
		return StartSpec{Fixed: t, Local: true}, nil
	}
	bad := fmt.Errorf("bad start %q: use a weekday and time (Friday 23:10), a time (23:10) or a date and time (2026-03-13 23:10)", s)
	spec := StartSpec{}
	rest := s
	if day, tm, ok := strings.Cut(s, " "); ok {
		wd, known := weekdays[strings.ToLower(strings.TrimSpace(day))]
		if !known {
			return StartSpec{}, bad
		}
		spec.Weekday, spec.HasWeekday, rest = wd, true, strings.TrimSpace(tm)
	}
	t, err := time.Parse("15:04", rest)
	if err != nil {
		return StartSpec{}, bad
	}
	spec.Hour, spec.Min = t.Hour(), t.Minute()
	return spec, nil
}

// Epoch is the drill time at T+0 for a drill started at now: the fixed
// moment, or the latest moment at or before now that matches the weekday
// and time of day, in loc.
func (s StartSpec) Epoch(now time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if !s.Fixed.IsZero() {
		if s.Local {
			f := s.Fixed
			return time.Date(f.Year(), f.Month(), f.Day(), f.Hour(), f.Minute(), 0, 0, loc)
		}
		return s.Fixed
	}
	n := now.In(loc)
	t := time.Date(n.Year(), n.Month(), n.Day(), s.Hour, s.Min, 0, 0, loc)
	if t.After(n) {
		t = t.AddDate(0, 0, -1)
	}
	if s.HasWeekday {
		back := (int(t.Weekday()) - int(s.Weekday) + 7) % 7
		t = t.AddDate(0, 0, -back)
	}
	return t
}

// scenarioCtx is what validating a scenario needs from outside.
type scenarioCtx struct {
	runbooks func(string) (*Runbook, bool)
	opts     ValidateOptions
}

// ParseScenario decodes and validates one scenario file against the
// runbooks runbooks finds. It returns the scenario, or every problem, each
// with its path:line:col.
func ParseScenario(path string, data []byte, runbooks func(id string) (*Runbook, bool), opts ValidateOptions) (*Scenario, strictyaml.Problems) {
	doc, probs := strictyaml.Parse(path, data)
	if probs != nil {
		return nil, probs
	}
	sc := new(Scenario)
	probs = doc.Decode(sc)
	if !doc.IsMapping() {
		if len(probs) == 0 {
			probs = strictyaml.Problems{{Path: path, Line: 1, Col: 1, Msg: "a scenario file must be a mapping of fields (id, title, injects, ...)"}}
		}
		return nil, probs
	}
	if runbooks == nil {
		runbooks = func(string) (*Runbook, bool) { return nil, false }
	}
	issues := validateScenario(sc, scenarioCtx{runbooks: runbooks, opts: opts})
	probs = append(probs, doc.Report(exportIssues(issues), probs)...)
	if len(probs) > 0 {
		probs.Sort()
		return nil, probs
	}
	sc.Source = Source{Path: path, Hash: hash(data)}
	return sc, nil
}

func exportIssues(issues []issue) []strictyaml.Issue {
	out := make([]strictyaml.Issue, len(issues))
	for i, is := range issues {
		out[i] = is.export()
	}
	return out
}

func (v *validator) localID(at path, kind, id string, seen map[string]bool) {
	switch {
	case id == "":
		v.missing(at.with("id"), "id")
	case !localID.MatchString(id):
		v.addf(at.with("id"), "%s id %q must be letters, digits, '-', '_' or '.'", kind, id)
	case seen[id]:
		v.addf(at.with("id"), "duplicate %s id %q", kind, id)
	}
	seen[id] = true
}

// suggestName offers the closest of names for a misspelt one.
func suggestName(got string, names []string) string { return strictyaml.DidYouMean(got, names) }

func validateScenario(sc *Scenario, cx scenarioCtx) []issue {
	v := &validator{obligations: cx.opts.Obligation}
	root := path{}
	v.required(root, "id", sc.ID)
	if sc.ID != "" && !idPattern.MatchString(sc.ID) {
		v.addf(root.with("id"), "id %q must be lower case letters, digits, '-', '_' or '.'", sc.ID)
	}
	v.required(root, "title", sc.Title)
	v.required(root, "version", sc.Version)
	v.required(root, "summary", sc.Summary)
	if sc.Type != "" && !slices.Contains(ScenarioTypes, sc.Type) {
		v.addf(root.with("type"), "unknown exercise type %q; use %s", sc.Type, strings.Join(ScenarioTypes, " or "))
	}
	var rb *Runbook
	if sc.Runbook == "" {
		v.missing(root.with("runbook"), "runbook")
	} else if r, ok := cx.runbooks(sc.Runbook); ok {
		rb = r
	} else {
		v.addf(root.with("runbook"), "unknown runbook %q; `irtui runbooks list` shows the known ones", sc.Runbook)
	}
	if sc.Start != "" {
		if _, err := ParseStart(sc.Start); err != nil {
			v.addf(root.with("start"), "%v", err)
		}
	}
	var planned time.Duration
	if sc.Duration != "" {
		d, err := ParseDuration(sc.Duration)
		if err != nil {
			v.addf(root.with("duration"), "%v", err)
		} else {
			planned = d
		}
	}

	objectives := map[string]bool{}
	if len(sc.Objectives) == 0 {
		v.missing(root.with("objectives"), "objectives")
	}
	for i, o := range sc.Objectives {
		at := path{"objectives", i}
		v.localID(at, "objective", o.ID, objectives)
		v.required(at, "text", o.Text)
		if o.Runbook == "" {
			v.missing(at.with("runbook"), "runbook")
		} else if _, ok := cx.runbooks(o.Runbook); !ok {
			v.addf(at.with("runbook"), "unknown runbook %q", o.Runbook)
		}
		if o.Capability == "" {
			v.missing(at.with("capability"), "capability")
		} else if !slices.Contains(Capabilities, o.Capability) {
			v.addf(at.with("capability"), "unknown core capability %q%s; docs/scenario-format.md lists them", o.Capability, suggestName(o.Capability, Capabilities))
		}
	}

	var roles []string
	if rb != nil {
		for _, r := range rb.Roles {
			roles = append(roles, r.ID)
		}
	}
	if len(sc.Participants) == 0 {
		v.missing(root.with("participants"), "participants")
	}
	for i, p := range sc.Participants {
		at := path{"participants", i}
		switch {
		case p.Role == "":
			v.missing(at.with("role"), "role")
		case rb != nil && !slices.Contains(roles, p.Role) && !slices.Contains(ExerciseRoles, p.Role):
			v.addf(at.with("role"), "role %q is neither a role of runbook %s (%s) nor an exercise role (%s)",
				p.Role, rb.ID, strings.Join(roles, ", "), strings.Join(ExerciseRoles, ", "))
		}
		v.required(at, "who", p.Who)
	}

	v.injects(sc, rb, objectives)
	length := planned
	for i, in := range sc.Injects {
		length = max(length, in.Offset)
		if planned > 0 && in.Offset > planned {
			v.addf(path{"injects", i, offsetField(in)}, "inject %q at %s comes after the end of play (duration %s)",
				in.ID, FormatOffset(in.Offset), sc.Duration)
		}
	}
	sc.Length = length
	return v.issues
}

func offsetField(in Inject) string {
	if in.At == "" && in.After != "" {
		return "after"
	}
	return "at"
}

// injects checks the injects, resolves their offsets (following "after"
// chains, which must not form a cycle) and checks that they are listed in
// time order.
func (v *validator) injects(sc *Scenario, rb *Runbook, objectives map[string]bool) {
	if len(sc.Injects) == 0 {
		v.missing(path{"injects"}, "injects")
		return
	}
	index := map[string]int{}
	seen := map[string]bool{}
	for i, in := range sc.Injects {
		at := path{"injects", i}
		v.localID(at, "inject", in.ID, seen)
		if _, dup := index[in.ID]; !dup && in.ID != "" {
			index[in.ID] = i
		}
		if in.Channel == "" {
			v.missing(at.with("channel"), "channel")
		} else if !slices.Contains(Channels, in.Channel) {
			v.addf(at.with("channel"), "unknown channel %q; use %s", in.Channel, strings.Join(Channels, ", "))
		}
		v.required(at, "content", in.Content)
		if in.At == "" && in.After == "" {
			v.addf(at.with("id"), "inject %q needs at (an offset from the start) or after (an earlier inject)", in.ID)
		}
		for j, q := range in.Questions {
			if strings.TrimSpace(q) == "" {
				v.addf(at.with("questions", j), "empty discussion question")
			}
		}
	}

	// Resolve offsets. state: 0 unvisited, 1 on the current chain, 2 done.
	state := make([]int, len(sc.Injects))
	ok := make([]bool, len(sc.Injects))
	var resolve func(i int, chain []int) bool
	resolve = func(i int, chain []int) bool {
		switch state[i] {
		case 2:
			return ok[i]
		case 1:
			start := slices.Index(chain, i)
			names := make([]string, 0, len(chain)-start+1)
			for _, c := range chain[start:] {
				names = append(names, sc.Injects[c].ID)
			}
			names = append(names, sc.Injects[i].ID)
			v.addf(path{"injects", i, "after"}, "the after chain of inject %q forms a cycle: %s", sc.Injects[i].ID, strings.Join(names, " -> "))
			return false
		}
		state[i] = 1
		in := &sc.Injects[i]
		good := true
		var off time.Duration
		if in.At != "" {
			d, err := ParseOffset(in.At)
			if err != nil {
				v.addf(path{"injects", i, "at"}, "%v", err)
				good = false
			}
			off = d
		}
		if in.After != "" {
			j, known := index[in.After]
			switch {
			case !known:
				v.addf(path{"injects", i, "after"}, "unknown inject %q%s", in.After, suggestName(in.After, injectIDs(sc)))
				good = false
			case j == i:
				v.addf(path{"injects", i, "after"}, "inject %q cannot come after itself", in.ID)
				good = false
			default:
				if resolve(j, append(chain, i)) {
					off += sc.Injects[j].Offset
				} else {
					good = false
				}
			}
		}
		in.Offset = off
		state[i], ok[i] = 2, good
		return good
	}
	for i := range sc.Injects {
		resolve(i, nil)
	}
	last := -1
	for i, in := range sc.Injects {
		if !ok[i] {
			continue
		}
		if last >= 0 && in.Offset < sc.Injects[last].Offset {
			prev := sc.Injects[last]
			v.addf(path{"injects", i, offsetField(in)}, "inject %q at %s is listed after %q at %s; list injects in time order",
				in.ID, FormatOffset(in.Offset), prev.ID, FormatOffset(prev.Offset))
		}
		last = i
	}

	expectIDs := map[string]bool{}
	for i := range sc.Injects {
		for j := range sc.Injects[i].Expect {
			v.expectation(path{"injects", i, "expect", j}, &sc.Injects[i].Expect[j], rb, objectives, expectIDs)
		}
	}
}

func injectIDs(sc *Scenario) []string {
	ids := make([]string, 0, len(sc.Injects))
	for _, in := range sc.Injects {
		ids = append(ids, in.ID)
	}
	return ids
}

// expectFields says which of an expectation's specific fields each action
// takes; the first listed is required (approve needs one of its two).
var expectFields = map[string][]string{
	ExpectClassify: {"severity"},
	ExpectAssign:   {"role"},
	ExpectAck:      {"role"},
	ExpectStep:     {"step"},
	ExpectApprove:  {"notification", "audience"},
	ExpectSubmit:   {"obligation"},
	ExpectManual:   {"text"},
}

func (v *validator) expectation(at path, e *Expectation, rb *Runbook, objectives, seen map[string]bool) {
	v.localID(at, "expectation", e.ID, seen)
	if e.Action == "" {
		v.missing(at.with("action"), "action")
		return
	}
	if !slices.Contains(ExpectActions, e.Action) {
		v.addf(at.with("action"), "unknown action %q%s; use %s", e.Action, suggestName(e.Action, ExpectActions), strings.Join(ExpectActions, ", "))
		return
	}
	allowed := expectFields[e.Action]
	set := map[string]string{"severity": e.Severity, "role": e.Role, "step": e.Step,
		"notification": e.Notification, "audience": e.Audience, "obligation": e.Obligation}
	for _, name := range []string{"severity", "role", "step", "notification", "audience", "obligation"} {
		if set[name] != "" && !slices.Contains(allowed, name) {
			v.addf(at.with(name), "%s does not apply to action %s", name, e.Action)
		}
	}
	// An objective without a usable id is reported already; do not
	// report every reference to it too.
	if e.Objective != "" && !objectives[e.Objective] && !objectives[""] {
		v.addf(at.with("objective"), "unknown objective %q", e.Objective)
	}
	var stepTarget string
	stepKnown := false
	var note *Notification
	switch e.Action {
	case ExpectClassify:
		if e.Severity == "" {
			v.missing(at.with("severity"), "severity")
		} else if !slices.Contains(Severities, e.Severity) {
			v.addf(at.with("severity"), "unknown severity %q; use SEV1, SEV2, SEV3 or SEV4", e.Severity)
		}
	case ExpectAssign, ExpectAck:
		if e.Role == "" {
			v.missing(at.with("role"), "role")
		} else if rb != nil && !slices.ContainsFunc(rb.Roles, func(r Role) bool { return r.ID == e.Role }) {
			v.addf(at.with("role"), "role %q is not a role of runbook %s", e.Role, rb.ID)
		}
	case ExpectStep:
		if e.Step == "" {
			v.missing(at.with("step"), "step")
		} else if rb != nil {
			var ids []string
			found := false
			for _, ph := range rb.Phases {
				for _, st := range ph.Steps {
					ids = append(ids, st.ID)
					if st.ID == e.Step {
						found, stepTarget = true, st.Target
					}
				}
			}
			if !found {
				v.addf(at.with("step"), "unknown step %q in runbook %s%s", e.Step, rb.ID, suggestName(e.Step, ids))
			}
			stepKnown = found
		}
	case ExpectApprove:
		if e.Notification == "" && e.Audience == "" {
			v.addf(at.with("action"), "an approve expectation needs notification (an id in runbook %s) or audience", orUnknown(rb))
		}
		if e.Audience != "" && !slices.Contains(Audiences, e.Audience) {
			v.addf(at.with("audience"), "unknown audience %q; use %s", e.Audience, strings.Join(Audiences, ", "))
		}
		if e.Notification != "" && rb != nil {
			var ids []string
			for i := range rb.Notify {
				ids = append(ids, rb.Notify[i].ID)
				if rb.Notify[i].ID == e.Notification {
					note = &rb.Notify[i]
				}
			}
			switch {
			case note == nil:
				v.addf(at.with("notification"), "unknown notification %q in runbook %s%s", e.Notification, rb.ID, suggestName(e.Notification, ids))
			case e.Audience != "" && e.Audience != note.Audience:
				v.addf(at.with("audience"), "notification %q is addressed to %s, not %s", e.Notification, note.Audience, e.Audience)
			default:
				e.Audience = note.Audience
			}
		}
	case ExpectSubmit:
		if e.Obligation == "" {
			v.missing(at.with("obligation"), "obligation")
		} else if v.obligations != nil && !v.obligations(e.Obligation) {
			v.addf(at.with("obligation"), "unknown obligation %q; `irtui classify --help` lists the known ones", e.Obligation)
		}
	case ExpectManual:
		v.required(at, "text", e.Text)
	}

	e.Target = nil
	switch {
	case e.Within == "":
	case e.Within == "target":
		switch {
		case e.Action == ExpectStep && stepTarget != "":
			d, _ := ParseDuration(stepTarget)
			e.Target = &Target{From: "declared", After: d}
		case e.Action == ExpectStep:
			if stepKnown {
				v.addf(at.with("within"), "step %q has no target in runbook %s; give a duration such as 1h", e.Step, rb.ID)
			}
		case e.Action == ExpectApprove && note != nil && note.Within != "":
			d, _ := ParseDuration(note.Within)
			from := "inject"
			switch {
			case note.On == "declared" || note.On == "classified":
				from = note.On
			case strings.HasPrefix(note.On, "flag:"):
				from = note.On
			}
			e.Target = &Target{From: from, After: d}
		case e.Action == ExpectApprove && note != nil && note.Obligation != "" && note.Obligation != "none":
			e.Target = &Target{From: "obligation", Obligation: note.Obligation}
		case e.Action == ExpectApprove && e.Audience == "customers" && e.Notification == "":
			e.Target = &Target{From: "obligation", Obligation: "customer-notice"}
		case e.Action == ExpectSubmit && e.Obligation != "":
			e.Target = &Target{From: "obligation", Obligation: e.Obligation}
		case e.Action == ExpectApprove && note == nil && e.Notification != "":
			// unknown notification: reported above
		default:
			v.addf(at.with("within"), "within: target needs a runbook target: a step with a target, a notification with "+
				"within or an obligation, or an obligation to submit; give a duration such as 30m")
		}
	default:
		d, err := ParseDuration(e.Within)
		if err != nil {
			v.addf(at.with("within"), "%v (or target, for the runbook's own target)", err)
		} else {
			e.Target = &Target{From: "inject", After: d}
		}
	}
}

func orUnknown(rb *Runbook) string {
	if rb == nil {
		return "(unknown)"
	}
	return rb.ID
}

// ScenarioLibrary is the set of loaded scenarios and the files that failed.
type ScenarioLibrary struct {
	Scenarios []*Scenario // sorted by id
	Failed    strictyaml.Problems
	byID      map[string]*Scenario
}

// Get returns the scenario with id.
func (l *ScenarioLibrary) Get(id string) (*Scenario, bool) {
	s, ok := l.byID[id]
	return s, ok
}

// ScenarioDir is the sub-folder of a runbook folder (and of the bundled
// runbooks) that holds scenarios.
const ScenarioDir = "scenarios"

// LoadScenarios reads the bundled scenarios and those in the scenarios/
// sub-folder of every runbook folder, checking their references against
// lib. A folder scenario with a bundled scenario's id replaces it.
func LoadScenarios(opts Options, lib *Library) *ScenarioLibrary {
	return buildScenarios(scenarioFiles(opts), lib.Get, opts.Validate, true)
}

// scenarioFiles lists the scenario files of the bundled runbooks and of
// the configured folders.
func scenarioFiles(opts Options) []strictyaml.File {
	var files []strictyaml.File
	if opts.Bundled != nil {
		if bundled, err := strictyaml.ReadFS(opts.Bundled, ScenarioDir); err == nil {
			files = append(files, bundled...)
		}
	}
	for _, dir := range opts.Dirs {
		files = append(files, scenarioDirFiles(filepath.Join(dir, ScenarioDir))...)
	}
	return files
}

// scenarioDirFiles lists the scenario files in dir; a missing folder has
// none.
func scenarioDirFiles(dir string) []strictyaml.File {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return nil
	}
	return strictyaml.ReadDir(context.TODO(), strictyaml.Scenario, dir)
}

// isScenarioPath reports whether a file named on the lint command line is
// a scenario: it sits in a scenarios/ folder or has a top-level injects
// key.
func isScenarioPath(p string) bool {
	if filepath.Base(filepath.Dir(p)) == ScenarioDir {
		return true
	}
	data, err := strictyaml.ReadFile(context.TODO(), strictyaml.Scenario, p)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "injects:") {
			return true
		}
	}
	return false
}

// splitLintDir lists a folder given to lint: its runbooks and the
// scenarios in its scenarios/ sub-folder, or, for a scenarios/ folder
// itself, its scenarios.
func splitLintDir(dir string) (runbooks, scenarios []strictyaml.File) {
	if filepath.Base(filepath.Clean(dir)) == ScenarioDir {
		return nil, scenarioDirFiles(dir)
	}
	return dirFiles(dir), scenarioDirFiles(filepath.Join(dir, ScenarioDir))
}

func buildScenarios(files []strictyaml.File, runbooks func(string) (*Runbook, bool), opts ValidateOptions, replace bool) *ScenarioLibrary {
	lib := &ScenarioLibrary{byID: map[string]*Scenario{}}
	for _, f := range files {
		if f.Err != nil {
			lib.Failed = append(lib.Failed, f.Problems()...)
			continue
		}
		sc, probs := ParseScenario(f.Path, f.Data, runbooks, opts)
		if probs != nil {
			lib.Failed = append(lib.Failed, probs...)
			continue
		}
		sc.Source.Bundled = f.Bundled
		prev, dup := lib.byID[sc.ID]
		switch {
		case !dup:
			lib.byID[sc.ID] = sc
		case replace && prev.Source.Bundled && !sc.Source.Bundled:
			sc.Source.Replaces = true
			lib.byID[sc.ID] = sc
		default:
			line, col := idPosition(f)
			lib.Failed = append(lib.Failed, strictyaml.Problem{Path: f.Path, Line: line, Col: col,
				Msg: fmt.Sprintf("duplicate scenario id %q, already defined in %s", sc.ID, prev.Source.Path)})
		}
	}
	for _, sc := range lib.byID {
		lib.Scenarios = append(lib.Scenarios, sc)
	}
	slices.SortFunc(lib.Scenarios, func(a, b *Scenario) int { return strings.Compare(a.ID, b.ID) })
	lib.Failed.Sort()
	return lib
}

// DrillActions is a file of scripted participant actions for a headless
// drill: each applied at its offset on the drill clock. See
// docs/drills.md.
type DrillActions struct {
	// Scenario, if set, is the id of the scenario the actions are for.
	Scenario string        `yaml:"scenario,omitempty" json:"scenario,omitempty"`
	As       string        `yaml:"as,omitempty" json:"as,omitempty"` // default actor
	Actions  []DrillAction `yaml:"actions" json:"actions"`
	HotWash  *DrillHotWash `yaml:"hot_wash,omitempty" json:"hot_wash,omitempty"`
}

// DrillAction is one scripted action. Do says what; the other fields are
// its arguments.
type DrillAction struct {
	At string `yaml:"at" json:"at"`
	Do string `yaml:"do" json:"do"`
	As string `yaml:"as,omitempty" json:"as,omitempty"`

	Title        string         `yaml:"title,omitempty" json:"title,omitempty"`         // declare
	Answers      map[string]any `yaml:"answers,omitempty" json:"answers,omitempty"`     // declare
	Customers    []string       `yaml:"customers,omitempty" json:"customers,omitempty"` // declare
	Aware        string         `yaml:"aware,omitempty" json:"aware,omitempty"`         // declare: offset of awareness
	Role         string         `yaml:"role,omitempty" json:"role,omitempty"`
	Person       string         `yaml:"person,omitempty" json:"person,omitempty"`
	Step         string         `yaml:"step,omitempty" json:"step,omitempty"`
	Severity     string         `yaml:"severity,omitempty" json:"severity,omitempty"`
	Notification string         `yaml:"notification,omitempty" json:"notification,omitempty"`
	Obligation   string         `yaml:"obligation,omitempty" json:"obligation,omitempty"`
	Customer     string         `yaml:"customer,omitempty" json:"customer,omitempty"`
	Text         string         `yaml:"text,omitempty" json:"text,omitempty"`     // note, observe; or the reason of skip, severity, close
	Expect       string         `yaml:"expect,omitempty" json:"expect,omitempty"` // mark
	Result       string         `yaml:"result,omitempty" json:"result,omitempty"` // mark: met, late or missed
	Objective    string         `yaml:"objective,omitempty" json:"objective,omitempty"`
	Rating       string         `yaml:"rating,omitempty" json:"rating,omitempty"` // rate: P, S, M or U

	Offset time.Duration `yaml:"-" json:"offset"`
	Line   int           `yaml:"-" json:"-"` // where the action is, for error messages
}

// DrillHotWash is the hot wash recorded at the end of a headless drill.
type DrillHotWash struct {
	WentWell  []string          `yaml:"went_well,omitempty" json:"went_well,omitempty"`
	ToImprove []string          `yaml:"to_improve,omitempty" json:"to_improve,omitempty"`
	Actions   []DrillActionItem `yaml:"actions,omitempty" json:"actions,omitempty"`
}

// DrillActionItem is an improvement-plan item: who fixes what by when.
type DrillActionItem struct {
	Text        string `yaml:"text" json:"text"` // the corrective action
	Owner       string `yaml:"owner" json:"owner"`
	Due         string `yaml:"due" json:"due"` // YYYY-MM-DD, or a duration from the end of the drill ("14d")
	Objective   string `yaml:"objective,omitempty" json:"objective,omitempty"`
	Element     string `yaml:"element,omitempty" json:"element,omitempty"`         // POETE: planning, organization, equipment, training, exercise
	Improvement string `yaml:"improvement,omitempty" json:"improvement,omitempty"` // the area for improvement it addresses
}

// The participant and facilitator actions of an actions file.
const (
	DoDeclare  = "declare"
	DoAssign   = "assign"
	DoAck      = "ack"
	DoStep     = "step"
	DoSkip     = "skip"
	DoNote     = "note"
	DoSeverity = "severity"
	DoApprove  = "approve"
	DoSubmit   = "submit"
	DoCustomer = "customer"
	DoClose    = "close"
	DoObserve  = "observe"
	DoMark     = "mark"
	DoRate     = "rate"
)

// DrillDos lists the actions an actions file may script.
var DrillDos = []string{DoDeclare, DoAssign, DoAck, DoStep, DoSkip, DoNote, DoSeverity, DoApprove, DoSubmit,
	DoCustomer, DoClose, DoObserve, DoMark, DoRate}

// Elements are the POETE capability elements of an improvement plan.
var Elements = []string{"planning", "organization", "equipment", "training", "exercise"}

// Results a facilitator may mark an expectation with.
var Results = []string{"met", "late", "missed"}

// doFields lists the fields each action takes; those before "|" are
// required.
var doFields = map[string][]string{
	DoDeclare:  {"title", "|", "answers", "customers", "aware"},
	DoAssign:   {"role", "person"},
	DoAck:      {"role"},
	DoStep:     {"step", "|", "text"},
	DoSkip:     {"step", "text"},
	DoNote:     {"text"},
	DoSeverity: {"severity", "|", "text"},
	DoApprove:  {"notification"},
	DoSubmit:   {"obligation"},
	DoCustomer: {"customer"},
	DoClose:    {"|", "text"},
	DoObserve:  {"text", "|", "objective"},
	DoMark:     {"expect", "result", "|", "text"},
	DoRate:     {"objective", "rating", "|", "text"},
}

// ParseDrillActions decodes and checks an actions file for a scenario
// whose drill incident uses runbook rb. Every problem has its
// path:line:col.
func ParseDrillActions(name string, data []byte, sc *Scenario, rb *Runbook, opts ValidateOptions) (*DrillActions, strictyaml.Problems) {
	doc, probs := strictyaml.Parse(name, data)
	if probs != nil {
		return nil, probs
	}
	da := new(DrillActions)
	probs = doc.Decode(da)
	if !doc.IsMapping() {
		if len(probs) == 0 {
			probs = strictyaml.Problems{{Path: name, Line: 1, Col: 1, Msg: "an actions file must be a mapping with an actions list"}}
		}
		return nil, probs
	}
	v := &validator{obligations: opts.Obligation}
	validateActions(v, da, sc, rb)
	probs = append(probs, doc.Report(exportIssues(v.issues), probs)...)
	if len(probs) > 0 {
		probs.Sort()
		return nil, probs
	}
	for i := range da.Actions {
		p, _, _ := doc.Place(strictyaml.Issue{At: strictyaml.Path{"actions", i}})
		da.Actions[i].Line = p.Line
	}
	return da, nil
}

func validateActions(v *validator, da *DrillActions, sc *Scenario, rb *Runbook) {
	if sc != nil && da.Scenario != "" && da.Scenario != sc.ID {
		v.addf(path{"scenario"}, "these actions are for scenario %q, not %q", da.Scenario, sc.ID)
	}
	if len(da.Actions) == 0 && da.HotWash == nil {
		v.missing(path{"actions"}, "actions")
	}
	var last time.Duration
	declared := false
	for i := range da.Actions {
		a := &da.Actions[i]
		at := path{"actions", i}
		if a.At == "" {
			v.missing(at.with("at"), "at")
		} else if off, err := ParseOffset(a.At); err != nil {
			v.addf(at.with("at"), "%v", err)
		} else {
			if off < last {
				v.addf(at.with("at"), "action at %s is listed after one at %s; list actions in time order", FormatOffset(off), FormatOffset(last))
			}
			a.Offset, last = off, max(off, last)
		}
		if a.Do == "" {
			v.missing(at.with("do"), "do")
			continue
		}
		fields, known := doFields[a.Do]
		if !known {
			v.addf(at.with("do"), "unknown action %q%s; use %s", a.Do, suggestName(a.Do, DrillDos), strings.Join(DrillDos, ", "))
			continue
		}
		set := map[string]bool{"title": a.Title != "", "answers": a.Answers != nil, "customers": a.Customers != nil,
			"aware": a.Aware != "", "role": a.Role != "", "person": a.Person != "", "step": a.Step != "",
			"severity": a.Severity != "", "notification": a.Notification != "", "obligation": a.Obligation != "",
			"customer": a.Customer != "", "text": a.Text != "", "expect": a.Expect != "", "result": a.Result != "",
			"objective": a.Objective != "", "rating": a.Rating != ""}
		required := true
		allowed := map[string]bool{}
		for _, name := range fields {
			if name == "|" {
				required = false
				continue
			}
			allowed[name] = true
			if required && !set[name] {
				v.missing(at.with(name), name)
			}
		}
		for _, name := range sortedKeys(set) {
			if set[name] && !allowed[name] {
				v.addf(at.with(name), "%s does not apply to action %s", name, a.Do)
			}
		}
		switch a.Do {
		case DoAssign, DoAck, DoStep, DoSkip, DoNote, DoSeverity, DoApprove, DoSubmit, DoCustomer, DoClose:
			if !declared {
				v.addf(at.with("do"), "%s needs the drill incident: declare it in an earlier action", a.Do)
			}
		}
		switch a.Do {
		case DoDeclare:
			if declared {
				v.addf(at.with("do"), "the drill incident is already declared by an earlier action")
			}
			declared = true
			if a.Aware != "" {
				if off, err := ParseOffset(a.Aware); err != nil {
					v.addf(at.with("aware"), "%v", err)
				} else if off > a.Offset {
					v.addf(at.with("aware"), "awareness at %s is after the declaration at %s", FormatOffset(off), FormatOffset(a.Offset))
				}
			}
			if rb != nil {
				for _, key := range sortedKeys(a.Answers) {
					q, ok := findQuestion(rb, key)
					if !ok {
						v.issues = append(v.issues, issue{at: at.with("answers", key), key: true,
							msg: fmt.Sprintf("unknown question %q in runbook %s%s", key, rb.ID, suggestName(key, questionIDs(rb)))})
						continue
					}
					val := Normalize(a.Answers[key])
					if q.Type == YesNo {
						if s, isStr := val.(string); isStr && slices.Contains([]string{"yes", "no"}, strings.ToLower(s)) {
							continue
						}
					}
					if msg := checkAnswer(q, val); msg != "" {
						v.addf(at.with("answers", key), "question %q: %s", key, msg)
					}
				}
			}
		case DoAssign, DoAck:
			if rb != nil && a.Role != "" && !slices.ContainsFunc(rb.Roles, func(r Role) bool { return r.ID == a.Role }) {
				v.addf(at.with("role"), "role %q is not a role of runbook %s", a.Role, rb.ID)
			}
		case DoStep, DoSkip:
			if rb != nil && a.Step != "" && !hasStep(rb, a.Step) {
				v.addf(at.with("step"), "unknown step %q in runbook %s%s", a.Step, rb.ID, suggestName(a.Step, stepIDs(rb)))
			}
		case DoSeverity:
			if a.Severity != "" && !slices.Contains(Severities, a.Severity) {
				v.addf(at.with("severity"), "unknown severity %q; use SEV1, SEV2, SEV3 or SEV4", a.Severity)
			}
		case DoApprove:
			if rb != nil && a.Notification != "" && !slices.ContainsFunc(rb.Notify, func(n Notification) bool { return n.ID == a.Notification }) {
				v.addf(at.with("notification"), "unknown notification %q in runbook %s", a.Notification, rb.ID)
			}
		case DoSubmit:
			if v.obligations != nil && a.Obligation != "" && !v.obligations(a.Obligation) {
				v.addf(at.with("obligation"), "unknown obligation %q", a.Obligation)
			}
		case DoMark:
			if sc != nil && a.Expect != "" {
				if _, _, ok := sc.Expectation(a.Expect); !ok {
					v.addf(at.with("expect"), "unknown expectation %q in scenario %s", a.Expect, sc.ID)
				}
			}
			if a.Result != "" && !slices.Contains(Results, a.Result) {
				v.addf(at.with("result"), "unknown result %q; use met, late or missed", a.Result)
			}
		case DoRate:
			v.objective(at.with("objective"), sc, a.Objective)
			if a.Rating != "" && !slices.Contains(Ratings, a.Rating) {
				v.addf(at.with("rating"), "unknown rating %q; use P, S, M or U (HSEEP)", a.Rating)
			}
		}
	}
	if hw := da.HotWash; hw != nil {
		for i, item := range hw.Actions {
			at := path{"hot_wash", "actions", i}
			v.required(at, "text", item.Text)
			v.required(at, "owner", item.Owner)
			if item.Due == "" {
				v.missing(at.with("due"), "due")
			} else if _, err := ParseDue(item.Due, time.Time{}); err != nil {
				v.addf(at.with("due"), "%v", err)
			}
			if item.Element != "" && !slices.Contains(Elements, item.Element) {
				v.addf(at.with("element"), "unknown element %q; use %s (POETE)", item.Element, strings.Join(Elements, ", "))
			}
			v.objective(at.with("objective"), sc, item.Objective)
		}
	}
}

func (v *validator) objective(at path, sc *Scenario, id string) {
	if sc == nil || id == "" {
		return
	}
	if _, ok := sc.Objective(id); !ok {
		ids := make([]string, 0, len(sc.Objectives))
		for _, o := range sc.Objectives {
			ids = append(ids, o.ID)
		}
		v.addf(at, "unknown objective %q in scenario %s (objectives: %s)", id, sc.ID, strings.Join(ids, ", "))
	}
}

// ParseDue reads an action item's due date: YYYY-MM-DD, or a duration
// ("14d", "2w") from from.
func ParseDue(s string, from time.Time) (string, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("2006-01-02"), nil
	}
	if d, err := ParseDuration(s); err == nil {
		return from.Add(d).Format("2006-01-02"), nil
	}
	return "", fmt.Errorf("bad due date %q: use YYYY-MM-DD or a duration such as 14d", s)
}

func findQuestion(rb *Runbook, id string) (Question, bool) {
	for _, q := range rb.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

func questionIDs(rb *Runbook) []string {
	ids := make([]string, 0, len(rb.Questions))
	for _, q := range rb.Questions {
		ids = append(ids, q.ID)
	}
	return ids
}

func hasStep(rb *Runbook, id string) bool { return slices.Contains(stepIDs(rb), id) }

func stepIDs(rb *Runbook) []string {
	var ids []string
	for _, ph := range rb.Phases {
		for _, st := range ph.Steps {
			ids = append(ids, st.ID)
		}
	}
	return ids
}

// Step returns the runbook step with id and its phase.
func (rb *Runbook) Step(id string) (Step, string, bool) {
	for _, ph := range rb.Phases {
		for _, st := range ph.Steps {
			if st.ID == id {
				return st, ph.ID, true
			}
		}
	}
	return Step{}, "", false
}

// Notification returns the runbook notification with id.
func (rb *Runbook) Notification(id string) (Notification, bool) {
	for _, n := range rb.Notify {
		if n.ID == id {
			return n, true
		}
	}
	return Notification{}, false
}

// lintScenarios checks scenario files for lint, each against runbooks;
// duplicate ids across files are reported too.
func lintScenarios(files []strictyaml.File, runbooks func(string) (*Runbook, bool), opts ValidateOptions) strictyaml.Problems {
	return buildScenarios(files, runbooks, opts, false).Failed
}
