package pg_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/flows/store/pg"
)

// openCached opens a store with a cache on dsn, closed at the end of the
// test.
func openCached(t testing.TB, dsn string) *pg.Store {
	t.Helper()
	s, err := pg.Open(t.Context(), dsn, pg.WithCache())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if !s.CacheLive() {
		t.Fatal("the cache is not live after Open")
	}
	return s
}

// synced is a cached store that waits for its cache to have every change
// committed before it reads: what the conformance scenarios, which read
// right after other handles write, need of a store whose reads lag by a
// notification.
type synced struct{ *pg.Store }

func (s synced) MatchEntries(ctx context.Context, patterns []string, t time.Time) ([]screen.Entry, error) {
	if err := s.Sync(ctx); err != nil {
		return nil, err
	}
	return s.Store.MatchEntries(ctx, patterns, t)
}

func (s synced) CountCalls(ctx context.Context, number string, t time.Time, window time.Duration) (int, *screen.Flag, error) {
	if err := s.Sync(ctx); err != nil {
		return 0, nil, err
	}
	return s.Store.CountCalls(ctx, number, t, window)
}

func (s synced) Exemption(ctx context.Context, number string, cutSince time.Time) (screen.Exemption, error) {
	if err := s.Sync(ctx); err != nil {
		return "", err
	}
	return s.Store.Exemption(ctx, number, cutSince)
}

// TestCachedConformance: with the cache, screening answers as without it
// once the notifications are in (Sync), on one node and on two.
func TestCachedConformance(t *testing.T) {
	openOne := func(t *testing.T) screen.Store { return synced{openCached(t, cluster.DSN(t))} }
	t.Run("Rules", func(t *testing.T) { screentest.Rules(t, openOne) })
	t.Run("Store", func(t *testing.T) { screentest.Store(t, openOne) })
	t.Run("Shared", func(t *testing.T) {
		screentest.Shared(t, func(t *testing.T) (a, b screen.Store) {
			dsn := cluster.DSN(t)
			return synced{openCached(t, dsn)}, synced{openCached(t, dsn)}
		})
	})
	t.Run("ConcurrentOps", func(t *testing.T) {
		screentest.ConcurrentOps(t, screentest.NewEnv(t, openOne(t), screen.Config{}))
	})
}

// TestCacheOwnWrites: a node's own writes are in its cache when they
// return, with no notification waited for.
func TestCacheOwnWrites(t *testing.T) {
	s := openCached(t, cluster.DSN(t))
	e := screentest.NewEnv(t, s, screen.Config{})
	e.Add(screen.AddRequest{Pattern: "400*", TTL: "1h"})
	e.Want("4001234567", screentest.T0, screen.Route, screen.ReasonList)
	for i := range screen.DefaultRepeatCalls {
		e.Want("13900000000", screentest.T0.Add(time.Duration(i)*time.Second), screen.Allow, screen.ReasonNone)
	}
	e.Want("13900000000", screentest.T0.Add(time.Minute), screen.Route, screen.ReasonRepeat)
	if err := e.M.Remove(t.Context(), "400*"); err != nil {
		t.Fatal(err)
	}
	e.Want("4001234567", screentest.T0.Add(2*time.Minute), screen.Allow, screen.ReasonNone)
}

// watch records what b's listener applies, for a test to wait on.
func watch(t *testing.T, s *pg.Store) <-chan string {
	ch := make(chan string, 1024)
	s.OnApplied(func(m string) {
		select {
		case ch <- m:
		default:
		}
	})
	t.Cleanup(func() { s.OnApplied(func(string) {}) })
	return ch
}

// await waits, at most a second, for the message want on ch.
func await(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	deadline := time.NewTimer(time.Second)
	defer deadline.Stop()
	for {
		select {
		case m := <-ch:
			if m == want {
				return
			}
		case <-deadline.C:
			t.Fatalf("%q not applied within a second", want)
		}
	}
}

// TestCachePropagation: a list change on node A is in force on node B
// within a second — here within milliseconds: the delay from A's write
// returning to B's cache having it, over a few hundred changes. And what
// spares a number (a callback left, a complaint, a call cut short) reaches
// B's cache too.
func TestCachePropagation(t *testing.T) {
	dsn := cluster.DSN(t)
	a, b := openCached(t, dsn), openCached(t, dsn)
	ch := watch(t, b)
	ctx := t.Context()
	const n = 300
	var delays []time.Duration
	for i := range n {
		p := fmt.Sprintf("1390000%04d", (i/2)%50)
		start := time.Now()
		if i%2 == 1 {
			if err := a.DeleteEntry(ctx, p); err != nil {
				t.Fatal(err)
			}
		} else if _, err := a.PutEntry(ctx, screen.Entry{Pattern: p, Reason: "r", AddedBy: "ops", AddedAt: screentest.T0,
			Action: screen.DefaultAction}); err != nil {
			t.Fatal(err)
		}
		await(t, ch, "n\t"+p)
		delays = append(delays, time.Since(start))
		es, err := b.MatchEntries(ctx, []string{p}, screentest.T0.Add(time.Second))
		if err != nil || (len(es) == 1) != (i%2 == 0) {
			t.Fatalf("change %d: node B matches %+v %v", i, es, err)
		}
	}
	slices.Sort(delays)
	p50, p99 := delays[n/2], delays[n*99/100]
	t.Logf("list change on A in force on B (write + notify + apply): p50 %v, p99 %v, max %v over %d changes", p50, p99, delays[n-1], n)
	if p99 > time.Second {
		t.Errorf("p99 %v: want within a second", p99)
	}

	const number = "13812345678"
	if ex, _ := b.Exemption(ctx, number, screentest.T0); ex != screen.ExemptNone {
		t.Fatalf("exemption %q before", ex)
	}
	cb, err := a.AddCallback(ctx, records.Callback{CallID: "c1", Caller: number, Number: number, Reason: "requested", At: recordstest.T0})
	if err != nil {
		t.Fatal(err)
	}
	await(t, ch, "x\t"+number)
	if ex, _ := b.Exemption(ctx, number, screentest.T0); ex != screen.ExemptCallback {
		t.Errorf("exemption %q with a callback open", ex)
	}
	if err := a.MarkCallbackDone(ctx, cb.ID, recordstest.T0.Add(time.Minute), "ops"); err != nil {
		t.Fatal(err)
	}
	await(t, ch, "x\t"+number)
	if ex, _ := b.Exemption(ctx, number, screentest.T0); ex != screen.ExemptNone {
		t.Errorf("exemption %q with the callback done", ex)
	}
	if err := a.RecordCutShort(ctx, number, screentest.T0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if ex, _ := b.Exemption(ctx, number, screentest.T0); ex != screen.ExemptCutShort {
		t.Errorf("exemption %q with a call cut short", ex)
	}
}

// TestCacheListedWithoutDatabase: a listed number's verdict comes from
// memory — screening it with a context already ended, which any query
// would fail on, still rejects it; the store without a cache cannot.
func TestCacheListedWithoutDatabase(t *testing.T) {
	dsn := cluster.DSN(t)
	cached, plain := openCached(t, dsn), openDSN(t, dsn)
	if _, err := plain.PutEntry(t.Context(), screen.Entry{Pattern: "13912345678", Reason: "r", AddedBy: "ops",
		AddedAt: screentest.T0, Action: screen.Action{Kind: screen.Reject, Code: 603}}); err != nil {
		t.Fatal(err)
	}
	if err := cached.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	for name, st := range map[string]*pg.Store{"cached": cached, "plain": plain} {
		s, err := screen.New(st, screen.Config{}, func() time.Time { return screentest.T0 })
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Check(ended, screen.Call{Caller: "13912345678"})
		if name == "cached" && (err != nil || v.Kind != screen.Reject || v.Reason != screen.ReasonList) {
			t.Errorf("cached: %v %v; want the list's rejection", v, err)
		}
		if name == "plain" && err == nil {
			t.Errorf("plain: %v with no database; want an error", v)
		}
	}
}

// TestCacheReconnect: when the listener's connection is cut, the cache
// stops answering (reads go to the database, so nothing is missed), and
// once reconnected it has loaded what changed meanwhile.
func TestCacheReconnect(t *testing.T) {
	dsn := cluster.DSN(t)
	a, b := openCached(t, dsn), openCached(t, dsn)
	ch := watch(t, b)
	ctx := t.Context()
	raw := rawConn(t, dsn)
	pid := b.ListenerPID()
	if pid == 0 {
		t.Fatal("no listener")
	}
	// Hold the lock the load needs, so the change below lands while B is
	// disconnected and before it loads again.
	tx, err := raw.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE nuisance IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	var ok bool
	if err := rawConn(t, dsn).QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(pid)).Scan(&ok); err != nil || !ok {
		t.Fatalf("terminate the listener: %v %v", ok, err)
	}
	// B notices within its ping interval at worst; here at once (the
	// connection closes).
	for b.CacheLive() {
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO nuisance (pattern, reason, added_by, added_at, action) VALUES ('4009*', 'r', 'ops', now(), 'route')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.PutFlag(ctx, screen.Flag{Number: "13700000000", Since: screentest.T0, Until: screentest.T0.Add(time.Hour), Calls: 11}); err != nil {
		t.Fatal(err)
	}
	// Down, B reads the database.
	if es, err := b.MatchEntries(ctx, []string{"4009*"}, time.Now()); !b.CacheLive() && (err != nil || len(es) != 1) {
		t.Fatalf("while down: %+v %v", es, err)
	}
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for loaded := false; !loaded; {
		select {
		case m := <-ch:
			loaded = m == "load"
		case <-deadline.C:
			t.Fatal("the listener did not reconnect within 10 s")
		}
	}
	if !b.CacheLive() || b.ListenerPID() == pid {
		t.Fatalf("live %v, pid %d (was %d)", b.CacheLive(), b.ListenerPID(), pid)
	}
	if es, err := b.MatchEntries(ctx, []string{"4009*"}, time.Now()); err != nil || len(es) != 1 {
		t.Errorf("after the reconnect: %+v %v", es, err)
	}
	if n, f, err := b.CountCalls(ctx, "13700000000", screentest.T0.Add(time.Minute), time.Minute); err != nil || f == nil || n != 0 {
		t.Errorf("flag after the reconnect: %d %+v %v", n, f, err)
	}
}

// TestCacheNoticeTooLong: a change whose notification would be too long
// for PostgreSQL (kefu checks its texts' lengths; a person with psql does
// not) still commits, and the caches load everything again.
func TestCacheNoticeTooLong(t *testing.T) {
	dsn := cluster.DSN(t)
	b := openCached(t, dsn)
	ch := watch(t, b)
	long := strings.Repeat("9", 7500)
	if _, err := rawConn(t, dsn).Exec(t.Context(), `INSERT INTO complaints (call_id, caller, class, at, deadline, recording, duration)
VALUES ('c', $1, 'general', now(), now(), '', 0)`, long); err != nil {
		t.Fatal(err)
	}
	await(t, ch, "*")
	if ex, err := b.Exemption(t.Context(), long, screentest.T0); err != nil || ex != screen.ExemptComplaint {
		t.Errorf("after a reload: %q %v", ex, err)
	}
}

// BenchmarkCheck is screening on the INVITE (Check: the list, the count,
// the flag) over a list of 10,000 entries and callers spread over 1,000
// numbers with calls recorded, reading PostgreSQL and reading the cache;
// it reports the latency's p50 and p99.
func BenchmarkCheck(b *testing.B) {
	dsn := cluster.DSN(b)
	seed := openDSN(b, dsn)
	clk := screentest.NewClock(screentest.T0)
	m := screen.NewManager(seed, clk.Now)
	for i := range 10000 {
		if _, err := m.Add(b.Context(), screen.AddRequest{Pattern: fmt.Sprintf("1500%07d", i), Reason: "r", AddedBy: "b"}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 1000 {
		if _, _, err := seed.RecordAttempt(b.Context(), fmt.Sprintf("1380000%04d", i), screentest.T0, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		st   *pg.Store
	}{{"database", seed}, {"cache", openCached(b, dsn)}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := screen.New(bc.st, screen.Config{}, clk.Now)
			if err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				caller := fmt.Sprintf("1380000%04d", i%1000)
				if i%2 == 1 {
					caller = fmt.Sprintf("1500%07d", i%10000) // listed
				}
				start := time.Now()
				v, err := s.Check(b.Context(), screen.Call{Caller: caller, At: screentest.T0.Add(time.Minute)})
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				s.Release(v)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}
