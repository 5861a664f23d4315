package sbom

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// normalize fills missing purls, merges packages sharing a purl and sorts by
// purl, so that every output is deterministic and every bom-ref unique.
func normalize(pkgs []Package) []Package {
	byPURL := map[string]*Package{}
	var order []string
	for _, p := range pkgs {
		if p.PURL == "" {
			p.PURL = fallbackPURL(p)
		}
		q, ok := byPURL[p.PURL]
		if !ok {
			c := p
			c.Hashes = maps.Clone(p.Hashes)
			c.Licenses = slices.Clone(p.Licenses)
			byPURL[p.PURL] = &c
			order = append(order, p.PURL)
			continue
		}
		q.Main = q.Main || p.Main
		for k, v := range p.Hashes {
			if q.Hashes == nil {
				q.Hashes = map[string]string{}
			}
			if _, ok := q.Hashes[k]; !ok {
				q.Hashes[k] = v
			}
		}
		q.Licenses = append(q.Licenses, p.Licenses...)
	}
	slices.Sort(order)
	out := make([]Package, 0, len(order))
	for _, k := range order {
		p := byPURL[k]
		slices.Sort(p.Licenses)
		p.Licenses = slices.Compact(p.Licenses)
		out = append(out, *p)
	}
	return out
}

func fallbackPURL(p Package) string {
	switch p.Type {
	case TypeGolang:
		return golangPURL(p.Name, p.Version)
	case TypeDeb:
		return debPURL(p.Name, p.Version, "", "")
	}
	v := ""
	if p.Version != "" {
		v = "@" + purlEscape(p.Version)
	}
	return "pkg:generic/" + purlEscape(p.Name) + v
}

// h1ToHex converts a Go module hash "h1:<base64 sha256>" to hex.
func h1ToHex(h1 string) (string, error) {
	b64, ok := strings.CutPrefix(h1, "h1:")
	if !ok {
		return "", fmt.Errorf("hash %q: not an h1 hash", h1)
	}
	sum, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(sum) != 32 {
		return "", fmt.Errorf("hash %q: not a base64 SHA-256", h1)
	}
	return hex.EncodeToString(sum), nil
}

// sha256Hex returns the hex of a "sha256:<hex>" digest, or "" when the
// digest is absent or not a SHA-256.
func sha256Hex(digest string) (string, error) {
	if digest == "" {
		return "", nil
	}
	h, ok := strings.CutPrefix(digest, "sha256:")
	if b, err := hex.DecodeString(h); !ok || err != nil || len(b) != 32 {
		return "", fmt.Errorf("sbom: subject digest %q: want sha256:<64 hex>", digest)
	}
	return strings.ToLower(h), nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
