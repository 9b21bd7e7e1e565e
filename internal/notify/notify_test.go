package notify

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

func TestDeclareQueuesStakeholdersAndDraftsNotices(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Support export in a public bucket", false, "acme", "globex", "initech")

	list := f.list(in.ID)
	stake := f.byAudience(in.ID, AudienceStakeholders)
	if len(stake) != 1 || stake[0].Status != store.NoticeQueued || stake[0].Channel != "#sec-incidents" {
		t.Fatalf("stakeholder messages = %+v", stake)
	}
	if stake[0].RuleID != "stakeholders-declared" || stake[0].Trigger != "declared" || stake[0].DueAt != t0.Add(30*time.Minute) {
		t.Errorf("stakeholder message: rule %s trigger %s due %v", stake[0].RuleID, stake[0].Trigger, stake[0].DueAt)
	}
	cust := f.byAudience(in.ID, AudienceCustomers)
	if len(cust) != 3 {
		t.Fatalf("want a notice per customer, got %d of %d notifications", len(cust), len(list))
	}
	for _, n := range cust {
		if n.Status != store.NoticeDraft || n.ApproverRole != "incident_commander" || n.ObligationID != "customer-notice" {
			t.Errorf("customer notice %d: %s approver %q obligation %q", n.ID, n.Status, n.ApproverRole, n.ObligationID)
		}
		if n.DueAt.IsZero() || n.DraftedBy != "alice" || len(n.Fields) == 0 || len(NewView(n).Missing) == 0 {
			t.Errorf("customer notice %d: due %v drafted by %q fields %d", n.ID, n.DueAt, n.DraftedBy, len(n.Fields))
		}
	}
	if reg := f.byAudience(in.ID, AudienceRegulator); len(reg) != 1 || reg[0].Status != store.NoticeDraft || reg[0].DestKind != store.DestFile {
		t.Errorf("regulator notice = %+v", reg)
	}

	// Every notification has its creation on the timeline, in the same
	// transaction as the declaration (the audit entry vouches for it).
	d, err := f.st.Incident(f.ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[int64]string{}
	for _, e := range d.Timeline {
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data)
		if id, ok := data["notification"].(float64); ok {
			entries[int64(id)] = e.Kind
		}
	}
	for _, n := range list {
		want := map[string]string{store.NoticeQueued: "notification_queued", store.NoticeDraft: "notification_drafted"}[n.Status]
		if entries[n.ID] != want {
			t.Errorf("notification %d (%s): timeline entry %q, want %q", n.ID, n.Status, entries[n.ID], want)
		}
	}
	rep, err := f.st.VerifyChains(f.ctx)
	if err != nil || !rep.OK {
		t.Fatalf("chains: %+v %v", rep, err)
	}
}

func TestDutchCustomerGetsTheDutchTemplate(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Support export in a public bucket", false, "acme", "globex", "initech")
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		switch n.CustomerID {
		case "globex":
			if n.Language != "nl" || !strings.HasPrefix(n.Subject, "Beveiligingsincident met uw gegevens") ||
				!strings.Contains(n.Body, "Beste Globex Corporation") {
				t.Errorf("Dutch customer got %s: %q\n%s", n.Language, n.Subject, n.Body)
			}
		case "initech": // en-GB: no translation, so the English default
			if n.Language != "en" || !strings.Contains(n.Body, "Dear Initech") {
				t.Errorf("en-GB customer got %s: %q", n.Language, n.Subject)
			}
		default:
			if n.Language != "en" || !strings.HasPrefix(n.Subject, "Security incident affecting your data") {
				t.Errorf("English customer got %s: %q", n.Language, n.Subject)
			}
		}
	}
}

func TestPickTemplate(t *testing.T) {
	rule := runbook.Notification{Template: runbook.Template{Subject: "en"},
		Translations: map[string]runbook.Template{"nl": {Subject: "nl"}, "pt-BR": {Subject: "pt-BR"}}}
	for lang, want := range map[string]string{"": "en", "en": "en", "nl": "nl", "NL": "nl", "nl-BE": "nl",
		"pt-BR": "pt-BR", "pt": "en", "de": "en"} {
		if got, _ := pickTemplate(rule, lang); got.Subject != want {
			t.Errorf("language %q: got %s, want %s", lang, got.Subject, want)
		}
	}
}

func TestApprovalRules(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Support export in a public bucket", false, "acme")
	n := f.byAudience(in.ID, AudienceCustomers)[0]
	isRefused := func(err error, want string) {
		t.Helper()
		if !errors.Is(err, incident.ErrRefused) || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want a refusal mentioning %q", err, want)
		}
	}

	// Required fields are empty.
	isRefused(f.ns.Approve(f.ctx, as("alice"), n.ID), "required content is empty")

	for _, fl := range n.Fields {
		if fl.ID == "measures" {
			continue
		}
		if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, fl.ID, "text for "+fl.ID); err != nil {
			t.Fatal(err)
		}
	}
	isRefused(f.ns.Approve(f.ctx, as("alice"), n.ID), "What we have done and will do")
	if _, err := f.ns.SetContent(f.ctx, as("carol"), n.ID, "measures", "We closed the bucket."); err != nil {
		t.Fatal(err)
	}
	// Nobody holds the approver role yet.
	isRefused(f.ns.Approve(f.ctx, as("alice"), n.ID), "nobody holds incident_commander")
	f.commander(in.ID, "alice")
	// Whoever fills in content may not approve.
	if _, err := f.ns.SetContent(f.ctx, as("carol"), n.ID, "measures", "We closed the bucket."); err != nil {
		t.Fatal(err)
	}
	// alice holds the role but drafted the notice (her declaration
	// triggered it).
	isRefused(f.ns.Approve(f.ctx, as("alice"), n.ID), "you drafted")
	// bob does not hold the role.
	isRefused(f.ns.Approve(f.ctx, as("bob"), n.ID), "only alice, who holds incident_commander")
	f.commander(in.ID, "carol")
	isRefused(f.ns.Approve(f.ctx, as("carol"), n.ID), "you filled in What we have done")
	f.commander(in.ID, "bob")
	isRefused(f.ns.Approve(f.ctx, as("bob"), n.ID), "you filled in")
	f.commander(in.ID, "dave")
	if err := f.ns.Approve(f.ctx, as("dave"), n.ID); err != nil {
		t.Fatal(err)
	}
	got := f.get(n.ID)
	if got.Status != store.NoticeQueued || got.ApprovedBy != "dave" || got.ApprovedAt.IsZero() {
		t.Fatalf("after approval: %s by %q", got.Status, got.ApprovedBy)
	}
	if !strings.Contains(got.Body, "We closed the bucket.") || strings.Contains(got.Body, "[to be filled in") {
		t.Errorf("approved body:\n%s", got.Body)
	}
	// Approved: no more edits, no second approval.
	if err := f.ns.Approve(f.ctx, as("dave"), n.ID); !errors.Is(err, incident.ErrInvalidState) {
		t.Errorf("second approval: %v", err)
	}
	if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, "measures", "changed"); !errors.Is(err, incident.ErrInvalidState) {
		t.Errorf("edit after approval: %v", err)
	}
	if _, err := f.ns.SetContent(f.ctx, as("bob"), 9999, "measures", "x"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("edit of a missing notice: %v", err)
	}

	// Each status change is on the timeline: drafted, edits, approved, queued.
	d, _ := f.st.Incident(f.ctx, in.ID)
	var kinds []string
	for _, e := range d.Timeline {
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data)
		if id, _ := data["notification"].(float64); int64(id) == n.ID {
			kinds = append(kinds, e.Kind)
		}
	}
	if !slices.Contains(kinds, "notification_drafted") || !slices.Contains(kinds, "notification_approved") ||
		kinds[len(kinds)-1] != "notification_queued" {
		t.Errorf("timeline of the notice: %v", kinds)
	}
	// Refusals are audited.
	audit, _ := f.st.Audit(f.ctx, store.AuditFilter{IncidentID: in.ID})
	refusals := 0
	for _, a := range audit {
		if a.Action == "notify_approve" && a.Outcome == store.OutcomeRefused {
			refusals++
		}
	}
	if refusals < 6 {
		t.Errorf("%d refused approvals audited", refusals)
	}
}

func TestApproverRoleNamedByTheRule(t *testing.T) {
	f := newFixture(t)
	f.extras["personal-data-breach"] = []runbook.Notification{{ID: "dpo-note", Audience: AudienceInternal,
		On: "declared", Approver: "dpo", Template: runbook.Template{Subject: "DPO check {{.Incident.ID}}", Body: "Check."}}}
	in := f.declare("Export", false)
	var n store.Notification
	for _, x := range f.list(in.ID) {
		if x.RuleID == "dpo-note" {
			n = x
		}
	}
	if n.Status != store.NoticeDraft || n.ApproverRole != "dpo" {
		t.Fatalf("internal message with an approver: %+v", n)
	}
	f.commander(in.ID, "dave")
	if err := f.ns.Approve(f.ctx, as("dave"), n.ID); !errors.Is(err, incident.ErrRefused) {
		t.Fatalf("the commander approved a notice for the dpo: %v", err)
	}
	if err := f.svc.Assign(f.ctx, as("alice"), in.ID, "dpo", "carol"); err != nil {
		t.Fatal(err)
	}
	if err := f.ns.Approve(f.ctx, as("carol"), n.ID); err != nil {
		t.Fatal(err)
	}
}

// TestApproveRule approves a notice by its rule, as a drill's "approve"
// action does: under the same rules as Approve, and only a draft.
func TestApproveRule(t *testing.T) {
	f := newFixture(t)
	f.extras["personal-data-breach"] = []runbook.Notification{{ID: "dpo-note", Audience: AudienceInternal,
		On: "declared", Approver: "dpo", Template: runbook.Template{Subject: "DPO check {{.Incident.ID}}", Body: "Check."}}}
	in := f.declare("Export", false)
	// Nobody holds the approver role: Approve's refusal comes through.
	if err := f.ns.ApproveRule(f.ctx, as("carol"), in.ID, "dpo-note"); !errors.Is(err, incident.ErrRefused) ||
		!strings.Contains(err.Error(), "nobody holds dpo") {
		t.Fatalf("approving before the dpo is assigned: %v", err)
	}
	if err := f.svc.Assign(f.ctx, as("alice"), in.ID, "dpo", "carol"); err != nil {
		t.Fatal(err)
	}
	if err := f.ns.ApproveRule(f.ctx, as("carol"), in.ID, "dpo-note"); err != nil {
		t.Fatal(err)
	}
	for _, n := range f.list(in.ID) {
		if n.RuleID == "dpo-note" && (n.Status != store.NoticeQueued || n.ApprovedBy != "carol") {
			t.Errorf("after approval by rule: %s by %q", n.Status, n.ApprovedBy)
		}
	}
	want := "there is no draft of dpo-note on " + in.ID + " to approve (`irtui notify list --incident " + in.ID + "`)"
	if err := f.ns.ApproveRule(f.ctx, as("carol"), in.ID, "dpo-note"); err == nil || err.Error() != want {
		t.Errorf("approving again: %v", err)
	}
	if err := f.ns.ApproveRule(f.ctx, as("carol"), in.ID, "no-such-rule"); err == nil || !strings.Contains(err.Error(), "no draft of no-such-rule") {
		t.Errorf("unknown rule: %v", err)
	}
}

// Three customers: each notice, its blocks and its files hold that
// customer's data only, though the title and the text people typed name
// the others.
func TestEachCustomerGetsOnlyTheirOwnData(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare(hostileTitle, false, "acme", "globex", "initech")
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		f.fillAndApprove(n, func(field string) string {
			return "Details for " + field + "; unlike Acme Holdings, Globex Corporation and Initech (initech)"
		})
	}
	set := sl.settings()
	set.ExportDir = filepath.Join(t.TempDir(), "outbox")
	w := f.worker(set)
	if _, err := w.Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	others := func(id string) []string {
		var out []string
		for _, c := range directory.Customers {
			if c.ID != id {
				out = append(out, c.ID, c.Name, c.Contact)
			}
		}
		return out
	}
	check := func(what, text, own string) {
		t.Helper()
		lower := strings.ToLower(text)
		for _, o := range others(own) {
			if strings.Contains(lower, strings.ToLower(o)) {
				t.Errorf("%s for %s mentions %q:\n%s", what, own, o, text)
			}
		}
	}
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		// A customer whose contact is a mail address, with no mail server
		// set up, gets an export that is not delivered.
		want := store.NoticeSent
		if n.DestKind == store.DestEmail {
			want = store.NoticeExported
		}
		if n.Status != want {
			t.Fatalf("notice %d to %s: %s %s", n.ID, n.CustomerID, n.Status, n.LastError)
		}
		raw, _ := json.Marshal(n)
		check("stored notice", string(raw), n.CustomerID)
		if !strings.Contains(n.Body, n.CustomerID) || !strings.Contains(n.Body, incident.Redacted) {
			t.Errorf("notice for %s:\n%s", n.CustomerID, n.Body)
		}
		switch n.CustomerID {
		case "globex": // Slack Connect channel
			if n.Via != ViaSlack || n.SlackTS == "" {
				t.Errorf("globex notice went via %s", n.Via)
			}
		default: // mail: .md and .eml, mode 0600
			if n.Via != ViaFile || n.ExportPath == "" {
				t.Fatalf("notice for %s went via %s", n.CustomerID, n.Via)
			}
			for _, p := range []string{n.ExportPath, strings.TrimSuffix(n.ExportPath, ".md") + ".eml"} {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v", p, st.Mode().Perm())
				}
				b, _ := os.ReadFile(p)
				check(filepath.Base(p), string(b), n.CustomerID)
				if !strings.Contains(string(b), n.CustomerID) {
					t.Errorf("%s does not name its customer", p)
				}
			}
			eml, _ := os.ReadFile(strings.TrimSuffix(n.ExportPath, ".md") + ".eml")
			for _, c := range directory.Customers {
				if c.ID == n.CustomerID && !strings.Contains(string(eml), "To: <"+c.Contact+">") {
					t.Errorf("eml for %s lacks its To:\n%s", c.ID, eml)
				}
			}
		}
	}
	posts := sl.delivered()
	var globex int
	for _, p := range posts {
		if p.Get("channel") == "#globex-incidents" {
			globex++
			check("Slack post", p.Get("text")+p.Get("blocks"), "globex")
		}
	}
	if globex != 1 {
		t.Errorf("%d posts to the globex channel", globex)
	}
	dir, _ := os.Stat(set.ExportDir)
	if dir.Mode().Perm() != 0o700 {
		t.Errorf("export folder mode %v", dir.Mode().Perm())
	}
}

func TestDrillGoesToTheDrillChannelOnly(t *testing.T) {
	f := newFixture(t)
	sl := newSlackServer(t, f.clock)
	in := f.declare("Table-top: leaked export", true, "acme", "globex", "initech")
	for _, n := range f.list(in.ID) {
		if !strings.HasPrefix(n.Subject, Exercise+" ") || !strings.HasPrefix(n.Body, Exercise) {
			t.Errorf("drill notification %d lacks the prefix: %q", n.ID, n.Subject)
		}
		if n.DestKind != store.DestSlack || n.Channel != "#drills" {
			t.Errorf("drill notification %d goes to %s %q", n.ID, n.DestKind, n.Channel)
		}
		if n.Audience == AudienceCustomers && n.Status != store.NoticeDraft {
			t.Errorf("drill customer notice %d is %s", n.ID, n.Status)
		}
	}
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		f.fillAndApprove(n, func(string) string { return "exercise text" })
	}
	set := sl.settings()
	set.ExportDir = filepath.Join(t.TempDir(), "outbox")
	set.Channel = "#sec-incidents"
	if _, err := f.worker(set).Drain(f.ctx); err != nil {
		t.Fatal(err)
	}
	posts := sl.delivered()
	if len(posts) != 4 { // the stakeholder message and three customer notices
		t.Fatalf("%d posts", len(posts))
	}
	for _, p := range posts {
		if p.Get("channel") != "#drills" || !strings.HasPrefix(p.Get("text"), "[EXERCISE]") {
			t.Errorf("drill post to %s: %q", p.Get("channel"), p.Get("text"))
		}
		if blocks := decodePostBlocks(t, p); blocks[0].BlockType() != "header" {
			t.Errorf("first block is %s", blocks[0].BlockType())
		}
	}
	if _, err := os.Stat(set.ExportDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a drill exported files for customers: %v", err)
	}

	// Without a drill channel, a drill goes to the console.
	f2 := newFixture(t)
	f2.cfg.Slack.DrillChannel = ""
	f2.ns.Config = f2.cfg
	in2 := f2.declare("Table-top two", true, "acme")
	for _, n := range f2.list(in2.ID) {
		if n.DestKind != store.DestConsole {
			t.Errorf("drill without a drill channel: %s", n.DestKind)
		}
	}
	rep, err := f2.worker(sl.settings()).SendDue(f2.ctx)
	if err != nil || rep.Sent != 0 || rep.Console != 1 || rep.Results[0].Via != ViaConsole {
		t.Fatalf("%+v %v", rep, err)
	}
	if len(sl.delivered()) != 4 {
		t.Error("a drill without a drill channel posted to Slack")
	}
}

func TestRulesFireOnIncidentEvents(t *testing.T) {
	f := newFixture(t)
	tmpl := runbook.Template{Subject: "{{.Incident.ID}} {{.Incident.Severity}}", Body: "Commander: {{.Incident.Commander}}"}
	f.extras["personal-data-breach"] = []runbook.Notification{
		{ID: "on-role", Audience: AudienceStakeholders, On: "role_assigned", Template: tmpl},
		{ID: "on-raise", Audience: AudienceStakeholders, On: "severity_raised", Template: tmpl},
		{ID: "on-reopen", Audience: AudienceInternal, On: "reopened", Template: tmpl},
	}
	in := f.declare("Export", false, "acme")
	f.commander(in.ID, "dave")
	if err := f.svc.ChangeSeverity(f.ctx, as("alice"), in.ID, "SEV1", ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Reopen(f.ctx, as("alice"), in.ID, "more found"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "test"); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, n := range f.list(in.ID) {
		count[n.RuleID]++
		switch n.RuleID {
		case "on-role":
			if !strings.Contains(n.Body, "Dave Kim") {
				t.Errorf("role message: %q", n.Body)
			}
		case "on-raise":
			if n.Channel != "#sev1-war-room" || n.Subject != in.ID+" SEV1" {
				t.Errorf("severity message to %q: %q", n.Channel, n.Subject)
			}
		}
	}
	want := map[string]int{"on-role": 1, "on-raise": 1, "on-reopen": 1, "stakeholders-closed": 2}
	for rule, k := range want {
		if count[rule] != k {
			t.Errorf("rule %s fired %d times, want %d (all: %v)", rule, count[rule], k, count)
		}
	}
	// "declared" is a one-off trigger.
	if count["stakeholders-declared"] != 1 {
		t.Errorf("declared fired %d times", count["stakeholders-declared"])
	}
}

func TestCustomerLinkedLaterGetsTheNotice(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export", false, "acme")
	if err := f.svc.LinkCustomer(f.ctx, as("alice"), in.ID, "globex"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		ids = append(ids, n.CustomerID)
	}
	if !slices.Equal(ids, []string{"acme", "globex"}) {
		t.Fatalf("customer notices for %v", ids)
	}
	g := f.byAudience(in.ID, AudienceCustomers)[1]
	if g.Language != "nl" || g.Status != store.NoticeDraft || strings.Contains(g.Body, "Acme") {
		t.Errorf("late notice: %s %s\n%s", g.Language, g.Status, g.Body)
	}
}

func TestNoCustomersLinkedIsRecorded(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export", false)
	if n := f.byAudience(in.ID, AudienceCustomers); len(n) != 0 {
		t.Fatalf("%d customer notices without customers", len(n))
	}
	d, _ := f.st.Incident(f.ctx, in.ID)
	if !slices.ContainsFunc(d.Timeline, func(e store.TimelineEntry) bool { return e.Kind == "notification_no_recipients" }) {
		t.Error("no timeline entry says the customer notice has no recipients")
	}
	if err := f.svc.LinkCustomer(f.ctx, as("alice"), in.ID, "initech"); err != nil {
		t.Fatal(err)
	}
	if n := f.byAudience(in.ID, AudienceCustomers); len(n) != 1 || n[0].CustomerID != "initech" {
		t.Fatalf("after linking: %+v", n)
	}
}

// failingNotifier writes its notifications, then fails: the incident
// change must not commit without them, nor they without it.
type failingNotifier struct{ inner incident.Notifier }

func (f failingNotifier) OnEvent(ctx context.Context, tx *store.Tx, ev incident.Event) error {
	if err := f.inner.OnEvent(ctx, tx, ev); err != nil {
		return err
	}
	return errors.New("disk full")
}

func TestOutboxIsAtomicWithTheIncidentChange(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export", false, "acme")
	before := len(f.list(in.ID))
	f.svc.Notifier = failingNotifier{f.ns}
	if err := f.svc.Close(f.ctx, as("alice"), in.ID, "done"); err == nil {
		t.Fatal("close succeeded though its notifications could not be written")
	}
	d, _ := f.st.Incident(f.ctx, in.ID)
	if d.Incident.Status != store.StatusOpen || len(f.list(in.ID)) != before {
		t.Fatalf("status %s, %d notifications (was %d)", d.Incident.Status, len(f.list(in.ID)), before)
	}
}

func TestIdempotencyKeyIsUnique(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export", false)
	n := f.list(in.ID)[0]
	n.ID = 0
	err := f.st.Update(f.ctx, func(tx *store.Tx) error {
		ok, err := tx.InsertNotification(f.ctx, &n)
		if ok {
			t.Error("the same idempotency key was inserted twice")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeadlineReminderFiresOnce(t *testing.T) {
	f := newFixture(t)
	f.extras["personal-data-breach"] = []runbook.Notification{
		{ID: "remind-80", Audience: AudienceStakeholders, On: "deadline_80", Obligation: "customer-notice",
			Template: runbook.Template{Subject: "{{.Obligation.ID}} due {{.Obligation.Due.Format \"15:04\"}}", Body: "Reminder."}},
		{ID: "remind-overdue", Audience: AudienceStakeholders, On: "deadline_overdue",
			Template: runbook.Template{Subject: "Overdue", Body: "Overdue."}},
	}
	in := f.declare("Export", false, "acme")
	count := func(rule string) int {
		k := 0
		for _, n := range f.list(in.ID) {
			if n.RuleID == rule {
				k++
			}
		}
		return k
	}
	if k, err := f.ns.ScanDeadlines(f.ctx); err != nil || k != 0 {
		t.Fatalf("at declaration: %d, %v", k, err)
	}
	f.clock.Advance(20 * time.Hour) // customer-notice is 24 h: past 80 %
	for range 2 {
		if _, err := f.ns.ScanDeadlines(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if count("remind-80") != 1 {
		t.Fatalf("deadline_80 reminders: %d", count("remind-80"))
	}
	r := f.byAudience(in.ID, AudienceStakeholders)
	if last := r[len(r)-1]; last.Subject != "customer-notice due 02:47" || last.DraftedBy != SystemActor {
		t.Errorf("reminder: %q by %s", last.Subject, last.DraftedBy)
	}
	f.clock.Advance(100 * time.Hour)
	for range 2 {
		if _, err := f.ns.ScanDeadlines(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The overdue rule names no obligation: once per overdue obligation.
	if got := count("remind-overdue"); got < 1 || count("remind-80") != 1 {
		t.Errorf("overdue reminders %d, 80 %% reminders %d", got, count("remind-80"))
	}
	before := count("remind-overdue")
	if _, err := f.ns.ScanDeadlines(f.ctx); err != nil || count("remind-overdue") != before {
		t.Errorf("a third scan added reminders: %v", err)
	}
}

func TestHostileTextIsEscapedInMrkdwn(t *testing.T) {
	f := newFixture(t)
	f.extras["personal-data-breach"] = []runbook.Notification{{ID: "echo", Audience: AudienceInternal, On: "declared",
		Template: runbook.Template{Subject: "{{.Incident.Title}}", Body: "Title: {{.Incident.Title}}"}}}
	in := f.declare(hostileTitle, false)
	var n store.Notification
	for _, x := range f.list(in.ID) {
		if x.RuleID == "echo" {
			n = x
		}
	}
	var blocks slack.Blocks
	if err := json.Unmarshal(n.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(mrkdwnTexts(blocks.BlockSet), "\n")
	if strings.Contains(joined, "<!channel>") || strings.Contains(joined, "<https://evil") ||
		!strings.Contains(joined, "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;") {
		t.Errorf("mrkdwn not escaped:\n%s", joined)
	}
	if ft := fallbackText(n, 1); strings.Contains(ft, "<!channel>") || !strings.Contains(ft, "&lt;!channel&gt;") {
		t.Errorf("fallback text not escaped: %q", ft)
	}
}

func TestTemplatesCannotRunCode(t *testing.T) {
	// Templates see data only: no functions are offered beyond
	// text/template's built-ins, and unknown names fail.
	for _, src := range []string{`{{exec "id"}}`, `{{.Incident.Title.Exec}}`, `{{template "x"}}`, `{{call .Org.Name}}`} {
		if _, err := execTemplate(src, runbook.TemplateData{}); err == nil {
			t.Errorf("%s rendered", src)
		}
	}
}

func TestListAndShowAreAudited(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export", false, "acme")
	views, err := f.ns.List(f.ctx, as("bob"), Filter{IncidentID: in.ID})
	if err != nil || len(views) == 0 {
		t.Fatalf("%d views, %v", len(views), err)
	}
	if v := views[0]; v.Preview == "" || v.Alert {
		t.Errorf("view: %+v", v)
	}
	if _, err := f.ns.Get(f.ctx, as("bob"), views[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ns.List(f.ctx, as("bob"), Filter{Statuses: []string{"bogus"}}); !errors.Is(err, incident.ErrRefused) {
		t.Errorf("bad status: %v", err)
	}
	audit, _ := f.st.Audit(f.ctx, store.AuditFilter{IncidentID: in.ID})
	var actions []string
	for _, a := range audit {
		if a.Actor == "bob" {
			actions = append(actions, a.Action)
		}
	}
	if !slices.Contains(actions, "notify_list") || !slices.Contains(actions, "notify_show") {
		t.Errorf("audited: %v", actions)
	}
}

func TestLateNoticeMustGiveTheReasonsForTheDelay(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export", false)
	reg := f.byAudience(in.ID, AudienceRegulator)
	if len(reg) != 1 || reg[0].ObligationID != "gdpr-33" || reg[0].DueAt != t0.Add(72*time.Hour) {
		t.Fatalf("regulator notice: %+v", reg)
	}
	n := reg[0]
	if v := NewView(n); len(v.Requires) == 0 || !strings.Contains(v.IfLate, "reasons for the delay") {
		t.Errorf("view: requires %v, if late %q", v.Requires, v.IfLate)
	}
	f.clock.Advance(80 * time.Hour)
	for _, fl := range n.Fields {
		if fl.Required {
			if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, fl.ID, "text"); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.commander(in.ID, "dave")
	if err := f.ns.Approve(f.ctx, as("dave"), n.ID); !errors.Is(err, incident.ErrRefused) || !strings.Contains(err.Error(), "it is late") {
		t.Fatalf("late notice without reasons: %v", err)
	}
	if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, DelayField, "The scope took four days to establish."); err != nil {
		t.Fatal(err)
	}
	if err := f.ns.Approve(f.ctx, as("dave"), n.ID); err != nil {
		t.Fatal(err)
	}
	set := Settings{ExportDir: t.TempDir()}
	if _, err := f.worker(set).SendDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	n = f.get(n.ID)
	b, _ := os.ReadFile(n.ExportPath)
	if n.Via != ViaFile || !strings.Contains(string(b), "Reasons for the delay: The scope took four days") {
		t.Errorf("regulator export via %s:\n%s", n.Via, b)
	}
	eml, _ := os.ReadFile(strings.TrimSuffix(n.ExportPath, ".md") + ".eml")
	if strings.Contains(string(eml), "\r\nTo:") {
		t.Errorf("a regulator export has a To: line:\n%s", eml)
	}
}

// A customer's notice hides another customer's contact, and the whole of
// its name where the text names it by its id and the first words of its
// name.
func TestCustomerNoticeHidesOtherCustomersWholly(t *testing.T) {
	f := newFixture(t)
	northwind := store.Customer{ID: "northwind", Name: "Northwind Health Partners", Language: "en",
		ContactKind: "email", Contact: "ciso@northwind.example"}
	if _, err := f.st.ImportDirectory(f.ctx, "admin", store.Directory{Customers: []store.Customer{northwind}}); err != nil {
		t.Fatal(err)
	}
	in := f.declare("Northwind Health and Acme Holdings data exposed; ciso@initech.test informed", false,
		"acme", "northwind")
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		f.fillAndApprove(n, func(string) string {
			return "Northwind Health asked ciso@northwind.example and #globex-incidents; Acme Holdings was told at security@acme.test"
		})
	}
	notices := map[string]store.Notification{}
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		notices[n.CustomerID] = n
	}
	for _, tc := range []struct {
		customer     string
		own, leaking []string
	}{
		{"acme", []string{"Acme Holdings", "security@acme.test"},
			[]string{"northwind", "health", "globex", "initech", "ciso@"}},
		{"northwind", []string{"Northwind Health", "ciso@northwind.example"},
			[]string{"acme", "globex", "initech", "security@"}},
	} {
		n, ok := notices[tc.customer]
		if !ok {
			t.Fatalf("no notice for %s", tc.customer)
		}
		text := n.Subject + "\n" + n.Body
		for _, leak := range tc.leaking {
			if i := strings.Index(strings.ToLower(text), leak); i >= 0 {
				t.Errorf("the notice for %s shows %q: …%s…", tc.customer, leak, text[max(0, i-40):min(len(text), i+40)])
			}
		}
		for _, own := range append(tc.own, incident.Redacted) {
			if !strings.Contains(text, own) {
				t.Errorf("the notice for %s lacks %q:\n%s", tc.customer, own, text)
			}
		}
	}
}
