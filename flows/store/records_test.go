package store_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
)

// TestRecords runs the records scenarios on SQLite.
func TestRecords(t *testing.T) {
	recordstest.Run(t, func(t *testing.T) records.Backend { return open(t) })
	t.Run("Shared", func(t *testing.T) {
		recordstest.Shared(t, func(t *testing.T) (a, b records.Backend) {
			dir := t.TempDir()
			return openIn(t, dir), openIn(t, dir)
		})
	})
}

// TestRecordsReopen: records and their marks survive a restart.
func TestRecordsReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	t0 := recordstest.T0
	cb, err := s.AddCallback(ctx, recordstest.Callback("c1", t0))
	if err != nil {
		t.Fatal(err)
	}
	open2, err := s.AddCallback(ctx, recordstest.Callback("c2", t0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.AddComplaint(ctx, recordstest.Complaint("c1", t0))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AddSurvey(ctx, recordstest.Survey("c1", t0, 8))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCallbackDone(ctx, cb.ID, t0.Add(time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openIn(t, dir)
	cb.Done, cb.DoneAt, cb.DoneBy, cb.Outcome = true, t0.Add(time.Hour), "ops", records.OutcomeDone
	cbs, err := s.Callbacks(ctx, records.Filter{})
	if err != nil || len(cbs) != 2 || cbs[0] != cb || cbs[1] != open2 {
		t.Errorf("callbacks after reopen: %+v %v; want %+v %+v", cbs, err, cb, open2)
	}
	cs, err := s.Complaints(ctx, records.Filter{Open: true})
	if err != nil || len(cs) != 1 || cs[0] != c {
		t.Errorf("complaints after reopen: %+v %v; want %+v", cs, err, c)
	}
	as, err := s.Surveys(ctx, records.Filter{})
	if err != nil || len(as) != 1 || as[0] != a {
		t.Errorf("surveys after reopen: %+v %v; want %+v", as, err, a)
	}
	// New IDs continue after the old ones.
	cb3, err := s.AddCallback(ctx, recordstest.Callback("c3", t0))
	if err != nil || cb3.ID <= open2.ID {
		t.Errorf("new callback %+v %v; want an ID after %d", cb3, err, open2.ID)
	}
}

// TestMigrateFromV1: a database kefu's first schema made (the nuisance
// list only) is brought to the current version with its rows kept.
func TestMigrateFromV1(t *testing.T) {
	dir := t.TempDir()
	raw := rawDB(t, dir+"/"+store.FileName)
	if _, err := raw.Exec(store.Migrations[0] + `
PRAGMA user_version = 1;
INSERT INTO nuisance (pattern, reason, added_by, added_at, action, code) VALUES ('400*', 'spam', 'ops', 0, 'reject', 603);
INSERT INTO repeat_flags (number, since, until, calls) VALUES ('13900000000', 0, 9223372036854775807, 6);`); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	s := openIn(t, dir)
	ctx := t.Context()
	var v int
	if err := rawDB(t, s.Path()).QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != store.SchemaVersion() || v < 2 {
		t.Fatalf("user_version %d %v, want %d", v, err, store.SchemaVersion())
	}
	es, err := s.Entries(ctx)
	if err != nil || len(es) != 1 || es[0].Pattern != "400*" || es[0].Action != (screen.Action{Kind: screen.Reject, Code: 603}) {
		t.Fatalf("nuisance list after migration: %+v %v", es, err)
	}
	fs, err := s.Flags(ctx, recordstest.T0)
	if err != nil || len(fs) != 1 || fs[0].Calls != 6 {
		t.Fatalf("flags after migration: %+v %v", fs, err)
	}
	if _, err := s.AddComplaint(ctx, recordstest.Complaint("c1", recordstest.T0)); err != nil {
		t.Fatalf("complaint after migration: %v", err)
	}
	if sum, err := s.Summary(ctx, recordstest.T0, time.Time{}); err != nil || sum.OpenComplaints != 1 {
		t.Fatalf("summary after migration: %+v %v", sum, err)
	}
}

// TestMigrateToV4: complaints stored before schema 4 are finished
// recordings; the new state column refuses other values, and a complaint
// being recorded, then interrupted, is stored and listed.
func TestMigrateToV4(t *testing.T) {
	dir := t.TempDir()
	raw := rawDB(t, dir+"/"+store.FileName)
	if _, err := raw.Exec(store.Migrations[0] + store.Migrations[1] + store.Migrations[2] + `
PRAGMA user_version = 3;
INSERT INTO complaints (call_id, caller, class, at, deadline, recording, duration, replied_at)
	VALUES ('old1', '13900000000', 'general', 1000000, 2000000, 'recordings/old1.wav', 5000000, NULL),
	       ('old2', '13900000001', 'message', 3000000, 4000000, '', 0, 3500000);`); err != nil {
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	s := openIn(t, dir)
	ctx := t.Context()
	var v int
	if err := rawDB(t, s.Path()).QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != store.SchemaVersion() || v < 4 {
		t.Fatalf("user_version %d %v, want %d", v, err, store.SchemaVersion())
	}
	cs, err := s.Complaints(ctx, records.Filter{})
	if err != nil || len(cs) != 2 || cs[0].State != records.Recorded || cs[1].State != records.Recorded ||
		cs[0].Recording != "recordings/old1.wav" || cs[0].Duration != 5*time.Second || !cs[1].Replied {
		t.Fatalf("complaints after migration: %+v %v", cs, err)
	}
	if _, err := rawDB(t, s.Path()).Exec(`UPDATE complaints SET state = 'lost' WHERE call_id = 'old1'`); err == nil {
		t.Error("the state column took 'lost'")
	}
	c := recordstest.Complaint("new", recordstest.T0)
	c.State, c.Duration = records.Recording, 0
	if c, err = s.AddComplaint(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishComplaint(ctx, c.ID, records.ComplaintEnd{State: records.Interrupted, Recording: c.Recording, Duration: 7 * time.Second}); err != nil {
		t.Fatal(err)
	}
	cs, err = s.Complaints(ctx, records.Filter{State: records.Interrupted, CallID: "new"})
	if err != nil || len(cs) != 1 || cs[0].ID != c.ID || cs[0].Duration != 7*time.Second {
		t.Fatalf("interrupted after migration: %+v %v", cs, err)
	}
	if sum, err := s.Summary(ctx, recordstest.T0, time.Time{}); err != nil || sum.OpenComplaints != 2 || sum.Interrupted != 1 {
		t.Fatalf("summary after migration: %+v %v", sum, err)
	}
}

// TestRecordsIndexes: the open lists read the partial indexes, the since
// lists the at indexes, and the survey mean no table scan.
func TestRecordsIndexes(t *testing.T) {
	s := open(t)
	raw := rawDB(t, s.Path())
	for _, tc := range []struct{ q, index string }{
		{`SELECT id FROM callbacks WHERE at >= 0 AND done_at IS NULL ORDER BY at, id LIMIT 10`, "callbacks_open_at"},
		{`SELECT id FROM complaints WHERE at >= 0 AND replied_at IS NULL ORDER BY at, id LIMIT 10`, "complaints_open_at"},
		{`SELECT id FROM callbacks WHERE at >= 0 ORDER BY at, id LIMIT 10`, "callbacks_at"},
		{`SELECT id FROM survey_answers WHERE at >= 0 ORDER BY at, id LIMIT 10`, "survey_answers_at"},
		{`SELECT count(*) FROM complaints WHERE replied_at IS NULL AND deadline < 0`, "complaints_open_deadline"},
		{`SELECT id FROM complaints WHERE at >= 0 AND state = 'recording' ORDER BY at, id LIMIT 10`, "complaints_recording"},
		{`SELECT id FROM complaints WHERE at >= 0 AND state = 'interrupted' ORDER BY at, id LIMIT 10`, "complaints_interrupted"},
		{`SELECT count(*) FROM complaints WHERE replied_at IS NULL AND state = 'interrupted'`, "complaints_interrupted"},
		{`SELECT id FROM complaints WHERE at >= 0 AND call_id = 'x' ORDER BY at, id LIMIT 10`, "complaints_call_id"},
		{`SELECT id FROM callbacks WHERE at >= 0 AND call_id = 'x' ORDER BY at, id LIMIT 10`, "callbacks_call_id"},
	} {
		rows, err := raw.Query(`EXPLAIN QUERY PLAN ` + tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		// A call's few records may be sorted; a list of many may not.
		sorted := strings.Contains(tc.q, "call_id") || strings.Contains(tc.q, "count")
		if p := strings.Join(plan, "; "); !strings.Contains(p, "INDEX "+tc.index) || (!sorted && strings.Contains(p, "TEMP B-TREE")) {
			t.Errorf("%s:\nplan %s\nwant index %s and no sort", tc.q, p, tc.index)
		}
	}
}

// rawDB opens the database file at path directly, closed at the end of
// the test.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: path}).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestWriteErrors: a write the database refuses is counted; answers (an
// unknown id, an invalid record, a cancelled call) are not.
func TestWriteErrors(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	if _, err := rawDB(t, s.Path()).Exec(`CREATE TRIGGER refuse BEFORE INSERT ON survey_answers
BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`); err != nil {
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

// TestRecover: Recover finishes what kefu left behind, on SQLite.
func TestRecover(t *testing.T) {
	recordstest.Recover(t, func(t *testing.T) records.Backend { return open(t) })
}
