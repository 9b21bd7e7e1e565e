package strictyaml

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	yamlv3 "gopkg.in/yaml.v3"
)

// The pre-scan (Check) is only worth anything if it never counts less
// than what the parsers build. FuzzCheckBoundsParsers compares its
// estimates with three independent measurements of each input:
//
//   - goccy/go-yaml's own lexer: the nesting its tokens describe, so that
//     quotes, comments and block scalars are told apart from structure as
//     goccy tells them apart, whether or not the file then parses;
//   - goccy/go-yaml's AST, when the file parses: nesting, keys per
//     mapping, and the summed length of the paths it stores;
//   - yaml.v3's node tree, when the file parses: nesting and keys per
//     mapping.
//
// The seed corpus holds every bundled file and the tricky shapes in
// testdata/fuzz/FuzzCheckBoundsParsers.

// unlimited measures without stopping.
var unlimited = Limits{Size: 1 << 40, Tokens: 1 << 40, Depth: 1 << 30, Entries: 1 << 30, Paths: 1 << 60}

func measureSeen(data []byte) (scanStats, map[int]bool, *Problem) {
	s := &scanner{src: data, lim: unlimited, noClose: [2]int{-1, -1}, seen: map[int]bool{}}
	s.run()
	return s.stats, s.seen, s.fail
}

// offset turns goccy's line and column (in characters) into a byte offset.
func offset(data []byte, line, col int) int {
	i := 0
	for l := 1; l < line && i < len(data); l++ {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return len(data)
		}
		i += j + 1
	}
	for c := 1; c < col && i < len(data); c++ {
		for i < len(data) && data[i] == '\t' {
			i++ // goccy's columns do not count tabs
		}
		_, n := utf8.DecodeRune(data[i:])
		i += n
	}
	for i < len(data) && data[i] == '\t' {
		i++
	}
	return i
}

// lexicalAgreement fails t when goccy's lexer found a list item, a key
// indicator or a flow collection where the pre-scan read text: the one
// way a parser could build structure the pre-scan never counted. Tokens
// after the point where goccy's parser stops (an invalid token, a stray
// closing bracket, a directive inside a document) do not matter.
//
// It reports whether it stopped at a closing bracket that closes nothing
// or the wrong kind of collection, where goccy's parser must fail.
func lexicalAgreement(t *testing.T, data []byte, tks token.Tokens, seen map[int]bool) (mustFail bool) {
	if tks.InvalidToken() != nil {
		return false
	}
	var flow []token.Type
	directive, anchor := 0, 0
	var prev *token.Token
	isValue := func(tk *token.Token) bool {
		switch tk.Type {
		case token.CommentType, token.CollectEntryType, token.MappingValueType, token.SequenceEndType, token.MappingEndType,
			token.AnchorType, token.TagType, token.AliasType, token.SequenceEntryType, token.MappingKeyType:
			return false
		}
		return true
	}
	for _, tk := range tks {
		if tk.Type == token.CommentType {
			continue
		}
		if tk.Type == token.DocumentHeaderType || tk.Type == token.DocumentEndType {
			prev = nil // goccy's lexer stays in a flow collection across documents
			continue
		}
		// In a flow collection, two values with no "," or ":" between
		// them are where goccy's parser stops ("',' or ']' must be
		// specified").
		if len(flow) > 0 && prev != nil && isValue(tk) &&
			(isValue(prev) && prev.Type != token.SequenceStartType && prev.Type != token.MappingStartType ||
				prev.Type == token.SequenceEndType || prev.Type == token.MappingEndType) {
			return false // (goccy does not always report this one)
		}
		before := prev
		if prev == nil || prev.Type != token.AnchorType {
			prev = tk // an anchor's name is no value of its own
		} else {
			prev = &token.Token{Type: token.TagType} // an anchor and its name, awaiting the node
		}
		if tk.Position.Line == directive {
			continue // a directive's values are scalars or an error
		}
		if tk.Type == token.AnchorType || tk.Type == token.AliasType {
			anchor = tk.Position.Line
		}
		if tk.Type == token.SequenceEntryType && tk.Position.Line == anchor {
			return false // "sequence entries are not allowed after anchor on the same line"
		}
		switch tk.Type {
		case token.DirectiveType:
			if tk.Position.Column != 1 {
				return false // goccy's parser stops at a directive inside a line
			}
			directive = tk.Position.Line
			continue
		case token.SequenceEndType, token.MappingEndType:
			if before != nil && before.Type == token.TagType && before.Value == "" {
				return true // an anchor with no node: "unexpected ..." or "could not find '['"
			}
			want := token.SequenceStartType
			if tk.Type == token.MappingEndType {
				want = token.MappingStartType
			}
			if len(flow) == 0 || flow[len(flow)-1] != want {
				return true
			}
			flow = flow[:len(flow)-1]
			continue
		case token.SequenceStartType, token.MappingStartType:
			flow = append(flow, tk.Type)
		case token.SequenceEntryType, token.MappingValueType:
		default:
			continue
		}
		// goccy's columns drift a little (after tabs, say): look for the
		// indicator near where goccy says it is.
		at := offset(data, tk.Position.Line, tk.Position.Column)
		lo, hi := max(at-4, 0), min(at+8, len(data))
		start := offset(data, tk.Position.Line, 1)
		end := start + bytes.IndexByte(append(data[start:len(data):len(data)], '\n'), '\n')
		if bytes.IndexByte(data[start:end], '\t') >= 0 {
			lo, hi = start, end // goccy's columns on a line with tabs are anyone's guess
		}
		found := false
		for p := lo; p < hi && !found; p++ {
			found = seen[p] && data[p] == tk.Value[0]
		}
		if !found {
			t.Fatalf("goccy's lexer found %s at %d:%d (byte %d) where the pre-scan read text", tk.Type, tk.Position.Line, tk.Position.Column, at)
		}
	}
	return false
}

// tokenDepth replays goccy's tokens through the pre-scan's own model of
// block and flow nesting. A stream with an invalid token is never parsed
// (goccy's parser refuses it before building anything).
//
// A directive or a closing bracket that closes nothing or the wrong kind
// of collection is where goccy's parser stops with an error (unless the directive is on a line
// of its own, before "---"), so the replay stops there too, and says so:
// the caller checks that the parse did fail.
func tokenDepth(tks token.Tokens) (depth, entries int, parsed, mustFail bool) {
	if tks.InvalidToken() != nil {
		return 0, 0, false, false
	}
	s := &scanner{lim: unlimited}
	deepest, line := 0, 0
	var prev *token.Token
	for i, tk := range tks {
		if tk.Type == token.CommentType {
			continue
		}
		col := tk.Position.Column - 1
		closing := tk.Type == token.SequenceEndType || tk.Type == token.MappingEndType
		stray := closing && (len(s.flow) == 0 || s.flow[len(s.flow)-1].mapping != (tk.Type == token.MappingEndType))
		if tk.Type == token.DirectiveType {
			ownLine := i+1 >= len(tks) || tks[i+1].Position.Line > tk.Position.Line ||
				i+2 < len(tks) && tks[i+2].Position.Line > tk.Position.Line
			return deepest, s.stats.entries, true, !ownLine
		}
		if stray {
			return deepest, s.stats.entries, true, true
		}
		if len(s.flow) == 0 && tk.Position.Line != line {
			for n := len(s.block); n > 0 && s.block[n-1].col > col; n = len(s.block) {
				s.block = s.block[:n-1]
			}
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			s.flow = append(s.flow, frame{mapping: tk.Type == token.MappingStartType})
		case token.SequenceEndType, token.MappingEndType:
			if len(s.flow) > 0 {
				s.flow = s.flow[:len(s.flow)-1]
			}
		case token.DocumentHeaderType, token.DocumentEndType:
			s.block = s.block[:0]
		}
		if len(s.flow) == 0 {
			switch {
			case tk.Type == token.SequenceEntryType:
				s.entry(0, col, false, 0)
			case tk.Type == token.MappingValueType && prev != nil && strings.Contains(strings.TrimSpace(prev.Origin), "\n"):
				// A key over several lines: goccy's parser either stops
				// here with an error or accepts it, and then the tree is
				// compared below.
				return deepest, s.stats.entries, true, false
			case tk.Type == token.MappingValueType && prev != nil && prev.Type != token.MappingValueType && prev.Type != token.SequenceEntryType &&
				prev.Position.Line == tk.Position.Line:
				s.entry(0, prev.Position.Column-1, true, 0)
			case tk.Type == token.MappingValueType:
				s.entry(0, col, true, 0)
			}
		}
		if tk.Type == token.MappingValueType && len(s.flow) > 0 && !s.flow[len(s.flow)-1].mapping {
			s.flow[len(s.flow)-1].pair = true
		}
		if tk.Type == token.CollectEntryType && len(s.flow) > 0 {
			s.flow[len(s.flow)-1].pair = false
		}
		deepest = max(deepest, s.depth())
		line, prev = tk.Position.Line, tk
	}
	return deepest, s.stats.entries, true, false
}

type treeStats struct{ depth, entries, nodes, paths int }

func goccyTree(n ast.Node, depth int, st *treeStats) {
	if n == nil {
		return
	}
	st.nodes++
	st.paths += len(n.GetPath())
	switch x := n.(type) {
	case *ast.DocumentNode:
		goccyTree(x.Body, depth, st)
	case *ast.MappingNode:
		depth++
		st.depth = max(st.depth, depth)
		st.entries = max(st.entries, len(x.Values))
		for _, v := range x.Values {
			goccyTree(v, depth, st)
		}
	case *ast.MappingValueNode:
		goccyTree(x.Key, depth, st)
		goccyTree(x.Value, depth, st)
	case *ast.SequenceNode:
		depth++
		st.depth = max(st.depth, depth)
		for _, v := range x.Values {
			goccyTree(v, depth, st)
		}
	case *ast.AnchorNode:
		goccyTree(x.Value, depth, st)
	case *ast.TagNode:
		goccyTree(x.Value, depth, st)
	case *ast.MappingKeyNode:
		goccyTree(x.Value, depth, st)
	}
}

func v3Tree(n *yamlv3.Node, depth int, st *treeStats) {
	if n == nil {
		return
	}
	st.nodes++
	switch n.Kind {
	case yamlv3.MappingNode:
		depth++
		st.entries = max(st.entries, len(n.Content)/2)
	case yamlv3.SequenceNode:
		depth++
	}
	st.depth = max(st.depth, depth)
	for _, c := range n.Content {
		v3Tree(c, depth, st)
	}
}

// compareWithParsers fails t when a parser builds more than the pre-scan
// counted.
func compareWithParsers(t *testing.T, data []byte) {
	got, seen, fail := measureSeen(data)
	if fail != nil {
		return // refused (explicit keys): no parser sees it
	}
	tks := lexer.Tokenize(string(data))
	if len(tks) > 2*got.tokens+2 {
		t.Fatalf("goccy's lexer made %d tokens, the pre-scan counted %d", len(tks), got.tokens)
	}
	badClose := false
	if bytes.ContainsAny(data, "\r\t") {
		// goccy's line numbers after a CRLF, and its columns after a tab,
		// are not always the file's: compare positions on the same file
		// with LF line endings and spaces for tabs (which the pre-scan
		// allows only in text).
		lf := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		lf = bytes.ReplaceAll(lf, []byte("\t"), []byte(" "))
		if _, lfSeen, lfFail := measureSeen(lf); lfFail == nil {
			badClose = lexicalAgreement(t, lf, lexer.Tokenize(string(lf)), lfSeen)
		}
	} else {
		badClose = lexicalAgreement(t, data, tks, seen)
	}
	d, e, ok, mustFail := tokenDepth(tks)
	mustFail = mustFail || badClose
	if ok && d > 2*got.depth+2 {
		// Where YAML is not clear which mapping a key belongs to, goccy
		// and the pre-scan may read it differently; what matters is that
		// every indicator is counted (lexicalAgreement) and that what
		// goccy builds is no deeper (the tree, below).
		t.Fatalf("goccy's tokens nest %d deep, the pre-scan counted %d", d, got.depth)
	} else if ok && e > 2*got.entries+1 {
		// Where a key's column is unclear (after an anchor and a blank,
		// say), goccy and the pre-scan may put it in different
		// mappings; each key is counted once either way, so the most in
		// one mapping can differ by at most a factor of two.
		t.Fatalf("goccy's tokens put %d keys in a mapping, the pre-scan counted %d", e, got.entries)
	}
	f, err := parser.ParseBytes(data, 0)
	_ = mustFail // goccy does not always report these errors (after a second "---", say)
	if err == nil {
		var st treeStats
		for _, doc := range f.Docs {
			goccyTree(doc, 0, &st)
		}
		if st.depth > got.depth {
			t.Fatalf("goccy's tree nests %d deep, the pre-scan counted %d", st.depth, got.depth)
		}
		if st.entries > 2*got.entries+1 { // see tokenDepth's caller
			t.Fatalf("a goccy mapping has %d keys, the pre-scan counted %d", st.entries, got.entries)
		}
		if int64(st.paths) > 4*got.paths+64 {
			t.Fatalf("goccy's paths sum to %d bytes, the pre-scan counted %d", st.paths, got.paths)
		}
		if st.nodes > 4*got.tokens+8 {
			t.Fatalf("goccy built %d nodes, the pre-scan counted %d tokens", st.nodes, got.tokens)
		}
	}
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for {
		var n yamlv3.Node
		if err := dec.Decode(&n); err != nil {
			break
		}
		var st treeStats
		v3Tree(&n, 0, &st)
		if st.depth > got.depth {
			t.Fatalf("yaml.v3's tree nests %d deep, the pre-scan counted %d", st.depth, got.depth)
		}
		if st.entries > 2*got.entries+1 {
			t.Fatalf("a yaml.v3 mapping has %d keys, the pre-scan counted %d", st.entries, got.entries)
		}
	}
}

func FuzzCheckBoundsParsers(f *testing.F) {
	for _, glob := range []string{"../../runbooks/*.yaml", "../../runbooks/*/*.yaml", "../runbook/testdata/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, name := range files {
			if data, err := os.ReadFile(name); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
	for _, s := range trickyShapes {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		compareWithParsers(t, data)
	})
}

// trickyShapes are inputs where text and structure are easily confused.
var trickyShapes = []string{
	"a: [[[[1]]]]\n",
	"a: {b: {c: {d: 1}}}\n",
	"- - - - 1\n",
	"a:\n  b:\n    c:\n      d: 1\n",
	"a:\n- b\n- c: [d, {e: f}]\n",
	"k: \"[[[[\"\nl: '{{{'\n",
	"k: plain [[[ text\n  continued [[[ here\nl: 1\n",
	"k: |\n  [[[[[[\n  - - - -\n  a: b: c\nl: 1\n",
	"k: >-\n\n  folded [[[\n\n  text\nl: 1\n",
	"- |2\n   indented\n  less\n- x\n",
	"k: \"multi\n  line [[[ \\\" quoted\"\nl: 1\n",
	"k: 'it''s [[[ '\nl: 1\n",
	"k: a # comment [[[\n# [[[\nl: 1\n",
	"[a: [b: [c: 1]]]\n",
	"{\"a\":{\"b\":[1,2,{\"c\":3}]}}\n",
	"k: [a, b\n  , c, [d\n  ]]\n",
	"k: &x [1, 2]\nl: *x\nm: !!str 3\n",
	"--- [1]\n--- {a: 1}\n...\n",
	"k: plain\n  \"\nd: [[[[1]]]]\ne: \"\n",
	"k: \"never closed\nd: [[[[1]]]]\n",
	"k: x\n\t- [[[1]]]\n",
	"a: b: c: d\n",
	"- a\n - b\n  - c\n   - d\n",
	"k: |\nnot indented [[[\n",
	"[a, b]: c\n",
	"\"q\": [\"r\", {\"s\": 't'}]\n",
	"k: >\n  text\n # comment\nl: [1]\n",
	// Tabs, after which goccy/go-yaml's columns drift.
	"a: x # \t\t\n#: [[[1]]]\nb: 1\n",
	"a: |\n  \t\tx\n#: [[[1]]]\nb: 1\n",
	"a: [1,\t\t2]\n#: [[[1]]]\n",
	"a: {\tb: 1,\t\tc: 2}\n#: [[[1]]]\n",
	"\"\t\t0\"\n#: [[[[1]]]]\n",
	"a: '\t\t'\n#: [[[[1]]]]\n",
}

func TestCheckBoundsParsersOnShapes(t *testing.T) {
	for _, s := range trickyShapes {
		t.Run(strings.ReplaceAll(s, "\n", `\n`), func(t *testing.T) { compareWithParsers(t, []byte(s)) })
	}
}
