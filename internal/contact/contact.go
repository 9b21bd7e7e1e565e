// Package contact holds the rules for the addresses irtui sends to: mail
// addresses and Slack channels, as the directory and the configuration
// accept them. One rule for both, so that a value the configuration takes
// is one the directory takes too.
package contact

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Email checks a bare mail address ("ciso@example.com"): no display name,
// no angle brackets, no comments, nothing a mail header could be made of
// besides the address itself. The error quotes v.
func Email(v string) error {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !strings.Contains(a.Address, "@") {
		return fmt.Errorf("%q is not an email address (write the bare address, such as security@example.com)", v)
	}
	return nil
}

// HasMailbox checks contact details that must hold a mail address: one
// address as net/mail parses it ("dpo@example.com", "Jane Doe
// <dpo@example.com>"), or text whose comma- or semicolon-separated parts
// include one ("Data Protection Officer, dpo@example.com, +31 20 555
// 0100"). Control characters are refused. The error quotes v.
func HasMailbox(v string) error {
	bad := fmt.Errorf("%q does not hold an email address (such as dpo@example.com, Jane Doe <dpo@example.com>, "+
		"or DPO, dpo@example.com, +31 20 555 0100)", v)
	if strings.ContainsFunc(v, unicode.IsControl) {
		return bad
	}
	for _, part := range append([]string{v}, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' })...) {
		if a, err := mail.ParseAddress(strings.TrimSpace(part)); err == nil && strings.Contains(a.Address, "@") {
			return nil
		}
	}
	return bad
}

// MaxSlackChannelName is the longest Slack channel name.
const MaxSlackChannelName = 80

// SlackChannel checks a Slack channel as irtui may post to it: a name
// ("#acme-security": "#" and up to 80 lowercase letters, digits, "-" and
// "_", as Slack allows in a name) or a channel id ("C0123456789", or G
// for an older private channel). The error quotes v.
func SlackChannel(v string) error {
	if IsSlackChannelID(v) {
		return nil
	}
	name, ok := strings.CutPrefix(v, "#")
	n := utf8.RuneCountInString(name)
	if ok && n > 0 && n <= MaxSlackChannelName && !strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '-' || r == '_' || lowercaseLetter(r))
	}) {
		return nil
	}
	return fmt.Errorf("%q is not a Slack channel: write #name (lowercase letters, digits, - and _, "+
		"at most %d) or a channel id such as C0123456789", v, MaxSlackChannelName)
}

// lowercaseLetter is a letter as a Slack channel name may hold it: a
// lowercase one, or one of a script without case.
func lowercaseLetter(r rune) bool {
	return unicode.IsLetter(r) && !unicode.IsUpper(r) && !unicode.IsTitle(r)
}

// IsSlackChannelID reports whether v is a Slack channel id: C (or G) and
// uppercase letters and digits, nine characters or more.
func IsSlackChannelID(v string) bool {
	if len(v) < 9 || len(v) > 24 || (v[0] != 'C' && v[0] != 'G') {
		return false
	}
	for i := 1; i < len(v); i++ {
		if c := v[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
