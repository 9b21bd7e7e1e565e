package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/store"
)

// The action budget: each action is a durable transaction (synchronous=FULL)
// with its timeline and audit entries; target ≥ 2,000 actions/s, where the
// floor (one bare insert per durable commit) is about 6,000 commits/s.

// reportRate reports actions/s and, beside it, that floor as measured on
// the same file right after the run: durable commits of one audit entry
// each. On a shared disk the speed of fsync swings from one minute to the
// next; the share of the floor an action reaches ("of-floor") swings much
// less, and says what the code costs beyond the disk's flush.
func reportRate(b *testing.B, st *store.Store, cpu0 time.Duration) {
	rate := float64(b.N) / b.Elapsed().Seconds()
	// The CPU time an action costs (this process, all threads): unlike
	// the rates, it hardly moves when other work shares the machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/action")
	b.StopTimer()
	ctx := context.Background()
	const commits = 500
	start := time.Now()
	for range commits {
		err := st.Update(ctx, func(tx *store.Tx) error {
			return tx.AppendAudit(ctx, &store.AuditEntry{At: t0, Actor: "alice", Action: "list", Outcome: store.OutcomeOK})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	floor := commits / time.Since(start).Seconds()
	b.ReportMetric(rate, "actions/s")
	b.ReportMetric(floor, "floor-commits/s")
	b.ReportMetric(rate/floor, "of-floor")
}

func BenchmarkDeclare(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	d := declaration()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := f.svc.Declare(ctx, as("alice"), d); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, f.st, cpu0)
}

func BenchmarkCompleteStep(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	d := declaration()
	d.Steps = nil
	for i := range 100 {
		d.Steps = append(d.Steps, StepRef{ID: fmt.Sprintf("step-%03d", i), Phase: "containment", Title: "Do it", Required: true})
	}
	var ids []string
	b.ResetTimer()
	cpu0 := cpuTime()
	i := 0
	for b.Loop() {
		if i%100 == 0 {
			b.StopTimer()
			in, err := f.svc.Declare(ctx, as("alice"), d)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, in.ID)
			b.StartTimer()
		}
		if err := f.svc.CompleteStep(ctx, as("alice"), ids[len(ids)-1], d.Steps[i%100].ID, "done"); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportRate(b, f.st, cpu0)
}

func BenchmarkAddNote(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	in, err := f.svc.Declare(ctx, as("alice"), declaration())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := f.svc.AddNote(ctx, as("alice"), in.ID, "checked the proxy logs for the attacker's IP"); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, f.st, cpu0)
}

// The read budget, on a database of 10,000 incidents and 200,000 timeline
// entries: list the 50 most recent in < 10 ms, open one in < 20 ms.

const (
	bigIncidents = 10_000
	bigEntries   = 200_000
)

var (
	bigOnce sync.Once
	bigPath string
	bigErr  error
	bigDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// bigDatabase builds the fixture once per test binary: all rows in one
// transaction through the store's own write methods, so every chain hash
// is real and the file verifies.
func bigDatabase(b *testing.B) string {
	bigOnce.Do(func() {
		bigDir, bigErr = os.MkdirTemp("", "irtui-bench-")
		if bigErr != nil {
			return
		}
		bigPath = filepath.Join(bigDir, "irtui.db")
		start := time.Now()
		bigErr = bulkLoad(bigPath, bigIncidents, bigEntries/bigIncidents)
		b.Logf("fixture: %d incidents, %d timeline entries in %v", bigIncidents, bigEntries, time.Since(start).Round(time.Millisecond))
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigPath
}

func bulkLoad(path string, incidents, entriesEach int) error {
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.ImportDirectory(ctx, "admin", directory); err != nil {
		return err
	}
	steps := []store.Step{}
	for _, s := range declaration().Steps {
		steps = append(steps, store.Step{ID: s.ID, Phase: s.Phase, Title: s.Title, Role: s.Role, Required: s.Required})
	}
	d := declaration()
	data := json.RawMessage(`{"source":"bulk"}`)
	return st.Update(ctx, func(tx *store.Tx) error {
		for i := range incidents {
			at := t0.Add(time.Duration(i-incidents) * time.Hour)
			in := store.Incident{Kind: store.KindIncident, Status: store.StatusOpen, RunbookID: d.RunbookID,
				RunbookVersion: d.RunbookVersion, Title: fmt.Sprintf("%s #%d", d.Title, i), Summary: d.Summary,
				Category: d.Category, AttackVector: d.AttackVector, Severity: "SEV3", Flags: d.Flags,
				Answers: d.Answers, Facts: d.Facts, Rationale: d.Rationale, Roles: d.Roles,
				AwareAt: at, DeclaredAt: at, UpdatedAt: at, Drill: i%10 == 0, CreatedBy: "alice"}
			if i%3 == 0 {
				in.Status, in.ClosedAt = store.StatusClosed, at.Add(time.Hour)
			}
			if err := tx.InsertIncident(ctx, &in); err != nil {
				return err
			}
			if _, err := tx.LinkCustomer(ctx, in.ID, directory.Customers[i%3].ID, at, "alice"); err != nil {
				return err
			}
			if err := tx.InsertSteps(ctx, in.ID, steps); err != nil {
				return err
			}
			if err := tx.InsertAssignment(ctx, &store.Assignment{IncidentID: in.ID, Role: "incident_commander",
				PersonID: "alice", AssignedAt: at, AssignedBy: "alice"}); err != nil {
				return err
			}
			for j := range entriesEach {
				e := store.TimelineEntry{IncidentID: in.ID, At: at.Add(time.Duration(j) * time.Minute), Actor: "alice",
					Kind: "note", Summary: "checked the proxy logs for the attacker's IP", Data: data}
				if err := tx.AppendTimeline(ctx, &e); err != nil {
					return err
				}
			}
			if err := tx.AppendAudit(ctx, &store.AuditEntry{At: at, Actor: "alice", Action: "declare",
				IncidentID: in.ID, Outcome: store.OutcomeOK}); err != nil {
				return err
			}
		}
		return nil
	})
}

func bigService(b *testing.B) (*Service, *store.Store) {
	path := bigDatabase(b)
	st, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return &Service{Store: st, Clock: clock.Real{}}, st
}

func BenchmarkListRecent50(b *testing.B) {
	svc, st := bigService(b)
	ctx := context.Background()
	filter := store.ListFilter{Status: store.StatusOpen, Drill: store.DrillExclude, Limit: 50}
	// service: what a user waits for, including the audit entry's commit.
	b.Run("service", func(b *testing.B) {
		for b.Loop() {
			list, err := svc.List(ctx, as("alice"), filter)
			if err != nil || len(list) != 50 {
				b.Fatalf("%d, %v", len(list), err)
			}
		}
	})
	// query: the read alone.
	b.Run("query", func(b *testing.B) {
		for b.Loop() {
			list, err := st.ListIncidents(ctx, filter)
			if err != nil || len(list) != 50 {
				b.Fatalf("%d, %v", len(list), err)
			}
		}
	})
}

func BenchmarkOpenIncident(b *testing.B) {
	svc, st := bigService(b)
	ctx := context.Background()
	id := func(i int) string { return store.IncidentID(int64(1 + (i*7919)%bigIncidents)) }
	b.Run("service", func(b *testing.B) {
		i := 0
		for b.Loop() {
			d, err := svc.Get(ctx, as("alice"), id(i))
			if err != nil || d.TimelineTotal != bigEntries/bigIncidents {
				b.Fatalf("%d entries, %v", d.TimelineTotal, err)
			}
			i++
		}
	})
	b.Run("query", func(b *testing.B) {
		i := 0
		for b.Loop() {
			d, err := st.Incident(ctx, id(i))
			if err != nil || len(d.Timeline) != bigEntries/bigIncidents {
				b.Fatalf("%d entries, %v", len(d.Timeline), err)
			}
			i++
		}
	})
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
