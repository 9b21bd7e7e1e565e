package main

import (
	"context"
	"slices"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/strictyaml"
	"github.com/irtui/irtui/runbooks"
	"github.com/spf13/cobra"
)

// parseDirectory reads a directory file strictly: every unknown field,
// wrong type and invalid value (store.CheckDirectory) is reported with
// path:line:col.
func parseDirectory(path string, data []byte) (store.Directory, error) {
	var d store.Directory
	if probs := strictyaml.DecodeFile(strictyaml.Directory, path, data, &d); probs != nil {
		return d, probs
	}
	if issues := store.CheckDirectory(&d); len(issues) > 0 {
		// Positions are looked up only for a file with problems.
		doc, probs := strictyaml.Parse(strictyaml.Directory, path, data)
		if probs != nil {
			return d, probs
		}
		return d, doc.Report(issues, nil)
	}
	return d, nil
}

// readDirectory reads a directory file, or standard input for "-".
func readDirectory(cmd *cobra.Command, path string) (store.Directory, error) {
	name, data, err := readInput(cmd, strictyaml.Directory, path)
	if err != nil {
		return store.Directory{}, err
	}
	return parseDirectory(name, data)
}

// seedDemoDirectory loads the bundled demo people and customers into a
// database whose directory is empty, so the app is usable out of the box:
// its installer acts as the demo's incident commander until a directory
// of their own is imported. It reports whether it did.
func seedDemoDirectory(ctx context.Context, st *store.Store) (bool, error) {
	d, err := parseDirectory("bundled:directory/demo.yaml", runbooks.DemoDirectory())
	if err != nil {
		return false, err
	}
	commander := ""
	for _, p := range d.People {
		if slices.Contains(p.Roles, identity.CommanderRole) {
			commander = p.ID
			break
		}
	}
	return directory(st).SeedDemo(ctx, d, commander)
}
