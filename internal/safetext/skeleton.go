package safetext

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Skeleton maps s to a form in which strings that look alike on a screen
// are equal, after the skeleton of Unicode TS #39 (security mechanisms):
// compatibility forms are folded (NFKC: fullwidth "ａ", mathematical "𝐚",
// ligatures), invisible characters are dropped (zero-width spaces and
// joiners, soft hyphens, variation selectors, bidirectional marks), letters
// of other scripts that look like Latin ones become those (Cyrillic "а",
// Greek "ο", Armenian "ս"), as do the digits and letters people misread
// ("0" and "o"; "1", "I" and "l"), case is folded, and then the letter
// pairs that read as one letter ("rn" as "m", "vv" as "w", "cl" as "d").
//
// The table covers the look-alikes of Latin letters and digits in the
// scripts an attacker reaches for first, not every entry of TS #39's
// confusables list: it is meant for handles and names compared with each
// other, where a false match costs a renamed entry and a miss costs an
// impersonation.
func Skeleton(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if Invisible(r) {
			continue
		}
		if m, ok := lookalike[r]; ok {
			b.WriteString(m)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return pairs.Replace(b.String())
}

// Confusable reports whether a and b are different strings that look
// alike: their skeletons are equal.
func Confusable(a, b string) bool { return a != b && Skeleton(a) == Skeleton(b) }

// Invisible reports whether r draws nothing on its own: a format
// character (zero-width space, joiner and non-joiner, word joiner,
// bidirectional marks and overrides, soft hyphen, byte order mark), a
// variation selector, or another default-ignorable code point such as the
// Hangul fillers.
func Invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// pairs are letter pairs that read as one letter, applied after case
// folding.
var pairs = strings.NewReplacer("rn", "m", "vv", "w", "cl", "d")

// lookalike maps a character to the lowercase Latin letters it is read as.
var lookalike = map[rune]string{
	// Digits, letters and signs misread for each other.
	'0': "o", '1': "l", 'I': "l", '|': "l", 'ı': "i", 'ɩ': "i", 'ɑ': "a", 'ɡ': "g",
	'ǀ': "l", 'ℓ': "l", 'ꓲ': "l", 'ꓳ': "o",
	// Cyrillic.
	'а': "a", 'в': "b", 'е': "e", 'ё': "e", 'з': "3", 'к': "k", 'м': "m", 'н': "h", 'о': "o",
	'р': "p", 'с': "c", 'т': "t", 'у': "y", 'х': "x", 'ѕ': "s", 'і': "i", 'ї': "i", 'ј': "j",
	'ԁ': "d", 'ԛ': "q", 'ԝ': "w", 'һ': "h", 'ӏ': "l", 'ү': "y",
	'А': "a", 'В': "b", 'Е': "e", 'Ё': "e", 'З': "3", 'К': "k", 'М': "m", 'Н': "h", 'О': "o",
	'Р': "p", 'С': "c", 'Т': "t", 'У': "y", 'Х': "x", 'Ѕ': "s", 'І': "l", 'Ї': "l", 'Ј': "j",
	'Ԁ': "d", 'Ԛ': "q", 'Ԝ': "w", 'Һ': "h", 'Ӏ': "l", 'Ү': "y",
	// Greek.
	'α': "a", 'β': "b", 'γ': "y", 'ε': "e", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p",
	'σ': "o", 'τ': "t", 'υ': "u", 'χ': "x", 'ϲ': "c", 'ϳ': "j",
	'Α': "a", 'Β': "b", 'Ε': "e", 'Ζ': "z", 'Η': "h", 'Ι': "l", 'Κ': "k", 'Μ': "m", 'Ν': "n",
	'Ο': "o", 'Ρ': "p", 'Τ': "t", 'Υ': "y", 'Χ': "x", 'Ϲ': "c",
	// Armenian.
	'ա': "w", 'գ': "q", 'զ': "q", 'հ': "h", 'յ': "j", 'ն': "n", 'ո': "n", 'ռ': "n", 'ս': "u",
	'ց': "g", 'օ': "o", 'Օ': "o", 'Ս': "u",
	// Cherokee and Lisu capitals that copy Latin ones.
	'Ꭺ': "a", 'Ᏼ': "b", 'Ꮯ': "c", 'Ꭼ': "e", 'Ꮋ': "h", 'Ꭻ': "j", 'Ꮶ': "k", 'Ꮇ': "m", 'Ꮲ': "p",
	'Ꮪ': "s", 'Ꭲ': "t", 'Ꮃ': "w", 'ꓮ': "a", 'ꓐ': "b", 'ꓚ': "c", 'ꓓ': "d", 'ꓰ': "e", 'ꓝ': "f",
	'ꓖ': "g", 'ꓧ': "h", 'ꓙ': "j", 'ꓗ': "k", 'ꓡ': "l", 'ꓟ': "m", 'ꓠ': "n", 'ꓑ': "p", 'ꓣ': "r",
	'ꓢ': "s", 'ꓔ': "t", 'ꓴ': "u", 'ꓦ': "v", 'ꓪ': "w", 'ꓫ': "x", 'ꓬ': "y", 'ꓜ': "z",
}
