package deadline

import (
	"fmt"
	"time"
)

// shortLabels are the names people use for the clocks, short enough for a
// list column: the regime and what is due, without the legal citation.
var shortLabels = map[string]string{
	"gdpr-33":                    "GDPR 72h to the authority",
	"gdpr-33-2":                  "GDPR notice to controllers",
	"gdpr-33-2-controller":       "Controllers' 72h (theirs)",
	"gdpr-33-5":                  "GDPR breach register",
	"uk-gdpr-33":                 "UK GDPR 72h to the ICO",
	"uk-gdpr-34":                 "UK GDPR notice to the people",
	"nis2-recipients":            "NIS2 notice to recipients",
	"gdpr-34":                    "GDPR notice to the people",
	"nis2-early-warning":         "NIS2 early warning",
	"nis2-notification":          "NIS2 notification",
	"nis2-final-report":          "NIS2 final report",
	"dora-initial":               "DORA initial notification",
	"dora-intermediate":          "DORA intermediate report",
	"dora-final":                 "DORA final report",
	"sec-8k-1.05":                "SEC Form 8-K Item 1.05",
	"hipaa-individuals":          "HIPAA notice to individuals",
	"hipaa-hhs":                  "HIPAA notice to HHS",
	"hipaa-media":                "HIPAA notice to the media",
	"ca-1798.82":                 "California notice to residents",
	"ca-ag":                      "California Attorney General",
	"nydfs-500.17a":              "NYDFS incident notice",
	"nydfs-500.17c":              "NYDFS extortion payment notice",
	"nydfs-500.17c-description":  "NYDFS payment description",
	"cra-vuln-early-warning":     "CRA vulnerability early warning",
	"cra-vuln-notification":      "CRA vulnerability notification",
	"cra-vuln-final":             "CRA vulnerability final report",
	"cra-incident-early-warning": "CRA incident early warning",
	"cra-incident-notification":  "CRA incident notification",
	"cra-incident-final":         "CRA incident final report",
	"cra-users":                  "CRA notice to the users",
	"customer-notice":            "Notice to the customers",
}

// Label is the human name of a rule's clock: a short one for the known
// rules, otherwise its title, otherwise its id. Screens show it instead of
// the id (gdpr-33-5), which stays for commands.
func Label(r Rule) string {
	if l, ok := shortLabels[r.ID]; ok {
		return l
	}
	if r.Title != "" {
		return r.Title
	}
	return r.ID
}

// LabelOf is Label for a rule id, for records that keep only the id.
func LabelOf(id string) string {
	if r, ok := RuleByID(id); ok {
		return Label(r)
	}
	if l, ok := shortLabels[id]; ok {
		return l
	}
	return id
}

// Span shows a length of time as people read a clock: the two largest
// units, rounded down, so that it never promises more time than there is
// ("2d 23h" for 71 h 59 m, "5h 12m", "42m", "<1m"). A negative span is
// shown by its size; the caller says whether it is overdue.
func Span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	days := d / (24 * time.Hour)
	h := (d % (24 * time.Hour)) / time.Hour
	m := (d % time.Hour) / time.Minute
	switch {
	case days > 0 && h > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case h > 0 && m > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case h > 0:
		return fmt.Sprintf("%dh", h)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return "<1m"
}
