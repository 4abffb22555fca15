package pgline_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// figures is the named queue's figures on n.
func figures(n *node, q string) queue.Figures {
	for _, f := range n.qm.Figures(time.Now()) {
		if f.Queue == q {
			return f
		}
	}
	return queue.Figures{}
}

// answered has a caller join through n, having waited about waited, and
// leave Answered (as when an agent answers); it returns the sample its
// node took.
func (n *node) answered(t testing.TB, q, id string, waited time.Duration) queue.Sample {
	t.Helper()
	tk, err := n.qm.Join(q, id, 0, time.Now().Add(-waited))
	if err != nil {
		t.Fatal(err)
	}
	n.line.Wait(tk)
	tk.Leave(time.Now(), queue.Answered)
	s, ok := tk.Sample()
	if !ok {
		t.Fatalf("%s: no sample", id)
	}
	return s
}

// waiters is the queue's callers on n as call id → the estimate n
// quotes at their position.
func waiters(n *node, q string) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, w := range n.qm.Waiters(time.Now()) {
		if w.Queue == q {
			out[fmt.Sprintf("%s@%d", w.CallID, w.Position)] = time.Duration(w.Estimate)
		}
	}
	return out
}

// TestSharedEstimate (CS-QUEUE): the answered callers of both nodes make
// one estimate. One answered on a after 90 s, one on b after 30 s: both
// nodes quote 60 s a place (each alone would quote 90 or 30), so the
// callers at positions 1 and 2 hear the same wait on the node that holds
// them as the other node computes for them, and a new caller is quoted
// the same everywhere.
func TestSharedEstimate(t *testing.T) {
	ns := nodes(t, 2, nil, nil)
	a, b := ns[0], ns[1]
	sa := a.answered(t, "sales", "done-a", 90*time.Second)
	sb := b.answered(t, "sales", "done-b", 30*time.Second)
	per := (sa.Wait + sb.Wait) / time.Duration(sa.Place+sb.Place)
	for _, n := range ns {
		until(t, n.line, "both samples on "+n.line.Node(), func() bool {
			return figures(n, "sales").AverageWait == queue.Duration((sa.Wait+sb.Wait)/2)
		})
	}
	if fa, fb := figures(a, "sales"), figures(b, "sales"); fa.Answered.Count != 1 || fb.Answered.Count != 1 {
		t.Errorf("answered counts %d and %d; want each node's own, 1 and 1", fa.Answered.Count, fb.Answered.Count)
	}
	x, _ := a.join(t, "sales", "x", 0)
	y, _ := b.join(t, "sales", "y", 0)
	want := map[string]time.Duration{"x@1": per, "y@2": 2 * per}
	for _, n := range ns {
		until(t, n.line, "x and y on "+n.line.Node(), func() bool { return len(waiters(n, "sales")) == 2 })
		if got := waiters(n, "sales"); !mapsEqual(got, want) {
			t.Errorf("%s quotes %v; want %v", n.line.Node(), got, want)
		}
	}
	for _, tk := range []*queue.Ticket{x, y} {
		if w, real := tk.Estimate(); !real || w != time.Duration(tk.Position())*per {
			t.Errorf("%s hears %v (real %v); want %v", tk.CallID(), w, real, time.Duration(tk.Position())*per)
		}
	}
	if fa, fb := figures(a, "sales"), figures(b, "sales"); fa.EstimatedWait != fb.EstimatedWait || time.Duration(fa.EstimatedWait) != 3*per {
		t.Errorf("a new caller quoted %v on a, %v on b; want %v (a: %v, b: %v)", fa.EstimatedWait, fb.EstimatedWait, 3*per,
			a.qm.Waiters(time.Now()), b.qm.Waiters(time.Now()))
	}
}

func mapsEqual(a, b map[string]time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestSamplesPropagate: an answered caller's sample is in the other
// node's estimate within a notification's time (logged: p50, p90, max),
// and the table keeps two windows of a queue's samples.
func TestSamplesPropagate(t *testing.T) {
	ns := nodes(t, 2, nil, nil)
	a, b := ns[0], ns[1]
	var lat []time.Duration
	var waits []time.Duration
	for i := range 40 {
		start := time.Now()
		s := a.answered(t, "support", fmt.Sprintf("s%d", i), time.Duration(i+1)*time.Second)
		waits = append(waits, s.Wait)
		var sum time.Duration
		recent := waits[max(len(waits)-queue.DefaultWindow, 0):]
		for _, w := range recent {
			sum += w
		}
		want := queue.Duration(sum / time.Duration(len(recent)))
		until(t, b.line, "the sample on b", func() bool { return figures(b, "support").AverageWait == want })
		lat = append(lat, time.Since(start))
		until(t, a.line, "the sample on a", func() bool { return figures(a, "support").AverageWait == want })
	}
	slices.Sort(lat)
	t.Logf("answered on a → in b's estimate (join, leave and insert included): p50 %v, p90 %v, max %v",
		lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1])
	if p90 := lat[len(lat)*9/10]; p90 > 150*time.Millisecond {
		t.Errorf("p90 %v: slower than a notification", p90)
	}
	if got, err := a.line.StoredSamples(t.Context(), "support"); err != nil || got != 2*queue.DefaultWindow {
		t.Errorf("samples kept: %d, %v; want two windows, %d", got, err, 2*queue.DefaultWindow)
	}
}
