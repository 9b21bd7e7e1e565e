//go:build unix

package strictyaml

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var allKinds = []Kind{Runbook, Scenario, Assessment, Actions, Answers, Configuration, Directory, Cache}

// hostilePaths makes, in a fresh folder, each kind of path a runbook
// folder (a git checkout) can hold that is not a regular file, and says
// what ReadFile must call it.
func hostilePaths(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	paths[fifo] = "a named pipe (FIFO)"
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	paths[zero] = "a character device"
	folder := filepath.Join(dir, "folder.yaml")
	if err := os.Mkdir(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	paths[folder] = "a folder"
	// Unix socket paths are short: make it in a short temporary folder.
	sdir, err := os.MkdirTemp("", "sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sdir) })
	sock := filepath.Join(sdir, "s.yaml")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	paths[sock] = "a socket"
	return paths
}

// readWithin runs ReadFile and fails the test if it takes more than a few
// seconds: a named pipe must not block the open or the read.
func readWithin(t *testing.T, kind Kind, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := ReadFile(context.Background(), kind, path)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s %s: ReadFile blocks", kind, path)
		return nil
	}
}

// TestReadFileRefusesWhatIsNotARegularFile: a FIFO, a symbolic link to
// /dev/zero, a socket or a folder, for every kind of file, is refused at
// once with a message that names the kind of file and what the path is.
func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	paths := hostilePaths(t)
	for _, kind := range allKinds {
		for path, what := range paths {
			err := readWithin(t, kind, path)
			var re *ReadError
			var nr *NotRegularError
			if !errors.As(err, &re) || re.Kind != kind || !errors.As(err, &nr) || nr.What() != what {
				t.Fatalf("%s %s: got %v", kind, path, err)
			}
			if want := string(kind) + ": " + path + " is " + what + ", not a regular file"; err.Error() != want {
				t.Errorf("got  %q\nwant %q", err, want)
			}
			f := ReadOne(context.Background(), kind, path)
			if got, want := f.Problems().Error(), path+":1:1: this is "+what+", not a regular file; irtui reads only regular files"; got != want {
				t.Errorf("as a lint problem:\n got %q\nwant %q", got, want)
			}
		}
	}
}

// TestReadDirListsHostileFiles: a folder of runbooks with a FIFO, a
// /dev/zero link, a link to a file outside the folder and links inside it
// is read at once; each hostile file is one problem, and a link is
// followed only to a regular file inside the folder.
func TestReadDirListsHostileFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "a.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("id: c\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("c.yaml", filepath.Join(dir, "d.yaml")); err != nil { // inside: followed
		t.Fatal(err)
	}
	if err := os.Symlink("a.yaml", filepath.Join(dir, "e.yaml")); err != nil { // inside, to the FIFO
		t.Fatal(err)
	}
	secret := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(secret, []byte("token: xoxb-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "f.yaml")); err != nil { // outside: not opened
		t.Fatal(err)
	}
	done := make(chan []File, 1)
	go func() { files, _ := ReadDir(context.Background(), Runbook, dir); done <- files }()
	var files []File
	select {
	case files = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadDir blocks on a FIFO")
	}
	if len(files) != 6 || !strings.Contains(files[0].Problems().Error(), "named pipe") ||
		!strings.Contains(files[1].Problems().Error(), "symbolic link to /dev/zero, outside the folder") ||
		string(files[2].Data) != "id: c\n" || string(files[3].Data) != "id: c\n" ||
		!strings.Contains(files[4].Problems().Error(), "named pipe") ||
		!strings.Contains(files[5].Problems().Error(), "outside the folder") || files[5].Data != nil {
		t.Fatalf("got %+v", files)
	}
	for i, name := range []string{"a", "b", "c", "d", "e", "f"} {
		if want := filepath.Join(dir, name+".yaml"); files[i].Path != want {
			t.Errorf("file %d is named %s, want the link's own path %s", i, files[i].Path, want)
		}
	}
}

// zeros is an endless file, as /dev/zero is.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// TestReadCappedStopsAtTheLimit: whatever a file claims its size is, the
// read stops one byte past the limit.
func TestReadCappedStopsAtTheLimit(t *testing.T) {
	z := &zeros{}
	data, over, err := readCapped(context.Background(), z, 0, 1<<20)
	if !over || data != nil || err != nil {
		t.Fatalf("over=%v len=%d err=%v", over, len(data), err)
	}
	if z.n > 1<<20+1 {
		t.Fatalf("read %d bytes past a limit of 1 MiB", z.n)
	}
	if ps := tooLarge(Answers, "a.yaml", -1); ps.Error() != "a.yaml:1:1: file is larger than the limit for answers files (1 MiB)" {
		t.Errorf("got %v", ps)
	}
}

// cancelling is a file whose reading is interrupted: ctx is cancelled
// after the first chunk.
type cancelling struct {
	zeros
	cancel func()
}

func (c *cancelling) Read(p []byte) (int, error) {
	c.cancel()
	return c.zeros.Read(p)
}

func TestReadCappedStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &cancelling{cancel: cancel}
	if _, _, err := readCapped(ctx, c, 0, 1<<30); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if c.n > 2*readChunk {
		t.Fatalf("read %d bytes after the cancel", c.n)
	}
}
