package supplychain

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

// maxBundleSize bounds what we parse from untrusted sources.
const maxBundleSize = 16 << 20

func parseBundle(data []byte) (*bundle.Bundle, error) {
	if len(data) > maxBundleSize {
		return nil, fmt.Errorf("bundle is %d bytes, over the %d limit", len(data), maxBundleSize)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("parse sigstore bundle: %w", err)
	}
	return &b, nil
}

// verifyWithKeys verifies b's signature with each key in turn (sigstore-go,
// key-based, no log or timestamps) and returns the id of the key that
// verifies. A nil artifact checks only a DSSE envelope's signature; callers
// check the statement's subject themselves.
func verifyWithKeys(b *bundle.Bundle, artifact []byte, keys []*ecdsa.PublicKey) (string, error) {
	if len(keys) == 0 {
		return "", fmt.Errorf("no trusted keys given: %w", ErrNoTrustedKey)
	}
	var errs []error
	for _, pub := range keys {
		err := verifyWithKey(b, artifact, pub)
		if err == nil {
			return KeyID(pub), nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", KeyID(pub), err))
	}
	return "", fmt.Errorf("%w (%d keys tried): %w", ErrNoTrustedKey, len(keys), errors.Join(errs...))
}

func verifyWithKey(b *bundle.Bundle, artifact []byte, pub *ecdsa.PublicKey) error {
	sv, err := signature.LoadECDSAVerifier(pub, crypto.SHA256)
	if err != nil {
		return err
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	// The bundle's hint is informational: cosign writes a different one,
	// and trust comes from the caller's key list, not the bundle.
	material := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
		return key, nil
	})
	v, err := verify.NewVerifier(material, verify.WithNoObserverTimestamps())
	if err != nil {
		return err
	}
	var ap verify.ArtifactPolicyOption
	switch {
	case artifact != nil:
		ap = verify.WithArtifact(bytes.NewReader(artifact)) // a fresh reader per key
	case b.GetDsseEnvelope() != nil:
		ap = verify.WithoutArtifactUnsafe()
	default:
		return errors.New("a message signature needs the artifact to verify")
	}
	_, err = v.Verify(b, verify.NewPolicy(ap, verify.WithKey()))
	return err
}

// sha256Hex accepts "sha256:<hex>" or bare hex and returns the hex.
func sha256Hex(digest string) (string, error) {
	h := strings.TrimPrefix(digest, "sha256:")
	if len(h) != 64 {
		return "", fmt.Errorf("digest %q: want sha256:<64 hex>", digest)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", fmt.Errorf("digest %q: %w", digest, err)
	}
	return strings.ToLower(h), nil
}

// parseStatement decodes and validates an in-toto Statement v1.
func parseStatement(data []byte) (*intoto.Statement, error) {
	var st intoto.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("parse in-toto statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("invalid in-toto statement: %w", err)
	}
	return &st, nil
}

// checkStatement checks a signed DSSE payload is an in-toto statement whose
// subjects include the sha256 hexDigest.
func checkStatement(payloadType string, payload []byte, hexDigest string) error {
	if payloadType != InTotoPayloadType {
		return fmt.Errorf("DSSE payload type %q, want %q", payloadType, InTotoPayloadType)
	}
	st, err := parseStatement(payload)
	if err != nil {
		return err
	}
	return statementNames(st, hexDigest)
}

func statementNames(st *intoto.Statement, hexDigest string) error {
	var seen []string
	for _, s := range st.GetSubject() {
		d := s.GetDigest()["sha256"]
		if strings.EqualFold(d, hexDigest) {
			return nil
		}
		seen = append(seen, "sha256:"+d)
	}
	return fmt.Errorf("statement subjects %v do not include sha256:%s: %w", seen, hexDigest, ErrSubjectMismatch)
}
