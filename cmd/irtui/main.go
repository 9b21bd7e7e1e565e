// Command irtui is a terminal application for security incident response:
// runbooks, classification, regulatory clocks, notifications and drills.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"charm.land/fang/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/safetext"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exitCode ends the program with a code after the command has already
// told the user what happened.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exitInterrupted is the exit status of a command stopped by Ctrl-C
// (SIGINT) or SIGTERM after it said what it had done: 128 + SIGINT.
const exitInterrupted = 130

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(ctx, newRootCmd(&globals{}), args, stdin, stdout, stderr,
		fang.WithNotifySignal(os.Interrupt, syscall.SIGTERM))
}

// execute runs the command tree root on args and returns the exit status.
// Errors go to stderr as "irtui: ...".
func execute(ctx context.Context, root *cobra.Command, args []string, stdin io.Reader, stdout, stderr io.Writer,
	opts ...fang.Option) int {
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := fang.Execute(ctx, root, append([]fang.Option{
		fang.WithVersion(version),
		fang.WithErrorHandler(func(w io.Writer, styles fang.Styles, err error) {
			var code exitCode
			if errors.As(err, &code) {
				return
			}
			if cw, ok := w.(*colorprofile.Writer); ok {
				w = cw.Forward
			}
			if errors.Is(err, context.Canceled) {
				fmt.Fprintln(w, "irtui: interrupted")
				return
			}
			// Errors quote files and user input: nothing in them may act on
			// the terminal.
			fmt.Fprintf(w, "irtui: %s\n", safetext.Clean(err.Error()))
		})}, opts...)...)
	if err == nil {
		return 0
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted // as a shell reports a command ended by SIGINT
	}
	return 1
}

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"
