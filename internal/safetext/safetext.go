// Package safetext makes text that came from outside irtui — incident
// titles, notes, Slack replies, runbook files — safe to show in a terminal
// and to put into Slack mrkdwn.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Clean removes terminal escape sequences and every control character
// except newline and tab, and replaces invalid UTF-8. A title such as
// "\x1b]0;pwned\x07" or "\x1b[2J" can then neither retitle nor clear the
// responder's terminal. It also removes what can make text read other
// than it is (see Hidden): bidirectional formatting, which can reverse
// "exe.pdf" into view, and invisible characters that can hide text.
func Clean(s string) string {
	if isPlain(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = ansi.Strip(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return -1
		case Hidden(r): // C0, DEL and C1 (which includes 8-bit CSI), bidi, ...
			return -1
		}
		return r
	}, s)
}

// Hidden reports whether r is removed from outside text shown in a
// terminal: a control character (C0, DEL, C1), a bidirectional formatting
// character (the embeddings, overrides and isolates, and the marks
// U+200E, U+200F, U+061C), a line or paragraph separator, or an invisible
// character that can hide text (zero-width space, word joiner and the
// invisible operators, the byte order mark, interlinear annotations, and
// the tag characters that "ASCII smuggling" uses). The zero-width joiner
// and non-joiner, variation selectors and the soft hyphen stay: scripts
// and emoji need them.
func Hidden(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	case r == '\u2028', r == '\u2029':
		return true
	case r == '\u200b', r >= '\u2060' && r <= '\u2064', r >= '\u206a' && r <= '\u206f', r == '\ufeff',
		r >= '\ufff9' && r <= '\ufffb', r >= 0xe0000 && r <= 0xe007f:
		return true
	}
	return false
}

// JSON escapes, in encoded JSON, every character that Hidden removes from
// text and every other invisible one (Invisible), as \uXXXX (a pair of
// them beyond U+FFFF). The JSON means the same, but a terminal or a log
// viewer that shows it draws no C1 control sequence (U+009B is 8-bit CSI)
// and no right-to-left override. Such characters occur only inside JSON
// strings, where an escape is equivalent, so the whole output can be
// filtered.
func JSON(b []byte) []byte {
	clean := true
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			if b[i] == 0x7f {
				clean = false
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if escapeInJSON(r) {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if n == 1 && r == utf8.RuneError || !escapeInJSON(r) {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	return out
}

// escapeInJSON leaves C0 controls alone: an encoder writes them escaped
// inside strings, so those outside are the JSON's own line breaks and
// indentation.
func escapeInJSON(r rune) bool {
	return r == 0x7f || r >= 0x80 && (Hidden(r) || Invisible(r))
}

// Line is Clean for a single line: newlines and tabs become spaces.
func Line(s string) string {
	s = Clean(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.NewReplacer("\n", " ", "\t", " ").Replace(s)
	}
	return s
}

func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Mrkdwn escapes text for Slack mrkdwn: &, < and > become entities, so
// user text cannot form a link, a mention such as <!channel>, or a user
// ping. Control characters are removed first.
func Mrkdwn(s string) string {
	s = Clean(s)
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
