package deadline

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Policy says which notification regimes apply to the organisation. It is
// read from the configuration file (YAML or JSON, snake_case keys).
type Policy struct {
	// EUController: the organisation is a GDPR controller (Art. 33, 34).
	EUController bool `yaml:"eu_controller" json:"eu_controller"`
	// NIS2Entity: an essential or important entity under NIS2 (Art. 23).
	NIS2Entity bool `yaml:"nis2_entity" json:"nis2_entity"`
	// NIS2TrustServiceProvider makes the NIS2 incident notification due in
	// 24 h instead of 72 h. Requires NIS2Entity.
	NIS2TrustServiceProvider bool `yaml:"nis2_trust_service_provider" json:"nis2_trust_service_provider"`
	// DORAFinancialEntity: a financial entity under DORA (Art. 19).
	DORAFinancialEntity bool `yaml:"dora_financial_entity" json:"dora_financial_entity"`
	// SECRegistrant: files with the US SEC (Form 8-K Item 1.05).
	SECRegistrant bool `yaml:"sec_registrant" json:"sec_registrant"`
	// HIPAACoveredEntity: a HIPAA covered entity (45 CFR 164.404–408).
	HIPAACoveredEntity bool `yaml:"hipaa_covered_entity" json:"hipaa_covered_entity"`
	// USStates lists the two-letter codes of the US states whose breach
	// laws the organisation tracks. Rules ship for "CA" only.
	USStates []string `yaml:"us_states" json:"us_states"`
	// NYDFSCoveredEntity: covered by 23 NYCRR 500 (NY DFS).
	NYDFSCoveredEntity bool `yaml:"nydfs_covered_entity" json:"nydfs_covered_entity"`
	// CustomerNoticeTarget is the contractual promise to notify affected
	// customers "without undue delay", as an offset from awareness ("24h"
	// when empty).
	CustomerNoticeTarget string `yaml:"customer_notice_target" json:"customer_notice_target"`
	// TimeZone is the IANA zone clocks are kept in (UTC when empty). The
	// SEC rule always uses America/New_York.
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// Holidays are extra non-business days (YYYY-MM-DD) of the US (EDGAR)
	// calendar, such as a national day of mourning; the US federal
	// holidays themselves are built in. Kept for compatibility: the same
	// as calendars.US.add.
	Holidays []string `yaml:"holidays" json:"holidays"`

	// GDPRProcessor: the organisation processes personal data for its
	// customers as a GDPR processor, so it must tell each controller of a
	// breach of that data without undue delay (Art. 33(2),
	// gdpr-33-2). On by default.
	GDPRProcessor bool `yaml:"gdpr_processor" json:"gdpr_processor"`
	// ProcessorNoticeTarget is the time the data processing agreements
	// give us to tell a controller of a breach of its data ("24h" when
	// empty); gdpr-33-2 is due then.
	ProcessorNoticeTarget string `yaml:"processor_notice_target" json:"processor_notice_target"`
	// UKController: a controller under the UK GDPR, which notifies the
	// ICO separately from any EU authority (uk-gdpr-33, uk-gdpr-34).
	UKController bool `yaml:"uk_controller" json:"uk_controller"`
	// NIS2ManagedServiceProvider: a managed service provider or managed
	// security service provider, whose significant incidents are defined
	// by Implementing Regulation (EU) 2024/2690 (flag nis2_msp_significant).
	// Requires NIS2Entity.
	NIS2ManagedServiceProvider bool `yaml:"nis2_managed_service_provider" json:"nis2_managed_service_provider"`
	// CRAManufacturer: a manufacturer of products with digital elements
	// under the Cyber Resilience Act, Regulation (EU) 2024/2847 (Art. 14
	// reporting).
	CRAManufacturer bool `yaml:"cra_manufacturer" json:"cra_manufacturer"`
	// MemberState is the two-letter code of the EU Member State whose bank
	// holidays count for DORA's weekend and holiday relief (RTS 2025/301
	// Art. 5(4)), such as "NL".
	MemberState string `yaml:"member_state" json:"member_state"`
	// DORAEntityKind is credit_institution, central_counterparty,
	// trading_venue or other: the first three (and NIS2 essential or
	// important entities) get no weekend relief for the initial and
	// intermediate reports (RTS 2025/301 Art. 5(5)). Empty means other.
	DORAEntityKind string `yaml:"dora_entity_kind" json:"dora_entity_kind"`
	// DORAReliefExcluded: the competent authority excluded the entity
	// from the weekend and holiday relief altogether (Art. 5(6)).
	DORAReliefExcluded bool `yaml:"dora_relief_excluded" json:"dora_relief_excluded"`
	// Calendars adjust the built-in holiday calendars ("US", "NL") or
	// define one for a place irtui has none for, by its two-letter code.
	Calendars map[string]CalendarChange `yaml:"calendars" json:"calendars"`
}

// CalendarChange adds days to a holiday calendar or removes days from it,
// all written YYYY-MM-DD.
type CalendarChange struct {
	Add    []string `yaml:"add" json:"add"`
	Remove []string `yaml:"remove" json:"remove"`
}

// DORA entity kinds (RTS 2025/301 Art. 5(5)).
const (
	DORACreditInstitution   = "credit_institution"
	DORACentralCounterparty = "central_counterparty"
	DORATradingVenue        = "trading_venue"
	DORAOther               = "other"
)

// DefaultCustomerNoticeTarget is the customer notice target of a policy
// that does not set one.
const DefaultCustomerNoticeTarget = "24h"

// DefaultPolicy is an EU GDPR controller that promises customers notice
// within 24 hours and keeps its clocks in UTC.
func DefaultPolicy() Policy {
	return Policy{EUController: true, GDPRProcessor: true, CustomerNoticeTarget: DefaultCustomerNoticeTarget,
		ProcessorNoticeTarget: DefaultCustomerNoticeTarget, TimeZone: "UTC"}
}

// Validate reports every problem with the policy, one per line, each
// naming its key.
func (p Policy) Validate() error {
	var errs []error
	if _, err := loadZone(p.TimeZone); err != nil {
		errs = append(errs, fmt.Errorf("time_zone: %w", err))
	}
	for key, target := range map[string]string{"customer_notice_target": p.CustomerNoticeTarget,
		"processor_notice_target": p.ProcessorNoticeTarget} {
		if target == "" {
			continue
		}
		o, err := ParseOffset(target)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		case o.N == 0:
			errs = append(errs, fmt.Errorf("%s: %q must be longer than zero", key, target))
		}
	}
	for _, h := range p.Holidays {
		if err := checkDate(h); err != nil {
			errs = append(errs, fmt.Errorf("holidays: %w", err))
		}
	}
	if p.MemberState != "" && !upperCode(p.MemberState) {
		errs = append(errs, fmt.Errorf("member_state: %q is not a two-letter upper-case country code such as NL", p.MemberState))
	}
	switch p.DORAEntityKind {
	case "", DORACreditInstitution, DORACentralCounterparty, DORATradingVenue, DORAOther:
	default:
		errs = append(errs, fmt.Errorf("dora_entity_kind: %q is not one of %s, %s, %s, %s", p.DORAEntityKind,
			DORACreditInstitution, DORACentralCounterparty, DORATradingVenue, DORAOther))
	}
	for _, id := range slices.Sorted(maps.Keys(p.Calendars)) {
		ch := p.Calendars[id]
		if !upperCode(id) {
			errs = append(errs, fmt.Errorf("calendars: %q is not a two-letter upper-case code such as US or NL", id))
		}
		for _, h := range append(slices.Clone(ch.Add), ch.Remove...) {
			if err := checkDate(h); err != nil {
				errs = append(errs, fmt.Errorf("calendars.%s: %w", id, err))
			}
		}
		if _, builtin := holidayCalendars[id]; !builtin && len(ch.Remove) > 0 {
			errs = append(errs, fmt.Errorf("calendars.%s: remove applies only to a built-in calendar (%s)", id,
				strings.Join(HolidayCalendarIDs(), ", ")))
		}
	}
	if p.NIS2ManagedServiceProvider && !p.NIS2Entity {
		errs = append(errs, errors.New("nis2_managed_service_provider: needs nis2_entity: true"))
	}
	for _, s := range p.USStates {
		if !upperCode(s) {
			errs = append(errs, fmt.Errorf("us_states: %q is not a two-letter upper-case state code such as CA", s))
		} else if !IsUSState(s) {
			errs = append(errs, fmt.Errorf("us_states: %q is not the code of a US state, DC or a territory", s))
		}
	}
	if p.NIS2TrustServiceProvider && !p.NIS2Entity {
		errs = append(errs, errors.New("nis2_trust_service_provider: needs nis2_entity: true"))
	}
	return errors.Join(errs...)
}

// usStates are the USPS codes of the 50 states, the District of Columbia
// and the territories with breach notification laws of their own (Puerto
// Rico, Guam, the US Virgin Islands) or that may get one (American Samoa,
// the Northern Mariana Islands).
var usStates = []string{
	"AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
	"LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
	"OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
	"DC", "PR", "GU", "VI", "AS", "MP",
}

// IsUSState reports whether code is the two-letter code of a US state,
// DC or a territory (us_states accepts these; rules ship for CA only).
func IsUSState(code string) bool { return slices.Contains(usStates, code) }

func upperCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// Location returns the policy's time zone, UTC if it is empty or unknown.
func (p Policy) Location() *time.Location {
	loc, err := loadZone(p.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Calendar returns the policy's calendar: its time zone and no holidays,
// with a Saturday–Sunday weekend. Rules that count business or working
// days use HolidayCalendar.
func (p Policy) Calendar() Calendar {
	return Calendar{Location: p.Location()}
}

// HolidayCalendar returns the calendar of the place id ("US", "NL", or
// "member_state" for the policy's MemberState) in loc: the built-in days,
// if irtui has them, with the configuration's additions and removals (and,
// for "US", the legacy holidays list).
func (p Policy) HolidayCalendar(id string, loc *time.Location) Calendar {
	if id == CalendarMemberState {
		id = p.MemberState
	}
	c := Calendar{Location: loc}
	if id == "" {
		return c
	}
	c.Builtin = holidayCalendars[id]
	ch := p.Calendars[id]
	c.Holidays = ch.Add
	if id == "US" && len(p.Holidays) > 0 {
		c.Holidays = append(slices.Clone(p.Holidays), ch.Add...)
	}
	c.Removed = ch.Remove
	return c
}

// CalendarMemberState names the calendar of the policy's member_state.
const CalendarMemberState = "member_state"

// On reports whether a policy switch is on: a snake_case boolean key such
// as "nis2_entity", or "us_state:CA" for a state listed in us_states.
// Unknown switches are off.
func (p Policy) On(key string) bool {
	switch key {
	case "eu_controller":
		return p.EUController
	case "nis2_entity":
		return p.NIS2Entity
	case "nis2_trust_service_provider":
		return p.NIS2Entity && p.NIS2TrustServiceProvider
	case "dora_financial_entity":
		return p.DORAFinancialEntity
	case "sec_registrant":
		return p.SECRegistrant
	case "hipaa_covered_entity":
		return p.HIPAACoveredEntity
	case "nydfs_covered_entity":
		return p.NYDFSCoveredEntity
	case "gdpr_processor":
		return p.GDPRProcessor
	case "uk_controller":
		return p.UKController
	case "nis2_managed_service_provider":
		return p.NIS2Entity && p.NIS2ManagedServiceProvider
	case "cra_manufacturer":
		return p.CRAManufacturer
	case "dora_relief_initial":
		// RTS 2025/301 Art. 5(5): no relief for the initial and intermediate
		// reports of credit institutions, central counterparties, trading
		// venues and NIS2 essential or important entities; Art. 5(6): none
		// at all for an entity its authority excluded.
		return !p.DORAReliefExcluded && !p.NIS2Entity &&
			(p.DORAEntityKind == "" || p.DORAEntityKind == DORAOther)
	case "dora_relief_final":
		return !p.DORAReliefExcluded
	}
	if st, ok := strings.CutPrefix(key, "us_state:"); ok {
		return slices.Contains(p.USStates, st)
	}
	return false
}

// PolicySwitches are the boolean policy switches On knows, besides
// "us_state:XX".
var PolicySwitches = []string{"eu_controller", "gdpr_processor", "uk_controller", "nis2_entity",
	"nis2_trust_service_provider", "nis2_managed_service_provider", "dora_financial_entity", "dora_relief_initial",
	"dora_relief_final", "sec_registrant", "hipaa_covered_entity", "nydfs_covered_entity", "cra_manufacturer"}

// IsPolicySwitch reports whether key is a switch On knows.
func IsPolicySwitch(key string) bool {
	if st, ok := strings.CutPrefix(key, "us_state:"); ok {
		return upperCode(st)
	}
	return slices.Contains(PolicySwitches, key)
}

// Rules returns the shipped rules that can apply under the policy (those
// whose policy switches are on), whatever the incident.
func (p Policy) Rules() []Rule {
	var out []Rule
	for i := range rules {
		if p.allOn(rules[i].When.Policy) {
			out = append(out, cloneRule(rules[i]))
		}
	}
	return out
}

// AllOn reports whether every switch in keys is on (see On).
func (p Policy) AllOn(keys []string) bool { return p.allOn(keys) }

func (p Policy) allOn(keys []string) bool {
	for _, k := range keys {
		if !p.On(k) {
			return false
		}
	}
	return true
}

// Obligations evaluates every shipped rule for one incident and returns the
// obligations that apply, sorted by due time; waiting ones (no due time
// yet) come last, and ties keep the rules' order. An input that is not an
// incident has none. The policy should have passed Validate: an unknown
// time zone counts as UTC and a bad customer_notice_target as 24h.
func (p Policy) Obligations(in Input) []Obligation {
	if !in.Incident {
		return nil
	}
	var implied map[string]string
	in.Events, implied = metBy(in.Events)
	e := env{policy: &p, in: &in, cal: p.Calendar(), customerTarget: MustParseOffset(DefaultCustomerNoticeTarget),
		metBy: implied}
	if o, err := ParseOffset(p.CustomerNoticeTarget); err == nil && o.N > 0 {
		e.customerTarget = o
	}
	e.processorTarget = e.customerTarget
	if o, err := ParseOffset(p.ProcessorNoticeTarget); err == nil && o.N > 0 {
		e.processorTarget = o
	}
	// First every rule on its own condition, then the rules that also
	// follow other regimes' authority notices (Rule.AlsoWhenAuthority).
	// Only the obligations that apply are kept, with their rule's index,
	// and they are ordered by index, not moved: an Obligation is large.
	own := make([]bool, len(rules))
	found, at := make([]Obligation, 0, len(rules)), make([]int, 0, len(rules))
	for i := range rules {
		o, ok := e.evaluate(&rules[i], nil)
		if own[i] = ok; ok {
			found, at = append(found, o), append(at, i)
		}
	}
	for i := range rules {
		r := &rules[i]
		if own[i] || !r.AlsoWhenAuthority {
			continue
		}
		var via []string
		for j := range rules {
			if own[j] && rules[j].Authority && !rules[j].Soft && rules[j].Regime != r.Regime {
				via = append(via, rules[j].ID)
			}
		}
		if len(via) > 0 {
			if o, ok := e.evaluate(r, via); ok {
				found, at = append(found, o), append(at, i)
			}
		}
	}
	order := make([]int, len(found))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(x, y int) int {
		a, b := &found[x], &found[y]
		az, bz := a.Due.IsZero(), b.Due.IsZero()
		switch {
		case az && !bz:
			return 1
		case bz && !az:
			return -1
		case !az:
			if c := a.Due.Compare(b.Due); c != 0 {
				return c
			}
		}
		return at[x] - at[y] // ties keep the rules' order
	})
	// Put found in that order in place, one cycle of the permutation at a
	// time: found[k] becomes the old found[order[k]].
	for k := range order {
		if order[k] < 0 {
			continue
		}
		tmp, j := found[k], k
		for {
			next := order[j]
			order[j] = -1
			if next == k {
				found[j] = tmp
				break
			}
			found[j], j = found[next], next
		}
	}
	out := found
	return out
}

// metBy returns events with the submissions that rules' MetBy imply (a
// chained rule such as gdpr-33-2-controller then starts from them too); the
// caller's map is not changed.
// implied maps each rule met that way to the rule whose submission met it.
func metBy(events map[string]time.Time) (out map[string]time.Time, implied map[string]string) {
	for i := range rules {
		r := &rules[i]
		if _, own := events[SubmittedEvent(r.ID)]; own {
			continue
		}
		for _, other := range r.MetBy {
			if t, ok := events[SubmittedEvent(other)]; ok && !t.IsZero() {
				if out == nil {
					out, implied = maps.Clone(events), map[string]string{}
				}
				out[SubmittedEvent(r.ID)] = t
				implied[r.ID] = other
				break
			}
		}
	}
	if out == nil {
		return events, nil
	}
	return out, implied
}

// env is one evaluation: a policy and an incident.
type env struct {
	policy          *Policy
	in              *Input
	cal             Calendar
	customerTarget  Offset
	processorTarget Offset
	metBy           map[string]string // rule -> the rule whose submission met it
}

// calendar is the calendar a rule's clock is kept in: its zone (the
// policy's unless the rule names one) and, for rules that count business
// days, its holiday calendar.
func (e *env) calendar(r *Rule) Calendar {
	c := e.cal
	if r.Zone != "" {
		if loc, err := loadZone(r.Zone); err == nil {
			c.Location = loc
		}
	}
	if r.Calendar != "" {
		c = e.policy.HolidayCalendar(r.Calendar, c.Location)
	}
	return c
}

// holdsAny reports whether the rule's condition, or one of its Or
// conditions, holds.
func (e *env) holdsAny(r *Rule, notes *[]string) bool {
	if e.holds(&r.When, notes) {
		return true
	}
	for i := range r.Or {
		var n []string
		if e.holds(&r.Or[i], &n) {
			*notes = append(*notes, n...)
			return true
		}
	}
	return false
}

// holds reports whether c holds for the incident, appending to notes the
// assumptions it made about unknown facts.
func (e *env) holds(c *Condition, notes *[]string) bool {
	if !e.policy.allOn(c.Policy) {
		return false
	}
	for _, f := range c.Flags {
		if !e.in.Flags[f] {
			return false
		}
	}
	for _, f := range c.Unless {
		if e.in.Flags[f] {
			return false
		}
	}
	for _, t := range c.Facts {
		known := false
		for i, name := range t.Facts {
			v, ok := e.in.Facts[name]
			if !ok {
				continue
			}
			if !t.holds(v) {
				return false
			}
			if i > 0 {
				*notes = append(*notes, fmt.Sprintf("%s is not known: using %s", t.Facts[0], name))
			}
			known = true
			break
		}
		if !known {
			if !t.IfUnknown {
				return false
			}
			*notes = append(*notes, fmt.Sprintf("%s is not known: assumed %s %s (worst case)",
				strings.Join(t.Facts, " / "), t.Op, formatNumber(t.Value)))
		}
	}
	return true
}

func formatNumber(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

var zones sync.Map // name → *time.Location

// loadZone loads an IANA time zone, caching it; "" is UTC. "Local" is
// refused: a policy must name its zone.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, errors.New(`"Local" is not allowed: name an IANA zone such as Europe/Amsterdam`)
	}
	if v, ok := zones.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use an IANA name such as Europe/Amsterdam", name)
	}
	zones.Store(name, loc)
	return loc, nil
}
