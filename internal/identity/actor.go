// Package identity says who acts in irtui. Every service takes an Actor:
// the person from the directory who acts, and how that was established —
// the local OS user mapped through the directory, an SSH key in
// `irtui serve`, or a name claimed with --as (drills, or a configured local
// trust mode), with the OS user behind the claim. Services check the actor
// against the directory inside their own transaction and record it; the
// store keeps its ID and its Auth beside every timeline and audit entry.
package identity

import (
	osenv "os"
	"os/user"
	"strings"
)

// Method is how an actor was established.
type Method string

// Methods.
const (
	// OS: the local OS user, mapped to a person by the directory's
	// os_users.
	OS Method = "os"
	// Bootstrap: the OS user who created the database, while no person in
	// the directory has an OS user or an SSH key yet. They administer the
	// directory, and act as the demo incident commander while the demo
	// directory is loaded.
	Bootstrap Method = "bootstrap"
	// SSH: the owner of an SSH key listed in the directory (irtui serve).
	SSH Method = "ssh"
	// Claim: a name given with --as or IRTUI_USER. Honoured on drill
	// incidents and drill runs, and everywhere in local trust mode; the OS
	// user behind it is recorded.
	Claim Method = "claim"
	// System: irtui itself (deadline reminders, deliveries nobody started).
	System Method = "system"
)

// SystemID is what irtui records as the actor of what it does by itself.
const SystemID = "irtui"

// Actor is who acts, as established by authentication. The zero Actor is
// nobody: every service refuses it.
type Actor struct {
	// Person is the directory id of who acts: the claimed id for a Claim,
	// "" when the OS user or key maps to nobody.
	Person string `json:"person,omitempty"`
	Method Method `json:"method"`
	// OSUser is the OS account behind a local actor (OS, Bootstrap, Claim).
	OSUser string `json:"os_user,omitempty"`
	// Key is the SHA256 fingerprint of an SSH actor's key; Remote the
	// address it connected from.
	Key    string `json:"key,omitempty"`
	Remote string `json:"remote,omitempty"`
	// Trusted marks a Claim made in local trust mode: it holds outside
	// drills too.
	Trusted bool `json:"trusted,omitempty"`
}

// Local is an actor whose name is taken as given, as every actor was
// before authentication: a trusted claim of name by osUser.
func Local(name, osUser string) Actor {
	name = strings.TrimSpace(name)
	if name == "" {
		return Actor{}
	}
	return Actor{Person: name, Method: Claim, OSUser: osUser, Trusted: true}
}

// Claimed is a claim (--as) of person by the OS user osUser; trusted says
// local trust mode is on.
func Claimed(person, osUser string, trusted bool) Actor {
	return Actor{Person: person, Method: Claim, OSUser: osUser, Trusted: trusted}
}

// As is a claim of name made by a: the same OS user (or SSH key) behind
// it, in the same trust mode. An empty name leaves a as it is.
func (a Actor) As(name string) Actor {
	name = strings.TrimSpace(name)
	if name == "" || name == a.Person && a.Method == Claim {
		return a
	}
	return Actor{Person: name, Method: Claim, OSUser: a.OSUser, Key: a.Key, Remote: a.Remote, Trusted: a.Trusted}
}

// Irtui is irtui itself, for what it does on its own.
func Irtui() Actor { return Actor{Person: SystemID, Method: System} }

// IsZero reports whether the actor is nobody.
func (a Actor) IsZero() bool { return a == Actor{} }

// ID is what records name as the actor: the person's directory id, or,
// for someone the directory does not know, how they were seen
// ("os:bob", "ssh:SHA256:...").
func (a Actor) ID() string {
	if a.Person != "" {
		return a.Person
	}
	switch {
	case a.Method == SSH && a.Key != "":
		return "ssh:" + a.Key
	case a.OSUser != "":
		return "os:" + a.OSUser
	}
	return ""
}

// Auth says how the actor was authenticated, for the auth column of
// timeline and audit entries: "os:bob", "bootstrap:os:bob",
// "ssh:SHA256:... from 192.0.2.1:50000", "claim by os:bob" (or "claim by
// os:bob in trust mode"), or "system".
func (a Actor) Auth() string {
	switch a.Method {
	case OS:
		return "os:" + a.OSUser
	case Bootstrap:
		return "bootstrap:os:" + a.OSUser
	case SSH:
		s := "ssh:" + a.Key
		if a.Remote != "" {
			s += " from " + a.Remote
		}
		return s
	case Claim:
		s := "claim by os:" + a.OSUser
		if a.Key != "" {
			s = "claim by ssh:" + a.Key
		}
		if a.Trusted {
			s += " in trust mode"
		}
		return s
	case System:
		return "system"
	}
	return ""
}

// String is the actor for people: "alice", or "alice (claimed by OS user
// bob)" for a claim.
func (a Actor) String() string {
	id := a.ID()
	if id == "" {
		return "nobody"
	}
	switch {
	case a.Method == Claim && a.Key != "":
		return id + " (claimed by SSH key " + a.Key + ")"
	case a.Method == Claim && a.OSUser != "" && a.OSUser != a.Person:
		return id + " (claimed by OS user " + a.OSUser + ")"
	case a.Method == Bootstrap && a.Person != "":
		return id + " (demo, as installer " + a.OSUser + ")"
	case a.Method == Bootstrap:
		return id + " (installer; not in the directory)"
	case a.Person == "" && a.Method != System:
		return id + " (not in the directory)"
	}
	return id
}

// OSUserName is the name of the OS user running irtui ("" if unknown).
func OSUserName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return osenv.Getenv("USER")
}

// Describe shows a recorded actor with how they were authenticated, as
// the screen and exports show timeline entries: "alice", or for a claim
// "alice (claimed by OS user bob)". auth is an Actor's Auth as stored.
func Describe(actorID, auth string) string {
	if by := ClaimedBy(auth); by != "" {
		return actorID + " (claimed by " + by + ")"
	}
	return actorID
}

// ClaimedBy says who made a claim (--as), from its stored auth: "OS user
// bob" or "SSH key SHA256:..."; "" when auth is not a claim's.
func ClaimedBy(auth string) string {
	by, ok := strings.CutPrefix(auth, "claim by ")
	if !ok {
		return ""
	}
	by = strings.TrimSuffix(by, " in trust mode")
	switch {
	case strings.HasPrefix(by, "os:"):
		return "OS user " + strings.TrimPrefix(by, "os:")
	case strings.HasPrefix(by, "ssh:"):
		return "SSH key " + strings.TrimPrefix(by, "ssh:")
	}
	return by
}

// IsClaim reports whether a stored auth is that of a claim (--as).
func IsClaim(auth string) bool { return strings.HasPrefix(auth, "claim by ") }
