package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// Domain tags keep a timeline hash from ever equalling an audit hash.
const (
	timelineDomain = "irtui/timeline/v1"
	auditDomain    = "irtui/audit/v1"
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
	auth                          string
	hash                          string
}

func (r auditRow) computeHash() string {
	tid := ""
	if r.timelineID != 0 {
		tid = strconv.FormatInt(r.timelineID, 10)
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
)

// Problem is the first thing found wrong in one table.
type Problem struct {
	Table  string      `json:"table"` // timeline | audit | schema
	ID     int64       `json:"id"`    // the entry named; 0 for schema problems
	Kind   ProblemKind `json:"kind"`
	Detail string      `json:"detail"`
}

func (p Problem) String() string {
	if p.ID == 0 {
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

// Report is the result of VerifyChains.
type Report struct {
	OK       bool      `json:"ok"`
	Timeline ChainHead `json:"timeline"`
	Audit    ChainHead `json:"audit"`
	// Problems holds at most one problem per chain (the first, in id
	// order), then any missing append-only triggers.
	Problems []Problem `json:"problems,omitempty"`
}

// VerifyChains recomputes both hash chains from the stored entries and
// reports the first entry of each that was altered, removed or reordered.
// It reads one consistent snapshot. An error means it could not read; a
// broken chain is a Report with OK false.
func (s *Store) VerifyChains(ctx context.Context) (Report, error) {
	var rep Report
	err := s.view(ctx, func(tx *sql.Tx) error {
		tp, head, err := verifyTimeline(ctx, tx)
		if err != nil {
			return err
		}
		rep.Timeline = head
		ap, ref, ahead, err := verifyAudit(ctx, tx, head.LastID)
		if err != nil {
			return err
		}
		rep.Audit = ahead
		if tp == nil {
			// Entries cut off the end of the timeline leave an intact
			// chain; only the audit log's references to them tell.
			tp = ref
		}
		if tp != nil {
			rep.Problems = append(rep.Problems, *tp)
		}
		if ap != nil {
			rep.Problems = append(rep.Problems, *ap)
		}
		tps, err := missingTriggers(ctx, tx)
		if err != nil {
			return err
		}
		rep.Problems = append(rep.Problems, tps...)
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("verify chains: %w", err)
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// linkProblem explains an entry whose prev_hash is not the hash of the
// entry before it, though their ids are contiguous. seqGap says the entry's
// per-incident sequence number does not follow the previous one of its
// incident (timeline only): entries of that incident went missing.
func linkProblem(ctx context.Context, tx *sql.Tx, table string, id int64, prev string, seqGap bool) (*Problem, error) {
	// Where is the entry this one was written after?
	var at int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE hash = ? ORDER BY id LIMIT 1", prev).Scan(&at)
	switch {
	case err == nil && at > id:
		return &Problem{Table: table, ID: id, Kind: Reordered,
			Detail: fmt.Sprintf("it was written after the entry now at #%d", at)}, nil
	case err == nil:
		return &Problem{Table: table, ID: at + 1, Kind: Removed,
			Detail: fmt.Sprintf("entries after #%d were removed and the rest renumbered", at)}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	case id == 1:
		return &Problem{Table: table, ID: 1, Kind: Removed,
			Detail: "the first entry does not start the chain: entries before it were removed and the rest renumbered"}, nil
	case seqGap:
		return &Problem{Table: table, ID: id, Kind: Removed,
			Detail: "the entry written here was removed and the rest renumbered"}, nil
	default:
		return &Problem{Table: table, ID: id - 1, Kind: Altered,
			Detail: fmt.Sprintf("its hash is not the one entry #%d recorded for it: it was rewritten, "+
				"or an entry after it removed and the rest renumbered", id)}, nil
	}
}

func verifyTimeline(ctx context.Context, tx *sql.Tx) (*Problem, ChainHead, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, incident_id, seq, at, actor, kind, summary, data, prev_hash, auth, hash
		FROM timeline ORDER BY id`)
	if err != nil {
		return nil, ChainHead{}, err
	}
	defer rows.Close()
	var (
		head       ChainHead
		prob       *Problem
		last       timelineRow
		brokenID   int64
		brokenPrev string
		brokenSeq  bool
		lastSeq    = map[string]int64{} // per incident
	)
	for rows.Next() {
		var r timelineRow
		if err := rows.Scan(&r.id, &r.incidentID, &r.seq, &r.at, &r.actor, &r.kind, &r.summary,
			&r.data, &r.prev, &r.auth, &r.hash); err != nil {
			return nil, head, err
		}
		head.Entries++
		head.LastID, head.Hash = r.id, r.hash
		if prob == nil && brokenID == 0 {
			var broken bool
			prob, broken = checkLink("timeline", last.id, last.hash, r.id, r.prev, r.hash, r.computeHash())
			if broken {
				// Contiguous ids, broken link: find out why after the scan.
				brokenID, brokenPrev = r.id, r.prev
				brokenSeq = r.seq != lastSeq[r.incidentID]+1
			}
		}
		lastSeq[r.incidentID] = r.seq
		last = r
	}
	if err := rows.Err(); err != nil {
		return nil, head, err
	}
	rows.Close()
	if prob == nil && brokenID != 0 {
		prob, err = linkProblem(ctx, tx, "timeline", brokenID, brokenPrev, brokenSeq)
		if err != nil {
			return nil, head, err
		}
	}
	return prob, head, nil
}

// checkLink checks one entry against the one before it. broken reports
// that only the link is wrong (ids contiguous, prev_hash not the previous
// hash); the caller must look further to say why.
func checkLink(table string, lastID int64, lastHash string, id int64, prev, stored, computed string) (p *Problem, broken bool) {
	if computed != stored {
		return &Problem{Table: table, ID: id, Kind: Altered,
			Detail: "its content does not match its hash"}, false
	}
	if id != lastID+1 {
		if id == lastID+2 {
			return &Problem{Table: table, ID: lastID + 1, Kind: Removed, Detail: "the entry is missing"}, false
		}
		return &Problem{Table: table, ID: lastID + 1, Kind: Removed,
			Detail: fmt.Sprintf("entries #%d to #%d are missing", lastID+1, id-1)}, false
	}
	return nil, prev != lastHash
}

// verifyAudit checks the audit chain, and returns separately the first
// timeline entry that an audit entry refers to but is gone or different.
func verifyAudit(ctx context.Context, tx *sql.Tx, lastTimelineID int64) (chain, ref *Problem, head ChainHead, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT a.id, a.at, a.actor, a.action, COALESCE(a.incident_id, ''),
			a.outcome, a.detail, COALESCE(a.timeline_id, 0), a.timeline_hash, a.prev_hash, a.auth, a.hash,
			t.hash
		FROM audit a LEFT JOIN timeline t ON t.id = a.timeline_id
		ORDER BY a.id`)
	if err != nil {
		return nil, nil, head, err
	}
	defer rows.Close()
	var (
		prob       *Problem
		last       auditRow
		brokenID   int64
		brokenPrev string
	)
	for rows.Next() {
		var (
			r     auditRow
			tHash sql.NullString
		)
		if err := rows.Scan(&r.id, &r.at, &r.actor, &r.action, &r.incidentID, &r.outcome, &r.detail,
			&r.timelineID, &r.timelineHash, &r.prev, &r.auth, &r.hash, &tHash); err != nil {
			return nil, nil, head, err
		}
		head.Entries++
		head.LastID, head.Hash = r.id, r.hash
		if prob == nil && brokenID == 0 {
			var broken bool
			prob, broken = checkLink("audit", last.id, last.hash, r.id, r.prev, r.hash, r.computeHash())
			if broken {
				brokenID, brokenPrev = r.id, r.prev
			}
		}
		if ref == nil && r.timelineID != 0 {
			switch {
			case !tHash.Valid && r.timelineID > lastTimelineID:
				ref = &Problem{Table: "timeline", ID: r.timelineID, Kind: Removed,
					Detail: fmt.Sprintf("audit entry #%d refers to it, but the timeline ends at #%d", r.id, lastTimelineID)}
			case !tHash.Valid:
				ref = &Problem{Table: "timeline", ID: r.timelineID, Kind: Removed,
					Detail: fmt.Sprintf("audit entry #%d refers to it, but it is not there", r.id)}
			case tHash.String != r.timelineHash:
				ref = &Problem{Table: "timeline", ID: r.timelineID, Kind: Altered,
					Detail: fmt.Sprintf("its hash differs from the one audit entry #%d recorded", r.id)}
			}
		}
		last = r
	}
	if err := rows.Err(); err != nil {
		return nil, nil, head, err
	}
	rows.Close()
	if prob == nil && brokenID != 0 {
		prob, err = linkProblem(ctx, tx, "audit", brokenID, brokenPrev, false)
		if err != nil {
			return nil, nil, head, err
		}
	}
	return prob, ref, head, nil
}

var appendOnlyTriggers = []string{"timeline_no_update", "timeline_no_delete", "audit_no_update", "audit_no_delete"}

func missingTriggers(ctx context.Context, tx *sql.Tx) ([]Problem, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_schema WHERE type = 'trigger'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		have[n] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var ps []Problem
	for _, n := range appendOnlyTriggers {
		if !have[n] {
			table, _, _ := strings.Cut(n, "_no_")
			ps = append(ps, Problem{Table: "schema", Kind: Unprotected,
				Detail: fmt.Sprintf("trigger %s is missing: %s is no longer append-only", n, table)})
		}
	}
	return ps, nil
}
