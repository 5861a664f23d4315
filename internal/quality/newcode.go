package quality

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// LineRange is lines Start..End of a file, both included, from 1.
type LineRange struct {
	Start, End int
}

// Len is the number of lines in the range.
func (r LineRange) Len() int { return r.End - r.Start + 1 }

// Contains reports whether line is in the range.
func (r LineRange) Contains(line int) bool { return line >= r.Start && line <= r.End }

// ErrGit wraps failures of the git command.
var ErrGit = errors.New("git failed")

// maxUntrackedBytes bounds how much of an untracked file is read to count
// its lines.
const maxUntrackedBytes = 16 << 20

// ChangedLines returns the lines added or modified by the change, per file
// (slash-separated paths relative to root, the top of a git work tree),
// as sorted, non-overlapping ranges. Deleted lines are not listed.
//
// The change is what a pull request would show plus what is not committed
// yet: the diff from the merge-base of base and HEAD (git's base...HEAD) to
// the work tree, staged or not, plus every line of untracked files that are
// not ignored. Using the merge-base means commits on base that the change
// does not contain never count as the change's code. An empty base means
// there is no base (a root commit): every line of every tracked and
// untracked file is new. Binary files are skipped.
func ChangedLines(ctx context.Context, root, base string) (map[string][]LineRange, error) {
	g := gitRunner{dir: root}
	from, err := g.diffBase(ctx, base)
	if err != nil {
		return nil, err
	}
	out, err := g.run(ctx, "-c", "core.quotePath=false", "diff", "--unified=0", "--no-color", "--no-renames",
		"--no-relative", "--no-ext-diff", "--no-textconv", "--diff-filter=d", from, "--")
	if err != nil {
		return nil, err
	}
	changed, err := parseUnifiedZero(out)
	if err != nil {
		return nil, fmt.Errorf("reading git diff: %w", err)
	}
	untracked, err := g.run(ctx, "ls-files", "-z", "--others", "--exclude-standard", "--full-name")
	if err != nil {
		return nil, err
	}
	for _, p := range strings.Split(string(untracked), "\x00") {
		if p == "" {
			continue
		}
		if n, text := countLines(filepath.Join(root, filepath.FromSlash(p))); text && n > 0 {
			changed[p] = []LineRange{{1, n}}
		}
	}
	return changed, nil
}

// diffBase resolves the commit (or tree) the diff starts from.
func (g gitRunner) diffBase(ctx context.Context, base string) (string, error) {
	if base == "" {
		out, err := g.runInput(ctx, nil, "hash-object", "-t", "tree", "--stdin")
		return strings.TrimSpace(string(out)), err
	}
	out, err := g.run(ctx, "merge-base", base, "HEAD")
	if err != nil {
		return "", fmt.Errorf("base %q: no common ancestor with HEAD: %w", base, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// parseUnifiedZero reads `git diff --unified=0` output: the new-side file
// of each "+++ b/path" header and the new-side range of each hunk header
// "@@ -a,b +c,d @@".
func parseUnifiedZero(diff []byte) (map[string][]LineRange, error) {
	changed := map[string][]LineRange{}
	file := ""
	sc := bufio.NewScanner(bytes.NewReader(diff))
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "diff --git "):
			file = ""
		case strings.HasPrefix(line, "+++ "):
			name := strings.TrimPrefix(line, "+++ ")
			if name == "/dev/null" {
				file = ""
				continue
			}
			name, err := unquoteGitPath(name)
			if err != nil {
				return nil, err
			}
			file = strings.TrimPrefix(name, "b/")
		case strings.HasPrefix(line, "@@ ") && file != "":
			r, ok, err := hunkRange(line)
			if err != nil {
				return nil, err
			}
			if ok {
				changed[file] = append(changed[file], r)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for f, rs := range changed {
		changed[f] = mergeRanges(rs)
	}
	return changed, nil
}

// hunkRange parses the "+c,d" part of a hunk header; ok is false for a
// hunk that only deletes (d == 0).
func hunkRange(header string) (LineRange, bool, error) {
	fields := strings.Fields(header)
	if len(fields) < 3 || !strings.HasPrefix(fields[2], "+") {
		return LineRange{}, false, fmt.Errorf("bad hunk header %q", clip(header))
	}
	startS, countS, hasCount := strings.Cut(fields[2][1:], ",")
	start, err := strconv.Atoi(startS)
	n := 1
	if err == nil && hasCount {
		n, err = strconv.Atoi(countS)
	}
	if err != nil || start < 0 || n < 0 {
		return LineRange{}, false, fmt.Errorf("bad hunk header %q", clip(header))
	}
	if n == 0 {
		return LineRange{}, false, nil
	}
	return LineRange{start, start + n - 1}, true, nil
}

// unquoteGitPath undoes git's C-style quoting of unusual file names
// ("\"b/caf\\303\\251\"").
func unquoteGitPath(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
		case i+1 >= len(s):
			return "", fmt.Errorf("bad quoted path %q", clip(s))
		case s[i+1] >= '0' && s[i+1] <= '7' && i+3 < len(s):
			v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
			if err != nil {
				return "", fmt.Errorf("bad quoted path %q", clip(s))
			}
			b.WriteByte(byte(v))
			i += 3
		default:
			i++
			b.WriteByte(unescape(s[i]))
		}
	}
	return "", fmt.Errorf("bad quoted path %q", clip(s))
}

// unescape is the byte a C escape letter stands for; \\ and \" stand for
// themselves.
func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'a':
		return '\a'
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'r':
		return '\r'
	case 'v':
		return '\v'
	}
	return c
}

// mergeRanges sorts ranges and joins overlapping or adjacent ones.
func mergeRanges(rs []LineRange) []LineRange {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r.Start <= out[n-1].End+1 {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}

// countLines counts the lines of a file; text is false for binary files
// (a NUL byte in the first 8 KiB) and unreadable ones.
func countLines(name string) (n int, text bool) {
	f, err := os.Open(name)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxUntrackedBytes))
	if err != nil || bytes.IndexByte(data[:min(len(data), 8<<10)], 0) >= 0 {
		return 0, false
	}
	n = bytes.Count(data, []byte{'\n'})
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n, true
}

// gitRunner runs git in one work tree.
type gitRunner struct{ dir string }

func (g gitRunner) run(ctx context.Context, args ...string) ([]byte, error) {
	return g.runInput(ctx, strings.NewReader(""), args...)
}

func (g gitRunner) runInput(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", g.dir}, args...)...)
	cmd.Env = gitEnviron()
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: git %s: %v: %s", ErrGit, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// gitEnviron is the environment without variables that point git at
// another repository, with stable output and no optional locks.
func gitEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
			"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "GIT_PAGER=cat", "GIT_OPTIONAL_LOCKS=0", "GIT_TERMINAL_PROMPT=0")
}
