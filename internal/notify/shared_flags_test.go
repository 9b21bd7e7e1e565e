package notify

import (
	"maps"
	"testing"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/incident"
)

// Notification conditions see the flags the shared breach risk assessment
// sets, not only the runbook's own: a breach we only process for customers
// (processor_only) drafts no notice to our supervisory authority.
func TestNotificationConditionsSeeSharedFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		controller bool
		want       bool
	}{
		{"our own customers' data: the authority notice is drafted", true, true},
		{"only our customers' users' data: it is the controllers' notice", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rb, _ := library(t).Get("personal-data-breach")
			a := maps.Clone(breachAnswers)
			a["controller_data"] = tc.controller
			v, err := classify.Classify(rb, a, f.cfg.Policy, classify.Events{Aware: t0, Classified: t0}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if v.Flags["processor_only"] == tc.controller {
				t.Fatalf("processor_only = %v", v.Flags["processor_only"])
			}
			d := incident.NewDeclaration(rb, v, a)
			d.Title, d.AwareAt = "Export in a public bucket", t0
			in, err := f.svc.Declare(f.ctx, as("alice"), d)
			if err != nil {
				t.Fatal(err)
			}
			got := false
			for _, n := range f.list(in.ID) {
				got = got || n.RuleID == "regulator-gdpr-33"
			}
			if got != tc.want {
				t.Errorf("regulator-gdpr-33 drafted %v, want %v", got, tc.want)
			}
		})
	}
}
