// Package safetext makes text that came from outside irtui — incident
// titles, notes, Slack replies, runbook files — safe to show in a terminal
// and to put into Slack mrkdwn.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Clean removes terminal escape sequences and every control character
// except newline and tab, and replaces invalid UTF-8. A title such as
// "\x1b]0;pwned\x07" or "\x1b[2J" can then neither retitle nor clear the
// responder's terminal.
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
		case unicode.IsControl(r): // C0, DEL and C1 (which includes 8-bit CSI)
			return -1
		case r == '\u202e' || r == '\u202d' || r == '\u2066' || r == '\u2067' || r == '\u2068' || r == '\u2069' || r == '\u202a' || r == '\u202b' || r == '\u202c':
			return -1 // bidirectional overrides can disguise text
		}
		return r
	}, s)
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
