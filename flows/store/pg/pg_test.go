package pg_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/screen/screentest"
	"github.com/kefu-hotline/kefu/flows/store"
	"github.com/kefu-hotline/kefu/flows/store/pg"
	"github.com/kefu-hotline/kefu/flows/store/pg/pgtest"
	"github.com/kefu-hotline/kefu/flows/store/storetest"
)

// cluster is the PostgreSQL the tests share, a new schema each.
var cluster pgtest.Shared

func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }

// openDSN opens a store on dsn, closed at the end of the test.
func openDSN(t testing.TB, dsn string) *pg.Store {
	t.Helper()
	s, err := pg.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// open opens a store on a new, empty schema.
func open(t *testing.T) *pg.Store { return openDSN(t, cluster.DSN(t)) }

// two opens two stores on one new schema: two nodes.
func two(t *testing.T) (*pg.Store, *pg.Store) {
	dsn := cluster.DSN(t)
	return openDSN(t, dsn), openDSN(t, dsn)
}

func TestRules(t *testing.T) {
	screentest.Rules(t, func(t *testing.T) screen.Store { return open(t) })
}

func TestStore(t *testing.T) {
	screentest.Store(t, func(t *testing.T) screen.Store { return open(t) })
	screentest.Shared(t, func(t *testing.T) (a, b screen.Store) { return two(t) })
}

func TestConcurrentOps(t *testing.T) {
	screentest.ConcurrentOps(t, screentest.NewEnv(t, open(t), screen.Config{}))
}

func TestContext(t *testing.T) {
	screentest.Cancelled(t, open(t))
}

func TestRecords(t *testing.T) {
	recordstest.Run(t, func(t *testing.T) records.Backend { return open(t) })
	t.Run("Shared", func(t *testing.T) {
		recordstest.Shared(t, func(t *testing.T) (a, b records.Backend) { return two(t) })
	})
}

func TestRecover(t *testing.T) {
	recordstest.Recover(t, func(t *testing.T) records.Backend { return open(t) })
}

func TestPurge(t *testing.T) {
	storetest.Purge(t, open(t))
}

func TestPurgeAttempts(t *testing.T) {
	storetest.PurgeAttempts(t, open(t))
}

func TestBook(t *testing.T) {
	recordstest.RunBook(t, func(t *testing.T) recordstest.Book { return open(t) })
}

// TestMigrateFromV4: callbacks stored before schema 5 are pending in
// round 1 with no attempts, and those done are closed as done.
func TestMigrateFromV4(t *testing.T) {
	dsn := cluster.DSN(t)
	raw := rawConn(t, dsn)
	if _, err := raw.Exec(t.Context(), strings.Join(pg.Migrations[:4], "")+`
CREATE TABLE kefu_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT NULL);
INSERT INTO kefu_schema (version) VALUES (4);
INSERT INTO callbacks (call_id, caller, number, reason, queue, at, done_at)
	VALUES ('old1', '13900000000', '13812345678', 'requested', 'customers', '2026-03-02T01:00:00Z', NULL),
	       ('old2', '13900000001', '13812345679', 'system_down', '', '2026-03-02T01:00:01Z', '2026-03-02T02:00:00Z');`); err != nil {
		t.Fatal(err)
	}
	s := openDSN(t, dsn)
	ctx := t.Context()
	ps, err := s.Pending(ctx)
	if err != nil || len(ps) != 1 || ps[0].CallID != "old1" || ps[0].Round != 1 || ps[0].Attempts != 0 || !ps[0].Joined.IsZero() ||
		!ps[0].At.Equal(recordstest.T0) || ps[0].At.Location() != time.UTC {
		t.Fatalf("pending after migration: %+v %v", ps, err)
	}
	cbs, err := s.Callbacks(ctx, records.Filter{CallID: "old2"})
	if err != nil || len(cbs) != 1 || cbs[0].Outcome != records.OutcomeDone {
		t.Fatalf("a done callback after migration: %+v %v", cbs, err)
	}
	if _, err := raw.Exec(ctx, `UPDATE callbacks SET outcome = 'lost' WHERE call_id = 'old1'`); err == nil {
		t.Error("the outcome column took 'lost'")
	}
}

// TestMigrate: nodes starting together on a new database migrate it once
// and all open it; the schema has as many steps as the SQLite one; a
// database from a newer kefu is refused.
func TestMigrate(t *testing.T) {
	if pg.SchemaVersion() != store.SchemaVersion() {
		t.Fatalf("PostgreSQL schema has %d steps, SQLite %d: add the step to both", pg.SchemaVersion(), store.SchemaVersion())
	}
	dsn := cluster.DSN(t)
	const nodes = 4
	var wg sync.WaitGroup
	stores := make([]*pg.Store, nodes)
	errs := make([]error, nodes)
	for i := range nodes {
		wg.Go(func() { stores[i], errs[i] = pg.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		defer s.Close()
	}
	raw := rawConn(t, dsn)
	var v, rows int
	if err := raw.QueryRow(t.Context(), `SELECT max(version), count(*) FROM kefu_schema`).Scan(&v, &rows); err != nil || v != pg.SchemaVersion() || rows != 1 {
		t.Fatalf("kefu_schema: version %d in %d rows, %v; want %d in 1", v, rows, err, pg.SchemaVersion())
	}
	if _, err := raw.Exec(t.Context(), `UPDATE kefu_schema SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Open(t.Context(), dsn); !errors.Is(err, store.ErrSchemaTooNew) {
		t.Errorf("open a newer schema: %v", err)
	}
}

// TestReopen: what a node wrote is there for a node started later.
func TestReopen(t *testing.T) {
	dsn := cluster.DSN(t)
	s, err := pg.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	e := screentest.NewEnv(t, s, screen.Config{})
	e.Add(screen.AddRequest{Pattern: "400*", Reason: "spam", AddedBy: "ops", TTL: "2h"})
	for i := range 10 {
		e.Want("13900000000", screentest.T0.Add(time.Duration(i)*time.Second), screen.Allow, screen.ReasonNone)
	}
	cb, err := s.AddCallback(t.Context(), recordstest.Callback("c1", recordstest.T0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDSN(t, dsn)
	e = screentest.NewEnv(t, s, screen.Config{})
	e.Want("13900000000", screentest.T0.Add(5*time.Minute), screen.Route, screen.ReasonRepeat)
	e.Want("4001234567", screentest.T0.Add(time.Hour), screen.Route, screen.ReasonList)
	if cbs, err := s.Callbacks(t.Context(), records.Filter{}); err != nil || len(cbs) != 1 || cbs[0] != cb {
		t.Errorf("callbacks after a restart: %+v %v; want %+v", cbs, err, cb)
	}
}

// TestWriteErrors: a write the database refuses is counted; answers (an
// unknown id, an invalid record, a cancelled call) are not.
func TestWriteErrors(t *testing.T) {
	dsn := cluster.DSN(t)
	s := openDSN(t, dsn)
	ctx := t.Context()
	if _, err := rawConn(t, dsn).Exec(ctx, `
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$;
CREATE TRIGGER refuse BEFORE INSERT ON survey_answers FOR EACH ROW EXECUTE FUNCTION refuse()`); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkComplaintReplied(ctx, 42, recordstest.T0, "ops"); !errors.Is(err, records.ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.FinishComplaint(ctx, 42, records.ComplaintEnd{State: records.Recorded}); !errors.Is(err, records.ErrNotFound) {
		t.Fatal(err)
	}
	if _, err := s.AddCallback(ctx, records.Callback{At: recordstest.T0}); !errors.Is(err, records.ErrInvalid) {
		t.Fatal(err)
	}
	if err := s.DeleteEntry(ctx, "400*"); !errors.Is(err, screen.ErrNotFound) {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.AddComplaint(cancelled, recordstest.Complaint("c", recordstest.T0)); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if n := s.WriteErrors(); n != 0 {
		t.Errorf("%d write errors counted for answers", n)
	}
	for range 2 {
		if _, err := s.AddSurvey(ctx, recordstest.Survey("c", recordstest.T0, 5)); err == nil || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("add survey: %v", err)
		}
	}
	if _, err := s.AddComplaint(ctx, recordstest.Complaint("c", recordstest.T0)); err != nil {
		t.Fatal(err)
	}
	if n := s.WriteErrors(); n != 2 {
		t.Errorf("%d write errors, want 2", n)
	}
}

// TestOpenErrors: a server that is not there, and a malformed string,
// fail Open with a message that never shows the password.
func TestOpenErrors(t *testing.T) {
	srv := cluster.Server()
	if srv == nil {
		cluster.DSN(t) // start it
		srv = cluster.Server()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://kefu:s3cret@127.0.0.1:1/kefu?connect_timeout=5",
		"postgres://kefu:s3cret@127.0.0.1:%zz/kefu",
		"postgres://kefu@127.0.0.1:1/kefu?password=s3cret&connect_timeout=5",
	} {
		_, err := pg.Open(ctx, dsn)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("open %s: %v", pg.Redact(dsn), err)
		}
	}
	if r := pg.Redact("postgres://kefu:s3cret@db:5432/kefu?password=s3cret&sslmode=require"); strings.Contains(r, "s3cret") || !strings.Contains(r, "db:5432") {
		t.Errorf("redacted %s", r)
	}
	// The real server with a wrong password.
	bad := strings.Replace(srv.URL("postgres", nil), "@", "x@", 1)
	if _, err := pg.Open(ctx, bad); err == nil {
		t.Error("a wrong password was accepted")
	}
}

// rawConn is a plain connection to dsn, closed at the end of the test.
func rawConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// BenchmarkScreen is the cost screening adds to a call on PostgreSQL, as
// flows/store's BenchmarkScreen measures it on SQLite: on the INVITE a
// list lookup and a count (reads), once answered a counted call (one
// write transaction), over a list of 10,000 entries and callers spread
// over 1,000 numbers. The cluster runs with fsync on, on loopback.
func BenchmarkScreen(b *testing.B) {
	srv := pgtest.Need(b, pgtest.Options{Durable: true})
	dsn, err := srv.NewSchema(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	st := openDSN(b, dsn)
	clk := screentest.NewClock(screentest.T0)
	m := screen.NewManager(st, clk.Now)
	for i := range 10000 {
		if _, err := m.Add(b.Context(), screen.AddRequest{Pattern: fmt.Sprintf("1500%07d", i), Reason: "r", AddedBy: "b"}); err != nil {
			b.Fatal(err)
		}
	}
	s, err := screen.New(st, screen.Config{Repeat: screen.Repeat{Calls: 1 << 30}}, clk.Now)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		at := screentest.T0.Add(time.Duration(i) * time.Millisecond)
		v, err := s.Check(b.Context(), screen.Call{Caller: fmt.Sprintf("1380000%04d", i%1000), At: at})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Count(b.Context(), v); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDurability: the writes of each call commit with synchronous_commit
// off, the rest as the server is configured (on).
func TestDurability(t *testing.T) {
	s := open(t)
	for durable, want := range map[bool]string{false: "off", true: "on"} {
		if got, err := s.SyncCommit(t.Context(), durable); err != nil || got != want {
			t.Errorf("durable %v: synchronous_commit %q %v; want %q", durable, got, err, want)
		}
	}
}

// TestPipeline: what RecordAttempt relies on. A batch (one pipeline, one
// Sync) is one implicit transaction: a failing statement undoes the ones
// before it; set_config(..., true) lasts until that transaction ends,
// and no longer.
func TestPipeline(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	p := s.Pool()
	if _, err := p.Exec(ctx, `CREATE TABLE pipeline (n integer)`); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO pipeline VALUES (1)`)
	b.Queue(`SELECT 1/0`)
	if err := p.SendBatch(ctx, b).Close(); err == nil {
		t.Fatal("division by zero succeeded")
	}
	var n int
	if err := p.QueryRow(ctx, `SELECT count(*) FROM pipeline`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows after a failed batch, %v: want the insert undone", n, err)
	}
	c, err := p.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	var in, after string
	b = &pgx.Batch{}
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
	b.Queue(`SHOW synchronous_commit`).QueryRow(func(r pgx.Row) error { return r.Scan(&in) })
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if in != "off" || after != "on" {
		t.Errorf("synchronous_commit %q in the batch, %q after; want off, then on", in, after)
	}
}

func TestFollowUps(t *testing.T) {
	recordstest.RunFollowUps(t, func(t *testing.T) recordstest.FollowUpBackend { return open(t) })
}
