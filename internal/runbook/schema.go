// Package runbook holds the runbook schema, the strict loader that reads
// runbooks from YAML, and the linter that reports every problem in a file as
// path:line:col. A runbook is a team's incident response plan for one kind of
// security event: how to assess it, who responds, what to do, whom to tell.
package runbook

import "github.com/expr-lang/expr/vm"

// Runbook is one incident response runbook as written in YAML.
// Field tags are shared by both YAML decoders the loader uses.
type Runbook struct {
	ID           string   `yaml:"id" json:"id"`
	Title        string   `yaml:"title" json:"title"`
	Version      string   `yaml:"version" json:"version"`
	Owner        string   `yaml:"owner" json:"owner"`
	Summary      string   `yaml:"summary" json:"summary"` // Markdown
	Category     Category `yaml:"category" json:"category"`
	AttackVector string   `yaml:"attack_vector" json:"attack_vector"` // NIST SP 800-61 / CISA vector
	References   []string `yaml:"references,omitempty" json:"references,omitempty"`
	// Uses lists the shared assessments (assessments/*.yaml) the runbook
	// relies on, such as the breach risk assessment every runbook touching
	// personal data uses: their questions, rules and conclusions are defined
	// once and evaluated with the runbook's.
	Uses      []Use          `yaml:"uses,omitempty" json:"uses,omitempty"`
	Questions []Question     `yaml:"questions" json:"questions"`
	Rules     Classification `yaml:"classification" json:"classification"`
	Roles     []Role         `yaml:"roles" json:"roles"`
	Phases    []Phase        `yaml:"phases" json:"phases"`
	Notify    []Notification `yaml:"notifications,omitempty" json:"notifications,omitempty"`

	// Set by the loader, not by the file.
	Source Source `yaml:"-" json:"source"`
}

// Category is an ENISA Reference Security Incident Taxonomy class and type.
type Category struct {
	Class string `yaml:"class" json:"class"`
	Type  string `yaml:"type" json:"type"`
}

// String renders the category as "class/type".
func (c Category) String() string {
	if c.Class == "" && c.Type == "" {
		return ""
	}
	return c.Class + "/" + c.Type
}

// QuestionType is the kind of answer a triage question takes.
type QuestionType string

// The triage question types.
const (
	YesNo  QuestionType = "yesno"  // bool
	Choice QuestionType = "choice" // one of Choices, a string
	Multi  QuestionType = "multi"  // any of Choices, a list of strings
	Number QuestionType = "number" // a float64
	Text   QuestionType = "text"   // free text, a string
)

// Question is one triage question. Its ID is the name an expression uses.
type Question struct {
	ID      string       `yaml:"id" json:"id"`
	Text    string       `yaml:"text" json:"text"`
	Help    string       `yaml:"help,omitempty" json:"help,omitempty"`
	Type    QuestionType `yaml:"type" json:"type"`
	Choices []ChoiceOpt  `yaml:"choices,omitempty" json:"choices,omitempty"`
	Min     *float64     `yaml:"min,omitempty" json:"min,omitempty"`
	Max     *float64     `yaml:"max,omitempty" json:"max,omitempty"`
	// Worst is the answer assumed while the question is unanswered ("assume
	// the worst"). Defaults: yesno true; choice the last choice (choices are
	// listed from least to most severe); multi every choice; text "". A number
	// question must give worst or max.
	Worst any `yaml:"worst,omitempty" json:"worst,omitempty"`
	// From is, for a question a shared assessment asks, that assessment's
	// id. Set by the loader.
	From string `yaml:"-" json:"from,omitempty"`
}

// ChoiceOpt is one allowed answer of a choice or multi question.
type ChoiceOpt struct {
	Value string `yaml:"value" json:"value"`
	Label string `yaml:"label" json:"label"`
}

// Classification holds the rules that turn answers into a verdict.
// Every condition is an expr-lang expression over the answers.
type Classification struct {
	// Incident: the event is an incident when any rule matches.
	Incident []Rule `yaml:"incident" json:"incident"`
	// Severity: the first matching rule, in order, sets the severity; with
	// none matching the severity is Default (SEV4 if empty).
	Severity []SeverityRule `yaml:"severity" json:"severity"`
	Default  string         `yaml:"default_severity,omitempty" json:"default_severity,omitempty"`
	// Flags are named facts such as personal_data_breach that drive the
	// regulatory obligations; each is set when its condition holds.
	Flags []FlagRule `yaml:"flags,omitempty" json:"flags,omitempty"`
	// Facts are named numbers computed from the answers, such as
	// affected_people, used by thresholds (HIPAA 500 people).
	Facts []FactRule `yaml:"facts,omitempty" json:"facts,omitempty"`
}

// Rule is a condition with the reason it is shown with.
type Rule struct {
	When    string `yaml:"when" json:"when"`
	Because string `yaml:"because" json:"because"`
	prog    *vm.Program
}

// SeverityRule sets Level (SEV1..SEV4) when its condition holds.
type SeverityRule struct {
	Level   string `yaml:"level" json:"level"`
	When    string `yaml:"when" json:"when"`
	Because string `yaml:"because" json:"because"`
	prog    *vm.Program
}

// FlagRule sets Flag when its condition holds.
type FlagRule struct {
	Flag    string `yaml:"flag" json:"flag"`
	When    string `yaml:"when" json:"when"`
	Because string `yaml:"because" json:"because"`
	prog    *vm.Program
}

// FactRule computes the number Fact from the answers.
type FactRule struct {
	Fact    string `yaml:"fact" json:"fact"`
	Value   string `yaml:"value" json:"value"` // numeric expression
	Because string `yaml:"because,omitempty" json:"because,omitempty"`
	prog    *vm.Program
}

// Role is a responsibility the runbook needs someone to hold.
type Role struct {
	ID       string   `yaml:"id" json:"id"`
	Title    string   `yaml:"title" json:"title"`
	Duties   []string `yaml:"duties" json:"duties"`
	Required bool     `yaml:"required,omitempty" json:"required,omitempty"`
}

// Phase is a stage of the response with its checklist.
type Phase struct {
	ID    string `yaml:"id" json:"id"`
	Title string `yaml:"title" json:"title"`
	Steps []Step `yaml:"steps" json:"steps"`
}

// Step is one checklist item.
type Step struct {
	ID       string `yaml:"id" json:"id"`
	Title    string `yaml:"title" json:"title"`
	Body     string `yaml:"body,omitempty" json:"body,omitempty"` // Markdown
	Role     string `yaml:"role" json:"role"`
	Optional bool   `yaml:"optional,omitempty" json:"optional,omitempty"`
	// When, if set, is an expression over answers, flags and severity; the
	// step applies only when it holds.
	When string `yaml:"when,omitempty" json:"when,omitempty"`
	// Target is how soon after declaration the step should be done ("30m").
	Target string `yaml:"target,omitempty" json:"target,omitempty"`
	prog   *vm.Program
}

// Notification is a rule that drafts a message when an incident event fires.
type Notification struct {
	ID       string `yaml:"id" json:"id"`
	Audience string `yaml:"audience" json:"audience"` // stakeholders | customers | regulator | internal
	On       string `yaml:"on" json:"on"`             // trigger, see Triggers
	When     string `yaml:"when,omitempty" json:"when,omitempty"`
	// Obligation names the regulatory or contractual obligation this message
	// serves (see `irtui classify`), if any.
	Obligation string `yaml:"obligation,omitempty" json:"obligation,omitempty"`
	// Approver is the role that must approve before sending. Messages to
	// customers and regulators always need one.
	Approver string `yaml:"approver,omitempty" json:"approver,omitempty"`
	// Within is the internal target for sending after the trigger ("1h").
	Within       string              `yaml:"within,omitempty" json:"within,omitempty"`
	Content      []ContentField      `yaml:"content,omitempty" json:"content,omitempty"`
	Template     Template            `yaml:"template" json:"template"`
	Translations map[string]Template `yaml:"translations,omitempty" json:"translations,omitempty"`
	prog         *vm.Program
}

// ContentField is a piece of the notice a person fills in before approval,
// such as GDPR Art. 33(3)'s "likely consequences".
type ContentField struct {
	ID       string `yaml:"id" json:"id"`
	Label    string `yaml:"label" json:"label"`
	Help     string `yaml:"help,omitempty" json:"help,omitempty"`
	Required bool   `yaml:"required,omitempty" json:"required,omitempty"`
	// Suggest is a template (SuggestData) that prefills the field from the
	// incident and its triage answers in the notice composer, in the
	// template's own language; a person reads and edits it before it is
	// saved.
	Suggest string `yaml:"suggest,omitempty" json:"suggest,omitempty"`
}

// Template is a Go text/template pair rendered with TemplateData.
type Template struct {
	Subject string `yaml:"subject" json:"subject"`
	Body    string `yaml:"body" json:"body"`
}

// Source says where a runbook came from.
type Source struct {
	Path     string `yaml:"-" json:"path"`             // file path, "bundled:NAME" for embedded ones
	Bundled  bool   `yaml:"-" json:"bundled"`          // from the binary
	Replaces bool   `yaml:"-" json:"replaces_bundled"` // a folder runbook that overrides a bundled id
	Hash     string `yaml:"-" json:"sha256"`           // of the file's bytes
}

// Audiences a notification may address.
var Audiences = []string{"stakeholders", "customers", "regulator", "internal"}

// Triggers a notification may fire on. "flag:NAME" fires when flag NAME
// becomes set; "deadline_50", "deadline_80" and "deadline_overdue" fire as an
// obligation's clock passes half, four fifths and all of its time.
var Triggers = []string{"declared", "classified", "severity_raised", "role_assigned",
	"deadline_50", "deadline_80", "deadline_overdue", "closed", "reopened"}

// Severities from most to least severe.
var Severities = []string{"SEV1", "SEV2", "SEV3", "SEV4"}

// Phase ids the lifecycle knows, in order (NIST SP 800-61 Rev. 2).
var PhaseIDs = []string{"detection_analysis", "containment", "eradication", "recovery", "post_incident"}

// AttackVectors are the CISA/US-CERT attack vectors (NIST SP 800-61 §3.2.1).
var AttackVectors = []string{"unknown", "attrition", "web", "email_phishing", "external_removable_media",
	"impersonation_spoofing", "improper_usage", "loss_theft_equipment", "other"}

// RSIT maps each ENISA RSIT class to its types.
var RSIT = map[string][]string{
	"abusive-content":              {"spam", "harmful-speech", "violence"},
	"malicious-code":               {"infected-system", "c2-server", "malware-distribution", "malware-configuration"},
	"information-gathering":        {"scanner", "sniffing", "social-engineering"},
	"intrusion-attempts":           {"ids-alert", "brute-force", "exploit"},
	"intrusions":                   {"privileged-account-compromise", "unprivileged-account-compromise", "application-compromise", "system-compromise", "burglary"},
	"availability":                 {"dos", "ddos", "misconfiguration", "sabotage", "outage"},
	"information-content-security": {"unauthorised-information-access", "unauthorised-information-modification", "data-loss", "data-leak"},
	"fraud":                        {"unauthorised-use-of-resources", "copyright", "masquerade", "phishing"},
	"vulnerable":                   {"weak-crypto", "ddos-amplifier", "potentially-unwanted-accessible", "information-disclosure", "vulnerable-system"},
	"other":                        {"other", "undetermined"},
	"test":                         {"test"},
}
