package queue

import (
	"testing"
	"time"
)

// TestWaiters: the callers waiting come queue by queue in the order they
// will be served (priority first), with their waits and estimates; those
// who left are gone.
func TestWaiters(t *testing.T) {
	m, err := NewManager([]Config{{Name: "a", InitialEstimate: 30 * time.Second}, {Name: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	join := func(q, id string, prio int, at time.Duration) *Ticket {
		t.Helper()
		tk, err := m.Join(q, id, prio, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	join("a", "1", 0, 0)
	left := join("a", "2", 0, time.Second)
	join("a", "3", 5, 2*time.Second)
	join("b", "4", 0, 3*time.Second)
	left.Leave(t0.Add(4*time.Second), Abandoned)
	got := m.Waiters(t0.Add(10 * time.Second))
	want := []Waiter{
		{Queue: "a", CallID: "3", Position: 1, Priority: 5, Joined: t0.Add(2 * time.Second), Waited: Duration(8 * time.Second), Estimate: Duration(30 * time.Second)},
		{Queue: "a", CallID: "1", Position: 2, Joined: t0, Waited: Duration(10 * time.Second), Estimate: Duration(60 * time.Second)},
		{Queue: "b", CallID: "4", Position: 1, Joined: t0.Add(3 * time.Second), Waited: Duration(7 * time.Second)},
	}
	if len(got) != len(want) {
		t.Fatalf("waiters %+v, want %+v", got, want)
	}
	for i := range want {
		w := want[i]
		if got[i].Queue != w.Queue || got[i].CallID != w.CallID || got[i].Position != w.Position || got[i].Priority != w.Priority ||
			!got[i].Joined.Equal(w.Joined) || got[i].Waited != w.Waited || (w.Estimate != 0 && got[i].Estimate != w.Estimate) {
			t.Errorf("waiter %d: %+v, want %+v", i, got[i], w)
		}
	}
}
