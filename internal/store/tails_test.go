package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func newIncident(title string) Incident {
	return Incident{Kind: KindIncident, Status: StatusOpen, RunbookID: "rb", RunbookVersion: "1", Title: title,
		Severity: "SEV3", AwareAt: t0, DeclaredAt: t0, UpdatedAt: t0, CreatedBy: "alice"}
}

// A transaction reads the chain ends once and keeps them current itself.
// Entries of several incidents, interleaved in one transaction and across
// transactions, must still number and chain exactly as if each append had
// read the tail from the table.
func TestAppendsInterleavedAcrossIncidents(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 2) // INC-0001 with seq 1, 2
	var a, b Incident
	err := s.Update(ctx, func(tx *Tx) error {
		a, b = newIncident("a"), newIncident("b")
		if err := tx.InsertIncident(ctx, &a); err != nil {
			return err
		}
		if err := tx.InsertIncident(ctx, &b); err != nil {
			return err
		}
		for _, id := range []string{a.ID, ids[0], b.ID, a.ID, ids[0], a.ID} {
			if err := tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: id, At: t0, Actor: "alice", Kind: "note", Summary: "x"}); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Action: "note", IncidentID: id, Outcome: OutcomeOK}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "INC-0002" || b.ID != "INC-0003" {
		t.Fatalf("numbered %s and %s, want INC-0002 and INC-0003", a.ID, b.ID)
	}
	for id, want := range map[string][]int64{ids[0]: {1, 2, 3, 4}, a.ID: {1, 2, 3}, b.ID: {1}} {
		entries, err := s.Timeline(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range entries {
			got = append(got, e.Seq)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: seqs %v, want %v", id, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: seqs %v, want %v", id, got, want)
			}
		}
	}
	rep, err := s.VerifyChains(ctx)
	if err != nil || !rep.OK || rep.Timeline.Entries != 8 || rep.Audit.Entries != 7 {
		t.Fatalf("chains: %+v, %v", rep, err)
	}
}

// What another program appends between two transactions is the tail the
// next transaction must chain to.
func TestTailsAreReadAfreshInEachTransaction(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	seed(t, s, 1, 1)
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	seed(t, other, 2, 2)
	seed(t, s, 1, 1)
	rep, err := s.VerifyChains(ctx)
	if err != nil || !rep.OK || rep.Timeline.Entries != 6 || rep.Audit.Entries != 4 {
		t.Fatalf("chains: %+v, %v", rep, err)
	}
	list, err := s.ListIncidents(ctx, ListFilter{Limit: 10})
	if err != nil || len(list) != 4 || list[0].ID != "INC-0004" {
		t.Fatalf("incidents: %+v, %v", list, err)
	}
}

// A failed insert leaves the transaction's tails where they were: the next
// append still takes the next id.
func TestFailedAppendKeepsTails(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: "INC-9999", At: t0, Actor: "a", Kind: "note", Summary: "x"}); err == nil {
			return errors.New("appended to an incident that does not exist")
		}
		in := newIncident("a")
		if err := tx.InsertIncident(ctx, &in); err != nil {
			return err
		}
		return tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: in.ID, At: t0, Actor: "a", Kind: "declared", Summary: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.VerifyChains(ctx)
	if err != nil || !rep.OK || rep.Timeline.LastID != 1 {
		t.Fatalf("chains: %+v, %v", rep, err)
	}
}

func TestLinkCustomers(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	dir := Directory{Customers: []Customer{
		{ID: "acme", Name: "Acme", ContactKind: "email", Contact: "sec@acme.example"},
		{ID: "globex", Name: "Globex", ContactKind: "email", Contact: "sec@globex.example"},
	}}
	if _, err := s.ImportDirectory(ctx, "admin", dir); err != nil {
		t.Fatal(err)
	}
	ids := seed(t, s, 2, 0)
	link := func(id string, customers ...string) error {
		return s.Update(ctx, func(tx *Tx) error { return tx.LinkCustomers(ctx, id, customers, t0, "alice") })
	}
	err := link(ids[0], "acme", "hooli", "globex", "initech")
	var missing *MissingCustomerError
	if !errors.As(err, &missing) || missing.ID != "hooli" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want the first missing customer, hooli", err)
	}
	d, err := s.Incident(ctx, ids[0])
	if err != nil || len(d.Customers) != 0 {
		t.Fatalf("a refused link linked %d customers (%v)", len(d.Customers), err)
	}
	if err := link(ids[0], "globex", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := link(ids[0], "acme"); err != nil {
		t.Fatalf("linking again: %v", err)
	}
	d, err = s.Incident(ctx, ids[0])
	if err != nil || len(d.Customers) != 2 || d.Customers[0].ID != "acme" || d.Customers[1].ID != "globex" {
		t.Fatalf("customers: %+v, %v", d.Customers, err)
	}
	if err := link("INC-0404", "acme"); err == nil || errors.As(err, &missing) {
		t.Fatalf("linking to a missing incident: %v", err)
	}
}

// The writer connection is held for the store's life, and Update begins
// and commits on it itself: whatever way fn leaves (error, panic, a
// cancelled context), the transaction is rolled back and the next write
// works.
func TestUpdateRecoversFromEveryWayOut(t *testing.T) {
	s, _ := openTest(t)
	bg := context.Background()
	insert := func(ctx context.Context, tx *Tx) (Incident, error) {
		in := newIncident("half")
		if err := tx.InsertIncident(ctx, &in); err != nil {
			return in, err
		}
		return in, tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: in.ID, At: t0, Actor: "a", Kind: "declared", Summary: "x"})
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not come through")
			}
		}()
		_ = s.Update(bg, func(tx *Tx) error {
			if _, err := insert(bg, tx); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	ctx, cancel := context.WithCancel(bg)
	err := s.Update(ctx, func(tx *Tx) error {
		if _, err := insert(ctx, tx); err != nil {
			return err
		}
		cancel()
		_, err := insert(ctx, tx)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled mid-transaction: %v", err)
	}
	if err := s.Update(ctx, func(*Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before the transaction: %v", err)
	}
	if n, _ := s.MaxTimelineID(bg); n != 0 {
		t.Fatalf("a rolled-back transaction left %d timeline entries", n)
	}
	ids := seed(t, s, 1, 1)
	if ids[0] != "INC-0001" {
		t.Fatalf("next incident is %s, want INC-0001: a rolled-back number was used", ids[0])
	}
	if rep, err := s.VerifyChains(bg); err != nil || !rep.OK || rep.Timeline.Entries != 1 || rep.Audit.Entries != 1 {
		t.Fatalf("chains: %+v, %v", rep, err)
	}
}

// A writer waiting for another of the same process gives up when its
// context does, as it did when it queued inside database/sql.
func TestWriterWaitRespectsContext(t *testing.T) {
	s, _ := openTest(t)
	bg := context.Background()
	holding, release := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.Update(bg, func(*Tx) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding
	timer := time.AfterFunc(5*time.Second, func() { close(release) })
	defer func() {
		if timer.Stop() {
			close(release)
		}
	}()
	ctx, cancel := context.WithTimeout(bg, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Update(ctx, func(*Tx) error { return errors.New("ran while another write held the writer") })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 4*time.Second {
		t.Fatalf("after %v: %v; want the deadline, long before the other write ends", time.Since(start), err)
	}
}

// Once SQLite has rolled a transaction back on an error, the Tx refuses
// every further write: in autocommit mode each would be kept on its own,
// chained to entries that are gone.
func TestNoWriteAfterSQLiteRolledBack(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	seed(t, s, 1, 1)
	err := s.Update(ctx, func(tx *Tx) error {
		in := newIncident("lost")
		if err := tx.InsertIncident(ctx, &in); err != nil {
			return err
		}
		if err := tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: in.ID, At: t0, Actor: "a", Kind: "declared", Summary: "x"}); err != nil {
			return err
		}
		// What SQLite does itself on a full disk or an interrupt.
		if _, err := tx.tx.ExecContext(ctx, "ROLLBACK"); err != nil {
			return err
		}
		// The statement that met the error; the caller ignores it.
		_ = tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: in.ID, At: t0, Actor: "a", Kind: "note", Summary: "y"})
		err := tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "a", Action: "declare", IncidentID: in.ID, Outcome: OutcomeOK})
		if err == nil || !strings.Contains(err.Error(), "rolled back") {
			t.Errorf("a write after the rollback: %v", err)
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "rolled back") {
		t.Fatalf("Update = %v, want the rollback reported", err)
	}
	rep, err := s.VerifyChains(ctx)
	if err != nil || !rep.OK || rep.Timeline.Entries != 1 || rep.Audit.Entries != 1 {
		t.Fatalf("chains: %+v, %v", rep, err)
	}
	seed(t, s, 1, 1)
	if rep, err := s.VerifyChains(ctx); err != nil || !rep.OK || rep.Timeline.Entries != 2 {
		t.Fatalf("chains after the next write: %+v, %v", rep, err)
	}
}
