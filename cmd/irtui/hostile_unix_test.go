//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runWithin runs irtui as c.run does, with more environment, and fails
// the test if it has not ended within a minute: no input may hang it.
func (c *cli) runWithin(env []string, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, errs, code := c.runContext(ctx, env, args...)
	if ctx.Err() != nil {
		c.t.Fatalf("irtui %v hangs", args)
	}
	return out, errs, code
}

// hostile makes path a named pipe, a symbolic link to /dev/zero, or a file
// nested 100,000 levels deep (the 200 KB runbook that took 14.6 GiB).
func hostile(t *testing.T, what, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	var err error
	switch what {
	case "fifo":
		err = syscall.Mkfifo(path, 0o600)
	case "zero":
		err = os.Symlink("/dev/zero", path)
	case "bomb":
		err = os.WriteFile(path, []byte("id: bomb\nx: "+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+"\n"), 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
}

var hostileSays = map[string]string{
	"fifo": "is a named pipe (FIFO), not a regular file",
	"zero": "is a character device, not a regular file",
	"bomb": "nesting is too deep: more than 64 levels of lists and mappings",
}

var lintSays = map[string]string{
	"fifo": "this is a named pipe (FIFO), not a regular file; irtui reads only regular files",
	"zero": "this is a symbolic link to /dev/zero, outside the folder", // not opened at all
	"bomb": "nesting is too deep: more than 64 levels of lists and mappings",
}

// TestCLIHostileFilesOfEveryKind: a named pipe, a link to /dev/zero and a
// depth bomb, as every kind of file irtui reads: runbooks, scenarios and
// shared assessments in a --runbooks folder, an answers file, the
// configuration, a directory to import, a drill's actions, a scenario
// named as a file, and the decode cache and its key. Each is refused at
// once with a message that names the kind of file; none hangs irtui or
// makes it read without end.
func TestCLIHostileFilesOfEveryKind(t *testing.T) {
	c := newCLI(t)
	c.withDirectory()
	for _, what := range []string{"fifo", "zero", "bomb"} {
		t.Run(what, func(t *testing.T) {
			c.t = t
			dir := filepath.Join(c.dir, what)
			for _, sub := range []string{"", "scenarios", "assessments"} {
				hostile(t, what, filepath.Join(dir, "rb", sub, "h.yaml"))
			}
			// The folder, linted and loaded.
			out, errs, code := c.runWithin(nil, "runbooks", "lint", filepath.Join(dir, "rb"))
			for _, sub := range []string{"", "scenarios", "assessments"} {
				if want := filepath.Join(dir, "rb", sub, "h.yaml") + ":"; code != 1 || !strings.Contains(out, want) {
					t.Fatalf("lint: exit %d, no problem for %s:\n%s%s", code, want, out, errs)
				}
			}
			if strings.Count(out, lintSays[what]) != 3 {
				t.Fatalf("lint: want 3 problems saying %q:\n%s", lintSays[what], out)
			}
			_, errs, code = c.runWithin(nil, "--runbooks", filepath.Join(dir, "rb"), "runbooks", "list")
			if code != 0 || !strings.Contains(errs, filepath.Join(dir, "rb", "h.yaml")) {
				t.Fatalf("list: exit %d:\n%s", code, errs)
			}
			// Files named on the command line.
			file := filepath.Join(dir, "f.yaml")
			hostile(t, what, file)
			for kind, args := range map[string][]string{
				"answers file":  {"classify", "--runbook", "ddos", "--answers", file},
				"configuration": {"--config", file, "classify", "--runbook", "ddos"},
				"directory":     {"directory", "import", file},
				"actions file":  {"drill", "run", "bec-fraudulent-payment", "--speed", "max", "--actions", file},
				"scenario":      {"drill", "run", file},
			} {
				_, errs, code := c.runWithin(nil, args...)
				// A file that cannot be read is named by its kind; a file
				// read and refused, by its path, line and column.
				want := kind + ": " + file + " " + hostileSays[what]
				if what == "bomb" {
					want = file + ":2:67: " + hostileSays[what]
				}
				if code == 0 || !strings.Contains(errs, want) {
					t.Errorf("%s: exit %d, stderr lacks %q:\n%s", kind, code, want, errs)
				}
			}
		})
	}
	c.t = t
	// The decode cache and its key, in the cache folder irtui uses.
	rb := filepath.Join(c.dir, "plain")
	if err := os.Mkdir(rb, 0o700); err != nil {
		t.Fatal(err)
	}
	c.write("plain/m.yaml", readFile(t, "../../internal/runbook/testdata/minimal.yaml"))
	for _, what := range []string{"fifo", "zero"} {
		for file, says := range map[string]string{
			"runbooks-v5.json": "runbook cache " + filepath.Join(c.dir, "cache-"+what, "irtui", "runbooks-v5.json") + " could not be read and is rebuilt",
			"runbooks.key":     "runbook cache not used: runbook cache: " + filepath.Join(c.dir, "cache-"+what, "irtui", "runbooks.key") + " " + hostileSays[what],
		} {
			cache := filepath.Join(c.dir, "cache-"+what)
			os.RemoveAll(cache)
			hostile(t, what, filepath.Join(cache, "irtui", file))
			out, errs, code := c.runWithin([]string{"IRTUI_CACHE=", "XDG_CACHE_HOME=" + cache}, "--runbooks", rb, "runbooks", "list")
			if code != 0 || !strings.Contains(out, "minimal") || !strings.Contains(errs, "warning: "+says) {
				t.Errorf("cache %s as %s: exit %d\n%s%s", file, what, code, out, errs)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCLIInterruptStopsALongLoad: SIGINT or SIGTERM while irtui loads a
// folder of 20,000 runbooks (no pipe, nothing hostile, just many) stops
// the load: irtui says it was interrupted and exits 130, without listing
// anything.
func TestCLIInterruptStopsALongLoad(t *testing.T) {
	c := newCLI(t)
	dir := filepath.Join(c.dir, "many")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	base := readFile(t, "../../internal/runbook/testdata/minimal.yaml")
	for i := range 20_000 {
		src := strings.Replace(base, "id: minimal", fmt.Sprintf("id: many-%05d", i), 1)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("r%05d.yaml", i)), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := exec.Command(c.bin, "--runbooks", dir, "runbooks", "list")
		cmd.Env = append(os.Environ(), "IRTUI_DB="+c.db, "IRTUI_CONFIG="+c.config, "IRTUI_CACHE=off", "NO_COLOR=1",
			"XDG_DATA_HOME="+c.dir, "XDG_CONFIG_HOME="+c.dir)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // it is reading the folder
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			t.Fatalf("%v: irtui did not stop", sig)
		}
		if code := cmd.ProcessState.ExitCode(); code != 130 || errb.String() != "irtui: interrupted\n" || strings.Contains(out.String(), "many-") {
			t.Fatalf("%v: exit %d, stdout %d bytes, stderr %q", sig, code, out.Len(), errb.String())
		}
	}
}

// TestCLIRunbookLinkOutsideItsFolder: a runbook folder is a git checkout,
// and git stores symbolic links. A link committed there that leads to a
// file elsewhere on the host (a secret) is not followed: lint and the
// loader name the link, and nothing of the file it leads to is shown.
func TestCLIRunbookLinkOutsideItsFolder(t *testing.T) {
	c := newCLI(t)
	rb := filepath.Join(c.dir, "links", "rb")
	if err := os.MkdirAll(rb, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(c.dir, "links", "secret.yaml")
	if err := os.WriteFile(secret, []byte("slack_token: xoxb-not-for-your-eyes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(rb, "innocent.yaml")
	if err := os.Symlink("../secret.yaml", link); err != nil {
		t.Fatal(err)
	}
	out, errs, code := c.runWithin(nil, "runbooks", "lint", rb)
	if code != 1 || !strings.Contains(out, link+":1:1: this is a symbolic link to "+secret+", outside the folder") {
		t.Fatalf("lint: exit %d:\n%s%s", code, out, errs)
	}
	_, errs2, code := c.runWithin(nil, "--runbooks", rb, "runbooks", "list")
	if code != 0 || !strings.Contains(errs2, link) {
		t.Fatalf("list: exit %d:\n%s", code, errs2)
	}
	if all := out + errs + errs2; strings.Contains(all, "xoxb") || strings.Contains(all, "slack_token") {
		t.Fatalf("the linked file's content was shown:\n%s", all)
	}
}
