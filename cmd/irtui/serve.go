package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/serve"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/tui"
	"github.com/irtui/irtui/internal/witness"
)

type serveOptions struct {
	listen      string
	hostKey     string
	idle        time.Duration
	maxSessions int
	grace       time.Duration
}

func newServeCmd(g *globals) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR]",
		Short: "Serve the app and the commands over SSH, each person signing in with their own key",
		Long: "Run an SSH server for the team on this host. Each person connects with a key listed for them in the\n" +
			"directory (ssh_keys:) and works as themselves: `ssh -p 2222 HOST` opens the app, `ssh -p 2222 HOST -- incident list`\n" +
			"runs a command. Only keys are accepted; unknown keys are refused and audited, as is each session's start and end.\n" +
			"The host key is created on first start beside the database (mode 0600). SIGTERM or Ctrl-C stops the server\n" +
			"gracefully: every session is told, and what is in flight finishes. See README.md (\"A team on one host\").",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return serveSSH(c, g, o) },
	}
	annotate(cmd, sshLocalOnly)
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", serve.DefaultListen, "address to listen on, host:port (give 0.0.0.0:2222 or a host's address to take connections from other machines)")
	f.StringVar(&o.hostKey, "host-key", "", "host key file, created if missing (default "+serve.HostKeyName+" beside the database)")
	f.DurationVar(&o.idle, "idle-timeout", serve.DefaultIdleTimeout, "close a session after this long without input (0: never)")
	f.IntVar(&o.maxSessions, "max-sessions", serve.DefaultMaxSessions, "the most sessions open at once")
	f.DurationVar(&o.grace, "grace", serve.DefaultGrace, "on SIGTERM, how long commands in progress may take to finish")
	return cmd
}

func serveSSH(cmd *cobra.Command, g *globals, o serveOptions) error {
	if o.maxSessions < 1 || o.idle < 0 || o.grace <= 0 {
		return errors.New("--max-sessions must be at least 1, --idle-timeout 0 or more, and --grace more than 0")
	}
	cfg, err := g.loadConfig(cmd.Context())
	if err != nil {
		return err
	}
	settings, err := notify.SettingsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	// Checkpoints of the record (package witness): on a schedule while
	// it changes, and a last one when the server stops. The server signs
	// them as itself.
	wo := g.witnessOptions(cfg, cmd.ErrOrStderr())
	if _, err := wo.Signer(); err != nil { // made now, so that its public key is shown at start
		return err
	}
	every, slackEvery, err := cfg.Audit.Intervals()
	if err != nil {
		return err
	}
	wo.Actor, wo.Auth = identity.Irtui().ID(), identity.Irtui().Auth()
	path, _, err := g.dbPath()
	if err != nil {
		return err
	}
	hostKeyPath := o.hostKey
	if hostKeyPath == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		hostKeyPath = filepath.Join(filepath.Dir(abs), serve.HostKeyName)
	}
	svc, err := g.service(cmd, cfg)
	if err != nil {
		return err
	}
	// The server will write: check the file now, in the background.
	svc.Store.CheckInBackground()
	defer svc.Store.Close()
	signer, created, err := serve.HostKey(hostKeyPath)
	if err != nil {
		return err
	}
	lib, err := g.library(cmd.Context())
	if err != nil {
		return err
	}
	warnFailed(cmd, lib)

	// The server's own work must not stop when the signal that ends it
	// arrives: it is what tells the sessions and waits for them.
	base := context.WithoutCancel(cmd.Context())
	var srv *serve.Server
	env := newAppEnv(cmd.Context(), svc, cfg, settings, g.loadOptions(), true, func(msg tea.Msg) {
		if srv != nil {
			srv.Broadcast(msg)
		}
	})
	env.runbooks = func() *runbook.Library { return lib }
	r := &remote{svc: svc, cfg: cfg, lib: lib, db: g.db, config: g.config, runbooks: g.runbooks}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)).With("component", "irtui serve")
	srv, err = serve.New(serve.Config{
		Store:       svc.Store,
		Identity:    directory(svc.Store),
		Clock:       clock.Real{},
		HostKey:     signer,
		IdleTimeout: o.idle,
		MaxSessions: o.maxSessions,
		Grace:       o.grace,
		App: func(s *serve.Session) tea.Model {
			notice := ""
			if d := svc.Store.Damage(); d != "" || svc.Store.Stopped() != nil {
				notice = "This database is marked damaged: nothing can be saved. " + d
			}
			return tui.New(env.deps(s.Context, s.Actor, notice, sessionLook(s, cfg)))
		},
		Command: r.run,
		Name:    commandName,
		Log:     log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	out := cmd.OutOrStdout()
	if created {
		fmt.Fprintf(out, "Created the host key %s.\n", hostKeyPath)
	}
	fmt.Fprintf(out, "irtui serve: listening on %s; host key %s %s (%s).\n", ln.Addr(), signer.PublicKey().Type(),
		gossh.FingerprintSHA256(signer.PublicKey()), hostKeyPath)
	if d, err := svc.Store.People(base); err == nil && !anyKeys(d) {
		fmt.Fprintln(cmd.ErrOrStderr(), "Nobody in the directory has an SSH key yet, so nobody can connect: list keys under "+
			"ssh_keys: and run `irtui directory import`. Keys take effect at once.")
	}

	workerCtx, stopWorker := context.WithCancel(base)
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		_ = env.worker.Run(workerCtx)
	}()
	witnessCtx, stopWitness := context.WithCancel(base)
	witnessDone := make(chan struct{})
	go func() {
		defer close(witnessDone)
		witness.Run(witnessCtx, svc.Store, wo, every, slackEvery, func(e witness.Event) {
			log.Warn("checkpoint", "event", e.Text, "fatal", e.Fatal)
			if e.Fatal {
				srv.Broadcast(tui.RecordAlertMsg{Text: e.Text})
			} else {
				srv.Broadcast(tui.NotifyProgressMsg{Text: e.Text, Alert: true})
			}
		})
	}()
	// stop ends the server's own work; the witness writes its last
	// checkpoint once the sessions and the worker are done.
	stop := func() {
		stopWorker()
		<-workerDone
		stopWitness()
		<-witnessDone
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case <-cmd.Context().Done(): // SIGTERM or SIGINT
	case err := <-served:
		stop()
		return err
	}
	fmt.Fprintf(out, "irtui serve: shutting down; telling %d session(s).\n", srv.Sessions())
	// A second signal does not wait any longer.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	go func() {
		if _, ok := <-again; ok {
			srv.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(base, o.grace+10*time.Second)
	defer cancel()
	err = srv.Shutdown(ctx)
	<-served
	stop()
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	fmt.Fprintln(out, "irtui serve: stopped.")
	return nil
}

// sessionLook is a session's palette and colour: the client's COLORFGBG
// if it sent one (SetEnv/SendEnv), else the configuration's ui.theme,
// else the client's terminal is asked; NO_COLOR from the client. Never
// the server's environment.
func sessionLook(s *serve.Session, cfg config.Config) look {
	dark := darkFromColorFGBG(s.Getenv("COLORFGBG"))
	if dark == nil {
		// A bad ui.theme stopped the server at start (loadConfig).
		dark, _ = chooseTheme("", cfg.UI.Theme, "")
	}
	return look{dark: dark, noColor: s.NoColor}
}

func anyKeys(people []store.Person) bool {
	for _, p := range people {
		if len(p.SSHKeys) > 0 {
			return true
		}
	}
	return false
}
