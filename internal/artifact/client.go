package artifact

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrImmutableTag is wrapped by errors about moving an immutable tag.
var ErrImmutableTag = errors.New("immutable tag")

// immutableTag matches version tags (v1.2.3, v1.2.4-rc.3_abc1234) and commit
// tags (sha-<commit>): once pushed, they always name the same digest.
var immutableTag = regexp.MustCompile(`^(v[0-9]|sha-)`)

// IsImmutableTag reports whether a tag may never move to another digest.
func IsImmutableTag(tag string) bool { return immutableTag.MatchString(tag) }

// ClientOptions configure a Client.
type ClientOptions struct {
	// Insecure allows plain HTTP (for a loopback registry).
	Insecure bool
	// Auth holds credentials per registry host ("127.0.0.1:5000"), tried
	// before Keychain; e.g. the embedded registry's.
	Auth map[string]authn.Authenticator
	// Keychain defaults to authn.DefaultKeychain: Docker config and
	// credential helpers.
	Keychain  authn.Keychain
	UserAgent string
	// Transport defaults to remote.DefaultTransport.
	Transport http.RoundTripper
}

// Client talks to OCI registries.
type Client struct {
	o        ClientOptions
	keychain authn.Keychain
}

// NewClient returns a client.
func NewClient(o ClientOptions) *Client {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	if len(o.Auth) > 0 {
		kc = authn.NewMultiKeychain(hostKeychain(o.Auth), kc)
	}
	return &Client{o: o, keychain: kc}
}

type hostKeychain map[string]authn.Authenticator

func (h hostKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if a, ok := h[r.RegistryStr()]; ok {
		return a, nil
	}
	return authn.Anonymous, nil
}

// Options returns the remote options (auth, transport, user agent) of the
// client, for other packages (signing) to reuse.
func (c *Client) Options(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(c.keychain)}
	if c.o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(c.o.UserAgent))
	}
	if c.o.Transport != nil {
		opts = append(opts, remote.WithTransport(c.o.Transport))
	}
	return opts
}

// ParseRef parses an image reference; insecure allows plain HTTP to its
// registry.
func ParseRef(s string, insecure bool) (name.Reference, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(s, opts...)
	if err != nil {
		return nil, fmt.Errorf("parse reference %q: %w", s, err)
	}
	return ref, nil
}

// Push writes img to repo once, by digest, then points each tag at it. A
// tag that already names the digest is left alone; an immutable tag
// (IsImmutableTag) that names another digest makes Push fail with
// ErrImmutableTag before anything is written; other tags move.
func (c *Client) Push(ctx context.Context, repo name.Repository, img v1.Image, tags []string) (v1.Hash, error) {
	d, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("push %s: %w", repo, err)
	}
	var moves []name.Tag
	for _, t := range tags {
		tag := repo.Tag(t)
		cur, err := c.Resolve(ctx, tag)
		switch {
		case isNotFound(err):
			moves = append(moves, tag)
		case err != nil:
			return v1.Hash{}, fmt.Errorf("push %s: %w", tag, err)
		case cur == d:
		case IsImmutableTag(t):
			return v1.Hash{}, fmt.Errorf("push %s: tag names %s, refusing to move it to %s: %w", tag, cur, d, ErrImmutableTag)
		default:
			moves = append(moves, tag)
		}
	}
	if err := remote.Write(repo.Digest(d.String()), img, c.Options(ctx)...); err != nil {
		return v1.Hash{}, fmt.Errorf("push %s@%s: %w", repo, d, err)
	}
	for _, tag := range moves {
		if err := remote.Tag(tag, img, c.Options(ctx)...); err != nil {
			return v1.Hash{}, fmt.Errorf("tag %s: %w", tag, err)
		}
	}
	return d, nil
}

// Resolve returns the digest a reference names.
func (c *Client) Resolve(ctx context.Context, ref name.Reference) (v1.Hash, error) {
	desc, err := remote.Head(ref, c.Options(ctx)...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	return desc.Digest, nil
}

// Image returns a lazily fetched image.
func (c *Client) Image(ctx context.Context, ref name.Digest) (v1.Image, error) {
	img, err := remote.Image(ref, c.Options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	return img, nil
}

// Delete deletes a manifest by digest.
func (c *Client) Delete(ctx context.Context, ref name.Digest) error {
	if err := remote.Delete(ref, c.Options(ctx)...); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}

// isNotFound reports whether a registry answered that a manifest or blob
// does not exist.
func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}
