package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func indexNames(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	rows, err := s.r.Query("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names[n] = true
	}
	return names
}

// A file written by the schema-3 irtui is upgraded in place: the two old
// indexes give way to the partial drill index, and nothing else changes.
func TestMigration4ReplacesIndexes(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 3, 2)
	s.Close()
	// Turn the file back into what schema 3 left.
	db := raw(t, path)
	mustExec(t, db, "DROP INDEX incidents_drills")
	mustExec(t, db, "CREATE INDEX incidents_by_drill ON incidents (drill, num)")
	mustExec(t, db, "CREATE INDEX incident_customers_by_customer ON incident_customers (customer_id)")
	undoMigration6(t, db)
	mustExec(t, db, "PRAGMA user_version = 3")
	db.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names := indexNames(t, s)
	if names["incidents_by_drill"] || names["incident_customers_by_customer"] || !names["incidents_drills"] {
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

// Every list the app and the CLI ask for walks an index or the table in
// number order: none may sort the whole table (USE TEMP B-TREE), and the
// drill list must use the partial index.
func TestListQueriesDoNotSort(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s, 3, 1)
	for _, status := range []string{"", StatusOpen, StatusClosed} {
		for _, kind := range []string{"", KindIncident, KindEvent} {
			for _, drill := range []Drill{DrillAny, DrillExclude, DrillOnly} {
				f := ListFilter{Status: status, Kind: kind, Drill: drill}
				q, args, err := listQuery(f)
				if err != nil {
					t.Fatal(err)
				}
				rows, err := s.r.Query("EXPLAIN QUERY PLAN "+q, args...)
				if err != nil {
					t.Fatal(err)
				}
				var plan []string
				for rows.Next() {
					var id, parent, notused int
					var detail string
					if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
						t.Fatal(err)
					}
					plan = append(plan, detail)
				}
				rows.Close()
				p := strings.Join(plan, "; ")
				name := fmt.Sprintf("%+v", f)
				if strings.Contains(p, "TEMP B-TREE") {
					t.Errorf("%s sorts: %s", name, p)
				}
				if drill == DrillOnly && status == "" && !strings.Contains(p, "incidents_drills") {
					t.Errorf("%s does not use incidents_drills: %s", name, p)
				}
				if status != "" && drill != DrillOnly && !strings.Contains(p, "incidents_by_status") {
					t.Errorf("%s does not use incidents_by_status: %s", name, p)
				}
			}
		}
	}
}
