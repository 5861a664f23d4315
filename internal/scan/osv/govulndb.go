package osv

import (
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The Go vulnerability database layout (go.dev/security/vuln/database):
// index/db.json, index/modules.json, index/vulns.json and ID/<id>.json.
type (
	goDBMeta struct {
		Modified time.Time `json:"modified"`
	}
	goModule struct {
		Path  string        `json:"path"`
		Vulns []goModuleVul `json:"vulns"`
	}
	goModuleVul struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Fixed    string    `json:"fixed,omitempty"`
	}
	goVuln struct {
		ID       string    `json:"id"`
		Modified time.Time `json:"modified"`
		Aliases  []string  `json:"aliases,omitempty"`
	}
)

// writeGoVulnDB writes the Go records. A GHSA record that aliases a GO-
// record is left out, as in vuln.go.dev, so govulncheck reports each
// vulnerability once.
func writeGoVulnDB(dir string, recs []*Record) error {
	recs = dropGoAliases(recs)
	var meta goDBMeta
	mods := map[string]*goModule{}
	vulns := make([]goVuln, 0, len(recs))
	for _, r := range recs {
		if r.Modified.After(meta.Modified) {
			meta.Modified = r.Modified
		}
		vulns = append(vulns, goVuln{ID: r.ID, Modified: r.Modified, Aliases: r.Aliases})
		for _, a := range r.Affected {
			if a.Package.Ecosystem != "Go" {
				continue
			}
			m := mods[a.Package.Name]
			if m == nil {
				m = &goModule{Path: a.Package.Name}
				mods[a.Package.Name] = m
			}
			m.Vulns = append(m.Vulns, goModuleVul{ID: r.ID, Modified: r.Modified, Fixed: latestFix(a.Ranges)})
		}
		if err := writeRaw(filepath.Join(dir, "ID", r.ID+".json"), r.Raw); err != nil {
			return err
		}
	}
	modList := make([]*goModule, 0, len(mods))
	for _, m := range mods {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		modList = append(modList, m)
	}
	sort.Slice(modList, func(i, j int) bool { return modList[i].Path < modList[j].Path })
	for name, v := range map[string]any{"db": meta, "modules": modList, "vulns": vulns} {
		if err := writeJSON(filepath.Join(dir, "index", name+".json"), v); err != nil {
			return err
		}
	}
	return nil
}

func dropGoAliases(recs []*Record) []*Record {
	goIDs := map[string]bool{}
	for _, r := range recs {
		if strings.HasPrefix(r.ID, "GO-") {
			goIDs[r.ID] = true
			for _, a := range r.Aliases {
				goIDs[a] = true // GHSA and CVE ids a GO- record names
			}
		}
	}
	var out []*Record
	for _, r := range recs {
		if strings.HasPrefix(r.ID, "GO-") || !goIDs[r.ID] && !anyIn(r.Aliases, goIDs) {
			out = append(out, r)
		}
	}
	return out
}

func anyIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if set[id] {
			return true
		}
	}
	return false
}

// latestFix is the highest fixed version of the SEMVER ranges, or "" if
// the vulnerability was introduced again after it (no version is safe),
// as vuln.go.dev's modules index computes it.
func latestFix(ranges []Range) string {
	latest := ""
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if c, _ := compareSemver(e.Fixed, latest); e.Fixed != "" && (latest == "" || c > 0) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if c, _ := compareSemver(e.Introduced, latest); e.Introduced != "" && e.Introduced != "0" && latest != "" && c > 0 {
				return ""
			}
		}
	}
	return latest
}
