package agents_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestLongestIdle: the caller goes to the agent idle the longest, since
// sign-in or the end of their last call; over one call at a time the
// agents take turns in the order they became free.
func TestLongestIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{phone("8001", in("q", 0)), phone("8002", in("q", 0)), phone("8003", in("q", 0))})
		for _, id := range []string{"8002", "8003", "8001"} {
			if err := b.SignIn(id, "sip:"+id+"@192.0.2.1:5060"); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		var got []string
		for i := range 4 {
			o := b.offer(b.join("q", fmt.Sprintf("c%d", i), 0))
			id := o.Agents[0].ID
			got = append(got, id)
			b.answer(o, id)
			time.Sleep(time.Minute) // talking
			b.Ended(id)
			time.Sleep(time.Minute) // wrap-up passes
		}
		if want := []string{"8002", "8003", "8001", "8002"}; !slices.Equal(got, want) {
			t.Errorf("calls went to %v; want %v", got, want)
		}
		// Three callers at once: each to the next longest idle.
		var offered []string
		for i := range 3 {
			offered = append(offered, b.offer(b.join("q", fmt.Sprintf("d%d", i), 0)).Agents[0].ID)
		}
		if want := []string{"8003", "8001", "8002"}; !slices.Equal(offered, want) {
			t.Errorf("three callers at once offered to %v; want %v", offered, want)
		}
		if s := b.status("8002"); s.CallsToday != 2 || s.LastEnded.IsZero() || s.State != agents.Ringing || s.CallID != "d2" || s.Queue != "q" {
			t.Errorf("8002: %+v", s)
		}
	})
}

// TestRoundRobin against longest idle on the same script: calls end in
// the reverse order; round robin goes on after the agent offered last,
// longest idle to the one free the longest.
func TestRoundRobin(t *testing.T) {
	for _, tc := range []struct {
		s    agents.Strategy
		want []string
	}{
		{agents.RoundRobin, []string{"8001", "8002", "8003", "8001"}},
		{agents.LongestIdle, []string{"8003", "8002", "8001", "8003"}},
	} {
		t.Run(string(tc.s), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q"), fixed("8002", "q"), fixed("8003", "q")},
					agents.Rules{Queue: "q", Strategy: tc.s, WrapUp: -1})
				var first []caller
				for i := range 3 {
					first = append(first, b.join("q", fmt.Sprintf("c%d", i), 0))
				}
				for i, id := range []string{"8001", "8002", "8003"} {
					b.take(first[i], id)
				}
				for _, id := range []string{"8003", "8002", "8001"} {
					time.Sleep(time.Second)
					b.Ended(id)
				}
				var got []string
				for i := range 4 {
					time.Sleep(time.Second)
					got = append(got, b.served(b.join("q", fmt.Sprintf("d%d", i), 0))...)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("calls went to %v; want %v", got, tc.want)
				}
			})
		})
	}
}

// TestFewestCalls: the agent with the fewest calls today first, the
// longest idle among equals; the count starts again the next day.
func TestFewestCalls(t *testing.T) {
	for _, tc := range []struct {
		s    agents.Strategy
		want []string
	}{
		{agents.FewestCalls, []string{"8002", "8003", "8001"}},
		{agents.LongestIdle, []string{"8001", "8002", "8003"}},
	} {
		t.Run(string(tc.s), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := newBoard(t, qcfg("q"), []agents.Agent{fixed("8001", "q"), phone("8002", in("q", 1)), phone("8003", in("q", 1))},
					agents.Rules{Queue: "q", Strategy: tc.s, WrapUp: -1})
				if got := b.served(b.join("q", "c0", 0)); !slices.Equal(got, []string{"8001"}) {
					t.Fatalf("the only agent signed in: %v", got)
				}
				time.Sleep(time.Minute)
				for _, id := range []string{"8002", "8003"} {
					if err := b.SignIn(id, "sip:"+id+"@192.0.2.2"); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Second)
				}
				var got []string
				for i := range 3 {
					got = append(got, b.served(b.join("q", fmt.Sprintf("c%d", i+1), 0))...)
					time.Sleep(time.Second)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("calls went to %v; want %v", got, tc.want)
				}
				if n := b.status("8001").CallsToday; n != 2 {
					t.Errorf("8001 took %d calls today; want 2", n)
				}
				time.Sleep(24 * time.Hour)
				if n := b.status("8001").CallsToday; n != 0 {
					t.Errorf("the next day 8001 has %d calls today", n)
				}
			})
		})
	}
}

// TestRingAll: every free agent of the level rings; the first answer
// wins, a second answer loses, the others are released without a miss.
func TestRingAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"),
			[]agents.Agent{fixed("8001", "q"), fixed("8002", "q"), fixed("8003", "q"), {ID: "8004", Contact: "sip:8004@pbx", Queues: []agents.Membership{in("q", 2)}}},
			agents.Rules{Queue: "q", Strategy: agents.RingAll, RingTimeout: 20 * time.Second})
		c := b.join("q", "c1", 0)
		o := b.offer(c)
		b.to(o, "8001", "8002", "8003")
		if o.RingTimeout != 20*time.Second || o.Queue != "q" || o.Ticket != c.Ticket || o.Agents[1].Contact != "sip:8002@pbx.test" || o.Agents[1].Name != "agent 8002" {
			t.Errorf("offer %+v", o)
		}
		b.is("8001", agents.Ringing, "8002", agents.Ringing, "8003", agents.Ringing, "8004", agents.Available)
		time.Sleep(3 * time.Second)
		if !b.Answered(o, "8002") {
			t.Fatal("first answer lost")
		}
		if b.Answered(o, "8003") {
			t.Error("a second answer won too")
		}
		b.Released(o, "8001")
		b.is("8001", agents.Available, "8002", agents.OnCall, "8003", agents.Available)
		for _, id := range []string{"8001", "8003"} {
			if s := b.status(id); s.Missed != 0 || s.CallID != "" {
				t.Errorf("%s after release: %+v", id, s)
			}
		}
		if c.Outcome() != queue.Answered || c.Waited(time.Now()) != 3*time.Second {
			t.Errorf("caller: %v after %v", c.Outcome(), c.Waited(time.Now()))
		}
		if _, ok := <-c.offers; ok {
			t.Error("offers of an answered caller not closed")
		}

		// The caller hangs up while the agents ring: the owner releases them.
		d := b.join("q", "c2", 0)
		o = b.offer(d)
		b.to(o, "8001", "8003")
		d.Leave(time.Now(), queue.Abandoned)
		if _, ok := <-d.offers; ok {
			t.Error("offers of a caller who left not closed")
		}
		b.is("8001", agents.Ringing) // the owner ends the offer it received
		b.Released(o, "8001")
		b.Released(o, "8003")
		if b.Answered(o, "8001") {
			t.Error("answered a released offer")
		}
		b.is("8001", agents.Available, "8003", agents.Available)
	})
}

// TestLevels: level-2 agents are offered a queue's callers only when no
// level-1 agent of that queue is free.
func TestLevels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("q"), []agents.Agent{
			{ID: "8003", Contact: "sip:8003@pbx", Queues: []agents.Membership{in("q", 2)}}, // idle the longest, but level 2
			{ID: "8001", Contact: "sip:8001@pbx", Queues: []agents.Membership{in("q", 1)}},
			{ID: "8002", Contact: "sip:8002@pbx", Queues: []agents.Membership{in("q", 0)}}, // 0 is level 1
		})
		c1, c2, c3, c4 := b.join("q", "c1", 0), b.join("q", "c2", 0), b.join("q", "c3", 0), b.join("q", "c4", 0)
		b.to(b.offer(c1), "8001")
		b.to(b.offer(c2), "8002")
		b.to(b.offer(c3), "8003") // both level-1 agents ring
		b.none(c4)
		if s := b.status("8002"); !slices.Equal(s.Queues, []agents.Membership{{Queue: "q", Level: 1}}) {
			t.Errorf("level 0 reads back as %v", s.Queues)
		}
	})
}

// TestPrioritiesAcrossQueues: an agent of two queues takes the callers of
// both by priority, then the longest waiting first.
func TestPrioritiesAcrossQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBoard(t, qcfg("a", "b", "c"), []agents.Agent{fixed("8001", "a", "b")}, agents.Rules{Queue: "a", WrapUp: -1}, agents.Rules{Queue: "b", WrapUp: -1})
		if err := b.Pause("8001", "lunch"); err != nil {
			t.Fatal(err)
		}
		var cs []caller
		for _, j := range []struct {
			q, id string
			prio  int
		}{{"a", "a1", 0}, {"b", "b1", 0}, {"b", "b2", 5}, {"a", "a2", 0}, {"c", "c1", 9}, {"a", "a3", 5}} {
			cs = append(cs, b.join(j.q, j.id, j.prio))
			time.Sleep(time.Second)
		}
		for _, c := range cs {
			b.none(c)
		}
		if err := b.Ready("8001"); err != nil {
			t.Fatal(err)
		}
		var order []string
		for range 5 {
			for _, c := range cs {
				select {
				case o, ok := <-c.offers:
					if !ok {
						continue // answered: closed
					}
					order = append(order, c.CallID())
					b.answer(o, "8001")
					b.Ended("8001")
				default:
				}
			}
		}
		if want := []string{"b2", "a3", "a1", "b1", "a2"}; !slices.Equal(order, want) {
			t.Errorf("served %v; want %v (c1 is in a queue the agent does not work in)", order, want)
		}
	})
}
