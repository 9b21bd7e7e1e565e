package safetext

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestClean(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text is kept", "Ransomware on FS-02\n\tnote", "Ransomware on FS-02\n\tnote"},
		{"CSI clear screen", "a\x1b[2Jb", "ab"},
		{"colour", "\x1b[31mred\x1b[0m", "red"},
		{"OSC window title with BEL", "x\x1b]0;pwned\x07y", "xy"},
		{"OSC 8 hyperlink", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"bare controls", "a\x00b\x07c\x08d\re", "abcde"},
		{"8-bit CSI loses its introducer", "a\u009b2Jb", "a2Jb"},
		{"bidi override", "invoice\u202eexe.pdf", "invoiceexe.pdf"},
		{"bidi isolates and marks", "a\u2066b\u2069c\u200fd\u061ce", "abcde"},
		{"zero-width space and word joiner", "pay\u200bpal\u2060", "paypal"},
		{"tag characters hide text", "ok\U000e0069\U000e0067\U000e006e", "ok"},
		{"line separators", "a\u2028b\u2029c", "abc"},
		{"joiners that scripts need stay", "\u0645\u200c\u06cc \U0001f469\u200d\U0001f4bb", "\u0645\u200c\u06cc \U0001f469\u200d\U0001f4bb"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"unicode kept", "Privé — 数据", "Privé — 数据"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Clean(tc.in); got != tc.want {
				t.Fatalf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := Line("a\nb\tc"); got != "a b c" {
		t.Fatalf("Line: %q", got)
	}
}

func TestMrkdwn(t *testing.T) {
	in := "<!channel> ping & <https://evil|click here> <@U123>"
	want := "&lt;!channel&gt; ping &amp; &lt;https://evil|click here&gt; &lt;@U123&gt;"
	if got := Mrkdwn(in); got != want {
		t.Fatalf("Mrkdwn = %q, want %q", got, want)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("\x1b[2J\x1b]0;x\x07")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		for _, r := range out {
			if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || Hidden(r) && r != '\n' && r != '\t' {
				t.Fatalf("control %U left in %q", r, out)
			}
		}
	})
}

// TestJSONEscapesHiddenCharacters: C1 controls, bidirectional formatting
// and invisible characters come out of JSON as \u escapes, the JSON still
// means the same, and its own line breaks and indentation stay.
func TestJSONEscapesHiddenCharacters(t *testing.T) {
	v := map[string]any{"title": "Pay\u009b31m invoice \u202eexe.pdf\u200b\x7f\U000e0041", "ok": "Privé — 数据 \u0645\u200c\u06cc"}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	out := JSON(b.Bytes())
	want := "{\n  \"ok\": \"Privé — 数据 \u0645\\u200c\u06cc\",\n" +
		"  \"title\": \"Pay\\u009b31m invoice \\u202eexe.pdf\\u200b\\u007f\\udb40\\udc41\"\n}\n"
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil || back["title"] != v["title"] || back["ok"] != v["ok"] {
		t.Fatalf("round trip: %v %q", err, back)
	}
	plain := []byte(`{"a": "b"}`)
	if got := JSON(plain); &got[0] != &plain[0] {
		t.Error("clean JSON is copied")
	}
}

func FuzzJSON(f *testing.F) {
	f.Add("Pay\u009b31m \u202eexe.pdf")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := json.Marshal(map[string]string{"s": s})
		if err != nil {
			t.Fatal(err)
		}
		out := JSON(raw)
		for _, r := range string(out) {
			if r >= 0x7f && (Hidden(r) || Invisible(r)) && r != '\ufffd' {
				t.Fatalf("%U left in %q", r, out)
			}
		}
		var back, orig map[string]string
		if json.Unmarshal(raw, &orig) != nil || json.Unmarshal(out, &back) != nil || back["s"] != orig["s"] {
			t.Fatalf("%q: meaning changed: %q", s, out)
		}
	})
}
