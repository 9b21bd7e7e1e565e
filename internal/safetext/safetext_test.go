package safetext

import "testing"

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
			if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("control %U left in %q", r, out)
			}
		}
	})
}
