package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// EnvPrefix is the prefix of the environment variables EnvProvider reads:
// SLIPWAY_SECRET_DB_PASSWORD holds the secret DB_PASSWORD.
const EnvPrefix = "SLIPWAY_SECRET_"

// Provider resolves secret values by name.
//
// Lifecycle: a Provider is built once, before a run resolves its secrets,
// and is used for as long as its owner needs it. A Provider that holds
// resources (connections, tokens, temporary files) also implements io.Closer;
// its owner calls Close once no Lookup is in flight.
//
// Concurrency: a Provider is safe for concurrent use by several goroutines.
//
// Lookup returns ok=false with a nil error when the provider does not have
// the secret, so a Chain can ask the next provider; a non-nil error means
// the provider could not answer (unreachable, denied, corrupt data) and stops
// the lookup. ctx bounds any wait. Names are case-sensitive and valid per
// ValidName. A Provider never logs a value nor puts one in an error message.
type Provider interface {
	// Name identifies the provider in messages, e.g. "env" or "file:/path".
	Name() string
	Lookup(ctx context.Context, name string) (value string, ok bool, err error)
}

// ValidName reports whether name can name a secret: ^[A-Za-z_][A-Za-z0-9_]*$,
// so that it is also a portable environment variable name.
func ValidName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

const nameRule = "names must match ^[A-Za-z_][A-Za-z0-9_]*$"

// Chain asks each provider in order and returns the first value found. A
// provider's error stops the search: falling through to another source after
// a failure could silently pick a stale value.
type Chain []Provider

var _ Provider = Chain(nil)

// Name lists the providers of the chain.
func (c Chain) Name() string {
	names := make([]string, len(c))
	for i, p := range c {
		names[i] = p.Name()
	}
	return "chain(" + strings.Join(names, ", ") + ")"
}

// Lookup implements Provider.
func (c Chain) Lookup(ctx context.Context, name string) (string, bool, error) {
	for _, p := range c {
		if err := ctx.Err(); err != nil {
			return "", false, err
		}
		v, ok, err := p.Lookup(ctx, name)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", p.Name(), err)
		}
		if ok {
			return v, true, nil
		}
	}
	return "", false, nil
}

// ErrNotSet is matched by errors.Is for a *MissingError.
var ErrNotSet = errors.New("secret is not set")

// MissingError lists every secret that no provider has.
type MissingError struct {
	Names []string // in the order they were asked for
}

func (e *MissingError) Error() string {
	lines := make([]string, len(e.Names))
	for i, n := range e.Names {
		lines[i] = fmt.Sprintf("secret %q is not set (set %s%s or add it to the secrets file)", n, EnvPrefix, n)
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrNotSet) true.
func (e *MissingError) Is(target error) bool { return target == ErrNotSet }

// Resolve looks up every name with p and returns name → value. When some
// names are not set, the error is a *MissingError naming all of them, so the
// user fixes them in one go. A provider failure is returned as is.
func Resolve(ctx context.Context, p Provider, names []string) (map[string]string, error) {
	var invalid []error
	for _, n := range names {
		if !ValidName(n) {
			invalid = append(invalid, fmt.Errorf("invalid secret name %q: %s", n, nameRule))
		}
	}
	if len(invalid) > 0 {
		return nil, errors.Join(invalid...)
	}
	out := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		if _, done := out[n]; done || contains(missing, n) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v, ok, err := p.Lookup(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("looking up secret %q: %w", n, err)
		}
		if !ok {
			missing = append(missing, n)
			continue
		}
		out[n] = v
	}
	if len(missing) > 0 {
		return nil, &MissingError{Names: missing}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
