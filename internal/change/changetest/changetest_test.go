package changetest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRepo(t *testing.T) {
	t.Parallel()
	build := func() (*Repo, string, string) {
		r := NewRepo(t)
		r.Write("dir/a.txt", "a")
		c1 := r.Commit("one")
		r.Branch("feature")
		r.Write("b", "b")
		c2 := r.Commit("two")
		r.Tag("v1.0.0")
		return r, c1, c2
	}
	r1, c1, c2 := build()
	r2, d1, d2 := build()
	if c1 != d1 || c2 != d2 {
		t.Errorf("same fixture, different shas: %s %s vs %s %s", c1, c2, d1, d2)
	}
	if got := r1.Git("symbolic-ref", "--short", "HEAD"); got != "feature" {
		t.Errorf("branch = %q, want feature", got)
	}
	if got := r1.Rev("v1.0.0"); got != c2 {
		t.Errorf("tag v1.0.0 = %s, want %s", got, c2)
	}
	r1.Checkout("main")
	if _, err := os.Stat(filepath.Join(r1.Dir(), "b")); !os.IsNotExist(err) {
		t.Errorf("b exists on main: %v", err)
	}
	r2.Checkout(c1)
	if got := r2.Git("rev-parse", "--abbrev-ref", "HEAD"); got != "HEAD" {
		t.Errorf("Checkout(sha) left HEAD at %q, want detached", got)
	}
	r2.Remove("dir")
	r2.Commit("remove")
	if got := r2.Git("ls-files"); got != "" {
		t.Errorf("files after Remove+Commit: %q", got)
	}
	shallow := Clone(t, r1.URL(), "--depth=1")
	if got := shallow.Git("rev-parse", "--is-shallow-repository"); got != "true" {
		t.Errorf("Clone --depth=1 is not shallow")
	}
}
