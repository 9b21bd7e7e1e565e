package runbook

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/runbooks"
)

// generated writes a realistic runbook of about 8 KiB. Every expression
// carries numbers unique to the runbook, so the compile cache cannot make
// the benchmark look better than a real, varied library would.
func generated(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `id: gen-%04d
title: Generated runbook %d
version: 1.0.%d
owner: Security team
summary: |
  A generated runbook used to measure loading. It has the size and the shape of a real one:
  a dozen questions, rules, five roles, five phases with steps and two notifications.
category:
  class: intrusions
  type: system-compromise
attack_vector: web
questions:
`, i, i, i)
	for q := range 6 {
		fmt.Fprintf(&b, `  - id: q%d_yes
    text: Is condition %d present on the affected systems?
    help: Look at the logs and the alerts of the last 24 hours before you answer this question.
    type: yesno
  - id: q%d_level
    text: How bad is aspect %d?
    type: choice
    choices:
      - value: none
        label: None at all
      - value: low
        label: Low impact
      - value: high
        label: High impact
`, q, q, q, q)
	}
	fmt.Fprintf(&b, `  - id: people
    text: How many people are affected?
    type: number
    min: 0
    max: 1000000
classification:
  incident:
    - when: q0_yes || people > %d
      because: Condition zero or many people.
  severity:
    - level: SEV1
      when: q1_level == "high" && people >= %d
      because: High impact on many.
    - level: SEV2
      when: q2_level in ["low", "high"] && q3_yes
      because: Some impact.
  default_severity: SEV3
  flags:
    - flag: personal_data_breach
      when: q4_yes && people > %d
      because: People's data.
  facts:
    - fact: affected_people
      value: people + %d
roles:
`, i, 1000+i, i%7, i%3)
	for _, r := range []string{"incident_commander", "deputy", "scribe", "comms_lead", "sme"} {
		fmt.Fprintf(&b, "  - id: %s\n    title: %s\n    duties:\n      - Does the work of the %s.\n      - Reports to the incident commander.\n", r, r, r)
	}
	b.WriteString("phases:\n")
	for p, ph := range PhaseIDs {
		fmt.Fprintf(&b, "  - id: %s\n    title: Phase %d\n    steps:\n", ph, p)
		for s := range 3 {
			fmt.Fprintf(&b, `      - id: step-%d-%d
        title: Do step %d of phase %d
        role: sme
        target: %dm
        when: q%d_yes || people > %d
        body: |
          Carry out the step carefully and record what you did in the timeline.
`, p, s, s, p, 10+s, s, i+p)
		}
	}
	fmt.Fprintf(&b, `notifications:
  - id: stakeholders
    audience: stakeholders
    on: declared
    template:
      subject: "{{.Incident.Severity}}: {{.Incident.Title}} (%d)"
      body: The incident {{.Incident.ID}} was declared; commander {{.Incident.Commander}}.
  - id: customers
    audience: customers
    on: flag:personal_data_breach
    approver: incident_commander
    when: severity <= %d
    content:
      - id: what
        label: What happened
        required: true
    template:
      subject: "Notice {{.Incident.ID}}"
      body: "Dear {{.Customer.Name}}, {{.Content.what}} (%d)"
`, i, 1+i%3, i)
	return b.String()
}

func writeGenerated(b *testing.B, n int) string {
	dir := b.TempDir()
	total := 0
	for i := range n {
		src := generated(i)
		total += len(src)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen-%04d.yaml", i)), []byte(src), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)/float64(n)/1024, "KiB/file")
	return dir
}

// BenchmarkLoad1000 loads and validates 1,000 generated runbooks of about
// 8 KiB each from disk. Budget: 500 ms.
func BenchmarkLoad1000(b *testing.B) {
	dir := writeGenerated(b, 1000)
	lib := load(b, Options{Dirs: []string{dir}})
	if len(lib.Failed) > 0 || len(lib.Runbooks) != 1000 {
		b.Fatalf("generated runbooks do not load: %d loaded, problems:\n%v", len(lib.Runbooks), lib.Failed[:min(5, len(lib.Failed))])
	}
	for b.Loop() {
		compileCache.Clear() // measure a cold process, not a warm cache
		lib := load(b, Options{Dirs: []string{dir}})
		if len(lib.Runbooks) != 1000 {
			b.Fatal("lost runbooks")
		}
	}
}

// BenchmarkLoad1000Cached is the same load at a later start: the files did
// not change, so their decoded form comes from the cache and only the
// validation and expression compilation run again.
func BenchmarkLoad1000Cached(b *testing.B) {
	dir := writeGenerated(b, 1000)
	opts := Options{Dirs: []string{dir}, CacheDir: b.TempDir()}
	if lib := load(b, opts); len(lib.Runbooks) != 1000 {
		b.Fatal("generated runbooks do not load")
	}
	v0 := validations.Load()
	for b.Loop() {
		compileCache.Clear()
		lib := load(b, opts)
		if len(lib.Runbooks) != 1000 {
			b.Fatal("lost runbooks")
		}
	}
	// A warm start validates nothing (TestWarmStartDoesNoValidation).
	b.ReportMetric(float64(validations.Load()-v0)/float64(b.N), "validations/op")
}

// BenchmarkRunbookMemory reports the heap a loaded runbook holds, with
// 1,000 copies of the largest bundled runbook (ransomware, about 35 KiB)
// loaded from a folder with a warm cache: heap-KiB/runbook is what stays
// reachable from the library after a collection, peak-MiB the most the
// heap held during the load.
func BenchmarkRunbookMemory(b *testing.B) {
	src, err := os.ReadFile("../../runbooks/ransomware.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for i := range 1000 {
		out := bytes.Replace(src, []byte("id: ransomware"), fmt.Appendf(nil, "id: ransomware-copy-%04d", i), 1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("rb-%04d.yaml", i)), out, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	opts := Options{Bundled: runbooks.FS(), Dirs: []string{dir}, CacheDir: b.TempDir()}
	load(b, opts) // the cache warm
	var held, peak float64
	for b.Loop() {
		compileCache.Clear()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		stop := make(chan struct{})
		top := make(chan uint64)
		go func() { // the heap's high-water mark during the load
			var m runtime.MemStats
			var hi uint64
			for {
				select {
				case <-stop:
					top <- hi
					return
				case <-time.After(2 * time.Millisecond):
					runtime.ReadMemStats(&m)
					hi = max(hi, m.HeapAlloc)
				}
			}
		}()
		lib := load(b, opts)
		close(stop)
		hi := <-top
		runtime.GC()
		runtime.ReadMemStats(&after)
		if len(lib.Runbooks) < 1000 {
			b.Fatal("lost runbooks")
		}
		held += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		peak += float64(hi) - float64(before.HeapAlloc)
		runtime.KeepAlive(lib)
	}
	b.ReportMetric(held/float64(b.N)/1000/1024, "heap-KiB/runbook")
	b.ReportMetric(peak/float64(b.N)/(1<<20), "peak-MiB")
}

// BenchmarkLintBroken1000 is the slow path: every file has a problem and
// is re-parsed for positions.
func BenchmarkLintBroken1000(b *testing.B) {
	dir := b.TempDir()
	for i := range 1000 {
		src := strings.Replace(generated(i), "owner:", "ownr:", 1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen-%04d.yaml", i)), []byte(src), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		compileCache.Clear()
		if probs := lint(b, []string{dir}, Options{}); len(probs) != 1000 {
			b.Fatalf("want 1000 problems, got %d", len(probs))
		}
	}
}

func TestGeneratedIsValid(t *testing.T) {
	src := generated(42)
	if len(src) < 7*1024 || len(src) > 9*1024 {
		t.Errorf("generated runbook is %d bytes, want about 8 KiB", len(src))
	}
	if _, probs := ParseFile("gen.yaml", []byte(src), ValidateOptions{}); probs != nil {
		t.Fatal(probs)
	}
}
