package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// A command run for an authenticated actor (what irtui serve will do for
// a command over SSH) acts as them; --as is their claim, never trusted,
// and a name with control characters is refused and audited.
func TestIdentifyAnAuthenticatedCommand(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "irtui.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ssh := identity.Actor{Person: "alice", Method: identity.SSH, Key: "SHA256:abc", Remote: "192.0.2.4:50000"}
	trust := config.Config{Identity: config.Identity{LocalTrust: true}}
	g := &globals{authenticated: &ssh}
	if a, err := g.identify(ctx, st, trust); err != nil || a != ssh {
		t.Fatalf("no --as: %+v, %v", a, err)
	}
	g.as = "dana"
	a, err := g.identify(ctx, st, trust)
	want := identity.Actor{Person: "dana", Method: identity.Claim, Key: "SHA256:abc", Remote: "192.0.2.4:50000"}
	if err != nil || a != want || a.Auth() != "claim by ssh:SHA256:abc" {
		t.Fatalf("--as over SSH: %+v (%q), %v", a, a.Auth(), err)
	}
	g.as = "dana\x1b[2J"
	if _, err := g.identify(ctx, st, trust); !errors.Is(err, identity.ErrDenied) {
		t.Fatalf("a name with an escape sequence: %v", err)
	}
	audit, _ := st.Audit(ctx, store.AuditFilter{})
	if last := audit[len(audit)-1]; last.Action != "identify" || last.Outcome != store.OutcomeRefused ||
		last.Actor != `"dana\x1b[2J"` || last.Auth != "claim by ssh:SHA256:abc" {
		t.Fatalf("not audited: %+v", last)
	}
}
