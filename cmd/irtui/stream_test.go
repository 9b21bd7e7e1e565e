package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/irtui/irtui/internal/incident"
	"github.com/irtui/irtui/internal/store"
)

// TestJSONStreamWritesWhatWriteJSONWrites: `incident show --json` and
// `incident export --format json` stream the timeline, and their output
// stays byte for byte what writing the whole document at once gives.
func TestJSONStreamWritesWhatWriteJSONWrites(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 123, time.UTC)
	entries := []store.TimelineEntry{
		{ID: 1, IncidentID: "INC-0001", Seq: 1, At: at, Actor: "alice", Kind: "declared", Summary: `Declared <b>"x"</b> & more`,
			Data: json.RawMessage(`{"a":[1,2,{"b":"\n  \"timeline\": []"}]}`), Hash: "h1"},
		{ID: 7, IncidentID: "INC-0001", Seq: 2, At: at.Add(time.Second), Actor: "bob", Kind: "note", Summary: "Ünïcode\tand \u2028, a C1 CSI \u009b2J and an override \u202e",
			Data: json.RawMessage(`{}`), Hash: "h2"},
	}
	d := store.Detail{Incident: store.Incident{ID: "INC-0001", Title: "t\u009b31m \u202egnp.exe \U000e0041"}, TimelineTotal: 2}
	ex := incident.Export{Scope: "full", Incident: d.Incident}
	var exEntries []incident.ExportEntry
	for _, e := range entries {
		exEntries = append(exEntries, incident.ExportEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Kind: e.Kind, Summary: e.Summary,
			Data: e.Data, Hash: e.Hash})
	}
	for _, c := range []struct {
		name  string
		head  any        // with the timeline empty
		whole func() any // with it full
		items []any
	}{
		{"show", showView{Detail: withTimeline(d, nil), Clocks: []clockView{}},
			func() any { return showView{Detail: withTimeline(d, entries), Clocks: []clockView{}} }, anys(entries)},
		{"show, no entries", showView{Detail: withTimeline(d, nil), Clocks: []clockView{}},
			func() any { return showView{Detail: withTimeline(d, nil), Clocks: []clockView{}} }, nil},
		{"export", ex, func() any { x := ex; x.Timeline = exEntries; return x }, anys(exEntries)},
		{"export, no entries (null)", ex, func() any { return ex }, nil},
	} {
		var want, got bytes.Buffer
		if err := writeJSON(&want, c.whole()); err != nil {
			t.Fatal(err)
		}
		s, err := startJSONStream(&got, c.head, "timeline")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, it := range c.items {
			if err := s.add(it); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.end(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: streamed\n%s\nwant\n%s", c.name, got.String(), want.String())
		}
	}
	if _, err := startJSONStream(&bytes.Buffer{}, map[string]any{"timeline": []int{1}}, "timeline"); err == nil {
		t.Error("a field that is not empty was accepted")
	}
	if _, err := startJSONStream(&bytes.Buffer{}, map[string]any{"other": []int{}}, "timeline"); err == nil {
		t.Error("a missing field was accepted")
	}
}

func withTimeline(d store.Detail, tl []store.TimelineEntry) store.Detail {
	if tl == nil {
		tl = []store.TimelineEntry{}
	}
	d.Timeline = tl
	return d
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
