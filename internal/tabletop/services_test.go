package tabletop

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// services are the incident and notify services of one process on the
// database file at path, on the wall clock real.
func services(t *testing.T, path string, real clock.Clock, lib *runbook.Library) (*incident.Service, *notify.Service) {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.WithClock(real))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ns := &notify.Service{Store: st, Clock: real, Config: config.Default(),
		Runbook: notify.LibraryLookup(func() *runbook.Library { return lib })}
	return &incident.Service{Store: st, Clock: real, Notifier: ns}, ns
}

// TestEveryServiceStampsTheDrillClock plays a drill in one process while
// another process (its own store on the same file, its own services on
// the wall clock) works the drill incident, delivers its notices and
// scans its deadlines: everything it writes on the drill incident is on
// the drill clock, weeks behind the wall clock; while the drill is
// paused it may do nothing.
func TestEveryServiceStampsTheDrillClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "irtui.db")
	f := openFixture(t, path, true)
	ctx := context.Background()
	lib, _ := library(t)
	svcA, _ := services(t, path, f.real, lib)
	f.deps.Service = svcA
	r, err := Start(ctx, f.deps, scenario(t, "ransomware-friday-night"), as("fac"), Options{Speed: 60, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	f.real.Advance(10 * time.Second) // T+10m
	in, err := r.DeclareAnswers(ctx, as("alice"), "Encryption on FS-02", ransomwareAnswers, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	// The other process.
	svcB, nsB := services(t, path, f.real, lib)
	f.real.Advance(5 * time.Second) // T+15m
	if err := svcB.Assign(ctx, as("bob"), in.ID, "incident_commander", "alice"); err != nil {
		t.Fatal(err)
	}
	w := &notify.Worker{Store: svcB.Store, Clock: f.real, Settings: notify.Settings{ExportDir: t.TempDir()},
		Actor: identity.Irtui(), Service: nsB}
	if _, err := w.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nsB.ScanDeadlines(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := svcB.Store.Incident(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range d.Timeline {
		kinds[e.Kind] = true
		if e.At.Before(epoch) || e.At.After(epoch.Add(time.Hour)) {
			t.Errorf("%s by %s at %s: not on the drill clock (T+0 %s, wall %s)", e.Kind, e.Actor, e.At, epoch, f.real.Now())
		}
		if strings.HasPrefix(e.Kind, "notification_") && strings.Contains(e.Summary, "overdue") {
			t.Errorf("a deadline reminder fired on the wall clock: %s", e.Summary)
		}
	}
	if !kinds["role_assigned"] || !kinds["notification_sent"] && !kinds["notification_exported"] {
		t.Fatalf("the other process's work is missing: %v", kinds)
	}

	// Paused, the drill refuses what any process would do on it.
	if err := r.Pause(ctx, as("fac")); err != nil {
		t.Fatal(err)
	}
	err = svcB.AddNote(ctx, as("bob"), in.ID, "while paused")
	if !errors.Is(err, incident.ErrInvalidState) || !strings.Contains(err.Error(), "drill "+r.ID()+" is paused") {
		t.Fatalf("a note on a paused drill: %v", err)
	}
	drafts, err := svcB.Store.ListNotifications(ctx, store.NotificationFilter{IncidentID: in.ID, Statuses: []string{store.NoticeDraft}})
	if err != nil || len(drafts) == 0 {
		t.Fatalf("drafts: %v %v", drafts, err)
	}
	if err := nsB.Approve(ctx, as("alice"), drafts[0].ID); !errors.Is(err, incident.ErrInvalidState) {
		t.Fatalf("approving a paused drill's notice: %v", err)
	}
	// Resumed, it goes on where it was.
	f.real.Advance(time.Hour)
	if err := r.Resume(ctx, as("fac")); err != nil {
		t.Fatal(err)
	}
	f.real.Advance(time.Second)
	if err := svcB.AddNote(ctx, as("bob"), in.ID, "after the pause"); err != nil {
		t.Fatal(err)
	}
	d, _ = svcB.Store.Incident(ctx, in.ID)
	last := d.Timeline[len(d.Timeline)-1]
	if last.Summary != "after the pause" || last.At.Sub(epoch) > 20*time.Minute {
		t.Fatalf("the note after the pause at %s (T+%s)", last.At, last.At.Sub(epoch))
	}
}
