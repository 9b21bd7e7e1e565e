package serve

import (
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// Refused sign-in attempts are audited one by one up to refusalBudget per
// host in each refusalWindow; beyond that they are counted, and the count
// is audited as one entry when the window ends (or the server stops). So
// a client that never signs in cannot fill the audit log, nor take the
// record's write rate (each entry is a synced commit), while every
// refusal is still on record: the first ones in full, the rest as a
// number with the time span and the last detail.
const (
	refusalBudget = 20
	refusalWindow = time.Minute
)

// refusals are one host's refused attempts in the current window.
type refusals struct {
	start, last time.Time
	audited     int    // audited one by one
	counted     int    // over the budget: counted only
	detail      string // the last counted one's detail
}

// auditRefusal audits a refused sign-in attempt from remote (host:port),
// or counts it when its host is over the budget.
func (s *Server) auditRefusal(who identity.Actor, remote, detail string) {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	r := s.refused[host]
	var done *refusals
	if r != nil && now.Sub(r.start) >= refusalWindow {
		done, r = r, nil
	}
	if r == nil {
		r = &refusals{start: now}
		s.refused[host] = r
	}
	r.last = now
	audit := r.audited < refusalBudget
	if audit {
		r.audited++
	} else {
		r.counted++
		r.detail = detail
	}
	s.mu.Unlock()
	if done != nil {
		s.auditCounted(host, done)
	}
	if audit {
		s.audit(who, actionAuth, store.OutcomeRefused, detail)
	} else if r.counted == 1 {
		s.log.Warn("more refused sign-ins than are audited one by one; counting the rest",
			"remote", host, "per", refusalWindow, "budget", refusalBudget)
	}
}

// flushRefusals audits the counts of the windows that ended before now,
// or of every window when all is set (the server stops).
func (s *Server) flushRefusals(now time.Time, all bool) {
	s.mu.Lock()
	var hosts []string
	ended := map[string]*refusals{}
	for host, r := range s.refused {
		if all || now.Sub(r.start) >= refusalWindow {
			delete(s.refused, host)
			if r.counted > 0 {
				hosts = append(hosts, host)
				ended[host] = r
			}
		}
	}
	s.mu.Unlock()
	sort.Strings(hosts)
	for _, host := range hosts {
		s.auditCounted(host, ended[host])
	}
}

func (s *Server) auditCounted(host string, r *refusals) {
	if r.counted == 0 {
		return
	}
	s.audit(identity.Actor{Method: identity.SSH, Key: "none", Remote: host}, actionAuth, store.OutcomeRefused,
		fmt.Sprintf("%d more refused sign-in attempt(s) from %s between %s and %s, counted, not audited one by one "+
			"(more than %d in %s); the last: %s", r.counted, host, r.start.UTC().Format(time.RFC3339),
			r.last.UTC().Format(time.RFC3339), refusalBudget, refusalWindow, r.detail))
}

// watchRefusals audits the counts of ended windows until the server stops.
func (s *Server) watchRefusals() {
	t := time.NewTicker(refusalWindow / 4)
	defer t.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case <-t.C:
			s.flushRefusals(s.cfg.Clock.Now(), false)
		}
	}
}
