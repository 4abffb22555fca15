package queue_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestJoinKeepsPlace (issue 13): a callback joins with the time its
// caller joined and takes that place — behind the callers who joined
// earlier, ahead of those who joined later, in its own queue and across
// queues (Before) — and its wait counts from then; one who joins at the
// same moment as a waiting caller comes after them.
func TestJoinKeepsPlace(t *testing.T) {
	m := newManager(t, queue.Config{Name: "a"}, queue.Config{Name: "b"})
	early := join(t, m, "a", "early", 0, at(0))
	late := join(t, m, "a", "late", 0, at(3*time.Minute))
	vip := join(t, m, "a", "vip", 5, at(4*time.Minute))
	otherLate := join(t, m, "b", "b-late", 0, at(2*time.Minute))
	w := late.Changed()
	cb := join(t, m, "a", "callback-1", 0, at(time.Minute)) // joined at 1m, called back now
	select {
	case <-w:
	default:
		t.Error("the caller behind the callback's place was not told their position changed")
	}
	if got := positions([]*queue.Ticket{vip, early, cb, late}); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Errorf("positions vip, early, callback, late: %v", got)
	}
	if !cb.Before(otherLate) || !early.Before(cb) {
		t.Error("across queues the callback does not keep its join time")
	}
	if w := cb.Waited(at(5 * time.Minute)); w != 4*time.Minute {
		t.Errorf("the callback has waited %v at 5m, want 4m from its caller's join", w)
	}
	same := join(t, m, "a", "same", 0, at(time.Minute))
	if !cb.Before(same) {
		t.Error("a caller joining at the callback's very time went ahead of it")
	}
	if ids := nextIDs(t, m, at(6*time.Minute), "a", "b"); !slices.Equal(ids, []string{"vip", "early", "callback-1", "same", "b-late", "late"}) {
		t.Errorf("served %v", ids)
	}
}

// TestWithdrawn: a ticket taken out unserved (a callback cancelled or put
// off) counts as nothing in the figures, and only the first outcome
// counts.
func TestWithdrawn(t *testing.T) {
	m := newManager(t, queue.Config{Name: "a"})
	cb := join(t, m, "a", "callback-1", 0, at(0))
	behind := join(t, m, "a", "c", 0, at(time.Minute))
	if o := cb.Leave(at(2*time.Minute), queue.Withdrawn); o != queue.Withdrawn || o.String() != "withdrawn" {
		t.Fatalf("Leave: %v", o)
	}
	if cb.Leave(at(3*time.Minute), queue.Abandoned) != queue.Withdrawn || behind.Position() != 1 {
		t.Error("a withdrawn ticket left again, or the caller behind did not move up")
	}
	f := m.Figures(at(3 * time.Minute))[0]
	if f.Waiting != 1 || f.Answered.Count+f.Abandoned.Count+f.TimedOut.Count != 0 {
		t.Errorf("figures count the withdrawn callback: %+v", f)
	}
	if _, err := m.Join("a", "callback-1", 0, at(0)); err != nil {
		t.Errorf("the withdrawn callback cannot join again: %v", err)
	}
}

// TestJoinCallback: a callback holds its caller's place like a caller,
// but its leaving is not counted in the figures (its caller was counted
// timed out when they left a number).
func TestJoinCallback(t *testing.T) {
	m := newManager(t, queue.Config{Name: "a"})
	c := join(t, m, "a", "c", 0, at(2*time.Minute))
	cb, err := m.JoinCallback("a", "callback-1", 0, at(0))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Position() != 1 || c.Position() != 2 || !cb.Joined().Equal(at(0)) {
		t.Errorf("positions callback %d, caller %d", cb.Position(), c.Position())
	}
	if f := m.Figures(at(3 * time.Minute))[0]; f.Waiting != 2 || f.LongestWait != queue.Duration(3*time.Minute) {
		t.Errorf("while waiting: %+v", f)
	}
	if tk, _ := m.Next(at(3*time.Minute), "a"); tk != cb {
		t.Fatalf("Next took %v", tk.CallID())
	}
	c.Leave(at(4*time.Minute), queue.Answered)
	if f := m.Figures(at(4 * time.Minute))[0]; f.Answered.Count != 1 || f.Answered.Max != queue.Duration(2*time.Minute) {
		t.Errorf("the callback's answer counted: %+v", f.Answered)
	}
}
