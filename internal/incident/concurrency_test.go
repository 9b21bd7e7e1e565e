package incident

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/store"
)

// Two Stores on one file stand for two irtui processes (each has its own
// connections and its own SQLite locks). They write at the same time.
func TestTwoStoresWriteConcurrently(t *testing.T) {
	f := newFixture(t) // store A
	ctx := context.Background()
	stB, err := store.Open(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer stB.Close()
	svcA := f.svc
	svcB := &Service{Store: stB, Clock: clock.Real{}}

	shared := f.declare(t)
	const perWriter = 200
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	writer := func(svc *Service, name string) {
		defer wg.Done()
		for i := range perWriter {
			var err error
			switch i % 10 {
			case 0:
				_, err = svc.Declare(ctx, as(name), declaration())
			case 5:
				_, err = svc.Get(ctx, as(name), shared.ID)
			default:
				err = svc.AddNote(ctx, as(name), shared.ID, fmt.Sprintf("%s %d", name, i))
			}
			if err != nil {
				errs <- fmt.Errorf("%s action %d: %w", name, i, err)
			}
		}
	}
	wg.Add(4)
	go writer(svcA, "alice")
	go writer(svcA, "carol")
	go writer(svcB, "bob")
	go writer(svcB, "dave")
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err) // "database is locked" would show here
	}

	// Each store sees everything the other wrote.
	for name, st := range map[string]*store.Store{"A": f.st, "B": stB} {
		d, err := st.Incident(ctx, shared.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := 2 + 4*perWriter*8/10; d.TimelineTotal != want {
			t.Errorf("store %s sees %d entries of %s, want %d", name, d.TimelineTotal, shared.ID, want)
		}
		list, err := st.ListIncidents(ctx, store.ListFilter{Limit: 1000})
		if err != nil || len(list) != 1+4*perWriter/10 {
			t.Errorf("store %s lists %d incidents, %v", name, len(list), err)
		}
	}
	// A change by one is visible to the other at once.
	before, _ := f.st.MaxTimelineID(ctx)
	if err := svcB.AddNote(ctx, as("bob"), shared.ID, "seen?"); err != nil {
		t.Fatal(err)
	}
	if after, _ := f.st.MaxTimelineID(ctx); after != before+1 {
		t.Errorf("store A: newest timeline id %d -> %d after B wrote", before, after)
	}
	rep, err := f.st.VerifyChains(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("chains after concurrent writes: %+v, %v", rep, err)
	}
}

const crashEnv = "IRTUI_CRASH_CHILD_DB"

// TestCrashChild is the child of TestCrashSafety: it acts on the database
// in a loop until it is killed, printing each action after it committed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashSafety only")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		fmt.Printf("error %v\n", err)
		os.Exit(2)
	}
	svc := &Service{Store: st, Clock: clock.Real{}}
	say := func(format string, args ...any) {
		// One write per line: a line is either all there or not at all.
		os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
	}
	say("ready")
	deadline := time.Now().Add(20 * time.Second) // never outlive a parent that died
	var current string
	for i := 0; time.Now().Before(deadline); i++ {
		switch {
		case current == "" || i%20 == 0:
			in, err := svc.Declare(ctx, as("carol"), declaration())
			if err != nil {
				say("error %v", err)
				os.Exit(2)
			}
			current = in.ID
			say("declared %s", current)
		case i%20 == 1:
			if err := svc.CompleteStep(ctx, as("carol"), current, "revoke-sessions", ""); err != nil {
				say("error %v", err)
				os.Exit(2)
			}
			say("step %s revoke-sessions", current)
		default:
			text := fmt.Sprintf("note %d-%d", os.Getpid(), i)
			if err := svc.AddNote(ctx, as("carol"), current, text); err != nil {
				say("error %v", err)
				os.Exit(2)
			}
			say("note %s %s", current, text)
		}
	}
	os.Exit(0)
}

// TestCrashSafety kills a writing child process with SIGKILL at random
// moments, again and again, and checks that the file stays sound, both
// chains verify, and every action the child reported as committed is there.
func TestCrashSafety(t *testing.T) {
	kills := 200
	if testing.Short() {
		kills = 20
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "irtui.db")
	ctx := context.Background()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportDirectory(ctx, "admin", directory); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var reported []string
	start := time.Now()
	for k := range kills {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		var readDone sync.WaitGroup
		readDone.Add(1)
		go func() {
			defer readDone.Done()
			defer close(lines)
			r := bufio.NewReader(out)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return // a line cut off by the kill has no newline: ignored
				}
				lines <- strings.TrimSuffix(line, "\n")
			}
		}()
		if first, ok := <-lines; !ok || first != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("kill %d: child did not start: %q", k, first)
		}
		time.Sleep(time.Duration(5+rand.IntN(56)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		var got []string
		for l := range lines {
			got = append(got, l)
		}
		readDone.Wait()
		_ = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("kill %d: child ended on its own (%v): %v", k, cmd.ProcessState, got)
		}
		for _, l := range got {
			if strings.HasPrefix(l, "error") {
				t.Fatalf("kill %d: child: %s", k, l)
			}
		}
		reported = append(reported, got...)
		_, _ = io.Copy(io.Discard, out)
	}
	elapsed := time.Since(start)

	st, err = store.Open(ctx, path)
	if err != nil {
		t.Fatalf("open after %d kills: %v", kills, err)
	}
	defer st.Close()
	if res, err := st.IntegrityCheck(ctx); err != nil || res != "ok" {
		t.Fatalf("integrity_check after %d kills: %q, %v", kills, res, err)
	}
	rep, err := st.VerifyChains(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("chains after %d kills: %+v, %v", kills, rep, err)
	}
	notes := map[string]map[string]bool{}
	for _, l := range reported {
		f := strings.SplitN(l, " ", 3)
		id := f[1]
		if notes[id] == nil {
			d, err := st.Incident(ctx, id)
			if err != nil {
				t.Fatalf("%q reported, but: %v", l, err)
			}
			notes[id] = map[string]bool{}
			for _, e := range d.Timeline {
				notes[id][e.Kind+" "+e.Summary] = true
			}
		}
		switch f[0] {
		case "declared":
		case "step":
			if !notes[id]["step_completed Step revoke-sessions done: Revoke all sessions"] {
				t.Errorf("%q reported, but the step is not done", l)
			}
		case "note":
			if !notes[id]["note "+f[2]] {
				t.Errorf("%q reported, but the note is not there", l)
			}
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	t.Logf("%d kills in %v; %d committed actions reported, all present; %d timeline entries, %d audit entries",
		kills, elapsed.Round(time.Millisecond), len(reported), rep.Timeline.Entries, rep.Audit.Entries)
	if len(reported) < kills {
		t.Errorf("only %d actions were reported in %d runs: the kills came too early to test much", len(reported), kills)
	}
}
