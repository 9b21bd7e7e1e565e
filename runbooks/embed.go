// Package runbooks embeds the bundled runbook library and table-top
// scenarios into the irtui binary.
package runbooks

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml
var files embed.FS

// FS holds the bundled runbooks (*.yaml at its root).
func FS() fs.FS { return files }
