package deadline

import "slices"

// NoObligation is what a runbook notification's obligation: names when it
// serves no regulatory or contractual obligation.
const NoObligation = "none"

// Event names the shipped rules anchor on. "submitted:RULE-ID" events are
// recorded when an obligation is met.
const (
	EventAware           = "aware"            // the organisation became aware of the incident
	EventClassified      = "classified"       // the incident was classified (declared)
	EventDetermined      = "determined"       // materiality / reportability was determined
	EventDiscovered      = "discovered"       // discovery (HIPAA: first day known or that should have been known)
	EventClassifiedMajor = "classified_major" // classified as major under DORA
	EventRansomPaid      = "ransom_paid"      // an extortion payment was made
	// EventReportable: it was determined that a cybersecurity incident
	// reportable under 23 NYCRR 500.17(a) occurred.
	EventReportable = "reportable_determined"
	// EventMitigationAvailable: a corrective or mitigating measure for an
	// actively exploited vulnerability became available (CRA Art. 14(2)(c)).
	EventMitigationAvailable = "mitigation_available"
)

// SubmittedEvent is the event recorded when the obligation ruleID is met.
func SubmittedEvent(ruleID string) string { return "submitted:" + ruleID }

// Flags the shipped rules react to.
var Flags = []string{
	"personal_data_breach", "unlikely_risk", "high_risk", "nis2_significant", "dora_major",
	"sec_material", "phi_breach", "nydfs_reportable", "ransom_paid", "customer_data_affected", "processor_only",
	"processor_breach", "uk_breach", "nis2_msp_significant", "cra_exploited_vulnerability", "cra_severe_incident",
}

// Facts the shipped rules compare with thresholds.
var Facts = []string{"affected_people", "california_residents", "max_state_residents"}

// RuleByID returns the shipped rule id. The result is a copy the caller may
// change.
func RuleByID(id string) (Rule, bool) {
	for i := range rules {
		if rules[i].ID == id {
			return cloneRule(rules[i]), true
		}
	}
	return Rule{}, false
}

// RuleIDs returns the ids of every shipped rule, in the order of
// docs/deadlines.md. "none" (NoObligation) is not among them; see
// IsObligationID.
func RuleIDs() []string {
	ids := make([]string, len(rules))
	for i := range rules {
		ids[i] = rules[i].ID
	}
	return ids
}

// Rules returns a copy of every shipped rule.
func Rules() []Rule {
	out := make([]Rule, len(rules))
	for i := range rules {
		out[i] = cloneRule(rules[i])
	}
	return out
}

// IsObligationID reports whether a runbook may name id as a notification's
// obligation: a shipped rule id or "none".
func IsObligationID(id string) bool {
	if id == NoObligation {
		return true
	}
	for i := range rules {
		if rules[i].ID == id {
			return true
		}
	}
	return false
}

func cloneCondition(c Condition) Condition {
	c.Policy = slices.Clone(c.Policy)
	c.Flags = slices.Clone(c.Flags)
	c.Unless = slices.Clone(c.Unless)
	c.Facts = slices.Clone(c.Facts)
	for i := range c.Facts {
		c.Facts[i].Facts = slices.Clone(c.Facts[i].Facts)
	}
	return c
}

func cloneTerms(ts []Term) []Term {
	ts = slices.Clone(ts)
	for i := range ts {
		ts[i].Anchors = slices.Clone(ts[i].Anchors)
		ts[i].IgnoreIfBefore = slices.Clone(ts[i].IgnoreIfBefore)
	}
	return ts
}

func cloneRule(r Rule) Rule {
	r.When = cloneCondition(r.When)
	r.Or = slices.Clone(r.Or)
	for i := range r.Or {
		r.Or[i] = cloneCondition(r.Or[i])
	}
	if r.Relief != nil {
		rel := *r.Relief
		r.Relief = &rel
	}
	r.Due = cloneTerms(r.Due)
	r.Branches = slices.Clone(r.Branches)
	for i := range r.Branches {
		r.Branches[i].When = cloneCondition(r.Branches[i].When)
		r.Branches[i].Due = cloneTerms(r.Branches[i].Due)
	}
	r.Content = slices.Clone(r.Content)
	r.Notes = slices.Clone(r.Notes)
	r.Limits = slices.Clone(r.Limits)
	r.MetBy = slices.Clone(r.MetBy)
	return r
}

// Helpers that keep the rule table readable.

func term(offset string, anchors ...string) Term {
	return Term{Anchors: anchors, Offset: MustParseOffset(offset)}
}

func flags(policy string, fl ...string) Condition {
	return Condition{Policy: []string{policy}, Flags: fl}
}

// nis2MSP is the further condition of the NIS2 reports: a managed
// (security) service provider's incident that is significant under
// Implementing Regulation (EU) 2024/2690.
var nis2MSP = []Condition{{Policy: []string{"nis2_entity", "nis2_managed_service_provider"}, Flags: []string{"nis2_msp_significant"}}}

// doraRelief returns the weekend and holiday relief of RTS 2025/301
// Art. 5(4) under the policy switch when.
func doraRelief(when string) *Relief {
	return &Relief{When: when, Calendar: CalendarMemberState, At: "12:00",
		Source: "Commission Delegated Regulation (EU) 2025/301 Art. 5(4)–(6)"}
}

// Shared content lists.
var (
	gdprContent = []ContentItem{
		{"33-3-a", "Art. 33(3)(a): the nature of the personal data breach including, where possible, the categories and approximate number of data subjects concerned and the categories and approximate number of personal data records concerned"},
		{"33-3-b", "Art. 33(3)(b): the name and contact details of the data protection officer or other contact point where more information can be obtained"},
		{"33-3-c", "Art. 33(3)(c): the likely consequences of the personal data breach"},
		{"33-3-d", "Art. 33(3)(d): the measures taken or proposed to be taken by the controller to address the breach, including, where appropriate, measures to mitigate its possible adverse effects"},
	}
	hipaaIndividualContent = []ContentItem{
		{"404-c-1-A", "164.404(c)(1)(A): a brief description of what happened, including the date of the breach and the date of discovery, if known"},
		{"404-c-1-B", "164.404(c)(1)(B): the types of unsecured protected health information involved (e.g. full name, Social Security number, date of birth, home address, account number, diagnosis, disability code)"},
		{"404-c-1-C", "164.404(c)(1)(C): any steps individuals should take to protect themselves from potential harm resulting from the breach"},
		{"404-c-1-D", "164.404(c)(1)(D): what the covered entity is doing to investigate the breach, to mitigate harm to individuals and to protect against further breaches"},
		{"404-c-1-E", "164.404(c)(1)(E): contact procedures for individuals to ask questions, including a toll-free telephone number, an e-mail address, web site or postal address"},
		{"404-c-2", "164.404(c)(2): written in plain language"},
	}
)

// rules is the shipped rule table, in documentation order.
var rules = []Rule{
	{
		ID:         "gdpr-33",
		Title:      "Notify the supervisory authority of a personal data breach",
		Regime:     "GDPR",
		Source:     "Regulation (EU) 2016/679 (GDPR) Art. 33(1), (3), (4)",
		Recipient:  "Competent supervisory authority (Art. 55; the lead authority for cross-border processing, Art. 56)",
		Confidence: "V",
		Authority:  true,
		When:       Condition{Policy: []string{"eu_controller"}, Flags: []string{"personal_data_breach"}, Unless: []string{"unlikely_risk", "processor_only"}},
		Due:        []Term{term("72h", EventAware)},
		Limits: []string{
			"Whether the breach is unlikely to result in a risk: that is the risk assessment's conclusion (or a DPO decision), not a fact irtui can check.",
			"When you became aware: the clock trusts the recorded awareness (correct it with the `aware` anchor).",
			"Which authority is competent (lead authority, one-stop shop) and national variations.",
		},
		Content: gdprContent,
		IfLate:  "Art. 33(1): a notification made after 72 hours must be accompanied by the reasons for the delay.",
		Notes: []string{
			"Without undue delay and, where feasible, not later than 72 hours after having become aware of the breach.",
			"Not required when the breach is unlikely to result in a risk to the rights and freedoms of natural persons: set the unlikely_risk flag and record the reasoning in the breach register (gdpr-33-5).",
			"Art. 33(4): where the information cannot be provided at the same time, it may be provided in phases without undue further delay.",
			"Not our duty when we act only as a processor for the affected data (the processor_only flag): the controller notifies its authority, and we notify the controller without undue delay (Art. 33(2), gdpr-33-2).",
		},
	},
	{
		ID:         "gdpr-33-2",
		Title:      "Notify each controller of a breach of the personal data we process for it",
		Regime:     "GDPR",
		Source:     "Regulation (EU) 2016/679 (GDPR) Art. 33(2) and 28(3)(f); the data processing agreements (processor_notice_target)",
		Recipient:  "Each controller whose personal data we process (the affected customers)",
		Confidence: "V (the target: your data processing agreements)",
		When:       flags("gdpr_processor", "processor_breach"),
		MetBy:      []string{"customer-notice"},
		Due:        []Term{{Anchors: []string{EventAware}, Offset: MustParseOffset(DefaultCustomerNoticeTarget), OffsetFrom: "processor_notice_target"}},
		Limits: []string{
			"What your data processing agreements actually promise: set processor_notice_target to it.",
			"Which customers' data is affected: link them to the incident; the clock is one for all of them.",
		},
		Content: []ContentItem{
			{"33-3-a", "Art. 33(3)(a): the nature of the breach, with the categories and approximate numbers of the controller's data subjects and records concerned"},
			{"33-3-b", "Art. 33(3)(b): our contact point (data protection officer) for more information"},
			{"33-3-c", "Art. 33(3)(c): the likely consequences of the breach, as far as we can judge them"},
			{"33-3-d", "Art. 33(3)(d): the measures we took or propose, including those to mitigate its possible adverse effects"},
			{"28-3-f", "Art. 28(3)(f): what the controller needs from us for its own notices, and how we will assist"},
		},
		Notes: []string{
			"Art. 33(2): the processor notifies the controller without undue delay after becoming aware of a breach of the controller's data. Every such breach: the processor does not weigh the risk, the controller does.",
			"Due at the target our data processing agreements promise (the policy's processor_notice_target); past it the notice is overdue, not merely escalated.",
			"Each controller has its own 72 hours (Art. 33(1)) from when it becomes aware, at the latest when we tell it: gdpr-33-2-controller shows that clock once this notice is recorded as submitted.",
			"The customer notice (customer-notice) to each controller serves this duty: once it is recorded as submitted (or delivered to every affected customer), this obligation is met too, unless its own submission was recorded.",
		},
	},
	{
		ID:         "gdpr-33-2-controller",
		Title:      "Each controller's own Art. 33 deadline (theirs, shown for planning)",
		Regime:     "GDPR",
		Source:     "Regulation (EU) 2016/679 (GDPR) Art. 33(1), with EDPB Guidelines 9/2022 on when a controller becomes aware through its processor",
		Recipient:  "Each controller's supervisory authority (the controller's duty, not ours)",
		Confidence: "S",
		Info:       true,
		When:       flags("gdpr_processor", "processor_breach"),
		Due:        []Term{term("72h", SubmittedEvent("gdpr-33-2"))},
		Limits: []string{
			"When each controller really became aware: it may have learned earlier than from us.",
			"Each controller separately: one submission time is recorded for all of them.",
		},
		Content: []ContentItem{
			{"support", "Be ready to answer each controller's questions for its Art. 33(3) notice before this time"},
		},
		Notes: []string{
			"Not our obligation: the controller's clock, shown so that what they need from us arrives in time. It starts when we tell the controller (submitted:gdpr-33-2), the latest moment it can be said to be aware; a controller that learned earlier has less time.",
			"Each controller is told separately; this clock runs from when gdpr-33-2 was recorded as submitted.",
		},
	},
	{
		ID:         "gdpr-33-5",
		Title:      "Record the breach in the internal breach register",
		Regime:     "GDPR",
		Source:     "Regulation (EU) 2016/679 (GDPR) Art. 33(5)",
		Recipient:  "Internal breach register (kept by the controller, shown to the supervisory authority on request)",
		Confidence: "M",
		Soft:       true,
		When:       flags("eu_controller", "personal_data_breach"),
		Due:        []Term{term("72h", EventAware)},
		Limits: []string{
			"Nothing about the register's form; the target is internal, not legal.",
		},
		Content: []ContentItem{
			{"facts", "The facts relating to the personal data breach"},
			{"effects", "Its effects"},
			{"remedial-action", "The remedial action taken"},
			{"decision", "Whether the supervisory authority and the data subjects were notified, and if not why not"},
		},
		Notes: []string{
			"Every personal data breach is recorded, notifiable or not. No legal clock: the 72 h target is internal and escalates when passed.",
			"When we act only as a processor (processor_only) the controller keeps the Art. 33(5) record; keep ours all the same, with when and how each controller was told (Art. 33(2), gdpr-33-2), to show the controller and the authority.",
		},
	},
	{
		ID:         "gdpr-34",
		Title:      "Communicate the breach to the data subjects",
		Regime:     "GDPR",
		Source:     "Regulation (EU) 2016/679 (GDPR) Art. 34(1)–(3)",
		Recipient:  "Affected data subjects",
		Confidence: "V/M",
		Soft:       true,
		When:       Condition{Policy: []string{"eu_controller"}, Flags: []string{"high_risk"}, Unless: []string{"processor_only"}},
		Due:        []Term{term("72h", EventAware)},
		Limits: []string{
			"Whether an Art. 34(3) exception applies (encryption, later measures, disproportionate effort): the risk assessment weighs encryption; the others are a DPO decision.",
		},
		Content: []ContentItem{
			{"34-2-nature", "Art. 34(2): the nature of the personal data breach, in clear and plain language"},
			{"33-3-b", "Art. 33(3)(b): the name and contact details of the data protection officer or other contact point"},
			{"33-3-c", "Art. 33(3)(c): the likely consequences of the personal data breach"},
			{"33-3-d", "Art. 33(3)(d): the measures taken or proposed to address the breach, including measures to mitigate its possible adverse effects"},
		},
		Notes: []string{
			"Without undue delay once the breach is likely to result in a high risk to the rights and freedoms of natural persons. No legal clock: the 72 h target (from awareness) is internal and escalates when passed.",
			"Art. 34(3): not required if the data was rendered unintelligible (e.g. encrypted), if subsequent measures mean the high risk is no longer likely to materialise, or if it would involve disproportionate effort (a public communication is then used instead).",
			"The controller's duty: not ours when we act only as a processor (processor_only); tell the controller about the high risk in the notice to it (gdpr-33-2) instead.",
		},
	},
	{
		ID:         "uk-gdpr-33",
		Title:      "Notify the ICO of a personal data breach (UK GDPR)",
		Regime:     "UK GDPR",
		Source:     "UK GDPR Art. 33(1), (3), (4) (Regulation (EU) 2016/679 as retained in UK law, with the Data Protection Act 2018)",
		Recipient:  "The Information Commissioner's Office (ICO)",
		Confidence: "S",
		Authority:  true,
		When:       Condition{Policy: []string{"uk_controller"}, Flags: []string{"personal_data_breach", "uk_breach"}, Unless: []string{"unlikely_risk", "processor_only"}},
		Due:        []Term{term("72h", EventAware)},
		Limits: []string{
			"Whether people in the UK are affected: the risk assessment's uk_people answer.",
			"ICO practice where it differs from the EDPB's examples.",
		},
		Content: gdprContent,
		IfLate:  "UK GDPR Art. 33(1): a notification made after 72 hours must be accompanied by the reasons for the delay.",
		Notes: []string{
			"Without undue delay and, where feasible, not later than 72 hours after becoming aware, unless the breach is unlikely to result in a risk to people.",
			"A notice of its own: the ICO is not part of the EU one-stop shop, so a breach that affects people in the UK and in the EU goes to the ICO and to the EU authority (gdpr-33).",
			"The same risk assessment decides both: the EDPB's reasoning is widely followed by the ICO, but check the ICO's own guidance for borderline cases.",
		},
	},
	{
		ID:         "uk-gdpr-34",
		Title:      "Communicate the breach to the data subjects (UK GDPR)",
		Regime:     "UK GDPR",
		Source:     "UK GDPR Art. 34(1)–(3)",
		Recipient:  "Affected data subjects in the United Kingdom",
		Confidence: "S",
		Soft:       true,
		When:       Condition{Policy: []string{"uk_controller"}, Flags: []string{"high_risk", "uk_breach"}, Unless: []string{"processor_only"}},
		Due:        []Term{term("72h", EventAware)},
		Limits: []string{
			"As uk-gdpr-33, and the Art. 34(3) exceptions as for gdpr-34.",
		},
		Content: []ContentItem{
			{"34-2-nature", "Art. 34(2): the nature of the personal data breach, in clear and plain language"},
			{"33-3-b", "Art. 33(3)(b): the name and contact details of the data protection officer or other contact point"},
			{"33-3-c", "Art. 33(3)(c): the likely consequences of the personal data breach"},
			{"33-3-d", "Art. 33(3)(d): the measures taken or proposed to address the breach, including measures to mitigate its possible adverse effects"},
		},
		Notes: []string{"Without undue delay when the breach is likely to result in a high risk; the same exceptions as the EU GDPR (Art. 34(3)). No legal clock: the 72 h target is internal."},
	},
	{
		ID:         "nis2-early-warning",
		Title:      "NIS2 early warning of a significant incident",
		Regime:     "NIS2",
		Source:     "Directive (EU) 2022/2555 (NIS2) Art. 23(4)(a)",
		Recipient:  "CSIRT or competent authority",
		Confidence: "V",
		Authority:  true,
		When:       flags("nis2_entity", "nis2_significant"),
		Or:         nis2MSP,
		Due:        []Term{term("24h", EventAware)},
		Limits: []string{
			"Whether the incident is significant: the runbook's rules (Art. 23(3)) or, for managed service providers, the 2024/2690 criteria decide.",
			"National transpositions may shorten or add reports; sector rules are not covered.",
		},
		Content: []ContentItem{
			{"23-4-a-unlawful", "Whether the significant incident is suspected of being caused by unlawful or malicious acts"},
			{"23-4-a-cross-border", "Whether it could have a cross-border impact"},
		},
		Notes: []string{"Without undue delay and in any event within 24 hours of becoming aware of the significant incident."},
	},
	{
		ID:         "nis2-notification",
		Title:      "NIS2 incident notification",
		Regime:     "NIS2",
		Source:     "Directive (EU) 2022/2555 (NIS2) Art. 23(4)(b)",
		Recipient:  "CSIRT or competent authority",
		Confidence: "V (M for the trust service provider 24 h)",
		Authority:  true,
		When:       flags("nis2_entity", "nis2_significant"),
		Or:         nis2MSP,
		Branches: []Branch{
			{Name: "trust service provider: 24 h", When: Condition{Policy: []string{"nis2_trust_service_provider"}}, Due: []Term{term("24h", EventAware)}},
			{Name: "72 h", Due: []Term{term("72h", EventAware)}},
		},
		Limits: []string{
			"As nis2-early-warning; whether you are a qualified trust service provider (nis2_trust_service_provider).",
		},
		Content: []ContentItem{
			{"23-4-b-update", "Where applicable, an update of the information in the early warning"},
			{"23-4-b-assessment", "An initial assessment of the significant incident, including its severity and impact"},
			{"23-4-b-iocs", "Where available, the indicators of compromise"},
		},
		Notes: []string{
			"Without undue delay and in any event within 72 hours of becoming aware of the significant incident (24 hours for trust service providers).",
			"Art. 23(4)(c): an intermediate report on relevant status updates when the CSIRT or competent authority asks for one.",
		},
	},
	{
		ID:         "nis2-final-report",
		Title:      "NIS2 final report",
		Regime:     "NIS2",
		Source:     "Directive (EU) 2022/2555 (NIS2) Art. 23(4)(d), (e)",
		Recipient:  "CSIRT or competent authority",
		Confidence: "V",
		Authority:  true,
		When:       flags("nis2_entity", "nis2_significant"),
		Or:         nis2MSP,
		Due:        []Term{term("1mo", SubmittedEvent("nis2-notification"))},
		Limits: []string{
			"Whether the incident is still ongoing (Art. 23(4)(e)): then a progress report is due instead; record the final report's submission when it goes.",
		},
		Content: []ContentItem{
			{"23-4-d-i", "(i) a detailed description of the incident, including its severity and impact"},
			{"23-4-d-ii", "(ii) the type of threat or root cause that is likely to have triggered the incident"},
			{"23-4-d-iii", "(iii) applied and ongoing mitigation measures"},
			{"23-4-d-iv", "(iv) where applicable, the cross-border impact of the incident"},
		},
		Notes: []string{
			"Not later than one month after the submission of the incident notification (calendar month, not 30 days).",
			"Art. 23(4)(e): if the incident is still ongoing when the final report is due, submit a progress report then and the final report within one month of handling the incident.",
		},
	},
	{
		ID:         "nis2-recipients",
		Title:      "Tell the recipients of our services of a significant incident",
		Regime:     "NIS2",
		Source:     "Directive (EU) 2022/2555 (NIS2) Art. 23(1), (2)",
		Recipient:  "Recipients of our services whose service the incident is likely to affect",
		Confidence: "V (\"where appropriate\" is a judgement)",
		Soft:       true,
		Pausable:   true,
		When:       flags("nis2_entity", "nis2_significant"),
		Or:         nis2MSP,
		Due:        []Term{{Anchors: []string{EventAware}, Offset: MustParseOffset(DefaultCustomerNoticeTarget), OffsetFrom: "customer_notice_target"}},
		Limits: []string{
			"Whether informing recipients is \"appropriate\" and which recipients are affected: a judgement.",
		},
		Content: []ContentItem{
			{"23-1-incident", "Art. 23(1): the significant incident and how it is likely to affect the service they receive"},
			{"23-2-measures", "Art. 23(2): measures or remedies the recipients can take themselves in response"},
		},
		Notes: []string{
			"Art. 23(1): where appropriate, notify without undue delay the recipients of our services of significant incidents that are likely to adversely affect the provision of those services. No legal clock: the internal target is the policy's customer_notice_target.",
			"Art. 23(2): recipients potentially affected by a significant cyber threat are told of the measures or remedies they can take, and where appropriate of the threat itself.",
			"For a managed (security) service provider the customers are the recipients: the customer notice (customer-notice) can serve both when it carries these items.",
		},
	},
	{
		ID:         "dora-initial",
		Title:      "DORA initial notification of a major ICT-related incident",
		Regime:     "DORA",
		Source:     "Regulation (EU) 2022/2554 (DORA) Art. 19(4)(a); Commission Delegated Regulation (EU) 2025/301 Art. 5(1)(a), (2), (4)–(6)",
		Recipient:  "Competent authority (DORA Art. 46)",
		Confidence: "S",
		Authority:  true,
		Relief:     doraRelief("dora_relief_initial"),
		When:       flags("dora_financial_entity", "dora_major"),
		Due: []Term{
			term("4h", EventClassifiedMajor, EventClassified),
			{Anchors: []string{EventAware}, Offset: MustParseOffset("24h"), IgnoreIfBefore: []string{EventClassifiedMajor, EventClassified}},
		},
		Limits: []string{
			"When the incident was classified as major: record it (classified-major); without it the declaration counts.",
			"Bank holidays other than the member_state calendar's (regional holidays, TARGET closing days) unless configured.",
			"Whether your competent authority excluded you from the relief (dora_relief_excluded).",
		},
		Content: []ContentItem{
			{"template", "The initial notification template of Commission Implementing Regulation (EU) 2025/302 (general information about the entity and contacts, when the incident was detected and classified as major, a description of the incident, the classification criteria met, and the impact known so far)"},
		},
		Notes: []string{
			"Art. 5(1)(a): within 4 hours of classification as major, and no later than 24 hours after becoming aware of the incident: the earlier of the two.",
			"Art. 5(2): an incident classified as major more than 24 hours after awareness is due 4 hours after the classification. Record the classification with `irtui incident anchor ID classified-major`; until then the declaration counts as the classification.",
			"Art. 5(3): if a report cannot be made in time, inform the competent authority before the deadline, with the reasons.",
			"Art. 5(4)–(6): a deadline on a weekend day or a bank holiday of the member_state may be met by 12:00 on the next working day, but not for the initial and intermediate reports of credit institutions, central counterparties, trading venues and NIS2 essential or important entities, nor by an entity its authority excluded.",
		},
	},
	{
		ID:         "dora-intermediate",
		Title:      "DORA intermediate report",
		Regime:     "DORA",
		Source:     "Regulation (EU) 2022/2554 (DORA) Art. 19(4)(b); Commission Delegated Regulation (EU) 2025/301 Art. 5(1)(b), (4), (5)",
		Recipient:  "Competent authority (DORA Art. 46)",
		Confidence: "V",
		Authority:  true,
		Relief:     doraRelief("dora_relief_initial"),
		When:       flags("dora_financial_entity", "dora_major"),
		Due:        []Term{term("72h", SubmittedEvent("dora-initial"))},
		Limits: []string{
			"Later updates of the intermediate report (record submitted:dora-intermediate at the latest one).",
			"The same calendar limits as dora-initial.",
		},
		Content: []ContentItem{
			{"template", "The intermediate report template of Commission Implementing Regulation (EU) 2025/302: the updated status of the incident and its impact, even if nothing has changed"},
		},
		Notes: []string{
			"Within 72 hours of the submission of the initial notification, even if the status has not changed.",
			"Update it without undue delay when the status changes significantly, and in any case when regular activities have been recovered.",
			"Art. 5(4), (5): weekend and holiday relief (12:00 on the next working day) as for the initial notification.",
		},
	},
	{
		ID:         "dora-final",
		Title:      "DORA final report",
		Regime:     "DORA",
		Source:     "Regulation (EU) 2022/2554 (DORA) Art. 19(4)(c); Commission Delegated Regulation (EU) 2025/301 Art. 5(1)(c), (4), (6)",
		Recipient:  "Competent authority (DORA Art. 46)",
		Confidence: "V",
		Authority:  true,
		Relief:     doraRelief("dora_relief_final"),
		When:       flags("dora_financial_entity", "dora_major"),
		Due:        []Term{term("1mo", SubmittedEvent("dora-intermediate"))},
		Limits: []string{
			"The same calendar limits as dora-initial.",
		},
		Content: []ContentItem{
			{"template", "The final report template of Commission Implementing Regulation (EU) 2025/302: root cause analysis, the actual impact, and the measures taken"},
		},
		Notes: []string{
			"Not later than one calendar month after the intermediate report or, if it was updated, the latest update: record submitted:dora-intermediate at the latest update.",
			"Art. 5(4), (6): a deadline on a weekend day or bank holiday may be met by 12:00 on the next working day, for every kind of financial entity unless its authority excluded it.",
		},
	},
	{
		ID:         "sec-8k-1.05",
		Title:      "SEC Form 8-K Item 1.05 (material cybersecurity incident)",
		Regime:     "SEC",
		Source:     "SEC Form 8-K Item 1.05 and General Instruction B.1 (Release 33-11216); Regulation S-T Rule 13(a)(4) (17 CFR 232.13) and Rule 11 (business day)",
		Recipient:  "SEC (public filing on EDGAR)",
		Confidence: "V/S",
		Pausable:   true,
		Zone:       "America/New_York",
		Calendar:   "US",
		Authority:  true,
		When:       flags("sec_registrant", "sec_material"),
		Due:        []Term{{Anchors: []string{EventDetermined, EventClassified}, Offset: MustParseOffset("4bd"), Cutoff: "17:30"}},
		Limits: []string{
			"When materiality was determined: record it (materiality-determined); the determination itself must be made without unreasonable delay, which irtui cannot judge.",
			"Unscheduled EDGAR closures (a national day of mourning): add them under calendars.US.add.",
			"A filing is timely by its EDGAR acceptance, which depends on the filer's agent and EDGAR itself.",
		},
		Content: []ContentItem{
			{"1-05-nature", "The material aspects of the nature of the incident"},
			{"1-05-scope", "The material aspects of the scope of the incident"},
			{"1-05-timing", "The material aspects of the timing of the incident"},
			{"1-05-impact", "The material impact or reasonably likely material impact on the registrant, including its financial condition and results of operations"},
		},
		Notes: []string{
			"Four business days after determining that the incident is material; the determination must be made without unreasonable delay after discovery. Record it with `irtui incident anchor ID materiality-determined --at TIME`; until then the clock runs from the declaration.",
			"Business days are counted in New York time, skipping weekends and the US federal holidays (built in, with observed days); add other EDGAR closures under calendars.US.add.",
			"EDGAR dates a filing begun after 17:30 Eastern time on the next business day (Regulation S-T Rule 13(a)(4)), so the clock ends at 17:30 on the fourth business day.",
			"Item 1.05(c): the filing may be delayed when the US Attorney General finds that disclosure poses a substantial risk to national security or public safety (30 days, extendable): record it as a pause.",
			"File an 8-K/A for information that was not determined or was unavailable at the time of the first filing.",
			"Immaterial incidents, or those whose materiality is not yet determined, may be disclosed under Item 8.01 instead.",
		},
	},
	{
		ID:         "hipaa-individuals",
		Title:      "HIPAA breach notice to the affected individuals",
		Regime:     "HIPAA",
		Source:     "45 CFR 164.404",
		Recipient:  "Affected individuals",
		Confidence: "V (content S/M)",
		Pausable:   true,
		When:       flags("hipaa_covered_entity", "phi_breach"),
		Due:        []Term{term("60d", EventDiscovered, EventAware)},
		Limits: []string{
			"The discovery date as HIPAA defines it (known or should reasonably have been known): record it (discovered).",
			"Whether the PHI was secured per HHS guidance, and the four-factor low-probability assessment of 164.402(2).",
		},
		Content: hipaaIndividualContent,
		Notes: []string{
			"Without unreasonable delay and in no case later than 60 calendar days after discovery (the first day the breach is known, or would have been known with reasonable diligence).",
			"164.404(d): first-class mail, or e-mail if the individual agreed; substitute notice when contact information is insufficient.",
			"164.412: a law-enforcement delay is recorded as a pause.",
		},
	},
	{
		ID:         "hipaa-hhs",
		Title:      "HIPAA breach notice to the HHS Secretary",
		Regime:     "HIPAA",
		Source:     "45 CFR 164.408(b), (c)",
		Recipient:  "Secretary of HHS (OCR breach portal)",
		Confidence: "V",
		Pausable:   true,
		Authority:  true,
		When:       flags("hipaa_covered_entity", "phi_breach"),
		Branches: []Branch{
			{
				Name: "500 or more individuals: contemporaneously with the individual notice",
				When: Condition{Facts: []Threshold{{Facts: []string{"affected_people"}, Op: GE, Value: 500, IfUnknown: true}}},
				Due:  []Term{term("60d", EventDiscovered, EventAware)},
			},
			{
				Name: "fewer than 500 individuals: annual log, 60 days after the end of the calendar year",
				When: Condition{Facts: []Threshold{{Facts: []string{"affected_people"}, Op: LT, Value: 500}}},
				Due:  []Term{{Anchors: []string{EventDiscovered, EventAware}, Offset: MustParseOffset("60d"), FromYearEnd: true}},
			},
		},
		Limits: []string{
			"The count of individuals: the affected_people fact, assumed 500 or more when unknown.",
		},
		Content: []ContentItem{
			{"portal-form", "The HHS breach portal form: the covered entity and contact, the dates of breach and discovery, the number of individuals affected, the type and location of the breach, the types of PHI involved, the safeguards in place and the actions taken"},
		},
		Notes: []string{
			"500 or more individuals: notify the Secretary contemporaneously with the individual notice, and within 60 days of discovery.",
			"Fewer than 500: keep a log and report every such breach of a calendar year within 60 days after its end (1 March, or 29 February in a leap year).",
		},
	},
	{
		ID:         "hipaa-media",
		Title:      "HIPAA breach notice to prominent media outlets",
		Regime:     "HIPAA",
		Source:     "45 CFR 164.406",
		Recipient:  "Prominent media outlets serving the State or jurisdiction",
		Confidence: "S/M",
		Pausable:   true,
		When: Condition{
			Policy: []string{"hipaa_covered_entity"}, Flags: []string{"phi_breach"},
			Facts: []Threshold{{Facts: []string{"max_state_residents", "affected_people"}, Op: GT, Value: 500, IfUnknown: true}},
		},
		Due: []Term{term("60d", EventDiscovered, EventAware)},
		Limits: []string{
			"How many residents of each state: max_state_residents, assumed more than 500 when unknown.",
		},
		Content: hipaaIndividualContent,
		Notes:   []string{"When more than 500 residents of one State or jurisdiction are affected; same content as the individual notice, within 60 calendar days of discovery."},
	},
	{
		ID:         "ca-1798.82",
		Title:      "California Notice of Data Breach to affected residents",
		Regime:     "California",
		Source:     "California Civil Code §1798.82(a), (d), as amended by SB 446 (effective 1 January 2026)",
		Recipient:  "Affected California residents",
		Confidence: "V (headings S/M)",
		Pausable:   true,
		When: Condition{
			Policy: []string{"us_state:CA"},
			Facts:  []Threshold{{Facts: []string{"california_residents"}, Op: GT, Value: 0}},
		},
		Due: []Term{term("30d", EventDiscovered, EventAware)},
		Limits: []string{
			"Whether the data is personal information under 1798.82(h) and was acquired: the runbooks' california_residents fact.",
		},
		Content: []ContentItem{
			{"title", `Titled "Notice of Data Breach", written in plain language`},
			{"what-happened", `Heading "What Happened"`},
			{"what-information", `Heading "What Information Was Involved"`},
			{"what-we-are-doing", `Heading "What We Are Doing"`},
			{"what-you-can-do", `Heading "What You Can Do"`},
			{"more-information", `Heading "For More Information"`},
		},
		Notes: []string{
			"Within 30 calendar days of discovery or notification of the breach.",
			"A delay is allowed for a law-enforcement agency's request, or to determine the scope of the breach and restore the reasonable integrity of the data system: record it as a pause.",
		},
	},
	{
		ID:         "ca-ag",
		Title:      "California Attorney General sample notice",
		Regime:     "California",
		Source:     "California Civil Code §1798.82(f)",
		Recipient:  "California Attorney General",
		Confidence: "V",
		Authority:  true,
		When: Condition{
			Policy: []string{"us_state:CA"},
			Facts:  []Threshold{{Facts: []string{"california_residents"}, Op: GT, Value: 500}},
		},
		Due: []Term{term("15d", SubmittedEvent("ca-1798.82"))},
		Limits: []string{
			"The exact number notified: the california_residents fact.",
		},
		Content: []ContentItem{
			{"sample", "A sample copy of the security breach notification sent to California residents, without personally identifiable information"},
		},
		Notes: []string{"When more than 500 California residents were notified: within 15 calendar days of notifying them."},
	},
	{
		ID:                "nydfs-500.17a",
		Title:             "NYDFS cybersecurity incident notice",
		Regime:            "NYDFS",
		Source:            "23 NYCRR 500.17(a), with the definition of cybersecurity incident in 500.1(g)",
		Recipient:         "NY DFS Superintendent (DFS portal)",
		Confidence:        "V",
		Authority:         true,
		When:              flags("nydfs_covered_entity", "nydfs_reportable"),
		AlsoWhenAuthority: true,
		Due:               []Term{term("72h", EventReportable, EventClassified)},
		Limits: []string{
			"When the determination was made: record it (reportable-determined); without it the declaration counts.",
			"Authorities irtui does not track: set nydfs_reportable for them.",
		},
		Content: []ContentItem{
			{"portal-form", "The DFS portal notice of the cybersecurity incident (including incidents at affiliates and third-party service providers)"},
			{"updates", "Continuing duty: update the Superintendent on material changes or new information, and provide information the Superintendent requests"},
		},
		Notes: []string{
			"As promptly as possible but in no event later than 72 hours after determining that a reportable cybersecurity incident has occurred. Record the determination with `irtui incident anchor ID reportable-determined`; until then the clock runs from the declaration.",
			"A cybersecurity incident is one that (1) impacts the covered entity and requires it to notify any government body, self-regulatory agency or other supervisory body, (2) is reasonably likely to materially harm a material part of its normal operations, or (3) deployed ransomware within a material part of its information systems (500.1(g)).",
			"Case (1) is automatic: the notice applies, without nydfs_reportable, whenever a notice of another regime to an authority applies (GDPR Art. 33, NIS2, DORA, SEC Form 8-K, HIPAA to HHS, the California Attorney General). Set nydfs_reportable for cases (2) and (3), and for authorities irtui does not track (other US states' attorneys general, law enforcement reporting duties).",
		},
	},
	{
		ID:         "nydfs-500.17c",
		Title:      "NYDFS notice of an extortion payment",
		Regime:     "NYDFS",
		Source:     "23 NYCRR 500.17(c)(1)",
		Recipient:  "NY DFS Superintendent (DFS portal)",
		Confidence: "S",
		Authority:  true,
		When:       flags("nydfs_covered_entity", "ransom_paid"),
		Due:        []Term{term("24h", EventRansomPaid, EventAware)},
		Limits: []string{
			"When the payment was made: record it (ransom-paid); until then the clock runs from awareness, the earliest possible time, so it may show overdue early.",
		},
		Content: []ContentItem{
			{"payment", "Notice that an extortion payment was made in connection with a cybersecurity event"},
		},
		Notes: []string{
			"Within 24 hours of the extortion payment; the written description follows within 30 days (nydfs-500.17c-description).",
			"Record when the payment was made with `irtui incident anchor ID ransom-paid --at TIME`. Until then the clock runs from awareness, the earliest the payment can have been.",
		},
	},
	{
		ID:         "nydfs-500.17c-description",
		Title:      "NYDFS written description of an extortion payment",
		Regime:     "NYDFS",
		Source:     "23 NYCRR 500.17(c)(2)",
		Recipient:  "NY DFS Superintendent (DFS portal)",
		Confidence: "S",
		Authority:  true,
		When:       flags("nydfs_covered_entity", "ransom_paid"),
		Due:        []Term{term("30d", EventRansomPaid, EventAware)},
		Limits: []string{
			"As nydfs-500.17c.",
		},
		Content: []ContentItem{
			{"reasons", "The reasons the payment was necessary"},
			{"alternatives", "The alternatives to payment that were considered"},
			{"diligence-alternatives", "All diligence performed to find alternatives to payment"},
			{"diligence-compliance", "All diligence performed to ensure compliance with applicable rules and regulations, including those of OFAC (sanctions)"},
		},
		Notes: []string{"Within 30 days of the extortion payment (calendar days); until the payment time is recorded (ransom-paid), from awareness."},
	},
	{
		ID:         "cra-vuln-early-warning",
		Title:      "CRA early warning of an actively exploited vulnerability in our product",
		Regime:     "CRA",
		Source:     "Regulation (EU) 2024/2847 (Cyber Resilience Act) Art. 14(1), (2)(a); reporting applies from 11 September 2026",
		Recipient:  "The CSIRT designated as coordinator and ENISA, through the single reporting platform (Art. 16)",
		Confidence: "V",
		Authority:  true,
		When:       flags("cra_manufacturer", "cra_exploited_vulnerability"),
		Due:        []Term{term("24h", EventAware)},
		Limits: []string{
			"Whether the vulnerability is in a product with digital elements you place on the EU market and is actively exploited: the runbook's answers decide.",
		},
		Content: []ContentItem{
			{"14-2-a", "Art. 14(2)(a): an early warning of the actively exploited vulnerability, naming, where applicable, the Member States where we know the product has been made available"},
		},
		Notes: []string{"Without undue delay and in any event within 24 hours of the manufacturer becoming aware of the actively exploited vulnerability."},
	},
	{
		ID:         "cra-vuln-notification",
		Title:      "CRA vulnerability notification",
		Regime:     "CRA",
		Source:     "Regulation (EU) 2024/2847 (Cyber Resilience Act) Art. 14(2)(b)",
		Recipient:  "The CSIRT designated as coordinator and ENISA, through the single reporting platform (Art. 16)",
		Confidence: "V",
		Authority:  true,
		When:       flags("cra_manufacturer", "cra_exploited_vulnerability"),
		Due:        []Term{term("72h", EventAware)},
		Limits: []string{
			"As cra-vuln-early-warning.",
		},
		Content: []ContentItem{
			{"14-2-b-general", "General information about the product concerned, and the general nature of the exploit and of the vulnerability"},
			{"14-2-b-measures", "Corrective or mitigating measures taken, and those users can take"},
			{"14-2-b-sensitivity", "How sensitive we deem the notified information to be"},
		},
		Notes: []string{"Unless already provided, within 72 hours of becoming aware of the actively exploited vulnerability."},
	},
	{
		ID:         "cra-vuln-final",
		Title:      "CRA final report on an actively exploited vulnerability",
		Regime:     "CRA",
		Source:     "Regulation (EU) 2024/2847 (Cyber Resilience Act) Art. 14(2)(c)",
		Recipient:  "The CSIRT designated as coordinator and ENISA, through the single reporting platform (Art. 16)",
		Confidence: "V",
		Authority:  true,
		When:       flags("cra_manufacturer", "cra_exploited_vulnerability"),
		Due:        []Term{term("14d", EventMitigationAvailable)},
		Limits: []string{
			"When a corrective or mitigating measure became available: record it (mitigation-available); the clock waits until then.",
		},
		Content: []ContentItem{
			{"14-2-c-i", "(i) a description of the vulnerability, including its severity and impact"},
			{"14-2-c-ii", "(ii) where available, information about any malicious actor that exploited or is exploiting it"},
			{"14-2-c-iii", "(iii) details of the security update or other corrective measures made available to remedy it"},
		},
		Notes: []string{"No later than 14 days after a corrective or mitigating measure is available: record it with `irtui incident anchor ID mitigation-available --at TIME`; the clock waits until then."},
	},
	{
		ID:         "cra-incident-early-warning",
		Title:      "CRA early warning of a severe incident affecting the security of our product",
		Regime:     "CRA",
		Source:     "Regulation (EU) 2024/2847 (Cyber Resilience Act) Art. 14(3), (4)(a), (5)",
		Recipient:  "The CSIRT designated as coordinator and ENISA, through the single reporting platform (Art. 16)",
		Confidence: "V",
		Authority:  true,
		When:       flags("cra_manufacturer", "cra_severe_incident"),
		Due:        []Term{term("24h", EventAware)},
		Limits: []string{
			"Whether the incident is severe in the sense of Art. 14(5): the runbook's answers decide.",
		},
		Content: []ContentItem{
			{"14-4-a-unlawful", "Whether the incident is suspected of being caused by unlawful or malicious acts"},
			{"14-4-a-states", "Where applicable, the Member States where we know the product has been made available"},
		},
		Notes: []string{
			"Without undue delay and in any event within 24 hours of becoming aware of the severe incident.",
			"Art. 14(5): severe means it affects or can affect the product's ability to protect the availability, authenticity, integrity or confidentiality of sensitive or important data or functions, or it led or can lead to malicious code in the product or in users' systems.",
		},
	},
	{
		ID:         "cra-incident-notification",
		Title:      "CRA incident notification",
		Regime:     "CRA",
		Source:     "Regulation (EU) 2024/2847 (Cyber Resilience Act) Art. 14(4)(b)",
		Recipient:  "The CSIRT designated as coordinator and ENISA, through the single reporting platform (Art. 16)",
		Confidence: "V",
		Authority:  true,
		When:       flags("cra_manufacturer", "cra_severe_incident"),
		Due:        []Term{term("72h", EventAware)},
		Limits: []string{
			"As cra-incident-early-warning.",
		},
		Content: []ContentItem{
			{"14-4-b-general", "General information about the nature of the incident and an initial assessment of it"},
			{"14-4-b-measures", "Corrective or mitigating measures taken, and those users can take"},
			{"14-4-b-sensitivity", "How sensitive we deem the notified information to be"},
		},
		Notes: []string{"Unless already provided, within 72 hours of becoming aware of the severe incident."},
	},
	{
		ID:         "cra-incident-final",
		Title:      "CRA final report on a severe incident",
		Regime:     "CRA",
		Source:     "Regulation (EU) 2024/2847 (Cyber Resilience Act) Art. 14(4)(c)",
		Recipient:  "The CSIRT designated as coordinator and ENISA, through the single reporting platform (Art. 16)",
		Confidence: "V",
		Authority:  true,
		When:       flags("cra_manufacturer", "cra_severe_incident"),
		Due:        []Term{term("1mo", SubmittedEvent("cra-incident-notification"))},
		Limits: []string{
			"Whether the incident is still ongoing; record the notification's submission to start the clock.",
		},
		Content: []ContentItem{
			{"14-4-c-i", "(i) a detailed description of the incident, including its severity and impact"},
			{"14-4-c-ii", "(ii) the type of threat or root cause that is likely to have triggered it"},
			{"14-4-c-iii", "(iii) applied and ongoing mitigation measures"},
		},
		Notes: []string{"Within one month after the incident notification (calendar month)."},
	},
	{
		ID:         "cra-users",
		Title:      "Inform the product's users of the vulnerability or incident",
		Regime:     "CRA",
		Source:     "Regulation (EU) 2024/2847 (Cyber Resilience Act) Art. 14(8)",
		Recipient:  "The impacted users of the product, and where appropriate all users",
		Confidence: "V",
		Soft:       true,
		When:       flags("cra_manufacturer", "cra_exploited_vulnerability"),
		Or:         []Condition{flags("cra_manufacturer", "cra_severe_incident")},
		Due:        []Term{{Anchors: []string{EventAware}, Offset: MustParseOffset(DefaultCustomerNoticeTarget), OffsetFrom: "customer_notice_target"}},
		Limits: []string{
			"Which users are impacted; the format ENISA or the CSIRT may ask for.",
		},
		Content: []ContentItem{
			{"14-8-what", "The actively exploited vulnerability or the severe incident"},
			{"14-8-measures", "Risk mitigation and corrective measures the users can take, where necessary in a structured, machine-readable format"},
		},
		Notes: []string{"After becoming aware, in a timely manner; no legal clock, so the internal target is the policy's customer_notice_target. If we do not inform users in time, the CSIRT may do so."},
	},
	{
		ID:         "customer-notice",
		Title:      "Notify affected customers",
		Regime:     "Contract",
		Source:     "Customer contracts and data processing agreements (the policy's customer_notice_target)",
		Recipient:  "Affected customers",
		Confidence: "—",
		Soft:       true,
		Pausable:   true,
		When:       Condition{Flags: []string{"customer_data_affected"}},
		Due:        []Term{{Anchors: []string{EventAware}, Offset: MustParseOffset(DefaultCustomerNoticeTarget), OffsetFrom: "customer_notice_target"}},
		Limits: []string{
			"What each contract says: customer_notice_target is one promise for all customers.",
		},
		Content: []ContentItem{
			{"what-happened", "What happened and when"},
			{"data-affected", "Which of the customer's data and services are affected"},
			{"what-we-are-doing", "What we are doing about it"},
			{"what-you-can-do", "What the customer should do"},
			{"contact", "Whom to contact for more information"},
		},
		Notes: []string{
			"The contractual promise to notify customers without undue delay; the target escalates when passed rather than becoming overdue.",
			"Where the customer's personal data was breached and we are its processor, the legal duty of Art. 33(2) has a clock of its own (gdpr-33-2); this notice can serve both.",
		},
	},
}
