package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/irtui/irtui/internal/store"
)

// Export is an incident as handed out of irtui: to a report, a regulator
// or, with a customer scope, to that one customer.
type Export struct {
	// Scope is "full", or "customer" when only one customer's view is
	// included; Customer then names that customer.
	Scope       string                  `json:"scope"`
	Customer    string                  `json:"customer,omitempty"`
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
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Kind     string          `json:"kind"`
	Summary  string          `json:"summary"`
	Data     json.RawMessage `json:"data"`
	Redacted bool            `json:"redacted,omitempty"`
	Hash     string          `json:"hash,omitempty"`
}

// Redacted replaces another customer's name or id in a customer export.
const Redacted = "[other customer]"

// Export returns the incident for a report and audits it (action
// "export"). With a customerID it holds that customer's data only: other
// customers are left out of the customer list, entries about linking them
// are dropped, and their names and ids are replaced by Redacted wherever
// they appear in text (titles, notes, answers, timeline data).
func (s *Service) Export(ctx context.Context, actor, id, customerID string) (Export, error) {
	o := &op{actor: actor, action: "export", incident: id, detail: "full"}
	customerID = strings.TrimSpace(customerID)
	if customerID != "" {
		o.detail = "customer " + customerID
	}
	var ex Export
	err := s.audited(ctx, o, func() error {
		d, err := s.Store.Incident(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound("incident %s does not exist", id)
		}
		if err != nil {
			return err
		}
		ex = Export{Scope: "full", GeneratedAt: s.Clock.Now().UTC(), GeneratedBy: actor, Incident: d.Incident,
			Customers: d.Customers, Roles: d.Roles, Steps: d.Steps, Obligations: d.Obligations}
		if customerID == "" {
			for _, e := range d.Timeline {
				ex.Timeline = append(ex.Timeline, ExportEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Kind: e.Kind,
					Summary: e.Summary, Data: e.Data, Hash: e.Hash})
			}
			return nil
		}
		all, err := s.Store.Customers(ctx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(all, func(c store.Customer) bool { return c.ID == customerID })
		if i < 0 {
			return notFound("customer %q is not in the directory", customerID)
		}
		if !slices.ContainsFunc(d.Customers, func(c store.Customer) bool { return c.ID == customerID }) {
			return notFound("customer %q is not affected by %s", customerID, id)
		}
		return scopeToCustomer(&ex, d, all[i], all)
	})
	if err != nil {
		return Export{}, err
	}
	return ex, nil
}

// scopeToCustomer fills ex with what customer may see of d.
func scopeToCustomer(ex *Export, d Detail, customer store.Customer, all []store.Customer) error {
	r := newRedactor(customer, all)
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

	ex.Timeline = nil
	for _, e := range d.Timeline {
		var data any
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return fmt.Errorf("timeline entry %d of %s: %w", e.Seq, d.Incident.ID, err)
		}
		if m, ok := data.(map[string]any); ok {
			// Structured mentions of other customers go entirely.
			if c, ok := m["customer_id"].(string); ok && c != customer.ID {
				continue
			}
			if list, ok := m["customers"].([]any); ok {
				m["customers"] = slices.DeleteFunc(list, func(v any) bool { return v != customer.ID })
			}
		}
		data = r.any(data)
		raw, err := json.Marshal(data)
		if err != nil {
			return err
		}
		summary := r.str(e.Summary)
		ex.Timeline = append(ex.Timeline, ExportEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Kind: e.Kind,
			Summary: summary, Data: raw, Redacted: summary != e.Summary || string(raw) != compact(e.Data)})
	}
	return nil
}

func compact(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// redactor replaces other customers' names and ids in free text.
//
// Matching ignores case. Terms are tried longest first, and the exported
// customer's own name and id are matched as terms that are kept, so "Acme"
// (another customer) does not eat into "Acme Holdings" (this one). Terms
// shorter than four characters match only as whole words, so a customer
// with the id "eu" does not garble "Europe"; longer ones match anywhere,
// erring towards hiding too much.
type redactor struct {
	terms []term
}

type term struct {
	text  string
	lower string
	keep  bool
}

func newRedactor(keep store.Customer, all []store.Customer) *redactor {
	r := &redactor{}
	seen := map[string]bool{}
	add := func(s string, k bool) {
		s = strings.TrimSpace(s)
		l := strings.ToLower(s)
		if s == "" || seen[l] {
			return
		}
		seen[l] = true
		r.terms = append(r.terms, term{text: s, lower: l, keep: k})
	}
	add(keep.ID, true)
	add(keep.Name, true)
	for _, c := range all {
		if c.ID != keep.ID {
			add(c.ID, false)
			add(c.Name, false)
		}
	}
	slices.SortStableFunc(r.terms, func(a, b term) int { return len(b.text) - len(a.text) })
	return r
}

func (r *redactor) str(s string) string {
	if s == "" {
		return s
	}
	lower := strings.ToLower(s)
	var cands []term
	hide := false
	for _, t := range r.terms {
		if strings.Contains(lower, t.lower) {
			cands = append(cands, t)
			hide = hide || !t.keep
		}
	}
	if !hide {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		matched := false
		for _, t := range cands {
			n := len(t.text)
			if i+n > len(s) || !strings.EqualFold(s[i:i+n], t.text) {
				continue
			}
			if len(t.text) < 4 && !(wordEdge(s, i) && wordEdge(s, i+n)) {
				continue
			}
			if t.keep {
				b.WriteString(s[i : i+n])
			} else {
				b.WriteString(Redacted)
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
