package supplychain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Predicate types used by Slipway attestations.
const (
	// PredicateSLSAProvenanceV1 is SLSA Provenance v1 (cosign --type slsaprovenance1).
	PredicateSLSAProvenanceV1 = "https://slsa.dev/provenance/v1"
	// PredicateCosignSign is what cosign v3 signs for an image signature in
	// the bundle format: a statement with an empty predicate.
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"
)

// unsandboxedIsolation is recorded when steps ran without a sandbox, so no
// reader mistakes the provenance for a SLSA Build L3 claim.
const unsandboxedIsolation = "none: steps ran unsandboxed; no SLSA Build L3 isolation claim"

// Subject is one artifact a statement is about.
type Subject struct {
	Name   string
	Digest string // "sha256:<hex>"
}

// ProvenanceInput is what a run knows about how it built its artifacts.
type ProvenanceInput struct {
	BuilderID, BuildType                                  string
	Repo, Ref, Commit, PipelineFile, PipelineDigest, Step string
	RunID                                                 int64
	Started, Finished                                     time.Time
	Sandboxed                                             bool
	SlipwayVersion                                        string
	Subjects                                              []Subject
}

// Provenance returns an in-toto Statement v1 (JSON) with a SLSA Provenance
// v1 predicate describing in.
func Provenance(in ProvenanceInput) ([]byte, error) {
	subjects, err := resourceDescriptors(in.Subjects)
	if err != nil {
		return nil, err
	}
	prov, err := provenancePredicate(in)
	if err != nil {
		return nil, err
	}
	if err := prov.Validate(); err != nil {
		return nil, fmt.Errorf("provenance: %w", err)
	}
	predicate, err := toStruct(prov)
	if err != nil {
		return nil, err
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       subjects,
		PredicateType: PredicateSLSAProvenanceV1,
		Predicate:     predicate,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("provenance statement: %w", err)
	}
	return marshalCompact(st)
}

func provenancePredicate(in ProvenanceInput) (*slsa.Provenance, error) {
	external, err := structpb.NewStruct(nonEmpty(map[string]any{
		"repository": in.Repo,
		"ref":        in.Ref,
		"commit":     in.Commit,
		"pipeline":   nonEmpty(map[string]any{"file": in.PipelineFile, "digest": in.PipelineDigest}),
		"step":       in.Step,
	}))
	if err != nil {
		return nil, fmt.Errorf("provenance external parameters: %w", err)
	}
	internalParams := map[string]any{"sandboxed": in.Sandboxed}
	if !in.Sandboxed {
		internalParams["isolation"] = unsandboxedIsolation
	}
	internal, err := structpb.NewStruct(internalParams)
	if err != nil {
		return nil, fmt.Errorf("provenance internal parameters: %w", err)
	}
	meta := &slsa.BuildMetadata{InvocationId: strconv.FormatInt(in.RunID, 10)}
	if !in.Started.IsZero() {
		meta.StartedOn = timestamppb.New(in.Started)
	}
	if !in.Finished.IsZero() {
		meta.FinishedOn = timestamppb.New(in.Finished)
	}
	builder := &slsa.Builder{Id: in.BuilderID}
	if in.SlipwayVersion != "" {
		builder.Version = map[string]string{"slipway": in.SlipwayVersion}
	}
	return &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:            in.BuildType,
			ExternalParameters:   external,
			InternalParameters:   internal,
			ResolvedDependencies: sourceDependency(in),
		},
		RunDetails: &slsa.RunDetails{Builder: builder, Metadata: meta},
	}, nil
}

// sourceDependency names the source repository at the built commit.
func sourceDependency(in ProvenanceInput) []*intoto.ResourceDescriptor {
	if in.Repo == "" || in.Commit == "" {
		return nil
	}
	uri := "git+" + in.Repo
	if in.Ref != "" {
		uri += "@" + in.Ref
	}
	return []*intoto.ResourceDescriptor{{Uri: uri, Digest: map[string]string{"gitCommit": in.Commit}}}
}

func resourceDescriptors(subjects []Subject) ([]*intoto.ResourceDescriptor, error) {
	if len(subjects) == 0 {
		return nil, fmt.Errorf("provenance: no subjects")
	}
	out := make([]*intoto.ResourceDescriptor, 0, len(subjects))
	for _, s := range subjects {
		h, err := sha256Hex(s.Digest)
		if err != nil {
			return nil, fmt.Errorf("provenance subject %q: %w", s.Name, err)
		}
		out = append(out, &intoto.ResourceDescriptor{Name: s.Name, Digest: map[string]string{"sha256": h}})
	}
	return out, nil
}

// nonEmpty drops empty strings and empty maps so the predicate only states
// what is known.
func nonEmpty(m map[string]any) map[string]any {
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if v == "" {
				delete(m, k)
			}
		case map[string]any:
			if len(v) == 0 {
				delete(m, k)
			}
		}
	}
	return m
}

func toStruct(m proto.Message) (*structpb.Struct, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	var s structpb.Struct
	if err := protojson.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("encode predicate: %w", err)
	}
	return &s, nil
}

// marshalCompact encodes m with protojson, whose whitespace is deliberately
// unstable, then compacts it so equal statements give equal bytes.
func marshalCompact(m proto.Message) ([]byte, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, fmt.Errorf("encode statement: %w", err)
	}
	return buf.Bytes(), nil
}
