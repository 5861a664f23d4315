package trust

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRequired(t *testing.T) {
	tests := []struct {
		name  string
		p     Policy
		env   string
		extra []string
		want  []string
	}{
		{"defaults", Policy{}, "staging", nil, []string{Signature, Provenance}},
		{"configured replaces defaults", Policy{Set: true, Require: []string{Signature}}, "staging", nil, []string{Signature}},
		{"env adds", Policy{Set: true, Require: []string{Signature}, Environments: map[string][]string{"production": {SBOM}}}, "production", nil, []string{Signature, SBOM}},
		{"pipeline adds", Policy{}, "production", []string{SBOM}, []string{Signature, Provenance, SBOM}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Required(tt.env, tt.extra...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTighten(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2027, 1, d, 0, 0, 0, 0, time.UTC) }
	conf := Policy{Set: true, Keys: []Key{{Name: "a", Public: "a.pub"}, {Name: "b", Public: "b.pub", NotAfter: day(20)}},
		Builder: "https://slipway.dev/builder/local", Sources: []string{"x", "y"}, Require: []string{Signature}}
	tests := []struct {
		name    string
		repo    Policy
		check   func(t *testing.T, p Policy)
		loosens string
	}{
		{name: "subset of keys, shorter window, revocation", repo: Policy{Keys: []Key{{Name: "b", NotAfter: day(10), Revoked: true}}},
			check: func(t *testing.T, p Policy) {
				if len(p.Keys) != 1 || p.Keys[0].Name != "b" || !p.Keys[0].NotAfter.Equal(day(10)) || !p.Keys[0].Revoked {
					t.Errorf("keys = %+v", p.Keys)
				}
			}},
		{name: "cannot extend a window", repo: Policy{Keys: []Key{{Name: "b", NotAfter: day(30)}}},
			check: func(t *testing.T, p Policy) {
				if !p.Keys[0].NotAfter.Equal(day(20)) {
					t.Errorf("window extended to %v", p.Keys[0].NotAfter)
				}
			}},
		{name: "adds requirements", repo: Policy{Require: []string{SBOM}, Environments: map[string][]string{"production": {Provenance}}},
			check: func(t *testing.T, p Policy) {
				if got := p.Required("production"); !reflect.DeepEqual(got, []string{Signature, Provenance, SBOM}) {
					t.Errorf("production requires %v", got)
				}
			}},
		{name: "narrows sources", repo: Policy{Sources: []string{"y"}},
			check: func(t *testing.T, p Policy) {
				if !reflect.DeepEqual(p.Sources, []string{"y"}) {
					t.Errorf("sources %v", p.Sources)
				}
			}},
		{name: "new key", repo: Policy{Keys: []Key{{Name: "mine", Public: "mine.pub"}}}, loosens: `key "mine" is not a configured key`},
		{name: "swapped public part", repo: Policy{Keys: []Key{{Name: "a", Public: "other.pub"}}}, loosens: "cannot change a key's public part"},
		{name: "other builder", repo: Policy{Builder: "evil"}, loosens: `builder "evil"`},
		{name: "new source", repo: Policy{Sources: []string{"z"}}, loosens: `source "z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := conf.Tighten(tt.repo)
			if tt.loosens != "" {
				if !errors.Is(err, ErrLoosens) || !strings.Contains(err.Error(), tt.loosens) {
					t.Fatalf("err = %v, want ErrLoosens mentioning %q", err, tt.loosens)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
}

func TestKeyUsable(t *testing.T) {
	at := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		k    Key
		ok   bool
		want string
	}{
		{Key{Name: "k"}, true, ""},
		{Key{Name: "k", Revoked: true}, false, "revoked"},
		{Key{Name: "k", NotAfter: at.AddDate(0, 0, -1)}, false, "expired"},
		{Key{Name: "k", NotBefore: at.AddDate(0, 0, 1)}, false, "not valid before"},
	} {
		ok, why := tt.k.Usable(at)
		if ok != tt.ok || !strings.Contains(why, tt.want) {
			t.Errorf("%+v: got %v %q", tt.k, ok, why)
		}
	}
}

func TestLoadRepoErrors(t *testing.T) {
	_, err := LoadRepo(".slipway/trust.yaml", []byte("require: [signature, sbomm]\nbuilderr: x\n"))
	if err == nil || !strings.Contains(err.Error(), ".slipway/trust.yaml:1:22") || !strings.Contains(err.Error(), `"sbomm"`) ||
		!strings.Contains(err.Error(), ".slipway/trust.yaml:2:1") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzLoadRepo(f *testing.F) {
	f.Add([]byte("keys:\n  - name: a\n    revoked: true\nrequire: [sbom]\nenvironments:\n  production: {require: [provenance]}\n"))
	f.Add([]byte("keys: 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadRepo("trust.yaml", data)
		if err == nil {
			_, _ = Policy{Set: true}.Tighten(p)
		}
	})
}
