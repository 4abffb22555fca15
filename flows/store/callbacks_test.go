package store_test

import (
	"testing"

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
