package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// changes tracks the version of what a UI shows, and tells this process's
// watchers at once when it commits a change.
type changes struct {
	mu      sync.Mutex
	ch      chan struct{} // closed at the next change committed here
	seen    bool
	dv      int64  // PRAGMA data_version when sig was read
	sig     string // stateSignature then
	version int64
}

// isAuditWrite reports whether a statement changes nothing a UI shows: it
// only appends to the audit log, which reads and refusals do, or records
// that a process driving a drill's clock is alive (SeeDrillRun).
func isAuditWrite(query string) bool {
	return strings.HasPrefix(query, "INSERT INTO audit ") || strings.HasPrefix(query, seeDrillRunQuery)
}

// Changed returns a channel that is closed when this process next commits
// a change to what a UI shows (not a read's or a refusal's audit entry).
// Sessions in one process (irtui serve) wait on it instead of polling;
// changes by other processes show in Version only.
func (s *Store) Changed() <-chan struct{} {
	s.chg.mu.Lock()
	defer s.chg.mu.Unlock()
	return s.chg.ch
}

func (s *Store) notifyChange() {
	s.chg.mu.Lock()
	defer s.chg.mu.Unlock()
	close(s.chg.ch)
	s.chg.ch = make(chan struct{})
}

// Version is a number that changes when what a UI shows has changed, in
// this process or another: incidents and their timelines (which every
// incident and notification change extends), the directory and drills.
// Reads and refusals, which only add audit entries, leave it alone, so a
// UI that reloads when it changes does not reload because it read. It is
// cheap while nothing was committed at all (PRAGMA data_version).
func (s *Store) Version(ctx context.Context) (int64, error) {
	dv, err := s.DataVersion(ctx)
	if err != nil {
		return 0, err
	}
	s.chg.mu.Lock()
	defer s.chg.mu.Unlock()
	if s.chg.seen && dv == s.chg.dv {
		return s.chg.version, nil
	}
	sig, err := s.stateSignature(ctx)
	if err != nil {
		return 0, err
	}
	if !s.chg.seen || sig != s.chg.sig {
		s.chg.version++
	}
	s.chg.seen, s.chg.dv, s.chg.sig = true, dv, sig
	return s.chg.version, nil
}

// stateSignature sums up what a UI shows in one row: the newest timeline
// entry and drill event, and when the directory and drills last changed.
func (s *Store) stateSignature(ctx context.Context) (string, error) {
	var (
		timeline, events, items, hotwash, feedback int64
		people, customers, runs, closed            string
	)
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(MAX(id), 0) FROM timeline),
		(SELECT COALESCE(MAX(id), 0) FROM drill_events),
		(SELECT COALESCE(MAX(id), 0) FROM drill_action_items),
		(SELECT COALESCE(MAX(id), 0) FROM drill_hotwash),
		(SELECT COALESCE(MAX(id), 0) FROM drill_feedback),
		(SELECT COALESCE(MAX(updated_at), '') FROM people),
		(SELECT COALESCE(MAX(updated_at), '') FROM customers),
		(SELECT COALESCE(MAX(updated_at), '') FROM drill_runs),
		(SELECT COALESCE(MAX(closed_at), '') FROM drill_action_items)`).
		Scan(&timeline, &events, &items, &hotwash, &feedback, &people, &customers, &runs, &closed)
	if err != nil {
		return "", fmt.Errorf("read what changed: %w", err)
	}
	return fmt.Sprint(timeline, events, items, hotwash, feedback, people, customers, runs, closed), nil
}
