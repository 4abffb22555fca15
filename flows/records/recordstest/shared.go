package recordstest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// complaintGetter is the lookup of one complaint the ops API serves a
// recording by (records.Memory, and the stores, have it).
type complaintGetter interface {
	Complaint(ctx context.Context, id int64) (records.Complaint, error)
}

// complaintByID: a complaint reads back by its id as the list shows it;
// an id no complaint has is records.ErrNotFound. Skipped for a backend
// without the lookup.
func complaintByID(t *testing.T, b records.Backend) {
	g, ok := b.(complaintGetter)
	if !ok {
		t.Skipf("%T has no Complaint lookup", b)
	}
	added, err := b.AddComplaint(t.Context(), Complaint("a", T0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Complaint(t.Context(), added.ID)
	if err != nil || got != added {
		t.Errorf("Complaint(%d) = %+v, %v; want %+v", added.ID, got, err, added)
	}
	if cs, err := b.Complaints(t.Context(), records.Filter{}); err != nil || len(cs) != 1 || cs[0] != got {
		t.Errorf("listed %+v %v; want %+v", cs, err, got)
	}
	for _, id := range []int64{added.ID + 1, 0} {
		if _, err := g.Complaint(t.Context(), id); !errors.Is(err, records.ErrNotFound) {
			t.Errorf("id %d: %v; want ErrNotFound", id, err)
		}
	}
}

// Shared runs the scenario of several kefu nodes on one database: open
// returns two handles on the same new, empty backend (two nodes). What
// calls leave through either node is listed, counted and closed through
// the other, and IDs never collide.
func Shared(t *testing.T, open func(t *testing.T) (a, b records.Backend)) {
	a, b := open(t)
	ctx := t.Context()
	ca, err := a.AddCallback(ctx, Callback("on-a", T0))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.AddCallback(ctx, Callback("on-b", T0.Add(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if ca.ID == cb.ID {
		t.Fatalf("both nodes gave callback ID %d", ca.ID)
	}
	for _, n := range []records.Backend{a, b} {
		cbs, err := n.Callbacks(ctx, records.Filter{Open: true})
		if err != nil || len(cbs) != 2 || cbs[0] != ca || cbs[1] != cb {
			t.Fatalf("open callbacks on %T: %+v %v; want %+v %+v", n, cbs, err, ca, cb)
		}
	}
	if err := b.MarkCallbackDone(ctx, ca.ID, T0.Add(time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	c, err := a.AddComplaint(ctx, Complaint("on-a", T0))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.MarkComplaintReplied(ctx, c.ID, T0.Add(2*time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddSurvey(ctx, Survey("on-b", T0, 8)); err != nil {
		t.Fatal(err)
	}
	sum, err := a.Summary(ctx, T0.Add(3*time.Hour), T0)
	want := records.Summary{OpenCallbacks: 1, Complaints: 1, Surveys: 1, MeanScore: 8}
	if err != nil || sum != want {
		t.Errorf("summary on the other node: %+v %v; want %+v", sum, err, want)
	}
	if n, err := a.Count(ctx, records.Callbacks, records.Filter{Open: true}); err != nil || n != 1 {
		t.Errorf("open callbacks counted on the other node: %d %v", n, err)
	}
}
