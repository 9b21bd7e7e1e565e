package strictyaml

import (
	"bytes"

	yamlv3 "gopkg.in/yaml.v3"
)

// DecodeFast decodes data strictly into out with yaml.v3: unknown fields,
// duplicate keys, type mismatches and a second document all fail. It keeps
// no positions and reports no problems; callers that get false parse the
// file again with Parse and Document.Decode, which say what and where.
// Valid files, the common case, are decoded several times faster so.
//
// The file is measured against its kind's limits first (see Check), and a
// file with anchors, aliases or tags is left to the slow path: yaml.v3
// expands aliases up to millions of times before it gives up, and accepts
// tags that irtui refuses.
func DecodeFast(kind Kind, data []byte, out any) (ok bool) {
	if stats, probs := check(kind, "", data); probs != nil || stats.properties > 0 {
		return false
	}
	defer func() {
		if recover() != nil { // never let a decoder bug take the app down
			ok = false
		}
	}()
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		return false
	}
	var extra yamlv3.Node
	if err := dec.Decode(&extra); err == nil {
		return false // a second document: let the slow path say so
	}
	return true
}
