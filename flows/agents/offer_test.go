package agents_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestMissedGoesOn: an offer not answered within the ring timeout goes to
// the next agent by the strategy, then to the ones not tried yet, never
// straight back to the one who just missed while another is free.
func TestMissedGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q"), fixed("8002", "q"), fixed("8003", "q")},
			agents.Rules{Queue: "q", MaxMissed: -1})
		c := b.join("q", "c1", 0)
		var rang []string
		for range 7 {
			o := b.offer(c)
			rang = append(rang, targets(o)...)
			time.Sleep(o.RingTimeout) // the owner's ring timer
			b.Missed(o, o.Agents[0].ID, agents.NoAnswer)
		}
		// Longest idle is configured order here (all signed in together);
		// each round tries everyone before anyone again.
		if want := []string{"8001", "8002", "8003", "8001", "8002", "8003", "8001"}; !slices.Equal(rang, want) {
			t.Errorf("rang %v; want %v", rang, want)
		}
		if s := b.status("8002"); s.Missed != 2 || s.State != agents.Ringing {
			t.Errorf("8002 after two misses, rung again: %+v", s)
		}
		if w := c.Waited(time.Now()); w != 7*agents.DefaultRingTimeout {
			t.Errorf("waited %v", w)
		}
		b.take(c, "8002")
		if s := b.status("8002"); s.Missed != 0 {
			t.Errorf("an answer does not reset the misses in a row: %d", s.Missed)
		}
	})
}

// TestMissedOnlyOneFree: when the agent who just missed is the only one
// free, the caller goes back to them.
func TestMissedOnlyOneFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q"), fixed("8002", "q")})
		busy := b.join("q", "busy", 0)
		b.take(busy, "8001")
		c := b.join("q", "c1", 0)
		o := b.offer(c)
		b.to(o, "8002")
		b.Missed(o, "8002", agents.Busy)
		b.to(b.offer(c), "8002")
	})
}

// TestMaxMissed: MaxMissed offers missed in a row pause the agent, reason
// "no answer" (or "unreachable"); Ready brings them back with a clean
// count. A paused agent does not serve the queue.
func TestMaxMissed(t *testing.T) {
	for _, tc := range []struct {
		last   agents.Miss
		reason string
	}{{agents.Declined, agents.ReasonNoAnswer}, {agents.Failed, agents.ReasonUnreachable}} {
		t.Run(tc.last.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBoard(t, qcfg("q"), []agents.Agent{phone("8001", in("q", 1))})
				if err := b.SignIn("8001", "sip:8001@192.0.2.9"); err != nil {
					t.Fatal(err)
				}
				c := b.join("q", "c1", 0)
				for _, why := range []agents.Miss{agents.NoAnswer, agents.Busy, tc.last} {
					if n := b.Serving("q"); n != 1 {
						t.Errorf("serving %d before the pause", n)
					}
					b.Missed(b.offer(c), "8001", why)
				}
				b.none(c)
				s := b.status("8001")
				if s.State != agents.Paused || s.Reason != tc.reason || s.Missed != 3 {
					t.Errorf("after three misses: %+v", s)
				}
				if b.Serving("q") != 0 || b.qm.Staffed("q") {
					t.Error("a paused agent still serves the queue")
				}
				if err := b.Ready("8001"); err != nil {
					t.Fatal(err)
				}
				if s := b.status("8001"); s.State != agents.Ringing || s.Missed != 0 || s.Reason != "" {
					t.Errorf("after Ready: %+v", s)
				}
			})
		})
	}
}

// TestWrapUp: after a call the agent wraps up for the queue's WrapUp, then
// takes the next caller; Ready ends a wrap-up early.
func TestWrapUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q", "r"), []agents.Agent{fixed("8001", "q", "r")}, agents.Rules{Queue: "r", WrapUp: 30 * time.Second})
		b.take(b.join("q", "c1", 0), "8001")
		next := b.join("q", "c2", 0)
		time.Sleep(time.Minute)
		b.Ended("8001")
		b.Ended("8001") // twice: harmless
		b.is("8001", agents.WrapUp)
		if n := b.Serving("q"); n != 1 {
			t.Errorf("an agent in wrap-up serves the queue: %d", n)
		}
		time.Sleep(agents.DefaultWrapUp - time.Millisecond)
		b.none(next)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		b.take(next, "8001")
		if s := b.status("8001"); s.CallID != "c2" || s.State != agents.OnCall {
			t.Errorf("after wrap-up: %+v", s)
		}

		// Queue r's wrap-up is 30 s; Ready ends it early, and the stale
		// timer changes nothing later.
		b.Ended("8001")
		if err := b.Ready("8001"); err != nil {
			t.Fatal(err)
		}
		b.take(b.join("r", "c3", 0), "8001")
		b.Ended("8001")
		time.Sleep(20 * time.Second)
		b.is("8001", agents.WrapUp)
		if err := b.Ready("8001"); err != nil {
			t.Fatal(err)
		}
		c4 := b.join("r", "c4", 0)
		o := b.offer(c4)
		time.Sleep(15 * time.Second) // past the first wrap-up's end, still ringing
		synctest.Wait()
		b.is("8001", agents.Ringing)
		b.answer(o, "8001")
	})
}

// TestNoWrapUp: a negative WrapUp means none.
func TestNoWrapUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q")}, agents.Rules{Queue: "q", WrapUp: -1})
		b.take(b.join("q", "c1", 0), "8001")
		b.Ended("8001")
		b.is("8001", agents.Available)
	})
}

// TestNuisanceYields (CS-NUISANCE): an agent never takes a caller of the
// nuisance queue while a customer waits in a normal queue they work in,
// offered or not; an agent of no normal queue with customers takes them.
func TestNuisanceYields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		qs := []queue.Config{{Name: "customers"}, {Name: "other"}, {Name: "nuisance", Yields: true}}
		b := newBoard(t, qs, []agents.Agent{fixed("8001", "customers", "nuisance"), fixed("8002", "customers", "nuisance")}, agents.Rules{Queue: "customers", WrapUp: -1})
		for _, id := range []string{"8001", "8002"} {
			if err := b.Pause(id, "meeting"); err != nil {
				t.Fatal(err)
			}
		}
		n1 := b.join("nuisance", "n1", 9) // waited longest, highest priority
		time.Sleep(time.Minute)
		c1 := b.join("customers", "c1", 0)
		if err := b.Ready("8001"); err != nil {
			t.Fatal(err)
		}
		b.none(n1)
		o := b.offer(c1)
		b.to(o, "8001")
		// c1 rings 8001 and still waits: 8002 does not take n1.
		if err := b.Ready("8002"); err != nil {
			t.Fatal(err)
		}
		b.none(n1)
		b.is("8002", agents.Available)
		b.Missed(o, "8001", agents.NoAnswer)
		o = b.offer(c1)
		b.to(o, "8002")
		b.none(n1) // 8001 is free again, but c1 still waits
		b.answer(o, "8002")
		b.take(n1, "8001") // no customer waits any more

		// An agent of the nuisance queue only, and of a normal queue
		// without callers, takes nuisance callers while customers wait.
		if err := b.Reconfigure(b.qm, []agents.Agent{fixed("8001", "customers", "nuisance"), fixed("8002", "customers", "nuisance"), fixed("8003", "other", "nuisance")}, nil); err != nil {
			t.Fatal(err)
		}
		b.join("customers", "c2", 0)
		n2 := b.join("nuisance", "n2", 0)
		b.to(b.offer(n2), "8003")
	})
}

// TestSimultaneousHangUp: the caller hangs up at the moment an agent
// answers; exactly one wins, and the agent is free again without a miss
// when the caller won. Run with -race.
func TestSimultaneousHangUp(t *testing.T) {
	b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q")})
	answered, abandoned := 0, 0
	for i := range 300 {
		c := b.join("q", fmt.Sprintf("c%d", i), 0)
		o := b.offer(c)
		var won bool
		var left queue.Outcome
		var wg sync.WaitGroup
		wg.Go(func() { won = b.Answered(o, "8001") })
		wg.Go(func() { left = c.Leave(time.Now(), queue.Abandoned) })
		wg.Wait()
		s := b.status("8001")
		switch {
		case won && left == queue.Answered && c.Outcome() == queue.Answered && s.State == agents.OnCall:
			answered++
			b.Ended("8001")
			if err := b.Ready("8001"); err != nil { // skip the wrap-up
				t.Fatal(err)
			}
		case !won && left == queue.Abandoned && c.Outcome() == queue.Abandoned && s.State == agents.Available && s.Missed == 0:
			abandoned++
		default:
			t.Fatalf("round %d: Answered %v, Leave %v, outcome %v, agent %+v", i, won, left, c.Outcome(), s)
		}
		if _, ok := <-c.offers; ok {
			t.Fatal("offers not closed")
		}
	}
	t.Logf("%d answered, %d abandoned", answered, abandoned)
	f := b.qm.Figures(time.Now())[0]
	if f.Answered.Count != int64(answered) || f.Abandoned.Count != int64(abandoned) || f.Waiting != 0 {
		t.Errorf("figures %+v", f)
	}
}

// TestHangUpOrder: the two orders of a hang-up and an answer, one at a time.
func TestHangUpOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q")})
		c := b.join("q", "c1", 0)
		o := b.offer(c)
		c.Leave(time.Now(), queue.Abandoned)
		if b.Answered(o, "8001") {
			t.Error("an answer after the hang-up won")
		}
		if s := b.status("8001"); s.State != agents.Available || s.Missed != 0 || s.CallsToday != 0 {
			t.Errorf("agent after losing: %+v", s)
		}
		d := b.join("q", "c2", 0)
		o = b.offer(d)
		if !b.Answered(o, "8001") {
			t.Fatal("answer lost")
		}
		if got := d.Leave(time.Now(), queue.Abandoned); got != queue.Answered {
			t.Errorf("hang-up after the answer: %v", got)
		}
		if b.Answered(o, "8001") {
			t.Error("a second Answered won")
		}
		b.Missed(o, "8001", agents.NoAnswer) // stale: ignored
		b.Released(o, "8001")
		b.is("8001", agents.OnCall)
	})
}

// TestWithdrawn: an offer the caller's goroutine never received is taken
// back when the caller leaves; the agent is free at once.
func TestWithdrawn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q")})
		c := b.join("q", "c1", 0)
		b.is("8001", agents.Ringing)
		c.Leave(time.Now(), queue.TimedOut)
		if o, ok := <-c.offers; ok {
			t.Errorf("offer to %v still delivered after the caller left", targets(o))
		}
		b.is("8001", agents.Available)
		d := b.join("q", "c2", 0)
		b.to(b.offer(d), "8001")
	})
}

// TestUnendedOffer: an offer its owner never ends frees its agents after
// the ring timeout and a minute; a late answer loses.
func TestUnendedOffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q")})
		c := b.join("q", "c1", 0)
		o := b.offer(c)
		time.Sleep(o.RingTimeout + time.Minute - time.Millisecond)
		b.is("8001", agents.Ringing)
		time.Sleep(time.Millisecond)
		synctest.Wait()
		// Freed, and offered the same caller again (nobody else is free).
		o2 := b.offer(c)
		if b.Answered(o, "8001") {
			t.Error("a late answer to the expired offer won")
		}
		b.answer(o2, "8001")

		// Expiry of an offer never received: withdrawn, offered anew.
		d := b.join("q", "c2", 0)
		b.Ended("8001")
		time.Sleep(agents.DefaultWrapUp)
		synctest.Wait()
		b.is("8001", agents.Ringing)
		time.Sleep(agents.DefaultRingTimeout + time.Minute)
		synctest.Wait()
		b.is("8001", agents.Ringing)
		b.answer(b.offer(d), "8001")
	})
}

// TestWaitEdges: Wait twice gives the same channel, Wait after the
// caller left a closed one, and the board keeps no caller that left.
func TestWaitEdges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q", "unstaffed"), []agents.Agent{fixed("8001", "q")})
		c := b.join("q", "c1", 0)
		if b.Wait(c.Ticket) != c.offers {
			t.Error("a second Wait gave another channel")
		}
		lonely := b.join("unstaffed", "c2", 0)
		b.none(lonely)
		b.take(c, "8001")
		lonely.Leave(time.Now(), queue.Abandoned)
		gone, err := b.qm.Join("q", "c3", 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		gone.Leave(time.Now(), queue.Abandoned)
		if _, ok := <-b.Wait(gone); ok {
			t.Error("Wait after leaving gave an offer")
		}
		if n := b.Waiters(); n != 0 {
			t.Errorf("the board keeps %d callers", n)
		}
	})
}
