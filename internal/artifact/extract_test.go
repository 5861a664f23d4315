package artifact

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

func TestExtractEntrypoint(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	body := []byte("#!/bin/sh\necho hello\n")
	if err := os.WriteFile(bin, body, 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := BuildImage(ImageOptions{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bin")
	got, err := ExtractEntrypoint(img, dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(got)
	fi, _ := os.Stat(got)
	if err != nil || !bytes.Equal(data, body) || got != filepath.Join(dir, "hello") || fi.Mode().Perm() != 0o755 {
		t.Errorf("extracted %s (%v, mode %v): %q", got, err, fi.Mode(), data)
	}
	if _, err := ExtractEntrypoint(empty.Image, dir); !errors.Is(err, ErrNoEntrypoint) {
		t.Errorf("empty image: err = %v, want ErrNoEntrypoint", err)
	}
	elsewhere, err := mutate.Config(img, v1.Config{Entrypoint: []string{"/app/../app/nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ExtractEntrypoint(elsewhere, dir); !errors.Is(err, ErrNoEntrypoint) {
		t.Errorf("entrypoint not in the image: err = %v, want ErrNoEntrypoint", err)
	}
}
