package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/slipway-ci/slipway/internal/cas"
	"github.com/slipway-ci/slipway/internal/store/sqlite"
	"github.com/slipway-ci/slipway/internal/testtool"
)

// testRegistry is a real distribution registry with the cache repository.
type testRegistry struct {
	*testtool.Registry
	repo name.Repository
}

func startRegistry(t testing.TB) *testRegistry {
	t.Helper()
	reg := testtool.StartRegistry(t)
	repo, err := name.NewRepository(reg.Host + "/slipway/cache")
	if err != nil {
		t.Fatal(err)
	}
	return &testRegistry{reg, repo}
}

// blobPath is where the registry keeps a blob's bytes.
func (reg *testRegistry) blobPath(d cas.Digest) string { return reg.BlobPath(string(d)) }

// machine is one host's state dir: its own database and content store.
type machine struct {
	blobs  *cas.Store
	local  *Local
	remote *Remote
}

func newMachine(t testing.TB, repo name.Repository) *machine {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "slipway.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := cas.Open(filepath.Join(dir, "cas"))
	if err != nil {
		t.Fatal(err)
	}
	local := NewLocal(db.CacheIndex(), blobs)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	return &machine{blobs: blobs, local: local,
		remote: NewRemote(RemoteOptions{Repo: repo, Local: local, Blobs: blobs, Log: log})}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// outputs is the tree every test caches: plain, executable, nested, linked
// and duplicate-content files.
var outputs = map[string]string{
	"bin/app":       "#!/bin/sh\necho app\n",
	"out/a.txt":     "alpha\n",
	"out/deep/b.js": "console.log('b')\n",
	"out/copy.txt":  "alpha\n",
}

// putEntry snapshots outputs on m and caches them with a log under key.
func (m *machine) putEntry(t testing.TB, key string) *Entry {
	t.Helper()
	root := t.TempDir()
	for rel, content := range outputs {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755) //nolint:errcheck
		mode := fs.FileMode(0o644)
		if strings.HasPrefix(rel, "bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.txt", filepath.Join(root, "out/link")); err != nil {
		t.Fatal(err)
	}
	tree, tr, err := m.blobs.Snapshot(root, []string{"bin", "out"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	logD, err := m.blobs.PutBytes([]byte("building...\ndone\n"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{Key: key, Step: "build", Outputs: tree, Log: logD, Size: tr.Size() + 17}
	if err := m.remote.Put(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkRestored restores e on m into a fresh dir and compares it with outputs.
func (m *machine) checkRestored(t testing.TB, e *Entry) {
	t.Helper()
	dir := t.TempDir()
	if err := m.blobs.Restore(e.Outputs, dir); err != nil {
		t.Fatal(err)
	}
	for rel, want := range outputs {
		got, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", rel, got, err, want)
		}
	}
	if info, err := os.Stat(filepath.Join(dir, "bin/app")); err != nil || info.Mode()&0o111 == 0 {
		t.Errorf("bin/app lost its executable bit: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "out/link")); err != nil || target != "a.txt" {
		t.Errorf("out/link -> %q, %v", target, err)
	}
	log, err := m.blobs.ReadAll(e.Log)
	if err != nil || string(log) != "building...\ndone\n" {
		t.Errorf("log = %q, %v", log, err)
	}
}

const longKey = "sha256:0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080706050403020100+with/odd:chars and spaces, longer than any tag may be......................................................................"

func TestRemoteSharesEntriesBetweenMachines(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t)
	a, b := newMachine(t, reg.repo), newMachine(t, reg.repo)
	put := a.putEntry(t, longKey)

	got, err := b.remote.Get(ctx, longKey)
	if err != nil {
		t.Fatalf("machine B: %v", err)
	}
	if *got != *put {
		t.Errorf("machine B got %+v, want %+v", got, put)
	}
	b.checkRestored(t, got)

	// The hit is now local: B serves it with the registry gone.
	reg.Close()
	if e, err := b.local.Get(ctx, longKey); err != nil || *e != *put {
		t.Errorf("local after remote hit = %+v, %v", e, err)
	}
	if e, err := b.remote.Get(ctx, longKey); err != nil || *e != *put {
		t.Errorf("remote backend with registry down, local hit = %+v, %v", e, err)
	}
}

// The stored artifact is a well-formed OCI 1.1 artifact whose layers are the
// content store's blobs under the same digests, each once.
func TestRemoteArtifactShape(t *testing.T) {
	reg := startRegistry(t)
	a := newMachine(t, reg.repo)
	e := a.putEntry(t, "k")
	desc, err := remote.Get(reg.repo.Tag(RemoteTag("k")))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != ArtifactType || m.Config.MediaType != types.OCIEmptyJSON || m.Config.Size != 2 {
		t.Errorf("artifact type %q, config %+v", m.ArtifactType, m.Config)
	}
	if m.Annotations[annKey] != "k" || m.Annotations[annOutputs] != string(e.Outputs) || m.Annotations[annLog] != string(e.Log) {
		t.Errorf("annotations %v", m.Annotations)
	}
	tree, _ := a.blobs.ReadTree(e.Outputs)
	want := map[string]bool{string(e.Outputs): true, string(e.Log): true}
	for _, d := range tree.Blobs() {
		want[string(d)] = true
	}
	got := map[string]bool{}
	for _, l := range m.Layers {
		if got[l.Digest.String()] {
			t.Errorf("layer %s twice", l.Digest)
		}
		got[l.Digest.String()] = true
		if !a.blobs.Has(cas.Digest(l.Digest.String())) {
			t.Errorf("layer %s is not a local blob", l.Digest)
		}
	}
	if len(got) != len(want) || len(m.Layers) != 5 { // tree, 3 distinct files, log
		t.Errorf("layers %v, want %v", got, want)
	}
}

// A second entry with the same content uploads no blob: the registry
// already has them all.
func TestRemotePutSkipsKnownBlobs(t *testing.T) {
	reg := startRegistry(t)
	a := newMachine(t, reg.repo)
	a.putEntry(t, "first")
	if n := reg.Uploads.Load(); n != 6 { // 5 layers + the empty config
		t.Errorf("first push started %d uploads, want 6", n)
	}
	a.putEntry(t, "second")
	if n := reg.Uploads.Load(); n != 6 {
		t.Errorf("second push uploaded %d more blobs", n-6)
	}
	b := newMachine(t, reg.repo)
	if _, err := b.remote.Get(context.Background(), "second"); err != nil {
		t.Errorf("second entry: %v", err)
	}
}

func TestRemoteEntriesWithoutOutputsOrLog(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t)
	a, b := newMachine(t, reg.repo), newMachine(t, reg.repo)
	logD, _ := a.blobs.PutBytes([]byte("only a log"))
	for _, e := range []*Entry{{Key: "log-only", Step: "lint", Log: logD, Size: 10}, {Key: "nothing", Step: "noop"}} {
		if err := a.remote.Put(ctx, e); err != nil {
			t.Fatal(err)
		}
		got, err := b.remote.Get(ctx, e.Key)
		if err != nil || *got != *e {
			t.Errorf("%s: got %+v, %v", e.Key, got, err)
		}
	}
	if b, err := b.blobs.ReadAll(logD); err != nil || string(b) != "only a log" {
		t.Errorf("log = %q, %v", b, err)
	}
}

func TestRemoteMissingEntryIsPlainMiss(t *testing.T) {
	reg := startRegistry(t)
	b := newMachine(t, reg.repo)
	_, err := b.remote.Get(context.Background(), "never-stored")
	if !errors.Is(err, ErrMiss) || errors.Is(err, ErrRemoteInvalid) || errors.Is(err, ErrRemoteUnavailable) {
		t.Errorf("Get = %v", err)
	}
}

func TestRemoteRegistryDown(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	repo, _ := name.NewRepository(addr + "/slipway/cache")
	m := newMachine(t, repo)

	_, err = m.remote.Get(ctx, "k")
	var nerr net.Error
	if !errors.Is(err, ErrMiss) || !errors.Is(err, ErrRemoteUnavailable) || !errors.As(err, &nerr) {
		t.Errorf("Get with the registry down = %v", err)
	}
	logD, _ := m.blobs.PutBytes([]byte("log"))
	err = m.remote.Put(ctx, &Entry{Key: "k", Step: "s", Log: logD, Size: 3})
	if !errors.Is(err, ErrRemoteUnavailable) {
		t.Errorf("Put with the registry down = %v", err)
	}
	if _, err := m.local.Get(ctx, "k"); err != nil {
		t.Errorf("entry not kept locally after a failed push: %v", err)
	}
}

func TestRemoteReadOnlyDoesNotPush(t *testing.T) {
	ctx := context.Background()
	reg := startRegistry(t)
	a, b := newMachine(t, reg.repo), newMachine(t, reg.repo)
	a.remote.o.ReadOnly = true
	a.putEntry(t, "k")
	if _, err := a.local.Get(ctx, "k"); err != nil {
		t.Errorf("read-only Put did not keep the entry locally: %v", err)
	}
	if _, err := b.remote.Get(ctx, "k"); !errors.Is(err, ErrMiss) || reg.Uploads.Load() != 0 {
		t.Errorf("read-only Put pushed: Get = %v, uploads %d", err, reg.Uploads.Load())
	}
}

// rawManifest pushes a manifest as given.
type rawManifest []byte

func (r rawManifest) RawManifest() ([]byte, error)        { return r, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// pushManifest reads key's manifest, lets edit change it, and pushes the
// result under tag.
func pushManifest(t testing.TB, reg *testRegistry, key, tag string, edit func(*v1.Manifest, *Entry)) {
	t.Helper()
	desc, err := remote.Get(reg.repo.Tag(RemoteTag(key)))
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m, &Entry{Outputs: cas.Digest(m.Annotations[annOutputs]), Log: cas.Digest(m.Annotations[annLog])})
	raw, _ := json.Marshal(m)
	if err := remote.Put(reg.repo.Tag(tag), rawManifest(raw)); err != nil {
		t.Fatal(err)
	}
}

// fileBlob is the digest of outputs["out/a.txt"] on m.
func fileBlob(t testing.TB, m *machine, e *Entry) cas.Digest {
	t.Helper()
	tree, err := m.blobs.ReadTree(e.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tree.Files {
		if f.Path == "out/a.txt" {
			return f.Digest
		}
	}
	t.Fatal("no out/a.txt in the tree")
	return ""
}

// Whatever is wrong with the remote entry, machine B sees a miss, records
// nothing and keeps no unverified content.
func TestRemoteInvalidEntryIsMiss(t *testing.T) {
	const key = "sha256:feed"
	damage := map[string]func(t *testing.T, reg *testRegistry, a *machine, e *Entry){
		"file blob overwritten, same size": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			os.WriteFile(reg.blobPath(fileBlob(t, a, e)), []byte("ALPHA\n"), 0o644) //nolint:errcheck
		},
		"file blob truncated": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			os.WriteFile(reg.blobPath(fileBlob(t, a, e)), []byte("alp"), 0o644) //nolint:errcheck
		},
		"log blob lost": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			os.Remove(reg.blobPath(e.Log)) //nolint:errcheck
		},
		"tree blob garbage": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			p := reg.blobPath(e.Outputs)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Repeat([]byte("x"), len(b)), 0o644) //nolint:errcheck
		},
		"entry of another key under the tag": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			a.putEntry(t, "other")
			pushManifest(t, reg, "other", RemoteTag(key), func(*v1.Manifest, *Entry) {})
		},
		"tree names a blob the artifact lacks": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			pushManifest(t, reg, key, RemoteTag(key), func(m *v1.Manifest, e *Entry) {
				d := fileBlob(t, a, e)
				var keep []v1.Descriptor
				for _, l := range m.Layers {
					if l.Digest.String() != string(d) {
						keep = append(keep, l)
					}
				}
				m.Layers = keep
			})
		},
		"layer size lies": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			pushManifest(t, reg, key, RemoteTag(key), func(m *v1.Manifest, e *Entry) {
				for i := range m.Layers {
					if m.Layers[i].Digest.String() == string(e.Log) {
						m.Layers[i].Size--
					}
				}
			})
		},
		"outputs annotation escapes the store": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			pushManifest(t, reg, key, RemoteTag(key), func(m *v1.Manifest, e *Entry) {
				m.Annotations[annOutputs] = "sha256:../../../../escape"
			})
		},
		"not a cache artifact": func(t *testing.T, reg *testRegistry, a *machine, e *Entry) {
			pushManifest(t, reg, key, RemoteTag(key), func(m *v1.Manifest, e *Entry) {
				m.ArtifactType = "application/vnd.example.other"
			})
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			reg := startRegistry(t)
			a, b := newMachine(t, reg.repo), newMachine(t, reg.repo)
			fn(t, reg, a, a.putEntry(t, key))

			e, err := b.remote.Get(ctx, key)
			if !errors.Is(err, ErrMiss) || !errors.Is(err, ErrRemoteInvalid) {
				t.Fatalf("Get = %+v, %v; want a miss for an invalid entry", e, err)
			}
			if _, err := b.local.Get(ctx, key); !errors.Is(err, ErrMiss) {
				t.Errorf("invalid entry recorded locally: %v", err)
			}
			checkStoreVerifies(t, b.blobs)
		})
	}
}

// checkStoreVerifies reads back every blob of s.
func checkStoreVerifies(t testing.TB, s *cas.Store) {
	t.Helper()
	err := s.Walk(func(bi cas.BlobInfo) error {
		_, err := s.ReadAll(bi.Digest)
		return err
	})
	if err != nil {
		t.Errorf("content store keeps bad content: %v", err)
	}
}

func TestCheckTree(t *testing.T) {
	blob := cas.Digest("sha256:" + strings.Repeat("ab", 32))
	layers := map[cas.Digest]int64{blob: 3}
	file := func(p string) cas.File { return cas.File{Path: p, Mode: 0o644, Size: 3, Digest: blob} }
	link := func(p, to string) cas.File { return cas.File{Path: p, Mode: 0o777, Link: to} }
	tests := []struct {
		name  string
		files []cas.File
		ok    bool
	}{
		{"files and links", []cas.File{file("a"), file("d/b"), link("l", "../../x")}, true},
		{"parent path", []cas.File{file("../a")}, false},
		{"absolute", []cas.File{file("/etc/passwd")}, false},
		{"unclean", []cas.File{file("a/./b")}, false},
		{"empty path", []cas.File{file("")}, false},
		{"duplicate", []cas.File{file("a"), file("a")}, false},
		{"below a symlink", []cas.File{link("d", "/etc"), file("d/passwd")}, false},
		{"deep below a symlink", []cas.File{link("d", "/"), file("d/etc/passwd")}, false},
		{"unknown blob", []cas.File{{Path: "a", Size: 3, Digest: cas.Digest("sha256:" + strings.Repeat("cd", 32))}}, false},
		{"size differs", []cas.File{{Path: "a", Size: 4, Digest: blob}}, false},
		{"bad digest", []cas.File{{Path: "a", Size: 3, Digest: "sha256:../x"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTree(&cas.Tree{Files: tt.files}, layers)
			if (err == nil) != tt.ok {
				t.Errorf("checkTree = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestRemoteTag(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	seen := map[string]bool{}
	for _, k := range []string{"", "k", longKey, longKey + "x", "sha256:" + strings.Repeat("f", 64)} {
		tag := RemoteTag(k)
		if !valid.MatchString(tag) || seen[tag] || RemoteTag(k) != tag {
			t.Errorf("RemoteTag(%q) = %q", k, tag)
		}
		seen[tag] = true
	}
}

// validManifest is the manifest Put writes for a small entry.
func validManifest(tb testing.TB) []byte {
	tb.Helper()
	blobs, err := cas.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	logD, _ := blobs.PutBytes([]byte("log"))
	img, err := (&Remote{o: RemoteOptions{Blobs: blobs}}).artifact(&Entry{Key: "k", Step: "s", Log: logD})
	if err != nil {
		tb.Fatal(err)
	}
	raw, _ := img.RawManifest()
	return raw
}

func TestParseEntryManifest(t *testing.T) {
	raw := validManifest(t)
	m, err := parseEntryManifest("k", raw)
	if err != nil || m.step != "s" || m.log == "" || m.layers[m.log] != 3 {
		t.Fatalf("parse = %+v, %v", m, err)
	}
	if _, err := parseEntryManifest("other", raw); err == nil {
		t.Error("manifest of key k accepted for key other")
	}
	for _, bad := range []string{"", "{}", "[]", `{"schemaVersion":2,"artifactType":"` + ArtifactType + `"}`} {
		if _, err := parseEntryManifest("", []byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseEntryManifest(f *testing.F) {
	f.Add("k", validManifest(f))
	f.Add("k", []byte(`{"schemaVersion":2,"artifactType":"`+ArtifactType+`","annotations":{"`+annKey+`":"k","`+annLog+`":"sha256:00"},"layers":[]}`))
	f.Add("", []byte(`{"schemaVersion":2,"artifactType":"`+ArtifactType+`","layers":[{"digest":"sha256:zz","size":-1}]}`))
	f.Add("k", []byte("null"))
	f.Fuzz(func(t *testing.T, key string, raw []byte) {
		m, err := parseEntryManifest(key, raw)
		if err != nil {
			return
		}
		for d, size := range m.layers {
			if !validDigest(d) || size < 0 {
				t.Fatalf("accepted layer %q of %d bytes", d, size)
			}
		}
		for _, d := range []cas.Digest{m.outputs, m.log} {
			if _, ok := m.layers[d]; d != "" && (!ok || !validDigest(d)) {
				t.Fatalf("accepted %q, not a layer", d)
			}
		}
	})
}

// Outputs with more distinct files than one manifest can list are refused
// before anything is uploaded.
func TestArtifactTooManyBlobs(t *testing.T) {
	layers := make([]v1.Descriptor, 30000)
	for i := range layers {
		layers[i] = v1.Descriptor{MediaType: fileMediaType, Size: 1,
			Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 58) + fmt.Sprintf("%06d", i)}}
	}
	if _, err := newArtifact(nil, layers, map[string]string{annKey: "k"}); err == nil {
		t.Error("a manifest over the registry limit was built")
	}
	if _, err := newArtifact(nil, layers[:1000], map[string]string{annKey: "k"}); err != nil {
		t.Errorf("1000 blobs: %v", err)
	}
}

// Steps of one run may ask for the same key at once.
func TestRemoteConcurrentGets(t *testing.T) {
	reg := startRegistry(t)
	a, b := newMachine(t, reg.repo), newMachine(t, reg.repo)
	put := a.putEntry(t, "k")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			e, err := b.remote.Get(context.Background(), "k")
			if err == nil && *e != *put {
				err = fmt.Errorf("got %+v", e)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	b.checkRestored(t, put)
	checkStoreVerifies(t, b.blobs)
}
