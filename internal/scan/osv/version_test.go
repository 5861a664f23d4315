package osv

import "testing"

func TestComparePEP440(t *testing.T) {
	// Each version sorts strictly before the next (PEP 440's examples).
	order := []string{"1.0.dev456", "1.0a1", "1.0a2.dev456", "1.0a12.dev456", "1.0a12", "1.0b1.dev456",
		"1.0b2", "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456", "1.0rc1", "1.0", "1.0+abc.5",
		"1.0+abc.7", "1.0+5", "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1", "1!0.1"}
	for i := 0; i+1 < len(order); i++ {
		c, ok := comparePEP440(order[i], order[i+1])
		if !ok || c >= 0 {
			t.Errorf("compare(%s, %s) = %d, %v; want < 0", order[i], order[i+1], c, ok)
		}
		if c, _ := comparePEP440(order[i+1], order[i]); c <= 0 {
			t.Errorf("compare(%s, %s) = %d; want > 0", order[i+1], order[i], c)
		}
	}
	equal := [][2]string{{"1.0", "1.0.0"}, {"1.0alpha1", "1.0a1"}, {"1.0-1", "1.0.post1"}, {"1.0c1", "1.0rc1"}, {"v2.0", "2.0"}, {"1.0.DEV", "1.0.dev0"}}
	for _, p := range equal {
		if c, ok := comparePEP440(p[0], p[1]); !ok || c != 0 {
			t.Errorf("compare(%s, %s) = %d, %v; want equal", p[0], p[1], c, ok)
		}
	}
	for _, bad := range []string{"", "abc", "1.0-beta-x", "1..0", "99999999999999999999999"} {
		if _, ok := parsePEP440(bad); ok {
			t.Errorf("parsePEP440(%q) ok, want invalid", bad)
		}
	}
}

func TestCompareSemver(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"1.2.3", "v1.2.3", 0, true},
		{"1.0.0-rc.1", "1.0.0", -1, true},
		{"0.0.0-20200124225646-8b5121be2f68", "0.1.0", -1, true},
		{"1.10.0", "1.9.0", 1, true},
		{"1.0.0+build", "1.0.0", 0, true},
		{"latest", "1.0.0", 0, false},
	}
	for _, tt := range tests {
		if got, ok := compareSemver(tt.a, tt.b); got != tt.want || ok != tt.ok {
			t.Errorf("compareSemver(%s, %s) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCVSS3BaseScore(t *testing.T) {
	tests := []struct {
		vector string
		want   float64
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4},
		{"CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:P", 7.5}, // temporal metrics ignored
	}
	for _, tt := range tests {
		got, err := CVSS3BaseScore(tt.vector)
		if err != nil || got != tt.want {
			t.Errorf("CVSS3BaseScore(%s) = %v, %v; want %v", tt.vector, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "CVSS:2.0/AV:N", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H"} {
		if _, err := CVSS3BaseScore(bad); err == nil {
			t.Errorf("CVSS3BaseScore(%q) succeeded, want an error", bad)
		}
	}
}

func TestCompareDeb(t *testing.T) {
	// Each version sorts strictly before the next, as dpkg --compare-versions says.
	order := []string{"0", "1.0~rc1", "1.0", "1.0-1", "1.0-1ubuntu0.1", "1.0-2", "1.0a", "1.0+dfsg-1", "1.2.3-1~deb12u1",
		"1.2.3-1", "2.36-9+deb12u7", "2.36-9+deb12u10", "1:0.1"}
	for i := 0; i+1 < len(order); i++ {
		if c, ok := compareDeb(order[i], order[i+1]); !ok || c >= 0 {
			t.Errorf("compareDeb(%s, %s) = %d, %v; want < 0", order[i], order[i+1], c, ok)
		}
		if c, _ := compareDeb(order[i+1], order[i]); c <= 0 {
			t.Errorf("compareDeb(%s, %s) = %d; want > 0", order[i+1], order[i], c)
		}
	}
	for _, eco := range []string{"Debian", "Debian:12", "Ubuntu:22.04:LTS"} {
		if comparerFor("ECOSYSTEM", eco) == nil {
			t.Errorf("no ordering for %s", eco)
		}
	}
}
