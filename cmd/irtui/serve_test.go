package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/serve"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/witness"
)

// server is `irtui serve` running as its own process on loopback.
type server struct {
	t      testing.TB
	cmd    *exec.Cmd
	addr   string
	host   gossh.PublicKey
	db     string
	dir    string
	people map[string]member
	out    *lockedBuffer // what the server printed
	exited chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serverNice, when set, is the nice value startServer runs the server at.
var serverNice string

// startServer imports the test team's directory into a new database and
// runs `irtui serve --listen 127.0.0.1:0 args...`. The server's
// environment names someone (IRTUI_USER=mallory): sessions must not be
// affected by it.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	bin := cliBinary(t)
	dir := t.TempDir()
	s := &server{t: t, dir: dir, db: filepath.Join(dir, "data", "irtui.db"), out: &lockedBuffer{}, exited: make(chan error, 1)}
	var yaml string
	s.people, yaml = team(t, dir)
	cfg := filepath.Join(dir, "config.yaml") // notices name the organisation
	if err := os.WriteFile(cfg, []byte(orgConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "IRTUI_DB="+s.db, "IRTUI_CACHE=off", "XDG_DATA_HOME="+dir, "IRTUI_USER=mallory",
		"IRTUI_CONFIG="+cfg, "NO_COLOR=", "XDG_CONFIG_HOME="+dir, "IRTUI_CHECKPOINT_KEY=", "IRTUI_WITNESS=", "COLORFGBG=")
	imp := exec.Command(bin, "--init", "directory", "import", "-")
	imp.Env, imp.Stdin = env, strings.NewReader(yaml)
	// The installer (the OS user running the tests) sets the database up.
	imp.Env = append(imp.Env, "IRTUI_USER=")
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	s.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	if serverNice != "" { // the benchmark's IRTUI_BENCH_NICE
		s.cmd = exec.Command("nice", append([]string{"-n", serverNice, bin, "serve", "--listen", "127.0.0.1:0"}, args...)...)
	}
	s.cmd.Env = env
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			s.out.Write([]byte(line + "\n"))
			if rest, ok := strings.CutPrefix(line, "irtui serve: listening on "); ok {
				addr, _, _ := strings.Cut(rest, ";")
				listening <- addr
			}
		}
	}()
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("the server printed:\n%s", s.out.String())
		}
	})
	select {
	case s.addr = <-listening:
	case err := <-s.exited:
		t.Fatalf("irtui serve exited: %v\n%s", err, s.out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("irtui serve did not start:\n%s", s.out.String())
	}
	hostKey, created, err := serve.HostKey(filepath.Join(dir, "data", serve.HostKeyName))
	if err != nil || created {
		t.Fatalf("the host key is not beside the database: %v", err)
	}
	s.host = hostKey.PublicKey()
	return s
}

func (s *server) dial(signer gossh.Signer) (*gossh.Client, error) {
	return gossh.Dial("tcp", s.addr, &gossh.ClientConfig{User: "responder", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.FixedHostKey(s.host), Timeout: 10 * time.Second})
}

func (s *server) client(who string) *gossh.Client {
	s.t.Helper()
	c, err := s.dial(s.people[who].signer)
	if err != nil {
		s.t.Fatalf("%s cannot connect: %v", who, err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// ssh runs a command over SSH as who, with its words quoted for the
// server's shell-like splitting, and returns stdout, stderr and the exit
// status.
func (s *server) ssh(who, stdin string, args ...string) (string, string, int) {
	s.t.Helper()
	sess, err := s.client(who).NewSession()
	if err != nil {
		s.t.Fatal(err)
	}
	defer sess.Close()
	var out, errb bytes.Buffer
	sess.Stdout, sess.Stderr, sess.Stdin = &out, &errb, strings.NewReader(stdin)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	err = sess.Run(strings.Join(quoted, " "))
	code := 0
	var ee *gossh.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitStatus()
	case err != nil:
		s.t.Fatalf("ssh %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (s *server) sshOK(who string, args ...string) string {
	s.t.Helper()
	out, errs, code := s.ssh(who, "", args...)
	if code != 0 {
		s.t.Fatalf("ssh as %s -- %v: exit %d\n%s%s", who, args, code, out, errs)
	}
	return out
}

// store opens the server's database beside it (WAL allows it).
func (s *server) store() *store.Store {
	s.t.Helper()
	st, err := store.Open(context.Background(), s.db)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	return st
}

func (s *server) audit() []store.AuditEntry {
	s.t.Helper()
	a, err := s.store().Audit(context.Background(), store.AuditFilter{})
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// screen is an app session over SSH: what the server wrote to it.
type screen struct {
	t    testing.TB
	sess *gossh.Session
	in   io.WriteCloser
	out  lockedBuffer
	done chan error
}

func (s *server) openApp(who string, w, h int) *screen {
	s.t.Helper()
	sess, err := s.client(who).NewSession()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		s.t.Fatal(err)
	}
	sc := &screen{t: s.t, sess: sess, done: make(chan error, 1)}
	sess.Stdout, sess.Stderr = &sc.out, &sc.out
	if sc.in, err = sess.StdinPipe(); err != nil {
		s.t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		s.t.Fatal(err)
	}
	go func() { sc.done <- sess.Wait() }()
	return sc
}

// waitFor waits until the session's output holds want. The app draws
// only what changed, so want must be text that appears whole.
func (sc *screen) waitFor(want string) {
	sc.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(sc.out.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	sc.t.Fatalf("the session never showed %q; it showed:\n%q", want, sc.out.String())
}

// Two people on the server, each with their own key: alice declares an
// incident for a customer and fills in the customer notice; she may not
// approve it (she drafted it), dana may. Every step is recorded as the
// key's owner, with the key and the address.
func TestServeTwoPeopleDraftAndApproveANotice(t *testing.T) {
	s := startServer(t)
	s.ssh("alice", cliAnswers, "incident", "declare", "--runbook", "personal-data-breach", "--title", "Customer export leaked",
		"--answers", "-", "--customer", "acme")
	var list []noticeJSON
	if err := json.Unmarshal([]byte(s.sshOK("alice", "notify", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	var notice noticeJSON
	for _, n := range list {
		if n.CustomerID == "acme" {
			notice = n
		}
	}
	if notice.ID == 0 {
		t.Fatalf("no customer notice was drafted: %+v", list)
	}
	id := fmt.Sprint(notice.ID)
	for _, f := range notice.Fields {
		if f.Required {
			s.ssh("alice", "text for "+f.ID+" from alice's laptop\n", "notify", "set", id, f.ID, "-")
		}
	}
	s.sshOK("alice", "incident", "assign", "INC-0001", "incident_commander", "alice")
	_, errs, code := s.ssh("alice", "", "notify", "approve", id)
	if code == 0 || !strings.Contains(errs, "you drafted") {
		t.Fatalf("the drafter approved her own notice: exit %d, %s", code, errs)
	}
	alice := s.people["alice"]
	var refusal store.AuditEntry
	for _, e := range s.audit() {
		if e.Action == "notify_approve" {
			refusal = e
		}
	}
	if refusal.Action != "notify_approve" || refusal.Outcome != store.OutcomeRefused || refusal.Actor != "alice" ||
		!strings.HasPrefix(refusal.Auth, "ssh:"+alice.fp+" from 127.0.0.1:") {
		t.Fatalf("the refusal is not audited against alice's key: %+v", refusal)
	}
	out := s.sshOK("dana", "notify", "approve", id)
	if !strings.Contains(out, "Approved #"+id) {
		t.Fatalf("dana: %s", out)
	}
	n, err := s.store().Notification(context.Background(), notice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n.ApprovedBy != "dana" {
		t.Fatalf("approved by %q", n.ApprovedBy)
	}
	tl, err := s.store().Timeline(context.Background(), "INC-0001")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range tl {
		seen[e.Actor] = e.Auth
	}
	for _, who := range []string{"alice", "dana"} {
		if !strings.HasPrefix(seen[who], "ssh:"+s.people[who].fp+" from 127.0.0.1:") {
			t.Errorf("%s's entries are not recorded with her key: %q", who, seen[who])
		}
	}
	if _, ok := seen["mallory"]; ok {
		t.Error("the server's IRTUI_USER reached a session")
	}
}

// A CLI command over SSH returns its output and exit status; an unknown
// key gets nothing and is audited.
func TestServeCommandsExitStatusAndUnknownKeys(t *testing.T) {
	s := startServer(t)
	out := s.sshOK("chen", "incident", "list", "--json")
	var incidents []any
	if err := json.Unmarshal([]byte(out), &incidents); err != nil || len(incidents) != 0 {
		t.Fatalf("incident list --json: %q %v", out, err)
	}
	_, errs, code := s.ssh("chen", "", "incident", "show", "INC-0042")
	if code != 1 || !strings.HasPrefix(errs, "irtui: ") {
		t.Fatalf("a failing command: exit %d, stderr %q", code, errs)
	}
	_, errs, code = s.ssh("chen", "", "incidnet", "list")
	if code == 0 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("a mistyped command: exit %d, stderr %q", code, errs)
	}

	stranger, _ := gossh.NewSignerFromKey(mustKey(t))
	if _, err := s.dial(stranger); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("an unknown key: %v", err)
	}
	fp := gossh.FingerprintSHA256(stranger.PublicKey())
	var found bool
	for _, e := range s.audit() {
		found = found || e.Action == "ssh_auth" && e.Outcome == store.OutcomeRefused && e.Actor == "ssh:"+fp &&
			strings.HasPrefix(e.Auth, "ssh:"+fp+" from 127.0.0.1:")
	}
	if !found {
		t.Fatal("the unknown key's refusal is not audited with its fingerprint and address")
	}
	if !strings.Contains(s.out.String(), "refused an unknown key") {
		t.Fatal("the refusal is not in the server's log")
	}
	if st, err := os.Stat(filepath.Join(s.dir, "data", serve.HostKeyName)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("host key: %v %v", st, err)
	}
}

// An app session over SSH shows the app as the key's owner; a change
// made elsewhere appears in it without a key press; SIGTERM tells it,
// ends the server, and keeps everything that was acknowledged.
func TestServeShutdownWithASessionOpen(t *testing.T) {
	s := startServer(t, "--grace", "5s")
	app := s.openApp("dana", 120, 40)
	app.waitFor("you are dana")
	s.sshOK("alice", "incident", "declare", "--runbook", "lost-device", "--title", "Zebra quokka laptop")
	app.waitFor("Zebra quokka laptop")
	s.sshOK("chen", "incident", "note", "INC-0001", "acknowledged before the shutdown")

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-app.done:
		if err != nil {
			t.Fatalf("the app session ended with %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the app session was not closed")
	}
	app.waitFor("irtui serve is shutting down")
	select {
	case err := <-s.exited:
		s.exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("irtui serve exited with %v\n%s", err, s.out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("irtui serve did not exit")
	}
	if !strings.Contains(s.out.String(), "irtui serve: stopped.") {
		t.Fatalf("the server did not say it stopped:\n%s", s.out.String())
	}
	st := s.store()
	tl, err := st.Timeline(context.Background(), "INC-0001")
	if err != nil {
		t.Fatal(err)
	}
	kept := false // the delivery worker may have recorded sends after it
	for _, e := range tl {
		kept = kept || e.Actor == "chen" && strings.Contains(e.Summary, "acknowledged before the shutdown")
	}
	if !kept {
		t.Fatalf("the note is lost: %+v", tl)
	}
	if r, err := st.VerifyChains(context.Background()); err != nil || !r.OK {
		t.Fatalf("chains after the shutdown: %+v %v", r, err)
	}
	var ended bool
	for _, e := range s.audit() {
		ended = ended || e.Action == "session_end" && e.Actor == "dana" && strings.Contains(e.Detail, "server shutting down")
	}
	if !ended {
		t.Fatal("the app session's end is not audited")
	}
	// The server's last checkpoint (package witness) describes the record
	// as it closed: sessions' ends included.
	entries, probs, err := witness.ReadFile(witness.DefaultPath(s.db))
	if err != nil || len(probs) > 0 || len(entries) == 0 {
		t.Fatalf("no checkpoint beside the database: %v %v", err, probs)
	}
	heads, err := st.Heads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if last := entries[len(entries)-1].Line; last.Audit.ID != heads.Audit.LastID || last.Timeline.ID != heads.Timeline.LastID {
		t.Fatalf("the last checkpoint (timeline #%d, audit #%d) is not the record's end (timeline #%d, audit #%d)",
			last.Timeline.ID, last.Audit.ID, heads.Timeline.LastID, heads.Audit.LastID)
	}
}

// The flags reach the server: --max-sessions and --idle-timeout.
func TestServeSessionCapAndIdleTimeoutFlags(t *testing.T) {
	s := startServer(t, "--max-sessions", "1", "--idle-timeout", "2s")
	app := s.openApp("alice", 100, 30)
	app.waitFor("you are alice")
	_, errs, code := s.ssh("dana", "", "incident", "list")
	if code != 1 || !strings.Contains(errs, "1 sessions open, its limit") {
		t.Fatalf("a second session: exit %d, %q", code, errs)
	}
	select {
	case <-app.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the idle session was not closed")
	}
	app.waitFor("without input")
	if out := s.sshOK("dana", "incident", "list"); !strings.Contains(out, "No incidents") {
		t.Fatalf("after the idle session closed: %q", out)
	}
}

func mustKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}
