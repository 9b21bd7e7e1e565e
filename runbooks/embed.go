// Package runbooks embeds the bundled runbook library, the table-top
// scenarios and the demo directory into the irtui binary.
package runbooks

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml scenarios/*.yaml assessments/*.yaml
var files embed.FS

//go:embed directory/demo.yaml
var demoDirectory []byte

// FS holds the bundled runbooks (*.yaml at its root) and the table-top
// scenarios (scenarios/*.yaml).
func FS() fs.FS { return files }

// Scenarios holds the bundled table-top scenarios (*.yaml at its root).
func Scenarios() fs.FS {
	sub, err := fs.Sub(files, "scenarios")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// DemoDirectory is the fictional people and customers loaded into an empty
// database so that the app is usable before a team imports its own.
func DemoDirectory() []byte { return demoDirectory }
