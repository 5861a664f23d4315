// Package secretstest is the contract every secrets.Provider meets. Each
// implementation's tests call Run with a constructor that serves a given set
// of secrets.
package secretstest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/secrets"
)

// Values are the secrets the suite asks providers to serve: shapes that
// break naive quoting, parsing or prefix matching.
var Values = map[string]string{
	"PLAIN":             "s3cr3t-value",
	"SPACES":            "  leading and trailing  ",
	"MULTI_LINE":        "-----BEGIN KEY-----\nMIIBVQIBADANBgkq\nhkiG9w0BAQEFAASC\n-----END KEY-----\n",
	"NO_FINAL_NEWLINE":  "line one\nline two",
	"CRLF":              "line one\r\nline two\r\n",
	"UNICODE":           "pässwörd-密码-🔑",
	"SYMBOLS":           `a=b:c#d'e"f\g$h{i}[j],k&l*m!n%o|p>q<r @s`,
	"LOOKS_LIKE_NUMBER": "0123",
	"LOOKS_LIKE_BOOL":   "true",
	"LOOKS_LIKE_NULL":   "null",
	"DASH":              "- item",
	"LONG":              strings.Repeat("0123456789abcdef", 256),
	"Token":             "mixed-case-name",
	"TOKEN":             "upper-case-name",
	"_LEADING":          "underscore",
	"DB_PASSWORD":       "hunter2-longer",
}

// Run checks the Provider contract. newProvider must return a provider that
// has exactly the given secrets.
func Run(t *testing.T, newProvider func(t *testing.T, secrets map[string]string) secrets.Provider) {
	t.Run("Name", func(t *testing.T) {
		if newProvider(t, Values).Name() == "" {
			t.Error("Name() is empty")
		}
	})
	t.Run("ExactValues", func(t *testing.T) { testExactValues(t, newProvider(t, Values)) })
	t.Run("Missing", func(t *testing.T) { testMissing(t, newProvider(t, Values)) })
	t.Run("NoSecrets", func(t *testing.T) {
		p := newProvider(t, map[string]string{})
		_, err := secrets.Resolve(context.Background(), p, []string{"PLAIN"})
		if !errors.Is(err, secrets.ErrNotSet) {
			t.Errorf("Resolve on an empty provider: err = %v, want ErrNotSet", err)
		}
	})
	t.Run("Resolve", func(t *testing.T) { testResolve(t, newProvider(t, Values)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newProvider(t, Values)) })
	t.Run("CancelledContext", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		v, ok, err := newProvider(t, Values).Lookup(ctx, "PLAIN")
		if err == nil && (!ok || v != Values["PLAIN"]) {
			t.Errorf("Lookup with a cancelled context = %q, %v, nil: want the value or an error", v, ok)
		}
	})
}

func testExactValues(t *testing.T, p secrets.Provider) {
	for _, name := range slices.Sorted(maps.Keys(Values)) {
		v, ok, err := p.Lookup(context.Background(), name)
		if err != nil || !ok {
			t.Errorf("Lookup(%q) = ok %v, err %v; want the value", name, ok, err)
			continue
		}
		if v != Values[name] {
			t.Errorf("Lookup(%q) = %q, want %q", name, v, Values[name])
		}
	}
}

func testMissing(t *testing.T, p secrets.Provider) {
	// Absent, other case, prefix and extension of known names.
	for _, name := range []string{"ABSENT", "token", "plain", "DB", "DB_PASSWORD_2", "LEADING"} {
		v, ok, err := p.Lookup(context.Background(), name)
		if err != nil || ok || v != "" {
			t.Errorf("Lookup(%q) = %q, %v, %v; want \"\", false, nil", name, v, ok, err)
		}
	}
}

func testResolve(t *testing.T, p secrets.Provider) {
	ctx := context.Background()
	got, err := secrets.Resolve(ctx, p, []string{"PLAIN", "MULTI_LINE", "PLAIN"})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	want := map[string]string{"PLAIN": Values["PLAIN"], "MULTI_LINE": Values["MULTI_LINE"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve (-want +got):\n%s", diff)
	}
	_, err = secrets.Resolve(ctx, p, []string{"MISSING_B", "PLAIN", "MISSING_A"})
	var me *secrets.MissingError
	if !errors.As(err, &me) {
		t.Fatalf("Resolve with missing names: err = %v, want *MissingError", err)
	}
	if diff := cmp.Diff([]string{"MISSING_B", "MISSING_A"}, me.Names); diff != "" {
		t.Errorf("MissingError.Names (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), Values["PLAIN"]) {
		t.Errorf("error reveals a value: %v", err)
	}
}

func testConcurrent(t *testing.T, p secrets.Provider) {
	names := slices.Sorted(maps.Keys(Values))
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(names))
	for g := range 8 {
		wg.Go(func() {
			for i := range names {
				name := names[(i+g)%len(names)]
				if v, ok, err := p.Lookup(context.Background(), name); err != nil || !ok || v != Values[name] {
					errs <- name
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for name := range errs {
		t.Errorf("concurrent Lookup(%q) gave a wrong answer", name)
	}
}
