package notify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// Deadline triggers fire as an obligation's clock passes half, four
// fifths and all of its time.
var deadlineTriggers = []string{"deadline_50", "deadline_80", "deadline_overdue"}

// trigger is one runbook trigger an event fires. One-off triggers
// (declared, flag:NAME, a deadline crossing) have a fixed key, so they fire
// once per incident and rule whatever happens later; repeatable ones
// (severity raised, role assigned, closed, reopened, classified) get a key
// numbered by occurrence when they fire.
type trigger struct {
	name   string
	key    string
	repeat bool
}

func triggersOf(ev incident.Event) []trigger {
	switch ev.Kind {
	case incident.EventDeclared:
		return []trigger{{name: "declared", key: "declared"}}
	case incident.EventFlagsSet:
		out := make([]trigger, 0, len(ev.Flags))
		for _, f := range ev.Flags {
			out = append(out, trigger{name: "flag:" + f, key: "flag:" + f})
		}
		return out
	case incident.EventRoleAssigned, incident.EventClassified, incident.EventSeverityRaised,
		incident.EventClosed, incident.EventReopened:
		return []trigger{{name: ev.Kind, repeat: true}}
	}
	return nil
}

// OnEvent fires the incident's runbook rules for ev and writes their
// notifications to the outbox, inside the transaction that records the
// event: the notice and the change commit together or not at all.
// Stakeholder and internal messages are queued at once; customer and
// regulator notices (and any rule with an approver) are drafts that need
// content and approval. Customer notices are one per affected customer.
func (s *Service) OnEvent(ctx context.Context, tx *store.Tx, ev incident.Event) error {
	in := ev.Incident
	if in.Kind != store.KindIncident {
		return nil // a dismissed event notifies nobody
	}
	if ev.At.IsZero() {
		ev.At = s.Clock.Now()
	}
	switch ev.Kind {
	case incident.EventCustomerLinked:
		return s.extendToCustomer(ctx, tx, ev)
	case incident.EventReassessed, incident.EventCustomerUnlinked:
		return s.withdrawStale(ctx, tx, ev)
	}
	triggers := triggersOf(ev)
	if len(triggers) == 0 {
		return nil
	}
	rb, ok := s.Runbook(in.RunbookID)
	if !ok {
		return s.skipped(ctx, tx, in, ev.Actor, ev.At, triggers)
	}
	var ec *eventCtx
	for i := range rb.Notify {
		rule := &rb.Notify[i]
		for _, tr := range triggers {
			if rule.On != tr.name {
				continue
			}
			if ec == nil {
				var err error
				if ec, err = s.newEventCtxAt(ctx, tx, in, rb, ev.Actor, ev.At, ev.At); err != nil {
					return err
				}
			}
			if _, _, err := s.fire(ctx, tx, ec, rule, tr); err != nil {
				return err
			}
		}
	}
	return nil
}

// skipped records that rules could not be evaluated because the runbook
// is not loaded: nobody should believe that nothing was due.
func (s *Service) skipped(ctx context.Context, tx *store.Tx, in store.Incident, actor identity.Actor, at time.Time, trs []trigger) error {
	names := make([]string, len(trs))
	for i, t := range trs {
		names[i] = t.name
	}
	n := &store.Notification{IncidentID: in.ID}
	return entry(ctx, tx, n, at, actor, "notification_skipped",
		fmt.Sprintf("Notification rules for %s were not evaluated: runbook %s is not loaded; notify people by hand",
			strings.Join(names, ", "), in.RunbookID),
		map[string]any{"runbook": in.RunbookID, "triggers": names})
}

// eventCtx is what every notice of one event is rendered from.
type eventCtx struct {
	in        store.Incident
	rb        *runbook.Runbook
	actor     identity.Actor
	at        time.Time
	now       time.Time
	base      runbook.TemplateData
	facts     facts
	obs       []deadline.Obligation
	env       map[string]any
	customers []store.Customer // affected
	red       *redactor        // over the whole directory
	title     prepared
	summary   prepared
}

func (s *Service) newEventCtx(ctx context.Context, tx *store.Tx, in store.Incident, rb *runbook.Runbook,
	actor identity.Actor, at time.Time) (*eventCtx, error) {
	now, err := timeOf(ctx, tx, in.ID, s.Clock.Now(), false)
	if err != nil {
		return nil, err
	}
	return s.newEventCtxAt(ctx, tx, in, rb, actor, at, now)
}

// newEventCtxAt is newEventCtx at a given now: an event is handled at its
// own time, by the clock of the service that recorded it (a drill's
// virtual clock, say).
func (s *Service) newEventCtxAt(ctx context.Context, tx *store.Tx, in store.Incident, rb *runbook.Runbook,
	actor identity.Actor, at, now time.Time) (*eventCtx, error) {
	ec := &eventCtx{in: in, rb: rb, actor: actor, at: at, now: now}
	events, err := tx.ObligationEvents(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	ec.obs = incident.Obligations(in, events, s.Config.Policy)
	commander := ""
	if a, err := tx.CurrentAssignment(ctx, in.ID, DefaultApprover); err == nil {
		commander = a.PersonID
		if p, err := tx.Person(ctx, a.PersonID); err == nil && p.Name != "" {
			commander = p.Name
		}
	}
	if ec.customers, err = tx.IncidentCustomers(ctx, in.ID); err != nil {
		return nil, err
	}
	flags := make(map[string]bool, len(in.Flags))
	for _, f := range in.Flags {
		flags[f] = true
	}
	ec.base = runbook.TemplateData{
		Exercise: in.Drill,
		Incident: runbook.IncidentData{ID: in.ID, Title: in.Title, Severity: in.Severity, Status: in.Status,
			Category: in.Category, Summary: in.Summary, Commander: commander, AwareAt: in.AwareAt.In(s.loc()),
			DeclaredAt: in.DeclaredAt.In(s.loc()), Flags: flags, AffectedCount: len(ec.customers)},
		Org: runbook.OrgData{Name: s.Config.Org.Name, DPOContact: s.Config.Org.DPOContact, Contact: s.Config.Org.Contact},
	}
	ec.facts = facts{Severity: in.Severity, Status: in.Status, Commander: commander}
	if in.Drill {
		ec.facts.Status += " (drill)"
	}
	if o, st, ok := incident.NextDeadline(ec.obs, ec.now); ok {
		ec.facts.NextDeadline = fmt.Sprintf("%s (%s) due %s", o.Rule.Title, o.Rule.ID, deadline.Format(st.Due.In(s.loc())))
		if st.State == deadline.Overdue || st.State == deadline.Escalated {
			ec.facts.NextDeadline += " — OVERDUE"
		}
	}
	if rb != nil {
		ec.env = ruleEnv(rb, in)
	}
	return ec, nil
}

// directory loads the whole customer directory for redaction, once.
func (ec *eventCtx) directory(ctx context.Context, tx *store.Tx) error {
	if ec.red != nil {
		return nil
	}
	all, err := tx.CustomerDirectory(ctx)
	if err != nil {
		return err
	}
	ec.red = newRedactor(all)
	ec.title = ec.red.prepare(ec.in.Title)
	ec.summary = ec.red.prepare(ec.in.Summary)
	return nil
}

func (s *Service) loc() *time.Location { return s.Config.Policy.Location() }

// ruleEnv is the runbook's FullEnv with the incident's values: stored
// answers (unanswered questions at their worst case, as classification
// does), flags, facts, severity and incident.
func ruleEnv(rb *runbook.Runbook, in store.Incident) map[string]any {
	env := rb.FullEnv()
	for _, q := range rb.Questions {
		v, ok := in.Answers[q.ID]
		if ss, isList := v.([]string); isList {
			// As declared in this process rather than read back from JSON.
			list := make([]any, len(ss))
			for i, s := range ss {
				list[i] = s
			}
			v = list
		}
		if ok {
			if c, err := classify.Coerce(q, v); err == nil {
				env[q.ID] = c
				continue
			}
		}
		env[q.ID] = q.WorstValue()
	}
	for _, f := range rb.FlagNames() { // the runbook's and its shared assessments'
		env[f] = slices.Contains(in.Flags, f)
	}
	for k, v := range in.Facts {
		if _, ok := env[k]; ok {
			env[k] = v
		}
	}
	env[runbook.NameSeverity] = classify.SeverityRank(in.Severity)
	env[runbook.NameIncident] = in.Kind == store.KindIncident
	return env
}

// fire evaluates one rule for one trigger and writes its notifications.
// It returns how many it wrote, and whether the rule fired (it may fire
// and write none: a customer notice with no customers linked).
func (s *Service) fire(ctx context.Context, tx *store.Tx, ec *eventCtx, rule *runbook.Notification, tr trigger) (wrote int, fired bool, err error) {
	applies, cerr := rule.Applies(ec.env)
	if cerr != nil {
		// A condition that fails at run time (it compiled at load) errs
		// towards telling people: the draft or message is written, and
		// the timeline says why.
		applies = true
	}
	if !applies {
		return 0, false, nil
	}
	if tr.repeat {
		k, err := tx.FiredCount(ctx, ec.in.ID, rule.ID, tr.name)
		if err != nil {
			return 0, false, err
		}
		tr.key = fmt.Sprintf("%s#%d", tr.name, k+1)
	}
	fired, err = tx.MarkFired(ctx, store.FiredRule{IncidentID: ec.in.ID, RuleID: rule.ID, TriggerKey: tr.key,
		Trigger: tr.name, Audience: rule.Audience, At: ec.at, Actor: ec.actor.ID()})
	if err != nil || !fired {
		return 0, false, err
	}
	var extra map[string]any
	if cerr != nil {
		extra = map[string]any{"condition_error": cerr.Error()}
	}
	if rule.Audience != AudienceCustomers {
		ok, err := s.write(ctx, tx, ec, rule, tr, nil, extra)
		if ok {
			wrote = 1
		}
		return wrote, true, err
	}
	if len(ec.customers) == 0 {
		n := &store.Notification{IncidentID: ec.in.ID, RuleID: rule.ID, Audience: rule.Audience}
		return 0, true, entry(ctx, tx, n, ec.at, ec.actor, "notification_no_recipients",
			fmt.Sprintf("Customer notice %s is due, but no affected customers are linked; link them and each gets a draft",
				rule.ID), map[string]any{"trigger": tr.name})
	}
	for i := range ec.customers {
		ok, err := s.write(ctx, tx, ec, rule, tr, &ec.customers[i], extra)
		if err != nil {
			return wrote, true, err
		}
		if ok {
			wrote++
		}
	}
	return wrote, true, nil
}

// extendToCustomer drafts, for a customer linked after customer notices
// went out to the others, the same notices for them.
func (s *Service) extendToCustomer(ctx context.Context, tx *store.Tx, ev incident.Event) error {
	fired, err := tx.FiredRules(ctx, ev.Incident.ID)
	if err != nil {
		return err
	}
	var todo []store.FiredRule
	for _, f := range fired {
		if f.Audience == AudienceCustomers {
			todo = append(todo, f)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	rb, ok := s.Runbook(ev.Incident.RunbookID)
	if !ok {
		return s.skipped(ctx, tx, ev.Incident, ev.Actor, ev.At, []trigger{{name: "customer notices for " + ev.Customer}})
	}
	ec, err := s.newEventCtxAt(ctx, tx, ev.Incident, rb, ev.Actor, ev.At, ev.At)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ec.customers, func(c store.Customer) bool { return c.ID == ev.Customer })
	if i < 0 {
		return nil
	}
	for _, f := range todo {
		j := slices.IndexFunc(rb.Notify, func(n runbook.Notification) bool { return n.ID == f.RuleID })
		if j < 0 {
			continue
		}
		if _, err := s.write(ctx, tx, ec, &rb.Notify[j], trigger{name: f.Trigger, key: f.TriggerKey}, &ec.customers[i], nil); err != nil {
			return err
		}
	}
	return nil
}

// write renders one notification and adds it to the outbox with its
// timeline entry. ok is false when its idempotency key was already there.
func (s *Service) write(ctx context.Context, tx *store.Tx, ec *eventCtx, rule *runbook.Notification, tr trigger,
	c *store.Customer, extra map[string]any) (ok bool, err error) {
	n := store.Notification{
		IncidentID: ec.in.ID, RuleID: rule.ID, Trigger: tr.name, Audience: rule.Audience,
		ObligationID: rule.Obligation, ApproverRole: rule.Approver, DraftedBy: ec.actor.ID(),
		TriggeredAt: ec.at, CreatedAt: ec.now, UpdatedAt: ec.now, Drill: ec.in.Drill,
		Content: map[string]string{}, ContentBy: map[string]string{},
	}
	if n.ObligationID == "none" {
		n.ObligationID = ""
	}
	key := []string{ec.in.ID, rule.ID, tr.key}
	for _, f := range rule.Content {
		n.Fields = append(n.Fields, store.NoticeField{ID: f.ID, Label: f.Label, Help: f.Help, Required: f.Required})
		n.Content[f.ID] = ""
	}
	data := ec.base
	var redact func(string) string
	lang := ""
	if c != nil {
		if err := ec.directory(ctx, tx); err != nil {
			return false, err
		}
		n.CustomerID = c.ID
		key = append(key, c.ID)
		lang = c.Language
		data.Customer = runbook.CustomerData{ID: c.ID, Name: c.Name, Language: c.Language, Region: c.Region}
		data.Incident.Title = ec.title.forCustomer(c.ID)
		data.Incident.Summary = ec.summary.forCustomer(c.ID)
		red, id := ec.red, c.ID
		redact = func(v string) string { return red.redact(v, id) }
	}
	tmpl, used := pickTemplate(*rule, lang)
	n.Template = store.NoticeTemplate{Subject: tmpl.Subject, Body: tmpl.Body}
	n.Language = used
	n.IdempotencyKey = strings.Join(key, "|")
	s.obligation(ec, rule, &n, &data)
	s.route(ec, &n, c)

	needsApproval := rule.Approver != "" || rule.Audience == AudienceCustomers || rule.Audience == AudienceRegulator
	if needsApproval {
		n.Status = store.NoticeDraft
		if n.ApproverRole == "" {
			n.ApproverRole = DefaultApprover
		}
	} else {
		n.Status = store.NoticeQueued
	}
	if rerr := render(&n, data, ec.facts, redact); rerr != nil {
		// The runbook's templates passed lint, so this is rare; the
		// notice is kept, loudly failed, rather than silently missing.
		n.Status, n.LastError = store.NoticeFailed, "could not render: "+rerr.Error()
		n.Subject = fmt.Sprintf("%s: notice %s could not be rendered", ec.in.ID, rule.ID)
		n.Body = n.LastError
		n.Blocks = nil
	}
	inserted, err := tx.InsertNotification(ctx, &n)
	if err != nil || !inserted {
		return false, err
	}
	var kind, summary string
	switch n.Status {
	case store.NoticeDraft:
		kind = "notification_drafted"
		summary = fmt.Sprintf("Drafted %s to %s: needs content and approval by %s", label(&n), n.Recipient, n.ApproverRole)
	case store.NoticeQueued:
		kind = "notification_queued"
		summary = fmt.Sprintf("Queued %s to %s: %s", label(&n), n.Recipient, n.Subject)
	default:
		kind = "notification_failed"
		summary = fmt.Sprintf("FAILED %s to %s: %s", label(&n), n.Recipient, n.LastError)
	}
	x := map[string]any{"trigger": tr.name, "language": n.Language}
	for k, v := range extra {
		x[k] = v
	}
	return true, entry(ctx, tx, &n, ec.at, ec.actor, kind, summary, x)
}

// obligation fills the obligation a notice serves and its due time: the
// obligation's due time if the rule names one that applies, else the
// rule's own "within" target from the trigger.
func (s *Service) obligation(ec *eventCtx, rule *runbook.Notification, n *store.Notification, data *runbook.TemplateData) {
	if n.ObligationID != "" {
		data.Obligation = runbook.ObligationData{ID: n.ObligationID}
		if r, ok := deadline.RuleByID(n.ObligationID); ok {
			data.Obligation.Title = r.Title
		}
		for _, o := range ec.obs {
			if o.Rule.ID == n.ObligationID {
				data.Obligation.Title = o.Rule.Title
				if st := o.At(ec.now); !st.Due.IsZero() {
					data.Obligation.Due = st.Due.In(s.loc())
					n.DueAt = st.Due
				}
				break
			}
		}
	}
	if n.DueAt.IsZero() && rule.Within != "" {
		if d, err := runbook.ParseDuration(rule.Within); err == nil {
			n.DueAt = ec.at.Add(d)
		}
	}
}

// route decides where a notice goes. A drill's messages go to the drill
// channel, or the console, and never to a customer. Stakeholder and
// internal messages go to the channel the configuration routes the
// incident's severity and runbook to (IRTUI_SLACK_CHANNEL, then
// slack.channel, by default). A customer's notice goes to the customer's
// contact: their Slack Connect channel, or their mail address (exported as
// files). A regulator's notice is exported as files for submission.
func (s *Service) route(ec *eventCtx, n *store.Notification, c *store.Customer) {
	who := n.Audience
	if c != nil {
		who = fmt.Sprintf("%s (%s)", safeName(c.Name), c.ID)
	}
	if ec.in.Drill {
		if ch := s.Config.Slack.DrillChannel; ch != "" {
			n.DestKind, n.Channel = store.DestSlack, ch
			n.Recipient = "drill channel " + ch
		} else {
			n.DestKind, n.Recipient = store.DestConsole, "console (drill)"
		}
		if c != nil || n.Audience == AudienceRegulator {
			n.Recipient += ", instead of " + who
		}
		return
	}
	switch {
	case c != nil && c.ContactKind == "slack":
		n.DestKind, n.Channel = store.DestSlack, c.Contact
		n.Recipient = who + " on Slack " + c.Contact
	case c != nil:
		n.DestKind, n.Channel = store.DestEmail, c.Contact
		n.Recipient = who + " by mail " + c.Contact
	case n.Audience == AudienceRegulator:
		n.DestKind, n.Recipient = store.DestFile, "regulator (file export for submission)"
	default:
		sl := s.Config.Slack
		if s.Settings.Channel != "" {
			sl.Channel = s.Settings.Channel
		}
		n.DestKind = store.DestSlack
		n.Channel = sl.ChannelFor(ec.in.Severity, ec.in.RunbookID, "")
		n.Recipient = n.Channel
		if n.Recipient == "" {
			n.Recipient = "the default Slack channel"
		}
	}
}

func safeName(s string) string { return safetext.Line(s) }

// ScanDeadlines fires the deadline_50, deadline_80 and deadline_overdue
// rules of open incidents whose obligations' clocks have crossed those
// marks, once per incident, rule and obligation. When several marks have
// passed (the worker was not running), only the latest fires. It returns
// how many notifications it wrote.
//
// A drill incident's deadlines are read on its drill clock, never the
// wall clock's.
func (s *Service) ScanDeadlines(ctx context.Context) (int, error) {
	real := s.Clock.Now()
	open, err := s.Store.ListIncidents(ctx, store.ListFilter{Status: store.StatusOpen, Kind: store.KindIncident,
		Limit: 100000})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, in := range open {
		now := real
		if in.Drill {
			c, ok, err := s.Store.DrillClockOf(ctx, in.ID)
			if err != nil {
				return total, err
			}
			if ok {
				now = c.Now(real)
			}
		}
		rb, ok := s.Runbook(in.RunbookID)
		if !ok || !slices.ContainsFunc(rb.Notify, func(n runbook.Notification) bool {
			return slices.Contains(deadlineTriggers, n.On)
		}) {
			continue
		}
		d, err := s.Store.IncidentHead(ctx, in.ID)
		if err != nil {
			return total, err
		}
		type firing struct {
			rule *runbook.Notification
			tr   trigger
		}
		var todo []firing
		for _, ob := range incident.Obligations(in, d.Obligations, s.Config.Policy) {
			if ob.At(now).State == deadline.Met {
				continue
			}
			latest := ""
			for _, c := range ob.Crossings() {
				if c.Known && !c.At.After(now) {
					latest = c.Trigger
				}
			}
			if latest == "" {
				continue
			}
			for i := range rb.Notify {
				r := &rb.Notify[i]
				if r.On == latest && (r.Obligation == "" || r.Obligation == "none" || r.Obligation == ob.Rule.ID) {
					todo = append(todo, firing{r, trigger{name: latest, key: latest + ":" + ob.Rule.ID}})
				}
			}
		}
		if len(todo) == 0 {
			continue
		}
		wrote, anyFired := 0, false
		err = s.Store.Update(ctx, func(tx *store.Tx) error {
			cur, err := tx.Incident(ctx, in.ID)
			if err != nil || cur.Status != store.StatusOpen {
				return err
			}
			ec, err := s.newEventCtx(ctx, tx, cur, rb, identity.Irtui(), now)
			if err != nil {
				return err
			}
			for _, f := range todo {
				k, fired, err := s.fire(ctx, tx, ec, f.rule, f.tr)
				if err != nil {
					return err
				}
				wrote += k
				anyFired = anyFired || fired
			}
			if !anyFired {
				return nil
			}
			return tx.AppendAudit(ctx, &store.AuditEntry{At: real, Actor: SystemActor, Auth: identity.Irtui().Auth(), Action: "notify_deadline",
				IncidentID: in.ID, Outcome: store.OutcomeOK,
				Detail: fmt.Sprintf("%d notification(s) for deadline crossings", wrote)})
		})
		if err != nil {
			return total, err
		}
		total += wrote
	}
	return total, nil
}
