//go:build unix

package strictyaml

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The worst inputs, measured in a process of their own so that the peak
// resident memory (getrusage's maxrss) is theirs alone.

// costCase is one input: how to make it, and the kind it is read as.
type costCase struct {
	name string
	kind Kind
	// size raises the kind's size limit, to show what the scan does with
	// a 10 MiB file (the real limits refuse it before reading).
	size int64
	make func() []byte
}

var costCases = []costCase{
	// 10 MiB bombs: refused by the scan, which stops at the first limit.
	{"10MiB flow depth bomb", Runbook, 16 << 20, func() []byte {
		return []byte("q: " + strings.Repeat("[", 5<<20) + strings.Repeat("]", 5<<20) + "\n")
	}},
	{"10MiB block depth bomb", Runbook, 16 << 20, func() []byte { return []byte(strings.Repeat("- ", 5<<20) + "x\n") }},
	{"10MiB keys bomb", Runbook, 16 << 20, func() []byte {
		var b strings.Builder
		for i := 0; b.Len() < 10<<20; i++ {
			fmt.Fprintf(&b, "k%07d: 1\n", i)
		}
		return []byte(b.String())
	}},
	{"10MiB token bomb", Runbook, 16 << 20, func() []byte { return []byte("x: [" + strings.Repeat("1,", 5<<20) + "1]\n") }},
	{"10MiB text, no structure", Runbook, 16 << 20, func() []byte {
		return []byte("x: |\n" + strings.Repeat("  lorem ipsum dolor sit amet [x] {y} - z: w\n", 10<<20/44))
	}},
	// The worst files the limits accept, parsed in full by goccy/go-yaml.
	{"runbook at the token limit, 64 deep", Runbook, 0, func() []byte {
		return []byte("x: [" + strings.Repeat(strings.Repeat("[", 62)+strings.Repeat("]", 62)+",", 390) + "1]\n")
	}},
	{"runbook at the token limit, flat", Runbook, 0, func() []byte { return []byte("x: [" + strings.Repeat("1,", 24_900) + "1]\n") }},
	{"runbook at the token limit, 256 keys per mapping", Runbook, 0, func() []byte {
		var b strings.Builder
		for i := 0; i < 48; i++ {
			fmt.Fprintf(&b, "k%d:\n", i)
			for j := 0; j < 255; j++ {
				fmt.Fprintf(&b, "  a%03d: 1\n", j)
			}
		}
		return []byte(b.String())
	}},
	{"runbook near the path limit: long keys, deep", Runbook, 0, func() []byte {
		var b strings.Builder
		for d := range 60 {
			fmt.Fprintf(&b, "%s%s%02d:\n", strings.Repeat(" ", d), strings.Repeat("k", 2000), d)
		}
		for range 95 {
			b.WriteString(strings.Repeat(" ", 60) + "- x\n")
		}
		return []byte(b.String())
	}},
	{"directory at the token limit", Directory, 0, func() []byte {
		var b strings.Builder
		b.WriteString("customers:\n")
		entry := func(i int) string {
			return fmt.Sprintf("  - id: customer-%05d\n    name: Customer number %d Ltd\n    language: en\n    contact_kind: email\n    contact: security@customer%d.example\n", i, i, i)
		}
		per, _ := check(Directory, "", []byte(entry(0)))
		for i := 0; i < (Directory.Limits().Tokens-2)/per.tokens; i++ {
			b.WriteString(entry(i))
		}
		return []byte(b.String())
	}},
}

// TestMain runs one cost case and exits when started as measureCost's
// child process; otherwise it runs the tests.
func TestMain(m *testing.M) {
	if name := os.Getenv("IRTUI_COST_CASE"); name != "" {
		if err := runCostCase(name); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runCostCase(name string) error {
	for _, c := range costCases {
		if c.name != name {
			continue
		}
		data := c.make()
		if c.size > 0 {
			lim := c.kind.Limits()
			lim.Size = c.size
			s := &scanner{kind: c.kind, src: data, lim: lim, noClose: [2]int{-1, -1}}
			s.run()
			if s.fail == nil {
				return fmt.Errorf("%s: not refused", name)
			}
			fmt.Printf("bytes=%d refused: %s\n", len(data), s.fail.Msg)
			return nil
		}
		if _, probs := Parse(c.kind, name, data); probs != nil {
			return fmt.Errorf("%s: %v", name, probs)
		}
		fmt.Printf("bytes=%d parsed\n", len(data))
		return nil
	}
	return fmt.Errorf("no case %q", name)
}

// measureCost runs one case in a child process and returns its wall time
// and peak resident memory in MiB.
func measureCost(tb testing.TB, c costCase) (time.Duration, float64, string) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "IRTUI_COST_CASE="+c.name)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		tb.Fatalf("%s: %v\n%s", c.name, err, out)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "bytes=") {
			line = l
		}
	}
	return d, float64(ru.Maxrss) / 1024, line // maxrss is in KiB on Linux
}

// BenchmarkWorstInputs reports, for each case, the child process's wall
// time (including starting the test binary and building the input) and
// its peak resident memory. Budget: each under 1 s and 100 MiB.
func BenchmarkWorstInputs(b *testing.B) {
	for _, c := range costCases {
		b.Run(strings.ReplaceAll(c.name, " ", "_"), func(b *testing.B) {
			var rss float64
			for b.Loop() {
				_, rss, _ = measureCost(b, c)
			}
			b.ReportMetric(rss, "MiB-maxrss")
		})
	}
}

// TestWorstInputsStayWithinMemory: no input, bomb or worst accepted file,
// takes the process past 100 MiB of resident memory.
func TestWorstInputsStayWithinMemory(t *testing.T) {
	for _, c := range costCases {
		d, rss, line := measureCost(t, c)
		t.Logf("%-50s %6.1f MiB maxrss %8v  %s", c.name, rss, d.Round(time.Millisecond), line)
		if rss > 100 {
			t.Errorf("%s: %.1f MiB resident, over the 100 MiB budget", c.name, rss)
		}
	}
}
