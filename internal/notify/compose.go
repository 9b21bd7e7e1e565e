package notify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/irtui/irtui/internal/classify"
	"github.com/irtui/irtui/internal/config"
	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/runbook"
	"github.com/irtui/irtui/internal/safetext"
	"github.com/irtui/irtui/internal/store"
)

// placeholderMarks are text that stands in for something still to be
// written: a notice holding any of them is not approved.
var placeholderMarks = []string{
	"[to be filled in", "<no value>", "{{", "}}", "[insert", "<insert", "lorem ipsum", "Lorem ipsum", "(set org.",
}

// placeholderWords are markers people type for text still to come, as
// whole words in capitals.
var placeholderWords = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\b(TODO|TBD|TBC|FIXME)\b`) })

// Placeholders lists the placeholder text a notice holds, in its subject,
// body or content: quoted, for the refusal and the screen.
func Placeholders(n store.Notification) []string {
	var found []string
	seen := map[string]bool{}
	look := func(where, text string) {
		for _, m := range placeholderMarks {
			if m == "[to be filled in" && !strings.HasPrefix(where, `"`) {
				continue // an empty required field: missing() says which
			}
			if i := strings.Index(text, m); i >= 0 && !seen[where] {
				seen[where] = true
				found = append(found, fmt.Sprintf("%s holds %q", where, excerpt(text, i, len(m))))
			}
		}
		if loc := placeholderWords().FindStringIndex(text); loc != nil && !seen[where] {
			seen[where] = true
			found = append(found, fmt.Sprintf("%s holds %q", where, excerpt(text, loc[0], loc[1]-loc[0])))
		}
	}
	for _, f := range n.Fields {
		look(fmt.Sprintf("%q", f.Label), n.Content[f.ID])
	}
	if len(found) == 0 {
		look("the subject", n.Subject)
		look("the text", n.Body)
	}
	return found
}

// excerpt is the text around a match, on one line.
func excerpt(text string, i, n int) string {
	start, end := max(i-20, 0), min(i+n+30, len(text))
	for start > 0 && !isBoundary(text, start) {
		start--
	}
	for end < len(text) && !isBoundary(text, end) {
		end++
	}
	s := strings.Join(strings.Fields(text[start:end]), " ")
	if start > 0 {
		s = "…" + s
	}
	if end < len(text) {
		s += "…"
	}
	return safetext.Line(s)
}

func isBoundary(s string, i int) bool { return i <= 0 || i >= len(s) || s[i]&0xC0 != 0x80 }

var orgField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\.Org\.(\w+)`) })

// OrgProblems says which organisation details a notice's template uses
// that are not configured, and where to set them: a notice must not go out
// signed "Your organisation" or pointing at "the data protection officer
// (set org.dpo_contact in the configuration)".
func OrgProblems(t store.NoticeTemplate, org config.Org) []string {
	def := config.Default().Org
	var out []string
	seen := map[string]bool{}
	for _, m := range orgField().FindAllStringSubmatch(t.Subject+"\n"+t.Body, -1) {
		if seen[m[1]] {
			continue
		}
		seen[m[1]] = true
		var key, value, dflt, what string
		switch m[1] {
		case "Name":
			key, value, dflt, what = "org.name", org.Name, def.Name, "the organisation's name"
		case "DPOContact":
			key, value, dflt, what = "org.dpo_contact", org.DPOContact, def.DPOContact, "the data protection officer's contact"
		case "Contact":
			key, value, dflt, what = "org.contact", org.Contact, def.Contact, "the organisation's contact"
		default:
			continue
		}
		if v := strings.TrimSpace(value); v == "" || v == dflt {
			out = append(out, fmt.Sprintf("%s is not configured: set %s in the configuration file (--config FILE or IRTUI_CONFIG; docs/notifications.md)", what, key))
		}
	}
	sort.Strings(out)
	return out
}

// readiness refuses a draft that cannot go out as it is: an empty
// required field, placeholder text, organisation details that are not
// configured, a late notice without its reasons, or one too long.
func (s *Service) readiness(n store.Notification, now time.Time) error {
	if m := missing(n); len(m) > 0 {
		return refused("cannot approve %s: required content is empty: %s; fill it in with `irtui notify set %d FIELD TEXT`",
			label(&n), strings.Join(m, "; "), n.ID)
	}
	if p := OrgProblems(n.Template, s.Config.Org); len(p) > 0 {
		return refused("cannot approve %s: %s", label(&n), strings.Join(p, "; "))
	}
	if p := Placeholders(n); len(p) > 0 {
		return refused("cannot approve %s: it still holds placeholder text: %s; write the real text first",
			label(&n), strings.Join(p, "; "))
	}
	if err := checkSize(n); err != nil {
		return err
	}
	return lateness(n, now)
}

// mayApprove refuses an approver who may not approve n (see Approve).
func mayApprove(ctx context.Context, tx *store.Tx, actor identity.Actor, n store.Notification) (string, error) {
	who, err := check(ctx, tx, actor, n.IncidentID)
	if err != nil {
		return "", err
	}
	me := who.ID()
	role := cmpOr(n.ApproverRole, DefaultApprover)
	holder, err := tx.CurrentAssignment(ctx, n.IncidentID, role)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	legal := n.Audience == AudienceCustomers || n.Audience == AudienceRegulator
	switch {
	case err == nil && holder.PersonID == me:
	case legal && who.Can(identity.Approve):
	case errors.Is(err, store.ErrNotFound):
		return "", deniedf("cannot approve %s: nobody holds %s on %s, and only its holder%s may approve; assign the role first",
			label(&n), role, n.IncidentID, approvers(legal))
	default:
		return "", deniedf("only %s, who holds %s on %s%s, may approve %s (you are %s)",
			holder.PersonID, role, n.IncidentID, approvers(legal), label(&n), actor)
	}
	if n.DraftedBy == me {
		return "", deniedf("you drafted %s (your action triggered it), so someone else must approve it: hand %s over "+
			"to another person for the approval, or ask someone with the approve permission", label(&n), role)
	}
	var filled []string
	for _, f := range n.Fields {
		if n.ContentBy[f.ID] == me {
			filled = append(filled, f.Label)
		}
	}
	if len(filled) > 0 {
		return "", deniedf("you filled in %s of %s, so someone else holding %s%s must approve it",
			strings.Join(filled, "; "), label(&n), role, approvers(legal))
	}
	return me, nil
}

// CheckApproval tells whether actor may approve the draft id now, before
// anyone is asked "are you sure?": the same checks as Approve, nothing
// changed. A refusal is audited ("notify_approve_check"), as Approve's
// would be.
func (s *Service) CheckApproval(ctx context.Context, actor identity.Actor, id int64) error {
	detail := fmt.Sprintf("notification #%d", id)
	return s.change(ctx, actor, "notify_approve_check", s.incidentOf(ctx, id), &detail, func(tx *store.Tx, now time.Time) error {
		_, _, err := s.approvable(ctx, tx, actor, id, now)
		return err
	})
}

// approvable reads a draft inside tx, renders it as it will go out (with
// the organisation details configured now) and checks that it is ready
// and that actor may approve it: Approve's checks, for CheckApproval too.
func (s *Service) approvable(ctx context.Context, tx *store.Tx, actor identity.Actor, id int64, now time.Time) (store.Notification, string, error) {
	n, err := load(ctx, tx, id)
	if err != nil {
		return n, "", err
	}
	if n.Status != store.NoticeDraft {
		return n, "", invalidState("%s is %s: only a draft can be approved", label(&n), stateOf(n))
	}
	if err := s.rerender(ctx, tx, &n, func(*store.Notification, func(string) string) {}); err != nil {
		return n, "", err
	}
	if err := s.readiness(n, now); err != nil {
		return n, "", err
	}
	me, err := mayApprove(ctx, tx, actor, n)
	return n, me, err
}

// ApproveEach approves several drafts in one step, each with Approve: its
// own checks, transaction, timeline and audit entries. It goes on past a
// refusal and returns the ones approved and the error of each refused.
func (s *Service) ApproveEach(ctx context.Context, actor identity.Actor, ids []int64) (approved []int64, refused map[int64]error) {
	refused = map[int64]error{}
	for _, id := range ids {
		if err := s.Approve(ctx, actor, id); err != nil {
			refused[id] = err
			continue
		}
		approved = append(approved, id)
	}
	return approved, refused
}

// Composition is the customer notices of one rule on an incident, as the
// notice composer shows them: the facts they share, entered once per
// language, and what each customer's notice holds of its own.
type Composition struct {
	IncidentID   string
	RuleID       string
	ObligationID string
	Groups       []LanguageGroup
}

// LanguageGroup is the drafts of a composition written in one language.
type LanguageGroup struct {
	Language string // the notices' language code
	Name     string // "English", "Dutch (Nederlands)"
	// Base: the runbook's own language, in which suggestions are offered.
	Base    bool
	Notices []View
	Fields  []ComposeField
}

// ComposeField is one content field across a group's drafts.
type ComposeField struct {
	ID, Label, Help string
	Required        bool
	// Shared is the value the group's notices share (what most hold);
	// Own lists the customers whose notice holds something else.
	Shared string
	Own    map[string]string
	// Suggestion is prefilled from the triage answers and the incident
	// (runbook content field "suggest"), in the base language only, while
	// the field is empty.
	Suggestion string
}

// languageNames names the languages customers are usually written to.
var languageNames = map[string]string{
	"en": "English", "nl": "Dutch (Nederlands)", "de": "German (Deutsch)", "fr": "French (français)",
	"es": "Spanish (español)", "it": "Italian (italiano)", "pt": "Portuguese (português)", "da": "Danish (dansk)",
	"sv": "Swedish (svenska)", "no": "Norwegian (norsk)", "fi": "Finnish (suomi)", "pl": "Polish (polski)",
}

// LanguageName names a language code for people.
func LanguageName(code string) string {
	if n, ok := languageNames[strings.ToLower(code)]; ok {
		return n
	}
	if base, _, ok := strings.Cut(code, "-"); ok {
		if n, ok := languageNames[strings.ToLower(base)]; ok {
			return n + " (" + code + ")"
		}
	}
	return code
}

// Compose reads the customer notices of an incident still to be written
// (drafts), grouped by rule and language, with suggestions for empty
// fields from the triage answers. It is an audited read
// ("notify_compose").
func (s *Service) Compose(ctx context.Context, actor identity.Actor, incidentID string) ([]Composition, error) {
	var out []Composition
	err := s.audited(ctx, actor, "notify_compose", incidentID, "incident="+incidentID, func() error {
		list, err := s.Store.ListNotifications(ctx, store.NotificationFilter{IncidentID: incidentID,
			Statuses: []string{store.NoticeDraft}})
		if err != nil {
			return err
		}
		d, err := s.Store.IncidentHead(ctx, incidentID)
		if err != nil {
			return err
		}
		rb, _ := s.Runbook(d.Incident.RunbookID)
		byRule := map[string]*Composition{}
		var order []string
		for _, n := range list {
			if n.Audience != AudienceCustomers {
				continue
			}
			c := byRule[n.RuleID]
			if c == nil {
				c = &Composition{IncidentID: incidentID, RuleID: n.RuleID, ObligationID: n.ObligationID}
				byRule[n.RuleID] = c
				order = append(order, n.RuleID)
			}
			gi := slices.IndexFunc(c.Groups, func(g LanguageGroup) bool { return g.Language == n.Language })
			if gi < 0 {
				c.Groups = append(c.Groups, LanguageGroup{Language: n.Language, Name: LanguageName(n.Language),
					Base: n.Language == "en"})
				gi = len(c.Groups) - 1
			}
			c.Groups[gi].Notices = append(c.Groups[gi].Notices, s.view(n))
		}
		for _, id := range order {
			c := byRule[id]
			var rule *runbook.Notification
			if rb != nil {
				if i := slices.IndexFunc(rb.Notify, func(r runbook.Notification) bool { return r.ID == id }); i >= 0 {
					rule = &rb.Notify[i]
				}
			}
			// The base language first, then the others by name.
			sort.SliceStable(c.Groups, func(i, j int) bool {
				if c.Groups[i].Base != c.Groups[j].Base {
					return c.Groups[i].Base
				}
				return c.Groups[i].Name < c.Groups[j].Name
			})
			for gi := range c.Groups {
				g := &c.Groups[gi]
				g.Fields = composeFields(g.Notices, rule, rb, d.Incident, g.Base)
			}
			out = append(out, *c)
		}
		return nil
	})
	return out, err
}

func composeFields(notices []View, rule *runbook.Notification, rb *runbook.Runbook, in store.Incident, base bool) []ComposeField {
	if len(notices) == 0 {
		return nil
	}
	var fields []ComposeField
	for _, f := range notices[0].Fields {
		cf := ComposeField{ID: f.ID, Label: f.Label, Help: f.Help, Required: f.Required, Own: map[string]string{}}
		count := map[string]int{}
		for _, n := range notices {
			count[n.Content[f.ID]]++
		}
		best := -1
		for _, n := range notices { // the most common value; the first on a tie
			if v := n.Content[f.ID]; count[v] > best {
				cf.Shared, best = v, count[v]
			}
		}
		for _, n := range notices {
			if v := n.Content[f.ID]; v != cf.Shared {
				cf.Own[n.CustomerID] = v
			}
		}
		if base && strings.TrimSpace(cf.Shared) == "" && rule != nil && rb != nil {
			for _, c := range rule.Content {
				if c.ID == f.ID && c.Suggest != "" {
					cf.Suggestion = suggest(c.Suggest, rb, in)
				}
			}
		}
		fields = append(fields, cf)
	}
	return fields
}

// suggest renders a content field's suggestion from the incident and its
// answers, as words: choice labels, numbers with separators. A template
// that fails suggests nothing.
func suggest(text string, rb *runbook.Runbook, in store.Incident) string {
	data := runbook.SuggestData{
		Incident: runbook.IncidentData{ID: in.ID, Title: in.Title, Severity: in.Severity, Category: in.Category,
			Summary: in.Summary, AwareAt: in.AwareAt, DeclaredAt: in.DeclaredAt},
		Answers: map[string]string{}, Facts: map[string]string{},
	}
	questions, facts := rb.SuggestNames()
	for _, id := range questions {
		data.Answers[id] = ""
	}
	for _, id := range facts {
		data.Facts[id] = ""
	}
	for _, q := range rb.Questions {
		v, ok := in.Answers[q.ID]
		if !ok {
			continue
		}
		c, err := classify.Coerce(q, v)
		if err != nil {
			continue
		}
		data.Answers[q.ID] = answerWords(q, c)
	}
	for k, f := range in.Facts {
		if f != 0 {
			data.Facts[k] = classify.FormatNumber(f)
		}
	}
	out, err := runbook.RenderSuggestion(text, data)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(safetext.Clean(out))
}

// answerWords is an answer as a person reads it.
func answerWords(q runbook.Question, v any) string {
	labelOf := func(val string) string {
		for _, c := range q.Choices {
			if c.Value == val {
				return c.Label
			}
		}
		return val
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case float64:
		return classify.FormatNumber(x)
	case string:
		return labelOf(x)
	case []string:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = labelOf(s)
		}
		return strings.Join(out, "; ")
	}
	return fmt.Sprint(v)
}

// SetContentEach fills in one field of several drafts in one transaction,
// each edit with its own timeline and audit entry, as SetContent does for
// one: the shared facts of a group of customer notices, entered once.
func (s *Service) SetContentEach(ctx context.Context, actor identity.Actor, ids []int64, field, value string) ([]View, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	field = strings.TrimSpace(field)
	value = strings.TrimSpace(safetext.Clean(value))
	now := s.Clock.Now()
	incidentID := s.incidentOf(ctx, ids[0])
	var out []View
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if _, err := check(ctx, tx, actor, incidentID); err != nil {
			return err
		}
		for _, id := range ids {
			n, err := s.edit(ctx, tx, actor, id, field, value, now)
			if err != nil {
				return err
			}
			if n.IncidentID != incidentID {
				return refused("notifications #%d and #%d belong to different incidents; fill them in one at a time", ids[0], id)
			}
			if err := tx.AppendAudit(ctx, &store.AuditEntry{At: now, Actor: actor.ID(), Auth: actor.Auth(), Action: "notify_edit",
				IncidentID: incidentID, Outcome: store.OutcomeOK, Detail: fmt.Sprintf("notification #%d field %s", id, field)}); err != nil {
				return err
			}
			out = append(out, NewView(n))
		}
		return nil
	})
	if err != nil {
		outcome := store.OutcomeFailed
		if isRefusal(err) {
			outcome = store.OutcomeRefused
		}
		identity.Record(ctx, s.Store, now, actor, "notify_edit", incidentID, outcome, err.Error())
		return nil, err
	}
	return out, nil
}
