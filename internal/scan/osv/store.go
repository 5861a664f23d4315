package osv

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// writeGeneration writes both layouts and the metadata into gen.
func writeGeneration(gen, src string, rs records) (*Meta, error) {
	meta := &Meta{Updated: time.Now().UTC(), Source: src, Records: len(rs), Ecosystems: map[string]int{}}
	byEco := make(map[string][]*Record)
	for _, id := range sortedIDs(rs) {
		r := rs[id]
		if r.Modified.After(meta.Modified) {
			meta.Modified = r.Modified
		}
		for _, eco := range ecosystems(r) {
			byEco[eco] = append(byEco[eco], r)
		}
	}
	for eco, list := range byEco {
		meta.Ecosystems[eco] = len(list)
		if err := writeZip(filepath.Join(gen, OSVScannerDir, eco, "all.zip"), list); err != nil {
			return nil, err
		}
	}
	if err := writeGoVulnDB(filepath.Join(gen, GoVulnDBDir), byEco["Go"]); err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(gen, metaFile), meta); err != nil {
		return nil, err
	}
	return meta, nil
}

func sortedIDs(rs records) []string {
	ids := make([]string, 0, len(rs))
	for id := range rs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ecosystems lists a record's ecosystems without their release suffix
// ("Debian:12" is filed under Debian, as osv.dev does).
func ecosystems(r *Record) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range r.Affected {
		eco, _, _ := strings.Cut(a.Package.Ecosystem, ":")
		if !seen[eco] {
			seen[eco] = true
			out = append(out, eco)
		}
	}
	return out
}

func writeZip(path string, list []*Record) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	for _, r := range list {
		w, err := zw.Create(r.ID + ".json")
		if err != nil {
			return err
		}
		if _, err := w.Write(r.Raw); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func writeJSON(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// swapCurrent points dir/current at gen by renaming a new symlink over
// the old one, which is atomic.
func swapCurrent(dir, gen string) error {
	tmp := filepath.Join(dir, fmt.Sprintf(".%s-%d", currentLink, time.Now().UnixNano()))
	if err := os.Symlink(filepath.Base(gen), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, currentLink)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// removeOldGenerations deletes superseded generations; a reader that
// still has one open keeps its files until it closes them.
func removeOldGenerations(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "gen-*"))
	for _, g := range old {
		if g != keep {
			os.RemoveAll(g)
		}
	}
}

func writeRaw(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
