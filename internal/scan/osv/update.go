package osv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultEcosystems are fetched from a base URL such as
// https://osv-vulnerabilities.storage.googleapis.com (<base>/<eco>/all.zip).
var DefaultEcosystems = []string{"Go", "npm", "PyPI", "crates.io"}

// Update reads every OSV record from src and writes a new database
// generation into dir, then switches dir/current to it atomically, so a
// reader sees the old or the new database, never half of one.
//
// src is a local directory (of *.json records and/or *.zip archives of
// them, searched recursively), an http(s) URL of one zip archive, or an
// http(s) base URL under which <Ecosystem>/all.zip is fetched for each
// of DefaultEcosystems (a missing one is skipped).
func Update(ctx context.Context, src, dir string) (*Meta, error) {
	recs, err := load(ctx, src, dir)
	if err != nil {
		return nil, fmt.Errorf("update vulnerability database from %s: %w", src, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	gen, err := os.MkdirTemp(dir, "gen-"+time.Now().UTC().Format("20060102T150405Z")+"-")
	if err != nil {
		return nil, err
	}
	meta, err := writeGeneration(gen, src, recs)
	if err == nil {
		err = swapCurrent(dir, gen)
	}
	if err != nil {
		os.RemoveAll(gen)
		return nil, fmt.Errorf("update vulnerability database in %s: %w", dir, err)
	}
	removeOldGenerations(dir, gen)
	return meta, nil
}

// records collects records by ID, keeping the most recently modified.
type records map[string]*Record

func (rs records) add(r *Record) error {
	if old, ok := rs[r.ID]; !ok || r.Modified.After(old.Modified) {
		rs[r.ID] = r
	}
	return nil
}

func load(ctx context.Context, src, tmpDir string) (records, error) {
	rs := make(records)
	u, err := url.Parse(src)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return rs, fetch(ctx, src, tmpDir, rs)
	}
	if err := loadDir(ctx, src, rs); err != nil {
		return nil, err
	}
	return rs, nil
}

func loadDir(ctx context.Context, root string, rs records) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		switch {
		case d.IsDir() && d.Name() == "index" && p != root:
			return filepath.SkipDir // a Go vulndb's index, not records
		case d.IsDir():
			return nil
		case strings.HasSuffix(p, ".zip"):
			return readZip(p, rs.add)
		case strings.HasSuffix(p, ".json"):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			r, err := ParseRecord(b)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			return rs.add(r)
		}
		return nil
	})
}

// fetch downloads one archive, or each ecosystem's archive under a base.
func fetch(ctx context.Context, src, tmpDir string, rs records) error {
	if strings.HasSuffix(src, ".zip") {
		return fetchZip(ctx, src, tmpDir, rs, false)
	}
	base := strings.TrimSuffix(src, "/")
	found := false
	for _, eco := range DefaultEcosystems {
		err := fetchZip(ctx, base+"/"+url.PathEscape(eco)+"/all.zip", tmpDir, rs, true)
		if err == errNotFound {
			continue
		}
		if err != nil {
			return err
		}
		found = true
	}
	if !found {
		return fmt.Errorf("no <Ecosystem>/all.zip under %s", src)
	}
	return nil
}

var errNotFound = errors.New("not found")

func fetchZip(ctx context.Context, u, tmpDir string, rs records, optional bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound && optional {
		return errNotFound
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(tmpDir, "download-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := f.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return readZip(f.Name(), rs.add)
}
