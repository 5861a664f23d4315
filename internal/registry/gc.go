package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/distribution/distribution/v3/registry/storage"
	"github.com/distribution/distribution/v3/registry/storage/driver"
)

// GarbageCollect deletes blobs that no manifest references (distribution's
// mark and sweep; untagged manifests are kept) and returns their digests,
// sorted. With dryRun it only reports them. Sweeping while the registry
// serves could delete a layer pushed before its manifest, so GarbageCollect
// takes the registry lock for its length and returns a *HeldError when the
// registry is being served.
func GarbageCollect(ctx context.Context, stateDir string, dryRun bool, logf func(string, ...any)) ([]string, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	quietDistribution()
	lock, err := acquire(ctx, stateDir, false)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	if err := lock.publish(Info{Holder: HolderGC, PID: os.Getpid()}); err != nil {
		return nil, err
	}
	d, ns, err := openStorage(ctx, stateDir)
	if err != nil {
		return nil, err
	}
	rec := &deleteRecorder{StorageDriver: d, dryRun: dryRun}
	if err := storage.MarkAndSweep(ctx, rec, ns, storage.GCOpts{DryRun: false, RemoveUntagged: false, Quiet: true}); err != nil {
		return nil, fmt.Errorf("registry garbage collect: %w", err)
	}
	blobs := rec.blobs()
	verb := "deleted"
	if dryRun {
		verb = "would delete"
	}
	logf("registry: garbage collect %s %d blobs", verb, len(blobs))
	return blobs, nil
}

// deleteRecorder notes every path the sweep deletes and, in a dry run,
// deletes nothing. MarkAndSweep's own dry run cannot tell what it found.
type deleteRecorder struct {
	driver.StorageDriver
	dryRun bool

	mu    sync.Mutex
	paths []string
}

// Delete implements driver.StorageDriver.
func (d *deleteRecorder) Delete(ctx context.Context, p string) error {
	d.mu.Lock()
	d.paths = append(d.paths, p)
	d.mu.Unlock()
	if d.dryRun {
		return nil
	}
	return d.StorageDriver.Delete(ctx, p)
}

// blobs returns the digests of the deleted blob directories
// (/docker/registry/v2/blobs/<alg>/<2 hex>/<hex>).
func (d *deleteRecorder) blobs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, p := range d.paths {
		if dg, err := blobDigestFromPath(p); err == nil {
			out = append(out, dg)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var errNotBlobPath = errors.New("not a blob path")

// blobDigestFromPath parses distribution's blob data path layout.
func blobDigestFromPath(p string) (string, error) {
	rest, ok := strings.CutPrefix(path.Clean(p), "/docker/registry/v2/blobs/")
	if !ok {
		return "", errNotBlobPath
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || len(parts[1]) != 2 || !strings.HasPrefix(parts[2], parts[1]) {
		return "", errNotBlobPath
	}
	for _, c := range parts[0] + parts[2] {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "", errNotBlobPath
		}
	}
	return parts[0] + ":" + parts[2], nil
}
