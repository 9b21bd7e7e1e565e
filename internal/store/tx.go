package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Tx is a write transaction handed to the function given to Update. Its
// methods check nothing a caller could get wrong on purpose: the rules of
// the incident lifecycle live in package incident.
type Tx struct {
	tx           *sql.Conn // the writer connection, inside BEGIN IMMEDIATE
	st           *Store
	lastTimeline *TimelineEntry // the newest entry appended in this transaction
	tails        *tails         // read once per transaction, then kept current
	seqs         map[string]int64
	lastErr      error // the last statement's error
	broken       error // set once SQLite has rolled the transaction back

	journal     *os.File // the pending-audit journal, locked while it is taken in
	journalDone bool

	pending   []pendingRow // state rows changed since the last audit entry
	pendingAt map[string]int
	rows      rowHasher
	named     []driver.NamedValue // reused by write
	dest      []driver.Value
	changed   bool // wrote more than audit entries (see Store.Changed)
}

// tails are the ends of the hash chains and the newest incident number.
// A transaction reads them in one statement the first time it needs any,
// then keeps them current itself: it holds the write lock, so nobody else
// can append in between. seqs does the same for the newest timeline seq of
// each incident the transaction touched.
type tails struct {
	timelineID   int64
	timelineHash string
	auditID      int64
	auditHash    string
	incidentNum  int64
}

func (tx *Tx) loadTails(ctx context.Context) (*tails, error) {
	if tx.tails != nil {
		return tx.tails, nil
	}
	var t tails
	err := tx.queryRow(ctx, `SELECT
		COALESCE((SELECT id FROM timeline ORDER BY id DESC LIMIT 1), 0),
		COALESCE((SELECT hash FROM timeline ORDER BY id DESC LIMIT 1), ''),
		COALESCE((SELECT id FROM audit ORDER BY id DESC LIMIT 1), 0),
		COALESCE((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), ''),
		COALESCE((SELECT MAX(num) FROM incidents), 0)`).
		Scan(&t.timelineID, &t.timelineHash, &t.auditID, &t.auditHash, &t.incidentNum)
	if err != nil {
		return nil, fmt.Errorf("read the ends of the hash chains: %w", err)
	}
	// Chains shorter than what this process committed: entries it was
	// told were saved are gone (a write-ahead log deleted under it, the
	// file swapped for an older copy).
	if h := tx.st.heads; t.timelineID < h.timeline || t.auditID < h.audit {
		err := fmt.Errorf("%w: it now ends at timeline entry #%d and audit entry #%d, but this process committed "+
			"up to #%d and #%d; those entries are lost (a deleted write-ahead log, or an older copy of the file)",
			ErrFileGone, t.timelineID, t.auditID, h.timeline, h.audit)
		tx.st.MarkDamaged(err.Error())
		return nil, tx.st.stop(err)
	}
	tx.tails = &t
	return &t, nil
}

// nextSeq numbers the next timeline entry of an incident.
func (tx *Tx) nextSeq(ctx context.Context, incidentID string) (int64, error) {
	if seq, ok := tx.seqs[incidentID]; ok {
		return seq + 1, nil
	}
	var seq int64
	if err := tx.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM timeline WHERE incident_id = ?",
		incidentID).Scan(&seq); err != nil {
		return 0, fmt.Errorf("number timeline entry: %w", err)
	}
	return seq, nil
}

func (tx *Tx) setSeq(incidentID string, seq int64) {
	if tx.seqs == nil {
		tx.seqs = map[string]int64{}
	}
	tx.seqs[incidentID] = seq
}

// exec runs a write, prepared once on the writer connection and reused.
// Every write goes through here, so that none runs after SQLite has rolled
// the transaction back on an error: it would commit on its own, and chain
// to entries that are gone.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if err := tx.usable(); err != nil {
		return nil, err
	}
	if t := writtenTable(query); t != "" {
		if _, covered := coveredTableNamed(t); covered {
			// A state table's rows must be recorded: use tx.write.
			return nil, fmt.Errorf("store: a write to %s must go through Tx.write, which records it in the audit log", t)
		}
	}
	if !isAuditWrite(query) {
		tx.changed = true
	}
	if stmt := tx.st.prepared(ctx, query); stmt != nil {
		res, err = stmt.ExecContext(ctx, args...)
	} else {
		res, err = tx.tx.ExecContext(ctx, query, args...)
	}
	if err != nil {
		tx.lastErr = err
	}
	return res, err
}

// usable says why no statement may run: SQLite rolled the transaction
// back after an error.
func (tx *Tx) usable() error {
	if tx.broken == nil && tx.lastErr != nil && !inTransaction(tx.tx) {
		tx.broken = fmt.Errorf("the write transaction was rolled back after an error (%v); nothing of it was kept", tx.lastErr)
	}
	return tx.broken
}

// writtenTable is the table an INSERT, UPDATE or DELETE statement writes,
// or "".
func writtenTable(query string) string {
	q := strings.TrimSpace(query)
	for _, verb := range []string{"INSERT INTO ", "UPDATE ", "DELETE FROM ", "REPLACE INTO ", "INSERT OR REPLACE INTO "} {
		if len(q) > len(verb) && strings.EqualFold(q[:len(verb)], verb) {
			name, _, _ := strings.Cut(strings.TrimSpace(q[len(verb):]), " ")
			return strings.Trim(name, `"(`)
		}
	}
	return ""
}

// queryRow is exec for a query that returns one row.
func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if stmt := tx.st.prepared(ctx, query); stmt != nil {
		return stmt.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// row scanning helpers -------------------------------------------------------

type scanner interface{ Scan(dest ...any) error }

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return FormatTime(t)
}

func scanNullTime(ns sql.NullString) (time.Time, error) {
	if !ns.Valid {
		return time.Time{}, nil
	}
	return parseTime(ns.String)
}

func marshalJSON(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// incidents ------------------------------------------------------------------

const incidentColumns = `num, id, kind, status, runbook_id, runbook_version, title, summary, category,
	attack_vector, severity, flags, answers, facts, rationale, roles, dismissed_reason, aware_at,
	declared_at, closed_at, updated_at, drill, created_by`

func scanIncident(sc scanner) (Incident, error) {
	var (
		in                                      Incident
		flags, answers, facts, rationale, roles string
		aware, declared, updated                string
		closed                                  sql.NullString
		drill                                   int
	)
	err := sc.Scan(&in.Number, &in.ID, &in.Kind, &in.Status, &in.RunbookID, &in.RunbookVersion,
		&in.Title, &in.Summary, &in.Category, &in.AttackVector, &in.Severity, &flags, &answers, &facts,
		&rationale, &roles, &in.DismissedReason, &aware, &declared, &closed, &updated, &drill, &in.CreatedBy)
	if err != nil {
		return Incident{}, err
	}
	in.Drill = drill != 0
	for _, j := range []struct {
		src string
		dst any
	}{{flags, &in.Flags}, {answers, &in.Answers}, {facts, &in.Facts}, {rationale, &in.Rationale}, {roles, &in.Roles}} {
		if err := json.Unmarshal([]byte(j.src), j.dst); err != nil {
			return Incident{}, fmt.Errorf("incident %s: stored JSON: %w", in.ID, err)
		}
	}
	if in.AwareAt, err = parseTime(aware); err != nil {
		return Incident{}, err
	}
	if in.DeclaredAt, err = parseTime(declared); err != nil {
		return Incident{}, err
	}
	if in.UpdatedAt, err = parseTime(updated); err != nil {
		return Incident{}, err
	}
	if in.ClosedAt, err = scanNullTime(closed); err != nil {
		return Incident{}, err
	}
	return in, nil
}

func incidentArgs(in *Incident) ([]any, error) {
	flags, err := marshalJSON(in.Flags, "[]")
	if err != nil {
		return nil, fmt.Errorf("flags: %w", err)
	}
	answers, err := marshalJSON(in.Answers, "{}")
	if err != nil {
		return nil, fmt.Errorf("answers: %w", err)
	}
	facts, err := marshalJSON(in.Facts, "{}")
	if err != nil {
		return nil, fmt.Errorf("facts: %w", err)
	}
	rationale, err := marshalJSON(in.Rationale, "[]")
	if err != nil {
		return nil, fmt.Errorf("rationale: %w", err)
	}
	roles, err := marshalJSON(in.Roles, "[]")
	if err != nil {
		return nil, fmt.Errorf("roles: %w", err)
	}
	return []any{in.Kind, in.Status, in.RunbookID, in.RunbookVersion, in.Title, in.Summary,
		in.Category, in.AttackVector, in.Severity, flags, answers, facts, rationale, roles,
		in.DismissedReason, FormatTime(in.AwareAt), FormatTime(in.DeclaredAt), nullTime(in.ClosedAt),
		FormatTime(in.UpdatedAt), boolInt(in.Drill), in.CreatedBy}, nil
}

// IncidentID renders an incident number as its id.
func IncidentID(num int64) string { return fmt.Sprintf("INC-%04d", num) }

// IncidentNumber reads the number of an incident id (INC-0042, or 42);
// false when id is neither.
func IncidentNumber(id string) (int64, bool) {
	digits := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(id)), "INC-")
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || strings.HasPrefix(digits, "+") {
		return 0, false
	}
	return n, true
}

// InsertIncident stores a new incident, numbering it: it sets in.Number
// and in.ID to the next free ones.
func (tx *Tx) InsertIncident(ctx context.Context, in *Incident) error {
	t, err := tx.loadTails(ctx)
	if err != nil {
		return fmt.Errorf("number new incident: %w", err)
	}
	num := t.incidentNum + 1
	in.Number, in.ID = num, IncidentID(num)
	args, err := incidentArgs(in)
	if err != nil {
		return fmt.Errorf("incident %s: %w", in.ID, err)
	}
	_, err = tx.write(ctx, "incidents", `INSERT INTO incidents (num, id, kind, status, runbook_id,
		runbook_version, title, summary, category, attack_vector, severity, flags, answers, facts,
		rationale, roles, dismissed_reason, aware_at, declared_at, closed_at, updated_at, drill, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append([]any{num, in.ID}, args...)...)
	if err != nil {
		return fmt.Errorf("insert incident %s: %w", in.ID, err)
	}
	t.incidentNum = num
	tx.setSeq(in.ID, 0) // a new incident has no timeline yet
	return nil
}

// UpdateIncident writes every field of in except its id and number.
func (tx *Tx) UpdateIncident(ctx context.Context, in *Incident) error {
	args, err := incidentArgs(in)
	if err != nil {
		return fmt.Errorf("incident %s: %w", in.ID, err)
	}
	res, err := tx.write(ctx, "incidents", `UPDATE incidents SET kind = ?, status = ?, runbook_id = ?,
		runbook_version = ?, title = ?, summary = ?, category = ?, attack_vector = ?, severity = ?,
		flags = ?, answers = ?, facts = ?, rationale = ?, roles = ?, dismissed_reason = ?, aware_at = ?,
		declared_at = ?, closed_at = ?, updated_at = ?, drill = ?, created_by = ?
		WHERE id = ?`, append(args, in.ID)...)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", in.ID, err)
	}
	if res.n == 0 {
		return fmt.Errorf("incident %s: %w", in.ID, ErrNotFound)
	}
	return nil
}

// TouchIncident sets only the incident's updated_at: cheaper than
// UpdateIncident for actions that change other tables.
func (tx *Tx) TouchIncident(ctx context.Context, id string, at time.Time) error {
	res, err := tx.write(ctx, "incidents", "UPDATE incidents SET updated_at = ? WHERE id = ?", FormatTime(at), id)
	if err != nil {
		return fmt.Errorf("update incident %s: %w", id, err)
	}
	if res.n == 0 {
		return fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return nil
}

// IncidentDrill is Store.IncidentDrill inside the transaction.
func (tx *Tx) IncidentDrill(ctx context.Context, id string) (bool, error) {
	return incidentDrill(tx.queryRow(ctx, incidentDrillQuery, id), id)
}

// Incident reads one incident inside the transaction.
func (tx *Tx) Incident(ctx context.Context, id string) (Incident, error) {
	return getIncident(ctx, prepared{tx}, id)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getIncident(ctx context.Context, q querier, id string) (Incident, error) {
	return one(q.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = ?", id),
		scanIncident, "incident %s", id)
}

// customers ------------------------------------------------------------------

// LinkCustomer records that the incident affects the customer. Linking a
// customer twice is a no-op; the result says whether the link is new.
func (tx *Tx) LinkCustomer(ctx context.Context, incidentID, customerID string, at time.Time, actor string) (bool, error) {
	res, err := tx.write(ctx, "incident_customers", `INSERT INTO incident_customers (incident_id, customer_id, added_at, added_by)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, incidentID, customerID, FormatTime(at), actor)
	if err != nil {
		return false, fmt.Errorf("link customer %s to %s: %w", customerID, incidentID, err)
	}
	return res.n == 1, nil
}

// MissingCustomerError names a customer id that is not in the directory.
type MissingCustomerError struct{ ID string }

func (e *MissingCustomerError) Error() string {
	return fmt.Sprintf("customer %s: %v", e.ID, ErrNotFound)
}

// Unwrap makes errors.Is(err, ErrNotFound) true.
func (e *MissingCustomerError) Unwrap() error { return ErrNotFound }

// LinkCustomers links a new incident to its customers in one statement.
// The foreign key checks each id against the directory; if one is not
// there, nothing is linked and the error is a *MissingCustomerError naming
// the first such id.
func (tx *Tx) LinkCustomers(ctx context.Context, incidentID string, customerIDs []string, at time.Time, actor string) error {
	if len(customerIDs) == 0 {
		return nil
	}
	q := `INSERT INTO incident_customers (incident_id, customer_id, added_at, added_by) VALUES (?, ?, ?, ?)` +
		strings.Repeat(", (?, ?, ?, ?)", len(customerIDs)-1) + " ON CONFLICT DO NOTHING"
	stamp := FormatTime(at)
	args := make([]any, 0, 4*len(customerIDs))
	for _, id := range customerIDs {
		args = append(args, incidentID, id, stamp, actor)
	}
	_, err := tx.write(ctx, "incident_customers", q, args...)
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		// Which one? Only a refused declaration pays for asking.
		for _, id := range customerIDs {
			if _, cerr := getCustomer(ctx, tx.tx, id); errors.Is(cerr, ErrNotFound) {
				return &MissingCustomerError{ID: id}
			}
		}
	}
	if err != nil {
		return fmt.Errorf("link customers to %s: %w", incidentID, err)
	}
	return nil
}

// UnlinkCustomer records that the incident no longer affects the
// customer; removed is false when it was not linked. The timeline keeps
// the history of links.
func (tx *Tx) UnlinkCustomer(ctx context.Context, incidentID, customerID string) (removed bool, err error) {
	res, err := tx.write(ctx, "incident_customers", `DELETE FROM incident_customers WHERE incident_id = ? AND customer_id = ?`,
		incidentID, customerID)
	if err != nil {
		return false, fmt.Errorf("unlink customer %s from %s: %w", customerID, incidentID, err)
	}
	return res.n == 1, nil
}

// Customer reads one customer inside the transaction.
func (tx *Tx) Customer(ctx context.Context, id string) (Customer, error) {
	return getCustomer(ctx, tx.tx, id)
}

// Person reads one person inside the transaction.
func (tx *Tx) Person(ctx context.Context, id string) (Person, error) {
	return getPerson(ctx, prepared{tx}, id)
}

// prepared reads through statements prepared once on the writer
// connection, for the lookups every action makes (who acts, the
// incident): parsing their SQL again each time is measurable.
type prepared struct{ tx *Tx }

func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.tx.queryRow(ctx, query, args...)
}

func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.tx.tx.QueryContext(ctx, query, args...)
}

// People lists every person by id inside the transaction.
func (tx *Tx) People(ctx context.Context) ([]Person, error) {
	rows, err := tx.tx.QueryContext(ctx, "SELECT "+personColumns+" FROM people ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("read people: %w", err)
	}
	return collect(rows, scanPerson, "read people")
}

// CustomerCount counts the customers in the directory.
func (tx *Tx) CustomerCount(ctx context.Context) (int, error) {
	var n int
	if err := tx.queryRow(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil {
		return 0, fmt.Errorf("count customers: %w", err)
	}
	return n, nil
}

// PersonByOSUser is Store.PersonByOSUser inside the transaction.
func (tx *Tx) PersonByOSUser(ctx context.Context, osUser string) (Person, error) {
	return personByOSUser(ctx, prepared{tx}, osUser)
}

// PersonByKey is Store.PersonByKey inside the transaction.
func (tx *Tx) PersonByKey(ctx context.Context, fingerprint string) (Person, error) {
	return personByKey(ctx, prepared{tx}, fingerprint)
}

// IdentityState is Store.IdentityState inside the transaction.
func (tx *Tx) IdentityState(ctx context.Context) (IdentityState, error) {
	return identityState(tx.queryRow(ctx, identityStateQuery))
}

// IncidentCustomers lists the customers linked to an incident.
func (tx *Tx) IncidentCustomers(ctx context.Context, incidentID string) ([]Customer, error) {
	return incidentCustomers(ctx, tx.tx, incidentID)
}

// steps ----------------------------------------------------------------------

// InsertSteps stores an incident's checklist, in order, all open. The
// rows go in one statement (per 100 steps): a checklist is written in the
// same durable transaction as the declaration, and every statement costs.
func (tx *Tx) InsertSteps(ctx context.Context, incidentID string, steps []Step) error {
	for start := 0; start < len(steps); start += 100 {
		chunk := steps[start:min(start+100, len(steps))]
		var q strings.Builder
		q.WriteString(`INSERT INTO step_state (incident_id, step_id, position, phase, title, role, required) VALUES `)
		args := make([]any, 0, 7*len(chunk))
		for i, st := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, incidentID, st.ID, start+i+1, st.Phase, st.Title, st.Role, boolInt(st.Required))
		}
		if _, err := tx.write(ctx, "step_state", q.String(), args...); err != nil {
			return fmt.Errorf("insert the checklist of %s: %w", incidentID, err)
		}
	}
	return nil
}

const stepColumns = "incident_id, step_id, position, phase, title, role, required, status, note, actor, at"

func scanStep(sc scanner) (Step, error) {
	var (
		st  Step
		req int
		at  sql.NullString
	)
	if err := sc.Scan(&st.IncidentID, &st.ID, &st.Position, &st.Phase, &st.Title, &st.Role, &req,
		&st.Status, &st.Note, &st.Actor, &at); err != nil {
		return Step{}, err
	}
	st.Required = req != 0
	var err error
	st.At, err = scanNullTime(at)
	return st, err
}

// Step reads one step of an incident's checklist.
func (tx *Tx) Step(ctx context.Context, incidentID, stepID string) (Step, error) {
	return one(tx.queryRow(ctx, "SELECT "+stepColumns+
		" FROM step_state WHERE incident_id = ? AND step_id = ?", incidentID, stepID),
		scanStep, "step %s of %s", stepID, incidentID)
}

// Steps lists an incident's checklist in order.
func (tx *Tx) Steps(ctx context.Context, incidentID string) ([]Step, error) {
	return incidentSteps(ctx, tx.tx, incidentID)
}

// AddSteps adds steps to an incident's checklist, open, at their
// Position; SetStepPositions orders the whole checklist.
func (tx *Tx) AddSteps(ctx context.Context, incidentID string, steps []Step) error {
	for _, st := range steps {
		if _, err := tx.write(ctx, "step_state", `INSERT INTO step_state (incident_id, step_id, position, phase, title, role, required)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, incidentID, st.ID, st.Position, st.Phase, st.Title, st.Role, boolInt(st.Required)); err != nil {
			return fmt.Errorf("add step %s to the checklist of %s: %w", st.ID, incidentID, err)
		}
	}
	return nil
}

// SetStepPositions puts the checklist of an incident in the order given
// by positions (step id to position).
func (tx *Tx) SetStepPositions(ctx context.Context, incidentID string, positions map[string]int) error {
	ids := make([]string, 0, len(positions))
	for id := range positions {
		ids = append(ids, id)
	}
	sort.Strings(ids) // the same order every time, for the record
	for _, id := range ids {
		if _, err := tx.write(ctx, "step_state", `UPDATE step_state SET position = ? WHERE incident_id = ? AND step_id = ? AND position != ?`,
			positions[id], incidentID, id, positions[id]); err != nil {
			return fmt.Errorf("order the checklist of %s: %w", incidentID, err)
		}
	}
	return nil
}

// SetStepState records that a step was done or skipped (or reopened, with
// StepOpen).
func (tx *Tx) SetStepState(ctx context.Context, incidentID, stepID, status, note, actor string, at time.Time) error {
	res, err := tx.write(ctx, "step_state", `UPDATE step_state SET status = ?, note = ?, actor = ?, at = ?
		WHERE incident_id = ? AND step_id = ?`, status, note, actor, nullTime(at), incidentID, stepID)
	if err != nil {
		return fmt.Errorf("update step %s of %s: %w", stepID, incidentID, err)
	}
	if res.n == 0 {
		return fmt.Errorf("step %s of %s: %w", stepID, incidentID, ErrNotFound)
	}
	return nil
}

// roles ----------------------------------------------------------------------

const assignmentColumns = `id, incident_id, role, person_id, assigned_at, assigned_by, acknowledged_at,
	ended_at, COALESCE(handed_over_to, '')`

func scanAssignment(sc scanner) (Assignment, error) {
	var (
		a          Assignment
		assigned   string
		ack, ended sql.NullString
	)
	if err := sc.Scan(&a.ID, &a.IncidentID, &a.Role, &a.PersonID, &assigned, &a.AssignedBy, &ack,
		&ended, &a.HandedOverTo); err != nil {
		return Assignment{}, err
	}
	var err error
	if a.AssignedAt, err = parseTime(assigned); err != nil {
		return Assignment{}, err
	}
	if a.AcknowledgedAt, err = scanNullTime(ack); err != nil {
		return Assignment{}, err
	}
	a.EndedAt, err = scanNullTime(ended)
	return a, err
}

// CurrentAssignment is who holds the role now; ErrNotFound when nobody.
func (tx *Tx) CurrentAssignment(ctx context.Context, incidentID, role string) (Assignment, error) {
	return one(tx.queryRow(ctx, "SELECT "+assignmentColumns+
		" FROM role_assignments WHERE incident_id = ? AND role = ? AND ended_at IS NULL", incidentID, role),
		scanAssignment, "role %s of %s", role, incidentID)
}

// EndAssignment ends a holding; handedOverTo names the next holder, if any.
func (tx *Tx) EndAssignment(ctx context.Context, id int64, at time.Time, handedOverTo string) error {
	var next any
	if handedOverTo != "" {
		next = handedOverTo
	}
	res, err := tx.write(ctx, "role_assignments", `UPDATE role_assignments SET ended_at = ?, handed_over_to = ?
		WHERE id = ? AND ended_at IS NULL`, FormatTime(at), next, id)
	if err != nil {
		return fmt.Errorf("end role assignment %d: %w", id, err)
	}
	if res.n == 0 {
		return fmt.Errorf("current role assignment %d: %w", id, ErrNotFound)
	}
	return nil
}

// InsertAssignment stores a new holding and sets a.ID.
func (tx *Tx) InsertAssignment(ctx context.Context, a *Assignment) error {
	res, err := tx.write(ctx, "role_assignments", `INSERT INTO role_assignments (incident_id, role, person_id,
		assigned_at, assigned_by) VALUES (?, ?, ?, ?, ?)`,
		a.IncidentID, a.Role, a.PersonID, FormatTime(a.AssignedAt), a.AssignedBy)
	if err != nil {
		return fmt.Errorf("assign %s as %s of %s: %w", a.PersonID, a.Role, a.IncidentID, err)
	}
	a.ID = res.id
	return nil
}

// AcknowledgeAssignment records that the holder took the role on.
func (tx *Tx) AcknowledgeAssignment(ctx context.Context, id int64, at time.Time) error {
	_, err := tx.write(ctx, "role_assignments", "UPDATE role_assignments SET acknowledged_at = ? WHERE id = ?",
		FormatTime(at), id)
	if err != nil {
		return fmt.Errorf("acknowledge role assignment %d: %w", id, err)
	}
	return nil
}

// obligations ----------------------------------------------------------------

// InsertObligationEvent stores a submission, pause, anchor or decision and
// sets e.ID.
func (tx *Tx) InsertObligationEvent(ctx context.Context, e *ObligationEvent) error {
	res, err := tx.write(ctx, "obligation_events", `INSERT INTO obligation_events (incident_id, obligation_id, kind,
		at, actor, note, value, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.IncidentID, e.ObligationID, e.Kind, FormatTime(e.At), e.Actor, e.Note, e.Value, FormatTime(e.RecordedAt))
	if err != nil {
		return fmt.Errorf("record %s of %s for %s: %w", e.Kind, e.ObligationID, e.IncidentID, err)
	}
	e.ID = res.id
	return nil
}

// ObligationEvents lists an incident's obligation events, oldest first.
func (tx *Tx) ObligationEvents(ctx context.Context, incidentID string) ([]ObligationEvent, error) {
	return obligationEvents(ctx, tx.tx, incidentID)
}

// chains ---------------------------------------------------------------------

// AppendTimeline appends e to the timeline chain. It sets e.ID, e.Seq,
// e.PrevHash and e.Hash; e.Data may be empty (stored as {}).
func (tx *Tx) AppendTimeline(ctx context.Context, e *TimelineEntry) error {
	t, err := tx.loadTails(ctx)
	if err != nil {
		return err
	}
	seq, err := tx.nextSeq(ctx, e.IncidentID)
	if err != nil {
		return err
	}
	data := strings.TrimSpace(string(e.Data))
	if data == "" || data == "null" {
		data = "{}"
	}
	r := timelineRow{id: t.timelineID + 1, incidentID: e.IncidentID, seq: seq, at: FormatTime(e.At),
		actor: e.Actor, kind: e.Kind, summary: e.Summary, data: data, prev: t.timelineHash, auth: e.Auth}
	r.hash = r.computeHash()
	_, err = tx.exec(ctx, `INSERT INTO timeline (id, incident_id, seq, at, actor, kind, summary,
		data, prev_hash, auth, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.id, r.incidentID, r.seq, r.at, r.actor, r.kind, r.summary, r.data, r.prev, r.auth, r.hash)
	if err != nil {
		return fmt.Errorf("append %s to the timeline of %s: %w", e.Kind, e.IncidentID, err)
	}
	t.timelineID, t.timelineHash = r.id, r.hash
	tx.setSeq(r.incidentID, r.seq)
	e.ID, e.Seq, e.Data, e.PrevHash, e.Hash = r.id, r.seq, json.RawMessage(data), r.prev, r.hash
	e.At = e.At.UTC()
	cp := *e
	tx.lastTimeline = &cp
	return nil
}

// AppendAudit appends e to the audit chain. Unless e names a timeline
// entry, it refers to the newest one this transaction appended, so the
// audit log vouches for the timeline too. It sets e.ID, e.PrevHash, e.Hash.
func (tx *Tx) AppendAudit(ctx context.Context, e *AuditEntry) error {
	if e.TimelineID == 0 && tx.lastTimeline != nil {
		e.TimelineID, e.TimelineHash = tx.lastTimeline.ID, tx.lastTimeline.Hash
	}
	t, err := tx.loadTails(ctx)
	if err != nil {
		return err
	}
	state := tx.takeState()
	r := auditRow{id: t.auditID + 1, at: FormatTime(e.At), actor: e.Actor, action: e.Action,
		incidentID: e.IncidentID, outcome: e.Outcome, detail: e.Detail, timelineID: e.TimelineID,
		timelineHash: e.TimelineHash, prev: t.auditHash, auth: e.Auth, state: state}
	r.hash = r.computeHash()
	if err := insertAudit(ctx, tx.exec, r); err != nil {
		return fmt.Errorf("append %s to the audit log: %w", e.Action, err)
	}
	t.auditID, t.auditHash = r.id, r.hash
	e.ID, e.PrevHash, e.Hash, e.State = r.id, r.prev, r.hash, r.state
	e.At = e.At.UTC()
	return nil
}

type execFunc func(ctx context.Context, query string, args ...any) (sql.Result, error)

// insertAudit stores an audit row whose hash is computed.
func insertAudit(ctx context.Context, exec execFunc, r auditRow) error {
	var incident, timelineID any
	if r.incidentID != "" {
		incident = r.incidentID
	}
	if r.timelineID != 0 {
		timelineID = r.timelineID
	}
	_, err := exec(ctx, `INSERT INTO audit (id, at, actor, action, incident_id, outcome, detail,
		timeline_id, timeline_hash, prev_hash, auth, hash, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.id, r.at, r.actor, r.action, incident, r.outcome, r.detail, timelineID, r.timelineHash, r.prev, r.auth, r.hash, r.state)
	return err
}

// directory ------------------------------------------------------------------

// UpsertPerson adds a person or replaces their details, their OS users,
// SSH keys and permissions included. p.Fingerprints must hold the
// fingerprint of each of p.SSHKeys (ValidateDirectory fills them in). An
// OS user or key that is someone else's is an error naming it.
func (tx *Tx) UpsertPerson(ctx context.Context, p Person, at time.Time) error {
	roles, err := marshalJSON(p.Roles, "[]")
	if err != nil {
		return fmt.Errorf("person %s: roles: %w", p.ID, err)
	}
	perms, err := marshalJSON(p.Permissions, "[]")
	if err != nil {
		return fmt.Errorf("person %s: permissions: %w", p.ID, err)
	}
	if len(p.Fingerprints) != len(p.SSHKeys) {
		return fmt.Errorf("person %s: %d SSH keys but %d fingerprints", p.ID, len(p.SSHKeys), len(p.Fingerprints))
	}
	_, err = tx.write(ctx, "people", `INSERT INTO people (id, name, email, slack_user_id, roles, permissions, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,
			slack_user_id = excluded.slack_user_id, roles = excluded.roles, permissions = excluded.permissions,
			updated_at = excluded.updated_at`,
		p.ID, p.Name, p.Email, p.SlackUserID, roles, perms, FormatTime(at))
	if err != nil {
		return fmt.Errorf("store person %s: %w", p.ID, err)
	}
	if _, err := tx.write(ctx, "person_os_users", "DELETE FROM person_os_users WHERE person_id = ?", p.ID); err != nil {
		return fmt.Errorf("store person %s: %w", p.ID, err)
	}
	if _, err := tx.write(ctx, "person_keys", "DELETE FROM person_keys WHERE person_id = ?", p.ID); err != nil {
		return fmt.Errorf("store person %s: %w", p.ID, err)
	}
	for _, u := range p.OSUsers {
		if err := tx.claimIdentity(ctx, "person_os_users", "os_user", u, p.ID, "OS user "+u,
			"INSERT INTO person_os_users (os_user, person_id) VALUES (?, ?)", u, p.ID); err != nil {
			return err
		}
	}
	for i, line := range p.SSHKeys {
		key, comment := splitKeyLine(line)
		fp := p.Fingerprints[i]
		if err := tx.claimIdentity(ctx, "person_keys", "fingerprint", fp, p.ID, "SSH key "+fp,
			"INSERT INTO person_keys (fingerprint, person_id, position, key, comment) VALUES (?, ?, ?, ?, ?)",
			fp, p.ID, i, key, comment); err != nil {
			return err
		}
	}
	return nil
}

// IdentityTakenError says that an OS user or SSH key being given to one
// person already belongs to another.
type IdentityTakenError struct {
	What   string // "OS user bob", "SSH key SHA256:..."
	Person string // who has it
	Wanted string // who was to get it
}

func (e *IdentityTakenError) Error() string {
	return fmt.Sprintf("%s already belongs to %s, so it cannot also be %s's: each OS user and each key is one person's",
		e.What, e.Person, e.Wanted)
}

// Unwrap makes errors.Is(err, ErrInvalidDirectory) true.
func (e *IdentityTakenError) Unwrap() error { return ErrInvalidDirectory }

func (tx *Tx) claimIdentity(ctx context.Context, table, column, value, person, what, insert string, args ...any) error {
	var owner string
	err := tx.queryRow(ctx, "SELECT person_id FROM "+table+" WHERE "+column+" = ?", value).Scan(&owner)
	switch {
	case err == nil:
		return &IdentityTakenError{What: what, Person: owner, Wanted: person}
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store person %s: %w", person, err)
	}
	if _, err := tx.write(ctx, table, insert, args...); err != nil {
		return fmt.Errorf("store %s of %s: %w", what, person, err)
	}
	return nil
}

// splitKeyLine splits a normalised authorized_keys line ("type base64
// comment") into the key and its comment.
func splitKeyLine(line string) (key, comment string) {
	f := strings.SplitN(line, " ", 3)
	if len(f) < 3 {
		return line, ""
	}
	return f[0] + " " + f[1], f[2]
}

// SetMeta sets (or, with an empty value, removes) a row of irtui_meta.
func (tx *Tx) SetMeta(ctx context.Context, key, value string) error {
	var err error
	if value == "" {
		_, err = tx.write(ctx, "irtui_meta", "DELETE FROM irtui_meta WHERE key = ?", key)
	} else {
		_, err = tx.write(ctx, "irtui_meta", `INSERT INTO irtui_meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	}
	if err != nil {
		return fmt.Errorf("set %s: %w", key, err)
	}
	return nil
}

// UpsertCustomer adds a customer or replaces their details.
func (tx *Tx) UpsertCustomer(ctx context.Context, c Customer, at time.Time) error {
	_, err := tx.write(ctx, "customers", `INSERT INTO customers (id, name, language, region, contact_kind, contact, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, language = excluded.language,
			region = excluded.region, contact_kind = excluded.contact_kind, contact = excluded.contact,
			updated_at = excluded.updated_at`,
		c.ID, c.Name, c.Language, c.Region, c.ContactKind, c.Contact, FormatTime(at))
	if err != nil {
		return fmt.Errorf("store customer %s: %w", c.ID, err)
	}
	return nil
}
