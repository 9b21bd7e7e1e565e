package store

import (
	"os"
	"reflect"
	"testing"

	"github.com/irtui/irtui/internal/strictyaml"
)

// FuzzCheckDirectory reads any file as a directory, as `irtui directory
// import` does: it decodes or gives problems; a directory with issues
// gives each a line and column of the file; one without is valid, and
// checking it again changes nothing (its normal form is stable).
func FuzzCheckDirectory(f *testing.F) {
	if data, err := os.ReadFile("../../runbooks/directory/demo.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("customers:\n  - {id: ../../etc/acme, name: Acme, contact_kind: email, contact: a@b.example}\n"))
	f.Add([]byte("people:\n  - {id: alice, name: Alice, email: alice}\n  - {id: \"ali\u200bce\", name: \"\u0410lice\"}\n"))
	f.Add([]byte("customers:\n  - {id: acme, name: Acme, language: pt-br, contact_kind: slack, contact: \"Not A Channel!\"}\n"))
	f.Add([]byte("people:\n  - id: bob\n    os_users: [bob]\n    permissions: [admin]\n    roles: [dpo]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d Directory
		if probs := strictyaml.DecodeFile(strictyaml.Directory, "d.yaml", data, &d); probs != nil {
			return
		}
		issues := CheckDirectory(&d)
		if len(issues) > 0 {
			doc, probs := strictyaml.Parse(strictyaml.Directory, "d.yaml", data)
			if probs != nil {
				t.Fatalf("decoded, but does not parse: %v", probs)
			}
			for _, p := range doc.Report(issues, nil) {
				if p.Line < 1 || p.Col < 1 || p.Msg == "" {
					t.Fatalf("problem without a place: %+v", p)
				}
			}
			if ValidateDirectory(&d) == nil {
				t.Fatal("issues, but ValidateDirectory accepts it")
			}
			return
		}
		again := d
		again.People = append([]Person(nil), d.People...)
		again.Customers = append([]Customer(nil), d.Customers...)
		if issues := CheckDirectory(&again); len(issues) > 0 || !reflect.DeepEqual(again, d) {
			t.Fatalf("a valid directory changes when checked again: %+v\n%+v\n%+v", issues, d, again)
		}
	})
}
