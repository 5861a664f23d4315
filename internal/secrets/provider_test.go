package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"A", true}, {"_", true}, {"db_pass2", true}, {"_X9", true},
		{"", false}, {"9A", false}, {"A-B", false}, {"A.B", false}, {"A B", false}, {"Ä", false}, {"<<", false},
	} {
		if got := ValidName(tt.name); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fakeProvider answers from a map or fails with err.
type fakeProvider struct {
	name   string
	values map[string]string
	err    error
	calls  int
}

func (f *fakeProvider) Name() string { return f.name }

func (f *fakeProvider) Lookup(_ context.Context, name string) (string, bool, error) {
	f.calls++
	if f.err != nil {
		return "", false, f.err
	}
	v, ok := f.values[name]
	return v, ok, nil
}

func TestChain(t *testing.T) {
	errDown := errors.New("vault is down")
	first := &fakeProvider{name: "first", values: map[string]string{"A": "from-first"}}
	second := &fakeProvider{name: "second", values: map[string]string{"A": "from-second", "B": "b-value"}}
	failing := &fakeProvider{name: "failing", err: errDown}
	ctx := context.Background()

	tests := []struct {
		name    string
		chain   Chain
		lookup  string
		want    string
		wantOK  bool
		wantErr error
	}{
		{"first wins", Chain{first, second}, "A", "from-first", true, nil},
		{"falls through", Chain{first, second}, "B", "b-value", true, nil},
		{"nobody has it", Chain{first, second}, "C", "", false, nil},
		{"empty chain", Chain{}, "A", "", false, nil},
		{"error stops the search", Chain{failing, second}, "B", "", false, errDown},
		{"found before the failing one", Chain{first, failing}, "A", "from-first", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok, err := tt.chain.Lookup(ctx, tt.lookup)
			if v != tt.want || ok != tt.wantOK || !errors.Is(err, tt.wantErr) {
				t.Errorf("Lookup(%q) = %q, %v, %v; want %q, %v, %v", tt.lookup, v, ok, err, tt.want, tt.wantOK, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "failing") {
				t.Errorf("error %q does not name the provider", err)
			}
		})
	}
	if got, want := (Chain{first, second}).Name(), "chain(first, second)"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
}

func TestChainCancelled(t *testing.T) {
	p := &fakeProvider{name: "p", values: map[string]string{"A": "aaaa"}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := (Chain{p}).Lookup(ctx, "A"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if p.calls != 0 {
		t.Errorf("provider called %d times after cancel", p.calls)
	}
}

func TestResolveErrors(t *testing.T) {
	p := &fakeProvider{name: "p", values: map[string]string{"A": "aaaa"}}
	ctx := context.Background()

	_, err := Resolve(ctx, p, []string{"X", "A", "Y", "X"})
	want := `secret "X" is not set (set SLIPWAY_SECRET_X or add it to the secrets file)` + "\n" +
		`secret "Y" is not set (set SLIPWAY_SECRET_Y or add it to the secrets file)`
	if err == nil || err.Error() != want {
		t.Errorf("missing: err = %v, want\n%s", err, want)
	}
	if !errors.Is(err, ErrNotSet) {
		t.Error("missing: errors.Is(err, ErrNotSet) = false")
	}

	_, err = Resolve(ctx, p, []string{"A", "bad-name", "9X"})
	if err == nil || !strings.Contains(err.Error(), `"bad-name"`) || !strings.Contains(err.Error(), `"9X"`) {
		t.Errorf("invalid names: err = %v, want both names listed", err)
	}

	errDown := errors.New("down")
	_, err = Resolve(ctx, &fakeProvider{name: "p", err: errDown}, []string{"A"})
	if !errors.Is(err, errDown) || !strings.Contains(err.Error(), `"A"`) {
		t.Errorf("provider failure: err = %v, want it wrapped with the name", err)
	}

	got, err := Resolve(ctx, p, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("no names: %v, %v; want empty map", got, err)
	}
}
