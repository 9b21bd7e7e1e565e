package main

import (
	"context"
	"strings"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// dbPath is the database file: --db, $IRTUI_DB, or the default.
func (g *globals) dbPath() (string, error) {
	if g.db != "" {
		return g.db, nil
	}
	return store.DefaultPath()
}

// service opens the database and the incident service on it, with the
// notification outbox hooked in: the runbooks' notification rules fire
// inside the same transactions as the incident changes. The OS user who
// opens a new database becomes its installer.
func (g *globals) service(ctx context.Context) (*incident.Service, error) {
	path, err := g.dbPath()
	if err != nil {
		return nil, err
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, path, store.WithInstaller(identity.OSUserName()))
	if err != nil {
		return nil, err
	}
	policy := cfg.Policy
	return &incident.Service{Store: st, Clock: clock.Real{}, Notifier: g.notifier(st, cfg), Policy: &policy}, nil
}

// directory is the identity service on the database: who acts, and the
// directory of people and customers.
func directory(st *store.Store) *identity.Service {
	return &identity.Service{Store: st, Clock: clock.Real{}}
}

// identify establishes who acts: the OS user, mapped through the
// directory, or the name given with --as or IRTUI_USER, which the services
// honour on drills and in local trust mode only. A command run for an
// authenticated actor (irtui serve) acts as them; --as is then their
// claim, honoured on drills only: local trust mode is for local users.
func (g *globals) identify(ctx context.Context, st *store.Store, cfg config.Config) (identity.Actor, error) {
	if a := g.authenticated; a != nil {
		if strings.TrimSpace(g.as) == "" {
			return *a, nil
		}
		name, err := identity.CheckName(g.as)
		if err != nil {
			claim := a.As(identity.QuoteName(strings.TrimSpace(g.as)))
			identity.Record(ctx, st, clock.Real{}.Now(), claim, "identify", "", store.OutcomeRefused, err.Error())
			return identity.Actor{}, err
		}
		claim := a.As(name)
		claim.Trusted = false
		return claim, nil
	}
	return directory(st).Resolve(ctx, identity.OSUserName(), g.as, cfg.Identity.LocalTrust)
}
