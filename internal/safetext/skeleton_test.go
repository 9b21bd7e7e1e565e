package safetext

import "testing"

func TestSkeletonMatchesLookAlikes(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"alice", "\u0430lice"},        // Cyrillic а
		{"alice", "ali\u0441e"},        // Cyrillic с
		{"alice", "al\u200bice"},       // zero-width space
		{"alice", "a\u200dlice\ufe0f"}, // zero-width joiner, variation selector
		{"alice", "aIice"},             // capital i for l
		{"alice", "a1ice"},             // digit one for l
		{"alice", "Alice"},             // case
		{"alice", "\uff41lice"},        // fullwidth a
		{"alice", "\U0001d41alice"},    // mathematical bold a
		{"bob", "b\u03bfb"},            // Greek omicron
		{"bob", "b0b"},                 // digit zero
		{"sam", "\u0455am"},            // Cyrillic dze
		{"modem", "rnodern"},           // rn for m
		{"wendy", "vvendy"},            // vv for w
		{"dana", "clana"},              // cl for d
		{"tom", "\u0422\u041e\u041c"},  // Cyrillic capitals
		{"eli", "el\u0456"},            // Cyrillic і
		{"ursula", "\u057drsula"},      // Armenian se
		{"ana", "an\u00ada"},           // soft hyphen
		{"alice", "alice\u202e"},       // bidirectional override
	} {
		if Skeleton(tc.a) != Skeleton(tc.b) {
			t.Errorf("Skeleton(%q) = %q, Skeleton(%q) = %q; want equal", tc.a, Skeleton(tc.a), tc.b, Skeleton(tc.b))
		}
	}
}

func TestSkeletonKeepsDifferentNamesApart(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"alice", "alicia"},
		{"bob", "rob"},
		{"jose", "jos\u00e9"}, // an accent is a different name
		{"anna", "ana"},
		{"chen", "chan"},
		{"dana", "diana"},
		{"\u674e\u660e", "\u674e\u6676"}, // different Han names
	} {
		if Skeleton(tc.a) == Skeleton(tc.b) {
			t.Errorf("%q and %q share the skeleton %q", tc.a, tc.b, Skeleton(tc.a))
		}
		if Confusable(tc.a, tc.b) {
			t.Errorf("Confusable(%q, %q)", tc.a, tc.b)
		}
	}
	if Confusable("alice", "alice") {
		t.Error("a name is not confusable with itself")
	}
	if !Confusable("alice", "\u0430lice") {
		t.Error("Cyrillic а is confusable with Latin a")
	}
}

func TestInvisible(t *testing.T) {
	for _, r := range []rune{'\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '\u202e', '\ufe0f', '\u3164'} {
		if !Invisible(r) {
			t.Errorf("%U should be invisible", r)
		}
	}
	for _, r := range []rune{'a', ' ', '-', '\u00e9', '\u0430'} {
		if Invisible(r) {
			t.Errorf("%U should be visible", r)
		}
	}
}

func FuzzSkeleton(f *testing.F) {
	for _, s := range []string{"alice", "\u0430lice", "rn", "\x1b[2J", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Skeleton(s)
		if Skeleton(s) != k {
			t.Fatal("not deterministic")
		}
		for _, r := range k {
			if Invisible(r) {
				t.Fatalf("skeleton of %q keeps invisible %U", s, r)
			}
		}
	})
}
