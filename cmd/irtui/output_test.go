package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestOutputFileReportsAFailedClose: a file that could not be synced or
// closed is an error, so no command says "Wrote ..." for an export that is
// not on disk whole; a file written and closed is private and complete.
func TestOutputFileReportsAFailedClose(t *testing.T) {
	c := &cobra.Command{}
	path := filepath.Join(t.TempDir(), "export.md")
	w, closeFn, err := outputTo(c, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("# INC-0001\n")); err != nil {
		t.Fatal(err)
	}
	if err := closeFn(); err != nil {
		t.Fatalf("a good file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "# INC-0001\n" {
		t.Fatalf("read back %q, %v", b, err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}

	w, closeFn, err = outputTo(c, path)
	if err != nil {
		t.Fatal(err)
	}
	w.(*os.File).Close() // the descriptor fails under the closer, as a full or lost disk would
	if err := closeFn(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a failed sync and close must be reported with the file's name; got %v", err)
	}
}
