package secrets

import (
	"encoding/base64"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkWriter measures throughput with 3 secrets over log-like text and
// over base64-like text (the worst case for the base64 patterns).
func BenchmarkWriter(b *testing.B) {
	m := NewMasker(map[string]string{
		"DB_PASSWORD": "hunter2-correct-horse",
		"API_TOKEN":   "ghp_7d5f0c2b9a8e4f1d3c6b5a4e9f8d7c6b",
		"SIGNING_KEY": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
	})
	rng := rand.New(rand.NewPCG(1, 1))
	words := []string{"building", "step", "go", "test", "./...", "ok", "PASS", "github.com/slipway-ci/slipway", "0.42s", "--", "FAIL", "cache", "hit", "\n"}
	var text strings.Builder
	for text.Len() < 1<<20 {
		text.WriteString(words[rng.IntN(len(words))])
		text.WriteByte(' ')
	}
	inputs := map[string][]byte{
		"text":   []byte(text.String()),
		"base64": []byte(base64.StdEncoding.EncodeToString(randBytes(rng, 3<<18))),
	}
	for _, name := range []string{"text", "base64"} {
		in := inputs[name]
		b.Run(name, func(b *testing.B) {
			w := m.NewWriter(io.Discard)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				for p := in; len(p) > 0; p = p[min(len(p), 32<<10):] {
					w.Write(p[:min(len(p), 32<<10)])
				}
			}
		})
	}
}
