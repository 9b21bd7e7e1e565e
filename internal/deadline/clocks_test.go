package deadline

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// clockCase is one vector written from the text of a rule: the article it
// tests is in its name.
type clockCase struct {
	name   string
	policy Policy
	flags  []string
	events map[string]time.Time
	rule   string
	due    string // Format of the due time; "" while waiting
	anchor string // if set, the anchor the clock runs from
	now    time.Time
	state  State  // at now, if now is set
	note   string // a phrase one of the notes must contain
	warn   string // a phrase one of the warnings must contain; "" means no warning
}

func runClockCases(t *testing.T, tests []clockCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.policy.Validate(); err != nil {
				t.Fatalf("policy: %v", err)
			}
			obs := tt.policy.Obligations(Input{Incident: true, Flags: flagSet(tt.flags...), Events: tt.events})
			o, ok := find(obs, tt.rule)
			if !ok {
				var ids []string
				for _, o := range obs {
					ids = append(ids, o.Rule.ID)
				}
				t.Fatalf("%s does not apply; got %v", tt.rule, ids)
			}
			if got := Format(o.Due); got != tt.due {
				t.Errorf("due %q, want %q (notes %q)", got, tt.due, o.Notes)
			}
			if tt.anchor != "" && o.Anchor != tt.anchor {
				t.Errorf("anchor %q, want %q", o.Anchor, tt.anchor)
			}
			if !tt.now.IsZero() {
				if st := o.At(tt.now); st.State != tt.state {
					t.Errorf("at %s: state %s, want %s", Format(tt.now), st.State, tt.state)
				}
			}
			if tt.note != "" && !slices.ContainsFunc(o.Notes, func(n string) bool { return strings.Contains(n, tt.note) }) {
				t.Errorf("notes %q lack %q", o.Notes, tt.note)
			}
			switch {
			case tt.warn == "" && len(o.Warnings) > 0:
				t.Errorf("unexpected warnings %q", o.Warnings)
			case tt.warn != "" && !slices.ContainsFunc(o.Warnings, func(w string) bool { return strings.Contains(w, tt.warn) }):
				t.Errorf("warnings %q lack %q", o.Warnings, tt.warn)
			}
		})
	}
}

// TestSECItem105 tests Form 8-K Item 1.05(a): four business days after the
// registrant determines that an incident is material, where a business day
// is any day but a Saturday, a Sunday or a federal holiday (Regulation S-T
// Rule 11, 17 CFR 232.11) and a filing begun after 17:30 Eastern time is
// dated the next business day (Rule 13(a)(4)).
func TestSECItem105(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	sec := Policy{SECRegistrant: true, TimeZone: "Europe/Amsterdam"}
	withCal := func(id string, ch CalendarChange) Policy {
		p := sec
		p.Calendars = map[string]CalendarChange{id: ch}
		return p
	}
	legacy := sec
	legacy.Holidays = []string{"2025-01-09"}
	det := func(s string) map[string]time.Time {
		return map[string]time.Time{"classified": at(t, ny, s).Add(-48 * time.Hour), "determined": at(t, ny, s)}
	}
	tests := []clockCase{
		{name: "Item 1.05: 23andMe determined Fri 6 Oct 2023; Columbus Day skipped; due Fri 13 Oct 17:30",
			policy: sec, flags: []string{"sec_material"}, events: det("2023-10-06 16:00"), rule: "sec-8k-1.05",
			due: "2023-10-13 17:30 EDT", anchor: "determined"},
		{name: "Rule 13(a)(4): at 17:31 on the fourth business day the filing is late",
			policy: sec, flags: []string{"sec_material"}, events: det("2023-10-06 16:00"), rule: "sec-8k-1.05",
			due: "2023-10-13 17:30 EDT", now: at(t, ny, "2023-10-13 17:31"), state: Overdue},
		{name: "Rule 11: Juneteenth on Saturday 19 Jun 2027 is observed Fri 18 Jun",
			policy: sec, flags: []string{"sec_material"}, events: det("2027-06-15 10:00"), rule: "sec-8k-1.05",
			due: "2027-06-22 17:30 EDT"},
		{name: "Rule 11: New Year's Day 2028 (a Saturday) is observed Fri 31 Dec 2027, across the year end",
			policy: sec, flags: []string{"sec_material"}, events: det("2027-12-28 11:00"), rule: "sec-8k-1.05",
			due: "2028-01-04 17:30 EST"},
		{name: "Item 1.05 across the spring clock change in New York (8 Mar 2026)",
			policy: sec, flags: []string{"sec_material"}, events: det("2026-03-05 12:00"), rule: "sec-8k-1.05",
			due: "2026-03-11 17:30 EDT"},
		{name: "Item 1.05 over the leap day 29 Feb 2024",
			policy: sec, flags: []string{"sec_material"}, events: det("2024-02-26 09:00"), rule: "sec-8k-1.05",
			due: "2024-03-01 17:30 EST"},
		{name: "Item 1.05: a determination after 17:30 does not make its own day count",
			policy: sec, flags: []string{"sec_material"}, events: det("2026-11-09 18:00"), rule: "sec-8k-1.05",
			due: "2026-11-16 17:30 EST"}, // Veterans Day, Wed 11 Nov, skipped
		{name: "Rule 11 with calendars.US.remove: Columbus Day 2026 counted as a business day",
			policy: withCal("US", CalendarChange{Remove: []string{"2026-10-12"}}), flags: []string{"sec_material"},
			events: det("2026-10-09 10:00"), rule: "sec-8k-1.05", due: "2026-10-15 17:30 EDT"},
		{name: "Rule 11 without the removal: Columbus Day 2026 skipped",
			policy: sec, flags: []string{"sec_material"}, events: det("2026-10-09 10:00"), rule: "sec-8k-1.05",
			due: "2026-10-16 17:30 EDT"},
		{name: "Rule 11 with calendars.US.add: EDGAR closed on the national day of mourning, 9 Jan 2025",
			policy: withCal("US", CalendarChange{Add: []string{"2025-01-09"}}), flags: []string{"sec_material"},
			events: det("2025-01-06 10:00"), rule: "sec-8k-1.05", due: "2025-01-13 17:30 EST"},
		{name: "Rule 11 with the legacy holidays list: the same closure",
			policy: legacy, flags: []string{"sec_material"}, events: det("2025-01-06 10:00"), rule: "sec-8k-1.05",
			due: "2025-01-13 17:30 EST"},
		{name: "past the years the US calendar covers: 1 Jan 2036 is counted and a warning says so",
			policy: sec, flags: []string{"sec_material"}, events: det("2035-12-27 10:00"), rule: "sec-8k-1.05",
			due: "2036-01-02 17:30 EST", warn: "does not cover 2036"},
		{name: "Item 1.05: without a recorded determination the clock runs from the declaration",
			policy: sec, flags: []string{"sec_material"},
			events: map[string]time.Time{"classified": at(t, ny, "2026-04-14 03:30")}, rule: "sec-8k-1.05",
			due: "2026-04-20 17:30 EDT", anchor: "classified", note: "determined is not recorded"},
	}
	runClockCases(t, tests)
}

// TestDORAInitial tests RTS 2025/301 Art. 5: the initial notification 4
// hours after classification as major and no later than 24 hours after
// awareness (5(1)(a)); 4 hours after a classification made more than 24
// hours after awareness (5(2)); the weekend and holiday relief (5(4)) and
// who does not get it (5(5), 5(6)).
func TestDORAInitial(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	other := Policy{DORAFinancialEntity: true, TimeZone: "Europe/Amsterdam", MemberState: "NL", DORAEntityKind: DORAOther}
	bank := other
	bank.DORAEntityKind = DORACreditInstitution
	nis2 := other
	nis2.NIS2Entity = true
	excluded := other
	excluded.DORAReliefExcluded = true
	noState := other
	noState.MemberState = ""
	ev := func(aware, major string) map[string]time.Time {
		m := map[string]time.Time{"aware": at(t, ams, aware), "classified": at(t, ams, aware)}
		if major != "" {
			m["classified_major"] = at(t, ams, major)
		}
		return m
	}
	dora := []string{"dora_major"}
	tests := []clockCase{
		{name: "Art. 5(1)(a): classified 2 h after awareness, due 4 h after classification",
			policy: other, flags: dora, events: ev("2026-04-14 09:30", "2026-04-14 11:30"), rule: "dora-initial",
			due: "2026-04-14 15:30 CEST", anchor: "classified_major"},
		{name: "Art. 5(1)(a): classified 21.5 h after awareness, the 24 h limit comes first",
			policy: other, flags: dora, events: ev("2026-04-14 09:30", "2026-04-15 07:00"), rule: "dora-initial",
			due: "2026-04-15 09:30 CEST", anchor: "aware"},
		{name: "Art. 5(2): classified 48 h after awareness, due 4 h after classification, not overdue",
			policy: other, flags: dora, events: ev("2026-04-14 09:30", "2026-04-16 10:00"), rule: "dora-initial",
			due: "2026-04-16 14:00 CEST", anchor: "classified_major", now: at(t, ams, "2026-04-16 13:00"), state: Running,
			note: "the aware term (aware + 24h) is left out"},
		{name: "Art. 5(1)(a): a declared incident without a recorded classification counts the declaration",
			policy: other, flags: dora,
			events: map[string]time.Time{"aware": at(t, ams, "2026-04-14 09:30"), "classified": at(t, ams, "2026-04-14 10:00")},
			rule:   "dora-initial", due: "2026-04-14 14:00 CEST", anchor: "classified", note: "classified_major is not recorded"},
		{name: "Art. 5(4): due on Saturday 18 Apr, may be submitted by 12:00 on Monday",
			policy: other, flags: dora, events: ev("2026-04-17 20:00", "2026-04-18 09:00"), rule: "dora-initial",
			due: "2026-04-20 12:00 CEST", note: "may be submitted by 12:00 on the next working day"},
		{name: "Art. 5(5): a credit institution gets no relief for the initial notification",
			policy: bank, flags: dora, events: ev("2026-04-17 20:00", "2026-04-18 09:00"), rule: "dora-initial",
			due: "2026-04-18 13:00 CEST", note: "no weekend or holiday relief"},
		{name: "Art. 5(5): nor does a NIS2 essential or important entity",
			policy: nis2, flags: dora, events: ev("2026-04-17 20:00", "2026-04-18 09:00"), rule: "dora-initial",
			due: "2026-04-18 13:00 CEST"},
		{name: "Art. 5(4) across the spring clock change: due Sunday 29 Mar 04:00 CEST, relief to Monday noon",
			policy: other, flags: dora, events: ev("2026-03-28 14:00", "2026-03-28 23:00"), rule: "dora-initial",
			due: "2026-03-30 12:00 CEST"},
		{name: "Art. 5(4) without a member_state: weekends only, with a warning",
			policy: noState, flags: dora, events: ev("2026-04-24 09:00", "2026-04-27 08:00"), rule: "dora-initial",
			due: "2026-04-27 12:00 CEST", warn: "set member_state"},
	}
	runClockCases(t, tests)
}

// TestDORALaterReports tests RTS 2025/301 Art. 5(1)(b), (c) with the relief
// of Art. 5(4) and its limits in 5(5) and 5(6), over Dutch holidays, a
// month end, a leap year and a year no calendar covers.
func TestDORALaterReports(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	other := Policy{DORAFinancialEntity: true, TimeZone: "Europe/Amsterdam", MemberState: "NL"}
	bank := other
	bank.DORAEntityKind = DORACreditInstitution
	excluded := bank
	excluded.DORAReliefExcluded = true
	goodFriday := other
	goodFriday.Calendars = map[string]CalendarChange{"NL": {Add: []string{"2026-04-03"}}}
	sub := func(rule, s string) map[string]time.Time {
		return map[string]time.Time{"aware": at(t, ams, s).Add(-100 * time.Hour), "submitted:" + rule: at(t, ams, s)}
	}
	dora := []string{"dora_major"}
	tests := []clockCase{
		{name: "Art. 5(1)(b), 5(4): intermediate due on King's Day, Mon 27 Apr 2026, moves to Tue 12:00",
			policy: other, flags: dora, events: sub("dora-initial", "2026-04-24 11:00"), rule: "dora-intermediate",
			due: "2026-04-28 12:00 CEST"},
		{name: "Art. 5(5): a credit institution's intermediate report on King's Day gets no relief",
			policy: bank, flags: dora, events: sub("dora-initial", "2026-04-24 11:00"), rule: "dora-intermediate",
			due: "2026-04-27 11:00 CEST"},
		{name: "Art. 5(1)(b), 5(4): intermediate due on Easter Monday 6 Apr 2026 moves to Tue 7 Apr 12:00",
			policy: other, flags: dora, events: sub("dora-initial", "2026-04-03 10:00"), rule: "dora-intermediate",
			due: "2026-04-07 12:00 CEST"},
		{name: "Art. 5(1)(b): Good Friday is not a Dutch holiday unless configured",
			policy: other, flags: dora, events: sub("dora-initial", "2026-03-31 10:00"), rule: "dora-intermediate",
			due: "2026-04-03 10:00 CEST"},
		{name: "Art. 5(4) with calendars.NL.add: Good Friday 2026 configured, relief to Tue 7 Apr (Easter Monday skipped)",
			policy: goodFriday, flags: dora, events: sub("dora-initial", "2026-03-31 10:00"), rule: "dora-intermediate",
			due: "2026-04-07 12:00 CEST"},
		{name: "Art. 5(1)(c), 5(4): final report one month after 30 Jan is Sat 28 Feb (month end), relief to Mon 2 Mar 12:00",
			policy: bank, flags: dora, events: sub("dora-intermediate", "2026-01-30 16:00"), rule: "dora-final",
			due: "2026-03-02 12:00 CET"},
		{name: "Art. 5(6): an entity its authority excluded gets no relief even for the final report",
			policy: excluded, flags: dora, events: sub("dora-intermediate", "2026-01-30 16:00"), rule: "dora-final",
			due: "2026-02-28 16:00 CET"},
		{name: "Art. 5(1)(c) in a leap year: 31 Jan 2028 + 1 month = Tue 29 Feb 2028, a working day",
			policy: other, flags: dora, events: sub("dora-intermediate", "2028-01-31 09:00"), rule: "dora-final",
			due: "2028-02-29 09:00 CET"},
		{name: "Art. 5(4) in 2036, past the Dutch calendar: a warning",
			policy: other, flags: dora, events: sub("dora-intermediate", "2036-01-04 09:00"), rule: "dora-final",
			due: "2036-02-04 09:00 CET", warn: "does not cover 2036"},
	}
	runClockCases(t, tests)
}

// TestNYDFS50017 tests 23 NYCRR 500.17(a) (72 hours from the determination
// that a reportable incident occurred) and 500.17(c) (notice within 24
// hours of an extortion payment, written description within 30 days).
func TestNYDFS50017(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	p := Policy{NYDFSCoveredEntity: true, TimeZone: "America/New_York"}
	paid := func(aware, payment string) map[string]time.Time {
		return map[string]time.Time{"aware": at(t, ny, aware), "classified": at(t, ny, aware), "ransom_paid": at(t, ny, payment)}
	}
	ransom := []string{"ransom_paid"}
	tests := []clockCase{
		{name: "500.17(c)(1): 24 real hours across the autumn clock change (1 Nov 2026)",
			policy: p, flags: ransom, events: paid("2026-10-30 08:00", "2026-10-31 23:00"), rule: "nydfs-500.17c",
			due: "2026-11-01 22:00 EST", anchor: "ransom_paid"},
		{name: "500.17(c)(2): 30 calendar days keep the wall clock across the clock change",
			policy: p, flags: ransom, events: paid("2026-10-30 08:00", "2026-10-31 23:00"), rule: "nydfs-500.17c-description",
			due: "2026-11-30 23:00 EST"},
		{name: "500.17(c)(2): 30 days from 30 Jan 2028 is the leap day",
			policy: p, flags: ransom, events: paid("2028-01-29 08:00", "2028-01-30 10:00"), rule: "nydfs-500.17c-description",
			due: "2028-02-29 10:00 EST"},
		{name: "500.17(c)(2): 30 days from 31 Jan 2026 runs past the month end to 2 Mar",
			policy: p, flags: ransom, events: paid("2026-01-30 08:00", "2026-01-31 15:00"), rule: "nydfs-500.17c-description",
			due: "2026-03-02 15:00 EST"},
		{name: "500.17(c)(1): the payment time not recorded: from awareness, the earliest it can have been",
			policy: p, flags: ransom, events: map[string]time.Time{"aware": at(t, ny, "2026-06-01 09:00")}, rule: "nydfs-500.17c",
			due: "2026-06-02 09:00 EDT", anchor: "aware", note: "ransom-paid"},
		{name: "500.17(a): 72 h from the recorded determination, not from the SEC materiality determination",
			policy: p, flags: []string{"nydfs_reportable"}, rule: "nydfs-500.17a",
			events: map[string]time.Time{"aware": at(t, ny, "2026-06-01 09:00"), "classified": at(t, ny, "2026-06-01 10:00"),
				"determined": at(t, ny, "2026-06-10 09:00"), "reportable_determined": at(t, ny, "2026-06-02 15:00")},
			due: "2026-06-05 15:00 EDT", anchor: "reportable_determined"},
	}
	runClockCases(t, tests)
}

// TestProcessorAndUK tests GDPR Art. 33(2) (the processor tells each
// controller without undue delay: a hard clock at the contractual target,
// whatever the risk) with each controller's own 72 hours in view, and the
// UK GDPR notice to the ICO as a notice of its own.
func TestProcessorAndUK(t *testing.T) {
	utc := time.UTC
	aware := at(t, utc, "2026-05-04 08:00")
	p := DefaultPolicy()
	p48 := p
	p48.ProcessorNoticeTarget = "48h"
	uk := p
	uk.UKController = true
	off := p
	off.GDPRProcessor = false
	ev := map[string]time.Time{"aware": aware}
	told := map[string]time.Time{"aware": aware, "submitted:gdpr-33-2": aware.Add(20 * time.Hour)}
	tests := []clockCase{
		{name: "Art. 33(2): hard, due at the 24 h contractual target, overdue (not escalated) past it",
			policy: p, flags: []string{"personal_data_breach", "processor_breach", "processor_only", "unlikely_risk"}, events: ev,
			rule: "gdpr-33-2", due: "2026-05-05 08:00 UTC", now: aware.Add(25 * time.Hour), state: Overdue},
		{name: "Art. 33(2): processor_notice_target 48h",
			policy: p48, flags: []string{"personal_data_breach", "processor_breach"}, events: ev,
			rule: "gdpr-33-2", due: "2026-05-06 08:00 UTC"},
		{name: "Art. 33(1) for each controller: 72 h from when we told it, for information",
			policy: p, flags: []string{"personal_data_breach", "processor_breach"}, events: told,
			rule: "gdpr-33-2-controller", due: "2026-05-08 04:00 UTC", anchor: "submitted:gdpr-33-2",
			now: aware.Add(100 * time.Hour), state: Passed},
		{name: "Art. 33(1) for each controller: waits until we told it",
			policy: p, flags: []string{"personal_data_breach", "processor_breach"}, events: ev,
			rule: "gdpr-33-2-controller", due: ""},
		{name: "UK GDPR Art. 33: the ICO in 72 h, a notice of its own",
			policy: uk, flags: []string{"personal_data_breach", "uk_breach"}, events: ev,
			rule: "uk-gdpr-33", due: "2026-05-07 08:00 UTC"},
		{name: "UK GDPR Art. 34: high risk to people in the UK",
			policy: uk, flags: []string{"personal_data_breach", "uk_breach", "high_risk"}, events: ev,
			rule: "uk-gdpr-34", due: "2026-05-07 08:00 UTC"},
	}
	runClockCases(t, tests)

	notApply := []struct {
		name   string
		policy Policy
		flags  []string
		rule   string
	}{
		{"Art. 33(2) needs gdpr_processor", off, []string{"personal_data_breach", "processor_breach"}, "gdpr-33-2"},
		{"Art. 33(1): a processor only does not notify the authority", p, []string{"personal_data_breach", "processor_breach", "processor_only"}, "gdpr-33"},
		{"UK GDPR needs uk_controller", p, []string{"personal_data_breach", "uk_breach"}, "uk-gdpr-33"},
		{"UK GDPR: no people in the UK, no ICO notice", uk, []string{"personal_data_breach"}, "uk-gdpr-33"},
		{"UK GDPR: unlikely to result in a risk", uk, []string{"personal_data_breach", "uk_breach", "unlikely_risk"}, "uk-gdpr-33"},
	}
	for _, tt := range notApply {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := find(tt.policy.Obligations(Input{Incident: true, Flags: flagSet(tt.flags...), Events: ev}), tt.rule); ok {
				t.Errorf("%s applies", tt.rule)
			}
		})
	}
}

// TestNIS2ManagedServiceProvider: a managed (security) service provider's
// incident that is significant under Implementing Regulation (EU)
// 2024/2690 starts the NIS2 Art. 23(4) reports and the Art. 23(1) notice
// to the recipients of the service.
func TestNIS2ManagedServiceProvider(t *testing.T) {
	utc := time.UTC
	ev := map[string]time.Time{"aware": at(t, utc, "2026-05-04 08:00")}
	msp := Policy{NIS2Entity: true, NIS2ManagedServiceProvider: true}
	plain := Policy{NIS2Entity: true}
	tests := []clockCase{
		{name: "2024/2690 Art. 10 significant: NIS2 Art. 23(4)(a) early warning in 24 h",
			policy: msp, flags: []string{"nis2_msp_significant"}, events: ev, rule: "nis2-early-warning", due: "2026-05-05 08:00 UTC"},
		{name: "NIS2 Art. 23(4)(b) notification in 72 h",
			policy: msp, flags: []string{"nis2_msp_significant"}, events: ev, rule: "nis2-notification", due: "2026-05-07 08:00 UTC"},
		{name: "NIS2 Art. 23(1): the recipients of the service, without undue delay (internal target)",
			policy: msp, flags: []string{"nis2_msp_significant"}, events: ev, rule: "nis2-recipients", due: "2026-05-05 08:00 UTC"},
	}
	runClockCases(t, tests)
	if obs := plain.Obligations(Input{Incident: true, Flags: flagSet("nis2_msp_significant"), Events: ev}); len(obs) != 0 {
		t.Errorf("an entity that is not a managed service provider got %d NIS2 obligations from the 2024/2690 criteria", len(obs))
	}
}

// TestCRA tests Regulation (EU) 2024/2847 Art. 14: an actively exploited
// vulnerability (14(2)) and a severe incident (14(4)) each need an early
// warning in 24 hours, a notification in 72 hours and a final report (14
// days after a fix is available; one month after the incident
// notification), and the users are informed (14(8)).
func TestCRA(t *testing.T) {
	utc := time.UTC
	aware := at(t, utc, "2026-10-30 22:00")
	p := Policy{CRAManufacturer: true}
	vuln := []string{"cra_exploited_vulnerability"}
	sev := []string{"cra_severe_incident"}
	tests := []clockCase{
		{name: "Art. 14(2)(a): early warning within 24 h", policy: p, flags: vuln,
			events: map[string]time.Time{"aware": aware}, rule: "cra-vuln-early-warning", due: "2026-10-31 22:00 UTC"},
		{name: "Art. 14(2)(b): vulnerability notification within 72 h, across a month end", policy: p, flags: vuln,
			events: map[string]time.Time{"aware": aware}, rule: "cra-vuln-notification", due: "2026-11-02 22:00 UTC"},
		{name: "Art. 14(2)(c): final report waits for a corrective measure", policy: p, flags: vuln,
			events: map[string]time.Time{"aware": aware}, rule: "cra-vuln-final", due: ""},
		{name: "Art. 14(2)(c): final report 14 days after the fix is available", policy: p, flags: vuln,
			events: map[string]time.Time{"aware": aware, "mitigation_available": at(t, utc, "2026-11-20 10:00")},
			rule:   "cra-vuln-final", due: "2026-12-04 10:00 UTC", anchor: "mitigation_available"},
		{name: "Art. 14(4)(a): severe incident early warning within 24 h", policy: p, flags: sev,
			events: map[string]time.Time{"aware": aware}, rule: "cra-incident-early-warning", due: "2026-10-31 22:00 UTC"},
		{name: "Art. 14(4)(c): final report one month after the notification (31 Jan 2028 -> 29 Feb)", policy: p, flags: sev,
			events: map[string]time.Time{"aware": aware, "submitted:cra-incident-notification": at(t, utc, "2028-01-31 12:00")},
			rule:   "cra-incident-final", due: "2028-02-29 12:00 UTC"},
		{name: "Art. 14(8): inform the users (soft, internal target)", policy: p, flags: sev,
			events: map[string]time.Time{"aware": aware}, rule: "cra-users", due: "2026-10-31 22:00 UTC"},
	}
	runClockCases(t, tests)
	if obs := (Policy{}).Obligations(Input{Incident: true, Flags: flagSet(vuln...), Events: map[string]time.Time{"aware": aware}}); len(obs) != 0 {
		t.Errorf("without cra_manufacturer: %d obligations", len(obs))
	}
}

// TestParseTime: a wall-clock time that occurs twice is the earlier
// instant; one that does not exist is refused with a message.
func TestParseTime(t *testing.T) {
	ams := mustLoc(t, "Europe/Amsterdam")
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC 3339, or the phrase of the error
		err  bool
	}{
		{"2026-10-25 02:30", ams, "2026-10-25T02:30:00+02:00", false}, // repeated hour: CEST, the earlier
		{"2026-10-25T02:30", ams, "2026-10-25T02:30:00+02:00", false},
		{"2026-10-25 03:00", ams, "2026-10-25T03:00:00+01:00", false},
		{"2026-11-01 01:30", ny, "2026-11-01T01:30:00-04:00", false}, // repeated hour in New York: EDT
		{"2026-03-29 02:30", ams, "2026-03-29 02:30 does not exist in Europe/Amsterdam", true},
		{"2026-03-08 02:15:00", ny, "does not exist in America/New_York", true},
		{"2026-03-29 03:00", ams, "2026-03-29T03:00:00+02:00", false},
		{"2026-10-25T02:30:00+01:00", ams, "2026-10-25T02:30:00+01:00", false}, // an offset decides
		{"2028-02-29 12:00", time.UTC, "2028-02-29T12:00:00Z", false},
		{"2027-02-29 12:00", time.UTC, `bad time "2027-02-29 12:00"`, true},
		{"27/03/2026", ams, "use RFC 3339", true},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, tt.loc)
		switch {
		case tt.err && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ParseTime(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.want)
		case !tt.err && (err != nil || got.Format(time.RFC3339) != tt.want):
			t.Errorf("ParseTime(%q) = %v, %v; want %s", tt.in, got.Format(time.RFC3339), err, tt.want)
		}
	}
	if a, _ := ParseTime("2026-10-25 02:30", ams); !Ambiguous(a) {
		t.Error("Ambiguous(02:30 on 25 Oct 2026 in Amsterdam) = false")
	}
	if a, _ := ParseTime("2026-10-25 04:30", ams); Ambiguous(a) {
		t.Error("Ambiguous(04:30) = true")
	}
}

func TestHolidayCalendars(t *testing.T) {
	tests := []struct {
		year int
		want []string
	}{
		// Easter 5 Apr 2026: Easter Monday 6 Apr, Ascension 14 May, Whit Monday 25 May.
		{2026, []string{"2026-01-01", "2026-04-06", "2026-04-27", "2026-05-05", "2026-05-14", "2026-05-25", "2026-12-25", "2026-12-26"}},
		// King's Day: 27 Apr 2025 is a Sunday, so 26 Apr.
		{2025, []string{"2025-01-01", "2025-04-21", "2025-04-26", "2025-05-05", "2025-05-29", "2025-06-09", "2025-12-25", "2025-12-26"}},
		// Easter 16 Apr 2028 (a leap year).
		{2028, []string{"2028-01-01", "2028-04-17", "2028-04-27", "2028-05-05", "2028-05-25", "2028-06-05", "2028-12-25", "2028-12-26"}},
	}
	for _, tt := range tests {
		if got := DutchHolidays(tt.year); !slices.Equal(got, tt.want) {
			t.Errorf("DutchHolidays(%d) = %v\nwant %v", tt.year, got, tt.want)
		}
	}
	for year, want := range map[int]string{2024: "2024-03-31", 2027: "2027-03-28", 2030: "2030-04-21", 2035: "2035-03-25"} {
		if got := easterSunday(year).Format(time.DateOnly); got != want {
			t.Errorf("Easter %d = %s, want %s", year, got, want)
		}
	}
	nl, _ := HolidayCalendarByID("NL")
	if nl.Days(2013) != nil || !nl.Covers(2035) || nl.Covers(2036) {
		t.Error("NL coverage")
	}
	if !slices.Equal(HolidayCalendarIDs(), []string{"NL", "US"}) {
		t.Errorf("calendars %v", HolidayCalendarIDs())
	}
	cal := (Policy{Calendars: map[string]CalendarChange{"US": {Remove: []string{"2026-07-03"}}}}).HolidayCalendar("US", time.UTC)
	if !cal.IsBusinessDay(at(t, time.UTC, "2026-07-03 12:00")) || cal.IsBusinessDay(at(t, time.UTC, "2026-12-25 12:00")) {
		t.Error("calendars.US.remove")
	}
	if got := cal.UncoveredYears(at(t, time.UTC, "2035-12-01 00:00"), at(t, time.UTC, "2037-01-01 00:00")); !slices.Equal(got, []int{2036, 2037}) {
		t.Errorf("UncoveredYears = %v", got)
	}
	custom := (Policy{Calendars: map[string]CalendarChange{"DE": {Add: []string{"2026-10-03"}}}}).HolidayCalendar("DE", time.UTC)
	if !custom.Covers(2026) || custom.Covers(2027) || custom.IsBusinessDay(at(t, time.UTC, "2026-10-03 12:00")) {
		t.Error("a configured calendar covers the years it lists")
	}
}

func TestPolicyValidateNewKeys(t *testing.T) {
	tests := []struct {
		p    Policy
		want string
	}{
		{Policy{MemberState: "nl"}, `member_state: "nl" is not a two-letter upper-case country code`},
		{Policy{DORAEntityKind: "bank"}, `dora_entity_kind: "bank" is not one of credit_institution`},
		{Policy{ProcessorNoticeTarget: "soon"}, `processor_notice_target: bad duration "soon"`},
		{Policy{Calendars: map[string]CalendarChange{"NL": {Add: []string{"2026-4-3"}}}}, `calendars.NL: holiday "2026-4-3"`},
		{Policy{Calendars: map[string]CalendarChange{"Netherlands": {}}}, `calendars: "Netherlands" is not a two-letter`},
		{Policy{Calendars: map[string]CalendarChange{"DE": {Remove: []string{"2026-10-03"}}}}, "calendars.DE: remove applies only to a built-in calendar"},
		{Policy{NIS2ManagedServiceProvider: true}, "nis2_managed_service_provider: needs nis2_entity: true"},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.p, err, tt.want)
		}
	}
}

func TestAnchorKinds(t *testing.T) {
	for _, a := range AnchorKinds {
		if len(RulesUsing(a.Event)) == 0 {
			t.Errorf("anchor %s (%s) starts no rule's clock", a.Name, a.Event)
		}
		if got, ok := AnchorByName(a.Event); !ok || got.Name != a.Name {
			t.Errorf("AnchorByName(%q) = %v, %v", a.Event, got, ok)
		}
	}
	if _, ok := AnchorByName("materiality"); ok {
		t.Error("AnchorByName accepted an unknown name")
	}
	if got := RulesUsing(EventRansomPaid); !slices.Equal(got, []string{"nydfs-500.17c", "nydfs-500.17c-description"}) {
		t.Errorf("RulesUsing(ransom_paid) = %v", got)
	}
}

// The customer notice to each controller serves Art. 33(2): recording it
// meets gdpr-33-2 and starts each controller's 72 hours, unless gdpr-33-2
// has a submission of its own.
func TestProcessorNoticeMetByTheCustomerNotice(t *testing.T) {
	utc := time.UTC
	aware := at(t, utc, "2026-05-04 08:00")
	in := Input{Incident: true, Flags: flagSet("personal_data_breach", "processor_breach", "customer_data_affected"),
		Events: map[string]time.Time{"aware": aware, "submitted:customer-notice": aware.Add(10 * time.Hour)}}
	obs := DefaultPolicy().Obligations(in)
	o, _ := find(obs, "gdpr-33-2")
	if st := o.At(aware.Add(11 * time.Hour)); st.State != Met || !slices.ContainsFunc(o.Notes, func(n string) bool {
		return strings.Contains(n, "met by the submission of customer-notice")
	}) {
		t.Errorf("gdpr-33-2: %s %q", st.State, o.Notes)
	}
	if c, _ := find(obs, "gdpr-33-2-controller"); Format(c.Due) != "2026-05-07 18:00 UTC" {
		t.Errorf("controllers' clock due %q", Format(c.Due))
	}
	if _, ok := in.Events["submitted:gdpr-33-2"]; ok {
		t.Error("Obligations changed the caller's events")
	}
	in.Events["submitted:gdpr-33-2"] = aware.Add(2 * time.Hour)
	o, _ = find(DefaultPolicy().Obligations(in), "gdpr-33-2")
	if !o.Submitted.Equal(aware.Add(2 * time.Hour)) {
		t.Errorf("its own submission is %v", o.Submitted)
	}
}
