package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/serve"
	"github.com/irtui/irtui/internal/store"
)

// member is a person of the test team with their own SSH key.
type member struct {
	id      string
	signer  gossh.Signer
	fp      string
	line    string // the authorized_keys line
	keyFile string // the private key, for OpenSSH
}

// team makes keys for alice (incident commander, admin, override,
// export), dana (the DPO, who may approve notices) and chen (a responder
// without permissions), and the directory that lists them.
func team(t testing.TB, dir string) (map[string]member, string) {
	t.Helper()
	people := map[string]member{}
	var b strings.Builder
	b.WriteString("people:\n")
	for _, p := range []struct{ id, roles, perms string }{
		{"alice", "incident_commander, deputy", "admin, override, export"},
		{"dana", "dpo, incident_commander", "approve, export"},
		{"chen", "scribe", ""},
	} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := gossh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		block, err := gossh.MarshalPrivateKey(priv, p.id)
		if err != nil {
			t.Fatal(err)
		}
		m := member{id: p.id, signer: signer, fp: gossh.FingerprintSHA256(signer.PublicKey()),
			line:    strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + p.id + "@laptop",
			keyFile: filepath.Join(dir, p.id+"_key")}
		if err := os.WriteFile(m.keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		people[p.id] = m
		fmt.Fprintf(&b, "  - {id: %s, name: %s, roles: [%s], ssh_keys: [%q], permissions: [%s]}\n", p.id, p.id, p.roles, m.line, p.perms)
	}
	b.WriteString("customers:\n  - {id: acme, name: Acme Holdings, language: en, contact_kind: email, contact: sec@acme.test}\n")
	return people, b.String()
}

// remoteFixture runs commands the way irtui serve runs them for an SSH
// session, without the SSH transport (serve_test.go has that).
type remoteFixture struct {
	t      *testing.T
	r      *remote
	st     *store.Store
	people map[string]member
	yaml   string // the directory that lists them
}

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("IRTUI_CACHE", "off")
	people, yaml := team(t, dir)
	// The server's database, opened as irtui serve opens it.
	t.Setenv("IRTUI_WITNESS", filepath.Join(dir, "witness"))
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("IRTUI_CHECKPOINT_KEY", "")
	g := &globals{db: filepath.Join(dir, "irtui.db"), init: true}
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	cfg, err := g.loadConfig(cmd.Context())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := g.service(cmd, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Store.Close() })
	d, err := parseDirectory("team.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Store.ImportDirectory(context.Background(), "test", d); err != nil {
		t.Fatal(err)
	}
	lib, err := g.library(cmd.Context())
	if err != nil {
		t.Fatal(err)
	}
	return &remoteFixture{t: t, st: svc.Store, people: people, yaml: yaml,
		r: &remote{svc: svc, cfg: cfg, lib: lib, db: g.db}}
}

// run runs args as who, over "SSH" from 192.0.2.7, with stdin.
func (f *remoteFixture) run(who, stdin string, args ...string) (string, string, int) {
	f.t.Helper()
	s := &serve.Session{Context: context.Background(), Actor: f.actor(who)}
	var out, errb bytes.Buffer
	code := f.r.run(s, args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func (f *remoteFixture) actor(who string) identity.Actor {
	return identity.Actor{Person: who, Method: identity.SSH, Key: f.people[who].fp, Remote: "192.0.2.7:50123"}
}

func (f *remoteFixture) ok(who string, args ...string) string {
	f.t.Helper()
	out, errs, code := f.run(who, "", args...)
	if code != 0 {
		f.t.Fatalf("%v as %s: exit %d\n%s%s", args, who, code, out, errs)
	}
	return out
}

func (f *remoteFixture) lastAudit() store.AuditEntry {
	f.t.Helper()
	a, err := f.st.Audit(context.Background(), store.AuditFilter{})
	if err != nil || len(a) == 0 {
		f.t.Fatal(err)
	}
	return a[len(a)-1]
}

// Over SSH a command acts on the server's database as the key's owner;
// what would reach past that is refused, says what to do instead, and is
// audited.
func TestRemoteCommandsStayInsideTheServer(t *testing.T) {
	f := newRemoteFixture(t)
	// The server's environment names nobody: IRTUI_USER and IRTUI_DB of
	// the server process do not reach a session.
	t.Setenv("IRTUI_USER", "dana")
	leak := filepath.Join(t.TempDir(), "leak.md")
	f.ok("alice", "incident", "declare", "--runbook", "lost-device", "--title", "Laptop lost")
	f.ok("alice", "incident", "note", "INC-0001", "noted over SSH")
	tl, err := f.st.Timeline(context.Background(), "INC-0001")
	if err != nil {
		t.Fatal(err)
	}
	last := tl[len(tl)-1]
	if last.Actor != "alice" || last.Auth != "ssh:"+f.people["alice"].fp+" from 192.0.2.7:50123" {
		t.Fatalf("the note was recorded as %s (%s)", last.Actor, last.Auth)
	}
	secret := filepath.Join(t.TempDir(), "secret.yaml")
	os.WriteFile(secret, []byte("people: []\n"), 0o600)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", filepath.Join(t.TempDir(), "other.db"), "incident", "list"}, "--db is not available over SSH"},
		{[]string{"--config", secret, "incident", "list"}, "--config is not available over SSH"},
		{[]string{"--runbooks", t.TempDir(), "runbooks", "list"}, "--runbooks is not available over SSH"},
		{[]string{"--init", "incident", "list"}, "--init is not available over SSH"},
		{[]string{"audit", "checkpoint", "--to", leak}, "--to is not available over SSH"},
		{[]string{"audit", "verify", "--checkpoints", secret}, "--checkpoints FILE is not available over SSH"},
		{[]string{"audit", "verify", "--pubkey", secret}, "--pubkey FILE is not available over SSH"},
		{[]string{"audit", "verify", "--readonly"}, "--readonly is not available over SSH"},
		{[]string{"serve", "--listen", "127.0.0.1:0"}, "`irtui serve` is not available over SSH"},
		{[]string{"--as", "dana"}, "the app is not available over SSH"},
		{[]string{"incident", "export", "INC-0001", "-o", leak}, "--output is not available over SSH"},
		{[]string{"directory", "import", secret}, "would read a file on the server"},
		{[]string{"runbooks", "lint", filepath.Dir(secret)}, "would read files on the server"},
		{[]string{"classify", "--runbook", "lost-device", "--answers", secret}, "--answers FILE is not available over SSH"},
		{[]string{"drill", "run", secret}, "a scenario file is not available over SSH"},
		{[]string{"drill", "run", "phishing-credential-theft", "--speed", "max", "--actions", secret}, "--actions FILE is not available"},
	} {
		out, errs, code := f.run("alice", "", tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q (want %q); stdout %q", tc.args, code, errs, tc.want, out)
			continue
		}
		if strings.Contains(errs, "--as") {
			continue
		}
		if a := f.lastAudit(); a.Action != "ssh_command" || a.Outcome != store.OutcomeRefused || a.Actor != "alice" ||
			!strings.HasPrefix(a.Auth, "ssh:"+f.people["alice"].fp) {
			t.Errorf("%v: refusal not audited: %+v", tc.args, a)
		}
	}
	if _, err := os.Stat(leak); err == nil {
		t.Fatal("an export was written on the server")
	}
	if _, _, code := f.run("alice", "", "man"); code == 0 {
		t.Fatal("fang's man page (written to the server's stdout) is available over SSH")
	}

	// A claim (--as) is refused on a real incident, as for anyone outside
	// trust mode, and recorded as made by the key.
	if _, errs, code := f.run("alice", "", "--as", "dana", "incident", "note", "INC-0001", "as dana"); code == 0 ||
		!strings.Contains(errs, "allowed only on drill incidents") {
		t.Fatalf("--as over SSH: %d %s", code, errs)
	}
	if a := f.lastAudit(); a.Actor != "dana" || a.Auth != "claim by ssh:"+f.people["alice"].fp {
		t.Fatalf("the claim was not audited with the key behind it: %+v", a)
	}
}

// Standard input is the client's: - reads it where a command reads a file.
func TestRemoteCommandsReadTheClientsInput(t *testing.T) {
	f := newRemoteFixture(t)
	out, errs, code := f.run("alice", cliAnswers, "classify", "--runbook", "personal-data-breach", "--answers", "-")
	if code != 0 || !strings.Contains(out, "SEV") {
		t.Fatalf("classify --answers -: %d\n%s%s", code, out, errs)
	}
	yaml := f.yaml
	// alice administers the directory; chen may not import.
	if out, errs, code := f.run("alice", yaml, "directory", "import", "-"); code != 0 || !strings.Contains(out, "from standard input") {
		t.Fatalf("directory import -: %d %s%s", code, out, errs)
	}
	if _, errs, code := f.run("chen", yaml, "directory", "import", "-"); code == 0 || !strings.Contains(errs, "administrator") {
		t.Fatalf("chen imported the directory: %s", errs)
	}
	if _, errs, code := f.run("alice", "people: [\n", "directory", "import", "-"); code == 0 || !strings.Contains(errs, "stdin:") {
		t.Fatalf("a broken directory on stdin should name stdin:line:col: %s", errs)
	}
}

// Every flag that names a file, and every command whose arguments are
// files, says what it touches over SSH: a new one that does not would be
// free to read or write the server's files.
func TestEveryFileFlagSaysWhatItTouches(t *testing.T) {
	root := newRootCmd(&globals{})
	fileish := regexp.MustCompile(`(?i)\bfiles?\b|folder|standard input`)
	var walk func(c *cobra.Command)
	checked := 0
	walk = func(c *cobra.Command) {
		if c.Annotations[sshAnnotation] == sshLocalOnly {
			return
		}
		check := func(fl *pflag.Flag) {
			if fileish.MatchString(fl.Usage) {
				checked++
				if len(fl.Annotations[sshAnnotation]) == 0 {
					t.Errorf("%s --%s names a file (%q) but says nothing of SSH: mark it with readsFile or writesFile",
						c.CommandPath(), fl.Name, fl.Usage)
				}
			}
		}
		c.LocalFlags().VisitAll(check)
		words := strings.Fields(c.Use)
		for i, w := range words {
			if i > 0 && !strings.Contains(words[i-1], "--") && (strings.Contains(w, "FILE") || strings.Contains(w, "PATH")) {
				checked++
				if how := c.Annotations[sshAnnotation]; how != sshFileArgs && how != sshPathArgs {
					t.Errorf("%s takes files as arguments (%q) but says nothing of SSH: annotate it", c.CommandPath(), c.Use)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if checked < 8 {
		t.Fatalf("only %d file flags and arguments found; is the walk broken?", checked)
	}
}

// Sessions run their commands at once in one process: each has its own
// command tree and actor, and they share the services.
func TestRemoteCommandsRunConcurrently(t *testing.T) {
	f := newRemoteFixture(t)
	who := []string{"alice", "dana", "chen"}
	errs := make(chan string, 30)
	var wg sync.WaitGroup
	for i := range 15 {
		wg.Go(func() {
			p := who[i%len(who)]
			if out, e, code := f.run(p, "", "incident", "declare", "--runbook", "lost-device", "--title", fmt.Sprintf("Laptop %d", i)); code != 0 {
				errs <- fmt.Sprintf("%s: %d %s%s", p, code, out, e)
			}
			if out, e, code := f.run(p, "", "incident", "list", "--json"); code != 0 || !strings.HasPrefix(out, "[") {
				errs <- fmt.Sprintf("%s list: %d %s%s", p, code, out, e)
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	list, err := f.st.ListIncidents(context.Background(), store.ListFilter{})
	if err != nil || len(list) != 15 {
		t.Fatalf("%d incidents, %v", len(list), err)
	}
	by := map[string]int{}
	for _, in := range list {
		by[in.CreatedBy]++
	}
	if by["alice"] != 5 || by["dana"] != 5 || by["chen"] != 5 {
		t.Fatalf("declared by %v", by)
	}
}

// A session's palette comes from the client: its COLORFGBG, else the
// configuration, else the terminal is asked; never the server's
// environment.
func TestSessionLookComesFromTheClient(t *testing.T) {
	t.Setenv("COLORFGBG", "15;0") // the server's own terminal: dark
	t.Setenv("NO_COLOR", "1")
	light := &serve.Session{Env: []string{"LANG=C", "COLORFGBG=0;15"}}
	if lk := sessionLook(light, config.Config{}); lk.dark == nil || *lk.dark || lk.noColor {
		t.Fatalf("a light client: %+v", lk)
	}
	plain := &serve.Session{Env: []string{"NO_COLOR=1"}, NoColor: true}
	if lk := sessionLook(plain, config.Config{}); lk.dark != nil || !lk.noColor {
		t.Fatalf("a client that sent nothing about its palette should be asked: %+v", lk)
	}
	cfg := config.Config{}
	cfg.UI.Theme = "dark"
	if lk := sessionLook(&serve.Session{}, cfg); lk.dark == nil || !*lk.dark {
		t.Fatalf("ui.theme: %+v", lk)
	}
}
