package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// These tests run the real server on loopback with the real SSH client of
// golang.org/x/crypto/ssh. The app is a small stand-in that shows what the
// session gave it; cmd/irtui's tests run irtui's own app and commands.

type person struct {
	id     string
	signer gossh.Signer
	fp     string
}

func newKey(t *testing.T) (gossh.Signer, string, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
	return signer, line, gossh.FingerprintSHA256(signer.PublicKey())
}

type fixture struct {
	t      *testing.T
	db     string
	st     *store.Store
	srv    *Server
	addr   string
	host   gossh.PublicKey
	people map[string]person
	served chan error
	// commands records the sessions commands ran for.
	mu       sync.Mutex
	commands []Session
}

// start runs a server with alice and bob in the directory; adjust changes
// its configuration first.
func start(t *testing.T, adjust func(*Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "irtui.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, db: db, st: st, people: map[string]person{}, served: make(chan error, 1)}
	var d store.Directory
	for _, id := range []string{"alice", "bob"} {
		signer, line, fp := newKey(t)
		f.people[id] = person{id: id, signer: signer, fp: fp}
		d.People = append(d.People, store.Person{ID: id, Name: id, SSHKeys: []string{line}, Permissions: []string{"admin"}})
	}
	if _, err := st.ImportDirectory(ctx, "test", d); err != nil {
		t.Fatal(err)
	}
	hostKey, created, err := HostKey(filepath.Join(dir, "data", HostKeyName))
	if err != nil || !created {
		t.Fatalf("host key: %v (created %v)", err, created)
	}
	f.host = hostKey.PublicKey()
	cfg := Config{
		Store:    st,
		Identity: &identity.Service{Store: st, Clock: clock.Real{}},
		HostKey:  hostKey,
		Grace:    2 * time.Second,
		App:      func(s *Session) tea.Model { return &probe{s: s} },
		Command:  f.command,
	}
	if adjust != nil {
		adjust(&cfg)
	}
	f.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	go func() { f.served <- f.srv.Serve(ln) }()
	t.Cleanup(func() { f.srv.Close() })
	return f
}

// command is the stand-in CLI: "say WORDS" prints them, "fail N" exits
// N, "wait" runs until the session ends or a line arrives, "slow D"
// takes D and then says so.
func (f *fixture) command(s *Session, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f.mu.Lock()
	f.commands = append(f.commands, *s)
	f.mu.Unlock()
	switch args[0] {
	case "say":
		fmt.Fprintf(stdout, "%s: %s\n", s.Actor.Person, strings.Join(args[1:], " "))
		return 0
	case "fail":
		fmt.Fprintln(stderr, "failed as asked")
		var n int
		fmt.Sscan(args[1], &n)
		return n
	case "slow":
		d, _ := time.ParseDuration(args[1])
		select {
		case <-time.After(d):
			fmt.Fprintln(stdout, "finished")
			return 0
		case <-s.Context.Done():
			fmt.Fprintln(stderr, "stopped")
			return 130
		}
	case "wait":
		<-s.Context.Done()
		fmt.Fprintln(stderr, "stopped")
		return 130
	}
	fmt.Fprintf(stderr, "unknown command %q\n", args[0])
	return 2
}

// probe is the stand-in app: it shows who it runs for, its size and
// colour setting, and the keys it got; q quits.
type probe struct {
	s    *Session
	w, h int
	keys []string
}

func (p *probe) Init() tea.Cmd { return nil }

func (p *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		p.w, p.h = msg.Width, msg.Height
	case tea.KeyPressMsg:
		if msg.String() == "q" {
			return p, tea.Quit
		}
		p.keys = append(p.keys, msg.String())
	}
	return p, nil
}

// View puts each key on a line of its own: the renderer writes only what
// changed, and a new line is written whole.
func (p *probe) View() tea.View {
	var b strings.Builder
	fmt.Fprintf(&b, "app for %s size %dx%d nocolor=%v\n", p.s.Actor.Person, p.w, p.h, p.s.NoColor)
	for i, k := range p.keys {
		fmt.Fprintf(&b, "key %d=%s\n", i+1, k)
	}
	b.WriteString("status line")
	return tea.NewView(b.String())
}

func (f *fixture) dial(auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", f.addr, &gossh.ClientConfig{
		User:            "whoever",
		Auth:            auth,
		HostKeyCallback: gossh.FixedHostKey(f.host),
		Timeout:         10 * time.Second,
	})
}

func (f *fixture) as(id string) *gossh.Client {
	f.t.Helper()
	c, err := f.dial(gossh.PublicKeys(f.people[id].signer))
	if err != nil {
		f.t.Fatalf("%s cannot connect: %v", id, err)
	}
	f.t.Cleanup(func() { c.Close() })
	return c
}

func (f *fixture) audit() []store.AuditEntry {
	f.t.Helper()
	a, err := f.st.Audit(context.Background(), store.AuditFilter{})
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// waitAudit waits until an audit entry matches.
func (f *fixture) waitAudit(match func(store.AuditEntry) bool) store.AuditEntry {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range f.audit() {
			if match(e) {
				return e
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatalf("no such audit entry; the log:\n%s", dumpAudit(f.audit()))
	return store.AuditEntry{}
}

func dumpAudit(a []store.AuditEntry) string {
	var b strings.Builder
	for _, e := range a {
		fmt.Fprintf(&b, "  %s %s %s [%s] %s\n", e.Action, e.Outcome, e.Actor, e.Auth, e.Detail)
	}
	return b.String()
}

// terminal is an app session: a PTY, a shell, and what the server wrote.
type terminal struct {
	t    *testing.T
	sess *gossh.Session
	in   io.WriteCloser
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

func (w *terminal) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(p)
}

func (w *terminal) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.String()
}

func (w *terminal) waitFor(want string) {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(w.text(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.t.Fatalf("the session never showed %q; it showed %q", want, w.text())
}

func openTerminal(t *testing.T, c *gossh.Client, w, h int, env map[string]string) *terminal {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if err := sess.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, sess: sess, done: make(chan error, 1)}
	sess.Stdout, sess.Stderr = term, term
	if term.in, err = sess.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	go func() { term.done <- sess.Wait() }()
	return term
}

func (w *terminal) wait() error {
	w.t.Helper()
	select {
	case err := <-w.done:
		return err
	case <-time.After(15 * time.Second):
		w.t.Fatalf("the session did not end; it showed %q", w.text())
		return nil
	}
}

func exitStatus(err error) int {
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus()
	}
	if err == nil {
		return 0
	}
	return -1
}

func TestUnknownKeyIsRefusedAndAudited(t *testing.T) {
	f := start(t, nil)
	stranger, _, fp := newKey(t)
	_, err := f.dial(gossh.PublicKeys(stranger))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("an unknown key was not refused: %v", err)
	}
	e := f.waitAudit(func(e store.AuditEntry) bool { return e.Action == actionAuth })
	if e.Outcome != store.OutcomeRefused || e.Actor != "ssh:"+fp || !strings.HasPrefix(e.Auth, "ssh:"+fp+" from 127.0.0.1:") ||
		!strings.Contains(e.Detail, fp) || !strings.Contains(e.Detail, `SSH user "whoever"`) {
		t.Fatalf("the refusal is not audited with the key and the address: %+v", e)
	}
	if n := len(f.audit()); n != 2 { // the import, and the refusal once
		t.Fatalf("want the refusal audited once:\n%s", dumpAudit(f.audit()))
	}
}

func TestPasswordsAreNeverAccepted(t *testing.T) {
	f := start(t, nil)
	_, err := f.dial(gossh.Password("alice"), gossh.KeyboardInteractive(
		func(string, string, []string, []bool) ([]string, error) { return nil, nil }))
	if err == nil || !strings.Contains(err.Error(), "no supported methods remain") {
		t.Fatalf("a password client was not refused: %v", err)
	}
	e := f.waitAudit(func(e store.AuditEntry) bool { return e.Action == actionAuth })
	if e.Outcome != store.OutcomeRefused || !strings.Contains(e.Detail, "offered no key") ||
		!strings.HasPrefix(e.Auth, "ssh:none from 127.0.0.1:") {
		t.Fatalf("not audited as a client without a key: %+v", e)
	}
}

func TestCommandRunsAsTheKeysOwnerWithItsExitStatus(t *testing.T) {
	f := start(t, nil)
	c := f.as("bob")
	out, err := run(t, c, "say hello there")
	if err != nil || out != "bob: hello there\n" {
		t.Fatalf("say: %q, %v", out, err)
	}
	_, err = run(t, c, "fail 3")
	if exitStatus(err) != 3 {
		t.Fatalf("want exit status 3, got %v", err)
	}
	f.mu.Lock()
	got := f.commands[0].Actor
	f.mu.Unlock()
	want := identity.Actor{Person: "bob", Method: identity.SSH, Key: f.people["bob"].fp, Remote: got.Remote}
	if got != want || !strings.HasPrefix(got.Remote, "127.0.0.1:") {
		t.Fatalf("the command ran as %+v", got)
	}
	start := f.waitAudit(func(e store.AuditEntry) bool { return e.Action == actionStart })
	end := f.waitAudit(func(e store.AuditEntry) bool {
		return e.Action == actionEnd && strings.Contains(e.Detail, "exit status 3")
	})
	for _, e := range []store.AuditEntry{start, end} {
		if e.Actor != "bob" || e.Outcome != store.OutcomeOK || e.Auth != want.Auth() {
			t.Fatalf("session not audited as bob with the key: %+v", e)
		}
	}
	if start.Detail != "command: say" { // Config.Name is not set
		t.Fatalf("the start should name the command, not its arguments: %q", start.Detail)
	}
	// No terminal and no command: nothing to open.
	if _, err := run(t, c, ""); exitStatus(err) != 2 {
		t.Fatalf("an empty command: %v", err)
	}
}

func run(t *testing.T, c *gossh.Client, cmd string) (string, error) {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var out bytes.Buffer
	sess.Stdout = &out
	if cmd == "" {
		err = sess.Shell()
		if err == nil {
			err = sess.Wait()
		}
	} else {
		err = sess.Run(cmd)
	}
	return out.String(), err
}

func TestAppFollowsTheClientsWindowAndColours(t *testing.T) {
	f := start(t, nil)
	term := openTerminal(t, f.as("alice"), 100, 30, map[string]string{"NO_COLOR": "1"})
	term.waitFor("app for alice size 100x30 nocolor=true")
	if err := term.sess.WindowChange(40, 120); err != nil {
		t.Fatal(err)
	}
	term.waitFor("size 120x40")
	io.WriteString(term.in, "xy")
	term.waitFor("key 2=y")
	io.WriteString(term.in, "q")
	if err := term.wait(); err != nil {
		t.Fatalf("quitting the app: %v", err)
	}
	// Another session, another colour setting.
	other := openTerminal(t, f.as("bob"), 80, 24, nil)
	other.waitFor("app for bob size 80x24 nocolor=false")
	io.WriteString(other.in, "q")
	other.wait()
	e := f.waitAudit(func(e store.AuditEntry) bool { return e.Action == actionStart && e.Actor == "alice" })
	if e.Detail != `app in a 100x30 "xterm-256color" terminal` {
		t.Fatalf("start: %+v", e)
	}
	f.waitAudit(func(e store.AuditEntry) bool {
		return e.Action == actionEnd && e.Actor == "alice" && strings.HasPrefix(e.Detail, "app, closed after")
	})
}

func TestIdleSessionsAreClosed(t *testing.T) {
	f := start(t, func(c *Config) { c.IdleTimeout = 400 * time.Millisecond })
	term := openTerminal(t, f.as("alice"), 80, 24, nil)
	term.waitFor("app for alice")
	// Typing keeps it open.
	for i := 0; i < 6; i++ {
		time.Sleep(150 * time.Millisecond)
		io.WriteString(term.in, "k")
	}
	term.waitFor("key 6=k")
	if err := term.wait(); err != nil {
		t.Fatalf("idle app: %v", err)
	}
	if !strings.Contains(term.text(), "after 400ms without input") {
		t.Fatalf("the session was not told why it closed: %q", term.text())
	}
	f.waitAudit(func(e store.AuditEntry) bool {
		return e.Action == actionEnd && strings.HasPrefix(e.Detail, "app, idle after")
	})
	// A command waiting for nothing is closed too.
	_, err := run(t, f.as("bob"), "wait")
	if exitStatus(err) != 130 {
		t.Fatalf("idle command: %v", err)
	}
	f.waitAudit(func(e store.AuditEntry) bool {
		return e.Action == actionEnd && strings.HasPrefix(e.Detail, "command, idle after")
	})
}

func TestSessionCap(t *testing.T) {
	f := start(t, func(c *Config) { c.MaxSessions = 2 })
	a := openTerminal(t, f.as("alice"), 80, 24, nil)
	b := openTerminal(t, f.as("bob"), 80, 24, nil)
	a.waitFor("app for alice")
	b.waitFor("app for bob")
	third := openTerminal(t, f.as("alice"), 80, 24, nil)
	if err := third.wait(); exitStatus(err) != 1 || !strings.Contains(third.text(), "2 sessions open, its limit") {
		t.Fatalf("a third session: %v, %q", err, third.text())
	}
	e := f.waitAudit(func(e store.AuditEntry) bool {
		return e.Action == actionStart && e.Outcome == store.OutcomeRefused
	})
	if e.Actor != "alice" || !strings.Contains(e.Detail, "its limit") {
		t.Fatalf("refusal: %+v", e)
	}
	// Once one closes, there is room again.
	io.WriteString(b.in, "q")
	b.wait()
	if out, err := run(t, f.as("bob"), "say again"); err != nil || out != "bob: again\n" {
		t.Fatalf("after one closed: %q %v", out, err)
	}
	// bob's command session is forgotten just after its exit status went.
	deadline := time.Now().Add(5 * time.Second)
	for f.srv.Sessions() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.srv.Sessions(); n != 1 {
		t.Fatalf("%d sessions open, want alice's", n)
	}
}

func TestShutdownTellsSessionsAndLetsCommandsFinish(t *testing.T) {
	f := start(t, nil)
	app := openTerminal(t, f.as("alice"), 80, 24, nil)
	app.waitFor("app for alice")
	cmd, err := f.as("bob").NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start("slow 700ms"); err != nil {
		t.Fatal(err)
	}
	cmdDone := make(chan error, 1)
	go func() { cmdDone <- cmd.Wait() }()
	for f.srv.Sessions() < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-f.served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if err := app.wait(); err != nil && exitStatus(err) != 0 {
		t.Fatalf("app: %v", err)
	}
	if !strings.Contains(app.text(), "irtui serve is shutting down") {
		t.Fatalf("the app was not told: %q", app.text())
	}
	if err := <-cmdDone; err != nil || out.String() != "finished\n" || errb.Len() > 0 {
		t.Fatalf("the command did not finish as it would have: %v %q %q", err, out.String(), errb.String())
	}
	for _, who := range []string{"alice", "bob"} {
		f.waitAudit(func(e store.AuditEntry) bool {
			return e.Action == actionEnd && e.Actor == who && strings.Contains(e.Detail, "server shutting down")
		})
	}
	if _, err := f.dial(gossh.PublicKeys(f.people["alice"].signer)); err == nil {
		t.Fatal("the server still takes connections")
	}
}

func TestShutdownStopsCommandsAfterTheGracePeriod(t *testing.T) {
	f := start(t, func(c *Config) { c.Grace = 300 * time.Millisecond })
	sess, err := f.as("bob").NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	sess.Stderr = &errb
	if err := sess.Start("wait"); err != nil {
		t.Fatal(err)
	}
	for f.srv.Sessions() < 1 {
		time.Sleep(10 * time.Millisecond)
	}
	began := time.Now()
	if err := f.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := sess.Wait(); exitStatus(err) != 130 {
		t.Fatalf("the command: %v", err)
	}
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Fatalf("stopped after %s, before the grace period", took)
	}
	if !strings.Contains(errb.String(), "stopped") || !strings.Contains(errb.String(), "shutting down") {
		t.Fatalf("stderr: %q", errb.String())
	}
}

func TestRemovingAKeyEndsItsSessions(t *testing.T) {
	f := start(t, nil)
	term := openTerminal(t, f.as("alice"), 80, 24, nil)
	term.waitFor("app for alice")
	_, line, _ := newKey(t)
	d := store.Directory{People: []store.Person{{ID: "alice", Name: "alice", SSHKeys: []string{line}, Permissions: []string{"admin"}}}}
	if _, err := f.st.ImportDirectory(context.Background(), "test", d); err != nil {
		t.Fatal(err)
	}
	term.wait()
	if !strings.Contains(term.text(), "no longer in irtui's directory") {
		t.Fatalf("not told: %q", term.text())
	}
	f.waitAudit(func(e store.AuditEntry) bool {
		return e.Action == actionEnd && strings.Contains(e.Detail, "key removed from the directory")
	})
	if _, err := f.dial(gossh.PublicKeys(f.people["alice"].signer)); err == nil {
		t.Fatal("the old key still connects")
	}
}

// Another process (a local `irtui directory import` beside the server)
// takes bob's key away: his session ends too.
func TestKeyRemovedByAnotherProcessEndsItsSessions(t *testing.T) {
	f := start(t, nil)
	term := openTerminal(t, f.as("bob"), 80, 24, nil)
	term.waitFor("app for bob")
	other, err := store.Open(context.Background(), f.db)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, line, _ := newKey(t)
	d := store.Directory{People: []store.Person{{ID: "bob", Name: "bob", SSHKeys: []string{line}, Permissions: []string{"admin"}}}}
	if _, err := other.ImportDirectory(context.Background(), "test", d); err != nil {
		t.Fatal(err)
	}
	term.wait()
	if !strings.Contains(term.text(), "no longer in irtui's directory") {
		t.Fatalf("not told: %q", term.text())
	}
}

func TestHostKeyIsCreatedPrivateAndKept(t *testing.T) {
	start(t, nil)
	// wish writes id_ed25519 to the current directory when a server has
	// no host key; this one has its own.
	if _, err := os.Stat("id_ed25519"); err == nil {
		t.Fatal("a host key was written to the current directory")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "new", HostKeyName)
	k1, created, err := HostKey(path)
	if err != nil || !created {
		t.Fatalf("%v %v", created, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("host key mode %v", st.Mode())
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Fatalf("folder mode %v", st.Mode())
	}
	k2, created, err := HostKey(path)
	if err != nil || created || !bytes.Equal(k1.PublicKey().Marshal(), k2.PublicKey().Marshal()) {
		t.Fatalf("the second start did not reuse the key: %v %v", created, err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := HostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a readable host key: %v", err)
	}
	os.Chmod(path, 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(path, link)
	if _, _, err := HostKey(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a link: %v", err)
	}
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	if _, _, err := HostKey(garbage); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Fatalf("garbage: %v", err)
	}
}

// TestRefusalsAreCountedBeyondABudget: a client that keeps offering
// unknown keys gets its first refusals audited one by one, and the rest
// counted and audited as one entry when the server stops, so nobody who
// cannot sign in can fill the audit log, and no refusal goes unrecorded.
func TestRefusalsAreCountedBeyondABudget(t *testing.T) {
	f := start(t, nil)
	const tries = refusalBudget + 7
	for range tries {
		stranger, _, _ := newKey(t)
		if _, err := f.dial(gossh.PublicKeys(stranger)); err == nil {
			t.Fatal("an unknown key was accepted")
		}
	}
	one := func() (n int, summary []store.AuditEntry) {
		for _, e := range f.audit() {
			switch {
			case e.Action != actionAuth || e.Outcome != store.OutcomeRefused:
			case strings.Contains(e.Detail, "counted, not audited one by one"):
				summary = append(summary, e)
			default:
				n++
			}
		}
		return n, summary
	}
	if n, summary := one(); n != refusalBudget || len(summary) != 0 {
		t.Fatalf("want %d refusals audited one by one and none summed up yet; got %d and %d:\n%s",
			refusalBudget, n, len(summary), dumpAudit(f.audit()))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	n, summary := one()
	if n != refusalBudget || len(summary) != 1 || !strings.HasPrefix(summary[0].Detail, "7 more refused sign-in attempt(s) from 127.0.0.1 ") ||
		!strings.Contains(summary[0].Detail, "is not in the directory") || summary[0].Auth != "ssh:none from 127.0.0.1" {
		t.Fatalf("want one entry counting the 7 others; got %d one by one and:\n%s", n, dumpAudit(summary))
	}
}

// TestRefusalWindowsEnd: the count of a window that ended is audited
// without waiting for the server to stop, and the next window audits one
// by one again.
func TestRefusalWindowsEnd(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
	f := start(t, func(c *Config) { c.Clock = clk })
	who := identity.Actor{Method: identity.SSH, Key: "none", Remote: "192.0.2.7:4242"}
	for range refusalBudget + 2 {
		f.srv.auditRefusal(who, "192.0.2.7:4242", "offered no key")
	}
	clk.Advance(refusalWindow / 2)
	f.srv.flushRefusals(clk.Now(), false) // the window has not ended
	clk.Advance(refusalWindow / 2)
	f.srv.flushRefusals(clk.Now(), false)
	f.srv.auditRefusal(who, "192.0.2.7:5151", "offered no key")
	var one, summed int
	for _, e := range f.audit() {
		if e.Action != actionAuth {
			continue
		}
		if strings.HasPrefix(e.Detail, "2 more refused sign-in attempt(s) from 192.0.2.7 between 2026-12-06T09:00:00Z") {
			summed++
		} else {
			one++
		}
	}
	if one != refusalBudget+1 || summed != 1 {
		t.Fatalf("want %d audited one by one and 1 count of 2; got %d and %d:\n%s", refusalBudget+1, one, summed, dumpAudit(f.audit()))
	}
}
