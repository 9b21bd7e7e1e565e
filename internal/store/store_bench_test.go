package store

import (
	"context"
	"testing"
)

// The floor under every action: one transaction that appends one audit
// entry. BenchmarkDurableCommit waits for the disk (synchronous=FULL), as
// every state change does; BenchmarkNoSyncCommit does not, as the audit
// entry of a read does.

func benchmarkCommit(b *testing.B, update func(*Store) func(context.Context, func(*Tx) error) error) {
	s, _ := openTest(b)
	ctx := context.Background()
	for b.Loop() {
		err := update(s)(ctx, func(tx *Tx) error {
			return tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Action: "list", Outcome: OutcomeOK})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

func BenchmarkDurableCommit(b *testing.B) {
	benchmarkCommit(b, func(s *Store) func(context.Context, func(*Tx) error) error { return s.Update })
}

func BenchmarkNoSyncCommit(b *testing.B) {
	benchmarkCommit(b, func(s *Store) func(context.Context, func(*Tx) error) error { return s.UpdateNoSync })
}
