package incident

import (
	"context"
	"testing"

	"github.com/irtui/irtui/internal/clock"
	benchfix "github.com/irtui/irtui/internal/fixture"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// BenchmarkTimelineWindow reads the incident of 100,000 timeline entries
// of the shared fixture (benchfix.Long) the ways a view does, beside the
// floor of the same run (the same reads of an incident of 20 entries in
// the same file): its head, and pages of 100 at its newest end, in the
// middle and at its start, each a range of the (incident_id, seq) index,
// so all cost the same. "all" streams every entry (incident show,
// exports), for scale. Build the fixture first:
//
//	go test ./internal/fixture -run XXX -bench Fixtures -benchtime 1x
//	go test ./internal/incident -run XXX -bench TimelineWindow
func BenchmarkTimelineWindow(b *testing.B) {
	spec := benchfix.Long
	st, err := store.Open(context.Background(), benchfix.Path(b, spec), store.MustExist())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc := &Service{Store: st, Clock: clock.Real{}}
	alice := identity.Local("alice", "bench")
	ctx := context.Background()
	long, short := benchfix.LongID(spec), benchfix.NewestOpen(benchfix.Small)
	for _, c := range []struct {
		name string
		id   string
		w    store.TimelineWindow
	}{
		{"floor-20/newest", short, store.TimelineWindow{}},
		{"100k/newest", long, store.TimelineWindow{}},
		{"100k/middle", long, store.TimelineWindow{Before: int64(spec.Long / 2)}},
		{"100k/first", long, store.TimelineWindow{Oldest: true}},
	} {
		b.Run("head/"+c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.IncidentHead(ctx, c.id); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The page as the app reads it: through the service, which
		// checks who asks.
		b.Run("page/"+c.name, func(b *testing.B) {
			for b.Loop() {
				page, err := svc.TimelinePage(ctx, alice, c.id, c.w)
				if err != nil || len(page) == 0 {
					b.Fatalf("%d entries, %v", len(page), err)
				}
			}
		})
	}
	b.Run("all/100k", func(b *testing.B) {
		for b.Loop() {
			n := 0
			if err := st.EachTimeline(ctx, long, func(store.TimelineEntry) error { n++; return nil }); err != nil || n < spec.Long {
				b.Fatalf("%d entries, %v", n, err)
			}
		}
	})
}
