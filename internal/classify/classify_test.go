package classify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/runbooks"
)

func bundled(t testing.TB, id string) *runbook.Runbook {
	t.Helper()
	lib, _ := runbook.Load(context.Background(), runbook.Options{Bundled: runbooks.FS(),
		Validate: runbook.ValidateOptions{Obligation: deadline.IsObligationID}})
	if len(lib.Failed) > 0 {
		t.Fatalf("bundled runbooks do not load:\n%v", lib.Failed)
	}
	rb, ok := lib.Get(id)
	if !ok {
		t.Fatalf("no bundled runbook %s", id)
	}
	return rb
}

func answers(t testing.TB, rb *runbook.Runbook, src string) Answers {
	t.Helper()
	a, err := ParseAnswers(rb, "answers.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var aware = time.Date(2026, 3, 27, 10, 0, 0, 0, time.UTC)

func ruleIDs(obs []deadline.Obligation) []string {
	var ids []string
	for _, o := range obs {
		ids = append(ids, o.Rule.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestClassifyPersonalDataBreach(t *testing.T) {
	rb := bundled(t, "personal-data-breach")
	all := deadline.DefaultPolicy()
	all.HIPAACoveredEntity = true
	all.USStates = []string{"CA"}
	tests := []struct {
		name     string
		answers  string
		policy   deadline.Policy
		incident bool
		severity string
		flags    []string
		ids      []string
	}{
		{"readable contact data of 1,200 customers' users disclosed: GDPR 33 and customer notice",
			`{personal_data: yes, exposure: disclosed, data_categories: [contact], records: 1200, encrypted: no,
			  customers_affected: yes, controller_data: yes, ongoing: no, functional_impact: none, us_health_data: no, ca_residents: 0, discovered_by: x, unavailable_hours: 0, identifiable: direct, recipients: unknown, malicious: no, undetected_days: 0,
			  used_against_people: no, consequences: limited, uk_people: no}`,
			deadline.DefaultPolicy(), true, "SEV2",
			// Our customers' users' data: we are their processor too (Art. 33(2)).
			[]string{"customer_data_affected", "personal_data_breach", "processor_breach"},
			[]string{"customer-notice", "gdpr-33", "gdpr-33-2", "gdpr-33-2-controller", "gdpr-33-5"}},
		{"encrypted laptop data: a breach, but unlikely to harm, so no authority notice",
			`{personal_data: yes, exposure: disclosed, data_categories: [contact], records: 50, encrypted: yes,
			  customers_affected: no, controller_data: yes, ongoing: no, functional_impact: none, us_health_data: no, ca_residents: 0, discovered_by: x, unavailable_hours: 0, identifiable: direct, recipients: unknown, malicious: no, undetected_days: 0,
			  used_against_people: no, consequences: limited, uk_people: no}`,
			deadline.DefaultPolicy(), true, "SEV3",
			[]string{"personal_data_breach", "unlikely_risk"},
			[]string{"gdpr-33-5"}},
		{"passwords of 20,000 people published: SEV1, high risk, data subjects told",
			`{personal_data: yes, exposure: published, data_categories: [credentials], records: 20000, encrypted: no,
			  customers_affected: no, controller_data: yes, ongoing: no, functional_impact: none, us_health_data: no, ca_residents: 0, discovered_by: x, unavailable_hours: 0, identifiable: direct, recipients: unknown, malicious: no, undetected_days: 0,
			  used_against_people: no, consequences: limited, uk_people: no}`,
			deadline.DefaultPolicy(), true, "SEV1",
			[]string{"high_risk", "personal_data_breach"},
			[]string{"gdpr-33", "gdpr-33-5", "gdpr-34"}},
		{"patients in California under HIPAA and California law",
			`{personal_data: yes, exposure: disclosed, data_categories: [contact], records: 700, encrypted: no,
			  customers_affected: no, controller_data: yes, ongoing: no, functional_impact: none, us_health_data: yes, ca_residents: 600, discovered_by: x, unavailable_hours: 0, identifiable: direct, recipients: unknown, malicious: no, undetected_days: 0,
			  used_against_people: no, consequences: limited, uk_people: no}`,
			all, true, "SEV2",
			[]string{"personal_data_breach", "phi_breach"},
			[]string{"ca-1798.82", "ca-ag", "gdpr-33", "gdpr-33-5", "hipaa-hhs", "hipaa-individuals", "hipaa-media"}},
		{"false alarm: an event that is not an incident produces no obligations",
			`{personal_data: no, exposure: none, data_categories: [], records: 0, encrypted: yes,
			  customers_affected: no, controller_data: yes, ongoing: no, functional_impact: none, us_health_data: no, ca_residents: 0, discovered_by: x, unavailable_hours: 0, identifiable: direct, recipients: unknown, malicious: no, undetected_days: 0,
			  used_against_people: no, consequences: limited, uk_people: no}`,
			all, false, "SEV4", nil, nil}, // no breach, so no risk conclusion
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Classify(rb, answers(t, rb, tc.answers), tc.policy, Events{Aware: aware}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Incident != tc.incident || v.Severity != tc.severity {
				t.Errorf("incident=%v severity=%s, want %v %s\n%+v", v.Incident, v.Severity, tc.incident, tc.severity, v.Rationale)
			}
			var flags []string
			for f, on := range v.Flags {
				if on {
					flags = append(flags, f)
				}
			}
			slices.Sort(flags)
			if !slices.Equal(flags, tc.flags) {
				t.Errorf("flags %v, want %v", flags, tc.flags)
			}
			if got := ruleIDs(v.Obligations); !slices.Equal(got, tc.ids) {
				t.Errorf("obligations %v, want %v", got, tc.ids)
			}
			if len(v.Assumed) != 0 {
				t.Errorf("assumed %v with every question answered", v.Assumed)
			}
		})
	}
}

func TestGDPRDeadlineFromAwareness(t *testing.T) {
	rb := bundled(t, "personal-data-breach")
	policy := deadline.DefaultPolicy()
	policy.TimeZone = "Europe/Amsterdam"
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	awareAt := time.Date(2026, 3, 27, 10, 0, 0, 0, ams) // Friday, before the clocks go forward
	v, err := Classify(rb, answers(t, rb, `{personal_data: yes, exposure: disclosed, encrypted: no, records: 10, data_categories: [contact]}`),
		policy, Events{Aware: awareAt, Classified: awareAt.Add(2 * time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range v.Obligations {
		if o.Rule.ID == "gdpr-33" {
			if got := deadline.Format(o.Due); got != "2026-03-30 11:00 CEST" {
				t.Fatalf("GDPR 72 h due %s, want 2026-03-30 11:00 CEST", got)
			}
			return
		}
	}
	t.Fatalf("no gdpr-33 obligation: %v", ruleIDs(v.Obligations))
}

func TestUnansweredAssumeTheWorst(t *testing.T) {
	rb := bundled(t, "personal-data-breach")
	v, err := Classify(rb, Answers{"personal_data": true}, deadline.DefaultPolicy(), Events{Aware: aware}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Worst case: exposure published, every data category, a million people.
	if !v.Incident || v.Severity != "SEV1" || !v.Flags["high_risk"] {
		t.Fatalf("worst case not assumed: %+v", v)
	}
	if slices.Contains(v.Assumed, "personal_data") || !slices.Contains(v.Assumed, "exposure") {
		t.Fatalf("assumed %v", v.Assumed)
	}
	var sev Reason
	for _, r := range v.Rationale {
		if r.Part == "severity" {
			sev = r
		}
	}
	if !slices.Contains(sev.Assumed, "exposure") || !slices.Contains(sev.Answers, "exposure=published") {
		t.Fatalf("severity reason does not say it assumed the exposure: %+v", sev)
	}
	if v.Rationale[0].Part != "assumed" || !strings.Contains(v.Rationale[0].Text, "worst case") {
		t.Fatalf("first reason should state the assumption: %+v", v.Rationale[0])
	}
	// Answering lowers the verdict.
	v2, _ := Classify(rb, Answers{"personal_data": true, "exposure": "unavailable", "data_categories": []string{"contact"},
		"records": 10.0, "encrypted": false, "ongoing": false, "functional_impact": "low",
		"unavailable_hours": 10.0, "recipients": "none", "consequences": "limited", "malicious": false,
		"used_against_people": false}, deadline.DefaultPolicy(), Events{Aware: aware}, nil)
	if v2.Severity != "SEV3" {
		t.Fatalf("answered severity %s, want SEV3", v2.Severity)
	}
}

func TestStepsFollowTheVerdict(t *testing.T) {
	rb := bundled(t, "personal-data-breach")
	v, err := Classify(rb, answers(t, rb, `{personal_data: yes, exposure: disclosed, data_categories: [contact], records: 10, encrypted: no}`),
		deadline.DefaultPolicy(), Events{Aware: aware}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range v.Steps {
		ids = append(ids, s.ID)
	}
	if slices.Contains(ids, "rotate-credentials") || slices.Contains(ids, "request-removal") || !slices.Contains(ids, "stop-exposure") {
		t.Fatalf("steps %v", ids)
	}
}

func TestParseAnswersErrors(t *testing.T) {
	rb := bundled(t, "personal-data-breach")
	tests := []struct{ name, src, want string }{
		{"unknown question", "personal_data: yes\nexposur: disclosed\n", `answers.yaml:2:1: unknown question "exposur" in runbook personal-data-breach`},
		{"value outside the choices", "exposure: leaked\n", `answers.yaml:1:1: question "exposure": expected one of none, unavailable, altered, disclosed, published, got "leaked"`},
		{"wrong type for a number", "records: many\n", `answers.yaml:1:1: question "records": "many" is not a number: write it as 12000, 12,000 or 12k`},
		{"wrong type for yes/no", "encrypted: 3\n", `answers.yaml:1:1: question "encrypted": expected true or false, got 3`},
		{"multi value outside the choices", "data_categories: [contact, dna]\n", `answers.yaml:1:1: question "data_categories": "dna" is not one of`},
		{"number below its minimum", "records: -5\n", `answers.yaml:1:1: question "records": -5 is below the minimum 0`},
		{"not a mapping", "- yes\n", `answers.yaml:1:1: expected a mapping of question ids to answers, found a list`},
		{"syntax error", "records: [1\n", `answers.yaml:1:10: sequence end token ']' not found`},
		{"answered twice", "records: 1\nrecords: 2\n", `answers.yaml:2:1: mapping key "records" already defined`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAnswers(rb, "answers.yaml", []byte(tc.src))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s...", err, tc.want)
			}
		})
	}
	a, err := ParseAnswers(rb, "a.json", []byte(`{"personal_data": "yes", "data_categories": "contact", "records": 12, "discovered_by": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if a["personal_data"] != true || !slices.Equal(a["data_categories"].([]string), []string{"contact"}) || a["records"] != 12.0 {
		t.Fatalf("JSON answers decoded wrong: %#v", a)
	}
	if _, answered := a["discovered_by"]; answered {
		t.Fatal("null should leave the question unanswered")
	}
}

func FuzzParseAnswers(f *testing.F) {
	rb := bundled(f, "personal-data-breach")
	f.Add([]byte("personal_data: yes\nexposure: disclosed\nrecords: 12\ndata_categories: [contact]\n"))
	f.Add([]byte(`{"records": 1e309, "exposure": null}`))
	f.Add([]byte("exposure: &a disclosed\nencrypted: *a\n"))
	f.Add([]byte("records: [1, [2, [3]]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAnswers(rb, "f.yaml", data)
		if err != nil {
			return
		}
		// Whatever parses must classify without error.
		if _, err := Classify(rb, a, deadline.DefaultPolicy(), Events{Aware: aware}, nil); err != nil {
			t.Fatalf("accepted answers %q fail to classify: %v", data, err)
		}
	})
}

// BenchmarkClassify measures what the TUI re-runs on every answer change:
// the verdict and every obligation under a policy with all regimes on.
// Budget: 1 ms.
func BenchmarkClassify(b *testing.B) {
	rb := bundled(b, "personal-data-breach")
	a := answers(b, rb, `{personal_data: yes, exposure: disclosed, data_categories: [contact, financial], records: 700, encrypted: no,
		customers_affected: yes, controller_data: yes, ongoing: yes, functional_impact: medium, us_health_data: yes, ca_residents: 600, discovered_by: x, unavailable_hours: 0, identifiable: direct, recipients: unknown, malicious: no, undetected_days: 0,
			  used_against_people: no, consequences: limited, uk_people: no}`)
	policy := deadline.Policy{EUController: true, NIS2Entity: true, DORAFinancialEntity: true, SECRegistrant: true,
		HIPAACoveredEntity: true, USStates: []string{"CA"}, NYDFSCoveredEntity: true, CustomerNoticeTarget: "24h", TimeZone: "Europe/Amsterdam"}
	for b.Loop() {
		v, err := Classify(rb, a, policy, Events{Aware: aware}, nil)
		if err != nil || len(v.Obligations) < 5 {
			b.Fatalf("%v %d", err, len(v.Obligations))
		}
	}
}

// BenchmarkClassifyAllRegimes classifies the ransomware example, which uses
// both shared assessments, under docs/examples/config-all-regimes.yaml
// (every regime on, NIS2 managed service provider, CRA, UK, the Dutch
// working-day calendar), with the anchors recorded that start the SEC,
// DORA, NYDFS and CRA clocks counted in business days.
func BenchmarkClassifyAllRegimes(b *testing.B) {
	cfg, err := config.Load(context.Background(), exampleConfig)
	if err != nil {
		b.Fatal(err)
	}
	rb := bundled(b, "ransomware")
	data, err := os.ReadFile(filepath.Join(examplesDir, "ransomware.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	a, err := ParseAnswers(rb, "ransomware.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	loc := cfg.Policy.Location()
	ev := Events{Aware: time.Date(2026, 4, 14, 9, 30, 0, 0, loc), Extra: map[string]time.Time{
		deadline.EventClassifiedMajor: time.Date(2026, 4, 14, 13, 0, 0, 0, loc),
		deadline.EventDetermined:      time.Date(2026, 4, 16, 18, 0, 0, 0, loc),
		deadline.EventRansomPaid:      time.Date(2026, 4, 15, 11, 0, 0, 0, loc),
		"submitted:dora-initial":      time.Date(2026, 4, 14, 15, 0, 0, 0, loc),
	}}
	for b.Loop() {
		v, err := Classify(rb, a, cfg.Policy, ev, nil)
		if err != nil || len(v.Obligations) < 15 {
			b.Fatalf("%v %d", err, len(v.Obligations))
		}
	}
}

func TestNumberWrittenAsText(t *testing.T) {
	rb := bundled(t, "personal-data-breach")
	for src, want := range map[string]float64{"records: 1e3\n": 1000, "records: \"250\"\n": 250, "{\"records\": 1e+3}": 1000} {
		a, err := ParseAnswers(rb, "a.yaml", []byte(src))
		if err != nil || a["records"] != want {
			t.Errorf("%q: %v %v", src, a, err)
		}
	}
	if _, err := ParseAnswers(rb, "a.yaml", []byte("records: lots\n")); err == nil {
		t.Error("text that is no number must be refused")
	}
}
