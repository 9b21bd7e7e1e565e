package tabletop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchScenario is a four-hour scenario with 40 injects, one every six
// minutes, each expecting an action.
func benchScenario(b *testing.B) *Scenario {
	b.Helper()
	var sb strings.Builder
	sb.WriteString(`id: bench
title: Four hours, forty injects
version: "1"
runbook: ransomware
duration: 4h
summary: Benchmark.
objectives:
  - {id: O1, text: Keep up, runbook: ransomware, capability: operational_coordination}
participants:
  - {role: incident_commander, who: On call}
injects:
`)
	steps := []string{"record-awareness", "isolate", "scope-systems", "protect-backups", "assess-exfiltration", "report-early"}
	for i := range 40 {
		fmt.Fprintf(&sb, "  - id: i%02d\n    at: %dm\n    channel: slack\n    content: Update %d from the field.\n    expect:\n", i, i*6, i)
		switch {
		case i == 0:
			sb.WriteString("      - {id: e00, action: classify, severity: SEV2, within: 15m, objective: O1}\n")
		case i <= len(steps):
			fmt.Fprintf(&sb, "      - {id: e%02d, action: step, step: %s, within: 30m, objective: O1}\n", i, steps[i-1])
		default:
			fmt.Fprintf(&sb, "      - {id: e%02d, action: manual, text: Facilitator judges update %d, within: 10m}\n", i, i)
		}
	}
	lib, _ := library(b)
	sc, probs := ParseScenario("bench.yaml", []byte(sb.String()), lib.Get, validate)
	if probs != nil {
		b.Fatal(probs)
	}
	return sc
}

// benchActions are 100 participant and facilitator actions over the four
// hours.
func benchActions(sc *Scenario) *DrillActions {
	at := func(m int) time.Duration { return time.Duration(m) * time.Minute }
	acts := []DrillAction{
		{Offset: at(1), Do: DoDeclare, Title: "Encryption on FS-02", Answers: map[string]any{"observed": "encryption",
			"systems_affected": 3.0, "domain_compromise": false, "functional_impact": "low", "recoverability": "regular",
			"exfiltration": "unknown", "data_types": []any{"personal"}}},
		{Offset: at(2), Do: DoAssign, Role: "incident_commander", Person: "alice"},
		{Offset: at(3), Do: DoAssign, Role: "scribe", Person: "bob"},
		{Offset: at(4), Do: DoAck, Role: "incident_commander", As: "alice"},
		{Offset: at(5), Do: DoApprove, Notification: "stakeholders-declared"},
	}
	steps := []string{"record-awareness", "isolate", "scope-systems", "protect-backups", "assess-exfiltration", "report-early"}
	for i, s := range steps {
		acts = append(acts, DrillAction{Offset: at(8 + i*6), Do: DoStep, Step: s, Text: "done"})
	}
	acts = append(acts, DrillAction{Offset: at(50), Do: DoSeverity, Severity: "SEV1", Text: "domain admin"})
	for i := 0; len(acts) < 94; i++ {
		acts = append(acts, DrillAction{Offset: at(52 + i*2), Do: DoNote, Text: fmt.Sprintf("status update %d", i)})
	}
	for i := range 3 {
		acts = append(acts, DrillAction{Offset: at(230 + i), Do: DoMark, Expect: fmt.Sprintf("e%02d", 10+i), Result: "met"})
	}
	acts = append(acts,
		DrillAction{Offset: at(235), Do: DoObserve, Text: "Kept up with the updates"},
		DrillAction{Offset: at(236), Do: DoRate, Objective: "O1", Rating: "S"},
		DrillAction{Offset: at(237), Do: DoClose, Text: "end of exercise"},
	)
	return &DrillActions{As: "alice", Actions: acts}
}

// BenchmarkHeadlessReplay replays a four-hour scenario with 40 injects
// and 100 actions, every action a durable SQLite transaction, and scores
// it. Budget: under 1 s.
func BenchmarkHeadlessReplay(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	sc := benchScenario(b)
	acts := benchActions(sc)
	if len(acts.Actions) != 100 || len(sc.Injects) != 40 {
		b.Fatalf("%d actions, %d injects", len(acts.Actions), len(sc.Injects))
	}
	for b.Loop() {
		r, err := Replay(ctx, f.deps, sc, acts, as("fac"), Options{Epoch: epoch})
		if err != nil {
			b.Fatal(err)
		}
		s, err := r.Score(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if s.Met+s.Late+s.Missed != 40 {
			b.Fatalf("scored %d", s.Met+s.Late+s.Missed)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/replay")
}

// BenchmarkReport builds the after-action report (and its Markdown) of
// the four-hour scenario with 40 injects and 100 actions. Budget: under
// 50 ms.
func BenchmarkReport(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	sc := benchScenario(b)
	r, err := Replay(ctx, f.deps, sc, benchActions(sc), as("fac"), Options{Epoch: epoch})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := r.Report(ctx, as("auditor"))
		if err != nil {
			b.Fatal(err)
		}
		if md := rep.Markdown(time.UTC); len(md) < 1000 {
			b.Fatalf("report of %d bytes", len(md))
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1000, "ms/report")
}
