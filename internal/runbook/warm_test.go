package runbook

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/irtui/irtui/runbooks"
)

// counted loads opts and returns the library with how many runbooks were
// validated and how many only linked.
func counted(t *testing.T, opts Options) (*Library, int64, int64) {
	t.Helper()
	v0, l0 := validations.Load(), links.Load()
	lib := load(t, opts)
	return lib, validations.Load() - v0, links.Load() - l0
}

// A warm start validates nothing: 1,000 runbooks read from the cache are
// linked (shared assessments resolved, expressions compiled) and work as
// the validated ones do. A change of context (another set of checks, a
// shared assessment that changed) validates them again.
func TestWarmStartDoesNoValidation(t *testing.T) {
	dir := t.TempDir()
	for i := range 1000 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen-%04d.yaml", i)), []byte(generated(i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// One runbook of the folder uses a shared assessment of the folder.
	src, err := fs.ReadFile(runbooks.FS(), "lost-device.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte("id: lost-device"), []byte("id: lost-device-local"), 1)
	if err := os.WriteFile(filepath.Join(dir, "lost-device-local.yaml"), src, 0o600); err != nil {
		t.Fatal(err)
	}
	asmt, err := fs.ReadFile(runbooks.FS(), "assessments/breach-risk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "assessments"), 0o700); err != nil {
		t.Fatal(err)
	}
	asmtPath := filepath.Join(dir, "assessments", "breach-risk.yaml")
	if err := os.WriteFile(asmtPath, asmt, 0o600); err != nil {
		t.Fatal(err)
	}
	msp, err := fs.ReadFile(runbooks.FS(), "assessments/nis2-msp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "assessments", "nis2-msp.yaml"), msp, 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{Dirs: []string{dir}, CacheDir: t.TempDir(), Validate: ValidateOptions{Obligation: func(string) bool { return true }}}

	cold, validated, linked := counted(t, opts)
	if len(cold.Failed) > 0 || len(cold.Runbooks) != 1001 {
		t.Fatalf("cold load: %d runbooks, problems %v", len(cold.Runbooks), cold.Failed)
	}
	if validated != 1001 || linked != 0 {
		t.Fatalf("cold load validated %d and linked %d runbooks, want 1001 and 0", validated, linked)
	}

	warm, validated, linked := counted(t, opts)
	if validated != 0 || linked != 1001 {
		t.Fatalf("warm load validated %d and linked %d runbooks, want 0 and 1001", validated, linked)
	}
	if len(warm.Failed) > 0 || len(warm.Runbooks) != len(cold.Runbooks) {
		t.Fatalf("warm load: %d runbooks, problems %v", len(warm.Runbooks), warm.Failed)
	}
	for i, rb := range warm.Runbooks {
		sameBehaviour(t, cold.Runbooks[i], rb)
	}

	// Other checks on: validated again, once; then warm again.
	opts.Validate.Obligation = nil
	if _, validated, _ = counted(t, opts); validated != 1001 {
		t.Errorf("with other checks %d runbooks were validated, want 1001", validated)
	}
	if _, validated, _ = counted(t, opts); validated != 0 {
		t.Errorf("warm again, %d runbooks were validated, want 0", validated)
	}

	// The shared assessment changed: the runbook that uses it is validated
	// again, and only it.
	asmt = bytes.Replace(asmt, []byte("title: Personal data breach risk"), []byte("title: Personal data breach risk, as we assess it"), 1)
	if err := os.WriteFile(asmtPath, asmt, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, validated, _ = counted(t, opts); validated != 1 {
		t.Errorf("after the shared assessment changed %d runbooks were validated, want 1", validated)
	}
}

// sameBehaviour checks that a linked runbook decides as the validated one
// does: same shared assessments, every condition compiled and giving the
// same answer on the worst-case answers.
func sameBehaviour(t *testing.T, want, got *Runbook) {
	t.Helper()
	if got.ID != want.ID || len(got.Questions) != len(want.Questions) || len(got.Uses) != len(want.Uses) {
		t.Fatalf("%s: linked runbook differs: %d questions and %d uses, want %d and %d", got.ID, len(got.Questions), len(got.Uses), len(want.Questions), len(want.Uses))
	}
	for i := range got.Uses {
		if got.Uses[i].Shared() == nil || got.Uses[i].Shared().ID != want.Uses[i].Shared().ID {
			t.Fatalf("%s: shared assessment %s not resolved", got.ID, got.Uses[i].Assessment)
		}
	}
	env, wenv := got.FullEnv(), want.FullEnv()
	for i := range got.Rules.Severity {
		g, gerr := got.Rules.Severity[i].Holds(env)
		w, werr := want.Rules.Severity[i].Holds(wenv)
		if g != w || (gerr == nil) != (werr == nil) {
			t.Fatalf("%s: severity rule %d gives %v (%v), want %v (%v)", got.ID, i, g, gerr, w, werr)
		}
	}
	for p := range got.Phases {
		for i, st := range got.Phases[p].Steps {
			if (st.When != "") != (st.prog != nil) || (want.Phases[p].Steps[i].prog == nil) != (st.prog == nil) {
				t.Fatalf("%s: step %s condition not compiled", got.ID, st.ID)
			}
		}
	}
	for i, n := range got.Notify {
		if (n.When != "") != (n.prog != nil) || (want.Notify[i].prog == nil) != (n.prog == nil) {
			t.Fatalf("%s: notification %s condition not compiled", got.ID, n.ID)
		}
	}
}

// A load cut short (the app quit at its first frame) still saves what it
// decoded: the next load validates only the files the first did not reach.
func TestCancelledLoadKeepsWhatItDecoded(t *testing.T) {
	dir := t.TempDir()
	const n = 1000
	for i := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen-%04d.yaml", i)), []byte(generated(i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{Dirs: []string{dir}, CacheDir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	v0 := validations.Load()
	_, _ = Load(ctx, opts) // cancelled: an error, and a partial library
	cancel()
	first := validations.Load() - v0
	if first == n { // 1,000 files take far longer than 50 ms to validate
		t.Fatalf("the load validated all %d files before it was cancelled", n)
	}
	_, validated, linked := counted(t, opts)
	if validated != n-first || linked != first {
		t.Errorf("the first load validated %d files before it was cancelled; the next validated %d and linked %d, want %d and %d",
			first, validated, linked, n-first, first)
	}
}

// A cancelled load leaves the cache as it was, and warm.
func TestCancelledLoadLeavesTheCache(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen-%04d.yaml", i)), []byte(generated(i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{Dirs: []string{dir}, CacheDir: t.TempDir()}
	load(t, opts)
	file := filepath.Join(opts.CacheDir, cacheSchema+".json")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = Load(ctx, opts)
	after, err := os.ReadFile(file)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("the cache changed under a cancelled load (%v)", err)
	}
	if _, validated, _ := counted(t, opts); validated != 0 {
		t.Errorf("%d runbooks validated after a cancelled load, want 0", validated)
	}
}
