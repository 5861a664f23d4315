package image

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCycloneDX(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		purls   string // the components' purls, by type/name@version
		distro  distro
		wantErr string
	}{
		{name: "components, nested, os", doc: `{"bomFormat":"CycloneDX","specVersion":"1.6",
			"metadata":{"component":{"type":"container","name":"app","purl":"pkg:oci/app@sha256%3Aab"}},
			"components":[{"type":"operating-system","name":"Debian","version":"12"},
			{"type":"library","name":"y","purl":"pkg:golang/github.com/x/y@v1.0.0",
			 "components":[{"type":"library","name":"z","version":"2.0","purl":"pkg:npm/z"}]},
			{"type":"library","name":"no-purl","version":"1"}]}`,
			purls: "golang/y@v1.0.0 npm/z@2.0", distro: distro{ID: "debian", VersionID: "12"}},
		{name: "empty", doc: `{"bomFormat":"CycloneDX","specVersion":"1.6"}`},
		{name: "not JSON", doc: `{"bomFormat":`, wantErr: "CycloneDX JSON"},
		{name: "SPDX", doc: `{"spdxVersion":"SPDX-2.3"}`, wantErr: `bomFormat is ""`},
		{name: "bad purl", doc: `{"bomFormat":"CycloneDX","components":[{"bom-ref":"c1","purl":"pkg:"}]}`, wantErr: `component "c1"`},
		{name: "components not a list", doc: `{"bomFormat":"CycloneDX","components":{}}`, wantErr: "CycloneDX JSON"},
		{name: "too deep", doc: `{"bomFormat":"CycloneDX","components":` + strings.Repeat(`[{"name":"a","components":`, 40) + "[]" +
			strings.Repeat("}]", 40) + "}", wantErr: "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := parseCycloneDX([]byte(tt.doc), "sha256:x")
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformedSBOM) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want ErrMalformedSBOM mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range inv.found {
				got = append(got, f.purl.Type+"/"+f.purl.Name+"@"+f.purl.Version)
				if f.path != "sha256:x" {
					t.Errorf("path %q", f.path)
				}
			}
			if strings.Join(got, " ") != tt.purls || inv.distro != tt.distro {
				t.Errorf("got %q on %+v, want %q on %+v", got, inv.distro, tt.purls, tt.distro)
			}
		})
	}
}

func FuzzParseCycloneDX(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"y","purl":"pkg:golang/github.com/x/y@v1.0.0"}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","components":[{"type":"operating-system","name":"debian","version":"12"},{"purl":"pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12&upstream=glibc"}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","components":[{"purl":"pkg:npm/%40s/p@1","components":[{"purl":"pkg:golang/stdlib@1.22rc1"}]}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","components":[{"purl":"pkg:"}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3"}`))
	f.Add([]byte(`[`))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := parseCycloneDX(data, "sbom")
		if err != nil {
			if !errors.Is(err, ErrMalformedSBOM) {
				t.Fatalf("error %v does not wrap ErrMalformedSBOM", err)
			}
			return
		}
		for _, fd := range inv.found {
			if fd.purl.Type == "" || fd.purl.Name == "" {
				t.Fatalf("component without type or name: %+v", fd.purl)
			}
			if tg, ok := resolve(fd, inv.distro); ok && (tg.Ecosystem == "" || tg.Query == "" || tg.Version == "") {
				t.Fatalf("resolved to an incomplete package: %+v", tg)
			}
		}
	})
}
