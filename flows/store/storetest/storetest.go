// Package storetest holds the scenarios of what flows/store's stores do
// beyond screen.Store and records.Backend (those have screentest and
// recordstest): the retention purge. The SQLite store and the PostgreSQL
// one (flows/store/pg) run them.
package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/screen"
	"github.com/kefu-hotline/kefu/flows/store"
)

// Store is a store kefu run can serve from.
type Store interface {
	screen.Store
	records.Backend
	records.AttemptBook
	Purge(ctx context.Context, before time.Time) (store.Purged, error)
}

// Purge: what a store holds of callers from before the cutoff goes —
// closed callbacks and complaints (their recordings named for deletion),
// survey answers, repeat-call counts and flags, decided proposals,
// expired entries — and what is still open or in force stays.
func Purge(t *testing.T, s Store) {
	ctx := t.Context()
	old, cutoff, recent := recordstest.T0, recordstest.T0.Add(90*24*time.Hour), recordstest.T0.Add(100*24*time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	complaint := func(id string, at time.Time, replied bool) {
		t.Helper()
		c, err := s.AddComplaint(ctx, recordstest.Complaint(id, at))
		must(err)
		if replied {
			must(s.MarkComplaintReplied(ctx, c.ID, at.Add(time.Hour), "ops"))
		}
	}
	callback := func(id string, at time.Time, done bool) {
		t.Helper()
		c, err := s.AddCallback(ctx, recordstest.Callback(id, at))
		must(err)
		if done {
			must(s.MarkCallbackDone(ctx, c.ID, at.Add(time.Hour), "ops"))
		}
	}
	complaint("old-replied", old, true)
	complaint("old-open", old, false)
	complaint("new-replied", recent, true)
	callback("old-done", old, true)
	callback("old-open", old, false)
	callback("new-done", recent, true)
	_, err := s.AddSurvey(ctx, recordstest.Survey("old", old, 5))
	must(err)
	_, err = s.AddSurvey(ctx, recordstest.Survey("new", recent, 5))
	must(err)
	_, _, err = s.RecordAttempt(ctx, "13800000001", recent, time.Hour) // kept; older ones RecordAttempt prunes itself
	must(err)
	must(s.RecordCutShort(ctx, "13800000002", old))
	_, err = s.PutFlag(ctx, screen.Flag{Number: "13800000003", Since: old, Until: old.Add(time.Hour), Calls: 9})
	must(err)
	_, err = s.PutFlag(ctx, screen.Flag{Number: "13800000004", Since: recent, Until: recent.Add(time.Hour), Calls: 9})
	must(err)
	decided, err := s.Propose(ctx, screen.Proposal{Number: "13800000005", Reason: "r", Calls: 9, Since: old, Until: old.Add(time.Hour)})
	must(err)
	_, err = s.DecideProposal(ctx, decided.ID, screen.Decision{Status: screen.Rejected, By: "ops", At: old.Add(time.Hour)})
	must(err)
	_, err = s.Propose(ctx, screen.Proposal{Number: "13800000006", Reason: "r", Calls: 9, Since: old, Until: old.Add(time.Hour)})
	must(err)
	expired, during := old.Add(time.Hour), recent.Add(time.Hour)
	for p, exp := range map[string]*time.Time{"4001*": &expired, "4002*": &during, "4003*": nil} {
		_, err = s.PutEntry(ctx, screen.Entry{Pattern: p, Reason: "r", AddedBy: "ops", AddedAt: old, ExpiresAt: exp, Action: screen.DefaultAction})
		must(err)
	}

	p, err := s.Purge(ctx, cutoff)
	must(err)
	if p.Complaints != 1 || p.Callbacks != 1 || p.Surveys != 1 || p.Counters != 2 || p.Proposals != 1 || p.Entries != 1 || p.KeptOpen != 2 ||
		!slices.Equal(p.Recordings, []string{"recordings/old-replied.wav"}) || !slices.Equal(p.KeptRecordings, []string{"recordings/old-open.wav"}) {
		t.Errorf("purged %+v", p)
	}
	callIDs := func(cs []records.Complaint) (ids []string) {
		for _, c := range cs {
			ids = append(ids, c.CallID)
		}
		return ids
	}
	cs, err := s.Complaints(ctx, records.Filter{})
	must(err)
	if got := callIDs(cs); !slices.Equal(got, []string{"old-open", "new-replied"}) {
		t.Errorf("complaints left %v", got)
	}
	cbs, err := s.Callbacks(ctx, records.Filter{})
	must(err)
	if len(cbs) != 2 || cbs[0].CallID != "old-open" || cbs[1].CallID != "new-done" {
		t.Errorf("callbacks left %+v", cbs)
	}
	sv, err := s.Surveys(ctx, records.Filter{})
	must(err)
	if len(sv) != 1 || sv[0].CallID != "new" {
		t.Errorf("surveys left %+v", sv)
	}
	fs, err := s.Flags(ctx, old) // the flags in force then or later
	must(err)
	if len(fs) != 1 || fs[0].Number != "13800000004" {
		t.Errorf("flags left %+v", fs)
	}
	ps, err := s.Proposals(ctx, true)
	must(err)
	if len(ps) != 1 || ps[0].Number != "13800000006" {
		t.Errorf("proposals left %+v", ps)
	}
	es, err := s.Entries(ctx)
	must(err)
	if len(es) != 2 || es[0].Pattern == "4001*" || es[1].Pattern == "4001*" {
		t.Errorf("entries left %+v", es)
	}
	if p, err := s.Purge(ctx, cutoff); err != nil || p.Complaints+p.Callbacks+p.Surveys+p.Counters+p.Proposals+p.Entries != 0 || p.KeptOpen != 2 {
		t.Errorf("a second purge: %+v %v", p, err)
	}
}

// PurgeAttempts: the retention purge takes a closed callback's attempts
// with it; an open callback keeps its own.
func PurgeAttempts(t *testing.T, s Store) {
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
