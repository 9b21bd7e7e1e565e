package runbook

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// cacheEntries reads the cache file's entries.
func cacheEntries(t *testing.T, cache string) map[string]*cacheEntry {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(cache, cacheSchema+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f cacheFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Entries
}

func writeCacheEntries(t *testing.T, cache string, entries map[string]*cacheEntry) {
	t.Helper()
	data, err := json.Marshal(cacheFile{Schema: cacheSchema, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache, cacheSchema+".json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func folderWith(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDecodeCacheEntriesAreAuthenticated: an entry changed outside irtui
// (here: a rule's condition made to always hold) is discarded with a
// warning; the runbook is the file's.
func TestDecodeCacheEntriesAreAuthenticated(t *testing.T) {
	dir := folderWith(t, map[string]string{"m.yaml": minimal(t)})
	cache := t.TempDir()
	opts := Options{Dirs: []string{dir}, CacheDir: cache}
	first := load(t, opts)
	cond := first.Runbooks[0].Rules.Incident[0].When
	entries := cacheEntries(t, cache)
	abs, _ := filepath.Abs(filepath.Join(dir, "m.yaml"))
	e := entries[abs]
	if e == nil || len(entries) != 1 {
		t.Fatalf("entries: %v", entries)
	}
	e.Runbook = json.RawMessage(strings.Replace(string(e.Runbook), cond, "true", 1))
	writeCacheEntries(t, cache, entries)
	second := load(t, opts)
	if got := second.Runbooks[0].Rules.Incident[0].When; got != cond {
		t.Fatalf("the changed entry was used: condition %q", got)
	}
	if len(second.Warnings) != 1 || second.Warnings[0] != "runbook cache entry for "+abs+" was changed outside irtui; it was discarded and the file parsed again" {
		t.Fatalf("warnings: %q", second.Warnings)
	}
	// An entry of another build is stale, not bad: parsed again quietly.
	entries = cacheEntries(t, cache)
	entries[abs].Build = "another build"
	writeCacheEntries(t, cache, entries)
	if third := load(t, opts); len(third.Warnings) != 0 || third.Runbooks[0].Rules.Incident[0].When != cond {
		t.Fatalf("another build's entry: %q", third.Warnings)
	}
	if cacheEntries(t, cache)[abs].Build != buildOnce() {
		t.Fatal("the stale entry was not replaced")
	}
}

// TestDecodeCacheKeepsFoldersApart: two folders loaded in turn both keep
// their entries; a file that is gone loses its entry.
func TestDecodeCacheKeepsFoldersApart(t *testing.T) {
	a := folderWith(t, map[string]string{"a.yaml": strings.Replace(minimal(t), "id: minimal", "id: alpha", 1)})
	b := folderWith(t, map[string]string{"b.yaml": strings.Replace(minimal(t), "id: minimal", "id: beta", 1)})
	cache := t.TempDir()
	load(t, Options{Dirs: []string{a}, CacheDir: cache})
	load(t, Options{Dirs: []string{b}, CacheDir: cache})
	if got := len(cacheEntries(t, cache)); got != 2 {
		t.Fatalf("%d entries after two folders, want 2", got)
	}
	if err := os.Remove(filepath.Join(a, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	// The cache is rewritten when an entry is added: then the entry of
	// the file that is gone is dropped.
	if err := os.WriteFile(filepath.Join(b, "c.yaml"), []byte(strings.Replace(minimal(t), "id: minimal", "id: gamma", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	load(t, Options{Dirs: []string{a, b}, CacheDir: cache})
	entries := cacheEntries(t, cache)
	if len(entries) != 2 {
		t.Fatalf("entries: %d, want b.yaml and c.yaml", len(entries))
	}
	for p := range entries {
		if filepath.Dir(p) != b && filepath.Dir(p) != mustAbs(t, b) {
			t.Errorf("entry of a file that is gone: %s", p)
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestDecodeCacheNeverHoldsBundledRunbooks: bundled runbooks are decoded
// from the binary every time; an entry forged for one changes nothing.
func TestDecodeCacheNeverHoldsBundledRunbooks(t *testing.T) {
	bundled := fstest.MapFS{"minimal.yaml": {Data: []byte(minimal(t))}}
	dir := folderWith(t, map[string]string{"other.yaml": strings.Replace(minimal(t), "id: minimal", "id: other", 1)})
	cache := t.TempDir()
	opts := Options{Bundled: bundled, Dirs: []string{dir}, CacheDir: cache}
	load(t, opts)
	entries := cacheEntries(t, cache)
	if len(entries) != 1 {
		t.Fatalf("entries: %v", entries)
	}
	for _, e := range entries {
		for _, name := range []string{"bundled:minimal.yaml", "minimal.yaml", mustAbs(t, "minimal.yaml")} {
			forged := *e
			forged.Hash = hash([]byte(minimal(t)))
			forged.Runbook = json.RawMessage(strings.Replace(string(e.Runbook), `"title":"Minimal runbook"`, `"title":"Forged"`, 1))
			forged.MAC = forged.mac(nil, name)
			entries[name] = &forged
		}
	}
	writeCacheEntries(t, cache, entries)
	lib := load(t, opts)
	if rb, _ := lib.Get("minimal"); rb == nil || rb.Title != "Minimal runbook" || !rb.Source.Bundled {
		t.Fatalf("bundled runbook: %+v", rb)
	}
}

// TestDecodeCacheKeyMustBePrivate: a key others may read is not used, and
// the user is told; with no cache the runbooks still load.
func TestDecodeCacheKeyMustBePrivate(t *testing.T) {
	dir := folderWith(t, map[string]string{"m.yaml": minimal(t)})
	cache := t.TempDir()
	opts := Options{Dirs: []string{dir}, CacheDir: cache}
	load(t, opts)
	key := filepath.Join(cache, cacheKeyFile)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	lib := load(t, opts)
	if len(lib.Runbooks) != 1 || len(lib.Warnings) != 1 ||
		lib.Warnings[0] != "runbook cache not used: its key "+key+" may be read by others (mode -rw-r--r--); remove it to make a new one" {
		t.Fatalf("warnings: %q", lib.Warnings)
	}
}

// TestBrokenOverrideIsAnError: a folder file with a bundled runbook's id
// that does not load is a problem naming both files, and the bundled
// runbook is not used in its place.
func TestBrokenOverrideIsAnError(t *testing.T) {
	bundled := fstest.MapFS{"minimal.yaml": {Data: []byte(minimal(t))}}
	broken := strings.Replace(minimal(t), "title: Minimal runbook", "title: [unclosed", 1)
	dir := folderWith(t, map[string]string{"mine.yaml": broken})
	lib := load(t, Options{Bundled: bundled, Dirs: []string{dir}})
	if rb, ok := lib.Get("minimal"); ok {
		t.Fatalf("the bundled runbook was used in place of the broken override: %+v", rb.Source)
	}
	if p, ok := lib.Broken("minimal"); !ok || p != filepath.Join(dir, "mine.yaml") {
		t.Fatalf("Broken: %q %v", p, ok)
	}
	want := filepath.Join(dir, "mine.yaml") + `:1:1: this file replaces the bundled runbook "minimal" (bundled:minimal.yaml) but does not load, ` +
		`so runbook "minimal" is not available until it is fixed; the bundled one is not used in its place`
	found := false
	for _, p := range lib.Failed {
		found = found || p.String() == want
	}
	if !found {
		t.Fatalf("problems:\n%v\nwant %s", lib.Failed, want)
	}
	// Without a bundled runbook of that id, a broken file is only broken.
	if lib := load(t, Options{Dirs: []string{dir}}); len(lib.Failed) != 1 {
		t.Fatalf("problems: %v", lib.Failed)
	}
}

// TestDecodeCacheDepthBomb: a cache file nested 8 million levels deep (or
// any file that is not the cache's JSON) is reported and rebuilt; the
// runbooks load from their files.
func TestDecodeCacheDepthBomb(t *testing.T) {
	dir := folderWith(t, map[string]string{"m.yaml": minimal(t)})
	cache := t.TempDir()
	opts := Options{Dirs: []string{dir}, CacheDir: cache}
	load(t, opts) // creates the key
	path := filepath.Join(cache, cacheSchema+".json")
	bomb := `{"schema":"` + cacheSchema + `","entries":` + strings.Repeat(`{"a":`, 8<<20/5)
	if err := os.WriteFile(path, []byte(bomb), 0o600); err != nil {
		t.Fatal(err)
	}
	lib := load(t, opts)
	if len(lib.Runbooks) != 1 || len(lib.Warnings) != 1 || lib.Warnings[0] != "runbook cache "+path+" is damaged and is rebuilt" {
		t.Fatalf("runbooks %d, warnings %q", len(lib.Runbooks), lib.Warnings)
	}
	if got := cacheEntries(t, cache); len(got) != 1 {
		t.Fatalf("the cache was not rebuilt: %d entries", len(got))
	}
}

// The cache file stays within what its reader takes back
// (cacheMaxBytes): folders used in turn whose entries would not fit
// evict the least recently used, instead of writing a file that every
// later start refuses as too large, warns about, and rebuilds.
func TestDecodeCacheStaysReadable(t *testing.T) {
	var dirs []string
	for _, id := range []string{"alpha", "beta", "gamma", "delta"} {
		dirs = append(dirs, folderWith(t, map[string]string{id + ".yaml": strings.Replace(minimal(t), "id: minimal", "id: "+id, 1)}))
	}
	cache := t.TempDir()
	load(t, Options{Dirs: dirs[:1], CacheDir: cache})
	info, err := os.Stat(filepath.Join(cache, cacheSchema+".json"))
	if err != nil {
		t.Fatal(err)
	}
	// Room for about two entries.
	old := cacheMaxBytes
	cacheMaxBytes = info.Size()*5/2 + 1024
	t.Cleanup(func() { cacheMaxBytes = old })
	for _, dir := range dirs {
		load(t, Options{Dirs: []string{dir}, CacheDir: cache})
		info, err := os.Stat(filepath.Join(cache, cacheSchema+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > cacheMaxBytes {
			t.Fatalf("after %s: the cache holds %d bytes, more than the %d its reader takes", dir, info.Size(), cacheMaxBytes)
		}
	}
	entries := cacheEntries(t, cache)
	last := filepath.Join(mustAbs(t, dirs[3]), "delta.yaml")
	if entries[last] == nil || len(entries) > 2 {
		t.Fatalf("entries: %d, want the most recent (%s) among at most 2", len(entries), last)
	}
	lib, validated, _ := counted(t, Options{Dirs: dirs[3:], CacheDir: cache})
	if len(lib.Warnings) != 0 || validated != 0 {
		t.Fatalf("warm load of the last folder: %d validated, warnings %q", validated, lib.Warnings)
	}
}
