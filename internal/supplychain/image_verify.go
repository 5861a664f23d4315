package supplychain

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// Layout says where an image signature or attestation was stored.
type Layout string

// Layouts VerifyImage reads.
const (
	// LayoutTag is cosign's tag layout: sha256-<hex>.sig and .att manifests.
	LayoutTag Layout = "tag"
	// LayoutReferrer is an OCI 1.1 referrer holding a Sigstore bundle.
	LayoutReferrer Layout = "referrer"
)

// Sig is a verified image signature.
type Sig struct {
	KeyID  string
	Layout Layout
}

// Att is a verified attestation about an image.
type Att struct {
	KeyID         string
	PredicateType string
	Statement     []byte // in-toto Statement v1 JSON
	Layout        Layout
}

// Unverified is an entry that was found but did not verify: an unknown
// key, a tampered payload, a statement about another digest.
type Unverified struct {
	Layout Layout
	Source string // the tag, or the referrer manifest digest
	Err    error
}

// Evidence is what VerifyImage found about one image.
type Evidence struct {
	Signatures   []Sig
	Attestations []Att
	Unverified   []Unverified
}

// VerifyImage reads ref's signatures and attestations in both layouts and
// verifies each against keys and ref's digest. Entries that do not verify are
// listed in Evidence.Unverified. It returns ErrNoSignature, with the
// evidence, when no signature verifies; registry failures are errors.
func VerifyImage(ctx context.Context, ref name.Digest, keys []*ecdsa.PublicKey, opts ...remote.Option) (*Evidence, error) {
	opts = append(opts, remote.WithContext(ctx))
	h, err := v1.NewHash(ref.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("reference %s: %w", ref, err)
	}
	ev := &Evidence{}
	if err := ev.readTagSignatures(ref, h, keys, opts); err != nil {
		return nil, err
	}
	if err := ev.readTagAttestations(ref, h, keys, opts); err != nil {
		return nil, err
	}
	if err := ev.readReferrers(ref, h, keys, opts); err != nil {
		return nil, err
	}
	if len(ev.Signatures) == 0 {
		return ev, fmt.Errorf("%s (%d entries did not verify): %w", ref, len(ev.Unverified), ErrNoSignature)
	}
	return ev, nil
}

func (ev *Evidence) reject(l Layout, source string, err error) {
	ev.Unverified = append(ev.Unverified, Unverified{Layout: l, Source: source, Err: err})
}

func (ev *Evidence) readTagSignatures(ref name.Digest, h v1.Hash, keys []*ecdsa.PublicKey, opts []remote.Option) error {
	return ev.eachTagLayer(ref, ".sig", opts, func(l storedLayer) error {
		keyID, err := verifySimpleSigning(l, h, keys)
		if err == nil {
			ev.Signatures = append(ev.Signatures, Sig{KeyID: keyID, Layout: LayoutTag})
		}
		return err
	})
}

// eachTagLayer calls fn with every layer of ref's cosign tag (.sig, .att);
// a layer fn refuses is recorded as unverified.
func (ev *Evidence) eachTagLayer(ref name.Digest, suffix string, opts []remote.Option, fn func(storedLayer) error) error {
	tag, err := cosignTag(ref, suffix)
	if err != nil {
		return err
	}
	_, layers, err := readTag(tag, opts)
	if err != nil {
		return err
	}
	for _, l := range layers {
		if err := fn(l); err != nil {
			ev.reject(LayoutTag, tag.String(), err)
		}
	}
	return nil
}

// verifySimpleSigning checks a .sig layer: signature by one of keys over a
// simple-signing payload naming digest h.
func verifySimpleSigning(l storedLayer, h v1.Hash, keys []*ecdsa.PublicKey) (string, error) {
	if l.mediaType != SimpleSigningMediaType {
		return "", fmt.Errorf("layer media type %q, want %q", l.mediaType, SimpleSigningMediaType)
	}
	sig, err := base64.StdEncoding.DecodeString(l.annotations[cosignSigAnnotation])
	if err != nil || len(sig) == 0 {
		return "", fmt.Errorf("layer has no usable %s annotation", cosignSigAnnotation)
	}
	keyID := matchKey(l.content, sig, keys)
	if keyID == "" {
		return "", ErrNoTrustedKey
	}
	var p payload.SimpleContainerImage
	if err := json.Unmarshal(l.content, &p); err != nil {
		return "", fmt.Errorf("parse simple-signing payload: %w", err)
	}
	if p.Critical.Type != payload.CosignSignatureType {
		return "", fmt.Errorf("payload type %q, want %q", p.Critical.Type, payload.CosignSignatureType)
	}
	if got := p.Critical.Image.DockerManifestDigest; got != h.String() {
		return "", fmt.Errorf("payload signs %s, not %s: %w", got, h, ErrSubjectMismatch)
	}
	return keyID, nil
}

func (ev *Evidence) readTagAttestations(ref name.Digest, h v1.Hash, keys []*ecdsa.PublicKey, opts []remote.Option) error {
	return ev.eachTagLayer(ref, ".att", opts, func(l storedLayer) error {
		att, err := verifyEnvelopeLayer(l, h, keys)
		if err == nil {
			ev.Attestations = append(ev.Attestations, *att)
		}
		return err
	})
}

func verifyEnvelopeLayer(l storedLayer, h v1.Hash, keys []*ecdsa.PublicKey) (*Att, error) {
	if l.mediaType != DSSEEnvelopeMediaType {
		return nil, fmt.Errorf("layer media type %q, want %q", l.mediaType, DSSEEnvelopeMediaType)
	}
	pt, stmt, keyID, err := openEnvelope(l.content, keys)
	if err != nil {
		return nil, err
	}
	if err := checkStatement(pt, stmt, h.Hex); err != nil {
		return nil, err
	}
	st, _ := parseStatement(stmt) // checkStatement parsed it already
	return &Att{KeyID: keyID, PredicateType: st.GetPredicateType(), Statement: stmt, Layout: LayoutTag}, nil
}

func (ev *Evidence) readReferrers(ref name.Digest, h v1.Hash, keys []*ecdsa.PublicKey, opts []remote.Option) error {
	descs, err := bundleReferrers(ref, opts)
	if err != nil {
		return err
	}
	for _, d := range descs {
		b, err := readReferrerBundle(ref.Context(), d, opts)
		if isRegistryFailure(err) {
			return fmt.Errorf("fetch referrer %s: %w", d.Digest, err)
		}
		if err != nil { // malformed, oversized, or listed in a stale index
			ev.reject(LayoutReferrer, d.Digest.String(), err)
			continue
		}
		stmt, keyID, err := VerifyBlobAttestation(b, h.String(), keys)
		if err != nil {
			ev.reject(LayoutReferrer, d.Digest.String(), err)
			continue
		}
		st, _ := parseStatement(stmt)
		if st.GetPredicateType() == PredicateCosignSign {
			ev.Signatures = append(ev.Signatures, Sig{KeyID: keyID, Layout: LayoutReferrer})
			continue
		}
		ev.Attestations = append(ev.Attestations, Att{KeyID: keyID, PredicateType: st.GetPredicateType(), Statement: stmt, Layout: LayoutReferrer})
	}
	return nil
}
