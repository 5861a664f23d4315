// Package sqlite is the embedded store: one SQLite database in the state dir
// (modernc.org/sqlite, no cgo), in WAL mode, shared safely by several
// slipway processes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/slipway-ci/slipway/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the SQLite store.
type DB struct {
	db    *sql.DB
	stmts *statements
}

var _ store.Store = (*DB)(nil)

// Open opens (creating and migrating as needed) the database at path.
// Commits are durable (synchronous=FULL): a step is reported finished only
// once its result survives a crash of the process or of the machine.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(NORMAL)", "busy_timeout(15000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := migrate(ctx, db, path); err != nil {
		db.Close()
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	stmts, err := prepare(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &DB{db: db, stmts: stmts}, nil
}

// migrate brings the schema up to date, holding a file lock so that two
// slipway processes starting at once do not both migrate.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("database lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("database lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too
	p, err := goose.NewProvider(goose.DialectSQLite3, db, mustSub(migrations, "migrations"),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("database migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate database %s: %w", path, err)
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// Runs returns the runs aggregate.
func (d *DB) Runs() store.Runs { return runs{d.db, d.stmts} }

// Tests returns the test results aggregate.
func (d *DB) Tests() store.Tests { return tests{d.db} }

// CacheIndex returns the cache index.
func (d *DB) CacheIndex() store.CacheIndex { return cacheIndex{d.db} }

// Artifacts returns the artifacts aggregate.
func (d *DB) Artifacts() store.Artifacts { return artifacts{d.db} }

// Scans returns the scan results.
func (d *DB) Scans() store.Scans { return scans{d.db} }

// Deployments returns the deployments and their measurements.
func (d *DB) Deployments() store.Deployments { return deployments{d.db} }

func tx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	t, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(t); err != nil {
		t.Rollback() //nolint:errcheck // the first error matters
		return err
	}
	if err := t.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
