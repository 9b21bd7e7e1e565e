package store

import (
	"context"
	"errors"
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
			err := validateDirectory(&d)
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
			err := validateDirectory(&tc.d)
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
	d := Directory{People: []Person{{ID: "zoë", Name: "Zoë Ångström-O'Brien (on call) — 张伟"}},
		Customers: []Customer{{ID: "zuid", Name: "Zuiderzee Zorg B.V. (demo)", ContactKind: "email",
			Contact: "security@zuiderzee.example"}}}
	if err := validateDirectory(&d); err != nil {
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
