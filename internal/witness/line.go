package witness

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// Line is one checkpoint as the witness file holds it: one JSON object
// per line.
//
//	{"v":1,"db":"…","at":"2026-03-14T09:26:53.000000000Z",
//	 "timeline":{"id":130,"hash":"…"},"audit":{"id":215,"hash":"…"},
//	 "incident":"INC-0042","key":"ed25519:…","sig":"…"}
//
// sig is the Ed25519 signature, in base64, of the domain tag
// "irtui/checkpoint/v1" and the fields db, at, timeline id, timeline hash,
// audit id, audit hash, incident and key, each written as its length in
// bytes (8 bytes, big-endian) and its bytes; ids in decimal.
type Line struct {
	V        int    `json:"v"`
	DB       string `json:"db"`
	At       string `json:"at"`
	Timeline Head   `json:"timeline"`
	Audit    Head   `json:"audit"`
	Incident string `json:"incident,omitempty"`
	Key      string `json:"key"`
	Sig      string `json:"sig"`
}

// Head is a chain head in a Line.
type Head struct {
	ID   int64  `json:"id"`
	Hash string `json:"hash"`
}

const lineDomain = "irtui/checkpoint/v1"

func (l Line) message() []byte {
	var b []byte
	for _, f := range []string{lineDomain, l.DB, l.At, strconv.FormatInt(l.Timeline.ID, 10), l.Timeline.Hash,
		strconv.FormatInt(l.Audit.ID, 10), l.Audit.Hash, l.Incident, l.Key} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// Sign makes the signed line of a checkpoint.
func (s *Signer) Sign(cp store.Checkpoint) Line {
	l := Line{V: 1, DB: cp.DatabaseID, At: store.FormatTime(cp.At),
		Timeline: Head{ID: cp.TimelineID, Hash: cp.TimelineHash}, Audit: Head{ID: cp.AuditID, Hash: cp.AuditHash},
		Incident: cp.Incident, Key: s.Public()}
	l.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, l.message()))
	return l
}

// Check checks the line's signature against the key it names, and returns
// that key.
func (l Line) Check() (ed25519.PublicKey, error) {
	if l.V != 1 {
		return nil, fmt.Errorf("unknown checkpoint version %d", l.V)
	}
	pub, err := ParsePublicKey(l.Key)
	if err != nil || !bytes.HasPrefix([]byte(l.Key), []byte("ed25519:")) {
		return nil, fmt.Errorf("the key %q is not an Ed25519 public key", l.Key)
	}
	sig, err := base64.StdEncoding.DecodeString(l.Sig)
	if err != nil || !ed25519.Verify(pub, l.message(), sig) {
		return nil, errors.New("the signature does not match: the line was altered, or not signed by its key")
	}
	return pub, nil
}

// Checkpoint is the line as the store checks it.
func (l Line) Checkpoint(source string) (store.Checkpoint, error) {
	at, err := time.Parse(time.RFC3339Nano, l.At)
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("time %q: %w", l.At, err)
	}
	return store.Checkpoint{At: at, DatabaseID: l.DB, TimelineID: l.Timeline.ID, TimelineHash: l.Timeline.Hash,
		AuditID: l.Audit.ID, AuditHash: l.Audit.Hash, Incident: l.Incident, Source: source}, nil
}

// Marshal is the line as the witness file holds it, without the newline.
func (l Line) Marshal() []byte {
	b, _ := json.Marshal(l) // only strings and numbers: cannot fail
	return b
}

// DefaultPath is the witness file beside a database.
func DefaultPath(dbPath string) string { return dbPath + ".witness" }

// Append adds a line to the witness file at path (created 0600), in one
// write, and waits for it to reach the disk.
func Append(path string, l Line) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("witness file: %w", err)
	}
	if _, err := f.Write(append(l.Marshal(), '\n')); err != nil {
		f.Close()
		return fmt.Errorf("witness file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("witness file %s: %w", path, err)
	}
	return f.Close()
}

// Entry is a line read from a witness file with where it was.
type Entry struct {
	Line   Line
	Source string // "path:line"
}

// maxLine bounds a witness line; a real one is about 400 bytes.
const maxLine = 64 << 10

// ReadFile reads every line of a witness file. Lines that cannot be read
// are returned as problems, "path:line:col: message"; the rest are not
// checked here (see Trust).
func ReadFile(path string) ([]Entry, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("witness file: %w", err)
	}
	defer f.Close()
	return read(f, path, 1)
}

func read(r io.Reader, path string, first int) ([]Entry, []string, error) {
	var (
		entries []Entry
		probs   []string
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	n := first - 1
	for sc.Scan() {
		n++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var l Line
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			col := 1
			var se *json.SyntaxError
			if errors.As(err, &se) {
				col = int(se.Offset)
			}
			probs = append(probs, fmt.Sprintf("%s:%d:%d: not a checkpoint: %v", path, n, col, err))
			continue
		}
		entries = append(entries, Entry{Line: l, Source: fmt.Sprintf("%s:%d", path, n)})
	}
	if err := sc.Err(); err != nil {
		return entries, probs, fmt.Errorf("witness file %s:%d: %w", path, n+1, err)
	}
	return entries, probs, nil
}

// Last returns the newest line of the witness file signed by one of the
// keys for the database db, reading the file from its end: what a process
// checks when it opens the database. ok is false when there is none (no
// file, or no such line in its last megabyte).
func Last(path, db string, keys []ed25519.PublicKey) (e Entry, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("witness file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Entry{}, false, fmt.Errorf("witness file: %w", err)
	}
	const tail = 1 << 20
	off := max(st.Size()-tail, 0)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return Entry{}, false, fmt.Errorf("witness file: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return Entry{}, false, fmt.Errorf("witness file: %w", err)
	}
	if off > 0 { // the first line may be cut: drop it
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	entries, _, _ := read(bytes.NewReader(b), path, 1)
	for i := len(entries) - 1; i >= 0; i-- {
		l := entries[i].Line
		if l.DB != db {
			continue
		}
		pub, err := l.Check()
		if err != nil || !trusted(pub, keys) {
			continue
		}
		entries[i].Source = fmt.Sprintf("%s (line %d from the end)", path, len(entries)-i)
		return entries[i], true, nil
	}
	return Entry{}, false, nil
}

func trusted(pub ed25519.PublicKey, keys []ed25519.PublicKey) bool {
	for _, k := range keys {
		if pub.Equal(k) {
			return true
		}
	}
	return false
}

// Trust checks the signatures of entries against the trusted keys and
// returns the checkpoints of those that hold, and a problem for each that
// does not. With no trusted keys, every line whose signature matches its
// own key is taken, and signers lists the keys that signed them, for a
// person to compare with the key they keep.
func Trust(entries []Entry, keys []ed25519.PublicKey) (cps []store.Checkpoint, probs []string, signers []string) {
	seen := map[string]bool{}
	for _, e := range entries {
		pub, err := e.Line.Check()
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: %v", e.Source, err))
			continue
		}
		if len(keys) > 0 && !trusted(pub, keys) {
			probs = append(probs, fmt.Sprintf("%s: signed by %s, which is not a key you trust", e.Source, e.Line.Key))
			continue
		}
		cp, err := e.Line.Checkpoint(e.Source)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: %v", e.Source, err))
			continue
		}
		if !seen[e.Line.Key] {
			seen[e.Line.Key] = true
			signers = append(signers, e.Line.Key)
		}
		cps = append(cps, cp)
	}
	return cps, probs, signers
}
