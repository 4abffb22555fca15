package recordstest

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// FollowUpBackend is a backend that keeps the follow-up calls too.
type FollowUpBackend interface {
	records.Backend
	records.FollowUpBook
}

// RunFollowUps runs the follow-up scenarios (CS-FOLLOWUP) on a new
// backend from open.
func RunFollowUps(t *testing.T, open func(t *testing.T) FollowUpBackend) {
	t.Run("FollowUps", func(t *testing.T) { followUps(t, open(t)) })
}

// followUps: resolving a complaint replies to it and adds its follow-up,
// due in 24 h, once; one without a caller's number cannot be; attempts
// and the next try are kept; an answer closes it once and becomes a
// survey answer of the complaint's caller.
func followUps(t *testing.T, b FollowUpBackend) {
	ctx := t.Context()
	c, err := b.AddComplaint(ctx, Complaint("c1", T0))
	if err != nil {
		t.Fatal(err)
	}
	at := T0.Add(2 * time.Hour)
	f, err := b.ResolveComplaint(ctx, c.ID, at, "ops")
	if err != nil || f.ID <= 0 || f.ComplaintID != c.ID || f.Number != Caller || !f.Due.Equal(at.Add(24*time.Hour)) || f.By != "ops" || f.Outcome != "" {
		t.Fatalf("resolved: %+v %v", f, err)
	}
	again, err := b.ResolveComplaint(ctx, c.ID, at.Add(time.Hour), "other")
	if err != nil || again != f {
		t.Errorf("resolved again: %+v %v; want the same follow-up %+v", again, err, f)
	}
	cs, _ := b.Complaints(ctx, records.Filter{CallID: "c1"})
	if len(cs) != 1 || !cs[0].Replied || !cs[0].RepliedAt.Equal(at) || cs[0].RepliedBy != "ops" {
		t.Errorf("the resolved complaint: %+v", cs)
	}
	anon := Complaint("c2", T0)
	anon.Caller = "anonymous"
	ac, _ := b.AddComplaint(ctx, anon)
	if _, err := b.ResolveComplaint(ctx, ac.ID, at, "ops"); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("a withheld caller's complaint resolved: %v", err)
	}
	if _, err := b.ResolveComplaint(ctx, 999, at, "ops"); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("no complaint resolved: %v", err)
	}
	next := at.Add(10 * time.Minute)
	if err := b.FollowUpTried(ctx, f.ID, next); err != nil {
		t.Fatal(err)
	}
	ps, err := b.PendingFollowUps(ctx)
	if err != nil || len(ps) != 1 || ps[0].Attempts != 1 || !ps[0].NotBefore.Equal(next) {
		t.Fatalf("pending: %+v %v", ps, err)
	}
	if err := b.FinishFollowUp(ctx, f.ID, records.FollowUpAnswered, next, "1", 0); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("a key without a score: %v", err)
	}
	if err := b.FinishFollowUp(ctx, f.ID, records.FollowUpAnswered, next, "1", 3); err != nil {
		t.Fatal(err)
	}
	if err := b.FinishFollowUp(ctx, f.ID, records.FollowUpNoAnswer, next.Add(time.Hour), "", 0); err != nil {
		t.Fatal(err)
	}
	if ps, _ := b.PendingFollowUps(ctx); len(ps) != 0 {
		t.Errorf("pending after the answer: %+v", ps)
	}
	as, err := b.Surveys(ctx, records.Filter{CallID: records.FollowUpCallID(c.ID)})
	if err != nil || len(as) != 1 || as[0].Score != 3 || as[0].Key != "1" || as[0].Caller != Caller || as[0].Survey != records.FollowUpSurvey {
		t.Errorf("the follow-up's survey answer: %+v %v", as, err)
	}
	if err := b.FollowUpTried(ctx, 999, next); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("no follow-up tried: %v", err)
	}
}
