package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
)

// The state tables (incidents, roles, customers, the directory, the
// outbox, ...) change in place, so no chain can hold them as they are.
// Instead every change to a row of a covered table is recorded in the
// audit chain: the audit entry written next in the same transaction
// carries, in its state field, one line per row the transaction changed
// since the previous audit entry:
//
//	TABLE <tab> KEY <tab> ROW-HASH <newline>
//
// KEY is the JSON array of the row's key columns; ROW-HASH is the hex
// SHA-256 of the row as it was after the change (rowHash), or "-" when the
// row was deleted. Replaying the state fields in audit order gives, for
// every row, the hash the chain vouches for; `audit verify` compares it
// with the row as it is. The row hash covers every column by name, so a
// column added later (with a default) is covered without any change here,
// and rows written before it was added keep their hashes: a column holding
// its declared default is left out of the hash.

// coveredTable is a state table whose rows the audit chain vouches for,
// with the columns that identify a row.
type coveredTable struct {
	name string
	key  []string
	// exempt lists rows (by their key) that migrations write once and
	// nothing changes, which are checked otherwise.
	exempt []string
}

// coveredTables lists every state table. A new table must be added here,
// or to uncoveredTables with the reason (a test checks that every table is
// in one of the two).
var coveredTables = []coveredTable{
	// Of irtui_meta, "application" marks the file (checked when it is
	// opened) and "database_id" is what checkpoints name (a changed one
	// makes every checkpoint another database's); the rest is covered.
	{"irtui_meta", []string{"key"}, []string{`["application"]`, `["database_id"]`}},
	{"incidents", []string{"id"}, nil},
	{"incident_customers", []string{"incident_id", "customer_id"}, nil},
	{"people", []string{"id"}, nil},
	{"person_os_users", []string{"os_user"}, nil},
	{"person_keys", []string{"fingerprint"}, nil},
	{"customers", []string{"id"}, nil},
	{"role_assignments", []string{"id"}, nil},
	{"step_state", []string{"incident_id", "step_id"}, nil},
	{"obligation_events", []string{"id"}, nil},
	{"outbox", []string{"id"}, nil},
	{"notify_fired", []string{"incident_id", "rule_id", "trigger_key"}, nil},
	{"drill_runs", []string{"id"}, nil},
	{"drill_events", []string{"id"}, nil},
	{"drill_hotwash", []string{"id"}, nil},
	{"drill_action_items", []string{"id"}, nil},
	{"drill_incidents", []string{"run_id", "module"}, nil},
	{"drill_feedback", []string{"id"}, nil},
}

// uncoveredTables are the tables the state lines leave out, and why.
var uncoveredTables = map[string]string{
	"timeline":         "a hash chain itself",
	"audit":            "a hash chain itself",
	"notify_channels":  "when the next message may go to a channel (rate spacing), not what was sent",
	"drill_heartbeats": "when a process playing a drill last said it was alive (liveness, every few seconds), not what was done",
	"incident_counts":  "derived from incidents by triggers, for the lists; audit verify counts the incidents again and compares",
}

func coveredTableNamed(name string) (coveredTable, bool) {
	for _, c := range coveredTables {
		if c.name == name {
			return c, true
		}
	}
	return coveredTable{}, false
}

// Row value types, as SQLite stores them.
const (
	valInteger byte = 'i'
	valReal    byte = 'r'
	valText    byte = 't'
	valBlob    byte = 'b'
	valNull    byte = 'n'
)

// appendValue appends the canonical form of a value: its type letter and
// then its bytes (integers in decimal, reals in Go's shortest form).
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, valNull)
	case int64:
		return strconv.AppendInt(append(b, valInteger), v, 10)
	case float64:
		return appendReal(b, v)
	case string:
		return append(append(b, valText), v...)
	case []byte:
		return append(append(b, valBlob), v...)
	case bool: // not stored by irtui; here for completeness
		if v {
			return append(b, valInteger, '1')
		}
		return append(b, valInteger, '0')
	}
	return fmt.Appendf(append(b, valText), "%v", v)
}

func appendReal(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		// 3.0 and 3 are the same real; keep one spelling.
		return strconv.AppendFloat(append(b, valReal), f, 'f', -1, 64)
	}
	return strconv.AppendFloat(append(b, valReal), f, 'g', -1, 64)
}

// tableInfo is what hashing a table's rows needs: its columns in name
// order, the canonical form of each column's declared default, and where
// the key columns are.
type tableInfo struct {
	name     string
	exempt   []string // keys of rows left out (coveredTable.exempt)
	cols     []string // sorted
	defaults [][]byte // canonical default per column
	key      []int    // indexes into cols
	keyNames []string
	// selectList is the quoted column list in cols order.
	selectList string
	id         int // the index of the "id" column, or -1
}

// loadTableInfo reads a table's columns and evaluates their defaults.
func loadTableInfo(ctx context.Context, q querier, t coveredTable) (*tableInfo, error) {
	rows, err := q.QueryContext(ctx, "SELECT name, dflt_value FROM pragma_table_info(?)", t.name)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", t.name, err)
	}
	type col struct {
		name string
		dflt sql.NullString
	}
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.name, &c.dflt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read the columns of %s: %w", t.name, err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", t.name, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("table %s is missing", t.name)
	}
	sort.Slice(cols, func(i, j int) bool { return cols[i].name < cols[j].name })
	ti := &tableInfo{name: t.name, keyNames: t.key, exempt: t.exempt}
	var list []string
	for _, c := range cols {
		ti.cols = append(ti.cols, c.name)
		list = append(list, quoteIdent(c.name))
		var def any
		if c.dflt.Valid {
			// A declared default is a constant expression; SQLite gives
			// its value the type it will store.
			if err := q.QueryRowContext(ctx, "SELECT "+c.dflt.String).Scan(&def); err != nil {
				return nil, fmt.Errorf("default of %s.%s: %w", t.name, c.name, err)
			}
		}
		ti.defaults = append(ti.defaults, appendValue(nil, def))
	}
	if err := ti.locate(t, list); err != nil {
		return nil, err
	}
	return ti, nil
}

// locate sets what follows from the table's sorted columns: the select
// list (quoted names, list) and where the id and key columns are.
func (ti *tableInfo) locate(t coveredTable, list []string) error {
	ti.selectList = strings.Join(list, ", ")
	ti.id = -1
	if i := sort.SearchStrings(ti.cols, "id"); i < len(ti.cols) && ti.cols[i] == "id" {
		ti.id = i
	}
	for _, k := range t.key {
		i := sort.SearchStrings(ti.cols, k)
		if i == len(ti.cols) || ti.cols[i] != k {
			return fmt.Errorf("table %s has no key column %s", t.name, k)
		}
		ti.key = append(ti.key, i)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// rowHasher hashes rows without allocating per row.
type rowHasher struct {
	pre     []byte
	key     []byte
	val     []byte
	keyVals []any
	canon   [][]byte
}

const rowDomain = "irtui/row/v1"

func appendField(b []byte, f []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
	return append(b, f...)
}

func appendFieldString(b []byte, f string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
	return append(b, f...)
}

// hash is the row hash: SHA-256 over the domain tag, the table name, and
// the name and canonical value of every column whose value is not its
// declared default, in name order, each a length-prefixed field. vals are
// canonical values (appendValue) in ti.cols order.
func (h *rowHasher) hash(ti *tableInfo, vals [][]byte) [32]byte {
	h.pre = appendFieldString(h.pre[:0], rowDomain)
	h.pre = appendFieldString(h.pre, ti.name)
	for i, v := range vals {
		if string(v) == string(ti.defaults[i]) {
			continue
		}
		h.pre = appendFieldString(h.pre, ti.cols[i])
		h.pre = appendField(h.pre, v)
	}
	return sha256.Sum256(h.pre)
}

// hashValues hashes a row read as driver values (in ti.cols order) and
// returns its key (appendKey) and hash; the key is valid until the next
// call.
func (h *rowHasher) hashValues(ti *tableInfo, vals []driver.Value) ([]byte, [32]byte) {
	if cap(h.keyVals) < len(ti.key) {
		h.keyVals = make([]any, len(ti.key))
	}
	kv := h.keyVals[:len(ti.key)]
	for i, k := range ti.key {
		kv[i] = vals[k]
	}
	h.key = appendKey(h.key[:0], kv)
	h.pre = appendFieldString(h.pre[:0], rowDomain)
	h.pre = appendFieldString(h.pre, ti.name)
	for i, v := range vals {
		h.val = appendValue(h.val[:0], v)
		if string(h.val) == string(ti.defaults[i]) {
			continue
		}
		h.pre = appendFieldString(h.pre, ti.cols[i])
		h.pre = appendField(h.pre, h.val)
	}
	return h.key, sha256.Sum256(h.pre)
}

// appendKey appends the key of a row: a JSON array of its key values
// (strings quoted, integers as they are).
func appendKey(b []byte, vals []any) []byte {
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := v.(type) {
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case string:
			b = appendJSONString(b, v)
		case []byte:
			b = appendJSONString(b, string(v))
		case nil:
			b = append(b, "null"...)
		default:
			b = appendJSONString(b, fmt.Sprint(v))
		}
	}
	return append(b, ']')
}

// appendJSONString quotes s as JSON does, escaping quotes, backslashes,
// control characters and invalid UTF-8 (as U+FFFD), and nothing else.
func appendJSONString(b []byte, s string) []byte { return appendJSON(b, s) }

// appendJSONBytes is appendJSONString for bytes.
func appendJSONBytes(b []byte, s []byte) []byte { return appendJSON(b, s) }

func appendJSON[S string | []byte](b []byte, s S) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune([]byte(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// deletedRow is the hash recorded for a row that was deleted.
const deletedRow = "-"

// pendingRow is a row a transaction changed and has not yet recorded:
// its table, key and hash (hex, or deletedRow).
type pendingRow struct {
	table, key, hash string
}

// written is what a write to a state table changed.
type written struct {
	n  int   // rows changed
	id int64 // the "id" column of the last row changed, if it is an integer
}

// write runs an INSERT, UPDATE or DELETE on a covered state table, with
// RETURNING every column of each row it changed, and records those rows:
// their hashes go into the transaction's next audit entry. Every write to
// a state table goes through here (exec refuses them), so none escapes the
// record. An UPDATE that matches nothing, or an INSERT that does nothing
// on a conflict, changes and records nothing.
//
// It runs on the driver's connection directly: every action makes a few
// of these, and database/sql's scanning of whole rows costs more than the
// write.
func (tx *Tx) write(ctx context.Context, table, query string, args ...any) (written, error) {
	if err := tx.usable(); err != nil {
		return written{}, err
	}
	ti, err := tx.st.tableInfo(ctx, tx.tx, table)
	if err != nil {
		return written{}, err
	}
	tx.changed = true
	var w written
	err = tx.tx.Raw(func(dc any) error {
		conn, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("store: unexpected driver connection %T", dc)
		}
		stmt, err := tx.st.returning(conn, query, ti)
		if err != nil {
			return err
		}
		nv := tx.named[:0]
		for i, a := range args {
			v, err := driverValue(a)
			if err != nil {
				return err
			}
			nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: v})
		}
		tx.named = nv
		rows, err := stmt.(driver.StmtQueryContext).QueryContext(ctx, nv)
		if err != nil {
			return err
		}
		defer rows.Close()
		if cap(tx.dest) < len(ti.cols) {
			tx.dest = make([]driver.Value, len(ti.cols))
		}
		dest := tx.dest[:len(ti.cols)]
		for {
			err := rows.Next(dest)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			w.n++
			if ti.id >= 0 {
				if id, ok := dest[ti.id].(int64); ok {
					w.id = id
				}
			}
			key, sum := tx.rows.hashValues(ti, dest)
			hash := deletedRow
			if !ti.deleting(query) {
				hash = hex.EncodeToString(sum[:])
			}
			tx.record(table, string(key), hash)
		}
	})
	if err != nil {
		tx.lastErr = err
		return written{}, err
	}
	return w, nil
}

// returning prepares, once per writer connection, query with RETURNING
// the table's columns. The caller holds wsem.
func (s *Store) returning(conn *sqlite3.SQLiteConn, query string, ti *tableInfo) (driver.Stmt, error) {
	if st, ok := s.dstmts[query]; ok {
		return st, nil
	}
	st, err := conn.Prepare(query + " RETURNING " + ti.selectList)
	if err != nil {
		return nil, err
	}
	if s.dstmts == nil {
		s.dstmts = map[string]driver.Stmt{}
	}
	s.dstmts[query] = st
	return st, nil
}

// driverValue is what database/sql would pass the driver for a Go value.
func driverValue(a any) (driver.Value, error) {
	switch v := a.(type) {
	case nil, int64, float64, string, []byte, bool:
		return v, nil
	case int:
		return int64(v), nil
	}
	return driver.DefaultParameterConverter.ConvertValue(a)
}

// deleting reports whether query deletes rows.
func (ti *tableInfo) deleting(query string) bool {
	q := strings.TrimSpace(query)
	return len(q) >= 6 && strings.EqualFold(q[:6], "DELETE")
}

// record notes a row's new state for the next audit entry; a row changed
// twice before it keeps its place and takes the newer hash.
func (tx *Tx) record(table, key, hash string) {
	k := table + "\x00" + key
	if i, ok := tx.pendingAt[k]; ok {
		tx.pending[i].hash = hash
		return
	}
	if tx.pendingAt == nil {
		tx.pendingAt = map[string]int{}
	}
	tx.pendingAt[k] = len(tx.pending)
	tx.pending = append(tx.pending, pendingRow{table: table, key: key, hash: hash})
}

// tableInfo returns a covered table's info, read once per Store.
func (s *Store) tableInfo(ctx context.Context, q querier, name string) (*tableInfo, error) {
	s.tablesMu.Lock()
	defer s.tablesMu.Unlock()
	if ti, ok := s.tables[name]; ok {
		return ti, nil
	}
	t, ok := coveredTableNamed(name)
	if !ok {
		return nil, fmt.Errorf("table %s is not a covered state table", name)
	}
	ti, err := loadTableInfo(ctx, q, t)
	if err != nil {
		return nil, err
	}
	if s.tables == nil {
		s.tables = map[string]*tableInfo{}
	}
	s.tables[name] = ti
	return ti, nil
}

// takeState returns the state lines of the rows recorded since the last
// audit entry, in the order they were first changed, and starts afresh.
func (tx *Tx) takeState() string {
	if len(tx.pending) == 0 {
		return ""
	}
	var b strings.Builder
	for _, p := range tx.pending {
		b.WriteString(p.table)
		b.WriteByte('\t')
		b.WriteString(p.key)
		b.WriteByte('\t')
		b.WriteString(p.hash)
		b.WriteByte('\n')
	}
	tx.pending, tx.pendingAt = tx.pending[:0], nil
	return b.String()
}

// hashRows hashes every row of rows (selected with ti.selectList) and
// calls fn with each row's key, hash and values. It closes rows.
func hashRows(rows *sql.Rows, ti *tableInfo, h *rowHasher, fn func(key []byte, hash [32]byte, vals []any)) error {
	defer rows.Close()
	vals := make([]any, len(ti.cols))
	ptrs := make([]any, len(ti.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if len(h.canon) < len(ti.cols) {
		h.canon = make([][]byte, len(ti.cols))
	}
	canon := h.canon[:len(ti.cols)]
	keyVals := make([]any, len(ti.key))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			canon[i] = appendValue(canon[i][:0], v)
		}
		for i, k := range ti.key {
			keyVals[i] = vals[k]
		}
		h.key = appendKey(h.key[:0], keyVals)
		fn(h.key, h.hash(ti, canon), vals)
	}
	return rows.Err()
}

// flushState records rows changed after the transaction's last audit
// entry in an audit entry of their own, so that no change escapes the
// chain even if a caller wrote without auditing.
func (tx *Tx) flushState(ctx context.Context) error {
	if len(tx.pending) == 0 {
		return nil
	}
	return tx.AppendAudit(ctx, &AuditEntry{At: tx.st.clock.Now(), Actor: SystemActor, Action: "record_state",
		Outcome: OutcomeOK, Detail: fmt.Sprintf("%d changed row(s) not covered by an audit entry of their own", len(tx.pending))})
}

// SystemActor is who irtui records for what it does by itself.
const SystemActor = "irtui"

// The migration that began recording state records the state as found.
func init() { migrationHooks["_record.sql"] = baselineState }

// baselineChunk is how many rows one baseline audit entry records.
const baselineChunk = 500

// baselineState records, when state coverage begins, the rows already in
// the covered tables: "baseline" audit entries by irtui, one per table and
// per baselineChunk rows. What happened to those rows before is vouched
// for only by the timeline.
func baselineState(ctx context.Context, tx *sql.Tx, now time.Time) error {
	var (
		id   int64
		prev string
	)
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0),
		COALESCE((SELECT hash FROM audit ORDER BY id DESC LIMIT 1), '') FROM audit`).Scan(&id, &prev); err != nil {
		return fmt.Errorf("read the end of the audit chain: %w", err)
	}
	var h rowHasher
	for _, t := range coveredTables {
		// A table a later migration creates starts empty: nothing to
		// record yet.
		var exists int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?",
			t.name).Scan(&exists); err != nil {
			return fmt.Errorf("look for table %s: %w", t.name, err)
		}
		if exists == 0 {
			continue
		}
		ti, err := loadTableInfo(ctx, tx, t)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+ti.selectList+" FROM "+quoteIdent(t.name))
		if err != nil {
			return fmt.Errorf("read %s: %w", t.name, err)
		}
		var lines []string
		if err := hashRows(rows, ti, &h, func(key []byte, hash [32]byte, _ []any) {
			if !slices.Contains(t.exempt, string(key)) {
				lines = append(lines, t.name+"\t"+string(key)+"\t"+hex.EncodeToString(hash[:])+"\n")
			}
		}); err != nil {
			return fmt.Errorf("read %s: %w", t.name, err)
		}
		for start := 0; start < len(lines); start += baselineChunk {
			part := lines[start:min(start+baselineChunk, len(lines))]
			id++
			r := auditRow{id: id, at: FormatTime(now), actor: SystemActor, action: "baseline", outcome: OutcomeOK,
				detail: fmt.Sprintf("state of %d row(s) of %s as found when the audit log began to record state", len(part), t.name),
				prev:   prev, state: strings.Join(part, "")}
			r.hash = r.computeHash()
			if err := insertAudit(ctx, tx.ExecContext, r); err != nil {
				return fmt.Errorf("record the state of %s: %w", t.name, err)
			}
			prev = r.hash
		}
	}
	return nil
}
