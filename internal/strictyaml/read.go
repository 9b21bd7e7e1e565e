package strictyaml

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// MaxFileSize caps an input file. Real runbooks are a few tens of KiB;
// anything near this is a mistake or an attack on the parser.
const MaxFileSize = 1 << 20

// Kind is the kind of an input file. Messages about a file that could not
// be read name its kind, so that a user who gave several files knows which
// one is meant.
type Kind string

// The kinds of input file irtui reads.
const (
	Runbook       Kind = "runbook"
	Assessment    Kind = "shared assessment"
	Scenario      Kind = "scenario"
	Actions       Kind = "actions" // a drill's scripted actions
	Answers       Kind = "answers"
	Configuration Kind = "configuration"
	Directory     Kind = "directory" // people and customers
)

// limit is the largest file of a kind that is read at all. A directory may
// be larger than one document can be; the parser holds it to MaxFileSize.
func (k Kind) limit() int64 {
	if k == Directory {
		return 8 * MaxFileSize
	}
	return MaxFileSize
}

// ReadError is an input file that could not be opened or read.
type ReadError struct {
	Kind Kind
	Path string
	Err  error
}

func (e *ReadError) Error() string { return string(e.Kind) + ": " + e.Err.Error() }

func (e *ReadError) Unwrap() error { return e.Err }

// ReadFile reads an input file of kind from disk. It is the one way irtui
// reads runbooks, scenarios, actions, answers, the configuration and the
// directory from a path. A file that cannot be read gives a *ReadError
// ("configuration: open ...: no such file or directory"); a file larger
// than the kind allows is not read, and gives Problems with its size.
func ReadFile(ctx context.Context, kind Kind, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, &ReadError{Kind: kind, Path: path, Err: err}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &ReadError{Kind: kind, Path: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &ReadError{Kind: kind, Path: path, Err: err}
	}
	if limit := kind.limit(); st.Size() > limit {
		// Do not read a huge file just to reject it.
		return nil, Problems{{Path: path, Line: 1, Col: 1,
			Msg: fmt.Sprintf("file is too large (%d bytes); the limit is %d bytes", st.Size(), limit)}}
	}
	buf := bytes.NewBuffer(make([]byte, 0, st.Size()))
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, &ReadError{Kind: kind, Path: path, Err: err}
	}
	return buf.Bytes(), nil
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
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file or folder"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
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
// sub-folders are not read. A folder that cannot be listed gives one File
// with the error.
func ReadDir(ctx context.Context, kind Kind, dir string) []File {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []File{{Path: dir, Err: err}}
	}
	var out []File
	for _, e := range entries {
		if e.IsDir() || !IsYAML(e.Name()) {
			continue
		}
		out = append(out, ReadOne(ctx, kind, filepath.Join(dir, e.Name())))
	}
	return out
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
