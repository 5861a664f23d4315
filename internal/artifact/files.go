package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one file of an artifact.
type File struct {
	Name   string // slash-separated path inside the artifact
	Source string // path on disk
}

// emptyJSON is the OCI empty config blob, "{}".
var emptyJSON = []byte("{}")

// BuildArtifact builds an OCI 1.1 artifact the way oras pushes files: an
// empty config and one raw blob per file, named by its title annotation, in
// Name order. `oras pull` restores the files; file modes are not kept.
func BuildArtifact(files []File, o BuildOptions) (v1.Image, error) {
	if len(files) == 0 {
		return nil, errors.New("build artifact: no files")
	}
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	if o.ArtifactType == "" {
		o.ArtifactType = DefaultArtifactType
	}
	a := &artifactImage{layers: map[v1.Hash]*fileLayer{}}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  o.ArtifactType,
		Config:        emptyDescriptor(),
		Annotations:   annotations(o.Annotations, createdTime(o.Created)),
	}
	for i, f := range files {
		if err := checkName(f.Name); err != nil {
			return nil, fmt.Errorf("build artifact: %w", err)
		}
		if i > 0 && files[i-1].Name == f.Name {
			return nil, fmt.Errorf("build artifact: file %q given twice", f.Name)
		}
		l, err := newFileLayer(f.Source)
		if err != nil {
			return nil, fmt.Errorf("build artifact: %w", err)
		}
		a.layers[l.digest] = l
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: MediaTypeFile, Digest: l.digest, Size: l.size,
			Annotations: map[string]string{AnnotationTitle: f.Name}})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("build artifact: %w", err)
	}
	a.manifest = raw
	return partial.CompressedToImage(a)
}

func emptyDescriptor() v1.Descriptor {
	d, n, _ := v1.SHA256(strings.NewReader(string(emptyJSON)))
	return v1.Descriptor{MediaType: MediaTypeEmptyJSON, Digest: d, Size: n, Data: emptyJSON}
}

// checkName accepts clean relative slash paths: oras refuses to write
// others outside the pull directory, and so do we.
func checkName(name string) error {
	if name == "" || path.IsAbs(name) || path.Clean(name) != name || name == ".." ||
		strings.HasPrefix(name, "../") || strings.Contains(name, "\\") {
		return fmt.Errorf("invalid file name %q: want a clean relative path", name)
	}
	return nil
}

// artifactImage is the minimal image core for partial.CompressedToImage.
type artifactImage struct {
	manifest []byte
	layers   map[v1.Hash]*fileLayer
}

func (a *artifactImage) RawConfigFile() ([]byte, error)      { return emptyJSON, nil }
func (a *artifactImage) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifactImage) RawManifest() ([]byte, error)        { return a.manifest, nil }

func (a *artifactImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := a.layers[h]; ok {
		return l, nil
	}
	if h == emptyDescriptor().Digest {
		return emptyBlob{}, nil
	}
	return nil, fmt.Errorf("blob %s not in artifact", h)
}

// fileLayer is a file on disk used as a raw blob: hashed once, streamed on
// upload, never held in memory.
type fileLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func newFileLayer(p string) (*fileLayer, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	d, n, err := v1.SHA256(f)
	if err != nil {
		return nil, fmt.Errorf("hash %s: %w", p, err)
	}
	return &fileLayer{path: p, digest: d, size: n}, nil
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return MediaTypeFile, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return os.Open(l.path) }

type emptyBlob struct{}

func (emptyBlob) Digest() (v1.Hash, error)            { return emptyDescriptor().Digest, nil }
func (emptyBlob) Size() (int64, error)                { return int64(len(emptyJSON)), nil }
func (emptyBlob) MediaType() (types.MediaType, error) { return MediaTypeEmptyJSON, nil }
func (emptyBlob) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(string(emptyJSON))), nil
}
