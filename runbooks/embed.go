// Package runbooks embeds the bundled runbook library, the table-top
// scenarios and the demo directory into the irtui binary.
package runbooks

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

//go:embed directory/demo.yaml
var demoDirectory []byte

// FS holds the bundled runbooks (*.yaml at its root).
func FS() fs.FS { return files }

// DemoDirectory is the fictional people and customers loaded into an empty
// database so that the app is usable before a team imports its own.
func DemoDirectory() []byte { return demoDirectory }
