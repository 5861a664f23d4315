package supplychain

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/internal/testtool"
)

// cosignRunner runs cosign with a private HOME and TUF cache, so it neither
// reads the user's config nor depends on the network.
type cosignRunner struct {
	bin, home string
	env       []string
}

func newCosign(t *testing.T) *cosignRunner {
	t.Helper()
	home := t.TempDir()
	return &cosignRunner{bin: testtool.Find(t, "cosign", "v3.1.3"), home: home, env: []string{
		"HOME=" + home, "TUF_ROOT=" + filepath.Join(home, "tuf"), "PATH=" + os.Getenv("PATH"),
		"SIGSTORE_NO_CACHE=true", "COSIGN_YES=true",
	}}
}

// run runs cosign and returns its combined output and error.
func (c *cosignRunner) run(t *testing.T, extraEnv []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.home
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *cosignRunner) ok(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	out, err := c.run(t, extraEnv, args...)
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *cosignRunner) fails(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(t, nil, args...)
	if err == nil {
		t.Fatalf("cosign %s succeeded, want failure\n%s", strings.Join(args, " "), out)
	}
	return out
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pubPEMFile(t testing.TB, dir, name string, s *Signer) string {
	t.Helper()
	b, err := s.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, b)
}

// TestCosignVerifiesOurImageSignatures: cosign v3.1.3 accepts what SignImage
// and AttestImage push, in both layouts.
func TestCosignVerifiesOurImageSignatures(t *testing.T) {
	c := newCosign(t)
	ctx := context.Background()
	host := startRegistry(t)
	ref := pushRandomImage(t, host, "team/app")
	s, other := newTestSigner(t), newTestSigner(t)
	if err := SignImage(ctx, s, ref); err != nil {
		t.Fatal(err)
	}
	if err := AttestImage(ctx, s, ref, provenanceFor(t, ref)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, wrong := pubPEMFile(t, dir, "ok.pub", s), pubPEMFile(t, dir, "wrong.pub", other)
	image := ref.String()
	offline := []string{"--allow-insecure-registry", "--insecure-ignore-tlog=true"}

	for _, layout := range []struct {
		name  string
		flags []string
	}{
		{"referrer bundles (default --new-bundle-format=true)", nil},
		{"tag layout (--new-bundle-format=false)", []string{"--new-bundle-format=false"}},
	} {
		t.Run(layout.name, func(t *testing.T) {
			flags := append(append([]string{}, offline...), layout.flags...)
			c.ok(t, nil, append(append([]string{"verify", "--key", pub}, flags...), image)...)
			out := c.ok(t, nil, append(append([]string{"verify-attestation", "--type", "slsaprovenance1", "--key", pub}, flags...), image)...)
			if pts := printedPredicateTypes(t, out); len(pts) != 1 || pts[0] != PredicateSLSAProvenanceV1 {
				t.Errorf("verify-attestation printed predicate types %v:\n%s", pts, out)
			}
			c.fails(t, append(append([]string{"verify", "--key", wrong}, flags...), image)...)
			c.fails(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance1", "--key", wrong}, flags...), image)...)
		})
	}
}

// TestCosignRefusesAttestationForAnotherImage: our attestation of image A
// copied onto image B's tag is refused by cosign.
func TestCosignRefusesAttestationForAnotherImage(t *testing.T) {
	c := newCosign(t)
	ctx := context.Background()
	host := startRegistry(t)
	a, b := pushRandomImage(t, host, "team/a"), pushRandomImage(t, host, "team/b")
	s := newTestSigner(t)
	if err := SignImage(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	if err := AttestImage(ctx, s, a, provenanceFor(t, a)); err != nil {
		t.Fatal(err)
	}
	copyTag(t, a, b, ".sig")
	copyTag(t, a, b, ".att")
	pub := pubPEMFile(t, t.TempDir(), "k.pub", s)
	flags := []string{"--key", pub, "--allow-insecure-registry", "--insecure-ignore-tlog=true", "--new-bundle-format=false"}
	c.fails(t, append(append([]string{"verify"}, flags...), b.String())...)
	c.fails(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance1"}, flags...), b.String())...)
}

// TestCosignVerifiesOurBlobBundles: verify-blob and verify-blob-attestation
// accept SignBlob and AttestBlob bundles, and refuse a tampered blob.
func TestCosignVerifiesOurBlobBundles(t *testing.T) {
	c := newCosign(t)
	ctx := context.Background()
	s, other := newTestSigner(t), newTestSigner(t)
	dir := t.TempDir()
	data := []byte("slipway release artifact\n")
	file := writeFile(t, dir, "artifact.bin", data)
	tampered := writeFile(t, dir, "tampered.bin", append(data, '!'))
	pub, wrong := pubPEMFile(t, dir, "ok.pub", s), pubPEMFile(t, dir, "wrong.pub", other)

	sig, err := SignBlob(ctx, s, data)
	if err != nil {
		t.Fatal(err)
	}
	sigBundle := writeFile(t, dir, "sig.json", sig)
	c.ok(t, nil, "verify-blob", "--key", pub, "--bundle", sigBundle, "--insecure-ignore-tlog=true", file)
	c.fails(t, "verify-blob", "--key", wrong, "--bundle", sigBundle, "--insecure-ignore-tlog=true", file)
	c.fails(t, "verify-blob", "--key", pub, "--bundle", sigBundle, "--insecure-ignore-tlog=true", tampered)

	att, err := AttestBlob(ctx, s, testStatement(t, data))
	if err != nil {
		t.Fatal(err)
	}
	attBundle := writeFile(t, dir, "att.json", att)
	args := []string{"verify-blob-attestation", "--bundle", attBundle, "--type", "slsaprovenance1", "--insecure-ignore-tlog=true"}
	c.ok(t, nil, append(args, "--key", pub, file)...)
	c.fails(t, append(args, "--key", wrong, file)...)
	c.fails(t, append(args, "--key", pub, tampered)...)
}

// TestCosignKeysInterop: cosign signs with a key we generated, and we sign
// with a key cosign generated; each side verifies the other.
func TestCosignKeysInterop(t *testing.T) {
	c := newCosign(t)
	ctx := context.Background()
	dir := t.TempDir()
	pass := []byte("s3cret-pass")
	passEnv := []string{"COSIGN_PASSWORD=" + string(pass)}
	data := []byte("blob to sign\n")
	file := writeFile(t, dir, "blob.txt", data)

	t.Run("cosign signs with our key", func(t *testing.T) {
		info, err := GenerateKey(filepath.Join(dir, "ours"), "release", pass)
		if err != nil {
			t.Fatal(err)
		}
		bundle := filepath.Join(dir, "cosign-made.json")
		c.ok(t, passEnv, "sign-blob", "--key", info.KeyPath, "--tlog-upload=false", "--use-signing-config=false", "--yes", "--bundle", bundle, file)
		b, err := os.ReadFile(bundle)
		if err != nil {
			t.Fatal(err)
		}
		pubPEM, _ := os.ReadFile(info.PubPath)
		pub, err := LoadPublicKey(pubPEM)
		if err != nil {
			t.Fatal(err)
		}
		id, err := VerifyBlob(b, data, []*ecdsa.PublicKey{pub})
		if err != nil || id != info.KeyID {
			t.Fatalf("VerifyBlob(cosign bundle) = %q, %v", id, err)
		}
		if _, err := VerifyBlob(b, append(data, 'x'), []*ecdsa.PublicKey{pub}); err == nil {
			t.Fatal("cosign bundle verified a different blob")
		}
		// Our passphrase is wrong for cosign too: same format, same check.
		if out, err := c.run(t, []string{"COSIGN_PASSWORD=nope"}, "sign-blob", "--key", info.KeyPath, "--tlog-upload=false", "--use-signing-config=false", "--yes", file); err == nil {
			t.Fatalf("cosign accepted a wrong passphrase:\n%s", out)
		}
	})

	t.Run("we load a key cosign generated", func(t *testing.T) {
		kdir := filepath.Join(dir, "theirs")
		if err := os.MkdirAll(kdir, 0o700); err != nil {
			t.Fatal(err)
		}
		out, err := (&cosignRunner{bin: c.bin, home: kdir, env: c.env}).run(t, passEnv, "generate-key-pair")
		if err != nil {
			t.Fatalf("generate-key-pair: %v\n%s", err, out)
		}
		signer, err := LoadSigner(filepath.Join(kdir, "cosign.key"), pass)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSigner(filepath.Join(kdir, "cosign.key"), []byte("wrong")); err == nil || !strings.Contains(err.Error(), ErrBadPassphrase.Error()) {
			t.Fatalf("wrong passphrase: %v", err)
		}
		pubPEM, _ := os.ReadFile(filepath.Join(kdir, "cosign.pub"))
		pub, err := LoadPublicKey(pubPEM)
		if err != nil || !pub.Equal(signer.Public()) {
			t.Fatalf("cosign.pub: %v", err)
		}
		b, err := SignBlob(ctx, signer, data)
		if err != nil {
			t.Fatal(err)
		}
		c.ok(t, nil, "verify-blob", "--key", filepath.Join(kdir, "cosign.pub"), "--bundle", writeFile(t, dir, "ours.json", b), "--insecure-ignore-tlog=true", file)
	})
}

// TestWeVerifyCosignImageSignatures: VerifyImage reads what cosign sign and
// cosign attest push, in both of cosign's formats.
func TestWeVerifyCosignImageSignatures(t *testing.T) {
	c := newCosign(t)
	ctx := context.Background()
	host := startRegistry(t)
	dir := t.TempDir()
	pass := []byte("pw")
	info, err := GenerateKey(dir, "k", pass)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := os.ReadFile(info.PubPath)
	pub, _ := LoadPublicKey(pubPEM)
	passEnv := []string{"COSIGN_PASSWORD=" + string(pass)}

	for i, mode := range []struct {
		flag   string
		layout Layout
	}{{"--new-bundle-format=true", LayoutReferrer}, {"--new-bundle-format=false", LayoutTag}} {
		t.Run(mode.flag, func(t *testing.T) {
			ref := pushRandomImage(t, host, fmt.Sprintf("cosign/app%d", i))
			common := []string{"--key", info.KeyPath, "--tlog-upload=false", "--use-signing-config=false", "--allow-insecure-registry", "--yes", mode.flag}
			c.ok(t, passEnv, append(append([]string{"sign"}, common...), ref.String())...)
			pred := writeFile(t, t.TempDir(), "pred.json", []byte(`{"buildDefinition":{"buildType":"x","externalParameters":{}},"runDetails":{"builder":{"id":"y"}}}`))
			c.ok(t, passEnv, append(append([]string{"attest", "--type", "slsaprovenance1", "--predicate", pred}, common...), ref.String())...)

			ev, err := VerifyImage(ctx, ref, []*ecdsa.PublicKey{pub})
			if err != nil {
				t.Fatalf("VerifyImage: %v (evidence %+v)", err, ev)
			}
			if len(ev.Signatures) != 1 || ev.Signatures[0].Layout != mode.layout || ev.Signatures[0].KeyID != info.KeyID {
				t.Errorf("signatures %+v", ev.Signatures)
			}
			if len(ev.Attestations) != 1 || ev.Attestations[0].PredicateType != PredicateSLSAProvenanceV1 {
				t.Errorf("attestations %+v", ev.Attestations)
			}
			if len(ev.Unverified) != 0 {
				t.Errorf("unverified %+v", ev.Unverified)
			}
		})
	}
}

// printedPredicateTypes decodes the DSSE envelopes cosign verify-attestation
// prints, one JSON object a line, and returns their statements' predicate
// types.
func printedPredicateTypes(t *testing.T, out string) []string {
	t.Helper()
	var types []string
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var env envelope
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			t.Fatalf("cosign printed %q: %v", line, err)
		}
		payload, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			t.Fatal(err)
		}
		st, err := parseStatement(payload)
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, st.GetPredicateType())
	}
	return types
}
