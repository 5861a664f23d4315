package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/slipway-ci/slipway/internal/cas"
)

// ArtifactType marks a cache entry stored in an OCI registry.
const ArtifactType = "application/vnd.slipway.cache.v1"

// Media types of an entry's layers (one layer per distinct blob, its role
// told by the media type) and the annotations that describe the entry.
// Layer digests are the content store's digests: both are the sha256 of the
// raw content, so blobs move between the two without re-hashing.
const (
	treeMediaType = "application/vnd.slipway.cache.tree.v1+json"
	fileMediaType = "application/vnd.slipway.cache.file.v1"
	logMediaType  = "application/vnd.slipway.cache.log.v1"

	annKey     = "org.slipway.cache.key"
	annStep    = "org.slipway.cache.step"
	annOutputs = "org.slipway.cache.outputs"
	annLog     = "org.slipway.cache.log"

	maxTreeBytes = 64 << 20 // a tree is a file list; anything bigger is not ours
	// maxManifestBytes is what registries accept (distribution: 4 MiB),
	// about 27,000 distinct output files.
	maxManifestBytes = 4 << 20
	fetchJobs        = 4
)

// emptyConfig is the OCI empty descriptor's content ("{}").
var emptyConfig = []byte("{}")

var (
	// ErrRemoteUnavailable is wrapped (beside ErrMiss) when the registry
	// could not be reached or refused the request.
	ErrRemoteUnavailable = errors.New("remote cache unavailable")
	// ErrRemoteInvalid is wrapped (beside ErrMiss) when the registry holds
	// an entry under the key's tag that is corrupt, partial or not the key's.
	ErrRemoteInvalid = errors.New("remote cache entry invalid")

	errNotFound = errors.New("not in the remote cache")
)

// RemoteOptions configures a Remote.
type RemoteOptions struct {
	Repo     name.Repository // where entries live, e.g. 127.0.0.1:5000/slipway/cache
	Remote   []remote.Option // auth and transport from the caller
	Local    *Local          // a remote hit is recorded here, so the next Get is local
	Blobs    *cas.Store      // the content store behind Local
	ReadOnly bool            // Get from the registry but never push (e.g. developer machines)
	Log      *slog.Logger    // invalid remote entries are reported here; nil: slog.Default()
}

// Remote is a Backend that shares entries between machines through an OCI
// registry, one artifact per key, in front of the local cache.
//
// A remote problem never fails a step: Get turns it into a miss (with
// ErrRemoteUnavailable or ErrRemoteInvalid in the chain), and Put keeps the
// entry locally before it reports a failed push.
type Remote struct {
	o   RemoteOptions
	log *slog.Logger
}

var _ Backend = (*Remote)(nil)

// NewRemote returns the remote cache described by o.
func NewRemote(o RemoteOptions) *Remote {
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	return &Remote{o: o, log: log}
}

// RemoteTag is the registry tag of a key's entry. Keys may be longer than a
// tag allows or contain other characters, so the tag is a hash of the key;
// the manifest names the full key, which Get checks.
func RemoteTag(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "c-" + hex.EncodeToString(sum[:])
}

func (r *Remote) opts(ctx context.Context) []remote.Option {
	return append(slices.Clip(r.o.Remote), remote.WithContext(ctx))
}

// Get looks in the local cache first, then in the registry; a remote entry
// is downloaded and verified whole before it is recorded locally.
func (r *Remote) Get(ctx context.Context, key string) (*Entry, error) {
	e, err := r.o.Local.Get(ctx, key)
	if !errors.Is(err, ErrMiss) {
		return e, err
	}
	e, err = r.fetch(ctx, key)
	switch {
	case err == nil:
		return e, nil
	case errors.Is(err, errNotFound):
		return nil, ErrMiss
	case errors.Is(err, ErrRemoteInvalid):
		r.log.Warn("remote cache entry ignored", "tag", RemoteTag(key), "key", key, "err", err)
		return nil, fmt.Errorf("%w: %w", ErrMiss, err)
	case errors.Is(err, ErrRemoteUnavailable):
		return nil, fmt.Errorf("%w: %w", ErrMiss, err)
	default:
		return nil, err // the local state failed, not the remote
	}
}

func (r *Remote) fetch(ctx context.Context, key string) (*Entry, error) {
	desc, err := remote.Get(r.o.Repo.Tag(RemoteTag(key)), r.opts(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, errNotFound
		}
		return nil, classify(err)
	}
	if desc.MediaType != types.OCIManifestSchema1 {
		return nil, fmt.Errorf("%w: media type %q", ErrRemoteInvalid, desc.MediaType)
	}
	m, err := parseEntryManifest(key, desc.Manifest)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRemoteInvalid, err)
	}
	e := &Entry{Key: key, Step: m.step, Outputs: m.outputs, Log: m.log}
	if m.outputs != "" {
		if e.Size, err = r.fetchOutputs(ctx, m); err != nil {
			return nil, err
		}
	}
	if m.log != "" {
		if err := r.fetchBlob(ctx, m.log, m.layers[m.log]); err != nil {
			return nil, err
		}
		e.Size += m.layers[m.log]
	}
	if err := r.o.Local.Put(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// fetchOutputs downloads the outputs tree, checks it, then downloads the
// blobs it names, and returns the outputs' size.
func (r *Remote) fetchOutputs(ctx context.Context, m *entryManifest) (int64, error) {
	if m.layers[m.outputs] > maxTreeBytes {
		return 0, fmt.Errorf("%w: outputs tree of %d bytes", ErrRemoteInvalid, m.layers[m.outputs])
	}
	if err := r.fetchBlob(ctx, m.outputs, m.layers[m.outputs]); err != nil {
		return 0, err
	}
	t, err := r.o.Blobs.ReadTree(m.outputs)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRemoteInvalid, err)
	}
	if err := checkTree(t, m.layers); err != nil {
		return 0, fmt.Errorf("%w: tree %s: %w", ErrRemoteInvalid, m.outputs.Short(), err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchJobs)
	seen := map[cas.Digest]bool{}
	for _, d := range t.Blobs() {
		if !seen[d] {
			seen[d] = true
			g.Go(func() error { return r.fetchBlob(gctx, d, m.layers[d]) })
		}
	}
	return t.Size(), g.Wait()
}

// checkTree refuses a tree that Restore could be tricked by: unclean or
// escaping paths, duplicates, files below a symlink of the same tree, and
// blobs the artifact does not carry.
func checkTree(t *cas.Tree, layers map[cas.Digest]int64) error {
	links := map[string]bool{}
	seen := map[string]bool{}
	for _, f := range t.Files {
		if f.Path == "" || path.Clean(f.Path) != f.Path || path.IsAbs(f.Path) || f.Path == ".." ||
			strings.HasPrefix(f.Path, "../") || seen[f.Path] {
			return fmt.Errorf("bad path %q", f.Path)
		}
		seen[f.Path] = true
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			if links[dir] {
				return fmt.Errorf("%q is below the symlink %q", f.Path, dir)
			}
		}
		if f.Link != "" {
			links[f.Path] = true
			continue
		}
		size, ok := layers[f.Digest]
		if !validDigest(f.Digest) || !ok || size != f.Size {
			return fmt.Errorf("%q: blob %q of %d bytes is not in the artifact", f.Path, f.Digest, f.Size)
		}
	}
	return nil
}

// fetchBlob downloads a blob the local store lacks, verifying its size and
// digest before it is stored.
func (r *Remote) fetchBlob(ctx context.Context, d cas.Digest, size int64) error {
	if r.o.Blobs.Has(d) {
		return nil
	}
	l, err := remote.Layer(r.o.Repo.Digest(string(d)), r.opts(ctx)...)
	if err != nil {
		return classify(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return classify(err)
	}
	defer rc.Close()
	cr := &checkedReader{r: io.LimitReader(rc, size+1), h: sha256.New(), want: d, size: size}
	if _, _, err := r.o.Blobs.Put(cr); err != nil {
		return classify(fmt.Errorf("blob %s: %w", d.Short(), err))
	}
	return nil
}

// checkedReader fails at the end of the stream if the content is not the
// expected one, so the content store never keeps it.
type checkedReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	want cas.Digest
	size int64
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	if errors.Is(err, io.EOF) {
		got := cas.Digest("sha256:" + hex.EncodeToString(c.h.Sum(nil)))
		if c.n != c.size || got != c.want {
			return n, fmt.Errorf("got %d bytes %s, want %d bytes: %w", c.n, got.Short(), c.size, cas.ErrCorrupt)
		}
	}
	return n, err
}

// classify sorts a failed remote operation into the registry being
// unavailable or its entry being bad; a local disk error stays itself.
func classify(err error) error {
	var terr *transport.Error
	var perr *fs.PathError
	switch {
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrRemoteInvalid, err) // the manifest names a blob the registry lacks
	case errors.As(err, &terr), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrRemoteUnavailable, err)
	case errors.As(err, new(net.Error)):
		return fmt.Errorf("%w: %w", ErrRemoteUnavailable, err)
	case errors.As(err, &perr):
		return err
	default:
		return fmt.Errorf("%w: %w", ErrRemoteInvalid, err)
	}
}

func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// entryManifest is what Get needs from a remote entry's manifest.
type entryManifest struct {
	step    string
	outputs cas.Digest
	log     cas.Digest
	layers  map[cas.Digest]int64
}

// parseEntryManifest reads an untrusted manifest and checks that it is a
// cache entry for key whose outputs and log are among its layers.
func parseEntryManifest(key string, raw []byte) (*entryManifest, error) {
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.SchemaVersion != 2 || m.ArtifactType != ArtifactType {
		return nil, fmt.Errorf("not a cache entry (schema %d, artifact type %q)", m.SchemaVersion, m.ArtifactType)
	}
	if got := m.Annotations[annKey]; got != key || key == "" {
		return nil, fmt.Errorf("entry is for key %q", got)
	}
	em := &entryManifest{step: m.Annotations[annStep], outputs: cas.Digest(m.Annotations[annOutputs]),
		log: cas.Digest(m.Annotations[annLog]), layers: map[cas.Digest]int64{}}
	for _, l := range m.Layers {
		d := cas.Digest(l.Digest.String())
		if !validDigest(d) || l.Size < 0 {
			return nil, fmt.Errorf("layer %q of %d bytes", d, l.Size)
		}
		if old, dup := em.layers[d]; dup && old != l.Size {
			return nil, fmt.Errorf("layer %s listed with two sizes", d.Short())
		}
		em.layers[d] = l.Size
	}
	for _, d := range []cas.Digest{em.outputs, em.log} {
		if _, ok := em.layers[d]; d != "" && !ok {
			return nil, fmt.Errorf("%q is not a layer", d)
		}
	}
	return em, nil
}

// validDigest accepts only "sha256:" and 64 lowercase hex digits: digests
// from a registry become paths in the content store.
func validDigest(d cas.Digest) bool {
	h, ok := strings.CutPrefix(string(d), "sha256:")
	if !ok || len(h) != 64 {
		return false
	}
	for _, c := range []byte(h) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Put records the entry locally, then pushes it to the registry; blobs the
// registry already has are not uploaded again.
func (r *Remote) Put(ctx context.Context, e *Entry) error {
	if err := r.o.Local.Put(ctx, e); err != nil {
		return err
	}
	if r.o.ReadOnly {
		return nil
	}
	img, err := r.artifact(e)
	if err != nil {
		return fmt.Errorf("remote cache push: %w", err)
	}
	if err := remote.Write(r.o.Repo.Tag(RemoteTag(e.Key)), img, r.opts(ctx)...); err != nil {
		return fmt.Errorf("remote cache push (kept locally): %w: %w", ErrRemoteUnavailable, err)
	}
	return nil
}

// artifact builds the entry's OCI artifact from the local content store.
func (r *Remote) artifact(e *Entry) (v1.Image, error) {
	var layers []v1.Descriptor
	seen := map[cas.Digest]bool{}
	add := func(d cas.Digest, mt types.MediaType) error {
		if seen[d] {
			return nil
		}
		seen[d] = true
		info, err := os.Stat(r.o.Blobs.Path(d))
		if err != nil {
			return fmt.Errorf("blob %s: %w", d.Short(), err)
		}
		h, err := v1.NewHash(string(d))
		if err != nil {
			return err
		}
		layers = append(layers, v1.Descriptor{MediaType: mt, Size: info.Size(), Digest: h})
		return nil
	}
	ann := map[string]string{annKey: e.Key, annStep: e.Step}
	if e.Outputs != "" {
		t, err := r.o.Blobs.ReadTree(e.Outputs)
		if err != nil {
			return nil, err
		}
		ann[annOutputs] = string(e.Outputs)
		if err := add(e.Outputs, treeMediaType); err != nil {
			return nil, err
		}
		files := t.Blobs()
		sort.Slice(files, func(i, j int) bool { return files[i] < files[j] })
		for _, d := range files {
			if err := add(d, fileMediaType); err != nil {
				return nil, err
			}
		}
	}
	if e.Log != "" {
		ann[annLog] = string(e.Log)
		if err := add(e.Log, logMediaType); err != nil {
			return nil, err
		}
	}
	return newArtifact(r.o.Blobs, layers, ann)
}

// artifact is an OCI artifact whose layers are content store blobs.
type artifact struct {
	manifest []byte
	blobs    *cas.Store
	layers   map[v1.Hash]v1.Descriptor
}

func newArtifact(blobs *cas.Store, layers []v1.Descriptor, ann map[string]string) (v1.Image, error) {
	sum := sha256.Sum256(emptyConfig)
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: ArtifactType,
		Config: v1.Descriptor{MediaType: types.OCIEmptyJSON, Size: int64(len(emptyConfig)),
			Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, Data: emptyConfig},
		Layers: layers, Annotations: ann}
	if m.Layers == nil {
		m.Layers = []v1.Descriptor{} // "layers" must be an array, even empty
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(raw) > maxManifestBytes {
		return nil, fmt.Errorf("%d blobs make a manifest of %d bytes, more than registries accept", len(layers), len(raw))
	}
	a := &artifact{manifest: raw, blobs: blobs, layers: map[v1.Hash]v1.Descriptor{}}
	for _, l := range layers {
		a.layers[l.Digest] = l
	}
	return partial.CompressedToImage(a)
}

func (a *artifact) RawConfigFile() ([]byte, error)      { return emptyConfig, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }

func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	d, ok := a.layers[h]
	if !ok {
		return nil, fmt.Errorf("no layer %s", h)
	}
	return &casLayer{blobs: a.blobs, desc: d}, nil
}

// casLayer uploads a content store blob, verified as it is read.
type casLayer struct {
	blobs *cas.Store
	desc  v1.Descriptor
}

func (l *casLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *casLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *casLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *casLayer) Compressed() (io.ReadCloser, error) {
	return l.blobs.Open(cas.Digest(l.desc.Digest.String()))
}
