package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// ReadIncident hands out every entry up to the head's count once, in
// order, across the edges of the pages it reads them in, and none written
// after the head was read, while it holds no read connection between
// pages: a caller that stalls there leaves the read pool to the others.
func TestReadIncidentPagesAsOfTheHead(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	for _, n := range []int{0, 1, streamPage - 1, streamPage, streamPage + 1, 2*streamPage + 3} {
		id := seed(t, s, 1, n)[0]
		held := s.r.Stats().InUse // the store keeps one of its own
		var total int
		next := int64(1)
		err := s.ReadIncident(ctx, id, func(d Detail) error {
			total = d.TimelineTotal
			return nil
		}, func(e TimelineEntry) error {
			if e.Seq != next {
				t.Fatalf("%d entries: got #%d, want #%d", n, e.Seq, next)
			}
			next++
			if e.Seq == 1 {
				// Written after the head: not part of this read.
				if err := s.Update(ctx, func(tx *Tx) error {
					return tx.AppendTimeline(ctx, &TimelineEntry{IncidentID: id, At: t0.Add(time.Hour), Actor: "bob",
						Kind: "note", Summary: "later", Data: json.RawMessage(`{}`)})
				}); err != nil {
					t.Fatal(err)
				}
			}
			// Between entries every read connection is free.
			if st := s.r.Stats(); st.InUse != held {
				t.Fatalf("%d entries: %d read connections in use while an entry is handed out, %d before", n, st.InUse, held)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total != n || next != int64(n)+1 {
			t.Fatalf("%d entries: head counted %d, read up to #%d", n, total, next-1)
		}
	}
}
