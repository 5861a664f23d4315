package quality

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/slipway-ci/slipway/internal/change/changetest"
)

// numbered returns lines "prefix1".."prefixN", one per line.
func numbered(prefix string, n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s%d\n", prefix, i)
	}
	return b.String()
}

func TestChangedLines(t *testing.T) {
	r := changetest.NewRepo(t)
	r.Write("a.txt", numbered("a", 10))
	r.Write("gone.txt", "bye\n")
	r.Write("img.bin", "\x00\x01\x02")
	r.Commit("base")
	base := r.Rev("HEAD")
	r.Branch("feature")
	// Line 3 modified, 5-6 deleted, two lines added after 9.
	r.Write("a.txt", "a1\na2\nA3\na4\na7\na8\na9\nnew1\nnew2\na10\n")
	r.Remove("gone.txt")
	r.Write("img.bin", "\x00\x01\x03")
	r.Write("café/b.txt", "x\ny\n")
	r.Commit("feature work")
	// A commit on main after the branch point is not the change's code.
	r.Checkout("main")
	r.Write("main-only.txt", "m\n")
	r.Commit("main moves on")
	r.Checkout("feature")
	// Uncommitted: staged and unstaged edits, and an untracked file.
	r.Write("a.txt", "a1\na2\nA3\na4\na7\na8\na9\nnew1\nnew2\na10\ntail\n")
	r.Write("untracked.go", "package x\n\nfunc F() {}")
	r.Write(".gitignore", "ignored.txt\n")
	r.Write("ignored.txt", "no\n")

	got, err := ChangedLines(context.Background(), r.Dir(), "main")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]LineRange{
		"a.txt":        {{3, 3}, {8, 9}, {11, 11}},
		"café/b.txt":   {{1, 2}},
		"untracked.go": {{1, 3}},
		".gitignore":   {{1, 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changed lines (-want +got):\n%s", diff)
	}

	all, err := ChangedLines(context.Background(), r.Dir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]LineRange{{1, 11}}, all["a.txt"]); diff != "" {
		t.Errorf("without a base every line is new (-want +got):\n%s", diff)
	}

	same, err := ChangedLines(context.Background(), r.Dir(), base)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := same["main-only.txt"]; ok {
		t.Error("a file of another branch counted as changed")
	}
}

func TestChangedLinesErrors(t *testing.T) {
	r := changetest.NewRepo(t)
	r.Write("a", "1\n")
	r.Commit("one")
	_, err := ChangedLines(context.Background(), r.Dir(), "no-such-branch")
	if !errors.Is(err, ErrGit) || !strings.Contains(err.Error(), `base "no-such-branch"`) {
		t.Errorf("error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ChangedLines(ctx, r.Dir(), "HEAD"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error = %v", err)
	}
}

func TestParseUnifiedZero(t *testing.T) {
	diff := "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n@@ -5,2 +4,0 @@\n-c\n-d\n@@ -9,0 +9,3 @@\n+e\n" +
		"diff --git a/del b/del\n--- a/del\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n" +
		"diff --git \"a/t\\tab\" \"b/t\\tab\"\n--- \"a/t\\tab\"\n+++ \"b/t\\tab\"\n@@ -0,0 +1,2 @@\n+q\n+r\n"
	got, err := parseUnifiedZero([]byte(diff))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]LineRange{"x": {{1, 1}, {9, 11}}, "t\tab": {{1, 2}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parseUnifiedZero([]byte("+++ b/x\n@@ -1 +x @@\n")); err == nil {
		t.Error("bad hunk header accepted")
	}
}
