package image

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/artifact"
	"github.com/slipway-ci/slipway/internal/scan"
	"github.com/slipway-ci/slipway/internal/scan/deps"
	"github.com/slipway-ci/slipway/internal/scan/osv"
	"github.com/slipway-ci/slipway/internal/supplychain/sbom"
)

// rules lists a report's findings by rule.
func rules(rep *scan.Report) map[string]scan.Finding {
	m := map[string]scan.Finding{}
	for _, f := range rep.Findings {
		m[f.Rule] = f
	}
	return m
}

func ruleIDs(rep *scan.Report) string {
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.Rule)
	}
	return strings.Join(ids, ",")
}

func TestScanCataloguesLayers(t *testing.T) {
	db, host := newDB(t), newRegistry(t)
	d := push(t, host+"/demo/app:v1", debianImage(t))
	ref, _ := name.ParseReference(host + "/demo/app:v1")
	rep, err := Scan(context.Background(), Options{Ref: ref, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target != d.String() || rep.Tool != "slipway image catalogue (layers)" || rep.Scanner != scan.Image {
		t.Errorf("report target %q tool %q scanner %q; want %q, layers, image", rep.Target, rep.Tool, rep.Scanner, d)
	}
	// demo's main module has no version, so: stdlib, libsynth1, libsafe.
	if rep.Scanned != 3 {
		t.Errorf("scanned %d packages, want 3", rep.Scanned)
	}
	if got := ruleIDs(rep); got != "GO-9999-1001,SLIPWAY-TEST-DEB-0001" {
		t.Fatalf("findings %s, want the stdlib and the Debian 12 source-package records", got)
	}
	ver, next := stdlibVersion(t)
	std := rules(rep)[stdlibRecordID]
	wantStd := scan.Finding{Scanner: "image", Rule: stdlibRecordID, Severity: scan.High,
		Title: "SYNTHETIC test record: the test toolchain's standard library", Path: "app/demo",
		Package: "stdlib", Version: ver, Ecosystem: "Go", FixedIn: next, HelpURL: "https://pkg.go.dev/vuln/" + stdlibRecordID,
		Fingerprint: scan.Fingerprint("image", stdlibRecordID, "Go/stdlib", ver)}
	if std != wantStd {
		t.Errorf("stdlib finding\n got %+v\nwant %+v", std, wantStd)
	}
	deb := rules(rep)["SLIPWAY-TEST-DEB-0001"]
	wantDeb := scan.Finding{Scanner: "image", Rule: "SLIPWAY-TEST-DEB-0001", Severity: scan.Critical,
		Title: "SYNTHETIC test record: Debian 12 synthlib (source package synthlib)", Path: "var/lib/dpkg/status",
		Package: "libsynth1", Version: "1.2.3-1", Ecosystem: "Debian:12", HelpURL: "https://osv.dev/vulnerability/SLIPWAY-TEST-DEB-0001",
		Fingerprint: scan.Fingerprint("image", "SLIPWAY-TEST-DEB-0001", "Debian:12/libsynth1", "1.2.3-1")}
	if deb != wantDeb {
		t.Errorf("Debian finding\n got %+v\nwant %+v", deb, wantDeb)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings %q on a fresh database", rep.Warnings)
	}
}

func TestScanImageHonoursWhiteouts(t *testing.T) {
	db := newDB(t)
	tests := []struct {
		name  string
		extra [][2]string
		want  string
	}{
		{"status deleted", [][2]string{{"var/lib/dpkg/.wh.status", ""}}, "GO-9999-1001"},
		{"binary replaced", [][2]string{{"app/demo", "#!/bin/sh\n"}}, "SLIPWAY-TEST-DEB-0001"},
		{"dpkg dir opaque", [][2]string{{"var/lib/dpkg/.wh..wh..opq", ""}}, "GO-9999-1001"},
		{"upgraded package", [][2]string{{"var/lib/dpkg/status", strings.Replace(dpkgStatus, "1.2.3-1", "1.2.3-2", 1)}}, "GO-9999-1001"},
		{"no os-release: plain Debian", [][2]string{{"etc/.wh.os-release", ""}}, "GO-9999-1001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := debianImage(t, tarLayer(t, tt.extra...))
			rep, err := ScanImage(context.Background(), img, Options{DB: db})
			if err != nil {
				t.Fatal(err)
			}
			if got := ruleIDs(rep); got != tt.want {
				t.Errorf("findings %s, want %s", got, tt.want)
			}
			if h, _ := img.Digest(); rep.Target != h.String() {
				t.Errorf("target %q, want the digest %s", rep.Target, h)
			}
		})
	}
}

func TestScanImageArtifact(t *testing.T) {
	a, err := artifact.BuildArtifact([]artifact.File{{Name: "bin/demo", Source: testBinary(t)}}, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference("registry.example/demo/files:v1")
	rep, err := ScanImage(context.Background(), a, Options{DB: newDB(t), Ref: ref})
	if err != nil {
		t.Fatal(err)
	}
	f := rules(rep)[stdlibRecordID]
	if len(rep.Findings) != 1 || f.Path != "bin/demo" {
		t.Errorf("findings %+v, want the stdlib record at bin/demo", rep.Findings)
	}
	if !strings.HasPrefix(rep.Target, "registry.example/demo/files@sha256:") {
		t.Errorf("target %q, want the reference with the digest", rep.Target)
	}
}

// cycloneDX renders a Slipway SBOM of a Go module nobody else lists and
// the dpkg database (whose purls carry no distro, so the image says 12).
func cycloneDX(t testing.TB) []byte {
	t.Helper()
	debs, err := sbom.FromDpkgStatus(strings.NewReader(dpkgStatus))
	if err != nil {
		t.Fatal(err)
	}
	pkgs := append(debs, sbom.Package{Name: "example.com/sbomonly", Version: "v1.0.0", Type: sbom.TypeGolang,
		PURL: "pkg:golang/example.com/sbomonly@v1.0.0"})
	doc, err := sbom.CycloneDX(sbom.Subject{Name: "demo/app", Version: "v1"}, pkgs, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestScanPrefersAttachedSBOM(t *testing.T) {
	db, host := newDB(t), newRegistry(t)
	d := push(t, host+"/demo/app:v1", debianImage(t))
	attach(t, d, "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`), nil) // not ours to read
	old := attach(t, d, sbom.MediaTypeCycloneDX, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}`),
		map[string]string{annotationCreated: "2024-01-01T00:00:00Z"})
	sbomDigest := attach(t, d, sbom.MediaTypeCycloneDX, cycloneDX(t), map[string]string{annotationCreated: "2025-01-01T00:00:00Z"})
	if old == sbomDigest {
		t.Fatal("test SBOMs must differ")
	}
	rep, err := Scan(context.Background(), Options{Ref: d, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tool != "slipway image catalogue (sbom)" {
		t.Errorf("tool %q, want the sbom source", rep.Tool)
	}
	// The stdlib record is not found: the SBOM, not the binary, was read.
	if got := ruleIDs(rep); got != "SLIPWAY-TEST-DEB-0001,GO-9999-2001" {
		t.Fatalf("findings %s, want the SBOM's Go module and Debian package", got)
	}
	for _, f := range rep.Findings {
		if f.Path != sbomDigest {
			t.Errorf("%s at %q, want the SBOM referrer %s", f.Rule, f.Path, sbomDigest)
		}
	}
	if f := rules(rep)["SLIPWAY-TEST-DEB-0001"]; f.Ecosystem != "Debian:12" {
		t.Errorf("Debian ecosystem %q, want Debian:12 from the image's os-release", f.Ecosystem)
	}
	if f := rules(rep)["GO-9999-2001"]; f.Version != "v1.0.0" || f.FixedIn != "1.0.1" || f.Severity != scan.Medium {
		t.Errorf("Go module finding %+v", f)
	}

	rep, err = Scan(context.Background(), Options{Ref: d, DB: db, IgnoreSBOM: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleIDs(rep); got != "GO-9999-1001,SLIPWAY-TEST-DEB-0001" || !strings.HasSuffix(rep.Tool, "(layers)") {
		t.Errorf("IgnoreSBOM: findings %s from %s, want the layers'", got, rep.Tool)
	}
}

func TestScanMalformedSBOM(t *testing.T) {
	db, host := newDB(t), newRegistry(t)
	d := push(t, host+"/demo/app:v1", debianImage(t))
	attach(t, d, sbom.MediaTypeCycloneDX, []byte(`{"bomFormat":"CycloneDX","components":[{"purl":"npm/left-pad"}]}`), nil)
	_, err := Scan(context.Background(), Options{Ref: d, DB: db})
	if !errors.Is(err, ErrMalformedSBOM) || !strings.Contains(err.Error(), "npm/left-pad") {
		t.Fatalf("err %v, want ErrMalformedSBOM naming the purl", err)
	}
	if _, err := Scan(context.Background(), Options{Ref: d, DB: db, IgnoreSBOM: true}); err != nil {
		t.Errorf("IgnoreSBOM still reads the SBOM: %v", err)
	}
}

func TestScanDatabase(t *testing.T) {
	img := debianImage(t)
	db := newDB(t)
	if _, err := ScanImage(context.Background(), img, Options{DB: t.TempDir()}); !errors.Is(err, osv.ErrNoDB) {
		t.Errorf("empty database dir: err %v, want osv.ErrNoDB", err)
	}
	time.Sleep(2 * time.Millisecond)
	rep, err := ScanImage(context.Background(), img, Options{DB: db, MaxAge: time.Millisecond})
	if err != nil || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "slipway scan db update") {
		t.Errorf("stale database: err %v, warnings %q; want one warning", err, rep.Warnings)
	}
	if _, err := ScanImage(context.Background(), img, Options{DB: db, MaxAge: time.Millisecond, RequireFresh: true}); !errors.Is(err, deps.ErrStaleDB) {
		t.Errorf("RequireFresh: err %v, want deps.ErrStaleDB", err)
	}
}

func TestScanCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScanImage(ctx, debianImage(t), Options{DB: newDB(t)}); !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

func TestScanIndexUsesPlatformImageSBOM(t *testing.T) {
	db, host := newDB(t), newRegistry(t)
	img := debianImage(t)
	child := push(t, host+"/demo/multi:child", img)
	attach(t, child, sbom.MediaTypeCycloneDX, cycloneDX(t), nil)
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img,
		Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	ref, err := name.ParseReference(host + "/demo/multi:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		t.Fatal(err)
	}
	rep, err := Scan(context.Background(), Options{Ref: ref, DB: db})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := idx.Digest()
	if rep.Target != ref.Context().Digest(h.String()).String() || !strings.HasSuffix(rep.Tool, "(sbom)") {
		t.Errorf("target %q from %q; want the index digest, from the platform image's SBOM", rep.Target, rep.Tool)
	}
	if got := ruleIDs(rep); got != "SLIPWAY-TEST-DEB-0001,GO-9999-2001" {
		t.Errorf("findings %s", got)
	}
}
