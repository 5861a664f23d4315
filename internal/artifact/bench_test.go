package artifact

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkPromote shows that promotion costs the same for 1 MiB and
// 64 MiB artifacts: it moves a manifest (and mounts blobs across
// repositories), never the bytes.
func BenchmarkPromote(b *testing.B) {
	for _, size := range []int64{1 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			ctx := context.Background()
			host := newRegistry(b)
			c, _ := testClient(b)
			src := repoRef(b, host, "ci/hello")
			img, err := BuildArtifact([]File{{Name: "blob", Source: randomFile(b, size)}}, BuildOptions{Created: created})
			if err != nil {
				b.Fatal(err)
			}
			d, err := c.Push(ctx, src, img, []string{"v1.0.0"})
			if err != nil {
				b.Fatal(err)
			}
			ref := src.Digest(d.String())
			b.Run("same-repo", func(b *testing.B) {
				for b.Loop() {
					if _, err := c.Promote(ctx, ref, src.Tag("production")); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("cross-repo", func(b *testing.B) {
				i := 0
				for b.Loop() {
					i++ // a new repository each time, so every blob is mounted
					if _, err := c.Promote(ctx, ref, repoRef(b, host, fmt.Sprintf("prod%d/hello", i)).Tag("production")); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func randomFile(b testing.TB, size int64) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "blob")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		b.Fatal(err)
	}
	return p
}
