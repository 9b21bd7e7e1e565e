package main

import (
	"context"

	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/strictyaml"
	"github.com/irtui/irtui/runbooks"
)

// parseDirectory reads a directory file strictly: every unknown field and
// wrong type is reported with path:line:col.
func parseDirectory(path string, data []byte) (store.Directory, error) {
	var d store.Directory
	if probs := strictyaml.DecodeFile(strictyaml.Directory, path, data, &d); probs != nil {
		return d, probs
	}
	return d, nil
}

// readDirectory reads a directory file from disk.
func readDirectory(ctx context.Context, path string) (store.Directory, error) {
	data, err := strictyaml.ReadFile(ctx, strictyaml.Directory, path)
	if err != nil {
		return store.Directory{}, err
	}
	return parseDirectory(path, data)
}

// seedDemoDirectory loads the bundled demo people and customers into a
// database whose directory is empty, so the app is usable out of the box.
// It reports whether it did.
func seedDemoDirectory(ctx context.Context, st *store.Store, actor string) (bool, error) {
	people, err := st.People(ctx)
	if err != nil {
		return false, err
	}
	customers, err := st.Customers(ctx)
	if err != nil {
		return false, err
	}
	if len(people) > 0 || len(customers) > 0 {
		return false, nil
	}
	d, err := parseDirectory("bundled:directory/demo.yaml", runbooks.DemoDirectory())
	if err != nil {
		return false, err
	}
	if _, err := st.ImportDirectory(ctx, actor, d); err != nil {
		return false, err
	}
	return true, nil
}
