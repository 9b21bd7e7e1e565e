package strictyaml

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// MaxFileSize caps an input file. Real runbooks are a few tens of KiB;
// anything near this is a mistake or an attack on the parser.
const MaxFileSize = 1 << 20

// Kind is the kind of an input file. Messages about a file name its kind,
// so that a user who gave several files knows which one is meant.
type Kind string

// The kinds of input file irtui reads.
const (
	Runbook       Kind = "runbook"
	Assessment    Kind = "shared assessment"
	Scenario      Kind = "scenario"
	Actions       Kind = "actions file" // a drill's scripted actions
	Answers       Kind = "answers file"
	Configuration Kind = "configuration"
	Directory     Kind = "directory" // people and customers
	// Cache is the runbook decode cache: JSON, not YAML, but read from
	// disk with the same care.
	Cache Kind = "runbook cache"
)

// Limits bound what a file of a kind may hold. They are checked before
// any YAML parser sees the file (see Check), because the parsers' cost
// grows faster than the file: goccy/go-yaml keeps, for every key and list
// item, the full path to it as a string (so memory grows with the square
// of the nesting depth and with the length of the keys above), and parses
// a block mapping's keys by recursion (so time grows with the square of
// the number of keys); yaml.v3 checks a mapping's keys for duplicates
// pairwise.
type Limits struct {
	// Size is the largest file, in bytes.
	Size int64
	// Tokens bounds the keys, values, indicators and comments of a file:
	// each costs the parsers a few hundred bytes.
	Tokens int
	// Depth is the deepest nesting of lists and mappings.
	Depth int
	// Entries is the most keys one mapping may have.
	Entries int
	// Paths bounds the summed length of the paths to every key and list
	// item (such as "$.phases[2].steps[0].title"), the memory goccy/go-yaml
	// spends on them.
	Paths int64
}

// MaxDepth is how deeply lists and mappings may nest. Real files nest a
// handful of levels.
const MaxDepth = 64

// MaxEntries is the most keys one mapping may have. irtui's largest
// mappings (a runbook's or a policy's fields, an answers file) have a few
// dozen.
const MaxEntries = 256

// defaultLimits hold the worst file a parser sees to about 50 MiB of
// allocation and a quarter of a second (see BenchmarkWorstAccepted).
// Real runbooks are a few tens of KiB with a few thousand tokens.
var defaultLimits = Limits{Size: MaxFileSize, Tokens: 50_000, Depth: MaxDepth, Entries: MaxEntries, Paths: 16 << 20}

// Limits returns the limits for a file of kind k.
func (k Kind) Limits() Limits {
	switch k {
	case Directory:
		// A directory may list about ten thousand customers or people (with
		// their SSH keys, long but one token each). goccy/go-yaml spends
		// about half a KiB per token: 120,000 stay within 100 MiB. A larger
		// directory is imported in parts (an import keeps who is missing).
		return Limits{Size: 8 << 20, Tokens: 120_000, Depth: MaxDepth, Entries: MaxEntries, Paths: 64 << 20}
	case Cache:
		// The cache holds the decoded runbooks of every folder.
		return Limits{Size: 64 << 20}
	}
	return defaultLimits
}

// plural names files of the kind in messages such as "YAML tags are not
// allowed in runbooks".
func (k Kind) plural() string {
	switch k {
	case Configuration, Directory:
		return "the " + string(k)
	case "":
		return "irtui files"
	}
	return string(k) + "s"
}

// ReadError is an input file that could not be opened or read.
type ReadError struct {
	Kind Kind
	Path string
	Err  error
}

func (e *ReadError) Error() string { return string(e.Kind) + ": " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }

// NotRegularError is a path that names something other than a regular
// file: a folder, a named pipe, a device or a socket. irtui never reads
// those: a pipe can block for ever and a device can be endless.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

// What describes the kind of file, such as "a named pipe (FIFO)".
func (e *NotRegularError) What() string {
	switch m := e.Mode; {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

func (e *NotRegularError) Error() string {
	return e.Path + " is " + e.What() + ", not a regular file"
}

// OutsideError is a symbolic link in a folder irtui reads (a runbook
// folder is a git checkout, and git stores links) that leads out of that
// folder. irtui does not follow it: a link committed to a runbook
// repository must not make irtui read, and show pieces of, a file
// elsewhere on the host.
type OutsideError struct {
	Path   string // the link
	Target string // where it leads, resolved
	Folder string // the folder read, resolved
}

func (e *OutsideError) Error() string {
	return e.Path + " is a symbolic link to " + e.Target + ", outside " + e.Folder
}

// FileSize formats a size as people read it: "812 bytes", "3 MiB",
// "1.5 MiB".
func FileSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	text := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(text, ".0") + " " + suffix
}

// tooLarge is the problem of a file over its kind's size limit; size is
// negative when the real size is not known.
func tooLarge(kind Kind, path string, size int64) Problems {
	limit := kind.Limits().Size
	msg := fmt.Sprintf("file is too large (%s); the limit for %s is %s", FileSize(size), kind.plural(), FileSize(limit))
	if FileSize(size) == FileSize(limit) { // just over: say by how much
		msg = fmt.Sprintf("file is too large (%d bytes); the limit for %s is %d bytes (%s)", size, kind.plural(), limit, FileSize(limit))
	}
	if size < 0 {
		msg = fmt.Sprintf("file is larger than the limit for %s (%s)", kind.plural(), FileSize(limit))
	}
	return Problems{{Path: path, Line: 1, Col: 1, Msg: msg}}
}

// readChunk is how much is read between checks of the context.
const readChunk = 64 << 10

// ReadFile reads an input file of kind from disk. It is the one way irtui
// reads runbooks, scenarios, actions, answers, the configuration, the
// directory and the decode cache from a path.
//
// Only regular files are read. The file is opened without blocking (a
// named pipe with no writer cannot hold the open), and what was opened is
// checked with fstat, so a symbolic link to a device or a pipe is refused
// too, with a *NotRegularError inside the *ReadError. The read stops at
// the kind's size limit whatever the file claims its size is, and between
// chunks when ctx is done. A file that cannot be read gives a *ReadError
// ("configuration: open ...: no such file or directory"); a file larger
// than the kind allows gives Problems with its size.
func ReadFile(ctx context.Context, kind Kind, path string) ([]byte, error) {
	fail := func(err error) ([]byte, error) { return nil, &ReadError{Kind: kind, Path: path, Err: err} }
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openFlags, 0)
	if err != nil {
		if nr := notRegularOpenError(path, err); nr != nil {
			return fail(nr)
		}
		return fail(err)
	}
	defer f.Close()
	st, err := f.Stat() // fstat: what was opened, not what the name points at now
	if err != nil {
		return fail(err)
	}
	if !st.Mode().IsRegular() {
		return fail(&NotRegularError{Path: path, Mode: st.Mode()})
	}
	limit := kind.Limits().Size
	if st.Size() > limit {
		return nil, tooLarge(kind, path, st.Size()) // not read at all
	}
	data, over, err := readCapped(ctx, f, st.Size(), limit)
	switch {
	case over:
		size := int64(-1)
		if st2, err := f.Stat(); err == nil && st2.Size() > limit {
			size = st2.Size()
		}
		return nil, tooLarge(kind, path, size)
	case err != nil:
		return fail(err)
	}
	return data, nil
}

// ReadStream reads an input of kind from a stream that is not a file
// (standard input), named name in problems, with the same size limit as
// a file of the kind. It returns as soon as ctx is done, even while a
// read is blocked (the reading goroutine then ends with the stream).
func ReadStream(ctx context.Context, kind Kind, name string, r io.Reader) ([]byte, error) {
	type result struct {
		data []byte
		over bool
		err  error
	}
	done := make(chan result, 1)
	go func() {
		data, over, err := readCapped(ctx, r, 0, kind.Limits().Size)
		done <- result{data, over, err}
	}()
	select {
	case <-ctx.Done():
		return nil, &ReadError{Kind: kind, Path: name, Err: ctx.Err()}
	case res := <-done:
		switch {
		case res.over:
			return nil, tooLarge(kind, name, -1)
		case res.err != nil:
			return nil, &ReadError{Kind: kind, Path: name, Err: res.err}
		}
		return res.data, nil
	}
}

// readCapped reads r to its end, but never more than one byte past limit
// (over reports that it got there): a file that grows while it is read,
// or whose size says nothing (in /proc), stops there. It checks ctx
// between chunks. sizeHint sizes the buffer.
func readCapped(ctx context.Context, r io.Reader, sizeHint, limit int64) (data []byte, over bool, err error) {
	buf := make([]byte, 0, min(max(sizeHint, 0), limit)+1)
	for {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		room := min(cap(buf)-len(buf), readChunk, int(limit+1)-len(buf))
		n, err := r.Read(buf[len(buf) : len(buf)+room])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, true, nil
		}
		if errors.Is(err, io.EOF) {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// File is an input file as read: its name (a path, or "bundled:NAME" for
// a file built into irtui), and its bytes or why it could not be read.
type File struct {
	Path    string
	Data    []byte
	Bundled bool
	Err     error
}

// Problems describes a file that could not be read as problems at its
// top, as lint lists them; nil when it was read.
func (f File) Problems() Problems {
	if f.Err == nil {
		return nil
	}
	var ps Problems
	if errors.As(f.Err, &ps) {
		return ps
	}
	return Problems{{Path: f.Path, Line: 1, Col: 1, Msg: readErr(f.Err)}}
}

func readErr(err error) string {
	var (
		nr  *NotRegularError
		out *OutsideError
	)
	switch {
	case errors.As(err, &nr):
		return "this is " + nr.What() + ", not a regular file; irtui reads only regular files"
	case errors.As(err, &out):
		return "this is a symbolic link to " + out.Target + ", outside the folder " + out.Folder +
			"; irtui follows links in a folder only to files inside it"
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or folder"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "not read: loading was interrupted"
	}
	var re *ReadError
	if errors.As(err, &re) {
		return re.Err.Error()
	}
	return err.Error()
}

// IsYAML reports whether a file name ends in .yaml or .yml.
func IsYAML(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// ReadOne reads one input file of kind for a list of files.
func ReadOne(ctx context.Context, kind Kind, path string) File {
	data, err := ReadFile(ctx, kind, path)
	return File{Path: path, Data: data, Err: err}
}

// ReadDir reads the YAML files directly in dir, each with ReadFile;
// sub-folders are not read. A symbolic link is followed only to a file
// inside dir (an *OutsideError otherwise, and the target is not opened).
// A folder that cannot be listed gives one File with the error. When ctx
// is done it stops and returns what it read, with ctx's error.
func ReadDir(ctx context.Context, kind Kind, dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []File{{Path: dir, Err: err}}, nil
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return []File{{Path: dir, Err: err}}, nil
	}
	var out []File
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		if e.IsDir() || !IsYAML(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			out = append(out, readLink(ctx, kind, root, path))
			continue
		}
		out = append(out, ReadOne(ctx, kind, path))
	}
	return out, nil
}

// readLink reads the file a symbolic link in the folder root leads to,
// when it is inside root. It reads the resolved path, not the link, so
// the link cannot be turned elsewhere between the check and the read;
// problems still name the link.
func readLink(ctx context.Context, kind Kind, root, path string) File {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return File{Path: path, Err: &ReadError{Kind: kind, Path: path, Err: err}}
	}
	if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return File{Path: path, Err: &ReadError{Kind: kind, Path: path, Err: &OutsideError{Path: path, Target: target, Folder: root}}}
	}
	f := ReadOne(ctx, kind, target)
	f.Path = path
	return f
}

// ReadFS reads the YAML files directly in dir of fsys, the files built
// into irtui; each is named "bundled:" and its path in fsys.
func ReadFS(fsys fs.FS, dir string) ([]File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		if e.IsDir() || !IsYAML(e.Name()) {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, name)
		out = append(out, File{Path: "bundled:" + name, Data: data, Bundled: true, Err: err})
	}
	return out, nil
}
