package secrets

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fake credentials are assembled at run time from a hash of a seed, so no
// token-shaped literal sits in the repository to trip push protection, yet
// each matches its gitleaks rule (format and entropy).
const (
	upper32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnum   = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

func fakeChars(seed, alphabet string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		sum := sha256.Sum256([]byte(fmt.Sprintf("slipway-fake/%s/%d", seed, i)))
		for _, c := range sum {
			if b.Len() < n {
				b.WriteByte(alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return b.String()
}

// fakeAWSKey is shaped like an AWS access key id (rule aws-access-token).
func fakeAWSKey(seed string) string { return "AK" + "IA" + fakeChars(seed, upper32, 16) }

// fakeGitHubPAT is shaped like a GitHub personal access token (github-pat).
func fakeGitHubPAT(seed string) string { return "gh" + "p_" + fakeChars(seed, alnum, 36) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// writeTree writes files (slash paths relative to dir) and returns dir.
func writeTree(tb testing.TB, dir string, files map[string]string) string {
	tb.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// loc is what tests compare: where a finding is and which rule fired.
type loc struct {
	Path string
	Rule string
	Line int
}

func (l loc) String() string { return fmt.Sprintf("%s:%d:%s", l.Path, l.Line, l.Rule) }
