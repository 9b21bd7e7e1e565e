package runbook

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"
)

// TemplateData is everything a notification template can see. Templates
// are data only: no functions beyond text/template's built-ins are offered,
// so a runbook cannot make a notice run code.
type TemplateData struct {
	Exercise   bool // a drill: senders prefix [EXERCISE]
	Incident   IncidentData
	Customer   CustomerData      // empty for non-customer audiences
	Obligation ObligationData    // empty when the rule serves none
	Content    map[string]string // the rule's content fields, by id
	Org        OrgData
}

// IncidentData is the part of an incident a template may show.
type IncidentData struct {
	ID            string
	Title         string
	Severity      string
	Status        string
	Category      string
	Summary       string
	Commander     string
	AwareAt       time.Time
	DeclaredAt    time.Time
	Flags         map[string]bool
	AffectedCount int // number of affected customers
}

// CustomerData is one affected customer (tenant).
type CustomerData struct {
	ID       string
	Name     string
	Language string
	Region   string
}

// ObligationData is the obligation a message serves.
type ObligationData struct {
	ID    string
	Title string
	Due   time.Time
}

// OrgData describes the organisation sending the message.
type OrgData struct {
	Name       string
	DPOContact string
	Contact    string
}

// ParseTemplate parses one template text. missingkey=error makes a
// reference to an undeclared content field fail instead of printing
// "<no value>".
func ParseTemplate(name, text string) (*template.Template, error) {
	return template.New(name).Option("missingkey=error").Parse(text)
}

// Render executes a template text with data.
func Render(name, text string, data TemplateData) (string, error) { return execute(name, text, data) }

func execute(name, text string, data any) (string, error) {
	t, err := ParseTemplate(name, text)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// SampleData is filled data used to check that a template only uses fields
// that exist: every content field the rule declares is present.
func SampleData(n Notification) TemplateData {
	content := make(map[string]string, len(n.Content))
	for _, c := range n.Content {
		content[c.ID] = "sample " + c.ID
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return TemplateData{
		Incident: IncidentData{ID: "INC-1", Title: "sample", Severity: "SEV2", Status: "open",
			Category: "other/undetermined", AwareAt: at, DeclaredAt: at, Flags: map[string]bool{}, AffectedCount: 1},
		Customer:   CustomerData{ID: "cust-1", Name: "Sample Customer", Language: "en", Region: "EU"},
		Obligation: ObligationData{ID: n.Obligation, Title: "sample obligation", Due: at},
		Content:    content,
		Org:        OrgData{Name: "Sample Org", DPOContact: "dpo@example.org", Contact: "security@example.org"},
	}
}

// checkTemplate parses and test-renders a template text, returning a short
// message for the first problem, or "" if it is fine.
func checkTemplate(name, text string, n Notification) string {
	t, err := ParseTemplate(name, text)
	if err != nil {
		return "template does not parse: " + cleanTemplateErr(err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, SampleData(n)); err != nil {
		return "template uses something that does not exist: " + cleanTemplateErr(err)
	}
	return ""
}

// cleanTemplateErr drops text/template's "template: NAME:" prefix, which
// repeats what the lint position already says.
func cleanTemplateErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "template: ")
	if i := strings.Index(s, ": "); i >= 0 && strings.Count(s[:i], ":") <= 2 {
		s = s[i+2:]
	}
	return fmt.Sprint(s)
}

// SuggestData is what a content field's suggestion can see: the incident,
// and every question's answer and every fact in words ("" while
// unanswered): choice labels, numbers with thousands separators.
type SuggestData struct {
	Incident IncidentData
	Answers  map[string]string
	Facts    map[string]string
}

// RenderSuggestion renders a content field's suggestion.
func RenderSuggestion(text string, data SuggestData) (string, error) {
	return execute("suggest", text, data)
}

// sampleSuggestData has every question and fact of rb, for lint.
func sampleSuggestData(rb *Runbook) SuggestData {
	d := SuggestData{Incident: SampleData(Notification{}).Incident, Answers: map[string]string{}, Facts: map[string]string{}}
	questions, facts := rb.SuggestNames()
	for _, q := range questions {
		d.Answers[q] = "sample " + q
	}
	for _, f := range facts {
		d.Facts[f] = "1,000"
	}
	return d
}

// SuggestNames are the question ids and fact names a suggestion can use:
// the runbook's own and those of the shared assessments it uses.
func (r *Runbook) SuggestNames() (questions, facts []string) {
	for _, q := range r.Questions {
		questions = append(questions, q.ID)
	}
	for _, f := range r.Rules.Facts {
		facts = append(facts, f.Fact)
	}
	for i := range r.Uses {
		a := r.Uses[i].shared
		if a == nil {
			continue
		}
		for _, q := range a.Questions {
			if !slices.Contains(questions, q.ID) {
				questions = append(questions, q.ID)
			}
		}
		for _, f := range a.Facts {
			if !slices.Contains(facts, f.Fact) {
				facts = append(facts, f.Fact)
			}
		}
	}
	return questions, facts
}

// checkSuggestion test-renders a suggestion, returning a short message for
// the first problem, or "".
func checkSuggestion(text string, rb *Runbook) string {
	t, err := ParseTemplate("suggest", text)
	if err != nil {
		return "suggestion does not parse: " + cleanTemplateErr(err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, sampleSuggestData(rb)); err != nil {
		return "suggestion uses something that does not exist: " + cleanTemplateErr(err)
	}
	return ""
}
