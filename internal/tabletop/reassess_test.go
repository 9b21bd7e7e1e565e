package tabletop

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/store"
)

// sev2Answers declare the ransomware drill incident as SEV2: encryption
// on two systems, no domain compromise, regular recovery.
var sev2Answers = []string{
	"answer observed encryption", "answer systems_affected 2", "answer domain_compromise no",
	"answer functional_impact low", "answer recoverability regular", "answer exfiltration no_evidence",
	"answer data_types personal",
}

// The console re-assesses the drill incident when an inject brings new
// facts (the domain-admin inject: SEV1 expected within 30m), and links and
// unlinks affected customers; each is recorded on the drill clock and the
// re-assessment is scored.
func TestConsoleReassessesAndLinksCustomers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	r, err := Start(ctx, f.deps, scenario(t, "ransomware-friday-night"), as("fac"), Options{Speed: 1, Manual: true, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join(append(append([]string{"next"}, sev2Answers...),
		"declare Encryption on FS-02",
		"reassess",
		"jump domain-admin",
		"answer domain_compromise yes",
		"as alice",
		"reassess DCSync from FS-02 to both domain controllers",
		"link acme",
		"unlink acme",
		"unlink acme its data is not on FS-02",
		"finish",
	), "\n") + "\n"
	var out bytes.Buffer
	c := &Console{Run: r, Actor: as("fac"), In: strings.NewReader(script), Out: &out, Poll: time.Millisecond}
	if err := c.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"Declared INC-0001",
		"error: nothing to re-assess: give the new answers first (answer QUESTION VALUE), then reassess [REASON]\n",
		"Re-assessed INC-0001: SEV2 → SEV1",
		"error: usage: unlink CUSTOMER REASON\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q; it is:\n%s", want, got)
		}
	}
	rep, err := r.Report(ctx, as("fac"))
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]TimelineItem{}
	for _, it := range rep.Timeline {
		if _, seen := at[it.Kind]; !seen {
			at[it.Kind] = it
		}
	}
	domainAdmin := epoch.Add(75 * time.Minute)
	for _, kind := range []string{"reassessed", "customer_linked", "customer_unlinked"} {
		it, ok := at[kind]
		if !ok {
			t.Errorf("no %s entry in the timeline: %+v", kind, rep.Timeline)
			continue
		}
		if it.At.Before(domainAdmin) || it.At.After(domainAdmin.Add(time.Minute)) || it.Actor != "alice" {
			t.Errorf("%s at %s by %s; want the drill clock at T+1h15m (%s), by alice", kind, it.At, it.Actor, domainAdmin)
		}
	}
	if res := results(rep.Score); res["classify-sev1"] != Met {
		t.Errorf("classify-sev1 is %s after the re-assessment to SEV1 (results %v)", res["classify-sev1"], res)
	}
	d, err := f.deps.Store.Incident(ctx, "INC-0001")
	if err != nil {
		t.Fatal(err)
	}
	if d.Incident.Severity != "SEV1" || d.Incident.Answers["domain_compromise"] != true || d.Incident.Answers["systems_affected"] != 2.0 {
		t.Errorf("the incident after the re-assessment: %s, answers %v", d.Incident.Severity, d.Incident.Answers)
	}
	if len(d.Customers) != 0 {
		t.Errorf("acme is still linked: %+v", d.Customers)
	}
}

// An actions file scripts the same: reassess changes only the answers it
// names (null takes one back), link and unlink (with its reason).
func TestActionsFileReassessesAndLinks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sc := scenario(t, "ransomware-friday-night")
	lib, _ := library(t)
	rb, _ := lib.Get(sc.Runbook)
	src := `actions:
  - at: 5m
    do: declare
    title: Encryption on FS-02
    answers: {observed: encryption, systems_affected: 2, domain_compromise: no, functional_impact: low,
      recoverability: regular, exfiltration: no_evidence, data_types: [personal]}
  - at: 20m
    do: link
    customer: acme
  - at: 1h20m
    do: reassess
    answers: {domain_compromise: yes, systems_affected: null}
    text: DCSync seen
  - at: 2h
    do: unlink
    customer: acme
    text: its data is not on FS-02
`
	acts, probs := ParseDrillActions("a.yaml", []byte(src), sc, rb, validate)
	if probs != nil {
		t.Fatal(probs)
	}
	r, err := Replay(ctx, f.deps, sc, acts, as("alice"), Options{Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.deps.Store.Incident(ctx, r.IncidentID())
	if err != nil {
		t.Fatal(err)
	}
	if _, kept := d.Incident.Answers["systems_affected"]; kept || d.Incident.Answers["observed"] != "encryption" ||
		d.Incident.Answers["domain_compromise"] != true || d.Incident.Severity != "SEV1" {
		t.Errorf("after the re-assessment: %s, answers %v", d.Incident.Severity, d.Incident.Answers)
	}
	var kinds []string
	for _, e := range d.Timeline {
		switch e.Kind {
		case "reassessed", "customer_linked", "customer_unlinked":
			kinds = append(kinds, e.Kind+"@"+e.At.Sub(epoch).String())
		}
	}
	if want := "customer_linked@20m0s reassessed@1h20m0s customer_unlinked@2h0m0s"; strings.Join(kinds, " ") != want {
		t.Errorf("timeline %v, want %s", kinds, want)
	}
	rep, err := r.Report(ctx, as("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if res := results(rep.Score); res["classify-sev1"] != Met {
		t.Errorf("results %v", res)
	}
	if st, _ := f.deps.Store.DrillRun(ctx, r.ID()); st.Status != store.DrillFinished {
		t.Errorf("run %s", st.Status)
	}
}
