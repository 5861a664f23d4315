package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/slipway-ci/slipway/internal/supplychain/sbom"
)

// annotationTitle names a file in an OCI artifact, as oras pushes them.
const annotationTitle = "org.opencontainers.image.title"

// maxStatusSize bounds a dpkg status database read from an image.
const maxStatusSize = 64 << 20

// catalogue lists the packages of img. An image's layers are flattened
// first, so files a later layer deletes or replaces are not reported; an
// OCI artifact's blobs are files named by their title annotation.
func catalogue(ctx context.Context, img v1.Image) (*inventory, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if !m.Config.MediaType.IsConfig() {
		return catalogueArtifact(ctx, img, m)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	return catalogueTar(ctx, rc)
}

// catalogueTar reads a flattened root filesystem.
func catalogueTar(ctx context.Context, r io.Reader) (*inventory, error) {
	inv := &inventory{}
	var etc, usr *distro // os-release: /etc wins over /usr/lib
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("layers: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
		switch name {
		case "etc/os-release":
			d := parseOSRelease(tr)
			etc = &d
			continue
		case "usr/lib/os-release":
			d := parseOSRelease(tr)
			usr = &d
			continue
		}
		pkgs, err := filePackages(name, h, tr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := inv.addPackages(pkgs, name); err != nil {
			return nil, err
		}
	}
	switch {
	case etc != nil:
		inv.distro, inv.hasDistro = *etc, true
	case usr != nil:
		inv.distro, inv.hasDistro = *usr, true
	}
	return inv, nil
}

// filePackages lists the packages one file of the image holds: a dpkg
// database or a Go executable.
func filePackages(name string, h *tar.Header, r io.Reader) ([]sbom.Package, error) {
	dir, base := path.Split(name)
	switch {
	case name == "var/lib/dpkg/status":
		return sbom.FromDpkgStatus(io.LimitReader(r, maxStatusSize))
	case dir == "var/lib/dpkg/status.d/" && !strings.HasSuffix(base, ".md5sums"):
		return distrolessStatus(name, h, r)
	case h.Mode&0o111 != 0 && h.Size > 0 && h.Size <= sbom.MaxBinarySize:
		return goBinary(r, h.Size)
	}
	return nil, nil
}

// distrolessStatus reads one status.d file, whose paragraph has no Status
// field, through sbom.FromLayer, which knows that convention.
func distrolessStatus(name string, h *tar.Header, r io.Reader) ([]sbom.Package, error) {
	if h.Size > maxStatusSize {
		return nil, fmt.Errorf("dpkg status larger than %d bytes", maxStatusSize)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: h.Size, Mode: 0o644}); err != nil {
		return nil, err
	}
	if _, err := io.Copy(tw, r); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return sbom.FromLayer(&buf)
}

// goBinary reads the build information of a Go executable; other files
// are skipped after their first bytes.
func goBinary(r io.Reader, size int64) ([]sbom.Package, error) {
	head := make([]byte, 4)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	if !isExecutable(head[:n]) {
		return nil, nil
	}
	var buf bytes.Buffer // not preallocated from size: headers can lie
	buf.Write(head[:n])
	if _, err := io.Copy(&buf, io.LimitReader(r, size-int64(n))); err != nil {
		return nil, err
	}
	pkgs, err := sbom.FromGoBinary(bytes.NewReader(buf.Bytes()))
	if errors.Is(err, sbom.ErrNotGoBinary) {
		return nil, nil
	}
	return pkgs, err
}

// executableMagics are the headers debug/buildinfo reads (ELF, PE,
// Mach-O, XCOFF).
var executableMagics = [][]byte{
	[]byte("\x7FELF"), []byte("MZ"),
	[]byte("\xFE\xED\xFA"), []byte("\xCE\xFA\xED\xFE"), []byte("\xCF\xFA\xED\xFE"),
	[]byte("\x01\xDF"), []byte("\x01\xF7"),
}

func isExecutable(head []byte) bool {
	for _, m := range executableMagics {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}

// catalogueArtifact reads the Go executables among an artifact's files.
func catalogueArtifact(ctx context.Context, img v1.Image, m *v1.Manifest) (*inventory, error) {
	inv := &inventory{}
	for _, d := range m.Layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := d.Annotations[annotationTitle]
		if name == "" || d.Size <= 0 || d.Size > sbom.MaxBinarySize {
			continue
		}
		pkgs, err := artifactFile(img, d)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", name, d.Digest, err)
		}
		if err := inv.addPackages(pkgs, name); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

func artifactFile(img v1.Image, d v1.Descriptor) ([]sbom.Package, error) {
	l, err := img.LayerByDigest(d.Digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed() // an artifact's blobs are the files themselves
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return goBinary(rc, d.Size)
}

// addPackages records catalogued packages by their package URLs.
func (inv *inventory) addPackages(pkgs []sbom.Package, where string) error {
	for _, p := range pkgs {
		u, err := parsePURL(p.PURL)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		inv.found = append(inv.found, found{purl: u, path: where})
	}
	return nil
}
