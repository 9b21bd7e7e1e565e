package serve

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"charm.land/ssh"
	gossh "golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// maxAuthTries is how many authentication attempts (keys offered) a
// connection gets; each refused key is audited.
const maxAuthTries = 6

// authState is what a connection tried before it authenticated, so that
// one that gives up without offering a known key is audited once.
type authState struct {
	reached bool     // the client got as far as authenticating
	methods []string // methods tried, other than "none" and publickey
	refused int      // unknown keys offered (each audited already)
	known   string   // a listed key offered, whose owner it is ("fp (person)")
}

// Actions of the audit entries the server writes.
const (
	actionAuth  = "ssh_auth"
	actionStart = "session_start"
	actionEnd   = "session_end"
)

// publicKey authenticates a key: it is accepted when it is listed for a
// person in the directory. The library calls this before the client has
// proved it holds the key, and the session checks the key it used again.
// An unknown key is refused, audited with its fingerprint and the remote
// address, and logged.
func (s *Server) publicKey(ctx ssh.Context, key ssh.PublicKey) bool {
	fp := gossh.FingerprintSHA256(key)
	remote := addr(ctx.RemoteAddr())
	p, err := s.cfg.Identity.PersonByKey(ctx, fp)
	if err == nil {
		s.mu.Lock()
		if st := s.auth[remote]; st != nil {
			st.known = fp + " (" + p.ID + "'s)"
		}
		s.mu.Unlock()
		return true
	}
	who := identity.Actor{Method: identity.SSH, Key: fp, Remote: remote}
	if errors.Is(err, store.ErrNotFound) {
		s.mu.Lock()
		if st := s.auth[remote]; st != nil {
			st.refused++
		}
		s.mu.Unlock()
		// The log's handler quotes and escapes what the client chose.
		s.log.Warn("refused an unknown key", "key", fp, "type", key.Type(), "remote", remote, "user", ctx.User())
		s.auditRefusal(who, remote,
			fmt.Sprintf("%s key %s is not in the directory (SSH user %s)", key.Type(), fp, quote(ctx.User())))
		return false
	}
	s.log.Error("cannot look a key up", "key", fp, "remote", remote, "err", err)
	s.audit(who, actionAuth, store.OutcomeFailed, "cannot look the key up: "+err.Error())
	return false
}

// serverConfig is the per-connection configuration of the SSH library:
// it notes the methods a client tries besides public keys.
func (s *Server) serverConfig(ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		MaxAuthTries: maxAuthTries,
		AuthLogCallback: func(conn gossh.ConnMetadata, method string, err error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			st := s.auth[addr(conn.RemoteAddr())]
			if st == nil {
				return
			}
			st.reached = true
			if err != nil && method != "none" && method != "publickey" && len(st.methods) < maxAuthTries {
				st.methods = append(st.methods, method)
			}
		},
		// Nothing here is secret; the banner is not used.
		ServerVersion: "SSH-2.0-irtui",
	}
}

// connOpened admits a connection while there are fewer than the cap: the
// sessions allowed, twice, and some for clients still authenticating.
func (s *Server) connOpened(ctx ssh.Context, conn net.Conn) net.Conn {
	remote := addr(conn.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping || s.conns >= 2*s.cfg.MaxSessions+16 {
		s.log.Warn("refused a connection: too many open", "remote", remote, "open", s.conns)
		return nil
	}
	s.conns++
	s.auth[remote] = &authState{}
	return conn
}

func (s *Server) connClosed(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns--
	delete(s.auth, addr(conn.RemoteAddr()))
}

// connFailed audits a client that reached authentication and left
// without completing it, unless each key it offered was refused (and
// audited) already: someone tried to sign in with a password, with no key
// at all, or offered a listed key without proving they hold it.
// Connections that never got that far (port scans, a wrong protocol) are
// only logged.
func (s *Server) connFailed(conn net.Conn, err error) {
	remote := addr(conn.RemoteAddr())
	s.mu.Lock()
	var st authState
	if p := s.auth[remote]; p != nil {
		st = *p
	}
	s.mu.Unlock()
	if !st.reached {
		s.log.Info("connection failed before authentication", "remote", remote, "err", err)
		return
	}
	var detail string
	switch {
	case st.known != "":
		detail = "offered the key " + st.known + " but did not prove it holds it"
	case st.refused > 0:
		return // each refused key is audited already
	case len(st.methods) > 0:
		detail = "offered no key; tried " + strings.Join(st.methods, ", ") + " (only keys are accepted)"
	default:
		detail = "offered no key"
	}
	s.log.Warn("a client left without authenticating", "remote", remote, "detail", detail)
	s.auditRefusal(identity.Actor{Method: identity.SSH, Key: "none", Remote: remote}, remote, detail)
}

func addr(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// quote shows a name a client chose (its SSH user name) safely: quoted,
// escaped, and cut short.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return strconv.QuoteToASCII(s)
}
