package supplychain

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
	"google.golang.org/protobuf/types/known/structpb"
)

// Media types and annotations of cosign's tag layout.
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	DSSEEnvelopeMediaType  = "application/vnd.dsse.envelope.v1+json"
	cosignSigAnnotation    = "dev.cosignproject.cosign/signature"
	predicateAnnotation    = "predicateType"
)

// SignImage signs the manifest ref names, twice: a simple-signing payload
// appended to cosign's sha256-<hex>.sig tag, and a Sigstore bundle (a DSSE
// statement of type PredicateCosignSign, as cosign v3 writes) pushed as an
// OCI 1.1 referrer of ref.
func SignImage(ctx context.Context, s *Signer, ref name.Digest, opts ...remote.Option) error {
	opts = append(opts, remote.WithContext(ctx))
	subject, err := headSubject(ref, opts)
	if err != nil {
		return err
	}
	pl, err := payload.Cosign{Image: ref}.MarshalJSON()
	if err != nil {
		return fmt.Errorf("simple-signing payload: %w", err)
	}
	sig, err := s.sign(pl)
	if err != nil {
		return fmt.Errorf("sign %s: %w", ref, err)
	}
	entry := tagEntry{suffix: ".sig", mediaType: SimpleSigningMediaType, content: pl,
		annotations: map[string]string{cosignSigAnnotation: base64.StdEncoding.EncodeToString(sig)}}
	if err := appendTagEntry(ctx, ref, entry, s, opts); err != nil {
		return err
	}
	st, err := cosignSignStatement(ref)
	if err != nil {
		return err
	}
	return attachBundle(ctx, s, ref, subject, st, PredicateCosignSign, opts)
}

// AttestImage attaches statement (an in-toto Statement v1 naming ref's
// digest) signed by s: a DSSE envelope appended to cosign's sha256-<hex>.att
// tag, and a Sigstore bundle pushed as an OCI 1.1 referrer of ref.
func AttestImage(ctx context.Context, s *Signer, ref name.Digest, statement []byte, opts ...remote.Option) error {
	opts = append(opts, remote.WithContext(ctx))
	st, err := parseStatement(statement)
	if err != nil {
		return err
	}
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return fmt.Errorf("reference %s: %w", ref, err)
	}
	if err := statementNames(st, h.Hex); err != nil {
		return fmt.Errorf("attest %s: %w", ref, err)
	}
	subject, err := headSubject(ref, opts)
	if err != nil {
		return err
	}
	env, err := signEnvelope(s, InTotoPayloadType, statement)
	if err != nil {
		return err
	}
	entry := tagEntry{suffix: ".att", mediaType: DSSEEnvelopeMediaType, content: env, statement: statement,
		annotations: map[string]string{cosignSigAnnotation: "", predicateAnnotation: st.GetPredicateType()}}
	if err := appendTagEntry(ctx, ref, entry, s, opts); err != nil {
		return err
	}
	return attachBundle(ctx, s, ref, subject, statement, st.GetPredicateType(), opts)
}

func attachBundle(ctx context.Context, s *Signer, ref name.Digest, subject *v1.Descriptor, statement []byte, predicateType string, opts []remote.Option) error {
	b, err := AttestBlob(ctx, s, statement)
	if err != nil {
		return err
	}
	return writeReferrer(ref, subject, b, predicateType, opts)
}

// headSubject resolves ref's descriptor, the subject of referrers.
func headSubject(ref name.Digest, opts []remote.Option) (*v1.Descriptor, error) {
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", ref, err)
	}
	if desc.Digest.String() != ref.DigestStr() {
		return nil, fmt.Errorf("registry answered digest %s for %s", desc.Digest, ref)
	}
	return &v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, nil
}

// cosignSignStatement is the statement cosign v3 signs for an image.
func cosignSignStatement(ref name.Digest) ([]byte, error) {
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", ref, err)
	}
	return marshalCompact(&intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Digest: map[string]string{h.Algorithm: h.Hex}}},
		PredicateType: PredicateCosignSign,
		Predicate:     &structpb.Struct{},
	})
}
