package queue_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

func figuresOf(m *queue.Manager, now time.Time) map[string]queue.Figures {
	out := map[string]queue.Figures{}
	for _, f := range m.Figures(now) {
		out[f.Queue] = f
	}
	return out
}

func queueNames(m *queue.Manager) []string {
	var out []string
	for _, f := range m.Figures(t0) {
		out = append(out, f.Queue)
	}
	return out
}

// TestReconfigureKeepsCallers is issue 16's reload bug: a reload that
// changes a queue's settings keeps its waiting callers, their tickets and
// its figures, and counts their abandonment.
func TestReconfigureKeepsCallers(t *testing.T) {
	m := newManager(t, queue.Config{Name: "customers", MaxWait: time.Minute}, queue.Config{Name: "spare"})
	done := join(t, m, "customers", "done", 0, at(0))
	done.Leave(at(30*time.Second), queue.Answered)
	a := join(t, m, "customers", "a", 0, at(time.Minute))
	b := join(t, m, "customers", "b", 0, at(time.Minute+time.Second))
	changed := b.Changed()

	if err := m.Reconfigure([]queue.Config{{Name: "new"}, {Name: "customers", MaxWait: 5 * time.Minute, Window: 5}}); err != nil {
		t.Fatal(err)
	}
	if got := queueNames(m); !slices.Equal(got, []string{"new", "customers"}) {
		t.Errorf("queues after reload %v; want [new customers] (spare had nobody: gone at once)", got)
	}
	f := figuresOf(m, at(2*time.Minute))["customers"]
	if f.Waiting != 2 || f.Answered.Count != 1 || f.MaxWait != queue.Duration(5*time.Minute) || f.AverageWait != queue.Duration(30*time.Second) {
		t.Errorf("customers after reload: %+v", f)
	}
	if d, ok := a.Deadline(); !ok || !d.Equal(at(6*time.Minute)) {
		t.Errorf("deadline after reload %v %v; want the new max wait from the join", d, ok)
	}
	if a.Position() != 1 || b.Position() != 2 {
		t.Errorf("positions %d %d", a.Position(), b.Position())
	}
	if isClosed(changed) {
		t.Error("a reload moved nobody, yet Changed fired")
	}
	a.Leave(at(3*time.Minute), queue.Abandoned)
	if !isClosed(changed) || b.Position() != 1 {
		t.Error("the old ticket does not follow its queue after a reload")
	}
	if f := figuresOf(m, at(3*time.Minute))["customers"]; f.Abandoned.Count != 1 {
		t.Errorf("abandonment after reload not counted: %+v", f.Abandoned)
	}
	if !m.Has("new") || m.Has("spare") {
		t.Error("Has does not follow the reload")
	}
}

// TestReconfigureDrains: a removed queue keeps its callers until they
// leave, takes nobody new, is reported as draining, then is gone.
func TestReconfigureDrains(t *testing.T) {
	m := newManager(t, queue.Config{Name: "gone"}, queue.Config{Name: "stays"})
	x := join(t, m, "gone", "x", 0, at(0))
	y := join(t, m, "gone", "y", 0, at(time.Second))
	if err := m.Reconfigure([]queue.Config{{Name: "stays"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Join("gone", "z", 0, at(2*time.Second)); !errors.Is(err, queue.ErrUnknownQueue) {
		t.Errorf("join a draining queue: %v; want ErrUnknownQueue", err)
	}
	if m.Has("gone") {
		t.Error("Has reports a removed queue")
	}
	f, ok := figuresOf(m, at(time.Minute))["gone"]
	if !ok || !f.Draining || f.Waiting != 2 {
		t.Fatalf("draining queue's figures %+v %v", f, ok)
	}
	if got := queueNames(m); !slices.Equal(got, []string{"stays", "gone"}) {
		t.Errorf("order %v; the draining queue comes last", got)
	}
	x.Leave(at(time.Minute), queue.Abandoned)
	if f := figuresOf(m, at(time.Minute))["gone"]; f.Abandoned.Count != 1 || f.Waiting != 1 {
		t.Errorf("draining queue's abandonment: %+v", f)
	}
	if tk, err := m.Next(at(time.Minute), "gone"); err != nil || tk != y {
		t.Errorf("Next from a draining queue: %v %v", tk, err)
	}
	if got := queueNames(m); !slices.Equal(got, []string{"stays"}) {
		t.Errorf("after the last caller left: %v", got)
	}
	if _, err := m.Next(at(time.Minute), "gone"); !errors.Is(err, queue.ErrUnknownQueue) {
		t.Errorf("the drained queue is still known: %v", err)
	}
}

// TestReconfigureRevives: a draining queue configured again stays, with
// its callers; a bad configuration changes nothing.
func TestReconfigureRevives(t *testing.T) {
	m := newManager(t, queue.Config{Name: "q"}, queue.Config{Name: "n", Yields: true})
	join(t, m, "q", "a", 0, at(0))
	if err := m.Reconfigure(nil); err != nil {
		t.Fatal(err)
	}
	if err := m.Reconfigure([]queue.Config{{Name: "q", Yields: true}}); err != nil {
		t.Fatal(err)
	}
	if f := figuresOf(m, t0)["q"]; f.Draining || f.Waiting != 1 || !f.Yields {
		t.Errorf("revived queue %+v", f)
	}
	if _, err := m.Join("q", "b", 0, t0); err != nil {
		t.Error(err)
	}
	for _, bad := range [][]queue.Config{{{Name: "q"}, {Name: "q"}}, {{Name: ""}}, {{Name: "q", Window: -1}}} {
		if err := m.Reconfigure(bad); err == nil {
			t.Errorf("Reconfigure(%v) accepted", bad)
		}
	}
	if got := queueNames(m); !slices.Equal(got, []string{"q"}) {
		t.Errorf("a refused reload changed the queues: %v", got)
	}
}

// TestReconfigureWindow: a smaller window keeps the most recent waits.
func TestReconfigureWindow(t *testing.T) {
	m := newManager(t, queue.Config{Name: "q", Window: 4})
	now := t0
	for _, w := range []int{10, 20, 30, 40, 50, 60} { // the ring has wrapped
		now = answer(t, m, now, sample{pos: 1, wait: time.Duration(w) * time.Second})
	}
	if err := m.Reconfigure([]queue.Config{{Name: "q", Window: 2}}); err != nil {
		t.Fatal(err)
	}
	if f := figuresOf(m, now)["q"]; f.AverageWait != queue.Duration(55*time.Second) {
		t.Errorf("average after shrinking to 2: %v; want 55s (50 and 60)", f.AverageWait)
	}
	if err := m.Reconfigure([]queue.Config{{Name: "q", Window: 10}}); err != nil {
		t.Fatal(err)
	}
	now = answer(t, m, now, sample{pos: 1, wait: 70 * time.Second})
	if f := figuresOf(m, now)["q"]; f.AverageWait != queue.Duration(60*time.Second) {
		t.Errorf("average after growing to 10: %v; want 60s (50, 60, 70)", f.AverageWait)
	}
}

// TestHeads: the first offerable caller and the waiting count of several
// queues at once, skipping what the dispatcher says.
func TestHeads(t *testing.T) {
	m := newManager(t, queue.Config{Name: "a"}, queue.Config{Name: "b"}, queue.Config{Name: "n", Yields: true})
	a1 := join(t, m, "a", "a1", 0, at(0))
	a2 := join(t, m, "a", "a2", 0, at(time.Second))
	a3 := join(t, m, "a", "a3", 5, at(2*time.Second))
	n1 := join(t, m, "n", "n1", 0, at(3*time.Second))
	offered := map[*queue.Ticket]bool{a3: true}
	skip := func(t *queue.Ticket) bool { return offered[t] }
	hs := m.Heads([]string{"a", "b", "n", "nope"}, skip, nil)
	want := []queue.Head{{Waiting: 3, First: a1}, {}, {Waiting: 1, First: n1, Yields: true}, {}}
	if !slices.Equal(hs, want) {
		t.Errorf("Heads = %+v; want %+v", hs, want)
	}
	if hs := m.Heads([]string{"a"}, nil, hs[:0]); hs[0].First != a3 {
		t.Errorf("without skip the head is the high priority a3, got %v", hs[0].First.CallID())
	}
	if !a3.Before(a1) || !a1.Before(a2) || !a1.Before(n1) || n1.Before(a2) || a3.Priority() != 5 {
		t.Error("Before does not follow priority then join order across queues")
	}
}

// TestOnLeave: the hook sees every leaving ticket once, outside the lock.
func TestOnLeave(t *testing.T) {
	m := newManager(t, queue.Config{Name: "a"})
	var seen []string
	m.OnLeave(func(t *queue.Ticket) {
		seen = append(seen, t.CallID()+":"+t.Outcome().String()) // calls the Manager: no deadlock
	})
	x := join(t, m, "a", "x", 0, t0)
	join(t, m, "a", "y", 0, t0)
	x.Leave(t0, queue.Abandoned)
	x.Leave(t0, queue.Answered)
	if _, err := m.Next(t0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Next(t0); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"x:abandoned", "y:answered"}) {
		t.Errorf("hook saw %v", seen)
	}
}
