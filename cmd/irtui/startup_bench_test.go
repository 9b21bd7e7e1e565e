package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// startupFixture builds a database of n incidents and a folder of m
// runbooks (copies of a bundled one under new ids).
func startupFixture(b *testing.B, n, m int) (db, dir string) {
	b.Helper()
	tmp := b.TempDir()
	db = filepath.Join(tmp, "big.db")
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	svc := &incident.Service{Store: st, Clock: clock.Real{}}
	for i := range n {
		d := incident.Declaration{RunbookID: "ransomware", RunbookVersion: "1.1.0", Title: fmt.Sprintf("Incident %d", i),
			Category: "malicious-code/infected-system", Severity: "SEV3", Incident: true, Flags: []string{"personal_data_breach"},
			Roles: []string{"incident_commander"}, Steps: []incident.StepRef{{ID: "s1", Phase: "containment", Title: "Contain", Role: "incident_commander", Required: true}}}
		if _, err := svc.Declare(ctx, identity.Local("bench", "bench"), d); err != nil {
			b.Fatal(err)
		}
	}
	st.Close()
	src, err := os.ReadFile("../../runbooks/ransomware.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir = filepath.Join(tmp, "runbooks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	for i := range m {
		out := bytes.Replace(src, []byte("id: ransomware"), fmt.Appendf(nil, "id: ransomware-copy-%04d", i), 1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("rb-%04d.yaml", i)), out, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return db, dir
}

// runToFrame starts irtui and returns when it has written a frame holding
// want (IRTUI_EXIT_ON_FRAME), measured from process start.
func runToFrame(b *testing.B, bin, db, dir, want string) time.Duration {
	b.Helper()
	cmd := exec.Command(bin, "--runbooks", dir)
	cmd.Env = append(os.Environ(), "IRTUI_DB="+db, "IRTUI_EXIT_ON_FRAME="+want, "IRTUI_USER=bench", "XDG_CACHE_HOME="+filepath.Dir(db),
		"XDG_CONFIG_HOME="+filepath.Dir(db))
	r, w, err := os.Pipe() // the app reads keys from a pipe it can poll
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd.Stdin = r
	var out bytes.Buffer
	cmd.Stdout = &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("irtui: %v\n%s", err, out.String())
	}
	took := time.Since(start)
	if !strings.Contains(out.String(), want) {
		b.Fatalf("no frame with %q", want)
	}
	return took
}

// BenchmarkStartupFirstFrame measures a whole process, from start to its
// first full frame, with a database of 10,000 incidents and 1,000 extra
// runbooks. Budget: 150 ms. The list of incidents follows in later frames;
// "to list" reports when the newest incident is on screen.
func BenchmarkStartupFirstFrame(b *testing.B) {
	bin := buildBench(b)
	db, dir := startupFixture(b, 10_000, 1_000)
	for _, tc := range []struct{ name, want string }{{"first-frame", "you are bench"}, {"to-list", "Incident 9999"}} {
		b.Run(tc.name, func(b *testing.B) {
			runToFrame(b, bin, db, dir, tc.want) // warm the file cache and the runbook cache
			var total time.Duration
			for b.Loop() {
				total += runToFrame(b, bin, db, dir, tc.want)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/start")
		})
	}
}

func buildBench(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "irtui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
