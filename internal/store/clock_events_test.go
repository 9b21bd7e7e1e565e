package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A file written before the clock events migration is upgraded in place:
// obligation_events keeps every row and id, and takes anchors and
// decisions, with a decision's value, afterwards.
func TestClockEventsMigrationKeepsObligationEvents(t *testing.T) {
	ctx := context.Background()
	path, ids := oldFile(t, versionBefore(t, "_clock_events.sql"), 1)
	db := raw(t, path)
	now := FormatTime(t0)
	for _, r := range []struct {
		id         int
		obligation string
		kind       string
	}{{3, "gdpr-33", ObligationSubmitted}, {8, "sec-8k-1.05", ObligationPauseStart}, {9, "sec-8k-1.05", ObligationPauseEnd}} {
		mustExec(t, db, `INSERT INTO obligation_events (id, incident_id, obligation_id, kind, at, actor, note, recorded_at)
			VALUES (?, ?, ?, ?, ?, 'alice', 'n', ?)`, r.id, ids[0], r.obligation, r.kind, now, now)
	}
	if _, err := db.Exec(`INSERT INTO obligation_events (incident_id, obligation_id, kind, at, actor, recorded_at)
		VALUES (?, 'determined', 'anchor', ?, 'alice', ?)`, ids[0], now, now); err == nil {
		t.Fatal("the old table took an anchor")
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx *Tx) error {
		for _, e := range []ObligationEvent{
			{IncidentID: ids[0], ObligationID: "determined", Kind: ObligationAnchor, At: t0, Actor: "bob", Note: "minute 3", RecordedAt: t0},
			{IncidentID: ids[0], ObligationID: "breach_risk", Kind: ObligationDecision, At: t0, Actor: "dana", Note: "why", Value: "none", RecordedAt: t0},
		} {
			if err := tx.InsertObligationEvent(ctx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = s.Update(ctx, func(tx *Tx) error {
		events, err := tx.ObligationEvents(ctx, ids[0])
		for _, e := range events {
			got = append(got, fmt.Sprintf("%d %s %s %q", e.ID, e.ObligationID, e.Kind, e.Value))
		}
		return err
	})
	want := []string{`3 gdpr-33 submitted ""`, `8 sec-8k-1.05 pause_start ""`, `9 sec-8k-1.05 pause_end ""`,
		`10 determined anchor ""`, `11 breach_risk decision "none"`}
	if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events after the upgrade (%v):\n%s\nwant\n%s", err, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if names := indexNames(t, s); !names["obligation_events_by_incident"] {
		t.Errorf("indexes: %v", names)
	}
}
