package image

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// ErrMalformedSBOM marks an SBOM that cannot be read; the scan fails
// rather than report an image clean on a document it did not understand.
var ErrMalformedSBOM = errors.New("malformed SBOM")

// maxSBOMSize bounds the SBOM document read from a registry.
const maxSBOMSize = 64 << 20

// maxComponentDepth bounds component nesting (hostile documents nest deep).
const maxComponentDepth = 32

// inventory is what a source says is in an image.
type inventory struct {
	found  []found
	distro distro
	// hasDistro says distro came from the source itself, not a guess.
	hasDistro bool
}

// parseCycloneDX lists the components of a CycloneDX JSON document that
// carry a package URL, and the operating system it names, if any. where
// becomes the path of every component.
func parseCycloneDX(data []byte, where string) (*inventory, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("%w: CycloneDX JSON: %w", ErrMalformedSBOM, err)
	}
	if bom.BOMFormat != cdx.BOMFormat {
		return nil, fmt.Errorf("%w: bomFormat is %q, want %q", ErrMalformedSBOM, clip(bom.BOMFormat), cdx.BOMFormat)
	}
	inv := &inventory{}
	if bom.Components != nil {
		if err := inv.addComponents(*bom.Components, where, 0); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

func (inv *inventory) addComponents(cs []cdx.Component, where string, depth int) error {
	if depth > maxComponentDepth {
		return fmt.Errorf("%w: components nested deeper than %d", ErrMalformedSBOM, maxComponentDepth)
	}
	for i := range cs {
		c := &cs[i]
		if c.Type == cdx.ComponentTypeOS && !inv.hasDistro {
			inv.distro = distro{ID: strings.ToLower(c.Name), VersionID: c.Version}
			inv.hasDistro = true
		}
		if c.PackageURL != "" {
			p, err := parsePURL(c.PackageURL)
			if err != nil {
				return fmt.Errorf("%w: component %q: %w", ErrMalformedSBOM, clip(c.BOMRef), err)
			}
			if p.Version == "" && c.Version != "" {
				p.Version = c.Version
			}
			inv.found = append(inv.found, found{purl: p, path: where})
		}
		if c.Components != nil {
			if err := inv.addComponents(*c.Components, where, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
