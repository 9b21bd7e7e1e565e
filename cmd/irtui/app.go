package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"sort"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/tabletop"
	"github.com/irtui/irtui/internal/tui"
)

// runApp opens the terminal app on the database.
func runApp(cmd *cobra.Command, g *globals) error {
	cfg, err := g.loadConfig(cmd.Context())
	if err != nil {
		return err
	}
	svc, err := g.service(cmd.Context())
	if err != nil {
		return err
	}
	defer svc.Store.Close()
	seeded, err := seedDemoDirectory(cmd.Context(), svc.Store, g.actor())
	if err != nil {
		return err
	}
	opts := g.loadOptions()
	ns, _ := svc.Notifier.(*notify.Service)
	settings, err := notify.SettingsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	var p *tea.Program
	worker := &notify.Worker{Store: svc.Store, Clock: clock.Real{}, Settings: settings, Org: cfg.Org, Actor: g.actor(), Service: ns,
		Progress: func(pr notify.Progress) {
			if p != nil {
				alert := pr.Status == store.NoticeFailed || pr.Status == store.NoticeUnknown
				go p.Send(tui.NotifyProgressMsg{Text: pr.String(), Alert: alert})
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
		Store:        svc.Store,
		Service:      svc,
		Runbooks:     loadRunbooks,
		Scenarios:    loadScenarios,
		DrillService: drillServices(svc),
		Notify:       ns,
		Wake:         worker.Wake,
		Config:       cfg,
		Actor:        g.actor(),
		Clock:        clock.Real{},
		Notice: func() string {
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
