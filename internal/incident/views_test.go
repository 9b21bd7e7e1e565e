package incident

import (
	"context"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/deadline"
)

func TestViewHelpers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	in := f.declare(t) // personal_data_breach, aware 30 min before t0
	if err := f.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Assign(ctx, as("alice"), in.ID, "incident_commander", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CompleteStep(ctx, as("bob"), in.ID, "revoke-sessions", ""); err != nil {
		t.Fatal(err)
	}
	d := f.detail(t, in.ID)
	if a, ok := CurrentHolder(d, "incident_commander"); !ok || a.PersonID != "bob" {
		t.Errorf("CurrentHolder = %+v, %v", a, ok)
	}
	if _, ok := CurrentHolder(d, "scribe"); ok {
		t.Error("CurrentHolder found a scribe")
	}
	if open := OpenRequiredSteps(d); len(open) != 1 || open[0].ID != "reset-mfa" {
		t.Errorf("OpenRequiredSteps = %+v", open)
	}

	policy := deadline.DefaultPolicy()
	obs := Obligations(d.Incident, d.Obligations, policy)
	next, st, ok := NextDeadline(obs, t0)
	aware := t0.Add(-30 * time.Minute)
	if !ok || next.Rule.ID != "gdpr-33" || !next.Due.Equal(aware.Add(72*time.Hour)) || st.State != deadline.Running {
		t.Fatalf("next = %s due %v (%s), %v", next.Rule.ID, next.Due, st.State, ok)
	}

	f.clock.Advance(time.Hour)
	if err := f.svc.PauseObligation(ctx, as("alice"), in.ID, "gdpr-33", time.Time{}, "police asked us to wait"); err != nil {
		t.Fatal(err)
	}
	d = f.detail(t, in.ID)
	obs = Obligations(d.Incident, d.Obligations, policy)
	for _, o := range obs {
		if o.Rule.ID == "gdpr-33" && o.At(t0.Add(2*time.Hour)).State != deadline.Paused {
			t.Errorf("gdpr-33 not paused: %+v", o.At(t0.Add(2*time.Hour)))
		}
	}
	f.clock.Advance(time.Hour)
	if err := f.svc.ResumeObligation(ctx, as("alice"), in.ID, "gdpr-33", time.Time{}, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RecordSubmission(ctx, as("alice"), in.ID, "gdpr-33", time.Time{}); err != nil {
		t.Fatal(err)
	}
	d = f.detail(t, in.ID)
	obs = Obligations(d.Incident, d.Obligations, policy)
	if next, _, ok := NextDeadline(obs, f.clock.Now()); ok && next.Rule.ID == "gdpr-33" {
		t.Error("a met obligation is still the next deadline")
	}

	ev := declaration()
	ev.Incident, ev.DismissReason = false, "benign"
	e, err := f.svc.Declare(ctx, as("alice"), ev)
	if err != nil {
		t.Fatal(err)
	}
	if obs := Obligations(e, nil, policy); len(obs) != 0 {
		t.Errorf("a dismissed event has obligations: %d", len(obs))
	}
	if _, _, ok := NextDeadline(nil, t0); ok {
		t.Error("NextDeadline of nothing")
	}
}
