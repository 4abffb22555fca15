package pgline_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// The distribution rules of the board (flows/agents) hold across nodes:
// the decision that runs on whichever node follows them on the rows.
// Callers join through both nodes; each test checks the agents offered.

// offerOf waits, bounded, for the next offer on ch.
func offerOf(t *testing.T, ch <-chan agents.Offer, who string) agents.Offer {
	t.Helper()
	select {
	case o, ok := <-ch:
		if !ok {
			t.Fatalf("%s left without an offer", who)
		}
		return o
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no offer within 10 s", who)
	}
	return agents.Offer{}
}

// noOffer runs a decision on each node and checks that ch has no offer.
func noOffer(t *testing.T, ns []*node, ch <-chan agents.Offer, who string) {
	t.Helper()
	for _, n := range ns {
		if err := n.line.Decide(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case o := <-ch:
		t.Fatalf("%s offered to %v", who, ids(o))
	default:
	}
}

func ids(o agents.Offer) []string {
	var out []string
	for _, a := range o.Agents {
		out = append(out, a.ID)
	}
	return out
}

// take answers o as agentID through n and ends the call at once.
func take(t *testing.T, n *node, o agents.Offer, agentID string) {
	t.Helper()
	if !n.line.Answered(o, agentID) {
		t.Fatalf("%s: the answer of %s refused", o.Ticket.CallID(), agentID)
	}
	n.line.Ended(agentID)
}

func state(n *node, id string) agents.State {
	s, _ := n.line.Agent(id)
	return s.State
}

func at(id string, level int, qs ...string) agents.Agent {
	a := fixed(id, qs...)
	for i := range a.Queues {
		a.Queues[i].Level = level
	}
	return a
}

// TestRingAllAcrossNodes: ring_all rings every free agent for a caller
// of either node; the first answer wins, the others are freed, and the
// next caller, on the other node, rings those free.
func TestRingAllAcrossNodes(t *testing.T) {
	rs := []agents.Rules{{Queue: "sales", Strategy: agents.RingAll, WrapUp: -1}}
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales"), fixed("102", "sales"), fixed("103", "sales")}, rs)
	a, b := ns[0], ns[1]
	_, offers := b.join(t, "sales", "c1", 0)
	o := offerOf(t, offers, "c1")
	if got := ids(o); !slices.Equal(got, []string{"101", "102", "103"}) {
		t.Fatalf("c1 rings %v; want all three", got)
	}
	for _, id := range []string{"101", "102", "103"} {
		until(t, a.line, id+" ringing on a", func() bool { return state(a, id) == agents.Ringing })
	}
	if !b.line.Answered(o, "102") {
		t.Fatal("102's answer refused")
	}
	if b.line.Answered(o, "101") {
		t.Fatal("101 answered too")
	}
	b.line.Released(o, "103")
	until(t, a.line, "102 on the call, 101 and 103 free, on a", func() bool {
		return state(a, "102") == agents.OnCall && state(a, "101") == agents.Available && state(a, "103") == agents.Available
	})
	_, offers = a.join(t, "sales", "c2", 0)
	if got := ids(offerOf(t, offers, "c2")); !slices.Equal(got, []string{"101", "103"}) {
		t.Fatalf("c2 rings %v; want 101 and 103 (102 is on a call)", got)
	}
}

// TestRoundRobinAcrossNodes: round_robin goes on from the agent offered
// last, whichever node made the offer, and not to the agent idle the
// longest (101, paused for the first caller, would be longest_idle's).
func TestRoundRobinAcrossNodes(t *testing.T) {
	rs := []agents.Rules{{Queue: "sales", Strategy: agents.RoundRobin, WrapUp: -1}}
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales"), fixed("102", "sales"), fixed("103", "sales")}, rs)
	if err := ns[1].line.Pause("101", "setup"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range 6 {
		n := ns[i%2]
		_, offers := n.join(t, "sales", "rr"+string(rune('a'+i)), 0)
		o := offerOf(t, offers, "caller")
		got = append(got, ids(o)...)
		take(t, n, o, o.Agents[0].ID)
		for _, m := range ns {
			until(t, m.line, "free again", func() bool { return state(m, o.Agents[0].ID) == agents.Available })
		}
		if i == 0 {
			if err := ns[0].line.Ready("101"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := []string{"102", "103", "101", "102", "103", "101"}; !slices.Equal(got, want) {
		t.Errorf("offered in turn %v; want %v", got, want)
	}
}

// TestFewestCallsAcrossNodes: fewest_calls offers the agent with the
// fewest answered calls today, counted over both nodes, even when
// another has been idle longer (what longest_idle would pick).
func TestFewestCallsAcrossNodes(t *testing.T) {
	rs := []agents.Rules{{Queue: "sales", Strategy: agents.FewestCalls, WrapUp: -1}}
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales"), fixed("102", "sales")}, rs)
	a, b := ns[0], ns[1]
	serve := func(n *node, id, want string) {
		t.Helper()
		_, offers := n.join(t, "sales", id, 0)
		o := offerOf(t, offers, id)
		if got := ids(o); !slices.Equal(got, []string{want}) {
			t.Fatalf("%s offered to %v; want %s", id, got, want)
		}
		take(t, n, o, want)
		until(t, a.line, want+" free on a", func() bool { return state(a, want) == agents.Available })
	}
	if err := a.line.Pause("101", "setup"); err != nil {
		t.Fatal(err)
	}
	serve(a, "f1", "102")
	serve(b, "f2", "102") // 102: two calls, one through each node
	if err := b.line.Ready("101"); err != nil {
		t.Fatal(err)
	}
	if err := b.line.Pause("102", "setup"); err != nil {
		t.Fatal(err)
	}
	serve(b, "f3", "101") // 101: one call, ended last
	if err := a.line.Ready("102"); err != nil {
		t.Fatal(err)
	}
	// 102 has been idle longer and has two calls; 101 one.
	serve(a, "f4", "101")
	serve(b, "f5", "102") // 2 and 2: then the longest idle, 102
	for id, want := range map[string]int{"101": 2, "102": 3} {
		if s, _ := b.line.Agent(id); s.CallsToday != want {
			t.Errorf("%s: %d calls today; want %d", id, s.CallsToday, want)
		}
	}
}

// TestLevelsAcrossNodes: a queue's agents of level 2 are offered a
// caller only when no agent of level 1 is free, wherever the callers
// wait; back free, level 1 is offered first again though the level 2
// agent has been idle longer.
func TestLevelsAcrossNodes(t *testing.T) {
	rs := []agents.Rules{{Queue: "sales", WrapUp: -1}}
	ns := nodes(t, 2, []agents.Agent{at("101", 1, "sales"), at("102", 2, "sales")}, rs)
	a, b := ns[0], ns[1]
	_, o1 := a.join(t, "sales", "l1", 0)
	first := offerOf(t, o1, "l1")
	if got := ids(first); !slices.Equal(got, []string{"101"}) {
		t.Fatalf("l1 offered to %v; want level 1, 101", got)
	}
	if !a.line.Answered(first, "101") {
		t.Fatal("101's answer refused")
	}
	_, o2 := b.join(t, "sales", "l2", 0)
	second := offerOf(t, o2, "l2")
	if got := ids(second); !slices.Equal(got, []string{"102"}) {
		t.Fatalf("l2 offered to %v while 101 talks; want level 2, 102", got)
	}
	take(t, b, second, "102")
	a.line.Ended("101") // 101 free after 102
	until(t, b.line, "both free on b", func() bool {
		return state(b, "101") == agents.Available && state(b, "102") == agents.Available
	})
	_, o3 := b.join(t, "sales", "l3", 0)
	if got := ids(offerOf(t, o3, "l3")); !slices.Equal(got, []string{"101"}) {
		t.Fatalf("l3 offered to %v; want level 1 again, 101", got)
	}
}

// TestNuisanceYieldsAcrossNodes (CS-NUISANCE): an agent of a customer
// queue and of the nuisance queue is never offered a nuisance caller
// while a customer waits for them on any node, however long the
// nuisance caller has waited; with no customer left, it is.
func TestNuisanceYieldsAcrossNodes(t *testing.T) {
	rs := []agents.Rules{{Queue: "support", WrapUp: -1}, {Queue: "nuisance", WrapUp: -1}}
	ns := nodes(t, 2, []agents.Agent{fixed("101", "support", "nuisance")}, rs)
	a, b := ns[0], ns[1]
	if err := a.line.Pause("101", "setup"); err != nil {
		t.Fatal(err)
	}
	nk, nOffers := a.join(t, "nuisance", "n1", 0)
	_, s1 := b.join(t, "support", "s1", 0)
	until(t, a.line, "s1 on a", func() bool { return len(order(a, "support")) == 1 })
	if err := b.line.Ready("101"); err != nil {
		t.Fatal(err)
	}
	o := offerOf(t, s1, "s1")
	noOffer(t, ns, nOffers, "n1 (s1 rings)")
	if !b.line.Answered(o, "101") {
		t.Fatal("s1 not answered")
	}
	_, s2 := a.join(t, "support", "s2", 0)
	noOffer(t, ns, nOffers, "n1 (101 talks)")
	b.line.Ended("101")
	o = offerOf(t, s2, "s2") // the customer who joined after n1
	noOffer(t, ns, nOffers, "n1 (s2 rings)")
	take(t, a, o, "101")
	o = offerOf(t, nOffers, "n1")
	if o.Ticket != nk || !slices.Equal(ids(o), []string{"101"}) {
		t.Fatalf("n1's offer: %v", ids(o))
	}
	if nk.Waited(time.Now()) <= 0 || nk.Outcome() != queue.Waiting {
		t.Fatalf("n1: %v", nk.Outcome())
	}
}
