package release

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/supplychain"
	"github.com/slipway-ci/slipway/internal/trust"
)

// PredicateSLSA is the in-toto predicate type of SLSA provenance v1.
const PredicateSLSA = "https://slsa.dev/provenance/v1"

// Check is one verdict of a verification.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Report is the outcome of verifying one artifact.
type Report struct {
	Ref      string   `json:"ref"`
	Digest   string   `json:"digest"`
	Env      string   `json:"environment,omitempty"`
	Required []string `json:"required"`
	Checks   []Check  `json:"checks"`
	OK       bool     `json:"ok"`
}

// Reasons lists the failed checks, for an error message.
func (r *Report) Reasons() string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return strings.Join(out, "; ")
}

func (r *Report) add(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
	if !ok {
		r.OK = false
	}
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	Env    string        // whose policy applies; "" = the policy for every environment
	Extra  []string      // requirements added by the pipeline's environment block
	Policy *trust.Policy // nil = the configured policy
	Deep   bool          // re-hash every blob
}

// Verify checks an artifact against the trust policy. The error is for
// failures to check; a refusal is a Report with OK false.
func (s *Service) Verify(ctx context.Context, refText string, o VerifyOptions) (*Report, error) {
	policy := s.o.Trust
	if o.Policy != nil {
		policy = *o.Policy
	}
	ref, err := s.ParseRef(ctx, refText)
	if err != nil {
		return nil, err
	}
	rep := &Report{Ref: ref.String(), Env: o.Env, Required: policy.Required(o.Env, o.Extra...), OK: true}
	digest, err := s.resolve(ctx, ref, rep)
	if err != nil || !rep.OK {
		return rep, err
	}
	rep.Digest = digest
	d, err := s.digestRef(ctx, &store.Artifact{Repo: ref.Repo, Digest: digest})
	if err != nil {
		return nil, err
	}
	if o.Deep {
		s.deep(ctx, d, rep)
	}
	keys, err := s.trustedKeys(policy)
	if err != nil {
		return nil, err
	}
	provKeys := keys
	if pk, err := readPublic(s.keysDir() + "/" + ProvenanceKey + ".pub"); err == nil && !hasKey(keys, pk) {
		provKeys = append(slices.Clone(keys), trustedKey{name: ProvenanceKey, pub: pk})
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return nil, err
	}
	ev, err := supplychain.VerifyImage(ctx, d, pubs(provKeys), client.Options(ctx)...)
	if errors.Is(err, supplychain.ErrNoSignature) && ev != nil {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("read signatures of %s: %w", rep.Ref, err)
	}
	now := time.Now()
	for _, kind := range rep.Required {
		switch kind {
		case trust.Signature:
			s.checkSignature(rep, ev, keys, now)
		case trust.Provenance:
			s.checkProvenance(rep, ev, provKeys, policy, digest, now)
		case trust.SBOM:
			s.checkAttestation(rep, trust.SBOM, PredicateCycloneDX, ev, keys, digest, now)
		}
	}
	return rep, nil
}

// resolve finds the digest a reference names and refuses a tag that no
// longer points where Slipway recorded it.
func (s *Service) resolve(ctx context.Context, ref Ref, rep *Report) (string, error) {
	repo, err := s.Repository(ctx, ref.Repo)
	if err != nil {
		return "", err
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return "", err
	}
	var target name.Reference = repo.Tag(ref.Tag)
	if ref.Digest != "" {
		target = repo.Digest(ref.Digest)
	}
	h, err := client.Resolve(ctx, target)
	if err != nil {
		rep.add("exists", false, "%s is not in the registry: %v", ref, err)
		return "", nil
	}
	got := h.String()
	if ref.Tag != "" {
		recorded, err := s.taggedDigest(ctx, ref.Repo, ref.Tag)
		if err != nil {
			return "", err
		}
		if recorded != "" && recorded != got {
			rep.add("tag", false, "tag %s moved: Slipway recorded %s, the registry now has %s", ref.Tag, recorded, got)
			return got, nil
		}
	}
	rep.add("exists", true, "%s@%s", ref.Repo, got)
	return got, nil
}

// taggedDigest is the digest Slipway recorded for repo:tag ("" = none).
func (s *Service) taggedDigest(ctx context.Context, repo, tag string) (string, error) {
	if cur, err := s.o.Artifacts.Current(ctx, tag, repo); err == nil {
		return cur.Digest, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	arts, err := s.o.Artifacts.List(ctx, store.ArtifactFilter{Repo: repo})
	if err != nil {
		return "", err
	}
	for _, a := range arts {
		if slices.Contains(a.Tags, tag) {
			return a.Digest, nil
		}
	}
	return "", nil
}

// deep re-hashes the manifest and every blob it names.
func (s *Service) deep(ctx context.Context, d name.Digest, rep *Report) {
	_, client, err := s.Registry(ctx)
	if err == nil {
		err = rehash(d, append(client.Options(ctx), remote.WithContext(ctx)))
	}
	if err != nil {
		rep.add("blobs", false, "%v", err)
		return
	}
	rep.add("blobs", true, "manifest and every blob re-hashed")
}

func rehash(d name.Digest, opts []remote.Option) error {
	desc, err := remote.Get(d, opts...)
	if err != nil {
		return err
	}
	if got := sha256Hex(desc.Manifest); got != d.DigestStr() {
		return fmt.Errorf("manifest hashes to %s, not %s", got, d.DigestStr())
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	for _, b := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		l, err := remote.Layer(d.Context().Digest(b.Digest.String()), opts...)
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return fmt.Errorf("blob %s: %w", b.Digest, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); err != nil || got != b.Digest.String() {
			return fmt.Errorf("blob %s is corrupt (hashes to %s, read error %v)", b.Digest, got, err)
		}
	}
	return nil
}

func sha256Hex(b []byte) string { h := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(h[:]) }

type trustedKey struct {
	name string
	pub  *ecdsa.PublicKey
	key  trust.Key
}

func pubs(keys []trustedKey) []*ecdsa.PublicKey {
	out := make([]*ecdsa.PublicKey, len(keys))
	for i, k := range keys {
		out[i] = k.pub
	}
	return out
}

func hasKey(keys []trustedKey, pub *ecdsa.PublicKey) bool {
	return slices.ContainsFunc(keys, func(k trustedKey) bool { return k.pub.Equal(pub) })
}

// usableKey finds the trusted key with keyID and says whether it may vouch now.
func usableKey(keys []trustedKey, keyID string, now time.Time) (trustedKey, bool, string) {
	for _, k := range keys {
		if supplychain.KeyID(k.pub) == keyID {
			ok, why := k.key.Usable(now)
			return k, ok, why
		}
	}
	return trustedKey{}, false, "key " + keyID + " is not trusted"
}

func (s *Service) checkSignature(rep *Report, ev *supplychain.Evidence, keys []trustedKey, now time.Time) {
	var whys []string
	for _, sig := range ev.Signatures {
		k, ok, why := usableKey(keys, sig.KeyID, now)
		if ok {
			rep.add(trust.Signature, true, "signed by trusted key %q", k.name)
			return
		}
		whys = append(whys, why)
	}
	whys = append(whys, unverified(ev, keys)...)
	if len(whys) == 0 {
		whys = append(whys, "not signed")
	}
	rep.add(trust.Signature, false, "%s", strings.Join(whys, "; "))
}

// unverified sums up the signatures and attestations that did not verify,
// one short reason per kind of failure.
func unverified(ev *supplychain.Evidence, keys []trustedKey) []string {
	var untrusted, other, invalid int
	var example error
	for _, u := range ev.Unverified {
		switch {
		case errors.Is(u.Err, supplychain.ErrNoTrustedKey):
			untrusted++
		case errors.Is(u.Err, supplychain.ErrSubjectMismatch):
			other++
		default:
			invalid++
			example = u.Err
		}
	}
	var out []string
	if untrusted > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = k.name
		}
		out = append(out, fmt.Sprintf("%d signed entries verify with no trusted key (trusted: %s)", untrusted, strings.Join(names, ", ")))
	}
	if other > 0 {
		out = append(out, fmt.Sprintf("%d signed entries are about another digest (copied from another artifact?)", other))
	}
	if invalid > 0 {
		out = append(out, fmt.Sprintf("%d entries are malformed (first: %v)", invalid, example))
	}
	return out
}

func (s *Service) checkAttestation(rep *Report, kind, predicate string, ev *supplychain.Evidence, keys []trustedKey, digest string, now time.Time) []byte {
	var whys []string
	for _, a := range ev.Attestations {
		if a.PredicateType != predicate {
			continue
		}
		if !statementNames(a.Statement, digest) {
			whys = append(whys, "an attestation is about another digest")
			continue
		}
		k, ok, why := usableKey(keys, a.KeyID, now)
		if !ok {
			whys = append(whys, why)
			continue
		}
		if kind != trust.Provenance {
			rep.add(kind, true, "attested by trusted key %q", k.name)
		}
		return a.Statement
	}
	if len(whys) == 0 {
		whys = append(whys, fmt.Sprintf("no %s attestation (%s) by a trusted key", kind, predicate))
		whys = append(whys, unverified(ev, keys)...)
	}
	rep.add(kind, false, "%s", strings.Join(whys, "; "))
	return nil
}

func (s *Service) checkProvenance(rep *Report, ev *supplychain.Evidence, keys []trustedKey, p trust.Policy, digest string, now time.Time) {
	stmt := s.checkAttestation(rep, trust.Provenance, PredicateSLSA, ev, keys, digest, now)
	if stmt == nil {
		return
	}
	var st struct {
		Predicate struct {
			BuildDefinition struct {
				ExternalParameters struct {
					Repository string `json:"repository"`
				} `json:"externalParameters"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(stmt, &st); err != nil {
		rep.add(trust.Provenance, false, "unreadable provenance: %v", err)
		return
	}
	want := p.Builder
	if want == "" {
		want = BuilderID
	}
	if got := st.Predicate.RunDetails.Builder.ID; got != want {
		rep.add(trust.Provenance, false, "built by %q, the policy expects builder %q", got, want)
		return
	}
	if src := st.Predicate.BuildDefinition.ExternalParameters.Repository; len(p.Sources) > 0 && !slices.Contains(p.Sources, src) {
		rep.add(trust.Provenance, false, "built from %q, the policy expects one of %v", src, p.Sources)
		return
	}
	rep.add(trust.Provenance, true, "SLSA provenance v1 from builder %q", want)
}

// statementNames reports whether an in-toto statement's subjects include digest.
func statementNames(stmt []byte, digest string) bool {
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if json.Unmarshal(stmt, &st) != nil {
		return false
	}
	hexd := strings.TrimPrefix(digest, "sha256:")
	return slices.ContainsFunc(st.Subject, func(s struct {
		Digest map[string]string `json:"digest"`
	}) bool {
		return s.Digest["sha256"] == hexd
	})
}
