// Package image is the container image scanner: it lists the packages
// inside an OCI image or artifact — from the CycloneDX SBOM attached to it
// as a referrer, or by cataloguing its layers (Go build information of
// executables, the dpkg database) — and matches them against the offline
// OSV database that the dependency scanner uses.
package image

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/scan"
)

// Tool names the scanner in reports; the source of the package list
// (SourceSBOM or SourceLayers) follows in parentheses.
const Tool = "slipway image catalogue"

// Where the package list came from.
const (
	SourceSBOM   = "sbom"
	SourceLayers = "layers"
)

// Options configure a scan.
type Options struct {
	Ref    name.Reference  // the image or artifact, by tag or digest
	Remote []remote.Option // registry access: auth, transport, platform
	DB     string          // the database directory that osv.Update maintains
	// MaxAge is how old the database may be before the scan warns; default
	// deps.DefaultMaxAge.
	MaxAge time.Duration
	// RequireFresh makes a stale database an error wrapping deps.ErrStaleDB.
	RequireFresh bool
	// IgnoreSBOM catalogues the layers even when a CycloneDX SBOM is
	// attached to the image.
	IgnoreSBOM bool
}

// Scan scans the image or artifact opts.Ref names in its registry. An
// attached CycloneDX SBOM is preferred over cataloguing the layers unless
// opts.IgnoreSBOM is set; a malformed one fails the scan (ErrMalformedSBOM).
func Scan(ctx context.Context, opts Options) (*scan.Report, error) {
	start := time.Now()
	if opts.Ref == nil {
		return nil, fmt.Errorf("scan image: no reference")
	}
	db, warnings, err := openDB(opts)
	if err != nil {
		return nil, err
	}
	ropts := append(append([]remote.Option(nil), opts.Remote...), remote.WithContext(ctx))
	desc, err := remote.Get(opts.Ref, ropts...)
	if err != nil {
		return nil, fmt.Errorf("scan image %s: %w", opts.Ref, err)
	}
	d := opts.Ref.Context().Digest(desc.Digest.String())
	img, err := desc.Image() // an index resolves to the platform in opts.Remote
	if err != nil {
		return nil, fmt.Errorf("scan image %s: %w", d, err)
	}
	inv, source, err := inventoryOf(ctx, d, img, opts, ropts)
	if err != nil {
		return nil, fmt.Errorf("scan image %s: %w", d, err)
	}
	rep := report(db, inv, d.String(), source)
	rep.Warnings = append(warnings, rep.Warnings...)
	rep.Took = time.Since(start)
	return rep, ctxErr(ctx)
}

// ScanImage scans an image held in memory by cataloguing its layers.
// opts.Ref, if set, names it in the report; opts.Remote and IgnoreSBOM
// are not used.
func ScanImage(ctx context.Context, img v1.Image, opts Options) (*scan.Report, error) {
	start := time.Now()
	db, warnings, err := openDB(opts)
	if err != nil {
		return nil, err
	}
	h, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("scan image: %w", err)
	}
	target := h.String()
	if opts.Ref != nil {
		target = opts.Ref.Context().Digest(h.String()).String()
	}
	inv, err := catalogue(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("scan image %s: %w", target, err)
	}
	rep := report(db, inv, target, SourceLayers)
	rep.Warnings = append(warnings, rep.Warnings...)
	rep.Took = time.Since(start)
	return rep, ctxErr(ctx)
}

// inventoryOf lists the packages of img from its SBOM or its layers. An
// SBOM that names Debian packages without their release borrows the
// release from the image's os-release.
func inventoryOf(ctx context.Context, d name.Digest, img v1.Image, opts Options, ropts []remote.Option) (*inventory, string, error) {
	if !opts.IgnoreSBOM {
		data, where, err := findSBOMFor(ctx, d, img, ropts)
		if err != nil {
			return nil, "", err
		}
		if data != nil {
			inv, err := parseCycloneDX(data, where)
			if err != nil {
				return nil, "", fmt.Errorf("SBOM %s: %w", where, err)
			}
			if !inv.hasDistro && needsDistro(inv) {
				layers, err := catalogue(ctx, img)
				if err != nil {
					return nil, "", err
				}
				inv.distro, inv.hasDistro = layers.distro, layers.hasDistro
			}
			return inv, SourceSBOM, nil
		}
	}
	inv, err := catalogue(ctx, img)
	return inv, SourceLayers, err
}

// findSBOMFor looks for an SBOM on the digest the reference named and,
// when that is an index, on the platform's image.
func findSBOMFor(ctx context.Context, d name.Digest, img v1.Image, ropts []remote.Option) ([]byte, string, error) {
	data, where, err := findSBOM(ctx, d, ropts)
	if err != nil || data != nil {
		return data, where, err
	}
	h, err := img.Digest()
	if err != nil || h.String() == d.DigestStr() {
		return nil, "", err
	}
	return findSBOM(ctx, d.Context().Digest(h.String()), ropts)
}

// needsDistro reports whether some Debian package lacks a release qualifier.
func needsDistro(inv *inventory) bool {
	for _, f := range inv.found {
		if f.purl.Type == "deb" && f.purl.Qualifiers["distro"] == "" {
			return true
		}
	}
	return false
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("scan image: %w", err)
	}
	return nil
}
