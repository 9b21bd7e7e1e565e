package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
)

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "irtui.db")
	s, err := Open(context.Background(), path, WithClock(clock.NewFake(t0)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// raw opens a plain connection to the file, as another program would.
func raw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// seed makes n incidents with entries timeline entries each, one
// transaction per incident, with an audit entry each.
func seed(t *testing.T, s *Store, n, entries int) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	for i := range n {
		err := s.Update(ctx, func(tx *Tx) error {
			in := Incident{Kind: KindIncident, Status: StatusOpen, RunbookID: "rb", RunbookVersion: "1",
				Title: fmt.Sprintf("incident %d", i), Severity: "SEV3", AwareAt: t0, DeclaredAt: t0,
				UpdatedAt: t0, CreatedBy: "alice"}
			if err := tx.InsertIncident(ctx, &in); err != nil {
				return err
			}
			ids = append(ids, in.ID)
			for j := range entries {
				e := TimelineEntry{IncidentID: in.ID, At: t0.Add(time.Duration(j) * time.Second), Actor: "alice",
					Kind: "note", Summary: fmt.Sprintf("note %d", j), Data: json.RawMessage(`{"j":` + fmt.Sprint(j) + `}`)}
				if err := tx.AppendTimeline(ctx, &e); err != nil {
					return err
				}
			}
			return tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Action: "declare", IncidentID: in.ID, Outcome: OutcomeOK})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	old := syscall.Umask(0) // the most permissive umask must not matter
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data", "irtui")
	path := filepath.Join(dir, "irtui.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seed(t, s, 1, 1) // make sure the WAL is written
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o700 {
		t.Errorf("folder mode = %o, want 700", got)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got := st.Mode().Perm(); got != 0o600 {
			t.Errorf("%s mode = %o, want 600", filepath.Base(p), got)
		}
	}
}

func TestOpenTightensExistingFile(t *testing.T) {
	_, path := openTest(t)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	st, _ := os.Stat(path)
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}
}

func TestMigrationsApplyOnceAndMarkTheFile(t *testing.T) {
	s, path := openTest(t)
	if v := SchemaVersion(); v < 1 {
		t.Fatalf("SchemaVersion = %d", v)
	}
	db := raw(t, path)
	var version, app int
	if err := db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA application_id").Scan(&app); err != nil {
		t.Fatal(err)
	}
	if version != SchemaVersion() || app != applicationID {
		t.Errorf("user_version = %d, application_id = %#x; want %d, %#x", version, app, SchemaVersion(), applicationID)
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	for _, table := range []string{"irtui_meta", "incidents", "customers", "incident_customers", "people",
		"role_assignments", "step_state", "obligation_events", "timeline", "audit"} {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, %v", table, n, err)
		}
	}
	seed(t, s, 1, 1)
	s.Close()
	// Reopening applies nothing and keeps the data.
	s2, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	list, err := s2.ListIncidents(context.Background(), ListFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("after reopen: %d incidents, %v", len(list), err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openTest(t)
	s.Close()
	mustExec(t, raw(t, path), "PRAGMA user_version = 99")
	_, err := Open(context.Background(), path)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
	want := fmt.Sprintf("database schema version 99 is newer than this irtui understands (%d); upgrade irtui", SchemaVersion())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("this is not a database, it is a shopping list\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, append([]byte("SQLite format 3\x00"), make([]byte, 4000)...), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	db := raw(t, other)
	mustExec(t, db, "CREATE TABLE recipes (name TEXT)")
	db.Close()
	otherID := filepath.Join(dir, "otherid.db")
	db = raw(t, otherID)
	mustExec(t, db, "PRAGMA application_id = 1234")
	mustExec(t, db, "CREATE TABLE x (y)")
	db.Close()

	for _, tc := range []struct {
		name, path, want string
	}{
		{"text file", text, "it is not an SQLite file"},
		{"corrupt SQLite file", corrupt, "not an irtui database"},
		{"another application's tables", other, "another application's tables and no irtui marker"},
		{"another application id", otherID, "belongs to another application"},
		{"a folder", dir, "not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrNotIrtui) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v; want ErrNotIrtui mentioning %q", err, tc.want)
			}
		})
	}
	// The refused files are left as they were.
	b, _ := os.ReadFile(text)
	if !strings.HasPrefix(string(b), "this is not a database") {
		t.Error("the text file was changed")
	}
	var mode string
	if err := raw(t, other).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("the other application's journal mode is now %q, %v", mode, err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/srv/data")
	if p, err := DefaultPath(); err != nil || p != "/srv/data/irtui/irtui.db" {
		t.Errorf("DefaultPath = %q, %v", p, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/responder")
	if p, err := DefaultPath(); err != nil || p != "/home/responder/.local/share/irtui/irtui.db" {
		t.Errorf("DefaultPath = %q, %v", p, err)
	}
	t.Setenv("XDG_DATA_HOME", "relative/ignored")
	if p, _ := DefaultPath(); p != "/home/responder/.local/share/irtui/irtui.db" {
		t.Errorf("DefaultPath with a relative XDG_DATA_HOME = %q", p)
	}
}

func TestTimesAreStoredInUTCSortably(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	berlin := time.FixedZone("CET", 3600)
	err := s.Update(ctx, func(tx *Tx) error {
		in := Incident{Kind: KindIncident, Status: StatusOpen, RunbookID: "rb", RunbookVersion: "1", Title: "t",
			Severity: "SEV2", AwareAt: t0.In(berlin), DeclaredAt: t0, UpdatedAt: t0, CreatedBy: "a"}
		return tx.InsertIncident(ctx, &in)
	})
	if err != nil {
		t.Fatal(err)
	}
	var aware string
	if err := raw(t, path).QueryRow("SELECT aware_at FROM incidents").Scan(&aware); err != nil {
		t.Fatal(err)
	}
	if aware != "2026-03-14T09:26:53.589793238Z" {
		t.Errorf("aware_at stored as %q", aware)
	}
	if got := FormatTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); got != "2026-01-02T03:04:05.000000000Z" {
		t.Errorf("FormatTime = %q; want fixed nine fractional digits", got)
	}
	d, err := s.Incident(ctx, "INC-0001")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Incident.AwareAt.Equal(t0) || d.Incident.AwareAt.Location() != time.UTC {
		t.Errorf("AwareAt read back as %v", d.Incident.AwareAt)
	}
}

func TestAppendOnlyTriggers(t *testing.T) {
	s, path := openTest(t)
	seed(t, s, 1, 3)
	db := raw(t, path)
	for _, q := range []string{
		"UPDATE timeline SET summary = 'x' WHERE id = 1",
		"DELETE FROM timeline WHERE id = 1",
		"UPDATE audit SET actor = 'mallory' WHERE id = 1",
		"DELETE FROM audit",
	} {
		if _, err := db.Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want append-only refusal", q, err)
		}
	}
}

func TestVerifyChainsIntact(t *testing.T) {
	s, _ := openTest(t)
	rep, err := s.VerifyChains(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("empty database: %+v, %v", rep, err)
	}
	seed(t, s, 3, 4)
	rep, err = s.VerifyChains(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("%+v, %v", rep, err)
	}
	if rep.Timeline.Entries != 12 || rep.Timeline.LastID != 12 || rep.Audit.Entries != 3 {
		t.Errorf("heads: %+v", rep)
	}
}

// tamper opens a separate connection, as an attacker with write access to
// the file would, and drops the append-only triggers first.
func tamper(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db := raw(t, path)
	for _, n := range appendOnlyTriggers {
		mustExec(t, db, "DROP TRIGGER IF EXISTS "+n)
	}
	for _, q := range stmts {
		mustExec(t, db, q)
	}
	db.Close()
}

func TestVerifyChainsNamesTamperedEntry(t *testing.T) {
	// rehash recomputes an entry's own hash after editing it, as an
	// attacker who knows the encoding would.
	rehash := func(t *testing.T, path string, id int64) string {
		db := raw(t, path)
		var r timelineRow
		if err := db.QueryRow(`SELECT id, incident_id, seq, at, actor, kind, summary, data, prev_hash FROM timeline WHERE id = ?`, id).
			Scan(&r.id, &r.incidentID, &r.seq, &r.at, &r.actor, &r.kind, &r.summary, &r.data, &r.prev); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("UPDATE timeline SET hash = '%s' WHERE id = %d", r.computeHash(), id)
	}
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, path string) []string
		table string
		id    int64
		kind  ProblemKind
	}{
		{"edited summary", func(*testing.T, string) []string {
			return []string{"UPDATE timeline SET summary = 'nothing happened' WHERE id = 5"}
		}, "timeline", 5, Altered},
		{"edited time", func(*testing.T, string) []string {
			return []string{"UPDATE timeline SET at = '2026-03-14T08:00:00.000000000Z' WHERE id = 7"}
		}, "timeline", 7, Altered},
		{"edited and rehashed", func(t *testing.T, path string) []string {
			tamper(t, path, "UPDATE timeline SET actor = 'mallory' WHERE id = 6")
			return []string{rehash(t, path, 6)}
		}, "timeline", 6, Altered},
		{"deleted entry", func(*testing.T, string) []string {
			return []string{"DELETE FROM timeline WHERE id = 5"}
		}, "timeline", 5, Removed},
		{"deleted first entry", func(*testing.T, string) []string {
			return []string{"DELETE FROM timeline WHERE id = 1"}
		}, "timeline", 1, Removed},
		{"deleted and renumbered", func(*testing.T, string) []string {
			return []string{"DELETE FROM timeline WHERE id = 5", "UPDATE timeline SET id = id - 1 WHERE id > 5"}
		}, "timeline", 5, Removed},
		{"deleted last entries", func(*testing.T, string) []string {
			return []string{"DELETE FROM timeline WHERE id >= 11"}
		}, "timeline", 12, Removed},
		{"swapped entries", func(*testing.T, string) []string {
			return []string{"UPDATE timeline SET id = -1 WHERE id = 5", "UPDATE timeline SET id = 5 WHERE id = 6",
				"UPDATE timeline SET id = 6 WHERE id = -1"}
		}, "timeline", 5, Reordered},
		{"edited audit entry", func(*testing.T, string) []string {
			return []string{"UPDATE audit SET actor = 'mallory' WHERE id = 2"}
		}, "audit", 2, Altered},
		{"deleted audit entry", func(*testing.T, string) []string {
			return []string{"DELETE FROM audit WHERE id = 2"}
		}, "audit", 2, Removed},
		{"swapped entries of different incidents", func(*testing.T, string) []string {
			return []string{"UPDATE timeline SET id = -1 WHERE id = 4", "UPDATE timeline SET id = 4 WHERE id = 5",
				"UPDATE timeline SET id = 5 WHERE id = -1"}
		}, "timeline", 4, Reordered},
		{"moved entry to the end", func(*testing.T, string) []string {
			return []string{"UPDATE timeline SET id = 100 WHERE id = 3", "UPDATE timeline SET id = id - 1 WHERE id > 3 AND id < 100",
				"UPDATE timeline SET id = 12 WHERE id = 100"}
		}, "timeline", 3, Reordered},
		{"swapped audit entries", func(*testing.T, string) []string {
			return []string{"UPDATE audit SET id = -1 WHERE id = 1", "UPDATE audit SET id = 1 WHERE id = 2",
				"UPDATE audit SET id = 2 WHERE id = -1"}
		}, "audit", 1, Reordered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t)
			seed(t, s, 3, 4) // timeline #1..#12, audit #1..#3
			tamper(t, path, tc.edit(t, path)...)
			rep, err := s.VerifyChains(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || len(rep.Problems) == 0 {
				t.Fatalf("report OK after tampering: %+v", rep)
			}
			p := rep.Problems[0]
			if p.Table != tc.table || p.ID != tc.id || p.Kind != tc.kind {
				t.Errorf("first problem = %v; want %s #%d %s", p, tc.table, tc.id, tc.kind)
			}
			// The dropped triggers are reported too.
			last := rep.Problems[len(rep.Problems)-1]
			if last.Kind != Unprotected {
				t.Errorf("missing triggers not reported: %+v", rep.Problems)
			}
		})
	}
}

func TestImportDirectory(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	d := Directory{
		People: []Person{{ID: "alice", Name: "Alice", Roles: []string{"incident_commander"}}, {ID: "bob"}},
		Customers: []Customer{
			{ID: "acme", Name: "Acme", ContactKind: "email", Contact: "sec@acme.test"},
			{ID: "globex", Name: "Globex", Language: "de", ContactKind: "slack", Contact: "#globex-sec"},
		},
	}
	res, err := s.ImportDirectory(ctx, "alice", d)
	if err != nil || res.People != 2 || res.Customers != 2 {
		t.Fatalf("import: %+v, %v", res, err)
	}
	p, err := s.Person(ctx, "bob")
	if err != nil || p.Name != "bob" || p.Roles == nil && len(p.Roles) != 0 {
		t.Errorf("bob = %+v, %v", p, err)
	}
	c, err := s.Customer(ctx, "acme")
	if err != nil || c.Language != "en" || c.Contact != "sec@acme.test" {
		t.Errorf("acme = %+v, %v", c, err)
	}
	if _, err := s.Customer(ctx, "initech"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown customer: %v", err)
	}

	// A bad entry refuses the whole import, and says where.
	bad := Directory{
		People: []Person{{ID: "carol"}, {ID: "alice"}, {ID: "alice"}},
		Customers: []Customer{
			{ID: "initech", Name: "Initech", ContactKind: "pager", Contact: "x"},
			{ID: "", Name: "Nobody", ContactKind: "email", Contact: "no-at-sign"},
		},
	}
	_, err = s.ImportDirectory(ctx, "alice", bad)
	if !errors.Is(err, ErrInvalidDirectory) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"people[2] (alice): id is already used by people[1]",
		`customers[0] (initech): contact_kind "pager" must be slack or email`,
		"customers[1]: id is required",
		`customers[1]: contact "no-at-sign" is not an email address`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := s.Person(ctx, "carol"); !errors.Is(err, ErrNotFound) {
		t.Errorf("carol was imported from a refused file: %v", err)
	}
	people, _ := s.People(ctx)
	customers, _ := s.Customers(ctx)
	if len(people) != 2 || len(customers) != 2 {
		t.Errorf("after refused import: %d people, %d customers", len(people), len(customers))
	}
	audit, err := s.Audit(ctx, AuditFilter{})
	if err != nil || len(audit) != 2 || audit[0].Outcome != OutcomeOK || audit[1].Outcome != OutcomeRefused ||
		audit[0].Action != "import" || !audit[0].At.Equal(t0) {
		t.Errorf("audit = %+v, %v", audit, err)
	}
	// Updating an existing entry.
	d.Customers[0].Name = "Acme Corp"
	if _, err := s.ImportDirectory(ctx, "alice", d); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Customer(ctx, "acme"); c.Name != "Acme Corp" {
		t.Errorf("acme not updated: %+v", c)
	}
}

func TestListAndWindow(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 5, 10)
	err := s.Update(ctx, func(tx *Tx) error {
		in, err := tx.Incident(ctx, ids[1])
		if err != nil {
			return err
		}
		in.Status, in.ClosedAt = StatusClosed, t0
		return tx.UpdateIncident(ctx, &in)
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.ListIncidents(ctx, ListFilter{})
	if err != nil || len(all) != 5 || all[0].ID != "INC-0005" || all[4].ID != "INC-0001" {
		t.Fatalf("all: %v, %v", all, err)
	}
	open, _ := s.ListIncidents(ctx, ListFilter{Status: StatusOpen, Limit: 2})
	if len(open) != 2 || open[0].ID != "INC-0005" {
		t.Errorf("open, limit 2: %v", open)
	}
	closed, _ := s.ListIncidents(ctx, ListFilter{Status: StatusClosed})
	if len(closed) != 1 || closed[0].ID != "INC-0002" || !closed[0].ClosedAt.Equal(t0) {
		t.Errorf("closed: %+v", closed)
	}
	if drills, _ := s.ListIncidents(ctx, ListFilter{Drill: DrillOnly}); len(drills) != 0 {
		t.Errorf("drills: %v", drills)
	}
	if _, err := s.ListIncidents(ctx, ListFilter{Status: "pending"}); err == nil {
		t.Error("unknown status accepted")
	}

	d, err := s.IncidentWindow(ctx, "INC-0003", TimelineWindow{After: 4, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.TimelineTotal != 10 || len(d.Timeline) != 3 || d.Timeline[0].Seq != 5 || d.Timeline[0].Summary != "note 4" {
		t.Errorf("window: total %d, %+v", d.TimelineTotal, d.Timeline)
	}
	// Every way of paging, each oldest first: the newest page, the first,
	// before a seq, after a seq, and past either end.
	for _, c := range []struct {
		w    TimelineWindow
		want []int64
	}{
		{TimelineWindow{Limit: 3}, []int64{8, 9, 10}},
		{TimelineWindow{Oldest: true, Limit: 3}, []int64{1, 2, 3}},
		{TimelineWindow{Before: 5, Limit: 3}, []int64{2, 3, 4}},
		{TimelineWindow{Before: 3, Limit: 3}, []int64{1, 2}},
		{TimelineWindow{After: 8, Limit: 3}, []int64{9, 10}},
		{TimelineWindow{After: 10, Limit: 3}, []int64{}},
		{TimelineWindow{Before: 1, Limit: 3}, []int64{}},
		{TimelineWindow{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	} {
		page, err := s.TimelinePage(ctx, "INC-0003", c.w)
		seqs := []int64{}
		for _, e := range page {
			seqs = append(seqs, e.Seq)
			if e.IncidentID != "INC-0003" {
				t.Errorf("%+v: entry of %s", c.w, e.IncidentID)
			}
		}
		if err != nil || !slices.Equal(seqs, c.want) {
			t.Errorf("TimelinePage(%+v) = %v, %v; want %v", c.w, seqs, err, c.want)
		}
	}
	head, err := s.IncidentHead(ctx, "INC-0003")
	if err != nil || head.TimelineTotal != 10 || len(head.Timeline) != 0 || head.Incident.ID != "INC-0003" {
		t.Errorf("IncidentHead: %d entries of %d, %v", len(head.Timeline), head.TimelineTotal, err)
	}
	var streamed []int64
	err = s.ReadIncident(ctx, "INC-0003", func(h Detail) error {
		if h.TimelineTotal != 10 {
			t.Errorf("ReadIncident head: total %d", h.TimelineTotal)
		}
		return nil
	}, func(e TimelineEntry) error {
		streamed = append(streamed, e.Seq)
		if len(streamed) == 4 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || !slices.Equal(streamed, []int64{1, 2, 3, 4}) {
		t.Errorf("ReadIncident stopped at 4: %v, %v", streamed, err)
	}
	if _, err := s.IncidentHead(ctx, "INC-0099"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown incident head: %v", err)
	}
	if _, err := s.Incident(ctx, "INC-0099"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	max, err := s.MaxTimelineID(ctx)
	if err != nil || max != 50 {
		t.Errorf("MaxTimelineID = %d, %v", max, err)
	}
}

func TestDataVersionSeesOtherWriters(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	v1, err := s.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.DataVersion(ctx); v != v1 {
		t.Errorf("data version moved without a write: %d -> %d", v1, v)
	}
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	seed(t, other, 1, 1)
	if v, _ := s.DataVersion(ctx); v == v1 {
		t.Error("data version did not move after another store wrote")
	}
	v2, _ := s.DataVersion(ctx)
	seed(t, s, 1, 1)
	if v, _ := s.DataVersion(ctx); v == v2 {
		t.Error("data version did not move after this store wrote")
	}
}

func TestIntegrityCheck(t *testing.T) {
	s, _ := openTest(t)
	seed(t, s, 2, 2)
	if got, err := s.IntegrityCheck(context.Background()); err != nil || got != "ok" {
		t.Errorf("integrity_check = %q, %v", got, err)
	}
}

func TestUpdateNoSyncRestoresFullSync(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	err := s.UpdateNoSync(ctx, func(tx *Tx) error {
		return tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Action: "open", Outcome: OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.UpdateNoSync(ctx, func(*Tx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var sync int
	if err := s.lockWriter(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := s.writer(ctx)
	if err == nil {
		err = c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync)
	}
	s.unlockWriter()
	if err != nil || sync != 2 {
		t.Errorf("synchronous after UpdateNoSync = %d, %v; want 2 (FULL)", sync, err)
	}
	if a, _ := s.Audit(ctx, AuditFilter{}); len(a) != 1 {
		t.Errorf("audit entries: %d", len(a))
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx *Tx) error {
		in := Incident{Kind: KindIncident, Status: StatusOpen, RunbookID: "rb", RunbookVersion: "1", Title: "t",
			Severity: "SEV2", AwareAt: t0, DeclaredAt: t0, UpdatedAt: t0, CreatedBy: "a"}
		if err := tx.InsertIncident(ctx, &in); err != nil {
			return err
		}
		if err := tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: in.ID, At: t0, Actor: "a", Kind: "declared", Summary: "x"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if n, _ := s.MaxTimelineID(ctx); n != 0 {
		t.Errorf("timeline kept an entry of a rolled-back transaction")
	}
	// The next entry still gets id 1: ids have no gaps.
	seed(t, s, 1, 1)
	if n, _ := s.MaxTimelineID(ctx); n != 1 {
		t.Errorf("MaxTimelineID = %d", n)
	}
}

var errStop = errors.New("stop")
