package incident

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// reassessment is the fixture's declaration answered again.
func reassessment(severity string, flags []string, steps ...StepRef) Reassessment {
	d := declaration()
	return Reassessment{Answers: map[string]any{"admin": true, "records": 12000.0}, Incident: true,
		Category: d.Category, AttackVector: d.AttackVector, Severity: severity, Flags: flags,
		Facts: map[string]float64{"affected_people": 12000}, Rationale: []string{"answered again"},
		Steps: steps, Order: []string{"revoke-sessions", "reset-mfa", "notify-people", "lessons"}}
}

func kindsOf(d Detail) []string {
	var out []string
	for _, e := range d.Timeline {
		out = append(out, e.Kind)
	}
	return out
}

// A confirmation of misuse arrives a day after declaring: the answers are
// given again, and severity, flags, clocks and checklist follow, each
// change on the timeline; later the data turns out to be no personal data
// at all, and the clocks that no longer apply are closed as not
// applicable, with the reason.
func TestReassessmentFollowsNewFacts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	f.clock.Advance(24 * time.Hour)
	base := declaration().Steps
	r := reassessment("SEV1", []string{"personal_data_breach", "high_risk"}, append(base[:2:2],
		StepRef{ID: "notify-people", Phase: "containment", Title: "Tell the people", Role: "incident_commander", Required: true},
		base[2])...)
	r.Reason = "the bank confirmed misuse of the data"
	res, err := f.svc.Reassess(ctx, as("bob"), in.ID, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.From != "SEV2" || res.To != "SEV1" || !slices.Equal(res.FlagsSet, []string{"high_risk"}) ||
		!slices.Contains(res.Applies, "gdpr-34") || !slices.Equal(res.StepsAdded, []string{"notify-people"}) ||
		!slices.Contains(res.Changed, "records") {
		t.Fatalf("re-assessment: %+v", res)
	}
	d := f.detail(t, in.ID)
	if d.Incident.Severity != "SEV1" || !slices.Contains(d.Incident.Flags, "high_risk") || d.Incident.Answers["records"] != 12000.0 {
		t.Fatalf("incident after re-assessment: %+v", d.Incident)
	}
	ks := strings.Join(kindsOf(d), ",")
	for _, k := range []string{"reassessed", "classified", "severity_raised", "checklist_changed", "obligation_applies"} {
		if !strings.Contains(ks, k) {
			t.Errorf("timeline lacks %s: %s", k, ks)
		}
	}
	// The new step sits in the runbook's order, before the retrospective.
	var ids []string
	for _, st := range d.Steps {
		ids = append(ids, st.ID)
	}
	if strings.Join(ids, ",") != "revoke-sessions,reset-mfa,notify-people,lessons" {
		t.Errorf("checklist order: %v", ids)
	}
	// The new clock runs from awareness, a day ago: not from now.
	for _, o := range Obligations(d.Incident, d.Obligations, f.svc.policy()) {
		if o.Rule.ID == "gdpr-34" && !o.Start.Equal(d.Incident.AwareAt) {
			t.Errorf("gdpr-34 runs from %s, want awareness %s", o.Start, d.Incident.AwareAt)
		}
	}
	f.wantAudit(t, "reassess", in.ID, store.OutcomeOK)

	// Not personal data after all: the GDPR clocks no longer apply.
	f.clock.Advance(time.Hour)
	r = reassessment("SEV1", nil, base[0], base[2])
	r.Reason = "the export held only test accounts"
	res, err = f.svc.Reassess(ctx, as("bob"), in.ID, r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.NoLongerApplies, "gdpr-33") || !slices.Contains(res.FlagsCleared, "personal_data_breach") ||
		!slices.Equal(res.StepsDropped, []string{"reset-mfa", "notify-people"}) {
		t.Fatalf("second re-assessment: %+v", res)
	}
	d = f.detail(t, in.ID)
	found := false
	for _, e := range d.Timeline {
		if e.Kind == "obligation_not_applicable" && strings.Contains(e.Summary, "gdpr-33") &&
			strings.Contains(e.Summary, "the export held only test accounts") {
			found = true
		}
	}
	if !found {
		t.Errorf("no entry closes gdpr-33 as not applicable with the reason: %v", kindsOf(d))
	}
	for _, st := range d.Steps {
		if st.ID == "reset-mfa" && (st.Status != store.StepSkipped || !strings.Contains(st.Note, "no longer applies")) {
			t.Errorf("a step that no longer applies: %+v", st)
		}
	}
	// Every row written (new steps, new positions) is in the record.
	if rep, err := f.st.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("verify after re-assessments: %+v %v", rep, err)
	}
}

func TestReassessmentRules(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	flags := []string{"personal_data_breach"}
	// Lowering the severity needs a reason, and the commander or override.
	f.refusedWithoutChange(t, in.ID, "reassess", ErrRefused, func() error {
		_, err := f.svc.Reassess(ctx, as("bob"), in.ID, reassessment("SEV3", flags))
		return err
	}, "needs a reason")
	r := reassessment("SEV3", flags)
	r.Reason = "only 12 people"
	f.refusedWithoutChange(t, in.ID, "reassess", ErrRefused, func() error {
		_, err := f.svc.Reassess(ctx, as("dave"), in.ID, r)
		if !errors.Is(err, identity.ErrDenied) {
			t.Errorf("want a refusal because of who asked: %v", err)
		}
		return err
	}, "override")
	if _, err := f.svc.Reassess(ctx, as("carol"), in.ID, r); err != nil {
		t.Fatal(err)
	}
	if d := f.detail(t, in.ID); d.Incident.Severity != "SEV3" || !slices.Contains(kindsOf(d), "severity_lowered") {
		t.Fatalf("lowered: %+v %v", d.Incident, kindsOf(d))
	}
	// The rules saying it is no incident does not dismiss it.
	r = reassessment("SEV3", nil)
	r.Incident = false
	res, err := f.svc.Reassess(ctx, as("bob"), in.ID, r)
	if err != nil || !res.NotAnIncident || !strings.Contains(res.Summary(), "dismiss it if so") {
		t.Fatalf("%+v %v", res, err)
	}
	if d := f.detail(t, in.ID); d.Incident.Kind != store.KindIncident || d.Incident.Status != store.StatusOpen {
		t.Fatalf("a re-assessment dismissed the incident: %+v", d.Incident)
	}
	// An unknown incident, and a closed one, are refused.
	_, err = f.svc.Reassess(ctx, as("bob"), "INC-0404", reassessment("SEV1", flags))
	wantErr(t, err, ErrNotFound, "INC-0404")
	if err := f.svc.Close(ctx, as("alice"), in.ID, "handled"); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Reassess(ctx, as("bob"), in.ID, reassessment("SEV1", flags))
	wantErr(t, err, ErrInvalidState, "reopen it first")
}

func TestUnlinkCustomerNeedsAReason(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	f.refusedWithoutChange(t, in.ID, "unlink_customer", ErrRefused, func() error {
		return f.svc.UnlinkCustomer(ctx, as("bob"), in.ID, "acme", " ")
	}, "needs a reason")
	f.refusedWithoutChange(t, in.ID, "unlink_customer", ErrInvalidState, func() error {
		return f.svc.UnlinkCustomer(ctx, as("bob"), in.ID, "initech", "not ours")
	}, "not linked")
	f.refusedWithoutChange(t, in.ID, "unlink_customer", ErrNotFound, func() error {
		return f.svc.UnlinkCustomer(ctx, as("bob"), in.ID, "nobody", "not ours")
	}, "nobody")
	if err := f.svc.UnlinkCustomer(ctx, as("bob"), in.ID, "globex", "their tenant was not in the export"); err != nil {
		t.Fatal(err)
	}
	d := f.detail(t, in.ID)
	if len(d.Customers) != 1 || d.Customers[0].ID != "acme" {
		t.Fatalf("customers after unlinking: %+v", d.Customers)
	}
	last := d.Timeline[len(d.Timeline)-1]
	if last.Kind != "customer_unlinked" || !strings.Contains(last.Summary, "their tenant was not in the export") {
		t.Fatalf("entry: %+v", last)
	}
	// Linked again later: it is affected once more.
	if err := f.svc.LinkCustomer(ctx, as("bob"), in.ID, "globex"); err != nil {
		t.Fatal(err)
	}
	if d := f.detail(t, in.ID); len(d.Customers) != 2 {
		t.Fatalf("customers after linking again: %+v", d.Customers)
	}
}

// Closing names every legal clock still running and every notice not
// sent, and refuses without a reason; only the commander or override may
// close over them; CheckClose says so before anyone types the reason.
func TestCloseNamesClocksAndUnsentNotices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	for _, st := range []string{"revoke-sessions", "reset-mfa"} {
		if err := f.svc.CompleteStep(ctx, as("alice"), in.ID, st, ""); err != nil {
			t.Fatal(err)
		}
	}
	f.refusedWithoutChange(t, in.ID, "close", ErrRefused, func() error {
		return f.svc.Close(ctx, as("alice"), in.ID, "")
	}, "legal clock still running: GDPR 72h to the authority (gdpr-33)", "give a reason")
	ends, _, err := f.svc.CheckClose(ctx, as("dave"), in.ID)
	if !errors.Is(err, identity.ErrDenied) || len(ends.Clocks) == 0 {
		t.Fatalf("dave may not close over running clocks, and is told before giving a reason: %v %+v", err, ends)
	}
	f.wantAudit(t, "close_check", in.ID, store.OutcomeRefused)
	ends, _, err = f.svc.CheckClose(ctx, as("alice"), in.ID)
	if err != nil || len(ends.Steps) != 0 || len(ends.Clocks) == 0 {
		t.Fatalf("alice's check: %+v %v", ends, err)
	}
	if err := f.svc.Close(ctx, as("alice"), in.ID, "regulator told by phone; form follows"); err != nil {
		t.Fatal(err)
	}
	d := f.detail(t, in.ID)
	last := d.Timeline[len(d.Timeline)-1]
	if last.Kind != "closed" || !strings.Contains(last.Summary, "gdpr-33") || !strings.Contains(last.Summary, "regulator told by phone") ||
		!strings.Contains(string(last.Data), `"running_clocks":["`) {
		t.Fatalf("closed entry: %+v %s", last, last.Data)
	}
}
