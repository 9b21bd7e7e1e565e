package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrInvalidDirectory: a directory to import has entries that cannot be
// stored; the error lists each one.
var ErrInvalidDirectory = errors.New("invalid directory")

// ImportResult counts what ImportDirectory stored.
type ImportResult struct {
	People    int `json:"people"`
	Customers int `json:"customers"`
}

// ImportDirectory adds or updates every person and customer in d, all or
// nothing, and audits the import (action "import") as done or refused.
// People and customers missing from d are kept: incidents refer to them.
func (s *Store) ImportDirectory(ctx context.Context, actor string, d Directory) (ImportResult, error) {
	now := s.clock.Now()
	res := ImportResult{People: len(d.People), Customers: len(d.Customers)}
	if err := validateDirectory(&d); err != nil {
		s.auditAlone(ctx, AuditEntry{At: now, Actor: actor, Action: "import", Outcome: OutcomeRefused,
			Detail: firstLine(err.Error())})
		return ImportResult{}, err
	}
	err := s.Update(ctx, func(tx *Tx) error {
		for _, p := range d.People {
			if err := tx.UpsertPerson(ctx, p, now); err != nil {
				return err
			}
		}
		for _, c := range d.Customers {
			if err := tx.UpsertCustomer(ctx, c, now); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: now, Actor: actor, Action: "import", Outcome: OutcomeOK,
			Detail: fmt.Sprintf("directory: %d people, %d customers", res.People, res.Customers)})
	})
	if err != nil {
		s.auditAlone(ctx, AuditEntry{At: now, Actor: actor, Action: "import", Outcome: OutcomeFailed,
			Detail: firstLine(err.Error())})
		return ImportResult{}, fmt.Errorf("import directory: %w", err)
	}
	return res, nil
}

// auditAlone records an audit entry in a transaction of its own, for
// actions whose own transaction was refused or failed. It is best effort:
// the caller is already returning the error that matters.
func (s *Store) auditAlone(ctx context.Context, e AuditEntry) {
	_ = s.Update(ctx, func(tx *Tx) error { return tx.AppendAudit(ctx, &e) })
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// validateDirectory checks d and fills defaults. Its error names every
// bad entry by list and index, such as "customers[2] (acme): ...".
func validateDirectory(d *Directory) error {
	var problems []string
	bad := func(list string, i int, id, format string, args ...any) {
		where := fmt.Sprintf("%s[%d]", list, i)
		if id != "" {
			where += " (" + id + ")"
		}
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	seen := map[string]int{}
	for i := range d.People {
		p := &d.People[i]
		p.ID, p.Name = strings.TrimSpace(p.ID), strings.TrimSpace(p.Name)
		if msg := checkID(p.ID); msg != "" {
			bad("people", i, p.ID, "%s", msg)
		} else if j, dup := seen[p.ID]; dup {
			bad("people", i, p.ID, "id is already used by people[%d]", j)
		} else {
			seen[p.ID] = i
		}
		if p.Name == "" {
			p.Name = p.ID
		}
		for _, r := range p.Roles {
			if strings.TrimSpace(r) == "" {
				bad("people", i, p.ID, "a role is empty")
			}
		}
	}
	seen = map[string]int{}
	for i := range d.Customers {
		c := &d.Customers[i]
		c.ID, c.Name = strings.TrimSpace(c.ID), strings.TrimSpace(c.Name)
		c.Contact = strings.TrimSpace(c.Contact)
		if msg := checkID(c.ID); msg != "" {
			bad("customers", i, c.ID, "%s", msg)
		} else if j, dup := seen[c.ID]; dup {
			bad("customers", i, c.ID, "id is already used by customers[%d]", j)
		} else {
			seen[c.ID] = i
		}
		if c.Name == "" {
			bad("customers", i, c.ID, "name is required")
		}
		if c.Language == "" {
			c.Language = "en"
		}
		switch c.ContactKind {
		case "slack":
			if c.Contact == "" {
				bad("customers", i, c.ID, "contact is required (a Slack channel)")
			}
		case "email":
			if !strings.Contains(c.Contact, "@") {
				bad("customers", i, c.ID, "contact %q is not an email address", c.Contact)
			}
		default:
			bad("customers", i, c.ID, "contact_kind %q must be slack or email", c.ContactKind)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n%s", ErrInvalidDirectory, strings.Join(problems, "\n"))
}

func checkID(id string) string {
	if id == "" {
		return "id is required"
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return fmt.Sprintf("id %q must not contain spaces or control characters", id)
		}
	}
	return ""
}
