package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/witness"
)

// dbPath is the database file: --db, $IRTUI_DB, or the default; explicit
// says it was named (and so must exist, unless --init).
func (g *globals) dbPath() (path string, explicit bool, err error) {
	if g.db != "" {
		return g.db, true, nil
	}
	path, err = store.DefaultPath()
	return path, false, err
}

// witnessOptions says where checkpoints go: the configuration (audit.*),
// overridden by IRTUI_WITNESS and IRTUI_AUDIT_SLACK_CHANNEL.
func (g *globals) witnessOptions(cfg config.Config, stderr io.Writer) witness.Options {
	o := witness.Options{To: cfg.Audit.Witness, Slack: cfg.Audit.SlackChannel, Clock: clock.Real{},
		KeyCreated: func(path, public string) { fmt.Fprint(stderr, keyCreatedText(path, public)) }}
	if v := os.Getenv("IRTUI_WITNESS"); v != "" {
		o.To = v
	}
	if v := os.Getenv("IRTUI_AUDIT_SLACK_CHANNEL"); v != "" {
		o.Slack = v
	}
	return o
}

func keyCreatedText(path, public string) string {
	return fmt.Sprintf("irtui: created the checkpoint signing key %s (mode 0600). Its public key is\n  %s\n"+
		"Keep a copy of that line away from this machine: `irtui audit verify --pubkey` checks checkpoints against it.\n",
		path, public)
}

// openStore opens the database for a command. A database named with --db
// or IRTUI_DB must exist: a missing one is an error that offers --init,
// never a new empty database in its place. The default path is created on
// first use, unless a witness file beside it shows that a database was
// there (deleted or moved). After opening, the database is held to its
// last checkpoint: what it lost is reported, and writing stops.
func (g *globals) openStore(cmd *cobra.Command, cfg config.Config) (*store.Store, error) {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	path, explicit, err := g.dbPath()
	if err != nil {
		return nil, err
	}
	wo := g.witnessOptions(cfg, stderr)
	wpath := wo.To
	if wpath == "" {
		wpath = witness.DefaultPath(path)
	}
	opts := []store.Option{store.WithNotice(func(m string) { fmt.Fprintln(stderr, "irtui: "+m) }),
		store.WithInstaller(identity.OSUserName())}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !g.init {
		switch {
		case witness.HasCheckpoints(wpath):
			return nil, fmt.Errorf("database %s does not exist, but %s holds checkpoints of the database that was "+
				"there: it was deleted or moved. Restore it; or, to start a new, empty database there, run again with --init",
				path, wpath)
		case explicit:
			return nil, fmt.Errorf("database %s does not exist. To create a new, empty database there, run again with --init", path)
		}
	}
	if explicit && !g.init {
		opts = append(opts, store.MustExist())
	}
	st, err := store.Open(ctx, path, opts...)
	if err != nil {
		return nil, err
	}
	if err := witness.CheckAtOpen(ctx, st, wpath, witness.LocalKeys(wo.Key)); err != nil {
		fmt.Fprintf(stderr, "irtui: %v\n", err)
	}
	if d := st.Damage(); d != "" {
		fmt.Fprintf(stderr, "irtui: %s is marked damaged, so nothing can be written to it: %s\n"+
			"  Check it with `irtui audit verify`; once it is sound (or restored), `irtui audit unblock --reason TEXT`.\n", path, d)
	}
	return st, nil
}

// closeStore writes a checkpoint of what this command wrote, if anything,
// and closes the database.
func (g *globals) closeStore(cmd *cobra.Command, cfg config.Config, st *store.Store) {
	if st.Wrote() && st.Stopped() == nil {
		wo := g.witnessOptions(cfg, cmd.ErrOrStderr())
		wo.Slack = "" // Slack gets the app's checkpoints and explicit ones, not one per command
		if _, err := witness.Write(context.WithoutCancel(cmd.Context()), st, wo); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "irtui: warning: no checkpoint written: %v\n", err)
		}
	}
	st.Close()
}

// service opens the database and the incident service on it, with the
// notification outbox hooked in: the runbooks' notification rules fire
// inside the same transactions as the incident changes. The OS user who
// opens a new database becomes its installer.
func (g *globals) service(cmd *cobra.Command, cfg config.Config) (*incident.Service, error) {
	st, err := g.openStore(cmd, cfg)
	if err != nil {
		return nil, err
	}
	policy := cfg.Policy
	return &incident.Service{Store: st, Clock: clock.Real{}, Notifier: g.notifier(cmd.Context(), st, cfg), Policy: &policy}, nil
}

// open is service for one command: the database it opens, and a function
// that closes it (with a checkpoint of what the command wrote). Over SSH
// it is the server's, which stays open, and the server writes the
// checkpoints: on its schedule and when it stops.
func (g *globals) open(cmd *cobra.Command, cfg config.Config) (*incident.Service, func(), error) {
	if g.remote != nil {
		return g.remote.svc, func() {}, nil
	}
	svc, err := g.service(cmd, cfg)
	if err != nil {
		return nil, nil, err
	}
	return svc, func() { g.closeStore(cmd, cfg, svc.Store) }, nil
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
