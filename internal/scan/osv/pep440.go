package osv

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// pep440 is a parsed Python version (PEP 440): [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local].
type pep440 struct {
	epoch   int
	release []int
	pre     *[2]int // kind (a=0, b=1, rc=2), number
	post    *int
	dev     *int
	local   []string
}

// The normalising grammar from PEP 440's appendix, with its spellings
// (alpha, c, preview, rev, r, "-1" for post) and separators.
var pep440Re = regexp.MustCompile(`^v?(?:(\d+)!)?(\d+(?:\.\d+)*)` +
	`(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?` +
	`(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?` +
	`(?:[-_.]?(dev)[-_.]?(\d+)?)?` +
	`(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$`)

func parsePEP440(s string) (pep440, bool) {
	m := pep440Re.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return pep440{}, false
	}
	var v pep440
	var ok bool
	if m[1] != "" {
		if v.epoch, ok = atoi(m[1]); !ok {
			return pep440{}, false
		}
	}
	for _, p := range strings.Split(m[2], ".") {
		n, ok := atoi(p)
		if !ok {
			return pep440{}, false
		}
		v.release = append(v.release, n)
	}
	if m[3] != "" {
		kind := map[string]int{"a": 0, "alpha": 0, "b": 1, "beta": 1}[m[3]]
		if m[3] == "c" || m[3] == "rc" || m[3] == "pre" || m[3] == "preview" {
			kind = 2
		}
		n, _ := atoi(m[4])
		v.pre = &[2]int{kind, n}
	}
	if m[5] != "" || m[6] != "" {
		n, _ := atoi(m[5] + m[7])
		v.post = &n
	}
	if m[8] != "" {
		n, _ := atoi(m[9])
		v.dev = &n
	}
	if m[10] != "" {
		v.local = strings.FieldsFunc(m[10], func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	}
	return v, true
}

func atoi(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

func comparePEP440(a, b string) (int, bool) {
	va, ok1 := parsePEP440(a)
	vb, ok2 := parsePEP440(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return va.compare(vb), true
}

// compare follows the ordering of the reference implementation
// (packaging.version): X.devN < X.aN < X.bN < X.rcN < X < X.postN, and a
// dev release sorts before its pre/post release.
func (v pep440) compare(w pep440) int {
	if c := cmp.Compare(v.epoch, w.epoch); c != 0 {
		return c
	}
	if c := slices.Compare(trimZeros(v.release), trimZeros(w.release)); c != 0 {
		return c
	}
	if c := cmp.Compare(v.preKey(), w.preKey()); c != 0 {
		return c
	}
	if c := cmp.Compare(optKey(v.post, -1), optKey(w.post, -1)); c != 0 {
		return c
	}
	if c := cmp.Compare(optKey(v.dev, maxInt), optKey(w.dev, maxInt)); c != 0 {
		return c
	}
	return compareLocal(v.local, w.local)
}

const maxInt = int(^uint(0) >> 1)

// preKey sorts a bare dev release below every pre-release, and a final
// release above them.
func (v pep440) preKey() int {
	switch {
	case v.pre != nil:
		return v.pre[0]*1_000_000 + min(v.pre[1], 999_999)
	case v.post == nil && v.dev != nil:
		return -1
	}
	return maxInt
}

func optKey(p *int, absent int) int {
	if p == nil {
		return absent
	}
	return *p
}

func trimZeros(r []int) []int {
	for len(r) > 1 && r[len(r)-1] == 0 {
		r = r[:len(r)-1]
	}
	return r
}

// compareLocal: no local < any local; numeric segments sort above
// alphanumeric ones and compare as numbers.
func compareLocal(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		na, ea := strconv.Atoi(a[i])
		nb, eb := strconv.Atoi(b[i])
		switch {
		case ea == nil && eb == nil:
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
		case ea == nil:
			return 1
		case eb == nil:
			return -1
		default:
			if c := strings.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(a), len(b))
}
