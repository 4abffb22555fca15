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

// TestFollowUps runs the follow-up scenarios on SQLite.
func TestFollowUps(t *testing.T) {
	recordstest.RunFollowUps(t, func(t *testing.T) recordstest.FollowUpBackend { return open(t) })
}

// BenchmarkPending reads 10,000 open callbacks, half with a counted
// attempt: what the callback scheduler reads once, at start (issue 13).
func BenchmarkPending(b *testing.B) {
	s, err := store.Open(b.Context(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	t0 := recordstest.T0
	for i := range 10_000 {
		c, err := s.AddCallback(ctx, recordstest.Callback("c", t0.Add(time.Duration(i)*time.Second)))
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 1 {
			a, _ := s.StartAttempt(ctx, records.Attempt{CallbackID: c.ID, Round: 1, Started: t0, Agent: "8001", Trunk: "t"})
			a.Ended, a.Result, a.Counts = t0, records.AttemptNoAnswer, true
			if err := s.EndAttempt(ctx, a, t0.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for b.Loop() {
		ps, err := s.Pending(ctx)
		if err != nil || len(ps) != 10_000 {
			b.Fatal(len(ps), err)
		}
	}
}
