package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// IncidentDrill reports whether the incident is a drill; ErrNotFound
// when there is no such incident.
func (s *Store) IncidentDrill(ctx context.Context, id string) (bool, error) {
	return incidentDrill(s.r.QueryRowContext(ctx, incidentDrillQuery, id), id)
}

const incidentDrillQuery = "SELECT drill FROM incidents WHERE id = ?"

func incidentDrill(row *sql.Row, id string) (bool, error) {
	return one(row, func(sc scanner) (bool, error) {
		var d int
		err := sc.Scan(&d)
		return d != 0, err
	}, "incident %s", id)
}

// Incident reads an incident with its customers, role assignments,
// checklist, obligation events and its whole timeline, as of one moment
// (ReadIncident).
// It holds the whole timeline in memory: for small incidents and tests.
// A view reads IncidentHead and pages of TimelinePage; what needs every
// entry streams them with ReadIncident.
func (s *Store) Incident(ctx context.Context, id string) (Detail, error) {
	var d Detail
	err := s.ReadIncident(ctx, id, func(h Detail) error {
		d = h
		d.Timeline = make([]TimelineEntry, 0, d.TimelineTotal)
		return nil
	}, func(e TimelineEntry) error {
		d.Timeline = append(d.Timeline, e)
		return nil
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// IncidentHead reads an incident with its customers, role assignments,
// checklist, obligation events and drill clock, without its timeline:
// Detail.Timeline is empty and TimelineTotal counts the entries. It costs
// the same whatever the length of the timeline.
func (s *Store) IncidentHead(ctx context.Context, id string) (Detail, error) {
	var d Detail
	err := s.view(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = incidentHead(ctx, tx, id)
		return err
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// IncidentWindow is IncidentHead with the page w of its timeline, read in
// the same snapshot.
func (s *Store) IncidentWindow(ctx context.Context, id string, w TimelineWindow) (Detail, error) {
	var d Detail
	err := s.view(ctx, func(tx *sql.Tx) error {
		var err error
		if d, err = incidentHead(ctx, tx, id); err != nil {
			return err
		}
		d.Timeline, err = timelinePage(ctx, tx, id, w)
		return err
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// ReadIncident reads an incident as of one moment: head gets it as
// IncidentHead returns it, then each gets every timeline entry up to that
// moment, oldest first, so that an export or a report of any length holds
// a page of entries at a time. An error from head or each stops the read
// and is returned as it is.
//
// The timeline is append-only and numbered 1, 2, 3, ... (seq; audit
// verify finds any change), so the entries up to the head's count are
// those of the head's snapshot whenever they are read. They are read a
// page at a time, each page in a short read of its own, and handed to
// each between reads: a caller whose output stalls (a pager left open at
// the far end of an SSH session) holds no connection of the read pool and
// no snapshot, which would hold up every other reader of the server and
// the database's checkpoints.
func (s *Store) ReadIncident(ctx context.Context, id string, head func(Detail) error, each func(TimelineEntry) error) error {
	d, err := s.IncidentHead(ctx, id)
	if err != nil {
		return err
	}
	if err := head(d); err != nil {
		return err
	}
	total := int64(d.TimelineTotal)
	for last := int64(0); last < total; {
		page, err := timelinePage(ctx, s.r, id, TimelineWindow{After: last, Oldest: true, Limit: int(min(streamPage, total-last))})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, e := range page {
			if e.Seq > total {
				return nil // past the head's moment (only where seq has a gap)
			}
			if err := each(e); err != nil {
				return err
			}
		}
		last = page[len(page)-1].Seq
	}
	return nil
}

// streamPage is how many timeline entries ReadIncident reads at a time.
const streamPage = 256

func incidentHead(ctx context.Context, tx *sql.Tx, id string) (Detail, error) {
	var (
		d   Detail
		err error
	)
	if d.Incident, err = getIncident(ctx, tx, id); err != nil {
		return d, err
	}
	if d.Customers, err = incidentCustomers(ctx, tx, id); err != nil {
		return d, err
	}
	if d.Roles, err = assignments(ctx, tx, id); err != nil {
		return d, err
	}
	if d.Steps, err = incidentSteps(ctx, tx, id); err != nil {
		return d, err
	}
	if d.Obligations, err = obligationEvents(ctx, tx, id); err != nil {
		return d, err
	}
	// seq runs 1, 2, 3, ... within an incident (AppendTimeline; the
	// timeline is append-only and audit verify finds any gap), so the
	// newest seq counts the entries: one step down the (incident_id,
	// seq) index instead of a count of them all.
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM timeline WHERE incident_id = ?", id).
		Scan(&d.TimelineTotal); err != nil {
		return d, fmt.Errorf("count timeline of %s: %w", id, err)
	}
	d.Timeline = []TimelineEntry{}
	if !d.Incident.Drill {
		return d, nil
	}
	c, ok, err := drillClockOf(tx.QueryRowContext(ctx, drillClockQuery, id), id)
	if ok {
		d.Drill = &c
	}
	return d, err
}

// TimelineWindow says which page of an incident's timeline to read, by
// seq (keyset on the (incident_id, seq) index, never an offset, so every
// page costs the same wherever it is): the Limit entries just after
// After, or, when Before is set, the Limit entries just before Before, or,
// with Oldest, the first Limit entries; with none of them, the newest
// Limit entries. A page is always oldest first. Limit 0 reads 100.
type TimelineWindow struct {
	After, Before int64
	Oldest        bool
	Limit         int
}

// DefaultTimelinePage is the page a TimelineWindow of Limit 0 reads.
const DefaultTimelinePage = 100

// TimelinePage reads one page of an incident's timeline (TimelineWindow).
func (s *Store) TimelinePage(ctx context.Context, incidentID string, w TimelineWindow) ([]TimelineEntry, error) {
	return timelinePage(ctx, s.r, incidentID, w)
}

// Timeline reads an incident's whole timeline, oldest first (for small
// incidents and tests; see ReadIncident).
func (s *Store) Timeline(ctx context.Context, incidentID string) ([]TimelineEntry, error) {
	out := []TimelineEntry{}
	err := eachTimeline(ctx, s.r, incidentID, func(e TimelineEntry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

// EachTimeline calls fn with every entry of an incident's timeline, oldest
// first, holding one at a time.
func (s *Store) EachTimeline(ctx context.Context, incidentID string, fn func(TimelineEntry) error) error {
	return eachTimeline(ctx, s.r, incidentID, fn)
}

const timelineColumns = "id, incident_id, seq, at, actor, auth, kind, summary, data, prev_hash, hash"

func timelinePage(ctx context.Context, q querier, incidentID string, w TimelineWindow) ([]TimelineEntry, error) {
	limit := w.Limit
	if limit <= 0 {
		limit = DefaultTimelinePage
	}
	var (
		rows *sql.Rows
		err  error
	)
	// Each query is a range on the (incident_id, seq) index, walked
	// forwards or backwards from its start.
	switch {
	case w.Before > 0:
		rows, err = q.QueryContext(ctx, "SELECT "+timelineColumns+
			" FROM timeline WHERE incident_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?", incidentID, w.Before, limit)
	case w.After > 0 || w.Oldest:
		rows, err = q.QueryContext(ctx, "SELECT "+timelineColumns+
			" FROM timeline WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?", incidentID, max(w.After, 0), limit)
	default:
		rows, err = q.QueryContext(ctx, "SELECT "+timelineColumns+
			" FROM timeline WHERE incident_id = ? ORDER BY seq DESC LIMIT ?", incidentID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read timeline of %s: %w", incidentID, err)
	}
	out := make([]TimelineEntry, 0, limit)
	if err := scanTimeline(rows, incidentID, func(e TimelineEntry) error {
		out = append(out, e)
		return nil
	}); err != nil {
		return nil, err
	}
	if w.After <= 0 && !w.Oldest {
		slices.Reverse(out) // read newest first
	}
	return out, nil
}

func eachTimeline(ctx context.Context, q querier, incidentID string, fn func(TimelineEntry) error) error {
	// The (incident_id, seq) index serves both the filter and the order.
	rows, err := q.QueryContext(ctx, "SELECT "+timelineColumns+" FROM timeline WHERE incident_id = ? ORDER BY seq", incidentID)
	if err != nil {
		return fmt.Errorf("read timeline of %s: %w", incidentID, err)
	}
	return scanTimeline(rows, incidentID, fn)
}

// scanTimeline hands each row to fn and closes rows. An error from fn is
// returned as it is.
func scanTimeline(rows *sql.Rows, incidentID string, fn func(TimelineEntry) error) error {
	defer rows.Close()
	for rows.Next() {
		var (
			e        TimelineEntry
			at, data string
		)
		if err := rows.Scan(&e.ID, &e.IncidentID, &e.Seq, &at, &e.Actor, &e.Auth, &e.Kind, &e.Summary, &data,
			&e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("read timeline of %s: %w", incidentID, err)
		}
		var err error
		if e.At, err = parseTime(at); err != nil {
			return err
		}
		e.Data = json.RawMessage(data)
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read timeline of %s: %w", incidentID, err)
	}
	return nil
}

func incidentCustomers(ctx context.Context, q querier, incidentID string) ([]Customer, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+customerColumnsC+` FROM incident_customers ic
		JOIN customers c ON c.id = ic.customer_id WHERE ic.incident_id = ? ORDER BY c.id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("read customers of %s: %w", incidentID, err)
	}
	return collectCustomers(rows)
}

func assignments(ctx context.Context, q querier, incidentID string) ([]Assignment, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+assignmentColumns+
		" FROM role_assignments WHERE incident_id = ? ORDER BY id", incidentID)
	if err != nil {
		return nil, fmt.Errorf("read roles of %s: %w", incidentID, err)
	}
	defer rows.Close()
	out := []Assignment{}
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, fmt.Errorf("read roles of %s: %w", incidentID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read roles of %s: %w", incidentID, err)
	}
	return out, nil
}

func incidentSteps(ctx context.Context, q querier, incidentID string) ([]Step, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+stepColumns+
		" FROM step_state WHERE incident_id = ? ORDER BY position", incidentID)
	if err != nil {
		return nil, fmt.Errorf("read steps of %s: %w", incidentID, err)
	}
	defer rows.Close()
	out := []Step{}
	for rows.Next() {
		st, err := scanStep(rows)
		if err != nil {
			return nil, fmt.Errorf("read steps of %s: %w", incidentID, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read steps of %s: %w", incidentID, err)
	}
	return out, nil
}

// obligationEventColumns are read by scanObligationEvent.
const obligationEventColumns = "id, incident_id, obligation_id, kind, at, actor, note, value, recorded_at"

func scanObligationEvent(sc scanner) (ObligationEvent, error) {
	var (
		e            ObligationEvent
		at, recorded string
	)
	err := sc.Scan(&e.ID, &e.IncidentID, &e.ObligationID, &e.Kind, &at, &e.Actor, &e.Note, &e.Value, &recorded)
	if err != nil {
		return e, err
	}
	if e.At, err = parseTime(at); err != nil {
		return e, err
	}
	e.RecordedAt, err = parseTime(recorded)
	return e, err
}

func obligationEvents(ctx context.Context, q querier, incidentID string) ([]ObligationEvent, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+obligationEventColumns+
		" FROM obligation_events WHERE incident_id = ? ORDER BY id", incidentID)
	if err != nil {
		return nil, fmt.Errorf("read obligations of %s: %w", incidentID, err)
	}
	return collect(rows, scanObligationEvent, "read obligations of "+incidentID)
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	IncidentID string // "" for all
	Limit      int    // 0: all
}

// Audit reads audit entries, oldest first.
func (s *Store) Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := `SELECT id, at, actor, auth, action, COALESCE(incident_id, ''), outcome, detail, COALESCE(timeline_id, 0),
		timeline_hash, prev_hash, hash, state FROM audit`
	var args []any
	if f.IncidentID != "" {
		q += " WHERE incident_id = ?"
		args = append(args, f.IncidentID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var (
			e  AuditEntry
			at string
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Auth, &e.Action, &e.IncidentID, &e.Outcome, &e.Detail,
			&e.TimelineID, &e.TimelineHash, &e.PrevHash, &e.Hash, &e.State); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	return out, nil
}

// directory reads -----------------------------------------------------------

const (
	customerColumns  = "id, name, language, region, contact_kind, contact, updated_at"
	customerColumnsC = "c.id, c.name, c.language, c.region, c.contact_kind, c.contact, c.updated_at"
	// personColumns reads a person with their OS users and keys as JSON.
	personColumns = `id, name, email, slack_user_id, roles, permissions, updated_at,
		(SELECT json_group_array(os_user ORDER BY os_user) FROM person_os_users WHERE person_id = people.id),
		(SELECT json_group_array(json_array(fingerprint, key, comment) ORDER BY position)
			FROM person_keys WHERE person_id = people.id)`
)

func scanCustomer(sc scanner) (Customer, error) {
	var (
		c       Customer
		updated string
	)
	if err := sc.Scan(&c.ID, &c.Name, &c.Language, &c.Region, &c.ContactKind, &c.Contact, &updated); err != nil {
		return Customer{}, err
	}
	var err error
	c.UpdatedAt, err = parseTime(updated)
	return c, err
}

func collectCustomers(rows *sql.Rows) ([]Customer, error) {
	return collect(rows, scanCustomer, "read customers")
}

func getCustomer(ctx context.Context, q querier, id string) (Customer, error) {
	return one(q.QueryRowContext(ctx, "SELECT "+customerColumns+" FROM customers WHERE id = ?", id),
		scanCustomer, "customer %s", id)
}

func scanPerson(sc scanner) (Person, error) {
	var (
		p                     Person
		roles, perms, updated string
		osUsers, keys         string
	)
	if err := sc.Scan(&p.ID, &p.Name, &p.Email, &p.SlackUserID, &roles, &perms, &updated, &osUsers, &keys); err != nil {
		return Person{}, err
	}
	var rawKeys [][3]string
	for _, j := range []struct {
		src string
		dst any
	}{{roles, &p.Roles}, {perms, &p.Permissions}, {osUsers, &p.OSUsers}, {keys, &rawKeys}} {
		if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
			return Person{}, fmt.Errorf("person %s: stored JSON: %w", p.ID, err)
		}
	}
	p.SSHKeys, p.Fingerprints = []string{}, []string{}
	for _, k := range rawKeys {
		p.Fingerprints = append(p.Fingerprints, k[0])
		p.SSHKeys = append(p.SSHKeys, strings.TrimSpace(k[1]+" "+k[2]))
	}
	var err error
	p.UpdatedAt, err = parseTime(updated)
	return p, err
}

func getPerson(ctx context.Context, q querier, id string) (Person, error) {
	return one(q.QueryRowContext(ctx, "SELECT "+personColumns+" FROM people WHERE id = ?", id),
		scanPerson, "person %s", id)
}

// personByOSUser finds the person an OS account acts as.
func personByOSUser(ctx context.Context, q querier, osUser string) (Person, error) {
	return one(q.QueryRowContext(ctx, "SELECT "+personColumns+
		" FROM people WHERE id = (SELECT person_id FROM person_os_users WHERE os_user = ?)", osUser),
		scanPerson, "person with OS user %s", osUser)
}

// personByKey finds the person an SSH key (by SHA256 fingerprint) belongs to.
func personByKey(ctx context.Context, q querier, fingerprint string) (Person, error) {
	return one(q.QueryRowContext(ctx, "SELECT "+personColumns+
		" FROM people WHERE id = (SELECT person_id FROM person_keys WHERE fingerprint = ?)", fingerprint),
		scanPerson, "person with key %s", fingerprint)
}

const identityStateQuery = `SELECT
	COALESCE((SELECT value FROM irtui_meta WHERE key = 'installer'), ''),
	COALESCE((SELECT value FROM irtui_meta WHERE key = 'demo_commander'), ''),
	EXISTS (SELECT 1 FROM person_os_users) OR EXISTS (SELECT 1 FROM person_keys)`

func identityState(row *sql.Row) (IdentityState, error) {
	var st IdentityState
	if err := row.Scan(&st.Installer, &st.DemoCommander, &st.Identities); err != nil {
		return IdentityState{}, fmt.Errorf("read the identity state: %w", err)
	}
	return st, nil
}

// PersonByOSUser finds the person the OS account osUser acts as;
// ErrNotFound when it maps to nobody.
func (s *Store) PersonByOSUser(ctx context.Context, osUser string) (Person, error) {
	return personByOSUser(ctx, s.r, osUser)
}

// PersonByKey finds the person whose SSH key has the SHA256 fingerprint
// ("SHA256:..."); ErrNotFound when it is nobody's. irtui serve
// authenticates with it.
func (s *Store) PersonByKey(ctx context.Context, fingerprint string) (Person, error) {
	return personByKey(ctx, s.r, fingerprint)
}

// IdentityState reads who created the database, whether the demo
// directory is loaded, and whether anyone can be authenticated yet.
func (s *Store) IdentityState(ctx context.Context) (IdentityState, error) {
	return identityState(s.r.QueryRowContext(ctx, identityStateQuery))
}

// Customers lists every customer by id.
func (s *Store) Customers(ctx context.Context) ([]Customer, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+customerColumns+" FROM customers ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read customers: %w", err)
	}
	return collectCustomers(rows)
}

// Customer reads one customer; ErrNotFound when there is none.
func (s *Store) Customer(ctx context.Context, id string) (Customer, error) {
	return getCustomer(ctx, s.r, id)
}

// People lists every person by id.
func (s *Store) People(ctx context.Context) ([]Person, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+personColumns+" FROM people ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	return collect(rows, scanPerson, "read people")
}

// Person reads one person; ErrNotFound when there is none.
func (s *Store) Person(ctx context.Context, id string) (Person, error) {
	return getPerson(ctx, s.r, id)
}

// one scans the single row a lookup returns. No row is ErrNotFound, as
// "<what>: not found"; any other failure is "read <what>: ...", where what
// is format with args (formatted only on failure).
func one[T any](row *sql.Row, scan func(scanner) (T, error), format string, args ...any) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		var zero T
		return zero, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
	}
	if err != nil {
		var zero T
		return zero, fmt.Errorf("read %s: %w", fmt.Sprintf(format, args...), err)
	}
	return v, nil
}

// collect scans every row with scan, closes the rows, and wraps any error
// with what was being read.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error), what string) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
