package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// mailCustomers adds n customers reached by mail ("Customer 0001 B.V."),
// every other one Dutch if dutch is set, and returns their ids.
func (f *fixture) mailCustomers(n int, prefix string, dutch bool) []string {
	var d store.Directory
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%04d", prefix, i)
		lang := "en"
		if dutch && i%2 == 1 {
			lang = "nl"
		}
		d.Customers = append(d.Customers, store.Customer{ID: ids[i], Name: fmt.Sprintf("Customer %04d B.V.", i),
			Language: lang, ContactKind: "email", Contact: ids[i] + "@example.test"})
	}
	if _, err := f.st.ImportDirectory(f.ctx, "admin", d); err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// BenchmarkEnqueueNotices1000Customers renders and enqueues the customer
// notices of one incident that affects 1,000 customers (half in Dutch),
// in one transaction with their timeline entries, as the flag that
// triggers them is set. Budget: under 1 s.
func BenchmarkEnqueueNotices1000Customers(b *testing.B) {
	f := newFixture(b)
	ids := f.mailCustomers(1000, "cust", true)
	quiet := &incident.Service{Store: f.st, Clock: f.clock} // declares without notifying
	for b.Loop() {
		b.StopTimer()
		f.svc, f.svc.Notifier = quiet, nil
		in := f.declare("Export of Customer 0001 B.V. and Customer 0002 B.V. data", false, ids...)
		b.StartTimer()
		err := f.st.Update(f.ctx, func(tx *store.Tx) error {
			return f.ns.OnEvent(f.ctx, tx, incident.Event{Kind: incident.EventFlagsSet, Incident: in, Actor: as("alice"),
				At: f.clock.Now(), Flags: []string{"customer_data_affected"}})
		})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := len(f.byAudience(in.ID, AudienceCustomers)); got != 1000 {
			b.Fatalf("%d notices", got)
		}
		b.StartTimer()
	}
	b.ReportMetric(1000, "notices/op")
}

// BenchmarkMail100OverTLS delivers 100 customer notices by mail to a local
// SMTP server (emersion/go-smtp) with STARTTLS and a login, through the
// worker: claim, one TLS connection per message, submit, record.
// Budget: under 5 s.
func BenchmarkMail100OverTLS(b *testing.B) {
	f := newFixture(b)
	ids := f.mailCustomers(100, "mail", false)
	quiet := &incident.Service{Store: f.st, Clock: f.clock}
	f.svc, f.svc.Notifier = quiet, nil
	in := f.declare("Export", false, ids...)
	if err := f.st.Update(f.ctx, func(tx *store.Tx) error {
		return f.ns.OnEvent(f.ctx, tx, incident.Event{Kind: incident.EventFlagsSet, Incident: in, Actor: as("alice"),
			At: f.clock.Now(), Flags: []string{"customer_data_affected"}})
	}); err != nil {
		b.Fatal(err)
	}
	notices := f.byAudience(in.ID, AudienceCustomers)
	// What is measured is delivery: the notices are queued as approval
	// would leave them (approval is measured elsewhere).
	requeue := func() {
		if err := f.st.Update(f.ctx, func(tx *store.Tx) error {
			for _, n := range notices {
				cur, err := tx.Notification(f.ctx, n.ID)
				if err != nil {
					return err
				}
				from := cur.Status
				cur.Status, cur.SentAt, cur.Via, cur.MessageID, cur.Attempts = store.NoticeQueued, time.Time{}, "", "", 0
				if _, err := tx.UpdateNotification(f.ctx, &cur, from); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	srv := newSMTPServer(b, mailSTARTTLS)
	w := f.worker(srv.settings())
	sent := 0
	for b.Loop() {
		b.StopTimer()
		requeue()
		b.StartTimer()
		rep, err := w.Drain(f.ctx)
		if err != nil || rep.Sent != 100 {
			b.Fatalf("%+v %v", rep.Summary(), err)
		}
		sent += rep.Sent
	}
	if got := len(srv.messages()); got != sent {
		b.Fatalf("%d mails for %d sends", got, sent)
	}
	b.ReportMetric(100, "mails/op")
}
