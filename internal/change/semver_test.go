package change

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSemver(t *testing.T) {
	t.Parallel()
	valid := []string{"v1.2.3", "1.2.3", "v0.0.0", "v1.0.0-rc.1", "v1.0.0-alpha-1.x", "v1.0.0+build.5", "v1.0.0-0.3.7+exp.sha.5114f85"}
	invalid := []string{"", "v", "v1", "v1.2", "v1.2.3.4", "v01.2.3", "v1.2.3-", "v1.2.3-01", "v1.2.3+", "v1.2.3-a..b", "v1.2.x", "vv1.2.3", "v1.2.3-ü", "v-1.2.3", "v99999999999999999999.0.0"}
	for _, s := range valid {
		if _, ok := parseSemver(s); !ok {
			t.Errorf("parseSemver(%q) failed, want a version", s)
		}
	}
	for _, s := range invalid {
		if v, ok := parseSemver(s); ok {
			t.Errorf("parseSemver(%q) = %+v, want failure", s, v)
		}
	}
}

func TestSemverOrder(t *testing.T) {
	t.Parallel()
	// Ascending, from the Semantic Versioning 2.0.0 specification.
	order := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"}
	for i, a := range order {
		va, _ := parseSemver(a)
		for j, b := range order {
			vb, _ := parseSemver(b)
			want := cmpUint(uint64(i), uint64(j))
			if got := va.compare(vb); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
	a, _ := parseSemver("v1.0.0+one")
	b, _ := parseSemver("1.0.0+two")
	if a.compare(b) != 0 {
		t.Error("build metadata must not change precedence")
	}
}

func TestPickTag(t *testing.T) {
	t.Parallel()
	cases := []struct {
		tags []string
		want string
	}{
		{nil, ""},
		{[]string{"b", "a", "c"}, "a"},
		{[]string{"latest", "v1.0.0-rc.2", "v1.0.0"}, "v1.0.0"},
		{[]string{"v1.9.0", "v1.10.0"}, "v1.10.0"},
		{[]string{"1.0.0", "v1.0.0"}, "1.0.0"},
		{[]string{"zzz", "v0.0.1-dev"}, "v0.0.1-dev"},
	}
	for _, tc := range cases {
		if got := pickTag(tc.tags); got != tc.want {
			t.Errorf("pickTag(%q) = %q, want %q", tc.tags, got, tc.want)
		}
	}
}

func TestFirstParent(t *testing.T) {
	t.Parallel()
	cases := []struct{ raw, want string }{
		{"tree t\nauthor a\n\nmsg\n", ""},
		{"tree t\nparent p1\nparent p2\nauthor a\n\nmsg", "p1"},
		{"tree t\nauthor a\n\nparent not-a-header\n", ""},
		{"", ""},
	}
	for _, tc := range cases {
		if got := firstParent(tc.raw); got != tc.want {
			t.Errorf("firstParent(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestNormalizePaths(t *testing.T) {
	t.Parallel()
	got := normalizePaths([]string{"b", "nested/", "a", "b", ""})
	if want := []string{"a", "b", "nested"}; !slices.Equal(got, want) {
		t.Errorf("normalizePaths = %q, want %q", got, want)
	}
	if got := normalizePaths(nil); got == nil {
		t.Error("normalizePaths(nil) is nil, want empty")
	}
}

func TestIsZeroSHA(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		strings.Repeat("0", 40): true, strings.Repeat("0", 64): true, "0000000": false,
		strings.Repeat("0", 39) + "1": false, "": false,
	} {
		if got := isZeroSHA(s); got != want {
			t.Errorf("isZeroSHA(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzParseSemver: tag names come from the repository, so any string.
// Parsing must not panic and comparison must be a consistent order.
func FuzzParseSemver(f *testing.F) {
	for _, s := range []string{"v1.2.3", "1.0.0-rc.1+b", "v1.0.0-0.a.1", "v1.2", "x"} {
		f.Add(s, "v1.0.0")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, aok := parseSemver(a)
		vb, bok := parseSemver(b)
		if aok && va.compare(va) != 0 {
			t.Errorf("%q is not equal to itself", a)
		}
		if aok && bok && va.compare(vb) != -vb.compare(va) {
			t.Errorf("compare(%q, %q) is not antisymmetric", a, b)
		}
		if got := pickTag([]string{a, b}); got != a && got != b {
			t.Errorf("pickTag returned %q, not one of its inputs", got)
		}
	})
}

// FuzzFirstParent: commit objects are repository content.
func FuzzFirstParent(f *testing.F) {
	f.Add("tree t\nparent p\n\nm")
	f.Add("parent \n")
	f.Fuzz(func(t *testing.T, raw string) {
		p := firstParent(raw)
		if p != "" && !strings.Contains(raw, "parent "+p) {
			t.Errorf("firstParent(%q) = %q, not from a parent header", raw, p)
		}
	})
}
