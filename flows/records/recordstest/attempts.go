package recordstest

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Book is a backend that keeps the callback scheduler's book too.
type Book interface {
	records.Backend
	records.AttemptBook
}

// RunBook runs the scenarios of the callback scheduler's book (issue
// 13), each on a new backend from open.
func RunBook(t *testing.T, open func(t *testing.T) Book) {
	t.Run("Attempts", func(t *testing.T) { attempts(t, open(t)) })
	t.Run("Place", func(t *testing.T) { place(t, open(t)) })
}

// place: a callback keeps its caller's place in line (joined, priority);
// a join after the callback was left is refused.
func place(t *testing.T, b Book) {
	ctx := t.Context()
	c := Callback("c1", T0)
	c.Joined, c.Priority = T0.Add(-3*time.Minute+1234*time.Nanosecond), 2
	got, err := b.AddCallback(ctx, c)
	if err != nil || !got.Joined.Equal(T0.Add(-3*time.Minute+time.Microsecond)) || got.Priority != 2 {
		t.Fatalf("added %+v %v", got, err)
	}
	ps, err := b.Pending(ctx)
	if err != nil || len(ps) != 1 || ps[0].Callback != got || ps[0].Round != 1 || ps[0].Attempts != 0 || !ps[0].NotBefore.IsZero() {
		t.Fatalf("pending %+v %v; want %+v in round 1, no attempts", ps, err, got)
	}
	c.Joined = T0.Add(time.Second)
	if _, err := b.AddCallback(ctx, c); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("a callback whose caller joined after leaving it: %v", err)
	}
}

// attempts: attempts are started and ended, counted in their round;
// not_before is kept; closing ends the callback once; an attempt a stop
// cut off is marked interrupted and does not count; a re-queue starts a
// new round; a closed callback takes no attempt.
func attempts(t *testing.T, b Book) {
	ctx := t.Context()
	cb, err := b.AddCallback(ctx, Callback("c1", T0))
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.AddCallback(ctx, Callback("c2", T0.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := b.StartAttempt(ctx, records.Attempt{CallbackID: cb.ID, Round: 1, Started: T0.Add(time.Hour), Agent: "8001", Trunk: "carrier"})
	if err != nil || a.ID <= 0 {
		t.Fatalf("start: %+v %v", a, err)
	}
	a.Ended, a.Result, a.Counts = T0.Add(time.Hour+30*time.Second), records.AttemptNoAnswer, true
	retry := T0.Add(time.Hour + 10*time.Minute)
	if err := b.EndAttempt(ctx, a, retry); err != nil {
		t.Fatal(err)
	}
	p, err := b.PendingOne(ctx, cb.ID)
	if err != nil || p.Attempts != 1 || !p.NotBefore.Equal(retry) {
		t.Errorf("after a counted attempt: %+v %v", p, err)
	}
	// An attempt kefu's stop cut off: interrupted at the next start.
	cut, err := b.StartAttempt(ctx, records.Attempt{CallbackID: cb.ID, Round: 1, Started: T0.Add(2 * time.Hour), Agent: "8002", Trunk: "carrier"})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := b.InterruptAttempts(ctx, T0.Add(3*time.Hour)); err != nil || n != 1 {
		t.Errorf("interrupted %d, %v; want 1", n, err)
	}
	as, err := b.Attempts(ctx, cb.ID)
	if err != nil || len(as) != 2 || as[1].ID != cut.ID || as[1].Result != records.AttemptInterrupted || as[1].Counts ||
		!as[1].Ended.Equal(T0.Add(3*time.Hour)) || as[0].Result != records.AttemptNoAnswer || as[0].Agent != "8001" {
		t.Errorf("attempts %+v %v", as, err)
	}
	if p, _ := b.PendingOne(ctx, cb.ID); p.Attempts != 1 {
		t.Errorf("the interrupted attempt counts: %+v", p)
	}
	// Closing: once; a closed callback is not pending and takes no attempt.
	if err := b.CloseCallback(ctx, cb.ID, records.OutcomeNoAnswer, T0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.CloseCallback(ctx, cb.ID, records.OutcomeCancelled, T0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	cbs, _ := b.Callbacks(ctx, records.Filter{CallID: "c1"})
	if len(cbs) != 1 || cbs[0].Outcome != records.OutcomeNoAnswer || !cbs[0].Done || !cbs[0].DoneAt.Equal(T0.Add(4*time.Hour)) {
		t.Errorf("closed: %+v", cbs)
	}
	if _, err := b.PendingOne(ctx, cb.ID); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("a closed callback is pending: %v", err)
	}
	if _, err := b.StartAttempt(ctx, records.Attempt{CallbackID: cb.ID, Round: 1, Started: T0.Add(5 * time.Hour)}); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("an attempt for a closed callback: %v", err)
	}
	ps, _ := b.Pending(ctx)
	if len(ps) != 1 || ps[0].ID != other.ID {
		t.Errorf("pending %+v; want callback %d alone", ps, other.ID)
	}
	// A re-queue: a new round with every attempt, at once.
	if err := b.Reopen(ctx, cb.ID); err != nil {
		t.Fatal(err)
	}
	p, err = b.PendingOne(ctx, cb.ID)
	if err != nil || p.Round != 2 || p.Attempts != 0 || !p.NotBefore.IsZero() || p.Outcome != "" || p.Done {
		t.Errorf("re-queued: %+v %v", p, err)
	}
	if err := b.Reopen(ctx, cb.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := b.PendingOne(ctx, cb.ID); p.Round != 2 {
		t.Errorf("re-queuing an open callback started round %d", p.Round)
	}
	if err := b.Reopen(ctx, 999); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("re-queue of no callback: %v", err)
	}
	if err := b.CloseCallback(ctx, 999, records.OutcomeDone, T0); !errors.Is(err, records.ErrNotFound) {
		t.Errorf("close of no callback: %v", err)
	}
	if err := b.CloseCallback(ctx, cb.ID, "maybe", T0); !errors.Is(err, records.ErrInvalid) {
		t.Errorf("close with an unknown outcome: %v", err)
	}
	// Ops marking it done closes it as done.
	if err := b.MarkCallbackDone(ctx, other.ID, T0.Add(6*time.Hour), "ops"); err != nil {
		t.Fatal(err)
	}
	cbs, _ = b.Callbacks(ctx, records.Filter{CallID: "c2"})
	if len(cbs) != 1 || cbs[0].Outcome != records.OutcomeDone || cbs[0].DoneBy != "ops" {
		t.Errorf("marked done: %+v", cbs)
	}
	// Re-queued, it is nobody's done callback any more.
	if err := b.Reopen(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := b.PendingOne(ctx, other.ID); err != nil || p.DoneBy != "" || p.Done {
		t.Errorf("re-queued after ops marked it done: %+v %v", p, err)
	}
}
