package tabletop

// Table-top scenarios: a scenario is a rehearsal of one runbook: objectives
// tied to runbooks and HSEEP core capabilities, the people in play, and
// injects (timed pieces of news) with the actions the team is expected to
// take and by when. They are decoded with the strict YAML reader
// (internal/strictyaml) and every problem is reported as path:line:col.
// docs/scenario-format.md describes the format.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/irtui/irtui/internal/runbook"
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
	Overview     *Overview     `yaml:"overview,omitempty" json:"overview,omitempty"`
	Objectives   []Objective   `yaml:"objectives" json:"objectives"`
	Participants []Participant `yaml:"participants" json:"participants"`
	Assumptions  []string      `yaml:"assumptions,omitempty" json:"assumptions,omitempty"`
	// Injects is the scenario's play, in time order. A scenario in
	// modules lists its injects in Modules instead; the loader puts them
	// here too, in order, each with its Module.
	Injects []Inject `yaml:"injects,omitempty" json:"injects"`
	Modules []Module `yaml:"modules,omitempty" json:"modules,omitempty"`
	HotWash []string `yaml:"hot_wash,omitempty" json:"hot_wash,omitempty"` // questions for the hot wash

	// Set by the loader, not by the file.
	Source runbook.Source `yaml:"-" json:"source"`
	// Length is the planned end of play: Duration, or the last inject.
	Length time.Duration `yaml:"-" json:"length_ns"`
	// runbooks are the runbooks of the modules, by module id, as loaded
	// with the scenario (nil for a scenario read back from a run).
	runbooks map[string]*runbook.Runbook
}

// Overview is what the exercise overview of the after-action report
// (HSEEP AAR/IP) says beyond the scenario's title, summary and
// objectives: the scope, the mission areas, the threat or hazard, who
// sponsors it, where it is played, which organisations take part and whom
// to contact.
type Overview struct {
	Scope         string    `yaml:"scope,omitempty" json:"scope,omitempty"`
	MissionAreas  []string  `yaml:"mission_areas,omitempty" json:"mission_areas,omitempty"`
	Threat        string    `yaml:"threat,omitempty" json:"threat,omitempty"`
	Sponsor       string    `yaml:"sponsor,omitempty" json:"sponsor,omitempty"`
	Location      string    `yaml:"location,omitempty" json:"location,omitempty"`
	Organisations []string  `yaml:"organisations,omitempty" json:"organisations,omitempty"`
	Contacts      []Contact `yaml:"contacts,omitempty" json:"contacts,omitempty"`
}

// Contact is a point of contact for the exercise.
type Contact struct {
	Name         string `yaml:"name" json:"name"`
	Role         string `yaml:"role,omitempty" json:"role,omitempty"`
	Organisation string `yaml:"organisation,omitempty" json:"organisation,omitempty"`
	Contact      string `yaml:"contact,omitempty" json:"contact,omitempty"` // an e-mail address or phone number
}

// Module is a part of a scenario played in turn (as a CISA tabletop
// package's modules: a stolen laptop, then a phishing click, then
// ransomware), with its own injects and discussion questions, and
// optionally its own runbook and drill incident.
type Module struct {
	ID      string `yaml:"id" json:"id"`
	Title   string `yaml:"title" json:"title"`
	Summary string `yaml:"summary,omitempty" json:"summary,omitempty"` // what the players are told as it begins, Markdown
	// Runbook is the runbook of the module's incident; empty: the
	// scenario's. A module with another runbook has its own incident.
	Runbook string `yaml:"runbook,omitempty" json:"runbook,omitempty"`
	// Incident is "own" (the module is played on a drill incident of its
	// own) or "shared" (on the scenario's; the default, unless Runbook
	// names another runbook).
	Incident  string   `yaml:"incident,omitempty" json:"incident,omitempty"`
	Questions []string `yaml:"questions,omitempty" json:"questions,omitempty"` // discussion questions
	Injects   []Inject `yaml:"injects" json:"-"`
}

// OwnIncident reports whether the module is played on a drill incident of
// its own.
func (m *Module) OwnIncident(sc *Scenario) bool {
	return m.Incident == "own" || m.Runbook != "" && m.Runbook != sc.Runbook
}

// RunbookID is the runbook the module's incident is declared with.
func (m *Module) RunbookID(sc *Scenario) string { return cmpOr(m.Runbook, sc.Runbook) }

// MissionAreas are the HSEEP mission areas.
var MissionAreas = []string{"prevention", "protection", "mitigation", "response", "recovery"}

// ModuleIncidents are the values of a module's incident field.
var ModuleIncidents = []string{"own", "shared"}

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
	// Module is the id of the module the inject belongs to, if any.
	Module string `yaml:"-" json:"module,omitempty"`
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
	// Critical marks a critical task (HSEEP): weighted in the score's
	// headline and named first in the report.
	Critical bool `yaml:"critical,omitempty" json:"critical,omitempty"`

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
var localID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`) })

func init() {
	strictyaml.Register(reflect.TypeFor[Scenario](), reflect.TypeFor[Objective](), reflect.TypeFor[Participant](),
		reflect.TypeFor[Inject](), reflect.TypeFor[Expectation](), reflect.TypeFor[Overview](), reflect.TypeFor[Contact](),
		reflect.TypeFor[Module](), reflect.TypeFor[DrillActions](),
		reflect.TypeFor[DrillAction](), reflect.TypeFor[DrillHotWash](), reflect.TypeFor[DrillActionItem](),
		reflect.TypeFor[DrillFinding](), reflect.TypeFor[DrillFeedback]())
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

// Module returns the module with id.
func (s *Scenario) Module(id string) (*Module, bool) {
	for i := range s.Modules {
		if s.Modules[i].ID == id {
			return &s.Modules[i], true
		}
	}
	return nil, false
}

// IncidentModule is the module whose drill incident an inject's actions
// are scored on: the inject's module when it has its own incident,
// otherwise "" (the scenario's incident).
func (s *Scenario) IncidentModule(in *Inject) string {
	if m, ok := s.Module(in.Module); ok && m.OwnIncident(s) {
		return m.ID
	}
	return ""
}

// RunbookOf is the runbook id of a module's incident ("" : the scenario's).
func (s *Scenario) RunbookOf(module string) string {
	if m, ok := s.Module(module); ok && m.OwnIncident(s) {
		return m.RunbookID(s)
	}
	return s.Runbook
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

// scenarioCtx is what validating a scenario needs from outside.
type scenarioCtx struct {
	runbooks func(string) (*runbook.Runbook, bool)
	opts     runbook.ValidateOptions
}

// ParseScenario decodes and validates one scenario file against the
// runbooks runbooks finds. It returns the scenario, or every problem, each
// with its path:line:col.
func ParseScenario(path string, data []byte, runbooks func(id string) (*runbook.Runbook, bool), opts runbook.ValidateOptions) (*Scenario, strictyaml.Problems) {
	if runbooks == nil {
		runbooks = func(string) (*runbook.Runbook, bool) { return nil, false }
	}
	sc := new(Scenario)
	_, probs := decodeChecked(strictyaml.Scenario, path, data, sc, "a scenario file must be a mapping of fields (id, title, injects, ...)",
		func() []strictyaml.Issue { return validateScenario(sc, scenarioCtx{runbooks: runbooks, opts: opts}) })
	if probs != nil {
		return nil, probs
	}
	sc.Source = runbook.Source{Path: path, Hash: hash(data)}
	return sc, nil
}

// decodeChecked parses data and decodes it strictly into out, which must
// be a mapping (notMapping says what it should be), then runs the schema's
// check on the decoded value. It returns the document, or every problem
// sorted by position.
func decodeChecked(kind strictyaml.Kind, name string, data []byte, out any, notMapping string, check func() []strictyaml.Issue) (*strictyaml.Document, strictyaml.Problems) {
	doc, probs := strictyaml.Parse(kind, name, data)
	if probs != nil {
		return nil, probs
	}
	probs = doc.Decode(out)
	if !doc.IsMapping() {
		if len(probs) == 0 {
			probs = strictyaml.Problems{{Path: name, Line: 1, Col: 1, Msg: notMapping}}
		}
		return nil, probs
	}
	probs = append(probs, doc.Report(check(), probs)...)
	if len(probs) > 0 {
		probs.Sort()
		return nil, probs
	}
	return doc, nil
}

func hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// path is where in a scenario or actions file a problem sits.
type path = strictyaml.Path

// checker collects the problems of a scenario or an actions file.
type checker struct {
	strictyaml.Checker
	// obligations reports whether an obligation id is known; nil accepts
	// any.
	obligations func(string) bool
}

func (v *checker) localID(at path, kind, id string, seen map[string]bool) {
	switch {
	case id == "":
		v.Missing(at.With("id"), "id")
	case !localID().MatchString(id):
		v.Addf(at.With("id"), "%s id %q must be letters, digits, '-', '_' or '.'", kind, id)
	case seen[id]:
		v.Addf(at.With("id"), "duplicate %s id %q", kind, id)
	}
	seen[id] = true
}

// suggestName offers the closest of names for a misspelt one.
func suggestName(got string, names []string) string { return strictyaml.DidYouMean(got, names) }

func validateScenario(sc *Scenario, cx scenarioCtx) []strictyaml.Issue {
	v := &checker{obligations: cx.opts.Obligation}
	rb, planned := v.header(sc, cx)
	v.overview(sc.Overview)
	objectives := v.objectives(sc, cx)
	v.participants(sc, rb)
	paths := v.modules(sc, rb, cx)
	v.injects(sc, paths, objectives)
	length := planned
	for i, in := range sc.Injects {
		length = max(length, in.Offset)
		if planned > 0 && in.Offset > planned {
			v.Addf(paths[i].With(offsetField(in)), "inject %q at %s comes after the end of play (duration %s)",
				in.ID, FormatOffset(in.Offset), sc.Duration)
		}
	}
	sc.Length = length
	return v.Issues
}

// overview checks what the after-action report's exercise overview says.
func (v *checker) overview(o *Overview) {
	if o == nil {
		return
	}
	at := path{"overview"}
	for i, a := range o.MissionAreas {
		if !slices.Contains(MissionAreas, a) {
			v.Addf(at.With("mission_areas", i), "unknown mission area %q%s; use %s", a, suggestName(a, MissionAreas),
				strings.Join(MissionAreas, ", "))
		}
	}
	for i, org := range o.Organisations {
		if strings.TrimSpace(org) == "" {
			v.Addf(at.With("organisations", i), "empty organisation")
		}
	}
	for i, c := range o.Contacts {
		v.Required(at.With("contacts", i), "name", c.Name)
	}
}

// modules checks the modules and puts their injects, in order, in
// sc.Injects (with the module's id); it returns where each inject of
// sc.Injects is written in the file, and sets the runbooks of the
// modules' incidents. Without modules, the injects are the file's own.
func (v *checker) modules(sc *Scenario, rb *runbook.Runbook, cx scenarioCtx) []path {
	sc.runbooks = map[string]*runbook.Runbook{"": rb}
	if len(sc.Modules) == 0 {
		if len(sc.Injects) == 0 {
			v.Missing(path{"injects"}, "injects")
		}
		paths := make([]path, len(sc.Injects))
		for i := range sc.Injects {
			paths[i] = path{"injects", i}
		}
		return paths
	}
	if len(sc.Injects) > 0 {
		v.Addf(path{"injects"}, "a scenario in modules lists its injects in its modules; move these into one")
		return nil
	}
	var (
		paths []path
		flat  []Inject
		seen  = map[string]bool{}
	)
	for i := range sc.Modules {
		m := &sc.Modules[i]
		at := path{"modules", i}
		v.localID(at, "module", m.ID, seen)
		v.Required(at, "title", m.Title)
		if m.Incident != "" && !slices.Contains(ModuleIncidents, m.Incident) {
			v.Addf(at.With("incident"), "unknown incident %q; use own (a drill incident of its own) or shared (the scenario's)", m.Incident)
		}
		mrb := rb
		if m.Runbook != "" {
			if r, ok := cx.runbooks(m.Runbook); ok {
				mrb = r
			} else {
				v.Addf(at.With("runbook"), "unknown runbook %q; `irtui runbooks list` shows the known ones", m.Runbook)
				mrb = nil
			}
			if m.Incident == "shared" && m.Runbook != sc.Runbook {
				v.Addf(at.With("incident"), "module %q is played with runbook %s, not the scenario's %s, so it needs an incident of its own (incident: own)",
					m.ID, m.Runbook, sc.Runbook)
			}
		}
		if m.OwnIncident(sc) {
			sc.runbooks[m.ID] = mrb
		}
		for j, q := range m.Questions {
			if strings.TrimSpace(q) == "" {
				v.Addf(at.With("questions", j), "empty discussion question")
			}
		}
		if len(m.Injects) == 0 {
			v.Missing(at.With("injects"), "injects")
		}
		for j, in := range m.Injects {
			in.Module = m.ID
			flat = append(flat, in)
			paths = append(paths, at.With("injects", j))
		}
	}
	sc.Injects = flat
	return paths
}

// runbookFor is the runbook the expectations of inject i are checked
// against: its module's, when the module has an incident of its own.
func (sc *Scenario) runbookFor(in *Inject) *runbook.Runbook {
	if rb, ok := sc.runbooks[sc.IncidentModule(in)]; ok {
		return rb
	}
	return sc.runbooks[""]
}

// header checks the scenario's own fields and returns its runbook, if
// known, and its planned length, if given.
func (v *checker) header(sc *Scenario, cx scenarioCtx) (rb *runbook.Runbook, planned time.Duration) {
	root := path{}
	v.Required(root, "id", sc.ID)
	if sc.ID != "" && !runbook.ValidID(sc.ID) {
		v.Addf(root.With("id"), "id %q must be lower case letters, digits, '-', '_' or '.'", sc.ID)
	}
	v.Required(root, "title", sc.Title)
	v.Required(root, "version", sc.Version)
	v.Required(root, "summary", sc.Summary)
	if sc.Type != "" && !slices.Contains(ScenarioTypes, sc.Type) {
		v.Addf(root.With("type"), "unknown exercise type %q; use %s", sc.Type, strings.Join(ScenarioTypes, " or "))
	}
	if sc.Runbook == "" {
		v.Missing(root.With("runbook"), "runbook")
	} else if r, ok := cx.runbooks(sc.Runbook); ok {
		rb = r
	} else {
		v.Addf(root.With("runbook"), "unknown runbook %q; `irtui runbooks list` shows the known ones", sc.Runbook)
	}
	if sc.Start != "" {
		if _, err := ParseStart(sc.Start); err != nil {
			v.Addf(root.With("start"), "%v", err)
		}
	}
	if sc.Duration != "" {
		d, err := ParseDuration(sc.Duration)
		if err != nil {
			v.Addf(root.With("duration"), "%v", err)
		} else {
			planned = d
		}
	}
	return rb, planned
}

// objectives checks the objectives and returns their ids.
func (v *checker) objectives(sc *Scenario, cx scenarioCtx) map[string]bool {
	objectives := map[string]bool{}
	if len(sc.Objectives) == 0 {
		v.Missing(path{"objectives"}, "objectives")
	}
	for i, o := range sc.Objectives {
		at := path{"objectives", i}
		v.localID(at, "objective", o.ID, objectives)
		v.Required(at, "text", o.Text)
		if o.Runbook == "" {
			v.Missing(at.With("runbook"), "runbook")
		} else if _, ok := cx.runbooks(o.Runbook); !ok {
			v.Addf(at.With("runbook"), "unknown runbook %q", o.Runbook)
		}
		if o.Capability == "" {
			v.Missing(at.With("capability"), "capability")
		} else if !slices.Contains(Capabilities, o.Capability) {
			v.Addf(at.With("capability"), "unknown core capability %q%s; docs/scenario-format.md lists them", o.Capability, suggestName(o.Capability, Capabilities))
		}
	}
	return objectives
}

// participants checks the roles in play against the runbook's and the
// exercise roles.
func (v *checker) participants(sc *Scenario, rb *runbook.Runbook) {
	var roles []string
	if rb != nil {
		for _, r := range rb.Roles {
			roles = append(roles, r.ID)
		}
	}
	if len(sc.Participants) == 0 {
		v.Missing(path{"participants"}, "participants")
	}
	for i, p := range sc.Participants {
		at := path{"participants", i}
		switch {
		case p.Role == "":
			v.Missing(at.With("role"), "role")
		case rb != nil && !slices.Contains(roles, p.Role) && !slices.Contains(ExerciseRoles, p.Role):
			v.Addf(at.With("role"), "role %q is neither a role of runbook %s (%s) nor an exercise role (%s)",
				p.Role, rb.ID, strings.Join(roles, ", "), strings.Join(ExerciseRoles, ", "))
		}
		v.Required(at, "who", p.Who)
	}
}

func offsetField(in Inject) string {
	if in.At == "" && in.After != "" {
		return "after"
	}
	return "at"
}

// injects checks the injects, resolves their offsets (following "after"
// chains, which must not form a cycle) and checks that they are listed in
// time order. paths says where each is in the file.
func (v *checker) injects(sc *Scenario, paths []path, objectives map[string]bool) {
	if len(paths) != len(sc.Injects) {
		return // reported already
	}
	index := map[string]int{}
	seen := map[string]bool{}
	for i, in := range sc.Injects {
		v.inject(paths[i], in, seen)
		if _, dup := index[in.ID]; !dup && in.ID != "" {
			index[in.ID] = i
		}
	}
	res := &offsets{v: v, sc: sc, paths: paths, index: index, state: make([]int, len(sc.Injects)), ok: make([]bool, len(sc.Injects))}
	for i := range sc.Injects {
		res.resolve(i, nil)
	}
	last := -1
	for i, in := range sc.Injects {
		if !res.ok[i] {
			continue
		}
		if last >= 0 && in.Offset < sc.Injects[last].Offset {
			prev := sc.Injects[last]
			v.Addf(paths[i].With(offsetField(in)), "inject %q at %s is listed after %q at %s; list injects in time order",
				in.ID, FormatOffset(in.Offset), prev.ID, FormatOffset(prev.Offset))
		}
		last = i
	}

	expectIDs := map[string]bool{}
	for i := range sc.Injects {
		in := &sc.Injects[i]
		for j := range in.Expect {
			v.expectation(paths[i].With("expect", j), &in.Expect[j], sc.runbookFor(in), objectives, expectIDs)
		}
	}
}

// inject checks one inject's own fields.
func (v *checker) inject(at path, in Inject, seen map[string]bool) {
	v.localID(at, "inject", in.ID, seen)
	if in.Channel == "" {
		v.Missing(at.With("channel"), "channel")
	} else if !slices.Contains(Channels, in.Channel) {
		v.Addf(at.With("channel"), "unknown channel %q; use %s", in.Channel, strings.Join(Channels, ", "))
	}
	v.Required(at, "content", in.Content)
	if in.At == "" && in.After == "" {
		v.Addf(at.With("id"), "inject %q needs at (an offset from the start) or after (an earlier inject)", in.ID)
	}
	for j, q := range in.Questions {
		if strings.TrimSpace(q) == "" {
			v.Addf(at.With("questions", j), "empty discussion question")
		}
	}
}

// offsets resolves the injects' offsets, following "after" chains.
type offsets struct {
	v     *checker
	sc    *Scenario
	paths []path         // where each inject is in the file
	index map[string]int // inject id -> its first index
	state []int          // 0 unvisited, 1 on the current chain, 2 done
	ok    []bool         // the inject's offset resolved
}

// resolve sets the offset of inject i, reached through chain, and reports
// whether it could.
func (o *offsets) resolve(i int, chain []int) bool {
	v, sc := o.v, o.sc
	switch o.state[i] {
	case 2:
		return o.ok[i]
	case 1:
		start := slices.Index(chain, i)
		names := make([]string, 0, len(chain)-start+1)
		for _, c := range chain[start:] {
			names = append(names, sc.Injects[c].ID)
		}
		names = append(names, sc.Injects[i].ID)
		v.Addf(o.paths[i].With("after"), "the after chain of inject %q forms a cycle: %s", sc.Injects[i].ID, strings.Join(names, " -> "))
		return false
	}
	o.state[i] = 1
	in := &sc.Injects[i]
	good := true
	var off time.Duration
	if in.At != "" {
		d, err := ParseOffset(in.At)
		if err != nil {
			v.Addf(o.paths[i].With("at"), "%v", err)
			good = false
		}
		off = d
	}
	if in.After != "" {
		j, known := o.index[in.After]
		switch {
		case !known:
			v.Addf(o.paths[i].With("after"), "unknown inject %q%s", in.After, suggestName(in.After, injectIDs(sc)))
			good = false
		case j == i:
			v.Addf(o.paths[i].With("after"), "inject %q cannot come after itself", in.ID)
			good = false
		default:
			if o.resolve(j, append(chain, i)) {
				off += sc.Injects[j].Offset
			} else {
				good = false
			}
		}
	}
	in.Offset = off
	o.state[i], o.ok[i] = 2, good
	return good
}

func injectIDs(sc *Scenario) []string {
	ids := make([]string, 0, len(sc.Injects))
	for _, in := range sc.Injects {
		ids = append(ids, in.ID)
	}
	return ids
}

// expectSpec is what an expected action takes and how it is checked.
type expectSpec struct {
	// fields lists the specific fields the action takes (severity, role,
	// step, notification, audience, obligation); the others do not apply.
	fields []string
	// check checks the specific fields against the runbook and returns
	// what it found there; nil when there is nothing to check.
	check func(v *checker, at path, e *Expectation, rb *runbook.Runbook) runbookRef
	// target resolves "within: target" from the runbook: the target, or
	// what to report (noTarget when the action has no runbook target),
	// or neither when a problem was reported already. Nil: noTarget.
	target func(e *Expectation, ref runbookRef) (*Target, string)
}

// runbookRef is what an expectation refers to in the runbook.
type runbookRef struct {
	rb         *runbook.Runbook
	stepKnown  bool
	stepTarget string                // the step's target, if any
	note       *runbook.Notification // the notification approved, if known
}

const noTarget = "within: target needs a runbook target: a step with a target, a notification with " +
	"within or an obligation, or an obligation to submit; give a duration such as 30m"

// expectSpecs is every kind of expected action; ExpectActions lists them
// in order.
var expectSpecs = map[string]expectSpec{
	ExpectDeclare:  {},
	ExpectClassify: {fields: []string{"severity"}, check: expectSeverity},
	ExpectAssign:   {fields: []string{"role"}, check: expectRole},
	ExpectAck:      {fields: []string{"role"}, check: expectRole},
	ExpectStep:     {fields: []string{"step"}, check: expectStep, target: stepTarget},
	ExpectApprove:  {fields: []string{"notification", "audience"}, check: expectApproval, target: approvalTarget},
	ExpectSubmit:   {fields: []string{"obligation"}, check: expectSubmission, target: submissionTarget},
	ExpectCustomer: {},
	ExpectClose:    {},
	ExpectManual:   {fields: []string{"text"}, check: expectManual},
}

func (v *checker) expectation(at path, e *Expectation, rb *runbook.Runbook, objectives, seen map[string]bool) {
	v.localID(at, "expectation", e.ID, seen)
	if e.Action == "" {
		v.Missing(at.With("action"), "action")
		return
	}
	spec, known := expectSpecs[e.Action]
	if !known {
		v.Addf(at.With("action"), "unknown action %q%s; use %s", e.Action, suggestName(e.Action, ExpectActions), strings.Join(ExpectActions, ", "))
		return
	}
	set := map[string]string{"severity": e.Severity, "role": e.Role, "step": e.Step,
		"notification": e.Notification, "audience": e.Audience, "obligation": e.Obligation}
	for _, name := range []string{"severity", "role", "step", "notification", "audience", "obligation"} {
		if set[name] != "" && !slices.Contains(spec.fields, name) {
			v.Addf(at.With(name), "%s does not apply to action %s", name, e.Action)
		}
	}
	// An objective without a usable id is reported already; do not
	// report every reference to it too.
	if e.Objective != "" && !objectives[e.Objective] && !objectives[""] {
		v.Addf(at.With("objective"), "unknown objective %q", e.Objective)
	}
	ref := runbookRef{rb: rb}
	if spec.check != nil {
		ref = spec.check(v, at, e, rb)
	}
	v.within(at, e, spec, ref)
}

// within resolves an expectation's target time.
func (v *checker) within(at path, e *Expectation, spec expectSpec, ref runbookRef) {
	e.Target = nil
	switch e.Within {
	case "":
	case "target":
		msg := noTarget
		if spec.target != nil {
			e.Target, msg = spec.target(e, ref)
		}
		if msg != "" {
			v.Addf(at.With("within"), "%s", msg)
		}
	default:
		d, err := ParseDuration(e.Within)
		if err != nil {
			v.Addf(at.With("within"), "%v (or target, for the runbook's own target)", err)
		} else {
			e.Target = &Target{From: "inject", After: d}
		}
	}
}

func expectSeverity(v *checker, at path, e *Expectation, rb *runbook.Runbook) runbookRef {
	if e.Severity == "" {
		v.Missing(at.With("severity"), "severity")
	} else if !slices.Contains(runbook.Severities, e.Severity) {
		v.Addf(at.With("severity"), "unknown severity %q; use SEV1, SEV2, SEV3 or SEV4", e.Severity)
	}
	return runbookRef{rb: rb}
}

func expectRole(v *checker, at path, e *Expectation, rb *runbook.Runbook) runbookRef {
	if e.Role == "" {
		v.Missing(at.With("role"), "role")
	} else if rb != nil && !slices.ContainsFunc(rb.Roles, func(r runbook.Role) bool { return r.ID == e.Role }) {
		v.Addf(at.With("role"), "role %q is not a role of runbook %s", e.Role, rb.ID)
	}
	return runbookRef{rb: rb}
}

func expectStep(v *checker, at path, e *Expectation, rb *runbook.Runbook) runbookRef {
	ref := runbookRef{rb: rb}
	if e.Step == "" {
		v.Missing(at.With("step"), "step")
		return ref
	}
	if rb == nil {
		return ref
	}
	st, _, found := rb.Step(e.Step)
	if !found {
		v.Addf(at.With("step"), "unknown step %q in runbook %s%s", e.Step, rb.ID, suggestName(e.Step, stepIDs(rb)))
	}
	ref.stepKnown, ref.stepTarget = found, st.Target
	return ref
}

func expectApproval(v *checker, at path, e *Expectation, rb *runbook.Runbook) runbookRef {
	ref := runbookRef{rb: rb}
	if e.Notification == "" && e.Audience == "" {
		v.Addf(at.With("action"), "an approve expectation needs notification (an id in runbook %s) or audience", orUnknown(rb))
	}
	if e.Audience != "" && !slices.Contains(runbook.Audiences, e.Audience) {
		v.Addf(at.With("audience"), "unknown audience %q; use %s", e.Audience, strings.Join(runbook.Audiences, ", "))
	}
	if e.Notification == "" || rb == nil {
		return ref
	}
	var ids []string
	for i := range rb.Notify {
		ids = append(ids, rb.Notify[i].ID)
		if rb.Notify[i].ID == e.Notification {
			ref.note = &rb.Notify[i]
		}
	}
	switch note := ref.note; {
	case note == nil:
		v.Addf(at.With("notification"), "unknown notification %q in runbook %s%s", e.Notification, rb.ID, suggestName(e.Notification, ids))
	case e.Audience != "" && e.Audience != note.Audience:
		v.Addf(at.With("audience"), "notification %q is addressed to %s, not %s", e.Notification, note.Audience, e.Audience)
	default:
		e.Audience = note.Audience
	}
	return ref
}

func expectSubmission(v *checker, at path, e *Expectation, rb *runbook.Runbook) runbookRef {
	if e.Obligation == "" {
		v.Missing(at.With("obligation"), "obligation")
	} else if v.obligations != nil && !v.obligations(e.Obligation) {
		v.Addf(at.With("obligation"), "unknown obligation %q; `irtui classify --help` lists the known ones", e.Obligation)
	}
	return runbookRef{rb: rb}
}

func expectManual(v *checker, at path, e *Expectation, rb *runbook.Runbook) runbookRef {
	v.Required(at, "text", e.Text)
	return runbookRef{rb: rb}
}

// stepTarget: a step's target counts from the declaration.
func stepTarget(e *Expectation, ref runbookRef) (*Target, string) {
	switch {
	case ref.stepTarget != "":
		d, _ := runbook.ParseDuration(ref.stepTarget)
		return &Target{From: "declared", After: d}, ""
	case ref.stepKnown:
		return nil, fmt.Sprintf("step %q has no target in runbook %s; give a duration such as 1h", e.Step, ref.rb.ID)
	}
	return nil, "" // unknown step: reported already
}

// approvalTarget: a notification's "within" counts from its trigger; a
// notice that serves an obligation is due when the obligation is.
func approvalTarget(e *Expectation, ref runbookRef) (*Target, string) {
	note := ref.note
	switch {
	case note != nil && note.Within != "":
		d, _ := runbook.ParseDuration(note.Within)
		from := "inject"
		switch {
		case note.On == "declared" || note.On == "classified":
			from = note.On
		case strings.HasPrefix(note.On, "flag:"):
			from = note.On
		}
		return &Target{From: from, After: d}, ""
	case note != nil && note.Obligation != "" && note.Obligation != "none":
		return &Target{From: "obligation", Obligation: note.Obligation}, ""
	case e.Audience == "customers" && e.Notification == "":
		return &Target{From: "obligation", Obligation: "customer-notice"}, ""
	case note == nil && e.Notification != "":
		return nil, "" // unknown notification: reported already
	}
	return nil, noTarget
}

// submissionTarget: a submission is due when its obligation is.
func submissionTarget(e *Expectation, _ runbookRef) (*Target, string) {
	if e.Obligation != "" {
		return &Target{From: "obligation", Obligation: e.Obligation}, ""
	}
	return nil, noTarget
}

func orUnknown(rb *runbook.Runbook) string {
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

// Load reads the bundled scenarios and those in the scenarios/ sub-folder
// of each runbook folder, checked against lib. A folder scenario with a
// bundled scenario's id replaces it. Files that fail are listed in the
// result's Failed, with path:line:col. It stops early, returning ctx's
// error with what it has, when ctx is done.
func Load(ctx context.Context, opts runbook.Options, lib *runbook.Library) (*ScenarioLibrary, error) {
	files, err := runbook.SubfolderFiles(ctx, opts, ScenarioDir, strictyaml.Scenario)
	return buildScenarios(files, lib.Get, opts.Validate, true), err
}

// Lint checks the given runbook and scenario files and folders, or, with
// none, the bundled and configured ones, and returns every problem sorted
// by position. Scenarios are those in a scenarios/ sub-folder of each
// folder (and of the bundled runbooks), and scenario files named directly;
// their runbook references resolve against the runbooks linted, then the
// bundled and configured ones. It stops early, with ctx's error, when ctx
// is done.
func Lint(ctx context.Context, paths []string, opts runbook.Options) (strictyaml.Problems, error) {
	var (
		lib       *runbook.Library
		scenarios []strictyaml.File
		runbooks  func(string) (*runbook.Runbook, bool)
		err       error
	)
	if len(paths) == 0 {
		if lib, err = runbook.Load(ctx, opts); err != nil {
			return lib.Failed, err
		}
		if scenarios, err = runbook.SubfolderFiles(ctx, opts, ScenarioDir, strictyaml.Scenario); err != nil {
			return lib.Failed, err
		}
		runbooks = lib.Get
	} else {
		var runbookPaths []string
		for _, p := range paths {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			st, err := os.Stat(p)
			var more []strictyaml.File
			switch {
			case err != nil:
				runbookPaths = append(runbookPaths, p) // the runbook lint reports it
			case st.IsDir() && filepath.Base(filepath.Clean(p)) == ScenarioDir:
				more, err = runbook.FolderFiles(ctx, p, strictyaml.Scenario)
			case st.IsDir():
				runbookPaths = append(runbookPaths, p)
				more, err = runbook.FolderFiles(ctx, filepath.Join(p, ScenarioDir), strictyaml.Scenario)
			case isScenarioPath(ctx, p):
				more = []strictyaml.File{strictyaml.ReadOne(ctx, strictyaml.Scenario, p)}
			default:
				runbookPaths = append(runbookPaths, p)
			}
			scenarios = append(scenarios, more...)
			if err != nil {
				return nil, err
			}
		}
		if lib, err = runbook.LoadPaths(ctx, runbookPaths, runbook.LintValidate(ctx, opts)); err != nil {
			return lib.Failed, err
		}
		var configured *runbook.Library
		runbooks = func(id string) (*runbook.Runbook, bool) {
			if rb, ok := lib.Get(id); ok {
				return rb, true
			}
			if configured == nil {
				configured, _ = runbook.Load(ctx, opts) // cancelled: Lint says so below
			}
			return configured.Get(id)
		}
	}
	probs := append(lib.Failed, buildScenarios(scenarios, runbooks, opts.Validate, false).Failed...)
	probs.Sort()
	return probs, ctx.Err()
}

// isScenarioPath reports whether a file named on the lint command line is
// a scenario: it sits in a scenarios/ folder or has a top-level injects
// key.
func isScenarioPath(ctx context.Context, p string) bool {
	return runbook.IsPathOf(ctx, p, ScenarioDir, strictyaml.Scenario, "injects")
}

func buildScenarios(files []strictyaml.File, runbooks func(string) (*runbook.Runbook, bool), opts runbook.ValidateOptions, replace bool) *ScenarioLibrary {
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
			line, col := strictyaml.Position(strictyaml.Scenario, f.Path, f.Data, path{"id"})
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
