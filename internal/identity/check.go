package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// Permission is something the directory lets a person do beyond holding
// roles. The names are what a directory file lists under permissions.
type Permission string

// Permissions.
const (
	// Admin: import the directory, which sets people's OS users, SSH keys
	// and permissions.
	Admin Permission = "admin"
	// Approve: approve customer and regulator notices of any incident, as
	// the holder of the notice's approver role may — but never a notice one
	// drafted or filled in.
	Approve Permission = "approve"
	// Override: close an incident while required steps are open, reopen a
	// closed one, lower its severity or dismiss it as not an incident — as
	// its incident commander may.
	Override Permission = "override"
	// Export: export an incident that is not a drill, whole or one
	// customer's part of it.
	Export Permission = "export"
)

// CommanderRole is the role whose holder runs an incident.
const CommanderRole = "incident_commander"

// ErrDenied is what errors.Is finds in every refusal because of who asked.
var ErrDenied = errors.New("not permitted")

// Denied is an action refused because of who asked, or because who asked
// could not be established.
type Denied struct{ Msg string }

func (d *Denied) Error() string { return d.Msg }

// Is makes errors.Is(err, ErrDenied) true.
func (d *Denied) Is(target error) bool { return target == ErrDenied }

func denied(format string, args ...any) error {
	return &Denied{Msg: fmt.Sprintf(format, args...)}
}

// Reader reads the directory: a *store.Store, or a *store.Tx so that a
// check and the action it allows see the same directory.
type Reader interface {
	Person(ctx context.Context, id string) (store.Person, error)
	People(ctx context.Context) ([]store.Person, error)
	PersonByOSUser(ctx context.Context, osUser string) (store.Person, error)
	PersonByKey(ctx context.Context, fingerprint string) (store.Person, error)
	IdentityState(ctx context.Context) (store.IdentityState, error)
}

// Scope is what an action touches, as far as who may do it goes.
type Scope struct {
	// Drill: a drill incident or a drill run, where a claim (--as) is
	// honoured without local trust mode.
	Drill bool
	// Setup: what setting a database up takes — importing and listing the
	// directory, verifying the record — which the installer may do while
	// they are not yet a person in it.
	Setup bool
}

// Who is an actor as the directory knows them at the moment of a check.
type Who struct {
	Actor  Actor
	Person store.Person // the directory entry; only the id for irtui itself
	// Installer: the OS user who created the database, while nobody in the
	// directory can be authenticated: its administrator.
	Installer bool
}

// ID is what records name as the actor.
func (w Who) ID() string { return w.Actor.ID() }

// Can reports whether the directory gives them the permission. The
// installer administers the directory while it is being set up.
func (w Who) Can(p Permission) bool {
	if w.Actor.Method == System {
		return false
	}
	return p == Admin && w.Installer || w.Person.Has(string(p))
}

// Check establishes, inside the caller's transaction (or on the store for
// a read), that a is someone the directory knows now, and that their kind
// of authentication holds for an action in scope:
//   - an OS user acts as the person whose os_users list it, and an SSH key
//     as the person who lists it, both still;
//   - the installer acts while nobody in the directory can be
//     authenticated, as the demo incident commander while the demo
//     directory is loaded, and as nobody otherwise (administering the
//     directory only);
//   - a claim names a person in the directory, with a name that is valid
//     and not a look-alike, and holds in local trust mode, or on drills
//     when someone the directory knows makes it;
//   - irtui itself (System) always acts.
//
// A refusal is a *Denied (errors.Is(err, ErrDenied)) that says what to do.
func Check(ctx context.Context, r Reader, a Actor, scope Scope) (Who, error) {
	who := Who{Actor: a}
	switch a.Method {
	case System:
		who.Person = store.Person{ID: a.ID()}
		return who, nil
	case OS:
		if a.Person == "" {
			return who, notAPerson(ctx, r, a)
		}
		p, err := person(ctx, r, a)
		if err != nil {
			return who, err
		}
		if !slices.Contains(p.OSUsers, a.OSUser) {
			return who, denied("OS user %s no longer acts as %s in the directory", a.OSUser, a.Person)
		}
		who.Person = p
	case Bootstrap:
		st, err := r.IdentityState(ctx)
		if err != nil {
			return who, err
		}
		if st.Identities || st.Installer == "" || st.Installer != a.OSUser {
			return who, denied("the directory now says who people are, and OS user %s is not in it: "+
				"ask an administrator to add it to your entry's os_users", a.OSUser)
		}
		who.Installer = true
		if a.Person == "" && !scope.Setup {
			return who, denied("OS user %s created this database and may import its directory, but is not a person "+
				"in it, so it can do nothing else yet: import a directory that lists os_users: [%s] in your entry "+
				"(see docs/identity.md)", a.OSUser, a.OSUser)
		}
		if a.Person != "" {
			if st.DemoCommander != a.Person {
				return who, denied("the demo directory is no longer loaded, so OS user %s no longer acts as %s: "+
					"add os_users: [%s] to your entry in your directory and import it", a.OSUser, a.Person, a.OSUser)
			}
			p, err := person(ctx, r, a)
			if err != nil {
				return who, err
			}
			who.Person = p
		}
	case SSH:
		p, err := person(ctx, r, a)
		if err != nil {
			return who, err
		}
		if !slices.Contains(p.Fingerprints, a.Key) {
			return who, denied("SSH key %s is no longer %s's in the directory", a.Key, a.Person)
		}
		who.Person = p
	case Claim:
		if name, err := CheckName(a.Person); err != nil || name != a.Person {
			return who, cmpErr(err, denied("the name %q given with --as is not in normal form (NFC)", a.Person))
		}
		if !a.Trusted && !scope.Drill {
			return who, denied("acting as %s (--as or IRTUI_USER) is allowed only on drill incidents and drill runs, "+
				"or in local trust mode (identity.local_trust in the configuration); without --as you act as yourself",
				a.Person)
		}
		if !a.Trusted {
			if err := claimant(ctx, r, a); err != nil {
				return who, err
			}
		}
		p, err := person(ctx, r, a)
		if err != nil {
			return who, err
		}
		who.Person = p
	default:
		return who, denied("no acting user: irtui could not tell who you are")
	}
	return who, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// person reads the actor's directory entry; a name that is not there,
// or only looks like one that is, is refused.
func person(ctx context.Context, r Reader, a Actor) (store.Person, error) {
	p, err := r.Person(ctx, a.Person)
	if errors.Is(err, store.ErrNotFound) {
		return p, notAPerson(ctx, r, a)
	}
	return p, err
}

// notAPerson explains a refusal of someone the directory does not know,
// naming the person a look-alike name imitates.
func notAPerson(ctx context.Context, r Reader, a Actor) error {
	if a.Person == "" {
		switch {
		case a.Method == SSH:
			return denied("SSH key %s is not anyone's in the directory", a.Key)
		case a.OSUser == "":
			return denied("no acting user: irtui could not tell who you are")
		}
		return denied("OS user %s is not anyone in the directory, so it can do nothing here: "+
			"ask an administrator to add os_users: [%s] to your entry and import the directory", a.OSUser, a.OSUser)
	}
	people, err := r.People(ctx)
	if err != nil {
		return err
	}
	for _, p := range people {
		if safetext.Confusable(a.Person, p.ID) {
			return denied("%s is not a person in the directory; it looks like %s but is a different name (%s)",
				safetext.Line(strconvQuote(a.Person)), p.ID, differences(a.Person, p.ID))
		}
	}
	return denied("%s is not a person in the directory, so it can do nothing here", strconvQuote(a.Person))
}

// claimant checks that whoever makes a claim outside trust mode is known:
// the OS user (or key) behind it belongs to a person, or is the installer
// of a database still being set up.
func claimant(ctx context.Context, r Reader, a Actor) error {
	if a.Key != "" {
		if _, err := r.PersonByKey(ctx, a.Key); err == nil {
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return denied("SSH key %s, behind the claim of %s, is not anyone's in the directory", a.Key, a.Person)
	}
	if _, err := r.PersonByOSUser(ctx, a.OSUser); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	st, err := r.IdentityState(ctx)
	if err != nil {
		return err
	}
	if !st.Identities && st.Installer != "" && st.Installer == a.OSUser {
		return nil
	}
	return denied("OS user %s, behind the claim of %s, is not anyone in the directory: a claim is honoured "+
		"only from someone the directory knows", a.OSUser, a.Person)
}

// CheckName validates a name given for a person (--as, IRTUI_USER) and
// returns it trimmed and in Unicode normal form C. Names with control
// characters, line breaks, invisible characters (zero-width spaces and
// joiners), bidirectional formatting characters or invalid UTF-8 are
// refused: they could show as someone else's name.
func CheckName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) {
		return "", denied("the name %s is not valid UTF-8", strconvQuote(name))
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || safetext.Invisible(r) {
			return "", denied("the name %s contains a control, invisible or bidirectional formatting character (%U); "+
				"a person's name is shown as it is typed", strconvQuote(name), r)
		}
	}
	if name == "" {
		return "", denied("the name is empty")
	}
	return norm.NFC.String(name), nil
}

// differences names the characters of a that b does not have, such as
// "U+0430 CYRILLIC SMALL LETTER A" (by code point; Go has no names).
func differences(a, b string) string {
	var out []string
	for _, r := range a {
		if !strings.ContainsRune(b, r) {
			out = append(out, fmt.Sprintf("%U %s", r, script(r)))
		}
	}
	if len(out) == 0 {
		return "it differs in case or in letter pairs"
	}
	return "it has " + strings.Join(out, ", ")
}

// script names the script of r for people, as far as it helps tell
// look-alikes apart.
func script(r rune) string {
	for _, s := range []struct {
		name  string
		table *unicode.RangeTable
	}{{"Latin", unicode.Latin}, {"Cyrillic", unicode.Cyrillic}, {"Greek", unicode.Greek},
		{"Armenian", unicode.Armenian}, {"Cherokee", unicode.Cherokee}, {"Lisu", unicode.Lisu}} {
		if unicode.Is(s.table, r) {
			return "(" + s.name + ")"
		}
	}
	if unicode.IsDigit(r) {
		return "(a digit)"
	}
	if safetext.Invisible(r) {
		return "(invisible)"
	}
	return "(" + string(r) + ")"
}

// QuoteName is a name as records and messages show it: quoted (Go
// syntax) when it holds anything a terminal would not show as it is, such
// as a refused claim's control characters.
func QuoteName(s string) string { return strconvQuote(s) }

// strconvQuote quotes s when it holds anything a terminal would not show
// as it is.
func strconvQuote(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || safetext.Invisible(r) {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
