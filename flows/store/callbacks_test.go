package store_test

import (
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/store"
)

// TestBook runs the callback scheduler's book scenarios on SQLite.
func TestBook(t *testing.T) {
	recordstest.RunBook(t, func(t *testing.T) recordstest.Book { return open(t) })
}

// TestMigrateToV5: callbacks stored before schema 5 are pending in round
// 1 with no attempts (joined: none, so their place is when they were
// left), and those marked done are closed as done.
func TestMigrateToV5(t *testing.T) {
	dir := t.TempDir()
	raw := rawDB(t, dir+"/"+store.FileName)
	if _, err := raw.Exec(store.Migrations[0] + store.Migrations[1] + store.Migrations[2] + store.Migrations[3] + `
PRAGMA user_version = 4;
INSERT INTO callbacks (call_id, caller, number, reason, queue, at, done_at)
	VALUES ('old1', '13900000000', '13812345678', 'requested', 'customers', 1000000, NULL),
	       ('old2', '13900000001', '13812345679', 'system_down', '', 2000000, 3000000);`); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	s := openIn(t, dir)
	ctx := t.Context()
	ps, err := s.Pending(ctx)
	if err != nil || len(ps) != 1 || ps[0].CallID != "old1" || ps[0].Round != 1 || ps[0].Attempts != 0 || !ps[0].Joined.IsZero() || ps[0].Priority != 0 {
		t.Fatalf("pending after migration: %+v %v", ps, err)
	}
	cbs, err := s.Callbacks(ctx, records.Filter{CallID: "old2"})
	if err != nil || len(cbs) != 1 || cbs[0].Outcome != records.OutcomeDone {
		t.Fatalf("a done callback after migration: %+v %v", cbs, err)
	}
	if _, err := rawDB(t, s.Path()).Exec(`UPDATE callbacks SET outcome = 'lost' WHERE call_id = 'old1'`); err == nil {
		t.Error("the outcome column took 'lost'")
	}
}

// TestPurgeAttempts: the retention purge takes a closed callback's
// attempts with it; an open callback keeps its own.
func TestPurgeAttempts(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	t0 := recordstest.T0
	closed, _ := s.AddCallback(ctx, recordstest.Callback("c1", t0))
	open2, _ := s.AddCallback(ctx, recordstest.Callback("c2", t0))
	for _, id := range []int64{closed.ID, open2.ID} {
		a, err := s.StartAttempt(ctx, records.Attempt{CallbackID: id, Round: 1, Started: t0, Agent: "8001", Trunk: "t"})
		if err != nil {
			t.Fatal(err)
		}
		a.Ended, a.Result, a.Counts = t0.Add(time.Minute), records.AttemptNoAnswer, true
		if err := s.EndAttempt(ctx, a, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CloseCallback(ctx, closed.ID, records.OutcomeNoAnswer, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Purge(ctx, t0.Add(24*time.Hour))
	if err != nil || p.Callbacks != 1 {
		t.Fatalf("purge: %+v %v", p, err)
	}
	if as, _ := s.Attempts(ctx, closed.ID); len(as) != 0 {
		t.Errorf("the purged callback's attempts stay: %+v", as)
	}
	if as, _ := s.Attempts(ctx, open2.ID); len(as) != 1 {
		t.Errorf("the open callback's attempts: %+v", as)
	}
}
