package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
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

// listFilters is every filter the lists can ask for: each status, kind
// and drill choice, from the newest incident, after one, before one, from
// the oldest, and matching text.
func listFilters() []ListFilter {
	var out []ListFilter
	for _, status := range []string{"", StatusOpen, StatusClosed} {
		for _, kind := range []string{"", KindIncident, KindEvent} {
			for _, drill := range []Drill{DrillAny, DrillExclude, DrillOnly} {
				f := ListFilter{Status: status, Kind: kind, Drill: drill, Limit: 7}
				after, before, oldest, match := f, f, f, f
				after.After, before.Before, oldest.Oldest, match.Match = 20, 9, true, "inc 1"
				out = append(out, f, after, before, oldest, match)
			}
		}
	}
	return out
}

// Every list the app and the CLI ask for walks incidents_list from where
// its page starts: none may sort (USE TEMP B-TREE) or scan the table.
func TestListQueriesDoNotSort(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s, 3, 1)
	for _, f := range listFilters() {
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
		for _, step := range plan {
			if strings.Contains(step, " incidents ") && !strings.Contains(step, "USING INDEX incidents_list (drill=? AND status=?") {
				t.Errorf("%s does not walk incidents_list: %s", name, p)
			}
		}
	}
}

// listSeed stores incidents of every kind: open and closed, real and
// drills, incidents and dismissed events, some closed after the fact (so
// the counts' update trigger runs), some with a commander.
func listSeed(t *testing.T, s *Store, n int) []Incident {
	t.Helper()
	ctx := context.Background()
	if _, err := s.ImportDirectory(ctx, "admin", Directory{People: []Person{{ID: "zed", Name: "Zed"}}}); err != nil {
		t.Fatal(err)
	}
	var all []Incident
	err := s.Update(ctx, func(tx *Tx) error {
		for i := range n {
			at := t0.Add(time.Duration(i) * time.Minute)
			in := Incident{Kind: KindIncident, Status: StatusOpen, RunbookID: "rb", RunbookVersion: "1",
				Title: fmt.Sprintf("inc %d", i), Severity: "SEV3", AwareAt: at, DeclaredAt: at, UpdatedAt: at,
				CreatedBy: "alice", Drill: i%5 == 1}
			if i%7 == 3 {
				in.Kind, in.Status, in.ClosedAt = KindEvent, StatusClosed, at
			}
			if err := tx.InsertIncident(ctx, &in); err != nil {
				return err
			}
			if i%3 == 2 && in.Kind == KindIncident {
				in.Status, in.ClosedAt = StatusClosed, at
				if err := tx.UpdateIncident(ctx, &in); err != nil {
					return err
				}
			}
			if i%4 == 0 {
				if err := tx.InsertAssignment(ctx, &Assignment{IncidentID: in.ID, Role: "incident_commander", PersonID: "zed",
					AssignedAt: at, AssignedBy: "alice"}); err != nil {
					return err
				}
			}
			all = append(all, in)
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Action: "seed", Outcome: OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(all) // newest first, as lists are
	return all
}

// inList is the list a filter asks for, worked out the slow way.
func inList(all []Incident, f ListFilter) []string {
	var out []string
	for i, in := range all {
		if (f.Status != "" && in.Status != f.Status) || (f.Kind != "" && in.Kind != f.Kind) ||
			(f.Drill == DrillExclude && in.Drill) || (f.Drill == DrillOnly && !in.Drill) {
			continue
		}
		if f.Match != "" {
			cmdr := ""
			if (len(all)-1-i)%4 == 0 {
				cmdr = "zed"
			}
			if !subsequence(strings.ToLower(f.Match), strings.ToLower(in.ID+" "+in.Title+" "+in.RunbookID+" "+in.Severity+" "+cmdr)) {
				continue
			}
		}
		out = append(out, in.ID)
	}
	return out
}

func subsequence(q, s string) bool {
	for _, r := range s {
		if len(q) > 0 && rune(q[0]) == r {
			q = q[1:]
		}
	}
	return q == ""
}

func ids(list []Incident) []string {
	out := make([]string, len(list))
	for i, in := range list {
		out[i] = in.ID
	}
	return out
}

// Paging through any list, down from the newest or up from the oldest,
// shows every incident of it once, in order, and says where the list
// goes on; the count is the list's length.
func TestListPagesShowEveryIncidentOnce(t *testing.T) {
	s, _ := openTest(t)
	all := listSeed(t, s, 45)
	ctx := context.Background()
	for _, base := range listFilters() {
		if base.After != 0 || base.Before != 0 || base.Oldest {
			continue
		}
		name := fmt.Sprintf("%+v", base)
		want := inList(all, base)
		// Down, from the newest.
		var got []string
		f := base
		for pages := 0; ; pages++ {
			p, err := s.ListPage(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if p.Newer != (f.After > 0) {
				t.Errorf("%s: page %d says newer %v", name, pages, p.Newer)
			}
			got = append(got, ids(p.Incidents)...)
			if !p.Older {
				break
			}
			f.After = p.Incidents[len(p.Incidents)-1].Number
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s down:\n got %v\nwant %v", name, got, want)
		}
		// Up, from the oldest.
		got = nil
		f = base
		f.Oldest = true
		for {
			p, err := s.ListPage(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(ids(p.Incidents), got...)
			if !p.Newer {
				break
			}
			f.Oldest, f.Before = false, p.Incidents[0].Number
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s up:\n got %v\nwant %v", name, got, want)
		}
		if base.Match != "" {
			continue
		}
		n, err := s.CountIncidents(ctx, base)
		if err != nil || n != len(want) {
			t.Errorf("%s: count %d (%v), want %d", name, n, err, len(want))
		}
	}
}

// The counts follow every change, and a count changed behind irtui's back
// is found by audit verify.
func TestIncidentCountsAreKeptAndVerified(t *testing.T) {
	s, path := openTest(t)
	listSeed(t, s, 12)
	ctx := context.Background()
	if rep, err := s.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	tamper(t, path, "UPDATE incident_counts SET n = n + 5 WHERE drill = 0 AND status = 'open' AND kind = 'incident'")
	rep, err := s.VerifyChains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open, err := s.CountIncidents(ctx, ListFilter{Status: StatusOpen, Kind: KindIncident, Drill: DrillExclude})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("it counts %d open incidents, but there are %d", open, open-5)
	if rep.OK || !slices.ContainsFunc(rep.Problems, func(p Problem) bool {
		return p.Table == "incident_counts" && p.Key == `[0,"open","incident"]` && strings.Contains(p.Detail, want)
	}) {
		t.Fatalf("problems: %+v, want %q", rep.Problems, want)
	}
	tamper(t, path, "DROP TRIGGER incident_counts_update")
	rep, _ = s.VerifyChains(ctx)
	if !slices.ContainsFunc(rep.Problems, func(p Problem) bool {
		return p.Table == "schema" && strings.Contains(p.Detail, "incident_counts_update is missing")
	}) {
		t.Fatalf("problems: %+v", rep.Problems)
	}
}

// Upgrading a file counts the incidents it holds.
func TestListCountsMigrationCountsTheIncidents(t *testing.T) {
	path, ids := oldFile(t, versionBefore(t, "_list_counts.sql"), 4)
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		f    ListFilter
		want int
	}{{ListFilter{Status: StatusOpen, Drill: DrillExclude}, len(ids)}, {ListFilter{Status: StatusClosed}, 0}, {ListFilter{Drill: DrillOnly}, 0}} {
		if n, err := s.CountIncidents(ctx, c.f); err != nil || n != c.want {
			t.Errorf("%+v: %d (%v), want %d", c.f, n, err, c.want)
		}
	}
}

// TestListLimitIsCapped: a page never asks SQLite for more than
// MaxListPage+1 rows, whatever Limit says; math.MaxInt+1 would wrap to a
// negative LIMIT, which SQLite reads as no limit at all.
func TestListLimitIsCapped(t *testing.T) {
	for _, c := range []struct{ limit, want int }{{0, 50}, {-5, 50}, {1, 1}, {MaxListPage, MaxListPage}, {MaxListPage + 1, MaxListPage}, {math.MaxInt, MaxListPage}} {
		if got := listLimit(ListFilter{Limit: c.limit}); got != c.want || got+1 <= 0 {
			t.Errorf("Limit %d: page of %d, want %d", c.limit, got, c.want)
		}
	}
}
