package notify

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/clock"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/store"
)

// matrix is a database whose directory says who everyone is and what
// they may do, with one incident declared by dee (who so drafted its
// customer notice), ian as its incident commander, and the notice's
// content filled in by ed and dee.
type matrix struct {
	f      *fixture
	ids    *identity.Service
	in     incident.Incident
	notice store.Notification
	actors map[string]identity.Actor
}

// matrixPeople: OS user = person id. ola also connects with an SSH key.
func matrixPeople(olaKey string) []store.Person {
	p := func(id string, perms ...string) store.Person {
		return store.Person{ID: id, OSUsers: []string{id}, Permissions: perms}
	}
	ola := p("ola", "override")
	ola.SSHKeys = []string{olaKey}
	return []store.Person{
		p("ada", "admin"),   // administers the directory
		p("ian"),            // the incident's commander
		p("apu", "approve"), // approves notices
		ola,                 // may override the process
		p("eva", "export"),  // exports
		p("pat"),            // a responder with no permissions
		p("dee", "approve"), // declared the incident: drafted its notice
		p("ed", "approve"),  // filled in part of the notice
	}
}

func newMatrix(t *testing.T) *matrix {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := ssh.NewPublicKey(pub)
	olaKey, olaFP := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk))), ssh.FingerprintSHA256(pk)

	f := &fixture{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "irtui.db"),
		clock: clock.NewFake(t0), cfg: config.Default(), extras: map[string][]runbook.Notification{}}
	f.st, err = store.Open(f.ctx, f.path, store.WithClock(f.clock), store.WithInstaller("ada"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	m := &matrix{f: f, ids: &identity.Service{Store: f.st, Clock: f.clock}, actors: map[string]identity.Actor{}}
	installer, err := m.ids.Resolve(f.ctx, "ada", "", false)
	if err != nil {
		t.Fatal(err)
	}
	d := store.Directory{People: matrixPeople(olaKey),
		Customers: []store.Customer{{ID: "acme", Name: "Acme Holdings", ContactKind: "email", Contact: "sec@acme.test"}}}
	if _, err := m.ids.Import(f.ctx, installer, d); err != nil {
		t.Fatal(err)
	}
	l := library(t)
	// A configured organisation: the matrix is about who may act.
	f.cfg.Org = config.Org{Name: "Example Org", DPOContact: "dpo@example.org", Contact: "security@example.org"}
	f.ns = &Service{Store: f.st, Clock: f.clock, Config: f.cfg, Runbook: l.Get}
	f.svc = &incident.Service{Store: f.st, Clock: f.clock, Notifier: f.ns}

	resolve := func(osUser, claim string, trust bool) identity.Actor {
		a, err := m.ids.Resolve(f.ctx, osUser, claim, trust)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, p := range d.People {
		m.actors[p.ID] = resolve(p.ID, "", false)
	}
	m.actors["ola by ssh"] = identity.Actor{Person: "ola", Method: identity.SSH, Key: olaFP, Remote: "192.0.2.9:41000"}
	m.actors["mallory"] = resolve("mallory", "", false)           // an OS user in no directory
	m.actors["pat as ola"] = resolve("pat", "ola", false)         // --as outside trust mode
	m.actors["pat as ola, trusted"] = resolve("pat", "ola", true) // --as in local trust mode

	rb, _ := l.Get("personal-data-breach")
	v, err := classify.Classify(rb, breachAnswers, f.cfg.Policy, classify.Events{Aware: t0, Classified: t0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	decl := incident.NewDeclaration(rb, v, breachAnswers)
	decl.Title, decl.Customers = "Customer export on a paste site", []string{"acme"}
	if m.in, err = f.svc.Declare(f.ctx, m.actors["dee"], decl); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Assign(f.ctx, m.actors["dee"], m.in.ID, identity.CommanderRole, "ian"); err != nil {
		t.Fatal(err)
	}
	notices := f.byAudience(m.in.ID, AudienceCustomers)
	if len(notices) != 1 || len(notices[0].Fields) == 0 {
		t.Fatalf("customer notices: %+v", notices)
	}
	for i, fl := range notices[0].Fields {
		by := m.actors["dee"]
		if i == 0 {
			by = m.actors["ed"]
		}
		if _, err := f.ns.SetContent(f.ctx, by, notices[0].ID, fl.ID, "text for "+fl.ID); err != nil {
			t.Fatal(err)
		}
	}
	m.notice = f.get(notices[0].ID)
	return m
}

// lowerSeverity is a severity below the incident's.
func (m *matrix) lowerSeverity() string {
	i := slices.Index([]string{"SEV1", "SEV2", "SEV3", "SEV4"}, m.in.Severity)
	return []string{"SEV2", "SEV3", "SEV4", "SEV4"}[i]
}

// TestPermissionMatrix tries each permission-checked action as each kind
// of actor, each on a database of its own, and checks the outcome and
// that the audit log recorded it, with the actor and how they were
// authenticated.
func TestPermissionMatrix(t *testing.T) {
	everyone := []string{"ada", "ian", "apu", "ola", "ola by ssh", "eva", "pat", "dee", "ed", "pat as ola, trusted"}
	actions := []struct {
		name    string
		audit   string            // the audit action
		allowed []string          // everyone else is refused
		why     map[string]string // what some refusals must say
		setup   func(m *matrix) error
		do      func(m *matrix, a identity.Actor) error
	}{
		{name: "import the directory", audit: "import", allowed: []string{"ada"},
			do: func(m *matrix, a identity.Actor) error {
				_, err := m.ids.Import(m.f.ctx, a, store.Directory{People: []store.Person{{ID: "zoe"}}})
				return err
			}},
		{name: "list the directory", audit: "directory_list", allowed: everyone,
			do: func(m *matrix, a identity.Actor) error { _, err := m.ids.Directory(m.f.ctx, a); return err }},
		{name: "verify the audit log", audit: "audit_verify", allowed: everyone,
			do: func(m *matrix, a identity.Actor) error { _, err := m.f.svc.VerifyAudit(m.f.ctx, a); return err }},
		{name: "open the incident", audit: "open", allowed: everyone,
			do: func(m *matrix, a identity.Actor) error { _, err := m.f.svc.Get(m.f.ctx, a, m.in.ID); return err }},
		{name: "add a note", audit: "note", allowed: everyone,
			do: func(m *matrix, a identity.Actor) error { return m.f.svc.AddNote(m.f.ctx, a, m.in.ID, "seen") }},
		{name: "close with required steps open", audit: "close",
			allowed: []string{"ian", "ola", "ola by ssh", "pat as ola, trusted"},
			do: func(m *matrix, a identity.Actor) error {
				return m.f.svc.Close(m.f.ctx, a, m.in.ID, "handled elsewhere")
			}},
		{name: "reopen", audit: "reopen", allowed: []string{"ian", "ola", "ola by ssh", "pat as ola, trusted"},
			setup: func(m *matrix) error { return m.f.svc.Close(m.f.ctx, m.actors["ian"], m.in.ID, "handled elsewhere") },
			do:    func(m *matrix, a identity.Actor) error { return m.f.svc.Reopen(m.f.ctx, a, m.in.ID, "it is back") }},
		{name: "lower the severity", audit: "severity", allowed: []string{"ian", "ola", "ola by ssh", "pat as ola, trusted"},
			do: func(m *matrix, a identity.Actor) error {
				return m.f.svc.ChangeSeverity(m.f.ctx, a, m.in.ID, m.lowerSeverity(), "fewer records than feared")
			}},
		{name: "dismiss as not an incident", audit: "reclassify",
			allowed: []string{"ian", "ola", "ola by ssh", "pat as ola, trusted"},
			do: func(m *matrix, a identity.Actor) error {
				_, err := m.f.svc.Reclassify(m.f.ctx, a, m.in.ID, incident.Classification{Incident: false,
					DismissReason: "test data", Severity: "SEV4"})
				return err
			}},
		// The breach risk assessment concluded "risk"; deciding "none"
		// stops the authority's clock.
		{name: "lower the breach risk", audit: "risk_decide",
			allowed: []string{"ian", "ola", "ola by ssh", "pat as ola, trusted"},
			do: func(m *matrix, a identity.Actor) error {
				return m.f.svc.DecideRisk(m.f.ctx, a, m.in.ID, incident.RiskNone, "the export held test data only")
			}},
		{name: "raise the breach risk", audit: "risk_decide", allowed: everyone,
			do: func(m *matrix, a identity.Actor) error {
				return m.f.svc.DecideRisk(m.f.ctx, a, m.in.ID, incident.RiskHigh, "the export held health notes")
			}},
		{name: "move awareness later", audit: "anchor",
			allowed: []string{"ian", "ola", "ola by ssh", "pat as ola, trusted"},
			setup:   func(m *matrix) error { m.f.clock.Advance(time.Hour); return nil },
			do: func(m *matrix, a identity.Actor) error {
				return m.f.svc.RecordAnchor(m.f.ctx, a, m.in.ID, "aware", t0.Add(time.Minute), "the alert was a test")
			}},
		{name: "record an anchor", audit: "anchor", allowed: everyone,
			do: func(m *matrix, a identity.Actor) error {
				return m.f.svc.RecordAnchor(m.f.ctx, a, m.in.ID, "discovered", t0, "")
			}},
		{name: "export the incident", audit: "export", allowed: []string{"eva"},
			do: func(m *matrix, a identity.Actor) error { _, err := m.f.svc.Export(m.f.ctx, a, m.in.ID, ""); return err }},
		{name: "export a customer's data", audit: "export", allowed: []string{"eva"},
			do: func(m *matrix, a identity.Actor) error {
				_, err := m.f.svc.Export(m.f.ctx, a, m.in.ID, "acme")
				return err
			}},
		// dee drafted it and ed filled part of it: both have the approve
		// permission, and both are refused.
		{name: "approve the customer notice", audit: "notify_approve", allowed: []string{"ian", "apu"},
			why: map[string]string{"dee": "you drafted", "ed": "you filled in", "pat": "only ian, who holds incident_commander"},
			do:  func(m *matrix, a identity.Actor) error { return m.f.ns.Approve(m.f.ctx, a, m.notice.ID) }},
	}
	actors := append(slices.Clone(everyone), "mallory", "pat as ola")
	for _, act := range actions {
		for _, name := range actors {
			allowed := slices.Contains(act.allowed, name)
			t.Run(fmt.Sprintf("%s/%s", act.name, name), func(t *testing.T) {
				m := newMatrix(t)
				if act.setup != nil {
					if err := act.setup(m); err != nil {
						t.Fatal(err)
					}
				}
				a := m.actors[name]
				err := act.do(m, a)
				switch {
				case allowed && err != nil:
					t.Fatalf("refused: %v", err)
				case !allowed && !errors.Is(err, identity.ErrDenied):
					t.Fatalf("want a refusal because of who asked, got %v", err)
				case act.why[name] != "" && !strings.Contains(err.Error(), act.why[name]):
					t.Fatalf("refusal %q does not say %q", err, act.why[name])
				}
				audit, _ := m.f.st.Audit(m.f.ctx, store.AuditFilter{})
				last := audit[len(audit)-1]
				want := store.OutcomeOK
				if !allowed {
					want = store.OutcomeRefused
				}
				if last.Action != act.audit || last.Outcome != want || last.Actor != a.ID() || last.Auth != a.Auth() {
					t.Fatalf("audit entry %+v; want %s %s by %s (%s)", last, act.audit, want, a.ID(), a.Auth())
				}
				if !allowed && !strings.Contains(last.Detail, strings.SplitN(err.Error(), ":", 2)[0]) {
					t.Errorf("the audit entry does not say why: %q vs %q", last.Detail, err)
				}
			})
		}
	}
}
