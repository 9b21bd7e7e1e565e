package tabletop

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/deadline"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/strictyaml"
	"github.com/irtui/irtui/runbooks"
)

// epoch is a Friday 23:10 UTC: the scenarios' T+0 in tests.
var epoch = time.Date(2026, 3, 13, 23, 10, 0, 0, time.UTC)

// wall is the wall-clock time the tests run at.
var wall = time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)

var validate = runbook.ValidateOptions{Obligation: deadline.IsObligationID}

var (
	bundledLib       *runbook.Library
	bundledScenarios *ScenarioLibrary
)

func library(t testing.TB) (*runbook.Library, *ScenarioLibrary) {
	t.Helper()
	if bundledLib == nil {
		opts := runbook.Options{Bundled: runbooks.FS(), Validate: validate}
		bundledLib, _ = runbook.Load(context.Background(), opts)
		if len(bundledLib.Failed) > 0 {
			t.Fatalf("bundled runbooks: %v", bundledLib.Failed)
		}
		bundledScenarios, _ = Load(context.Background(), opts, bundledLib)
		if len(bundledScenarios.Failed) > 0 {
			t.Fatalf("bundled scenarios: %v", bundledScenarios.Failed)
		}
	}
	return bundledLib, bundledScenarios
}

type fixture struct {
	deps Deps
	path string
	real *clock.Fake
}

// newFixture opens a real SQLite file in a temporary folder with the demo
// directory imported.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "irtui.db")
	return openFixture(t, path, true)
}

func openFixture(t testing.TB, path string, seed bool) *fixture {
	t.Helper()
	real := clock.NewFake(wall)
	st, err := store.Open(context.Background(), path, store.WithClock(real))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if seed {
		var d store.Directory
		if probs := strictyaml.DecodeFile(strictyaml.Directory, "demo.yaml", runbooks.DemoDirectory(), &d); probs != nil {
			t.Fatal(probs)
		}
		// The tests' facilitators, observers and auditors are people too:
		// nobody else can act. fac turns real incidents into scenarios,
		// which exports them.
		d.People = append(d.People, store.Person{ID: "fac", Name: "Facilitator", Permissions: []string{"export"}},
			store.Person{ID: "facilitator", Name: "Facilitator"}, store.Person{ID: "eve", Name: "Eve (observer)"},
			store.Person{ID: "auditor", Name: "Auditor"})
		if _, err := st.ImportDirectory(context.Background(), "admin", d); err != nil {
			t.Fatal(err)
		}
	}
	lib, _ := library(t)
	return &fixture{path: path, real: real,
		deps: Deps{Store: st, Runbooks: lib, Policy: deadline.DefaultPolicy(), Real: real}}
}

func scenario(t testing.TB, id string) *Scenario {
	t.Helper()
	_, scs := library(t)
	sc, ok := scs.Get(id)
	if !ok {
		t.Fatalf("no bundled scenario %q", id)
	}
	return sc
}

func actionsFile(t testing.TB, sc *Scenario, path string) *DrillActions {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lib, _ := library(t)
	rb, _ := lib.Get(sc.Runbook)
	acts, probs := ParseDrillActions(path, data, sc, rb, validate)
	if probs != nil {
		t.Fatalf("actions file:\n%v", probs)
	}
	return acts
}

func results(s Score) map[string]Result {
	out := map[string]Result{}
	for _, e := range s.Expectations {
		out[e.ID] = e.Result
	}
	return out
}

// as is a trusted local actor named name, as in local trust mode.
func as(name string) identity.Actor { return identity.Local(name, "tester") }
