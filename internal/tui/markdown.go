package tui

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// renderMarkdown draws the Markdown of a runbook step's body for the
// terminal, word-wrapped to width w, with the app's styles: paragraphs,
// headings, bulleted and numbered lists (nested by indentation), block
// quotes, fenced and indented code, rules, tables (as written), and
// inline bold, italics, code, links and escapes. Anything else is shown
// as the text it is.
//
// It replaces glamour, which brought a syntax highlighter whose package
// initialisation (parsing its styles, registering lexers) cost every start
// of irtui about 10 ms, for bodies that use none of it. The source must
// already be clean of terminal control sequences (safeMarkdown). plain
// draws the text with no styling at all, for a session that asked for no
// colour (NO_COLOR).
func renderMarkdown(src string, w int, s Styles, plain bool) string {
	if plain {
		s = Styles{}
	}
	r := mdRenderer{s: s, w: max(w, 10), plain: plain}
	r.blocks(strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n"))
	return strings.TrimRight(strings.Join(r.out, "\n"), "\n ")
}

type mdRenderer struct {
	s     Styles
	w     int
	plain bool
	out   []string
}

var (
	mdHeading = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$`) })
	mdRule    = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	})
	mdItem  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^( *)([-*+]|[0-9]{1,9}[.)])(?:[ \t]+(.*))?$`) })
	mdFence = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("^ {0,3}(```+|~~~+)") })
)

// blank separates blocks; a line is blank when it holds only spaces.
func blank(l string) bool { return strings.TrimSpace(l) == "" }

// indentOf counts a line's leading spaces (a tab counts as four).
func indentOf(l string) int {
	n := 0
	for _, r := range l {
		switch r {
		case ' ':
			n++
		case '\t':
			n += 4
		default:
			return n
		}
	}
	return n
}

// gap puts one empty line between blocks.
func (r *mdRenderer) gap() {
	if len(r.out) > 0 && r.out[len(r.out)-1] != "" {
		r.out = append(r.out, "")
	}
}

func (r *mdRenderer) blocks(lines []string) {
	for i := 0; i < len(lines); {
		l := lines[i]
		switch {
		case blank(l):
			i++
		case mdFence().MatchString(l):
			i = r.fenced(lines, i)
		case mdRule().MatchString(l):
			r.gap()
			r.out = append(r.out, r.s.Faint.Render(strings.Repeat("─", min(r.w, 40))))
			i++
		case mdHeading().MatchString(l):
			m := mdHeading().FindStringSubmatch(l)
			r.gap()
			r.paragraph(m[2], "", "", &r.s.Title)
			i++
		case strings.HasPrefix(strings.TrimLeft(l, " "), ">"):
			i = r.quote(lines, i)
		case mdItem().MatchString(l):
			i = r.list(lines, i)
		case indentOf(l) >= 4:
			i = r.indented(lines, i)
		case strings.HasPrefix(strings.TrimSpace(l), "|"):
			r.gap()
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				r.out = append(r.out, truncate(strings.ReplaceAll(strings.TrimSpace(lines[i]), "\t", " "), r.w))
			}
		default:
			i = r.para(lines, i)
		}
	}
}

// para is a paragraph: lines up to a blank line or the start of another
// block, joined; a line ending in two spaces or a backslash breaks.
func (r *mdRenderer) para(lines []string, i int) int {
	var text []string
	for ; i < len(lines); i++ {
		l := lines[i]
		if blank(l) || (len(text) > 0 && (mdFence().MatchString(l) || mdHeading().MatchString(l) || mdRule().MatchString(l) ||
			strings.HasPrefix(strings.TrimLeft(l, " "), ">") || mdItem().MatchString(l))) {
			break
		}
		text = append(text, l)
	}
	r.gap()
	r.paragraph(strings.Join(text, "\n"), "", "", nil)
	return i
}

func (r *mdRenderer) fenced(lines []string, i int) int {
	fence := mdFence().FindStringSubmatch(lines[i])[1]
	r.gap()
	for i++; i < len(lines); i++ {
		if strings.HasPrefix(strings.TrimLeft(lines[i], " "), fence[:3]) && strings.Trim(strings.TrimSpace(lines[i]), fence[:1]) == "" {
			i++
			break
		}
		r.code(lines[i])
	}
	return i
}

func (r *mdRenderer) indented(lines []string, i int) int {
	r.gap()
	for ; i < len(lines) && (indentOf(lines[i]) >= 4 || blank(lines[i]) && i+1 < len(lines) && indentOf(lines[i+1]) >= 4); i++ {
		r.code(strings.TrimPrefix(strings.TrimPrefix(lines[i], "    "), "\t"))
	}
	return i
}

// code writes one line of code as it is, cut to the width.
func (r *mdRenderer) code(l string) {
	l = strings.ReplaceAll(l, "\t", "    ")
	r.out = append(r.out, "  "+r.s.Accent.Render(truncate(l, r.w-2)))
}

func (r *mdRenderer) quote(lines []string, i int) int {
	var inner []string
	for ; i < len(lines) && !blank(lines[i]); i++ {
		l := strings.TrimLeft(lines[i], " ")
		l = strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")
		inner = append(inner, l)
	}
	r.gap()
	if r.w < 12 { // quoted too deep to draw one more bar
		r.paragraph(strings.Join(inner, "\n"), "", "", nil)
		return i
	}
	sub := mdRenderer{s: r.s, w: r.w - 2, plain: r.plain}
	sub.blocks(inner)
	for _, l := range sub.out {
		if l == "" {
			r.out = append(r.out, r.s.Faint.Render("│"))
			continue
		}
		r.out = append(r.out, r.s.Faint.Render("│ ")+l)
	}
	return i
}

// list writes the items that start at line i: each item's text is its
// first line and the lines after it that are not a new item, a blank line
// or another block; an item indented further than the one before nests.
func (r *mdRenderer) list(lines []string, i int) int {
	r.gap()
	base := indentOf(lines[i])
	var levels []int // indentation of each open level
	for i < len(lines) {
		m := mdItem().FindStringSubmatch(lines[i])
		if m == nil {
			if blank(lines[i]) && i+1 < len(lines) && mdItem().MatchString(lines[i+1]) && indentOf(lines[i+1]) >= base {
				i++ // a loose list: items apart by blank lines
				continue
			}
			break
		}
		ind := len(m[1])
		for len(levels) > 0 && ind < levels[len(levels)-1] {
			levels = levels[:len(levels)-1]
		}
		if len(levels) == 0 || ind > levels[len(levels)-1] {
			levels = append(levels, ind)
		}
		text := []string{m[3]}
		for i++; i < len(lines); i++ {
			l := lines[i]
			if blank(l) || mdItem().MatchString(l) || mdFence().MatchString(l) || mdHeading().MatchString(l) {
				break
			}
			text = append(text, strings.TrimSpace(l))
		}
		marker := "• "
		if m[2] != "-" && m[2] != "*" && m[2] != "+" {
			n, _ := strconv.Atoi(strings.TrimRight(m[2], ".)"))
			marker = strconv.Itoa(n) + ". "
		}
		pad := strings.Repeat("  ", len(levels)-1)
		r.paragraph(strings.Join(text, "\n"), pad+marker, pad+strings.Repeat(" ", lipgloss.Width(marker)), nil)
	}
	return i
}

// paragraph lays out inline text in lines of the width: first starts the
// first line and indent the others (both cut to half the width, for lists
// nested deep). A nil base is no style.
func (r *mdRenderer) paragraph(text, first, indent string, base *lipgloss.Style) {
	if lipgloss.Width(first) > r.w/2 {
		first = strings.Repeat(" ", r.w/2-2) + strings.TrimLeft(first, " ")
		first = ansi.Truncate(first, r.w/2, "")
	}
	if lipgloss.Width(indent) > r.w/2 {
		indent = strings.Repeat(" ", r.w/2)
	}
	if r.plain {
		base = nil
	}
	words := inlineWords(text, r.s, base, r.plain)
	var line strings.Builder
	line.WriteString(first)
	lineW := lipgloss.Width(first)
	start := lineW
	flush := func() {
		r.out = append(r.out, strings.TrimRight(line.String(), " "))
		line.Reset()
		line.WriteString(indent)
		lineW = lipgloss.Width(indent)
		start = lineW
	}
	for _, wd := range words {
		if wd.brk {
			flush()
			continue
		}
		ww := wd.width()
		if lineW > start && lineW+1+ww > r.w {
			flush()
		}
		if lineW > start {
			line.WriteByte(' ')
			lineW++
		}
		for ww > r.w-lineW { // a word longer than a line is cut
			head, rest, hw := cutSegs(wd.segs, r.w-lineW)
			if hw == 0 && lineW > start { // not even its next character fits here
				flush()
				continue
			}
			if hw == 0 { // a character wider than the line: it goes alone
				head, rest, hw = cutSegs(wd.segs, 2)
			}
			writeSegs(&line, head)
			wd.segs, ww = rest, ww-hw
			flush()
		}
		writeSegs(&line, wd.segs)
		lineW += ww
	}
	if lineW > start || len(words) == 0 {
		flush()
	}
}

// seg is a run of a word's text in one style; the text holds no escape
// sequence, so its width is the width it takes on screen.
type seg struct {
	text  string
	style *lipgloss.Style // nil: none, the text is written as it is (much cheaper)
}

// word is a word of inline text, in one or more styles ("**bold**," is
// one word of two); brk is a hard line break.
type word struct {
	segs []seg
	brk  bool
}

func (w word) width() int {
	n := 0
	for _, sg := range w.segs {
		n += ansi.StringWidth(sg.text)
	}
	return n
}

func writeSegs(b *strings.Builder, segs []seg) {
	for _, sg := range segs {
		if sg.style == nil {
			b.WriteString(sg.text)
			continue
		}
		b.WriteString(sg.style.Render(sg.text))
	}
}

// cutSegs splits segs after the graphemes that fit in w cells; it reads
// only what it keeps, so cutting a long word line by line stays linear.
func cutSegs(segs []seg, w int) (head, rest []seg, width int) {
	for i, sg := range segs {
		t := sg.text
		for t != "" {
			cw := 1
			cluster := t[:1]
			if t[0] >= utf8.RuneSelf || len(t) > 1 && t[1] >= utf8.RuneSelf {
				cluster, cw = ansi.FirstGraphemeCluster(t, ansi.GraphemeWidth)
			}
			if width+cw > w {
				if used := sg.text[:len(sg.text)-len(t)]; used != "" {
					head = append(head, seg{used, sg.style})
				}
				rest = append([]seg{{t, sg.style}}, segs[i+1:]...)
				return head, rest, width
			}
			width += cw
			t = t[len(cluster):]
		}
		head = append(head, sg)
	}
	return head, nil, width
}

// nextOf finds the next place of a string in the text being read, and
// remembers it: the reader only moves forward, so each search starts
// where the last ended and a text full of unclosed "[" or "<" costs one
// pass, not one pass per character.
type nextOf struct {
	sep   string
	at    int // the last place found; -1 none after searched
	after int // where the last search started
	known bool
}

func (n *nextOf) from(b string, i int) int {
	if n.known && (n.at < 0 || n.at >= i) {
		return n.at
	}
	n.known, n.after = true, i
	if j := strings.Index(b[i:], n.sep); j >= 0 {
		n.at = i + j
	} else {
		n.at = -1
	}
	return n.at
}

// inlineWords splits inline Markdown into styled words: `code`, **bold**
// and __bold__, *italics* and _italics_ (not inside a word, so snake_case
// stays as it is), [text](url) shown as text (url), <url>, and backslash
// escapes. Newlines are spaces, except after two spaces or a backslash.
// It reads the text once: every search for a closing mark is remembered
// (nextOf). A nil base is no style; plain is no styling at all.
func inlineWords(text string, s Styles, base *lipgloss.Style, plain bool) []word {
	var (
		out            []word
		cur            strings.Builder
		bold, italic   bool
		boldBy, italBy byte
		glued          bool // the text goes on the last word, with no space between
		linkMid        = nextOf{sep: "]("}
		paraEnd        = nextOf{sep: "\n\n"}
		angleEnd       = nextOf{sep: ">"}
		parenEnd       = nextOf{sep: ")"}
		star, under    = nextOf{sep: "*"}, nextOf{sep: "_"}
		noTicks        = 0 // a run of this many backticks or more has no closing run
	)
	// Each word refers to one of a few styles.
	var made [4]*lipgloss.Style // by bold, italic
	accent, subtle := &s.Accent, &s.Subtle
	if plain {
		accent, subtle = nil, nil
	}
	style := func() *lipgloss.Style {
		k := 0
		if bold {
			k |= 1
		}
		if italic {
			k |= 2
		}
		if plain {
			return nil
		}
		if k == 0 || made[k] != nil {
			if k == 0 {
				return base
			}
			return made[k]
		}
		st := lipgloss.NewStyle()
		if base != nil {
			st = *base
		}
		if bold {
			st = st.Bold(true)
		}
		if italic {
			st = st.Italic(true)
		}
		made[k] = &st
		return &st
	}
	// add puts text in a style on the last word (glue) or as a new one.
	add := func(t string, st *lipgloss.Style, glue bool) {
		if glue && len(out) > 0 && !out[len(out)-1].brk {
			last := &out[len(out)-1]
			last.segs = append(last.segs, seg{t, st})
			return
		}
		out = append(out, word{segs: []seg{{t, st}}})
	}
	emit := func() {
		if cur.Len() == 0 {
			return
		}
		add(cur.String(), style(), glued)
		cur.Reset()
		glued = false
	}
	// runs appends text in one style, split at spaces; it is glued to
	// the text before it and to what follows it with no space between.
	runs := func(t string, st *lipgloss.Style) {
		for i, f := range strings.Fields(t) {
			if i == 0 {
				glue := glued || cur.Len() > 0
				emit()
				add(f, st, glue)
				continue
			}
			add(f, st, false)
		}
		glued = true
	}
	b := text
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\\' && i+1 < len(b) && b[i+1] == '\n':
			emit()
			out = append(out, word{brk: true})
			i++
		case c == '\\' && i+1 < len(b) && strings.IndexByte("\\`*_{}[]()#+-.!<>|~", b[i+1]) >= 0:
			cur.WriteByte(b[i+1])
			i++
		case c == ' ' && strings.HasPrefix(b[i:], "  \n"):
			emit()
			out = append(out, word{brk: true})
			i += 2
		case c == ' ' || c == '\n' || c == '\t':
			emit()
			glued = false
		case c == '`':
			n := 1
			for i+n < len(b) && b[i+n] == '`' {
				n++
			}
			end := -1
			if noTicks == 0 || n < noTicks {
				end = strings.Index(b[i+n:], strings.Repeat("`", n))
			}
			if end < 0 {
				if noTicks == 0 || n < noTicks {
					noTicks = n
				}
				cur.WriteString(b[i : i+n])
				i += n - 1
				continue
			}
			code := strings.TrimSpace(strings.ReplaceAll(b[i+n:i+n+end], "\n", " "))
			runs(code, accent)
			i += n + end + n - 1
		case (c == '*' || c == '_') && i+1 < len(b) && b[i+1] == c:
			switch {
			case bold && boldBy == c:
				emit()
				bold, glued = false, true
				i++
			case !bold && i+2 < len(b) && b[i+2] != ' ' && (c == '*' || i == 0 || !isWordByte(b[i-1])):
				mid := cur.Len() > 0 || glued
				emit()
				bold, boldBy, glued = true, c, mid
				i++
			default:
				cur.WriteByte(c)
			}
		case c == '*' || c == '_':
			next := &star
			if c == '_' {
				next = &under
			}
			switch {
			case italic && italBy == c && (c == '*' || i+1 == len(b) || !isWordByte(b[i+1])):
				emit()
				italic, glued = false, true
			case !italic && i+1 < len(b) && b[i+1] != ' ' && (c == '*' || i == 0 || !isWordByte(b[i-1])) &&
				next.from(b, i+1) >= 0:
				mid := cur.Len() > 0 || glued
				emit()
				italic, italBy, glued = true, c, mid
			default:
				cur.WriteByte(c)
			}
		case c == '[':
			mid := linkMid.from(b, i)
			end := -1
			if mid > i {
				end = parenEnd.from(b, mid)
			}
			if mid < 0 || end < 0 || (paraEnd.from(b, i) >= 0 && paraEnd.from(b, i) < mid) {
				cur.WriteByte(c)
				continue
			}
			label, url := b[i+1:mid], b[mid+2:end]
			glue := glued || cur.Len() > 0
			emit()
			words := inlineWords(label, s, style(), plain)
			if len(words) > 0 && !words[0].brk && glue && len(out) > 0 && !out[len(out)-1].brk {
				last := &out[len(out)-1]
				last.segs = append(last.segs, words[0].segs...)
				words = words[1:]
			}
			out = append(out, words...)
			glued = true // "[a](u)." keeps its full stop
			if url != "" && url != label {
				glued = false
				runs("("+url+")", subtle)
			}
			i = end
		case c == '<' && angleEnd.from(b, i) > i && isURL(b[i+1:angleEnd.from(b, i)]):
			end := angleEnd.from(b, i)
			runs(b[i+1:end], subtle)
			i = end
		default:
			cur.WriteByte(c)
		}
	}
	emit()
	return out
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isURL(s string) bool {
	return !strings.ContainsAny(s, " \n") && (strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") ||
		strings.HasPrefix(s, "mailto:"))
}
