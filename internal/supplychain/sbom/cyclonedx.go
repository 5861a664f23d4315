package sbom

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // UUIDv5 is defined over SHA-1 (RFC 9562)
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// spdxIDLike matches a bare SPDX license identifier or LicenseRef.
var spdxIDLike = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+-]*$`)

// CycloneDX renders pkgs as a CycloneDX 1.6 JSON BOM describing s. The same
// inputs and created time always give the same bytes: packages are sorted
// and the serial number is derived from the content.
func CycloneDX(s Subject, pkgs []Package, created time.Time) ([]byte, error) {
	bom, err := cycloneDXBOM(s, normalize(pkgs), created)
	if err != nil {
		return nil, err
	}
	unsigned, err := encodeCycloneDX(bom)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(unsigned)
	bom.SerialNumber = "urn:uuid:" + uuidV5(fmt.Sprintf("%x", sum))
	return encodeCycloneDX(bom)
}

func encodeCycloneDX(bom *cdx.BOM) ([]byte, error) {
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("sbom: encode CycloneDX: %w", err)
	}
	return buf.Bytes(), nil
}

func cycloneDXBOM(s Subject, pkgs []Package, created time.Time) (*cdx.BOM, error) {
	subject, err := cycloneDXSubject(s)
	if err != nil {
		return nil, err
	}
	comps := make([]cdx.Component, 0, len(pkgs))
	refs := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		comps = append(comps, cycloneDXComponent(p))
		refs = append(refs, p.PURL)
	}
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: created.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "slipway", Version: ToolVersion,
		}}},
		Component: subject,
	}
	bom.Components = &comps
	bom.Dependencies = &[]cdx.Dependency{{Ref: subject.BOMRef, Dependencies: &refs}}
	return bom, nil
}

func cycloneDXSubject(s Subject) (*cdx.Component, error) {
	hexDigest, err := sha256Hex(s.Digest)
	if err != nil {
		return nil, err
	}
	typ := cdx.ComponentTypeApplication
	if s.Type == SubjectContainer {
		typ = cdx.ComponentTypeContainer
	}
	c := &cdx.Component{
		BOMRef: subjectRef(s), Type: typ, Name: s.Name, Version: s.Version,
	}
	if hexDigest != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hexDigest}}
	}
	return c, nil
}

// subjectRef is the subject's bom-ref; the "subject:" prefix keeps it apart
// from the purls used as component bom-refs.
func subjectRef(s Subject) string {
	ref := "subject:" + s.Name
	if s.Digest != "" {
		return ref + "@" + s.Digest
	}
	if s.Version != "" {
		return ref + "@" + s.Version
	}
	return ref
}

func cycloneDXComponent(p Package) cdx.Component {
	c := cdx.Component{
		BOMRef: p.PURL, Type: cdx.ComponentTypeLibrary,
		Name: p.Name, Version: p.Version, PackageURL: p.PURL,
	}
	if p.Main {
		c.Type = cdx.ComponentTypeApplication
	}
	if hx, err := h1ToHex(p.Hashes["h1"]); err == nil {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: hx}}
	}
	if lic := cycloneDXLicenses(p.Licenses); lic != nil {
		c.Licenses = &lic
	}
	return c
}

// cycloneDXLicenses gives one SPDX expression when every license looks like
// an SPDX identifier, else named licenses (ids are not checked against the
// SPDX list here, and the schema rejects unknown ids).
func cycloneDXLicenses(ls []string) cdx.Licenses {
	if len(ls) == 0 {
		return nil
	}
	if allSPDXIDs(ls) {
		return cdx.Licenses{{Expression: strings.Join(ls, " AND ")}}
	}
	out := make(cdx.Licenses, 0, len(ls))
	for _, l := range ls {
		out = append(out, cdx.LicenseChoice{License: &cdx.License{Name: l}})
	}
	return out
}

func allSPDXIDs(ls []string) bool {
	for _, l := range ls {
		if !spdxIDLike.MatchString(l) {
			return false
		}
	}
	return true
}

// uuidV5 derives a name-based UUID (RFC 9562 version 5) in the URL namespace.
func uuidV5(name string) string {
	ns := []byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	h := sha1.New() //nolint:gosec // see import
	h.Write(ns)
	h.Write([]byte(name))
	u := h.Sum(nil)[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
