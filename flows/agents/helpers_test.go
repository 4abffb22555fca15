package agents_test

import (
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// board is a test board on its own queues; use it inside a synctest
// bubble, where time.Now is virtual and time.Sleep only moves it.
type board struct {
	t  *testing.T
	qm *queue.Manager
	*agents.Board
}

func newBoard(t *testing.T, qs []queue.Config, as []agents.Agent, rules ...agents.Rules) *board {
	t.Helper()
	qm, err := queue.NewManager(qs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := agents.NewBoard(qm, as, rules, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	qm.Agents = b.Serving
	return &board{t: t, qm: qm, Board: b}
}

// fixed is an agent reached through the PBX: Available from the start.
func fixed(id string, queues ...string) agents.Agent {
	a := agents.Agent{ID: id, Name: "agent " + id, Contact: "sip:" + id + "@pbx.test"}
	for _, q := range queues {
		a.Queues = append(a.Queues, agents.Membership{Queue: q})
	}
	return a
}

// phone is an agent who signs in by registering.
func phone(id string, ms ...agents.Membership) agents.Agent {
	return agents.Agent{ID: id, Name: "agent " + id, Queues: ms}
}

func in(q string, level int) agents.Membership { return agents.Membership{Queue: q, Level: level} }

func qcfg(names ...string) []queue.Config {
	var out []queue.Config
	for _, n := range names {
		out = append(out, queue.Config{Name: n})
	}
	return out
}

// caller is a waiting caller and its offers.
type caller struct {
	*queue.Ticket
	offers <-chan agents.Offer
}

func (b *board) join(q, id string, prio int) caller {
	b.t.Helper()
	tk, err := b.qm.Join(q, id, prio, time.Now())
	if err != nil {
		b.t.Fatal(err)
	}
	return caller{tk, b.Wait(tk)}
}

// offer takes the caller's pending offer; it fails when there is none.
func (b *board) offer(c caller) agents.Offer {
	b.t.Helper()
	select {
	case o, ok := <-c.offers:
		if !ok {
			b.t.Fatalf("%s: offers closed", c.CallID())
		}
		return o
	default:
		b.t.Fatalf("%s: no offer", c.CallID())
	}
	return agents.Offer{}
}

// none checks that the caller has no offer pending.
func (b *board) none(c caller) {
	b.t.Helper()
	select {
	case o, ok := <-c.offers:
		if ok {
			b.t.Fatalf("%s: unexpected offer to %v", c.CallID(), targets(o))
		}
	default:
	}
}

func targets(o agents.Offer) []string {
	var ids []string
	for _, a := range o.Agents {
		ids = append(ids, a.ID)
	}
	return ids
}

// to checks that o rings exactly the agents ids.
func (b *board) to(o agents.Offer, ids ...string) {
	b.t.Helper()
	if got := targets(o); !slices.Equal(got, ids) {
		b.t.Fatalf("%s offered to %v; want %v", o.Ticket.CallID(), got, ids)
	}
}

func (b *board) status(id string) agents.Status {
	b.t.Helper()
	s, ok := b.Agent(id)
	if !ok {
		b.t.Fatalf("agent %s unknown", id)
	}
	return s
}

// is checks the states of agents: pairs of id and state.
func (b *board) is(pairs ...any) {
	b.t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		id, want := pairs[i].(string), pairs[i+1].(agents.State)
		if got := b.status(id).State; got != want {
			b.t.Errorf("agent %s is %v; want %v", id, got, want)
		}
	}
}

// answer has agent id answer o, checks it won, and releases the other
// agents of o (ring_all).
func (b *board) answer(o agents.Offer, id string) {
	b.t.Helper()
	if !slices.Contains(targets(o), id) {
		b.t.Fatalf("%s offered to %v, not %s", o.Ticket.CallID(), targets(o), id)
	}
	if !b.Answered(o, id) {
		b.t.Fatalf("%s: Answered by %s lost", o.Ticket.CallID(), id)
	}
	for _, other := range targets(o) {
		if other != id {
			b.Released(o, other)
		}
	}
}

// take has agent id answer the caller's pending offer.
func (b *board) take(c caller, id string) { b.t.Helper(); b.answer(b.offer(c), id) }

// served has each caller's pending offer answered by the agent it rings
// and the call ended at once, in turn; it returns who took each.
func (b *board) served(cs ...caller) []string {
	b.t.Helper()
	var out []string
	for _, c := range cs {
		o := b.offer(c)
		id := o.Agents[0].ID
		b.answer(o, id)
		b.Ended(id)
		out = append(out, id)
	}
	return out
}
