package classify

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/deadline"
)

// edpbDir holds the 18 worked examples of EDPB Guidelines 01/2021 on
// examples regarding personal data breach notification (v2.0), each written
// as an answers file from the facts of the case.
const edpbDir = "../../docs/examples/edpb"

// edpbCase is one example and the Board's decision on both questions.
type edpbCase struct {
	file      string
	runbook   string
	authority bool   // notify the supervisory authority (Art. 33)
	people    bool   // communicate to the data subjects (Art. 34)
	decided   string // the factor that decides, or "default"
	notSEV1   bool   // the verdict must not be SEV1
}

var edpbCases = []edpbCase{
	{"case01-ransomware-backup-no-exfiltration.yaml", "ransomware", false, false, "not_accessed", false},
	{"case02-ransomware-no-backup.yaml", "ransomware", true, false, "long_unavailability", false},
	{"case03-ransomware-hospital.yaml", "ransomware", true, true, "serious_consequences", false},
	{"case04-ransomware-exfiltration.yaml", "ransomware", true, true, "sensitive_data_exposed", false},
	{"case05-job-application-exfiltration.yaml", "exploited-vulnerability", true, true, "long_malicious_access", false},
	{"case06-hashed-passwords.yaml", "exploited-vulnerability", false, false, "unintelligible", false},
	{"case07-credential-stuffing-bank.yaml", "exploited-vulnerability", true, true, "sensitive_data_exposed", false},
	{"case08-former-employee.yaml", "insider-access", true, false, "default", false},
	{"case09-trusted-recipient.yaml", "personal-data-breach", false, false, "returned", true},
	{"case10-stolen-encrypted-tablets.yaml", "lost-device", false, false, "unintelligible", true},
	{"case11-stolen-unencrypted-notebook.yaml", "lost-device", true, true, "large_scale", false},
	{"case12-stolen-paper-logbook.yaml", "lost-device", true, true, "sensitive_data_exposed", false},
	{"case13-swapped-orders.yaml", "personal-data-breach", false, false, "returned", true},
	{"case14-job-seekers-attachment.yaml", "personal-data-breach", true, true, "large_scale", false},
	// A tiny special-category exposure is a risk, not a high risk, and not SEV1.
	{"case15-course-list.yaml", "personal-data-breach", true, false, "default", true},
	{"case16-insurance-letter.yaml", "personal-data-breach", true, false, "default", true},
	{"case17-identity-theft.yaml", "personal-data-breach", true, true, "misuse", false},
	{"case18-email-exfiltration.yaml", "account-takeover", true, true, "sensitive_data_exposed", false},
}

// TestEDPBWorkedExamples classifies each of the Board's 18 worked examples
// and checks both decisions: whether the supervisory authority is notified
// (gdpr-33) and whether the people are told (gdpr-34), and that the
// rationale names the factor that decided.
func TestEDPBWorkedExamples(t *testing.T) {
	policy := deadline.DefaultPolicy()
	awareAt := time.Date(2026, 4, 14, 9, 30, 0, 0, time.UTC)
	files, err := filepath.Glob(filepath.Join(edpbDir, "case*.yaml"))
	if err != nil || len(files) != 18 {
		t.Fatalf("want the 18 worked examples in %s, found %d (%v)", edpbDir, len(files), err)
	}
	agree := 0
	for _, tc := range edpbCases {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			rb := bundled(t, tc.runbook)
			path := filepath.Join(edpbDir, tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), "--runbook "+tc.runbook+" ") {
				t.Errorf("%s does not say it is for runbook %s", tc.file, tc.runbook)
			}
			a, err := ParseAnswers(rb, path, data)
			if err != nil {
				t.Fatalf("does not parse:\n%v", err)
			}
			v, err := Classify(rb, a, policy, Events{Aware: awareAt}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Assumed) > 0 {
				t.Errorf("the example leaves %v unanswered; write every fact of the case", v.Assumed)
			}
			ids := ruleIDs(v.Obligations)
			gotSA, gotDS := slices.Contains(ids, "gdpr-33"), slices.Contains(ids, "gdpr-34")
			if gotSA != tc.authority || gotDS != tc.people {
				t.Errorf("notify the authority %v, tell the people %v; the Board decided %v, %v", gotSA, gotDS, tc.authority, tc.people)
			} else {
				agree++
			}
			if !v.Flags["personal_data_breach"] || !slices.Contains(ids, "gdpr-33-5") {
				t.Errorf("every case is a breach recorded in the register: flags %v, obligations %v", trueFlags(v.Flags), ids)
			}
			res := findAssessment(v, "breach-risk")
			switch {
			case tc.decided == "default" && !res.ByDefault:
				t.Errorf("decided by %v, want the default level", res.Decided)
			case tc.decided != "default" && !slices.Contains(res.Decided, tc.decided):
				t.Errorf("decided by %v (default %v), want %s", res.Decided, res.ByDefault, tc.decided)
			}
			if !slices.ContainsFunc(v.Rationale, func(r Reason) bool {
				return r.Part == "conclusion:breach_risk" && strings.HasPrefix(r.Text, res.Level+": ")
			}) {
				t.Errorf("no conclusion in the rationale")
			}
			if tc.decided != "default" && !slices.ContainsFunc(v.Rationale, func(r Reason) bool { return r.Part == "factor:"+tc.decided }) {
				t.Errorf("the rationale does not name the factor %s", tc.decided)
			}
			if tc.notSEV1 && v.Severity == "SEV1" {
				t.Errorf("severity SEV1")
			}
			if t.Failed() {
				for _, r := range v.Rationale {
					t.Logf("[%s] %s (%s)", r.Part, r.Text, strings.Join(r.Answers, ", "))
				}
			}
		})
	}
	t.Logf("agreement with the Board on both decisions: %d of %d", agree, len(edpbCases))
}

func findAssessment(v Verdict, id string) AssessmentResult {
	for _, a := range v.Assessments {
		if a.ID == id {
			return a
		}
	}
	return AssessmentResult{}
}
