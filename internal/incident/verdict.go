package incident

import (
	"slices"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/runbook"
)

// NewDeclaration fills a Declaration from a runbook and the verdict of its
// classification: category, severity, the flags that are set, facts,
// answers, rationale, the runbook's roles and the steps that apply. The
// caller adds the title, customers, awareness time and drill flag.
func NewDeclaration(rb *runbook.Runbook, v classify.Verdict, answers classify.Answers) Declaration {
	d := Declaration{
		RunbookID: rb.ID, RunbookVersion: rb.Version, Summary: rb.Title,
		Category: v.Category, AttackVector: v.AttackVector, Severity: v.Severity,
		Incident: v.Incident, Answers: map[string]any(answers), Facts: v.Facts,
	}
	for f, on := range v.Flags {
		if on {
			d.Flags = append(d.Flags, f)
		}
	}
	slices.Sort(d.Flags)
	for _, r := range v.Rationale {
		d.Rationale = append(d.Rationale, "["+r.Part+"] "+r.Text)
	}
	for _, r := range rb.Roles {
		d.Roles = append(d.Roles, r.ID)
	}
	for _, s := range v.Steps {
		d.Steps = append(d.Steps, StepRef{ID: s.ID, Phase: s.Phase, Title: s.Title, Role: s.Role, Required: s.Required})
	}
	return d
}
