package runbook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
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
	if len(bytes.TrimSpace(data)) == 0 {
		_, probs := strictyaml.Parse(strictyaml.Runbook, path, data)
		return nil, probs
	}
	// DecodeFast measures the file against the limits first; a file it
	// refuses goes to slowParse, whose Parse says why and where. One scan
	// of a valid file, not two.
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
	if !strictyaml.DecodeFast(strictyaml.Runbook, data, rb) {
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
	doc, probs := strictyaml.Parse(strictyaml.Runbook, path, data)
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
		p, present, suggested := doc.Place(is)
		if strings.HasPrefix(is.Msg, "missing required field") {
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
	// Warnings are things the user should know that are not problems of
	// a runbook file, such as a cache entry changed outside irtui.
	Warnings []string
	// Assessments are the shared assessments the runbooks can use.
	Assessments *AssessmentLibrary
	byID        map[string]*Runbook
	// broken holds, by id, the folder file that should replace a bundled
	// runbook but does not load: that id has no runbook.
	broken map[string]string
}

// Get returns the runbook with id.
func (l *Library) Get(id string) (*Runbook, bool) {
	rb, ok := l.byID[id]
	return rb, ok
}

// Broken returns, for an id that a folder file meant to replace a bundled
// runbook with but that does not load, that file's path.
func (l *Library) Broken(id string) (string, bool) {
	p, ok := l.broken[id]
	return p, ok
}

// Options says where runbooks come from.
type Options struct {
	Bundled  fs.FS    // embedded runbooks (*.yaml at its root); nil for none
	Dirs     []string // extra folders; a runbook with a bundled id replaces it
	Validate ValidateOptions
	// CacheDir, if set, keeps decoded runbooks of folders by file, so that
	// unchanged files are not parsed again (see cache.go).
	CacheDir string
}

// Load reads every runbook. A broken file never stops the others: its
// problems are collected in Failed. A folder file that should replace a
// bundled runbook but does not load is a problem too, and the bundled one
// is not used in its place. Load stops early, returning ctx's error with
// what it has, when ctx is done.
//
// Shared assessments are read first, from the assessments/ sub-folders;
// the runbooks that use them are checked against them.
func Load(ctx context.Context, opts Options) (*Library, error) {
	alib, err := LoadAssessments(ctx, opts)
	if err != nil {
		return &Library{Assessments: alib, Failed: alib.Failed}, err
	}
	if opts.Validate.Assessments == nil {
		opts.Validate.Assessments, opts.Validate.AssessmentFailed = alib.Get, alib.FailedPath
	}
	var files []strictyaml.File
	if opts.Bundled != nil {
		files = append(files, bundledFiles(opts.Bundled)...)
	}
	for _, dir := range opts.Dirs {
		var more []strictyaml.File
		more, err = strictyaml.ReadDir(ctx, strictyaml.Runbook, dir)
		files = append(files, more...)
		if err != nil {
			break
		}
	}
	lib, berr := build(ctx, files, opts, true)
	lib.Assessments = alib
	if len(alib.Failed) > 0 {
		lib.Failed = append(lib.Failed, alib.Failed...)
		lib.Failed.Sort()
	}
	return lib, errors.Join(err, berr)
}

// LoadPaths reads the runbook files and folders named, and no others: no
// bundled runbooks, and a runbook id defined twice is a problem rather
// than a replacement. It is what lint checks. Shared assessments named (a
// file in an assessments/ folder or with a top-level conclusion:, an
// assessments/ folder, or the assessments/ sub-folder of a folder named)
// are read too; runbooks use them first, then validate.Assessments (see
// LintValidate). It stops early, with ctx's error, when ctx is done.
func LoadPaths(ctx context.Context, paths []string, validate ValidateOptions) (*Library, error) {
	var files, shared []strictyaml.File
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return &Library{}, err
		}
		st, err := os.Stat(p)
		var more, moreShared []strictyaml.File
		switch {
		case err != nil:
			files = append(files, strictyaml.File{Path: p, Err: err})
		case st.IsDir() && filepath.Base(filepath.Clean(p)) == AssessmentDir:
			moreShared, err = FolderFiles(ctx, p, strictyaml.Assessment)
		case st.IsDir():
			if more, err = strictyaml.ReadDir(ctx, strictyaml.Runbook, p); err == nil {
				moreShared, err = FolderFiles(ctx, filepath.Join(p, AssessmentDir), strictyaml.Assessment)
			}
		case isAssessmentPath(ctx, p):
			moreShared = []strictyaml.File{strictyaml.ReadOne(ctx, strictyaml.Assessment, p)}
		default:
			more = []strictyaml.File{strictyaml.ReadOne(ctx, strictyaml.Runbook, p)}
		}
		files, shared = append(files, more...), append(shared, moreShared...)
		if st != nil && err != nil {
			return &Library{}, err
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
	lib, err := build(ctx, files, Options{Validate: validate}, false)
	lib.Assessments = linted
	if len(linted.Failed) > 0 {
		lib.Failed = append(lib.Failed, linted.Failed...)
		lib.Failed.Sort()
	}
	return lib, err
}

// Lint checks the given runbook and shared assessment files and folders,
// or, with none, the bundled and configured ones, and returns every
// problem sorted by position. A runbook uses the assessments linted with
// it first, then the bundled and configured ones. It checks runbooks and
// assessments only; tabletop.Lint checks the scenarios beside them too.
func Lint(ctx context.Context, paths []string, opts Options) (strictyaml.Problems, error) {
	var lib *Library
	var err error
	if len(paths) == 0 {
		lib, err = Load(ctx, opts)
	} else {
		lib, err = LoadPaths(ctx, paths, LintValidate(ctx, opts))
	}
	return lib.Failed, err
}

// LintValidate is opts.Validate for linting files named on the command
// line: runbooks that use a shared assessment not among the files find
// it among the bundled and configured ones (read when first needed).
func LintValidate(ctx context.Context, opts Options) ValidateOptions {
	v := opts.Validate
	if v.Assessments != nil {
		return v
	}
	var configured *AssessmentLibrary
	load := func() *AssessmentLibrary {
		if configured == nil {
			configured, _ = LoadAssessments(ctx, opts) // interrupted: the lint says so
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

type result struct {
	rb    *Runbook
	probs strictyaml.Problems
}

// build parses files in parallel, then merges them in order so duplicate
// ids are judged deterministically. replace lets a folder runbook override
// a bundled one with the same id. It stops early when ctx is done.
func build(ctx context.Context, files []strictyaml.File, opts Options, replace bool) (*Library, error) {
	var cache *decodeCache
	var warnings []string
	if slices.ContainsFunc(files, func(f strictyaml.File) bool { return !f.Bundled && f.Err == nil }) {
		cache, warnings = openDecodeCache(ctx, opts.CacheDir)
	}
	results := make([]result, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	workers := min(runtime.GOMAXPROCS(0), max(len(files), 1))
	for range workers {
		wg.Go(func() {
			for i := range next {
				f := files[i]
				switch {
				case f.Err != nil:
					results[i] = result{probs: f.Problems()}
				case f.Bundled:
					rb, probs := ParseFile(f.Path, f.Data, opts.Validate)
					if rb != nil {
						rb.Source.Bundled = true
					}
					results[i] = result{rb: rb, probs: probs}
				default:
					rb, probs := parseCached(f.Path, f.Data, opts.Validate, cache)
					results[i] = result{rb: rb, probs: probs}
				}
			}
		})
	}
	sent := 0
dispatch:
	for i := range files {
		select {
		case next <- i:
			sent++
		case <-ctx.Done():
			break dispatch
		}
	}
	close(next)
	wg.Wait()
	if cache != nil {
		// Saved even when the load was cancelled: each entry stands for
		// its file alone, so what was decoded is not decoded again.
		warnings = append(warnings, cache.warnings...)
		cache.save()
	}

	lib := &Library{byID: map[string]*Runbook{}, Warnings: warnings}
	for i, r := range results[:sent] {
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
	if replace {
		lib.brokenOverrides(files[:sent], results[:sent])
	}
	for _, rb := range lib.byID {
		lib.Runbooks = append(lib.Runbooks, rb)
	}
	slices.SortFunc(lib.Runbooks, func(a, b *Runbook) int { return strings.Compare(a.ID, b.ID) })
	lib.Failed.Sort()
	return lib, ctx.Err()
}

// topID finds the value of a top-level "id:" line, for files that do not
// load: a syntax error elsewhere must not hide which runbook a file is.
var topID = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^id:[ \t]*["']?([A-Za-z0-9._-]+)["']?[ \t]*(?:#.*)?\r?$`)
})

// brokenOverrides finds folder files that do not load but name the id of
// a bundled runbook: they were meant to replace it. The bundled runbook is
// then not used in their place, silently or otherwise: the id has no
// runbook until the file is fixed, and a problem names both files.
func (l *Library) brokenOverrides(files []strictyaml.File, results []result) {
	for i, r := range results {
		f := files[i]
		if r.rb != nil || f.Bundled || f.Err != nil {
			continue
		}
		m := topID().FindSubmatchIndex(f.Data)
		if m == nil {
			continue
		}
		id := string(f.Data[m[2]:m[3]])
		bundled, ok := l.byID[id]
		if !ok || !bundled.Source.Bundled {
			continue
		}
		delete(l.byID, id)
		if l.broken == nil {
			l.broken = map[string]string{}
		}
		l.broken[id] = f.Path
		line := 1 + bytes.Count(f.Data[:m[0]], []byte{'\n'})
		l.Failed = append(l.Failed, strictyaml.Problem{Path: f.Path, Line: line, Col: 1,
			Msg: fmt.Sprintf("this file replaces the bundled runbook %q (%s) but does not load, so runbook %q is not available "+
				"until it is fixed; the bundled one is not used in its place", id, bundled.Source.Path, id)})
	}
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
	return strictyaml.Position(strictyaml.Runbook, f.Path, f.Data, strictyaml.Path{"id"})
}
