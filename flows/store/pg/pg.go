// Package pg is kefu's store on PostgreSQL (pgx), for several kefu nodes
// that serve one hotline: the nuisance list and proposed entries, the
// repeat-call counts and flags, the callbacks, complaints and survey
// answers, shared by every node that opens the same database. It
// implements what flows/store's SQLite implements (screen.Store,
// records.Backend, the complaint lookup, Purge, WriteErrors), with the
// same behaviour: the conformance suites (flows/screen/screentest,
// flows/records/recordstest) run on both.
//
// Open takes a PostgreSQL URL or keyword/value string (pgx's syntax, with
// its pool_* parameters); the tables go in the first schema of the
// connection's search_path. Schema migrations are numbered as flows/store's
// and run once, under an advisory lock, by whichever node opens the
// database first.
//
// Times are timestamptz: microseconds, read back in UTC, as flows/records
// normalises them. Durability follows flows/store's rule: what people
// did or were promised (list edits, decisions, callbacks, complaints)
// commits with the server's synchronous_commit (on by default: flushed
// before the commit returns); what each call writes on its way (repeat
// counts, flags, proposals, calls cut short, survey answers) commits with
// synchronous_commit off: it survives kefu dying at any point, and a
// crash of the database server can lose its last fraction of a second,
// never corrupt anything, and keeps a WAL flush off every call's setup.
package pg

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/screen"
)

// Store is kefu's store on a PostgreSQL database. It is safe for
// concurrent use, by this process and by other kefu nodes on the same
// database.
type Store struct {
	pool      *pgxpool.Pool
	where     string // the server and database, for messages: no password
	writeErrs atomic.Uint64
	channel   string    // the cache notifications' channel (listen.go)
	cache     *cache    // nil without WithCache
	listener  *listener // nil without WithCache
}

// Option changes how Open opens a Store.
type Option func(*options)

type options struct {
	cache bool
	log   *slog.Logger
}

// WithCache serves screening's reads on the INVITE path — the nuisance
// list, the repeat-call counts and flags, what spares a number — from
// memory, kept fresh by the database's notifications (LISTEN/NOTIFY on a
// connection of its own): a change committed on any node is in force on
// this one within milliseconds, and this node's own writes at once. While
// the notifications are lost (the connection broke) the reads go to the
// database, until the listener has reconnected and loaded everything
// again. Open waits for the first load, at most until its context ends.
func WithCache() Option { return func(o *options) { o.cache = true } }

// WithLogger logs to l what the cache's listener has to say (a lost
// connection); the default discards. A nil l changes nothing.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

var (
	_ screen.Store    = (*Store)(nil)
	_ records.Backend = (*Store)(nil)
)

// IsURL reports whether s names a PostgreSQL database as a URL
// (postgres:// or postgresql://), the form kefu's -store takes.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Redact returns dsn with its password replaced, for logs and messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || !IsURL(dsn) {
		return "the PostgreSQL database"
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Open connects to the database dsn names and brings its schema up to
// date (migrate). It fails when the server cannot be reached.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, f := range opts {
		f(&o)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors quote the string, password included.
		return nil, fmt.Errorf("store: %s: not a PostgreSQL connection string", Redact(dsn))
	}
	where := fmt.Sprintf("postgres %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", where, err)
	}
	s := &Store{pool: pool, where: where}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: %s: %w", where, err)
	}
	s.channel = channelOf(schema)
	if o.cache {
		s.cache = newCache()
		s.listener = newListener(cfg.ConnConfig, s.channel, s.cache, o.log)
		s.listener.start(ctx)
	}
	return s, nil
}

// channelOf is the cache notifications' channel for the tables in schema,
// as the triggers of schema step 8 name it: one per schema, so that
// stores in different schemas of one database hear only their own.
func channelOf(schema string) string {
	sum := md5.Sum([]byte(schema))
	return "kefu_" + hex.EncodeToString(sum[:])
}

// Sync returns once every change committed before the call, on any node,
// is in force in this store's cache; without a cache, or while the
// cache's connection is down (reads go to the database then), at once.
func (s *Store) Sync(ctx context.Context) error {
	if s.listener == nil {
		return nil
	}
	return s.listener.sync(ctx, func(ctx context.Context, sql string, args ...any) error {
		_, err := s.pool.Exec(ctx, sql, args...)
		return err
	})
}

// String names the server and database (never the password).
func (s *Store) String() string { return s.where }

// Close closes the store's connections. Nothing committed is lost
// without it.
func (s *Store) Close() error {
	if s.listener != nil {
		s.listener.close()
	}
	s.pool.Close()
	return nil
}

// WriteErrors is how many writes failed since Open: a transaction that
// could not begin or commit, or a statement in it that failed (the server
// gone, a full disk, a constraint). Answers that are no fault of the store
// — a record that does not exist, a proposal already decided, a write
// whose context was cancelled — do not count. Export it as a counter.
func (s *Store) WriteErrors() uint64 { return s.writeErrs.Load() }

// counted counts err as a failed write unless it is an answer.
func (s *Store) counted(err error) error {
	switch {
	case err == nil, errors.Is(err, context.Canceled),
		errors.Is(err, records.ErrNotFound), errors.Is(err, records.ErrInvalid),
		errors.Is(err, screen.ErrNotFound), errors.Is(err, screen.ErrInvalid), errors.Is(err, screen.ErrDecided):
	default:
		s.writeErrs.Add(1)
	}
	return err
}

// relaxed begins a transaction whose commit does not wait for the WAL
// flush: one round trip, like a plain BEGIN.
var relaxed = pgx.TxOptions{BeginQuery: "BEGIN; SET LOCAL synchronous_commit = off"}

// write runs fn in a transaction that commits with synchronous_commit
// off (see the package comment).
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.counted(s.inTx(ctx, relaxed, fn))
}

// writeDurably runs fn in a transaction that commits as the server is
// configured to (synchronous_commit on by default).
func (s *Store) writeDurably(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.counted(s.inTx(ctx, pgx.TxOptions{}, fn))
}

// inTx runs fn in a transaction begun with opts and commits it, or rolls
// back when fn fails.
func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		// Rollback with ctx ended still ends the transaction: pgx then
		// closes the connection.
		return errors.Join(err, ignoreClosed(tx.Rollback(context.WithoutCancel(ctx))))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ignoreClosed drops the error Rollback returns for a transaction that
// already ended.
func ignoreClosed(err error) error {
	if errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	return err
}

// oneRow turns an update or delete that matched no row into
// records.ErrNotFound.
func oneRow(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return records.ErrNotFound
	}
	return nil
}

// at is t as stored: UTC, microseconds (pgx sends a time.Time truncated to
// the microsecond, as flows/records normalises it).
func at(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

// ceil is t rounded up to the microsecond, so that comparing a stored
// time with it gives what comparing the times would: stored >= t exactly
// when stored >= ceil(t), stored < t exactly when stored < ceil(t).
func ceil(t time.Time) time.Time {
	m := t.UnixMicro()
	if t.After(time.UnixMicro(m)) {
		m++
	}
	return time.UnixMicro(m).UTC()
}

// utc reads a stored time; nil (NULL) is the zero time.
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nullable is t for a nullable column: NULL for nil or the zero time.
func nullable(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return at(*t)
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface{ Scan(dest ...any) error }

// collect reads every row of rows with scan.
func collect[T any](rows pgx.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
