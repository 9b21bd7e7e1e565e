package store

import (
	"encoding/json"
	"slices"
	"time"
)

// Incident kinds and statuses.
const (
	KindIncident = "incident" // a declared incident
	KindEvent    = "event"    // assessed and dismissed: not an incident

	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Step statuses.
const (
	StepOpen    = "open"
	StepDone    = "done"
	StepSkipped = "skipped"
)

// Obligation event kinds.
const (
	ObligationSubmitted  = "submitted"
	ObligationPauseStart = "pause_start"
	ObligationPauseEnd   = "pause_end"
	// ObligationAnchor records a moment a clock runs from (ObligationID is
	// the event name, such as "determined").
	ObligationAnchor = "anchor"
	// ObligationDecision records a decision on a shared assessment's
	// conclusion (ObligationID is the conclusion's name, Value the level).
	ObligationDecision = "decision"
)

// Audit outcomes.
const (
	OutcomeOK      = "ok"
	OutcomeRefused = "refused"
	OutcomeFailed  = "failed"
)

// Incident is one row of the incidents table: an incident, or an event
// that was assessed and dismissed (Kind == KindEvent).
type Incident struct {
	ID              string             `json:"id"` // INC-0001
	Number          int64              `json:"number"`
	Kind            string             `json:"kind"`   // incident | event
	Status          string             `json:"status"` // open | closed
	RunbookID       string             `json:"runbook_id"`
	RunbookVersion  string             `json:"runbook_version"`
	Title           string             `json:"title"`
	Summary         string             `json:"summary,omitempty"`
	Category        string             `json:"category,omitempty"` // RSIT "class/type"
	AttackVector    string             `json:"attack_vector,omitempty"`
	Severity        string             `json:"severity"` // SEV1..SEV4
	Flags           []string           `json:"flags"`
	Answers         map[string]any     `json:"answers"`
	Facts           map[string]float64 `json:"facts"`
	Rationale       []string           `json:"rationale"`
	Roles           []string           `json:"roles"` // the runbook's role ids; empty: any role
	DismissedReason string             `json:"dismissed_reason,omitempty"`
	AwareAt         time.Time          `json:"aware_at"`
	DeclaredAt      time.Time          `json:"declared_at"`
	ClosedAt        time.Time          `json:"closed_at,omitzero"`
	UpdatedAt       time.Time          `json:"updated_at"`
	Drill           bool               `json:"drill"`
	CreatedBy       string             `json:"created_by"`
}

// Customer is a tenant whose data an incident may affect.
type Customer struct {
	ID          string    `yaml:"id" json:"id"`
	Name        string    `yaml:"name" json:"name"`
	Language    string    `yaml:"language,omitempty" json:"language"` // BCP 47, default "en"
	Region      string    `yaml:"region,omitempty" json:"region,omitempty"`
	ContactKind string    `yaml:"contact_kind" json:"contact_kind"` // slack | email
	Contact     string    `yaml:"contact" json:"contact"`           // channel or address
	UpdatedAt   time.Time `yaml:"-" json:"updated_at,omitzero"`
}

// Person is a responder who may hold roles.
type Person struct {
	ID          string   `yaml:"id" json:"id"` // handle; what records name them by
	Name        string   `yaml:"name" json:"name"`
	Email       string   `yaml:"email,omitempty" json:"email,omitempty"`
	SlackUserID string   `yaml:"slack_user_id,omitempty" json:"slack_user_id,omitempty"`
	Roles       []string `yaml:"roles,omitempty" json:"roles"` // roles they may hold
	// OSUsers are the OS accounts that act as this person on this machine.
	OSUsers []string `yaml:"os_users,omitempty" json:"os_users"`
	// SSHKeys are the public keys they connect to irtui serve with, as
	// authorized_keys lines ("ssh-ed25519 AAAA... comment").
	SSHKeys []string `yaml:"ssh_keys,omitempty" json:"ssh_keys"`
	// Fingerprints are the SHA256 fingerprints of SSHKeys, in order.
	Fingerprints []string `yaml:"-" json:"ssh_fingerprints"`
	// Permissions are what they may do beyond holding roles: admin,
	// approve, override, export (see package identity).
	Permissions []string  `yaml:"permissions,omitempty" json:"permissions"`
	UpdatedAt   time.Time `yaml:"-" json:"updated_at,omitzero"`
}

// Has reports whether the person has the permission.
func (p Person) Has(permission string) bool { return slices.Contains(p.Permissions, permission) }

// IdentityState is what decides whether a database is still being set
// up: who created it, and whether anyone in the directory can be
// authenticated yet.
type IdentityState struct {
	// Installer is the OS user who created the database ("" if unknown).
	Installer string
	// DemoCommander is, while the bundled demo directory is the one
	// loaded, its incident commander; "" otherwise.
	DemoCommander string
	// Identities reports whether some person has an OS user or an SSH key.
	Identities bool
}

// Directory is what `irtui directory import` reads.
type Directory struct {
	People    []Person   `yaml:"people" json:"people"`
	Customers []Customer `yaml:"customers" json:"customers"`
}

// Assignment is one holding of a role. The current holder is the
// assignment with a zero EndedAt.
type Assignment struct {
	ID             int64     `json:"id"`
	IncidentID     string    `json:"incident_id"`
	Role           string    `json:"role"`
	PersonID       string    `json:"person_id"`
	AssignedAt     time.Time `json:"assigned_at"`
	AssignedBy     string    `json:"assigned_by"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	EndedAt        time.Time `json:"ended_at,omitzero"`
	HandedOverTo   string    `json:"handed_over_to,omitempty"`
}

// Current reports whether the assignment is still held.
func (a Assignment) Current() bool { return a.EndedAt.IsZero() }

// Step is one checklist item of an incident and what became of it.
type Step struct {
	IncidentID string    `json:"-"`
	ID         string    `json:"id"`
	Position   int       `json:"position"`
	Phase      string    `json:"phase"`
	Title      string    `json:"title"`
	Role       string    `json:"role"`
	Required   bool      `json:"required"`
	Status     string    `json:"status"` // open | done | skipped
	Note       string    `json:"note,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	At         time.Time `json:"at,omitzero"`
}

// ObligationEvent is a submission, or the start or end of a pause, of one
// regulatory obligation's clock; or an anchor a clock runs from; or a
// decision on a risk assessment's conclusion.
type ObligationEvent struct {
	ID           int64     `json:"id"`
	IncidentID   string    `json:"incident_id"`
	ObligationID string    `json:"obligation_id"` // the rule; for an anchor the event; for a decision the conclusion
	Kind         string    `json:"kind"`          // submitted | pause_start | pause_end | anchor | decision
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	Note         string    `json:"note,omitempty"`
	Value        string    `json:"value,omitempty"` // a decision's level
	RecordedAt   time.Time `json:"recorded_at"`
}

// TimelineEntry is one append-only, hash-chained timeline entry.
type TimelineEntry struct {
	ID         int64           `json:"id"`
	IncidentID string          `json:"incident_id"`
	Seq        int64           `json:"seq"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Auth       string          `json:"auth,omitempty"` // how the actor was authenticated
	Kind       string          `json:"kind"`
	Summary    string          `json:"summary"`
	Data       json.RawMessage `json:"data"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// AuditEntry is one append-only, hash-chained audit log entry.
type AuditEntry struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	Actor        string    `json:"actor"`
	Auth         string    `json:"auth,omitempty"` // how the actor was authenticated
	Action       string    `json:"action"`         // declare, open, list, export, assign, ...
	IncidentID   string    `json:"incident_id,omitempty"`
	Outcome      string    `json:"outcome"` // ok | refused | failed
	Detail       string    `json:"detail,omitempty"`
	TimelineID   int64     `json:"timeline_id,omitempty"` // written in the same transaction
	TimelineHash string    `json:"timeline_hash,omitempty"`
	// State holds the state lines of the rows the transaction changed
	// before this entry (see docs/data-model.md); set by AppendAudit.
	State    string `json:"state,omitempty"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

// Detail is an incident with everything recorded about it.
type Detail struct {
	Incident    Incident          `json:"incident"`
	Customers   []Customer        `json:"customers"`
	Roles       []Assignment      `json:"roles"` // all assignments, oldest first
	Steps       []Step            `json:"steps"` // in runbook order
	Obligations []ObligationEvent `json:"obligations"`
	Timeline    []TimelineEntry   `json:"timeline"` // all, or the requested window
	// TimelineTotal counts all of the incident's entries, however many
	// Timeline holds.
	TimelineTotal int `json:"timeline_total"`
	// Drill is the clock of the drill run a drill incident belongs to:
	// its deadlines are read on it, never on the wall clock.
	Drill *DrillClock `json:"drill,omitempty"`
}

// ListFilter selects a page of incidents for ListPage and ListIncidents.
// A page is newest first and is read by keyset: from an incident's number,
// never by counting rows from the start, so every page costs the same.
type ListFilter struct {
	Status string // open | closed | "" for both
	Kind   string // incident | event | "" for both
	Drill  Drill
	Limit  int // 0: 50
	// After: the page of incidents numbered below After (older than it);
	// Before: the page just above Before (newer than it, still newest
	// first); Oldest: the last page. None of them: the newest page.
	After, Before int64
	Oldest        bool
	// Match keeps the incidents whose id, title, runbook, severity and
	// commander hold Match's characters in this order, ignoring case (for
	// ASCII letters), as the app's filter does.
	Match string
}

// Drill selects real incidents, drills, or both.
type Drill uint8

// Drill filters.
const (
	DrillAny     Drill = iota // both
	DrillExclude              // real incidents only
	DrillOnly                 // drills only
)
