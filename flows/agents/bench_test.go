package agents_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// benchBoard is issue 12's figure: 200 agents over five queues (one the
// nuisance queue), each in two or three of them at two levels; 100 of
// them on calls, 100 ringing for the first callers, and 1,000 more
// callers waiting across the queues at three priorities.
type benchBoard struct {
	qm     *queue.Manager
	b      *agents.Board
	offers map[string]<-chan agents.Offer // by call id
	onCall []string                       // agents on a call
	seq    int
}

func newBenchBoard(tb testing.TB) *benchBoard {
	qs := []queue.Config{{Name: "q0"}, {Name: "q1"}, {Name: "q2"}, {Name: "q3"}, {Name: "n", Yields: true}}
	qm, err := queue.NewManager(qs)
	if err != nil {
		tb.Fatal(err)
	}
	var as []agents.Agent
	for i := range 200 {
		id := fmt.Sprint(10000 + i)
		ms := []agents.Membership{{Queue: qs[i%4].Name, Level: 1}, {Queue: qs[(i+1)%4].Name, Level: 2}}
		if i%3 == 0 {
			ms = append(ms, agents.Membership{Queue: "n"})
		}
		as = append(as, agents.Agent{ID: id, Contact: "sip:" + id + "@pbx", Queues: ms})
	}
	b, err := agents.NewBoard(qm, as, []agents.Rules{{Queue: "q0", WrapUp: -1}, {Queue: "q1", WrapUp: -1}, {Queue: "q2", WrapUp: -1}, {Queue: "q3", WrapUp: -1}, {Queue: "n", WrapUp: -1}}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	bb := &benchBoard{qm: qm, b: b, offers: map[string]<-chan agents.Offer{}}
	for i := range 1200 {
		// The first 200 are offered at once: half are answered.
		o, ok := bb.join(tb, qs[i%5].Name, i%3)
		if !ok {
			continue
		}
		if i%2 == 0 {
			bb.answer(tb, o)
		}
	}
	if n := len(bb.offers); n < 1000 {
		tb.Fatalf("%d callers waiting", n)
	}
	return bb
}

// join adds a caller; it returns the caller's offer if it got one.
func (bb *benchBoard) join(tb testing.TB, q string, prio int) (agents.Offer, bool) {
	bb.seq++
	id := fmt.Sprint("c", bb.seq)
	tk, err := bb.qm.Join(q, id, prio, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	ch := bb.b.Wait(tk)
	bb.offers[id] = ch
	select {
	case o := <-ch:
		return o, true
	default:
		return agents.Offer{}, false
	}
}

func (bb *benchBoard) answer(tb testing.TB, o agents.Offer) {
	id := o.Agents[0].ID
	if !bb.b.Answered(o, id) {
		tb.Fatal("answer lost")
	}
	delete(bb.offers, o.Ticket.CallID())
	bb.onCall = append(bb.onCall, id)
}

// BenchmarkDistribute is one distribution decision: an agent's call ends
// and the board picks, among 1,000 callers waiting (100 more ringing),
// the one that agent is offered. The agent then answers and a new caller
// joins, outside the timing.
func BenchmarkDistribute(b *testing.B) {
	bb := newBenchBoard(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := bb.onCall[0]
		bb.onCall = bb.onCall[1:]
		bb.b.Ended(id) // the decision
		b.StopTimer()
		s, _ := bb.b.Agent(id)
		if s.State != agents.Ringing {
			b.Fatalf("agent %s not offered a caller: %v", id, s.State)
		}
		bb.answer(b, <-bb.offers[s.CallID])
		if _, ok := bb.join(b, fmt.Sprint("q", i%4), i%3); ok {
			b.Fatal("a new caller was offered though nobody is free")
		}
		b.StartTimer()
	}
}

// BenchmarkNoneFree is the decision that finds nothing to do: a caller
// joins while every agent is busy (Join, Wait and Leave).
func BenchmarkNoneFree(b *testing.B) {
	bb := newBenchBoard(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tk, err := bb.qm.Join("q1", "x", 0, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		bb.b.Wait(tk)
		tk.Leave(time.Now(), queue.Abandoned)
	}
}
