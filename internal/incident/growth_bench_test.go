package incident

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/deadline"
	fx "github.com/irtui/irtui/internal/fixture"
	"github.com/irtui/irtui/internal/store"
)

// BenchmarkListLoadGrowth is the app's list load (one page of 64 open
// incidents, newest first, with their summaries, the list's count and
// each one's next deadline) on the shared fixtures of 1k, 10k and 100k
// incidents. Its floor, measured in the same run on the same file, is a
// bare keyset read of the page's 64 rows. Budget at 100k: 5 ms.
func BenchmarkListLoadGrowth(b *testing.B) {
	ctx := context.Background()
	policy := deadline.DefaultPolicy()
	for _, spec := range []fx.Spec{fx.Small, fx.Medium, fx.Large} {
		b.Run(spec.Label(), func(b *testing.B) {
			path := fx.Copy(b, spec)
			st, err := store.Open(ctx, path)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			svc := &Service{Store: st, Clock: clock.Real{}}
			db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			f := store.ListFilter{Status: store.StatusOpen, Drill: store.DrillExclude, Limit: 64}
			load := func() {
				p, err := svc.ListPage(ctx, as("alice"), f)
				if err != nil || len(p.Incidents) != 64 || p.Total < 1 {
					b.Fatalf("%d incidents of %d, %v", len(p.Incidents), p.Total, err)
				}
				now := svc.Clock.Now()
				for _, in := range p.Incidents {
					NextDeadline(Obligations(in, p.Summaries[in.ID].Obligations, policy), now)
				}
			}
			floor := func() {
				rows, err := db.QueryContext(ctx, `SELECT id, title FROM incidents WHERE drill = 0 AND status = 'open' ORDER BY num DESC LIMIT 64`)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					var id, title string
					if err := rows.Scan(&id, &title); err != nil {
						b.Fatal(err)
					}
					n++
				}
				rows.Close()
				if n != 64 {
					b.Fatalf("floor read %d rows", n)
				}
			}
			load()
			floor()
			var loads, floors time.Duration
			for b.Loop() {
				t := time.Now()
				load()
				loads += time.Since(t)
				b.StopTimer()
				t = time.Now()
				floor()
				floors += time.Since(t)
				b.StartTimer()
			}
			b.ReportMetric(float64(loads.Microseconds())/1000/float64(b.N), "load-ms")
			b.ReportMetric(float64(floors.Microseconds())/1000/float64(b.N), "floor-ms")
		})
	}
}
