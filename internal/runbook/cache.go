package runbook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/irtui/irtui/internal/strictyaml"
)

// The decode cache keeps the decoded form of the runbook files in
// --runbooks folders, so a library that did not change is not parsed as
// YAML again at every start, nor validated: an entry records the context
// it was validated in (checkedKey: the shared assessments it uses, by
// content, and which checks were on), and a runbook read from an entry of
// the same context is only linked (link: its shared assessments resolved
// and its expressions compiled). In another context it is validated again.
//
// The cache must never change what a runbook does, so:
//
//   - Bundled runbooks are never cached: they are part of the binary and
//     always decoded from it.
//   - Every entry is bound to the build of irtui that wrote it (buildID)
//     and to the SHA-256 of the file's bytes, and is authenticated with an
//     HMAC-SHA256 under a random key kept beside the cache in a file of
//     mode 0600, created on first use. An entry whose MAC does not verify
//     is discarded and reported as a warning, and the file is parsed
//     again. An entry of another build, or of a file that changed, is
//     simply stale.
//   - Entries are keyed by the runbook file's path, so two folders used
//     in turn do not evict each other. Entries of files that are gone are
//     dropped when the cache is written; the cache holds at most
//     cacheMaxEntries entries, the least recently used going first.
//
// The cache file is read with strictyaml.ReadFile (regular files only, size
// capped) and written atomically with mode 0600.

// cacheSchema changes whenever the Runbook struct or the cache's layout
// changes shape (v3: shared assessments; v4: entries by file, bound to
// the build and authenticated; v5: the context each entry was validated
// in). Entries hold JSON: gob drops pointers to zero values, which would
// turn "min: 0" into no minimum.
const cacheSchema = "runbooks-v5"

// cacheKeyFile holds the HMAC key, beside the cache file.
const cacheKeyFile = "runbooks.key"

const cacheMaxEntries = 10_000

// cacheMaxBytes bounds the cache file: its reader refuses a larger one
// (strictyaml.Cache's size limit), which every start would then warn
// about and rebuild, so the least recently used entries go first.
var cacheMaxBytes = strictyaml.Cache.Limits().Size

type cacheFile struct {
	Schema  string                 `json:"schema"`
	Uses    uint64                 `json:"uses"` // saves so far: the clock of the LRU
	Entries map[string]*cacheEntry `json:"entries"`
}

type cacheEntry struct {
	Build   string          `json:"build"`
	Hash    string          `json:"sha256"`
	Checked string          `json:"checked"` // checkedKey of the validation it passed
	Used    uint64          `json:"used"`
	Runbook json.RawMessage `json:"runbook"`
	MAC     string          `json:"mac"`
}

// mac authenticates everything an entry says: which build wrote it, for
// which file and bytes, in which context it was validated, and the decoded
// runbook.
func (e *cacheEntry) mac(key []byte, path string) string {
	m := hmac.New(sha256.New, key)
	for _, part := range [][]byte{[]byte(cacheSchema), []byte(e.Build), []byte(path), []byte(e.Hash), []byte(e.Checked), e.Runbook} {
		fmt.Fprintf(m, "%d:", len(part))
		m.Write(part)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// size bounds what the encoder writes for the entry: the runbook's JSON
// as it is (already compact and escaped), the path escaped at worst six
// bytes for one, and the fixed fields with their keys.
func (e *cacheEntry) size(path string) int64 {
	return int64(len(e.Runbook) + 6*len(path) + len(e.Build) + len(e.Hash) + len(e.Checked) + len(e.MAC) + 128)
}

type decodeCache struct {
	path, keyPath string
	key           []byte
	build         string
	mu            sync.Mutex
	file          cacheFile
	changed       bool
	warnings      []string
}

var buildOnce = sync.OnceValue(func() string {
	// The build of irtui: its module versions and build settings, and the
	// executable itself as it is on disk (path, size, time), so that a
	// rebuilt binary never trusts what an older one decoded.
	h := sha256.New()
	if bi, ok := debug.ReadBuildInfo(); ok {
		h.Write([]byte(bi.String()))
	}
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			fmt.Fprintf(h, "\x00%s\x00%d\x00%d", exe, st.Size(), st.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))
})

// openDecodeCache opens the cache in dir, creating its key on first use.
// It returns nil, with a warning, when the cache cannot be used safely.
func openDecodeCache(ctx context.Context, dir string) (*decodeCache, []string) {
	if dir == "" {
		return nil, nil
	}
	c := &decodeCache{path: filepath.Join(dir, cacheSchema+".json"), keyPath: filepath.Join(dir, cacheKeyFile), build: buildOnce()}
	key, err := c.loadKey(ctx)
	if err != nil {
		return nil, []string{fmt.Sprintf("runbook cache not used: %v", err)}
	}
	c.key = key
	c.file = cacheFile{Schema: cacheSchema, Entries: map[string]*cacheEntry{}}
	data, err := strictyaml.ReadFile(ctx, strictyaml.Cache, c.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		c.warn("runbook cache %s could not be read and is rebuilt: %v", c.path, err)
		c.changed = true
	default:
		// Decoded as it is read, so that a load cancelled meanwhile (the app
		// quit at its first frame) stops here instead of decoding a large
		// file first; then no cache is used and none is written.
		var f cacheFile
		dec := json.NewDecoder(ctxReader{ctx, bytes.NewReader(data)})
		err := dec.Decode(&f)
		if ctx.Err() != nil {
			return nil, nil
		}
		if err == nil {
			if _, end := dec.Token(); end != io.EOF {
				err = errors.New("data after the cache") // as json.Unmarshal would refuse it
			}
		}
		if err != nil || f.Schema != cacheSchema || f.Entries == nil {
			c.warn("runbook cache %s is damaged and is rebuilt", c.path)
			c.changed = true
			break
		}
		c.file = f
	}
	return c, nil
}

// loadKey reads the HMAC key, or creates it (mode 0600) if there is none.
// A key that others may read or write is not trusted.
func (c *decodeCache) loadKey(ctx context.Context) ([]byte, error) {
	for range 2 {
		data, err := strictyaml.ReadFile(ctx, strictyaml.Cache, c.keyPath)
		if err == nil {
			st, serr := os.Stat(c.keyPath)
			if serr != nil {
				return nil, serr
			}
			if st.Mode().Perm()&0o077 != 0 {
				return nil, fmt.Errorf("its key %s may be read by others (mode %v); remove it to make a new one", c.keyPath, st.Mode().Perm())
			}
			key, derr := hex.DecodeString(string(bytes.TrimSpace(data)))
			if derr != nil || len(key) < 32 {
				return nil, fmt.Errorf("its key %s is damaged; remove it to make a new one", c.keyPath)
			}
			return key, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(c.keyPath), 0o700); err != nil {
			return nil, err
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(c.keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // another irtui made it at the same moment: read theirs
		}
		if err != nil {
			return nil, err
		}
		_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(c.keyPath)
			return nil, werr
		}
		return key, nil
	}
	return nil, fmt.Errorf("its key %s could not be read or made", c.keyPath)
}

func (c *decodeCache) warn(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

// get returns the cached runbook for the file at path with the given
// content hash, and the context it was validated in; or nil.
func (c *decodeCache) get(path, hash string) (*Runbook, string) {
	if c == nil {
		return nil, ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.file.Entries[path]
	if !ok || e.Hash != hash || e.Build != c.build {
		return nil, "" // none, or stale: the file or irtui changed
	}
	if !hmac.Equal([]byte(e.MAC), []byte(e.mac(c.key, path))) {
		c.warn("runbook cache entry for %s was changed outside irtui; it was discarded and the file parsed again", path)
		delete(c.file.Entries, path)
		c.changed = true
		return nil, ""
	}
	rb := new(Runbook)
	if json.Unmarshal(e.Runbook, rb) != nil {
		c.warn("runbook cache entry for %s is damaged; it was discarded and the file parsed again", path)
		delete(c.file.Entries, path)
		c.changed = true
		return nil, ""
	}
	normalizeWorst(rb)
	e.Used = c.file.Uses + 1
	return rb, e.Checked
}

// put keeps rb, valid in the context checked, for the file at path.
func (c *decodeCache) put(path, hash, checked string, rb *Runbook) {
	if c == nil {
		return
	}
	data, err := json.Marshal(rb)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &cacheEntry{Build: c.build, Hash: hash, Checked: checked, Used: c.file.Uses + 1, Runbook: data}
	e.MAC = e.mac(c.key, path)
	c.file.Entries[path] = e
	c.changed = true
}

// save writes the cache if anything changed, dropping entries of files
// that are gone and the least recently used beyond cacheMaxEntries.
func (c *decodeCache) save() {
	if c == nil || !c.changed {
		return
	}
	c.file.Uses++
	for p := range c.file.Entries {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			delete(c.file.Entries, p)
		}
	}
	// The most recently used first: those beyond cacheMaxEntries, or
	// beyond what the reader takes back, go.
	paths := make([]string, 0, len(c.file.Entries))
	for p := range c.file.Entries {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		a, b := c.file.Entries[paths[i]].Used, c.file.Entries[paths[j]].Used
		if a != b {
			return a > b
		}
		return paths[i] < paths[j]
	})
	room := cacheMaxBytes - 1024 // the file's own fields
	for i, p := range paths {
		room -= c.file.Entries[p].size(p)
		if i >= cacheMaxEntries || room < 0 {
			delete(c.file.Entries, p)
		}
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".runbooks-*.tmp") // mode 0600
	if err != nil {
		return
	}
	w := bufio.NewWriter(tmp)
	werr := json.NewEncoder(w).Encode(c.file)
	if werr == nil {
		werr = w.Flush()
	}
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), c.path) != nil {
		os.Remove(tmp.Name())
	}
}

// parseCached is ParseFile with the decode cache in front of it, for a
// file from a folder (bundled files never come here).
func parseCached(path string, data []byte, opts ValidateOptions, c *decodeCache) (*Runbook, strictyaml.Problems) {
	if c == nil || len(data) > strictyaml.MaxFileSize {
		return ParseFile(path, data, opts)
	}
	key := hash(data)
	abs, err := filepath.Abs(path)
	if err != nil {
		return ParseFile(path, data, opts)
	}
	if rb, checked := c.get(abs, key); rb != nil {
		// Validated before in the same context: link it. Otherwise, or if
		// linking finds anything wrong, validate it again.
		ok := checked == checkedKey(rb, opts) && link(rb, opts)
		if !ok {
			ok = len(validate(rb, opts)) == 0
			if ok {
				c.put(abs, key, checkedKey(rb, opts), rb)
			}
		}
		if ok {
			rb.Source = Source{Path: path, Hash: key}
			rb.mergeShared()
			return rb, nil
		}
	}
	rb, probs := parseOwn(path, data, opts)
	if rb != nil {
		c.put(abs, key, checkedKey(rb, opts), rb) // the file's own questions: put encodes them now
		rb.mergeShared()
	}
	return rb, probs
}

// checkedKey names the context a runbook is validated in, beyond its own
// bytes and irtui's build (which the cache binds every entry to): the
// shared assessments it uses, by id and content (or that one is unknown,
// or failed to load), and which of the optional checks are on. A runbook
// valid in one context is valid in the same context again.
func checkedKey(rb *Runbook, opts ValidateOptions) string {
	h := sha256.New()
	fmt.Fprintf(h, "obligations:%t policy:%t\x00", opts.Obligation != nil, opts.PolicySwitch != nil)
	for _, u := range rb.Uses {
		fmt.Fprintf(h, "%d:%s", len(u.Assessment), u.Assessment)
		var a *Assessment
		ok := false
		if opts.Assessments != nil {
			a, ok = opts.Assessments(u.Assessment)
		}
		switch {
		case ok:
			fmt.Fprintf(h, "=%s\x00", a.Source.Hash)
		case opts.AssessmentFailed != nil:
			p, failed := opts.AssessmentFailed(u.Assessment)
			fmt.Fprintf(h, "!%t%d:%s\x00", failed, len(p), p)
		default:
			h.Write([]byte("?\x00"))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ctxReader reads from r, a megabyte at most at a time, until ctx is
// done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) > 1<<20 { // a megabyte at a time, so that a cancel is seen soon
		p = p[:1<<20]
	}
	return c.r.Read(p)
}
