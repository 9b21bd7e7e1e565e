package notify

import (
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// redactor hides other customers' names, ids and contacts in text written
// for one customer: an incident title such as "Acme export leaked Globex
// records" must not tell Acme about Globex. The rules are those of a
// customer export (incident.Redactor, which this wraps): case-insensitive,
// longest match first, the customer's own name, id and contact are kept,
// terms shorter than four characters match whole words only, and a match
// of another customer's id inside its longer name hides the whole of the
// name the text repeats.
//
// Text shared by many notices (the title) is prepared once: the terms it
// contains are found with one pass over the directory, and each notice
// then only decides which of those few are its own.
type redactor struct{ r *incident.Redactor }

func newRedactor(all []store.Customer) *redactor {
	return &redactor{r: incident.NewRedactor(all)}
}

// prepared is a text with the directory terms it contains.
type prepared struct{ p incident.Prepared }

func (r *redactor) prepare(s string) prepared {
	if r == nil {
		return prepared{p: (*incident.Redactor)(nil).Prepare(s)}
	}
	return prepared{p: r.r.Prepare(s)}
}

// redact is prepare and forCustomer in one go, for text of one notice.
func (r *redactor) redact(s, keep string) string { return r.prepare(s).forCustomer(keep) }

// forCustomer returns the text with every term that is not keep's own
// replaced by incident.Redacted.
func (p prepared) forCustomer(keep string) string { return p.p.For(keep) }
