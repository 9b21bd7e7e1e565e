package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDirectoryContactsAreValidated(t *testing.T) {
	customer := func(kind, contact string) Customer {
		return Customer{ID: "acme", Name: "Acme", ContactKind: kind, Contact: contact}
	}
	for _, tc := range []struct {
		name string
		c    Customer
		want string // "" when valid
	}{
		{"bare address", customer("email", "ciso@acme.example"), ""},
		{"address with spaces around", customer("email", "  ciso@acme.example "), ""},
		{"unicode address", customer("email", "sécurité@acmé.example"), ""},
		{"line break in an address", customer("email", "x\ny@z"), `contact "x\ny@z" must not contain control characters`},
		{"header injection", customer("email", "a@b.example\r\nBcc: evil@x.example"), "must not contain control characters"},
		{"display name", customer("email", "Acme Security <ciso@acme.example>"), "is not an email address"},
		{"angle brackets", customer("email", "<ciso@acme.example>"), "is not an email address"},
		{"comment", customer("email", "ciso@acme.example (CISO)"), "is not an email address"},
		{"two addresses", customer("email", "a@acme.example, b@acme.example"), "is not an email address"},
		{"no at sign", customer("email", "acme.example"), "is not an email address"},
		{"only an at sign", customer("email", "@"), "is not an email address"},
		{"empty address", customer("email", ""), "contact is required (a mail address)"},
		{"bidi override in an address", customer("email", "ciso@acme\u202eelpmaxe"), "bidirectional"},

		{"channel name", customer("slack", "#acme-security_2"), ""},
		{"channel name of 80", customer("slack", "#"+strings.Repeat("a", 80)), ""},
		{"channel name in a caseless script", customer("slack", "#事件"), ""},
		{"channel id", customer("slack", "C0123ABCDEF"), ""},
		{"private channel id", customer("slack", "G024BE91L"), ""},
		{"escape sequence", customer("slack", "#a b \x1b[2J"), "must not contain control characters"},
		{"space", customer("slack", "#a b"), "is not a Slack channel"},
		{"no hash", customer("slack", "acme-security"), "is not a Slack channel"},
		{"uppercase", customer("slack", "#Acme"), "is not a Slack channel"},
		{"just a hash", customer("slack", "#"), "is not a Slack channel"},
		{"channel name of 81", customer("slack", "#"+strings.Repeat("a", 81)), "is not a Slack channel"},
		{"lowercase id", customer("slack", "c0123abcdef"), "is not a Slack channel"},
		{"short id", customer("slack", "CABC"), "is not a Slack channel"},
		{"user id", customer("slack", "U0123ABCDEF"), "is not a Slack channel"},
		{"mention", customer("slack", "<!channel>"), "is not a Slack channel"},
		{"bidi isolate", customer("slack", "#acme\u2066x"), "bidirectional"},
		{"empty channel", customer("slack", ""), "contact is required (a Slack channel)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Directory{Customers: []Customer{tc.c}}
			err := ValidateDirectory(&d)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "":
				if got := d.Customers[0].Contact; got != strings.TrimSpace(tc.c.Contact) {
					t.Errorf("stored %q", got)
				}
			case err == nil:
				t.Fatalf("%q accepted", tc.c.Contact)
			case !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), "customers[0] (acme): ") ||
				!strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestDirectoryRefusesControlAndBidiCharacters(t *testing.T) {
	ok := Customer{ID: "acme", Name: "Acme", ContactKind: "email", Contact: "sec@acme.example"}
	for _, tc := range []struct {
		name string
		d    Directory
		want []string
	}{
		{"escape sequence in a person's name", Directory{People: []Person{{ID: "alice", Name: "Alice\x1b]0;pwned\x07"}}},
			[]string{`people[0] (alice): name "Alice\x1b]0;pwned\a" must not contain control characters`}},
		{"line break in a person's name", Directory{People: []Person{{ID: "bob", Name: "Bob\nMallory"}}},
			[]string{`people[0] (bob): name "Bob\nMallory"`}},
		{"bidi override in a person's name", Directory{People: []Person{{ID: "carol", Name: "Carol \u202eloraC"}}},
			[]string{`people[0] (carol): name "Carol \u202eloraC" must not contain`, "bidirectional"}},
		{"control character in a person's email", Directory{People: []Person{{ID: "dave", Email: "dave@x.example\r\nBcc: y"}}},
			[]string{`people[0] (dave): email`}},
		{"control character in a Slack user id", Directory{People: []Person{{ID: "erin", SlackUserID: "U1\x1b[2J"}}},
			[]string{`people[0] (erin): slack_user_id`}},
		{"control character in a role", Directory{People: []Person{{ID: "finn", Roles: []string{"dpo\x1b[2J"}}}},
			[]string{`people[0] (finn): role`}},
		{"bidi override in a person's id", Directory{People: []Person{{ID: "ali\u202ece"}}},
			[]string{`people[0] ("ali\u202ece"): id "ali\u202ece" must not contain`}},
		{"escape sequence in a customer's id", Directory{Customers: []Customer{{ID: "ac\x1bme", Name: "Acme",
			ContactKind: "email", Contact: "sec@acme.example"}}},
			[]string{`customers[0] ("ac\x1bme"): id "ac\x1bme" must not contain`}},
		{"escape sequence in a customer's name", Directory{Customers: []Customer{ok, {ID: "globex",
			Name: "Globex\x1b[2J", ContactKind: "slack", Contact: "#globex"}}},
			[]string{`customers[1] (globex): name "Globex\x1b[2J" must not contain control characters`}},
		{"bidi isolate in a customer's name", Directory{Customers: []Customer{{ID: "initech", Name: "Ini\u2067tech",
			ContactKind: "email", Contact: "sec@initech.example"}}},
			[]string{`customers[0] (initech): name "Ini\u2067tech"`}},
		{"line separator in a customer's region", Directory{Customers: []Customer{{ID: "umbrella", Name: "Umbrella",
			Region: "EU\u2028US", ContactKind: "email", Contact: "sec@umbrella.example"}}},
			[]string{`customers[0] (umbrella): region`}},
		{"invalid UTF-8 in a customer's name", Directory{Customers: []Customer{{ID: "hooli", Name: "Hoo\xffli",
			ContactKind: "email", Contact: "sec@hooli.example"}}},
			[]string{`customers[0] (hooli): name "Hoo\xffli" is not valid UTF-8`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateDirectory(&tc.d)
			if !errors.Is(err, ErrInvalidDirectory) {
				t.Fatalf("accepted: %v", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			// The error itself is safe to print.
			if strings.ContainsAny(err.Error(), "\x1b\r\a\u202e\u2066\u2067\u2028") {
				t.Errorf("the error carries the characters it refuses: %q", err)
			}
		})
	}
	// Names that are merely unusual are fine.
	d := Directory{People: []Person{{ID: "zoe", Name: "Zoë Ångström-O'Brien (on call) — 张伟"}},
		Customers: []Customer{{ID: "zuid", Name: "Zuiderzee Zorg B.V. (demo)", ContactKind: "email",
			Contact: "security@zuiderzee.example"}}}
	if err := ValidateDirectory(&d); err != nil {
		t.Fatal(err)
	}
}

func TestImportWithOneBadContactImportsNothing(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	d := Directory{
		People: []Person{{ID: "alice", Name: "Alice"}},
		Customers: []Customer{
			{ID: "acme", Name: "Acme", ContactKind: "email", Contact: "sec@acme.example"},
			{ID: "globex", Name: "Globex", ContactKind: "email", Contact: "x\ny@z"},
			{ID: "initech", Name: "Initech", ContactKind: "slack", Contact: "#a b \x1b[2J"},
		},
	}
	_, err := s.ImportDirectory(ctx, "admin", d)
	if !errors.Is(err, ErrInvalidDirectory) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"customers[1] (globex): contact", "customers[2] (initech): contact"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	people, _ := s.People(ctx)
	customers, _ := s.Customers(ctx)
	if len(people) != 0 || len(customers) != 0 {
		t.Errorf("a refused import stored %d people and %d customers", len(people), len(customers))
	}
	audit, err := s.Audit(ctx, AuditFilter{})
	if err != nil || len(audit) != 1 || audit[0].Outcome != OutcomeRefused ||
		strings.ContainsAny(audit[0].Detail, "\x1b\n") {
		t.Errorf("audit = %+v, %v", audit, err)
	}
}

// TestDirectoryValidation: the issue's cases (hostile input, item 5) and
// their neighbours, each refused with the entry and the field it names,
// and where in a directory file the field is.
func TestDirectoryValidation(t *testing.T) {
	acme := func(mod func(*Customer)) Customer {
		c := Customer{ID: "acme", Name: "Acme", ContactKind: "email", Contact: "sec@acme.example"}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		d    Directory
		want string // the error line; "" when valid
		at   string // where the issue is
	}{
		{"customer id that climbs out of a folder", Directory{Customers: []Customer{acme(func(c *Customer) { c.ID = "../../etc/acme" })}},
			`customers[0] (../../etc/acme): id "../../etc/acme" may hold only lowercase letters a-z, digits and "-"`, "customers[0].id"},
		{"capital letters", Directory{People: []Person{{ID: "Alice"}}}, `people[0] (Alice): id "Alice" may hold only`, "people[0].id"},
		{"underscore", Directory{People: []Person{{ID: "alice_b"}}}, `id "alice_b" may hold only`, "people[0].id"},
		{"leading dash", Directory{Customers: []Customer{acme(func(c *Customer) { c.ID = "-acme" })}}, `id "-acme" may hold only`, "customers[0].id"},
		{"id of 65", Directory{People: []Person{{ID: strings.Repeat("a", 65)}}}, "may hold only", "people[0].id"},
		{"id of 64", Directory{People: []Person{{ID: strings.Repeat("a", 64)}}}, "", ""},
		{"zero-width space in a customer id", Directory{Customers: []Customer{acme(nil), acme(func(c *Customer) { c.ID, c.Name = "ac\u200bme", "Acme 2" })}},
			`customers[1] ("ac\u200bme"): id "ac\u200bme" must not contain spaces, control characters, invisible`, "customers[1].id"},
		{"Cyrillic letter in a customer id", Directory{Customers: []Customer{acme(nil), acme(func(c *Customer) { c.ID, c.Name = "\u0430cme", "Acme 2" })}},
			`customers[1] (аcme): id "аcme" may hold only lowercase letters a-z`, "customers[1].id"},
		{"customer ids that look alike", Directory{Customers: []Customer{acme(nil), acme(func(c *Customer) { c.ID, c.Name = "acrne", "Another" })}},
			"customers[1] (acrne): id looks like acme, the id of customers[0]", "customers[1].id"},
		{"customer names that look alike", Directory{Customers: []Customer{acme(nil), acme(func(c *Customer) { c.ID, c.Name = "acme-eu", "\u0410cme" })}},
			"customers[1] (acme-eu): name Аcme looks like Acme, the name of customers[0]", "customers[1].name"},
		{"people's names that look alike", Directory{People: []Person{{ID: "alice", Name: "Alice Smith"}, {ID: "mallory", Name: "Alice Sm\u0456th"}}},
			"people[1] (mallory): name Alice Smіth looks like Alice Smith, the name of people[0]", "people[1].name"},
		{"names with a zero-width space", Directory{People: []Person{{ID: "alice", Name: "Alice"}, {ID: "mallory", Name: "Al\u200bice"}}},
			`people[1] (mallory): name "Al\u200bice" looks like Alice`, "people[1].name"},
		{"two people of one name", Directory{People: []Person{{ID: "chris-a", Name: "Chris Lee"}, {ID: "chris-b", Name: "Chris Lee"}}}, "", ""},
		{"person e-mail that is not an address", Directory{People: []Person{{ID: "alice", Email: "alice"}}},
			`people[0] (alice): email "alice" is not an email address`, "people[0].email"},
		{"person e-mail with a display name", Directory{People: []Person{{ID: "alice", Email: "Alice <alice@example.org>"}}},
			`email "Alice <alice@example.org>" is not an email address`, "people[0].email"},
		{"person e-mail", Directory{People: []Person{{ID: "alice", Email: "alice@example.org"}}}, "", ""},
		{"language that is a word", Directory{Customers: []Customer{acme(func(c *Customer) { c.Language = "english" })}},
			`customers[0] (acme): language "english" is not a language tag such as en, nl or pt-BR`, "customers[0].language"},
		{"unknown language", Directory{Customers: []Customer{acme(func(c *Customer) { c.Language = "xx" })}},
			`language "xx" is not a language tag`, "customers[0].language"},
		{"language with a script", Directory{Customers: []Customer{acme(func(c *Customer) { c.Language = "sr-Latn" })}},
			`language "sr-Latn" is not a language tag`, "customers[0].language"},
		{"language and region", Directory{Customers: []Customer{acme(func(c *Customer) { c.Language = "pt-BR" })}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateDirectory(&tc.d)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nlacks %q", err, tc.want)
			}
			issues := CheckDirectory(&tc.d)
			if len(issues) != 1 {
				t.Fatalf("issues: %+v", issues)
			}
			at := fmt.Sprintf("%s[%d].%s", issues[0].At...)
			if at != tc.at {
				t.Errorf("at %s, want %s", at, tc.at)
			}
		})
	}
	// A language is stored in its canonical form.
	d := Directory{Customers: []Customer{acme(func(c *Customer) { c.Language = "pt-br" }), acme(func(c *Customer) { c.ID, c.Name = "globex", "Globex" })}}
	if err := ValidateDirectory(&d); err != nil || d.Customers[0].Language != "pt-BR" || d.Customers[1].Language != "en" {
		t.Fatalf("languages %q %q, %v", d.Customers[0].Language, d.Customers[1].Language, err)
	}
}

// TestImportRefusesLookAlikesOfTheDirectory: an import is checked against
// the people and customers already stored, ids and names.
func TestImportRefusesLookAlikesOfTheDirectory(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	first := Directory{
		People:    []Person{{ID: "alice", Name: "Alice Smith"}},
		Customers: []Customer{{ID: "acme", Name: "Acme Corp", ContactKind: "email", Contact: "sec@acme.example"}},
	}
	if _, err := s.ImportDirectory(ctx, "ops", first); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		d    Directory
		want string
	}{
		{Directory{Customers: []Customer{{ID: "acrne", Name: "Other", ContactKind: "email", Contact: "x@y.example"}}},
			"customers[0] (acrne): id looks like acme, which is already in the directory"},
		{Directory{Customers: []Customer{{ID: "acme-2", Name: "Acme C\u043erp", ContactKind: "email", Contact: "x@y.example"}}},
			"customers[0] (acme-2): name Acme Cоrp looks like Acme Corp, the name of acme, which is already in the directory"},
		{Directory{People: []Person{{ID: "mallory", Name: "Alice Sm\u0456th"}}},
			"people[0] (mallory): name Alice Smіth looks like Alice Smith, the name of alice, who is already in the directory"},
	} {
		_, err := s.ImportDirectory(ctx, "ops", tc.d)
		if !errors.Is(err, ErrInvalidDirectory) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v\nwant %q", err, tc.want)
		}
	}
	// Updates are not look-alikes of themselves; a rename frees the old
	// name; two entries may share a name exactly.
	second := Directory{
		People:    []Person{{ID: "alice", Name: "Alice J. Smith"}, {ID: "alice-2", Name: "Alice Smith"}},
		Customers: []Customer{{ID: "acme", Name: "Acme Corp", ContactKind: "email", Contact: "sec@acme.example"}, {ID: "acme-eu", Name: "Acme Corp", ContactKind: "email", Contact: "eu@acme.example"}},
	}
	if _, err := s.ImportDirectory(ctx, "ops", second); err != nil {
		t.Fatal(err)
	}
}
