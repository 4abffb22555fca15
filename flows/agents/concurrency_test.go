package agents_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// TestConcurrent runs many callers, their offers, answers, misses and
// hang-ups, agents' talk and wrap-up, and ops changing states and
// reloading, all at once (run it with -race). In the end every caller
// left once, the figures add up, no agent rings or talks, and the board
// keeps no caller.
func TestConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		qs := []queue.Config{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "n", Yields: true}}
		var as []agents.Agent
		for i := range 16 {
			id := fmt.Sprint(8000 + i)
			a := agents.Agent{ID: id, Contact: "sip:" + id + "@pbx", Queues: []agents.Membership{{Queue: qs[i%3].Name, Level: 1 + i%2}, {Queue: "n"}}}
			if i%4 == 0 {
				a.Queues = append(a.Queues, agents.Membership{Queue: qs[(i+1)%3].Name, Level: 2})
			}
			as = append(as, a)
		}
		rules := []agents.Rules{{Queue: "a", Strategy: agents.RingAll, WrapUp: time.Second}, {Queue: "b", Strategy: agents.RoundRobin, WrapUp: -1}, {Queue: "c", Strategy: agents.FewestCalls}}
		b := newBoard(t, qs, as, rules...)

		const callers, calls = 24, 40
		var answered, joined atomic.Int64
		var wg sync.WaitGroup
		for g := range callers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 1))
				for i := range calls {
					q := qs[rng.IntN(len(qs))].Name
					tk, err := b.qm.Join(q, fmt.Sprintf("c%d-%d", g, i), rng.IntN(3), time.Now())
					if err != nil {
						t.Error(err)
						return
					}
					joined.Add(1)
					if b.call(t, rng, tk) {
						answered.Add(1)
					}
				}
			})
		}
		stop := make(chan struct{})
		var ops sync.WaitGroup
		ops.Go(func() {
			rng := rand.New(rand.NewPCG(99, 1))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Duration(rng.IntN(500)) * time.Millisecond):
				}
				id := as[rng.IntN(len(as))].ID
				switch rng.IntN(6) {
				case 0:
					_ = b.SignOut(id)
				case 1:
					_ = b.Pause(id, "break")
				case 2:
					cfg := as
					if i%2 == 0 {
						cfg = as[1:] // 8000 leaves and comes back
					}
					if err := b.Reconfigure(b.qm, cfg, rules); err != nil {
						t.Error(err)
					}
				default:
					_ = b.Ready(id)
				}
				b.Agents()
				b.Serving("a")
			}
		})
		wg.Wait()
		close(stop)
		ops.Wait()
		if err := b.Reconfigure(b.qm, as, rules); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute) // wrap-ups end
		synctest.Wait()

		var total, yes int64
		for _, f := range b.qm.Figures(time.Now()) {
			if f.Waiting != 0 {
				t.Errorf("%s: %d still waiting", f.Queue, f.Waiting)
			}
			total += f.Answered.Count + f.Abandoned.Count + f.TimedOut.Count
			yes += f.Answered.Count
		}
		if total != joined.Load() || yes != answered.Load() {
			t.Errorf("figures count %d callers, %d answered; %d joined, %d answered", total, yes, joined.Load(), answered.Load())
		}
		var taken int64
		for _, s := range b.Agents() {
			if s.State == agents.Ringing || s.State == agents.OnCall || s.State == agents.WrapUp || s.CallID != "" {
				t.Errorf("agent left busy: %+v", s)
			}
			taken += int64(s.CallsToday)
		}
		if taken > answered.Load() || answered.Load() < callers*calls/10 {
			t.Errorf("agents counted %d calls; %d answered", taken, answered.Load())
		}
		if n := b.Waiters(); n != 0 {
			t.Errorf("the board keeps %d callers", n)
		}
		t.Logf("%d callers, %d answered", joined.Load(), answered.Load())
	})
}

// call plays one caller: waits for offers with some patience, and misses,
// hangs up on or answers each; it reports whether an agent took the call.
func (b *board) call(t *testing.T, rng *rand.Rand, tk *queue.Ticket) bool {
	offers := b.Wait(tk)
	patience := time.After(time.Duration(1+rng.IntN(120)) * time.Second)
	for {
		select {
		case <-patience:
			tk.Leave(time.Now(), queue.TimedOut)
			if o, ok := <-offers; ok {
				t.Errorf("offer to %v after the caller left", targets(o))
			}
			return false
		case o, ok := <-offers:
			if !ok {
				t.Error("offers closed while waiting")
				return false
			}
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Millisecond) // ringing
			switch rng.IntN(5) {
			case 0:
				for _, a := range o.Agents {
					b.Missed(o, a.ID, agents.Miss(1+rng.IntN(4)))
				}
				continue
			case 1: // hangs up while the agents ring, or just as one answers
				var wg sync.WaitGroup
				wg.Go(func() { tk.Leave(time.Now(), queue.Abandoned) })
				won := b.Answered(o, o.Agents[0].ID)
				wg.Wait()
				for _, a := range o.Agents[1:] {
					b.Released(o, a.ID)
				}
				if won {
					b.Ended(o.Agents[0].ID)
				}
				return won
			}
			id := o.Agents[rng.IntN(len(o.Agents))].ID
			if !b.Answered(o, id) {
				t.Errorf("%s: the answer lost, though the caller waits", tk.CallID())
				return false
			}
			for _, a := range o.Agents {
				if a.ID != id {
					b.Released(o, a.ID)
				}
			}
			time.Sleep(time.Duration(rng.IntN(60)) * time.Second) // talking
			b.Ended(id)
			return true
		}
	}
}
