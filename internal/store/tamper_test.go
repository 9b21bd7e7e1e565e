package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"
)

// history writes what a team's record holds: a directory, three
// incidents with customers, checklists, roles, notes and a notification,
// each action in its own transaction with its audit entry.
func history(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.ImportDirectory(ctx, "admin", Directory{
		People: []Person{{ID: "alice", Name: "Alice", Roles: []string{"incident_commander"}}, {ID: "bob", Name: "Bob"}},
		Customers: []Customer{{ID: "acme", Name: "Acme", ContactKind: "email", Contact: "sec@acme.test"},
			{ID: "globex", Name: "Globex", ContactKind: "slack", Contact: "#globex-sec"}},
	}); err != nil {
		t.Fatal(err)
	}
	act := func(id, action string, fn func(tx *Tx, at time.Time) error) {
		t.Helper()
		at := t0.Add(time.Minute)
		err := s.Update(ctx, func(tx *Tx) error {
			if err := fn(tx, at); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &AuditEntry{At: at, Actor: "alice", Action: action, IncidentID: id, Outcome: OutcomeOK})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 3; i++ {
		id := IncidentID(int64(i))
		act("", "declare", func(tx *Tx, at time.Time) error {
			in := newIncident(fmt.Sprintf("incident %d", i))
			if err := tx.InsertIncident(ctx, &in); err != nil {
				return err
			}
			if err := tx.LinkCustomers(ctx, in.ID, []string{"acme", "globex"}, at, "alice"); err != nil {
				return err
			}
			if err := tx.InsertSteps(ctx, in.ID, []Step{{ID: "contain", Title: "Contain", Required: true}}); err != nil {
				return err
			}
			return tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: in.ID, At: at, Actor: "alice", Kind: "declared", Summary: "declared"})
		})
		act(id, "assign", func(tx *Tx, at time.Time) error {
			a := Assignment{IncidentID: id, Role: "incident_commander", PersonID: "alice", AssignedAt: at, AssignedBy: "alice"}
			if err := tx.InsertAssignment(ctx, &a); err != nil {
				return err
			}
			return tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: id, At: at, Actor: "alice", Kind: "role_assigned", Summary: "alice is IC"})
		})
		act(id, "notify", func(tx *Tx, at time.Time) error {
			n := Notification{IncidentID: id, RuleID: "customers", Trigger: "declared", Audience: "customers",
				DestKind: DestEmail, Channel: "sec@acme.test", Recipient: "Acme", CustomerID: "acme", Subject: "About incident " + id,
				Body: "We are looking into it.", Status: NoticeDraft, IdempotencyKey: "k-" + id, DraftedBy: "alice",
				TriggeredAt: at, CreatedAt: at, UpdatedAt: at}
			_, err := tx.InsertNotification(ctx, &n)
			return err
		})
		for j := range 2 {
			act(id, "note", func(tx *Tx, at time.Time) error {
				if err := tx.TouchIncident(ctx, id, at); err != nil {
					return err
				}
				return tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: id, At: at, Actor: "alice", Kind: "note",
					Summary: fmt.Sprintf("note %d", j)})
			})
		}
		act(id, "step_complete", func(tx *Tx, at time.Time) error {
			if err := tx.SetStepState(ctx, id, "contain", StepDone, "done", "alice", at); err != nil {
				return err
			}
			return tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: id, At: at, Actor: "alice", Kind: "step_completed", Summary: "contained"})
		})
	}
}

// rehash recomputes every hash of both chains from their content, fixing
// every link and the audit log's references to the timeline, as someone
// who knows the public algorithm would after editing or removing
// entries. It renumbers ids to run 1, 2, 3, ... again.
func rehash(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT id, incident_id, seq, at, actor, kind, summary, data FROM timeline ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var tl []timelineRow
	for rows.Next() {
		var r timelineRow
		if err := rows.Scan(&r.id, &r.incidentID, &r.seq, &r.at, &r.actor, &r.kind, &r.summary, &r.data); err != nil {
			t.Fatal(err)
		}
		tl = append(tl, r)
	}
	rows.Close()
	newID := map[int64]int64{}
	prev := ""
	mustExec(t, db, "UPDATE timeline SET id = -id")
	for i := range tl {
		r := &tl[i]
		old := r.id
		r.id, r.prev = int64(i+1), prev
		r.hash = r.computeHash()
		prev = r.hash
		newID[old] = r.id
		mustExec(t, db, "UPDATE timeline SET id = ?, prev_hash = ?, hash = ? WHERE id = ?", r.id, r.prev, r.hash, -old)
	}
	rows, err = db.Query(`SELECT id, at, actor, action, COALESCE(incident_id, ''), outcome, detail, COALESCE(timeline_id, 0),
		timeline_hash, state FROM audit ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var au []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.id, &r.at, &r.actor, &r.action, &r.incidentID, &r.outcome, &r.detail, &r.timelineID,
			&r.timelineHash, &r.state); err != nil {
			t.Fatal(err)
		}
		au = append(au, r)
	}
	rows.Close()
	prev = ""
	mustExec(t, db, "UPDATE audit SET id = -id")
	for i := range au {
		r := &au[i]
		old := r.id
		if r.timelineID != 0 {
			if id, ok := newID[r.timelineID]; ok {
				r.timelineID, r.timelineHash = id, tl[id-1].hash
			} else {
				r.timelineID, r.timelineHash = 0, ""
			}
		}
		r.id, r.prev = int64(i+1), prev
		r.hash = r.computeHash()
		prev = r.hash
		var tid any
		if r.timelineID != 0 {
			tid = r.timelineID
		}
		mustExec(t, db, "UPDATE audit SET id = ?, timeline_id = ?, timeline_hash = ?, prev_hash = ?, hash = ? WHERE id = ?",
			r.id, tid, r.timelineHash, r.prev, r.hash, -old)
	}
}

// restate records a state row's present hash in the newest audit entry
// that mentions it, as someone covering an edit of a state table would
// (rehash must follow).
func restate(t *testing.T, s *Store, db *sql.DB, table, key string) {
	t.Helper()
	ti, err := loadTableInfo(context.Background(), db, mustCovered(t, table))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT " + ti.selectList + " FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	var h rowHasher
	if err := hashRows(rows, ti, &h, func(k []byte, sum [32]byte, _ []any) {
		if string(k) == key {
			hash = fmt.Sprintf("%x", sum)
		}
	}); err != nil {
		t.Fatal(err)
	}
	var id int64
	var state string
	if err := db.QueryRow("SELECT id, state FROM audit WHERE instr(state, ?) > 0 ORDER BY id DESC LIMIT 1",
		table+"\t"+key+"\t").Scan(&id, &state); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(state, "\n"), "\n") {
		if strings.HasPrefix(line, table+"\t"+key+"\t") {
			line = table + "\t" + key + "\t" + hash
		}
		out = append(out, line)
	}
	mustExec(t, db, "UPDATE audit SET state = ? WHERE id = ?", strings.Join(out, "\n")+"\n", id)
}

func mustCovered(t *testing.T, name string) coveredTable {
	c, ok := coveredTableNamed(name)
	if !ok {
		t.Fatalf("%s is not covered", name)
	}
	return c
}

// The 21 tamperings of issue 12, each against a record with a checkpoint
// taken after its last action: every one must be caught, and the report
// must name what changed or what is missing. want lists the problems
// expected (table and kind); withoutCheckpoint says whether the chains
// catch it on their own.
func TestTwentyOneTamperings(t *testing.T) {
	type problem struct {
		table string
		kind  ProblemKind
		text  string // in the detail
	}
	for _, tc := range []struct {
		name              string
		edit              func(t *testing.T, s *Store, db *sql.DB)
		want              []problem
		withoutCheckpoint bool
	}{
		{"timeline middle edit", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE timeline SET summary = 'nothing happened' WHERE id = 7")
		}, []problem{{"timeline", Altered, "does not match its hash"}}, true},
		{"timeline tail edit", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE timeline SET summary = 'nothing happened' WHERE id = (SELECT MAX(id) FROM timeline)")
		}, []problem{{"timeline", Altered, ""}}, true},
		{"timeline middle delete", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "DELETE FROM timeline WHERE id = 6")
		}, []problem{{"timeline", Removed, ""}}, true},
		{"timeline newest entry deleted", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "DELETE FROM timeline WHERE id = (SELECT MAX(id) FROM timeline)")
		}, []problem{{"timeline", Removed, ""}}, true},
		{"timeline reorder", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE timeline SET id = -1 WHERE id = 5")
			mustExec(t, db, "UPDATE timeline SET id = 5 WHERE id = 6")
			mustExec(t, db, "UPDATE timeline SET id = 6 WHERE id = -1")
		}, []problem{{"timeline", Reordered, ""}}, true},
		{"timeline edit with its own hash recomputed", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE timeline SET actor = 'mallory' WHERE id = 4")
			var r timelineRow
			if err := db.QueryRow(`SELECT id, incident_id, seq, at, actor, kind, summary, data, prev_hash FROM timeline WHERE id = 4`).
				Scan(&r.id, &r.incidentID, &r.seq, &r.at, &r.actor, &r.kind, &r.summary, &r.data, &r.prev); err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, "UPDATE timeline SET hash = ? WHERE id = 4", r.computeHash())
		}, []problem{{"timeline", Altered, ""}}, true},
		{"timeline edit, every later hash recomputed", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE timeline SET summary = 'nothing happened' WHERE id = 4")
			rehash(t, db)
		}, []problem{{"timeline", Altered, "rewritten"}, {"audit", Altered, "rewritten"}}, false},
		{"timeline delete, every later hash recomputed", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "DELETE FROM timeline WHERE id = 4")
			rehash(t, db)
		}, []problem{{"timeline", Removed, "missing"}}, false},
		{"audit middle edit", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE audit SET actor = 'mallory' WHERE id = 5")
		}, []problem{{"audit", Altered, "does not match its hash"}}, true},
		{"audit tail edit", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE audit SET detail = 'x' WHERE id = (SELECT MAX(id) FROM audit)")
		}, []problem{{"audit", Altered, ""}}, true},
		{"audit middle delete", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "DELETE FROM audit WHERE id = 5")
		}, []problem{{"audit", Removed, ""}}, true},
		// Dropped audit entries took the state they recorded with them, so
		// the state tables no longer agree: caught even without a
		// checkpoint, which names the entries.
		{"audit newest entry dropped", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)")
		}, []problem{{"audit", Removed, "recorded the audit log up to"}, {"step_state", Altered, ""}}, true},
		{"audit newest 3 entries dropped", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "DELETE FROM audit WHERE id > (SELECT MAX(id) - 3 FROM audit)")
		}, []problem{{"audit", Removed, "audit entries #"}}, true},
		{"audit reorder", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE audit SET id = -1 WHERE id = 5")
			mustExec(t, db, "UPDATE audit SET id = 5 WHERE id = 6")
			mustExec(t, db, "UPDATE audit SET id = 6 WHERE id = -1")
		}, []problem{{"audit", Reordered, ""}}, true},
		{"audit edit, every later hash recomputed", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE audit SET actor = 'mallory' WHERE id = 5")
			rehash(t, db)
		}, []problem{{"audit", Altered, "rewritten"}}, false},
		{"both chains cut consistently", func(t *testing.T, s *Store, db *sql.DB) {
			// The last action of the last incident, from both chains.
			mustExec(t, db, "DELETE FROM timeline WHERE id = (SELECT MAX(id) FROM timeline)")
			mustExec(t, db, "DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)")
			mustExec(t, db, "UPDATE step_state SET status = 'open', note = '', actor = '', at = NULL WHERE incident_id = 'INC-0003'")
		}, []problem{{"timeline", Removed, "recorded the timeline up to"}, {"audit", Removed, "recorded the audit log up to"}}, false},
		{"newest incident removed", func(t *testing.T, s *Store, db *sql.DB) {
			id := "INC-0003"
			var tl, au int64
			if err := db.QueryRow("SELECT MIN(id) FROM timeline WHERE incident_id = ?", id).Scan(&tl); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRow("SELECT MIN(id) FROM audit WHERE incident_id = ? OR timeline_id >= ?", id, tl).Scan(&au); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"DELETE FROM outbox WHERE incident_id = ?", "DELETE FROM role_assignments WHERE incident_id = ?",
				"DELETE FROM step_state WHERE incident_id = ?", "DELETE FROM incident_customers WHERE incident_id = ?",
				"DELETE FROM timeline WHERE incident_id = ?", "DELETE FROM incidents WHERE id = ?"} {
				mustExec(t, db, q, id)
			}
			mustExec(t, db, "DELETE FROM audit WHERE id >= ?", au)
		}, []problem{{"incidents", Removed, "INC-0003 is gone"}, {"timeline", Removed, "missing"}, {"audit", Removed, "missing"}}, false},
		{"incident state edited", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE incidents SET severity = 'SEV4', status = 'closed' WHERE id = 'INC-0002'")
		}, []problem{{"incidents", Altered, "differs from what audit entry"}}, true},
		{"role assignment edited", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE role_assignments SET person_id = 'bob' WHERE incident_id = 'INC-0001'")
		}, []problem{{"role_assignments", Altered, ""}}, true},
		{"customer contact edited", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE customers SET contact = 'mallory@evil.test' WHERE id = 'acme'")
		}, []problem{{"customers", Altered, ""}}, true},
		{"outbox body edited", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE outbox SET body = 'Nothing to see here.' WHERE incident_id = 'INC-0001'")
		}, []problem{{"outbox", Altered, ""}}, true},
		// Beyond the 21: a state edit covered by rewriting the audit log.
		{"incident state edited, its state line and every later hash recomputed", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "UPDATE incidents SET severity = 'SEV4' WHERE id = 'INC-0001'")
			restate(t, s, db, "incidents", `["INC-0001"]`)
			rehash(t, db)
		}, []problem{{"audit", Altered, "rewritten"}}, false},
		{"customer added behind irtui's back", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "INSERT INTO customers (id, name, contact_kind, contact, updated_at) VALUES ('evil', 'Evil', 'email', 'x@evil.test', '2026-01-01T00:00:00.000000000Z')")
		}, []problem{{"customers", Added, "never recorded"}}, true},
		{"installer recorded behind irtui's back (an administrator by the back door)", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "INSERT INTO irtui_meta (key, value) VALUES ('installer', 'mallory')")
		}, []problem{{"irtui_meta", Added, "never recorded"}}, true},
		{"person removed from the directory", func(t *testing.T, s *Store, db *sql.DB) {
			mustExec(t, db, "DELETE FROM people WHERE id = 'bob'")
		}, []problem{{"people", Removed, "not there"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, path := openTest(t)
			history(t, s)
			ctx := context.Background()
			h, err := s.Heads(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cp := h.Checkpoint(t0)
			cp.Source = "witness:1"
			if rep, err := Verify(ctx, path, VerifyOptions{Checkpoints: []Checkpoint{cp}}); err != nil || !rep.OK {
				t.Fatalf("before tampering: %+v, %v", rep, err)
			}
			db := raw(t, path)
			for _, n := range appendOnlyTriggers {
				mustExec(t, db, "DROP TRIGGER IF EXISTS "+n)
			}
			tc.edit(t, s, db)
			// The attacker puts the triggers back, to leave no trace.
			for _, q := range []string{
				"CREATE TRIGGER timeline_no_update BEFORE UPDATE ON timeline BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END",
				"CREATE TRIGGER timeline_no_delete BEFORE DELETE ON timeline BEGIN SELECT RAISE(ABORT, 'the timeline is append-only'); END",
				"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
				"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
			} {
				mustExec(t, db, q)
			}
			db.Close()

			rep, err := Verify(ctx, path, VerifyOptions{Checkpoints: []Checkpoint{cp}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK {
				t.Fatalf("tampering not caught: %+v", rep)
			}
			t.Logf("caught:\n%s", problemsText(rep))
			for _, w := range tc.want {
				found := false
				for _, p := range rep.Problems {
					if p.Table == w.table && p.Kind == w.kind && strings.Contains(p.Detail, w.text) {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s %s problem mentioning %q in:\n%s", w.table, w.kind, w.text, problemsText(rep))
				}
			}
			for _, p := range rep.Problems {
				if strings.Contains(p.Detail, "checkpoint") && !strings.Contains(p.Detail, "witness:1") {
					t.Errorf("a checkpoint problem does not name the checkpoint: %s", p)
				}
			}
			norep, err := Verify(ctx, path, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if norep.OK == tc.withoutCheckpoint {
				t.Errorf("without the checkpoint, caught = %v, want %v:\n%s", !norep.OK, tc.withoutCheckpoint, problemsText(norep))
			}
		})
	}
}

func problemsText(rep Report) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		b.WriteString("  " + p.String() + "\n")
	}
	return b.String()
}
