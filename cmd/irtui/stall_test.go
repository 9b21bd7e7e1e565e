package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/serve"
)

// stalledWriter is an SSH client that stops reading: every write blocks
// until release is closed.
type stalledWriter struct {
	release <-chan struct{}
	started chan<- struct{}
	once    sync.Once
}

func (w *stalledWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { w.started <- struct{}{} })
	<-w.release
	return len(p), nil
}

// Clients of irtui serve that stop reading the output of a long `incident
// show` or `incident export` (a pager left open) must not hold up the
// others: their reads go on.
func TestStalledStreamsDoNotHoldUpOtherSessions(t *testing.T) {
	f := newRemoteFixture(t)
	f.ok("alice", "incident", "declare", "--runbook", "lost-device", "--title", "Laptop stolen")
	for i := range 150 {
		if err := f.r.svc.AddNote(context.Background(), f.actor("alice"), "INC-0001", fmt.Sprintf("Note %d: checked the badge logs of the east entrance", i)); err != nil {
			t.Fatal(err)
		}
	}
	release := make(chan struct{})
	started := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range 4 {
		args := []string{"incident", "show", "INC-0001"}
		if i%2 == 1 {
			args = []string{"incident", "export", "INC-0001"}
		}
		wg.Go(func() {
			s := &serve.Session{Context: context.Background(), Actor: f.actor("alice")}
			var errb bytes.Buffer
			f.r.run(s, args, strings.NewReader(""), &stalledWriter{release: release, started: started}, &errb)
		})
	}
	defer func() {
		close(release)
		wg.Wait()
	}()
	for range 4 {
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			t.Fatal("the streams did not start writing")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := &serve.Session{Context: ctx, Actor: f.actor("chen")}
	var out, errb bytes.Buffer
	if code := f.r.run(s, []string{"incident", "list"}, strings.NewReader(""), &out, &errb); code != 0 || !strings.Contains(out.String(), "INC-0001") {
		t.Fatalf("a list beside stalled streams: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
