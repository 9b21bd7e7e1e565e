package incident

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

var t0 = time.Date(2026, 3, 14, 2, 47, 0, 0, time.UTC)

var directory = store.Directory{
	People: []store.Person{
		// alice leads: she may override the process and export.
		{ID: "alice", Name: "Alice Ng", Roles: []string{"incident_commander", "scribe"}, Permissions: []string{"export", "override"}},
		{ID: "bob", Name: "Bob Okafor", Roles: []string{"incident_commander"}},
		{ID: "carol", Name: "Carol Diaz", Permissions: []string{"override"}},
		{ID: "dave", Name: "Dave Lee"},
	},
	Customers: []store.Customer{
		{ID: "acme", Name: "Acme Holdings", ContactKind: "email", Contact: "security@acme.test"},
		{ID: "globex", Name: "Globex Corporation", Language: "de", ContactKind: "slack", Contact: "#globex-incidents"},
		{ID: "initech", Name: "Initech", ContactKind: "email", Contact: "ciso@initech.test"},
		{ID: "umbrella", Name: "Umbrella", ContactKind: "email", Contact: "sec@umbrella.test"},
	},
}

type fixture struct {
	svc   *Service
	st    *store.Store
	clock *clock.Fake
	path  string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "irtui.db")
	fc := clock.NewFake(t0)
	st, err := store.Open(context.Background(), path, store.WithClock(fc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.ImportDirectory(context.Background(), "admin", directory); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: &Service{Store: st, Clock: fc}, st: st, clock: fc, path: path}
}

func declaration() Declaration {
	return Declaration{
		RunbookID: "account-compromise", RunbookVersion: "3", Title: "Admin account used from unknown host",
		Summary: "Okta admin session from an unfamiliar ASN", Category: "intrusions/privileged-account-compromise",
		AttackVector: "impersonation_spoofing", Severity: "SEV2", Incident: true,
		Flags:     []string{"personal_data_breach"},
		Answers:   map[string]any{"admin": true, "records": 1200.0},
		Facts:     map[string]float64{"affected_people": 1200},
		Rationale: []string{"an admin account was used by someone else", "personal data of 1200 people"},
		Customers: []string{"acme", "globex"},
		AwareAt:   t0.Add(-30 * time.Minute),
		Roles:     []string{"incident_commander", "scribe", "comms_lead"},
		Steps: []StepRef{
			{ID: "revoke-sessions", Phase: "containment", Title: "Revoke all sessions", Role: "incident_commander", Required: true},
			{ID: "reset-mfa", Phase: "containment", Title: "Reset MFA", Role: "incident_commander", Required: true},
			{ID: "lessons", Phase: "post_incident", Title: "Hold a retrospective", Role: "scribe"},
		},
	}
}

func (f *fixture) declare(t *testing.T) Incident {
	t.Helper()
	in, err := f.svc.Declare(context.Background(), as("alice"), declaration())
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// meetClocks records the submission of every obligation whose clock is
// running, as a team does before it closes an incident.
func (f *fixture) meetClocks(t *testing.T, id string) {
	t.Helper()
	d := f.detail(t, id)
	for _, o := range Obligations(d.Incident, d.Obligations, deadline.DefaultPolicy()) {
		if st := o.At(f.clock.Now()).State; st != deadline.Met && st != deadline.Waiting {
			if err := f.svc.RecordSubmission(context.Background(), as("alice"), id, o.Rule.ID, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (f *fixture) detail(t *testing.T, id string) Detail {
	t.Helper()
	d, err := f.st.Incident(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func kinds(d Detail) []string {
	var ks []string
	for _, e := range d.Timeline {
		ks = append(ks, e.Kind)
	}
	return ks
}

func (f *fixture) lastAudit(t *testing.T) store.AuditEntry {
	t.Helper()
	all, err := f.st.Audit(context.Background(), store.AuditFilter{})
	if err != nil || len(all) == 0 {
		t.Fatalf("audit: %v", err)
	}
	return all[len(all)-1]
}

// wantAudit checks the newest audit entry.
func (f *fixture) wantAudit(t *testing.T, action, incident, outcome string) store.AuditEntry {
	t.Helper()
	a := f.lastAudit(t)
	if a.Action != action || a.IncidentID != incident || a.Outcome != outcome {
		t.Errorf("last audit = %s %s %s (%s); want %s %s %s", a.Action, a.IncidentID, a.Outcome, a.Detail,
			action, incident, outcome)
	}
	return a
}

// wantErr checks an error's kind and that its message names what it must.
func wantErr(t *testing.T, err, kind error, mentions ...string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v; want %v", err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("err %T is not an *incident.Error", err)
	}
	for _, m := range mentions {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

// refusedWithoutChange runs a failing action and checks that it was
// audited with outcome "refused" and left the incident's timeline alone.
func (f *fixture) refusedWithoutChange(t *testing.T, id, action string, kind error, do func() error, mentions ...string) {
	t.Helper()
	before := f.detail(t, id)
	err := do()
	wantErr(t, err, kind, mentions...)
	f.wantAudit(t, action, id, store.OutcomeRefused)
	after := f.detail(t, id)
	if after.TimelineTotal != before.TimelineTotal || after.Incident.UpdatedAt != before.Incident.UpdatedAt {
		t.Errorf("%s changed the incident although refused", action)
	}
}

func TestDeclareRecordsIncidentTimelineAndAudit(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	if in.ID != "INC-0001" || in.Kind != store.KindIncident || in.Status != store.StatusOpen || in.CreatedBy != "alice" {
		t.Errorf("incident = %+v", in)
	}
	d := f.detail(t, in.ID)
	if got := kinds(d); !slices.Equal(got, []string{"declared", "classified"}) {
		t.Errorf("timeline = %v", got)
	}
	if !d.Incident.AwareAt.Equal(t0.Add(-30*time.Minute)) || !d.Incident.DeclaredAt.Equal(t0) {
		t.Errorf("times: aware %v declared %v", d.Incident.AwareAt, d.Incident.DeclaredAt)
	}
	if len(d.Customers) != 2 || d.Customers[0].ID != "acme" || d.Customers[1].ID != "globex" {
		t.Errorf("customers = %+v", d.Customers)
	}
	if len(d.Steps) != 3 || d.Steps[0].ID != "revoke-sessions" || d.Steps[0].Status != store.StepOpen || d.Steps[2].Required {
		t.Errorf("steps = %+v", d.Steps)
	}
	if d.Incident.Answers["records"] != 1200.0 || d.Incident.Facts["affected_people"] != 1200 {
		t.Errorf("answers %v facts %v", d.Incident.Answers, d.Incident.Facts)
	}
	var classified struct {
		Rationale []string `json:"rationale"`
		Severity  string   `json:"severity"`
		Flags     []string `json:"flags"`
	}
	if err := json.Unmarshal(d.Timeline[1].Data, &classified); err != nil {
		t.Fatal(err)
	}
	if classified.Severity != "SEV2" || len(classified.Rationale) != 2 || classified.Flags[0] != "personal_data_breach" {
		t.Errorf("classified data = %s", d.Timeline[1].Data)
	}
	a := f.wantAudit(t, "declare", in.ID, store.OutcomeOK)
	if a.TimelineID != d.Timeline[1].ID || a.TimelineHash != d.Timeline[1].Hash || a.Actor != "alice" {
		t.Errorf("audit entry does not vouch for the timeline: %+v", a)
	}

	second, err := f.svc.Declare(ctx, as("bob"), declaration())
	if err != nil || second.ID != "INC-0002" {
		t.Fatalf("second: %v, %v", second.ID, err)
	}
}

func TestDeclareDismissedEvent(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := declaration()
	d.Incident, d.Severity = false, "SEV4"
	_, err := f.svc.Declare(ctx, as("alice"), d)
	wantErr(t, err, ErrRefused, "without a reason")
	f.wantAudit(t, "declare", "", store.OutcomeRefused)

	d.DismissReason = "the login was the admin, travelling"
	ev, err := f.svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	got := f.detail(t, ev.ID)
	if got.Incident.Kind != store.KindEvent || got.Incident.Status != store.StatusClosed ||
		got.Incident.DismissedReason != d.DismissReason || !got.Incident.ClosedAt.Equal(t0) {
		t.Errorf("event = %+v", got.Incident)
	}
	if k := kinds(got); !slices.Equal(k, []string{"dismissed", "classified"}) {
		t.Errorf("timeline = %v", k)
	}
	// Events are listed apart from incidents.
	events, err := f.svc.List(ctx, as("alice"), store.ListFilter{Kind: store.KindEvent})
	if err != nil || len(events) != 1 {
		t.Errorf("events: %v, %v", events, err)
	}
	f.refusedWithoutChange(t, ev.ID, "step_complete", ErrInvalidState, func() error {
		return f.svc.CompleteStep(ctx, as("alice"), ev.ID, "reset-mfa", "")
	}, ev.ID, "dismissed")
	f.refusedWithoutChange(t, ev.ID, "close", ErrInvalidState, func() error {
		return f.svc.Close(ctx, as("alice"), ev.ID, "")
	}, ev.ID)
}

func TestDeclareRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		actor    string
		edit     func(*Declaration)
		kind     error
		mentions []string
	}{
		{"unknown customer", "alice", func(d *Declaration) { d.Customers = []string{"acme", "hooli"} }, ErrNotFound, []string{`"hooli"`, "directory"}},
		{"no title", "alice", func(d *Declaration) { d.Title = "  " }, ErrRefused, []string{"title"}},
		{"bad severity", "alice", func(d *Declaration) { d.Severity = "SEV5" }, ErrRefused, []string{`"SEV5"`, "SEV1"}},
		{"no runbook", "alice", func(d *Declaration) { d.RunbookID = "" }, ErrRefused, []string{"runbook"}},
		{"aware in the future", "alice", func(d *Declaration) { d.AwareAt = t0.Add(time.Hour) }, ErrRefused, []string{"future"}},
		{"step twice", "alice", func(d *Declaration) { d.Steps = append(d.Steps, d.Steps[0]) }, ErrRefused, []string{`"revoke-sessions"`, "twice"}},
		{"no actor", "", func(*Declaration) {}, ErrRefused, []string{"no acting user"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := declaration()
			tc.edit(&d)
			_, err := f.svc.Declare(ctx, as(tc.actor), d)
			wantErr(t, err, tc.kind, tc.mentions...)
			f.wantAudit(t, "declare", "", store.OutcomeRefused)
			if list, _ := f.st.ListIncidents(ctx, store.ListFilter{}); len(list) != 0 {
				t.Errorf("a refused declaration stored %d incidents", len(list))
			}
		})
	}
	if id, _ := f.st.MaxTimelineID(ctx); id != 0 {
		t.Errorf("refused declarations left timeline entries (max id %d)", id)
	}
}

func TestReclassify(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	c := Classification{Incident: true, Category: in.Category, AttackVector: in.AttackVector, Severity: "SEV1",
		Rationale: []string{"production data was exported"}, Flags: []string{"personal_data_breach", "nis2_significant"}}
	got, err := f.svc.Reclassify(ctx, as("alice"), in.ID, c)
	if err != nil || got.Severity != "SEV1" || len(got.Flags) != 2 {
		t.Fatalf("reclassify: %+v, %v", got, err)
	}
	if k := kinds(f.detail(t, in.ID)); !slices.Equal(k[2:], []string{"classified", "severity_raised"}) {
		t.Errorf("timeline = %v", k)
	}
	f.wantAudit(t, "reclassify", in.ID, store.OutcomeOK)

	c.Severity = "SEV3"
	f.refusedWithoutChange(t, in.ID, "reclassify", ErrRefused, func() error {
		_, err := f.svc.Reclassify(ctx, as("alice"), in.ID, c)
		return err
	}, "SEV1", "SEV3", "reason")
	c.Reason = "the export was of test data"
	if _, err := f.svc.Reclassify(ctx, as("alice"), in.ID, c); err != nil {
		t.Fatal(err)
	}

	// Not an incident after all, then an incident again.
	c = Classification{Incident: false, Severity: "SEV4"}
	f.refusedWithoutChange(t, in.ID, "reclassify", ErrRefused, func() error {
		_, err := f.svc.Reclassify(ctx, as("alice"), in.ID, c)
		return err
	}, "reason")
	c.DismissReason = "a red-team exercise we were not told about"
	ev, err := f.svc.Reclassify(ctx, as("alice"), in.ID, c)
	if err != nil || ev.Kind != store.KindEvent || ev.Status != store.StatusClosed || ev.ClosedAt.IsZero() {
		t.Fatalf("dismiss: %+v, %v", ev, err)
	}
	c = Classification{Incident: true, Severity: "SEV2", Reason: "the red team denies it"}
	back, err := f.svc.Reclassify(ctx, as("alice"), in.ID, c)
	if err != nil || back.Kind != store.KindIncident || back.Status != store.StatusOpen || !back.ClosedAt.IsZero() {
		t.Fatalf("promote: %+v, %v", back, err)
	}
	k := kinds(f.detail(t, in.ID))
	if !slices.Equal(k[len(k)-4:], []string{"classified", "dismissed", "classified", "declared"}) {
		t.Errorf("timeline = %v", k)
	}
	_, err = f.svc.Reclassify(ctx, as("alice"), "INC-0404", c)
	wantErr(t, err, ErrNotFound, "INC-0404")
	f.wantAudit(t, "reclassify", "INC-0404", store.OutcomeRefused)
}

func TestChangeSeverity(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t) // SEV2
	if err := f.svc.ChangeSeverity(ctx, as("alice"), in.ID, "SEV1", ""); err != nil {
		t.Fatal(err)
	}
	d := f.detail(t, in.ID)
	if d.Incident.Severity != "SEV1" || d.Timeline[len(d.Timeline)-1].Kind != "severity_raised" {
		t.Errorf("after raising: %s, %v", d.Incident.Severity, kinds(d))
	}
	f.wantAudit(t, "severity", in.ID, store.OutcomeOK)
	f.refusedWithoutChange(t, in.ID, "severity", ErrRefused, func() error {
		return f.svc.ChangeSeverity(ctx, as("alice"), in.ID, "SEV3", " ")
	}, "lowering", "SEV1", "SEV3", "reason")
	f.refusedWithoutChange(t, in.ID, "severity", ErrInvalidState, func() error {
		return f.svc.ChangeSeverity(ctx, as("alice"), in.ID, "SEV1", "")
	}, "already SEV1")
	f.refusedWithoutChange(t, in.ID, "severity", ErrRefused, func() error {
		return f.svc.ChangeSeverity(ctx, as("alice"), in.ID, "critical", "")
	}, `"critical"`)
	if err := f.svc.ChangeSeverity(ctx, as("alice"), in.ID, "SEV3", "contained to one host"); err != nil {
		t.Fatal(err)
	}
	d = f.detail(t, in.ID)
	last := d.Timeline[len(d.Timeline)-1]
	if last.Kind != "severity_lowered" || !strings.Contains(last.Summary, "contained to one host") {
		t.Errorf("after lowering: %+v", last)
	}
	if err := f.svc.Close(ctx, as("alice"), in.ID, "drill over"); err != nil {
		t.Fatal(err)
	}
	f.refusedWithoutChange(t, in.ID, "severity", ErrInvalidState, func() error {
		return f.svc.ChangeSeverity(ctx, as("alice"), in.ID, "SEV1", "")
	}, "closed")
}

func TestAssignAcknowledgeHandOver(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	if err := f.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "alice"); err != nil {
		t.Fatal(err)
	}
	f.wantAudit(t, "assign", in.ID, store.OutcomeOK)
	f.refusedWithoutChange(t, in.ID, "acknowledge", ErrRefused, func() error {
		return f.svc.Acknowledge(ctx, as("bob"), in.ID, "incident_commander")
	}, "only alice", "incident_commander", "you are bob")
	f.clock.Advance(time.Minute)
	if err := f.svc.Acknowledge(ctx, as("alice"), in.ID, "incident_commander"); err != nil {
		t.Fatal(err)
	}
	f.refusedWithoutChange(t, in.ID, "acknowledge", ErrInvalidState, func() error {
		return f.svc.Acknowledge(ctx, as("alice"), in.ID, "incident_commander")
	}, "already acknowledged")
	f.refusedWithoutChange(t, in.ID, "assign", ErrInvalidState, func() error {
		return f.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "alice")
	}, "alice already holds incident_commander")

	// Hand-over to bob.
	f.clock.Advance(time.Hour)
	if err := f.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "bob"); err != nil {
		t.Fatal(err)
	}
	d := f.detail(t, in.ID)
	if len(d.Roles) != 2 {
		t.Fatalf("roles = %+v", d.Roles)
	}
	old, cur := d.Roles[0], d.Roles[1]
	if old.PersonID != "alice" || old.HandedOverTo != "bob" || !old.EndedAt.Equal(t0.Add(61*time.Minute)) ||
		!old.AcknowledgedAt.Equal(t0.Add(time.Minute)) || old.Current() {
		t.Errorf("old assignment = %+v", old)
	}
	if cur.PersonID != "bob" || !cur.Current() || !cur.AcknowledgedAt.IsZero() || cur.AssignedBy != "alice" {
		t.Errorf("new assignment = %+v", cur)
	}
	last := d.Timeline[len(d.Timeline)-1]
	if last.Kind != "role_assigned" || !strings.Contains(last.Summary, "handed over from alice to Bob Okafor") {
		t.Errorf("hand-over entry = %+v", last)
	}
	f.refusedWithoutChange(t, in.ID, "acknowledge", ErrRefused, func() error {
		return f.svc.Acknowledge(ctx, as("alice"), in.ID, "incident_commander")
	}, "only bob")
	if err := f.svc.Acknowledge(ctx, as("bob"), in.ID, "incident_commander"); err != nil {
		t.Fatal(err)
	}
	// bob's directory entry does not list scribe; recorded, not refused.
	if err := f.svc.Assign(ctx, as("bob"), in.ID, "scribe", "bob"); err != nil {
		t.Fatal(err)
	}
	d = f.detail(t, in.ID)
	if !strings.Contains(string(d.Timeline[len(d.Timeline)-1].Data), `"listed_for_role":false`) {
		t.Errorf("data = %s", d.Timeline[len(d.Timeline)-1].Data)
	}

	f.refusedWithoutChange(t, in.ID, "assign", ErrNotFound, func() error {
		return f.svc.Assign(ctx, as("bob"), in.ID, "comms_lead", "mallory")
	}, `"mallory"`, "directory")
	f.refusedWithoutChange(t, in.ID, "assign", ErrNotFound, func() error {
		return f.svc.Assign(ctx, as("bob"), in.ID, "janitor", "carol")
	}, `"janitor"`, "account-compromise", "comms_lead")
	f.refusedWithoutChange(t, in.ID, "acknowledge", ErrNotFound, func() error {
		return f.svc.Acknowledge(ctx, as("carol"), in.ID, "comms_lead")
	}, "nobody holds comms_lead")
	wantErr(t, f.svc.Assign(ctx, as("bob"), "INC-0404", "scribe", "carol"), ErrNotFound, "INC-0404")
	f.wantAudit(t, "assign", "INC-0404", store.OutcomeRefused)
}

func TestStepsCompleteAndSkip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	f.clock.Advance(10 * time.Minute)
	if err := f.svc.CompleteStep(ctx, as("bob"), in.ID, "revoke-sessions", "all 14 sessions revoked"); err != nil {
		t.Fatal(err)
	}
	f.wantAudit(t, "step_complete", in.ID, store.OutcomeOK)
	d := f.detail(t, in.ID)
	st := d.Steps[0]
	if st.Status != store.StepDone || st.Actor != "bob" || st.Note != "all 14 sessions revoked" || !st.At.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("step = %+v", st)
	}
	if last := d.Timeline[len(d.Timeline)-1]; last.Kind != "step_completed" || last.Actor != "bob" {
		t.Errorf("entry = %+v", last)
	}
	f.refusedWithoutChange(t, in.ID, "step_complete", ErrInvalidState, func() error {
		return f.svc.CompleteStep(ctx, as("bob"), in.ID, "revoke-sessions", "")
	}, `"revoke-sessions"`, "already done")
	f.refusedWithoutChange(t, in.ID, "step_skip", ErrRefused, func() error {
		return f.svc.SkipStep(ctx, as("bob"), in.ID, "reset-mfa", "")
	}, `"reset-mfa"`, "reason")
	if err := f.svc.SkipStep(ctx, as("bob"), in.ID, "reset-mfa", "hardware keys, nothing to reset"); err != nil {
		t.Fatal(err)
	}
	if d := f.detail(t, in.ID); d.Steps[1].Status != store.StepSkipped || d.Timeline[len(d.Timeline)-1].Kind != "step_skipped" {
		t.Errorf("skip: %+v", d.Steps[1])
	}
	f.refusedWithoutChange(t, in.ID, "step_complete", ErrNotFound, func() error {
		return f.svc.CompleteStep(ctx, as("bob"), in.ID, "call-the-fbi", "")
	}, `"call-the-fbi"`, in.ID)
	f.meetClocks(t, in.ID)
	if err := f.svc.Close(ctx, as("bob"), in.ID, ""); err != nil {
		t.Fatal(err) // only the optional step is open
	}
	f.refusedWithoutChange(t, in.ID, "step_complete", ErrInvalidState, func() error {
		return f.svc.CompleteStep(ctx, as("bob"), in.ID, "lessons", "")
	}, "closed", "reopen")
}

func TestCloseAndReopen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	f.refusedWithoutChange(t, in.ID, "close", ErrRefused, func() error {
		return f.svc.Close(ctx, as("alice"), in.ID, "")
	}, "2 required step(s)", "revoke-sessions, reset-mfa")
	if a := f.lastAudit(t); !strings.Contains(a.Detail, "revoke-sessions") {
		t.Errorf("refusal audit detail = %q", a.Detail)
	}
	f.clock.Advance(time.Hour)
	if err := f.svc.Close(ctx, as("alice"), in.ID, "false positive confirmed by the vendor"); err != nil {
		t.Fatal(err)
	}
	a := f.wantAudit(t, "close", in.ID, store.OutcomeOK)
	if !strings.Contains(a.Detail, "override") {
		t.Errorf("override not audited: %q", a.Detail)
	}
	d := f.detail(t, in.ID)
	if d.Incident.Status != store.StatusClosed || !d.Incident.ClosedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("closed incident = %+v", d.Incident)
	}
	last := d.Timeline[len(d.Timeline)-1]
	if last.Kind != "closed" || !strings.Contains(string(last.Data), "reset-mfa") {
		t.Errorf("closed entry = %+v %s", last, last.Data)
	}
	f.refusedWithoutChange(t, in.ID, "close", ErrInvalidState, func() error {
		return f.svc.Close(ctx, as("alice"), in.ID, "again")
	}, "already closed")
	f.refusedWithoutChange(t, in.ID, "reopen", ErrRefused, func() error {
		return f.svc.Reopen(ctx, as("alice"), in.ID, "")
	}, "reason")
	if err := f.svc.Reopen(ctx, as("alice"), in.ID, "the vendor was wrong"); err != nil {
		t.Fatal(err)
	}
	if d := f.detail(t, in.ID); d.Incident.Status != store.StatusOpen || !d.Incident.ClosedAt.IsZero() ||
		d.Timeline[len(d.Timeline)-1].Kind != "reopened" {
		t.Errorf("reopened = %+v", d.Incident)
	}
	f.refusedWithoutChange(t, in.ID, "reopen", ErrInvalidState, func() error {
		return f.svc.Reopen(ctx, as("alice"), in.ID, "again")
	}, "is open")
	for _, s := range []string{"revoke-sessions", "reset-mfa"} {
		if err := f.svc.CompleteStep(ctx, as("alice"), in.ID, s, ""); err != nil {
			t.Fatal(err)
		}
	}
	f.meetClocks(t, in.ID)
	if err := f.svc.Close(ctx, as("alice"), in.ID, ""); err != nil {
		t.Fatalf("close with all required steps done: %v", err)
	}
	wantErr(t, f.svc.Close(ctx, as("alice"), "INC-0404", ""), ErrNotFound, "INC-0404")
	f.wantAudit(t, "close", "INC-0404", store.OutcomeRefused)
}

func TestNotes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	if err := f.svc.AddNote(ctx, as("carol"), in.ID, "  attacker IP 203.0.113.7 blocked at the edge  "); err != nil {
		t.Fatal(err)
	}
	d := f.detail(t, in.ID)
	if last := d.Timeline[len(d.Timeline)-1]; last.Kind != "note" || last.Summary != "attacker IP 203.0.113.7 blocked at the edge" ||
		last.Actor != "carol" || last.Seq != 3 {
		t.Errorf("note = %+v", last)
	}
	f.wantAudit(t, "note", in.ID, store.OutcomeOK)
	f.refusedWithoutChange(t, in.ID, "note", ErrRefused, func() error {
		return f.svc.AddNote(ctx, as("carol"), in.ID, " \n ")
	}, "text")
	if err := f.svc.Close(ctx, as("carol"), in.ID, "testing"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddNote(ctx, as("carol"), in.ID, "post-incident: vendor ticket 4411"); err != nil {
		t.Errorf("note on a closed incident: %v", err)
	}
	wantErr(t, f.svc.AddNote(ctx, as("carol"), "INC-0404", "x"), ErrNotFound, "INC-0404")
	f.wantAudit(t, "note", "INC-0404", store.OutcomeRefused)
}

func TestLinkCustomer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	if err := f.svc.LinkCustomer(ctx, as("alice"), in.ID, "initech"); err != nil {
		t.Fatal(err)
	}
	if d := f.detail(t, in.ID); len(d.Customers) != 3 || d.Timeline[len(d.Timeline)-1].Kind != "customer_linked" {
		t.Errorf("customers = %+v", d.Customers)
	}
	f.refusedWithoutChange(t, in.ID, "link_customer", ErrInvalidState, func() error {
		return f.svc.LinkCustomer(ctx, as("alice"), in.ID, "acme")
	}, `"acme"`, "already linked")
	f.refusedWithoutChange(t, in.ID, "link_customer", ErrNotFound, func() error {
		return f.svc.LinkCustomer(ctx, as("alice"), in.ID, "hooli")
	}, `"hooli"`)
}

func TestObligations(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	f.clock.Advance(20 * time.Hour)
	early := t0.Add(18 * time.Hour)
	if err := f.svc.RecordSubmission(ctx, as("alice"), in.ID, "nis2_early_warning", early); err != nil {
		t.Fatal(err)
	}
	f.wantAudit(t, "obligation_submit", in.ID, store.OutcomeOK)
	d := f.detail(t, in.ID)
	if len(d.Obligations) != 1 || !d.Obligations[0].At.Equal(early) || !d.Obligations[0].RecordedAt.Equal(t0.Add(20*time.Hour)) ||
		d.Timeline[len(d.Timeline)-1].Kind != "obligation_submitted" {
		t.Errorf("obligations = %+v", d.Obligations)
	}
	f.refusedWithoutChange(t, in.ID, "obligation_submit", ErrInvalidState, func() error {
		return f.svc.RecordSubmission(ctx, as("alice"), in.ID, "nis2_early_warning", time.Time{})
	}, "nis2_early_warning", "already")
	f.refusedWithoutChange(t, in.ID, "obligation_submit", ErrRefused, func() error {
		return f.svc.RecordSubmission(ctx, as("alice"), in.ID, "gdpr_art33", t0.Add(48*time.Hour))
	}, "future")
	f.refusedWithoutChange(t, in.ID, "obligation_pause", ErrRefused, func() error {
		return f.svc.PauseObligation(ctx, as("alice"), in.ID, "gdpr_art34", time.Time{}, "")
	}, "reason")
	f.refusedWithoutChange(t, in.ID, "obligation_resume", ErrInvalidState, func() error {
		return f.svc.ResumeObligation(ctx, as("alice"), in.ID, "gdpr_art34", time.Time{}, "")
	}, "not paused")
	if err := f.svc.PauseObligation(ctx, as("alice"), in.ID, "gdpr_art34", time.Time{}, "police asked us to wait"); err != nil {
		t.Fatal(err)
	}
	f.refusedWithoutChange(t, in.ID, "obligation_pause", ErrInvalidState, func() error {
		return f.svc.PauseObligation(ctx, as("alice"), in.ID, "gdpr_art34", time.Time{}, "again")
	}, "already paused")
	f.clock.Advance(time.Hour)
	if err := f.svc.ResumeObligation(ctx, as("alice"), in.ID, "gdpr_art34", time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	d = f.detail(t, in.ID)
	if k := kinds(d); !slices.Equal(k[len(k)-2:], []string{"obligation_paused", "obligation_resumed"}) {
		t.Errorf("timeline = %v", k)
	}
	if len(d.Obligations) != 3 || d.Obligations[1].Kind != store.ObligationPauseStart || d.Obligations[2].Kind != store.ObligationPauseEnd {
		t.Errorf("obligations = %+v", d.Obligations)
	}
	// Obligations outlive closing: final reports are due a month later.
	if err := f.svc.Close(ctx, as("alice"), in.ID, "contained"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordSubmission(ctx, as("alice"), in.ID, "nis2_final_report", time.Time{}); err != nil {
		t.Errorf("submission after closing: %v", err)
	}
}

func TestReadsAreAudited(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	for range 30 {
		if err := f.svc.AddNote(ctx, as("alice"), in.ID, "progress"); err != nil {
			t.Fatal(err)
		}
	}
	d, err := f.svc.Get(ctx, as("carol"), in.ID)
	if err != nil || d.TimelineTotal != 32 || len(d.Timeline) != 32 {
		t.Fatalf("Get: %d/%d, %v", len(d.Timeline), d.TimelineTotal, err)
	}
	a := f.wantAudit(t, "open", in.ID, store.OutcomeOK)
	if a.Actor != "carol" {
		t.Errorf("open audited as %q", a.Actor)
	}
	w, err := f.svc.Open(ctx, as("carol"), in.ID, Window{Limit: 5})
	if err != nil || len(w.Timeline) != 5 || w.Timeline[0].Seq != 28 || w.TimelineTotal != 32 {
		t.Fatalf("Open: %+v, %v", w.Timeline, err)
	}
	a = f.wantAudit(t, "open", in.ID, store.OutcomeOK)
	if !strings.Contains(a.Detail, "newest 5") {
		t.Errorf("open audit detail = %q", a.Detail)
	}
	// Pages of a view already opened are checked, not audited one by one;
	// a refused page is audited.
	opened := a.ID
	page, err := f.svc.TimelinePage(ctx, as("carol"), in.ID, Window{Before: 28, Limit: 5})
	if err != nil || len(page) != 5 || page[0].Seq != 23 || page[4].Seq != 27 {
		t.Fatalf("TimelinePage before 28: %+v, %v", page, err)
	}
	if a := f.lastAudit(t); a.ID != opened {
		t.Errorf("a page read wrote audit entry %s %s", a.Action, a.Detail)
	}
	_, err = f.svc.TimelinePage(ctx, as(""), in.ID, Window{Before: 28, Limit: 5})
	wantErr(t, err, ErrRefused, "acting user")
	if a := f.wantAudit(t, "open", in.ID, store.OutcomeRefused); !strings.Contains(a.Detail, "acting user") {
		t.Errorf("refused page audited as %q", a.Detail)
	}
	r, err := f.svc.Refresh(ctx, as("carol"), in.ID, Window{After: 22, Limit: 10})
	if err != nil || len(r.Timeline) != 10 || r.Timeline[0].Seq != 23 {
		t.Fatalf("Refresh: %+v, %v", r.Timeline, err)
	}
	if a := f.wantAudit(t, "open", in.ID, store.OutcomeOK); !strings.Contains(a.Detail, "refresh") {
		t.Errorf("refresh audit detail = %q", a.Detail)
	}
	h, err := f.svc.Head(ctx, as("carol"), in.ID)
	if err != nil || len(h.Timeline) != 0 || h.TimelineTotal != 32 {
		t.Fatalf("Head: %d of %d, %v", len(h.Timeline), h.TimelineTotal, err)
	}
	f.wantAudit(t, "open", in.ID, store.OutcomeOK)
	_, err = f.svc.Get(ctx, as("carol"), "INC-0404")
	wantErr(t, err, ErrNotFound, "INC-0404")
	f.wantAudit(t, "open", "INC-0404", store.OutcomeRefused)

	list, err := f.svc.List(ctx, as("carol"), store.ListFilter{Status: store.StatusOpen, Drill: store.DrillExclude})
	if err != nil || len(list) != 1 {
		t.Fatalf("List: %v, %v", list, err)
	}
	a = f.wantAudit(t, "list", "", store.OutcomeOK)
	if !strings.Contains(a.Detail, "status=open") {
		t.Errorf("list audit detail = %q", a.Detail)
	}
	_, err = f.svc.List(ctx, as("carol"), store.ListFilter{Status: "pending"})
	wantErr(t, err, ErrRefused, `"pending"`)
	f.wantAudit(t, "list", "", store.OutcomeRefused)
	_, err = f.svc.Get(ctx, as(""), in.ID)
	wantErr(t, err, ErrRefused, "acting user")
}

func TestExportForOneCustomerHoldsOnlyTheirData(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	d := declaration()
	d.Title = "Shared database exposed: Acme Holdings and Globex Corporation tenants"
	d.Summary = "The bucket held exports for acme, GLOBEX and others"
	d.Answers = map[string]any{"which_tenants": "Acme Holdings, Globex Corporation", "records": 40.0}
	d.Rationale = []string{"tenant globex had personal data in the bucket"}
	in, err := f.svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.LinkCustomer(ctx, as("alice"), in.ID, "initech"); err != nil {
		t.Fatal(err)
	}
	for _, note := range []string{
		"Globex Corporation's CISO called; they want hourly updates",
		"initech data: 12 files, acme data: 30 files",
		"Acme Holdings asked for the list of records",
		"Europe region only", // "eu" inside words is left alone
	} {
		if err := f.svc.AddNote(ctx, as("bob"), in.ID, note); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.CompleteStep(ctx, as("bob"), in.ID, "revoke-sessions", "revoked Initech's and Globex's keys"); err != nil {
		t.Fatal(err)
	}

	full, err := f.svc.Export(ctx, as("alice"), in.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	f.wantAudit(t, "export", in.ID, store.OutcomeOK)
	fullJSON, _ := json.Marshal(full)
	for _, want := range []string{"globex", "Initech", "Globex Corporation"} {
		if !strings.Contains(string(fullJSON), want) {
			t.Errorf("the full export lacks %q", want)
		}
	}
	if full.Scope != "full" || len(full.Customers) != 3 || full.Timeline[0].Hash == "" {
		t.Errorf("full export: scope %s, %d customers", full.Scope, len(full.Customers))
	}

	for _, tc := range []struct {
		customer string
		own      []string
		others   []string
	}{
		{"acme", []string{"acme", "Acme Holdings"}, []string{"globex", "initech", "umbrella"}},
		{"globex", []string{"globex", "Globex Corporation"}, []string{"acme", "initech", "umbrella"}},
		{"initech", []string{"initech", "Initech"}, []string{"acme", "globex", "umbrella"}},
	} {
		t.Run(tc.customer, func(t *testing.T) {
			ex, err := f.svc.Export(ctx, as("alice"), in.ID, tc.customer)
			if err != nil {
				t.Fatal(err)
			}
			a := f.wantAudit(t, "export", in.ID, store.OutcomeOK)
			if a.Detail != "customer "+tc.customer {
				t.Errorf("audit detail = %q", a.Detail)
			}
			b, err := json.Marshal(ex)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.ToLower(string(b))
			for _, other := range tc.others {
				if i := strings.Index(text, other); i >= 0 {
					t.Errorf("export for %s mentions %q: …%s…", tc.customer, other, text[max(0, i-60):min(len(text), i+60)])
				}
			}
			for _, own := range tc.own {
				if !strings.Contains(string(b), own) {
					t.Errorf("export for %s lacks its own %q", tc.customer, own)
				}
			}
			if !strings.Contains(string(b), "Europe region only") {
				t.Error("the redaction garbled an unrelated note")
			}
			if ex.Scope != "customer" || ex.Customer != tc.customer || len(ex.Customers) != 1 || ex.Customers[0].ID != tc.customer {
				t.Errorf("scope %s/%s customers %+v", ex.Scope, ex.Customer, ex.Customers)
			}
			for _, e := range ex.Timeline {
				if e.Hash != "" {
					t.Errorf("a customer export carries chain hashes (entry %d)", e.Seq)
				}
			}
		})
	}

	_, err = f.svc.Export(ctx, as("alice"), in.ID, "umbrella")
	wantErr(t, err, ErrNotFound, `"umbrella"`, "not affected", in.ID)
	f.wantAudit(t, "export", in.ID, store.OutcomeRefused)
	_, err = f.svc.Export(ctx, as("alice"), in.ID, "hooli")
	wantErr(t, err, ErrNotFound, `"hooli"`, "directory")
	_, err = f.svc.Export(ctx, as("alice"), "INC-0404", "acme")
	wantErr(t, err, ErrNotFound, "INC-0404")
}

func TestRedactorPrefersOwnLongerName(t *testing.T) {
	r := newRedactor(store.Customer{ID: "acme-holdings", Name: "Acme Holdings"},
		[]store.Customer{{ID: "acme", Name: "Acme"}, {ID: "eu", Name: "EU Agency"}, {ID: "acme-holdings", Name: "Acme Holdings"}})
	for in, want := range map[string]string{
		"Acme Holdings and Acme": "Acme Holdings and " + Redacted,
		"ACME ltd":               Redacted + " ltd",
		"Europe, eu, (EU)":       "Europe, " + Redacted + ", (" + Redacted + ")",
		"nothing to see":         "nothing to see",
		"EU Agency asked":        Redacted + " asked",
	} {
		if got := r.str(in); got != want {
			t.Errorf("redact(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestChainsHoldAfterAFullResponse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t)
	steps := []func() error{
		func() error { return f.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "alice") },
		func() error { return f.svc.Acknowledge(ctx, as("alice"), in.ID, "incident_commander") },
		func() error { return f.svc.CompleteStep(ctx, as("alice"), in.ID, "revoke-sessions", "") },
		func() error { return f.svc.SkipStep(ctx, as("alice"), in.ID, "reset-mfa", "keys") },
		func() error { f.meetClocks(t, in.ID); return f.svc.Close(ctx, as("bob"), in.ID, "") },
		func() error { _, err := f.svc.Get(ctx, as("carol"), in.ID); return err },
	}
	for i, s := range steps {
		f.clock.Advance(time.Minute)
		if err := s(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	_ = f.svc.Close(ctx, as("bob"), in.ID, "") // refused, audited
	rep, err := f.st.VerifyChains(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	if got, _ := f.st.IntegrityCheck(ctx); got != "ok" {
		t.Errorf("integrity_check = %q", got)
	}
}

// as is a trusted local actor named name, as in local trust mode.
func as(name string) identity.Actor { return identity.Local(name, "tester") }
