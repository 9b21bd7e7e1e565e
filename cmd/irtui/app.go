package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/notify"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/tabletop"
	"github.com/irtui/irtui/internal/tui"
	"github.com/irtui/irtui/internal/witness"
)

// runApp opens the terminal app on the database.
func runApp(cmd *cobra.Command, g *globals) error {
	if g.remote != nil {
		return errRemote("the app", "it opens when you connect with a terminal and no command: ssh -t -p PORT HOST")
	}
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
	dark, err := chooseTheme(g.theme, cfg.UI.Theme, os.Getenv("COLORFGBG"))
	if err != nil {
		return err
	}
	settings, err := notify.SettingsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	var p *tea.Program
	// Loading stops when the app's context ends (SIGTERM, or the app
	// quit), so an exit never waits for a big library.
	env := newAppEnv(ctx, svc, cfg, settings, g.loadOptions(), false, func(msg tea.Msg) {
		if p != nil {
			go p.Send(msg)
		}
	})
	g.warn = nil // the app shows the loader's warnings in its status line, not on the screen's stderr
	env.load = func() *runbook.Library {
		lib, _ := g.library(ctx) // nil when the app closed first
		return lib
	}
	notice := ""
	switch {
	case len(keyNotice) > 0:
		notice = keyNotice[0]
	case seeded:
		notice = "Loaded a demo directory of fictional people and customers; import yours with `irtui directory import`."
	}
	deps := env.deps(ctx, actor, notice, look{dark: dark, noColor: os.Getenv("NO_COLOR") != ""})
	listed := make(chan struct{})
	deps.FirstList = func() { close(listed) } // called once
	m := tui.New(deps)
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
	// reports to the status line. It stops with the app. It starts once
	// the list is on screen (or after two seconds): its first scan reads
	// every open incident's deadlines, which on a long record would
	// otherwise hold up the first frame.
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		select {
		case <-listed:
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return
		}
		_ = env.worker.Run(ctx)
	}()
	_, err = p.Run()
	cancel()
	<-workerDone
	<-witnessDone
	env.waitLoads()
	return err
}

// appEnv is what apps share: the services, the configuration, the
// runbooks and the delivery worker. The local app has one; irtui serve
// has one for all its sessions, each app with its own actor.
type appEnv struct {
	svc      *incident.Service
	ns       *notify.Service
	cfg      config.Config
	settings notify.Settings
	worker   *notify.Worker
	runbooks func() *runbook.Library
	scenario func(*runbook.Library) *tabletop.ScenarioLibrary
	// loading counts the runbook loads under way: an app that quits waits
	// for them (cancelled, they stop after the files in hand), so that
	// what they decoded and validated reaches the cache even when the app
	// quit at its first frame.
	loadMu  sync.Mutex
	loading int
	loaded  *sync.Cond
	// load reads the library: runbook.Load, or for the local app the
	// command's library (globals.library), which the delivery worker's
	// runbook lookups share, so the process holds one copy.
	load func() *runbook.Library
}

// waitLoads waits until no runbook load is under way.
func (e *appEnv) waitLoads() {
	e.loadMu.Lock()
	defer e.loadMu.Unlock()
	for e.loading > 0 {
		e.loaded.Wait()
	}
}

// newAppEnv wires the services for apps. send passes the delivery
// worker's progress to the apps. With shared set, the runbooks and
// scenarios are loaded once for every app instead of once per app.
// Loading stops early when ctx ends.
func newAppEnv(ctx context.Context, svc *incident.Service, cfg config.Config, settings notify.Settings, opts runbook.Options, shared bool,
	send func(tea.Msg)) *appEnv {
	ns, _ := svc.Notifier.(*notify.Service)
	e := &appEnv{svc: svc, ns: ns, cfg: cfg, settings: settings}
	e.loaded = sync.NewCond(&e.loadMu)
	e.load = func() *runbook.Library {
		lib, _ := runbook.Load(ctx, opts) // cancelled: the app is closing
		return lib
	}
	e.runbooks = func() *runbook.Library {
		e.loadMu.Lock()
		e.loading++
		e.loadMu.Unlock()
		defer func() {
			e.loadMu.Lock()
			e.loading--
			e.loaded.Broadcast()
			e.loadMu.Unlock()
		}()
		lib := e.load()
		// Decoding a library of runbooks peaks at several times what the
		// library holds (the cache file, its entries, the decoded runbooks
		// and their garbage); give those pages back rather than keep the
		// peak as the app's size for its whole session.
		debug.FreeOSMemory()
		return lib
	}
	e.scenario = func(lib *runbook.Library) *tabletop.ScenarioLibrary {
		sl, _ := tabletop.Load(ctx, opts, lib)
		return sl
	}
	if shared {
		e.runbooks = sync.OnceValue(e.runbooks)
		load := e.scenario
		var once sync.Once
		var scenarios *tabletop.ScenarioLibrary
		e.scenario = func(lib *runbook.Library) *tabletop.ScenarioLibrary {
			once.Do(func() { scenarios = load(lib) })
			return scenarios
		}
	}
	e.worker = &notify.Worker{Store: svc.Store, Clock: clock.Real{}, Settings: settings, Org: cfg.Org, Actor: identity.Irtui(), Service: ns,
		Progress: func(pr notify.Progress) { send(tui.NotifyProgressMsg{Text: pr.String(), Alert: pr.Alert()}) }}
	return e
}

// look is how one app looks: its palette (nil: ask the terminal) and
// whether colour is off. Locally it comes from the flags, the
// configuration and the process's environment; in irtui serve from the
// configuration and the SSH client's environment.
type look struct {
	dark    *bool
	noColor bool
}

// deps are one app's dependencies: the shared services, used as actor,
// until ctx ends.
func (e *appEnv) deps(ctx context.Context, actor identity.Actor, notice string, lk look) tui.Deps {
	svc := e.svc
	return tui.Deps{
		Service:   svc,
		Directory: directory(svc.Store),
		Changes:   svc,
		Runbooks:  e.runbooks,
		Scenarios: e.scenario,
		Drills: func(lib *runbook.Library) tabletop.Deps {
			return tabletop.Deps{Store: svc.Store, Runbooks: lib, Policy: e.cfg.Policy, Real: clock.Real{},
				Service: svc, Approve: approveRule(svc)}
		},
		Notify:   e.ns,
		Wake:     e.worker.Wake,
		Delivery: e.settings,
		Locate:   e.worker.Locate,
		Config:   e.cfg,
		Actor:    actor,
		Clock:    clock.Real{},
		Context:  ctx,
		Notice:   notice,
		Dark:     lk.dark,
		NoColor:  lk.noColor,
	}
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
