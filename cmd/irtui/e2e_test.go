package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/store"
)

// buildBinary builds irtui once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "irtui")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// requireTmux skips on a developer machine without tmux, and fails in CI,
// which installs it (.ci/run).
func requireTmux(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is required in CI for the end-to-end test")
		}
		t.Skip("tmux is not installed; the end-to-end TUI test needs it")
	}
}

type tmuxSession struct {
	t    *testing.T
	name string
	sock string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.tmux("send-keys", "-t", s.name, k)
		time.Sleep(60 * time.Millisecond)
	}
}

func (s *tmuxSession) text(text string) {
	s.t.Helper()
	s.tmux("send-keys", "-t", s.name, "-l", text)
	time.Sleep(100 * time.Millisecond)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", s.name) }

func (s *tmuxSession) waitFor(want string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		last = s.screen()
		if strings.Contains(last, want) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("screen never showed %q; last screen:\n%s", want, last)
	return ""
}

// waitGone waits until the screen no longer shows gone: an overlay has
// closed. A key sent while an Escape is still being told apart from an
// escape sequence would reach the app as alt+key.
func (s *tmuxSession) waitGone(gone string) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		last = s.screen()
		if !strings.Contains(last, gone) {
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("screen still shows %q; last screen:\n%s", gone, last)
	return ""
}

// TestEndToEndDeclareInTmux runs the real binary in a real terminal
// (tmux), declares an incident with the keys a user would press, and
// checks both the screen and the database.
func TestEndToEndDeclareInTmux(t *testing.T) {
	requireTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "e2e.db")
	s := &tmuxSession{t: t, name: "irtui-e2e", sock: filepath.Join(dir, "tmux.sock")}
	// No IRTUI_USER: the OS user running the test created the database, so
	// it acts as the demo incident commander, alice, as on a fresh install.
	env := []string{"IRTUI_DB=" + db, "IRTUI_USER=", "IRTUI_CACHE=off", "XDG_CACHE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir,
		"TERM=xterm-256color"}
	s.tmux(append([]string{"new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "env"}, append(env, bin, "--init")...)...)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })

	s.waitFor("No incidents yet")
	s.waitFor("you are alice")
	// The runbooks load in the background; on a busy machine that can take
	// a few seconds. An n pressed before they are in is kept: the picker
	// opens when they arrive.
	s.keys("n")
	s.waitFor("choose the runbook")
	s.text("personal data")
	s.keys("Enter")
	s.waitFor("Live verdict")
	s.text("Customer export found on a paste site")
	// Walk through the questions, leaving them unanswered (assume the
	// worst), to the decision, and declare.
	for i := 0; i < 40 && !strings.Contains(s.screen(), "INC-0001 ·"); i++ {
		s.keys("Enter")
	}
	screen := s.waitFor("INC-0001 · Customer export found on a paste site")
	for _, want := range []string{"SEV1", "Regulatory clocks", "gdpr-33", "unassigned"} {
		if !strings.Contains(screen, want) {
			t.Errorf("incident screen lacks %q:\n%s", want, screen)
		}
	}
	s.keys("N")
	s.waitFor("Add a note")
	s.text("Paste removed by the host at 10:42")
	s.keys("Enter")
	s.keys("4")
	s.waitFor("Paste removed by the host")
	s.keys("Escape", "q")
	time.Sleep(300 * time.Millisecond)

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, err := st.ListIncidents(context.Background(), store.ListFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("want one incident: %v %v", list, err)
	}
	in := list[0]
	if in.Title != "Customer export found on a paste site" || in.RunbookID != "personal-data-breach" || in.CreatedBy != "alice" || in.Severity != "SEV1" {
		t.Fatalf("stored %+v", in)
	}
	d, err := st.Incident(context.Background(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range d.Timeline {
		found = found || e.Kind == "note" && strings.Contains(e.Summary, "Paste removed")
	}
	if !found {
		t.Fatal("the note is not in the timeline")
	}
	if r, err := st.VerifyChains(context.Background()); err != nil || !r.OK {
		t.Fatalf("audit chain after the session: %+v %v", r, err)
	}
}

// requireSSH skips on a developer machine without OpenSSH's client, and
// fails in CI, which installs it (.ci/run).
func requireSSH(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("ssh")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("OpenSSH's ssh is required in CI for the irtui serve end-to-end test")
		}
		t.Skip("OpenSSH's ssh is not installed; the irtui serve end-to-end test needs it")
	}
	return bin
}

// TestEndToEndServeWithOpenSSHInTmux is irtui serve as a team uses it:
// OpenSSH's client in real terminals (tmux), each person with their own
// key, checking the server's host key.
func TestEndToEndServeWithOpenSSHInTmux(t *testing.T) {
	requireTmux(t)
	sshBin := requireSSH(t)
	s := startServer(t)
	host, port, _ := strings.Cut(s.addr, ":")
	known := filepath.Join(s.dir, "known_hosts")
	line := fmt.Sprintf("[%s]:%s %s", host, port, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.host))))
	if err := os.WriteFile(known, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ssh := func(keyFile string, opts ...string) []string {
		return append([]string{sshBin, "-p", port, "-i", keyFile, "-F", "/dev/null", "-o", "IdentitiesOnly=yes",
			"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + known, "-o", "BatchMode=yes",
			"-o", "LogLevel=ERROR"}, append(opts, host)...)
	}
	// A command, as OpenSSH runs it: no terminal, the words joined.
	command := func(keyFile string, words ...string) (string, string, int) {
		t.Helper()
		args := append(ssh(keyFile), "--")
		cmd := exec.Command(args[0], append(args[1:], words...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), errb.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), 0
	}

	sock := filepath.Join(s.dir, "tmux.sock")
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	open := func(name string, w, h int, args []string) *tmuxSession {
		ts := &tmuxSession{t: t, name: name, sock: sock}
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = "'" + a + "'"
		}
		shell := strings.Join(quoted, " ") + "; echo SSH-EXIT=$?; sleep 60"
		ts.tmux("new-session", "-d", "-s", name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), "env", "TERM=xterm-256color", "sh", "-c", shell)
		return ts
	}
	// alice asks for no colour; dana does not.
	alice := open("alice", 120, 40, ssh(s.people["alice"].keyFile, "-t", "-o", "SetEnv=NO_COLOR=1"))
	dana := open("dana", 100, 30, ssh(s.people["dana"].keyFile, "-t"))
	alice.waitFor("you are alice")
	dana.waitFor("you are dana")

	out, errs, code := command(s.people["chen"].keyFile, "incident", "declare", "--runbook", "lost-device", "--title", "'Stolen laptop'")
	if code != 0 || !strings.Contains(out, "Declared INC-0001") {
		t.Fatalf("a command over OpenSSH: exit %d\n%s%s", code, out, errs)
	}
	// Both apps show it without anyone pressing a key.
	alice.waitFor("Stolen laptop")
	dana.waitFor("Stolen laptop")
	if _, errs, code := command(s.people["chen"].keyFile, "incident", "show", "INC-0099"); code != 1 || !strings.Contains(errs, "irtui:") {
		t.Fatalf("a failing command's exit status: %d %q", code, errs)
	}
	eve := filepath.Join(s.dir, "eve_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", eve).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v %s", err, out)
	}
	if _, errs, code := command(eve, "incident", "list"); code != 255 || !strings.Contains(errs, "Permission denied (publickey)") {
		t.Fatalf("an unknown key: exit %d, %q", code, errs)
	}

	// dana watches the timeline while alice adds a note.
	dana.keys("Enter")
	dana.waitFor("INC-0001 · Stolen laptop")
	dana.keys("4")
	alice.keys("Enter")
	alice.waitFor("INC-0001 · Stolen laptop")
	alice.keys("N")
	alice.waitFor("Add a note")
	alice.text("Remote wipe sent")
	alice.keys("Enter")
	dana.waitFor("Remote wipe sent")

	// Colours are per session: NO_COLOR reached alice's app only.
	colour := func(ts *tmuxSession) bool {
		screen := ts.tmux("capture-pane", "-e", "-p", "-t", ts.name)
		return strings.Contains(screen, "\x1b[38;") || strings.Contains(screen, "\x1b[48;")
	}
	if colour(alice) || !colour(dana) {
		t.Fatalf("colours: alice (NO_COLOR) %v, dana %v", colour(alice), colour(dana))
	}

	// dana's window grows; the app follows.
	header := func() int {
		first, _, _ := strings.Cut(dana.screen(), "\n")
		return len([]rune(strings.TrimRight(first, " ")))
	}
	if w := header(); w > 100 {
		t.Fatalf("the header is %d wide in a 100-column window", w)
	}
	dana.tmux("resize-window", "-t", dana.name, "-x", "150", "-y", "35")
	deadline := time.Now().Add(10 * time.Second)
	for header() <= 100 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if w := header(); w <= 100 {
		t.Fatalf("after the resize the header is %d wide:\n%s", w, dana.screen())
	}

	// The server stops: both people are told, their ssh exits 0.
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, ts := range []*tmuxSession{alice, dana} {
		ts.waitFor("SSH-EXIT=0")
		ts.waitFor("irtui serve is shutting down")
	}
	st := s.store()
	tl, err := st.Timeline(context.Background(), "INC-0001")
	if err != nil {
		t.Fatal(err)
	}
	var note store.TimelineEntry // the delivery worker may have recorded sends after it
	for _, e := range tl {
		if strings.Contains(e.Summary, "Remote wipe sent") {
			note = e
		}
	}
	if note.Actor != "alice" || !strings.HasPrefix(note.Auth, "ssh:"+s.people["alice"].fp) {
		t.Fatalf("alice's note: %+v", note)
	}
}

// The case: with the app open, the database files are removed and
// a note is added. The app used to say "Note added." for a note that was
// gone after exit; it must say its last action may not be saved, and keep
// saying so. The checkpoint written at close must not describe a file
// that is gone.
func TestEndToEndDatabaseDeletedWhileOpen(t *testing.T) {
	requireTmux(t)
	bin := cliBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "e2e.db")
	// Local trust mode: the test plays alice on the OS account running it.
	trust := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte("identity:\n  local_trust: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"IRTUI_DB=" + db, "IRTUI_USER=alice", "IRTUI_CONFIG=" + trust, "IRTUI_CACHE=off", "XDG_CACHE_HOME=" + dir,
		"XDG_CONFIG_HOME=" + dir, "TERM=xterm-256color"}
	for _, args := range [][]string{
		{"--init", "directory", "import", "../../runbooks/directory/demo.yaml"}, // as the OS user, who installs it
		{"incident", "declare", "--runbook", "lost-device", "--title", "Phone lost"},
	} {
		setup := exec.Command(bin, args...)
		setup.Env = append(os.Environ(), env...)
		if args[0] == "--init" {
			setup.Env = append(setup.Env, "IRTUI_USER=")
		}
		if out, err := setup.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	s := &tmuxSession{t: t, name: "irtui-e2e-gone", sock: filepath.Join(dir, "tmux.sock")}
	s.tmux(append([]string{"new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "env"}, append(env, bin)...)...)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })

	s.waitFor("Phone lost")
	s.keys("Enter")
	s.waitFor("INC-0001 · Phone lost")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(db + suffix)
	}
	s.keys("N")
	s.waitFor("Add a note")
	s.text("Written after the file was deleted")
	s.keys("Enter")
	screen := s.waitFor("Your last action may not be saved")
	if strings.Contains(screen, "Note added") {
		t.Errorf("the app says the note was added:\n%s", screen)
	}
	// Still there after the status line has moved on.
	time.Sleep(time.Second)
	s.waitFor("Your last action may not be saved")
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a database reappeared at %s: %v", db, err)
	}
}
