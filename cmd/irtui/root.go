package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/runbooks"
	"github.com/spf13/cobra"
)

// globals are the flags every command shares, with their environment
// fall-backs applied.
type globals struct {
	db       string
	runbooks []string
	config   string
	as       string
	theme    string
	init     bool
	lib      *runbook.Library
	libMu    sync.Mutex
	// warn is where the runbook loader's warnings go: the command's
	// standard error.
	warn io.Writer
	// authenticated, when set, is who runs the command, already
	// authenticated: irtui serve sets it to the SSH key's owner for a
	// command run over SSH. Nil: the local OS user (see identify).
	authenticated *identity.Actor
	// remote, when set, is the server a command runs in over SSH: its
	// database, configuration and runbooks (see remote.go).
	remote *remote
}

// newRootCmd builds the command tree on g, the flags every command shares.
func newRootCmd(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "irtui",
		Short: "Security incident response in the terminal",
		Long: "irtui runs your incident response plan: assess and classify a security event with a runbook,\n" +
			"assign roles, work the checklist, watch every regulatory clock, notify stakeholders and customers,\n" +
			"and rehearse with table-top drills. Run it without a command to open the terminal app.",
		Args: cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return g.resolve(cmd)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runApp(cmd, g)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.db, "db", "", "database file (env IRTUI_DB; default $XDG_DATA_HOME/irtui/irtui.db)")
	pf.StringSliceVar(&g.runbooks, "runbooks", nil, "extra runbook folder, repeatable (env IRTUI_RUNBOOKS, separated by "+string(os.PathListSeparator)+")")
	pf.StringVar(&g.config, "config", "", "configuration file (env IRTUI_CONFIG)")
	pf.StringVar(&g.as, "as", "", "act as this person from the directory: on drills, or everywhere in local trust mode; "+
		"recorded with your OS user (env IRTUI_USER; default: you, by your OS user)")
	root.Flags().StringVar(&g.theme, "theme", "", "the app's colours: light, dark or auto (default: ui.theme in the configuration, else the terminal's)")
	pf.BoolVar(&g.init, "init", false, "create the database if it does not exist (a missing --db file is otherwise an error)")
	for _, name := range []string{"db", "runbooks", "config", "init"} {
		annotateFlag(pf, name, sshServerSetting)
	}
	root.AddCommand(newRunbooksCmd(g), newClassifyCmd(g), newIncidentCmd(g), newDirectoryCmd(g), newAuditCmd(g), newNotifyCmd(g), newDrillCmd(g),
		newServeCmd(g))
	return root
}

// resolve applies environment variables to flags that were not given.
// Over SSH the server's settings hold instead, and what a remote command
// may not do is refused (see checkRemote).
func (g *globals) resolve(cmd *cobra.Command) error {
	g.warn = cmd.ErrOrStderr()
	if g.remote != nil {
		return g.checkRemote(cmd)
	}
	flags := cmd.Flags()
	if !flags.Changed("db") {
		g.db = os.Getenv("IRTUI_DB")
	}
	if !flags.Changed("runbooks") {
		g.runbooks = nil
		if v := os.Getenv("IRTUI_RUNBOOKS"); v != "" {
			for _, dir := range filepath.SplitList(v) {
				if dir = strings.TrimSpace(dir); dir != "" {
					g.runbooks = append(g.runbooks, dir)
				}
			}
		}
	}
	if !flags.Changed("config") {
		g.config = os.Getenv("IRTUI_CONFIG")
	}
	if !flags.Changed("as") {
		g.as = os.Getenv("IRTUI_USER")
	}
	return nil
}

func (g *globals) loadOptions() runbook.Options {
	return runbook.Options{
		Bundled:  runbooks.FS(),
		Dirs:     g.runbooks,
		Validate: validateOptions(),
		CacheDir: cacheDir(),
	}
}

// cacheDir is where decoded runbooks are cached; IRTUI_CACHE=off disables it.
func cacheDir() string {
	if strings.EqualFold(os.Getenv("IRTUI_CACHE"), "off") {
		return ""
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "irtui")
}

// library loads the runbooks once per command. It fails only when ctx is
// done (an interrupt) before the runbooks are loaded.
func (g *globals) library(ctx context.Context) (*runbook.Library, error) {
	// The app and the delivery worker ask at once: one loads, the other
	// waits for it, and the process holds one library.
	g.libMu.Lock()
	defer g.libMu.Unlock()
	if g.lib == nil {
		lib, err := runbook.Load(ctx, g.loadOptions())
		if err != nil {
			return nil, err
		}
		g.lib = lib
		if g.warn != nil {
			for _, msg := range lib.Warnings { // a cache entry changed outside irtui, say
				fmt.Fprintf(g.warn, "warning: %s\n", safetext.Line(msg))
			}
		}
	}
	return g.lib, nil
}

// runbook finds a runbook by id, with a helpful error.
func (g *globals) runbook(ctx context.Context, id string) (*runbook.Runbook, error) {
	lib, err := g.library(ctx)
	if err != nil {
		return nil, err
	}
	if rb, ok := lib.Get(id); ok {
		return rb, nil
	}
	if path, broken := lib.Broken(id); broken {
		return nil, fmt.Errorf("runbook %q: %s replaces the bundled runbook but does not load; fix it (see `irtui runbooks lint %s`)", id, path, path)
	}
	ids := make([]string, 0, len(lib.Runbooks))
	for _, rb := range lib.Runbooks {
		ids = append(ids, rb.ID)
	}
	return nil, fmt.Errorf("no runbook %q; known runbooks: %s", id, strings.Join(ids, ", "))
}

// warnFailed tells the user on stderr which runbook files did not load.
func warnFailed(cmd *cobra.Command, lib *runbook.Library) {
	w := cmd.ErrOrStderr()
	if len(lib.Failed) == 0 {
		return
	}
	fmt.Fprintf(w, "Some runbook files did not load (run `irtui runbooks lint` for details):\n")
	for _, p := range lib.Failed {
		fmt.Fprintf(w, "  %s\n", safetext.Line(p.String()))
	}
}
