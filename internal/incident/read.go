package incident

import (
	"context"
	"errors"
	"fmt"

	"github.com/irtui/irtui/internal/identity"
	"github.com/irtui/irtui/internal/store"
)

// Reading an incident costs what is shown, whatever the length of its
// timeline: a view reads the incident without its timeline and a window of
// it (Open), then pages (TimelinePage); what needs every entry (incident
// show, exports, reports) streams them (Read, ExportStream), one entry at a
// time.
//
// Auditing: every open, refresh, show and export is one audit entry, as
// before. The pages a view reads while it scrolls the timeline of an
// incident it opened are covered by the open's entry: each page is checked
// like any read (who asks, may they see this incident) and a refused or
// failed page is audited, but a page read is not an audit entry of its own.
// An entry per scroll would write to the record at every key press and
// bury the opens among thousands of page reads, while telling no more
// about who saw the incident.

// Window is the part of an incident's timeline a view asks for: the
// newest entries (the zero Window), or a page after or before a seq
// (store.TimelineWindow).
type Window = store.TimelineWindow

// Get reads an incident with everything recorded about it, its whole
// timeline included, and audits the access (action "open"). It holds the
// whole timeline: a view uses Open, and what prints every entry uses Read.
func (s *Service) Get(ctx context.Context, actor identity.Actor, id string) (Detail, error) {
	var d Detail
	err := s.Read(ctx, actor, id, func(h Detail) error {
		d = h
		d.Timeline = make([]store.TimelineEntry, 0, h.TimelineTotal)
		return nil
	}, func(e store.TimelineEntry) error {
		d.Timeline = append(d.Timeline, e)
		return nil
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// Read streams an incident, as of one moment (store.ReadIncident), to
// someone allowed to see it: head gets the incident without its timeline
// (Detail.TimelineTotal counts the entries), then each gets every entry,
// oldest first. It is audited as one open (action "open"), recorded
// before head is called. An error from head or each stops the read and is
// returned.
func (s *Service) Read(ctx context.Context, actor identity.Actor, id string, head func(Detail) error,
	each func(store.TimelineEntry) error) error {
	o := &op{actor: actor, action: "open", incident: id}
	return s.auditedStream(ctx, o, func(record func() error) error {
		return notFoundIncident(s.Store.ReadIncident(ctx, id, func(d Detail) error {
			if err := record(); err != nil {
				return err
			}
			return head(d)
		}, each), id)
	})
}

// Head reads an incident without its timeline (Detail.TimelineTotal
// counts the entries) and audits the access (action "open").
func (s *Service) Head(ctx context.Context, actor identity.Actor, id string) (Detail, error) {
	var d Detail
	err := s.audited(ctx, &op{actor: actor, action: "open", incident: id, detail: "without its timeline"}, func() error {
		var err error
		d, err = s.Store.IncidentHead(ctx, id)
		return notFoundIncident(err, id)
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// Open reads an incident with one window of its timeline (the newest
// entries for the zero Window) and audits the access (action "open"): what
// a view reads to show an incident, at the same cost for 10 entries or
// 100,000. The view reads more with TimelinePage as it scrolls.
func (s *Service) Open(ctx context.Context, actor identity.Actor, id string, w Window) (Detail, error) {
	return s.window(ctx, &op{actor: actor, action: "open", incident: id, detail: describeWindow(w)}, w)
}

// Refresh reads again an incident that is on screen, with the window of
// its timeline the view holds, after something changed. It is audited
// like Open (action "open", detail "refresh ...").
func (s *Service) Refresh(ctx context.Context, actor identity.Actor, id string, w Window) (Detail, error) {
	return s.window(ctx, &op{actor: actor, action: "open", incident: id, detail: "refresh, " + describeWindow(w)}, w)
}

func (s *Service) window(ctx context.Context, o *op, w Window) (Detail, error) {
	var d Detail
	err := s.audited(ctx, o, func() error {
		var err error
		d, err = s.Store.IncidentWindow(ctx, o.incident, w)
		return notFoundIncident(err, o.incident)
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// TimelinePage reads one more page of the timeline of an incident a view
// has opened (Open) as it scrolls. It is checked like every read, and a
// refused or failed page is audited; a page read is covered by the open's
// audit entry (see the package's note on reading above).
func (s *Service) TimelinePage(ctx context.Context, actor identity.Actor, id string, w Window) ([]store.TimelineEntry, error) {
	o := &op{actor: actor, action: "open", incident: id, detail: "timeline page, " + describeWindow(w)}
	now := s.Clock.Now()
	err := s.check(ctx, s.Store, o)
	var page []store.TimelineEntry
	if err == nil {
		page, err = s.Store.TimelinePage(ctx, id, w)
	}
	if err != nil {
		s.recordFailure(ctx, o, now, err, true)
		return nil, err
	}
	return page, nil
}

func describeWindow(w Window) string {
	limit := w.Limit
	if limit <= 0 {
		limit = store.DefaultTimelinePage
	}
	switch {
	case w.Before > 0:
		return fmt.Sprintf("timeline: %d entries before #%d", limit, w.Before)
	case w.After > 0:
		return fmt.Sprintf("timeline: %d entries after #%d", limit, w.After)
	case w.Oldest:
		return fmt.Sprintf("timeline: the first %d entries", limit)
	}
	return fmt.Sprintf("timeline: the newest %d entries", limit)
}

// notFoundIncident says that the incident does not exist in the service's
// words; any other error (one of the service's own among them: a customer
// not found) is returned as it is.
func notFoundIncident(err error, id string) error {
	var e *Error
	if errors.Is(err, store.ErrNotFound) && !errors.As(err, &e) {
		return notFound("incident %s does not exist", id)
	}
	return err
}
