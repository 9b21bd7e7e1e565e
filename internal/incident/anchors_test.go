package incident

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// TestRecordAnchorStartsClocks records each anchor the rules use and checks
// that the clock that runs from it starts (or moves) at once, with a
// timeline entry and an audit entry.
func TestRecordAnchorStartsClocks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := declaration()
	d.Flags = []string{"personal_data_breach", "sec_material", "ransom_paid", "dora_major", "phi_breach", "nydfs_reportable",
		"cra_exploited_vulnerability"}
	in, err := f.svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	policy := deadline.Policy{SECRegistrant: true, NYDFSCoveredEntity: true, DORAFinancialEntity: true, HIPAACoveredEntity: true,
		CRAManufacturer: true, EUController: true}
	clock := func(id string) deadline.Obligation {
		t.Helper()
		got, err := f.st.Incident(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range Obligations(got.Incident, got.Obligations, policy) {
			if o.Rule.ID == id {
				return o
			}
		}
		t.Fatalf("no obligation %s", id)
		return deadline.Obligation{}
	}
	// Before: the SEC clock falls back to the declaration, NYDFS 500.17(c)
	// to awareness, the CRA final report waits for a fix.
	if o := clock("sec-8k-1.05"); o.Anchor != "classified" || !o.Fallback {
		t.Fatalf("sec before: %s %v", o.Anchor, o.Fallback)
	}
	if o := clock("cra-vuln-final"); o.WaitingFor != "mitigation_available" {
		t.Fatalf("cra before: waiting for %q", o.WaitingFor)
	}
	f.clock.Advance(72 * time.Hour)
	tests := []struct {
		name   string
		at     time.Time
		rule   string
		anchor string
		due    string
	}{
		// Determined on Saturday: Monday to Thursday, ending at EDGAR's 17:30.
		{"materiality-determined", time.Date(2026, 3, 14, 16, 0, 0, 0, ny), "sec-8k-1.05", "determined",
			"2026-03-19 17:30 EDT"},
		{"ransom-paid", t0.Add(30 * time.Hour), "nydfs-500.17c", "ransom_paid", "2026-03-16 08:47 UTC"},
		// 4 h after classification falls on Saturday: the Art. 5(4) relief
		// moves it to Monday noon.
		{"classified-major", t0.Add(time.Hour), "dora-initial", "classified_major", "2026-03-16 12:00 UTC"},
		{"reportable-determined", t0.Add(2 * time.Hour), "nydfs-500.17a", "reportable_determined", "2026-03-17 04:47 UTC"},
		{"discovered", t0.Add(-48 * time.Hour), "hipaa-individuals", "discovered", "2026-05-11 02:47 UTC"},
		{"mitigation-available", t0.Add(60 * time.Hour), "cra-vuln-final", "mitigation_available", "2026-03-30 14:47 UTC"},
	}
	for _, tt := range tests {
		if err := f.svc.RecordAnchor(ctx, as("alice"), in.ID, tt.name, tt.at, ""); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		a := f.wantAudit(t, "anchor", in.ID, store.OutcomeOK)
		if a.Detail != tt.name {
			t.Errorf("audit detail %q", a.Detail)
		}
		o := clock(tt.rule)
		if o.Anchor != tt.anchor || o.Fallback {
			t.Errorf("%s: %s runs from %s (fallback %v)", tt.name, tt.rule, o.Anchor, o.Fallback)
		}
		if got := deadline.Format(o.Due); got != tt.due {
			t.Errorf("%s: %s due %s, want %s", tt.name, tt.rule, got, tt.due)
		}
		dt := f.detail(t, in.ID)
		last := dt.Timeline[len(dt.Timeline)-1]
		if last.Kind != "anchor_recorded" || !strings.Contains(last.Summary, tt.name) || !strings.Contains(string(last.Data), tt.rule) {
			t.Errorf("%s: timeline %s %q %s", tt.name, last.Kind, last.Summary, last.Data)
		}
	}
	if rec, ok := RecordedAnchor(f.detail(t, in.ID).Obligations, "ransom_paid"); !ok || !rec.At.Equal(t0.Add(30*time.Hour)) || rec.Actor != "alice" {
		t.Errorf("RecordedAnchor = %+v, %v", rec, ok)
	}

	// Recording it again moves the clock, and needs a reason.
	f.refusedWithoutChange(t, in.ID, "anchor", ErrRefused, func() error {
		return f.svc.RecordAnchor(ctx, as("alice"), in.ID, "ransom-paid", t0.Add(40*time.Hour), "")
	}, "recording it again needs a note")
	if err := f.svc.RecordAnchor(ctx, as("alice"), in.ID, "ransom_paid", t0.Add(40*time.Hour), "the wire went out later than the CFO said"); err != nil {
		t.Fatal(err)
	}
	if o := clock("nydfs-500.17c"); deadline.Format(o.Due) != "2026-03-16 18:47 UTC" {
		t.Errorf("ransom-paid again: due %s", deadline.Format(o.Due))
	}
	// Moving a recorded moment later moves its clocks later: only the
	// commander or someone with the override permission may (alice may;
	// bob, no commander of this incident, may not).
	f.refusedWithoutChange(t, in.ID, "anchor", identity.ErrDenied, func() error {
		return f.svc.RecordAnchor(ctx, as("bob"), in.ID, "ransom-paid", t0.Add(41*time.Hour), "later still")
	}, "may move its ransom-paid later, which moves its clocks later; bob is neither")
	f.refusedWithoutChange(t, in.ID, "anchor", identity.ErrDenied, func() error {
		return f.svc.RecordAnchor(ctx, as("bob"), in.ID, "aware", t0.Add(time.Hour), "we were not sure yet")
	}, "may move its aware later")
	// Correcting awareness moves the clocks that run from it.
	f.refusedWithoutChange(t, in.ID, "anchor", ErrRefused, func() error {
		return f.svc.RecordAnchor(ctx, as("alice"), in.ID, "aware", t0.Add(-5*time.Hour), "")
	}, "say why with a note")
	if err := f.svc.RecordAnchor(ctx, as("alice"), in.ID, "aware", t0.Add(-5*time.Hour), "the on-call saw the alert at 21:47"); err != nil {
		t.Fatal(err)
	}
	if o := clock("gdpr-33"); deadline.Format(o.Due) != "2026-03-16 21:47 UTC" {
		t.Errorf("gdpr-33 after correcting awareness: %s", deadline.Format(o.Due))
	}
	// Refusals: unknown, future, before awareness, a dismissed event.
	f.refusedWithoutChange(t, in.ID, "anchor", ErrRefused, func() error {
		return f.svc.RecordAnchor(ctx, as("alice"), in.ID, "materiality", time.Time{}, "")
	}, `unknown anchor "materiality"`, "materiality-determined")
	f.refusedWithoutChange(t, in.ID, "anchor", ErrRefused, func() error {
		return f.svc.RecordAnchor(ctx, as("alice"), in.ID, "classified-major", f.clock.Now().Add(time.Minute), "x")
	}, "in the future")
	f.refusedWithoutChange(t, in.ID, "anchor", ErrRefused, func() error {
		return f.svc.RecordAnchor(ctx, as("alice"), in.ID, "classified-major", t0.Add(-6*time.Hour), "x")
	}, "before the organisation became aware")
	ev := declaration()
	ev.Incident, ev.DismissReason = false, "test traffic"
	dismissed, err := f.svc.Declare(ctx, as("alice"), ev)
	if err != nil {
		t.Fatal(err)
	}
	f.refusedWithoutChange(t, dismissed.ID, "anchor", ErrInvalidState, func() error {
		return f.svc.RecordAnchor(ctx, as("alice"), dismissed.ID, "ransom-paid", time.Time{}, "")
	}, "dismissed")
}

// TestDecideRisk: a DPO overrides the breach risk assessment's conclusion
// with a reason; the GDPR clocks follow, a timeline entry and an audit
// entry record it, and the decision outlives a re-classification.
func TestDecideRisk(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d0 := declaration() // personal_data_breach, the assessment said "risk"
	d0.Roles = append(d0.Roles, DPORole)
	in, err := f.svc.Declare(ctx, as("alice"), d0)
	if err != nil {
		t.Fatal(err)
	}
	policy := deadline.DefaultPolicy()
	ids := func() []string {
		t.Helper()
		d := f.detail(t, in.ID)
		var out []string
		for _, o := range Obligations(d.Incident, d.Obligations, policy) {
			out = append(out, o.Rule.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids(); !slices.Equal(got, []string{"gdpr-33", "gdpr-33-5"}) {
		t.Fatalf("before: %v", got)
	}
	f.refusedWithoutChange(t, in.ID, "risk_decide", ErrRefused, func() error {
		return f.svc.DecideRisk(ctx, as("alice"), in.ID, "high", " ")
	}, "needs a reason")
	f.refusedWithoutChange(t, in.ID, "risk_decide", ErrRefused, func() error {
		return f.svc.DecideRisk(ctx, as("alice"), in.ID, "severe", "x")
	}, `"severe" is not one of none, risk, high`)

	if err := f.svc.DecideRisk(ctx, as("alice"), in.ID, RiskHigh, "the admin could read the health notes of 40 patients"); err != nil {
		t.Fatal(err)
	}
	a := f.wantAudit(t, "risk_decide", in.ID, store.OutcomeOK)
	if a.Detail != "risk -> high" {
		t.Errorf("audit detail %q", a.Detail)
	}
	d := f.detail(t, in.ID)
	last := d.Timeline[len(d.Timeline)-1]
	if last.Kind != "risk_decided" || !strings.Contains(last.Summary, "high (was risk): the admin could read") {
		t.Errorf("timeline %s %q", last.Kind, last.Summary)
	}
	if !slices.Contains(d.Incident.Flags, "high_risk") {
		t.Errorf("flags %v", d.Incident.Flags)
	}
	if got := ids(); !slices.Equal(got, []string{"gdpr-33", "gdpr-33-5", "gdpr-34"}) {
		t.Errorf("after high: %v", got)
	}
	if dec, ok := RiskDecision(d.Obligations); !ok || dec.Value != RiskHigh || dec.Actor != "alice" {
		t.Errorf("RiskDecision = %+v", dec)
	}

	// A re-classification that writes the assessment's flags again does not
	// undo the decision: the clocks follow the decision.
	c := Classification{Incident: true, Severity: "SEV2", Flags: []string{"personal_data_breach"}, Category: d.Incident.Category}
	if _, err := f.svc.Reclassify(ctx, as("alice"), in.ID, c); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []string{"gdpr-33", "gdpr-33-5", "gdpr-34"}) {
		t.Errorf("after re-classification: %v", got)
	}

	// Lowering the risk stops clocks: bob, neither the incident's DPO nor
	// its commander nor holder of the override permission, may not; dave,
	// its DPO, may.
	f.refusedWithoutChange(t, in.ID, "risk_decide", identity.ErrDenied, func() error {
		return f.svc.DecideRisk(ctx, as("bob"), in.ID, RiskNone, "the file was encrypted")
	}, "may lower its breach risk from high to none; bob is none of them")
	if err := f.svc.Assign(ctx, as("alice"), in.ID, DPORole, "dave"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DecideRisk(ctx, as("dave"), in.ID, RiskNone, "the file was encrypted; the key never left the HSM"); err != nil {
		t.Fatal(err)
	}
	if got := ids(); !slices.Equal(got, []string{"gdpr-33-5"}) {
		t.Errorf("after none: %v", got)
	}

	// Not a personal data breach: nothing to decide.
	other := declaration()
	other.Flags = nil
	plain, err := f.svc.Declare(ctx, as("alice"), other)
	if err != nil {
		t.Fatal(err)
	}
	f.refusedWithoutChange(t, plain.ID, "risk_decide", ErrInvalidState, func() error {
		return f.svc.DecideRisk(ctx, as("alice"), plain.ID, RiskHigh, "x")
	}, "not a personal data breach")
}

// A moment that implies a flag sets it: a determination recorded is a
// material incident, and the SEC clock starts.
func TestRecordAnchorSetsItsFlag(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t) // personal_data_breach only
	f.clock.Advance(time.Hour)
	if err := f.svc.RecordAnchor(ctx, as("alice"), in.ID, "materiality-determined", time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	d := f.detail(t, in.ID)
	if !slices.Contains(d.Incident.Flags, "sec_material") {
		t.Fatalf("flags %v", d.Incident.Flags)
	}
	last := d.Timeline[len(d.Timeline)-1]
	if !strings.Contains(last.Summary, "flag sec_material set") {
		t.Errorf("timeline %q", last.Summary)
	}
	var sec bool
	for _, o := range Obligations(d.Incident, d.Obligations, deadline.Policy{SECRegistrant: true}) {
		sec = sec || o.Rule.ID == "sec-8k-1.05" && o.Anchor == "determined"
	}
	if !sec {
		t.Error("the SEC clock did not start from the determination")
	}
	// Recording the discovery sets no flag.
	if err := f.svc.RecordAnchor(ctx, as("alice"), in.ID, "discovered", t0.Add(-2*time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	if got := f.detail(t, in.ID).Incident.Flags; !slices.Equal(got, []string{"personal_data_breach", "sec_material"}) {
		t.Errorf("flags %v", got)
	}
}
