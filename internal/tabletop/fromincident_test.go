package tabletop

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/runbooks"
)

// realIncident records a closed personal-data-breach incident as a team
// would, with real (demo directory) names in notes.
func realIncident(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	t0 := time.Date(2026, 2, 3, 10, 5, 0, 0, time.UTC)
	fc := clock.NewFake(t0.Add(12 * time.Minute))
	svc := &incident.Service{Store: f.deps.Store, Clock: fc}
	rb, _ := f.deps.Runbooks.Get("personal-data-breach")
	answers := classify.Answers{"personal_data": true, "exposure": "disclosed", "data_categories": []string{"contact"},
		"records": 61000.0, "encrypted": false, "customers_affected": true, "controller_data": true, "ongoing": false,
		"functional_impact": "none", "us_health_data": false, "ca_residents": 0.0,
		"discovered_by":     "Alice Jansen saw the container listed by a researcher (mail from researcher@example.net)",
		"unavailable_hours": 0.0, "identifiable": "direct", "recipients": "unknown", "malicious": false,
		"undetected_days": 0.0, "used_against_people": false, "consequences": "limited", "uk_people": false}
	v, err := classify.Classify(rb, answers, f.deps.Policy, classify.Events{Aware: t0, Classified: fc.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := incident.NewDeclaration(rb, v, answers)
	d.Title, d.AwareAt, d.Customers = "Acme Logistics exports readable in a public container", t0, []string{"acme"}
	in, err := svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	step := func(d time.Duration, fn func() error) {
		t.Helper()
		fc.Set(t0.Add(d))
		if err := fn(); err != nil {
			t.Fatal(err)
		}
	}
	step(20*time.Minute, func() error { return svc.Assign(ctx, as("bob"), in.ID, "incident_commander", "alice") })
	step(31*time.Minute, func() error {
		return svc.AddNote(ctx, as("chen"), in.ID, "Chen confirmed 61,000 emails; Dana Moreau (dana) is on her way; ping U0DEMOALICE; "+
			"the acme-sync job and svc.acme still run; Acme's CISO was told")
	})
	step(47*time.Minute, func() error { return svc.CompleteStep(ctx, as("chen"), in.ID, "stop-exposure", "made private by chen") })
	step(2*time.Hour, func() error { return svc.LinkCustomer(ctx, as("eli"), in.ID, "northwind") })
	step(2*time.Hour+10*time.Minute, func() error {
		return svc.AddNote(ctx, as("eli"), in.ID, "Northwind Health's CISO (ciso@northwind.example) asks for a call with Eli Haddad")
	})
	step(5*time.Hour, func() error { return svc.ChangeSeverity(ctx, as("alice"), in.ID, "SEV1", "sample on a forum") })
	step(30*time.Hour, func() error { return svc.RecordSubmission(ctx, as("dana"), in.ID, "gdpr-33", time.Time{}) })
	step(50*time.Hour, func() error { return svc.Close(ctx, as("alice"), in.ID, "tracked in the problem backlog") })
	return in.ID
}

func TestFromIncident(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := realIncident(t, f)
	// It exports the real incident: only for people who may export.
	if _, _, err := FromIncident(ctx, f.deps, as("eve"), id); !errors.Is(err, identity.ErrDenied) {
		t.Fatalf("a scenario from a real incident for someone who may not export it: %v", err)
	}
	data, sc, err := FromIncident(ctx, f.deps, as("fac"), id)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	text := string(data)
	// No real person or customer: names, parts of names, ids, emails,
	// Slack ids, customer names.
	for _, leak := range []string{"Alice", "Jansen", "alice", "bob", "chen", "Chen", "dana", "Dana", "Moreau", "Eli", "Haddad",
		"Acme", "acme", "Northwind", "northwind", "@example", "U0DEMOALICE", "researcher@"} {
		for _, m := range regexp.MustCompile(regexp.QuoteMeta(leak)).FindAllStringIndex(text, -1) {
			if standsAlone(text, m[0], m[1]) {
				t.Errorf("the replay still names %q at %d:\n%s", leak, m[0], text)
			}
		}
	}
	// Whole words only: identifiers that contain a name stay intact.
	for _, want := range []string{"Responder 1", "Customer A", "Customer ", "[email]", "[slack user]",
		"the acme-sync job and svc.acme still run; Customer A's CISO was told",
		"id: replay-" + strings.ToLower(id), "runbook: personal-data-breach", "start: Tue 10:05"} {
		if !strings.Contains(text, want) {
			t.Errorf("the replay lacks %q:\n%s", want, text)
		}
	}
	// Injects at the original offsets; expectations with the night's times.
	type inj struct {
		id, at string
		expect []string
	}
	var got []inj
	for _, in := range sc.Injects {
		i := inj{id: in.ID, at: FormatOffset(in.Offset)}
		for _, e := range in.Expect {
			i.expect = append(i.expect, e.ID+"/"+e.Within)
		}
		got = append(got, i)
	}
	want := []inj{
		{"detection", "T+0m", []string{"classify/15m", "assign-incident_commander/20m"}},
		{"update-1", "T+31m", []string{"step-stop-exposure/20m"}},
		{"customer-1", "T+2h00m", nil},
		{"update-2", "T+2h10m", []string{"raise-sev1/2h50m", "submit-gdpr-33/27h50m"}},
	}
	if len(got) != len(want) {
		t.Fatalf("injects %+v", got)
	}
	for i := range want {
		if got[i].id != want[i].id || got[i].at != want[i].at || strings.Join(got[i].expect, ",") != strings.Join(want[i].expect, ",") {
			t.Errorf("inject %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if sc.Duration != "31h" || len(sc.Objectives) != 2 {
		t.Errorf("duration %s, objectives %+v", sc.Duration, sc.Objectives)
	}

	// It lints clean as a file, and replays.
	dir := t.TempDir()
	file := filepath.Join(dir, sc.ID+".yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if probs, _ := Lint(context.Background(), []string{file}, runbook.Options{Bundled: runbooks.FS(), Validate: validate}); len(probs) > 0 {
		t.Fatalf("lint:\n%v", probs)
	}
	acts := &DrillActions{Actions: []DrillAction{
		{Offset: 5 * time.Minute, Do: DoDeclare, Title: "Replay", Answers: map[string]any{"personal_data": true,
			"exposure": "disclosed", "records": 61000.0, "encrypted": false, "customers_affected": true, "controller_data": true,
			"ongoing": false, "functional_impact": "none", "data_categories": []any{"contact"},
			"recipients": "unknown", "malicious": false, "undetected_days": 0.0, "used_against_people": false, "consequences": "limited"}},
		{Offset: 10 * time.Minute, Do: DoAssign, Role: "incident_commander", Person: "alice"},
		{Offset: time.Hour, Do: DoStep, Step: "stop-exposure"},
	}}
	r, err := Replay(ctx, f.deps, sc, acts, as("fac"), Options{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Score(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res := results(s)
	if res["classify"] != Met || res["assign-incident_commander"] != Met || res["step-stop-exposure"] != Late ||
		res["raise-sev1"] != Missed || res["submit-gdpr-33"] != Missed {
		t.Fatalf("replay score %+v", res)
	}
}

func TestFromIncidentRefusesOpenIncidents(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := &incident.Service{Store: f.deps.Store, Clock: clock.NewFake(epoch)}
	rb, _ := f.deps.Runbooks.Get("ransomware")
	v, _ := classify.Classify(rb, ransomwareAnswers, f.deps.Policy, classify.Events{Aware: epoch, Classified: epoch}, nil)
	d := incident.NewDeclaration(rb, v, ransomwareAnswers)
	d.Title = "Still open"
	in, err := svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := FromIncident(ctx, f.deps, as("fac"), in.ID); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("open incident: %v", err)
	}
	if _, _, err := FromIncident(ctx, f.deps, as("fac"), "INC-9999"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("unknown incident: %v", err)
	}
}

// TestScrubReplacesWholeWordsOnly: a name is replaced where it stands as
// a word, and never inside a word or an identifier.
func TestScrubReplacesWholeWordsOnly(t *testing.T) {
	re := regexp.MustCompile(`(?i)acme`)
	for _, tc := range []struct{ in, want string }{
		{"acme-sync failed", "acme-sync failed"},
		{"the svc-acme account", "the svc-acme account"},
		{"acme_prod, acme.internal, acme/prod and ops@acme", "acme_prod, acme.internal, acme/prod and ops@acme"},
		{"Acmeware and ProAcme", "Acmeware and ProAcme"},
		{"Called Acme.", "Called Customer A."},
		{"Acme's CISO (acme) - Acme: yes", "Customer A's CISO (Customer A) - Customer A: yes"},
		{"acme", "Customer A"},
		{"ACME, then acme-sync", "Customer A, then acme-sync"},
	} {
		if got := replaceWhole(tc.in, re, "Customer A"); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}
