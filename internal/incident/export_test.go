package incident

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/irtui/irtui/internal/store"
)

// redactionCustomers are three customers; northwind's id is the start of
// its name, and initech's id is inside its name.
var redactionCustomers = []store.Customer{
	{ID: "acme", Name: "Acme Holdings", ContactKind: "slack", Contact: "#acme-security"},
	{ID: "northwind", Name: "Northwind Health Partners", ContactKind: "email", Contact: "ciso@northwind.example"},
	{ID: "initech", Name: "The Initech Group", ContactKind: "email", Contact: "ciso@initech.example"},
}

func TestRedactorHidesWholeNamesAndContacts(t *testing.T) {
	r := NewRedactor(redactionCustomers)
	const X = Redacted
	for _, tc := range []struct{ keep, in, want string }{
		// An id that starts a longer name takes the words of the name that follow it.
		{"acme", "Northwind Health reported it", X + " reported it"},
		{"acme", "NORTHWIND HEALTH PARTNERS", X},
		{"acme", "northwind health partners' data", X + "' data"},
		{"acme", "Northwind alone", X + " alone"},
		{"acme", "Northwind Health, Partners", X + ", Partners"}, // not the name any more
		{"acme", "Northwind Healthcare", X + " Healthcare"},      // only whole words of the name
		{"acme", "Northwind\nHealth", X + "\nHealth"},            // a line break is not the name's space
		{"acme", "Northwind Health and northwind", X + " and " + X},
		// An id inside a name takes the words around it.
		{"acme", "The Initech Group called", X + " called"},
		{"acme", "the Initech people", X + " people"},
		{"acme", "Initech Group", X},
		{"acme", "Initech", X},
		// Contacts are terms too.
		{"acme", "mail ciso@northwind.example or ciso@initech.example", "mail " + X + " or " + X},
		{"acme", "CISO@Northwind.Example", X},
		// The customer's own name, id and contact are kept.
		{"acme", "Acme Holdings (#acme-security), acme", "Acme Holdings (#acme-security), acme"},
		{"northwind", "Northwind Health Partners and ciso@northwind.example", "Northwind Health Partners and ciso@northwind.example"},
		{"northwind", "Northwind Health asked about Acme Holdings", "Northwind Health asked about " + X},
		{"northwind", "Tell #acme-security and the Initech Group", "Tell " + X + " and " + X},
		{"initech", "the Initech Group and Northwind Health", "the Initech Group and " + X},
		// Unrelated text is left alone.
		{"acme", "Health checks passed; the group met", "Health checks passed; the group met"},
	} {
		if got := r.Redact(tc.in, tc.keep); got != tc.want {
			t.Errorf("for %s: Redact(%q) = %q; want %q", tc.keep, tc.in, got, tc.want)
		}
	}
	// Prepared once, redacted for each customer.
	p := r.Prepare("Northwind Health and the Initech Group: ciso@initech.example, #acme-security")
	for keep, want := range map[string]string{
		"acme":      X + " and " + X + ": " + X + ", #acme-security",
		"northwind": "Northwind Health and " + X + ": " + X + ", " + X,
		"initech":   X + " and the Initech Group: ciso@initech.example, " + X,
	} {
		if got := p.For(keep); got != want {
			t.Errorf("For(%s) = %q; want %q", keep, got, want)
		}
	}
}

func TestRedactorOwnNameBeatsAnotherCustomersId(t *testing.T) {
	// The other customer's id is part of this customer's name: this
	// customer's name wins where it appears, the id is hidden elsewhere.
	all := []store.Customer{
		{ID: "northwind-logistics", Name: "Northwind Logistics", Contact: "it@northwind-logistics.example"},
		{ID: "northwind", Name: "Northwind Health"},
	}
	r := NewRedactor(all)
	got := r.Redact("Northwind Logistics (it@northwind-logistics.example) and Northwind Health", "northwind-logistics")
	if want := "Northwind Logistics (it@northwind-logistics.example) and " + Redacted; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	got = r.Redact("Northwind Logistics and Northwind Health", "northwind")
	if want := Redacted + " and Northwind Health"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestCustomerExportHidesOtherCustomersWholly(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.st.ImportDirectory(ctx, "admin", store.Directory{Customers: redactionCustomers}); err != nil {
		t.Fatal(err)
	}
	d := declaration()
	d.Title = "Northwind Health and The Initech Group exposed"
	d.Summary = "Reported by ciso@northwind.example; Acme Holdings (#acme-security) affected too"
	d.Customers = []string{"acme", "northwind", "initech"}
	d.Answers = map[string]any{"reported_by": "CISO@northwind.example"}
	in, err := f.svc.Declare(ctx, as("alice"), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, note := range []string{
		"Northwind Health asked for hourly updates at ciso@northwind.example",
		"the Initech people called from ciso@initech.example",
		"Acme Holdings wants the file list sent to #acme-security",
	} {
		if err := f.svc.AddNote(ctx, as("bob"), in.ID, note); err != nil {
			t.Fatal(err)
		}
	}
	ex, err := f.svc.Export(ctx, as("alice"), in.ID, "acme")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ToLower(string(b))
	for _, leak := range []string{"northwind", "health", "initech", "ciso@", ".example\""} {
		if i := strings.Index(text, leak); i >= 0 {
			t.Errorf("the export for acme shows %q: …%s…", leak, text[max(0, i-60):min(len(text), i+60)])
		}
	}
	for _, own := range []string{"Acme Holdings", "#acme-security"} {
		if !strings.Contains(string(b), own) {
			t.Errorf("the export for acme lacks its own %q", own)
		}
	}
	if want := Redacted + " and " + Redacted + " exposed"; ex.Incident.Title != want {
		t.Errorf("title %q; want %q", ex.Incident.Title, want)
	}
	if want := "Reported by " + Redacted + "; Acme Holdings (#acme-security) affected too"; ex.Incident.Summary != want {
		t.Errorf("summary %q; want %q", ex.Incident.Summary, want)
	}
}
