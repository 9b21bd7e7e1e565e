package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Page is one page of a list of incidents, newest first.
type Page struct {
	Incidents []Incident
	// Older and Newer say whether the list goes on past the page's ends.
	// Newer is true for a page read After an incident and Older for one
	// read Before one: the caller came from there.
	Older, Newer bool
}

// ListIncidents lists a page of incidents, most recent first.
func (s *Store) ListIncidents(ctx context.Context, f ListFilter) ([]Incident, error) {
	p, err := s.ListPage(ctx, f)
	return p.Incidents, err
}

// ListPage reads one page of a list. It walks incidents_list from where
// the page starts and stops after it: a page costs the same with a hundred
// incidents or a million.
func (s *Store) ListPage(ctx context.Context, f ListFilter) (Page, error) {
	q, args, err := listQuery(f)
	if err != nil {
		return Page{}, err
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list incidents: %w", err)
	}
	list, err := collect(rows, scanIncident, "list incidents")
	if err != nil {
		return Page{}, err
	}
	limit := listLimit(f)
	more := len(list) > limit
	if more {
		list = list[:limit]
	}
	p := Page{Incidents: list}
	switch {
	case f.Before > 0:
		slices.Reverse(p.Incidents)
		p.Newer, p.Older = more, true
	case f.Oldest:
		slices.Reverse(p.Incidents)
		p.Newer = more
	default:
		p.Older, p.Newer = more, f.After > 0
	}
	return p, nil
}

// MaxListPage is the most incidents one list page holds; a larger Limit
// is read as this (a page is held in memory, and Limit+1 must not
// overflow).
const MaxListPage = 10_000

func listLimit(f ListFilter) int {
	if f.Limit <= 0 {
		return 50
	}
	return min(f.Limit, MaxListPage)
}

// listScope is the (drill, status) pairs a filter lists, each one range
// of incidents_list.
func listScope(f ListFilter) (drills []int, statuses []string, err error) {
	switch f.Status {
	case "":
		statuses = []string{StatusOpen, StatusClosed}
	case StatusOpen, StatusClosed:
		statuses = []string{f.Status}
	default:
		return nil, nil, fmt.Errorf("list incidents: unknown status %q (want open, closed or empty)", f.Status)
	}
	switch f.Kind {
	case "", KindIncident, KindEvent:
	default:
		return nil, nil, fmt.Errorf("list incidents: unknown kind %q (want incident, event or empty)", f.Kind)
	}
	switch f.Drill {
	case DrillAny:
		drills = []int{0, 1}
	case DrillExclude:
		drills = []int{0}
	case DrillOnly:
		drills = []int{1}
	}
	return drills, statuses, nil
}

// commanderColumn is an incident's current commander (empty when none), from
// the unique index of current role holders.
const commanderColumn = `COALESCE((SELECT person_id FROM role_assignments ra WHERE ra.incident_id = incidents.id
	AND ra.role = 'incident_commander' AND ra.ended_at IS NULL), '')`

// listQuery is the query ListPage runs, for one more row than the page
// holds (to tell whether the list goes on). Each (drill, status) pair is
// one range of incidents_list, walked in number order from the page's
// start; a list of several is their UNION ALL, which SQLite merges in
// order without sorting. None sorts, and none reads past the page.
func listQuery(f ListFilter) (string, []any, error) {
	drills, statuses, err := listScope(f)
	if err != nil {
		return "", nil, err
	}
	var (
		cond []string
		args []any
	)
	switch {
	case f.Before > 0:
		cond, args = append(cond, "num > ?"), append(args, f.Before)
	case f.After > 0 && !f.Oldest:
		cond, args = append(cond, "num < ?"), append(args, f.After)
	}
	if f.Kind != "" {
		cond, args = append(cond, "kind = ?"), append(args, f.Kind)
	}
	if f.Match != "" {
		cond = append(cond, "lower(id || ' ' || title || ' ' || runbook_id || ' ' || severity || ' ' || "+
			commanderColumn+`) LIKE ? ESCAPE '\'`)
		args = append(args, matchPattern(f.Match))
	}
	var (
		arms    []string
		armArgs []any
	)
	for _, d := range drills {
		for _, st := range statuses {
			// Literal values: each arm is one range of incidents_list.
			q := fmt.Sprintf("SELECT %s FROM incidents WHERE drill = %d AND status = '%s'", incidentColumns, d, st)
			for _, c := range cond {
				q += " AND " + c
			}
			arms = append(arms, q)
			armArgs = append(armArgs, args...)
		}
	}
	order := "DESC"
	if f.Before > 0 || f.Oldest {
		order = "ASC"
	}
	q := strings.Join(arms, " UNION ALL ") + " ORDER BY num " + order + " LIMIT ?"
	return q, append(armArgs, listLimit(f)+1), nil
}

// matchPattern is a LIKE pattern that matches text holding q's characters
// in order: %a%b%c%, with LIKE's own characters escaped.
func matchPattern(q string) string {
	var b strings.Builder
	b.WriteByte('%')
	for _, r := range strings.ToLower(q) {
		if r == '%' || r == '_' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		b.WriteByte('%')
	}
	return b.String()
}

// CountIncidents counts the incidents a list holds (Match and the page
// aside), from incident_counts: one small read however many there are.
func (s *Store) CountIncidents(ctx context.Context, f ListFilter) (int, error) {
	drills, statuses, err := listScope(f)
	if err != nil {
		return 0, err
	}
	q := "SELECT COALESCE(sum(n), 0) FROM incident_counts WHERE drill IN (" + joinInts(drills) + ") AND status IN ('" +
		strings.Join(statuses, "', '") + "')"
	var args []any
	if f.Kind != "" {
		q, args = q+" AND kind = ?", append(args, f.Kind)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count incidents: %w", err)
	}
	return n, nil
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, ", ")
}

// Summary is what a list of open incidents shows beside each one: who
// commands it, and the submissions and pauses its clocks depend on.
type Summary struct {
	Commander   string
	Obligations []ObligationEvent
	// Drill is the clock of a drill incident's run: its deadlines are
	// read on drill time.
	Drill *DrillClock
}

// Summaries reads the summaries of the given incidents (a page of a list)
// in three queries, each on an index by incident.
func (s *Store) Summaries(ctx context.Context, ids []string) (map[string]Summary, error) {
	out := make(map[string]Summary, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.r.QueryContext(ctx, `SELECT incident_id, person_id FROM role_assignments
		WHERE incident_id IN (`+in+`) AND role = 'incident_commander' AND ended_at IS NULL`, args...)
	if err != nil {
		return nil, fmt.Errorf("read incident commanders: %w", err)
	}
	for rows.Next() {
		var id, person string
		if err := rows.Scan(&id, &person); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read incident commanders: %w", err)
		}
		sm := out[id]
		sm.Commander = person
		out[id] = sm
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read incident commanders: %w", err)
	}
	rows, err = s.r.QueryContext(ctx, "SELECT "+obligationEventColumns+
		" FROM obligation_events WHERE incident_id IN ("+in+") ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("read obligation events: %w", err)
	}
	events, err := collect(rows, scanObligationEvent, "read obligation events")
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		sm := out[e.IncidentID]
		sm.Obligations = append(sm.Obligations, e)
		out[e.IncidentID] = sm
	}
	clocks, err := drillClocks(ctx, s.r, in, args)
	if err != nil {
		return nil, err
	}
	for id, c := range clocks {
		sm := out[id]
		sm.Drill = &c
		out[id] = sm
	}
	return out, nil
}
