package release

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/internal/store"
	"github.com/slipway-ci/slipway/internal/supplychain"
	"github.com/slipway-ci/slipway/internal/supplychain/sbom"
	"github.com/slipway-ci/slipway/internal/trust"
)

// Key names in the state dir's keys directory.
const (
	SigningKey    = "slipway"    // signs artifacts; SLIPWAY_SIGNING_KEY overrides it
	ProvenanceKey = "provenance" // signs provenance; never given to steps
)

// BuilderID is the SLSA builder id of a local Slipway.
const BuilderID = "https://slipway.dev/builder/local/v1"

// BuildType is the SLSA buildType of a Slipway pipeline step.
const BuildType = "https://slipway.dev/build/pipeline-step/v1"

// ProvenanceContext is what provenance says about how an artifact was made.
type ProvenanceContext struct {
	Repository     string // source repository URL or path
	Ref, Commit    string
	PipelineFile   string
	PipelineDigest string
	Step           string
	RunID          int64
	Started        time.Time
	Sandboxed      bool
}

// signer loads (or, on first use, generates) the named key of the state dir.
func (s *Service) signer(keyName string) (*supplychain.Signer, error) {
	pass, err := supplychain.Passphrase(s.o.StateDir, s.o.Getenv)
	if err != nil {
		return nil, err
	}
	if keyName == SigningKey {
		if pem := s.o.Getenv("SLIPWAY_SIGNING_KEY"); pem != "" {
			return supplychain.SignerFromPEM([]byte(pem), pass)
		}
	}
	path := filepath.Join(s.keysDir(), keyName+".key")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if _, err := supplychain.GenerateKey(s.keysDir(), keyName, pass); err != nil {
			return nil, fmt.Errorf("generate %s key: %w", keyName, err)
		}
		s.logf("generated the %s key in %s (passphrase: SLIPWAY_KEY_PASSPHRASE or %s)", keyName, s.keysDir(),
			filepath.Join(s.o.StateDir, "keys", "passphrase"))
	}
	return supplychain.LoadSigner(path, pass)
}

func (s *Service) digestRef(ctx context.Context, a *store.Artifact) (name.Digest, error) {
	d, _, err := s.target(ctx, a)
	return d, err
}

// target is the artifact's reference in the registry with the options
// (auth, transport) that reach it.
func (s *Service) target(ctx context.Context, a *store.Artifact) (name.Digest, []remote.Option, error) {
	repo, err := s.Repository(ctx, a.Repo)
	if err != nil {
		return name.Digest{}, nil, err
	}
	_, client, err := s.Registry(ctx)
	if err != nil {
		return name.Digest{}, nil, err
	}
	return repo.Digest(a.Digest), client.Options(ctx), nil
}

// Sign signs the artifact's manifest with the signing key.
func (s *Service) Sign(ctx context.Context, a *store.Artifact) error {
	sg, err := s.signer(SigningKey)
	if err != nil {
		return err
	}
	d, opts, err := s.target(ctx, a)
	if err != nil {
		return err
	}
	if err := supplychain.SignImage(ctx, sg, d, opts...); err != nil {
		return fmt.Errorf("sign %s@%s: %w", a.Repo, a.Digest, err)
	}
	s.logf("signed %s@%s with key %s", a.Repo, a.Digest, supplychain.KeyID(sg.Public()))
	return nil
}

// Attest signs SLSA provenance for the artifact with the provenance key.
func (s *Service) Attest(ctx context.Context, a *store.Artifact, p ProvenanceContext) error {
	sg, err := s.signer(ProvenanceKey)
	if err != nil {
		return err
	}
	stmt, err := supplychain.Provenance(supplychain.ProvenanceInput{
		BuilderID: BuilderID, BuildType: BuildType, Repo: p.Repository, Ref: p.Ref, Commit: p.Commit,
		PipelineFile: p.PipelineFile, PipelineDigest: p.PipelineDigest, Step: p.Step, RunID: p.RunID,
		Started: p.Started, Finished: time.Now().UTC(), Sandboxed: p.Sandboxed, SlipwayVersion: s.o.Version,
		Subjects: []supplychain.Subject{{Name: a.Repo, Digest: a.Digest}},
	})
	if err != nil {
		return err
	}
	return s.attest(ctx, a, sg, stmt, "provenance")
}

func (s *Service) attest(ctx context.Context, a *store.Artifact, sg *supplychain.Signer, stmt []byte, what string) error {
	d, opts, err := s.target(ctx, a)
	if err != nil {
		return err
	}
	if err := supplychain.AttestImage(ctx, sg, d, stmt, opts...); err != nil {
		return fmt.Errorf("attest %s for %s@%s: %w", what, a.Repo, a.Digest, err)
	}
	s.logf("attested %s for %s@%s", what, a.Repo, a.Digest)
	return nil
}

// PredicateCycloneDX is the in-toto predicate type of a CycloneDX SBOM.
const PredicateCycloneDX = "https://cyclonedx.org/bom"

// AttachSBOM catalogues the artifact (the binary's Go build info, else the
// Go module in dir), attaches CycloneDX and SPDX SBOMs as referrers and
// signs the CycloneDX one as an attestation.
func (s *Service) AttachSBOM(ctx context.Context, a *store.Artifact, dir, binary string) error {
	pkgs, err := catalogue(dir, binary)
	if err != nil {
		return fmt.Errorf("sbom: %w", err)
	}
	subj := sbom.Subject{Name: a.Repo, Version: a.Version, Digest: a.Digest}
	cdx, err := sbom.CycloneDX(subj, pkgs, a.Created)
	if err != nil {
		return err
	}
	spdx, err := sbom.SPDX(subj, pkgs, a.Created)
	if err != nil {
		return err
	}
	d, opts, err := s.target(ctx, a)
	if err != nil {
		return err
	}
	for _, doc := range []struct {
		mt   string
		data []byte
	}{{sbom.MediaTypeCycloneDX, cdx}, {sbom.MediaTypeSPDX, spdx}} {
		if _, err := attach(ctx, d, doc.mt, doc.data, opts...); err != nil {
			return fmt.Errorf("attach sbom: %w", err)
		}
	}
	sg, err := s.signer(SigningKey)
	if err != nil {
		return err
	}
	stmt, err := statement(a, PredicateCycloneDX, cdx)
	if err != nil {
		return err
	}
	s.logf("sbom: %d packages", len(pkgs))
	return s.attest(ctx, a, sg, stmt, "sbom")
}

func catalogue(dir, binary string) ([]sbom.Package, error) {
	if binary != "" {
		f, err := os.Open(binary)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		pkgs, err := sbom.FromGoBinary(f)
		if !errors.Is(err, sbom.ErrNotGoBinary) {
			return pkgs, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return sbom.FromGoModule(dir)
	}
	return nil, nil
}

// statement wraps a predicate in an in-toto Statement v1 about a.
func statement(a *store.Artifact, predicateType string, predicate []byte) ([]byte, error) {
	return json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": a.Repo, "digest": map[string]string{"sha256": strings.TrimPrefix(a.Digest, "sha256:")}}},
		"predicateType": predicateType,
		"predicate":     json.RawMessage(predicate),
	})
}

// trustedKeys returns the keys of the policy, each with its public part
// loaded; without configured keys, every public key in the state dir's keys
// directory (current and rotated).
func (s *Service) trustedKeys(p trust.Policy) ([]trustedKey, error) {
	var out []trustedKey
	if len(p.Keys) == 0 {
		infos, err := supplychain.ListKeys(s.keysDir())
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, k := range infos {
			pub, err := readPublic(k.PubPath)
			if err != nil {
				return nil, err
			}
			out = append(out, trustedKey{name: k.Name, pub: pub})
		}
		return out, nil
	}
	for _, k := range p.Keys {
		src := k.Public
		var data []byte
		if strings.Contains(src, "-----BEGIN") {
			data = []byte(src)
		} else {
			if !filepath.IsAbs(src) {
				src = filepath.Join(s.o.StateDir, src)
			}
			var err error
			if data, err = os.ReadFile(src); err != nil {
				return nil, fmt.Errorf("trusted key %q: %w", k.Name, err)
			}
		}
		pub, err := supplychain.LoadPublicKey(data)
		if err != nil {
			return nil, fmt.Errorf("trusted key %q: %w", k.Name, err)
		}
		out = append(out, trustedKey{name: k.Name, pub: pub, key: k})
	}
	return out, nil
}

func readPublic(path string) (*ecdsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return supplychain.LoadPublicKey(data)
}
