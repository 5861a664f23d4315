package supplychain

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// envelope is a DSSE envelope as cosign stores it in .att layers.
type envelope struct {
	PayloadType string        `json:"payloadType"`
	Payload     string        `json:"payload"` // base64 (standard)
	Signatures  []envelopeSig `json:"signatures"`
}

type envelopeSig struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"` // base64 (standard)
}

// pae is DSSE's pre-authentication encoding, the bytes actually signed.
func pae(payloadType string, payload []byte) []byte {
	return fmt.Appendf(nil, "DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload)
}

// signEnvelope wraps payload in a DSSE envelope signed by s. The keyid is
// left empty as cosign does: verifiers match keys, not ids.
func signEnvelope(s *Signer, payloadType string, payload []byte) ([]byte, error) {
	sig, err := s.sign(pae(payloadType, payload))
	if err != nil {
		return nil, fmt.Errorf("sign envelope: %w", err)
	}
	return json.Marshal(envelope{
		PayloadType: payloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Signatures:  []envelopeSig{{Sig: base64.StdEncoding.EncodeToString(sig)}},
	})
}

// openEnvelope parses a DSSE envelope and returns its payload type, payload
// and the id of the first key among keys that signed it.
func openEnvelope(data []byte, keys []*ecdsa.PublicKey) (payloadType string, payload []byte, keyID string, err error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return "", nil, "", fmt.Errorf("parse DSSE envelope: %w", err)
	}
	payload, err = base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return "", nil, "", fmt.Errorf("DSSE payload: %w", err)
	}
	if len(env.Signatures) == 0 {
		return "", nil, "", errors.New("DSSE envelope has no signatures")
	}
	msg := pae(env.PayloadType, payload)
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			continue
		}
		if id := matchKey(msg, sig, keys); id != "" {
			return env.PayloadType, payload, id, nil
		}
	}
	return "", nil, "", fmt.Errorf("DSSE envelope: %w", ErrNoTrustedKey)
}

// matchKey returns the id of the key in keys whose ASN.1 ECDSA signature
// over SHA-256(msg) is sig, or "".
func matchKey(msg, sig []byte, keys []*ecdsa.PublicKey) string {
	sum := sha256.Sum256(msg)
	for _, k := range keys {
		if ecdsa.VerifyASN1(k, sum[:], sig) {
			return KeyID(k)
		}
	}
	return ""
}
