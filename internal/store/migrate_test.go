package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// oldFile makes a database as an irtui of schema version `version` left
// it: the migrations up to it, and a history written as that irtui wrote
// it (incidents with a customer, steps and a role, their timeline, and
// audit entries without state lines). It returns the path and the ids of
// the incidents.
func oldFile(t *testing.T, version, incidents int) (string, []string) {
	t.Helper()
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "irtui.db")
	db := raw(t, path)
	db.SetMaxOpenConns(1)
	mustExec(t, db, "PRAGMA journal_mode = WAL")
	for _, m := range ms[:version] {
		mustExec(t, db, m.sql)
	}
	mustExec(t, db, fmt.Sprintf("PRAGMA user_version = %d", version))
	mustExec(t, db, fmt.Sprintf("PRAGMA application_id = %d", applicationID))
	at := FormatTime(t0)
	mustExec(t, db, "INSERT INTO people (id, name, roles, updated_at) VALUES ('alice', 'Alice', '[\"incident_commander\"]', ?)", at)
	mustExec(t, db, "INSERT INTO customers (id, name, contact_kind, contact, updated_at) VALUES ('acme', 'Acme', 'email', 'sec@acme.test', ?)", at)
	var tl, au struct {
		id   int64
		hash string
	}
	var ids []string
	for i := 1; i <= incidents; i++ {
		id := IncidentID(int64(i))
		ids = append(ids, id)
		mustExec(t, db, `INSERT INTO incidents (num, id, kind, status, runbook_id, runbook_version, title, severity,
			aware_at, declared_at, updated_at, created_by) VALUES (?, ?, 'incident', 'open', 'rb', '1', ?, 'SEV2', ?, ?, ?, 'alice')`,
			i, id, fmt.Sprintf("old incident %d", i), at, at, at)
		mustExec(t, db, "INSERT INTO incident_customers VALUES (?, 'acme', ?, 'alice')", id, at)
		mustExec(t, db, "INSERT INTO step_state (incident_id, step_id, position, title) VALUES (?, 'contain', 1, 'Contain')", id)
		mustExec(t, db, "INSERT INTO role_assignments (incident_id, role, person_id, assigned_at, assigned_by) VALUES (?, 'incident_commander', 'alice', ?, 'alice')", id, at)
		for seq := int64(1); seq <= 2; seq++ {
			r := timelineRow{id: tl.id + 1, incidentID: id, seq: seq, at: at, actor: "alice", kind: "note",
				summary: "old note " + strconv.FormatInt(seq, 10), data: "{}", prev: tl.hash}
			r.hash = r.computeHash()
			mustExec(t, db, `INSERT INTO timeline (id, incident_id, seq, at, actor, kind, summary, data, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.id, r.incidentID, r.seq, r.at, r.actor, r.kind, r.summary, r.data, r.prev, r.hash)
			tl.id, tl.hash = r.id, r.hash
		}
		a := auditRow{id: au.id + 1, at: at, actor: "alice", action: "declare", incidentID: id, outcome: OutcomeOK,
			timelineID: tl.id, timelineHash: tl.hash, prev: au.hash}
		a.hash = a.computeHash()
		mustExec(t, db, `INSERT INTO audit (id, at, actor, action, incident_id, outcome, detail, timeline_id, timeline_hash, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?)`, a.id, a.at, a.actor, a.action, a.incidentID, a.outcome, a.timelineID, a.timelineHash, a.prev, a.hash)
		au.id, au.hash = a.id, a.hash
	}
	db.Close()
	return path, ids
}

// A file written by the schema-3 irtui is upgraded in place: the two old
// indexes go (migration 4; migration 9 then replaces the lists' indexes
// with incidents_list), and nothing else changes.
func TestMigration4ReplacesIndexes(t *testing.T) {
	path, ids := oldFile(t, 3, 3)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names := indexNames(t, s)
	if names["incidents_by_drill"] || names["incident_customers_by_customer"] || names["incidents_drills"] ||
		names["incidents_by_status"] || !names["incidents_list"] {
		t.Fatalf("indexes after the upgrade: %v", names)
	}
	var version int
	if err := s.r.QueryRow("PRAGMA user_version").Scan(&version); err != nil || version != SchemaVersion() {
		t.Fatalf("user_version %d (%v), want %d", version, err, SchemaVersion())
	}
	list, err := s.ListIncidents(ctx, ListFilter{})
	if err != nil || len(list) != len(ids) {
		t.Fatalf("incidents after the upgrade: %d, %v", len(list), err)
	}
	if rep, err := s.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains after the upgrade: %+v, %v", rep, err)
	}
}

// Upgrading a file from before state coverage records every state row in
// baseline audit entries; from then on the chain vouches for them.
func TestStateMigrationRecordsTheStateAsFound(t *testing.T) {
	before := versionBefore(t, "_record.sql")
	path, ids := oldFile(t, before, 3)
	ctx := context.Background()
	var notices []string
	s, err := Open(ctx, path, WithNotice(func(m string) { notices = append(notices, m) }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(notices) != 1 || !strings.Contains(notices[0], fmt.Sprintf("from schema version %d to %d", before, SchemaVersion())) {
		t.Errorf("notices: %v", notices)
	}
	a, err := s.Audit(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]int{}
	for _, e := range a {
		if e.Action != "baseline" {
			continue
		}
		if e.Actor != SystemActor {
			t.Errorf("baseline entry by %q", e.Actor)
		}
		for _, line := range strings.Split(strings.TrimSuffix(e.State, "\n"), "\n") {
			table, _, _ := strings.Cut(line, "\t")
			rows[table]++
		}
	}
	want := map[string]int{"people": 1, "customers": 1, "incidents": len(ids), "incident_customers": len(ids),
		"step_state": len(ids), "role_assignments": len(ids)}
	for table, n := range want {
		if rows[table] != n {
			t.Errorf("baseline recorded %d rows of %s, want %d (all: %v)", rows[table], table, n, rows)
		}
	}
	var dbID string
	if err := s.r.QueryRow("SELECT value FROM irtui_meta WHERE key = 'database_id'").Scan(&dbID); err != nil || len(dbID) != 32 {
		t.Errorf("database id %q, %v", dbID, err)
	}
	rep, err := s.VerifyChains(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("after the upgrade: %+v, %v", rep, err)
	}
	s.Close()
	tamper(t, path, "UPDATE customers SET contact = 'mallory@evil.test' WHERE id = 'acme'")
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rep, err = s.VerifyChains(ctx)
	if err != nil || rep.OK || !hasProblem(rep, "customers", Altered) {
		t.Fatalf("an edited baseline row: %+v, %v", rep, err)
	}
}

func hasProblem(rep Report, table string, kind ProblemKind) bool {
	for _, p := range rep.Problems {
		if p.Table == table && p.Kind == kind {
			return true
		}
	}
	return false
}

// Every table is a chain, a covered state table, or left out with a
// reason: a new table cannot slip past the record unnoticed.
func TestEveryTableIsCoveredOrExplained(t *testing.T) {
	s, _ := openTest(t)
	rows, err := s.r.Query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		_, covered := coveredTableNamed(name)
		_, left := uncoveredTables[name]
		if covered == left {
			t.Errorf("table %s: covered %v, left out %v; add it to coveredTables or uncoveredTables in state.go", name, covered, left)
		}
	}
}
