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
	sc := scenario(t, "ransomware-friday-night")
	r, rep := exampleReport(t, sc)
	md := rep.Markdown(time.UTC)
	for _, want := range []string{
		// Title, then the executive summary with the headline: critical
		// tasks first, named when not met.
		"# After-action report and improvement plan: Ransomware on a Friday night",
		"> **EXERCISE** — a table-top drill, " + r.ID() + ".",
		"## Executive summary\n\n**Critical tasks: 4 of 5 met (gdpr-notice-approved missed). Weighted score 74% " +
			"(critical tasks count 3 times). Expected actions: 9 met, 3 late, 3 missed.**",
		"- O1 (operational_coordination) S: Performed with some challenges",
		"- Nobody watched the identity provider's alerts after the first hour. (root cause: The identity console is not on the on-call dashboard",
		"2 corrective action(s), owned by Chen Wei (demo), Dana Moreau (demo)",
		// The exercise overview, with the dates on both clocks.
		"## 1. Exercise overview",
		"| Dates (drill clock) | T+0 is Fri 2026-03-13 23:10 UTC; play reached T+30h00m (Sun 2026-03-15 05:10 UTC), headless |",
		"| Dates (wall clock) | started 2026-04-02 09:00:00 UTC, ended 2026-04-02 09:00:00 UTC",
		"| Mission areas | response, recovery |",
		"| Core capabilities | operational_coordination, cybersecurity, public_information_and_warning, situational_assessment |",
		"| Threat or hazard | Ransomware with data theft and extortion",
		"| Sponsor | Chief Information Security Officer |",
		"| Participating organisations | Security operations, IT infrastructure, Privacy office",
		"| Points of contact | Exercise director, facilitator, Security programme, exercises@example.org;",
		"| O1 | Declare and classify the incident as SEV2 or worse",
		"### Scenario summary\n\nIt is **Friday, 23:10**.",
		// The analysis per objective and capability.
		"## 2. Analysis of core capabilities",
		"### O1: Declare and classify the incident as SEV2 or worse within 15 minutes of the alert, and have an incident commander within 30 minutes, at night.\n\n" +
			"Core capability: operational_coordination. Rating: **S** — Performed with some challenges (by alice: Fast to declare at night; slow to raise the severity.); the expected actions suggest P.",
		"| **Critical:** Classified as an incident of SEV2 or worse | T+15m | T+8m | met |",
		"- Nobody watched the identity provider's alerts after the first hour.\n  - Root cause: The identity console is not on the on-call dashboard, and no role owns it during an incident.\n" +
			"  - Observation 1 (T+1h36m, alice): The severity was raised twenty minutes after the identity alert",
		"| **Critical:** Notice regulator-gdpr-33 approved | T+25h40m | — | missed |",
		// The results: the incident closed with the run, the critical
		// tasks first, the clocks agreeing with the approvals.
		"Drill incident " + r.IncidentID() + ": SEV1, closed with the drill — [DRILL " + r.ID() + "] Mass encryption on FS-02",
		"| edr-alert | **Critical:** Classified as an incident of SEV2 or worse (`classify-sev2`) | T+15m | T+8m | met |",
		"| ransom-note | Notice stakeholders-declared approved (`stakeholders-told`) | T+38m | T+45m | late by 7m |",
		"met (marked by alice: Statement approved by the commander at 11:40 Saturday.)",
		"| Incident commander assigned | T+10m | T+30m | met |",
		"| customer-notice — Notify affected customers | Contract | T+0m | T+24h00m | T+20h00m | approved customer-notice | met |",
		"| gdpr-33 — Notify the supervisory authority of a personal data breach | GDPR | T+0m | T+72h00m | — | — | running |",
		// The timeline: the declaration once.
		"| T+0m | Fri 2026-03-13 23:10 UTC | scenario | facilitator | edr-alert (alert, from EDR console): **Critical — ransomware behaviour on FS-02.**",
		"| T+8m | Fri 2026-03-13 23:18 UTC | team | alice | Drill: Declared SEV2 incident:",
		// The improvement plan, numbered in the report, owners by name.
		"| # | Objective | Core capability | Area for improvement | Corrective action | Element (POETE) | Responsible organisation | Owner | Start | Completion | Status |",
		"| 1 | O1 Declare and classify the incident as SEV2 or worse within 15 minutes of the alert, and have an incident commander within 30 minutes, at night. | " +
			"operational_coordination | Identity alerts were missed during the incident. | Add the identity provider's alerts to the on-call dashboard. | equipment | " +
			"Security operations | Chen Wei (demo) | 2026-04-06 | 2026-06-30 | open |",
		"| 2 | O3 ",
		// Participant feedback.
		"## Appendix B: Participant feedback\n\n- alice (incident commander), 4/5: Realistic;",
		"Average rating of the exercise: 4.5 of 5 (2 rating(s)).",
		"1. T+1h36m, alice, objective O1 [improvement]: The severity was raised",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(md, "Declared SEV2 incident"); n != 1 {
		t.Errorf("the declaration is in the report %d times", n)
	}
	if strings.Contains(md, ", open)") || strings.Contains(md, "SEV1, open") {
		t.Errorf("the report says the drill incident is open after the drill finished")
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
		Summary         struct {
			Headline string `json:"headline"`
		} `json:"executive_summary"`
		Overview struct {
			Sponsor  string   `json:"sponsor"`
			Caps     []string `json:"core_capabilities"`
			Contacts []any    `json:"points_of_contact"`
		} `json:"overview"`
		Analysis []struct {
			Objective struct {
				ID string `json:"id"`
			} `json:"objective"`
			Improvements []struct {
				RootCause    string `json:"root_cause"`
				Observations []any  `json:"observations"`
			} `json:"improvements"`
		} `json:"analysis"`
		Feedback []map[string]any `json:"feedback"`
		Exercise string           `json:"exercise"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	if j.Run.ID != r.ID() || j.Run.Status != "finished" || j.Scenario.ID != sc.ID || j.Score.Met != 9 || j.Score.Late != 3 ||
		j.Score.Missed != 3 || len(j.Observations) != 1 || len(j.Strengths) != 2 || len(j.ImprovementPlan) != 2 || len(j.Timeline) < 20 ||
		!strings.HasPrefix(j.Summary.Headline, "Critical tasks: 4 of 5 met") || j.Overview.Sponsor == "" || len(j.Overview.Caps) != 4 ||
		len(j.Overview.Contacts) != 2 || len(j.Analysis) != 4 || len(j.Feedback) != 2 || !strings.HasPrefix(j.Exercise, "EXERCISE") {
		t.Fatalf("report JSON: %s", raw)
	}
	if a := j.Analysis[0]; a.Objective.ID != "O1" || len(a.Improvements) != 1 || a.Improvements[0].RootCause == "" ||
		len(a.Improvements[0].Observations) != 1 {
		t.Errorf("analysis of O1 in JSON: %+v", a)
	}
	if j.ImprovementPlan[0]["number"] != 1.0 || j.ImprovementPlan[0]["owner_name"] != "Chen Wei (demo)" ||
		j.ImprovementPlan[0]["organisation"] != "Security operations" || j.ImprovementPlan[0]["start"] != "2026-04-06" {
		t.Errorf("improvement plan in JSON: %+v", j.ImprovementPlan[0])
	}
	if j.Injects[1].Offset != 720 || j.Scenario.Injects[1].Offset != int64(12*time.Minute) {
		t.Errorf("inject offsets: %v s, %v ns", j.Injects[1].Offset, j.Scenario.Injects[1].Offset)
	}
	e := j.Score.Expectations[0]
	if e.ID != "classify-sev2" || e.Due == nil || *e.Due != 900 || e.Done == nil || *e.Done != 480 {
		t.Errorf("expectation JSON %+v", e)
	}
}

// TestReportClocksAgreeWithApprovals: in every bundled example, a clock
// whose obligation a notice serves is stopped when the expected-actions
// table says that notice was approved; the report never says a notice
// was approved while its clock says nothing was submitted.
func TestReportClocksAgreeWithApprovals(t *testing.T) {
	for _, id := range []string{"ransomware-friday-night", "customer-data-open-storage", "bec-fraudulent-payment", "chat-workspace-compromised"} {
		t.Run(id, func(t *testing.T) {
			sc := scenario(t, id)
			r, rep := exampleReport(t, sc)
			clocks := map[string]ClockScore{}
			for _, c := range rep.Score.Clocks {
				clocks[c.Obligation] = c
			}
			rb := r.Runbook()
			checked := 0
			for _, e := range rep.Score.Expectations {
				ex, _, _ := sc.Expectation(e.ID)
				if e.Action != ExpectApprove || e.Done == nil || e.Manual {
					continue
				}
				ob := ""
				if n, ok := rb.Notification(ex.Notification); ok && n.Obligation != "none" {
					ob = n.Obligation
				}
				if ob == "" && ex.Audience == "customers" {
					ob = "customer-notice"
				}
				c, ok := clocks[ob]
				if ob == "" || !ok {
					continue
				}
				checked++
				if c.Submitted == nil {
					t.Errorf("%s says %s was approved at %s, but clock %s was never submitted", e.ID, ex.Notification, e.Done, ob)
					continue
				}
				if time.Duration(*c.Submitted) > time.Duration(*e.Done) {
					t.Errorf("clock %s submitted at %s, after the approval at %s", ob, c.Submitted, e.Done)
				}
				if c.Via == "approved "+ex.Notification && *c.Submitted != *e.Done {
					t.Errorf("clock %s stopped by %s at %s; the expected action says %s", ob, ex.Notification, c.Submitted, e.Done)
				}
				if c.State == "overdue" || c.State == "escalated" {
					t.Errorf("clock %s is %s though %s was approved at %s", ob, c.State, ex.Notification, e.Done)
				}
			}
			for _, c := range rep.Score.Clocks {
				if c.Submitted != nil && c.Via == "" {
					t.Errorf("clock %s submitted at %s without saying how", c.Obligation, c.Submitted)
				}
			}
			if (id == "ransomware-friday-night" || id == "customer-data-open-storage") && checked == 0 {
				t.Errorf("no approval of a notice that serves a clock was checked")
			}
		})
	}
}

// exampleReport replays a bundled scenario with its example actions file
// (docs/examples/drills) and builds the report.
func exampleReport(t *testing.T, sc *Scenario) (*Run, *Report) {
	t.Helper()
	f := newFixture(t)
	ctx := context.Background()
	acts := actionsFile(t, sc, filepath.Join("..", "..", "docs", "examples", "drills", sc.ID+".actions.yaml"))
	r, err := Replay(ctx, f.deps, sc, acts, as("facilitator"), Options{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Report(ctx, as("auditor"))
	if err != nil {
		t.Fatal(err)
	}
	return r, rep
}
