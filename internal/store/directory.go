package store

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
	"golang.org/x/text/unicode/norm"

	"github.com/irtui/irtui/internal/safetext"
)

// ErrInvalidDirectory: a directory to import has entries that cannot be
// stored; the error lists each one.
var ErrInvalidDirectory = errors.New("invalid directory")

// ImportResult counts what ImportDirectory stored.
type ImportResult struct {
	People    int `json:"people"`
	Customers int `json:"customers"`
}

// ImportDirectory adds or updates every person and customer in d, all or
// nothing, and audits the import (action "import") as done or refused.
// People and customers missing from d are kept: incidents refer to them.
// It checks no permission: the identity service's Import does, and calls
// Tx.ImportDirectory itself; this is for fixtures and tests.
func (s *Store) ImportDirectory(ctx context.Context, actor string, d Directory) (ImportResult, error) {
	now := s.clock.Now()
	if err := ValidateDirectory(&d); err != nil {
		s.auditAlone(ctx, AuditEntry{At: now, Actor: actor, Action: "import", Outcome: OutcomeRefused,
			Detail: firstLine(err.Error())})
		return ImportResult{}, err
	}
	var res ImportResult
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		if res, err = tx.ImportDirectory(ctx, d, now, ""); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &AuditEntry{At: now, Actor: actor, Action: "import", Outcome: OutcomeOK,
			Detail: fmt.Sprintf("directory: %d people, %d customers", res.People, res.Customers)})
	})
	if err != nil {
		outcome := OutcomeFailed
		if errors.Is(err, ErrInvalidDirectory) {
			outcome = OutcomeRefused
		}
		s.auditAlone(ctx, AuditEntry{At: now, Actor: actor, Action: "import", Outcome: outcome,
			Detail: firstLine(err.Error())})
		return ImportResult{}, fmt.Errorf("import directory: %w", err)
	}
	return res, nil
}

// ImportDirectory stores a directory checked by ValidateDirectory: every
// person (with their OS users, SSH keys and permissions) and customer in
// it is added or replaced. demoCommander names the incident commander
// when d is the bundled demo directory, and is "" for any other import,
// which ends the demo. The import is refused (ErrInvalidDirectory) when a
// new person's id looks like an existing one's, when an OS user or key is
// already someone else's, or when, afterwards, people can be
// authenticated but none of them may administer the directory.
func (tx *Tx) ImportDirectory(ctx context.Context, d Directory, now time.Time, demoCommander string) (ImportResult, error) {
	res := ImportResult{People: len(d.People), Customers: len(d.Customers)}
	rows, err := tx.tx.QueryContext(ctx, "SELECT id FROM people")
	if err != nil {
		return res, fmt.Errorf("read people: %w", err)
	}
	existing, err := collect(rows, func(sc scanner) (string, error) {
		var id string
		return id, sc.Scan(&id)
	}, "read people")
	if err != nil {
		return res, err
	}
	var problems []string
	for i, p := range d.People {
		for _, id := range existing {
			if safetext.Confusable(p.ID, id) && !slices.Contains(existing, p.ID) {
				problems = append(problems, fmt.Sprintf("people[%d] (%s): id looks like %s, who is already in the directory; "+
					"choose an id that cannot be mistaken for theirs", i, printable(p.ID), id))
			}
		}
	}
	if len(problems) > 0 {
		return res, fmt.Errorf("%w:\n%s", ErrInvalidDirectory, strings.Join(problems, "\n"))
	}
	for _, p := range d.People {
		if err := tx.UpsertPerson(ctx, p, now); err != nil {
			return res, err
		}
	}
	for _, c := range d.Customers {
		if err := tx.UpsertCustomer(ctx, c, now); err != nil {
			return res, err
		}
	}
	if err := tx.SetMeta(ctx, "demo_commander", demoCommander); err != nil {
		return res, err
	}
	var identities, admin bool
	err = tx.queryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM person_os_users) OR EXISTS (SELECT 1 FROM person_keys),
		EXISTS (SELECT 1 FROM people p, json_each(p.permissions) perm
			WHERE perm.value = 'admin'
			AND (EXISTS (SELECT 1 FROM person_os_users o WHERE o.person_id = p.id)
				OR EXISTS (SELECT 1 FROM person_keys k WHERE k.person_id = p.id)))`).Scan(&identities, &admin)
	if err != nil {
		return res, fmt.Errorf("check the directory's administrators: %w", err)
	}
	if identities && !admin {
		return res, fmt.Errorf("%w: after this import people could sign in, but none of them could change the directory "+
			"again: give at least one person who has os_users or ssh_keys the admin permission", ErrInvalidDirectory)
	}
	return res, nil
}

// auditAlone records an audit entry in a transaction of its own, for
// actions whose own transaction was refused or failed. It is best effort:
// the caller is already returning the error that matters.
func (s *Store) auditAlone(ctx context.Context, e AuditEntry) {
	_ = s.Update(ctx, func(tx *Tx) error { return tx.AppendAudit(ctx, &e) })
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Permissions are the names a person's permissions may hold. Package
// identity says what each allows.
var Permissions = []string{"admin", "approve", "override", "export"}

// ValidateDirectory checks d and fills defaults: it trims and normalises
// text (Unicode NFC), and normalises each SSH key and fills in its
// fingerprint. Its error wraps ErrInvalidDirectory and names every bad
// entry by list and index.
func ValidateDirectory(d *Directory) error { return validateDirectory(d) }

// validateDirectory checks d and fills defaults. Its error names every
// bad entry by list and index, such as "customers[2] (acme): ...". Text
// that reaches terminals, Slack and mail headers (ids, names, roles,
// contacts) may hold no control characters and no bidirectional
// formatting characters, which could disguise what is shown.
func validateDirectory(d *Directory) error {
	var problems []string
	bad := func(list string, i int, id, format string, args ...any) {
		where := fmt.Sprintf("%s[%d]", list, i)
		if id != "" {
			where += " (" + printable(id) + ")"
		}
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	seen := map[string]int{}
	skeletons := map[string]int{}
	osUsers := map[string]int{}
	keys := map[string]int{}
	for i := range d.People {
		p := &d.People[i]
		p.ID, p.Name = norm.NFC.String(strings.TrimSpace(p.ID)), norm.NFC.String(strings.TrimSpace(p.Name))
		p.Email, p.SlackUserID = strings.TrimSpace(p.Email), strings.TrimSpace(p.SlackUserID)
		if msg := checkID(p.ID); msg != "" {
			bad("people", i, p.ID, "%s", msg)
		} else if j, dup := seen[p.ID]; dup {
			bad("people", i, p.ID, "id is already used by people[%d]", j)
		} else if j, alike := skeletons[safetext.Skeleton(p.ID)]; alike {
			bad("people", i, p.ID, "id looks like %s, the id of people[%d]; choose ids that cannot be mistaken for each other",
				d.People[j].ID, j)
		} else {
			seen[p.ID] = i
			skeletons[safetext.Skeleton(p.ID)] = i
		}
		for k, u := range p.OSUsers {
			u = strings.TrimSpace(u)
			p.OSUsers[k] = u
			switch {
			case u == "":
				bad("people", i, p.ID, "os_users[%d] is empty", k)
			case checkID(u) != "":
				bad("people", i, p.ID, "os_users[%d] %q must not contain spaces, control characters or "+
					"bidirectional formatting characters", k, u)
			default:
				if j, dup := osUsers[u]; dup {
					bad("people", i, p.ID, "OS user %s is already people[%d]'s (%s); an OS user acts as one person", u, j, d.People[j].ID)
				}
				osUsers[u] = i
			}
		}
		p.Fingerprints = make([]string, len(p.SSHKeys))
		for k, line := range p.SSHKeys {
			key, fp, msg := parseAuthorizedKey(line)
			if msg != "" {
				bad("people", i, p.ID, "ssh_keys[%d]: %s", k, msg)
				continue
			}
			if j, dup := keys[fp]; dup {
				bad("people", i, p.ID, "ssh_keys[%d]: key %s is already people[%d]'s (%s); a key is one person's", k, fp, j, d.People[j].ID)
			}
			keys[fp] = i
			p.SSHKeys[k], p.Fingerprints[k] = key, fp
		}
		for k, perm := range p.Permissions {
			perm = strings.TrimSpace(perm)
			p.Permissions[k] = perm
			if !slices.Contains(Permissions, perm) {
				bad("people", i, p.ID, "permissions[%d] %q is not one of %s", k, perm, strings.Join(Permissions, ", "))
			}
		}
		p.Permissions = sortedUnique(p.Permissions)
		for _, f := range []struct{ name, value string }{
			{"name", p.Name}, {"email", p.Email}, {"slack_user_id", p.SlackUserID},
		} {
			if msg := checkText(f.name, f.value); msg != "" {
				bad("people", i, p.ID, "%s", msg)
			}
		}
		if p.Name == "" {
			p.Name = p.ID
		}
		for _, r := range p.Roles {
			if strings.TrimSpace(r) == "" {
				bad("people", i, p.ID, "a role is empty")
			} else if msg := checkText("role", r); msg != "" {
				bad("people", i, p.ID, "%s", msg)
			}
		}
	}
	seen = map[string]int{}
	for i := range d.Customers {
		c := &d.Customers[i]
		c.ID, c.Name = strings.TrimSpace(c.ID), strings.TrimSpace(c.Name)
		c.Contact = strings.TrimSpace(c.Contact)
		if msg := checkID(c.ID); msg != "" {
			bad("customers", i, c.ID, "%s", msg)
		} else if j, dup := seen[c.ID]; dup {
			bad("customers", i, c.ID, "id is already used by customers[%d]", j)
		} else {
			seen[c.ID] = i
		}
		if c.Name == "" {
			bad("customers", i, c.ID, "name is required")
		}
		for _, f := range []struct{ name, value string }{
			{"name", c.Name}, {"language", c.Language}, {"region", c.Region},
		} {
			if msg := checkText(f.name, f.value); msg != "" {
				bad("customers", i, c.ID, "%s", msg)
			}
		}
		if c.Language == "" {
			c.Language = "en"
		}
		switch c.ContactKind {
		case "slack":
			if msg := checkSlackChannel(c.Contact); msg != "" {
				bad("customers", i, c.ID, "%s", msg)
			}
		case "email":
			if msg := checkEmail(c.Contact); msg != "" {
				bad("customers", i, c.ID, "%s", msg)
			}
		default:
			bad("customers", i, c.ID, "contact_kind %q must be slack or email", c.ContactKind)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w:\n%s", ErrInvalidDirectory, strings.Join(problems, "\n"))
}

func checkID(id string) string {
	if id == "" {
		return "id is required"
	}
	for _, r := range id {
		if unicode.IsSpace(r) || unicode.IsControl(r) || isBidi(r) || safetext.Invisible(r) || r == utf8.RuneError {
			return fmt.Sprintf("id %q must not contain spaces, control characters, invisible or bidirectional "+
				"formatting characters", id)
		}
	}
	return ""
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// minRSABits is the shortest RSA key accepted.
const minRSABits = 2048

// parseAuthorizedKey reads one authorized_keys line: a bare key ("type
// base64 [comment]"), without options. It returns the line normalised and
// the key's SHA256 fingerprint, or why it is refused.
func parseAuthorizedKey(line string) (normalised, fingerprint, problem string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return "", "", "the key is empty"
	}
	if msg := checkText("key", line); msg != "" {
		return "", "", msg
	}
	pk, comment, options, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	switch {
	case err != nil:
		return "", "", fmt.Sprintf("not an authorized_keys line (%v): write it as ssh-keygen prints it, "+
			"such as \"ssh-ed25519 AAAA... alice@laptop\"", err)
	case len(options) > 0:
		return "", "", fmt.Sprintf("options (%s) are not supported: list the bare key", strings.Join(options, ","))
	case len(strings.TrimSpace(string(rest))) > 0:
		return "", "", "holds more than one key: give each its own entry"
	}
	switch typ := pk.Type(); {
	case typ == "ssh-dss": // DSA; x/crypto marks its constant deprecated
		return "", "", "DSA keys are too weak: use an Ed25519 key (ssh-keygen -t ed25519)"
	case strings.Contains(typ, "-cert-"):
		return "", "", "certificates are not supported: list the public key itself"
	case typ == ssh.KeyAlgoRSA:
		if ck, ok := pk.(ssh.CryptoPublicKey); ok {
			if rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
				return "", "", fmt.Sprintf("RSA key of %d bits is too short (at least %d): use an Ed25519 key", rk.N.BitLen(), minRSABits)
			}
		}
	}
	normalised = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
	if comment = strings.TrimSpace(comment); comment != "" {
		normalised += " " + comment
	}
	return normalised, ssh.FingerprintSHA256(pk), ""
}

// checkText refuses a value with control characters (line breaks and
// escape sequences included), Unicode line or paragraph separators,
// bidirectional formatting characters or invalid UTF-8.
func checkText(field, v string) string {
	if !utf8.ValidString(v) {
		return fmt.Sprintf("%s %q is not valid UTF-8", field, v)
	}
	for _, r := range v {
		if unicode.IsControl(r) || isBidi(r) || r == '\u2028' || r == '\u2029' {
			return fmt.Sprintf("%s %q must not contain control characters, line breaks or bidirectional formatting characters", field, v)
		}
	}
	return ""
}

// isBidi reports whether r is a bidirectional formatting character: an
// embedding, override or isolate, or an implicit mark. They can make text
// read differently from what it is ("invoice\u202eexe.pdf").
func isBidi(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

// printable is s for an error message: quoted when it holds anything a
// terminal would not show as it is.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || isBidi(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// checkEmail accepts a bare mail address ("ciso@example.com"): no display
// name, no angle brackets, no comments, nothing a mail header could be
// made of besides the address itself.
func checkEmail(v string) string {
	if v == "" {
		return "contact is required (a mail address)"
	}
	if msg := checkText("contact", v); msg != "" {
		return msg
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v || !strings.Contains(a.Address, "@") {
		return fmt.Sprintf("contact %q is not an email address (write the bare address, such as security@example.com)", v)
	}
	return ""
}

// maxSlackChannelName is the longest Slack channel name.
const maxSlackChannelName = 80

// checkSlackChannel accepts a channel name ("#acme-security": "#" and up
// to 80 lowercase letters, digits, "-" and "_") or a channel id
// ("C0123456789", or G for an older private channel).
func checkSlackChannel(v string) string {
	if v == "" {
		return "contact is required (a Slack channel)"
	}
	if msg := checkText("contact", v); msg != "" {
		return msg
	}
	if isSlackChannelID(v) {
		return ""
	}
	name, ok := strings.CutPrefix(v, "#")
	n := utf8.RuneCountInString(name)
	if ok && n > 0 && n <= maxSlackChannelName && !strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r == '-' || r == '_' || lowercaseLetter(r))
	}) {
		return ""
	}
	return fmt.Sprintf("contact %q is not a Slack channel: write #name (lowercase letters, digits, - and _, "+
		"at most %d) or a channel id such as C0123456789", v, maxSlackChannelName)
}

// lowercaseLetter is a letter as a Slack channel name may hold it: a
// lowercase one, or one of a script without case.
func lowercaseLetter(r rune) bool {
	return unicode.IsLetter(r) && !unicode.IsUpper(r) && !unicode.IsTitle(r)
}

// isSlackChannelID reports whether v is a Slack channel id: C (or G) and
// uppercase letters and digits, nine characters or more.
func isSlackChannelID(v string) bool {
	if len(v) < 9 || len(v) > 24 || (v[0] != 'C' && v[0] != 'G') {
		return false
	}
	for i := 1; i < len(v); i++ {
		if c := v[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
