package queue_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestSameInstant: callers who joined at the same instant are in the
// order of their call ids, whichever reached the Manager first, so
// every node of a hotline and its database agree (issue 17).
func TestSameInstant(t *testing.T) {
	m := newManager(t, queue.Config{Name: "sales"}, queue.Config{Name: "support"})
	var ts []*queue.Ticket
	for _, id := range []string{"c", "a", "B", "b"} {
		ts = append(ts, join(t, m, "sales", id, 0, at(0)))
	}
	// Bytewise: "B" before "a".
	if got, want := positions(ts), []int{4, 2, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("positions of c, a, B, b: %v; want %v", got, want)
	}
	other := join(t, m, "support", "A", 0, at(0))
	if !other.Before(ts[1]) || ts[1].Before(other) {
		t.Error(`across queues, "A" is not served before "a" that joined at the same instant`)
	}
	if got := nextIDs(t, m, at(time.Minute), "sales"); !slices.Equal(got, []string{"B", "a", "b", "c"}) {
		t.Errorf("served %v; want [B a b c]", got)
	}
}

// TestSharedRecent: once SetRecent feeds a queue, its estimate and
// average rest on the samples given, its own answered callers no longer
// enter them (they are handed back with the others), and its counts stay
// its own.
func TestSharedRecent(t *testing.T) {
	m := newManager(t, queue.Config{Name: "q", Window: 3})
	if got := m.Window("q"); got != 3 {
		t.Errorf("Window = %d; want 3", got)
	}
	if got := m.Window("none"); got != 0 {
		t.Errorf("Window of an unknown queue = %d; want 0", got)
	}
	a := join(t, m, "q", "a", 0, at(0))
	b := join(t, m, "q", "b", 0, at(0))
	if _, ok := a.Sample(); ok {
		t.Error("a waiting caller has a sample")
	}
	a.Leave(at(40*time.Second), queue.Answered)
	b.Leave(at(50*time.Second), queue.Abandoned)
	if s, ok := a.Sample(); !ok || s != (queue.Sample{Wait: 40 * time.Second, Place: 1}) {
		t.Errorf("a's sample %+v, %v; want 40s at place 1", s, ok)
	}
	if _, ok := b.Sample(); ok {
		t.Error("an abandoned caller has a sample")
	}
	cb, err := m.JoinCallback("q", "callback-1", 0, at(0))
	if err != nil {
		t.Fatal(err)
	}
	cb.Leave(at(time.Minute), queue.Answered)
	if _, ok := cb.Sample(); ok {
		t.Error("a callback's place has a sample")
	}

	// Four samples, window 3: the oldest is dropped. 30+60+90 over 1+2+3.
	samples := []queue.Sample{{Wait: time.Hour, Place: 1}, {Wait: 30 * time.Second, Place: 1},
		{Wait: 60 * time.Second, Place: 2}, {Wait: 90 * time.Second, Place: 3}}
	if err := m.SetRecent("q", samples); err != nil {
		t.Fatal(err)
	}
	c := join(t, m, "q", "c", 0, at(2*time.Minute))
	d := join(t, m, "q", "d", 0, at(2*time.Minute))
	if w, real := d.Estimate(); w != 60*time.Second || !real {
		t.Errorf("d at 2: %v, %v; want 60s (30 s a place), real", w, real)
	}
	c.Leave(at(3*time.Minute), queue.Answered) // not in the window: SetRecent's caller hands it back
	if w := d.EstimatedWait(); w != 30*time.Second {
		t.Errorf("d at 1 after c was answered: %v; want 30s", w)
	}
	f := m.Figures(at(3 * time.Minute))[0]
	if f.AverageWait != queue.Duration(time.Minute) || f.Answered.Count != 2 {
		t.Errorf("figures: average %v, answered %d; want 1m0s (the samples'), 2 (this Manager's: a and c)", f.AverageWait, f.Answered.Count)
	}
	if err := m.SetRecent("q", nil); err != nil {
		t.Fatal(err)
	}
	if w, real := d.Estimate(); w != queue.DefaultInitialEstimate || real {
		t.Errorf("no samples: %v, %v; want the initial estimate, not real", w, real)
	}
	if err := m.SetRecent("none", nil); err == nil {
		t.Error("SetRecent of an unknown queue: no error")
	}
}
