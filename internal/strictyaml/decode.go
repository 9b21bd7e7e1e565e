package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// astDecoder decodes a goccy AST into Go values by reflection and records
// every problem it meets (unknown fields, wrong types, ...) with its
// position, instead of stopping at the first as yaml.Unmarshal does.
type astDecoder struct {
	kind     Kind
	path     string
	problems Problems
	anchors  map[string]ast.Node
	depth    int
	visits   int // nodes decoded, aliases expanded: bounded against alias bombs
	// suggested records, per mapping, the field names offered for misspelt
	// keys, so "missing field" is not reported for the same mistake.
	suggested map[*ast.MappingNode][]string
}

func (d *astDecoder) addf(tk *token.Token, format string, args ...any) {
	line, col := 1, 1
	if tk != nil && tk.Position != nil {
		line, col = tk.Position.Line, tk.Position.Column
	}
	d.problems = append(d.problems, Problem{Path: d.path, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// parse parses data into an AST, turning parser errors into problems. The
// file is measured against its kind's limits first (see Check), so the
// parser never sees a file whose parse would cost more than they allow.
func parse(kind Kind, path string, data []byte) (*ast.File, Problems) {
	if int64(len(data)) <= kind.Limits().Size && len(bytes.TrimSpace(data)) == 0 {
		return nil, Problems{{Path: path, Line: 1, Col: 1, Msg: "file is empty"}}
	}
	if probs := Check(kind, path, data); probs != nil {
		return nil, probs
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, Problems{yamlErrorProblem(path, err)}
	}
	docs := 0
	for _, doc := range f.Docs {
		if doc.Body != nil {
			docs++
		}
	}
	if docs == 0 {
		return nil, Problems{{Path: path, Line: 1, Col: 1, Msg: "file has no content, only comments"}}
	}
	if docs > 1 {
		return nil, Problems{{Path: path, Line: 1, Col: 1, Msg: "file holds more than one YAML document; put one per file"}}
	}
	return f, nil
}

func yamlErrorProblem(path string, err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) {
		tk := ye.GetToken()
		p := Problem{Path: path, Line: 1, Col: 1, Msg: strings.ReplaceAll(ye.GetMessage(), "\t", `\t`)}
		if tk != nil && tk.Position != nil {
			p.Line, p.Col = tk.Position.Line, tk.Position.Column
		}
		return p
	}
	return Problem{Path: path, Line: 1, Col: 1, Msg: err.Error()}
}

// body returns the single document's root node.
func body(f *ast.File) ast.Node {
	for _, doc := range f.Docs {
		if doc.Body != nil {
			return doc.Body
		}
	}
	return nil
}

// decodeAST decodes the document into out (a pointer to a struct).
func decodeAST(kind Kind, path string, f *ast.File, out any) Problems {
	d := &astDecoder{kind: kind, path: path, anchors: map[string]ast.Node{}}
	d.decode(body(f), reflect.ValueOf(out).Elem())
	return d.problems
}

// Document is one parsed YAML file, kept with its positions so that the
// problems a schema's checks find afterwards can be placed at a line and
// column.
type Document struct {
	kind Kind
	path string
	root ast.Node
	// suggested records, per mapping, the field names offered for misspelt
	// keys by Decode, so "missing field" is not reported for the same
	// mistake.
	suggested map[*ast.MappingNode][]string
}

// Parse parses data, a file of kind, which must hold exactly one YAML
// document within the kind's limits. Every problem has path:line:col.
func Parse(kind Kind, path string, data []byte) (*Document, Problems) {
	f, probs := parse(kind, path, data)
	if probs != nil {
		return nil, probs
	}
	return &Document{kind: kind, path: path, root: body(f), suggested: map[*ast.MappingNode][]string{}}, nil
}

// Path is the name the document's problems carry.
func (doc *Document) Path() string { return doc.path }

// Decode decodes the document strictly into out, a pointer to a struct
// with yaml tags, and returns every problem met: unknown fields (with a
// "did you mean" hint), wrong types, aliases and tags.
func (doc *Document) Decode(out any) Problems {
	d := &astDecoder{kind: doc.kind, path: doc.path, anchors: map[string]ast.Node{}, suggested: doc.suggested}
	d.decode(doc.root, reflect.ValueOf(out).Elem())
	return d.problems
}

// IsMapping reports whether the document is a mapping, as every schema
// file must be.
func (doc *Document) IsMapping() bool {
	_, isMap := deref(doc.root).(*ast.MappingNode)
	return isMap
}

// unwrap follows anchors, aliases and comments to the node that holds data.
func (d *astDecoder) unwrap(n ast.Node) ast.Node {
	for hops := 0; n != nil; hops++ {
		if hops > 32 {
			d.addf(n.GetToken(), "alias refers to itself")
			return nil
		}
		switch v := n.(type) {
		case *ast.AnchorNode:
			if v.Name != nil {
				d.anchors[v.Name.String()] = v.Value
			}
			n = v.Value
		case *ast.AliasNode:
			target, ok := d.anchors[v.Value.String()]
			if !ok {
				d.addf(v.GetToken(), "alias *%s names no anchor defined before it", v.Value.String())
				return nil
			}
			n = target
		case *ast.TagNode:
			d.addf(v.GetToken(), "YAML tags such as %s are not allowed in %s", v.Start.Value, d.kind.plural())
			return nil
		case *ast.CommentGroupNode:
			return nil
		default:
			return n
		}
	}
	return nil
}

var anyType = reflect.TypeFor[any]()

// maxVisits bounds the work of decoding one file, aliases included; a real
// runbook has a few thousand values.
const maxVisits = 200_000

func (d *astDecoder) decode(n ast.Node, v reflect.Value) {
	d.depth++
	d.visits++
	defer func() { d.depth-- }()
	if d.depth > 64 {
		d.addf(n.GetToken(), "nesting is too deep")
		return
	}
	if d.visits > maxVisits {
		if d.visits == maxVisits+1 {
			d.addf(n.GetToken(), "the document expands to too many values (aliases used too often?)")
		}
		return
	}
	n = d.unwrap(n)
	if n == nil {
		return
	}
	if _, isNull := n.(*ast.NullNode); isNull {
		return // leave the zero value; required-field checks report it
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem())
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v)
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			d.addf(n.GetToken(), "expected a list, found %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(seq.Values), len(seq.Values))
		for i, item := range seq.Values {
			d.decode(item, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			d.addf(n.GetToken(), "expected a mapping, found %s", describe(n))
			return
		}
		out := reflect.MakeMapWithSize(v.Type(), len(m.Values))
		for _, mv := range m.Values {
			key := reflect.New(v.Type().Key()).Elem()
			d.decode(mv.Key, key)
			val := reflect.New(v.Type().Elem()).Elem()
			d.decode(mv.Value, val)
			out.SetMapIndex(key, val)
		}
		v.Set(out)
	case reflect.String:
		s, ok := scalarText(n)
		if !ok {
			d.addf(n.GetToken(), "expected text, found %s", describe(n))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			d.addf(n.GetToken(), "expected true or false, found %s", describe(n))
			return
		}
		v.SetBool(b.Value)
	case reflect.Float64, reflect.Int:
		f, ok := number(n)
		if !ok {
			d.addf(n.GetToken(), "expected a number, found %s", describe(n))
			return
		}
		if v.Kind() == reflect.Int {
			v.SetInt(int64(f))
		} else {
			v.SetFloat(f)
		}
	case reflect.Interface:
		if v.Type() != anyType {
			d.addf(n.GetToken(), "unsupported field type %s", v.Type())
			return
		}
		if val, ok := d.plain(n); ok {
			if val != nil {
				v.Set(reflect.ValueOf(val))
			}
		}
	default:
		d.addf(n.GetToken(), "unsupported field type %s", v.Type())
	}
}

// plain converts a scalar or a list of scalars to a Go value.
func (d *astDecoder) plain(n ast.Node) (any, bool) {
	n = d.unwrap(n)
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.BoolNode:
		return x.Value, true
	case *ast.IntegerNode, *ast.FloatNode:
		f, _ := number(x)
		return f, true
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(x)
		return s, true
	case *ast.SequenceNode:
		d.visits += len(x.Values)
		if d.visits > maxVisits {
			d.addf(x.GetToken(), "the document expands to too many values (aliases used too often?)")
			return nil, false
		}
		out := make([]any, 0, len(x.Values))
		for _, item := range x.Values {
			val, ok := d.plain(item)
			if !ok {
				return nil, false
			}
			out = append(out, val)
		}
		return out, true
	}
	d.addf(n.GetToken(), "expected a value or a list of values, found %s", describe(n))
	return nil, false
}

func (d *astDecoder) decodeStruct(n ast.Node, v reflect.Value) {
	m, ok := n.(*ast.MappingNode)
	if !ok {
		d.addf(n.GetToken(), "expected a mapping of fields, found %s", describe(n))
		return
	}
	fields := structFields(v.Type())
	for _, mv := range m.Values {
		key, ok := scalarText(d.unwrap(mv.Key))
		if !ok {
			d.addf(mv.Key.GetToken(), "field names must be plain text")
			continue
		}
		idx, ok := fields.index[key]
		if !ok {
			hint, name := suggest(key, fields.names)
			if name != "" && d.suggested != nil {
				d.suggested[m] = append(d.suggested[m], name)
			}
			d.addf(mv.Key.GetToken(), "unknown field %q%s", key, hint)
			continue
		}
		d.decode(mv.Value, v.Field(idx))
	}
}

type fieldSet struct {
	index map[string]int
	names []string
}

// registered are the schema types (Register); their fields are listed on
// first use, not at init: only a file with problems is decoded this way,
// and every start of irtui would otherwise pay for it.
var (
	registered []reflect.Type
	fieldCache = sync.OnceValue(func() map[reflect.Type]fieldSet {
		c := make(map[reflect.Type]fieldSet, len(registered))
		for _, t := range registered {
			c[t] = buildFields(t)
		}
		return c
	})
)

// structFields lists the YAML names of a struct's fields. The cache is
// built once for the schema types (see Register), and then read-only while
// loading in parallel.
func structFields(t reflect.Type) fieldSet {
	if fs, ok := fieldCache()[t]; ok {
		return fs
	}
	return buildFields(t)
}

func buildFields(t reflect.Type) fieldSet {
	fs := fieldSet{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fs.index[name] = i
		fs.names = append(fs.names, name)
	}
	return fs
}

// Register adds the struct types of a schema (runbooks, scenarios) to the
// field cache, so that files of it can be decoded in parallel without
// writing to the cache. It must be called from an init function: the
// cache is built on first use, from the types registered by then.
func Register(types ...reflect.Type) {
	registered = append(registered, types...)
}

// scalarText returns the text of a scalar node as written, so "1.10" stays
// "1.10" in a string field.
func scalarText(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		if x.Value == nil {
			return "", true
		}
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return x.GetToken().Value, true
	}
	return "", false
}

func number(n ast.Node) (float64, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch iv := x.Value.(type) {
		case int64:
			return float64(iv), true
		case uint64:
			return float64(iv), true
		}
		f, err := strconv.ParseFloat(x.GetToken().Value, 64)
		return f, err == nil
	case *ast.FloatNode:
		return x.Value, true
	}
	return 0, false
}

func describe(n ast.Node) string {
	switch x := n.(type) {
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		s, _ := scalarText(x)
		if len(s) > 30 {
			s = s[:30] + "..."
		}
		return fmt.Sprintf("text %q", s)
	case *ast.IntegerNode, *ast.FloatNode:
		return "the number " + x.GetToken().Value
	case *ast.BoolNode:
		return "the boolean " + x.GetToken().Value
	}
	return strings.TrimSuffix(strings.ToLower(n.Type().String()), "type")
}

// Value is one top-level key of a flat YAML or JSON document, with its
// value as answers take it (bool, float64, string, []any) and position.
type Value struct {
	Key       string
	Value     any
	Line, Col int
}

// DecodeValues reads a flat mapping of names to values, such as an answers
// file, reporting problems with path:line:col. JSON is read too, being YAML.
func DecodeValues(kind Kind, path string, data []byte) ([]Value, Problems) {
	f, probs := parse(kind, path, data)
	if probs != nil {
		return nil, probs
	}
	d := &astDecoder{kind: kind, path: path, anchors: map[string]ast.Node{}}
	root := d.unwrap(body(f))
	m, ok := root.(*ast.MappingNode)
	if !ok {
		if root == nil {
			return nil, Problems{{Path: path, Line: 1, Col: 1, Msg: "expected a mapping of question ids to answers"}}
		}
		d.addf(root.GetToken(), "expected a mapping of question ids to answers, found %s", describe(root))
		return nil, d.problems
	}
	var out []Value
	for _, mv := range m.Values {
		key, ok := scalarText(d.unwrap(mv.Key))
		if !ok {
			d.addf(mv.Key.GetToken(), "keys must be plain text")
			continue
		}
		val, ok := d.plain(mv.Value)
		if !ok {
			continue
		}
		line, col := 1, 1
		if tk := mv.Key.GetToken(); tk != nil && tk.Position != nil {
			line, col = tk.Position.Line, tk.Position.Column
		}
		out = append(out, Value{Key: key, Value: val, Line: line, Col: col})
	}
	return out, d.problems
}

// DecodeFile decodes a whole YAML file of kind strictly into out, a
// pointer to a struct with yaml tags: every unknown field and wrong type
// is reported with path:line:col, not just the first. Used for the
// directory and the configuration file too.
func DecodeFile(kind Kind, path string, data []byte, out any) Problems {
	f, probs := parse(kind, path, data)
	if probs != nil {
		return probs
	}
	probs = decodeAST(kind, path, f, out)
	if probs == nil {
		if _, isMap := body(f).(*ast.MappingNode); !isMap {
			probs = Problems{{Path: path, Line: 1, Col: 1, Msg: "expected a mapping of fields"}}
		}
	}
	return probs
}
