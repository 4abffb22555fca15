package pg_test

import (
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/records/recordstest"
	"github.com/kefu-hotline/kefu/flows/store/pg"
)

// TestClaims: a callback is claimed by one node at a time — of sixteen
// claims at once from two nodes one wins; the holder's lease keeps the
// other off until it runs out, a renewal extends it; once it has run out
// (the node died) the other node claims it, and the attempt the dead node
// left running is marked interrupted, not counted. A node starting does
// not interrupt an attempt another node holds. A closed callback, and one
// not yet due, cannot be claimed.
func TestClaims(t *testing.T) {
	dsn := cluster.DSN(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	ctx := t.Context()
	t0 := recordstest.T0
	cb, err := a.AddCallback(ctx, recordstest.Callback("c1", t0))
	if err != nil {
		t.Fatal(err)
	}
	lease := 6 * time.Second
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won []string
	)
	for i := range 16 {
		st, owner := a, "a"
		if i%2 == 1 {
			st, owner = b, "b"
		}
		wg.Go(func() {
			ok, err := st.Claim(ctx, pg.ClaimCallback, cb.ID, owner, t0, t0.Add(lease))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won = append(won, owner)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The winner may claim again (its own lease); count the owners.
	owners := map[string]bool{}
	for _, o := range won {
		owners[o] = true
	}
	if len(owners) != 1 {
		t.Fatalf("claims won by %v; want one node", won)
	}
	holder, other := a, b
	hname, oname := "a", "b"
	if owners["b"] {
		holder, other, hname, oname = b, a, "b", "a"
	}
	att, err := holder.StartAttempt(ctx, records.Attempt{CallbackID: cb.ID, Round: 1, Started: t0, Agent: "8001", Trunk: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := other.Claim(ctx, pg.ClaimCallback, cb.ID, oname, t0.Add(5*time.Second), t0.Add(11*time.Second)); ok {
		t.Fatal("claimed while the lease runs")
	}
	if err := holder.Renew(ctx, pg.ClaimCallback, []int64{cb.ID}, hname, t0.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := other.Claim(ctx, pg.ClaimCallback, cb.ID, oname, t0.Add(8*time.Second), t0.Add(14*time.Second)); ok {
		t.Fatal("claimed while the renewed lease runs")
	}
	if n, err := other.InterruptAttempts(ctx, t0.Add(9*time.Second)); err != nil || n != 0 {
		t.Fatalf("a node starting interrupted %d attempts another node holds, %v", n, err)
	}
	// The holder dies: no more renewals.
	if ok, err := other.Claim(ctx, pg.ClaimCallback, cb.ID, oname, t0.Add(10*time.Second), t0.Add(16*time.Second)); !ok || err != nil {
		t.Fatalf("claim after the lease ran out: %v %v", ok, err)
	}
	as, err := other.Attempts(ctx, cb.ID)
	if err != nil || len(as) != 1 || as[0].ID != att.ID || as[0].Result != records.AttemptInterrupted || as[0].Counts ||
		!as[0].Ended.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("the dead node's attempt: %+v %v", as, err)
	}
	if err := other.Release(ctx, pg.ClaimCallback, cb.ID, oname); err != nil {
		t.Fatal(err)
	}
	// Not due yet, then closed.
	if err := other.EndAttempt(ctx, records.Attempt{ID: att.ID, CallbackID: cb.ID, Round: 1, Started: t0, Ended: t0.Add(10 * time.Second),
		Agent: "8001", Trunk: "t", Result: records.AttemptInterrupted}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := holder.Claim(ctx, pg.ClaimCallback, cb.ID, hname, t0.Add(time.Minute), t0.Add(time.Minute+lease)); ok {
		t.Error("claimed before it is due")
	}
	if err := other.CloseCallback(ctx, cb.ID, records.OutcomeCancelled, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := holder.Claim(ctx, pg.ClaimCallback, cb.ID, hname, t0.Add(3*time.Hour), t0.Add(3*time.Hour+lease)); ok {
		t.Error("claimed a closed callback")
	}
}

// TestClaimFollowUp: a follow-up is claimed by one node; once answered it
// cannot be claimed again.
func TestClaimFollowUp(t *testing.T) {
	dsn := cluster.DSN(t)
	a, b := openDSN(t, dsn), openDSN(t, dsn)
	ctx := t.Context()
	t0 := recordstest.T0
	c, err := a.AddComplaint(ctx, recordstest.Complaint("c1", t0))
	if err != nil {
		t.Fatal(err)
	}
	f, err := a.ResolveComplaint(ctx, c.ID, t0.Add(time.Hour), "ops")
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(2 * time.Hour)
	if ok, err := a.Claim(ctx, pg.ClaimFollowUp, f.ID, "a", now, now.Add(6*time.Second)); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, _ := b.Claim(ctx, pg.ClaimFollowUp, f.ID, "b", now, now.Add(6*time.Second)); ok {
		t.Fatal("two nodes hold one follow-up")
	}
	if err := a.FinishFollowUp(ctx, f.ID, records.FollowUpAnswered, now.Add(time.Minute), "1", 9); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx, pg.ClaimFollowUp, f.ID, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Claim(ctx, pg.ClaimFollowUp, f.ID, "b", now.Add(2*time.Minute), now.Add(3*time.Minute)); ok {
		t.Error("claimed an answered follow-up")
	}
}
