package pgline_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// TestSameInstant: four callers joining through two nodes at the same
// nanosecond are in call-id order (bytewise: upper case first) on both
// nodes and in the database, each at a position of their own, and are
// offered in that order.
func TestSameInstant(t *testing.T) {
	rs := []agents.Rules{{Queue: "sales", WrapUp: -1}}
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales")}, rs)
	a, b := ns[0], ns[1]
	if c, err := a.line.CallIDCollation(t.Context()); err != nil || c != "C" {
		t.Fatalf("call_id collation %q, %v; want C (bytewise, as Go compares)", c, err)
	}
	if err := a.line.Pause("101", "setup"); err != nil {
		t.Fatal(err)
	}
	instant := time.Now().Truncate(time.Second)
	offers := map[string]<-chan agents.Offer{}
	owner := map[string]*node{}
	for i, id := range []string{"b-1", "A-2", "a-1", "B-2"} { // a, b, a, b
		n := ns[i%2]
		tk, err := n.qm.Join("sales", id, 0, instant)
		if err != nil {
			t.Fatal(err)
		}
		offers[id], owner[id] = n.line.Wait(tk), n
	}
	want := []string{"A-2@1", "B-2@2", "a-1@3", "b-1@4"}
	for _, n := range ns {
		until(t, n.line, "the same order on "+n.line.Node(), func() bool { return slices.Equal(order(n, "sales"), want) })
	}
	for i, id := range []string{"A-2", "B-2", "a-1", "b-1"} {
		if p, err := a.line.Position(t.Context(), id); err != nil || p != i+1 {
			t.Errorf("%s at %d in the database (%v); want %d", id, p, err, i+1)
		}
	}
	if err := b.line.Ready("101"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"A-2", "B-2", "a-1", "b-1"} {
		take(t, owner[id], offerOf(t, offers[id], id), "101")
	}
}
