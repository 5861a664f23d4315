package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/slipway-ci/slipway/internal/store"
)

type cacheIndex struct{ db *sql.DB }

const cacheCols = `key, step, outputs, log, size, created_at, last_used, hits`

func (c cacheIndex) Get(ctx context.Context, key string) (*store.CacheEntry, error) {
	e, err := scanCache(c.db.QueryRowContext(ctx, `SELECT `+cacheCols+` FROM cache_entries WHERE key=?`, key))
	if err != nil {
		return nil, notFound(err, "cache entry "+key)
	}
	return e, nil
}

func (c cacheIndex) Put(ctx context.Context, e *store.CacheEntry) error {
	_, err := c.db.ExecContext(ctx, `INSERT INTO cache_entries (`+cacheCols+`) VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT (key) DO UPDATE SET step=excluded.step, outputs=excluded.outputs, log=excluded.log,
		size=excluded.size, created_at=excluded.created_at, last_used=excluded.last_used, hits=excluded.hits`,
		e.Key, e.Step, e.Outputs, e.Log, e.Size, unix(e.CreatedAt), unix(e.LastUsed), e.Hits)
	if err != nil {
		return fmt.Errorf("put cache entry: %w", err)
	}
	return nil
}

func (c cacheIndex) Touch(ctx context.Context, key string, at time.Time) error {
	res, err := c.db.ExecContext(ctx, `UPDATE cache_entries SET last_used=?, hits=hits+1 WHERE key=?`, unix(at), key)
	if err != nil {
		return fmt.Errorf("touch cache entry: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("cache entry %s: %w", key, store.ErrNotFound)
	}
	return nil
}

func (c cacheIndex) List(ctx context.Context) ([]*store.CacheEntry, error) {
	rows, err := c.db.QueryContext(ctx, `SELECT `+cacheCols+` FROM cache_entries ORDER BY last_used, key`)
	if err != nil {
		return nil, fmt.Errorf("list cache entries: %w", err)
	}
	defer rows.Close()
	var out []*store.CacheEntry
	for rows.Next() {
		e, err := scanCache(rows)
		if err != nil {
			return nil, fmt.Errorf("list cache entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (c cacheIndex) Delete(ctx context.Context, keys ...string) error {
	return tx(ctx, c.db, func(t *sql.Tx) error {
		for _, k := range keys {
			if _, err := t.ExecContext(ctx, `DELETE FROM cache_entries WHERE key=?`, k); err != nil {
				return fmt.Errorf("delete cache entry: %w", err)
			}
		}
		return nil
	})
}

func scanCache(s scanner) (*store.CacheEntry, error) {
	var e store.CacheEntry
	var created, used int64
	if err := s.Scan(&e.Key, &e.Step, &e.Outputs, &e.Log, &e.Size, &created, &used, &e.Hits); err != nil {
		return nil, err
	}
	e.CreatedAt, e.LastUsed = fromUnix(created), fromUnix(used)
	return &e, nil
}
