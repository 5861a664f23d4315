package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Standard OCI annotation keys.
const (
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationTitle    = "org.opencontainers.image.title"
)

// DefaultArtifactType is the artifactType of artifacts built by BuildArtifact.
const DefaultArtifactType = "application/vnd.slipway.artifact.v1"

// Media types of artifact manifests.
const (
	MediaTypeEmptyJSON types.MediaType = "application/vnd.oci.empty.v1+json"
	// MediaTypeFile is the media type oras gives plain files.
	MediaTypeFile types.MediaType = "application/vnd.oci.image.layer.v1.tar"
)

// gzipLevel is fixed: the compressed bytes, and so the digests, depend on it.
const gzipLevel = gzip.DefaultCompression

// BuildOptions configure BuildArtifact.
type BuildOptions struct {
	// Created is the only time recorded; builds with the same inputs and
	// Created have the same digest. Zero means the Unix epoch.
	Created      time.Time
	Annotations  map[string]string // manifest annotations, e.g. from StandardAnnotations
	ArtifactType string            // default DefaultArtifactType
}

// ImageOptions configure BuildImage.
type ImageOptions struct {
	Binary      string // path of a static executable on disk
	Name        string // file name in the image: /app/<Name>; default the binary's base name
	Entrypoint  []string
	Port        int // exposed as <Port>/tcp when > 0
	Labels      map[string]string
	Env         []string
	Created     time.Time // as in BuildOptions
	OS, Arch    string    // default linux/amd64
	Annotations map[string]string
}

// StandardAnnotations returns the OCI annotations of a build; empty values
// are left out. BuildArtifact and BuildImage add AnnotationCreated.
func StandardAnnotations(version, revision, source string) map[string]string {
	a := map[string]string{}
	for k, v := range map[string]string{AnnotationVersion: version, AnnotationRevision: revision, AnnotationSource: source} {
		if v != "" {
			a[k] = v
		}
	}
	return a
}

// BuildImage builds a single-layer OCI image holding a static binary at
// /app/<name> (mode 0755, owned by root) on an empty base.
func BuildImage(o ImageOptions) (v1.Image, error) {
	if o.Binary == "" {
		return nil, errors.New("build image: no binary")
	}
	if _, err := os.Stat(o.Binary); err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	if o.Name == "" {
		o.Name = filepath.Base(o.Binary)
	}
	if err := checkName(o.Name); err != nil || path.Dir(o.Name) != "." {
		return nil, fmt.Errorf("build image: invalid binary name %q", o.Name)
	}
	if o.OS == "" {
		o.OS = "linux"
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if len(o.Entrypoint) == 0 {
		o.Entrypoint = []string{"/app/" + o.Name}
	}
	created := createdTime(o.Created)
	layer, err := tarball.LayerFromOpener(binaryTar(o.Binary, o.Name, created),
		tarball.WithCompressionLevel(gzipLevel), tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("build image: layer: %w", err)
	}
	cfg := &v1.ConfigFile{
		Architecture: o.Arch,
		OS:           o.OS,
		Created:      v1.Time{Time: created},
		Config:       v1.Config{Entrypoint: o.Entrypoint, Env: o.Env, Labels: o.Labels, WorkingDir: "/app"},
		RootFS:       v1.RootFS{Type: "layers"},
	}
	if o.Port > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{strconv.Itoa(o.Port) + "/tcp": {}}
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "slipway: COPY " + o.Name + " /app/" + o.Name,
	}})
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
	return mutate.Annotations(img, annotations(o.Annotations, created)).(v1.Image), nil
}

// binaryTar streams a tar of app/ and app/<name>, normalised so that only
// the binary's bytes and the given time reach the digest.
func binaryTar(bin, name string, created time.Time) tarball.Opener {
	return func() (io.ReadCloser, error) {
		f, err := os.Open(bin)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		pr, pw := io.Pipe()
		go func() {
			defer f.Close()
			tw := tar.NewWriter(pw)
			hdr := func(name string, typ byte, size int64) *tar.Header {
				return &tar.Header{Typeflag: typ, Name: name, Size: size, Mode: 0o755, ModTime: created, Format: tar.FormatPAX}
			}
			err := tw.WriteHeader(hdr("app/", tar.TypeDir, 0))
			if err == nil {
				err = tw.WriteHeader(hdr("app/"+name, tar.TypeReg, fi.Size()))
			}
			if err == nil {
				_, err = io.Copy(tw, io.LimitReader(f, fi.Size()))
			}
			if err == nil {
				err = tw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}
}

func createdTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	// Whole seconds: RFC 3339 annotations and tar headers keep no more.
	return t.UTC().Truncate(time.Second)
}

func annotations(extra map[string]string, created time.Time) map[string]string {
	a := map[string]string{AnnotationCreated: created.Format(time.RFC3339)}
	for k, v := range extra {
		a[k] = v
	}
	return a
}
