package store

import (
	"context"
	"strings"
	"testing"
)

// A file written before the delivery migration is upgraded in place: the outbox
// keeps every row and id, a notice that was only exported ("sent" via
// file) becomes exported, a posted one counts its one part, and the new
// columns are there.
func TestDeliveryMigrationKeepsTheOutboxAndMarksExports(t *testing.T) {
	ctx := context.Background()
	// The schema just before the delivery migration.
	path, ids := oldFile(t, versionBefore(t, "_delivery.sql"), 1)
	db := raw(t, path)
	insert := `INSERT INTO outbox (id, incident_id, rule_id, trigger_name, audience, dest_kind, subject, body, status,
		via, idempotency_key, drafted_by, triggered_at, created_at, updated_at, slack_ts, last_error)
		VALUES (?, ?, 'r', 't', 'customers', ?, 's', 'b', ?, ?, ?, 'alice', ?, ?, ?, ?, ?)`
	now := FormatTime(t0)
	for _, r := range []struct {
		id                         int
		dest, status, via, ts, err string
	}{
		{7, "email", "sent", "file", "", ""},
		{9, "slack", "sent", "slack", "1700000000.000001", ""},
		{12, "email", "draft", "", "", ""},
		{15, "file", "sent", "file", "", "confirmed as delivered by bob"},
	} {
		mustExec(t, db, insert, r.id, ids[0], r.dest, r.status, r.via, ids[0]+"|"+r.status+r.via+r.dest, now, now, now,
			r.ts, r.err)
	}
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := s.ListNotifications(ctx, NotificationFilter{IncidentID: ids[0]})
	if err != nil || len(list) != 4 {
		t.Fatalf("%d notifications, %v", len(list), err)
	}
	want := map[int64]struct {
		status string
		parts  int
	}{7: {NoticeExported, 0}, 9: {NoticeSent, 1}, 12: {NoticeDraft, 0}, 15: {NoticeSent, 0}}
	for _, n := range list {
		w := want[n.ID]
		if n.Status != w.status || n.PartsSent != w.parts || len(n.MoreBlocks) != 0 || !n.VerifyAt.IsZero() {
			t.Errorf("#%d: %s parts %d", n.ID, n.Status, n.PartsSent)
		}
	}
	if names := indexNames(t, s); !names["outbox_to_verify"] || !names["outbox_by_status"] {
		t.Errorf("indexes: %v", names)
	}
	if rep, err := s.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains after the upgrade: %+v, %v", rep, err)
	}
}

// versionBefore is the schema version just before the migration whose file
// name ends in suffix, found by name: its number may change when
// migrations of other work land first.
func versionBefore(t *testing.T, suffix string) int {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if strings.HasSuffix(m.name, suffix) {
			return m.version - 1
		}
	}
	t.Fatalf("no migration *%s", suffix)
	return 0
}
