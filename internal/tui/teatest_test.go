package tui

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// TestFlowTriageToClose drives the whole app in a running Bubble Tea
// program, only through keys: declare from triage, assign and acknowledge
// the commander, complete a step, add a note, close.
func TestFlowTriageToClose(t *testing.T) {
	h := newHarnessPoll(t, 50*time.Millisecond)
	tm := teatest.NewTestModel(t, h.m, teatest.WithInitialTermSize(120, 40))
	waitText := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	waitDB := func(what string, ok func(store.Detail) bool) store.Detail {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			list, err := h.st.ListIncidents(context.Background(), store.ListFilter{})
			if err == nil && len(list) == 1 {
				if d, err := h.st.Incident(context.Background(), list[0].ID); err == nil && ok(d) {
					return d
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("timed out waiting for: %s", what)
		return store.Detail{}
	}
	press := func(keys ...string) {
		for _, k := range keys {
			tm.Send(keyMsg(k))
			time.Sleep(15 * time.Millisecond)
		}
	}

	waitText("No incidents yet")
	press(first(h.m.keys.New))
	waitText("choose the runbook")
	tm.Type("ransom")
	press("enter")
	waitText("Live verdict")
	tm.Type("File server FS-02 encrypted")
	for i := 0; i < 60; i++ {
		list, _ := h.st.ListIncidents(context.Background(), store.ListFilter{})
		if len(list) > 0 {
			break
		}
		press("enter")
		time.Sleep(25 * time.Millisecond)
	}
	d := waitDB("the declared incident", func(d store.Detail) bool { return d.Incident.Title == "File server FS-02 encrypted" })
	if d.Incident.Severity != "SEV1" || d.Incident.RunbookID != "ransomware" {
		t.Fatalf("declared %+v", d.Incident)
	}
	waitText("Assign an incident commander next")

	press(first(h.m.keys.Tab2), first(h.m.keys.Assign))
	waitText("Assign Incident commander")
	tm.Type("alice")
	press("enter")
	waitDB("the commander", func(d store.Detail) bool { _, ok := incident.CurrentHolder(d, "incident_commander"); return ok })
	press(first(h.m.keys.Acknowledge))
	waitDB("the acknowledgement", func(d store.Detail) bool {
		a, ok := incident.CurrentHolder(d, "incident_commander")
		return ok && !a.AcknowledgedAt.IsZero()
	})

	press(first(h.m.keys.Tab3), first(h.m.keys.Done))
	waitDB("the first step done", func(d store.Detail) bool { return d.Steps[0].Status == store.StepDone })

	press(first(h.m.keys.Note))
	tm.Type("Backups verified offline")
	press("enter")
	waitDB("the note", func(d store.Detail) bool {
		for _, e := range d.Timeline {
			if e.Kind == "note" && strings.Contains(e.Summary, "Backups verified offline") {
				return true
			}
		}
		return false
	})

	press(first(h.m.keys.Close))
	waitText("Reason to close")
	tm.Type("Exercise of the flow")
	press("enter")
	waitDB("the close", func(d store.Detail) bool { return d.Incident.Status == store.StatusClosed })

	press("esc", first(h.m.keys.Quit))
	fm := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*Model)
	if !fm.quitting {
		t.Fatal("q should quit")
	}
}
