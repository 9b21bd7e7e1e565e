package strictyaml

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Check measures a file against the limits of its kind before any YAML
// parser sees it: its size, then, in one pass that keeps only the stack of
// open lists and mappings, how deeply they nest, how many keys one mapping
// has, how many tokens the file holds and how long the paths to its keys
// and items add up to (see Limits for why each matters). The pass follows
// YAML's lexical rules (quoted and block scalars, comments, plain scalars
// over several lines, flow collections) so that brackets and indentation
// inside text do not count, and counts generously where YAML is unclear.
// Explicit keys ("? ") are refused: no irtui file needs them and their
// cost is hard to bound. The first limit crossed is the one problem
// returned, at its line and column.
func Check(kind Kind, path string, data []byte) Problems {
	_, probs := check(kind, path, data)
	return probs
}

// scanStats is what the pre-scan found in a file that passed.
type scanStats struct {
	tokens     int
	depth      int   // deepest nesting seen
	entries    int   // most keys in one mapping
	paths      int64 // summed path lengths
	properties int   // anchors, aliases and tags
}

func check(kind Kind, path string, data []byte) (scanStats, Problems) {
	lim := kind.Limits()
	if int64(len(data)) > lim.Size {
		return scanStats{}, tooLarge(kind, path, int64(len(data)))
	}
	s := &scanner{kind: kind, src: data, lim: lim, noClose: [2]int{-1, -1}}
	s.run()
	if s.fail != nil {
		p := *s.fail
		p.Path = path
		return s.stats, Problems{p}
	}
	return s.stats, nil
}

type scanner struct {
	kind      Kind
	src       []byte
	i         int // the next byte
	lineStart int // offset of the current line
	lim       Limits
	stats     scanStats
	block     []frame // open block collections, outermost first
	flow      []frame // open flow collections, outermost first
	fail      *Problem
	// noClose[q] is an offset from which no closing quote of kind q
	// (0 single, 1 double) was found: later searches give up at once, so
	// unclosed quotes cannot make the scan quadratic.
	noClose [2]int
	// oneLine is set while a line that one reader takes for text and the
	// other for structure is read as structure: quotes and block scalar
	// indicators are then read as text, so that nothing is skipped that
	// either reader may take for structure.
	oneLine bool
	// dangling: the last line ended with an anchor or a tag and no node,
	// which goccy/go-yaml gives to the node on the next line, even at the
	// same indentation: that node opens a collection of its own.
	dangling bool
	// delimLo, delimHi and buf follow goccy/go-yaml's lexer, which
	// continues a plain scalar (buf: one ended a line) on any line, and a
	// block scalar on any line, that starts right of the last key or list
	// item indicator (its "delimiter column", 1-based, 0 for none yet),
	// where YAML may see structure. Where the scan cannot tell which
	// column goccy/go-yaml took (a key that is an alias, or only a tag),
	// delimLo and delimHi bound it.
	delimLo, delimHi int
	buf              bool
	// bufStart is where that plain scalar began, and extraKey how much
	// longer than it looks the next key may be to goccy/go-yaml, which
	// takes the scalar's earlier lines for part of it.
	bufStart, extraKey int
	// keyOnLine: a key was read on the current line, after which no list
	// may start on it.
	keyOnLine bool
	// entryOnLine: a key or list item was read on the current line.
	entryOnLine bool
	// tokensAt is where the token limit is crossed, or -1.
	tokensAt int
	// seen, in tests, records where structure was read.
	seen map[int]bool
}

// frame is an open list or mapping.
type frame struct {
	col     int // block: the column of its entries
	mapping bool
	entries int
	prefix  int64 // length of the collection's own path
	child   int64 // length of the current entry's path
	pair    bool  // flow list: an implicit one-pair mapping ("[a: b]") is open
	extra   int   // flow: levels goccy/go-yaml nests in the entry ("[- a]", "{a: b: c}")
	colons  int   // flow: the ":" seen in the entry
	started bool  // flow: the current entry has begun
	empty   bool  // block list: the current item has nothing on its line
	keyAt   int   // flow: offset where the current entry began
}

func (s *scanner) failf(at int, format string, args ...any) {
	if s.fail != nil {
		return
	}
	at = min(at, len(s.src))
	line := 1 + bytes.Count(s.src[:at], []byte{'\n'})
	start := bytes.LastIndexByte(s.src[:at], '\n') + 1
	s.fail = &Problem{Line: line, Col: 1 + utf8.RuneCount(s.src[start:at]), Msg: fmt.Sprintf(format, args...)}
}

// tokenBytes are the bytes at which a YAML lexer may start or end a
// token: indicators, quotes, blanks that matter and line breaks. Counted
// wherever they are, in text too, they bound the tokens of any reading of
// the file, including the readings of a lexer that disagrees with the
// scan about where text ends.
var tokenBytes = func() (set [256]bool) {
	for _, c := range []byte(",[]{}:-?&*!|>'\"#%@`\t\r\n") {
		set[c] = true
	}
	return set
}()

// countTokens fails when data holds more token bytes than allowed, a
// control character or a lone carriage return.
func (s *scanner) countTokens() {
	n := 0
	// directive: a "%" was seen on this line; goccy/go-yaml may read a
	// directive there, whose words are tokens each.
	directive := false
	for i, c := range s.src {
		switch {
		case c == '%':
			directive = true
		case c == '\n':
			directive = false
		case c == ' ' && directive:
			c = ','
		}
		if c == '\r' && s.at(i+1) != '\n' {
			// A line break to YAML parsers, not to the scan: refused
			// rather than read two ways.
			s.failf(i, `a carriage return not followed by a line feed; save the file with LF or CRLF line endings`)
			return
		}
		// YAML allows no control characters but tab and line breaks
		// (yaml.v3 refuses them, goccy/go-yaml reads them, a NUL as the
		// end): refused, and written as escapes in quotes if meant.
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f ||
			c == 0xc2 && s.at(i+1) >= 0x80 && s.at(i+1) <= 0x9f && s.at(i+1) != 0x85 {
			r, _ := utf8.DecodeRune(s.src[i:])
			s.failf(i, "the file holds a control character (U+%04X); write it as an escape in double quotes if it is meant", r)
			return
		}
		if tokenBytes[c] {
			n++
			if n == s.lim.Tokens+1 {
				// Reported after the scan, unless it finds a problem
				// earlier in the file (a depth bomb is one, and says so).
				s.tokensAt = i
			}
		}
	}
	s.stats.tokens = n
}

func (s *scanner) depth() int {
	d := len(s.block) + len(s.flow)
	for _, f := range s.flow {
		if f.pair {
			d++
		}
		d += f.extra
	}
	return d
}

func (s *scanner) checkDepth(at int) {
	d := s.depth()
	s.stats.depth = max(s.stats.depth, d)
	if d > s.lim.Depth {
		s.failf(at, "nesting is too deep: more than %d levels of lists and mappings", s.lim.Depth)
	}
}

// childPath records the path of f's current entry: its key (of keyLen
// bytes) or its index, after the collection's own path.
func (s *scanner) childPath(at int, f *frame, keyLen int) {
	if f.mapping {
		f.child = f.prefix + int64(keyLen) + 3 // ".key", or ".'key'"
	} else {
		f.child = f.prefix + 2 + int64(digits(f.entries-1)) // "[i]"
	}
	s.addPath(at, f.child)
}

// addPath counts a path of n bytes that a parser stores.
func (s *scanner) addPath(at int, n int64) {
	s.stats.paths += n
	if s.stats.paths > s.lim.Paths {
		s.failf(at, "the file holds too much: its keys and items are nested too deeply under long keys")
	}
}

func (s *scanner) countEntry(at int, f *frame) {
	f.entries++
	if f.mapping {
		s.stats.entries = max(s.stats.entries, f.entries)
		if f.entries > s.lim.Entries {
			s.failf(at, "a mapping has more than %d keys", s.lim.Entries)
		}
	}
}

func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

func (s *scanner) mark(at int) {
	if s.seen != nil {
		s.seen[at] = true
	}
}

// parentPath is the path length a new collection starts from.
func (s *scanner) parentPath() int64 {
	if n := len(s.flow); n > 0 {
		return s.flow[n-1].child
	}
	if n := len(s.block); n > 0 {
		return s.block[n-1].child
	}
	return 1 // "$"
}

// entry records a block list item ("- ") or mapping key at col, opening
// the collection if this is its first entry.
func (s *scanner) entry(at, col int, mapping bool, keyLen int) {
	s.mark(at)
	if mapping && s.keyOnLine {
		// "a: b: c": both readers refuse it, after reading different things.
		s.failf(at, `a second key on one line; put a nested key on a line of its own, or quote text holding ": "`)
		return
	}
	s.keyOnLine = s.keyOnLine || mapping
	s.entryOnLine = true
	if mapping {
		keyLen += s.extraKey
		s.extraKey = 0
	}
	s.delimLo, s.delimHi = col+1, col+1
	if s.dangling {
		s.dangling = false
		s.push(at, col, mapping, keyLen)
		return
	}
	for n := len(s.block); n > 0; n = len(s.block) {
		top := &s.block[n-1]
		if top.col > col || top.col == col && !top.mapping && mapping && !top.empty {
			// A deeper collection ended, or a list that was a key's value
			// at the key's own indentation did. (After an item with
			// nothing on its line, goccy/go-yaml reads a mapping at the
			// list's indentation as the item's value.)
			s.block = s.block[:n-1]
			continue
		}
		if top.col == col && top.mapping == mapping {
			top.empty = false
			s.countEntry(at, top)
			s.childPath(at, top, keyLen)
			s.countOuter(at)
			return
		}
		break // a list at a key's indentation, or a deeper collection
	}
	s.push(at, col, mapping, keyLen)
}

func (s *scanner) push(at, col int, mapping bool, keyLen int) {
	s.block = append(s.block, frame{col: col, mapping: mapping, prefix: s.parentPath()})
	s.checkDepth(at)
	top := &s.block[len(s.block)-1]
	s.countEntry(at, top)
	s.childPath(at, top, keyLen)
	s.countOuter(at)
}

// countOuter: where goccy/go-yaml nests a collection in another at the
// same indentation (a mapping in an empty list item, or the node after
// a dangling anchor or tag), YAML reads one collection; its entries
// count for the outer ones of the same kind too.
func (s *scanner) countOuter(at int) {
	top := s.block[len(s.block)-1]
	for i := len(s.block) - 2; i >= 0 && s.block[i].col == top.col; i-- {
		if s.block[i].mapping == top.mapping {
			s.countEntry(at, &s.block[i])
		}
	}
}

func (s *scanner) run() {
	if !utf8.Valid(s.src) {
		// yaml.v3 refuses such a file, goccy/go-yaml replaces the bytes:
		// refused here, so that what a file says never depends on which.
		for i := 0; i < len(s.src); {
			r, n := utf8.DecodeRune(s.src[i:])
			if r == utf8.RuneError && n == 1 {
				s.failf(i, "the file is not valid UTF-8 (byte 0x%02x); save it as UTF-8", s.src[i])
				return
			}
			i += n
		}
	}
	s.tokensAt = -1
	if s.countTokens(); s.fail != nil {
		return
	}
	end := len(s.src)
	if s.tokensAt >= 0 {
		// Scan no further than the token limit: past it nothing counts.
		s.src = s.src[:s.tokensAt]
	}
	for s.i < len(s.src) && s.fail == nil {
		s.line()
	}
	if s.fail == nil && s.tokensAt >= 0 {
		s.src = s.src[:end]
		s.failf(s.tokensAt, "the file holds too much: more than %d keys, values, punctuation marks and lines", s.lim.Tokens)
	}
}

// Byte classes.

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isFlowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// at returns the byte at i, or 0 past the end.
func (s *scanner) at(i int) byte {
	if i < len(s.src) {
		return s.src[i]
	}
	return 0
}

// endsToken reports whether the byte at i ends a token: a blank, a line
// break, the end of the file, or a NUL, which goccy/go-yaml takes for
// the end.
func (s *scanner) endsToken(i int) bool {
	c := s.at(i)
	return c == 0 || isBlank(c) || c == '\n'
}

func (s *scanner) eol() bool { return s.i >= len(s.src) || s.src[s.i] == '\n' }

func (s *scanner) col() int { return s.i - s.lineStart }

// isComment reports whether a comment starts at s.i: a "#" at the start
// of a line or after a blank.
func (s *scanner) isComment() bool {
	return s.at(s.i) == '#' && (s.i == s.lineStart || isBlank(s.src[s.i-1]))
}

func (s *scanner) skipBlanks() {
	for s.i < len(s.src) && isBlank(s.src[s.i]) {
		s.tab()
		s.i++
	}
}

// tab refuses a tab in block context outside quotes, block scalars and
// comments: the readers disagree about what it separates there.
func (s *scanner) tab() {
	if s.at(s.i) == '\t' {
		s.failf(s.i, "a tab character; YAML readers disagree about tabs outside quotes, so use spaces (or quote the text)")
	}
}

func (s *scanner) skipToEOL() {
	if j := bytes.IndexByte(s.src[s.i:], '\n'); j >= 0 {
		s.i += j
	} else {
		s.i = len(s.src)
	}
}

// nextLine moves past the line break at s.i.
func (s *scanner) nextLine() {
	if s.i < len(s.src) {
		s.i++
	}
	s.lineStart = s.i
}

// moveTo moves to offset j, keeping track of line starts.
func (s *scanner) moveTo(j int) {
	if k := bytes.LastIndexByte(s.src[s.i:j], '\n'); k >= 0 {
		s.lineStart = s.i + k + 1
	}
	s.i = j
}

// line reads one line in block context, from its start.
func (s *scanner) line() {
	s.keyOnLine, s.entryOnLine = false, false
	s.skipBlanks()
	if s.eol() {
		s.nextLine()
		return
	}
	c, col := s.src[s.i], s.col()
	if s.buf && c == '#' {
		s.buf = false // a comment ends the scalar for goccy/go-yaml too
	}
	if s.buf {
		s.buf = false
		if (s.delimLo == 0 || col+1 > s.delimLo) && !(col == 0 && s.docMarker()) {
			// goccy/go-yaml reads this line as more of the scalar before
			// it; read it as structure, skipping nothing.
			for n := len(s.block); n > 0 && s.block[n-1].col > col; n = len(s.block) {
				s.block = s.block[:n-1]
			}
			s.extraKey = s.lineStart - s.bufStart
			s.structure(s.i)
			s.extraKey = 0
			if s.fail == nil && s.i < len(s.src) && s.src[s.i] == '\n' {
				s.nextLine()
			}
			return
		}
	}
	switch {
	case c == '#':
		s.skipToEOL()
		s.nextLine()
		return
	case col == 0 && s.docMarker():
		end := s.src[s.i] == '.'
		s.block = s.block[:0]
		s.i += 3
		s.delimLo, s.delimHi = 0, 0
		if s.skipBlanks(); end && !s.eol() && !s.isComment() {
			s.failf(s.i, `nothing but a comment may follow "..." on its line`)
			return
		}
	case s.dangling:
		// The node the anchor or tag belongs to: see entry.
	default:
		for n := len(s.block); n > 0 && s.block[n-1].col > col; n = len(s.block) {
			s.block = s.block[:n-1]
		}
	}
	s.nodes()
	if s.fail == nil && s.i < len(s.src) && s.src[s.i] == '\n' {
		s.nextLine()
	}
}

// docMarker reports whether "---" or "..." starts the line at s.i (as
// goccy/go-yaml reads them, "..." needs no blank after it).
func (s *scanner) docMarker() bool {
	if s.i+3 > len(s.src) {
		return false
	}
	switch string(s.src[s.i : s.i+3]) {
	case "---":
		return s.endsToken(s.i + 3)
	case "...":
		return true
	}
	return false
}

// nodes reads the rest of a line in block context: list and key
// indicators, then a node, which may continue over the following lines.
// It stops at the end of a line (or of the node's last line).
func (s *scanner) nodes() {
	// A node's anchor or tag comes first: the node, a key perhaps, sits
	// at the column where they begin.
	propCol, propStart, alias := -1, 0, false
	for s.fail == nil {
		s.skipBlanks()
		if s.eol() || s.isComment() && propCol >= 0 {
			if propCol >= 0 {
				s.dangling = !alias // an alias is a whole node
				s.skipToEOL()
			}
			return
		}
		c, col, start := s.src[s.i], s.col(), s.i
		if propCol >= 0 {
			col, start = propCol, propStart
		}
		if !s.isComment() {
			s.buf = false
		}
		switch {
		case s.isComment():
			s.skipToEOL()
			return
		case c == '-' && s.endsToken(s.i+1) && s.keyOnLine:
			s.failf(s.i, "a list cannot start on the line of its key; put its items on the lines below")
		case c == '-' && s.endsToken(s.i+1):
			s.entry(s.i, col, false, 0)
			s.i++
			s.skipBlanks()
			if s.eol() || s.isComment() {
				s.block[len(s.block)-1].empty = true
			}
		case c == '?' && s.endsToken(s.i+1):
			s.failf(s.i, `explicit keys ("? ") are not allowed; write key: value`)
		case c == '%':
			s.failf(s.i, `YAML directives (%%) are not allowed, and text cannot start with %%; quote it`)
		case c == ':' && s.endsToken(s.i+1) && propCol >= 0:
			// An alias as a key, or an anchor or tag on an empty one:
			// goccy/go-yaml keeps its delimiter column, or takes the
			// alias's name's.
			lo, hi := s.delimLo, s.delimHi
			s.entry(s.i, col, true, s.i-start)
			s.delimLo, s.delimHi = min(lo, col+1), max(hi, s.i-s.lineStart)
			s.i++
		case c == ':' && s.endsToken(s.i+1):
			s.failf(s.i, `a ":" with no key before it; write key: value`)
		case c == '!':
			s.tag()
		case c == '&' || c == '*':
			// goccy/go-yaml reads an alias's name as the token after it,
			// even past a blank: what follows sits at the alias's column.
			if propCol < 0 {
				propCol, propStart = col, start
			}
			alias = c == '*'
			s.property()
			continue
		case (c == '|' || c == '>') && !s.oneLine && !s.entryOnLine:
			s.failf(s.i, `a block of text ("|" or ">") must follow a key or a list item "-" on its line`)
		case (c == '|' || c == '>') && !s.oneLine:
			s.blockScalar()
			return
		case c == '[' || c == '{':
			s.flowCollection()
			s.skipBlanks()
			switch {
			case s.at(s.i) == ':':
				s.failf(start, "a list or mapping cannot be a key")
			case !s.eol() && !s.isComment() && s.fail == nil && s.i > start:
				s.failf(s.i, "nothing but a comment may follow a list or mapping in brackets on its line")
			}
		case (c == '"' || c == '\'') && s.quoted():
			s.keyAfter(col, start)
		default:
			if !s.plain(col, start) {
				return
			}
		}
		propCol, alias = -1, false
	}
}

// property skips an anchor or alias. Its name must start right after the
// & or * with a letter, a digit or "_", as yaml.v3 wants (goccy/go-yaml
// reads whatever token comes next as the name, blanks and indicators
// included), and holds no blanks and, in a flow collection, no flow
// indicators or ":". A name ending in ": " leaves the ":" for the caller.
func (s *scanner) property() {
	s.stats.properties++
	s.i++
	if r, _ := utf8.DecodeRune(s.src[s.i:]); !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
		s.failf(s.i-1, "an anchor (&) or alias (*) needs a name that starts with a letter or digit right after it")
		return
	}
	for s.i < len(s.src) && !s.endsToken(s.i) && !((isFlowIndicator(s.src[s.i]) || s.src[s.i] == ':') && len(s.flow) > 0) &&
		!(s.src[s.i] == ':' && (s.endsToken(s.i+1) || isFlowIndicator(s.at(s.i+1)))) {
		s.i++
	}
	if len(s.flow) == 0 && s.at(s.i) == ':' && isFlowIndicator(s.at(s.i+1)) {
		// "&a:, [1]": YAML ends the name before the ",", goccy/go-yaml at
		// the next blank, and then reads a list.
		s.failf(s.i, "an anchor (&) or alias (*) name cannot hold %q; YAML readers end it in different places", s.src[s.i:s.i+2])
	}
}

// mergeKey refuses a merge key ("<<: "), which goccy/go-yaml finds even
// inside text.
func (s *scanner) mergeKey() {
	if s.at(s.i) != '<' || s.at(s.i+1) != '<' || s.at(s.i+2) == '<' {
		return
	}
	j := s.i + 2
	for s.at(j) == ' ' {
		j++
	}
	if s.at(j) == ':' && (s.at(j+1) == ' ' || s.at(j+1) == '\n' || s.at(j+1) == '\r') {
		s.failf(s.i, `merge keys ("<<") are not allowed`)
	}
}

// tag refuses a YAML tag: irtui's files take none, and the readers do
// not agree on where a tag ends.
func (s *scanner) tag() {
	end := s.i + 1
	for end < len(s.src) && !s.endsToken(end) && end-s.i < 40 {
		end++
	}
	s.failf(s.i, "YAML tags such as %s are not allowed in %s", s.src[s.i:end], s.kind.plural())
}

// keyAfter: a quoted scalar that began at start (column col) and was
// just read is a mapping key when a ":" follows on its line; otherwise
// nothing but a comment may follow it.
func (s *scanner) keyAfter(col, start int) {
	s.skipBlanks()
	if s.i < len(s.src) && s.src[s.i] == ':' {
		if !s.endsToken(s.i + 1) {
			// `"a":b` is a key to some readers and text to others.
			s.failf(s.i, `write a blank after ":"`)
			return
		}
		s.entry(s.i, col, true, s.i-start)
		s.i++
		return
	}
	if !s.eol() && !s.isComment() && s.fail == nil {
		s.failf(s.i, "nothing but a comment may follow quoted text on its line")
	}
}

// plain reads a plain scalar in block context from s.i. When it is a key,
// it records the key and returns true: the value follows on the line. A
// value may continue on the following lines; plain reads them too and
// returns false.
func (s *scanner) plain(col, start int) bool {
	for !s.eol() && s.fail == nil {
		c := s.src[s.i]
		s.mergeKey()
		s.tab()
		if c == ':' && s.endsToken(s.i+1) {
			s.entry(s.i, col, true, s.i-start)
			s.i++
			return true
		}
		if isBlank(c) && s.at(s.i+1) == '#' {
			s.i++
			s.skipToEOL()
			return false // a comment ends the scalar
		}
		s.i++
	}
	s.buf, s.bufStart = true, start
	if !s.oneLine {
		s.continuation()
	}
	return false
}

// continuation reads the lines that continue a plain scalar: those
// indented more than the collection it belongs to. They are text, except
// for a comment, which ends the scalar. Where the parsers disagree about
// such a line, it is refused: a ": " in it (YAML refuses it, goccy/go-yaml
// may read a key over two lines), or an indicator at its start (goccy/
// go-yaml may read "-" there as a list item). It stops at the start of the
// first line that is not a continuation.
func (s *scanner) continuation() {
	n := -1
	if k := len(s.block); k > 0 {
		n = s.block[k-1].col
	}
	for s.fail == nil && s.i < len(s.src) {
		s.nextLine()
		s.skipBlanks()
		if s.eol() {
			if s.i >= len(s.src) {
				return
			}
			continue // an empty line folds into the scalar
		}
		col := s.col()
		if col <= n || s.src[s.i] == '#' || col == 0 && s.docMarker() {
			s.i = s.lineStart // the line is structure again
			return
		}
		if c := s.src[s.i]; bytes.IndexByte(indicators, c) >= 0 {
			s.failf(s.i, "this line continues the text of the line before but starts with %q, "+
				"which YAML readers take differently; quote the text, or write it as a block (|)", c)
			return
		}
		for !s.eol() && s.fail == nil {
			c := s.src[s.i]
			s.mergeKey()
			s.tab()
			if c == ':' && s.endsToken(s.i+1) {
				s.failf(s.i, `this line continues the text of the line before, where ": " is not allowed; `+
					"quote the text, write it as a block (|), or indent the line as a key of its own")
				return
			}
			if isBlank(c) && s.at(s.i+1) == '#' {
				s.i++
				s.skipToEOL()
				return
			}
			s.i++
		}
	}
}

// indicators are the bytes that may start something other than a plain
// scalar.
var indicators = []byte("-?:,[]{}#&*!|>'\"%@`")

// structure reads a line from start as structure where one parser reads
// it as text and the other may not (see oneLine).
func (s *scanner) structure(start int) {
	s.i, s.oneLine, s.keyOnLine, s.entryOnLine = start, true, false, false
	s.nodes()
	s.oneLine = false
}

// blockModel is one reader's idea of where a block scalar ends: at the
// first line (not empty) that starts at or left of base, before its first
// line, or left of its first line's indentation after it.
type blockModel struct {
	base, indent int
	done         bool
}

func (m *blockModel) text(col int) bool {
	switch {
	case m.done:
	case m.indent < 0 && col > m.base:
		m.indent = col
		return true
	case m.indent >= 0 && col >= m.indent:
		return true
	}
	m.done = true
	return false
}

// blockScalar skips a literal (|) or folded (>) scalar: its header, then
// its lines. YAML and goccy/go-yaml agree on where it ends but for the
// column its lines must start right of: YAML's is that of the collection
// the scalar belongs to, goccy/go-yaml's that of the last key or list
// item indicator. Lines that are text to both are skipped; lines that are
// text to one only are read as structure, skipping nothing (see oneLine).
// It stops at the start of the first line that is structure to both.
func (s *scanner) blockScalar() {
	n := -1
	if k := len(s.block); k > 0 {
		n = s.block[k-1].col
	}
	if s.col() == 0 {
		s.delimLo, s.delimHi = 1, 1
	}
	models := [3]blockModel{{base: n, indent: -1}, {base: s.delimLo - 1, indent: -1}, {base: s.delimHi - 1, indent: -1}}
	s.i++
	for k := 0; k < 2; k++ {
		switch c := s.at(s.i); {
		case c >= '1' && c <= '9':
			d := int(c - '0')
			models[0].indent = max(n, 0) + d
			models[1].indent = s.delimLo + d - 1
			models[2].indent = s.delimHi + d - 1
			s.i++
		case c == '+' || c == '-':
			s.i++
		}
	}
	if !s.eol() && !isBlank(s.src[s.i]) {
		s.failf(s.i, `after "|" or ">" only an indentation number, "+" or "-" and a comment may follow on the line`)
		return
	}
	if s.skipBlanks(); !s.eol() && !s.isComment() && s.fail == nil {
		s.failf(s.i, `after "|" or ">" only an indentation number, "+" or "-" and a comment may follow on the line`)
		return
	}
	s.skipToEOL()
	defer func() {
		// goccy/go-yaml takes the scalar's indentation for its delimiter.
		if models[1].indent >= 0 {
			s.delimLo, s.delimHi = models[1].indent, max(models[1].indent, models[2].indent)
		}
	}()
	for s.i < len(s.src) && s.fail == nil {
		s.nextLine()
		spaces, goccyCol := 0, 0
		rest := s.i
		for ; rest < len(s.src) && isBlank(s.src[rest]); rest++ {
			if s.src[rest] == ' ' {
				goccyCol++ // goccy/go-yaml's columns do not count tabs
				if goccyCol == rest-s.i+1 {
					spaces++
				}
			}
		}
		if rest >= len(s.src) || s.src[rest] == '\n' {
			s.i = rest // an empty line belongs to the scalar
			continue
		}
		if t := bytes.IndexByte(s.src[s.i:rest], '\t'); t >= 0 {
			s.failf(s.i+t, "a tab in the indentation of a block of text; use spaces")
			return
		}
		marker := rest == s.i && s.docMarker()
		yaml := !marker && models[0].text(spaces)
		lo := !marker && models[1].text(goccyCol)
		hi := !marker && models[2].text(goccyCol)
		switch {
		case !yaml && !lo && !hi:
			return // structure to all
		case yaml && lo && hi:
			s.skipToEOL() // text to all
		default:
			// Text to one, structure to another.
			col := rest - s.lineStart
			s.i = rest
			for k := len(s.block); k > 0 && s.block[k-1].col > col; k = len(s.block) {
				s.block = s.block[:k-1]
			}
			s.structure(rest)
			if s.i < len(s.src) && s.src[s.i] != '\n' {
				s.skipToEOL()
			}
		}
	}
}

// quoted skips a single- or double-quoted scalar from its opening quote,
// over as many lines as it takes. A quote that is never closed is not
// skipped: it returns false and the text is read as plain.
func (s *scanner) quoted() bool {
	q := s.src[s.i]
	k := 0
	if q == '"' {
		k = 1
	}
	if s.noClose[k] >= 0 && s.i >= s.noClose[k] || s.oneLine {
		return false
	}
	for j := s.i + 1; j < len(s.src); j++ {
		c := s.src[j]
		switch {
		case c == '\t':
			// goccy/go-yaml loses track of columns after a tab in quotes,
			// and then reads a later comment as structure.
			s.failf(j, `a tab character in quoted text; write \t instead`)
			return false
		case q == '"' && c == '\\':
			// YAML's escapes, checked: readers that meet others disagree
			// on where the text ends.
			e := s.at(j + 1)
			hex := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			switch {
			case hex > 0:
				for h := 0; h < hex; h++ {
					if !isHex(s.at(j + 2 + h)) {
						s.failf(j, `\%c in double quotes needs %d hexadecimal digits`, e, hex)
						return false
					}
				}
				j += 1 + hex
			case e != 0 && bytes.IndexByte([]byte("0abt\tnvfre \"/\\N_LP\n\r"), e) >= 0:
				j++
			default:
				r, _ := utf8.DecodeRune(s.src[min(j+1, len(s.src)):])
				s.failf(j, `\%c is not an escape YAML knows; write \\ for a backslash`, r)
				return false
			}
		case c == q && q == '\'' && s.at(j+1) == '\'':
			j++
		case c == q:
			s.moveTo(j + 1)
			return true
		}
	}
	s.noClose[k] = s.i
	return false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// flowCollection reads a flow list or mapping from its opening bracket to
// the bracket that closes it, over as many lines as it takes.
func (s *scanner) flowCollection() {
	base := len(s.flow)
	atNode := true // a node may start here: quotes open quoted scalars
	// afterCollection: a collection just ended, and cannot be a key.
	afterCollection := false
	// lineBlank: only blanks so far on this line.
	lineBlank := false
	// afterQuoted: a quoted scalar just ended, so a ":" right after it is
	// a JSON-style key's.
	afterQuoted := false
	for s.fail == nil && s.i < len(s.src) {
		c := s.src[s.i]
		var top *frame
		if n := len(s.flow); n > base {
			top = &s.flow[n-1]
		}
		if top == nil && c != '[' && c != '{' {
			return
		}
		if c == '\n' {
			s.nextLine()
			lineBlank = true
			continue
		}
		if isBlank(c) {
			s.i++ // tabs separate in a flow collection, as YAML allows
			continue
		}
		first := lineBlank
		lineBlank = false
		quoted := afterQuoted
		afterQuoted = false
		switch {
		case c == '#' && (s.i == s.lineStart || isBlank(s.src[s.i-1])):
			s.skipToEOL()
			continue
		case c == '[' || c == '{':
			if top != nil {
				s.begin(top)
			}
			s.mark(s.i)
			s.flow = append(s.flow, frame{mapping: c == '{', prefix: s.parentPath()})
			s.checkDepth(s.i)
			s.i++
			atNode = true
			continue
		case (c == ']' || c == '}') && top.mapping == (c == '}'):
			s.end(top)
			s.flow = s.flow[:len(s.flow)-1]
			s.i++
			if len(s.flow) == base {
				return
			}
			atNode, afterCollection = false, true
			continue
		case c == ',':
			s.end(top)
			s.i++
			atNode = true
			continue
		case c == ':':
			// YAML reads "a:b" in a flow collection as one scalar, goccy/
			// go-yaml as a key and a value: counted as a key, to stay on
			// the safe side.
			if afterCollection {
				s.failf(s.i, "a list or mapping cannot be a key")
				return
			}
			if next := s.at(s.i + 1); !quoted && (next == '"' || next == '\'') {
				// YAML reads `a:"b"` as one scalar, goccy/go-yaml as a key
				// and a quoted value: two readings that end in different
				// places.
				s.failf(s.i, `write a blank after ":" here, or quote the key`)
				return
			}
			s.mark(s.i)
			s.begin(top)
			s.value(top)
			s.i++
			atNode = true
			continue
		case c == '?' && atNode:
			// yaml.v3 takes "[?a]" for an explicit key too.
			s.failf(s.i, `explicit keys ("? ") are not allowed; write key: value, or quote text that starts with "?"`)
			return
		case first && !atNode && bytes.IndexByte([]byte("-!&*\"'|>%@`?"), c) >= 0:
			// goccy/go-yaml may read a tag, an anchor or, after "-", a
			// block of text over as many lines as are indented as far.
			s.failf(s.i, "this line continues the text of the line before but starts with %q, "+
				"which YAML readers take differently; quote the text", c)
			return
		case c == '-' && (s.endsToken(s.i+1) || isFlowIndicator(s.at(s.i+1))):
			// YAML has no block list in a flow collection; goccy/go-yaml
			// reads one.
			s.mark(s.i)
			s.begin(top)
			top.extra++
			s.checkDepth(s.i)
			top.child += 3 // "[0]"
			s.addPath(s.i, top.child)
			s.i++
			continue
		}
		afterCollection = false
		if c == '%' && (atNode || first) {
			s.failf(s.i, `YAML directives (%%) are not allowed, and text cannot start with %%; quote it`)
			return
		}
		if s.mergeKey(); !atNode {
			s.i++ // more of a plain scalar
			continue
		}
		s.begin(top)
		switch {
		case c == '!':
			s.tag()
			return
		case c == '&' || c == '*':
			// The node follows; an alias is a node, but goccy/go-yaml may
			// read its name as one.
			s.property()
			continue
		case (c == '"' || c == '\'') && s.quoted():
			atNode, afterQuoted = false, true
			continue
		default:
			s.i++
		}
		atNode = false
	}
}

// begin marks the start of an entry of the flow collection f.
func (s *scanner) begin(f *frame) {
	if f.started {
		return
	}
	f.started = true
	f.keyAt = s.i
	s.countEntry(s.i, f)
	if !f.mapping {
		s.childPath(s.i, f, 0)
	}
}

// value: a ":" in flow collection f ends a key.
func (s *scanner) value(f *frame) {
	keyLen := s.i - f.keyAt
	if f.mapping && f.child <= f.prefix {
		s.childPath(s.i, f, keyLen)
		f.colons = 1
		return
	}
	if !f.mapping && f.colons == 0 { // "[a: b]" holds a one-pair mapping
		f.pair, f.colons = true, 1
		s.checkDepth(s.i)
		pair := frame{mapping: true, prefix: f.child}
		s.countEntry(s.i, &pair)
		s.childPath(s.i, &pair, keyLen)
		f.child = pair.child
		return
	}
	// A second ":" in one entry ("{a: b: c}"): goccy/go-yaml nests a
	// mapping.
	f.extra++
	s.checkDepth(s.i)
	f.child += int64(keyLen) + 3
	s.addPath(s.i, f.child)
}

// end closes the current entry of the flow collection f, at a "," or its
// closing bracket.
func (s *scanner) end(f *frame) {
	if f.started && f.mapping && f.child <= f.prefix {
		s.childPath(s.i, f, s.i-f.keyAt) // a key with no value
	}
	f.started, f.pair, f.extra, f.colons, f.child = false, false, 0, 0, f.prefix
}
