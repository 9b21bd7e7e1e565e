package notify

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

func (f *fixture) customerNotice(incidentID, customer string) store.Notification {
	f.t.Helper()
	for _, n := range f.byAudience(incidentID, AudienceCustomers) {
		if n.CustomerID == customer && n.Status != store.NoticeWithdrawn {
			return n
		}
	}
	f.t.Fatalf("no notice for %s", customer)
	return store.Notification{}
}

func (f *fixture) auditCount(action, actor, outcome string) int {
	f.t.Helper()
	all, err := f.st.Audit(f.ctx, store.AuditFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	n := 0
	for _, e := range all {
		if e.Action == action && e.Actor == actor && e.Outcome == outcome {
			n++
		}
	}
	return n
}

// A notice is not approved while it holds placeholder text, nor while the
// organisation details its template uses are not configured: the refusal
// says which and where to set them.
func TestApprovalRefusesPlaceholdersAndUnconfiguredOrganisation(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export on a paste site", false, "acme")
	n := f.customerNotice(in.ID, "acme")
	for _, fl := range n.Fields {
		if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, fl.ID, "Text for "+fl.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.commander(in.ID, "dave")

	// The default configuration: "Your organisation" and "the data
	// protection officer (set org.dpo_contact in the configuration)".
	unconfigured := *f.ns
	unconfigured.Config = config.Default()
	err := unconfigured.Approve(f.ctx, as("dave"), n.ID)
	if !errors.Is(err, incident.ErrRefused) {
		t.Fatalf("approved with the organisation not configured: %v", err)
	}
	for _, want := range []string{"org.name", "org.dpo_contact", "configuration file"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal does not say %q: %v", want, err)
		}
	}
	if v, _ := unconfigured.Get(f.ctx, as("dave"), n.ID); len(v.Blocked) != 2 {
		t.Errorf("the notice's view does not say what blocks it: %+v", v.Blocked)
	}

	// Placeholder text in a field.
	if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, "measures", "TBD after the call with the host"); err != nil {
		t.Fatal(err)
	}
	err = f.ns.Approve(f.ctx, as("dave"), n.ID)
	if !errors.Is(err, incident.ErrRefused) || !strings.Contains(err.Error(), "placeholder") || !strings.Contains(err.Error(), "TBD") {
		t.Fatalf("approved with placeholder text: %v", err)
	}
	// CheckApproval says the same before anyone is asked to confirm, and
	// changes nothing; a refusal because of who asks is audited.
	if err := f.ns.CheckApproval(f.ctx, as("dave"), n.ID); err == nil || !strings.Contains(err.Error(), "placeholder") {
		t.Fatalf("check: %v", err)
	}
	if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, "measures", "We had the paste removed."); err != nil {
		t.Fatal(err)
	}
	if err := f.ns.CheckApproval(f.ctx, as("alice"), n.ID); !errors.Is(err, identity.ErrDenied) {
		t.Fatalf("alice drafted it; the check: %v", err)
	}
	if f.auditCount("notify_approve_check", "alice", store.OutcomeRefused) != 1 {
		t.Error("the refused check is not audited")
	}
	if err := f.ns.CheckApproval(f.ctx, as("dave"), n.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.get(n.ID); got.Status != store.NoticeDraft {
		t.Fatalf("a check changed the notice: %s", got.Status)
	}
	if err := f.ns.Approve(f.ctx, as("dave"), n.ID); err != nil {
		t.Fatal(err)
	}
	if got := f.get(n.ID); strings.Contains(got.Body, "Your organisation") || !strings.Contains(got.Body, "dpo@example.org") {
		t.Errorf("approved body:\n%s", got.Body)
	}
}

func TestPlaceholdersAreFound(t *testing.T) {
	n := store.Notification{Fields: []store.NoticeField{{ID: "a", Label: "A"}}, Content: map[string]string{}}
	for text, want := range map[string]bool{
		"TODO": true, "see TBD": true, "FIXME: numbers": true, "<no value>": true, "{{.Content.a}}": true,
		"[insert the number]": true, "card ending XXXX-1234": false, "Todo list app": false, "We are done.": false,
	} {
		n.Content["a"] = text
		if got := len(Placeholders(n)) > 0; got != want {
			t.Errorf("%q: placeholder %v, want %v", text, got, want)
		}
	}
}

// The composer's view: drafts grouped by language, the base language's
// empty fields suggested from the triage answers, and the facts entered
// once for a group, each notice edited and audited on its own; several
// notices approved in one step, each audited on its own.
func TestComposeAndApproveEach(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Customer export on a paste site", false, "acme", "globex", "initech")
	comps, err := f.ns.Compose(f.ctx, as("bob"), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 1 || comps[0].RuleID != "customer-notice" || len(comps[0].Groups) != 2 {
		t.Fatalf("compositions: %+v", comps)
	}
	en, nl := comps[0].Groups[0], comps[0].Groups[1]
	if en.Language != "en" || !en.Base || len(en.Notices) != 2 || nl.Language != "nl" || nl.Base || nl.Name != "Dutch (Nederlands)" {
		t.Fatalf("groups: %+v / %+v", en, nl)
	}
	sugg := map[string]string{}
	for _, fl := range en.Fields {
		sugg[fl.ID] = fl.Suggestion
	}
	if sugg["what_happened"] != "Customer export on a paste site." ||
		sugg["data_involved"] != "Contact details; Account ids, usernames of about 3,400 people." {
		t.Errorf("suggestions: %q", sugg)
	}
	for _, fl := range nl.Fields {
		if fl.Suggestion != "" {
			t.Errorf("an English suggestion for the Dutch notice: %s = %q", fl.ID, fl.Suggestion)
		}
	}
	var ids []int64
	for _, v := range en.Notices {
		ids = append(ids, v.ID)
	}
	if _, err := f.ns.SetContentEach(f.ctx, as("bob"), ids, "measures", "We had the paste removed."); err != nil {
		t.Fatal(err)
	}
	if got := f.auditCount("notify_edit", "bob", store.OutcomeOK); got != 2 {
		t.Errorf("%d edit audit entries, want one per notice", got)
	}
	// initech writes its own text; a shared text later leaves it alone.
	if _, err := f.ns.SetContent(f.ctx, as("bob"), f.customerNotice(in.ID, "initech").ID, "consequences", "None for initech"); err != nil {
		t.Fatal(err)
	}
	comps, _ = f.ns.Compose(f.ctx, as("bob"), in.ID)
	for _, fl := range comps[0].Groups[0].Fields {
		switch fl.ID {
		case "measures":
			if fl.Shared != "We had the paste removed." || len(fl.Own) != 0 {
				t.Errorf("measures: %+v", fl)
			}
		case "consequences":
			if fl.Shared != "" || fl.Own["initech"] != "None for initech" {
				t.Errorf("consequences: %+v", fl)
			}
		}
	}
	// Refused for a notice of another incident.
	other := f.declare("Another", false, "acme")
	if _, err := f.ns.SetContentEach(f.ctx, as("bob"), []int64{ids[0], f.customerNotice(other.ID, "acme").ID}, "measures", "x"); err == nil {
		t.Fatal("one edit spanned two incidents")
	}

	// Fill in everything, then approve the three in one step.
	for _, c := range []string{"acme", "globex", "initech"} {
		n := f.customerNotice(in.ID, c)
		for _, fl := range n.Fields {
			if strings.TrimSpace(n.Content[fl.ID]) == "" {
				if _, err := f.ns.SetContent(f.ctx, as("bob"), n.ID, fl.ID, "Tekst "+fl.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	f.commander(in.ID, "dave")
	var all []int64
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		all = append(all, n.ID)
	}
	approved, refused := f.ns.ApproveEach(f.ctx, as("dave"), all)
	if len(approved) != 3 || len(refused) != 0 {
		t.Fatalf("approved %v, refused %v", approved, refused)
	}
	if got := f.auditCount("notify_approve", "dave", store.OutcomeOK); got != 3 {
		t.Errorf("%d approval audit entries, want 3", got)
	}
	// bob filled them in: he may not, and each refusal is its own.
	approved, refused = f.ns.ApproveEach(f.ctx, as("bob"), all)
	if len(approved) != 0 || len(refused) != 3 {
		t.Fatalf("bob: approved %v, refused %v", approved, refused)
	}
}

func (f *fixture) reassess(id string, answers classify.Answers, reason string) incident.Reassessed {
	f.t.Helper()
	rb, _ := library(f.t).Get("personal-data-breach")
	d, err := f.st.Incident(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	v, err := classify.Classify(rb, answers, f.cfg.Policy, classify.Events{Aware: d.Incident.AwareAt, Classified: d.Incident.DeclaredAt}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	r := incident.NewReassessment(rb, v, answers)
	r.Reason = reason
	res, err := f.svc.Reassess(f.ctx, as("bob"), id, r)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// After a re-assessment the drafts follow: a regulator notice whose
// obligation no longer applies is withdrawn, with the reason; when it
// applies again, it is drafted again.
func TestReassessmentWithdrawsAndRedraftsNotices(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export on a paste site", false, "acme")
	if len(f.byAudience(in.ID, AudienceRegulator)) != 1 {
		t.Fatalf("no regulator draft to begin with: %+v", f.list(in.ID))
	}
	processor := maps.Clone(breachAnswers)
	processor["controller_data"] = false
	res := f.reassess(in.ID, processor, "all of it is our customers' data")
	if !slices.Contains(res.FlagsSet, "processor_only") {
		t.Fatalf("re-assessment: %+v", res)
	}
	reg := f.byAudience(in.ID, AudienceRegulator)
	if len(reg) != 1 || reg[0].Status != store.NoticeWithdrawn || !strings.Contains(reg[0].LastError, "all of it is our customers' data") {
		t.Fatalf("the regulator draft: %+v", reg)
	}
	d, _ := f.st.Incident(f.ctx, in.ID)
	if !slices.ContainsFunc(d.Timeline, func(e store.TimelineEntry) bool { return e.Kind == "notification_withdrawn" }) {
		t.Error("no timeline entry for the withdrawal")
	}
	if v, _ := f.ns.Get(f.ctx, as("bob"), reg[0].ID); v.Alert || v.Delivered {
		t.Errorf("a withdrawn notice reads as %+v", v.State)
	}
	// It was ours after all.
	f.reassess(in.ID, breachAnswers, "the export held our own staff too")
	reg = f.byAudience(in.ID, AudienceRegulator)
	if len(reg) != 2 || reg[1].Status != store.NoticeDraft {
		t.Fatalf("the regulator notice was not drafted again: %+v", reg)
	}
	// Every row these changes wrote is in the record.
	if rep, err := f.st.VerifyChains(f.ctx); err != nil || !rep.OK {
		t.Fatalf("verify after re-assessments: %+v %v", rep, err)
	}
}

// Unlinking a customer withdraws its drafts and leaves the others';
// linking it again drafts its notice again.
func TestUnlinkWithdrawsTheCustomersDrafts(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export on a paste site", false, "acme", "globex")
	if err := f.svc.UnlinkCustomer(f.ctx, as("bob"), in.ID, "globex", "their tenant was not in the export"); err != nil {
		t.Fatal(err)
	}
	var globex, acme []store.Notification
	for _, n := range f.byAudience(in.ID, AudienceCustomers) {
		if n.CustomerID == "globex" {
			globex = append(globex, n)
		} else {
			acme = append(acme, n)
		}
	}
	if len(globex) != 1 || globex[0].Status != store.NoticeWithdrawn || !strings.Contains(globex[0].LastError, "not in the export") {
		t.Fatalf("globex: %+v", globex)
	}
	if len(acme) != 1 || acme[0].Status != store.NoticeDraft {
		t.Fatalf("acme: %+v", acme)
	}
	if err := f.svc.LinkCustomer(f.ctx, as("bob"), in.ID, "globex"); err != nil {
		t.Fatal(err)
	}
	if n := f.customerNotice(in.ID, "globex"); n.Status != store.NoticeDraft {
		t.Fatalf("globex linked again: %+v", n)
	}
	if rep, err := f.st.VerifyChains(f.ctx); err != nil || !rep.OK {
		t.Fatalf("verify after unlinking and linking: %+v %v", rep, err)
	}
}

// A customer unlinked after the others' notices were delivered: the
// customer notice obligation is met by the notices of those still
// affected.
func TestUnlinkAfterTheOthersWereDeliveredMeetsTheObligation(t *testing.T) {
	f := newFixture(t)
	in := f.declare("Export on a paste site", false, "acme", "globex")
	acme := f.customerNotice(in.ID, "acme")
	f.fillAndApprove(acme, func(field string) string { return "Text " + field })
	w := &Worker{Store: f.st, Clock: f.clock, Settings: Settings{ExportDir: f.t.TempDir()}}
	if _, err := w.SendDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ns.Confirm(f.ctx, as("bob"), acme.ID, Confirmation{}); err != nil {
		t.Fatal(err)
	}
	met := func() bool {
		d, _ := f.st.Incident(f.ctx, in.ID)
		return slices.ContainsFunc(d.Obligations, func(e store.ObligationEvent) bool {
			return e.ObligationID == acme.ObligationID && e.Kind == store.ObligationSubmitted
		})
	}
	if met() {
		t.Fatal("met while globex still waits for its notice")
	}
	if err := f.svc.UnlinkCustomer(f.ctx, as("bob"), in.ID, "globex", "not in the export"); err != nil {
		t.Fatal(err)
	}
	if !met() {
		t.Fatal("every affected customer's notice is delivered, but the obligation is not met")
	}
}
