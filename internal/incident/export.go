package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// Export is an incident as handed out of irtui: to a report, a regulator
// or, with a customer scope, to that one customer.
type Export struct {
	// Scope is "full", or "customer" when only one customer's view is
	// included; Customer then names that customer.
	Scope    string `json:"scope"`
	Customer string `json:"customer,omitempty"`
	// Exercise marks the export of a drill incident (table-top drill),
	// for anyone who reads it out of irtui; DrillRun names its run.
	Exercise    string                  `json:"exercise,omitempty"`
	DrillRun    string                  `json:"drill_run,omitempty"`
	GeneratedAt time.Time               `json:"generated_at"`
	GeneratedBy string                  `json:"generated_by"`
	Incident    Incident                `json:"incident"`
	Customers   []store.Customer        `json:"customers"`
	Roles       []store.Assignment      `json:"roles"`
	Steps       []store.Step            `json:"steps"`
	Obligations []store.ObligationEvent `json:"obligations"`
	Timeline    []ExportEntry           `json:"timeline"`
}

// ExportEntry is a timeline entry in an export. Hashes are included only
// in full exports: a customer's copy is redacted and cannot be checked
// against the chain anyway.
type ExportEntry struct {
	Seq   int64     `json:"seq"`
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// Auth is how the actor was authenticated (full exports), or "claim"
	// when they were named with --as (a customer's export, which names no
	// OS user or address).
	Auth     string          `json:"auth,omitempty"`
	Kind     string          `json:"kind"`
	Summary  string          `json:"summary"`
	Data     json.RawMessage `json:"data"`
	Redacted bool            `json:"redacted,omitempty"`
	Hash     string          `json:"hash,omitempty"`
}

// ExerciseNote marks everything of a drill incident that leaves irtui.
const ExerciseNote = "EXERCISE: a table-top drill; nothing here happened for real."

// Redacted replaces another customer's name, id or contact in a customer
// export or notice.
const Redacted = "[other customer]"

// Export returns the incident for a report and audits it (action
// "export"). With a customerID it holds that customer's data only: other
// customers are left out of the customer list, entries about linking them
// are dropped, and their names, ids and contacts are replaced by Redacted
// wherever they appear in text (titles, notes, answers, timeline data).
// It holds the whole timeline; ExportStream hands it out an entry at a
// time.
func (s *Service) Export(ctx context.Context, actor identity.Actor, id, customerID string) (Export, error) {
	var ex Export
	err := s.ExportStream(ctx, actor, id, customerID, func(h Export) error {
		ex = h
		return nil
	}, func(e ExportEntry) error {
		ex.Timeline = append(ex.Timeline, e)
		return nil
	})
	if err != nil {
		return Export{}, err
	}
	return ex, nil
}

// ExportStream is Export for exports of any length: head gets the export
// without its timeline, then each gets the timeline's entries (as the
// scope leaves them), oldest first, as of the moment the head was read
// (store.ReadIncident), a page at a time. The export is audited before head is called; an error
// from head or each stops it and is returned (and audited).
func (s *Service) ExportStream(ctx context.Context, actor identity.Actor, id, customerID string, head func(Export) error,
	each func(ExportEntry) error) error {
	o := &op{actor: actor, action: "export", incident: id, detail: "full"}
	customerID = strings.TrimSpace(customerID)
	if customerID != "" {
		o.detail = "customer " + customerID
	}
	return s.auditedStream(ctx, o, func(record func() error) error {
		var (
			all      []store.Customer
			customer store.Customer
			r        *redactor
		)
		if customerID != "" {
			var err error
			if all, err = s.Store.Customers(ctx); err != nil {
				return err
			}
			i := slices.IndexFunc(all, func(c store.Customer) bool { return c.ID == customerID })
			if i < 0 {
				return notFound("customer %q is not in the directory", customerID)
			}
			customer = all[i]
		}
		err := s.Store.ReadIncident(ctx, id, func(d Detail) error {
			if !d.Incident.Drill && !o.who.Can(identity.Export) {
				return Denied(&identity.Denied{Msg: fmt.Sprintf("exporting %s hands its data out: only people with the "+
					"export permission may; %s does not have it", id, o.who.ID())})
			}
			ex := Export{Scope: "full", GeneratedAt: s.Clock.Now().UTC(), GeneratedBy: actor.ID(), Incident: d.Incident,
				Customers: d.Customers, Roles: d.Roles, Steps: d.Steps, Obligations: d.Obligations}
			if d.Incident.Drill {
				ex.Exercise = ExerciseNote
				if d.Drill != nil {
					ex.DrillRun = d.Drill.RunID
				}
			}
			if customerID != "" {
				if !slices.ContainsFunc(d.Customers, func(c store.Customer) bool { return c.ID == customerID }) {
					return notFound("customer %q is not affected by %s", customerID, id)
				}
				r = newRedactor(customer, all)
				scopeToCustomer(&ex, d, customer, r)
			}
			if err := record(); err != nil {
				return err
			}
			return head(ex)
		}, func(e store.TimelineEntry) error {
			if r == nil {
				return each(ExportEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Auth: e.Auth,
					Kind: e.Kind, Summary: e.Summary, Data: e.Data, Hash: e.Hash})
			}
			x, keep, err := scopeEntry(e, customer, r)
			if err != nil || !keep {
				return err
			}
			return each(x)
		})
		return notFoundIncident(err, id)
	})
}

// scopeToCustomer fills ex with what customer may see of d, its timeline
// aside (scopeEntry).
func scopeToCustomer(ex *Export, d Detail, customer store.Customer, r *redactor) {
	ex.Scope, ex.Customer = "customer", customer.ID
	ex.Customers = []store.Customer{customer}

	in := d.Incident
	in.Title, in.Summary = r.str(in.Title), r.str(in.Summary)
	in.DismissedReason = r.str(in.DismissedReason)
	in.Rationale = r.strs(in.Rationale)
	in.Flags = r.strs(in.Flags)
	if in.Answers != nil {
		answers := make(map[string]any, len(in.Answers))
		for k, v := range in.Answers {
			answers[k] = r.any(v)
		}
		in.Answers = answers
	}
	ex.Incident = in

	ex.Steps = make([]store.Step, len(d.Steps))
	for i, st := range d.Steps {
		st.Title, st.Note = r.str(st.Title), r.str(st.Note)
		ex.Steps[i] = st
	}
	ex.Obligations = make([]store.ObligationEvent, len(d.Obligations))
	for i, e := range d.Obligations {
		e.Note = r.str(e.Note)
		ex.Obligations[i] = e
	}
	ex.Roles = d.Roles
}

// scopeEntry is what customer may see of a timeline entry; keep is false
// for an entry about another customer, which goes entirely.
func scopeEntry(e store.TimelineEntry, customer store.Customer, r *redactor) (ExportEntry, bool, error) {
	var data any
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return ExportEntry{}, false, fmt.Errorf("timeline entry %d of %s: %w", e.Seq, e.IncidentID, err)
	}
	if m, ok := data.(map[string]any); ok {
		// Structured mentions of other customers go entirely.
		if c, ok := m["customer_id"].(string); ok && c != customer.ID {
			return ExportEntry{}, false, nil
		}
		if list, ok := m["customers"].([]any); ok {
			m["customers"] = slices.DeleteFunc(list, func(v any) bool { return v != customer.ID })
		}
	}
	data = r.any(data)
	raw, err := json.Marshal(data)
	if err != nil {
		return ExportEntry{}, false, err
	}
	summary := r.str(e.Summary)
	auth := ""
	if identity.IsClaim(e.Auth) {
		auth = "claim"
	}
	return ExportEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Auth: auth, Kind: e.Kind,
		Summary: summary, Data: raw, Redacted: summary != e.Summary || string(raw) != compact(e.Data)}, true, nil
}

func compact(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Redactor hides customers' names, ids and contacts in free text written
// for one of them: an incident title such as "Acme export leaked Globex
// records" must not tell Acme about Globex. Customer exports and customer
// notices (package notify) use it.
//
// Each customer's full name, id and contact are terms. Matching ignores
// case. Terms are tried longest first, and the customer the text is for
// keeps its own terms, so "Acme" (another customer) does not eat into
// "Acme Holdings" (this one). Terms shorter than four characters match
// only as whole words, so a customer with the id "eu" does not garble
// "Europe"; longer ones match anywhere, erring towards hiding too much.
// When another customer's id (or any term) is part of its name, a match
// takes in as many whole words of that name around it as the text
// repeats: with the customer northwind named "Northwind Health Partners",
// "Northwind Health" is hidden whole, not as "[other customer] Health".
//
// Text shared by many customers (an incident title) is prepared once
// (Prepare), then redacted for each of them (Prepared.For).
type Redactor struct {
	terms []rterm // longest first
}

type rterm struct {
	text   string
	lower  string
	owners []string   // ids of the customers whose name, id or contact this is
	within []nameSpot // where the term occurs in its owners' names
}

// nameSpot is an occurrence of a term in a customer's name: name[at:] starts
// with the term.
type nameSpot struct {
	name string
	at   int
}

// NewRedactor returns a Redactor over the customers of the directory.
func NewRedactor(all []store.Customer) *Redactor {
	r := &Redactor{}
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
	names := map[string]string{}
	for _, c := range all {
		add(c.ID, c.ID)
		add(c.Name, c.ID)
		add(c.Contact, c.ID)
		names[c.ID] = strings.TrimSpace(c.Name)
	}
	for i := range r.terms {
		t := &r.terms[i]
		for _, owner := range t.owners {
			name := names[owner]
			if len(name) <= len(t.text) {
				continue // the name itself, or too short to hold the term
			}
			for at := 0; at+len(t.text) <= len(name); {
				if strings.EqualFold(name[at:at+len(t.text)], t.text) {
					t.within = append(t.within, nameSpot{name: name, at: at})
				}
				_, n := utf8.DecodeRuneInString(name[at:])
				at += n
			}
		}
	}
	slices.SortStableFunc(r.terms, func(a, b rterm) int { return len(b.text) - len(a.text) })
	return r
}

// Prepared is a text with the terms it contains.
type Prepared struct {
	s     string
	cands []rterm
}

// Prepare finds the terms s contains, for redacting it for several
// customers.
func (r *Redactor) Prepare(s string) Prepared {
	p := Prepared{s: s}
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

// Redact returns s as customer may see it: every other customer's name,
// id and contact replaced by Redacted.
func (r *Redactor) Redact(s, customer string) string { return r.Prepare(s).For(customer) }

// For returns the text with every term that is not customer's own
// replaced by Redacted.
func (p Prepared) For(customer string) string {
	if !slices.ContainsFunc(p.cands, func(t rterm) bool { return !slices.Contains(t.owners, customer) }) {
		return p.s
	}
	s := p.s
	var b strings.Builder
	done := 0 // s[:done] is written
	for i := 0; i < len(s); {
		m, ok := p.match(i, done, customer)
		if !ok {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
			continue
		}
		b.WriteString(s[done:m.start])
		if m.keep {
			b.WriteString(s[m.start:m.end])
		} else {
			b.WriteString(Redacted)
		}
		done, i = m.end, m.end
	}
	b.WriteString(s[done:])
	return b.String()
}

// span is a match: s[start:end], kept or hidden.
type span struct {
	start, end int
	keep       bool
}

// match finds the longest match of a term at position i of the text, not
// reaching back before floor. A hidden term grows to the whole words of
// its owner's name around it that the text repeats.
func (p Prepared) match(i, floor int, customer string) (span, bool) {
	s := p.s
	var best span
	found := false
	for _, t := range p.cands {
		n := len(t.text)
		if i+n > len(s) || !strings.EqualFold(s[i:i+n], t.text) {
			continue
		}
		if n < 4 && !(wordEdge(s, i) && wordEdge(s, i+n)) {
			continue
		}
		m := span{start: i, end: i + n, keep: slices.Contains(t.owners, customer)}
		if !m.keep {
			for _, sp := range t.within {
				start := i - extendBack(s, i, floor, sp.name, sp.at)
				end := i + n + extendForward(s, i+n, sp.name, sp.at+n)
				if end-start > m.end-m.start {
					m.start, m.end = start, end
				}
			}
		}
		// The match reaching furthest wins; on a tie, the customer's own
		// term, then the one starting earliest.
		if !found || m.end > best.end || m.end == best.end && (m.keep && !best.keep ||
			m.keep == best.keep && m.start < best.start) {
			best, found = m, true
		}
	}
	return best, found
}

// extendForward is how many bytes of s from i repeat name from j, ignoring
// case, up to the end of a whole word of both.
func extendForward(s string, i int, name string, j int) int {
	best := 0
	for si, nj := i, j; si < len(s) && nj < len(name); {
		a, an := utf8.DecodeRuneInString(s[si:])
		b, bn := utf8.DecodeRuneInString(name[nj:])
		if !sameLetter(a, b) {
			break
		}
		si, nj = si+an, nj+bn
		if isWord(a) && wordEdge(s, si) && wordEdge(name, nj) {
			best = si - i
		}
	}
	return best
}

// extendBack is how many bytes of s before i repeat name before j,
// ignoring case, back to the start of a whole word of both, and not
// before floor.
func extendBack(s string, i, floor int, name string, j int) int {
	best := 0
	for si, nj := i, j; si > floor && nj > 0; {
		a, an := utf8.DecodeLastRuneInString(s[:si])
		b, bn := utf8.DecodeLastRuneInString(name[:nj])
		if !sameLetter(a, b) {
			break
		}
		si, nj = si-an, nj-bn
		if isWord(a) && wordEdge(s, si) && wordEdge(name, nj) {
			best = i - si
		}
	}
	return best
}

func sameLetter(a, b rune) bool {
	return a == b || strings.EqualFold(string(a), string(b))
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// wordEdge reports whether position i of s is not inside a word.
func wordEdge(s string, i int) bool {
	if i == 0 || i == len(s) {
		return true
	}
	before, _ := utf8.DecodeLastRuneInString(s[:i])
	after, _ := utf8.DecodeRuneInString(s[i:])
	return !isWord(before) || !isWord(after)
}

// redactor is a Redactor for one customer's export.
type redactor struct {
	r    *Redactor
	keep string
}

func newRedactor(keep store.Customer, all []store.Customer) *redactor {
	if !slices.ContainsFunc(all, func(c store.Customer) bool { return c.ID == keep.ID }) {
		all = append(slices.Clip(all), keep)
	}
	return &redactor{r: NewRedactor(all), keep: keep.ID}
}

func (r *redactor) str(s string) string {
	if s == "" {
		return s
	}
	return r.r.Redact(s, r.keep)
}

func (r *redactor) strs(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.str(s)
	}
	return out
}

// any redacts every string in a decoded JSON value, map keys included.
func (r *redactor) any(v any) any {
	switch v := v.(type) {
	case string:
		return r.str(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.any(e)
		}
		return out
	case []string:
		return r.strs(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[r.str(k)] = r.any(e)
		}
		return out
	default:
		return v
	}
}
