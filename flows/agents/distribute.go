package agents

import (
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// distribute makes every offer that can be made now; b.mu is held. It
// runs after each event: a caller waiting or leaving, an agent freed,
// signed in, a reload.
func (b *Board) distribute() {
	for b.offerNext() {
	}
}

// offerNext makes one offer: the caller served first among those an agent
// is free for, to the agents its queue's strategy picks. Normal queues
// come first; a queue that yields (the nuisance queue) is served only by
// free agents none of whose normal queues has a customer waiting. It
// reports whether it offered.
func (b *Board) offerNext() bool {
	b.heads = b.qm.Heads(b.names, b.skip, b.heads[:0])
	var (
		best *queue.Ticket
		bq   *qstate
		bl   *level
	)
	for _, yields := range [2]bool{false, true} {
		for i, q := range b.qs {
			h := b.heads[i]
			if h.First == nil || h.Yields != yields || best != nil && !h.First.Before(best) {
				continue
			}
			if l := b.freeLevel(q, yields); l != nil {
				best, bq, bl = h.First, q, l
			}
		}
		if best != nil {
			b.offer(b.waiters[best], bq, bl, yields)
			return true
		}
	}
	return false
}

// free reports whether a may be offered a caller of a queue of the given
// class now; b.heads is current.
func (b *Board) free(a *agent, yields bool) bool {
	if a.state != Available {
		return false
	}
	if yields {
		for _, q := range a.queues {
			if h := b.heads[q.idx]; !h.Yields && h.Waiting > 0 {
				return false // a customer waits for this agent (CS-NUISANCE)
			}
		}
	}
	return true
}

// freeLevel is q's best level with a free agent, or nil.
func (b *Board) freeLevel(q *qstate, yields bool) *level {
	for _, l := range q.levels {
		for _, a := range l.agents {
			if b.free(a, yields) {
				return l
			}
		}
	}
	return nil
}

// offer offers w's caller to the agents of level l of q that the
// strategy picks, and sends the offer to w's goroutine.
func (b *Board) offer(w *waiter, q *qstate, l *level, yields bool) {
	now := b.now()
	of := &offer{w: w, q: q}
	if q.rules.Strategy == RingAll {
		for _, a := range l.agents {
			if b.free(a, yields) {
				of.pending = append(of.pending, a)
			}
		}
	} else {
		of.pending = []*agent{b.pick(w, q, l, yields, now)}
	}
	o := Offer{Ticket: w.t, Queue: q.name, RingTimeout: q.rules.RingTimeout, Waited: w.t.Waited(now), of: of,
		Agents: make([]Target, 0, len(of.pending))}
	for _, a := range of.pending {
		b.set(a, Ringing, now)
		a.offer, a.callID, a.callQueue = of, w.t.CallID(), q.name
		o.Agents = append(o.Agents, Target{ID: a.id, Name: a.name, Contact: a.contact()})
	}
	w.offer = of
	of.timer = time.AfterFunc(q.rules.RingTimeout+offerGrace, func() { b.expire(of) })
	select {
	case <-w.ch: // never full: one offer at a time, and an ended one was received
	default:
	}
	w.ch <- o
	b.changed()
}

// pick is the agent of level l that q's strategy offers w's caller to:
// first those not yet offered this caller in this round, the one who just
// missed last of all, then by the strategy; ties go to configured order.
// b.mu is held and l has a free agent.
func (b *Board) pick(w *waiter, q *qstate, l *level, yields bool, now time.Time) *agent {
	var (
		p      *agent
		pr, pd int // p's rank and round-robin distance
	)
	cursor := -1
	if q.rules.Strategy == RoundRobin {
		for i, a := range l.agents {
			if a.id == l.last {
				cursor = i
			}
		}
	}
	n := len(l.agents)
	for i, a := range l.agents {
		if !b.free(a, yields) {
			continue
		}
		r, d := w.rank(a), (i-cursor-1+n)%n
		if p != nil && !b.before(q.rules.Strategy, a, r, d, p, pr, pd, now) {
			continue
		}
		p, pr, pd = a, r, d
	}
	if pr > 0 {
		w.tried = w.tried[:0] // everyone free was offered this caller: a new round
	}
	l.last = p.id
	return p
}

// before reports whether agent a (rank r, round-robin distance d) comes
// before p (rank pr, distance pd) under strategy s; on a tie it does not,
// so the earlier agent in configured order stays.
func (b *Board) before(s Strategy, a *agent, r, d int, p *agent, pr, pd int, now time.Time) bool {
	if r != pr {
		return r < pr
	}
	switch s {
	case RoundRobin:
		return d < pd
	case FewestCalls:
		if ac, pc := a.callsOn(now), p.callsOn(now); ac != pc {
			return ac < pc
		}
	}
	return a.idleSince().Before(p.idleSince())
}
