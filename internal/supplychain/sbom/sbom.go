// Package sbom inventories the software in Go modules, Go binaries, Debian
// package databases and container layers, and renders that inventory as
// reproducible CycloneDX 1.6 and SPDX 2.3 JSON documents.
package sbom

import (
	"errors"
	"runtime/debug"
)

// Media types of the documents produced by CycloneDX and SPDX.
const (
	MediaTypeCycloneDX = "application/vnd.cyclonedx+json"
	MediaTypeSPDX      = "application/spdx+json"
)

// Package types.
const (
	TypeGolang = "golang"
	TypeDeb    = "deb"
)

// Subject types: what the SBOM describes.
const (
	SubjectApplication = "application"
	SubjectContainer   = "container"
)

// ErrNotGoBinary is returned by FromGoBinary for input that is not a Go
// executable carrying build information.
var ErrNotGoBinary = errors.New("not a Go binary")

// ToolVersion is the slipway version recorded as the SBOM generator. It
// defaults to the main module version from the running binary's build info.
var ToolVersion = defaultToolVersion()

// Package is one software component found in an input.
type Package struct {
	Name, Version string
	Type          string            // TypeGolang or TypeDeb
	PURL          string            // package URL, e.g. pkg:golang/github.com/x/y@v1.2.3
	Hashes        map[string]string // algorithm → value; Go: "h1" → "h1:<base64 sha256>"
	Licenses      []string          // SPDX license identifiers or free-form names
	Main          bool              // the main module of a Go module or binary
}

// Subject is the artifact an SBOM describes.
type Subject struct {
	Name    string
	Version string
	Digest  string // "sha256:<hex>", optional
	Type    string // SubjectApplication (default) or SubjectContainer
}

func defaultToolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
