package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/fixture"
)

// The process benchmarks run the built binary on the shared fixtures
// (internal/fixture: 1k, 10k and 100k incidents of 20 entries, two thirds
// open), each beside its floor measured in the same run: a Go binary with
// the same SQLite linked in (testdata/floor) that opens the database, reads
// one row and exits. They report wall time and CPU time (user + system)
// per start, since the machine they run on may be shared.

// runbookFolder writes m runbooks (copies of a bundled one under new ids)
// into a folder of the benchmark's own.
func runbookFolder(b *testing.B, m int) string {
	b.Helper()
	src, err := os.ReadFile("../../runbooks/ransomware.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(b.TempDir(), "runbooks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	for i := range m {
		out := bytes.Replace(src, []byte("id: ransomware"), fmt.Appendf(nil, "id: ransomware-copy-%04d", i), 1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("rb-%04d.yaml", i)), out, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// procRun is one process run: when want appeared on its output (or when it
// ended, with no want), and the CPU time it used in all.
type procRun struct {
	wall, cpu time.Duration
	out       string
}

// runProcess runs bin with args and env, and returns when it has ended,
// timing it from start to the first output holding want (to its end when
// want is empty). Its input is a pipe the app can poll.
func runProcess(b *testing.B, bin string, env []string, want string, args ...string) procRun {
	b.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd.Stdin = r
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var (
		out  bytes.Buffer
		seen time.Duration
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := stdout.Read(buf)
			out.Write(buf[:n])
			if seen == 0 && want != "" && bytes.Contains(out.Bytes(), []byte(want)) {
				seen = time.Since(start)
			}
			if err != nil {
				return
			}
		}
	})
	wg.Wait()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("%s %v: %v\n%s%s", filepath.Base(bin), args, err, out.String(), stderr.String())
	}
	if want == "" {
		seen = time.Since(start)
	} else if seen == 0 {
		b.Fatalf("%s %v: no output with %q:\n%s%s", filepath.Base(bin), args, want, tail(out.String()), stderr.String())
	}
	return procRun{wall: seen, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), out: out.String()}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// measure runs f and its floor b.N times each, in turn (after one run of
// each to warm caches), so that both meet the same load on a shared
// machine, and reports the mean wall and CPU time per run of f under the
// given name and of the floor as floor-ms and floor-cpu-ms.
func measure(b *testing.B, name string, f, floor func() procRun) (wall, cpu float64) {
	b.Helper()
	f()
	floor()
	var tw, tc, fw, fc time.Duration
	n := 0
	for b.Loop() {
		r := f()
		tw += r.wall
		tc += r.cpu
		b.StopTimer()
		r = floor()
		fw += r.wall
		fc += r.cpu
		b.StartTimer()
		n++
	}
	wall, cpu = ms(tw)/float64(n), ms(tc)/float64(n)
	b.ReportMetric(wall, name+"-ms")
	b.ReportMetric(cpu, name+"-cpu-ms")
	b.ReportMetric(ms(fw)/float64(n), "floor-ms")
	b.ReportMetric(ms(fc)/float64(n), "floor-cpu-ms")
	return wall, cpu
}

// floorRun runs the floor binary (testdata/floor: SQLite linked in, one
// row read from the database in env) as f's floor.
func floorRun(b *testing.B, floor string, env []string, args ...string) func() procRun {
	return func() procRun { return runProcess(b, floor, env, "", args...) }
}

// fixtureEnv is the environment of a run on a copy of a fixture: the
// database, and folders of the benchmark's own for the runbook cache and
// the checkpoint key. The OS user is the fixture's alice.
func fixtureEnv(b *testing.B, spec fixture.Spec) []string {
	b.Helper()
	db := fixture.Copy(b, spec)
	dir := filepath.Dir(db)
	return []string{"IRTUI_DB=" + db, "XDG_CACHE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir, "IRTUI_USER=", "NO_COLOR=1",
		"IRTUI_WITNESS=" + filepath.Join(dir, "witness")}
}

var growth = []fixture.Spec{fixture.Small, fixture.Medium, fixture.Large}

// BenchmarkStartupToList measures a whole process, from its start to the
// frame that shows the list with the newest incident on it, on 1k, 10k and
// 100k incidents with 1,000 extra runbooks (their cache warm). Budget at
// 100k: 80 ms.
func BenchmarkStartupToList(b *testing.B) {
	bin, floor := buildBench(b), buildFloor(b)
	rbs := runbookFolder(b, 1000)
	for _, spec := range growth {
		b.Run(spec.Label(), func(b *testing.B) {
			env := append(fixtureEnv(b, spec), "IRTUI_EXIT_ON_FRAME="+fixture.NewestOpen(spec))
			// The cache warm: a whole load (a run that quits at its first
			// frame keeps only what it had decoded by then).
			runProcess(b, bin, env, "", "runbooks", "list", "--runbooks", rbs)
			measure(b, "start", func() procRun {
				return runProcess(b, bin, env, fixture.NewestOpen(spec), "--runbooks", rbs)
			}, floorRun(b, floor, env))
		})
	}
}

// BenchmarkIncidentList is `irtui incident list` (the newest 50 open
// incidents, with their deadlines) as a whole process. Budget at 100k:
// 30 ms.
func BenchmarkIncidentList(b *testing.B) {
	bin, floor := buildBench(b), buildFloor(b)
	for _, spec := range growth {
		b.Run(spec.Label(), func(b *testing.B) {
			env := fixtureEnv(b, spec)
			measure(b, "list", func() procRun {
				r := runProcess(b, bin, env, "", "incident", "list")
				if !strings.Contains(r.out, fixture.NewestOpen(spec)) {
					b.Fatalf("incident list:\n%s", tail(r.out))
				}
				return r
			}, floorRun(b, floor, env))
		})
	}
}

// BenchmarkVersion is `irtui --version` beside the floor's: what irtui's
// own start costs before it does anything. Budget: within 3 ms of the
// floor, and package initialisation (GODEBUG=inittrace=1) under 2 ms,
// reported as init-ms (the clock time of all inits, the median of eleven
// traces) and the slowest packages in the log.
func BenchmarkVersion(b *testing.B) {
	bin, floor := buildBench(b), buildFloor(b)
	env := []string{"XDG_CACHE_HOME=" + b.TempDir()}
	measure(b, "version", func() procRun { return runProcess(b, bin, env, "", "--version") }, floorRun(b, floor, env, "--version"))
	// One trace is noisy on a shared machine: the median of eleven.
	var totals []float64
	var top string
	for range 11 {
		var total float64
		total, top = initTrace(b, bin)
		totals = append(totals, total)
	}
	slices.Sort(totals)
	b.ReportMetric(totals[len(totals)/2], "init-ms")
	b.Logf("package inits %.2f–%.2f ms (median %.2f); slowest in the last run: %s", totals[0], totals[len(totals)-1], totals[len(totals)/2], top)
}

var initLine = regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock`)

// initTrace runs bin --version with GODEBUG=inittrace=1 and returns the
// clock time of every package's init, in all, and the slowest five.
func initTrace(b *testing.B, bin string) (float64, string) {
	b.Helper()
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	type pkg struct {
		name string
		ms   float64
	}
	var (
		total float64
		pkgs  []pkg
	)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := initLine.FindStringSubmatch(sc.Text()); m != nil {
			v, _ := strconv.ParseFloat(m[2], 64)
			total += v
			pkgs = append(pkgs, pkg{m[1], v})
		}
	}
	_, _ = io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	for i := range pkgs { // the five slowest first
		for j := i + 1; j < len(pkgs); j++ {
			if pkgs[j].ms > pkgs[i].ms {
				pkgs[i], pkgs[j] = pkgs[j], pkgs[i]
			}
		}
	}
	var top []string
	for _, p := range pkgs[:min(5, len(pkgs))] {
		top = append(top, fmt.Sprintf("%s %.2f ms", p.name, p.ms))
	}
	return total, strings.Join(top, ", ")
}

func buildBench(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "irtui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func buildFloor(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "floor")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/floor").CombinedOutput(); err != nil {
		b.Fatalf("go build floor: %v\n%s", err, out)
	}
	return bin
}
