package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	bm "charm.land/wish/v2/bubbletea"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// endReason is why a session ended.
type endReason uint8

const (
	endClosed       endReason = iota // the person quit, or the command finished
	endDisconnected                  // the connection went away
	endIdle
	endShutdown
	endRevoked
)

func (r endReason) String() string {
	switch r {
	case endDisconnected:
		return "disconnected"
	case endIdle:
		return "idle"
	case endShutdown:
		return "server shutting down"
	case endRevoked:
		return "key removed from the directory"
	}
	return "closed"
}

// notice is what the person reads when the server ends their session.
func (r endReason) notice(s *Server) string {
	switch r {
	case endIdle:
		return fmt.Sprintf("irtui serve closed this session after %s without input. Every action irtui confirmed is saved.",
			s.cfg.IdleTimeout)
	case endShutdown:
		return "irtui serve is shutting down; this session is closed. Every action irtui confirmed is saved; connect again when it is back."
	case endRevoked:
		return "Your key is no longer in irtui's directory; this session is closed."
	}
	return ""
}

// active is a session in progress.
type active struct {
	s       *Server
	sess    ssh.Session
	info    Session
	app     bool
	started time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	last    atomic.Int64 // unix nanoseconds of the last input (or, for a command, output)

	mu      sync.Mutex
	prog    *tea.Program
	stopped bool
	reason  endReason
	// forced: a command was stopped before it finished (an app always is).
	forced bool
}

func (a *active) program() *tea.Program {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.prog
}

func (a *active) touch() { a.last.Store(time.Now().UnixNano()) }

// stop ends the session for r. An app is told (its last line says why),
// takes no more input, and closes after a moment for the actions in
// flight. A command is stopped at once if now, else left to finish
// (Shutdown stops it after the grace period).
func (a *active) stop(r endReason, now bool) {
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return
	}
	a.stopped, a.reason = true, r
	a.forced = a.app || now
	p := a.prog
	a.mu.Unlock()
	switch {
	case a.app && p != nil:
		go p.Send(stopMsg{text: r.notice(a.s)})
		// An app that does not close (it is stuck) is not waited for.
		time.AfterFunc(a.s.drain+2*time.Second, p.Kill)
	case a.app:
		// Its program is not built yet, and will not be (see program).
	case now:
		a.cancel()
	}
}

// force stops a command that is still running when the grace period
// of a shutdown is over.
func (a *active) force() {
	a.mu.Lock()
	a.forced = true
	a.mu.Unlock()
	a.cancel()
}

// watchIdle ends the session after IdleTimeout without activity.
func (a *active) watchIdle() {
	idle := a.s.cfg.IdleTimeout
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		since := time.Since(time.Unix(0, a.last.Load()))
		if since >= idle {
			a.stop(endIdle, true)
			return
		}
		t.Reset(idle - since)
	}
}

// session is the middleware every session passes: it finds the person,
// applies the cap, audits the start and the end, and runs the app (the
// next handler, Bubble Tea's) or the command.
func (s *Server) session(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		a, err := s.open(sess)
		if err != nil {
			fmt.Fprintf(sess.Stderr(), "irtui serve: %v\n", err)
			_ = sess.Exit(1)
			return
		}
		code := 0
		if a.app {
			next(sess)
		} else {
			code = s.command(a, sess)
		}
		s.close(a, code)
	}
}

// open starts a session: the key's owner, now, in a session the cap
// allows, recorded in the audit log before anything else happens. A
// session that cannot be recorded does not start.
func (s *Server) open(sess ssh.Session) (*active, error) {
	pk := sess.PublicKey()
	if pk == nil {
		return nil, errors.New("sign in with a key listed in irtui's directory")
	}
	actor := identity.Actor{Method: identity.SSH, Key: gossh.FingerprintSHA256(pk), Remote: addr(sess.RemoteAddr())}
	p, err := s.cfg.Identity.PersonByKey(s.base, actor.Key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			s.audit(actor, actionStart, store.OutcomeRefused, "the key is no longer in the directory")
			return nil, errors.New("your key is not in irtui's directory")
		}
		s.audit(actor, actionStart, store.OutcomeFailed, "cannot look the key up: "+err.Error())
		return nil, errors.New("cannot check your key now; try again")
	}
	actor.Person = p.ID

	pty, _, isPty := sess.Pty()
	a := &active{s: s, sess: sess, started: s.cfg.Clock.Now(), app: isPty && len(sess.Command()) == 0}
	a.info = Session{Actor: actor, Term: pty.Term, Width: pty.Window.Width, Height: pty.Window.Height,
		Env: sess.Environ()}
	a.info.NoColor = a.info.Getenv("NO_COLOR") != ""
	a.ctx, a.cancel = context.WithCancel(sess.Context())
	a.info.Context = a.ctx
	a.touch()

	s.mu.Lock()
	switch {
	case s.stopping:
		err = errors.New("irtui serve is shutting down; connect again when it is back")
	case len(s.sessions) >= s.cfg.MaxSessions:
		err = fmt.Errorf("irtui serve has %d sessions open, its limit; try again later", len(s.sessions))
	default:
		s.seq++
		a.info.ID = s.seq
		s.sessions[sess] = a
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if err != nil {
		a.cancel()
		s.log.Warn("refused a session", "person", actor.Person, "key", actor.Key, "remote", actor.Remote, "why", err)
		s.audit(actor, actionStart, store.OutcomeRefused, a.describe()+": "+err.Error())
		return nil, err
	}

	// The check and the record share a transaction, so the session starts
	// only for someone the directory lists at that moment. Like the audit
	// entry of a read, it does not wait for the disk (a power cut could
	// take only the newest of such entries, never one in the middle of
	// the chain), so that many people connecting at once do not queue
	// behind one another's disk syncs; a crash of the process loses none.
	now := s.cfg.Clock.Now()
	err = s.cfg.Store.UpdateNoSync(s.base, func(tx *store.Tx) error {
		if _, err := identity.Check(s.base, tx, actor, identity.Scope{}); err != nil {
			return err
		}
		return tx.AppendAudit(s.base, &store.AuditEntry{At: now, Actor: actor.ID(), Auth: actor.Auth(),
			Action: actionStart, Outcome: store.OutcomeOK, Detail: a.describe()})
	})
	if err != nil {
		s.forget(a)
		a.cancel()
		if errors.Is(err, identity.ErrDenied) {
			s.audit(actor, actionStart, store.OutcomeRefused, err.Error())
			return nil, err
		}
		s.audit(actor, actionStart, store.OutcomeFailed, err.Error())
		return nil, errors.New("cannot record this session in the audit log, so it does not start")
	}
	s.log.Info("session started", "id", a.info.ID, "person", actor.Person, "key", actor.Key, "remote", actor.Remote,
		"what", a.describe())
	if s.cfg.IdleTimeout > 0 {
		go a.watchIdle()
	}
	return a, nil
}

// close ends a session: it says why the server ended it, audits the end
// and sends the exit status.
func (s *Server) close(a *active, code int) {
	a.mu.Lock()
	stopped, reason, forced := a.stopped, a.reason, a.forced
	a.mu.Unlock()
	if !stopped && a.sess.Context().Err() != nil {
		reason = endDisconnected
	}
	a.cancel()
	// A command that finished by itself during a shutdown says nothing
	// more: its output stays what a script expects.
	if stopped && forced {
		fmt.Fprintf(a.sess.Stderr(), "\nirtui serve: %s\n", reason.notice(s))
	}
	detail := fmt.Sprintf("%s, %s after %s", kind(a), reason, s.cfg.Clock.Now().Sub(a.started).Round(time.Second))
	if !a.app {
		detail += fmt.Sprintf(", exit status %d", code)
	}
	s.audit(a.info.Actor, actionEnd, store.OutcomeOK, detail)
	s.log.Info("session ended", "id", a.info.ID, "person", a.info.Actor.Person, "key", a.info.Actor.Key,
		"remote", a.info.Actor.Remote, "why", reason.String())
	// Out of the count before the client learns it ended, so that it can
	// connect again at once; waited for (Shutdown) until the status went.
	s.mu.Lock()
	delete(s.sessions, a.sess)
	s.mu.Unlock()
	_ = a.sess.Exit(code)
	s.wg.Done()
}

func (s *Server) forget(a *active) {
	s.mu.Lock()
	delete(s.sessions, a.sess)
	s.mu.Unlock()
	s.wg.Done()
}

func kind(a *active) string {
	if a.app {
		return "app"
	}
	return "command"
}

// describe says what the session is, for the audit log: the app and the
// terminal, or the command's words (not its arguments, which may hold
// incident details; the command audits what it does itself).
func (a *active) describe() string {
	if a.app {
		return fmt.Sprintf("app in a %dx%d %s terminal", a.info.Width, a.info.Height, quote(a.info.Term))
	}
	args := a.sess.Command()
	name := ""
	switch {
	case a.s.cfg.Name != nil:
		name = a.s.cfg.Name(args)
	case len(args) > 0:
		name = args[0]
	}
	if name == "" {
		return "command"
	}
	return "command: " + quoteWords(name)
}

// quoteWords keeps a command's name readable when it is plain words, and
// quotes it otherwise: it may come from the client.
func quoteWords(s string) string {
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '-' && r != ' ' {
			return quote(s)
		}
	}
	if len(s) > 64 {
		return quote(s)
	}
	return s
}

// command runs the session's command with its output and exit status
// going back to the client.
func (s *Server) command(a *active, sess ssh.Session) int {
	args := sess.Command()
	if len(args) == 0 {
		fmt.Fprintln(sess.Stderr(), "irtui serve: this session has no terminal, so the app cannot open. "+
			"Connect with a terminal (ssh -t), or give a command: ssh -p PORT HOST -- incident list")
		return 2
	}
	in := &activityReader{r: sess, a: a}
	out := &activityWriter{w: sess, a: a}
	errw := &activityWriter{w: sess.Stderr(), a: a}
	return s.cfg.Command(&a.info, args, in, out, errw)
}

// program builds the app's Bubble Tea program for a session with a
// terminal: the client's input, output, window size and colour profile
// (from its environment, not the server's), no signal handling of its own
// (the server handles SIGTERM for every session).
func (s *Server) program(sess ssh.Session) *tea.Program {
	s.mu.Lock()
	a := s.sessions[sess]
	s.mu.Unlock()
	if a == nil || !a.app {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return nil // ended before it began: nothing to run
	}
	// No context of its own: when the client goes away, the middleware
	// quits the program, which ends quietly.
	m := &model{app: s.cfg.App(&a.info), a: a, drain: s.drain, width: a.info.Width}
	a.prog = tea.NewProgram(m, append(bm.MakeOptions(sess), tea.WithoutSignalHandler())...)
	return a.prog
}

// stopMsg tells a session's app that the server is ending the session.
type stopMsg struct{ text string }

// model wraps a session's app: it notes input for the idle timeout, and
// when the server ends the session it shows why on the last line, takes
// no more input, and quits after a moment for the actions in flight.
type model struct {
	app    tea.Model
	a      *active
	drain  time.Duration
	width  int
	notice string
}

func (m *model) Init() tea.Cmd { return m.app.Init() }

func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case stopMsg:
		if m.notice != "" {
			return m, nil
		}
		m.notice = msg.text
		return m, tea.Tick(m.drain, func(time.Time) tea.Msg { return tea.QuitMsg{} })
	case tea.WindowSizeMsg:
		m.width = msg.Width
	case tea.KeyMsg, tea.PasteMsg, tea.PasteStartMsg, tea.PasteEndMsg, tea.MouseMsg:
		if m.notice != "" {
			return m, nil
		}
		m.a.touch()
	}
	app, cmd := m.app.Update(msg)
	m.app = app
	return m, cmd
}

func (m *model) View() tea.View {
	v := m.app.View()
	if m.notice != "" {
		v.Content = withNotice(v.Content, m.notice, m.width)
	}
	return v
}

// withNotice puts text, in reverse video, on the last line of a frame.
func withNotice(frame, text string, width int) string {
	lines := strings.Split(frame, "\n")
	if width <= 0 {
		width = ansi.StringWidth(lines[len(lines)-1])
	}
	line := ansi.Truncate(" "+text, max(width, 1), "…")
	if pad := width - ansi.StringWidth(line); pad > 0 {
		line += strings.Repeat(" ", pad)
	}
	lines[len(lines)-1] = "\x1b[7m" + line + "\x1b[m"
	return strings.Join(lines, "\n")
}

// activityReader and activityWriter note a command's input and output
// for the idle timeout.
type activityReader struct {
	r io.Reader
	a *active
}

func (r *activityReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.a.touch()
	}
	return n, err
}

type activityWriter struct {
	w io.Writer
	a *active
}

func (w *activityWriter) Write(p []byte) (int, error) {
	w.a.touch()
	return w.w.Write(p)
}
