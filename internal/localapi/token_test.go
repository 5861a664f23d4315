package localapi

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestTokenCreatedPrivateAndReused(t *testing.T) {
	dir := t.TempDir()
	tok, err := Token(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 64 {
		t.Fatalf("token %q: want 64 hex chars", tok)
	}
	assertMode(t, tokenPath(dir), 0o600)
	assertMode(t, upDir(dir), 0o700|os.ModeDir)
	again, err := Token(dir)
	if err != nil || again != tok {
		t.Fatalf("second Token = %q, %v; want the first %q", again, err, tok)
	}
}

func TestTokenRacingCreatorsAgree(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	toks := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			tok, err := Token(dir)
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	for i := range toks {
		if toks[i] != toks[0] {
			t.Fatalf("racing Token calls disagree: %q vs %q", toks[i], toks[0])
		}
	}
	if m, _ := filepath.Glob(filepath.Join(upDir(dir), "token.tmp-*")); len(m) != 0 {
		t.Fatalf("temp files left behind: %v", m)
	}
}

func TestTokenRefusesInsecureFile(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(tb testing.TB, path string)
		want    error
	}{
		{"group readable", chmodTo(0o640), ErrInsecureToken},
		{"world readable", chmodTo(0o604), ErrInsecureToken},
		{"symlink", func(tb testing.TB, path string) {
			tb.Helper()
			other := path + ".real"
			mustDo(tb, os.Rename(path, other))
			mustDo(tb, os.Symlink(other, path))
		}, ErrInsecureToken},
		{"malformed", func(tb testing.TB, path string) {
			tb.Helper()
			mustDo(tb, os.WriteFile(path, []byte("short"), 0o600))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Token(dir); err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, tokenPath(dir))
			_, err := Token(dir)
			if err == nil {
				t.Fatal("Token accepted the file")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
		})
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	f.Add("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n")
	f.Add("zz")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := parseToken(s)
		if err == nil && len(tok) != 64 {
			t.Fatalf("accepted %q as %q", s, tok)
		}
	})
}

func chmodTo(mode os.FileMode) func(testing.TB, string) {
	return func(tb testing.TB, path string) {
		tb.Helper()
		mustDo(tb, os.Chmod(path, mode))
	}
}

func assertMode(tb testing.TB, path string, want os.FileMode) {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	if got := fi.Mode() & (os.ModeDir | os.ModePerm); got != want {
		tb.Fatalf("%s: mode %v, want %v", path, got, want)
	}
}

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
