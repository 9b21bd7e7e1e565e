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

// The worked examples in docs/examples: one realistic answers file per
// bundled runbook, classified under a configuration with every regime on.
const (
	examplesDir   = "../../docs/examples/answers"
	exampleConfig = "../../docs/examples/config-all-regimes.yaml"
)

// allRegimes loads docs/examples/config-all-regimes.yaml and checks that it
// really switches every regime on, so the examples show every clock.
func allRegimes(t *testing.T) deadline.Policy {
	t.Helper()
	cfg, err := config.Load(context.Background(), exampleConfig)
	if err != nil {
		t.Fatalf("example configuration does not load: %v", err)
	}
	p := cfg.Policy
	for _, key := range []string{"eu_controller", "nis2_entity", "dora_financial_entity", "sec_registrant",
		"hipaa_covered_entity", "us_state:CA", "nydfs_covered_entity"} {
		if !p.On(key) {
			t.Errorf("example configuration does not switch on %s", key)
		}
	}
	if p.TimeZone != "Europe/Amsterdam" {
		t.Errorf("example configuration keeps clocks in %q, the expected due times below assume Europe/Amsterdam", p.TimeZone)
	}
	return p
}

// exampleCase is the expected verdict of one example answers file, or of
// a variant of it.
type exampleCase struct {
	scenario string
	runbook  string // the example is docs/examples/answers/<runbook>.yaml
	// vary, if set, is an answers document (YAML) whose answers replace the
	// file's: the same scenario with some facts changed.
	vary     string
	incident bool
	severity string
	flags    []string            // the flags that are set, sorted
	ids      []string            // the obligation rule ids, sorted
	due      map[string]string   // due times of some obligations; "" for waiting
	facts    map[string]float64  // some facts
	via      map[string][]string // obligations that apply through other regimes' authority notices
	why      map[string]string   // a rationale part ("flag:NAME") and a phrase its text must contain
}

// examples are the expected verdicts of the example answers files, one per
// bundled runbook, classified under the all-regimes configuration, and of
// variants that prove a rule both ways: the case that must trigger it and
// the one that must not.
var examples = []exampleCase{
	{
		scenario: "business email compromise of an accounts-payable mailbox, EUR 48,500 wired",
		runbook:  "account-takeover",
		incident: true, severity: "SEV2",
		// The attacker read the mailbox: a malicious unauthorised access that
		// may result in data losses is a major DORA incident without any outage.
		flags: []string{"dora_major", "personal_data_breach"},
		ids:   []string{"dora-final", "dora-initial", "dora-intermediate", "gdpr-33", "gdpr-33-5", "nydfs-500.17a"},
		due: map[string]string{
			"gdpr-33":       "2026-04-17 09:30 CEST",
			"dora-initial":  "2026-04-14 13:30 CEST",
			"nydfs-500.17a": "2026-04-17 09:30 CEST",
		},
		via: map[string][]string{"nydfs-500.17a": {"gdpr-33", "dora-initial", "dora-intermediate", "dora-final"}},
		why: map[string]string{"flag:dora_major": "Art. 8(1)(a)"},
	},
	{
		scenario: "BEC where the attacker only sent the fraud request and no data was in reach: no DORA, no notices",
		runbook:  "account-takeover",
		vary:     "{attacker_actions: [inbox_rules, payment_fraud], mailbox_data: [none], people: 0}",
		incident: true, severity: "SEV2",
		// No personal data breach, so no risk conclusion (unlikely_risk used
		// to be set here, which meant nothing without a breach).
		flags: nil,
		ids:   nil,
	},
	{
		scenario: "a managed security service's analysts' mailbox with customers' mail compromised: significant for an MSSP",
		runbook:  "account-takeover",
		vary:     "{mailbox_data: [customer], managed_service: yes, compromised_share: 1}",
		incident: true, severity: "SEV2",
		// Implementing Regulation 2024/2690 Art. 10(c): data of the managed
		// service compromised by a suspectedly malicious action is significant,
		// whatever its scale. We only process that mail: Art. 33(2), not 33(1).
		flags: []string{"customer_data_affected", "dora_major", "nis2_msp_significant", "personal_data_breach", "processor_breach",
			"processor_only"},
		ids: []string{"customer-notice", "dora-final", "dora-initial", "dora-intermediate", "gdpr-33-2", "gdpr-33-2-controller",
			"gdpr-33-5", "nis2-early-warning", "nis2-final-report", "nis2-notification", "nis2-recipients", "nydfs-500.17a"},
		due: map[string]string{"nis2-early-warning": "2026-04-15 09:30 CEST", "gdpr-33-2": "2026-04-15 09:30 CEST"},
		why: map[string]string{"factor:malicious_compromise": "Art. 10(c)"},
	},
	{
		scenario: "HTTP flood takes online banking away from 40% of customers for three hours",
		runbook:  "ddos",
		incident: true, severity: "SEV2",
		flags: []string{"dora_major", "nis2_significant"},
		ids: []string{"dora-final", "dora-initial", "dora-intermediate", "nis2-early-warning", "nis2-final-report", "nis2-notification",
			"nis2-recipients", "nydfs-500.17a"},
		due: map[string]string{
			// Classified as major when we became aware: 4 h beats the 24 h cap.
			"dora-initial":       "2026-04-14 13:30 CEST",
			"nis2-early-warning": "2026-04-15 09:30 CEST",
			"nis2-notification":  "2026-04-17 09:30 CEST",
			"dora-intermediate":  "", // waits for the initial notification
			// NIS2 and DORA authorities must be told, so NY DFS too.
			"nydfs-500.17a": "2026-04-17 09:30 CEST",
		},
		via: map[string][]string{"nydfs-500.17a": {"nis2-early-warning", "nis2-notification", "nis2-final-report",
			"dora-initial", "dora-intermediate", "dora-final"}},
	},
	{
		scenario: "the same flood against a managed service we run for customers: 2024/2690 Art. 10(b) too",
		runbook:  "ddos",
		vary:     "managed_service: yes",
		incident: true, severity: "SEV2",
		flags: []string{"dora_major", "nis2_msp_significant", "nis2_significant"},
		ids: []string{"dora-final", "dora-initial", "dora-intermediate", "nis2-early-warning", "nis2-final-report", "nis2-notification",
			"nis2-recipients", "nydfs-500.17a"},
		why: map[string]string{"factor:limited_availability": "Art. 10(b)", "conclusion:nis2_msp": "Decided by: limited_availability"},
	},
	{
		scenario: "fake browser update loader contained on one laptop: an incident without notices",
		runbook:  "endpoint-malware",
		incident: true, severity: "SEV2",
		flags: nil,
		ids:   nil,
		facts: map[string]float64{"california_residents": 0},
	},
	{
		scenario: "infostealer took SSNs and health data of 25,000 people: high risk, HIPAA, California, DORA",
		runbook:  "endpoint-malware",
		vary: `{malware_type: [infostealer], information_impact: [privacy_breach], people: 25000,
			sensitive_data: yes, us_health_data: yes, ca_residents: 2100}`,
		incident: true, severity: "SEV1",
		flags: []string{"dora_major", "high_risk", "personal_data_breach", "phi_breach"},
		ids: []string{"ca-1798.82", "ca-ag", "dora-final", "dora-initial", "dora-intermediate", "gdpr-33", "gdpr-33-5", "gdpr-34",
			"hipaa-hhs", "hipaa-individuals", "hipaa-media", "nydfs-500.17a"},
		due:   map[string]string{"ca-1798.82": "2026-05-14 09:30 CEST", "hipaa-individuals": "2026-06-13 09:30 CEST"},
		facts: map[string]float64{"affected_people": 25000, "california_residents": 2100},
		why:   map[string]string{"flag:high_risk": "GDPR Art. 34", "flag:phi_breach": "164.402"},
	},
	{
		scenario: "infostealer took contact details of 300 people: no high risk, no PHI, no California notice",
		runbook:  "endpoint-malware",
		vary: `{malware_type: [infostealer], information_impact: [privacy_breach], people: 300,
			sensitive_data: no, us_health_data: no, ca_residents: 40}`,
		incident: true, severity: "SEV2",
		flags: []string{"dora_major", "personal_data_breach"},
		ids:   []string{"dora-final", "dora-initial", "dora-intermediate", "gdpr-33", "gdpr-33-5", "nydfs-500.17a"},
		facts: map[string]float64{"affected_people": 300, "california_residents": 0},
	},
	{
		scenario: "zero-day in the document-exchange portal, ids of 180,000 customers stolen, material",
		runbook:  "exploited-vulnerability",
		incident: true, severity: "SEV1",
		// The web shell is a suspectedly malicious access that can disrupt
		// operations: significant under 2024/2690 Art. 3(1)(e) as well.
		flags: []string{"dora_major", "high_risk", "nis2_msp_significant", "nis2_significant", "nydfs_reportable",
			"personal_data_breach", "sec_material"},
		ids: []string{"ca-1798.82", "ca-ag", "dora-final", "dora-initial", "dora-intermediate", "gdpr-33", "gdpr-33-5", "gdpr-34",
			"nis2-early-warning", "nis2-final-report", "nis2-notification", "nis2-recipients", "nydfs-500.17a", "sec-8k-1.05"},
		due: map[string]string{
			// Four business days in New York time: Wed, Thu, Fri, Mon, ending
			// at EDGAR's 17:30 cut-off.
			"sec-8k-1.05":   "2026-04-20 17:30 EDT",
			"nydfs-500.17a": "2026-04-17 09:30 CEST",
			"ca-1798.82":    "2026-05-14 09:30 CEST",
			"ca-ag":         "", // 15 days after the residents are notified
		},
		via: map[string][]string{"nydfs-500.17a": nil}, // on its own flag
	},
	{
		scenario: "the same theft while the portal kept running: still a major DORA incident",
		runbook:  "exploited-vulnerability",
		vary:     "{functional_impact: none, general_criteria: []}",
		incident: true, severity: "SEV1",
		flags: []string{"dora_major", "high_risk", "nydfs_reportable", "personal_data_breach", "sec_material"},
		ids: []string{"ca-1798.82", "ca-ag", "dora-final", "dora-initial", "dora-intermediate", "gdpr-33", "gdpr-33-5", "gdpr-34",
			"nydfs-500.17a", "sec-8k-1.05"},
		due: map[string]string{"dora-initial": "2026-04-14 13:30 CEST"},
		why: map[string]string{"flag:dora_major": "with or without a service disruption"},
	},
	{
		scenario: "exploit attempts against the unpatched portal, no success, not material: no DORA, no notices",
		runbook:  "exploited-vulnerability",
		vary:     "{exploitation: attempted, materiality: not_material, general_criteria: []}",
		incident: true, severity: "SEV3",
		flags: nil,
		ids:   nil,
		facts: map[string]float64{"california_residents": 0},
	},
	{
		scenario: "claims handler snoops on 14 members' health records",
		runbook:  "insider-access",
		incident: true, severity: "SEV3",
		flags: []string{"personal_data_breach", "phi_breach"},
		ids:   []string{"gdpr-33", "gdpr-33-5", "hipaa-hhs", "hipaa-individuals", "nydfs-500.17a"},
		due: map[string]string{
			"hipaa-individuals": "2026-06-13 09:30 CEST",
			// Fewer than 500 people: the annual log, 60 days after the year end.
			"hipaa-hhs":     "2027-03-01 23:59 CET",
			"nydfs-500.17a": "2026-04-17 09:30 CEST",
		},
		via: map[string][]string{"nydfs-500.17a": {"gdpr-33", "hipaa-hhs"}},
	},
	{
		scenario: "departing salesman takes the client contact list to a competitor: the authority, not the people",
		runbook:  "insider-access",
		vary: `{access_nature: malicious, person_status: leaving, data_categories: [personal], records: 2400,
			data_left: "yes", harmful_use: no}`,
		incident: true, severity: "SEV1",
		flags: []string{"personal_data_breach"},
		ids:   []string{"gdpr-33", "gdpr-33-5", "nydfs-500.17a"},
	},
	{
		scenario: "departing salesman sells the client contact list to fraudsters: high risk, tell the people",
		runbook:  "insider-access",
		vary: `{access_nature: malicious, person_status: leaving, data_categories: [personal], records: 2400,
			data_left: "yes", harmful_use: yes}`,
		incident: true, severity: "SEV1",
		flags: []string{"high_risk", "personal_data_breach"},
		ids:   []string{"gdpr-33", "gdpr-33-5", "gdpr-34", "nydfs-500.17a"},
		why:   map[string]string{"factor:misuse": "used against the people", "conclusion:breach_risk": "Decided by: misuse"},
	},
	{
		scenario: "departing salesman takes the HR records of colleagues: sensitive data, high risk",
		runbook:  "insider-access",
		vary: `{access_nature: malicious, person_status: leaving, data_categories: [personal, sensitive], records: 80,
			data_left: "yes", harmful_use: no}`,
		incident: true, severity: "SEV1",
		flags: []string{"high_risk", "personal_data_breach"},
		ids:   []string{"gdpr-33", "gdpr-33-5", "gdpr-34", "nydfs-500.17a"},
	},
	{
		scenario: "former employee whose account was never disabled downloads the client list: a major DORA incident",
		runbook:  "insider-access",
		vary: `{access_nature: malicious, person_status: former, data_categories: [personal], records: 2400,
			data_left: "yes", harmful_use: no, still_has_access: yes}`,
		incident: true, severity: "SEV1",
		flags: []string{"dora_major", "personal_data_breach"},
		ids:   []string{"dora-final", "dora-initial", "dora-intermediate", "gdpr-33", "gdpr-33-5", "nydfs-500.17a"},
	},
	{
		scenario: "cloud key in a public container image used to download the newsletter list",
		runbook:  "leaked-credentials",
		incident: true, severity: "SEV1",
		flags: []string{"dora_major", "personal_data_breach"},
		ids:   []string{"dora-final", "dora-initial", "dora-intermediate", "gdpr-33", "gdpr-33-5", "nydfs-500.17a"},
		due:   map[string]string{"dora-initial": "2026-04-14 13:30 CEST"},
		via:   map[string][]string{"nydfs-500.17a": {"gdpr-33", "dora-initial", "dora-intermediate", "dora-final"}},
		why:   map[string]string{"flag:dora_major": "Art. 8(1)(a)"},
	},
	{
		scenario: "the same public key, but the logs show nobody else used it: no DORA, no notices",
		runbook:  "leaked-credentials",
		vary:     "misuse: none",
		incident: true, severity: "SEV2",
		flags: nil,
		ids:   nil,
	},
	{
		scenario: "encrypted laptop with patient billing data stolen: register only, no notices",
		runbook:  "lost-device",
		incident: true, severity: "SEV3",
		flags: []string{"personal_data_breach", "unlikely_risk"},
		// Only an internal record: nothing for NY DFS to follow.
		ids: []string{"gdpr-33-5"},
	},
	{
		scenario: "public storage bucket with 3,400 customers' contact details",
		runbook:  "personal-data-breach",
		incident: true, severity: "SEV2",
		flags: []string{"personal_data_breach"},
		ids:   []string{"gdpr-33", "gdpr-33-5", "nydfs-500.17a"},
		due:   map[string]string{"gdpr-33": "2026-04-17 09:30 CEST", "gdpr-33-5": "2026-04-17 09:30 CEST", "nydfs-500.17a": "2026-04-17 09:30 CEST"},
		facts: map[string]float64{"california_residents": 0},
		via:   map[string][]string{"nydfs-500.17a": {"gdpr-33"}},
	},
	{
		scenario: "the bucket held our customers' users' data, we are only their processor: tell the customers, not the authority",
		runbook:  "personal-data-breach",
		vary:     "{customers_affected: yes, controller_data: no}",
		incident: true, severity: "SEV2",
		flags: []string{"customer_data_affected", "personal_data_breach", "processor_breach", "processor_only"},
		// Art. 33(2): a hard clock of its own at the contractual target, and
		// each controller's 72 h once we have told it.
		ids: []string{"customer-notice", "gdpr-33-2", "gdpr-33-2-controller", "gdpr-33-5"},
		due: map[string]string{"customer-notice": "2026-04-15 09:30 CEST", "gdpr-33-2": "2026-04-15 09:30 CEST",
			"gdpr-33-2-controller": ""},
		why: map[string]string{"flag:processor_only": "Art. 33(2)"},
	},
	{
		scenario: "the bucket held our own customers' and our customers' users' data: both the authority and the customers",
		runbook:  "personal-data-breach",
		vary:     "{customers_affected: yes, controller_data: yes}",
		incident: true, severity: "SEV2",
		flags: []string{"customer_data_affected", "personal_data_breach", "processor_breach"},
		ids:   []string{"customer-notice", "gdpr-33", "gdpr-33-2", "gdpr-33-2-controller", "gdpr-33-5", "nydfs-500.17a"},
	},
	{
		scenario: "contact details of 1,200 Californians: not personal information under Cal. Civ. Code 1798.82(h)",
		runbook:  "personal-data-breach",
		vary:     "ca_residents: 1200",
		incident: true, severity: "SEV2",
		flags: []string{"personal_data_breach"},
		ids:   []string{"gdpr-33", "gdpr-33-5", "nydfs-500.17a"},
		facts: map[string]float64{"california_residents": 0},
	},
	{
		scenario: "logins and passwords of 1,200 Californians: the California notices",
		runbook:  "personal-data-breach",
		vary:     "{data_categories: [contact, credentials], ca_residents: 1200}",
		incident: true, severity: "SEV2",
		flags: []string{"high_risk", "personal_data_breach"},
		ids:   []string{"ca-1798.82", "ca-ag", "gdpr-33", "gdpr-33-5", "gdpr-34", "nydfs-500.17a"},
		facts: map[string]float64{"california_residents": 1200},
	},
	{
		scenario: "readable patient ids and health data, 900 Californians: HIPAA and California",
		runbook:  "personal-data-breach",
		vary:     "{data_categories: [contact, government_id], us_health_data: yes, ca_residents: 900}",
		incident: true, severity: "SEV2",
		flags: []string{"high_risk", "personal_data_breach", "phi_breach"},
		ids: []string{"ca-1798.82", "ca-ag", "gdpr-33", "gdpr-33-5", "gdpr-34", "hipaa-hhs", "hipaa-individuals", "hipaa-media",
			"nydfs-500.17a"},
		facts: map[string]float64{"california_residents": 900},
	},
	{
		scenario: "the same data encrypted with keys that were not compromised: secured PHI, exempt in California",
		runbook:  "personal-data-breach",
		vary:     "{data_categories: [contact, government_id], us_health_data: yes, ca_residents: 900, encrypted: yes}",
		incident: true, severity: "SEV3",
		flags: []string{"personal_data_breach", "unlikely_risk"},
		ids:   []string{"gdpr-33-5"},
		facts: map[string]float64{"california_residents": 0},
	},
	{
		scenario: "double-extortion ransomware encrypts 38 servers and steals 52,000 people's data",
		runbook:  "ransomware",
		incident: true, severity: "SEV1",
		flags: []string{"customer_data_affected", "dora_major", "high_risk", "nis2_msp_significant", "nis2_significant", "nydfs_reportable",
			"personal_data_breach", "processor_breach"},
		// The business customers' data on the shares makes us their processor:
		// Art. 33(2) beside our own Art. 33 notice.
		ids: []string{"ca-1798.82", "ca-ag", "customer-notice", "dora-final", "dora-initial", "dora-intermediate", "gdpr-33",
			"gdpr-33-2", "gdpr-33-2-controller", "gdpr-33-5", "gdpr-34",
			"nis2-early-warning", "nis2-final-report", "nis2-notification", "nis2-recipients", "nydfs-500.17a"},
		due: map[string]string{"customer-notice": "2026-04-15 09:30 CEST", "gdpr-34": "2026-04-17 09:30 CEST"},
	},
	{
		scenario: "payroll provider breached, Social Security numbers of 1,150 employees taken",
		runbook:  "supplier-breach",
		incident: true, severity: "SEV1",
		flags: []string{"high_risk", "nydfs_reportable", "personal_data_breach"},
		ids:   []string{"ca-1798.82", "ca-ag", "gdpr-33", "gdpr-33-5", "gdpr-34", "nydfs-500.17a"},
	},
}

func TestExamples(t *testing.T) {
	policy := allRegimes(t)
	// Tuesday 14 April 2026, 09:30 in Amsterdam (07:30 UTC, 03:30 in New York).
	awareAt := time.Date(2026, 4, 14, 9, 30, 0, 0, policy.Location())

	for _, tc := range examples {
		t.Run(tc.scenario, func(t *testing.T) {
			rb := bundled(t, tc.runbook)
			path := filepath.Join(examplesDir, tc.runbook+".yaml")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			a, err := ParseAnswers(rb, path, data)
			if err != nil {
				t.Fatalf("example does not parse:\n%v", err)
			}
			if tc.vary != "" {
				changed, err := ParseAnswers(rb, "vary", []byte(tc.vary))
				if err != nil || len(changed) == 0 {
					t.Fatalf("variant answers do not parse: %v", err)
				}
				for id, v := range changed {
					a[id] = v
				}
			}
			v, err := Classify(rb, a, policy, Events{Aware: awareAt}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Assumed) != 0 {
				t.Errorf("the example leaves %v unanswered; answer every question", v.Assumed)
			}
			if v.Incident != tc.incident || v.Severity != tc.severity {
				t.Errorf("incident=%v severity=%s, want incident=%v severity=%s", v.Incident, v.Severity, tc.incident, tc.severity)
			}
			if got := trueFlags(v.Flags); !slices.Equal(got, tc.flags) {
				t.Errorf("flags %v, want %v", got, tc.flags)
			}
			if got := ruleIDs(v.Obligations); !slices.Equal(got, tc.ids) {
				t.Errorf("obligations %v, want %v", got, tc.ids)
			}
			for id, want := range tc.due {
				o, ok := findObligation(v.Obligations, id)
				if !ok {
					t.Errorf("%s: no such obligation", id)
					continue
				}
				got := ""
				if !o.Due.IsZero() {
					got = deadline.Format(o.Due)
				}
				if got != want {
					t.Errorf("%s due %q, want %q", id, got, want)
				}
			}
			for name, want := range tc.facts {
				if got, ok := v.Facts[name]; !ok || got != want {
					t.Errorf("fact %s = %v (set %v), want %v", name, got, ok, want)
				}
			}
			for id, want := range tc.via {
				o, ok := findObligation(v.Obligations, id)
				if !ok {
					t.Errorf("%s: no such obligation", id)
				} else if !slices.Equal(o.Via, want) {
					t.Errorf("%s applies via %v, want %v", id, o.Via, want)
				}
			}
			for part, phrase := range tc.why {
				if !slices.ContainsFunc(v.Rationale, func(r Reason) bool { return r.Part == part && strings.Contains(r.Text, phrase) }) {
					t.Errorf("no %s reason saying %q", part, phrase)
				}
			}
			if t.Failed() {
				for _, r := range v.Rationale {
					t.Logf("[%s] %s (%s)", r.Part, r.Text, strings.Join(r.Answers, ", "))
				}
			}
		})
	}
}

// TestEveryRunbookHasAnExample fails when a bundled runbook has no example
// answers file, or an example names no bundled runbook.
func TestEveryRunbookHasAnExample(t *testing.T) {
	lib, _ := runbook.Load(context.Background(), runbook.Options{Bundled: runbooks.FS(),
		Validate: runbook.ValidateOptions{Obligation: deadline.IsObligationID}})
	if len(lib.Failed) > 0 {
		t.Fatalf("bundled runbooks do not load:\n%v", lib.Failed)
	}
	if len(lib.Runbooks) == 0 {
		t.Fatal("no bundled runbooks")
	}
	for _, rb := range lib.Runbooks {
		if _, err := os.Stat(filepath.Join(examplesDir, rb.ID+".yaml")); err != nil {
			t.Errorf("runbook %s has no example answers file: add docs/examples/answers/%s.yaml", rb.ID, rb.ID)
		}
		if !slices.ContainsFunc(examples, func(e exampleCase) bool { return e.runbook == rb.ID }) {
			t.Errorf("runbook %s has no row in examples: add its expected verdict", rb.ID)
		}
	}
	files, err := filepath.Glob(filepath.Join(examplesDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no example answers files in %s", examplesDir)
	}
	for _, f := range files {
		id, ok := strings.CutSuffix(filepath.Base(f), ".yaml")
		if !ok {
			t.Errorf("%s: example answers files are named <runbook-id>.yaml", f)
			continue
		}
		if _, ok := lib.Get(id); !ok {
			t.Errorf("%s: no bundled runbook %q", f, id)
		}
	}
}

func trueFlags(flags map[string]bool) []string {
	var out []string
	for f, on := range flags {
		if on {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

func findObligation(obs []deadline.Obligation, id string) (deadline.Obligation, bool) {
	for _, o := range obs {
		if o.Rule.ID == id {
			return o, true
		}
	}
	return deadline.Obligation{}, false
}

// A recorded anchor implies its flag: the materiality determination makes
// the incident material for SEC Item 1.05 even while the triage answer still
// says "not assessed", as `irtui incident anchor` sets the flag.
func TestAnchorImpliesItsFlag(t *testing.T) {
	policy := allRegimes(t)
	rb := bundled(t, "ransomware")
	path := filepath.Join(examplesDir, "ransomware.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAnswers(rb, path, data)
	if err != nil {
		t.Fatal(err)
	}
	awareAt := time.Date(2026, 4, 14, 9, 30, 0, 0, policy.Location())
	v, err := Classify(rb, a, policy, Events{Aware: awareAt}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Flags["sec_material"] {
		t.Fatal("the example is not yet material")
	}
	// Thursday 16 April 2026 18:00 in Amsterdam is 12:00 in New York; four
	// business days later is Wednesday 22 April, 17:30 ET.
	determined := time.Date(2026, 4, 16, 18, 0, 0, 0, policy.Location())
	v, err = Classify(rb, a, policy, Events{Aware: awareAt, Extra: map[string]time.Time{deadline.EventDetermined: determined}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Flags["sec_material"] {
		t.Fatalf("flags %v lack sec_material", trueFlags(v.Flags))
	}
	o, ok := findObligation(v.Obligations, "sec-8k-1.05")
	ny, _ := time.LoadLocation("America/New_York")
	if want := time.Date(2026, 4, 22, 17, 30, 0, 0, ny); !ok || !o.Due.Equal(want) || o.Anchor != deadline.EventDetermined {
		t.Errorf("sec-8k-1.05: %v from %q, want %v from determined", o.Due, o.Anchor, want)
	}
}
