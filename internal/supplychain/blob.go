package supplychain

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"
)

// BundleMediaType is the media type of the Sigstore bundles written here.
const BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = "application/vnd.in-toto+json"

// SignBlob signs data and returns a Sigstore bundle (v0.3 JSON) holding a
// message signature and the public key hint, without any log entry.
func SignBlob(ctx context.Context, s *Signer, data []byte) ([]byte, error) {
	return bundleJSON(ctx, s, &sign.PlainData{Data: data})
}

// AttestBlob signs an in-toto Statement v1 (JSON) and returns a Sigstore
// bundle (v0.3 JSON) holding it in a DSSE envelope.
func AttestBlob(ctx context.Context, s *Signer, statement []byte) ([]byte, error) {
	if _, err := parseStatement(statement); err != nil {
		return nil, err
	}
	return bundleJSON(ctx, s, &sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType})
}

func bundleJSON(ctx context.Context, s *Signer, content sign.Content) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := sign.Bundle(content, keypair{s}, sign.BundleOptions{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("sign bundle: %w", err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return out, nil
}

// VerifyBlob checks that bundleJSON holds a message signature over data by
// one of keys, and returns that key's id.
func VerifyBlob(bundleJSON, data []byte, keys []*ecdsa.PublicKey) (keyID string, err error) {
	b, err := parseBundle(bundleJSON)
	if err != nil {
		return "", err
	}
	ms := b.GetMessageSignature()
	if ms == nil {
		return "", fmt.Errorf("bundle holds no message signature (an attestation?)")
	}
	sum := sha256.Sum256(data)
	if d := ms.GetMessageDigest().GetDigest(); len(d) > 0 && !bytes.Equal(d, sum[:]) {
		return "", fmt.Errorf("bundle signs a blob with digest sha256:%x, not sha256:%x: %w", d, sum, ErrSubjectMismatch)
	}
	if data == nil {
		data = []byte{} // nil means "no artifact" below
	}
	return verifyWithKeys(b, data, keys)
}

// VerifyBlobAttestation checks that bundleJSON holds a DSSE envelope signed by
// one of keys whose in-toto statement names digest ("sha256:<hex>" or bare
// hex) as a subject. It returns the statement JSON and the key's id.
func VerifyBlobAttestation(bundleJSON []byte, digest string, keys []*ecdsa.PublicKey) (statement []byte, keyID string, err error) {
	hexDigest, err := sha256Hex(digest)
	if err != nil {
		return nil, "", err
	}
	b, err := parseBundle(bundleJSON)
	if err != nil {
		return nil, "", err
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, "", fmt.Errorf("bundle holds no DSSE envelope (a plain signature?)")
	}
	if keyID, err = verifyWithKeys(b, nil, keys); err != nil {
		return nil, "", err
	}
	if err := checkStatement(env.GetPayloadType(), env.GetPayload(), hexDigest); err != nil {
		return nil, "", err
	}
	return env.GetPayload(), keyID, nil
}
