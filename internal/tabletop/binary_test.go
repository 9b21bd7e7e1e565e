package tabletop

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// irtui is the built irtui binary, run against one temporary database, as
// the CLI tests of drills run it: several processes on one file.
type irtui struct {
	t   *testing.T
	bin string
	dir string
	env []string
	// as is IRTUI_USER: the participant a command names (a claim, which
	// holds on drills); "" for the OS user.
	as string
}

func newIrtui(t *testing.T) *irtui {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "irtui-tabletop-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "irtui")
		if out, err := exec.Command("go", "build", "-o", binaryPath, "../../cmd/irtui").CombinedOutput(); err != nil {
			binaryErr = &buildFailure{string(out)}
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	dir := t.TempDir()
	env := append(os.Environ(), "IRTUI_DB="+filepath.Join(dir, "irtui.db"), "IRTUI_CACHE=off",
		"IRTUI_RUNBOOKS=", "IRTUI_CONFIG=", "NO_COLOR=1", "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir,
		"IRTUI_CHECKPOINT_KEY=")
	c := &irtui{t: t, bin: binaryPath, dir: dir, env: env}
	// The OS user running the tests creates the database, as a person
	// would the first time, and so administers it.
	c.ok("--init", "directory", "list")
	c.as = "eli"
	return c
}

type buildFailure struct{ out string }

func (e *buildFailure) Error() string { return "go build: " + e.out }

func (c *irtui) command(args ...string) *exec.Cmd {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(append([]string{}, c.env...), "IRTUI_USER="+c.as)
	return cmd
}

// runIn runs irtui with stdin and returns stdout, stderr and the exit
// code.
func (c *irtui) runIn(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	cmd := c.command(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func (c *irtui) run(args ...string) (string, string, int) {
	c.t.Helper()
	return c.runIn("", args...)
}

// ok runs irtui and fails the test unless it exits 0.
func (c *irtui) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("irtui %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

// console is an irtui process the test types into, line by line, and
// whose output it reads as it comes.
type console struct {
	t     *testing.T
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	seen  []string
}

func (c *irtui) console(args ...string) *console {
	c.t.Helper()
	cmd := c.command(args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p := &console{t: c.t, cmd: cmd, in: in, lines: make(chan string, 1000)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	c.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return p
}

// send types a line.
func (p *console) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// waitFor reads output until a line contains want, and returns that line.
func (p *console) waitFor(want string) string {
	p.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("the console ended before printing %q:\n%s", want, strings.Join(p.seen, "\n"))
			}
			p.seen = append(p.seen, line)
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			p.t.Fatalf("the console never printed %q:\n%s", want, strings.Join(p.seen, "\n"))
		}
	}
}

// end closes the console's input and waits for it to exit.
func (p *console) end() {
	p.t.Helper()
	p.in.Close()
	for line := range p.lines {
		p.seen = append(p.seen, line)
	}
	if err := p.cmd.Wait(); err != nil {
		p.t.Fatalf("console: %v\n%s", err, strings.Join(p.seen, "\n"))
	}
}
