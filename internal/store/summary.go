package store

import (
	"context"
	"fmt"
)

// Summary is what a list of open incidents shows beside each one: who
// commands it, and the submissions and pauses its clocks depend on.
type Summary struct {
	Commander   string
	Obligations []ObligationEvent
	// Drill is the clock of a drill incident's run: its deadlines are
	// read on drill time.
	Drill *DrillClock
}

// OpenSummaries reads the summaries of every open incident in two queries,
// so a list does not read each incident on its own.
func (s *Store) OpenSummaries(ctx context.Context) (map[string]Summary, error) {
	out := map[string]Summary{}
	rows, err := s.r.QueryContext(ctx, `SELECT ra.incident_id, ra.person_id
		FROM role_assignments ra JOIN incidents i ON i.id = ra.incident_id
		WHERE i.status = 'open' AND ra.role = 'incident_commander' AND ra.ended_at IS NULL`)
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
	rows, err = s.r.QueryContext(ctx, `SELECT oe.id, oe.incident_id, oe.obligation_id, oe.kind, oe.at, oe.actor, oe.note, oe.value, oe.recorded_at
		FROM obligation_events oe JOIN incidents i ON i.id = oe.incident_id
		WHERE i.status = 'open' ORDER BY oe.id`)
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
	clocks, err := drillClocks(ctx, s.r)
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
