package supplychain

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func mustB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestProvenance(t *testing.T) {
	started := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	in := ProvenanceInput{
		BuilderID: "https://slipway.dev/builder/local", BuildType: "https://slipway.dev/build/v1",
		Repo: "https://example.com/org/repo", Ref: "refs/heads/main", Commit: strings.Repeat("c", 40),
		PipelineFile: ".slipway.yaml", PipelineDigest: "sha256:" + strings.Repeat("1", 64), Step: "build",
		RunID: 42, Started: started, Finished: started.Add(time.Minute), SlipwayVersion: "v0.1.0",
		Subjects: []Subject{{Name: "app", Digest: "sha256:" + strings.Repeat("A", 64)}},
	}
	tests := []struct {
		name      string
		sandboxed bool
		isolation any
	}{
		{"unsandboxed", false, unsandboxedIsolation},
		{"sandboxed", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := in
			in.Sandboxed = tt.sandboxed
			b, err := Provenance(in)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Provenance(in)
			if !bytes.Equal(b, again) {
				t.Error("provenance is not deterministic")
			}
			var st struct {
				Type          string `json:"_type"`
				PredicateType string `json:"predicateType"`
				Subject       []struct {
					Name   string
					Digest map[string]string
				}
				Predicate struct {
					BuildDefinition struct {
						BuildType            string         `json:"buildType"`
						ExternalParameters   map[string]any `json:"externalParameters"`
						InternalParameters   map[string]any `json:"internalParameters"`
						ResolvedDependencies []struct {
							URI    string `json:"uri"`
							Digest map[string]string
						} `json:"resolvedDependencies"`
					} `json:"buildDefinition"`
					RunDetails struct {
						Builder struct {
							ID string `json:"id"`
						}
						Metadata struct {
							InvocationID string `json:"invocationId"`
							StartedOn    string `json:"startedOn"`
							FinishedOn   string `json:"finishedOn"`
						}
					} `json:"runDetails"`
				}
			}
			if err := json.Unmarshal(b, &st); err != nil {
				t.Fatal(err)
			}
			bd, rd := st.Predicate.BuildDefinition, st.Predicate.RunDetails
			checks := []struct {
				what      string
				got, want any
			}{
				{"_type", st.Type, "https://in-toto.io/Statement/v1"},
				{"predicateType", st.PredicateType, PredicateSLSAProvenanceV1},
				{"subject digest (lower-cased)", st.Subject[0].Digest["sha256"], strings.Repeat("a", 64)},
				{"buildType", bd.BuildType, in.BuildType},
				{"repository", bd.ExternalParameters["repository"], in.Repo},
				{"commit", bd.ExternalParameters["commit"], in.Commit},
				{"step", bd.ExternalParameters["step"], "build"},
				{"pipeline.file", bd.ExternalParameters["pipeline"].(map[string]any)["file"], ".slipway.yaml"},
				{"pipeline.digest", bd.ExternalParameters["pipeline"].(map[string]any)["digest"], in.PipelineDigest},
				{"sandboxed", bd.InternalParameters["sandboxed"], tt.sandboxed},
				{"isolation", bd.InternalParameters["isolation"], tt.isolation},
				{"dependency uri", bd.ResolvedDependencies[0].URI, "git+https://example.com/org/repo@refs/heads/main"},
				{"dependency commit", bd.ResolvedDependencies[0].Digest["gitCommit"], in.Commit},
				{"builder", rd.Builder.ID, in.BuilderID},
				{"invocationId", rd.Metadata.InvocationID, "42"},
				{"startedOn", rd.Metadata.StartedOn, "2025-01-02T03:04:05Z"},
				{"finishedOn", rd.Metadata.FinishedOn, "2025-01-02T03:05:05Z"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

func TestProvenanceRejects(t *testing.T) {
	ok := ProvenanceInput{BuilderID: "b", BuildType: "t", Repo: "r", Subjects: []Subject{{Name: "x", Digest: "sha256:" + strings.Repeat("0", 64)}}}
	tests := map[string]func(*ProvenanceInput){
		"no subjects":   func(in *ProvenanceInput) { in.Subjects = nil },
		"bad digest":    func(in *ProvenanceInput) { in.Subjects[0].Digest = "sha256:xyz" },
		"no builder id": func(in *ProvenanceInput) { in.BuilderID = "" },
		"no build type": func(in *ProvenanceInput) { in.BuildType = "" },
		"sha512 digest": func(in *ProvenanceInput) { in.Subjects[0].Digest = "sha512:" + strings.Repeat("0", 128) },
	}
	if _, err := Provenance(ok); err != nil {
		t.Fatalf("baseline: %v", err)
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			in := ok
			in.Subjects = append([]Subject(nil), ok.Subjects...)
			mutate(&in)
			if _, err := Provenance(in); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
