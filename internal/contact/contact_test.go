package contact

import (
	"strings"
	"testing"
)

func TestHasMailbox(t *testing.T) {
	for v, ok := range map[string]bool{
		"dpo@example.com":            true,
		"Jane Doe <dpo@example.com>": true,
		"Data Protection Officer, dpo@example.com, +31 20 555 0100": true,
		"DPO; dpo@example.com":                true,
		"not an address":                      false,
		"DPO, +31 20 555 0100":                false,
		"dpo@example.com\r\nBcc: x@y.example": false,
		"":                                    false,
		"@":                                   false,
	} {
		if err := HasMailbox(v); (err == nil) != ok {
			t.Errorf("HasMailbox(%q) = %v", v, err)
		}
	}
}

func TestEmailAndSlackChannel(t *testing.T) {
	for v, ok := range map[string]bool{"a@b.example": true, "alice": false, "A <a@b.example>": false, "a@b.example ": false} {
		if err := Email(v); (err == nil) != ok {
			t.Errorf("Email(%q) = %v", v, err)
		}
	}
	for v, ok := range map[string]bool{
		"#incidents": true, "#ir_drills-2": true, "C0123456789": true, "G024BE91L": true,
		"Not A Channel!": false, "#Incidents": false, "incidents": false, "#": false,
		"#" + strings.Repeat("a", 80): true, "#" + strings.Repeat("a", 81): false, "U0123456789": false,
	} {
		if err := SlackChannel(v); (err == nil) != ok {
			t.Errorf("SlackChannel(%q) = %v", v, err)
		}
	}
}
