package deadline

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// allOn is a policy with every regime on.
func allOn() Policy {
	return Policy{
		EUController: true, NIS2Entity: true, DORAFinancialEntity: true, SECRegistrant: true,
		HIPAACoveredEntity: true, USStates: []string{"CA"}, NYDFSCoveredEntity: true,
		CustomerNoticeTarget: "24h", TimeZone: "Europe/Amsterdam", Holidays: USFederalHolidays(2026),
		GDPRProcessor: true, UKController: true, NIS2ManagedServiceProvider: true, CRAManufacturer: true,
		MemberState: "NL",
	}
}

func flagSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func find(obs []Obligation, id string) (Obligation, bool) {
	for _, o := range obs {
		if o.Rule.ID == id {
			return o, true
		}
	}
	return Obligation{}, false
}

// wantOb is what a worked example expects of one obligation.
type wantOb struct {
	due        string // Format(o.Due); "" while waiting
	anchor     string // o.Anchor, if set
	fallback   bool
	waitingFor string
	branch     string // substring of o.Branch
	state      State  // at the row's now, if set
	late       bool
	note       string // substring of one of o.Notes
}

func TestWorkedExamples(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	ny := mustLoc(t, "America/New_York")
	utc := time.UTC
	gdprAms := DefaultPolicy()
	gdprAms.TimeZone = "Europe/Amsterdam"

	tests := []struct {
		name   string
		policy Policy
		in     Input
		now    time.Time
		want   map[string]wantOb // exactly the obligations expected
	}{
		{
			name:   "GDPR 72h across a DST change: aware Fri 27 Mar 2026 10:00 CET, due Mon 30 Mar 2026 11:00 CEST",
			policy: gdprAms,
			in: Input{Incident: true, Flags: flagSet("personal_data_breach"),
				Events: map[string]time.Time{"aware": at(t, ams, "2026-03-27 10:00")}},
			now: at(t, ams, "2026-03-29 12:00"),
			want: map[string]wantOb{
				"gdpr-33":   {due: "2026-03-30 11:00 CEST", anchor: "aware", state: Running},
				"gdpr-33-5": {due: "2026-03-30 11:00 CEST", anchor: "aware", state: Running},
			},
		},
		{
			name:   "GDPR unlikely risk: no authority notice, still the register",
			policy: DefaultPolicy(),
			in: Input{Incident: true, Flags: flagSet("personal_data_breach", "unlikely_risk"),
				Events: map[string]time.Time{"aware": at(t, utc, "2026-02-02 10:00")}},
			want: map[string]wantOb{"gdpr-33-5": {due: "2026-02-05 10:00 UTC"}},
		},
		{
			name:   "GDPR late notice met after 72h must give reasons for the delay",
			policy: DefaultPolicy(),
			in: Input{Incident: true, Flags: flagSet("personal_data_breach", "high_risk", "customer_data_affected"),
				Events: map[string]time.Time{"aware": at(t, utc, "2026-02-02 10:00"), "submitted:gdpr-33": at(t, utc, "2026-02-05 12:00")}},
			now: at(t, utc, "2026-02-06 10:00"),
			want: map[string]wantOb{
				"customer-notice": {due: "2026-02-03 10:00 UTC", state: Escalated},
				"gdpr-33":         {due: "2026-02-05 10:00 UTC", state: Met, late: true},
				"gdpr-33-5":       {due: "2026-02-05 10:00 UTC", state: Escalated},
				"gdpr-34":         {due: "2026-02-05 10:00 UTC", state: Escalated},
			},
		},
		{
			name:   "NIS2 final report after a late 72h submission: one calendar month after the actual submission",
			policy: Policy{NIS2Entity: true},
			in: Input{Incident: true, Flags: flagSet("nis2_significant"), Events: map[string]time.Time{
				"aware":                        at(t, utc, "2026-01-28 09:00"),
				"submitted:nis2-early-warning": at(t, utc, "2026-01-28 20:00"),
				"submitted:nis2-notification":  at(t, utc, "2026-01-31 15:00"), // 6 h late
			}},
			now: at(t, utc, "2026-02-10 09:00"),
			want: map[string]wantOb{
				"nis2-early-warning": {due: "2026-01-29 09:00 UTC", state: Met},
				"nis2-notification":  {due: "2026-01-31 09:00 UTC", state: Met, late: true, branch: "72 h"},
				"nis2-final-report":  {due: "2026-02-28 15:00 UTC", anchor: "submitted:nis2-notification", state: Running},
				// Art. 23(1): the recipients of the service, soft, at the customer target.
				"nis2-recipients": {due: "2026-01-29 09:00 UTC", state: Escalated},
			},
		},
		{
			name:   "NIS2 trust service provider: notification in 24h, final report waits for it",
			policy: Policy{NIS2Entity: true, NIS2TrustServiceProvider: true},
			in: Input{Incident: true, Flags: flagSet("nis2_significant"),
				Events: map[string]time.Time{"aware": at(t, utc, "2026-01-28 09:00")}},
			now: at(t, utc, "2026-01-28 18:00"),
			want: map[string]wantOb{
				"nis2-early-warning": {due: "2026-01-29 09:00 UTC", state: Running},
				"nis2-notification":  {due: "2026-01-29 09:00 UTC", branch: "trust service provider", state: Running},
				"nis2-final-report":  {waitingFor: "submitted:nis2-notification", state: Waiting},
				"nis2-recipients":    {due: "2026-01-29 09:00 UTC", state: Running},
			},
		},
		{
			// Due at EDGAR's 17:30 cut-off (Regulation S-T Rule 13(a)(4)), not at midnight.
			name:   "SEC 4 business days over a weekend and the observed Independence Day (New York time)",
			policy: Policy{SECRegistrant: true, TimeZone: "Europe/Amsterdam"},
			in: Input{Incident: true, Flags: flagSet("sec_material"),
				Events: map[string]time.Time{"classified": at(t, ny, "2026-06-30 10:00"), "determined": at(t, ny, "2026-07-02 10:00")}},
			now:  at(t, ny, "2026-07-09 12:00"),
			want: map[string]wantOb{"sec-8k-1.05": {due: "2026-07-09 17:30 EDT", anchor: "determined", state: DueSoon}},
		},
		{
			name:   "SEC falls back to classified when determined is missing, over Thanksgiving",
			policy: Policy{SECRegistrant: true, Holidays: USFederalHolidays(2026)},
			in: Input{Incident: true, Flags: flagSet("sec_material"),
				Events: map[string]time.Time{"classified": at(t, ny, "2026-11-20 16:00")}},
			want: map[string]wantOb{"sec-8k-1.05": {due: "2026-11-27 17:30 EST", anchor: "classified", fallback: true, note: "determined is not recorded"}},
		},
		{
			name:   "DORA earliest-of, classification early: classified_major + 4h wins",
			policy: Policy{DORAFinancialEntity: true},
			in: Input{Incident: true, Flags: flagSet("dora_major"), Events: map[string]time.Time{
				"aware": at(t, utc, "2026-05-04 08:00"), "classified_major": at(t, utc, "2026-05-04 10:00")}},
			want: map[string]wantOb{
				"dora-initial":      {due: "2026-05-04 14:00 UTC", anchor: "classified_major"},
				"dora-intermediate": {waitingFor: "submitted:dora-initial"},
				"dora-final":        {waitingFor: "submitted:dora-intermediate"},
			},
		},
		{
			name:   "DORA earliest-of, classification late: aware + 24h wins",
			policy: Policy{DORAFinancialEntity: true},
			in: Input{Incident: true, Flags: flagSet("dora_major"), Events: map[string]time.Time{
				"aware": at(t, utc, "2026-05-04 08:00"), "classified_major": at(t, utc, "2026-05-05 06:00")}},
			want: map[string]wantOb{
				"dora-initial":      {due: "2026-05-05 08:00 UTC", anchor: "aware"},
				"dora-intermediate": {waitingFor: "submitted:dora-initial"},
				"dora-final":        {waitingFor: "submitted:dora-intermediate"},
			},
		},
		{
			name:   "DORA earliest-of, classification not recorded: aware + 24h",
			policy: Policy{DORAFinancialEntity: true},
			in: Input{Incident: true, Flags: flagSet("dora_major"), Events: map[string]time.Time{
				"aware": at(t, utc, "2026-05-04 08:00")}},
			want: map[string]wantOb{
				"dora-initial":      {due: "2026-05-05 08:00 UTC", anchor: "aware"},
				"dora-intermediate": {waitingFor: "submitted:dora-initial"},
				"dora-final":        {waitingFor: "submitted:dora-intermediate"},
			},
		},
		{
			name:   "DORA chain: intermediate 72h after the initial, final one month after the intermediate (month end)",
			policy: Policy{DORAFinancialEntity: true},
			in: Input{Incident: true, Flags: flagSet("dora_major"), Events: map[string]time.Time{
				"aware": at(t, utc, "2026-05-04 08:00"), "classified_major": at(t, utc, "2026-05-04 10:00"),
				"submitted:dora-initial": at(t, utc, "2026-05-04 13:00"), "submitted:dora-intermediate": at(t, utc, "2026-05-31 10:00")}},
			now: at(t, utc, "2026-06-01 10:00"),
			want: map[string]wantOb{
				"dora-initial":      {due: "2026-05-04 14:00 UTC", state: Met},
				"dora-intermediate": {due: "2026-05-07 13:00 UTC", state: Met, late: true},
				"dora-final":        {due: "2026-06-30 10:00 UTC", state: Running},
			},
		},
		{
			name:   "HIPAA below 500: individuals in 60 days, HHS annual log 60 days after the year end",
			policy: Policy{HIPAACoveredEntity: true},
			in: Input{Incident: true, Flags: flagSet("phi_breach"), Facts: map[string]float64{"affected_people": 120, "max_state_residents": 120},
				Events: map[string]time.Time{"aware": at(t, utc, "2026-02-09 09:00"), "discovered": at(t, utc, "2026-02-10 09:00")}},
			want: map[string]wantOb{
				"hipaa-individuals": {due: "2026-04-11 09:00 UTC", anchor: "discovered"},
				"hipaa-hhs":         {due: "2027-03-01 23:59 UTC", branch: "fewer than 500"},
			},
		},
		{
			name:   "HIPAA below 500 discovered in 2027: annual log due 29 Feb 2028 (leap year)",
			policy: Policy{HIPAACoveredEntity: true},
			in: Input{Incident: true, Flags: flagSet("phi_breach"), Facts: map[string]float64{"affected_people": 499},
				Events: map[string]time.Time{"discovered": at(t, utc, "2027-06-01 09:00")}},
			want: map[string]wantOb{
				"hipaa-individuals": {due: "2027-07-31 09:00 UTC"},
				"hipaa-hhs":         {due: "2028-02-29 23:59 UTC", branch: "fewer than 500"},
			},
		},
		{
			name:   "HIPAA above 500: HHS with the individual notice, media for more than 500 in one state",
			policy: Policy{HIPAACoveredEntity: true},
			in: Input{Incident: true, Flags: flagSet("phi_breach"), Facts: map[string]float64{"affected_people": 1200, "max_state_residents": 800},
				Events: map[string]time.Time{"aware": at(t, utc, "2026-02-10 09:00")}},
			want: map[string]wantOb{
				"hipaa-individuals": {due: "2026-04-11 09:00 UTC", anchor: "aware", fallback: true},
				"hipaa-hhs":         {due: "2026-04-11 09:00 UTC", branch: "500 or more", fallback: true},
				"hipaa-media":       {due: "2026-04-11 09:00 UTC", fallback: true, note: "discovered is not recorded"},
			},
		},
		{
			name:   "HIPAA exactly 500 spread over states: HHS now, no media",
			policy: Policy{HIPAACoveredEntity: true},
			in: Input{Incident: true, Flags: flagSet("phi_breach"), Facts: map[string]float64{"affected_people": 500, "max_state_residents": 300},
				Events: map[string]time.Time{"discovered": at(t, utc, "2026-02-10 09:00")}},
			want: map[string]wantOb{
				"hipaa-individuals": {due: "2026-04-11 09:00 UTC"},
				"hipaa-hhs":         {due: "2026-04-11 09:00 UTC", branch: "500 or more"},
			},
		},
		{
			name:   "HIPAA media falls back to affected_people when max_state_residents is unknown",
			policy: Policy{HIPAACoveredEntity: true},
			in: Input{Incident: true, Flags: flagSet("phi_breach"), Facts: map[string]float64{"affected_people": 501},
				Events: map[string]time.Time{"discovered": at(t, utc, "2026-02-10 09:00")}},
			want: map[string]wantOb{
				"hipaa-individuals": {due: "2026-04-11 09:00 UTC"},
				"hipaa-hhs":         {due: "2026-04-11 09:00 UTC"},
				"hipaa-media":       {due: "2026-04-11 09:00 UTC", note: "max_state_residents is not known: using affected_people"},
			},
		},
		{
			name:   "HIPAA with unknown counts assumes the worst",
			policy: Policy{HIPAACoveredEntity: true},
			in: Input{Incident: true, Flags: flagSet("phi_breach"),
				Events: map[string]time.Time{"discovered": at(t, utc, "2026-02-10 09:00")}},
			want: map[string]wantOb{
				"hipaa-individuals": {due: "2026-04-11 09:00 UTC"},
				"hipaa-hhs":         {due: "2026-04-11 09:00 UTC", branch: "500 or more", note: "affected_people is not known: assumed >= 500"},
				"hipaa-media":       {due: "2026-04-11 09:00 UTC", note: "assumed > 500"},
			},
		},
		{
			name:   "California: residents in 30 days, Attorney General 15 days after the residents' notice",
			policy: Policy{USStates: []string{"CA"}},
			in: Input{Incident: true, Facts: map[string]float64{"california_residents": 800}, Events: map[string]time.Time{
				"discovered": at(t, utc, "2026-03-02 10:00"), "submitted:ca-1798.82": at(t, utc, "2026-03-20 10:00")}},
			want: map[string]wantOb{
				"ca-1798.82": {due: "2026-04-01 10:00 UTC"},
				"ca-ag":      {due: "2026-04-04 10:00 UTC", anchor: "submitted:ca-1798.82"},
			},
		},
		{
			name:   "California: 500 residents or fewer, no Attorney General notice",
			policy: Policy{USStates: []string{"CA"}},
			in: Input{Incident: true, Facts: map[string]float64{"california_residents": 500},
				Events: map[string]time.Time{"discovered": at(t, utc, "2026-03-02 10:00")}},
			want: map[string]wantOb{"ca-1798.82": {due: "2026-04-01 10:00 UTC"}},
		},
		{
			name:   "California: no residents affected, or CA not tracked",
			policy: Policy{USStates: []string{"NY"}, EUController: true},
			in: Input{Incident: true, Facts: map[string]float64{"california_residents": 800},
				Events: map[string]time.Time{"discovered": at(t, utc, "2026-03-02 10:00")}},
			want: map[string]wantOb{},
		},
		{
			// 500.17(a) runs from the determination that a reportable incident
			// occurred, not from the SEC materiality determination.
			name:   "NYDFS: 72h from determination; ransom payment notice in 24h and description in 30 days",
			policy: Policy{NYDFSCoveredEntity: true, TimeZone: "America/New_York"},
			in: Input{Incident: true, Flags: flagSet("nydfs_reportable", "ransom_paid"), Events: map[string]time.Time{
				"determined":            at(t, ny, "2026-03-30 12:00"),
				"reportable_determined": at(t, ny, "2026-04-01 12:00"), "ransom_paid": at(t, ny, "2026-04-03 18:00")}},
			want: map[string]wantOb{
				"nydfs-500.17a":             {due: "2026-04-04 12:00 EDT"},
				"nydfs-500.17c":             {due: "2026-04-04 18:00 EDT"},
				"nydfs-500.17c-description": {due: "2026-05-03 18:00 EDT"},
			},
		},
		{
			// The payment cannot precede awareness: counting from it is the
			// earliest the clocks can end, never later than the law.
			name:   "NYDFS ransom flag set but payment time not recorded: from awareness",
			policy: Policy{NYDFSCoveredEntity: true},
			in:     Input{Incident: true, Flags: flagSet("ransom_paid"), Events: map[string]time.Time{"aware": at(t, utc, "2026-04-01 12:00")}},
			want: map[string]wantOb{
				"nydfs-500.17c":             {due: "2026-04-02 12:00 UTC", anchor: "aware", fallback: true, note: "ransom_paid is not recorded"},
				"nydfs-500.17c-description": {due: "2026-05-01 12:00 UTC", anchor: "aware", fallback: true},
			},
		},
		{
			name:   "Customer notice: soft, with the policy's 4h target",
			policy: Policy{CustomerNoticeTarget: "4h"},
			in: Input{Incident: true, Flags: flagSet("customer_data_affected"),
				Events: map[string]time.Time{"aware": at(t, utc, "2026-04-01 12:00")}},
			now:  at(t, utc, "2026-04-01 21:00"),
			want: map[string]wantOb{"customer-notice": {due: "2026-04-01 16:00 UTC", state: Escalated}},
		},
		{
			name:   "An event that is not an incident produces no obligations",
			policy: allOn(),
			in:     fullInput(t, false),
			want:   map[string]wantOb{},
		},
		{
			name:   "A regime the policy does not have produces no obligations",
			policy: DefaultPolicy(),
			in: Input{Incident: true, Flags: flagSet("dora_major", "sec_material", "phi_breach", "nis2_significant", "nydfs_reportable"),
				Events: map[string]time.Time{"aware": at(t, utc, "2026-04-01 12:00")}},
			want: map[string]wantOb{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.policy.Validate(); err != nil {
				t.Fatalf("policy: %v", err)
			}
			obs := tt.policy.Obligations(tt.in)
			var got []string
			for _, o := range obs {
				got = append(got, o.Rule.ID)
			}
			var wantIDs []string
			for id := range tt.want {
				wantIDs = append(wantIDs, id)
			}
			slices.Sort(wantIDs)
			sorted := slices.Sorted(slices.Values(got))
			if !slices.Equal(sorted, wantIDs) {
				t.Fatalf("obligations %v, want %v", got, wantIDs)
			}
			for id, w := range tt.want {
				o, _ := find(obs, id)
				if Format(o.Due) != w.due {
					t.Errorf("%s due %q, want %q", id, Format(o.Due), w.due)
				}
				if w.anchor != "" && o.Anchor != w.anchor {
					t.Errorf("%s anchor %q, want %q", id, o.Anchor, w.anchor)
				}
				if o.Fallback != w.fallback {
					t.Errorf("%s fallback %v, want %v", id, o.Fallback, w.fallback)
				}
				if o.WaitingFor != w.waitingFor {
					t.Errorf("%s waiting for %q, want %q", id, o.WaitingFor, w.waitingFor)
				}
				if !strings.Contains(o.Branch, w.branch) {
					t.Errorf("%s branch %q, want it to contain %q", id, o.Branch, w.branch)
				}
				if w.note != "" && !slices.ContainsFunc(o.Notes, func(n string) bool { return strings.Contains(n, w.note) }) {
					t.Errorf("%s notes %q lack %q", id, o.Notes, w.note)
				}
				if !tt.now.IsZero() {
					s := o.At(tt.now)
					if s.State != w.state || s.Late != w.late {
						t.Errorf("%s at %s: state %s late %v, want %s late %v", id, Format(tt.now), s.State, s.Late, w.state, w.late)
					}
				}
			}
		})
	}
}

// fullInput is an incident with every flag, fact and anchor event set.
func fullInput(t testing.TB, incident bool) Input {
	ams := mustLoc(t, "Europe/Amsterdam")
	aware := at(t, ams, "2026-03-27 10:00")
	return Input{
		Incident: incident,
		Flags: flagSet("personal_data_breach", "high_risk", "nis2_significant", "dora_major", "sec_material",
			"phi_breach", "nydfs_reportable", "ransom_paid", "customer_data_affected", "processor_breach", "uk_breach",
			"cra_exploited_vulnerability", "cra_severe_incident"),
		Facts: map[string]float64{"affected_people": 12000, "california_residents": 900, "max_state_residents": 4000},
		Events: map[string]time.Time{
			"aware": aware, "classified": aware.Add(time.Hour), "classified_major": aware.Add(2 * time.Hour),
			"determined": aware.Add(20 * time.Hour), "discovered": aware.Add(-time.Hour), "ransom_paid": aware.Add(30 * time.Hour),
			"submitted:nis2-notification": aware.Add(60 * time.Hour), "submitted:dora-initial": aware.Add(5 * time.Hour),
			"mitigation_available": aware.Add(100 * time.Hour), "reportable_determined": aware.Add(3 * time.Hour),
		},
		Pauses: []Pause{{Start: aware.Add(48 * time.Hour), End: aware.Add(96 * time.Hour), Reason: "law enforcement"}},
	}
}

func TestObligationsSorted(t *testing.T) {
	obs := allOn().Obligations(fullInput(t, true))
	if len(obs) != len(rules) {
		t.Errorf("%d obligations with everything on, want all %d rules", len(obs), len(rules))
	}
	seenWaiting := false
	for i, o := range obs {
		if o.Due.IsZero() {
			seenWaiting = true
			continue
		}
		if seenWaiting {
			t.Errorf("%s has a due time after a waiting obligation", o.Rule.ID)
		}
		if i > 0 && !obs[i-1].Due.IsZero() && o.Due.Before(obs[i-1].Due) {
			t.Errorf("%s (%s) sorted after %s (%s)", o.Rule.ID, Format(o.Due), obs[i-1].Rule.ID, Format(obs[i-1].Due))
		}
	}
	if !seenWaiting {
		t.Error("no waiting obligation: the fixture should leave ca-ag and dora-final waiting")
	}
}

func TestObligationStates(t *testing.T) {
	aware := time.Date(2026, 2, 2, 10, 0, 0, 0, time.UTC)
	in := Input{Incident: true, Flags: flagSet("personal_data_breach"), Events: map[string]time.Time{"aware": aware}}
	o, ok := find(DefaultPolicy().Obligations(in), "gdpr-33")
	if !ok {
		t.Fatal("no gdpr-33")
	}
	h := time.Hour
	tests := []struct {
		name      string
		now       time.Time
		state     State
		used      float64
		remaining time.Duration
		late      bool
	}{
		{"before the anchor: waiting", aware.Add(-h), Waiting, 0, 72 * h, false},
		{"at the anchor: running, nothing used", aware, Running, 0, 72 * h, false},
		{"50 %: running", aware.Add(36 * h), Running, 0.5, 36 * h, false},
		{"just under 80 %: running", aware.Add(57*h + 35*time.Minute), Running, (57*60 + 35) / (72 * 60.0), 14*h + 25*time.Minute, false},
		{"80 %: due soon", aware.Add(57*h + 36*time.Minute), DueSoon, 0.8, 14*h + 24*time.Minute, false},
		{"exactly at the due time: still due soon", aware.Add(72 * h), DueSoon, 1, 0, false},
		{"past the due time: overdue and late", aware.Add(73 * h), Overdue, 73 / 72.0, -h, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := o.At(tt.now)
			if s.State != tt.state || s.Remaining != tt.remaining || s.Late != tt.late || !near(s.Used, tt.used) {
				t.Fatalf("At = %+v, want state %s used %.4f remaining %v late %v", s, tt.state, tt.used, tt.remaining, tt.late)
			}
			if tt.state != Waiting && !s.Due.Equal(o.Due) {
				t.Fatalf("status due %v, want %v", s.Due, o.Due)
			}
		})
	}

	cr := o.Crossings()
	want := []string{"deadline_50 2026-02-03 22:00 UTC", "deadline_80 2026-02-04 19:36 UTC", "deadline_overdue 2026-02-05 10:00 UTC"}
	for i, c := range cr {
		if got := c.Trigger + " " + Format(c.At); !c.Known || got != want[i] {
			t.Errorf("crossing %d = %s (known %v), want %s", i, got, c.Known, want[i])
		}
	}

	// Met on time, then met late; a submission after now is not yet seen.
	in.Events["submitted:gdpr-33"] = aware.Add(10 * h)
	o, _ = find(DefaultPolicy().Obligations(in), "gdpr-33")
	if s := o.At(aware.Add(20 * h)); s.State != Met || s.Late || !near(s.Used, 10/72.0) || s.Remaining != 62*h {
		t.Errorf("met on time: %+v", s)
	}
	if s := o.At(aware.Add(5 * h)); s.State != Running {
		t.Errorf("before the submission: %+v", s)
	}
	in.Events["submitted:gdpr-33"] = aware.Add(80 * h)
	o, _ = find(DefaultPolicy().Obligations(in), "gdpr-33")
	if s := o.At(aware.Add(100 * h)); s.State != Met || !s.Late || s.Remaining != -8*h {
		t.Errorf("met late: %+v", s)
	}
	if o.Rule.IfLate == "" || !strings.Contains(o.Rule.IfLate, "reasons for the delay") {
		t.Errorf("gdpr-33 IfLate = %q", o.Rule.IfLate)
	}

	// A waiting obligation has no crossings.
	var w Obligation
	if _, ok := w.Crossing(0.5); ok {
		t.Error("waiting obligation has a crossing")
	}
	if s := w.At(aware); s.State != Waiting || !s.Due.IsZero() {
		t.Errorf("waiting: %+v", s)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestSoftEscalation(t *testing.T) {
	aware := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	p := Policy{CustomerNoticeTarget: "24h"}
	o, ok := find(p.Obligations(Input{Incident: true, Flags: flagSet("customer_data_affected"),
		Events: map[string]time.Time{"aware": aware}}), "customer-notice")
	if !ok || !o.Rule.Soft {
		t.Fatalf("customer-notice %+v", o)
	}
	h := time.Hour
	tests := []struct {
		name  string
		after time.Duration
		state State
		level int
	}{
		{"half the target: running", 12 * h, Running, 0},
		{"80 % of the target: due soon", 20 * h, DueSoon, 0},
		{"at the target: not yet escalated", 24 * h, DueSoon, 0},
		{"past the target: escalation level 1", 25 * h, Escalated, 1},
		{"past twice the target: level 2", 49 * h, Escalated, 2},
		{"at three targets: level 3", 72 * h, Escalated, 3},
		{"ten days: level 10", 240 * h, Escalated, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := o.At(aware.Add(tt.after))
			if s.State != tt.state || s.Level != tt.level || s.Late {
				t.Fatalf("At(+%v) = %+v, want %s level %d, never late", tt.after, s, tt.state, tt.level)
			}
		})
	}
	if e, ok := o.EscalationAt(2); !ok || !e.Equal(aware.Add(48*h)) {
		t.Errorf("EscalationAt(2) = %v, %v", e, ok)
	}
	if _, ok := o.EscalationAt(0); ok {
		t.Error("EscalationAt(0) ok")
	}
}

func TestPauses(t *testing.T) {
	utc := time.UTC
	disc := at(t, utc, "2026-03-01 00:00") // HIPAA: due 2026-04-30 00:00 without pauses
	base := func(pauses ...Pause) Obligation {
		t.Helper()
		in := Input{Incident: true, Flags: flagSet("phi_breach", "personal_data_breach"), Facts: map[string]float64{"affected_people": 10},
			Events: map[string]time.Time{"discovered": disc, "aware": disc}, Pauses: pauses}
		obs := Policy{HIPAACoveredEntity: true, EUController: true}.Obligations(in)
		o, ok := find(obs, "hipaa-individuals")
		if !ok {
			t.Fatal("no hipaa-individuals")
		}
		g, _ := find(obs, "gdpr-33")
		if !g.Due.Equal(at(t, utc, "2026-03-04 00:00")) && len(pauses) > 0 && len(pauses[0].Rules) == 0 {
			t.Errorf("a general pause moved the non-pausable gdpr-33 to %s", Format(g.Due))
		}
		return o
	}
	day := 24 * time.Hour

	t.Run("no pause", func(t *testing.T) {
		if o := base(); Format(o.Due) != "2026-04-30 00:00 UTC" || len(o.Pauses) != 0 {
			t.Fatalf("due %s pauses %v", Format(o.Due), o.Pauses)
		}
	})
	t.Run("closed pause shifts the due time by its length", func(t *testing.T) {
		o := base(Pause{Start: at(t, utc, "2026-03-10 00:00"), End: at(t, utc, "2026-03-20 00:00"), Reason: "law enforcement"})
		if Format(o.Due) != "2026-05-10 00:00 UTC" {
			t.Fatalf("due %s", Format(o.Due))
		}
		if s := o.At(at(t, utc, "2026-03-15 00:00")); s.State != Paused || s.Remaining != 51*day {
			t.Errorf("inside the pause: %+v", s)
		}
		if s := o.At(at(t, utc, "2026-03-25 00:00")); s.State != Running || s.Remaining != 46*day || !s.Due.Equal(o.Due) {
			t.Errorf("after the pause: %+v", s)
		}
		if c, ok := o.Crossing(0.5); !ok || Format(c) != "2026-04-10 00:00 UTC" {
			t.Errorf("50 %% crossing %s %v", Format(c), ok)
		}
		if c, ok := o.Crossing(0.1); !ok || Format(c) != "2026-03-07 00:00 UTC" {
			t.Errorf("10 %% crossing %s %v", Format(c), ok)
		}
	})
	t.Run("open pause freezes the clock", func(t *testing.T) {
		o := base(Pause{Start: at(t, utc, "2026-03-10 00:00"), Reason: "law enforcement"})
		if Format(o.Due) != "2026-04-30 00:00 UTC" {
			t.Fatalf("static due %s", Format(o.Due))
		}
		for _, now := range []string{"2026-03-15 00:00", "2026-05-15 00:00"} {
			n := at(t, utc, now)
			s := o.At(n)
			if s.State != Paused || s.Remaining != 51*day || !s.Due.Equal(n.Add(51*day)) || !near(s.Used, 9/60.0) {
				t.Errorf("at %s: %+v", now, s)
			}
		}
		if _, ok := o.Crossing(0.5); ok {
			t.Error("the 50 % crossing is known behind an open pause")
		}
		if c, ok := o.Crossing(0.1); !ok || Format(c) != "2026-03-07 00:00 UTC" {
			t.Errorf("10 %% crossing before the pause %s %v", Format(c), ok)
		}
		if s := o.At(at(t, utc, "2026-03-05 00:00")); s.State != Running {
			t.Errorf("before the pause starts: %+v", s)
		}
	})
	t.Run("overlapping pauses count once", func(t *testing.T) {
		o := base(
			Pause{Start: at(t, utc, "2026-03-10 00:00"), End: at(t, utc, "2026-03-20 00:00")},
			Pause{Start: at(t, utc, "2026-03-15 00:00"), End: at(t, utc, "2026-03-25 00:00")},
			Pause{Start: at(t, utc, "2026-03-12 00:00"), End: at(t, utc, "2026-03-13 00:00")},
		)
		if Format(o.Due) != "2026-05-15 00:00 UTC" || len(o.Pauses) != 2 {
			t.Fatalf("due %s pauses %v", Format(o.Due), o.Pauses)
		}
	})
	t.Run("pause before the anchor is clipped, pause after the due time is ignored", func(t *testing.T) {
		o := base(
			Pause{Start: at(t, utc, "2026-02-20 00:00"), End: at(t, utc, "2026-03-03 00:00")},
			Pause{Start: at(t, utc, "2026-05-02 00:00"), End: at(t, utc, "2026-05-20 00:00")},
		)
		if Format(o.Due) != "2026-05-02 00:00 UTC" || len(o.Pauses) != 1 {
			t.Fatalf("due %s pauses %v", Format(o.Due), o.Pauses)
		}
		if s := o.At(at(t, utc, "2026-05-10 00:00")); s.State != Overdue {
			t.Errorf("after the due time, in the late pause: %+v", s)
		}
	})
	t.Run("pause naming other rules does not apply", func(t *testing.T) {
		o := base(Pause{Start: at(t, utc, "2026-03-10 00:00"), End: at(t, utc, "2026-03-20 00:00"), Rules: []string{"ca-1798.82"}})
		if Format(o.Due) != "2026-04-30 00:00 UTC" {
			t.Fatalf("due %s", Format(o.Due))
		}
	})
	t.Run("pause naming a non-pausable rule applies to it", func(t *testing.T) {
		in := Input{Incident: true, Flags: flagSet("personal_data_breach"), Events: map[string]time.Time{"aware": disc},
			Pauses: []Pause{{Start: disc.Add(time.Hour), End: disc.Add(3 * time.Hour), Rules: []string{"gdpr-33"}}}}
		g, _ := find(DefaultPolicy().Obligations(in), "gdpr-33")
		if Format(g.Due) != "2026-03-04 02:00 UTC" {
			t.Fatalf("gdpr-33 due %s", Format(g.Due))
		}
	})
}

func TestObligationDetails(t *testing.T) {
	utc := time.UTC
	in := Input{Incident: true, Flags: flagSet("dora_major"), Events: map[string]time.Time{
		"aware": at(t, utc, "2026-05-04 08:00"), "classified_major": at(t, utc, "2026-05-04 10:00")}}
	o, _ := find(Policy{DORAFinancialEntity: true}.Obligations(in), "dora-initial")
	if len(o.Candidates) != 2 || !o.Candidates[0].Chosen || o.Candidates[1].Chosen ||
		Format(o.Candidates[1].Due) != "2026-05-05 08:00 UTC" || o.Allowed != 4*time.Hour {
		t.Errorf("candidates %+v allowed %v", o.Candidates, o.Allowed)
	}
	if len(o.Rule.Content) == 0 || o.Rule.Source == "" || o.Rule.Recipient == "" {
		t.Errorf("rule details missing: %+v", o.Rule)
	}
	// Event times are shown in the rule's zone.
	in = Input{Incident: true, Flags: flagSet("sec_material"), Events: map[string]time.Time{"determined": at(t, utc, "2026-07-02 14:00")}}
	s, _ := find(Policy{SECRegistrant: true}.Obligations(in), "sec-8k-1.05")
	if Format(s.Start) != "2026-07-02 10:00 EDT" {
		t.Errorf("SEC start %s", Format(s.Start))
	}
}

func BenchmarkObligations(b *testing.B) {
	p := allOn()
	in := fullInput(b, true)
	now := in.Events["aware"].Add(30 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		obs := p.Obligations(in)
		for i := range obs {
			_ = obs[i].At(now)
		}
	}
}

func TestObligationJSON(t *testing.T) {
	obs := allOn().Obligations(fullInput(t, true))
	b, err := json.Marshal(obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":"dora-initial"`, `"offset":"4h"`, `"anchor":"classified_major"`, `"waiting_for":"submitted:ca-1798.82"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
	s, err := json.Marshal(obs[0].At(obs[0].Start))
	if err != nil || !strings.Contains(string(s), `"state":"running"`) {
		t.Errorf("status JSON %s, %v", s, err)
	}
}
