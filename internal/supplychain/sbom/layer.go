package sbom

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// MaxBinarySize caps the size of an executable FromLayer reads into memory
// to look for Go build information; larger files are skipped.
const MaxBinarySize = 256 << 20

// maxStatusSize caps a dpkg status file read from a layer.
const maxStatusSize = 64 << 20

// executableMagics are the headers of the formats debug/buildinfo reads;
// anything else is skipped without being buffered.
var executableMagics = [][]byte{
	[]byte("\x7FELF"),
	[]byte("MZ"),
	[]byte("\xFE\xED\xFA"), []byte("\xCE\xFA\xED\xFE"), []byte("\xCF\xFA\xED\xFE"), // Mach-O
	[]byte("\x01\xDF"), []byte("\x01\xF7"), // XCOFF 32/64
}

// FromLayer walks an uncompressed tar layer and lists the packages of the
// Go executables in it and of its dpkg database (var/lib/dpkg/status and
// var/lib/dpkg/status.d/*).
func FromLayer(r io.Reader) ([]Package, error) {
	tr := tar.NewReader(r)
	var pkgs []Package
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("sbom: layer: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		found, err := layerFile(h, tr)
		if err != nil {
			return nil, fmt.Errorf("sbom: layer: %s: %w", h.Name, err)
		}
		pkgs = append(pkgs, found...)
	}
	return normalize(pkgs), nil
}

func layerFile(h *tar.Header, r io.Reader) ([]Package, error) {
	name := strings.TrimPrefix(path.Clean("/"+h.Name), "/")
	dir, base := path.Split(name)
	switch {
	case strings.HasPrefix(base, ".wh."):
		return nil, nil
	case name == "var/lib/dpkg/status":
		return parseDpkg(io.LimitReader(r, maxStatusSize), true)
	case dir == "var/lib/dpkg/status.d/" && !strings.HasSuffix(base, ".md5sums"):
		// Distroless keeps one paragraph per file, beside its *.md5sums.
		return parseDpkg(io.LimitReader(r, maxStatusSize), false)
	case h.Mode&0o111 != 0 && h.Size > 0 && h.Size <= MaxBinarySize:
		return layerBinary(h, r)
	}
	return nil, nil
}

func layerBinary(h *tar.Header, r io.Reader) ([]Package, error) {
	head := make([]byte, 4)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	head = head[:n]
	if !isExecutable(head) {
		return nil, nil
	}
	// No preallocation from h.Size: a lying header must not cost memory.
	var buf bytes.Buffer
	buf.Write(head)
	if _, err := io.Copy(&buf, io.LimitReader(r, h.Size-int64(n))); err != nil {
		return nil, err
	}
	pkgs, err := FromGoBinary(bytes.NewReader(buf.Bytes()))
	if errors.Is(err, ErrNotGoBinary) {
		return nil, nil
	}
	return pkgs, err
}

func isExecutable(head []byte) bool {
	for _, m := range executableMagics {
		if bytes.HasPrefix(head, m) {
			return true
		}
	}
	return false
}
