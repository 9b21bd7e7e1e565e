package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// TestEndToEndLongTimelineInTmux opens an incident of 1,500 timeline
// entries in the real binary in a real terminal (tmux): the view shows the
// newest window and where it is, g reads the first page, page down reads
// on past it, G comes back to the newest entry, and the session's reads
// are a handful of audit entries, not one per page.
func TestEndToEndLongTimelineInTmux(t *testing.T) {
	requireTmux(t)
	bin := cliBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "e2e.db")
	trust := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte("identity:\n  local_trust: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"IRTUI_DB=" + db, "IRTUI_USER=alice", "IRTUI_CONFIG=" + trust, "IRTUI_CACHE=off", "XDG_CACHE_HOME=" + dir,
		"XDG_CONFIG_HOME=" + dir, "TERM=xterm-256color"}
	for _, args := range [][]string{
		{"--init", "directory", "import", "../../runbooks/directory/demo.yaml"},
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
	// 1,500 notes through the store's own transaction, so both chains
	// hold and the file verifies.
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.MustExist())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	err = st.Update(ctx, func(tx *store.Tx) error {
		for i := range 1500 {
			e := store.TimelineEntry{IncidentID: "INC-0001", At: now, Actor: "bob", Auth: "os:bob", Kind: "note",
				Summary: fmt.Sprintf("Note %d", i+1), Data: []byte(`{}`)}
			if err := tx.AppendTimeline(ctx, &e); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: "bob", Action: "note", IncidentID: "INC-0001", Outcome: store.OutcomeOK})
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	// Where the window is, "#first–last of total entries"; the app's own
	// delivery worker may add an entry or two while it runs.
	position := regexp.MustCompile(`#([\d,]+)–([\d,]+) of (1,5\d\d) entries`)
	at := func(screen string) (first, last, total string) {
		m := position.FindStringSubmatch(screen)
		if m == nil {
			t.Fatalf("no position:\n%s", screen)
		}
		return m[1], m[2], m[3]
	}

	s := &tmuxSession{t: t, name: "irtui-e2e-long", sock: filepath.Join(dir, "tmux.sock")}
	s.tmux(append([]string{"new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "env"}, append(env, bin)...)...)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })

	s.waitFor("Phone lost")
	s.keys("Enter")
	s.waitFor("INC-0001 · Phone lost")
	s.keys("4")
	if _, last, total := at(s.waitFor("Note 1500")); last != total {
		t.Errorf("opened at #%s of %s, not the newest", last, total)
	}
	s.keys("g")
	s.waitFor("#1–")
	s.waitFor("declared")
	for range 20 {
		s.keys("NPage")
	}
	if first, _, _ := at(s.waitFor("Note 180")); first == "1" {
		t.Errorf("page down did not move on from the first page")
	}
	s.keys("G")
	s.waitFor("Note 1500")
	if _, last, total := at(s.waitFor("Note 1500")); last != total {
		t.Errorf("G: at #%s of %s, not the newest", last, total)
	}
	s.keys("Escape")
	s.waitFor("Incidents ·")
	s.keys("q")
	time.Sleep(300 * time.Millisecond)

	st, err = store.Open(ctx, db, store.MustExist())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	audit, err := st.Audit(ctx, store.AuditFilter{IncidentID: "INC-0001"})
	if err != nil {
		t.Fatal(err)
	}
	opens := 0
	for _, a := range audit {
		if a.Action == "open" {
			opens++
			if a.Outcome != store.OutcomeOK {
				t.Errorf("open audited as %s: %s", a.Outcome, a.Detail)
			}
		}
	}
	// One open, perhaps a refresh or two; never one per page (the walk
	// above read at least four pages).
	if opens < 1 || opens > 3 {
		t.Errorf("the session wrote %d open audit entries", opens)
	}
	if r, err := st.VerifyChains(ctx); err != nil || !r.OK {
		t.Fatalf("audit chain after the session: %+v %v", r, err)
	}
}
