package main

import (
	"context"

	"github.com/irtui/irtui/internal/clock"
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
// inside the same transactions as the incident changes.
func (g *globals) service(ctx context.Context) (*incident.Service, error) {
	path, err := g.dbPath()
	if err != nil {
		return nil, err
	}
	cfg, err := g.loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return &incident.Service{Store: st, Clock: clock.Real{}, Notifier: g.notifier(ctx, st, cfg)}, nil
}

// actor is who is acting: --as, $IRTUI_USER, or the OS user name.
func (g *globals) actor() string { return incident.Actor(g.as) }
