package store

import (
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
