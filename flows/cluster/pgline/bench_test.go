package pgline_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// BenchmarkReservation is one caller's whole round trip through the
// shared line, alternating between two nodes: on the line (Wait), the
// agent reserved and the offer delivered by notification, answered,
// the call ended.
func BenchmarkReservation(b *testing.B) {
	ns := nodes(b, 2, []agents.Agent{fixed("101", "sales")}, []agents.Rules{{Queue: "sales", WrapUp: -1}})
	b.ResetTimer()
	for i := range b.N {
		n := ns[i%2]
		_, offers := n.join(b, "sales", fmt.Sprintf("b%d", i), 0)
		select {
		case o := <-offers:
			if !n.line.Answered(o, "101") {
				b.Fatal("not answered")
			}
		case <-time.After(10 * time.Second):
			b.Fatal("no offer")
		}
		n.line.Ended("101")
	}
}

// line1000 puts 1,000 callers on the line, half through each of two
// nodes, and waits until both nodes have all of them.
func line1000(b *testing.B, as []agents.Agent) ([]*node, *queue.Ticket) {
	ns := nodes(b, 2, as, nil)
	var last *queue.Ticket
	for i := range 1000 {
		last, _ = ns[i%2].join(b, "sales", fmt.Sprintf("w%04d", i), 0)
	}
	for _, n := range ns {
		until(b, n.line, "1,000 callers", func() bool { return len(n.qm.Waiters(time.Now())) == 1000 })
	}
	return ns, last
}

// BenchmarkPosition1000 is the last of 1,000 waiting callers' position:
// asked of PostgreSQL (Line.Position), and of a node's mirrored queues
// (what the hold announcements read).
func BenchmarkPosition1000(b *testing.B) {
	ns, last := line1000(b, nil)
	b.Run("sql", func(b *testing.B) {
		for range b.N {
			if p, err := ns[1].line.Position(b.Context(), last.CallID()); err != nil || p != 1000 {
				b.Fatal(p, err)
			}
		}
	})
	b.Run("mirror", func(b *testing.B) {
		for range b.N {
			if p := last.Position(); p != 1000 {
				b.Fatal(p)
			}
		}
	})
}

// BenchmarkDecide1000 is one distribution decision with 1,000 callers
// waiting over two nodes and 20 agents, none free: the housekeeping, the
// agents' rows, the waiting counts and first callers read under the
// lock.
func BenchmarkDecide1000(b *testing.B) {
	var as []agents.Agent
	for i := range 20 {
		as = append(as, fixed(fmt.Sprint(200+i), "sales", "support"))
	}
	ns, _ := line1000(b, as)
	for _, a := range as {
		if err := ns[0].line.Pause(a.ID, "bench"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if err := ns[0].line.Decide(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSharedEstimate is what sharing the estimate costs: one
// node's read of a queue's newest window of answered waits into its
// Manager (after every answered caller, on every node), the heartbeat's
// read of all three queues, and what an announcement reads (the
// estimate at a position, from memory as before); against a SELECT 1
// through the same pool (the machine's round trip).
func BenchmarkSharedEstimate(b *testing.B) {
	ns := nodes(b, 2, nil, nil)
	for i := range 2 * queue.DefaultWindow {
		for _, q := range []string{"sales", "support"} {
			ns[i%2].answered(b, q, fmt.Sprintf("%s-%d", q, i), time.Duration(i)*time.Second)
		}
	}
	tk, _ := ns[1].join(b, "sales", "listener", 0)
	b.Run("baseline-select-1", func(b *testing.B) {
		for range b.N {
			if err := ns[1].line.Ping(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-one-queue", func(b *testing.B) {
		for range b.N {
			if err := ns[1].line.LoadSamples(b.Context(), "sales"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("read-all-queues", func(b *testing.B) {
		for range b.N {
			if err := ns[1].line.LoadSamples(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("announcement", func(b *testing.B) {
		for range b.N {
			if _, real := tk.Estimate(); !real {
				b.Fatal("no figure")
			}
		}
	})
}
