package tui

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/fixture"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// fixtureApp builds the app on a copy of a shared fixture (opening an
// incident writes its audit entry), as the user alice, at 120x40.
func fixtureApp(b *testing.B, spec fixture.Spec) (*Model, *store.Store) {
	b.Helper()
	st, err := store.Open(context.Background(), fixture.Copy(b, spec), store.MustExist())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	lib := loadLibrary(b)
	dark, cfg, clk := true, configured(), clock.Real{}
	ns := &notify.Service{Store: st, Clock: clk, Config: cfg, Runbook: notify.LibraryLookup(func() *runbook.Library { return lib })}
	m := New(Deps{Service: &incident.Service{Store: st, Clock: clk, Notifier: ns}, Runbooks: func() *runbook.Library { return lib },
		Config: cfg, Actor: identity.Local("alice", "bench"), Clock: clk, Dark: &dark, Poll: -1, Notify: ns})
	m.Update(runbooksMsg{lib: lib})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	return m, st
}

// openFrame is Enter on an incident of the list to its first frame: the
// read (a command, as the runtime runs it), the message and View.
func openFrame(b *testing.B, m *Model, id string) {
	m.detail = newDetailModel(id)
	msg := m.loadDetail(id, true)()
	if dm, ok := msg.(detailMsg); !ok || dm.err != nil {
		b.Fatalf("open %s: %#v", id, msg)
	}
	m.Update(msg)
	m.detail.tab = tabTimeline
	if v := m.View(); len(v.Content) == 0 {
		b.Fatal("empty view")
	}
}

// cpuTime is the CPU time this process has used, user and system: on a
// shared machine it says what an operation costs better than the wall
// clock, which counts the time spent waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loopCPU runs fn b.N times and reports its CPU time per run in ms.
func loopCPU(b *testing.B, fn func()) {
	c := cpuTime()
	n := 0
	for b.Loop() {
		fn()
		n++
	}
	b.ReportMetric(float64((cpuTime()-c).Microseconds())/1000/float64(max(n, 1)), "cpu-ms/op")
}

// rss is the resident set size of this process, from /proc.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkOpenLongIncident opens the incident of 100,000 timeline entries
// of the fixture (fixture.Long) in the app, beside the floor of the same
// run: an incident of 20 entries of the same file. Budgets: under 5 ms to
// the first frame; a page of the timeline (the read of the next page as
// the cursor nears an end, and the frame) under 2 ms; RSS growth under
// 10 MiB. Build the fixture first:
//
//	go test ./internal/fixture -run XXX -bench Fixtures -benchtime 1x
//	go test ./internal/tui -run XXX -bench OpenLongIncident
func BenchmarkOpenLongIncident(b *testing.B) {
	spec := fixture.Long
	m, _ := fixtureApp(b, spec)
	long, short := fixture.LongID(spec), fixture.NewestOpen(fixture.Small)
	b.Run("floor-20-entries", func(b *testing.B) {
		loopCPU(b, func() { openFrame(b, m, short) })
	})
	b.Run("100k-entries", func(b *testing.B) {
		loopCPU(b, func() { openFrame(b, m, long) })
		if m.detail.d.TimelineTotal < spec.Long {
			b.Fatalf("opened %d entries", m.detail.d.TimelineTotal)
		}
	})
	// A page: the read of the page before the window, taken into it, and
	// the frame, from the newest entries back towards the first.
	b.Run("page-100k", func(b *testing.B) {
		openFrame(b, m, long)
		dm := &m.detail
		loopCPU(b, func() {
			if !dm.hasOlder() {
				openFrame(b, m, long)
			}
			dm.cursor[tabTimeline] = 0
			msg := m.loadTimelinePage(dm.pageRequest(timelineOlder))()
			if pm := msg.(timelinePageMsg); pm.err != nil || len(pm.entries) == 0 {
				b.Fatalf("page: %v, %d entries", pm.err, len(pm.entries))
			}
			m.Update(msg)
			_ = m.View()
		})
	})
	// The floor of a page: the frame alone, after a key press that reads
	// nothing.
	b.Run("frame-100k", func(b *testing.B) {
		openFrame(b, m, long)
		loopCPU(b, func() { _ = m.View() })
	})
	// A key press in the timeline and its frame, no read.
	b.Run("key-100k", func(b *testing.B) {
		openFrame(b, m, long)
		up := keyMsg("up")
		loopCPU(b, func() {
			m.detail.cursor[tabTimeline] = 60
			m.Update(up)
			_ = m.View()
		})
	})
	// RSS: open the long incident and scroll 50 pages back from its
	// newest entry, against the process before it (the app already
	// running on the file, with its runbooks loaded).
	b.Run("rss-100k", func(b *testing.B) {
		for b.Loop() {
			runtime.GC()
			before := rss()
			start := time.Now()
			openFrame(b, m, long)
			dm := &m.detail
			for range 50 {
				dm.cursor[tabTimeline] = 0
				m.Update(m.loadTimelinePage(dm.pageRequest(timelineOlder))())
				_ = m.View()
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(rss()-before)/(1<<20), "MiB-rss-growth")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap-inuse")
			b.ReportMetric(float64(elapsed.Microseconds())/1000/51, "ms/read")
		}
	})
}
