package tabletop

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// TestHeadlessReplayOfBundledScenarios replays each bundled scenario with
// its example actions file (docs/examples/drills) and checks the exact
// score. The same inputs must give the same score every time.
func TestHeadlessReplayOfBundledScenarios(t *testing.T) {
	tests := []struct {
		scenario             string
		met, late, missed    int
		want                 map[string]Result
		ratings              map[string]Rating
		openActions, clocks  int
		severity, commanderT string
	}{
		{scenario: "ransomware-friday-night", met: 9, late: 3, missed: 3,
			want: map[string]Result{"classify-sev2": Met, "ic-assigned": Met, "awareness-recorded": Met, "isolate": Met,
				"stakeholders-told": Late, "scope": Late, "backups": Met, "classify-sev1": Met, "privileged-reset": Missed,
				"gdpr-notice-approved": Missed, "customer-linked": Late, "holding-statement": Met, "customer-notice": Met,
				"ransom-decision": Missed, "restored": Met},
			ratings: map[string]Rating{"O1": SomeChallenges, "O3": MajorChallenge}, openActions: 2, severity: "SEV1",
			commanderT: "T+10m"},
		{scenario: "customer-data-open-storage", met: 9, late: 2, missed: 2,
			want: map[string]Result{"classify": Met, "ic-assigned": Met, "awareness-recorded": Late, "exposure-stopped": Met,
				"stakeholders-told": Met, "dpo-assigned": Late, "scoped": Met, "customer-linked": Met, "customer-notice": Met,
				"classify-sev1": Missed, "takedown": Met, "gdpr-submitted": Missed, "risk-assessed": Met},
			ratings: map[string]Rating{"O1": SomeChallenges, "O2": Performed, "O3": SomeChallenges}, openActions: 1,
			severity: "SEV2", commanderT: "T+15m"},
		{scenario: "bec-fraudulent-payment", met: 8, late: 2, missed: 2,
			want: map[string]Result{"classify": Met, "ic-assigned": Met, "finance-assigned": Late, "account-locked": Met,
				"stakeholders-told": Met, "recall": Met, "payments-frozen": Met, "signins-reviewed": Late,
				"contacts-warned": Met, "accounts-scoped": Met, "gdpr-notice-approved": Missed, "claim-opened": Missed},
			ratings: map[string]Rating{"O2": Performed, "O3": MajorChallenge}, openActions: 2, severity: "SEV1",
			commanderT: "T+20m"},
		{scenario: "chat-workspace-compromised", met: 10, late: 2, missed: 1,
			want: map[string]Result{"classify-sev1": Met, "ic-assigned": Met, "out-of-band": Late, "account-locked": Met,
				"staff-warned": Met, "stakeholders-told": Late, "no-chat": Met, "signins-reviewed": Met,
				"persistence-removed": Met, "customer-linked": Met, "customer-notice": Missed, "account-returned": Met,
				"back-to-chat": Met},
			ratings: map[string]Rating{"O2": MajorChallenge}, openActions: 1, severity: "SEV1", commanderT: "T+6m"},
		// In modules: the first two on drill incidents of their own.
		{scenario: "laptop-phishing-ransomware", met: 6, late: 4, missed: 1,
			want: map[string]Result{"laptop-declared": Met, "laptop-wiped": Late, "laptop-credentials": Met,
				"laptop-inventory": Met, "phish-declared": Met, "phish-locked": Met, "phish-signins": Late,
				"ransomware-classified": Met, "ransomware-isolated": Late, "ransomware-stakeholders": Late,
				"ransomware-customer-notice": Missed},
			ratings: map[string]Rating{"O1": SomeChallenges, "O3": MajorChallenge}, openActions: 2, severity: "SEV1",
			commanderT: "T+86h55m"},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			sc := scenario(t, tc.scenario)
			acts := actionsFile(t, sc, filepath.Join("..", "..", "docs", "examples", "drills", tc.scenario+".actions.yaml"))
			var first []byte
			for round := range 2 {
				f := newFixture(t)
				ctx := context.Background()
				r, err := Replay(ctx, f.deps, sc, acts, as("facilitator"), Options{Epoch: epoch})
				if err != nil {
					t.Fatalf("replay: %v", err)
				}
				s, err := r.Score(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !s.Final || s.Status != store.DrillFinished {
					t.Fatalf("run not finished: %+v", s)
				}
				if s.Met != tc.met || s.Late != tc.late || s.Missed != tc.missed || s.Pending != 0 {
					for _, e := range s.Expectations {
						t.Logf("%-22s %-7s due %v done %v %s", e.ID, e.Result, e.Due, e.Done, e.Evidence)
					}
					t.Fatalf("met/late/missed/pending = %d/%d/%d/%d, want %d/%d/%d/0", s.Met, s.Late, s.Missed,
						s.Pending, tc.met, tc.late, tc.missed)
				}
				got := results(s)
				for id, want := range tc.want {
					if got[id] != want {
						t.Errorf("%s: %s, want %s", id, got[id], want)
					}
				}
				if len(got) != len(tc.want) {
					t.Errorf("scored %d expectations, the test lists %d", len(got), len(tc.want))
				}
				for _, o := range s.Objectives {
					if want, ok := tc.ratings[o.ID]; ok && o.Rating != want {
						t.Errorf("objective %s rated %q, want %q", o.ID, o.Rating, want)
					}
				}
				for _, ts := range s.Times {
					if ts.Name == "commander" && (ts.At == nil || ts.At.String() != tc.commanderT) {
						t.Errorf("time to commander %v, want %s", ts.At, tc.commanderT)
					}
				}
				items, err := ActionItems(ctx, f.deps.Store, false)
				if err != nil || len(items) != tc.openActions {
					t.Errorf("open action items: %d, %v; want %d", len(items), err, tc.openActions)
				}
				in, err := f.deps.Store.Incident(ctx, r.IncidentID())
				if err != nil {
					t.Fatal(err)
				}
				if !in.Incident.Drill || !strings.HasPrefix(in.Incident.Title, TitlePrefix(r.ID())) || in.Incident.Severity != tc.severity {
					t.Errorf("drill incident %+v", in.Incident)
				}
				if rep, err := f.deps.Store.VerifyChains(ctx); err != nil || !rep.OK {
					t.Fatalf("chains after the replay: %+v %v", rep, err)
				}
				// Determinism: the same inputs give the same score.
				b, _ := json.Marshal(s)
				if round == 0 {
					first = b
				} else if string(b) != string(first) {
					t.Errorf("second replay scored differently:\n%s\n%s", first, b)
				}
			}
		})
	}
}

// TestReplayStopsAtAFailingAction abandons the run, naming the action.
func TestReplayStopsAtAFailingAction(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := scenario(t, "ransomware-friday-night")
	acts := actionsFile(t, sc, filepath.Join("..", "..", "docs", "examples", "drills", "ransomware-friday-night.actions.yaml"))
	bad := *acts
	bad.Actions = append(bad.Actions[:2:2], bad.Actions[1]) // assign the same person twice
	bad.Actions[2].Offset += time.Minute
	r, err := Replay(ctx, f.deps, sc, &bad, as("facilitator"), Options{Epoch: epoch})
	if err == nil || !strings.Contains(err.Error(), "line 25 (assign at T+11m)") || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("err = %v", err)
	}
	rec, err := f.deps.Store.DrillRun(ctx, r.ID())
	if err != nil || rec.Status != store.DrillAbandoned || !strings.Contains(rec.EndReason, "already holds") {
		t.Fatalf("run %+v, %v", rec, err)
	}
}

// TestModulesPlayOnIncidentsOfTheirOwn: a module with its own runbook is
// worked on a drill incident of its own, stamped on the run's clock and
// closed with the run; the report shows each.
func TestModulesPlayOnIncidentsOfTheirOwn(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := scenario(t, "laptop-phishing-ransomware")
	acts := actionsFile(t, sc, filepath.Join("..", "..", "docs", "examples", "drills", "laptop-phishing-ransomware.actions.yaml"))
	r, err := Replay(ctx, f.deps, sc, acts, as("facilitator"), Options{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"": "ransomware", "M1": "lost-device", "M2": "account-takeover"}
	seen := map[string]bool{}
	for module, runbook := range want {
		id := r.IncidentFor(module)
		if id == "" || seen[id] {
			t.Fatalf("module %q has incident %q", module, id)
		}
		seen[id] = true
		d, err := f.deps.Store.Incident(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Incident.RunbookID != runbook || !d.Incident.Drill || d.Incident.Status != store.StatusClosed ||
			d.Drill == nil || d.Drill.RunID != r.ID() {
			t.Errorf("incident of module %q: %+v, clock %+v", module, d.Incident, d.Drill)
		}
		// Stamped on the drill clock: T+0 is weeks before the wall clock.
		for _, e := range d.Timeline {
			if e.At.Before(epoch) || e.At.After(epoch.Add(sc.Length)) {
				t.Errorf("%s on %s stamped at %s, off the drill clock", e.Kind, id, e.At)
			}
		}
	}
	rep, err := r.Report(ctx, as("auditor"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Incidents) != 3 {
		t.Fatalf("report incidents %+v", rep.Incidents)
	}
	md := rep.Markdown(time.UTC)
	for _, w := range []string{"### Modules\n\n1. **The stolen laptop** (M1)", "(module M1)", "| customer-notice — Notify affected customers (" + r.IncidentFor("M1") + ")"} {
		if !strings.Contains(md, w) {
			t.Errorf("report lacks %q", w)
		}
	}
}
