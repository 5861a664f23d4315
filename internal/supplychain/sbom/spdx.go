package sbom

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"
	"time"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"
)

// spdxNamespaceBase prefixes documentNamespace; SPDX only needs it unique.
const spdxNamespaceBase = "https://github.com/slipway-ci/slipway/spdx/"

const noAssertion = "NOASSERTION"

// SPDX renders pkgs as an SPDX 2.3 JSON document describing s. The same
// inputs and created time always give the same bytes: packages are sorted
// and the document namespace is derived from the content.
func SPDX(s Subject, pkgs []Package, created time.Time) ([]byte, error) {
	doc, err := spdxDocument(s, normalize(pkgs), created)
	if err != nil {
		return nil, err
	}
	unsigned, err := encodeSPDX(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(unsigned)
	doc.DocumentNamespace = spdxNamespaceBase + url.PathEscape(s.Name) + "-" + uuidV5(fmt.Sprintf("%x", sum))
	return encodeSPDX(doc)
}

func encodeSPDX(doc *spdx.Document) ([]byte, error) {
	var buf bytes.Buffer
	if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
		return nil, fmt.Errorf("sbom: encode SPDX: %w", err)
	}
	return buf.Bytes(), nil
}

func spdxDocument(s Subject, pkgs []Package, created time.Time) (*spdx.Document, error) {
	subject, err := spdxSubject(s)
	if err != nil {
		return nil, err
	}
	doc := &spdx.Document{
		SPDXVersion:    spdx.Version,
		DataLicense:    spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   s.Name,
		CreationInfo: &spdx.CreationInfo{
			Creators: []common.Creator{{CreatorType: "Tool", Creator: "slipway-" + ToolVersion}},
			Created:  created.UTC().Format(time.RFC3339),
		},
		Packages: []*spdx.Package{subject},
		Relationships: []*spdx.Relationship{{
			RefA:         common.MakeDocElementID("", "DOCUMENT"),
			RefB:         common.MakeDocElementID("", string(subject.PackageSPDXIdentifier)),
			Relationship: common.TypeRelationshipDescribe,
		}},
	}
	licenses := map[string]*spdx.OtherLicense{}
	for _, p := range pkgs {
		sp := spdxPackage(p, licenses)
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA:         common.MakeDocElementID("", string(subject.PackageSPDXIdentifier)),
			RefB:         common.MakeDocElementID("", string(sp.PackageSPDXIdentifier)),
			Relationship: common.TypeRelationshipContains,
		})
	}
	for _, id := range sortedKeys(licenses) {
		doc.OtherLicenses = append(doc.OtherLicenses, licenses[id])
	}
	return doc, nil
}

func spdxSubject(s Subject) (*spdx.Package, error) {
	hexDigest, err := sha256Hex(s.Digest)
	if err != nil {
		return nil, err
	}
	p := bareSPDXPackage("Subject", s.Name, s.Version)
	p.PrimaryPackagePurpose = "APPLICATION"
	if s.Type == SubjectContainer {
		p.PrimaryPackagePurpose = "CONTAINER"
	}
	if hexDigest != "" {
		p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hexDigest}}
	}
	return p, nil
}

func bareSPDXPackage(id, name, version string) *spdx.Package {
	return &spdx.Package{
		PackageName:             name,
		PackageSPDXIdentifier:   common.ElementID(id),
		PackageVersion:          version,
		PackageDownloadLocation: noAssertion,
		FilesAnalyzed:           false,
		PackageLicenseConcluded: noAssertion,
		PackageLicenseDeclared:  noAssertion,
		PackageCopyrightText:    noAssertion,
	}
}

func spdxPackage(p Package, others map[string]*spdx.OtherLicense) *spdx.Package {
	sp := bareSPDXPackage(spdxID(p), p.Name, p.Version)
	sp.PackageExternalReferences = []*spdx.PackageExternalReference{{
		Category: common.CategoryPackageManager, RefType: common.TypePackageManagerPURL, Locator: p.PURL,
	}}
	if hx, err := h1ToHex(p.Hashes["h1"]); err == nil {
		sp.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: hx}}
	}
	if len(p.Licenses) > 0 {
		sp.PackageLicenseDeclared = spdxLicenseExpr(p.Licenses, others)
	}
	if p.Main {
		sp.PrimaryPackagePurpose = "APPLICATION"
	} else {
		sp.PrimaryPackagePurpose = "LIBRARY"
	}
	return sp
}

// spdxID is unique per purl (normalize has merged duplicates) and readable.
func spdxID(p Package) string {
	sum := sha256.Sum256([]byte(p.PURL))
	return fmt.Sprintf("Package-%s-%s-%x", spdxIDSafe(p.Type), spdxIDSafe(p.Name), sum[:8])
}

// spdxIDSafe keeps the characters SPDX identifiers allow: [A-Za-z0-9.-].
func spdxIDSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// spdxLicenseExpr ANDs the licenses; names that are not SPDX-identifier-like
// become LicenseRefs recorded in others.
func spdxLicenseExpr(ls []string, others map[string]*spdx.OtherLicense) string {
	terms := make([]string, 0, len(ls))
	for _, l := range ls {
		if spdxIDLike.MatchString(l) {
			terms = append(terms, l)
			continue
		}
		sum := sha256.Sum256([]byte(l))
		id := fmt.Sprintf("LicenseRef-%x", sum[:8])
		others[id] = &spdx.OtherLicense{LicenseIdentifier: id, LicenseName: l, ExtractedText: l}
		terms = append(terms, id)
	}
	return strings.Join(terms, " AND ")
}
