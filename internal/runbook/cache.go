package runbook

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/irtui/irtui/internal/strictyaml"
)

// The decode cache keeps the decoded form of runbook files, keyed by the
// SHA-256 of their bytes, so a library that did not change is not parsed as
// YAML again at every start. It is one file per schema version, read once
// at the start of a load and rewritten (atomically, mode 0600) only when
// the set of files changed. Only parsing is skipped: every cached runbook
// is validated and its expressions compiled again, so a damaged or altered
// cache can never admit an invalid runbook. An unreadable cache is ignored.

// cacheSchema changes whenever the Runbook struct changes shape. The
// entries are JSON: gob drops pointers to zero values, which would turn
// "min: 0" into no minimum.
const cacheSchema = "runbooks-v3"

type decodeCache struct {
	path    string
	old     map[string]*Runbook
	mu      sync.Mutex
	used    map[string]*Runbook
	changed bool
}

func openDecodeCache(dir string) *decodeCache {
	if dir == "" {
		return nil
	}
	c := &decodeCache{path: filepath.Join(dir, cacheSchema+".json"), used: map[string]*Runbook{}}
	if f, err := os.Open(c.path); err == nil {
		defer f.Close()
		var m map[string]*Runbook
		if json.NewDecoder(bufio.NewReader(f)).Decode(&m) == nil {
			c.old = m
			for _, rb := range m {
				normalizeWorst(rb)
			}
		}
	}
	return c
}

// get returns a fresh copy-free entry: each key is handed out to one file
// only, since the loader sets Source and compiled programs on it.
func (c *decodeCache) get(key string) *Runbook {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rb, ok := c.old[key]
	if !ok {
		return nil
	}
	delete(c.old, key) // two files with equal bytes: the second one parses
	c.used[key] = unmerged(rb)
	return rb
}

func (c *decodeCache) put(key string, rb *Runbook) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.used[key] = unmerged(rb)
	c.changed = true
	c.mu.Unlock()
}

// unmerged is a shallow copy kept for the cache: the loaded runbook's
// Questions are replaced (never changed in place) when the shared
// assessments' questions are merged in, so the copy keeps the file's own.
func unmerged(rb *Runbook) *Runbook {
	cp := *rb
	return &cp
}

// save writes the entries used by this load, if anything changed. Entries
// of files that are gone are dropped, so the cache does not grow forever.
func (c *decodeCache) save() {
	if c == nil || (!c.changed && len(c.old) == 0) {
		return
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".runbooks-*.tmp")
	if err != nil {
		return
	}
	w := bufio.NewWriter(tmp)
	werr := json.NewEncoder(w).Encode(c.used)
	if werr == nil {
		werr = w.Flush()
	}
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), c.path) != nil {
		os.Remove(tmp.Name())
	}
}

// parseCached is ParseFile with the decode cache in front of it.
func parseCached(path string, data []byte, opts ValidateOptions, c *decodeCache) (*Runbook, strictyaml.Problems) {
	if c == nil || len(data) > strictyaml.MaxFileSize {
		return ParseFile(path, data, opts)
	}
	key := hash(data)
	if rb := c.get(key); rb != nil {
		if issues := validate(rb, opts); len(issues) == 0 {
			rb.Source = Source{Path: path, Hash: key}
			rb.mergeShared()
			return rb, nil
		}
	}
	rb, probs := parseOwn(path, data, opts)
	if rb != nil {
		c.put(key, rb)
		rb.mergeShared()
	}
	return rb, probs
}
