package runbook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
	yamlv3 "gopkg.in/yaml.v3"
)

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
func ParseFile(path string, data []byte, opts ValidateOptions) (*Runbook, Problems) {
	rb, probs := parseOwn(path, data, opts)
	if rb != nil {
		rb.mergeShared()
	}
	return rb, probs
}

// parseOwn is ParseFile without merging the shared questions: the form the
// decode cache keeps.
func parseOwn(path string, data []byte, opts ValidateOptions) (*Runbook, Problems) {
	if len(data) > MaxFileSize || len(bytes.TrimSpace(data)) == 0 {
		_, probs := parseYAML(path, data)
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
func fastDecode(data []byte) (rb *Runbook, ok bool) {
	defer func() {
		if recover() != nil { // never let a decoder bug take the app down
			rb, ok = nil, false
		}
	}()
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	rb = new(Runbook)
	if err := dec.Decode(rb); err != nil {
		return nil, false
	}
	var extra yamlv3.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, false // a second document: let the slow path say so
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

func slowParse(path string, data []byte, opts ValidateOptions) (*Runbook, Problems) {
	f, probs := parseYAML(path, data)
	if probs != nil {
		return nil, probs
	}
	rb := new(Runbook)
	d := &astDecoder{path: path, anchors: map[string]ast.Node{}, suggested: map[*ast.MappingNode][]string{}}
	root := body(f)
	d.decode(root, reflect.ValueOf(rb).Elem())
	probs = d.problems
	if _, isMap := deref(root).(*ast.MappingNode); !isMap {
		if len(probs) == 0 {
			probs = Problems{{Path: path, Line: 1, Col: 1, Msg: "a runbook file must be a mapping of fields (id, title, ...)"}}
		}
		return nil, probs
	}
	for _, is := range validate(rb, opts) {
		p, present, parent := locate(root, is)
		if strings.HasPrefix(is.msg, "missing required field") {
			// The field is there but did not decode, or a misspelt key
			// already suggests it: either is reported already.
			if len(probs) > 0 && present || parent != nil && slices.Contains(d.suggested[parent], fieldName(is)) {
				continue
			}
		}
		p.Path = path
		probs = append(probs, p)
	}
	if len(probs) > 0 {
		sortProblems(probs)
		return nil, probs
	}
	rb.Source = Source{Path: path, Hash: hash(data)}
	return rb, nil
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// locate finds the position of an issue's path in the AST. present reports
// whether the last key of the path exists in the file; parent is the
// mapping that should hold a missing key.
func locate(root ast.Node, is issue) (p Problem, present bool, parent *ast.MappingNode) {
	node := root
	var lastKey *token.Token
	for _, step := range is.at {
		node = deref(node)
		switch s := step.(type) {
		case string:
			m, ok := node.(*ast.MappingNode)
			if !ok {
				return withMsg(at(node, lastKey), is.msg), false, nil
			}
			var found *ast.MappingValueNode
			for _, mv := range m.Values {
				if k, _ := scalarText(deref(mv.Key)); k == s {
					found = mv
					break
				}
			}
			if found == nil {
				// Point at the mapping that lacks the key: its first key.
				if len(m.Values) > 0 {
					lastKey = m.Values[0].Key.GetToken()
				}
				return withMsg(at(nil, lastKey), is.msg), false, m
			}
			lastKey = found.Key.GetToken()
			node = found.Value
		case int:
			seq, ok := node.(*ast.SequenceNode)
			if !ok || s >= len(seq.Values) {
				return withMsg(at(node, lastKey), is.msg), false, nil
			}
			node = seq.Values[s]
			if m, isMap := deref(node).(*ast.MappingNode); isMap && len(m.Values) > 0 {
				lastKey = m.Values[0].Key.GetToken()
			} else if tk := deref(node).GetToken(); tk != nil {
				lastKey = tk
			}
		}
	}
	if is.key {
		return withMsg(at(nil, lastKey), is.msg), true, nil
	}
	p = at(deref(node), lastKey)
	if is.exprLine > 0 {
		p = exprPosition(deref(node), p, is.exprLine, is.exprCol)
	}
	return withMsg(p, is.msg), true, nil
}

// fieldName is the last key of an issue's path.
func fieldName(is issue) string {
	if len(is.at) == 0 {
		return ""
	}
	s, _ := is.at[len(is.at)-1].(string)
	return s
}

func withMsg(p Problem, msg string) Problem { p.Msg = msg; return p }

func deref(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

func at(n ast.Node, fallback *token.Token) Problem {
	if n != nil {
		if tk := n.GetToken(); tk != nil && tk.Position != nil {
			return Problem{Line: tk.Position.Line, Col: tk.Position.Column}
		}
	}
	if fallback != nil && fallback.Position != nil {
		return Problem{Line: fallback.Position.Line, Col: fallback.Position.Column}
	}
	return Problem{Line: 1, Col: 1}
}

// exprPosition moves a problem from the start of an expression string to
// the line and column the expression compiler named inside it.
func exprPosition(n ast.Node, p Problem, line, col int) Problem {
	switch x := n.(type) {
	case *ast.StringNode:
		if line == 1 {
			quoted := x.GetToken().Type == token.DoubleQuoteType || x.GetToken().Type == token.SingleQuoteType
			p.Col += col - 1
			if quoted {
				p.Col++
			}
		}
	case *ast.LiteralNode:
		// A block scalar starts on the line after its indicator; its text
		// is indented by the block's indentation.
		p.Line += line
		indent := 0
		if x.Value != nil && x.Value.GetToken() != nil {
			origin := x.Value.GetToken().Origin
			for _, l := range strings.Split(origin, "\n") {
				if strings.TrimSpace(l) != "" {
					indent = len(l) - len(strings.TrimLeft(l, " "))
					break
				}
			}
		}
		p.Col = indent + col
	}
	return p
}

// Library is the set of loaded runbooks and the files that failed to load.
type Library struct {
	Runbooks []*Runbook // sorted by id
	Failed   Problems   // one or more problems per file that did not load
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

type srcFile struct {
	path    string
	data    []byte
	bundled bool
	err     error
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
	var files []srcFile
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
		sortProblems(lib.Failed)
	}
	return lib
}

// Lint checks the given files and folders, or, with none, the bundled and
// configured runbooks, and returns every problem sorted by position.
// Scenarios are checked too: those in a scenarios/ sub-folder of each
// folder (and of the bundled runbooks), and scenario files named directly;
// their runbook references resolve against the runbooks linted, then the
// bundled and configured ones.
func Lint(paths []string, opts Options) Problems {
	var (
		lib       *Library
		scenarios []srcFile
		runbooks  func(string) (*Runbook, bool)
	)
	if len(paths) == 0 {
		lib = Load(opts)
		scenarios, runbooks = scenarioFiles(opts), lib.Get
	} else {
		var files, shared []srcFile
		for _, p := range paths {
			st, err := os.Stat(p)
			switch {
			case err != nil:
				files = append(files, srcFile{path: p, err: err})
			case st.IsDir() && filepath.Base(filepath.Clean(p)) == AssessmentDir:
				shared = append(shared, dirFiles(p)...)
			case st.IsDir():
				rbs, scs := splitLintDir(p)
				files, scenarios = append(files, rbs...), append(scenarios, scs...)
				shared = append(shared, scenarioDirFiles(filepath.Join(p, AssessmentDir))...)
			case isScenarioPath(p):
				scenarios = append(scenarios, readFile(p))
			case isAssessmentPath(p):
				shared = append(shared, readFile(p))
			default:
				files = append(files, readFile(p))
			}
		}
		// Runbooks use the assessments linted with them first, then the
		// bundled and configured ones.
		linted := buildAssessments(shared, false)
		vopts := opts.Validate
		if vopts.AssessmentFailed == nil {
			vopts.AssessmentFailed = linted.FailedPath
		}
		if vopts.Assessments == nil {
			var configured *AssessmentLibrary
			vopts.Assessments = func(id string) (*Assessment, bool) {
				if a, ok := linted.Get(id); ok {
					return a, true
				}
				if configured == nil {
					configured = LoadAssessments(opts)
				}
				return configured.Get(id)
			}
		}
		lib = build(files, Options{Validate: vopts}, false)
		lib.Failed = append(lib.Failed, linted.Failed...)
		var configured *Library
		runbooks = func(id string) (*Runbook, bool) {
			if rb, ok := lib.Get(id); ok {
				return rb, true
			}
			if configured == nil {
				configured = Load(opts)
			}
			return configured.Get(id)
		}
	}
	probs := append(lib.Failed, lintScenarios(scenarios, runbooks, opts.Validate)...)
	sortProblems(probs)
	return probs
}

func bundledFiles(fsys fs.FS) []srcFile {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return []srcFile{{path: "bundled", err: err}}
	}
	var out []srcFile
	for _, e := range entries {
		if e.IsDir() || !isYAML(e.Name()) {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		out = append(out, srcFile{path: "bundled:" + e.Name(), data: data, bundled: true, err: err})
	}
	return out
}

func isYAML(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// dirFiles lists the runbook files directly in dir; sub-folders (such as
// scenarios/) hold other things and are not runbooks.
func dirFiles(dir string) []srcFile {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []srcFile{{path: dir, err: err}}
	}
	var out []srcFile
	for _, e := range entries {
		if e.IsDir() || !isYAML(e.Name()) {
			continue
		}
		out = append(out, readFile(filepath.Join(dir, e.Name())))
	}
	return out
}

func readFile(path string) srcFile {
	f, err := os.Open(path)
	if err != nil {
		return srcFile{path: path, err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return srcFile{path: path, err: err}
	}
	if st.Size() > MaxFileSize {
		// Do not read a huge file just to reject it.
		return srcFile{path: path, data: make([]byte, MaxFileSize+1)}
	}
	data := make([]byte, 0, st.Size())
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(f); err != nil {
		return srcFile{path: path, err: err}
	}
	return srcFile{path: path, data: buf.Bytes()}
}

type result struct {
	rb    *Runbook
	probs Problems
}

// build parses files in parallel, then merges them in order so duplicate
// ids are judged deterministically. replace lets a folder runbook override
// a bundled one with the same id.
func build(files []srcFile, opts Options, replace bool) *Library {
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
				if f.err != nil {
					results[i] = result{probs: Problems{{Path: f.path, Line: 1, Col: 1, Msg: readErr(f.err)}}}
					continue
				}
				rb, probs := parseCached(f.path, f.data, opts.Validate, cache)
				if rb != nil {
					rb.Source.Bundled = f.bundled
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
			lib.Failed = append(lib.Failed, Problem{Path: files[i].path, Line: line, Col: col,
				Msg: fmt.Sprintf("duplicate runbook id %q, already defined at %s:%d", r.rb.ID, prev.Source.Path, pl)})
		}
	}
	for _, rb := range lib.byID {
		lib.Runbooks = append(lib.Runbooks, rb)
	}
	slices.SortFunc(lib.Runbooks, func(a, b *Runbook) int { return strings.Compare(a.ID, b.ID) })
	sortProblems(lib.Failed)
	return lib
}

func fileFor(files []srcFile, path string) srcFile {
	for _, f := range files {
		if f.path == path {
			return f
		}
	}
	return srcFile{}
}

// idPosition finds the line and column of the top-level id of a file.
func idPosition(f srcFile) (int, int) {
	af, probs := parseYAML(f.path, f.data)
	if probs != nil {
		return 1, 1
	}
	p, _, _ := locate(body(af), issue{at: path{"id"}})
	return p.Line, p.Col
}

func readErr(err error) string {
	if os.IsNotExist(err) {
		return "no such file or folder"
	}
	if os.IsPermission(err) {
		return "permission denied"
	}
	return err.Error()
}
