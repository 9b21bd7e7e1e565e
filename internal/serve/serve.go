// Package serve is `irtui serve`: an SSH server (charm.land/wish/v2) where
// each responder connects with their own key and works as the person the
// directory lists that key for. A session with a terminal and no command
// opens the app; a session with a command runs that CLI command. One
// process serves every session over one database, so a change made in one
// session reaches the others at once.
//
// Only public keys are accepted, and only keys listed for people in the
// directory (ssh_keys). Every refusal, and every session's start and end,
// is audited with the key's fingerprint and the remote address. Sessions
// end after an idle timeout, their number is capped, and Shutdown tells
// each session and waits for what is in flight.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	bm "charm.land/wish/v2/bubbletea"
	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// Defaults for irtui serve's flags.
const (
	DefaultListen      = "127.0.0.1:2222"
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxSessions = 32
	DefaultGrace       = 10 * time.Second
	// HostKeyName is the host key's file name in the data folder.
	HostKeyName = "ssh_host_ed25519_key"
)

// handshakeTimeout bounds how long a connection may take to authenticate.
const handshakeTimeout = 30 * time.Second

// directoryPoll is how often the server looks for changes to the
// directory made by other processes.
const directoryPoll = 2 * time.Second

// Config is what a Server needs. Store, Identity, HostKey, App and Command
// are required.
type Config struct {
	// Store is the database sessions, refusals and their ends are audited
	// in; Identity finds whose key a client holds.
	Store    *store.Store
	Identity *identity.Service
	Clock    clock.Clock
	// HostKey is the server's private key (see HostKey).
	HostKey gossh.Signer
	// IdleTimeout ends a session without input for this long (an app), or
	// without input or output (a command); 0: never.
	IdleTimeout time.Duration
	// MaxSessions caps the sessions open at once (DefaultMaxSessions if 0).
	MaxSessions int
	// Grace is how long Shutdown lets commands in progress finish before
	// it stops them (DefaultGrace if 0). Apps are told and closed at once,
	// after a moment for the actions in flight.
	Grace time.Duration
	// App builds the app for a session with a terminal and no command.
	App func(s *Session) tea.Model
	// Command runs a CLI command (args) for a session and returns its exit
	// status. It must stop when s.Context ends.
	Command func(s *Session, args []string, stdin io.Reader, stdout, stderr io.Writer) int
	// Name names the command args would run ("incident list"), for the
	// audit log, which records the command but not its arguments (they
	// may hold incident details, and the command audits what it does
	// itself). Nil: the first word.
	Name func(args []string) string
	// Log receives the server's log (connections, sessions, refusals);
	// nil: nothing is logged.
	Log *slog.Logger
}

// Session is one person's SSH session, as App and Command see it.
type Session struct {
	// ID numbers the sessions of this server, for its log.
	ID int64
	// Actor is who the key authenticated: the person, the key's
	// fingerprint and the remote address.
	Actor identity.Actor
	// Term, Width and Height are the client's terminal (none for a
	// command run without one).
	Term          string
	Width, Height int
	// NoColor: the client sent NO_COLOR (ssh -o SetEnv=NO_COLOR=1, or
	// SendEnv NO_COLOR).
	NoColor bool
	// Env is the environment the client sent (what its SendEnv/SetEnv
	// allow), "KEY=value"; see Getenv.
	Env []string
	// Context ends when the session does.
	Context context.Context
}

// Getenv is the value of key in the environment the client sent ("" if
// it sent none): the server's own environment is never a session's.
func (s *Session) Getenv(key string) string {
	for i := len(s.Env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(s.Env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// Server is irtui's SSH server.
type Server struct {
	cfg   Config
	srv   *ssh.Server
	log   *slog.Logger
	drain time.Duration

	base   context.Context // ends at Shutdown or Close: the server's own work
	cancel context.CancelFunc

	mu       sync.Mutex
	sessions map[ssh.Session]*active
	stopping bool
	seq      int64
	conns    int
	auth     map[string]*authState // by remote address, until the connection closes
	refused  map[string]*refusals  // refused sign-ins by host, in the current window
	wg       sync.WaitGroup        // session handlers
}

// New builds a server; Serve starts it.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil || cfg.Identity == nil:
		return nil, errors.New("serve: no store or identity service")
	case cfg.HostKey == nil:
		return nil, errors.New("serve: no host key")
	case cfg.App == nil || cfg.Command == nil:
		return nil, errors.New("serve: no app or command runner")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, drain: min(time.Second, cfg.Grace),
		sessions: map[ssh.Session]*active{}, auth: map[string]*authState{}, refused: map[string]*refusals{}}
	s.base, s.cancel = context.WithCancel(context.Background())
	srv, err := wish.NewServer(
		wish.WithPublicKeyAuth(s.publicKey),
		// Neither password nor keyboard-interactive authentication is
		// configured, so neither is offered or accepted.
		wish.WithMiddleware(bm.MiddlewareWithProgramHandler(s.program), s.session),
		func(srv *ssh.Server) error {
			srv.AddHostKey(cfg.HostKey)
			srv.HandshakeTimeout = handshakeTimeout
			if cfg.IdleTimeout > 0 {
				// A backstop for connections without a session, or without
				// any traffic; sessions have their own, gentler timeout.
				srv.IdleTimeout = cfg.IdleTimeout + 30*time.Second
			}
			srv.ServerConfigCallback = s.serverConfig
			srv.ConnCallback = s.connOpened
			srv.ConnectionCloseCallback = s.connClosed
			srv.ConnectionFailedCallback = s.connFailed
			return nil
		},
	)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.srv = srv
	return s, nil
}

// Serve accepts connections on ln until Shutdown or Close. It returns nil
// after those, or why it stopped.
func (s *Server) Serve(ln net.Listener) error {
	go s.watchDirectory()
	go s.watchRefusals()
	err := s.srv.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) || s.isStopping() {
		return nil
	}
	return err
}

// Sessions is the number of sessions open now.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Broadcast sends msg to the app of every session (a delivery worker's
// progress, say). It does not wait for them.
func (s *Server) Broadcast(msg tea.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.sessions {
		if p := a.program(); p != nil {
			go p.Send(msg)
		}
	}
}

// Shutdown stops the server gracefully: it accepts no more connections,
// tells every session that the server is stopping, lets apps finish the
// actions in flight (input stops at once; each action is one durable
// commit, so whatever an app confirmed is saved), lets commands finish for
// up to Grace and then stops them, and closes every connection once the
// sessions have ended or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	open := make([]*active, 0, len(s.sessions))
	for _, a := range s.sessions {
		open = append(open, a)
	}
	s.mu.Unlock()

	// Close the listeners at once; the wait that Shutdown does for the
	// connections is done below, with each session told first.
	now, cancel := context.WithCancel(ctx)
	cancel()
	_ = s.srv.Shutdown(now)

	s.log.Info("shutting down", "sessions", len(open))
	for _, a := range open {
		a.stop(endShutdown, false)
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(s.cfg.Grace)
	defer grace.Stop()
	var err error
	select {
	case <-done:
	case <-grace.C:
		s.mu.Lock()
		for _, a := range s.sessions {
			a.force() // commands still running after the grace period
		}
		s.mu.Unlock()
		select {
		case <-done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Clients leave once their sessions ended; closing their connections
	// under them would make them report an error (OpenSSH: "Connection
	// reset by peer", exit 255) after a clean end. Wait a moment for that.
	if err == nil {
		wait, cancel := context.WithTimeout(ctx, connectionsLeave)
		_ = s.srv.Shutdown(wait)
		cancel()
	}
	s.flushRefusals(s.cfg.Clock.Now(), true)
	s.cancel()
	if cerr := s.srv.Close(); err == nil && cerr != nil && !isClosed(cerr) {
		err = cerr
	}
	return err
}

// connectionsLeave is how long Shutdown waits, after the last session
// ended, for the clients to close their connections.
const connectionsLeave = 2 * time.Second

// Close closes every connection at once, without telling anyone.
func (s *Server) Close() error {
	s.mu.Lock()
	s.stopping = true
	s.mu.Unlock()
	s.flushRefusals(s.cfg.Clock.Now(), true)
	s.cancel()
	if err := s.srv.Close(); err != nil && !isClosed(err) {
		return err
	}
	return nil
}

func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

func (s *Server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// watchDirectory ends the sessions whose key no longer belongs to their
// person, as soon as a change is committed in this process, or within
// directoryPoll of one committed by another (a local `irtui directory
// import` beside the server): actions would be refused anyway (every
// service checks the key again), and a session should not stay open for
// someone the directory no longer lists.
func (s *Server) watchDirectory() {
	tick := time.NewTicker(directoryPoll)
	defer tick.Stop()
	var seen int64
	for {
		select {
		case <-s.base.Done():
			return
		case <-s.cfg.Store.Changed():
		case <-tick.C:
			v, err := s.cfg.Store.Version(s.base)
			if err != nil || v == seen {
				continue
			}
			seen = v
		}
		s.mu.Lock()
		open := make([]*active, 0, len(s.sessions))
		for _, a := range s.sessions {
			open = append(open, a)
		}
		s.mu.Unlock()
		for _, a := range open {
			p, err := s.cfg.Identity.PersonByKey(s.base, a.info.Actor.Key)
			if errors.Is(err, store.ErrNotFound) || err == nil && p.ID != a.info.Actor.Person {
				a.stop(endRevoked, true)
			}
		}
	}
}

// audit appends an audit entry for a in a transaction of its own.
func (s *Server) audit(a identity.Actor, action, outcome, detail string) {
	identity.Record(s.base, s.cfg.Store, s.cfg.Clock.Now(), a, action, "", outcome, detail)
}
