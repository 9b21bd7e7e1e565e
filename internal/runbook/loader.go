package runbook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/irtui/irtui/internal/strictyaml"
)

func init() {
	strictyaml.Register(
		reflect.TypeFor[Runbook](), reflect.TypeFor[Category](), reflect.TypeFor[Question](),
		reflect.TypeFor[ChoiceOpt](), reflect.TypeFor[Classification](), reflect.TypeFor[Rule](),
		reflect.TypeFor[SeverityRule](), reflect.TypeFor[FlagRule](), reflect.TypeFor[FactRule](),
		reflect.TypeFor[Role](), reflect.TypeFor[Phase](), reflect.TypeFor[Step](),
		reflect.TypeFor[Notification](), reflect.TypeFor[ContentField](), reflect.TypeFor[Template](),
	)
}

// ParseFile decodes and validates one runbook file. It returns the runbook,
// or every problem found, each with its path:line:col.
//
// Valid files take a fast path: a strict yaml.v3 decode and the semantic
// checks, with no position bookkeeping. Only when that finds anything wrong
// is the file parsed again with goccy/go-yaml, whose AST gives exact lines
// and columns, and the problems are reported from that parse.
//
// The questions of the shared assessments the runbook uses, unless it
// provides or binds them, are appended to its Questions.
func ParseFile(path string, data []byte, opts ValidateOptions) (*Runbook, strictyaml.Problems) {
	rb, probs := parseOwn(path, data, opts)
	if rb != nil {
		rb.mergeShared()
	}
	return rb, probs
}

// parseOwn is ParseFile without merging the shared questions: the form the
// decode cache keeps.
func parseOwn(path string, data []byte, opts ValidateOptions) (*Runbook, strictyaml.Problems) {
	if len(data) > strictyaml.MaxFileSize || len(bytes.TrimSpace(data)) == 0 {
		_, probs := strictyaml.Parse(path, data)
		return nil, probs
	}
	if rb, ok := fastDecode(data); ok {
		if issues := validate(rb, opts); len(issues) == 0 {
			rb.Source = Source{Path: path, Hash: hash(data)}
			return rb, nil
		}
	}
	return slowParse(path, data, opts)
}

func hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// fastDecode decodes strictly with yaml.v3: unknown fields, duplicate keys
// and type mismatches fail. It reports no positions; failures go to the
// slow path.
func fastDecode(data []byte) (*Runbook, bool) {
	rb := new(Runbook)
	if !strictyaml.DecodeFast(data, rb) {
		return nil, false
	}
	normalizeWorst(rb)
	return rb, true
}

// normalizeWorst makes yaml.v3's ints float64, as the AST decoder gives.
func normalizeWorst(rb *Runbook) {
	for i := range rb.Questions {
		rb.Questions[i].Worst = Normalize(rb.Questions[i].Worst)
	}
}

// Normalize turns decoded YAML or JSON values into the forms answers take:
// every number a float64, every list a []any.
func Normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = Normalize(item)
		}
		return out
	}
	return v
}

func slowParse(path string, data []byte, opts ValidateOptions) (*Runbook, strictyaml.Problems) {
	doc, probs := strictyaml.Parse(path, data)
	if probs != nil {
		return nil, probs
	}
	rb := new(Runbook)
	probs = doc.Decode(rb)
	if !doc.IsMapping() {
		if len(probs) == 0 {
			probs = strictyaml.Problems{{Path: path, Line: 1, Col: 1, Msg: "a runbook file must be a mapping of fields (id, title, ...)"}}
		}
		return nil, probs
	}
	for _, is := range validate(rb, opts) {
		p, present, suggested := doc.Place(is.export())
		if strings.HasPrefix(is.msg, "missing required field") {
			// The field is there but did not decode, or a misspelt key
			// already suggests it: either is reported already.
			if len(probs) > 0 && present || suggested {
				continue
			}
		}
		probs = append(probs, p)
	}
	if len(probs) > 0 {
		probs.Sort()
		return nil, probs
	}
	rb.Source = Source{Path: path, Hash: hash(data)}
	return rb, nil
}

// Library is the set of loaded runbooks and the files that failed to load.
type Library struct {
	Runbooks []*Runbook          // sorted by id
	Failed   strictyaml.Problems // one or more problems per file that did not load
	// Assessments are the shared assessments the runbooks can use.
	Assessments *AssessmentLibrary
	byID        map[string]*Runbook
}

// Get returns the runbook with id.
func (l *Library) Get(id string) (*Runbook, bool) {
	rb, ok := l.byID[id]
	return rb, ok
}

// Options says where runbooks come from.
type Options struct {
	Bundled  fs.FS    // embedded runbooks (*.yaml at its root); nil for none
	Dirs     []string // extra folders; a runbook with a bundled id replaces it
	Validate ValidateOptions
	// CacheDir, if set, keeps decoded runbooks by content hash so that
	// unchanged files are not parsed again (see cache.go).
	CacheDir string
}

// Load reads every runbook. A broken file never stops the others: its
// problems are collected in Failed.
//
// Shared assessments are read first, from the assessments/ sub-folders;
// the runbooks that use them are checked against them.
func Load(opts Options) *Library {
	alib := LoadAssessments(opts)
	if opts.Validate.Assessments == nil {
		opts.Validate.Assessments, opts.Validate.AssessmentFailed = alib.Get, alib.FailedPath
	}
	var files []strictyaml.File
	if opts.Bundled != nil {
		files = append(files, bundledFiles(opts.Bundled)...)
	}
	for _, dir := range opts.Dirs {
		files = append(files, dirFiles(dir)...)
	}
	lib := build(files, opts, true)
	lib.Assessments = alib
	if len(alib.Failed) > 0 {
		lib.Failed = append(lib.Failed, alib.Failed...)
		lib.Failed.Sort()
	}
	return lib
}

// LoadPaths reads the runbook files and folders named, and no others: no
// bundled runbooks, and a runbook id defined twice is a problem rather
// than a replacement. It is what lint checks. Shared assessments named (a
// file in an assessments/ folder or with a top-level conclusion:, an
// assessments/ folder, or the assessments/ sub-folder of a folder named)
// are read too; runbooks use them first, then validate.Assessments (see
// LintValidate).
func LoadPaths(paths []string, validate ValidateOptions) *Library {
	var files, shared []strictyaml.File
	for _, p := range paths {
		st, err := os.Stat(p)
		switch {
		case err != nil:
			files = append(files, strictyaml.File{Path: p, Err: err})
		case st.IsDir() && filepath.Base(filepath.Clean(p)) == AssessmentDir:
			shared = append(shared, FolderFiles(p, strictyaml.Assessment)...)
		case st.IsDir():
			files = append(files, dirFiles(p)...)
			shared = append(shared, FolderFiles(filepath.Join(p, AssessmentDir), strictyaml.Assessment)...)
		case isAssessmentPath(p):
			shared = append(shared, strictyaml.ReadOne(context.TODO(), strictyaml.Assessment, p))
		default:
			files = append(files, strictyaml.ReadOne(context.TODO(), strictyaml.Runbook, p))
		}
	}
	linted := buildAssessments(shared, validate, false)
	resolve, failed := validate.Assessments, validate.AssessmentFailed
	validate.Assessments = func(id string) (*Assessment, bool) {
		if a, ok := linted.Get(id); ok {
			return a, true
		}
		if resolve != nil {
			return resolve(id)
		}
		return nil, false
	}
	validate.AssessmentFailed = func(id string) (string, bool) {
		if p, ok := linted.FailedPath(id); ok {
			return p, true
		}
		if failed != nil {
			return failed(id)
		}
		return "", false
	}
	lib := build(files, Options{Validate: validate}, false)
	lib.Assessments = linted
	if len(linted.Failed) > 0 {
		lib.Failed = append(lib.Failed, linted.Failed...)
		lib.Failed.Sort()
	}
	return lib
}

// Lint checks the given runbook and shared assessment files and folders,
// or, with none, the bundled and configured ones, and returns every
// problem sorted by position. A runbook uses the assessments linted with
// it first, then the bundled and configured ones. It checks runbooks and
// assessments only; tabletop.Lint checks the scenarios beside them too.
func Lint(paths []string, opts Options) strictyaml.Problems {
	if len(paths) == 0 {
		return Load(opts).Failed
	}
	return LoadPaths(paths, LintValidate(opts)).Failed
}

// LintValidate is opts.Validate for linting files named on the command
// line: runbooks that use a shared assessment not among the files find
// it among the bundled and configured ones (read when first needed).
func LintValidate(opts Options) ValidateOptions {
	v := opts.Validate
	if v.Assessments != nil {
		return v
	}
	var configured *AssessmentLibrary
	load := func() *AssessmentLibrary {
		if configured == nil {
			configured = LoadAssessments(opts)
		}
		return configured
	}
	v.Assessments = func(id string) (*Assessment, bool) { return load().Get(id) }
	v.AssessmentFailed = func(id string) (string, bool) { return load().FailedPath(id) }
	return v
}

func bundledFiles(fsys fs.FS) []strictyaml.File {
	files, err := strictyaml.ReadFS(fsys, ".")
	if err != nil {
		return []strictyaml.File{{Path: "bundled", Err: err}}
	}
	return files
}

// dirFiles lists the runbook files directly in dir; sub-folders (such as
// scenarios/) hold other things and are not runbooks.
func dirFiles(dir string) []strictyaml.File {
	// The loader has no context of its own yet; reading is bounded by
	// strictyaml's size cap.
	return strictyaml.ReadDir(context.TODO(), strictyaml.Runbook, dir)
}

type result struct {
	rb    *Runbook
	probs strictyaml.Problems
}

// build parses files in parallel, then merges them in order so duplicate
// ids are judged deterministically. replace lets a folder runbook override
// a bundled one with the same id.
func build(files []strictyaml.File, opts Options, replace bool) *Library {
	cache := openDecodeCache(opts.CacheDir)
	defer cache.save()
	results := make([]result, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	workers := min(runtime.GOMAXPROCS(0), max(len(files), 1))
	for range workers {
		wg.Go(func() {
			for i := range next {
				f := files[i]
				if f.Err != nil {
					results[i] = result{probs: f.Problems()}
					continue
				}
				rb, probs := parseCached(f.Path, f.Data, opts.Validate, cache)
				if rb != nil {
					rb.Source.Bundled = f.Bundled
				}
				results[i] = result{rb: rb, probs: probs}
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

	lib := &Library{byID: map[string]*Runbook{}}
	for i, r := range results {
		lib.Failed = append(lib.Failed, r.probs...)
		if r.rb == nil {
			continue
		}
		prev, dup := lib.byID[r.rb.ID]
		switch {
		case !dup:
			lib.byID[r.rb.ID] = r.rb
		case replace && prev.Source.Bundled && !r.rb.Source.Bundled:
			r.rb.Source.Replaces = true
			lib.byID[r.rb.ID] = r.rb
		default:
			line, col := idPosition(files[i])
			pl, _ := idPosition(fileFor(files, prev.Source.Path))
			lib.Failed = append(lib.Failed, strictyaml.Problem{Path: files[i].Path, Line: line, Col: col,
				Msg: fmt.Sprintf("duplicate runbook id %q, already defined at %s:%d", r.rb.ID, prev.Source.Path, pl)})
		}
	}
	for _, rb := range lib.byID {
		lib.Runbooks = append(lib.Runbooks, rb)
	}
	slices.SortFunc(lib.Runbooks, func(a, b *Runbook) int { return strings.Compare(a.ID, b.ID) })
	lib.Failed.Sort()
	return lib
}

func fileFor(files []strictyaml.File, path string) strictyaml.File {
	for _, f := range files {
		if f.Path == path {
			return f
		}
	}
	return strictyaml.File{}
}

// idPosition finds the line and column of the top-level id of a file.
func idPosition(f strictyaml.File) (int, int) {
	return strictyaml.Position(f.Path, f.Data, strictyaml.Path{"id"})
}

// export turns a validation issue into strictyaml's form, to be placed in
// the document.
func (is issue) export() strictyaml.Issue {
	return strictyaml.Issue{At: strictyaml.Path(is.at), Key: is.key, Msg: is.msg, TextLine: is.exprLine, TextCol: is.exprCol}
}
