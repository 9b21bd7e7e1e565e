//go:build unix

package strictyaml

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openFlags: a named pipe opened for reading without O_NONBLOCK waits for
// a writer, for ever if none comes. With it the open returns at once and
// fstat refuses the pipe.
const openFlags = syscall.O_NONBLOCK

// notRegularOpenError explains an open that failed because of what the
// path is: opening a socket fails with ENXIO.
func notRegularOpenError(path string, err error) error {
	if !errors.Is(err, syscall.ENXIO) {
		return nil
	}
	if st, serr := os.Stat(path); serr == nil && st.Mode()&fs.ModeSocket != 0 {
		return &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return nil
}
