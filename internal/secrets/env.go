package secrets

import (
	"context"
	"strings"
)

// EnvProvider serves the secrets given as EnvPrefix+NAME=value environment
// variables. It copies them when built and is immutable afterwards.
type EnvProvider struct {
	values map[string]string
}

var _ Provider = (*EnvProvider)(nil)

// NewEnvProvider reads environ (as from os.Environ). Variables whose name
// after the prefix is not a ValidName are ignored, since no pipeline can ask
// for them; when a variable repeats, the last one wins, as in os/exec.
func NewEnvProvider(environ []string) *EnvProvider {
	values := make(map[string]string)
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		name, ok := strings.CutPrefix(k, EnvPrefix)
		if !ok || !ValidName(name) {
			continue
		}
		values[name] = v
	}
	return &EnvProvider{values: values}
}

// Name implements Provider.
func (*EnvProvider) Name() string { return "env" }

// Lookup implements Provider.
func (p *EnvProvider) Lookup(_ context.Context, name string) (string, bool, error) {
	v, ok := p.values[name]
	return v, ok, nil
}
