package cas

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t testing.TB, root, rel, content string, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func TestPutOpenVerifies(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d, n, err := s.Put(strings.NewReader("hello"))
	if err != nil || n != 5 || d != "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("Put = %s, %d, %v", d, n, err)
	}
	if d2, _, _ := s.Put(strings.NewReader("hello")); d2 != d {
		t.Fatal("same content, different digest")
	}
	if b, err := s.ReadAll(d); err != nil || string(b) != "hello" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	if err := os.WriteFile(s.Path(d), []byte("hellO"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAll(d); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt blob read: %v, want ErrCorrupt", err)
	}
	var seen int
	if err := s.Walk(func(BlobInfo) error { seen++; return nil }); err != nil || seen != 1 {
		t.Fatalf("Walk saw %d, %v", seen, err)
	}
	if err := s.Delete(d); err != nil || s.Has(d) {
		t.Fatalf("Delete: %v", err)
	}
}

func TestSnapshotRestore(t *testing.T) {
	s, _ := Open(t.TempDir())
	src := t.TempDir()
	write(t, src, "bin/app", "binary", 0o755)
	write(t, src, "dist/a.txt", "a", 0o644)
	write(t, src, "dist/sub/b.txt", "b", 0o600)
	write(t, src, "report.json", "{}", 0o644)
	write(t, src, "ignored.log", "x", 0o644)
	if err := os.Symlink("a.txt", filepath.Join(src, "dist/link")); err != nil {
		t.Fatal(err)
	}
	d, tree, err := s.Snapshot(src, []string{"bin/app", "dist", "*.json"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range tree.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "bin/app dist/a.txt dist/link dist/sub/b.txt report.json" {
		t.Fatalf("tree paths = %s", got)
	}
	d2, _, _ := s.Snapshot(src, []string{"*.json", "dist", "bin/app"}, nil)
	if d2 != d {
		t.Error("tree digest depends on pattern order")
	}
	dst := t.TempDir()
	write(t, dst, "dist/a.txt", "stale", 0o644)
	if err := s.Restore(d, dst); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{"bin/app": "binary", "dist/a.txt": "a", "dist/sub/b.txt": "b"} {
		b, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v", rel, b, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(dst, "bin/app")); fi.Mode()&0o111 == 0 {
		t.Error("executable bit lost")
	}
	if l, _ := os.Readlink(filepath.Join(dst, "dist/link")); l != "a.txt" {
		t.Errorf("symlink = %q", l)
	}
	d3, _, _ := s.Snapshot(dst, []string{"bin/app", "dist", "*.json"}, nil)
	if d3 != d {
		t.Error("restored tree snapshots differently")
	}
}

func TestSnapshotErrors(t *testing.T) {
	s, _ := Open(t.TempDir())
	src := t.TempDir()
	write(t, src, "secret.txt", "token", 0o644)
	if _, _, err := s.Snapshot(src, []string{"missing"}, nil); err == nil || !strings.Contains(err.Error(), `output "missing"`) {
		t.Errorf("missing output: %v", err)
	}
	if _, _, err := s.Snapshot(src, []string{"*.bin"}, nil); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("unmatched glob: %v", err)
	}
	stop := errors.New("has a secret")
	_, _, err := s.Snapshot(src, []string{"secret.txt"}, func(rel, abs string) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("check error = %v", err)
	}
	var blobs int
	s.Walk(func(BlobInfo) error { blobs++; return nil }) //nolint:errcheck
	if blobs != 0 {
		t.Errorf("a refused file was stored (%d blobs)", blobs)
	}
}

var _ = io.EOF
