package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Heads are what a checkpoint records: the ends of both chains and the
// newest incident, read in one snapshot, with the database's id.
type Heads struct {
	DatabaseID string    `json:"db"`
	Timeline   ChainHead `json:"timeline"`
	Audit      ChainHead `json:"audit"`
	Incident   string    `json:"incident,omitempty"` // the newest incident ("" when none)
}

// Heads reads the heads of the chains now: the last entry of each, which
// is a few page reads however long the chains are. It does not count the
// entries (ChainHead.Entries is 0): that would read both chains whole, at
// every open and every checkpoint; verify counts them.
func (s *Store) Heads(ctx context.Context) (Heads, error) {
	var h Heads
	err := s.view(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT
			COALESCE((SELECT value FROM irtui_meta WHERE key = 'database_id'), ''),
			COALESCE((SELECT id FROM timeline ORDER BY id DESC LIMIT 1), 0),
			COALESCE((SELECT hash FROM timeline ORDER BY id DESC LIMIT 1), ''),
			COALESCE((SELECT id FROM audit ORDER BY id DESC LIMIT 1), 0),
			COALESCE((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), ''),
			COALESCE((SELECT id FROM incidents ORDER BY num DESC LIMIT 1), '')`).
			Scan(&h.DatabaseID, &h.Timeline.LastID, &h.Timeline.Hash,
				&h.Audit.LastID, &h.Audit.Hash, &h.Incident)
	})
	if err != nil {
		return Heads{}, fmt.Errorf("read the heads of the chains: %w", err)
	}
	return h, nil
}

// Checkpoint makes the checkpoint of these heads at a moment (unsigned:
// package witness signs it).
func (h Heads) Checkpoint(at time.Time) Checkpoint {
	return Checkpoint{At: at.UTC(), DatabaseID: h.DatabaseID, TimelineID: h.Timeline.LastID,
		TimelineHash: h.Timeline.Hash, AuditID: h.Audit.LastID, AuditHash: h.Audit.Hash, Incident: h.Incident}
}

// ErrBehindCheckpoint: the database no longer holds what a checkpoint of
// it recorded.
var ErrBehindCheckpoint = errors.New("the database does not hold what its last checkpoint recorded")

// CheckCheckpoint checks cheaply, at open, that the entries a checkpoint
// of this database names are still there and unchanged: it catches a
// write-ahead log lost with what it held, a file swapped for an older
// copy, and entries cut off the end. When they are not, it marks the
// database damaged (writes stop until a person acts) and returns an
// error wrapping ErrBehindCheckpoint that says what is missing. The full
// check is Verify with the checkpoints.
func (s *Store) CheckCheckpoint(ctx context.Context, cp Checkpoint) error {
	var (
		dbID           string
		tlHash, auHs   sql.NullString
		tlLast, auLast int64
		incident       int
	)
	err := s.view(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT
			COALESCE((SELECT value FROM irtui_meta WHERE key = 'database_id'), ''),
			(SELECT hash FROM timeline WHERE id = ?),
			COALESCE((SELECT MAX(id) FROM timeline), 0),
			(SELECT hash FROM audit WHERE id = ?),
			COALESCE((SELECT MAX(id) FROM audit), 0),
			(SELECT count(*) FROM incidents WHERE id = ?)`, cp.TimelineID, cp.AuditID, cp.Incident).
			Scan(&dbID, &tlHash, &tlLast, &auHs, &auLast, &incident)
	})
	if err != nil {
		return fmt.Errorf("check the database against its last checkpoint: %w", err)
	}
	if dbID != cp.DatabaseID {
		return nil // another database's checkpoint: not this one's to check
	}
	var what string
	switch {
	case cp.TimelineID > tlLast:
		what = missing("timeline", tlLast+1, cp.TimelineID)
	case cp.AuditID > auLast:
		what = missing("audit", auLast+1, cp.AuditID)
	case cp.TimelineID > 0 && tlHash.String != cp.TimelineHash:
		what = fmt.Sprintf("timeline entry #%d is not the one it recorded", cp.TimelineID)
	case cp.AuditID > 0 && auHs.String != cp.AuditHash:
		what = fmt.Sprintf("audit entry #%d is not the one it recorded", cp.AuditID)
	case cp.Incident != "" && incident == 0:
		what = fmt.Sprintf("incident %s, the newest it recorded, is gone", cp.Incident)
	default:
		return nil
	}
	err = fmt.Errorf("%w: %s (%s). Committed entries were lost (a deleted write-ahead log, an older copy "+
		"of the file) or removed; check with `irtui audit verify --checkpoints`", ErrBehindCheckpoint, what, cp.name())
	s.MarkDamaged(err.Error())
	return err
}
