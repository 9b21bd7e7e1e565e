package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/store"
)

// Service establishes who acts and keeps the directory: people (with
// their OS users, SSH keys and permissions) and customers. Store and Clock
// are required.
type Service struct {
	Store *store.Store
	Clock clock.Clock
}

// Resolve establishes who acts on this machine: the OS user osUser, who
// may claim to be someone else (claim: --as or IRTUI_USER; "" for none).
// trust turns local trust mode on, where claims hold everywhere.
//
// Without a claim, the actor is the person whose os_users list osUser;
// failing that, while nobody in the directory can be authenticated, the
// installer (the OS user who created the database) is its bootstrap
// administrator, acting as the demo incident commander while the demo
// directory is loaded; anyone else is nobody, whom every service refuses
// (and audits). Claiming to be who you are is no claim. A claimed name
// with control or invisible characters is refused here, and audited
// (action "identify"); every other rule is the services' (see Check).
func (s *Service) Resolve(ctx context.Context, osUser, claim string, trust bool) (Actor, error) {
	self, err := resolveOS(ctx, s.Store, osUser)
	if err != nil || strings.TrimSpace(claim) == "" {
		return self, err
	}
	name, err := CheckName(claim)
	if err != nil {
		a := Actor{Person: strconvQuote(strings.TrimSpace(claim)), Method: Claim, OSUser: osUser, Trusted: trust}
		s.record(ctx, a, "identify", "", store.OutcomeRefused, err.Error())
		return Actor{}, err
	}
	if name == self.Person {
		return self, nil
	}
	return Actor{Person: name, Method: Claim, OSUser: osUser, Trusted: trust}, nil
}

func resolveOS(ctx context.Context, r Reader, osUser string) (Actor, error) {
	if osUser == "" {
		return Actor{}, nil
	}
	p, err := r.PersonByOSUser(ctx, osUser)
	switch {
	case err == nil:
		return Actor{Person: p.ID, Method: OS, OSUser: osUser}, nil
	case !errors.Is(err, store.ErrNotFound):
		return Actor{}, err
	}
	st, err := r.IdentityState(ctx)
	if err != nil {
		return Actor{}, err
	}
	if !st.Identities && st.Installer != "" && st.Installer == osUser {
		return Actor{Person: st.DemoCommander, Method: Bootstrap, OSUser: osUser}, nil
	}
	return Actor{Method: OS, OSUser: osUser}, nil
}

// PersonByKey finds whose SSH key has the fingerprint, for irtui serve's
// authentication (which audits what it decides); ErrNotFound when nobody's.
func (s *Service) PersonByKey(ctx context.Context, fingerprint string) (store.Person, error) {
	return s.Store.PersonByKey(ctx, fingerprint)
}

// Import adds or updates the people and customers of d, all or nothing
// (see store.Tx.ImportDirectory). Only an administrator may; the import,
// or its refusal, is audited ("import").
func (s *Service) Import(ctx context.Context, a Actor, d store.Directory) (store.ImportResult, error) {
	now := s.Clock.Now()
	var res store.ImportResult
	err := store.ValidateDirectory(&d)
	if err == nil {
		err = s.Store.Update(ctx, func(tx *store.Tx) error {
			who, err := Check(ctx, tx, a, Scope{Setup: true})
			if err != nil {
				return err
			}
			if !who.Can(Admin) {
				return denied("only an administrator (permission admin) may import the directory; %s is not one", who.ID())
			}
			if res, err = tx.ImportDirectory(ctx, d, now, ""); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: a.ID(), Auth: a.Auth(), Action: "import",
				Outcome: store.OutcomeOK, Detail: fmt.Sprintf("directory: %d people, %d customers", res.People, res.Customers)})
		})
	}
	if err != nil {
		s.record(ctx, a, "import", "", outcome(err), err.Error())
		return store.ImportResult{}, err
	}
	return res, nil
}

// SeedDemo loads the bundled demo directory d into a database whose
// directory is empty, so that irtui works out of the box, and records
// commander as the demo's incident commander, whom the installer acts as
// until a real directory is imported. It reports whether it loaded it;
// irtui does this itself, recorded as irtui.
func (s *Service) SeedDemo(ctx context.Context, d store.Directory, commander string) (bool, error) {
	now := s.Clock.Now()
	if err := store.ValidateDirectory(&d); err != nil {
		return false, fmt.Errorf("the demo directory: %w", err)
	}
	// A read first: a directory that is not empty, as it is after the
	// first start, needs no write transaction, and the first write of a
	// process waits for the database's integrity check (store.awaitCheck),
	// which on a large record would hold up the app's first frame.
	if people, err := s.Store.People(ctx); err != nil {
		return false, fmt.Errorf("load the demo directory: %w", err)
	} else if len(people) > 0 {
		return false, nil
	}
	seeded := false
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		people, err := tx.People(ctx)
		if err != nil || len(people) > 0 {
			return err
		}
		var any int
		if any, err = tx.CustomerCount(ctx); err != nil || any > 0 {
			return err
		}
		if _, err := tx.ImportDirectory(ctx, d, now, commander); err != nil {
			return err
		}
		seeded = true
		a := Irtui()
		return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: a.ID(), Auth: a.Auth(), Action: "import",
			Outcome: store.OutcomeOK, Detail: fmt.Sprintf("demo directory: %d people, %d customers (acting commander %s)",
				len(d.People), len(d.Customers), commander)})
	})
	if err != nil {
		return false, fmt.Errorf("load the demo directory: %w", err)
	}
	return seeded, nil
}

// Directory reads every person and customer, for someone the directory
// knows; the read is audited ("directory_list") before it is returned.
func (s *Service) Directory(ctx context.Context, a Actor) (store.Directory, error) {
	now := s.Clock.Now()
	var d store.Directory
	_, err := Check(ctx, s.Store, a, Scope{Setup: true})
	if err == nil {
		if d.People, err = s.Store.People(ctx); err == nil {
			d.Customers, err = s.Store.Customers(ctx)
		}
	}
	if err == nil {
		// A read waits for no writer (store.RecordRead).
		_, err = s.Store.RecordRead(ctx, store.AuditEntry{At: now, Actor: a.ID(), Auth: a.Auth(), Action: "directory_list",
			Outcome: store.OutcomeOK, Detail: fmt.Sprintf("%d people, %d customers", len(d.People), len(d.Customers))}, false)
		if err != nil {
			err = fmt.Errorf("cannot record this access in the audit log, so it is not shown: %w", err)
		}
	}
	if err != nil {
		s.record(ctx, a, "directory_list", "", outcome(err), err.Error())
		return store.Directory{}, err
	}
	return d, nil
}

func outcome(err error) string {
	if errors.Is(err, ErrDenied) || errors.Is(err, store.ErrInvalidDirectory) {
		return store.OutcomeRefused
	}
	return store.OutcomeFailed
}

// record appends an audit entry in a transaction of its own: refusals and
// failures, whose own transaction kept nothing. It is best effort: the
// caller is returning the error that matters.
func (s *Service) record(ctx context.Context, a Actor, action, incidentID, outcome, detail string) {
	Record(ctx, s.Store, s.Clock.Now(), a, action, incidentID, outcome, detail)
}

// Record appends an audit entry for a in a transaction of its own, for
// refusals and failures, whose own transaction kept nothing. Nobody is
// recorded as "(nobody)". It is best effort, and not stopped by a
// cancelled ctx: the record of what happened must be kept.
func Record(ctx context.Context, st *store.Store, at time.Time, a Actor, action, incidentID, outcome, detail string) {
	who := a.ID()
	if who == "" {
		who = "(nobody)"
	}
	detail, _, _ = strings.Cut(detail, "\n")
	e := store.AuditEntry{At: at, Actor: who, Auth: a.Auth(), Action: action, IncidentID: incidentID,
		Outcome: outcome, Detail: detail}
	ctx = context.WithoutCancel(ctx)
	_ = st.Update(ctx, func(tx *store.Tx) error { return tx.AppendAudit(ctx, &e) })
}

// RecordRead is Record for a read refused or failed: like the audit entry
// of any read, it waits for no writer (store.RecordRead).
func RecordRead(ctx context.Context, st *store.Store, at time.Time, a Actor, action, incidentID, outcome, detail string) {
	who := a.ID()
	if who == "" {
		who = "(nobody)"
	}
	detail, _, _ = strings.Cut(detail, "\n")
	_, _ = st.RecordRead(context.WithoutCancel(ctx), store.AuditEntry{At: at, Actor: who, Auth: a.Auth(), Action: action,
		IncidentID: incidentID, Outcome: outcome, Detail: detail}, false)
}

// Unblock lets irtui write again to a database marked damaged, once a
// person has checked it: only an administrator may, and only when
// integrity_check finds nothing (store.Store.ClearDamage); done or
// refused, it is audited ("unblock").
func (s *Service) Unblock(ctx context.Context, a Actor, reason string) error {
	who, err := Check(ctx, s.Store, a, Scope{Setup: true})
	if err == nil && !who.Can(Admin) {
		err = denied("only an administrator (permission admin) may allow writing to a damaged database again; %s is not one", who.ID())
	}
	if err == nil {
		err = s.Store.ClearDamage(ctx, a.ID(), a.Auth(), reason)
	}
	if err != nil {
		RecordRead(ctx, s.Store, s.Clock.Now(), a, "unblock", "", outcome(err), err.Error())
	}
	return err
}
