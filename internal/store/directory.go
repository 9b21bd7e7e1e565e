package store

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"

	"github.com/irtui/irtui/internal/contact"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/strictyaml"
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
	people, err := tx.directoryEntries(ctx, "people")
	if err != nil {
		return res, err
	}
	customers, err := tx.directoryEntries(ctx, "customers")
	if err != nil {
		return res, err
	}
	imported := make([]directoryEntry, len(d.People))
	for i, p := range d.People {
		imported[i] = directoryEntry{p.ID, p.Name}
	}
	problems := lookAlikesOf("people", "who is", imported, people)
	imported = make([]directoryEntry, len(d.Customers))
	for i, c := range d.Customers {
		imported[i] = directoryEntry{c.ID, c.Name}
	}
	problems = append(problems, lookAlikesOf("customers", "which is", imported, customers)...)
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

// directoryEntry is a person's or a customer's id and name.
type directoryEntry struct{ id, name string }

// directoryEntries reads the ids and names of table (people or customers).
func (tx *Tx) directoryEntries(ctx context.Context, table string) ([]directoryEntry, error) {
	rows, err := tx.tx.QueryContext(ctx, "SELECT id, name FROM "+table) // table is one of two constants
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return collect(rows, func(sc scanner) (directoryEntry, error) {
		var e directoryEntry
		return e, sc.Scan(&e.id, &e.name)
	}, "read "+table)
}

// lookAlikesOf finds the entries of an import (of list, people or
// customers) whose id or name looks like, without being, the id or name
// of another entry already in the directory. An entry that is already in
// the directory (by id) is an update; its own old name does not count,
// nor does the name of an entry the import also updates.
func lookAlikesOf(list, which string, imported, existing []directoryEntry) []string {
	ids := map[string]string{}   // skeleton -> existing id
	names := map[string]string{} // skeleton -> existing id of that name
	known := map[string]bool{}
	for _, e := range existing {
		ids[safetext.Skeleton(e.id)] = e.id
		known[e.id] = true
	}
	updated := map[string]bool{}
	for _, e := range imported {
		updated[e.id] = true
	}
	nameOf := map[string]string{}
	for _, e := range existing {
		if !updated[e.id] {
			names[safetext.Skeleton(e.name)] = e.id
			nameOf[e.id] = e.name
		}
	}
	var problems []string
	for i, e := range imported {
		if id, alike := ids[safetext.Skeleton(e.id)]; alike && !known[e.id] {
			problems = append(problems, fmt.Sprintf("%s[%d] (%s): id looks like %s, %s already in the directory; "+
				"choose an id that cannot be mistaken for theirs", list, i, printable(e.id), id, which))
		}
		if id, alike := names[safetext.Skeleton(e.name)]; alike && id != e.id && nameOf[id] != e.name {
			problems = append(problems, fmt.Sprintf("%s[%d] (%s): name %s looks like %s, the name of %s, %s already in the directory; "+
				"choose a name that cannot be mistaken for theirs", list, i, printable(e.id), printable(e.name), printable(nameOf[id]), id, which))
		}
	}
	return problems
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
// text (Unicode NFC), canonicalises each customer's language tag, and
// normalises each SSH key and fills in its fingerprint. Its error wraps
// ErrInvalidDirectory and names every bad entry by list and index, such as
// "customers[2] (acme): ...".
func ValidateDirectory(d *Directory) error {
	issues := CheckDirectory(d)
	if len(issues) == 0 {
		return nil
	}
	lines := make([]string, len(issues))
	for i, is := range issues {
		lines[i] = entryName(d, is.At) + ": " + is.Msg
	}
	return fmt.Errorf("%w:\n%s", ErrInvalidDirectory, strings.Join(lines, "\n"))
}

// entryName names the entry at (people[i] or customers[i]) with its id.
func entryName(d *Directory, at strictyaml.Path) string {
	list, _ := at[0].(string)
	i, _ := at[1].(int)
	id := ""
	switch {
	case list == "people" && i < len(d.People):
		id = d.People[i].ID
	case list == "customers" && i < len(d.Customers):
		id = d.Customers[i].ID
	}
	where := fmt.Sprintf("%s[%d]", list, i)
	if id != "" {
		where += " (" + printable(id) + ")"
	}
	return where
}

// CheckDirectory checks d and fills defaults as ValidateDirectory does,
// and returns each problem with where it is in a directory file
// (people[i].field or customers[i].field), so that the file's reader
// can give it a line and column.
//
// Ids are handles that end up in commands, file names and URLs: lowercase
// letters a-z, digits and "-". No two ids of a list, and no two names, may
// look alike on a screen (safetext.Skeleton) unless they are the same.
// Text that reaches terminals, Slack and mail headers (names, roles,
// contacts) may hold no control characters and no bidirectional formatting
// characters, which could disguise what is shown. Mail addresses are
// parsed with net/mail, languages as BCP 47 tags.
func CheckDirectory(d *Directory) []strictyaml.Issue {
	var issues []strictyaml.Issue
	bad := func(at strictyaml.Path, format string, args ...any) {
		issues = append(issues, strictyaml.Issue{At: at, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	skeletons := map[string]int{}
	names := map[string]int{}
	osUsers := map[string]int{}
	keys := map[string]int{}
	for i := range d.People {
		p := &d.People[i]
		at := strictyaml.Path{"people", i}
		p.ID, p.Name = norm.NFC.String(strings.TrimSpace(p.ID)), norm.NFC.String(strings.TrimSpace(p.Name))
		p.Email, p.SlackUserID = strings.TrimSpace(p.Email), strings.TrimSpace(p.SlackUserID)
		if msg := checkID(p.ID); msg != "" {
			bad(at.With("id"), "%s", msg)
		} else if j, dup := seen[p.ID]; dup {
			bad(at.With("id"), "id is already used by people[%d]", j)
		} else if j, alike := skeletons[safetext.Skeleton(p.ID)]; alike {
			bad(at.With("id"), "id looks like %s, the id of people[%d]; choose ids that cannot be mistaken for each other",
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
				bad(at.With("os_users", k), "os_users[%d] is empty", k)
			case checkHandle(u) != "":
				bad(at.With("os_users", k), "os_users[%d] %q must not contain spaces, control characters or "+
					"bidirectional formatting characters", k, u)
			default:
				if j, dup := osUsers[u]; dup {
					bad(at.With("os_users", k), "OS user %s is already people[%d]'s (%s); an OS user acts as one person", u, j, d.People[j].ID)
				}
				osUsers[u] = i
			}
		}
		p.Fingerprints = make([]string, len(p.SSHKeys))
		for k, line := range p.SSHKeys {
			key, fp, msg := parseAuthorizedKey(line)
			if msg != "" {
				bad(at.With("ssh_keys", k), "ssh_keys[%d]: %s", k, msg)
				continue
			}
			if j, dup := keys[fp]; dup {
				bad(at.With("ssh_keys", k), "ssh_keys[%d]: key %s is already people[%d]'s (%s); a key is one person's", k, fp, j, d.People[j].ID)
			}
			keys[fp] = i
			p.SSHKeys[k], p.Fingerprints[k] = key, fp
		}
		for k, perm := range p.Permissions {
			perm = strings.TrimSpace(perm)
			p.Permissions[k] = perm
			if !slices.Contains(Permissions, perm) {
				bad(at.With("permissions", k), "permissions[%d] %q is not one of %s", k, perm, strings.Join(Permissions, ", "))
			}
		}
		p.Permissions = sortedUnique(p.Permissions)
		for _, f := range []struct{ name, value string }{
			{"name", p.Name}, {"email", p.Email}, {"slack_user_id", p.SlackUserID},
		} {
			if msg := checkText(f.name, f.value); msg != "" {
				bad(at.With(f.name), "%s", msg)
			} else if f.name == "email" && f.value != "" {
				if err := contact.Email(f.value); err != nil {
					bad(at.With(f.name), "email %s", err)
				}
			}
		}
		if p.Name == "" {
			p.Name = p.ID
		}
		if msg := lookAlikeName(names, p.Name, i, func(j int) string { return d.People[j].Name }); msg != "" {
			bad(at.With("name"), "%s of people[%d]; a responder could take one person for the other", msg, names[safetext.Skeleton(p.Name)])
		}
		for k, r := range p.Roles {
			if strings.TrimSpace(r) == "" {
				bad(at.With("roles", k), "a role is empty")
			} else if msg := checkText("role", r); msg != "" {
				bad(at.With("roles", k), "%s", msg)
			}
		}
	}
	seen = map[string]int{}
	skeletons = map[string]int{}
	names = map[string]int{}
	for i := range d.Customers {
		c := &d.Customers[i]
		at := strictyaml.Path{"customers", i}
		c.ID, c.Name = norm.NFC.String(strings.TrimSpace(c.ID)), norm.NFC.String(strings.TrimSpace(c.Name))
		c.Contact, c.Language = strings.TrimSpace(c.Contact), strings.TrimSpace(c.Language)
		if msg := checkID(c.ID); msg != "" {
			bad(at.With("id"), "%s", msg)
		} else if j, dup := seen[c.ID]; dup {
			bad(at.With("id"), "id is already used by customers[%d]", j)
		} else if j, alike := skeletons[safetext.Skeleton(c.ID)]; alike {
			bad(at.With("id"), "id looks like %s, the id of customers[%d]; choose ids that cannot be mistaken for each other",
				d.Customers[j].ID, j)
		} else {
			seen[c.ID] = i
			skeletons[safetext.Skeleton(c.ID)] = i
		}
		if c.Name == "" {
			bad(at.With("name"), "name is required")
		}
		for _, f := range []struct{ name, value string }{
			{"name", c.Name}, {"language", c.Language}, {"region", c.Region},
		} {
			if msg := checkText(f.name, f.value); msg != "" {
				bad(at.With(f.name), "%s", msg)
			}
		}
		if msg := lookAlikeName(names, c.Name, i, func(j int) string { return d.Customers[j].Name }); msg != "" {
			bad(at.With("name"), "%s of customers[%d]; a notice could go to the wrong one", msg, names[safetext.Skeleton(c.Name)])
		}
		if c.Language == "" {
			c.Language = "en"
		} else if tag, msg := checkLanguage(c.Language); msg != "" {
			bad(at.With("language"), "%s", msg)
		} else {
			c.Language = tag
		}
		switch c.ContactKind {
		case "slack":
			if msg := checkSlackChannel(c.Contact); msg != "" {
				bad(at.With("contact"), "%s", msg)
			}
		case "email":
			if msg := checkEmail(c.Contact); msg != "" {
				bad(at.With("contact"), "%s", msg)
			}
		default:
			bad(at.With("contact_kind"), "contact_kind %q must be slack or email", c.ContactKind)
		}
	}
	return issues
}

// lookAlikeName records name (of entry i) in names, keyed by skeleton, and
// says so when it looks like another entry's name without being the same
// (two people may share a name; "Alice" and "\u0410lice" may not). nameOf
// gives entry j's name.
func lookAlikeName(names map[string]int, name string, i int, nameOf func(int) string) string {
	if name == "" {
		return ""
	}
	sk := safetext.Skeleton(name)
	j, alike := names[sk]
	if !alike {
		names[sk] = i
		return ""
	}
	if other := nameOf(j); other != name {
		return fmt.Sprintf("name %s looks like %s, the name", printable(name), printable(other))
	}
	return ""
}

// maxIDLength is the longest id of a person or customer.
const maxIDLength = 64

// checkID accepts the id of a person or a customer: 1 to 64 lowercase
// letters a-z, digits and "-", starting and ending with a letter or a
// digit. Ids go into commands, file names, URLs and audit entries, where
// "../../etc/acme" or a look-alike letter of another script must not.
func checkID(id string) string {
	if id == "" {
		return "id is required"
	}
	if msg := checkHandle(id); msg != "" {
		return fmt.Sprintf("id %q must not contain spaces, control characters, invisible or bidirectional "+
			"formatting characters", id)
	}
	valid := len(id) <= maxIDLength && id[0] != '-' && id[len(id)-1] != '-'
	for i := 0; valid && i < len(id); i++ {
		c := id[i]
		valid = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	if !valid {
		return fmt.Sprintf("id %q may hold only lowercase letters a-z, digits and \"-\" (at most %d, "+
			"not starting or ending with \"-\"), such as acme or ops-team", id, maxIDLength)
	}
	return ""
}

// checkHandle refuses a name a program matches (an id, an OS user) with
// spaces, control characters, invisible or bidirectional formatting
// characters, or invalid UTF-8.
func checkHandle(v string) string {
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) || isBidi(r) || safetext.Invisible(r) || r == utf8.RuneError {
			return "bad"
		}
	}
	return ""
}

// checkLanguage accepts a customer's language as a BCP 47 tag of the form
// notice translations are keyed by: a language, and a region if any ("nl",
// "pt-BR"). It returns the tag's canonical form ("pt-br" gives "pt-BR").
func checkLanguage(v string) (string, string) {
	tag, err := language.Parse(v)
	canonical := tag.String()
	if err != nil || !languagePattern().MatchString(canonical) {
		return "", fmt.Sprintf("language %q is not a language tag such as en, nl or pt-BR (BCP 47: a two-letter "+
			"language, and a two-letter region if any)", v)
	}
	return canonical, ""
}

// languagePattern is the form of language tags notice translations use.
var languagePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`) })

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

// checkEmail accepts a customer's contact, a bare mail address.
func checkEmail(v string) string {
	if v == "" {
		return "contact is required (a mail address)"
	}
	if msg := checkText("contact", v); msg != "" {
		return msg
	}
	if err := contact.Email(v); err != nil {
		return "contact " + err.Error()
	}
	return ""
}

// checkSlackChannel accepts a customer's contact, a Slack channel.
func checkSlackChannel(v string) string {
	if v == "" {
		return "contact is required (a Slack channel)"
	}
	if msg := checkText("contact", v); msg != "" {
		return msg
	}
	if err := contact.SlackChannel(v); err != nil {
		return "contact " + err.Error()
	}
	return ""
}
