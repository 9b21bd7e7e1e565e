// Package strictyaml is irtui's one strict YAML reader, used for runbooks,
// scenarios, drill actions, answers, the configuration and the directory.
// It reads input files from disk (ReadFile), decodes them strictly into Go
// structs or flat values, and reports every problem it finds, not just
// the first, as path:line:col with a "did you mean" hint for misspelt
// names. Valid files may take a fast path (DecodeFast) that keeps no
// positions; a schema's own checks then find their positions afterwards
// through a Document.
//
// It imports nothing else of irtui, so any package may use it.
package strictyaml

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a file, at a position in it.
type Problem struct {
	Path string `json:"path"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Msg  string `json:"message"`
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.Path, p.Line, p.Col, p.Msg)
}

// Problems is a list of problems; as an error it reads one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders problems by path, line and column, keeping the order of
// problems at the same place.
func (ps Problems) Sort() {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
