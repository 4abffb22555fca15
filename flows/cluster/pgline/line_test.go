package pgline_test

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/cluster/pgline"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/store/pg/pgtest"
)

// db is the PostgreSQL the tests share, a new schema each.
var db pgtest.Shared

func TestMain(m *testing.M) { os.Exit(db.Main(m)) }

// node is one kefu node's queues and handle on the line.
type node struct {
	qm   *queue.Manager
	line *pgline.Line
}

var testQueues = []queue.Config{{Name: "sales"}, {Name: "support"}, {Name: "nuisance", Yields: true}}

// fast are the options of test nodes: leases of a second.
func fast(name string) pgline.Options {
	return pgline.Options{Node: name, Heartbeat: 200 * time.Millisecond, TTL: time.Second}
}

// nodes opens n nodes on one new database with the agents and rules.
func nodes(t testing.TB, n int, as []agents.Agent, rs []agents.Rules) []*node {
	t.Helper()
	dsn := db.DSN(t)
	var out []*node
	for i := range n {
		qm, err := queue.NewManager(testQueues)
		if err != nil {
			t.Fatal(err)
		}
		l, err := pgline.Open(t.Context(), dsn, qm, as, rs, fast(fmt.Sprintf("n%d", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.Close)
		out = append(out, &node{qm: qm, line: l})
	}
	return out
}

// join puts a caller on the line through n.
func (n *node) join(t testing.TB, q, id string, prio int) (*queue.Ticket, <-chan agents.Offer) {
	t.Helper()
	tk, err := n.qm.Join(q, id, prio, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tk, n.line.Wait(tk)
}

// until waits, bounded, for cond to hold, re-checking when the line
// signals a change and every 50 ms.
func until(t testing.TB, l *pgline.Line, what string, cond func() bool) {
	t.Helper()
	ch, stop := l.Subscribe()
	defer stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not within 10 s: %s", what)
		}
	}
}

// order is the queue's callers on a node, in serve order.
func order(n *node, q string) []string {
	var ids []string
	for _, w := range n.qm.Waiters(time.Now()) {
		if w.Queue == q {
			ids = append(ids, fmt.Sprintf("%s@%d", w.CallID, w.Position))
		}
	}
	return ids
}

func fixed(id string, qs ...string) agents.Agent {
	a := agents.Agent{ID: id, Name: "agent " + id, Contact: "sip:" + id + "@127.0.0.1"}
	for _, q := range qs {
		a.Queues = append(a.Queues, agents.Membership{Queue: q})
	}
	return a
}

// TestSharedOrder: callers joining through three nodes, with priorities,
// are in the same order at the same positions on every node, and as the
// database says; one leaving moves everyone behind on every node.
func TestSharedOrder(t *testing.T) {
	ns := nodes(t, 3, nil, nil)
	var tickets []*queue.Ticket
	for i := range 9 {
		prio := 0
		if i == 7 {
			prio = 5 // served first wherever it joined
		}
		tk, _ := ns[i%3].join(t, "sales", fmt.Sprintf("c%d", i), prio)
		tickets = append(tickets, tk)
	}
	want := []string{"c7@1", "c0@2", "c1@3", "c2@4", "c3@5", "c4@6", "c5@7", "c6@8", "c8@9"}
	for _, n := range ns {
		until(t, n.line, "nine callers in order on "+n.line.Node(), func() bool { return slices.Equal(order(n, "sales"), want) })
	}
	for i, tk := range tickets {
		p, err := ns[0].line.Position(t.Context(), tk.CallID())
		if err != nil {
			t.Fatal(err)
		}
		if p != tk.Position() {
			t.Errorf("c%d: position %d in the database, %d on its node", i, p, tk.Position())
		}
	}
	tickets[0].Leave(time.Now(), queue.Abandoned) // c0, on n1
	want = slices.Delete(want, 1, 2)
	for i := 1; i < len(want); i++ {
		want[i] = fmt.Sprintf("%s@%d", want[i][:2], i+1)
	}
	for _, n := range ns {
		until(t, n.line, "c0 gone on "+n.line.Node(), func() bool { return slices.Equal(order(n, "sales"), want) })
	}
	if p := tickets[8].Position(); p != 8 {
		t.Errorf("c8 at %d after c0 left, want 8", p)
	}
}

// TestReservedOnce: callers joining through three nodes at once, two
// agents; every round each node's callers take offers as they come. An
// agent is never offered while ringing or on a call, a caller never to
// two agents at once, every caller is answered exactly once, in order
// of joining within the round (one queue, one priority).
func TestReservedOnce(t *testing.T) {
	rs := []agents.Rules{{Queue: "sales", WrapUp: -1}}
	ns := nodes(t, 3, []agents.Agent{fixed("101", "sales"), fixed("102", "sales")}, rs)
	var (
		mu       sync.Mutex
		busy     = map[string]string{} // agent → caller
		offering = map[string]bool{}   // caller with an offer out
		answered = map[string]int{}
	)
	const rounds, perNode = 15, 3
	for round := range rounds {
		var wg sync.WaitGroup
		for ni, n := range ns {
			for k := range perNode {
				id := fmt.Sprintf("r%d-n%d-%d", round, ni, k)
				tk, offers := n.join(t, "sales", id, 0)
				wg.Go(func() {
					timeout := time.After(20 * time.Second)
					for {
						var o agents.Offer
						select {
						case o = <-offers:
						case <-timeout:
							t.Errorf("%s: no offer within 20 s", id)
							tk.Leave(time.Now(), queue.Abandoned)
							return
						}
						a := o.Agents[0].ID
						mu.Lock()
						if len(o.Agents) != 1 || busy[a] != "" || offering[id] {
							t.Errorf("%s offered to %v while %s has %q (caller offered already: %v)", id, o.Agents, a, busy[a], offering[id])
						}
						busy[a], offering[id] = id, true
						mu.Unlock()
						ok := n.line.Answered(o, a)
						mu.Lock()
						offering[id] = false
						if ok {
							answered[id]++
						}
						busy[a] = ""
						mu.Unlock()
						if ok {
							n.line.Ended(a)
							return
						}
						t.Errorf("%s: answer by %s refused", id, a)
					}
				})
			}
		}
		wg.Wait()
	}
	for round := range rounds {
		for ni := range ns {
			for k := range perNode {
				if id := fmt.Sprintf("r%d-n%d-%d", round, ni, k); answered[id] != 1 {
					t.Errorf("%s answered %d times", id, answered[id])
				}
			}
		}
	}
	for _, s := range ns[2].line.Agents() {
		if s.State != agents.Available || s.CallsToday == 0 {
			t.Errorf("agent %s: %v, %d calls", s.ID, s.State, s.CallsToday)
		}
	}
}

// TestDeadNodeExpires: a node killed with callers waiting and an agent
// ringing for one of them: its callers leave every other node's line
// within the lease, and the agent is free again and takes the next
// caller, of a node alive.
func TestDeadNodeExpires(t *testing.T) {
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales")}, nil)
	a, b := ns[0], ns[1]
	_, offers := a.join(t, "sales", "a1", 0)
	a.join(t, "sales", "a2", 0)
	var o agents.Offer
	select {
	case o = <-offers:
	case <-time.After(10 * time.Second):
		t.Fatal("no offer for a1")
	}
	if o.Agents[0].ID != "101" {
		t.Fatalf("offer to %v", o.Agents)
	}
	until(t, b.line, "a's callers mirrored on b", func() bool { return len(order(b, "sales")) == 2 })
	_, bOffers := b.join(t, "sales", "b1", 0)
	until(t, b.line, "b1 third", func() bool { return slices.Equal(order(b, "sales"), []string{"a1@1", "a2@2", "b1@3"}) })
	killed := time.Now()
	a.line.Kill()
	until(t, b.line, "a's callers gone from b", func() bool { return slices.Equal(order(b, "sales"), []string{"b1@1"}) })
	t.Logf("a's callers left b's line %v after the kill (TTL 1 s)", time.Since(killed).Round(time.Millisecond))
	select {
	case o := <-bOffers:
		if !b.line.Answered(o, "101") {
			t.Fatal("b1 not answered")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent rung by the dead node was not offered b1")
	}
}

// TestHangUpWhileReserved: a caller hanging up with an offer out frees
// the agent, whether the caller's goroutine had received the offer (it
// releases it) or not (withdrawn), and the other node sees the agent
// available.
func TestHangUpWhileReserved(t *testing.T) {
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales")}, nil)
	a, b := ns[0], ns[1]
	state := func() agents.State { s, _ := b.line.Agent("101"); return s.State }

	tk, _ := a.join(t, "sales", "x1", 0)
	until(t, b.line, "101 ringing for x1", func() bool { return state() == agents.Ringing })
	tk.Leave(time.Now(), queue.Abandoned) // the offer was never received
	until(t, b.line, "101 free after x1 hung up", func() bool { return state() == agents.Available })

	tk, offers := a.join(t, "sales", "x2", 0)
	o := <-offers
	tk.Leave(time.Now(), queue.Abandoned)
	if a.line.Answered(o, "101") {
		t.Fatal("x2 answered after hanging up")
	}
	until(t, b.line, "101 free after x2 hung up", func() bool { return state() == agents.Available })
	if s, _ := b.line.Agent("101"); s.Missed != 0 || s.CallsToday != 0 {
		t.Errorf("after hang-ups: %+v", s)
	}
}

// TestSharedStates: the desk of one node changes what every node shows
// and offers: paused through b, a caller of a waits; ready through b,
// a's caller is offered; missed offers pause the agent on both nodes.
func TestSharedStates(t *testing.T) {
	rs := []agents.Rules{{Queue: "sales", MaxMissed: 2}}
	ns := nodes(t, 2, []agents.Agent{fixed("101", "sales")}, rs)
	a, b := ns[0], ns[1]
	if err := b.line.Pause("101", "lunch"); err != nil {
		t.Fatal(err)
	}
	s, _ := a.line.Agent("101")
	if s.State != agents.Paused || s.Reason != "lunch" {
		t.Fatalf("a sees %v %q", s.State, s.Reason)
	}
	if a.line.Serving("sales") != 0 {
		until(t, a.line, "nobody serving", func() bool { return a.line.Serving("sales") == 0 })
	}
	_, offers := a.join(t, "sales", "y1", 0)
	if err := a.line.Decide(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case o := <-offers:
		t.Fatalf("offered while paused: %+v", o)
	default:
	}
	if err := b.line.Ready("101"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case o := <-offers:
			a.line.Missed(o, "101", agents.NoAnswer)
		case <-time.After(10 * time.Second):
			t.Fatal("no offer after ready")
		}
	}
	s, _ = b.line.Agent("101")
	if s.State != agents.Paused || s.Reason != agents.ReasonNoAnswer || s.Missed != 2 {
		t.Fatalf("after two misses b sees %+v", s)
	}
	if err := b.line.Pause("999", "x"); err == nil {
		t.Error("pause of an unknown agent accepted")
	}
}

// TestCallbackKeepsPlace: a callback joins the line through one node at
// the place of the caller who left it (queue.Manager.JoinCallback with
// their join time); every node puts it ahead of the callers who joined
// later, behind those who joined earlier.
func TestCallbackKeepsPlace(t *testing.T) {
	ns := nodes(t, 2, nil, nil)
	a, b := ns[0], ns[1]
	early := time.Now().Add(-time.Minute)
	b.join(t, "support", "later1", 0)
	tk, err := b.qm.JoinCallback("support", "callback-7", 0, early.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b.line.Wait(tk)
	old, err := a.qm.Join("support", "earlier", 0, early)
	if err != nil {
		t.Fatal(err)
	}
	a.line.Wait(old)
	want := []string{"earlier@1", "callback-7@2", "later1@3"}
	for _, n := range ns {
		until(t, n.line, "the callback in its place on "+n.line.Node(), func() bool { return slices.Equal(order(n, "support"), want) })
	}
}

// TestJoinPropagates: a caller joining through one node is in the other
// node's line within a notification's time (logged: p50, max), well
// before the heartbeat's re-read would bring it.
func TestJoinPropagates(t *testing.T) {
	ns := nodes(t, 2, nil, nil)
	a, b := ns[0], ns[1]
	var lat []time.Duration
	for i := range 50 {
		start := time.Now()
		a.join(t, "sales", fmt.Sprintf("p%d", i), 0)
		until(t, b.line, "the caller on b", func() bool { return len(order(b, "sales")) == i+1 })
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("join on a → in b's line: p50 %v, p90 %v, max %v", lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)-1])
	if p90 := lat[len(lat)*9/10]; p90 > 150*time.Millisecond {
		t.Errorf("p90 %v: slower than a notification", p90)
	}
}
