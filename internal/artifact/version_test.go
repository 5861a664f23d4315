package artifact

import (
	"context"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/internal/change"
)

func TestCompareVersions(t *testing.T) {
	// Ascending by semver precedence (semver.org §11), each pair checked.
	order := []string{
		"garbage", "v1", "v0.0.0-rc.1+abc", "v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta",
		"v1.0.0-beta", "v1.0.0-beta.2", "v1.0.0-beta.11", "v1.0.0-rc.1", "v1.0.0",
		"v1.0.1-rc.3+abc1234", "v1.0.1", "v1.2.0", "v1.10.0", "v2.0.0",
	}
	for i, a := range order {
		for j, b := range order {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := CompareVersions(a, b); got != want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
	if CompareVersions("v1.0.0+a", "v1.0.0+b") != 0 {
		t.Error("build metadata changed precedence")
	}
	for _, bad := range []string{"v01.0.0", "v1.0", "v1.0.0-", "v1.0.0-01", "v1.0.0+", "v1.0.0-a..b", "v1.0.0-ä"} {
		if _, _, ok := change.ParseVersion(bad); ok {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func TestTagSafe(t *testing.T) {
	v := "v1.2.4-rc.3+abc1234"
	got := TagSafe(v)
	if got != "v1.2.4-rc.3_abc1234" {
		t.Fatalf("TagSafe = %q", got)
	}
	if _, err := name.NewTag("127.0.0.1:5000/hello:" + got); err != nil {
		t.Errorf("not a valid tag: %v", err)
	}
}

// gitRepo makes a repository in a temporary directory; run runs git in it.
func gitRepo(t *testing.T) (dir string, run func(args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	run = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(cmd.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main")
	return dir, run
}

func TestVersion(t *testing.T) {
	ctx := context.Background()
	dir, git := gitRepo(t)
	commit := func() string {
		git("commit", "-q", "--allow-empty", "-m", "c")
		return git("rev-parse", "--short=7", "HEAD")
	}
	version := func() string {
		t.Helper()
		v, err := Version(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	commit()
	sha := commit()
	if got := version(); got != "v0.0.0-rc.2+"+sha {
		t.Errorf("untagged: %s, want v0.0.0-rc.2+%s", got, sha)
	}
	git("tag", "v1.2.3")
	git("tag", "-a", "-m", "release", "v1.10.0") // annotated, and higher
	git("tag", "not-a-version")
	if got := version(); got != "v1.10.0" {
		t.Errorf("tagged: %s, want v1.10.0", got)
	}
	commit()
	sha = commit()
	want := "v1.10.1-rc.2+" + sha
	if got := version(); got != want {
		t.Errorf("2 commits after v1.10.0: %s, want %s", got, want)
	}
	if CompareVersions(want, "v1.10.0") <= 0 || CompareVersions(want, "v1.10.1") >= 0 {
		t.Errorf("%s does not sort between v1.10.0 and v1.10.1", want)
	}
	git("tag", "v2.0.0-rc.1") // a pre-release names its commit but is no base
	if got := version(); got != "v2.0.0-rc.1" {
		t.Errorf("pre-release tag: %s", got)
	}
	sha = commit()
	if got := version(); got != "v1.10.1-rc.3+"+sha {
		t.Errorf("after a pre-release tag: %s", got)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+-rc\.\d+_[0-9a-f]{7,}$`).MatchString(TagSafe(version())) {
		t.Errorf("TagSafe(%s) is not a tag", version())
	}
	if _, err := Version(ctx, t.TempDir()); err == nil {
		t.Error("Version outside a git repository succeeded")
	}
}

func TestHighest(t *testing.T) {
	tags := []string{"v1.9.0", "v1.10.0-rc.1", "x", "v1.2.3"}
	if got := highest(tags, true); got != "v1.9.0" {
		t.Errorf("highest release = %s", got)
	}
	if got := highest(tags, false); got != "v1.10.0-rc.1" {
		t.Errorf("highest = %s", got)
	}
	sort.Slice(tags, func(i, j int) bool { return CompareVersions(tags[i], tags[j]) < 0 })
	if strings.Join(tags, " ") != "x v1.2.3 v1.9.0 v1.10.0-rc.1" {
		t.Errorf("sorted = %v", tags)
	}
}

func FuzzCompareVersions(f *testing.F) {
	for _, s := range []string{"v1.0.0", "v1.0.0-rc.1+abc", "1.2.3-alpha.01", "v0.0.0-rc.2+abc", "", "v99999999999999999999.0.0"} {
		f.Add(s, "v1.0.0-rc.1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersions(a, b), CompareVersions(b, a)
		if ab != -ba || CompareVersions(a, a) != 0 {
			t.Fatalf("CompareVersions(%q, %q) = %d, reverse %d", a, b, ab, ba)
		}
		if _, _, ok := change.ParseVersion(a); ok && !strings.Contains(TagSafe(a), "+") {
			return
		} else if ok {
			t.Fatalf("TagSafe(%q) kept a '+'", a)
		}
	})
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"127.0.0.1:5000/hello:v1", "hello@sha256:" + strings.Repeat("a", 64), "a/b/c", ":", "UPPER/x"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, insecure bool) {
		ref, err := ParseRef(s, insecure)
		if err != nil {
			return
		}
		again, err := ParseRef(ref.Name(), insecure)
		if err != nil || again.Name() != ref.Name() {
			t.Fatalf("ParseRef(%q).Name() = %q does not parse back: %v", s, ref.Name(), err)
		}
	})
}
