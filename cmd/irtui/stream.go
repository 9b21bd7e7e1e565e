package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/irtui/irtui/internal/safetext"
)

// jsonStream writes a JSON document as writeJSON would, byte for byte
// (invisible and control characters escaped: safetext.JSON, on each piece,
// which are whole JSON values and keys, so no character is cut),
// with one of its top-level arrays written an element at a time as the
// elements are read: `incident show --json` and `incident export --format
// json` of an incident of any length hold one timeline entry at a time.
type jsonStream struct {
	w     io.Writer
	empty string // what writeJSON writes for the array with no element: [] or null
	tail  []byte // the document after the array
	n     int
}

// startJSONStream writes v, whose field (a top-level JSON key) holds an
// empty array or null, up to that field's value.
func startJSONStream(w io.Writer, v any, field string) (*jsonStream, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	// A top-level key is the only place a line starts with two spaces
	// and a quote: inside a string a newline is written \n.
	key := []byte("\n  \"" + field + "\": ")
	i := bytes.Index(b, key)
	if i < 0 {
		return nil, fmt.Errorf("JSON stream: no top-level field %q", field)
	}
	rest := b[i+len(key):]
	s := &jsonStream{w: w}
	switch {
	case bytes.HasPrefix(rest, []byte("[]")):
		s.empty, s.tail = "[]", rest[2:]
	case bytes.HasPrefix(rest, []byte("null")):
		s.empty, s.tail = "null", rest[4:]
	default:
		return nil, fmt.Errorf("JSON stream: field %q is not empty", field)
	}
	_, err = w.Write(safetext.JSON(b[:i+len(key)]))
	return s, err
}

// add writes the array's next element.
func (s *jsonStream) add(v any) error {
	b, err := json.MarshalIndent(v, "    ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n    "
	if s.n == 0 {
		sep = "[\n    "
	}
	s.n++
	if _, err := io.WriteString(s.w, sep); err != nil {
		return err
	}
	_, err = s.w.Write(safetext.JSON(b))
	return err
}

// end closes the array and writes the rest of the document.
func (s *jsonStream) end() error {
	closing := s.empty
	if s.n > 0 {
		closing = "\n  ]"
	}
	if _, err := io.WriteString(s.w, closing); err != nil {
		return err
	}
	_, err := s.w.Write(safetext.JSON(append(s.tail, '\n')))
	return err
}
