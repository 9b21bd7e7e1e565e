package strictyaml

import (
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// Path is where in a document a value sits: mapping keys (string) and list
// indexes (int) from the root. Positions are looked up only when a problem
// is reported, so valid files never need a position-keeping parse.
type Path []any

// With returns the path extended by steps; p itself is not changed.
func (p Path) With(steps ...any) Path {
	out := make(Path, 0, len(p)+len(steps))
	return append(append(out, p...), steps...)
}

// Issue is a problem before it has a line and column.
type Issue struct {
	At  Path
	Key bool // point at the key rather than its value
	Msg string
	// TextLine and TextCol, when set, are a 1-based line and column inside
	// the string value (an expression), added to the string's own
	// position.
	TextLine, TextCol int
}

// Checker collects the issues a schema's checks find in a decoded
// document.
type Checker struct {
	Issues []Issue
}

// Addf records an issue with the value at at.
func (c *Checker) Addf(at Path, format string, args ...any) {
	c.Issues = append(c.Issues, Issue{At: at, Msg: fmt.Sprintf(format, args...)})
}

// Keyf records an issue with the key at at.
func (c *Checker) Keyf(at Path, format string, args ...any) {
	c.Issues = append(c.Issues, Issue{At: at, Key: true, Msg: fmt.Sprintf(format, args...)})
}

// Missing records that the required field at at is missing.
func (c *Checker) Missing(at Path, field string) {
	c.Keyf(at, "missing required field %q", field)
}

// Required records field of the mapping at at as missing when val is
// blank.
func (c *Checker) Required(at Path, field, val string) {
	if strings.TrimSpace(val) == "" {
		c.Missing(at.With(field), field)
	}
}

// Place gives an issue its position in the document. present reports
// whether the last key of the issue's path is in the document; suggested,
// whether Decode already offered that key's name for a misspelt key of
// the mapping that lacks it.
func (doc *Document) Place(is Issue) (p Problem, present, suggested bool) {
	p, present, parent := locate(doc.root, is)
	p.Path = doc.path
	suggested = parent != nil && slices.Contains(doc.suggested[parent], fieldName(is))
	return p, present, suggested
}

// Report gives issues their positions, leaving out those that a decoding
// problem (decoded, from Decode) already explains: a value that did not
// decode, or a "missing field" whose key is there or was misspelt.
func (doc *Document) Report(issues []Issue, decoded Problems) Problems {
	var out Problems
	at := map[[2]int]bool{}
	for _, p := range decoded {
		at[[2]int{p.Line, p.Col}] = true
	}
	for _, is := range issues {
		p, present, suggested := doc.Place(is)
		if at[[2]int{p.Line, p.Col}] {
			continue // the value did not decode; that is reported already
		}
		if strings.HasPrefix(is.Msg, "missing required field") {
			if len(decoded) > 0 && present || suggested {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// Position returns the line and column of the value at at in the YAML
// file data of kind, or 1, 1 when data does not parse.
func Position(kind Kind, path string, data []byte, at Path) (line, col int) {
	doc, probs := Parse(kind, path, data)
	if probs != nil {
		return 1, 1
	}
	p, _, _ := doc.Place(Issue{At: at})
	return p.Line, p.Col
}

// locate finds the position of an issue's path in the AST. present reports
// whether the last key of the path exists in the file; parent is the
// mapping that should hold a missing key.
func locate(root ast.Node, is Issue) (p Problem, present bool, parent *ast.MappingNode) {
	node := root
	var lastKey *token.Token
	for _, step := range is.At {
		node = deref(node)
		switch s := step.(type) {
		case string:
			m, ok := node.(*ast.MappingNode)
			if !ok {
				return withMsg(at(node, lastKey), is.Msg), false, nil
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
				return withMsg(at(nil, lastKey), is.Msg), false, m
			}
			lastKey = found.Key.GetToken()
			node = found.Value
		case int:
			seq, ok := node.(*ast.SequenceNode)
			if !ok || s >= len(seq.Values) {
				return withMsg(at(node, lastKey), is.Msg), false, nil
			}
			node = seq.Values[s]
			if m, isMap := deref(node).(*ast.MappingNode); isMap && len(m.Values) > 0 {
				lastKey = m.Values[0].Key.GetToken()
			} else if tk := deref(node).GetToken(); tk != nil {
				lastKey = tk
			}
		}
	}
	if is.Key {
		return withMsg(at(nil, lastKey), is.Msg), true, nil
	}
	p = at(deref(node), lastKey)
	if is.TextLine > 0 {
		p = textPosition(deref(node), p, is.TextLine, is.TextCol)
	}
	return withMsg(p, is.Msg), true, nil
}

// fieldName is the last key of an issue's path.
func fieldName(is Issue) string {
	if len(is.At) == 0 {
		return ""
	}
	s, _ := is.At[len(is.At)-1].(string)
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

// textPosition moves a problem from the start of a string (an expression)
// to the line and column named inside it.
func textPosition(n ast.Node, p Problem, line, col int) Problem {
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
