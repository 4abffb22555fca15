package pgline_test

import (
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// TestDeadNodeOnCall: an agent on a call bridged by a node that is
// killed is taken, once the node's lease ran out, to have ended the
// call: wrap-up (the queue's), then available, the call counted, idle
// since then; the other node's caller is offered to them after the
// wrap-up, not before.
func TestDeadNodeOnCall(t *testing.T) {
	const wrap = 1500 * time.Millisecond
	rs := []agents.Rules{{Queue: "sales", WrapUp: wrap}}
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales")}, rs)
	a, b := ns[0], ns[1]
	_, offers := a.join(t, "sales", "on-a", 0)
	o := offerOf(t, offers, "on-a")
	if !a.line.Answered(o, "101") {
		t.Fatal("on-a not answered")
	}
	until(t, b.line, "101 on the call, on b", func() bool { return state(b, "101") == agents.OnCall })
	killed := time.Now()
	a.line.Kill()
	_, bOffers := b.join(t, "sales", "on-b", 0)
	until(t, b.line, "101 in wrap-up after a died", func() bool { return state(b, "101") == agents.WrapUp })
	freed := time.Now()
	s, _ := b.line.Agent("101")
	t.Logf("101's call ended %v after the kill (TTL 1 s)", freed.Sub(killed).Round(time.Millisecond))
	if s.CallsToday != 1 || s.LastEnded.Before(killed) || s.CallID != "" {
		t.Errorf("after the node died: %+v; want one call, ended after the kill, no call id", s)
	}
	select {
	case o := <-bOffers:
		t.Fatalf("on-b offered during the wrap-up: %v", ids(o))
	case <-time.After(wrap / 2):
	}
	o = offerOf(t, bOffers, "on-b")
	if waited := time.Since(s.LastEnded); waited < wrap {
		t.Errorf("on-b offered %v after the call ended; want the wrap-up, %v, first", waited, wrap)
	}
	if !b.line.Answered(o, "101") {
		t.Fatal("on-b not answered")
	}
}
