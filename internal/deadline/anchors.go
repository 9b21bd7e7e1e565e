package deadline

import (
	"slices"
	"strings"
)

// AnchorKind describes one anchor people record by command (`irtui incident
// anchor ID NAME --at TIME`): a moment a rule's clock starts from that only
// a person can know, such as the materiality determination.
type AnchorKind struct {
	// Name is what people type: "materiality-determined".
	Name string `json:"name"`
	// Event is the event the rules anchor on: "determined".
	Event string `json:"event"`
	// Title says what the moment is, in a sentence.
	Title string `json:"title"`
	// AfterAware: the moment cannot come before the organisation became
	// aware of the incident, so such a time is refused.
	AfterAware bool `json:"after_aware,omitempty"`
	// NeedsNote: recording it needs a note saying why (correcting awareness
	// moves every clock that runs from it).
	NeedsNote bool `json:"needs_note,omitempty"`
	// Sets is a flag the moment implies: a materiality determination
	// recorded is a material incident (sec_material), a ransom paid sets
	// ransom_paid. Recording the anchor sets the flag on the incident, so
	// the clock starts even if the triage answers did not say so yet.
	Sets string `json:"sets,omitempty"`
}

// AnchorKinds lists the anchors that can be recorded, in the order the
// documentation gives them.
var AnchorKinds = []AnchorKind{
	{Name: "aware", Event: EventAware, NeedsNote: true,
		Title: "when the organisation became aware of the incident (corrects the time recorded at declaration)"},
	{Name: "discovered", Event: EventDiscovered,
		Title: "when the breach was discovered: the first day it was known, or would have been known with reasonable diligence (HIPAA, California)"},
	{Name: "classified-major", Event: EventClassifiedMajor, AfterAware: true, Sets: "dora_major",
		Title: "when the incident was classified as major under DORA (RTS 2025/301 Art. 5)"},
	{Name: "materiality-determined", Event: EventDetermined, AfterAware: true, Sets: "sec_material",
		Title: "when the incident was determined to be material (SEC Form 8-K Item 1.05)"},
	{Name: "reportable-determined", Event: EventReportable, AfterAware: true, Sets: "nydfs_reportable",
		Title: "when it was determined that a reportable cybersecurity incident occurred (23 NYCRR 500.17(a))"},
	{Name: "ransom-paid", Event: EventRansomPaid, AfterAware: true, Sets: "ransom_paid",
		Title: "when an extortion payment was made (23 NYCRR 500.17(c))"},
	{Name: "mitigation-available", Event: EventMitigationAvailable,
		Title: "when a corrective or mitigating measure for the exploited vulnerability became available (CRA Art. 14(2)(c))"},
}

// AnchorByName finds an anchor by its name ("ransom-paid") or its event
// ("ransom_paid").
func AnchorByName(name string) (AnchorKind, bool) {
	name = strings.TrimSpace(name)
	for _, a := range AnchorKinds {
		if a.Name == name || a.Event == name {
			return a, true
		}
	}
	return AnchorKind{}, false
}

// AnchorNames lists the anchor names people can type.
func AnchorNames() []string {
	out := make([]string, len(AnchorKinds))
	for i, a := range AnchorKinds {
		out[i] = a.Name
	}
	return out
}

// RulesUsing lists the ids of the shipped rules whose clocks can start
// from event, as their anchor or a fallback.
func RulesUsing(event string) []string {
	var out []string
	for i := range rules {
		r := &rules[i]
		terms := slices.Clone(r.Due)
		for _, b := range r.Branches {
			terms = append(terms, b.Due...)
		}
		for _, t := range terms {
			if slices.Contains(t.Anchors, event) || slices.Contains(t.IgnoreIfBefore, event) {
				out = append(out, r.ID)
				break
			}
		}
	}
	return out
}
