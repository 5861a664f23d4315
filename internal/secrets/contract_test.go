package secrets_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/internal/secrets"
	"github.com/slipway-ci/slipway/internal/secrets/secretstest"
)

func TestEnvProviderContract(t *testing.T) {
	secretstest.Run(t, func(t *testing.T, values map[string]string) secrets.Provider {
		env := []string{"PATH=/usr/bin", "SLIPWAY_SECRET=not-a-secret", "SLIPWAY_SECRETX=no", "HOME=/root"}
		for k, v := range values {
			env = append(env, secrets.EnvPrefix+k+"="+v)
		}
		return secrets.NewEnvProvider(env)
	})
}

func TestFileProviderContract(t *testing.T) {
	secretstest.Run(t, func(t *testing.T, values map[string]string) secrets.Provider {
		data, err := yaml.Marshal(values)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "secrets.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := secrets.LoadFileProvider(path)
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}

func TestChainContract(t *testing.T) {
	secretstest.Run(t, func(t *testing.T, values map[string]string) secrets.Provider {
		// Split the secrets between two providers.
		var env []string
		rest := map[string]string{}
		i := 0
		for k, v := range values {
			if i%2 == 0 {
				env = append(env, secrets.EnvPrefix+k+"="+v)
			} else {
				rest[k] = v
			}
			i++
		}
		var restEnv []string
		for k, v := range rest {
			restEnv = append(restEnv, secrets.EnvPrefix+k+"="+v)
		}
		return secrets.Chain{secrets.NewEnvProvider(env), secrets.NewEnvProvider(restEnv)}
	})
}
