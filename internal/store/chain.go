package store

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
)

// Domain tags keep a timeline hash from ever equalling an audit hash.
const (
	timelineDomain = "irtui/timeline/v1"
	auditDomain    = "irtui/audit/v1"
	auditDomainV2  = "irtui/audit/v2"
)

// chainHash is SHA-256 over the domain tag and the fields, each written as
// its length (8 bytes, big-endian) followed by its bytes, so no two
// different field lists encode alike. The result is lowercase hex.
func chainHash(domain string, fields ...string) string {
	h := sha256.New()
	writeField(h, domain)
	for _, f := range fields {
		writeField(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// timelineRow and auditRow are entries as stored: times as their stored
// text, so hashing reads exactly what was written.
type timelineRow struct {
	id                                   int64
	incidentID                           string
	seq                                  int64
	at, actor, kind, summary, data, prev string
	auth                                 string
	hash                                 string
}

func (r timelineRow) computeHash() string {
	return chainHash(timelineDomain, withAuth(r.auth, r.incidentID, strconv.FormatInt(r.seq, 10), r.at,
		r.actor, r.kind, r.summary, r.data, r.prev)...)
}

// withAuth appends an entry's auth (how its actor was authenticated) to
// the fields it is hashed over, when it has one. Entries written before
// auth was recorded have none and hash as they always did; one that has it
// cannot lose it unnoticed, because its hash covers it.
func withAuth(auth string, fields ...string) []string {
	if auth == "" {
		return fields
	}
	return append(fields, auth)
}

type auditRow struct {
	id                            int64
	at, actor, action, incidentID string // incidentID "" when NULL
	outcome, detail               string
	timelineID                    int64 // 0 when NULL
	timelineHash, prev            string
	state                         string
	auth                          string
	hash                          string
}

// computeHash hashes an audit entry. An entry without state lines is
// hashed as before state was recorded (irtui/audit/v1, with auth as a
// tenth field when it has one); one with them under its own domain tag
// (irtui/audit/v2), with auth and the state as the tenth and eleventh
// fields, so that no entry can pass for one of another kind.
func (r auditRow) computeHash() string {
	tid := ""
	if r.timelineID != 0 {
		tid = strconv.FormatInt(r.timelineID, 10)
	}
	if r.state != "" {
		return chainHash(auditDomainV2, r.at, r.actor, r.action, r.incidentID, r.outcome, r.detail,
			tid, r.timelineHash, r.prev, r.auth, r.state)
	}
	return chainHash(auditDomain, withAuth(r.auth, r.at, r.actor, r.action, r.incidentID, r.outcome, r.detail,
		tid, r.timelineHash, r.prev)...)
}

// ProblemKind says what VerifyChains found wrong with an entry.
type ProblemKind string

// Problem kinds.
const (
	// Altered: the entry's content no longer matches its hash, or the hash
	// the next entry recorded for it.
	Altered ProblemKind = "altered"
	// Removed: an entry is missing (a gap in ids, a broken link, or an id
	// the audit log refers to that is no longer there).
	Removed ProblemKind = "removed"
	// Reordered: the entry is intact but not where it was written.
	Reordered ProblemKind = "reordered"
	// Unprotected: an append-only trigger was dropped.
	Unprotected ProblemKind = "unprotected"
	// Added: a state row the audit log never recorded.
	Added ProblemKind = "added"
)

// Problem is the first thing found wrong in one table.
type Problem struct {
	Table string `json:"table"` // timeline | audit | schema | checkpoint | a state table
	ID    int64  `json:"id"`    // the entry named; 0 for schema and state problems
	// Key names the row of a state table (a JSON array of its key).
	Key    string      `json:"key,omitempty"`
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

func (p Problem) String() string {
	switch {
	case p.Key != "":
		return fmt.Sprintf("%s row %s %s: %s", p.Table, p.Key, p.Kind, p.Detail)
	case p.ID == 0:
		return fmt.Sprintf("%s: %s", p.Table, p.Detail)
	}
	return fmt.Sprintf("%s entry #%d %s: %s", p.Table, p.ID, p.Kind, p.Detail)
}

// ChainHead is the newest entry of a chain. Writing it down elsewhere
// (a ticket, a chat message) lets a later verify prove that nothing was cut
// off the end since.
type ChainHead struct {
	Entries int64  `json:"entries"`
	LastID  int64  `json:"last_id"`
	Hash    string `json:"hash"`
}

// Report is the result of Verify.
type Report struct {
	OK       bool      `json:"ok"`
	Timeline ChainHead `json:"timeline"`
	Audit    ChainHead `json:"audit"`
	// Schema is the file's schema version; DatabaseID its id (from schema
	// 5 on), which checkpoints name.
	Schema     int    `json:"schema"`
	DatabaseID string `json:"database_id,omitempty"`
	// StateCovered says the audit log records the state tables (schema 6
	// on); StateRows counts the rows checked against it.
	StateCovered bool  `json:"state_covered"`
	StateRows    int64 `json:"state_rows"`
	// Checkpoints counts the checkpoints of this database held against
	// the chains; OtherCheckpoints those of other databases, left aside.
	Checkpoints      int `json:"checkpoints"`
	OtherCheckpoints int `json:"other_checkpoints,omitempty"`
	// Integrity is PRAGMA integrity_check's verdict, when it ran.
	Integrity string `json:"integrity,omitempty"`
	// Problems holds at most one problem per chain (the first, in id
	// order), one per state table, what the checkpoints name that is
	// gone or changed, then any missing append-only triggers.
	Problems []Problem `json:"problems,omitempty"`
}

var appendOnlyTriggers = []string{"timeline_no_update", "timeline_no_delete", "audit_no_update", "audit_no_delete"}
