package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/serve"
	"github.com/irtui/irtui/internal/store"
)

// A command run over SSH (`ssh -p 2222 HOST -- incident list`) runs inside
// irtui serve, as the key's owner, on the server's database,
// configuration and runbooks. It must not reach past them: the server's
// files are not the client's to read or write, and the database is not
// the client's to choose. Flags and commands say what they touch with an
// annotation, which checkRemote enforces and TestEveryFileFlagSaysWhatItTouches
// keeps complete.

// sshAnnotation is the annotation key, on a flag or a command, that says
// how it may be used over SSH.
const sshAnnotation = "irtui/ssh"

// Values of sshAnnotation.
const (
	sshServerSetting = "server" // a flag the server sets (--db, --config, --runbooks)
	sshReadsFile     = "read"   // a flag naming a file to read: only "-" (standard input) over SSH
	sshReadsPath     = "path"   // a flag naming a file to read, with no "-": refused over SSH
	sshKeyOrFile     = "key"    // a flag taking a public key (ed25519:...) or a file holding one: keys only
	sshWritesFile    = "write"  // a flag naming a file to write: refused over SSH
	sshFileArgs      = "files"  // a command whose arguments are files to read: only "-"
	sshPathArgs      = "paths"  // a command whose arguments are files or folders to read: none
	sshLocalOnly     = "local"  // a command refused over SSH
)

func annotateFlag(f *pflag.FlagSet, name, how string) {
	if err := f.SetAnnotation(name, sshAnnotation, []string{how}); err != nil {
		panic(err) // a flag that does not exist: a mistake in the command tree
	}
}

// readsFile marks flags that name a file irtui reads.
func readsFile(f *pflag.FlagSet, names ...string) {
	for _, n := range names {
		annotateFlag(f, n, sshReadsFile)
	}
}

// readsPath marks flags that name a file irtui reads and that have no
// standard-input form.
func readsPath(f *pflag.FlagSet, names ...string) {
	for _, n := range names {
		annotateFlag(f, n, sshReadsPath)
	}
}

// writesFile marks flags that name a file irtui writes.
func writesFile(f *pflag.FlagSet, names ...string) {
	for _, n := range names {
		annotateFlag(f, n, sshWritesFile)
	}
}

// annotate marks a command with how it may be used over SSH.
func annotate(cmd *cobra.Command, how string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[sshAnnotation] = how
	return cmd
}

// remote is the server a command runs in over SSH.
type remote struct {
	svc      *incident.Service
	cfg      config.Config
	lib      *runbook.Library
	db       string
	config   string
	runbooks []string
}

// run runs a CLI command for an SSH session, as its person, and returns
// its exit status. It takes no signals (the server handles SIGTERM for
// every session) and writes no man page (fang's goes to the server's
// standard output).
func (r *remote) run(s *serve.Session, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	actor := s.Actor
	g := &globals{remote: r, authenticated: &actor, lib: r.lib, db: r.db, config: r.config, runbooks: r.runbooks}
	return execute(s.Context, newRootCmd(g), args, stdin, stdout, stderr, fang.WithoutManpage())
}

// commandName names the command args would run ("incident list"), for
// the audit entry of an SSH session.
func commandName(args []string) string {
	root := newRootCmd(&globals{})
	c, _, err := root.Find(args)
	if err != nil || c == root {
		return ""
	}
	return strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
}

// errRemote says that what is not available over SSH, and what to do.
func errRemote(what, instead string) error {
	return fmt.Errorf("%s is not available over SSH: %s", what, instead)
}

// checkRemote refuses, for a command run over SSH, what would reach past
// the server's database, configuration and runbooks, or act for someone
// else: irtui serve itself, the app (it opens when a terminal connects),
// --db, --config and --runbooks, file names to read (standard input, "-",
// is the client's) and files to write (the client redirects standard
// output). --as stays: it is the person's claim, which the services honour
// on drills only. A refusal is audited.
func (g *globals) checkRemote(cmd *cobra.Command) error {
	err := remoteRefusal(cmd)
	if err != nil {
		st := g.remote.svc.Store
		identity.Record(cmd.Context(), st, clock.Real{}.Now(), *g.authenticated, "ssh_command", "",
			store.OutcomeRefused, cmd.CommandPath()+": "+err.Error())
	}
	return err
}

func remoteRefusal(cmd *cobra.Command) error {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[sshAnnotation] == sshLocalOnly {
			return errRemote("`"+c.CommandPath()+"`", "run it on the server itself")
		}
	}
	var errs []error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		how := ""
		if v := f.Annotations[sshAnnotation]; len(v) > 0 {
			how = v[0]
		}
		switch how {
		case sshServerSetting:
			errs = append(errs, errRemote("--"+f.Name, "the server chose it"))
		case sshReadsFile:
			if f.Value.String() != "-" {
				errs = append(errs, errRemote("--"+f.Name+" FILE",
					"it would read a file on the server; give --"+f.Name+" - and send the file on standard input (ssh ... < FILE)"))
			}
		case sshReadsPath:
			errs = append(errs, errRemote("--"+f.Name+" FILE",
				"it would read a file on the server; run it on your own machine, with your copy of the file"))
		case sshKeyOrFile:
			if sv, ok := f.Value.(pflag.SliceValue); ok {
				for _, v := range sv.GetSlice() {
					if !strings.HasPrefix(v, "ed25519:") {
						errs = append(errs, errRemote("--"+f.Name+" FILE",
							"it would read a file on the server; give the key itself (ed25519:...)"))
						break
					}
				}
			}
		case sshWritesFile:
			errs = append(errs, errRemote("--"+f.Name,
				"it would write a file on the server; leave it out and redirect standard output on your side (ssh ... > FILE)"))
		}
	})
	switch how := cmd.Annotations[sshAnnotation]; how {
	case sshFileArgs, sshPathArgs:
		instead := "it would read a file on the server; give - and send the file on standard input (ssh ... < FILE)"
		if how == sshPathArgs {
			instead = "it would read files on the server; run this on your own machine, where your files are"
		}
		for _, a := range cmd.Flags().Args() {
			if a != "-" || how == sshPathArgs {
				errs = append(errs, errRemote(fmt.Sprintf("a file name (%q)", a), instead))
				break
			}
		}
	}
	return errors.Join(errs...)
}
