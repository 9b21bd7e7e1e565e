package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/store"
)

var t0 = time.Date(2026, 5, 4, 3, 12, 0, 0, time.UTC)

// newService opens a database created by the OS user "maria".
func newService(t *testing.T) *Service {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "irtui.db"),
		store.WithClock(clock.NewFake(t0)), store.WithInstaller("maria"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &Service{Store: st, Clock: clock.NewFake(t0)}
}

func key(t *testing.T) (line, fingerprint string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := ssh.NewPublicKey(pub)
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))), ssh.FingerprintSHA256(pk)
}

var demo = store.Directory{People: []store.Person{
	{ID: "alice", Roles: []string{CommanderRole}, Permissions: []string{"admin"}},
	{ID: "bob"},
}}

func lastAudit(t *testing.T, s *Service) store.AuditEntry {
	t.Helper()
	a, err := s.Store.Audit(context.Background(), store.AuditFilter{})
	if err != nil || len(a) == 0 {
		t.Fatalf("audit: %v", err)
	}
	return a[len(a)-1]
}

func TestResolveBootstrapsAFreshDatabase(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	// The installer of an empty database administers it, as nobody yet.
	a, err := s.Resolve(ctx, "maria", "", false)
	if err != nil || a != (Actor{Method: Bootstrap, OSUser: "maria"}) {
		t.Fatalf("installer of an empty database: %+v, %v", a, err)
	}
	if _, err := Check(ctx, s.Store, a, Scope{}); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "os_users: [maria]") {
		t.Fatalf("the installer, no person yet, acting on incidents: %v", err)
	}
	if who, err := Check(ctx, s.Store, a, Scope{Setup: true}); err != nil || !who.Can(Admin) || who.Can(Export) {
		t.Fatalf("the installer setting up: %+v, %v", who, err)
	}
	// Anyone else is nobody.
	if a, _ := s.Resolve(ctx, "root", "", false); a != (Actor{Method: OS, OSUser: "root"}) {
		t.Fatalf("another OS user: %+v", a)
	}

	// With the demo directory loaded, the installer acts as its commander.
	if ok, err := s.SeedDemo(ctx, demo, "alice"); err != nil || !ok {
		t.Fatalf("seed: %v %v", ok, err)
	}
	if ok, _ := s.SeedDemo(ctx, demo, "alice"); ok {
		t.Fatal("the demo is loaded into an empty directory only")
	}
	a, _ = s.Resolve(ctx, "maria", "", false)
	if a != (Actor{Person: "alice", Method: Bootstrap, OSUser: "maria"}) || a.String() != "alice (demo, as installer maria)" {
		t.Fatalf("installer with the demo loaded: %+v %q", a, a)
	}
	who, err := Check(ctx, s.Store, a, Scope{})
	if err != nil || who.Person.ID != "alice" || !who.Can(Admin) {
		t.Fatalf("check: %+v, %v", who, err)
	}
	// Claiming to be who you are is no claim.
	if c, _ := s.Resolve(ctx, "maria", "alice", false); c != a {
		t.Fatalf("claiming oneself: %+v", c)
	}

	// A real directory takes over: the import ends the demo, and once it
	// maps maria she is herself.
	d := store.Directory{People: []store.Person{{ID: "maria", OSUsers: []string{"maria"}, Permissions: []string{"admin"}}}}
	if _, err := s.Import(ctx, a, d); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, s.Store, a, Scope{}); !errors.Is(err, ErrDenied) {
		t.Fatalf("the bootstrap actor after a real directory took over: %v", err)
	}
	if a, _ := s.Resolve(ctx, "maria", "", false); a != (Actor{Person: "maria", Method: OS, OSUser: "maria"}) {
		t.Fatalf("maria after the takeover: %+v", a)
	}
	if st, _ := s.Store.IdentityState(ctx); st.DemoCommander != "" || !st.Identities {
		t.Fatalf("state after the takeover: %+v", st)
	}
}

func TestDemoEndsWhenAnotherDirectoryIsImported(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	s.SeedDemo(ctx, demo, "alice")
	a, _ := s.Resolve(ctx, "maria", "", false)
	// A directory of their own without identities: the demo ends, and the
	// installer is nobody but still its administrator.
	if _, err := s.Import(ctx, a, store.Directory{People: []store.Person{{ID: "carol"}}}); err != nil {
		t.Fatal(err)
	}
	_, err := Check(ctx, s.Store, a, Scope{})
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "demo directory is no longer loaded") {
		t.Fatalf("acting as the demo commander after another import: %v", err)
	}
	a, _ = s.Resolve(ctx, "maria", "", false)
	if a.Person != "" || a.Method != Bootstrap {
		t.Fatalf("installer after the demo: %+v", a)
	}
	if _, err := s.Import(ctx, a, store.Directory{People: []store.Person{{ID: "maria", OSUsers: []string{"maria"},
		Permissions: []string{"admin"}}}}); err != nil {
		t.Fatalf("the installer still administers the directory: %v", err)
	}
}

func TestChecksFollowTheDirectory(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	line, fp := key(t)
	admin := Actor{Method: Bootstrap, OSUser: "maria"}
	d := store.Directory{People: []store.Person{
		{ID: "maria", OSUsers: []string{"maria"}, Permissions: []string{"admin"}},
		{ID: "bob", OSUsers: []string{"bob"}, SSHKeys: []string{line}, Permissions: []string{"approve"}},
	}}
	if _, err := s.Import(ctx, admin, d); err != nil {
		t.Fatal(err)
	}
	bobOS, _ := s.Resolve(ctx, "bob", "", false)
	bobSSH := Actor{Person: "bob", Method: SSH, Key: fp, Remote: "192.0.2.7:50122"}
	for _, a := range []Actor{bobOS, bobSSH} {
		who, err := Check(ctx, s.Store, a, Scope{})
		if err != nil || who.Person.ID != "bob" || !who.Can(Approve) || who.Can(Admin) {
			t.Fatalf("%s: %+v, %v", a.Auth(), who, err)
		}
	}
	if p, err := s.PersonByKey(ctx, fp); err != nil || p.ID != "bob" {
		t.Fatalf("by key: %v %v", p.ID, err)
	}
	// Taking bob's OS user and key away takes effect at once, even for a
	// session that authenticated before.
	maria, _ := s.Resolve(ctx, "maria", "", false)
	if _, err := s.Import(ctx, maria, store.Directory{People: []store.Person{{ID: "bob"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, s.Store, bobOS, Scope{}); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "no longer acts as bob") {
		t.Fatalf("removed OS user: %v", err)
	}
	if _, err := Check(ctx, s.Store, bobSSH, Scope{}); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "no longer bob's") {
		t.Fatalf("removed key: %v", err)
	}
	// Only administrators import, and the refusal is audited.
	if _, err := s.Import(ctx, bobOS, d); !errors.Is(err, ErrDenied) {
		t.Fatalf("bob imported: %v", err)
	}
	if a := lastAudit(t, s); a.Action != "import" || a.Outcome != store.OutcomeRefused || a.Actor != "bob" || a.Auth != "os:bob" {
		t.Fatalf("refused import audited as %+v", a)
	}
}

func TestClaims(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	admin := Actor{Method: Bootstrap, OSUser: "maria"}
	d := store.Directory{People: []store.Person{
		{ID: "maria", OSUsers: []string{"maria"}, Permissions: []string{"admin"}},
		{ID: "alice"}, {ID: "bob", OSUsers: []string{"bob"}},
	}}
	if _, err := s.Import(ctx, admin, d); err != nil {
		t.Fatal(err)
	}
	claim, err := s.Resolve(ctx, "bob", "alice", false)
	if err != nil || claim != (Actor{Person: "alice", Method: Claim, OSUser: "bob"}) {
		t.Fatalf("claim: %+v, %v", claim, err)
	}
	if claim.Auth() != "claim by os:bob" || claim.String() != "alice (claimed by OS user bob)" {
		t.Fatalf("claim shows as %q, %q", claim.Auth(), claim)
	}
	// Outside drills the claim is refused; on drills it holds.
	if _, err := Check(ctx, s.Store, claim, Scope{}); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "only on drill") {
		t.Fatalf("claim on a real incident: %v", err)
	}
	if who, err := Check(ctx, s.Store, claim, Scope{Drill: true}); err != nil || who.Person.ID != "alice" {
		t.Fatalf("claim on a drill: %+v, %v", who, err)
	}
	// In trust mode it holds everywhere, and says so.
	trusted, _ := s.Resolve(ctx, "bob", "alice", true)
	if _, err := Check(ctx, s.Store, trusted, Scope{}); err != nil || trusted.Auth() != "claim by os:bob in trust mode" {
		t.Fatalf("trusted claim: %v %q", err, trusted.Auth())
	}
	// Someone the directory does not know cannot claim, even on drills.
	stranger, _ := s.Resolve(ctx, "eve", "alice", false)
	if _, err := Check(ctx, s.Store, stranger, Scope{Drill: true}); !errors.Is(err, ErrDenied) ||
		!strings.Contains(err.Error(), "OS user eve, behind the claim of alice") {
		t.Fatalf("a stranger's claim: %v", err)
	}
	// A name not in the directory, or a look-alike of one, can do nothing.
	for name, want := range map[string]string{
		"mallory":          "mallory is not a person in the directory",
		"\u0430lice":       "looks like alice but is a different name (it has U+0430 (Cyrillic))",
		"al\u0456ce":       "looks like alice",
		"Alice":            "looks like alice but is a different name (it has U+0041 (Latin))",
		"b\u03bfb":         "looks like bob",
		"\u0430dmin\u0445": "is not a person in the directory",
	} {
		c, err := s.Resolve(ctx, "bob", name, true)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if _, err := Check(ctx, s.Store, c, Scope{Drill: true}); !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v; want %q", name, err, want)
		}
	}
}

func TestClaimedNamesAreValidated(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for _, name := range []string{"alice\x1b[K", "al\u200bice", "alice\u202e", "a\nb", "\xffalice"} {
		a, err := s.Resolve(ctx, "maria", name, true)
		if !errors.Is(err, ErrDenied) || !a.IsZero() {
			t.Errorf("%q: %+v, %v", name, a, err)
			continue
		}
		got := lastAudit(t, s)
		if got.Action != "identify" || got.Outcome != store.OutcomeRefused || got.Auth != "claim by os:maria in trust mode" ||
			strings.ContainsAny(got.Actor, "\x1b\n\u200b\u202e") {
			t.Errorf("%q audited as %+v", name, got)
		}
	}
	// NFC: a decomposed é is the same name as a composed one.
	a, err := s.Resolve(ctx, "maria", "rene\u0301", true)
	if err != nil || a.Person != "ren\u00e9" {
		t.Fatalf("NFC: %+v, %v", a, err)
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ id, auth, want string }{
		{"alice", "os:alice", "alice"},
		{"alice", "", "alice"},
		{"alice", "claim by os:bob", "alice (claimed by OS user bob)"},
		{"alice", "claim by os:bob in trust mode", "alice (claimed by OS user bob)"},
		{"alice", "claim by ssh:SHA256:abc", "alice (claimed by SSH key SHA256:abc)"},
		{"bob", "ssh:SHA256:abc from 192.0.2.1:5", "bob"},
	} {
		if got := Describe(tc.id, tc.auth); got != tc.want {
			t.Errorf("Describe(%q, %q) = %q; want %q", tc.id, tc.auth, got, tc.want)
		}
	}
}
