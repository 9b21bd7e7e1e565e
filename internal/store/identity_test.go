package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testKey is a new Ed25519 public key as an authorized_keys line.
func testKey(t testing.TB, comment string) (line, fingerprint string) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))) + " " + comment, ssh.FingerprintSHA256(pk)
}

// A file written by the schema-5 irtui gains the identity tables and the
// auth columns; its chains still verify, and entries written after the
// upgrade are hashed over their auth.
func TestMigration6AddsIdentityAndKeepsChains(t *testing.T) {
	ctx := context.Background()
	path, ids := oldFile(t, 5, 2) // alice is in its directory
	s, err := Open(ctx, path, WithInstaller("ops"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep, err := s.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains after the upgrade: %+v, %v", rep, err)
	}
	p, err := s.Person(ctx, "alice")
	if err != nil || len(p.Permissions) != 0 || len(p.OSUsers) != 0 || len(p.SSHKeys) != 0 {
		t.Fatalf("alice after the upgrade: %+v, %v", p, err)
	}
	st, err := s.IdentityState(ctx)
	if err != nil || st != (IdentityState{Installer: "ops"}) {
		t.Fatalf("identity state %+v, %v; the first to open the upgraded file installs it", st, err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		e := TimelineEntry{IncidentID: ids[0], At: t0, Actor: "alice", Auth: "claim by os:ops", Kind: "note", Summary: "after"}
		if err := tx.AppendTimeline(ctx, &e); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Auth: "claim by os:ops", Action: "note",
			IncidentID: ids[0], Outcome: OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := s.VerifyChains(ctx); err != nil || !rep.OK {
		t.Fatalf("chains with auth: %+v, %v", rep, err)
	}
	tl, err := s.Timeline(ctx, ids[0])
	if err != nil || tl[len(tl)-1].Auth != "claim by os:ops" {
		t.Fatalf("timeline auth not read back: %+v, %v", tl, err)
	}
	audit, _ := s.Audit(ctx, AuditFilter{IncidentID: ids[0]})
	if audit[len(audit)-1].Auth != "claim by os:ops" {
		t.Fatalf("audit auth not read back: %+v", audit[len(audit)-1])
	}

	// Rewriting who authenticated, or removing it, breaks the chain.
	s.Close()
	tamper(t, path, "UPDATE timeline SET auth = 'os:alice' WHERE auth != ''")
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rep, err := s2.VerifyChains(ctx)
	if err != nil || rep.OK || rep.Problems[0].Table != "timeline" || rep.Problems[0].Kind != Altered {
		t.Fatalf("rewritten auth not detected: %+v, %v", rep, err)
	}
	s2.Close()
	tamper(t, path, "UPDATE audit SET auth = '' WHERE auth != ''")
	s3, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	rep, _ = s3.VerifyChains(ctx)
	if rep.OK || !slices.ContainsFunc(rep.Problems, func(p Problem) bool { return p.Table == "audit" && p.Kind == Altered }) {
		t.Fatalf("removed audit auth not detected: %+v", rep)
	}
}

func TestInstallerIsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "irtui.db")
	s, err := Open(ctx, path, WithInstaller("maria"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, WithInstaller("root"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.IdentityState(ctx)
	if err != nil || st.Installer != "maria" || st.Identities || st.DemoCommander != "" {
		t.Fatalf("state %+v, %v; want maria, who created it", st, err)
	}
}

func TestImportStoresIdentities(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	aliceKey, aliceFP := testKey(t, "alice@laptop")
	bobKey, bobFP := testKey(t, "")
	d := Directory{People: []Person{
		{ID: "alice", Name: "Alice", OSUsers: []string{"alice", " ajansen "}, SSHKeys: []string{"  " + aliceKey + "  "},
			Permissions: []string{"export", "admin", "admin"}},
		{ID: "bob", OSUsers: []string{"bob"}, SSHKeys: []string{bobKey}},
	}}
	if _, err := s.ImportDirectory(ctx, "ops", d); err != nil {
		t.Fatal(err)
	}
	p, err := s.PersonByOSUser(ctx, "ajansen")
	if err != nil || p.ID != "alice" {
		t.Fatalf("by OS user: %+v, %v", p, err)
	}
	if !slices.Equal(p.OSUsers, []string{"ajansen", "alice"}) || !slices.Equal(p.Permissions, []string{"admin", "export"}) ||
		!slices.Equal(p.SSHKeys, []string{aliceKey}) || !slices.Equal(p.Fingerprints, []string{aliceFP}) ||
		!p.Has("admin") || p.Has("approve") {
		t.Fatalf("alice stored as %+v", p)
	}
	if p, err := s.PersonByKey(ctx, bobFP); err != nil || p.ID != "bob" {
		t.Fatalf("by key: %+v, %v", p, err)
	}
	if _, err := s.PersonByKey(ctx, "SHA256:nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}
	if _, err := s.PersonByOSUser(ctx, "mallory"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown OS user: %v", err)
	}
	if st, _ := s.IdentityState(ctx); !st.Identities {
		t.Fatal("people with OS users and keys are identities")
	}

	// Importing a person again replaces their identities: bob's key goes,
	// and his OS user may move to someone listed in the same import.
	d = Directory{People: []Person{{ID: "bob"}, {ID: "carol", OSUsers: []string{"bob"}}}}
	if _, err := s.ImportDirectory(ctx, "ops", d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PersonByKey(ctx, bobFP); !errors.Is(err, ErrNotFound) {
		t.Fatalf("bob's removed key still finds someone: %v", err)
	}
	if p, _ := s.PersonByOSUser(ctx, "bob"); p.ID != "carol" {
		t.Fatalf("OS user bob acts as %q", p.ID)
	}

	// An OS user or key that is someone else's, not re-listed, is refused.
	_, err = s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "dave", SSHKeys: []string{aliceKey}}}})
	var taken *IdentityTakenError
	if !errors.As(err, &taken) || taken.Person != "alice" || !errors.Is(err, ErrInvalidDirectory) {
		t.Fatalf("someone else's key: %v", err)
	}
	if _, err := s.Person(ctx, "dave"); !errors.Is(err, ErrNotFound) {
		t.Fatal("a refused import stored dave")
	}
	a, _ := s.Audit(ctx, AuditFilter{})
	if last := a[len(a)-1]; last.Action != "import" || last.Outcome != OutcomeRefused || !strings.Contains(last.Detail, "alice") {
		t.Fatalf("refused import audited as %+v", last)
	}
}

func TestImportRefusesLockingEveryoneOut(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	_, err := s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "alice", OSUsers: []string{"alice"}}}})
	if !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), "admin permission") {
		t.Fatalf("a directory nobody could change again: %v", err)
	}
	// An admin who cannot sign in does not count.
	_, err = s.ImportDirectory(ctx, "ops", Directory{People: []Person{
		{ID: "alice", OSUsers: []string{"alice"}}, {ID: "root", Permissions: []string{"admin"}}}})
	if !errors.Is(err, ErrInvalidDirectory) {
		t.Fatalf("an admin without an identity: %v", err)
	}
	// Without identities the database is still being set up: fine.
	if _, err := s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "alice"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportDirectory(ctx, "ops", Directory{People: []Person{
		{ID: "alice", OSUsers: []string{"alice"}, Permissions: []string{"admin"}}}}); err != nil {
		t.Fatal(err)
	}
}

func TestImportRefusesLookAlikeIDs(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if _, err := s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "alice"}}}); err != nil {
		t.Fatal(err)
	}
	// Letters of another script and capitals are not id characters at
	// all; digits and letters people misread are, and look alike.
	for id, want := range map[string]string{
		"\u0430lice": `may hold only lowercase letters a-z, digits and "-"`,
		"al\u0456ce": `may hold only lowercase letters a-z, digits and "-"`,
		"aIice":      `may hold only lowercase letters a-z, digits and "-"`,
		"Alice":      `may hold only lowercase letters a-z, digits and "-"`,
		"a1ice":      "people[0] (a1ice): id looks like alice, who is already in the directory",
	} {
		_, err := s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: id}}})
		if !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", id, err)
		}
	}
	// Re-importing alice herself is an update, not a look-alike.
	if _, err := s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "alice", Name: "Alice J."}}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "bob"}, {ID: "b0b"}}})
	if !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), "people[1] (b0b): id looks like bob") {
		t.Fatalf("look-alikes in one import: %v", err)
	}
	// A zero-width space is refused outright.
	_, err = s.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "ali\u200bce2"}}})
	if !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), "invisible") {
		t.Fatalf("zero-width space in an id: %v", err)
	}
}

func TestDirectoryIdentitiesAreValidated(t *testing.T) {
	key, _ := testKey(t, "a@b")
	rsaKey := func(bits int) string {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		pk, _ := ssh.NewPublicKey(&k.PublicKey)
		return string(ssh.MarshalAuthorizedKey(pk))
	}
	dsaKey := func() string {
		p := new(big.Int).SetBit(big.NewInt(1), 1023, 1)
		q := new(big.Int).SetBit(big.NewInt(1), 159, 1)
		w := struct {
			Name       string
			P, Q, G, Y *big.Int
		}{"ssh-dss", p, q, big.NewInt(2), big.NewInt(3)}
		pk, err := ssh.ParsePublicKey(ssh.Marshal(w))
		if err != nil {
			t.Fatal(err)
		}
		return string(ssh.MarshalAuthorizedKey(pk))
	}
	for _, tc := range []struct {
		name string
		p    Person
		want string // "" when valid
	}{
		{"ed25519 key", Person{ID: "a", SSHKeys: []string{key}}, ""},
		{"rsa 2048", Person{ID: "a", SSHKeys: []string{rsaKey(2048)}}, ""},
		{"rsa 1024", Person{ID: "a", SSHKeys: []string{rsaKey(1024)}}, "RSA key of 1024 bits is too short"},
		{"dsa", Person{ID: "a", SSHKeys: []string{dsaKey()}}, "DSA keys are too weak"},
		{"options", Person{ID: "a", SSHKeys: []string{`from="10.0.0.1" ` + key}}, "options (from=\"10.0.0.1\") are not supported"},
		{"garbage", Person{ID: "a", SSHKeys: []string{"ssh-ed25519 notbase64"}}, "ssh_keys[0]: not an authorized_keys line"},
		{"two keys", Person{ID: "a", SSHKeys: []string{key + "\n" + key}}, "must not contain control characters"},
		{"empty key", Person{ID: "a", SSHKeys: []string{" "}}, "ssh_keys[0]: the key is empty"},
		{"same key twice", Person{ID: "a", SSHKeys: []string{key, key}}, "is already people[0]'s"},
		{"empty os user", Person{ID: "a", OSUsers: []string{""}}, "os_users[0] is empty"},
		{"os user with a space", Person{ID: "a", OSUsers: []string{"a b"}}, `os_users[0] "a b" must not contain spaces`},
		{"os user with an escape", Person{ID: "a", OSUsers: []string{"a\x1b[2J"}}, "must not contain spaces, control characters"},
		{"unknown permission", Person{ID: "a", Permissions: []string{"root"}}, `permissions[0] "root" is not one of admin, approve, override, export`},
		{"known permissions", Person{ID: "a", Permissions: []string{"approve", "override"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Directory{People: []Person{tc.p}}
			err := ValidateDirectory(&d)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatal("accepted")
			case !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
	d := Directory{People: []Person{{ID: "a", OSUsers: []string{"ops"}}, {ID: "b", OSUsers: []string{"ops"}}}}
	if err := ValidateDirectory(&d); err == nil || !strings.Contains(err.Error(), "people[1] (b): OS user ops is already people[0]'s (a)") {
		t.Fatalf("one OS user for two people: %v", err)
	}
}

// Version moves when what a UI shows changes, in this process or another,
// and not when someone only reads (an audit entry): a UI that reloads on
// it does not reload because it read. Changed tells this process at once.
func TestVersionIgnoresReadsAndSeesOtherWriters(t *testing.T) {
	s, path := openTest(t)
	ctx := context.Background()
	ids := seed(t, s, 1, 1)
	v1, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	read := func(st *Store) {
		t.Helper()
		if err := st.UpdateNoSync(ctx, func(tx *Tx) error {
			return tx.AppendAudit(ctx, &AuditEntry{At: t0, Actor: "alice", Action: "open", IncidentID: ids[0], Outcome: OutcomeOK})
		}); err != nil {
			t.Fatal(err)
		}
	}
	changed := s.Changed()
	read(s)
	if v, _ := s.Version(ctx); v != v1 {
		t.Fatalf("a read moved the version: %d -> %d", v1, v)
	}
	select {
	case <-changed:
		t.Fatal("a read was announced as a change")
	default:
	}
	note := func(st *Store) {
		t.Helper()
		if err := st.Update(ctx, func(tx *Tx) error {
			e := TimelineEntry{IncidentID: ids[0], At: t0, Actor: "alice", Kind: "note", Summary: "x"}
			return tx.AppendTimeline(ctx, &e)
		}); err != nil {
			t.Fatal(err)
		}
	}
	note(s)
	select {
	case <-changed:
	default:
		t.Fatal("a change in this process was not announced")
	}
	v2, _ := s.Version(ctx)
	if v2 == v1 {
		t.Fatal("a change did not move the version")
	}

	// Another process: its reads leave the version alone, its changes and
	// directory imports move it.
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	read(other)
	if v, _ := s.Version(ctx); v != v2 {
		t.Fatalf("another process's read moved the version: %d -> %d", v2, v)
	}
	note(other)
	v3, _ := s.Version(ctx)
	if v3 == v2 {
		t.Fatal("another process's change did not move the version")
	}
	if _, err := other.ImportDirectory(ctx, "ops", Directory{People: []Person{{ID: "zoe"}}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx); v == v3 {
		t.Fatal("a directory import did not move the version")
	}
}
