package tabletop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// FromIncident turns a closed incident into a scenario the team can
// rehearse: what the team learned (notes, affected customers, a reopening)
// becomes injects at their original offsets from awareness, and what the
// team did (classification, roles, steps, notices, submissions) becomes
// expected actions whose targets are the times achieved on the night,
// rounded up to five minutes. People and customers are replaced by
// placeholders ("Responder 1", "Customer A") everywhere, and email
// addresses and Slack user ids are removed. Reading the incident is
// audited as an export by actor. It returns the scenario file and the
// scenario as parsed back from it.
func FromIncident(ctx context.Context, deps Deps, actor identity.Actor, incidentID string) ([]byte, *Scenario, error) {
	if err := deps.check(); err != nil {
		return nil, nil, err
	}
	svc := &incident.Service{Store: deps.Store, Clock: deps.real()}
	ex, err := svc.Export(ctx, actor, incidentID, "")
	if err != nil {
		return nil, nil, err
	}
	in := ex.Incident
	switch {
	case in.Kind != store.KindIncident:
		return nil, nil, refused("%s is an event that was dismissed as not an incident; there is nothing to rehearse", in.ID)
	case in.Status != store.StatusClosed:
		return nil, nil, invalidState("%s is still open; replay it once it is closed", in.ID)
	}
	rb, ok := deps.Runbooks.Get(in.RunbookID)
	if !ok {
		return nil, nil, notFound("%s was handled with runbook %q, which is not loaded", in.ID, in.RunbookID)
	}
	people, err := deps.Store.People(ctx)
	if err != nil {
		return nil, nil, err
	}
	customers, err := deps.Store.Customers(ctx)
	if err != nil {
		return nil, nil, err
	}
	notices, err := deps.Store.DrillNotices(ctx, in.ID)
	if err != nil {
		return nil, nil, err
	}
	sc := buildReplay(ex, rb, newScrubber(ex, people, customers), notices, deps.Policy.Location())
	data, err := marshalScenario(sc, in.ID, deps.real().Now())
	if err != nil {
		return nil, nil, err
	}
	parsed, probs := ParseScenario(sc.ID+".yaml", data, deps.Runbooks.Get,
		runbook.ValidateOptions{Obligation: deadline.IsObligationID})
	if probs != nil {
		return data, nil, fmt.Errorf("the generated scenario does not lint clean (a bug):\n%w", probs)
	}
	return data, parsed, nil
}

// scrubber replaces people and customers with placeholders.
type scrubber struct {
	people    map[string]string // person id -> placeholder
	rules     []scrubRule
	nextHuman int
}

type scrubRule struct {
	re   *regexp.Regexp
	with string
}

var (
	emailRe       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`) })
	slackUserRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b[UW][A-Z0-9]{8,}\b`) })
	placeholderRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(Responder \d+|Customer [A-Z0-9]+)`) })
)

func newScrubber(ex incident.Export, people []store.Person, customers []store.Customer) *scrubber {
	s := &scrubber{people: map[string]string{}}
	type needle struct{ text, with string }
	var needles []needle
	// Customers: the incident's first, in order, then any other in the
	// directory (their names may appear in notes).
	letter := 0
	custName := map[string]string{}
	placeholder := func(id string) string {
		if p, ok := custName[id]; ok {
			return p
		}
		p := "Customer " + customerLetter(letter)
		letter++
		custName[id] = p
		return p
	}
	for _, c := range ex.Customers {
		placeholder(c.ID)
	}
	for _, c := range customers {
		p := placeholder(c.ID)
		needles = append(needles, needle{c.ID, p}, needle{c.Name, p}, needle{bareName(c.Name), p}, needle{c.Contact, "[contact]"})
		// The first word of a name ("Acme") is how people write it in notes.
		if f := strings.Fields(bareName(c.Name)); len(f) > 1 && utf8.RuneCountInString(f[0]) >= 4 && unicode.IsUpper([]rune(f[0])[0]) {
			needles = append(needles, needle{f[0], p})
		}
	}
	// People: everyone who acted or held a role, in order of appearance,
	// then everyone else in the directory.
	for _, e := range ex.Timeline {
		s.person(e.Actor)
	}
	for _, a := range ex.Roles {
		s.person(a.PersonID)
		s.person(a.AssignedBy)
	}
	s.person(ex.Incident.CreatedBy)
	for _, p := range people {
		ph := s.person(p.ID)
		needles = append(needles, needle{p.ID, ph}, needle{p.Name, ph}, needle{bareName(p.Name), ph}, needle{p.Email, "[email]"},
			needle{p.SlackUserID, "[slack user]"})
		// A name's parts ("Alice", "Jansen") appear alone in notes.
		for _, part := range strings.Fields(p.Name) {
			part = strings.Trim(part, "()[],.")
			if utf8.RuneCountInString(part) >= 3 && unicode.IsUpper([]rune(part)[0]) {
				needles = append(needles, needle{part, ph})
			}
		}
	}
	for id, ph := range s.people {
		needles = append(needles, needle{id, ph})
	}
	sort.SliceStable(needles, func(i, j int) bool { return len(needles[i].text) > len(needles[j].text) })
	seen := map[string]bool{}
	for _, n := range needles {
		text := strings.TrimSpace(n.text)
		if utf8.RuneCountInString(text) < 2 || seen[strings.ToLower(text)] {
			continue
		}
		seen[strings.ToLower(text)] = true
		s.rules = append(s.rules, scrubRule{re: regexp.MustCompile(`(?i)` + regexp.QuoteMeta(text)), with: n.with})
	}
	return s
}

// replaceWhole replaces the matches of re in t that stand as whole words:
// not inside a word ("Acmeware") and not part of an identifier joined by
// '-', '_', '.', '/', '@' or ':' ("acme-sync", "svc.acme", "acme/prod"
// stay as they are), while "Acme's", "(acme)" and "Acme." at the end of a
// sentence are replaced.
func replaceWhole(t string, re *regexp.Regexp, with string) string {
	matches := re.FindAllStringIndex(t, -1)
	if matches == nil {
		return t
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		if !standsAlone(t, m[0], m[1]) {
			continue
		}
		b.WriteString(t[last:m[0]])
		b.WriteString(with)
		last = m[1]
	}
	b.WriteString(t[last:])
	return b.String()
}

// joiners join the parts of an identifier.
const joiners = "-_./@:"

// standsAlone reports whether t[i:j] is a whole word: the text on each
// side is neither a word character nor a joiner followed (or preceded) by
// one.
func standsAlone(t string, i, j int) bool {
	match := t[i:j]
	if first, _ := utf8.DecodeRuneInString(match); isWord(first) {
		before, n := utf8.DecodeLastRuneInString(t[:i])
		switch {
		case n == 0:
		case isWord(before):
			return false
		case strings.ContainsRune(joiners, before):
			if b2, n2 := utf8.DecodeLastRuneInString(t[:i-n]); n2 > 0 && isWord(b2) {
				return false
			}
		}
	}
	if lastR, _ := utf8.DecodeLastRuneInString(match); isWord(lastR) {
		after, n := utf8.DecodeRuneInString(t[j:])
		switch {
		case n == 0:
		case isWord(after):
			return false
		case strings.ContainsRune(joiners, after):
			if a2, n2 := utf8.DecodeRuneInString(t[j+n:]); n2 > 0 && isWord(a2) {
				return false
			}
		}
	}
	return true
}

// bareName is a name without a trailing remark in brackets: "Acme
// Logistics (demo)" is written "Acme Logistics" in notes.
func bareName(name string) string {
	if i := strings.LastIndex(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		return strings.TrimSpace(name[:i])
	}
	return name
}

func isWord(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func customerLetter(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return fmt.Sprintf("%d", i+1)
}

// person is the placeholder of a person id, made on first sight.
func (s *scrubber) person(id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	if p, ok := s.people[id]; ok {
		return p
	}
	s.nextHuman++
	p := fmt.Sprintf("Responder %d", s.nextHuman)
	s.people[id] = p
	return p
}

// text scrubs free text.
func (s *scrubber) text(t string) string {
	t = safetext.Clean(t)
	t = emailRe().ReplaceAllString(t, "[email]")
	for _, r := range s.rules {
		t = replaceWhole(t, r.re, r.with)
	}
	t = slackUserRe().ReplaceAllString(t, "[slack user]")
	// "Alice Jansen (alice)" became "Responder 1 Responder 1 (Responder 1)".
	for changed := true; changed; {
		changed = false
		for _, m := range placeholderRe().FindAllString(t, -1) {
			for _, dup := range []string{m + " " + m, m + " (" + m + ")"} {
				if strings.Contains(t, dup) {
					t, changed = strings.ReplaceAll(t, dup, m), true
				}
			}
		}
	}
	return t
}

// roundUp rounds d up to a multiple of step, and to at least step.
func roundUp(d, step time.Duration) time.Duration {
	if d <= step {
		return step
	}
	return (d + step - 1) / step * step
}

// minutes renders d, in whole minutes, as a scenario offset: 15m, 2h50m, 3h.
func minutes(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

func buildReplay(ex incident.Export, rb *runbook.Runbook, s *scrubber, notices []store.DrillNotice, loc *time.Location) *Scenario {
	in := ex.Incident
	t0 := in.AwareAt
	if t0.IsZero() || in.DeclaredAt.Before(t0) {
		t0 = in.DeclaredAt
	}
	if loc == nil {
		loc = time.UTC
	}
	offsetOf := func(t time.Time) time.Duration { return max(t.Sub(t0), 0).Truncate(time.Minute) }
	sc := &Scenario{
		ID:      "replay-" + strings.ToLower(in.ID),
		Title:   fmt.Sprintf("Replay of %s: %s", in.ID, s.text(in.Title)),
		Version: "1",
		Type:    "tabletop",
		Runbook: rb.ID,
		Start:   t0.In(loc).Format("Mon 15:04"),
		Summary: fmt.Sprintf("A replay of %s, handled with the runbook %q, as it was recorded: what the team learned "+
			"arrives as injects at the times it was learned, and the targets are the times the team achieved on the "+
			"night, rounded up to five minutes. Do at least as well.\n\nPeople and customers are placeholders "+
			"(Responder 1, Customer A).", in.ID, rb.Title),
		Assumptions: []string{
			"The times are those of the real incident, counted from when the organisation became aware.",
			"People and customers are placeholders; the facts are those recorded at the time.",
			"Players respond as they would today, with today's runbook and directory.",
		},
		HotWash: []string{
			"What went better this time than on the night, and why?",
			"Where were we slower, and what got in the way?",
			"What will we change in the runbook, the tooling or the training, who owns it, and by when?",
		},
	}
	sc.Objectives = append(sc.Objectives, Objective{ID: "O1", Runbook: rb.ID, Capability: "operational_coordination",
		Text: "Classify the incident, staff its roles and work the checklist at least as fast as on the night."})

	// Injects: the detection, then what was learned.
	detection := fmt.Sprintf("%s\n\n%s", s.text(in.Title), s.text(in.Summary))
	var facts []string
	for _, q := range rb.Questions {
		if v, ok := in.Answers[q.ID].(string); ok && q.Type == runbook.Text && strings.TrimSpace(v) != "" {
			facts = append(facts, fmt.Sprintf("- %s %s", q.Text, s.text(v)))
		}
	}
	if len(facts) > 0 {
		detection += "\n\nWhat was known at the start:\n" + strings.Join(facts, "\n")
	}
	sc.Injects = append(sc.Injects, Inject{ID: "detection", At: "0m", Channel: "alert", From: "Monitoring",
		Content: detection, Questions: []string{"Is this an incident? How severe, and who leads?"}})
	injectAt := []time.Duration{0}
	updates, customersLinked := 0, 0
	addInject := func(at time.Duration, id, channel, from, content string) {
		sc.Injects = append(sc.Injects, Inject{ID: id, At: minutes(at), Channel: channel, From: from, Content: content})
		injectAt = append(injectAt, at)
	}

	type action struct {
		at time.Duration
		e  Expectation
	}
	var actions []action
	expect := func(at time.Duration, e Expectation) { actions = append(actions, action{at, e}) }
	seen := map[string]bool{}
	roles := map[string]bool{}
	for _, r := range rb.Roles {
		roles[r.ID] = true
	}
	severity := ""
	for _, e := range ex.Timeline {
		at := offsetOf(e.At)
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data)
		str := func(k string) string { v, _ := data[k].(string); return v }
		switch e.Kind {
		case "note":
			updates++
			addInject(at, fmt.Sprintf("update-%d", updates), "slack", s.person(e.Actor), s.text(e.Summary))
		case "customer_linked":
			customersLinked++
			addInject(at, fmt.Sprintf("customer-%d", customersLinked), "customer", s.text(str("customer_id")),
				s.text(str("customer_id"))+" reports that its data may be affected and asks what happened.")
		case "reopened":
			addInject(at, fmt.Sprintf("reopened-%d", len(sc.Injects)), "slack", s.person(e.Actor),
				"New information reopens the incident: "+s.text(str("reason")))
		case "declared", "classified":
			if inc, _ := data["incident"].(bool); inc && str("severity") != "" && severity == "" {
				severity = str("severity")
				expect(at, Expectation{ID: "classify", Action: ExpectClassify, Severity: severity, Objective: "O1"})
			}
		case "severity_raised":
			to := str("to")
			if to != "" && !seen["sev-"+to] && severity != "" && classify.SeverityRank(to) < classify.SeverityRank(severity) {
				seen["sev-"+to] = true
				expect(at, Expectation{ID: "raise-" + strings.ToLower(to), Action: ExpectClassify, Severity: to,
					Objective: "O1", Text: "Severity raised to " + to})
			}
		case "role_assigned":
			role := str("role")
			if roles[role] && !seen["role-"+role] {
				seen["role-"+role] = true
				expect(at, Expectation{ID: "assign-" + role, Action: ExpectAssign, Role: role, Objective: "O1"})
			}
		case "step_completed":
			step := str("step")
			if _, _, ok := rb.Step(step); ok && !seen["step-"+step] {
				seen["step-"+step] = true
				expect(at, Expectation{ID: "step-" + step, Action: ExpectStep, Step: step, Objective: "O1"})
			}
		case "obligation_submitted":
			obl := str("obligation")
			if deadline.IsObligationID(obl) && obl != deadline.NoObligation && !seen["submit-"+obl] {
				seen["submit-"+obl] = true
				expect(at, Expectation{ID: "submit-" + obl, Action: ExpectSubmit, Obligation: obl, Objective: "O2"})
			}
		}
	}
	for _, n := range notices {
		if _, ok := rb.Notification(n.RuleID); ok && !seen["notice-"+n.RuleID] {
			seen["notice-"+n.RuleID] = true
			expect(offsetOf(n.At), Expectation{ID: "notice-" + n.RuleID, Action: ExpectApprove,
				Notification: n.RuleID, Objective: "O2"})
		}
	}
	sort.SliceStable(actions, func(i, j int) bool { return actions[i].at < actions[j].at })
	needO2 := false
	for _, a := range actions {
		// The latest inject at or before the action prompted it.
		k := 0
		for i, at := range injectAt {
			if at <= a.at {
				k = i
			}
		}
		a.e.Within = minutes(roundUp(a.at-injectAt[k], 5*time.Minute))
		needO2 = needO2 || a.e.Objective == "O2"
		sc.Injects[k].Expect = append(sc.Injects[k].Expect, a.e)
	}
	if needO2 {
		sc.Objectives = append(sc.Objectives, Objective{ID: "O2", Runbook: rb.ID, Capability: "public_information_and_warning",
			Text: "Notify stakeholders, customers and regulators at least as fast as on the night."})
	}

	sc.Participants = append(sc.Participants, Participant{Role: "facilitator", Who: "Runs the replay and rates the objectives"})
	var held []string
	for _, a := range ex.Roles {
		if roles[a.Role] && !slices.Contains(held, a.Role) {
			held = append(held, a.Role)
			sc.Participants = append(sc.Participants, Participant{Role: a.Role,
				Who: fmt.Sprintf("Whoever holds it on the team today (on the night: %s)", s.person(a.PersonID))})
		}
	}
	last := injectAt[len(injectAt)-1]
	for _, a := range actions {
		last = max(last, a.at)
	}
	sc.Duration = fmt.Sprintf("%dh", int(roundUp(last+time.Minute, time.Hour)/time.Hour))
	return sc
}

// marshalScenario writes a scenario as YAML with a header.
func marshalScenario(sc *Scenario, from string, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Generated by `irtui drill from-incident %s` on %s.\n", from, now.UTC().Format("2006-01-02"))
	buf.WriteString("# A replay of a real incident: people and customers are placeholders. Check the text for\n")
	buf.WriteString("# anything else that should not be shared before you hand it out.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(sc); err != nil {
		return nil, fmt.Errorf("write scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write scenario: %w", err)
	}
	return buf.Bytes(), nil
}
