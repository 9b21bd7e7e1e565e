package deadline

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAuthorityRules pins which rules are notices to an authority, and
// which follow them: the NYDFS dependency (23 NYCRR 500.1(g)(1)) reacts to
// exactly these.
func TestAuthorityRules(t *testing.T) {
	var authority, follows []string
	for _, r := range Rules() {
		if r.Authority {
			authority = append(authority, r.ID)
		}
		if r.AlsoWhenAuthority {
			follows = append(follows, r.ID)
			if len(r.When.Policy) == 0 {
				t.Errorf("%s follows other authority notices but names no policy switch: it would apply to everyone", r.ID)
			}
		}
	}
	// The ICO, and the CSIRTs and ENISA under the CRA, are authorities; a
	// controller (gdpr-33-2) and the recipients of a service are not.
	wantAuthority := []string{"gdpr-33", "uk-gdpr-33", "nis2-early-warning", "nis2-notification", "nis2-final-report",
		"dora-initial", "dora-intermediate", "dora-final", "sec-8k-1.05", "hipaa-hhs", "ca-ag",
		"nydfs-500.17a", "nydfs-500.17c", "nydfs-500.17c-description",
		"cra-vuln-early-warning", "cra-vuln-notification", "cra-vuln-final", "cra-incident-early-warning",
		"cra-incident-notification", "cra-incident-final"}
	if !slices.Equal(authority, wantAuthority) {
		t.Errorf("authority notices %v\nwant %v", authority, wantAuthority)
	}
	if !slices.Equal(follows, []string{"nydfs-500.17a"}) {
		t.Errorf("rules that follow authority notices %v, want [nydfs-500.17a]", follows)
	}
}

// TestNYDFSFollowsOtherAuthorities: an incident that must be notified to
// any government body or supervisory authority is a cybersecurity incident
// for NY DFS too (23 NYCRR 500.1(g)(1), 500.17(a)).
func TestNYDFSFollowsOtherAuthorities(t *testing.T) {
	utc := time.UTC
	aware := at(t, utc, "2026-04-14 07:30")
	nydfsOnly := Policy{NYDFSCoveredEntity: true, TimeZone: "Europe/Amsterdam"}
	tests := []struct {
		name   string
		policy Policy
		flags  []string
		facts  map[string]float64
		via    []string // nil: nydfs-500.17a must not apply
		own    bool     // applies on its own flag (no Via)
	}{
		{"GDPR Art. 33 notice", allOn(), []string{"personal_data_breach"}, nil, []string{"gdpr-33"}, false},
		{"NIS2 significant incident: all three reports", allOn(), []string{"nis2_significant"}, nil,
			[]string{"nis2-early-warning", "nis2-notification", "nis2-final-report"}, false},
		{"DORA major incident", allOn(), []string{"dora_major"}, nil,
			[]string{"dora-initial", "dora-intermediate", "dora-final"}, false},
		{"SEC material incident", allOn(), []string{"sec_material"}, nil, []string{"sec-8k-1.05"}, false},
		{"HIPAA breach of 14 people: the annual log also goes to HHS", allOn(), []string{"phi_breach"},
			map[string]float64{"affected_people": 14}, []string{"hipaa-hhs"}, false},
		{"California breach of more than 500 residents: the Attorney General", allOn(), nil,
			map[string]float64{"california_residents": 501}, []string{"ca-ag"}, false},
		{"several regimes at once, listed in rule order", allOn(), []string{"sec_material", "personal_data_breach"}, nil,
			[]string{"gdpr-33", "sec-8k-1.05"}, false},
		{"nydfs_reportable set: applies on its own, no via", allOn(), []string{"nydfs_reportable", "personal_data_breach"}, nil, nil, true},

		{"breach unlikely to result in a risk: register only", allOn(), []string{"personal_data_breach", "unlikely_risk"}, nil, nil, false},
		{"only a processor: the controller notifies", allOn(), []string{"personal_data_breach", "processor_only", "customer_data_affected"}, nil, nil, false},
		{"data subjects only (soft)", allOn(), []string{"high_risk"}, nil, nil, false},
		{"customers only (soft)", allOn(), []string{"customer_data_affected"}, nil, nil, false},
		{"California residents' notice, 500 or fewer: people, not an authority", allOn(), nil,
			map[string]float64{"california_residents": 500}, nil, false},
		{"NYDFS's own ransom payment notice does not count", allOn(), []string{"ransom_paid"}, nil, nil, false},
		{"not a covered entity", Policy{EUController: true, TimeZone: "Europe/Amsterdam"}, []string{"personal_data_breach"}, nil, nil, false},
		{"the other regime is not in the policy", nydfsOnly, []string{"personal_data_breach", "nis2_significant", "dora_major"}, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Incident: true, Flags: flagSet(tt.flags...), Facts: tt.facts,
				Events: map[string]time.Time{"aware": aware, "classified": aware}}
			o, ok := find(tt.policy.Obligations(in), "nydfs-500.17a")
			switch {
			case tt.own:
				if !ok || len(o.Via) != 0 {
					t.Fatalf("nydfs-500.17a applies %v via %v, want it on its own flag", ok, o.Via)
				}
			case tt.via == nil:
				if ok {
					t.Fatalf("nydfs-500.17a applies via %v, want it not to apply", o.Via)
				}
				return
			default:
				if !ok {
					t.Fatalf("nydfs-500.17a does not apply, want it via %v", tt.via)
				}
				if !slices.Equal(o.Via, tt.via) {
					t.Errorf("via %v, want %v", o.Via, tt.via)
				}
				if !slices.ContainsFunc(o.Notes, func(n string) bool {
					return strings.Contains(n, "must also be notified to other authorities ("+strings.Join(tt.via, ", ")+")") &&
						strings.Contains(n, "nydfs_reportable is not set")
				}) {
					t.Errorf("notes %q do not explain the dependency", o.Notes)
				}
			}
			// The clock is the rule's own: 72 h from determination, else classification
			// (the policies keep it in Amsterdam).
			if got := Format(o.Due); got != "2026-04-17 09:30 CEST" || o.Anchor != "classified" || !o.Fallback {
				t.Errorf("due %s from %s (fallback %v), want 2026-04-17 09:30 CEST (72 h) from classified", got, o.Anchor, o.Fallback)
			}
		})
	}
}

// TestProcessorOnly: when we only process the data for our customers, the
// authority notice and the communication to the people are the
// controllers' duties (GDPR Art. 33(1), 34); we tell each controller
// (Art. 33(2)) and keep the register entry.
func TestProcessorOnly(t *testing.T) {
	aware := at(t, time.UTC, "2026-04-14 07:30")
	ids := func(flags ...string) []string {
		var out []string
		for _, o := range DefaultPolicy().Obligations(Input{Incident: true, Flags: flagSet(flags...),
			Events: map[string]time.Time{"aware": aware}}) {
			out = append(out, o.Rule.ID)
		}
		slices.Sort(out)
		return out
	}
	if got, want := ids("personal_data_breach", "high_risk", "customer_data_affected"),
		[]string{"customer-notice", "gdpr-33", "gdpr-33-5", "gdpr-34"}; !slices.Equal(got, want) {
		t.Errorf("controller: %v, want %v", got, want)
	}
	if got, want := ids("personal_data_breach", "high_risk", "customer_data_affected", "processor_only"),
		[]string{"customer-notice", "gdpr-33-5"}; !slices.Equal(got, want) {
		t.Errorf("processor only: %v, want %v", got, want)
	}
}

// TestAuthorityDocs keeps the "Authority notice" lines of docs/deadlines.md
// in step with Rule.Authority.
func TestAuthorityDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/deadlines.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range Rules() {
		head := "### `" + r.ID + "`:"
		i := strings.Index(doc, head)
		if i < 0 {
			t.Errorf("docs/deadlines.md has no section %s", head)
			continue
		}
		section := doc[i+len(head):]
		if j := strings.Index(section, "\n### "); j >= 0 {
			section = section[:j]
		}
		if got := strings.Contains(section, "- **Authority notice:** yes"); got != r.Authority {
			t.Errorf("docs/deadlines.md section %s says authority notice %v, the rule says %v", r.ID, got, r.Authority)
		}
		if r.AlsoWhenAuthority && !strings.Contains(section, "#authority-notices-and-nydfs") {
			t.Errorf("docs/deadlines.md section %s does not explain that it follows other authority notices", r.ID)
		}
	}
}
