package pg

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SyncCommit is the synchronous_commit a write (durable or not) commits
// with, for the tests.
func (s *Store) SyncCommit(ctx context.Context, durable bool) (string, error) {
	var v string
	fn := func(tx pgx.Tx) error { return tx.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v) }
	if durable {
		return v, s.writeDurably(ctx, fn)
	}
	return v, s.write(ctx, fn)
}

// Pool is the store's connection pool, for tests of what the store
// relies on PostgreSQL for.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Migrations exposes the schema steps to the tests, which build databases
// at an older version.
var Migrations = migrations

// OnApplied calls f, in the cache's listener, with every notification it
// applied and with "load" after each load.
func (s *Store) OnApplied(f func(msg string)) { s.listener.applied.Store(&f) }

// ListenerPID is the process id of the cache listener's backend, 0 while
// it is not connected.
func (s *Store) ListenerPID() uint32 { return s.listener.pid.Load() }

// CacheLive reports whether the cache answers.
func (s *Store) CacheLive() bool { return s.cache.isLive() }
