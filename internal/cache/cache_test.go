package cache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/store/sqlite"
)

func str(s string) *string { return &s }

// Every field of the key input changes the key, and the encoding cannot be
// fooled by moving bytes between fields.
func TestKeyDependsOnEveryInput(t *testing.T) {
	base := KeyInput{Executor: "local", Sandbox: "on", Workdir: "", Shell: "sh", Command: "go build",
		Env: map[string]string{"A": "1"}, HostEnv: map[string]*string{"GOFLAGS": str("-mod=mod")},
		Matrix: map[string]string{"go": "1.22"}, Needs: map[string]string{"gen": "sha256:aa"},
		Patterns: []string{"**/*.go"}, Inputs: []InputFile{{Path: "a.go", Digest: "11", Mode: "f"}},
		Secrets: map[string]string{"TOKEN": SecretMAC([]byte("k"), "v1")}, Outputs: []string{"bin/app"}}
	mutations := map[string]func(*KeyInput){
		"executor":       func(k *KeyInput) { k.Executor = "container" },
		"sandbox":        func(k *KeyInput) { k.Sandbox = "off" },
		"workdir":        func(k *KeyInput) { k.Workdir = "sub" },
		"shell":          func(k *KeyInput) { k.Shell = "bash" },
		"command":        func(k *KeyInput) { k.Command = "go build " },
		"action":         func(k *KeyInput) { k.Action = "publish" },
		"with":           func(k *KeyInput) { k.With = map[string]any{"x": 1} },
		"env value":      func(k *KeyInput) { k.Env = map[string]string{"A": "2"} },
		"env name":       func(k *KeyInput) { k.Env = map[string]string{"B": "1"} },
		"host env":       func(k *KeyInput) { k.HostEnv = map[string]*string{"GOFLAGS": str("")} },
		"host env unset": func(k *KeyInput) { k.HostEnv = map[string]*string{"GOFLAGS": nil} },
		"matrix":         func(k *KeyInput) { k.Matrix = map[string]string{"go": "1.23"} },
		"needs":          func(k *KeyInput) { k.Needs = map[string]string{"gen": "sha256:ab"} },
		"patterns":       func(k *KeyInput) { k.Patterns = []string{"*.go"} },
		"input content":  func(k *KeyInput) { k.Inputs = []InputFile{{Path: "a.go", Digest: "12", Mode: "f"}} },
		"input mode":     func(k *KeyInput) { k.Inputs = []InputFile{{Path: "a.go", Digest: "11", Mode: "x"}} },
		"input path":     func(k *KeyInput) { k.Inputs = []InputFile{{Path: "b.go", Digest: "11", Mode: "f"}} },
		"secret value":   func(k *KeyInput) { k.Secrets = map[string]string{"TOKEN": SecretMAC([]byte("k"), "v2")} },
		"outputs":        func(k *KeyInput) { k.Outputs = nil },
		"shifted bytes":  func(k *KeyInput) { k.Shell, k.Command = "shgo", " build" },
	}
	seen := map[string]string{Key(base): "base"}
	for name, mutate := range mutations {
		in := base
		mutate(&in)
		k := Key(in)
		if prev, dup := seen[k]; dup {
			t.Errorf("%s gives the same key as %s", name, prev)
		}
		seen[k] = name
	}
	if Key(base) != Key(base) {
		t.Error("key is not deterministic")
	}
	if strings.Contains(Key(base), "v1") {
		t.Error("key shows a secret")
	}
}

func TestHashInputs(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a.go", "sub/b.go", "vendor/v.go", "README.md", ".git/config"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755) //nolint:errcheck
		if err := os.WriteFile(filepath.Join(root, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files, err := HashInputs(context.Background(), root, []string{"**/*.go", "!vendor/**", "**/config"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	if strings.Join(got, " ") != "a.go sub/b.go" {
		t.Errorf("inputs = %v", got)
	}
	if files[0].Digest == files[1].Digest {
		t.Error("different files, same digest")
	}
}

func TestLocalBackend(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, _ := cas.Open(filepath.Join(dir, "cas"))
	l := NewLocal(db.CacheIndex(), blobs)
	if _, err := l.Get(ctx, "k"); !errors.Is(err, ErrMiss) {
		t.Fatalf("empty cache: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "out.txt"), []byte("result"), 0o644) //nolint:errcheck
	tree, _, err := blobs.Snapshot(dir, []string{"out.txt"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logD, _ := blobs.PutBytes([]byte("log"))
	for i, k := range []string{"k1", "k2", "k3"} {
		if err := l.Put(ctx, &Entry{Key: k, Step: "s", Outputs: tree, Log: logD, Size: int64(100 * (i + 1))}); err != nil {
			t.Fatal(err)
		}
	}
	e, err := l.Get(ctx, "k1")
	if err != nil || e.Outputs != tree || e.Log != logD {
		t.Fatalf("Get = %+v, %v", e, err)
	}
	// k1 is now the most recently used: evicting down to 400 bytes drops k2.
	n, err := l.Evict(ctx, 400)
	if err != nil || n != 1 {
		t.Fatalf("Evict = %d, %v", n, err)
	}
	if _, err := l.Get(ctx, "k2"); !errors.Is(err, ErrMiss) {
		t.Errorf("k2 survived eviction: %v", err)
	}
	// Lost content makes an entry a miss, and forgets it.
	blobs.Delete(logD) //nolint:errcheck
	if _, err := l.Get(ctx, "k3"); !errors.Is(err, ErrMiss) {
		t.Errorf("entry with missing log: %v", err)
	}
}
