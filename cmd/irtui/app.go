package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/tabletop"
	"github.com/irtui/irtui/internal/tui"
	"github.com/irtui/irtui/internal/witness"
)

// runApp opens the terminal app on the database.
func runApp(cmd *cobra.Command, g *globals) error {
	cfg, err := g.loadConfig(cmd.Context())
	if err != nil {
		return err
	}
	wo := g.witnessOptions(cfg, cmd.ErrOrStderr())
	var notices, keyNotice []string
	wo.KeyCreated = func(path, public string) {
		notices = append(notices, keyCreatedText(path, public))
		keyNotice = append(keyNotice, "Created the checkpoint signing key "+path+"; keep a copy of its public key ("+
			path+".pub) away from this machine.")
	}
	if _, err := wo.Signer(); err != nil { // made now, so that its public key is shown before the app starts
		return err
	}
	for _, n := range notices {
		fmt.Fprint(cmd.ErrOrStderr(), n)
	}
	every, slackEvery, err := cfg.Audit.Intervals()
	if err != nil {
		return err
	}
	svc, err := g.service(cmd, cfg)
	if err != nil {
		return err
	}
	// The app will write: check the file now, in the background; the
	// first change waits for the result.
	svc.Store.CheckInBackground()
	defer svc.Store.Close()
	seeded, err := seedDemoDirectory(cmd.Context(), svc.Store)
	if err != nil {
		return err
	}
	actor, err := g.identify(cmd.Context(), svc.Store, cfg)
	if err != nil {
		return err
	}
	wo.Actor, wo.Auth = actor.ID(), actor.Auth()
	opts := g.loadOptions()
	dark, err := chooseTheme(g.theme, cfg.UI.Theme, os.Getenv("COLORFGBG"))
	if err != nil {
		return err
	}
	ns, _ := svc.Notifier.(*notify.Service)
	settings, err := notify.SettingsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	var p *tea.Program
	worker := &notify.Worker{Store: svc.Store, Clock: clock.Real{}, Settings: settings, Org: cfg.Org, Actor: identity.Irtui(), Service: ns,
		Progress: func(pr notify.Progress) {
			if p != nil {
				go p.Send(tui.NotifyProgressMsg{Text: pr.String(), Alert: pr.Alert()})
			}
		}}
	// Loading stops when the app's context ends (SIGTERM, or the app
	// quit), so an exit never waits for a big library.
	loadRunbooks := func() *runbook.Library {
		lib, _ := runbook.Load(ctx, opts)
		return lib
	}
	loadScenarios := func(lib *runbook.Library) *tabletop.ScenarioLibrary {
		sl, _ := tabletop.Load(ctx, opts, lib)
		return sl
	}
	m := tui.New(tui.Deps{
		Service:   svc,
		Directory: directory(svc.Store),
		Changes:   svc,
		Runbooks:  loadRunbooks,
		Scenarios: loadScenarios,
		Drills: func(lib *runbook.Library) tabletop.Deps {
			return tabletop.Deps{Store: svc.Store, Runbooks: lib, Policy: cfg.Policy, Real: clock.Real{},
				Service: svc, Approve: approveRule(svc)}
		},
		Notify:   ns,
		Wake:     worker.Wake,
		Delivery: settings,
		Locate:   worker.Locate,
		Config:   cfg,
		Dark:     dark,
		NoColor:  os.Getenv("NO_COLOR") != "",
		Actor:    actor,
		Clock:    clock.Real{},
		Context:  ctx,
		Notice: func() string {
			if len(keyNotice) > 0 {
				return keyNotice[0]
			}
			if seeded {
				return "Loaded a demo directory of fictional people and customers; import yours with `irtui directory import`."
			}
			return ""
		}(),
	})
	out := cmd.OutOrStdout()
	// IRTUI_EXIT_ON_FRAME=TEXT quits as soon as a frame containing TEXT has
	// been written: the start-up benchmark measures process start to frame.
	popts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(cmd.InOrStdin())}
	if want := os.Getenv("IRTUI_EXIT_ON_FRAME"); want != "" {
		out = &frameWatcher{w: out, want: []byte(want), done: func() { go p.Quit() }}
		popts = append(popts, tea.WithWindowSize(120, 40)) // output is not a terminal
	}
	p = tea.NewProgram(m, append(popts, tea.WithOutput(out))...)
	if svc.Store.Damage() != "" || svc.Store.Stopped() != nil {
		text := "This database is marked damaged: nothing can be saved. " + svc.Store.Damage()
		go p.Send(tui.RecordAlertMsg{Text: text})
	}
	// Checkpoints of the record: on a schedule while it changes, and one
	// last when the app closes.
	witnessDone := make(chan struct{})
	go func() {
		defer close(witnessDone)
		witness.Run(ctx, svc.Store, wo, every, slackEvery, func(e witness.Event) {
			if e.Fatal {
				go p.Send(tui.RecordAlertMsg{Text: e.Text})
			} else {
				go p.Send(tui.NotifyProgressMsg{Text: e.Text, Alert: true})
			}
		})
	}()
	// The delivery worker runs while the app does: it sends what is due and
	// reports to the status line. It stops with the app.
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		_ = worker.Run(ctx)
	}()
	_, err = p.Run()
	cancel()
	<-workerDone
	<-witnessDone
	return err
}

// frameWatcher passes output through and calls done once want was written.
type frameWatcher struct {
	w    io.Writer
	want []byte
	seen bool
	done func()
}

func (f *frameWatcher) Write(b []byte) (int, error) {
	if !f.seen && bytes.Contains(b, f.want) {
		f.seen = true
		f.done()
	}
	return f.w.Write(b)
}

func sortStrings(s []string) { sort.Strings(s) }
