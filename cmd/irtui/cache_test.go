package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// withCache runs irtui as c.run does, but with the decode cache on, in
// cache (XDG_CACHE_HOME).
func (c *cli) withCache(cache string, args ...string) (string, string) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "IRTUI_DB="+c.db, "IRTUI_USER="+c.as, "IRTUI_CONFIG="+c.config, "IRTUI_CACHE=",
		"XDG_CACHE_HOME="+cache, "NO_COLOR=1", "XDG_DATA_HOME="+c.dir, "XDG_CONFIG_HOME="+c.dir, "IRTUI_CHECKPOINT_KEY=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("irtui %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// declarePDB declares a personal data breach and returns how many
// notifications it drafted or queued.
func (c *cli) declarePDB(cache string, args ...string) (int, string) {
	c.t.Helper()
	args = append(args, "incident", "declare", "--runbook", "personal-data-breach", "--title", "Export on a paste site",
		"--answers", "../../docs/examples/answers/personal-data-breach.yaml", "--customer", "acme", "--json")
	out, errs := c.withCache(cache, args...)
	var inc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &inc); err != nil || inc.ID == "" {
		c.t.Fatalf("declare: %v\n%s", err, out)
	}
	list := c.ok("notify", "list", "--incident", inc.ID, "--json")
	var notices []json.RawMessage
	if err := json.Unmarshal([]byte(list), &notices); err != nil {
		c.t.Fatalf("notify list: %v\n%s", err, list)
	}
	return len(notices), errs
}

// tamper drops the regulator and customer rules from the cached runbooks
// that have them, as the user did by hand, and returns how many
// entries it changed.
func tamper(t *testing.T, cacheFile string, forge map[string]json.RawMessage) int {
	t.Helper()
	data, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	var entries map[string]map[string]json.RawMessage
	if err := json.Unmarshal(f["entries"], &entries); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, e := range entries {
		var rb map[string]json.RawMessage
		if err := json.Unmarshal(e["runbook"], &rb); err != nil {
			t.Fatal(err)
		}
		var rules []map[string]any
		if err := json.Unmarshal(rb["notifications"], &rules); err != nil {
			t.Fatal(err)
		}
		var kept []map[string]any
		for _, r := range rules {
			if a := r["audience"]; a != "regulator" && a != "customers" {
				kept = append(kept, r)
			}
		}
		if len(kept) == len(rules) {
			continue
		}
		rb["notifications"], _ = json.Marshal(kept)
		e["runbook"], _ = json.Marshal(rb)
		changed++
	}
	for path, entry := range forge {
		var e map[string]json.RawMessage
		if err := json.Unmarshal(entry, &e); err != nil {
			t.Fatal(err)
		}
		entries[path] = e
	}
	f["entries"], _ = json.Marshal(entries)
	out, _ := json.Marshal(f)
	if err := os.WriteFile(cacheFile, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return changed
}

// TestCLIDecodeCacheCannotChangeARunbook: the tamper. Dropping the
// regulator and customer rules of the personal-data-breach runbook in the
// decode cache made the next declaration draft 1 notification instead of
// 2, silently. Now a bundled runbook is never read from the cache, and an
// entry changed outside irtui fails its HMAC: it is discarded with a
// warning and the file is read again.
func TestCLIDecodeCacheCannotChangeARunbook(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	cache := filepath.Join(c.dir, "cache")
	cacheFile := filepath.Join(cache, "irtui", "runbooks-v5.json")

	// A folder copy of the bundled runbook, which replaces it: this one is
	// cached.
	rb := filepath.Join(c.dir, "rb")
	if err := os.Mkdir(rb, 0o700); err != nil {
		t.Fatal(err)
	}
	c.write("rb/personal-data-breach.yaml", readFile(t, "../../runbooks/personal-data-breach.yaml"))
	want, errs := c.declarePDB(cache, "--runbooks", rb)
	if want != 2 || errs != "" {
		t.Fatalf("before: %d notifications, stderr %q", want, errs)
	}
	if n := tamper(t, cacheFile, nil); n != 1 {
		t.Fatalf("tampered %d entries, want the folder runbook's", n)
	}
	got, errs := c.declarePDB(cache, "--runbooks", rb)
	if got != want {
		t.Errorf("after the tamper: %d notifications, want %d", got, want)
	}
	abs, _ := filepath.Abs(filepath.Join(rb, "personal-data-breach.yaml"))
	if w := "warning: runbook cache entry for " + abs + " was changed outside irtui; it was discarded and the file parsed again\n"; errs != w {
		t.Errorf("stderr:\n got %q\nwant %q", errs, w)
	}
	// The entry was rewritten from the file: the next start is quiet.
	if got, errs := c.declarePDB(cache, "--runbooks", rb); got != want || errs != "" {
		t.Errorf("next start: %d notifications, stderr %q", got, errs)
	}

	// The bundled runbook: an entry forged for it, under its name or the
	// folder file's bytes, is never consulted.
	data, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	forged := f.Entries[abs]
	tamper(t, cacheFile, map[string]json.RawMessage{"bundled:personal-data-breach.yaml": forged, "personal-data-breach.yaml": forged})
	if got, errs := c.declarePDB(cache); got != want || errs != "" {
		t.Errorf("bundled after a forged entry: %d notifications, stderr %q", got, errs)
	}
}
