package registry

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestGarbageCollect(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, Options{StateDir: dir})
	c := credsOf(t, dir)
	user := withAuth(c.Username, c.Password)
	img := randomImage(t)
	if err := remote.Write(ref(t, s.Addr(), "app:latest"), img, user); err != nil {
		t.Fatal(err)
	}
	orphan, err := random.Layer(1024, "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	repo := ref(t, s.Addr(), "app:latest").Context()
	if err := remote.WriteLayer(repo, orphan, user); err != nil {
		t.Fatal(err)
	}
	orphanDigest, _ := orphan.Digest()
	if got := headStatus(t, s.Addr(), "/v2/app/blobs/"+orphanDigest.String()); got != http.StatusOK {
		t.Fatalf("orphan blob before GC: HEAD status %d, want 200", got)
	}

	var held *HeldError
	if _, err := GarbageCollect(context.Background(), dir, true, nil); !errors.As(err, &held) {
		t.Fatalf("GarbageCollect while serving: %v, want *HeldError", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	want := []string{orphanDigest.String()}
	got, err := GarbageCollect(context.Background(), dir, true, t.Logf)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("dry run = %v, %v; want %v", got, err, want)
	}
	got, err = GarbageCollect(context.Background(), dir, false, t.Logf)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("sweep = %v, %v; want %v", got, err, want)
	}
	if got, err := GarbageCollect(context.Background(), dir, false, nil); err != nil || len(got) != 0 {
		t.Fatalf("second sweep = %v, %v; want nothing", got, err)
	}

	s = serve(t, Options{StateDir: dir})
	if got := headStatus(t, s.Addr(), "/v2/app/blobs/"+orphanDigest.String()); got != http.StatusNotFound {
		t.Fatalf("orphan blob after GC: HEAD status %d, want 404", got)
	}
	pulled, err := remote.Image(ref(t, s.Addr(), "app:latest"))
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	pulledLayers, err := pulled.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i := range layers {
		if err := compareLayer(layers[i], pulledLayers[i]); err != nil {
			t.Fatalf("referenced layer %d after GC: %v", i, err)
		}
	}
}

func TestBlobDigestFromPath(t *testing.T) {
	hex := "ab" + "cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	tests := map[string]string{
		"/docker/registry/v2/blobs/sha256/ab/" + hex:                 "sha256:" + hex,
		"/docker/registry/v2/blobs/sha256/ab/" + hex + "/":           "sha256:" + hex,
		"/docker/registry/v2/blobs/sha256/cd/" + hex:                 "",
		"/docker/registry/v2/repositories/app/_layers/sha256/" + hex: "",
		"/docker/registry/v2/blobs/sha256/ab/" + hex + "/data":       "",
		"/docker/registry/v2/blobs/SHA256/ab/" + hex:                 "",
	}
	for p, want := range tests {
		got, err := blobDigestFromPath(p)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("blobDigestFromPath(%s) = %q, %v; want %q", p, got, err, want)
		}
	}
}

func FuzzBlobDigestFromPath(f *testing.F) {
	f.Add("/docker/registry/v2/blobs/sha256/ab/abcdef")
	f.Add("/docker/registry/v2/blobs//../x")
	f.Fuzz(func(t *testing.T, p string) {
		d, err := blobDigestFromPath(p)
		if err == nil && (d == "" || d[0] == ':') {
			t.Fatalf("%q gave digest %q", p, d)
		}
	})
}

func FuzzParseProtected(f *testing.F) {
	f.Add([]byte(`["production","staging"]`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tags, err := parseProtected(b)
		if err != nil {
			return
		}
		again, _ := json.Marshal(tags)
		if got, err := parseProtected(again); err != nil || !slices.Equal(got, tags) {
			t.Fatalf("round trip %q -> %q, %v", tags, got, err)
		}
	})
}

func headStatus(tb testing.TB, addr, path string) int {
	tb.Helper()
	resp, err := http.Head("http://" + addr + path)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
