package tabletop

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAfterActionReport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := scenario(t, "ransomware-friday-night")
	acts := actionsFile(t, sc, filepath.Join("..", "..", "docs", "examples", "drills", "ransomware-friday-night.actions.yaml"))
	r, err := Replay(ctx, f.deps, sc, acts, as("facilitator"), Options{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Report(ctx, as("auditor"))
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown(time.UTC)
	for _, want := range []string{
		"# After-action report: Ransomware on a Friday night",
		"> **EXERCISE**",
		"| Drill | " + r.ID() + " |",
		"| Scenario time at T+0 | 2026-03-13 23:10 UTC |",
		"| Drill incident | " + r.IncidentID() + " (SEV1, open): [DRILL " + r.ID() + "] Mass encryption on FS-02",
		"## Exercise overview",
		"| **O1** Declare and classify the incident as SEV2 or worse",
		"Expected actions: **9 met**, **3 late**, **3 missed**",
		"| O1 | operational_coordination | **S** — Performed with some challenges | P | 3 / 0 / 0 | alice | Fast to declare at night; slow to raise the severity. |",
		"| edr-alert | Classified as an incident of SEV2 or worse (`classify-sev2`) | T+15m | T+8m | met |",
		"| ransom-note | Notice stakeholders-declared approved (`stakeholders-told`) | T+38m | T+45m | late by 7m |",
		"| press-call | A holding statement approved by the incident commander before noon",
		"met (marked by alice: Statement approved by the commander at 11:40 Saturday.)",
		"| Incident commander assigned | T+10m | T+30m | met |",
		"| customer-notice — Notify affected customers | Contract | T+0m | T+24h00m | — | escalated |",
		"| gdpr-33 — Notify the supervisory authority of a personal data breach | GDPR | T+0m | T+72h00m | — | running |",
		"| T+0m | 2026-03-13 23:10 UTC | scenario | facilitator | edr-alert (alert, from EDR console): **Critical — ransomware behaviour on FS-02.**",
		"| T+8m | 2026-03-13 23:18 UTC | team | alice | Drill: Declared SEV2 incident:",
		"| T+1h35m | 2026-03-14 00:45 UTC | team | alice | Severity raised from SEV2 to SEV1: Domain compromise (DCSync from FS-02). |",
		"- T+1h36m, alice (objective O1): The severity was raised twenty minutes after the identity alert",
		"### Strengths\n\n- The on-call manager declared within ten minutes, at night.",
		"### Areas for improvement\n\n- Nobody watched the identity provider's alerts after the first hour.",
		"| Add the identity provider's alerts to the on-call dashboard. | Identity alerts were missed during the incident. | operational_coordination | equipment | chen | 2026-06-30 | open |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}

	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Run struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"run"`
		Scenario struct {
			ID      string `json:"id"`
			Injects []struct {
				ID     string `json:"id"`
				Offset int64  `json:"offset_ns"`
			} `json:"injects"`
		} `json:"scenario"`
		Injects []struct {
			ID     string  `json:"id"`
			Offset float64 `json:"offset"`
		} `json:"injects"`
		Score struct {
			Met, Late, Missed int
			Expectations      []struct {
				ID     string   `json:"id"`
				Result string   `json:"result"`
				Due    *float64 `json:"due"`
				Done   *float64 `json:"done"`
			} `json:"expectations"`
		} `json:"score"`
		Timeline        []map[string]any `json:"timeline"`
		Observations    []map[string]any `json:"observations"`
		Strengths       []map[string]any `json:"strengths"`
		ImprovementPlan []map[string]any `json:"improvement_plan"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	if j.Run.ID != r.ID() || j.Run.Status != "finished" || j.Scenario.ID != sc.ID || j.Score.Met != 9 || j.Score.Late != 3 ||
		j.Score.Missed != 3 || len(j.Observations) != 1 || len(j.Strengths) != 2 || len(j.ImprovementPlan) != 2 || len(j.Timeline) < 20 {
		t.Fatalf("report JSON: %s", raw)
	}
	if j.Injects[1].Offset != 720 || j.Scenario.Injects[1].Offset != int64(12*time.Minute) {
		t.Errorf("inject offsets: %v s, %v ns", j.Injects[1].Offset, j.Scenario.Injects[1].Offset)
	}
	e := j.Score.Expectations[0]
	if e.ID != "classify-sev2" || e.Due == nil || *e.Due != 900 || e.Done == nil || *e.Done != 480 {
		t.Errorf("expectation JSON %+v", e)
	}
}
