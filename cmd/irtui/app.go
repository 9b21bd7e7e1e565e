package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"sort"
)

// runApp opens the terminal app. Until the TUI lands it prints the runbook
// library and points at the commands that exist.
func runApp(cmd *cobra.Command, g *globals) error {
	lib := g.library()
	w := cmd.OutOrStdout()
	fmt.Fprintln(w, "irtui — the terminal app is not built yet; here is your runbook library.")
	fmt.Fprintln(w)
	printRunbookList(w, lib)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Read one with `irtui runbooks show ID`, check your own with `irtui runbooks lint PATH`.")
	warnFailed(cmd, lib)
	return nil
}

func sortStrings(s []string) { sort.Strings(s) }
