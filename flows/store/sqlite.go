// Package store keeps kefu's state on disk: the nuisance list and the
// repeat-call counters that flows/screen uses (it implements screen.Store),
// and the callbacks, complaints and survey answers calls leave (it
// implements records.Backend). The embedded store is SQLite through modernc.org/sqlite
// (pure Go, no cgo), one file kefu.db in the data directory.
//
// Durability: the database runs in WAL mode with synchronous=NORMAL. A
// commit is in the WAL file before it returns, so every committed change
// survives the process dying at any point (kill -9, a crash, os.Exit
// without Close); only a power cut or kernel crash can lose the last
// commits, and never corrupts the file. FULL would fsync on every commit,
// and screening commits once per INVITE: that would put a disk flush on
// every incoming call. Changes ops make (the nuisance list) are rare and
// worth keeping even through a power cut, so those transactions alone
// commit with synchronous=FULL, which also flushes everything before them.
//
// Concurrency: one writer connection (writes queue in Go, honouring their
// context, instead of spinning on SQLITE_BUSY) and a small pool of
// read-only connections that WAL lets read alongside it. busy_timeout
// covers another process holding the lock (a second kefu on the same
// directory, the sqlite3 shell).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// FileName is the database file in the data directory.
const FileName = "kefu.db"

// BusyTimeout is how long a statement waits for a lock another process
// holds before it fails with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// readers is the size of the read-only connection pool.
const readers = 4

// SQLite is the embedded store. It is safe for concurrent use.
type SQLite struct {
	w         *sql.DB // one connection: every write goes through it
	r         *sql.DB // read-only pool
	path      string
	hot       hotPath
	writeErrs atomic.Uint64
}

var _ screen.Store = (*SQLite)(nil)

// Open opens (creating when needed) dir/kefu.db, switches it to WAL and
// brings its schema up to date. The directory is created with mode 0750 and
// a new database file with 0600: it holds caller numbers (CS-PRIVACY).
func Open(ctx context.Context, dir string) (*SQLite, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("store: data directory: %w", err)
	}
	path := filepath.Join(abs, FileName)
	// Create the file ourselves so that SQLite (which gives the -wal and
	// -shm files the database file's mode) never makes it world-readable.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &SQLite{path: path}
	if s.w, err = sql.Open("sqlite", dsn(path, false)); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.init(ctx); err != nil {
		return nil, errors.Join(err, s.w.Close())
	}
	if s.r, err = sql.Open("sqlite", dsn(path, true)); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", path, err), s.w.Close())
	}
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	if err := s.hot.prepare(ctx, s.w, s.r); err != nil {
		return nil, errors.Join(fmt.Errorf("store: %w", err), s.Close())
	}
	return s, nil
}

// init checks the journal mode and migrates the schema.
func (s *SQLite) init(ctx context.Context) error {
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if mode != "wal" {
		return fmt.Errorf("store: %s: journal mode is %q, not wal (a network file system?)", s.path, mode)
	}
	return s.migrate(ctx)
}

// dsn is the modernc.org/sqlite data source name for path: a file: URI
// (so any character in the path is safe) with the connection's pragmas.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		// BEGIN IMMEDIATE: take the write lock when the transaction starts,
		// so a read-then-write transaction never fails half-way on a lock
		// another process took in between.
		q.Set("_txlock", "immediate")
	}
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Path is the database file.
func (s *SQLite) Path() string { return s.path }

// Close closes the database. Nothing is lost without it (see the package
// comment); it lets SQLite checkpoint the WAL into the main file.
func (s *SQLite) Close() error {
	errs := []error{s.hot.close()}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// beginner is a *sql.DB or a *sql.Conn.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// inTx runs fn in a transaction on db and commits it, or rolls back when
// fn fails.
func inTx(ctx context.Context, db beginner, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ignoreDone drops the error Rollback returns after the context already
// ended the transaction.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// write runs fn in a write transaction (synchronous=NORMAL).
func (s *SQLite) write(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.counted(inTx(ctx, s.w, fn))
}

// WriteErrors is how many writes failed since Open: a transaction that
// could not begin or commit, or a statement in it that failed (a full
// disk, a lock held past BusyTimeout, a read-only file). Answers that are
// no fault of the store — a record that does not exist, a proposal
// already decided, a write whose context was cancelled — do not count.
// Export it as a counter (prometheus.NewCounterFunc).
func (s *SQLite) WriteErrors() uint64 { return s.writeErrs.Load() }

// counted counts err as a failed write unless it is an answer.
func (s *SQLite) counted(err error) error {
	switch {
	case err == nil, errors.Is(err, context.Canceled),
		errors.Is(err, records.ErrNotFound), errors.Is(err, records.ErrInvalid),
		errors.Is(err, screen.ErrNotFound), errors.Is(err, screen.ErrInvalid), errors.Is(err, screen.ErrDecided):
	default:
		s.writeErrs.Add(1)
	}
	return err
}

// writeDurably runs fn in a write transaction committed with
// synchronous=FULL: the WAL is on disk when it returns, with every commit
// before it, so the change survives a power cut too.
func (s *SQLite) writeDurably(ctx context.Context, fn func(*sql.Tx) error) error {
	c, err := s.w.Conn(ctx)
	if err != nil {
		return s.counted(fmt.Errorf("writer: %w", err))
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous=FULL"); err != nil {
		return s.counted(fmt.Errorf("synchronous=FULL: %w", err))
	}
	err = inTx(ctx, c, fn)
	// Back to NORMAL even when ctx has ended; if that fails the writer
	// stays on FULL, which is slower but no less safe.
	_, rerr := c.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=NORMAL")
	return s.counted(errors.Join(err, rerr))
}

// micros and fromMicros convert times to and from the stored form:
// INTEGER microseconds since the Unix epoch (the resolution PostgreSQL
// keeps too), read back in UTC.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }
