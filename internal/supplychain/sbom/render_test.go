package sbom

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var created = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

var (
	imageSubject = Subject{Name: "registry.example/app", Version: "v1.2.3", Type: SubjectContainer,
		Digest: "sha256:" + strings.Repeat("ab", 32)}
	appSubject = Subject{Name: "example.com/app", Version: "v1.2.3"}
)

// fixturePackages combines the go.mod and dpkg fixtures with licenses and a
// duplicate, to exercise every field the renderers write.
func fixturePackages(t testing.TB) []Package {
	t.Helper()
	mod, err := FromGoModule(filepath.Join("testdata", "gomod", "replace"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("testdata", "dpkg", "status"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	deb, err := FromDpkgStatus(f)
	if err != nil {
		t.Fatal(err)
	}
	pkgs := append(mod, deb...)
	for i := range pkgs {
		switch pkgs[i].Name {
		case "github.com/google/go-cmp":
			pkgs[i].Licenses = []string{"BSD-3-Clause"}
		case "bash":
			pkgs[i].Licenses = []string{"GPL-3.0-or-later", "Some Custom Licence"}
		}
	}
	// A duplicate purl (e.g. the same module in two binaries) is merged.
	return append(pkgs, Package{Name: "golang.org/x/mod", Version: "v0.42.0", Type: TypeGolang,
		PURL: "pkg:golang/golang.org/x/mod@v0.42.0", Licenses: []string{"BSD-3-Clause"}})
}

type renderer struct {
	name   string
	render func(Subject, []Package, time.Time) ([]byte, error)
}

var renderers = []renderer{{"cyclonedx", CycloneDX}, {"spdx", SPDX}}

func TestGolden(t *testing.T) {
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			got, err := r.render(imageSubject, fixturePackages(t), created)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", r.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run with -update after checking):\n%s", r.name, path, got)
			}
		})
	}
}

func TestReproducible(t *testing.T) {
	base := fixturePackages(t)
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			first, err := r.render(imageSubject, base, created)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				shuffled := append([]Package(nil), base...)
				rand.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				again, err := r.render(imageSubject, shuffled, created)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first, again) {
					t.Fatalf("render %d of shuffled input differs", i)
				}
			}
			// Different content must give a different document identity.
			other, err := r.render(imageSubject, base[1:], created)
			if err != nil {
				t.Fatal(err)
			}
			if id(t, first) == id(t, other) {
				t.Errorf("serial/namespace %q unchanged when the content changed", id(t, first))
			}
		})
	}
}

// id returns the CycloneDX serialNumber or the SPDX documentNamespace.
func id(t testing.TB, doc []byte) string {
	t.Helper()
	var v struct {
		Serial    string `json:"serialNumber"`
		Namespace string `json:"documentNamespace"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	return v.Serial + v.Namespace
}

func TestCycloneDXContent(t *testing.T) {
	out, err := CycloneDX(imageSubject, fixturePackages(t), created)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		SpecVersion string `json:"specVersion"`
		Serial      string `json:"serialNumber"`
		Metadata    struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				Type   string
				BOMRef string `json:"bom-ref"`
				Hashes []struct{ Alg, Content string }
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			BOMRef string `json:"bom-ref"`
			PURL   string `json:"purl"`
			Hashes []struct{ Alg, Content string }
		} `json:"components"`
		Dependencies []struct {
			Ref       string   `json:"ref"`
			DependsOn []string `json:"dependsOn"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(out, &bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != "1.6" || !strings.HasPrefix(bom.Serial, "urn:uuid:") || bom.Metadata.Timestamp != "2025-06-01T12:00:00Z" {
		t.Errorf("header: spec %q serial %q timestamp %q", bom.SpecVersion, bom.Serial, bom.Metadata.Timestamp)
	}
	if c := bom.Metadata.Component; c.Type != "container" || len(c.Hashes) != 1 || c.Hashes[0].Content != strings.Repeat("ab", 32) {
		t.Errorf("subject component = %+v", c)
	}
	if len(bom.Components) != 12 { // 7 modules + 5 debs; the duplicate merged
		t.Errorf("%d components, want 12", len(bom.Components))
	}
	for _, c := range bom.Components {
		if c.BOMRef != c.PURL {
			t.Errorf("bom-ref %q != purl %q", c.BOMRef, c.PURL)
		}
		if c.PURL == "pkg:golang/golang.org/x/mod@v0.42.0" {
			// h1:ICeL3t2L... is base64 of this SHA-256.
			const want = "20278bdedd8bdf496348f1c7c439d1e1fa95701b7fcd1db32406fd8ee6af9908"
			if len(c.Hashes) != 1 || c.Hashes[0].Alg != "SHA-256" || c.Hashes[0].Content != want {
				t.Errorf("x/mod hashes = %+v, want SHA-256 %s", c.Hashes, want)
			}
		}
	}
	if len(bom.Dependencies) != 1 || bom.Dependencies[0].Ref != bom.Metadata.Component.BOMRef || len(bom.Dependencies[0].DependsOn) != 12 {
		t.Errorf("dependencies = %+v", bom.Dependencies)
	}
}

func TestSPDXContent(t *testing.T) {
	out, err := SPDX(appSubject, fixturePackages(t), created)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Namespace string `json:"documentNamespace"`
		Packages  []struct {
			SPDXID        string `json:"SPDXID"`
			Download      string `json:"downloadLocation"`
			FilesAnalyzed *bool  `json:"filesAnalyzed"`
			Declared      string `json:"licenseDeclared"`
			ExternalRefs  []struct{ ReferenceCategory, ReferenceType, ReferenceLocator string }
		} `json:"packages"`
		Relationships []struct{ SpdxElementID, RelatedSpdxElement, RelationshipType string }
		Extracted     []struct{ LicenseID, ExtractedText string } `json:"hasExtractedLicensingInfos"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.Namespace, spdxNamespaceBase) {
		t.Errorf("namespace = %q", doc.Namespace)
	}
	if len(doc.Packages) != 13 { // subject + 12
		t.Fatalf("%d packages, want 13", len(doc.Packages))
	}
	ids := map[string]bool{}
	for i, p := range doc.Packages {
		if ids[p.SPDXID] {
			t.Errorf("duplicate SPDXID %s", p.SPDXID)
		}
		ids[p.SPDXID] = true
		if p.Download != "NOASSERTION" || p.FilesAnalyzed == nil || *p.FilesAnalyzed {
			t.Errorf("package %s: downloadLocation %q filesAnalyzed %v", p.SPDXID, p.Download, p.FilesAnalyzed)
		}
		if i > 0 && (len(p.ExternalRefs) != 1 || p.ExternalRefs[0].ReferenceCategory != "PACKAGE-MANAGER" || p.ExternalRefs[0].ReferenceType != "purl") {
			t.Errorf("package %s: externalRefs %+v", p.SPDXID, p.ExternalRefs)
		}
	}
	r := doc.Relationships[0]
	if r.SpdxElementID != "SPDXRef-DOCUMENT" || r.RelationshipType != "DESCRIBES" || r.RelatedSpdxElement != doc.Packages[0].SPDXID {
		t.Errorf("first relationship = %+v, want DOCUMENT DESCRIBES subject", r)
	}
	if len(doc.Extracted) != 1 || doc.Extracted[0].ExtractedText != "Some Custom Licence" {
		t.Errorf("extracted licences = %+v", doc.Extracted)
	}
}

func TestSubjectDigestInvalid(t *testing.T) {
	for _, r := range renderers {
		_, err := r.render(Subject{Name: "x", Digest: "sha256:nothex"}, nil, created)
		if err == nil || !strings.Contains(err.Error(), "subject digest") {
			t.Errorf("%s: error = %v, want a subject digest error", r.name, err)
		}
	}
}
