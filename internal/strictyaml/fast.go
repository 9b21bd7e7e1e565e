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
func DecodeFast(data []byte, out any) (ok bool) {
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
