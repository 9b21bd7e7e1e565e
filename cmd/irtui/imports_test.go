package main

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/irtui/irtui"

// TestPackageImports checks every package's imports of irtui packages
// against the table "Allowed imports" in docs/architecture.md, which is
// read from the page itself so the two cannot drift apart. A package the
// table does not list fails too: describe it there first.
func TestPackageImports(t *testing.T) {
	root := filepath.Join("..", "..")
	allowed := allowedImports(t, filepath.Join(root, "docs", "architecture.md"))
	imports := packageImports(t, root)
	if len(imports) < 10 {
		t.Fatalf("found only %d packages; is the repository root %s?", len(imports), root)
	}
	for pkg, deps := range imports {
		may, listed := allowed[pkg]
		if !listed {
			t.Errorf("package %s is not in the table of allowed imports in docs/architecture.md", pkg)
			continue
		}
		for _, dep := range deps {
			if may != nil && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which docs/architecture.md does not allow (allowed: %s)", pkg, dep, strings.Join(may, ", "))
			}
		}
	}
	for pkg := range allowed {
		if _, ok := imports[pkg]; !ok {
			t.Errorf("docs/architecture.md lists %s, which has no Go files", pkg)
		}
	}
}

var rowPattern = regexp.MustCompile("^\\| `([a-z/]+)` \\| (.+) \\|$")

// allowedImports reads the table that follows "## Allowed imports": a
// package path relative to the module and the packages it may import,
// named by their last element, "nothing of irtui", or "any" (nil).
func allowedImports(t *testing.T, doc string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Allowed imports\n")
	if !ok {
		t.Fatalf("%s has no section \"Allowed imports\"", doc)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if m := rowPattern.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			rows[m[1]] = m[2]
		}
	}
	byName := map[string]string{}
	for pkg := range rows {
		byName[path.Base(pkg)] = pkg
	}
	out := map[string][]string{}
	for pkg, may := range rows {
		switch may {
		case "any":
			out[pkg] = nil
			continue
		case "nothing of irtui":
			out[pkg] = []string{}
			continue
		}
		list := []string{}
		for _, name := range strings.Split(may, ",") {
			name = strings.Trim(strings.TrimSpace(name), "`")
			full, ok := byName[name]
			if !ok {
				t.Fatalf("%s: %s may import %q, which is not a package in the table", doc, pkg, name)
			}
			list = append(list, full)
		}
		out[pkg] = list
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rows in the table of allowed imports", doc)
	}
	return out
}

// packageImports lists, for each package of the module (by its path
// relative to the module), the irtui packages its non-test files import.
func packageImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "docs") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		deps := out[pkg]
		if deps == nil {
			deps = []string{}
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			if dep, ok := strings.CutPrefix(ip, modulePath+"/"); ok && !slices.Contains(deps, dep) {
				deps = append(deps, dep)
			}
		}
		out[pkg] = deps
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
