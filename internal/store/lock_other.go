//go:build !unix

package store

import "os"

// lockFile is a no-op where flock is not available: a journal line
// appended while the journal is being taken in may then be lost.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }

func unlinked(*os.File) bool { return false }
