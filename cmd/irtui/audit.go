package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irtui/irtui/internal/store"
	"github.com/irtui/irtui/internal/witness"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Check the tamper-evident record, and anchor it with signed checkpoints"}
	cmd.AddCommand(newVerifyCmd(g), newCheckpointCmd(g), newUnblockCmd(g))
	return cmd
}

// verifyView is the JSON form of `audit verify`.
type verifyView struct {
	store.Report
	// Witness lists the checkpoint lines that could not be used, and
	// Signers the keys that signed those that were.
	Witness     string   `json:"witness,omitempty"`
	WitnessBad  []string `json:"witness_problems,omitempty"`
	Signers     []string `json:"signers,omitempty"`
	TrustedKeys bool     `json:"trusted_keys"`
}

func newVerifyCmd(g *globals) *cobra.Command {
	var (
		asJSON, readonly, noIntegrity bool
		checkpoints                   string
		pubkeys                       []string
	)
	cmd := &cobra.Command{
		Use:   "verify [--checkpoints FILE] [--pubkey KEY]... [--readonly]",
		Short: "Check the record: hash chains, state tables, checkpoints and the file; exit 1 naming what is wrong",
		Long: "Recompute both hash chains and name the first entry that was altered, removed or reordered; check that\n" +
			"the state tables (incidents, roles, customers, the directory, the outbox) agree with what the audit log\n" +
			"recorded; hold the chains to the signed checkpoints in the witness file (--checkpoints, by default the one\n" +
			"beside the database) and name what they recorded that is gone; and run SQLite's integrity_check.\n" +
			"It only reads, takes no lock a writer waits for, and works on a copy (--readonly: a read-only or\n" +
			"immutable file, such as one on a write blocker). A damaged file is marked, so that nothing more is\n" +
			"written to it until a person runs `irtui audit unblock`. What it proves: docs/data-model.md.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig(c.Context())
			if err != nil {
				return err
			}
			path, _, err := g.dbPath()
			if err != nil {
				return err
			}
			// Verify never creates a database, not even on the default path.
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("database %s: %w", path, err)
			}
			if err := store.CheckFile(path); err != nil {
				return err
			}
			v := verifyView{}
			keys, err := trustedKeys(g, pubkeys)
			if err != nil {
				return err
			}
			v.TrustedKeys = len(keys) > 0
			var cps []store.Checkpoint
			if checkpoints == "" {
				wo := g.witnessOptions(cfg, c.ErrOrStderr())
				checkpoints = wo.To
				if checkpoints == "" {
					checkpoints = witness.DefaultPath(path)
				}
				if _, err := os.Stat(checkpoints); errors.Is(err, fs.ErrNotExist) {
					checkpoints = ""
				}
			}
			if checkpoints != "" {
				entries, bad, err := witness.ReadFile(checkpoints)
				if err != nil {
					return err
				}
				var probs []string
				cps, probs, v.Signers = witness.Trust(entries, keys)
				v.Witness, v.WitnessBad = checkpoints, append(bad, probs...)
			}
			opts := store.VerifyOptions{Checkpoints: cps, Integrity: !noIntegrity}
			if readonly {
				// A copy: nothing can be written beside it, and it may not be
				// ours to record an access in, so the check is not audited.
				target, cleanup, note, err := readonlyCopy(path, readonly)
				if err != nil {
					return err
				}
				defer cleanup()
				if note != "" {
					fmt.Fprintln(c.ErrOrStderr(), "irtui: "+note)
				}
				opts.Immutable = target == path
				if v.Report, err = store.Verify(c.Context(), target, opts); err != nil {
					return err
				}
			} else {
				err := g.withSession(c, func(s session) error {
					var err error
					v.Report, err = s.svc.VerifyAudit(c.Context(), s.actor, opts)
					return err
				})
				if err != nil {
					if strings.Contains(err.Error(), "unable to open") {
						return fmt.Errorf("%w (a read-only copy? try --readonly)", err)
					}
					return err
				}
			}
			ok := v.OK && len(v.WitnessBad) == 0
			if asJSON {
				if err := writeJSON(c.OutOrStdout(), v); err != nil {
					return err
				}
			} else {
				printVerify(c.OutOrStdout(), v)
			}
			if !ok {
				return exitCode(1)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&checkpoints, "checkpoints", "", "witness file of signed checkpoints (default: the one beside the database, if any)")
	f.StringSliceVar(&pubkeys, "pubkey", nil, "public key the checkpoints must be signed with (ed25519:BASE64, or a file holding it); repeatable\n"+
		"(default: the key of `irtui audit checkpoint` on this machine)")
	f.BoolVar(&readonly, "readonly", false, "the database is a read-only or immutable copy: do not lock it or write beside it")
	f.BoolVar(&noIntegrity, "no-integrity", false, "skip SQLite's integrity_check (which reads every page)")
	readsPath(f, "checkpoints")
	annotateFlag(f, "pubkey", sshKeyOrFile)
	// --readonly reads the database file itself, past the services: over
	// SSH the server's file is not the client's to open.
	annotateFlag(f, "readonly", sshServerSetting)
	return cmd
}

// trustedKeys are the keys given with --pubkey, or the local key.
func trustedKeys(g *globals, given []string) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for _, k := range given {
		pub, err := witness.ParsePublicKey(k)
		if err != nil {
			return nil, err
		}
		keys = append(keys, pub)
	}
	if len(keys) == 0 {
		keys = witness.LocalKeys("")
	}
	return keys, nil
}

// readonlyCopy returns the file to verify. A read-only copy is opened as
// immutable, which ignores a write-ahead log; if one with content lies
// beside it, both are copied to a private temporary folder and verified
// there, so that nothing is written beside the copy and nothing it holds
// is left out.
func readonlyCopy(path string, readonly bool) (target string, cleanup func(), note string, err error) {
	cleanup = func() {}
	if !readonly {
		return path, cleanup, "", nil
	}
	st, err := os.Stat(path + "-wal")
	if err != nil || st.Size() == 0 {
		return path, cleanup, "", nil
	}
	dir, err := os.MkdirTemp("", "irtui-verify-")
	if err != nil {
		return "", cleanup, "", err
	}
	cleanup = func() { os.RemoveAll(dir) }
	target = filepath.Join(dir, "copy.db")
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(path+suffix, target+suffix); err != nil {
			cleanup()
			return "", func() {}, "", err
		}
	}
	return target, cleanup, fmt.Sprintf("%s-wal holds changes not yet in %s; verifying a private copy of both", path, path), nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func printVerify(w io.Writer, v verifyView) {
	for _, p := range v.Problems {
		label := "TAMPERED"
		if p.Table == "file" {
			label = "DAMAGED"
		}
		fmt.Fprintf(w, "%s: %s\n", label, p)
	}
	for _, p := range v.WitnessBad {
		fmt.Fprintf(w, "WITNESS: %s\n", p)
	}
	if v.OK {
		fmt.Fprintf(w, "OK: %d timeline entries and %d audit entries, hash chains intact.\n", v.Timeline.Entries, v.Audit.Entries)
	}
	switch {
	case v.StateCovered:
		fmt.Fprintf(w, "State: %d rows of the state tables checked against the audit log.\n", v.StateRows)
	default:
		fmt.Fprintf(w, "State: this database (schema %d) predates state coverage; open it with this irtui to upgrade it.\n", v.Schema)
	}
	switch {
	case v.Witness == "":
		fmt.Fprintln(w, "Checkpoints: none (no witness file): entries cut off the end of both chains would not show. "+
			"Write checkpoints with `irtui audit checkpoint` and keep them off this machine.")
	default:
		fmt.Fprintf(w, "Checkpoints: %d of this database from %s", v.Checkpoints, v.Witness)
		if v.OtherCheckpoints > 0 {
			fmt.Fprintf(w, " (%d of other databases left aside)", v.OtherCheckpoints)
		}
		fmt.Fprintln(w, ".")
		if !v.TrustedKeys && len(v.Signers) > 0 {
			fmt.Fprintf(w, "  They are signed by %s; no key to trust was given (--pubkey): compare with the key you keep.\n",
				strings.Join(v.Signers, ", "))
		}
	}
	if v.Integrity != "" {
		first, _, _ := strings.Cut(v.Integrity, "\n")
		fmt.Fprintf(w, "File: integrity_check %s.\n", first)
	}
	fmt.Fprintf(w, "Heads: timeline #%d %s, audit #%d %s\n", v.Timeline.LastID, orDash(v.Timeline.Hash), v.Audit.LastID, orDash(v.Audit.Hash))
}

func newCheckpointCmd(g *globals) *cobra.Command {
	var to string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "checkpoint [--to FILE]",
		Short: "Sign the heads of both chains and append them to a witness file (and post them to Slack if configured)",
		Long: "Read the newest entry of the timeline and of the audit log and the newest incident, sign them with the\n" +
			"checkpoint key (made on first use, mode 0600, outside the database: $IRTUI_CHECKPOINT_KEY or\n" +
			"~/.config/irtui/checkpoint.key; its public key is printed then), and append the signed line to FILE\n" +
			"(default: the witness file beside the database). With audit.slack_channel configured (or\n" +
			"IRTUI_AUDIT_SLACK_CHANNEL) the line is also queued in the outbox for that channel. Keep checkpoints\n" +
			"where whoever can write the database cannot: `irtui audit verify --checkpoints FILE` then shows what\n" +
			"was cut off or rewritten since.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return g.withSession(c, func(s session) error {
				st := s.svc.Store
				wo := g.witnessOptions(s.cfg, c.ErrOrStderr())
				wo.Actor, wo.Auth = s.actor.ID(), s.actor.Auth()
				if to != "" {
					wo.To = to
				}
				l, err := witness.Write(c.Context(), st, wo)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.OutOrStdout(), l)
				}
				dest := wo.To
				if dest == "" {
					dest = witness.DefaultPath(st.Path())
				}
				fmt.Fprintf(c.OutOrStdout(), "Checkpoint of timeline entry #%d and audit entry #%d appended to %s", l.Timeline.ID, l.Audit.ID, dest)
				if wo.Slack != "" {
					fmt.Fprintf(c.OutOrStdout(), ", and queued for %s", wo.Slack)
				}
				fmt.Fprintf(c.OutOrStdout(), ".\n%s\n", l.Marshal())
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "witness file to append to (default: the one beside the database)")
	writesFile(cmd.Flags(), "to")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checkpoint as JSON")
	return cmd
}

func newUnblockCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "unblock --reason TEXT",
		Short: "Allow writing again to a database marked damaged, once a person has checked it",
		Long: "irtui refuses to write to a database once it finds it damaged (integrity_check, SQLite reporting\n" +
			"corruption, entries its checkpoint recorded gone). Check it (`irtui audit verify`), restore it from a\n" +
			"backup if need be, then run this: it runs integrity_check again, refuses while that finds problems,\n" +
			"removes the mark (the file ending in .damaged beside the database) and records who did it and why.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return g.withSession(c, func(s session) error {
				if s.svc.Store.Damage() == "" {
					fmt.Fprintln(c.OutOrStdout(), "The database is not marked damaged; nothing to do.")
					return nil
				}
				if err := s.dir.Unblock(c.Context(), s.actor, reason); err != nil {
					return err
				}
				fmt.Fprintln(c.OutOrStdout(), "The damage mark is removed; irtui writes to this database again.")
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "what was checked or done")
	return cmd
}
