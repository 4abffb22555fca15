package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The cache's notifications. Triggers (schema step 8) send one on the
// cache's channel for every change to what screening reads, in the
// writer's transaction, so a node learns of a change when it commits and
// in commit order; PostgreSQL drops nothing while the listener's
// connection lasts. A message is a kind and its fields, tab-separated,
// the free text last:
//
//	n <pattern>           a nuisance entry changed: read it again
//	f <number>            a flag changed: read it again
//	x <number>            an open complaint or callback of number came or went: read what spares it again
//	a <id> <micros> <number>  a call was recorded
//	c <micros> <number>   a call was cut short
//	A <number>            number's calls were deleted (DeleteFlag)
//	s <token>             a Sync mark: every change committed before it is applied
//	*                     something too long for a message changed: load everything again
//
// A re-read is done in the listener's goroutine, on its connection, one
// message after the other, so what it reads is at least as new as the
// message; applying a message twice changes nothing.

// Listener timing: the idle connection is checked every pingEvery (a
// query that must answer within pingTimeout), and a lost one is dialled
// again after a back-off from minBackoff doubling to maxBackoff.
const (
	pingEvery   = 5 * time.Second
	pingTimeout = 3 * time.Second
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 5 * time.Second
)

// listenerApp is the listener connection's application_name, as ops see
// it in pg_stat_activity.
const listenerApp = "kefu cache listener"

// listener keeps a Store's cache: it loads it on connecting, applies the
// notifications, and on a lost connection makes the cache stop answering
// until it has connected and loaded everything again (the changes
// committed meanwhile were announced to nobody).
type listener struct {
	cfg     *pgx.ConnConfig
	channel string
	cache   *cache
	log     *slog.Logger

	mu      sync.Mutex
	waiters map[string]chan struct{} // Sync marks not seen yet
	prefix  string                   // this listener's marks: random, then a counter
	seq     atomic.Uint64

	pid     atomic.Uint32                // the listening backend's process id, 0 when not connected
	applied atomic.Pointer[func(string)] // test hook: called with each message applied, "load" after a load
	stop    context.CancelFunc
	done    chan struct{}
}

func newListener(cfg *pgx.ConnConfig, channel string, c *cache, log *slog.Logger) *listener {
	cfg = cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = listenerApp
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &listener{cfg: cfg, channel: channel, cache: c, log: log,
		waiters: map[string]chan struct{}{}, prefix: hex.EncodeToString(b), done: make(chan struct{})}
}

// start runs the listener until close, and waits at most until ctx ends
// for the first load: a node starts with a live cache when it can.
func (l *listener) start(ctx context.Context) {
	run, stop := context.WithCancel(context.Background())
	l.stop = stop
	first := make(chan struct{})
	go l.run(run, first)
	select {
	case <-first:
	case <-ctx.Done():
	}
}

// close stops the listener and waits for it.
func (l *listener) close() {
	l.stop()
	<-l.done
}

// run connects, listens and reconnects until ctx ends; first is closed
// after the first load, or when the first attempt failed.
func (l *listener) run(ctx context.Context, first chan struct{}) {
	defer close(l.done)
	var once sync.Once
	started := func() { once.Do(func() { close(first) }) }
	defer started()
	backoff := minBackoff
	for {
		loaded, err := l.session(ctx, started)
		l.cache.down()
		l.pid.Store(0)
		l.release()
		started()
		if ctx.Err() != nil {
			return
		}
		if loaded {
			backoff = minBackoff
		}
		l.log.Warn("store cache: lost the notifications; screening reads the database until they are back",
			"error", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// session is one connection: LISTEN, load everything, then apply the
// notifications until the connection fails or ctx ends. loaded says
// whether it got as far as a load.
func (l *listener) session(ctx context.Context, started func()) (loaded bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		return false, fmt.Errorf("listen: %w", err)
	}
	// Listening first, then the load: a change committed after the
	// load's snapshot is announced, one committed before is in it, one
	// in between is both (applied again: no change).
	snap, err := load(ctx, conn)
	if err != nil {
		return false, fmt.Errorf("load: %w", err)
	}
	l.cache.replace(snap)
	l.pid.Store(conn.PgConn().PID())
	l.hook("load")
	started()
	for {
		wctx, cancel := context.WithTimeout(ctx, pingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return true, ctx.Err()
		case err != nil && pgconn.Timeout(err):
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			_, err = conn.Exec(pctx, `SELECT 1`)
			cancel()
			if err != nil {
				return true, fmt.Errorf("ping: %w", err)
			}
			continue
		case err != nil:
			return true, err
		}
		if err := l.apply(ctx, conn, n.Payload); err != nil {
			return true, fmt.Errorf("apply %.1q: %w", n.Payload, err)
		}
	}
}

// hook calls the test hook, if any.
func (l *listener) hook(msg string) {
	if f := l.applied.Load(); f != nil {
		(*f)(msg)
	}
}

// apply applies one message.
func (l *listener) apply(ctx context.Context, conn *pgx.Conn, msg string) error {
	kind, rest, _ := strings.Cut(msg, "\t")
	var err error
	switch kind {
	case "n":
		err = l.rereadEntry(ctx, conn, rest)
	case "f":
		err = l.rereadFlag(ctx, conn, rest)
	case "x":
		err = l.rereadSpare(ctx, conn, rest)
	case "a":
		f := strings.SplitN(rest, "\t", 3)
		if len(f) != 3 {
			return errors.New("malformed")
		}
		id, err1 := strconv.ParseInt(f[0], 10, 64)
		us, err2 := strconv.ParseInt(f[1], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		l.cache.addCall(f[2], call{id: id, at: time.UnixMicro(us).UTC()})
	case "c":
		us, number, _ := strings.Cut(rest, "\t")
		n, err := strconv.ParseInt(us, 10, 64)
		if err != nil {
			return err
		}
		l.cache.cutShort(number, time.UnixMicro(n).UTC())
	case "A":
		l.cache.forget(rest)
	case "s":
		l.mu.Lock()
		if w, ok := l.waiters[rest]; ok {
			close(w)
			delete(l.waiters, rest)
		}
		l.mu.Unlock()
	case "*":
		var snap snapshot
		if snap, err = load(ctx, conn); err == nil {
			l.cache.replace(snap)
		}
	}
	if err == nil {
		l.hook(msg)
	}
	return err
}

func (l *listener) rereadEntry(ctx context.Context, conn *pgx.Conn, pattern string) error {
	e, err := scanEntry(conn.QueryRow(ctx, `SELECT `+entryColumns+` FROM nuisance WHERE pattern = $1`, pattern))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		l.cache.deleteEntry(pattern)
	case err != nil:
		return err
	default:
		l.cache.putEntry(e)
	}
	return nil
}

func (l *listener) rereadFlag(ctx context.Context, conn *pgx.Conn, number string) error {
	f, err := scanFlag(conn.QueryRow(ctx, `SELECT number, since, until, calls FROM repeat_flags WHERE number = $1`, number))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		l.cache.deleteFlag(number)
	case err != nil:
		return err
	default:
		l.cache.putFlag(f)
	}
	return nil
}

func (l *listener) rereadSpare(ctx context.Context, conn *pgx.Conn, number string) error {
	var (
		sp  spare
		cut *time.Time
	)
	if err := conn.QueryRow(ctx, `SELECT
	EXISTS (SELECT 1 FROM complaints WHERE caller = $1 AND replied_at IS NULL),
	EXISTS (SELECT 1 FROM callbacks WHERE caller = $1 AND done_at IS NULL)
		OR EXISTS (SELECT 1 FROM callbacks WHERE number = $1 AND done_at IS NULL),
	(SELECT max(at) FROM cut_calls WHERE number = $1)`, number).Scan(&sp.complaint, &sp.callback, &cut); err != nil {
		return err
	}
	sp.cut = utc(cut)
	l.cache.setSpare(number, sp)
	return nil
}

// load reads everything the cache holds, in one snapshot.
func load(ctx context.Context, conn *pgx.Conn) (snapshot, error) {
	s := newSnapshot()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	rows, err := tx.Query(ctx, `SELECT `+entryColumns+` FROM nuisance`)
	es, err := collect(rows, err, scanEntry)
	if err != nil {
		return s, err
	}
	for _, e := range es {
		s.entries[e.Pattern] = e
	}
	rows, err = tx.Query(ctx, `SELECT number, since, until, calls FROM repeat_flags`)
	fs, err := collect(rows, err, scanFlag)
	if err != nil {
		return s, err
	}
	for _, f := range fs {
		s.flags[f.Number] = f
	}
	type numbered struct {
		number string
		call
	}
	rows, err = tx.Query(ctx, `SELECT number, id, at FROM call_attempts`)
	ks, err := collect(rows, err, func(r scanner) (numbered, error) {
		var k numbered
		err := r.Scan(&k.number, &k.id, &k.at)
		k.at = k.at.UTC()
		return k, err
	})
	if err != nil {
		return s, err
	}
	for _, k := range ks {
		s.calls[k.number] = append(s.calls[k.number], k.call)
	}
	type spared struct {
		number              string
		complaint, callback bool
		cut                 *time.Time
	}
	rows, err = tx.Query(ctx, `
SELECT caller, true, false, NULL::timestamptz FROM complaints WHERE replied_at IS NULL
UNION ALL SELECT caller, false, true, NULL FROM callbacks WHERE done_at IS NULL
UNION ALL SELECT number, false, true, NULL FROM callbacks WHERE done_at IS NULL
UNION ALL SELECT number, false, false, max(at) FROM cut_calls GROUP BY number`)
	sps, err := collect(rows, err, func(r scanner) (spared, error) {
		var x spared
		err := r.Scan(&x.number, &x.complaint, &x.callback, &x.cut)
		return x, err
	})
	if err != nil {
		return s, err
	}
	for _, x := range sps {
		sp := s.spare[x.number]
		sp.complaint = sp.complaint || x.complaint
		sp.callback = sp.callback || x.callback
		if c := utc(x.cut); c.After(sp.cut) {
			sp.cut = c
		}
		s.spare[x.number] = sp
	}
	return s, nil
}

// sync returns once every change committed before it was called is in
// the cache, or at once when the cache does not answer (reads then go to
// the database). It sends a mark on the channel and waits for the
// listener to see it: notifications arrive in commit order.
func (l *listener) sync(ctx context.Context, exec func(ctx context.Context, sql string, args ...any) error) error {
	token := l.prefix + "." + strconv.FormatUint(l.seq.Add(1), 10)
	w := make(chan struct{})
	l.mu.Lock()
	l.waiters[token] = w
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiters, token)
		l.mu.Unlock()
	}()
	// Registered first: a cache that goes down from now on releases w.
	if !l.cache.isLive() {
		return nil
	}
	if err := exec(ctx, `SELECT pg_notify($1, $2)`, l.channel, "s\t"+token); err != nil {
		return fmt.Errorf("store: cache sync: %w", err)
	}
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("store: cache sync: %w", context.Cause(ctx))
	}
}

// release wakes every Sync waiting: the cache stopped answering, and the
// database they now read is current.
func (l *listener) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, w := range l.waiters {
		close(w)
		delete(l.waiters, k)
	}
}
