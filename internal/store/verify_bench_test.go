package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The verify budget: 1,000,000 actions (a timeline entry and an audit
// entry each, the audit entry recording the incident's new state) verified
// in under 2 s, within 2x of what SHA-256 alone costs on this CPU.
//
// The fixture is built once and kept in the temporary folder
// (irtui-verify-bench-N-vV.db), since building a million actions takes a
// while; IRTUI_BENCH_ACTIONS sets N (default 1,000,000).

const fixtureVersion = 2

func benchActions(b *testing.B) int {
	if v := os.Getenv("IRTUI_BENCH_ACTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 100 {
			b.Fatalf("IRTUI_BENCH_ACTIONS=%q: want a number of actions >= 100", v)
		}
		return n
	}
	return 1_000_000
}

// verifyFixture makes (or reuses) a database of n actions on incidents of
// 20 actions each: a declaration (the incident, a customer link, two
// steps; two timeline entries) then notes, each touching the incident.
func verifyFixture(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("irtui-verify-bench-%d-v%d-s%d.db", n, fixtureVersion, SchemaVersion()))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	start := time.Now()
	tmp := path + ".building"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		os.Remove(p)
	}
	ctx := context.Background()
	s, err := Open(ctx, tmp, WithClock(fixedClock{t0}))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.ImportDirectory(ctx, "admin", Directory{
		People:    []Person{{ID: "alice", Name: "Alice"}},
		Customers: []Customer{{ID: "acme", Name: "Acme", ContactKind: "email", Contact: "sec@acme.test"}},
	}); err != nil {
		b.Fatal(err)
	}
	const perTx = 5000
	done := 0
	var current string
	for done < n {
		err := s.Update(ctx, func(tx *Tx) error {
			for i := 0; i < perTx && done < n; i++ {
				at := t0.Add(time.Duration(done) * time.Second)
				if done%20 == 0 {
					in := Incident{Kind: KindIncident, Status: StatusOpen, RunbookID: "account-takeover", RunbookVersion: "3",
						Title: fmt.Sprintf("Suspicious sign-ins on account %d", done), Severity: "SEV2", AwareAt: at,
						DeclaredAt: at, UpdatedAt: at, CreatedBy: "alice", Flags: []string{"personal_data"}}
					if err := tx.InsertIncident(ctx, &in); err != nil {
						return err
					}
					current = in.ID
					if err := tx.LinkCustomers(ctx, in.ID, []string{"acme"}, at, "alice"); err != nil {
						return err
					}
					if err := tx.InsertSteps(ctx, in.ID, []Step{{ID: "revoke-sessions", Phase: "containment", Title: "Revoke all sessions", Required: true},
						{ID: "notify-dpo", Phase: "notification", Title: "Tell the DPO", Required: true}}); err != nil {
						return err
					}
					if err := tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: in.ID, At: at, Actor: "alice", Kind: "declared",
						Summary: "Declared SEV2 incident: " + in.Title,
						Data:    []byte(`{"runbook":"account-takeover","severity":"SEV2","customers":["acme"],"steps":2}`)}); err != nil {
						return err
					}
				} else {
					if err := tx.TouchIncident(ctx, current, at); err != nil {
						return err
					}
				}
				if err := tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: current, At: at, Actor: "alice", Kind: "note",
					Summary: fmt.Sprintf("Checked the proxy logs for the attacker's address (%d)", done),
					Data:    []byte(`{"text":"Checked the proxy logs for the attacker's address"}`)}); err != nil {
					return err
				}
				if err := tx.AppendAudit(ctx, &AuditEntry{At: at, Actor: "alice", Action: "note", IncidentID: current,
					Outcome: OutcomeOK}); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s (%d actions) in %v", path, n, time.Since(start).Round(time.Second))
	return path
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// fixtureCheckpoints reads a checkpoint every `every` audit entries, as a
// witness would have written them.
func fixtureCheckpoints(b *testing.B, path string, every int) []Checkpoint {
	b.Helper()
	bk, err := openBulk(path, false)
	if err != nil {
		b.Fatal(err)
	}
	defer bk.Close()
	res, err := bk.query(`SELECT a.id, a.hash, a.timeline_id, a.timeline_hash, (SELECT value FROM irtui_meta WHERE key = 'database_id')
		FROM audit a WHERE a.id % ? = 0 AND a.timeline_id IS NOT NULL`, every)
	if err != nil {
		b.Fatal(err)
	}
	var cps []Checkpoint
	c := res.cursor()
	for range res.rows {
		cp := Checkpoint{At: t0, Source: "bench"}
		cp.AuditID = c.int()
		cp.AuditHash = string(c.text(nil))
		cp.TimelineID = c.int()
		cp.TimelineHash = string(c.text(nil))
		cp.DatabaseID = string(c.text(nil))
		cps = append(cps, cp)
	}
	return cps
}

// entrySize is the average size of what an entry's hash covers.
func entrySize(b *testing.B, path string) int {
	b.Helper()
	bk, err := openBulk(path, false)
	if err != nil {
		b.Fatal(err)
	}
	defer bk.Close()
	res, err := bk.query(`SELECT
		(SELECT avg(17 + 8*8 + length(CAST(incident_id AS BLOB)) + length(seq) + length(at) + length(CAST(actor AS BLOB)) +
			length(CAST(kind AS BLOB)) + length(CAST(summary AS BLOB)) + length(CAST(data AS BLOB)) + length(prev_hash)) FROM timeline),
		(SELECT avg(14 + 10*8 + length(at) + length(CAST(actor AS BLOB)) + length(action) + length(COALESCE(incident_id, '')) +
			length(outcome) + length(CAST(detail AS BLOB)) + length(COALESCE(timeline_id, '')) + length(timeline_hash) +
			length(prev_hash) + length(CAST(state AS BLOB))) FROM audit)`)
	if err != nil {
		b.Fatal(err)
	}
	c := res.cursor()
	_, _, tl := c.next()
	_, _, au := c.next()
	return int((float64frombits(tl) + float64frombits(au)) / 2)
}

func BenchmarkVerify(b *testing.B) {
	n := benchActions(b)
	path := verifyFixture(b, n)
	cps := fixtureCheckpoints(b, path, 1000)
	ctx := context.Background()
	var rep Report
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var err error
		rep, err = Verify(ctx, path, VerifyOptions{Checkpoints: cps})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK || rep.Checkpoints != len(cps) {
			b.Fatalf("fixture does not verify: %+v", rep.Problems)
		}
	}
	perRun := b.Elapsed().Seconds() / float64(b.N)
	cpuPerRun := (cpuTime() - cpu0).Seconds() / float64(b.N)
	entries := float64(rep.Timeline.Entries + rep.Audit.Entries)
	b.StopTimer()
	// The floor: SHA-256 of as many bytes as an average entry's hash
	// covers, on this CPU, now.
	size := entrySize(b, path)
	buf := make([]byte, size)
	const floorRuns = 2_000_000
	start, fcpu := time.Now(), cpuTime()
	for i := range floorRuns {
		buf[i%size]++
		_ = sha256.Sum256(buf)
	}
	floor := floorRuns / time.Since(start).Seconds()
	floorCPU := (cpuTime() - fcpu).Seconds() / floorRuns
	rate := entries / perRun
	b.ReportMetric(rate, "entries/s")
	b.ReportMetric(floor, "floor-entries/s")
	b.ReportMetric(rate/floor, "of-floor")
	// On a machine shared with other work the wall-clock rates swing; the
	// CPU time spent per entry, beside SHA-256's, swings much less.
	b.ReportMetric(cpuPerRun*1e9/entries, "cpu-ns/entry")
	b.ReportMetric(floorCPU*1e9, "floor-cpu-ns/entry")
	b.ReportMetric(perRun*1e6/float64(n), "s/1M-actions")
	b.ReportMetric(float64(size), "bytes/entry")
}

func float64frombits(bits int64) float64 { return math.Float64frombits(uint64(bits)) }

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
