package router

import (
	"strings"
	"testing"
)

// FuzzParseOverride: any header value (it comes from clients) parses to a
// known Override without panicking; surrounding blanks never matter; only
// the two keywords (case-folded) select a version.
func FuzzParseOverride(f *testing.F) {
	for _, s := range []string{"always", "never", " ALWAYS\t", "Never", "", "sometimes", "alwaysx", "al\x00ways", "alwayſ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := ParseOverride(v)
		if got != OverrideNone && got != OverrideAlways && got != OverrideNever {
			t.Fatalf("ParseOverride(%q) = %d", v, got)
		}
		if padded := ParseOverride(" \t" + v + "\r\n "); padded != got {
			t.Fatalf("padding changed ParseOverride(%q): %d -> %d", v, got, padded)
		}
		word := map[Override]string{OverrideAlways: "always", OverrideNever: "never"}[got]
		if got != OverrideNone && !strings.EqualFold(strings.TrimSpace(v), word) {
			t.Fatalf("ParseOverride(%q) = %s without the keyword", v, word)
		}
	})
}
