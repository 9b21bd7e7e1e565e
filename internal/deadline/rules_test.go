package deadline

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRuleTable(t *testing.T) {
	want := []string{"gdpr-33", "gdpr-33-2", "gdpr-33-2-controller", "gdpr-33-5", "gdpr-34", "uk-gdpr-33", "uk-gdpr-34",
		"nis2-early-warning", "nis2-notification", "nis2-final-report", "nis2-recipients",
		"dora-initial", "dora-intermediate", "dora-final", "sec-8k-1.05", "hipaa-individuals", "hipaa-hhs",
		"hipaa-media", "ca-1798.82", "ca-ag", "nydfs-500.17a", "nydfs-500.17c", "nydfs-500.17c-description",
		"cra-vuln-early-warning", "cra-vuln-notification", "cra-vuln-final", "cra-incident-early-warning",
		"cra-incident-notification", "cra-incident-final", "cra-users", "customer-notice"}
	if got := RuleIDs(); !slices.Equal(got, want) {
		t.Fatalf("RuleIDs() = %v\nwant %v", got, want)
	}
	policyKeys := []string{"eu_controller", "nis2_entity", "nis2_trust_service_provider", "dora_financial_entity",
		"sec_registrant", "hipaa_covered_entity", "nydfs_covered_entity", "us_state:CA", "gdpr_processor", "uk_controller",
		"nis2_managed_service_provider", "cra_manufacturer"}
	anchors := []string{EventAware, EventClassified, EventDetermined, EventDiscovered, EventClassifiedMajor, EventRansomPaid,
		EventReportable, EventMitigationAvailable}
	checkCond := func(id string, c Condition) {
		for _, k := range c.Policy {
			if !slices.Contains(policyKeys, k) {
				t.Errorf("%s: unknown policy switch %q", id, k)
			}
		}
		for _, f := range append(slices.Clone(c.Flags), c.Unless...) {
			if !slices.Contains(Flags, f) {
				t.Errorf("%s: flag %q is not in Flags", id, f)
			}
		}
		for _, th := range c.Facts {
			for _, f := range th.Facts {
				if !slices.Contains(Facts, f) {
					t.Errorf("%s: fact %q is not in Facts", id, f)
				}
			}
		}
	}
	checkTerms := func(id string, ts []Term) {
		if len(ts) == 0 {
			t.Errorf("%s: no due terms", id)
		}
		for _, tm := range ts {
			if tm.Offset.IsZero() || len(tm.Anchors) == 0 {
				t.Errorf("%s: incomplete term %+v", id, tm)
			}
			for _, a := range tm.Anchors {
				if dep, ok := strings.CutPrefix(a, "submitted:"); ok {
					if _, ok := RuleByID(dep); !ok || dep == id {
						t.Errorf("%s: chained to unknown rule %q", id, dep)
					}
				} else if !slices.Contains(anchors, a) {
					t.Errorf("%s: unknown anchor %q", id, a)
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if r.Title == "" || r.Regime == "" || r.Source == "" || r.Recipient == "" || r.Confidence == "" || len(r.Content) == 0 {
			t.Errorf("%s: missing title, regime, source, recipient, confidence or content", r.ID)
		}
		contentIDs := map[string]bool{}
		for _, c := range r.Content {
			if c.ID == "" || c.Text == "" || contentIDs[c.ID] {
				t.Errorf("%s: bad or duplicate content item %+v", r.ID, c)
			}
			contentIDs[c.ID] = true
		}
		if r.Zone != "" {
			if _, err := time.LoadLocation(r.Zone); err != nil {
				t.Errorf("%s: %v", r.ID, err)
			}
		}
		checkCond(r.ID, r.When)
		for _, c := range r.Or {
			checkCond(r.ID, c)
		}
		if r.Relief != nil && !slices.Contains([]string{"dora_relief_initial", "dora_relief_final"}, r.Relief.When) {
			t.Errorf("%s: unknown relief switch %q", r.ID, r.Relief.When)
		}
		if len(r.Branches) > 0 {
			for _, b := range r.Branches {
				checkCond(r.ID, b.When)
				checkTerms(r.ID, b.Due)
			}
		} else {
			checkTerms(r.ID, r.Due)
		}
	}
}

func TestRuleLookup(t *testing.T) {
	r, ok := RuleByID("gdpr-33")
	if !ok || r.Source == "" || len(r.Content) != 4 {
		t.Fatalf("RuleByID(gdpr-33) = %+v, %v", r, ok)
	}
	// The copy is the caller's to change.
	r.Content[0].Text = "changed"
	r.Due[0].Anchors[0] = "changed"
	again, _ := RuleByID("gdpr-33")
	if again.Content[0].Text == "changed" || again.Due[0].Anchors[0] == "changed" {
		t.Fatal("RuleByID returned the shared table")
	}
	for id, want := range map[string]bool{"customer-notice": true, "none": true, "sec-8k-1.05": true, "": false, "gdpr-99": false} {
		if got := IsObligationID(id); got != want {
			t.Errorf("IsObligationID(%q) = %v", id, got)
		}
	}
	if _, ok := RuleByID(NoObligation); ok {
		t.Error("RuleByID(none) found a rule")
	}
	if SubmittedEvent("dora-initial") != "submitted:dora-initial" {
		t.Error("SubmittedEvent")
	}
}

// TestDocs keeps docs/deadlines.md in step with the rule table.
func TestDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/deadlines.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var words []string
	words = append(words, RuleIDs()...)
	words = append(words, Flags...)
	words = append(words, Facts...)
	words = append(words, "eu_controller", "nis2_entity", "nis2_trust_service_provider", "dora_financial_entity",
		"sec_registrant", "hipaa_covered_entity", "us_states", "nydfs_covered_entity", "customer_notice_target",
		"time_zone", "holidays", "classified_major", "ransom_paid", "determined", "discovered",
		"gdpr_processor", "processor_notice_target", "uk_controller", "nis2_managed_service_provider", "cra_manufacturer",
		"member_state", "dora_entity_kind", "dora_relief_excluded", "calendars", "reportable_determined", "mitigation_available")
	words = append(words, AnchorNames()...)
	words = append(words, HolidayCalendarIDs()...)
	for _, w := range words {
		if !strings.Contains(doc, "`"+w+"`") {
			t.Errorf("docs/deadlines.md does not mention `%s`", w)
		}
	}
	if !strings.Contains(doc, "not legal advice") {
		t.Error("docs/deadlines.md lacks the not-legal-advice statement")
	}
}
