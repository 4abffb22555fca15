package queue_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func newManager(t testing.TB, cfgs ...queue.Config) *queue.Manager {
	t.Helper()
	m, err := queue.NewManager(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func join(t testing.TB, m *queue.Manager, q, id string, prio int, now time.Time) *queue.Ticket {
	t.Helper()
	tk, err := m.Join(q, id, prio, now)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func positions(ts []*queue.Ticket) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = t.Position()
	}
	return out
}

// nextIDs empties the named queues through Next and returns the call ids
// in the order served.
func nextIDs(t *testing.T, m *queue.Manager, now time.Time, names ...string) []string {
	t.Helper()
	var ids []string
	for {
		tk, err := m.Next(now, names...)
		if err != nil {
			t.Fatal(err)
		}
		if tk == nil {
			return ids
		}
		if tk.Outcome() != queue.Answered || tk.Position() != 0 {
			t.Fatalf("%s taken by Next: outcome %v, position %d", tk.CallID(), tk.Outcome(), tk.Position())
		}
		ids = append(ids, tk.CallID())
	}
}

func TestOrder(t *testing.T) {
	type caller struct {
		id   string
		prio int
	}
	for _, tc := range []struct {
		name    string
		callers []caller // joined one second apart, in this order
		pos     []int    // Position of each, in joining order
		served  []string
	}{
		{"fifo", []caller{{"a", 0}, {"b", 0}, {"c", 0}}, []int{1, 2, 3}, []string{"a", "b", "c"}},
		{"priority", []caller{{"a", 0}, {"b", 5}, {"c", 9}}, []int{3, 2, 1}, []string{"c", "b", "a"}},
		{"fifo within priority", []caller{{"a", 1}, {"b", 2}, {"c", 1}, {"d", 2}, {"e", 0}},
			[]int{3, 1, 4, 2, 5}, []string{"b", "d", "a", "c", "e"}},
		{"negative priority", []caller{{"a", -1}, {"b", 0}, {"c", -1}}, []int{2, 1, 3}, []string{"b", "a", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, queue.Config{Name: "sales"})
			var ts []*queue.Ticket
			for i, c := range tc.callers {
				ts = append(ts, join(t, m, "sales", c.id, c.prio, at(time.Duration(i)*time.Second)))
			}
			if got := positions(ts); !slices.Equal(got, tc.pos) {
				t.Errorf("positions %v; want %v", got, tc.pos)
			}
			if got := nextIDs(t, m, at(time.Minute)); !slices.Equal(got, tc.served) {
				t.Errorf("served %v; want %v", got, tc.served)
			}
		})
	}
}

func TestPositionsShift(t *testing.T) {
	m := newManager(t, queue.Config{Name: "sales"})
	a := join(t, m, "sales", "a", 0, at(0))
	b := join(t, m, "sales", "b", 0, at(1*time.Second))
	c := join(t, m, "sales", "c", 0, at(2*time.Second))
	d := join(t, m, "sales", "d", 0, at(3*time.Second))
	ca, cb, cc, cd := a.Changed(), b.Changed(), c.Changed(), d.Changed()

	if o := b.Leave(at(10*time.Second), queue.Abandoned); o != queue.Abandoned {
		t.Fatalf("Leave = %v", o)
	}
	if got := positions([]*queue.Ticket{a, b, c, d}); !slices.Equal(got, []int{1, 0, 1 + 1, 3}) {
		t.Fatalf("after b left: %v", got)
	}
	for name, ch := range map[string]<-chan struct{}{"b (left)": cb, "c": cc, "d": cd} {
		if !isClosed(ch) {
			t.Errorf("Changed of %s did not fire", name)
		}
	}
	if isClosed(ca) {
		t.Error("Changed of a fired, though nobody ahead of it moved")
	}
	if !isClosed(b.Changed()) {
		t.Error("Changed of a ticket that left is not closed")
	}

	// A caller of higher priority goes ahead of everyone: all move.
	cc, cd = c.Changed(), d.Changed()
	vip := join(t, m, "sales", "vip", 9, at(20*time.Second))
	if got := positions([]*queue.Ticket{vip, a, c, d}); !slices.Equal(got, []int{1, 2, 3, 4}) {
		t.Fatalf("after vip joined: %v", got)
	}
	if !isClosed(ca) || !isClosed(cc) || !isClosed(cd) {
		t.Error("Changed did not fire for the callers the vip went ahead of")
	}

	// A caller joining at the back moves nobody.
	ca, cc = a.Changed(), c.Changed()
	join(t, m, "sales", "e", 0, at(21*time.Second))
	if isClosed(ca) || isClosed(cc) {
		t.Error("Changed fired for a caller joining behind")
	}

	// The agent takes the head: the others move up and learn it.
	cv := vip.Changed()
	if tk, _ := m.Next(at(30 * time.Second)); tk != vip {
		t.Fatalf("Next took %v; want vip", tk.CallID())
	}
	if !isClosed(cv) || vip.Outcome() != queue.Answered {
		t.Error("the vip's ticket does not show it was taken")
	}
	if !isClosed(ca) || !isClosed(cc) || a.Position() != 1 || c.Position() != 2 {
		t.Errorf("after Next: a at %d, c at %d", a.Position(), c.Position())
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestLeaveIdempotent(t *testing.T) {
	m := newManager(t, queue.Config{Name: "sales"})
	a := join(t, m, "sales", "a", 0, at(0))
	b := join(t, m, "sales", "b", 0, at(0))
	if got := a.Leave(at(5*time.Second), queue.Abandoned); got != queue.Abandoned {
		t.Fatalf("first Leave = %v", got)
	}
	if got := a.Leave(at(9*time.Second), queue.Answered); got != queue.Abandoned {
		t.Errorf("second Leave = %v; want the first outcome", got)
	}
	// An agent takes b; b's caller hangs up at the same moment.
	if tk, _ := m.Next(at(7 * time.Second)); tk != b {
		t.Fatal("Next did not take b")
	}
	if got := b.Leave(at(7*time.Second), queue.Abandoned); got != queue.Answered {
		t.Errorf("hang-up after Next = %v; want answered", got)
	}
	if a.Waited(at(time.Hour)) != 5*time.Second || a.Position() != 0 || a.EstimatedWait() != 0 || a.Expired(at(time.Hour)) {
		t.Errorf("after leaving: waited %v, position %d, estimate %v", a.Waited(at(time.Hour)), a.Position(), a.EstimatedWait())
	}
	f := m.Figures(at(time.Hour))[0]
	if f.Waiting != 0 || f.Answered.Count != 1 || f.Abandoned.Count != 1 || f.Abandoned.Total != queue.Duration(5*time.Second) {
		t.Errorf("figures %+v", f)
	}
	// The call may queue again once it has left.
	if _, err := m.Join("sales", "a", 0, at(time.Hour)); err != nil {
		t.Errorf("rejoin: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Leave(Waiting) did not panic")
		}
	}()
	b.Leave(at(time.Hour), queue.Waiting)
}

func TestYieldingQueue(t *testing.T) {
	m := newManager(t,
		queue.Config{Name: "sales"},
		queue.Config{Name: "support"},
		queue.Config{Name: "nuisance", Yields: true},
	)
	// The nuisance caller came first and even carries a high priority.
	join(t, m, "nuisance", "n1", 99, at(0))
	join(t, m, "sales", "s1", 0, at(time.Minute))
	join(t, m, "support", "p1", 0, at(2*time.Minute))
	join(t, m, "support", "p2", 1, at(3*time.Minute))
	if got, want := nextIDs(t, m, at(4*time.Minute)), []string{"p2", "s1", "p1", "n1"}; !slices.Equal(got, want) {
		t.Errorf("served %v; want %v", got, want)
	}

	join(t, m, "nuisance", "n2", 0, at(5*time.Minute))
	join(t, m, "sales", "s2", 0, at(6*time.Minute))
	if tk, _ := m.Next(at(7*time.Minute), "support", "nuisance"); tk == nil || tk.CallID() != "n2" {
		t.Errorf("an agent of support and nuisance got %v; want n2 (sales was not asked)", tk)
	}
	if tk, _ := m.Next(at(7*time.Minute), "support"); tk != nil {
		t.Errorf("an agent of support got %s from an empty queue", tk.CallID())
	}
}

func TestMaxWait(t *testing.T) {
	m := newManager(t, queue.Config{Name: "sales", MaxWait: 3 * time.Minute}, queue.Config{Name: "open"})
	a := join(t, m, "sales", "a", 0, at(0))
	if d, ok := a.Deadline(); !ok || !d.Equal(at(3*time.Minute)) {
		t.Errorf("Deadline = %v, %v", d, ok)
	}
	for _, tc := range []struct {
		at      time.Duration
		expired bool
	}{{0, false}, {179 * time.Second, false}, {3 * time.Minute, true}, {time.Hour, true}} {
		if got := a.Expired(at(tc.at)); got != tc.expired {
			t.Errorf("Expired at %v = %v", tc.at, got)
		}
	}
	a.Leave(at(3*time.Minute), queue.TimedOut)
	if a.Expired(at(time.Hour)) {
		t.Error("Expired after leaving")
	}
	f := m.Figures(at(time.Hour))[0]
	if f.TimedOut.Count != 1 || f.TimedOut.Max != queue.Duration(3*time.Minute) || f.MaxWait != queue.Duration(3*time.Minute) {
		t.Errorf("figures %+v", f)
	}

	b := join(t, m, "open", "b", 0, at(0))
	if _, ok := b.Deadline(); ok || b.Expired(at(1000*time.Hour)) {
		t.Error("a queue without MaxWait expires")
	}
}

func TestErrors(t *testing.T) {
	m := newManager(t, queue.Config{Name: "sales"}, queue.Config{Name: "support"})
	if _, err := m.Join("salse", "a", 0, t0); !errors.Is(err, queue.ErrUnknownQueue) {
		t.Errorf("Join to an unknown queue: %v", err)
	}
	if _, err := m.Next(t0, "sales", "salse"); !errors.Is(err, queue.ErrUnknownQueue) {
		t.Errorf("Next from an unknown queue: %v", err)
	}
	if _, err := m.Join("sales", "", 0, t0); !errors.Is(err, queue.ErrNoCallID) {
		t.Errorf("Join without a call id: %v", err)
	}
	join(t, m, "sales", "a", 0, t0)
	if _, err := m.Join("support", "a", 0, t0); !errors.Is(err, queue.ErrAlreadyQueued) {
		t.Errorf("Join of a call already waiting: %v", err)
	}
	if !m.Has("sales") || m.Has("salse") {
		t.Error("Has")
	}

	for _, tc := range []struct {
		name string
		cfgs []queue.Config
	}{
		{"no name", []queue.Config{{}}},
		{"twice", []queue.Config{{Name: "a"}, {Name: "a"}}},
		{"negative max wait", []queue.Config{{Name: "a", MaxWait: -time.Second}}},
		{"negative window", []queue.Config{{Name: "a", Window: -1}}},
		{"huge window", []queue.Config{{Name: "a", Window: queue.MaxWindow + 1}}},
		{"negative estimate", []queue.Config{{Name: "a", InitialEstimate: -time.Second}}},
	} {
		if _, err := queue.NewManager(tc.cfgs); err == nil {
			t.Errorf("%s: NewManager accepted %+v", tc.name, tc.cfgs)
		}
	}
}

func TestSpokenMinutes(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{
		{-time.Minute, 1}, {0, 1}, {time.Second, 1}, {time.Minute, 1},
		{time.Minute + time.Nanosecond, 2}, {150 * time.Second, 3}, {10 * time.Minute, 10},
	} {
		if got := queue.SpokenMinutes(tc.d); got != tc.want {
			t.Errorf("SpokenMinutes(%v) = %d; want %d", tc.d, got, tc.want)
		}
	}
}

// Example shows the hold announcement a flow reads out on each period.
func Example() {
	m, _ := queue.NewManager([]queue.Config{{Name: "support", InitialEstimate: 45 * time.Second}})
	join := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m.Join("support", "call-1", 0, join)
	tk, _ := m.Join("support", "call-2", 0, join) // no history yet: 2 × 45 s
	fmt.Printf("You are number %d in line; about %d min.\n", tk.Position(), queue.SpokenMinutes(tk.EstimatedWait()))
	m.Next(join.Add(time.Minute)) // call-1 answered after 60 s: one place takes 60 s
	fmt.Printf("You are number %d in line; about %d min.\n", tk.Position(), queue.SpokenMinutes(tk.EstimatedWait()))
	// Output:
	// You are number 2 in line; about 2 min.
	// You are number 1 in line; about 1 min.
}
