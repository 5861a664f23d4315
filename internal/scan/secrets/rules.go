package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
)

const (
	gitleaksModule = "github.com/zricethezav/gitleaks/v8"
	// gitleaksPinned is the version go.mod requires; the build info wins
	// when it is there, so the cache follows an upgrade by itself.
	gitleaksPinned = "v8.30.1"
	// maxDecodeDepth is the gitleaks CLI's default --max-decode-depth: the
	// library's zero value would skip base64/hex/percent decoding, and the
	// findings would no longer agree with the CLI's.
	maxDecodeDepth = 5
	// cacheFormat changes when what a cache entry means changes.
	cacheFormat = "slipway-secrets-cache/1"
)

// GitleaksVersion is the version of the gitleaks library linked in.
func GitleaksVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == gitleaksModule {
				if m.Replace != nil {
					return m.Replace.Version
				}
				return m.Version
			}
		}
	}
	return gitleaksPinned
}

// rules is a loaded gitleaks configuration and the hash that names it in
// the cache.
type rules struct {
	cfg  config.Config
	hash string
}

var (
	quietOnce sync.Once
	// viperMu serialises config loading: gitleaks' [extend] reads through
	// viper's global instance.
	viperMu      sync.Mutex
	defaultRules = sync.OnceValues(func() (*rules, error) { return loadRules([]byte(config.DefaultConfig)) })
)

// quiet silences the gitleaks library's global logger: it writes to
// stderr on its own, and at trace level it would print secrets. Slipway
// reports what matters through the Report and errors instead.
func quiet() {
	quietOnce.Do(func() { logging.Logger = zerolog.Nop() })
}

// rulesFor loads the configuration file, or gitleaks' default rules.
func rulesFor(configFile string) (*rules, error) {
	if configFile == "" {
		return defaultRules()
	}
	b, err := os.ReadFile(configFile)
	if err != nil {
		return nil, fmt.Errorf("secrets: read gitleaks config: %w", err)
	}
	r, err := loadRules(b)
	if err != nil {
		return nil, fmt.Errorf("secrets: gitleaks config %s: %w", configFile, err)
	}
	return r, nil
}

func loadRules(toml []byte) (*rules, error) {
	viperMu.Lock()
	defer viperMu.Unlock()
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(strings.NewReader(string(toml))); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	cfg, err := vc.Translate()
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	// As the CLI does for `dir .`: the repository's own config file is
	// not scanned.
	cfg.Path = ".gitleaks.toml"
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00decode=%d\x00", cacheFormat, GitleaksVersion(), maxDecodeDepth)
	h.Write(toml)
	return &rules{cfg: cfg, hash: hex.EncodeToString(h.Sum(nil))}, nil
}

// detector builds a gitleaks detector with the CLI's defaults. It is safe
// for concurrent DetectContext calls: the gitleaks CLI shares one between
// its 40 scanning goroutines.
func (r *rules) detector(ctx context.Context) *detect.Detector {
	quiet()
	d := detect.NewDetectorContext(ctx, r.cfg)
	d.MaxDecodeDepth = maxDecodeDepth
	return d
}

// pathSkipped reports whether a global allowlist skips the path, as
// gitleaks' directory walk does before reading a file.
func (r *rules) pathSkipped(rel string) bool {
	for _, a := range r.cfg.Allowlists {
		if a.PathAllowed(rel) {
			return true
		}
	}
	return false
}
