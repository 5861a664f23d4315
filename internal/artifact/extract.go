package artifact

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// ErrNoEntrypoint is wrapped when an image has no entrypoint file to run.
var ErrNoEntrypoint = errors.New("no entrypoint")

// ExtractEntrypoint writes the file the image's entrypoint names to
// dir/<its base name>, mode 0755, and returns that path. The layers come
// through go-containerregistry, which checks each blob against its digest
// as it is read, so what lands on disk is what the digest names. The file
// appears whole or not at all (written aside, then renamed).
func ExtractEntrypoint(img v1.Image, dir string) (string, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", fmt.Errorf("extract: config: %w", err)
	}
	if len(cfg.Config.Entrypoint) == 0 || cfg.Config.Entrypoint[0] == "" {
		return "", fmt.Errorf("extract: %w in the image config", ErrNoEntrypoint)
	}
	want := strings.TrimPrefix(path.Clean("/"+cfg.Config.Entrypoint[0]), "/")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	rc := mutate.Extract(img) // the flattened file system, later layers winning
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("extract: %w: /%s is not in the image", ErrNoEntrypoint, want)
		}
		if err != nil {
			return "", fmt.Errorf("extract: %w", err)
		}
		if strings.TrimPrefix(path.Clean("/"+h.Name), "/") != want || h.Typeflag != tar.TypeReg {
			continue
		}
		return writeExecutable(tr, filepath.Join(dir, path.Base(want)))
	}
}

func writeExecutable(r io.Reader, dst string) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".extract-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return "", fmt.Errorf("extract: %w", err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return dst, os.Rename(tmp.Name(), dst)
}
