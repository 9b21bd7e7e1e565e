package notify

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// redactor hides other customers' names and ids in text written for one
// customer: an incident title such as "Acme export leaked Globex records"
// must not tell Acme about Globex. The rules are those of a customer
// export (incident.Redacted): case-insensitive, longest term first, the
// customer's own name and id are kept, and terms shorter than four
// characters match whole words only.
//
// Text shared by many notices (the title) is prepared once: the terms it
// contains are found with one pass over the directory, and each notice
// then only decides which of those few are its own.
type redactor struct {
	terms []rterm // longest first
}

type rterm struct {
	text   string
	lower  string
	owners []string // customer ids whose name or id this is
}

func newRedactor(all []store.Customer) *redactor {
	r := &redactor{}
	index := map[string]int{}
	add := func(s, owner string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		l := strings.ToLower(s)
		if i, ok := index[l]; ok {
			if !slices.Contains(r.terms[i].owners, owner) {
				r.terms[i].owners = append(r.terms[i].owners, owner)
			}
			return
		}
		index[l] = len(r.terms)
		r.terms = append(r.terms, rterm{text: s, lower: l, owners: []string{owner}})
	}
	for _, c := range all {
		add(c.ID, c.ID)
		add(c.Name, c.ID)
	}
	slices.SortStableFunc(r.terms, func(a, b rterm) int { return len(b.text) - len(a.text) })
	return r
}

// prepared is a text with the directory terms it contains.
type prepared struct {
	s     string
	cands []rterm
}

func (r *redactor) prepare(s string) prepared {
	p := prepared{s: s}
	if s == "" || r == nil {
		return p
	}
	lower := strings.ToLower(s)
	for _, t := range r.terms {
		if strings.Contains(lower, t.lower) {
			p.cands = append(p.cands, t)
		}
	}
	return p
}

// redact is prepare and for in one go, for text of one notice.
func (r *redactor) redact(s, keep string) string { return r.prepare(s).forCustomer(keep) }

// forCustomer returns the text with every term that is not keep's own
// replaced by incident.Redacted.
func (p prepared) forCustomer(keep string) string {
	hide := false
	for _, t := range p.cands {
		if !slices.Contains(t.owners, keep) {
			hide = true
			break
		}
	}
	if !hide {
		return p.s
	}
	s := p.s
	var b strings.Builder
	for i := 0; i < len(s); {
		matched := false
		for _, t := range p.cands {
			n := len(t.text)
			if i+n > len(s) || !strings.EqualFold(s[i:i+n], t.text) {
				continue
			}
			if n < 4 && !(wordEdge(s, i) && wordEdge(s, i+n)) {
				continue
			}
			if slices.Contains(t.owners, keep) {
				b.WriteString(s[i : i+n])
			} else {
				b.WriteString(incident.Redacted)
			}
			i += n
			matched = true
			break
		}
		if !matched {
			_, n := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+n])
			i += n
		}
	}
	return b.String()
}

// wordEdge reports whether position i of s is not inside a word.
func wordEdge(s string, i int) bool {
	if i == 0 || i == len(s) {
		return true
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i:])
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	return !isWord(before) || !isWord(after)
}
