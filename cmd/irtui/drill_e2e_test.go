package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/irtui/irtui/internal/store"
)

// keyCounter counts the keys a walk-through presses: named keys and the
// characters of typed text.
type keyCounter struct {
	*tmuxSession
	keys, typed int
}

func (c *keyCounter) press(keys ...string) {
	c.t.Helper()
	c.keys += len(keys)
	c.tmuxSession.keys(keys...)
}

func (c *keyCounter) write(text string) {
	c.t.Helper()
	c.typed += utf8.RuneCountInString(text)
	c.tmuxSession.text(text)
}

// TestDrillFromDToReportInTmux runs a bundled scenario from the app alone
// in a real terminal, as a facilitator would: D, the scenario by a filter,
// the briefing, inject by inject, the triage that declares the drill
// incident, every inject released, the manual expectation marked, each
// objective rated, finish, and the report in the app. It counts the keys
// from D to the report (the walk-through took 149; 110 before the
// triage form could skip to the decision with ctrl+e).
func TestDrillFromDToReportInTmux(t *testing.T) {
	requireTmux(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "e2e.db")
	s := &tmuxSession{t: t, name: "irtui-drill", sock: filepath.Join(dir, "tmux.sock")}
	env := []string{"IRTUI_DB=" + db, "IRTUI_USER=", "IRTUI_CACHE=off", "XDG_CACHE_HOME=" + dir, "XDG_CONFIG_HOME=" + dir,
		"IRTUI_CHECKPOINT_KEY=", "TERM=xterm-256color"}
	s.tmux(append([]string{"new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "env"}, append(env, bin, "--init")...)...)
	t.Cleanup(func() { exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	s.waitFor("you are alice")
	// D pressed while the runbooks and scenarios load is kept: the
	// drills open when they are in.
	c := &keyCounter{tmuxSession: s}

	c.press("D")
	s.waitFor("Start a table-top drill: scenario")
	c.write("cust")
	c.press("Enter")
	s.waitFor("Briefing: Customer personal data exposed")
	c.press("Enter")
	s.waitFor("Pace of")
	c.press("Enter") // inject by inject
	s.waitFor("Press n to release the first inject")
	c.press("n")
	s.waitFor("Press t to triage it")
	c.press("t")
	s.waitFor("EXERCISE · drill DR-0001")
	c.write("Customer exports readable by anyone")
	// The questions left unanswered (the worst case): ctrl+e skips them to
	// the affected customers (none) and the decision, declare.
	c.press("C-e")
	s.waitFor("Selected (0)")
	c.press("Enter")
	s.waitFor("Declare an incident")
	c.press("Enter")
	s.waitFor("Back on the drill")
	for i := 0; i < 5; i++ {
		c.press("n")
		time.Sleep(150 * time.Millisecond)
	}
	s.waitFor("injects 6/6")
	// The takedown can only be judged by the facilitator.
	c.press("x")
	s.waitFor("Mark an expected action")
	c.write("takedown")
	c.press("Enter", "Enter") // met
	s.waitFor("Why Met?")
	c.press("Enter") // no note
	s.waitFor("Marked takedown met")
	for _, objective := range []string{"O1", "O2", "O3"} {
		c.press("r")
		s.waitFor("Rate an objective")
		c.write(objective)
		c.press("Enter", "Down", "Enter") // S
		s.waitFor("Why S?")
		c.press("Enter")
		s.waitFor(objective + " rated S")
	}
	c.press("F", "Enter")
	s.waitFor("Drill finished")
	c.press("R")
	screen := s.waitFor("After-action report: DR-0001")
	t.Logf("keys from D to the report: %d (%d named keys and %d typed characters)", c.keys+c.typed, c.keys, c.typed)
	if !strings.Contains(screen, "EXERCISE") {
		t.Errorf("report screen:\n%s", screen)
	}
	s.tmux("send-keys", "-t", s.name, "Escape")
	s.tmux("send-keys", "-t", s.name, "q")
	time.Sleep(300 * time.Millisecond)

	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, err := st.DrillRun(context.Background(), "DR-0001")
	if err != nil || run.Status != store.DrillFinished || run.IncidentID == "" {
		t.Fatalf("run %+v %v", run, err)
	}
	// The drill incident is closed with the run, and the real list holds
	// nothing.
	real, err := st.ListIncidents(context.Background(), store.ListFilter{Drill: store.DrillExclude})
	if err != nil || len(real) != 0 {
		t.Fatalf("real incidents after a drill: %v %v", real, err)
	}
}
