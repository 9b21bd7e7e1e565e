package notify

import (
	"fmt"
	"testing"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// BenchmarkEnqueueNotices1000Customers renders and enqueues the customer
// notices of one incident that affects 1,000 customers (half in Dutch),
// in one transaction with their timeline entries, as the flag that
// triggers them is set. Budget: under 1 s.
func BenchmarkEnqueueNotices1000Customers(b *testing.B) {
	f := newFixture(b)
	var d store.Directory
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("cust-%04d", i)
		lang := "en"
		if i%2 == 1 {
			lang = "nl"
		}
		d.Customers = append(d.Customers, store.Customer{ID: ids[i], Name: fmt.Sprintf("Customer %04d B.V.", i),
			Language: lang, ContactKind: "email", Contact: ids[i] + "@example.test"})
	}
	if _, err := f.st.ImportDirectory(f.ctx, "admin", d); err != nil {
		b.Fatal(err)
	}
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
