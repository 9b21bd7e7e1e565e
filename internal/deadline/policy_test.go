package deadline

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if !p.EUController || p.CustomerNoticeTarget != "24h" || p.TimeZone != "UTC" || p.NIS2Entity || p.SECRegistrant {
		t.Fatalf("DefaultPolicy() = %+v", p)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Fatalf("zero policy: %v", err)
	}
	if err := allOn().Validate(); err != nil {
		t.Fatalf("all regimes: %v", err)
	}
}

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want string
	}{
		{"unknown time zone", Policy{TimeZone: "Mars/Olympus"}, `time_zone: unknown time zone "Mars/Olympus"`},
		{"Local time zone", Policy{TimeZone: "Local"}, `time_zone: "Local" is not allowed`},
		{"bad customer notice target", Policy{CustomerNoticeTarget: "1 day"}, `customer_notice_target: bad duration "1 day": use a number with h, m, d, bd, w or mo`},
		{"zero customer notice target", Policy{CustomerNoticeTarget: "0h"}, `customer_notice_target: "0h" must be longer than zero`},
		{"bad holiday", Policy{Holidays: []string{"2026-12-25", "25/12/2026"}}, `holidays: holiday "25/12/2026" is not a date written YYYY-MM-DD`},
		{"bad state", Policy{USStates: []string{"CA", "california"}}, `us_states: "california" is not a two-letter upper-case state code`},
		{"lower-case state", Policy{USStates: []string{"ca"}}, `us_states: "ca"`},
		{"no such state", Policy{USStates: []string{"CA", "XX"}}, `us_states: "XX" is not the code of a US state, DC or a territory`},
		{"trust service provider without NIS2", Policy{NIS2TrustServiceProvider: true}, "nis2_trust_service_provider: needs nis2_entity: true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// Every problem is reported.
	err := Policy{TimeZone: "Nowhere", CustomerNoticeTarget: "x", Holidays: []string{"y"}}.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want three problems, got %v", err)
	}
}

func TestPolicyDecode(t *testing.T) {
	const doc = `{"eu_controller": true, "nis2_entity": true, "nis2_trust_service_provider": true,
		"dora_financial_entity": true, "sec_registrant": true, "hipaa_covered_entity": true,
		"us_states": ["CA"], "nydfs_covered_entity": true, "customer_notice_target": "12h",
		"time_zone": "Europe/Berlin", "holidays": ["2026-12-25"]}`
	var p Policy
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	want := Policy{EUController: true, NIS2Entity: true, NIS2TrustServiceProvider: true, DORAFinancialEntity: true,
		SECRegistrant: true, HIPAACoveredEntity: true, USStates: []string{"CA"}, NYDFSCoveredEntity: true,
		CustomerNoticeTarget: "12h", TimeZone: "Europe/Berlin", Holidays: []string{"2026-12-25"}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("decoded %+v", p)
	}
	// YAML and JSON keys agree, so a YAML policy file reads the same.
	rt := reflect.TypeFor[Policy]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Tag.Get("yaml") != f.Tag.Get("json") || f.Tag.Get("json") == "" {
			t.Errorf("field %s: yaml %q json %q", f.Name, f.Tag.Get("yaml"), f.Tag.Get("json"))
		}
	}
}

func TestPolicySwitches(t *testing.T) {
	p := allOn()
	for _, k := range []string{"eu_controller", "nis2_entity", "dora_financial_entity", "sec_registrant",
		"hipaa_covered_entity", "nydfs_covered_entity", "us_state:CA"} {
		if !p.On(k) {
			t.Errorf("On(%q) = false", k)
		}
	}
	for _, k := range []string{"nis2_trust_service_provider", "us_state:NY", "unknown"} {
		if p.On(k) {
			t.Errorf("On(%q) = true", k)
		}
	}
	if n := len(p.Rules()); n != len(rules) {
		t.Errorf("all regimes on: %d rules, want %d", n, len(rules))
	}
	var ids []string
	for _, r := range DefaultPolicy().Rules() {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, " ") != "gdpr-33 gdpr-33-2 gdpr-33-2-controller gdpr-33-5 gdpr-34 customer-notice" {
		t.Errorf("default policy rules %v", ids)
	}
	if loc := (Policy{TimeZone: "Nowhere"}).Location(); loc.String() != "UTC" {
		t.Errorf("bad zone location %v", loc)
	}
}

func TestBadPolicyStillEvaluates(t *testing.T) {
	p := Policy{TimeZone: "Nowhere", CustomerNoticeTarget: "soon"}
	in := fullInput(t, true)
	o, ok := find(p.Obligations(in), "customer-notice")
	if !ok || o.Allowed.Hours() != 24 || o.Due.Location().String() != "UTC" {
		t.Fatalf("customer-notice %+v", o)
	}
}
