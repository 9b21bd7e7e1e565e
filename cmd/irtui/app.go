package main

import (
	"sort"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/tui"
)

// runApp opens the terminal app on the database.
func runApp(cmd *cobra.Command, g *globals) error {
	cfg, err := g.loadConfig()
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
	m := tui.New(tui.Deps{
		Store:    svc.Store,
		Service:  svc,
		Runbooks: func() *runbook.Library { return runbook.Load(opts) },
		Config:   cfg,
		Actor:    g.actor(),
		Clock:    clock.Real{},
		Notice: func() string {
			if seeded {
				return "Loaded a demo directory of fictional people and customers; import yours with `irtui directory import`."
			}
			return ""
		}(),
	})
	p := tea.NewProgram(m, tea.WithContext(cmd.Context()), tea.WithInput(cmd.InOrStdin()), tea.WithOutput(cmd.OutOrStdout()))
	_, err = p.Run()
	return err
}

func sortStrings(s []string) { sort.Strings(s) }
