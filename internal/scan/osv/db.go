package osv

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Layout of a database directory. "current" is a symlink to the latest
// complete generation, swapped atomically by Update.
const (
	currentLink = "current"
	metaFile    = "meta.json"
	// OSVScannerDir holds <Ecosystem>/all.zip; point osv-scanner at its
	// parent with OSV_SCANNER_LOCAL_DB_CACHE_DIRECTORY=<dir>/current.
	OSVScannerDir = "osv-scanner"
	// GoVulnDBDir is a Go vulnerability database: govulncheck -db file://<dir>/current/govulndb.
	GoVulnDBDir = "govulndb"
)

// ErrNoDB means the directory holds no database yet: run Update.
var ErrNoDB = errors.New("no vulnerability database")

// Meta describes one database generation.
type Meta struct {
	Updated    time.Time      `json:"updated"` // when Update wrote it
	Source     string         `json:"source"`
	Records    int            `json:"records"`
	Ecosystems map[string]int `json:"ecosystems"` // records per ecosystem
	Modified   time.Time      `json:"modified"`   // newest record
}

// DB is an opened database, held in memory.
type DB struct {
	base string // the directory Update maintains
	dir  string // the generation directory
	meta Meta
	// byPackage indexes affected entries by ecosystem and normalised name.
	byPackage map[string][]affectedRef
}

type affectedRef struct {
	rec *Record
	aff *Affected
}

func pkgKey(eco, name string) string { return eco + "\x00" + normalizeName(eco, name) }

// opened keeps the last generation opened per directory: a run's
// scanners (deps, image) each open the database, and reading the archives
// is the costly part. A generation never changes once written (Update
// makes a new directory), so its path is the key. A DB is read-only.
var opened struct {
	sync.Mutex
	byDir map[string]*DB
}

// Open loads the database that Update maintains in dir, or returns the
// one already loaded when dir's current generation has not changed.
func Open(dir string) (*DB, error) {
	gen, err := filepath.EvalSymlinks(filepath.Join(dir, currentLink))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w (%w)", dir, ErrNoDB, err)
	}
	opened.Lock()
	defer opened.Unlock()
	if db := opened.byDir[dir]; db != nil && db.dir == gen {
		return db, nil
	}
	db, err := loadGeneration(dir, gen)
	if err != nil {
		return nil, err
	}
	if opened.byDir == nil {
		opened.byDir = map[string]*DB{}
	}
	opened.byDir[dir] = db
	return db, nil
}

func loadGeneration(dir, gen string) (*DB, error) {
	b, err := os.ReadFile(filepath.Join(gen, metaFile))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	db := &DB{base: dir, dir: gen, byPackage: make(map[string][]affectedRef)}
	if err := json.Unmarshal(b, &db.meta); err != nil {
		return nil, fmt.Errorf("open %s: %s: %w", dir, metaFile, err)
	}
	zips, err := filepath.Glob(filepath.Join(gen, OSVScannerDir, "*", "all.zip"))
	if err != nil {
		return nil, err
	}
	for _, z := range zips {
		if err := readZip(z, db.add); err != nil {
			return nil, fmt.Errorf("open %s: %w", dir, err)
		}
	}
	return db, nil
}

func (db *DB) add(r *Record) error {
	if r.Withdrawn != nil {
		return nil
	}
	for i := range r.Affected {
		a := &r.Affected[i]
		k := pkgKey(a.Package.Ecosystem, a.Package.Name)
		db.byPackage[k] = append(db.byPackage[k], affectedRef{r, a})
	}
	return nil
}

// maxRecordSize bounds one record read from an archive.
const maxRecordSize = 16 << 20

// readZip calls fn for each OSV record (*.json) in a zip archive.
func readZip(path string, fn func(*Record) error) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".json") || f.FileInfo().IsDir() {
			continue
		}
		r, err := readZipEntry(f)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", path, f.Name, err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func readZipEntry(f *zip.File) (*Record, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRecordSize {
		return nil, fmt.Errorf("record larger than %d bytes", maxRecordSize)
	}
	return ParseRecord(b)
}

// Meta describes the opened generation.
func (db *DB) Meta() Meta { return db.meta }

// Age is how long ago the database was updated.
func (db *DB) Age() time.Duration { return time.Since(db.meta.Updated) }

// Staleness is the warning a scan gives when db is older than maxAge, ""
// when it is not.
func (db *DB) Staleness(maxAge time.Duration) string {
	age := db.Age()
	if age <= maxAge {
		return ""
	}
	return fmt.Sprintf("vulnerability database in %s was updated %s ago (max %s): run `slipway scan db update`",
		db.base, age.Round(time.Minute), maxAge)
}

// GoVulnDB is the directory of the Go vulnerability database, for
// govulncheck's -db file://<GoVulnDB()>.
func (db *DB) GoVulnDB() string { return filepath.Join(db.dir, GoVulnDBDir) }

// Match returns the records that affect p at p.Version, one per
// vulnerability (records that alias each other are merged), by ID.
func (db *DB) Match(p Package) []Vuln {
	var out []Vuln
	for _, ref := range db.byPackage[pkgKey(p.Ecosystem, p.Name)] {
		if ref.aff.Package.Ecosystem != p.Ecosystem {
			continue
		}
		in, fixed := ref.aff.affects(p.Version)
		if !in {
			continue
		}
		sev, score := severity(ref.rec, ref.aff)
		out = append(out, Vuln{ID: ref.rec.ID, Aliases: ref.rec.Aliases, Summary: summary(ref.rec),
			Severity: sev, Score: score, FixedIn: fixed, Record: ref.rec})
	}
	out = mergeAliases(out)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func summary(r *Record) string {
	if r.Summary != "" {
		return r.Summary
	}
	s, _, _ := strings.Cut(strings.TrimSpace(r.Details), "\n")
	return clipText(s, 120)
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
