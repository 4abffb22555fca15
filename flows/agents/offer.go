package agents

import (
	"slices"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// offerGrace is how long after its ring timeout the board waits for an
// offer's owner to end it before it frees the agents itself (a safety net
// against an owner that never reports; owners end offers at the ring
// timeout).
const offerGrace = time.Minute

// waiter is a waiting caller the board may offer, from Wait until its
// ticket has left and its last offer has ended; guarded by Board.mu.
type waiter struct {
	t      *queue.Ticket
	ch     chan Offer // buffer of one: the board never blocks on it
	closed bool       // the ticket left: ch is closed, no more offers
	offer  *offer     // the offer out, if any
	tried  []*agent   // offered this caller in the current round
	last   *agent     // missed this caller last
}

// rank orders the free agents for a caller: 0 not offered it yet in this
// round, 1 offered it already, 2 just missed it.
func (w *waiter) rank(a *agent) int {
	switch {
	case a == w.last:
		return 2
	case slices.Contains(w.tried, a):
		return 1
	}
	return 0
}

// offer is the board's record of an Offer; guarded by Board.mu.
type offer struct {
	w       *waiter
	q       *qstate  // the queue's state when offered (its rules)
	pending []*agent // ringing, not yet ended
	winner  *agent   // answered first; its Answered is in progress or done
	timer   *time.Timer
	ended   bool
}

// Wait registers the caller's ticket for offers and returns the channel
// they arrive on, one at a time: a new offer comes only after the caller's
// goroutine has ended the last one for each of its agents (Answered,
// Missed or Released). The channel is closed once the ticket has left its
// queue, so receive with o, ok := <-ch. An offer the goroutine has not
// received when the ticket leaves is withdrawn by the board; one it has
// received is its to end. Wait for the same ticket again returns the same
// channel; for a ticket that has already left, a closed channel.
func (b *Board) Wait(t *queue.Ticket) <-chan Offer {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w := b.waiters[t]; w != nil {
		return w.ch
	}
	w := &waiter{t: t, ch: make(chan Offer, 1)}
	if t.Outcome() != queue.Waiting { // left before Wait: no hook will come
		close(w.ch)
		return w.ch
	}
	// Should the ticket leave from now on, the hook waits for b.mu and
	// finds the waiter.
	b.waiters[t] = w
	b.distribute()
	return w.ch
}

// offered is Manager.Heads' skip: a caller nobody waits for on the board,
// or one with an offer out, is not offered now. Called with b.mu held.
func (b *Board) offered(t *queue.Ticket) bool {
	w := b.waiters[t]
	return w == nil || w.offer != nil || w.closed
}

// Answered records that agentID answered the offer. The caller leaves its
// queue Answered and the agent is OnCall with the caller's call; true.
// False when the caller had already left (hung up at that moment: the
// caller's Leave came first; the owner then hangs up the agent's leg),
// when another agent of the offer answered first (ring_all), or when the
// offer is no longer the agent's: the agent, if it was ringing for it, is
// then free again, with no miss. Exactly one of the caller's hang-up and
// the agent's answer wins.
func (b *Board) Answered(o Offer, agentID string) bool {
	b.mu.Lock()
	of := o.of
	a := b.agents[agentID]
	if of == nil || a == nil || a.offer != of || of.winner == a {
		b.mu.Unlock()
		return false
	}
	if of.winner != nil {
		b.end(of, a, b.now(), "")
		b.react()
		b.mu.Unlock()
		return false
	}
	of.winner = a // from here only this call ends a's part in the offer
	t := of.w.t
	b.mu.Unlock()

	// Unlocked: Leave calls the board's OnLeave hook.
	won := t.Leave(b.now(), queue.Answered) == queue.Answered

	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if !won {
		b.end(of, a, now, "")
		b.react()
		return false
	}
	of.pending = slices.DeleteFunc(of.pending, func(x *agent) bool { return x == a })
	a.offer = nil
	if d := dayOf(now); a.day != d {
		a.day, a.calls = d, 0
	}
	a.calls++
	a.missed = 0
	b.set(a, OnCall, now) // keeps callID and callQueue
	if len(of.pending) == 0 {
		b.close(of)
	}
	b.react()
	return true
}

// Missed records that agentID did not take the offer, and why. The agent
// is free again and its missed count grows; at the queue's MaxMissed in a
// row it is paused, reason "no answer" ("unreachable" when the last miss
// was Failed). Once no agent of the offer rings any more, the caller is
// offered again by the strategy: to an agent not yet tried for them when
// one is free, never straight back to the agent who just missed unless
// nobody else is free.
func (b *Board) Missed(o Offer, agentID string, why Miss) {
	b.mu.Lock()
	defer b.mu.Unlock()
	of := o.of
	a := b.agents[agentID]
	if of == nil || a == nil || a.offer != of || of.winner == a {
		return
	}
	w := of.w
	w.last = a
	if !slices.Contains(w.tried, a) {
		w.tried = append(w.tried, a)
	}
	a.missed++
	pause := ""
	if limit := of.q.rules.MaxMissed; limit > 0 && a.missed >= limit {
		pause = ReasonNoAnswer
		if why == Failed {
			pause = ReasonUnreachable
		}
		b.log.Info("agent paused: offers missed in a row", "agent", a.id, "missed", a.missed, "last", why.String(), "queue", of.q.name)
	}
	b.end(of, a, b.now(), pause)
	b.react()
}

// Released frees agentID from the offer without a miss: another agent
// answered (ring_all), or the caller hung up while it rang (after the
// agent's leg was cancelled).
func (b *Board) Released(o Offer, agentID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	of := o.of
	a := b.agents[agentID]
	if of == nil || a == nil || a.offer != of || of.winner == a {
		return
	}
	b.end(of, a, b.now(), "")
	b.react()
}

// Ended records that the agent's bridged call ended: wrap-up for the
// queue's WrapUp, then Available; Offline or Paused instead when asked for
// during the call; gone if removed by a reload. It ignores an agent not
// on a call.
func (b *Board) Ended(agentID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.agents[agentID]
	if a == nil || a.state != OnCall {
		return
	}
	now := b.now()
	a.lastEnded = now
	wrap := DefaultWrapUp
	if q := b.queues[a.callQueue]; q != nil {
		wrap = q.rules.WrapUp
	}
	if a.removed || a.signOut || a.pause || wrap <= 0 {
		b.settle(a, now, "")
	} else {
		b.set(a, WrapUp, now)
		gen := a.wrapGen
		a.wrap = time.AfterFunc(wrap, func() { b.wrapped(a, gen) })
	}
	b.react()
}

// wrapped ends a's wrap-up, unless something else ended it already.
func (b *Board) wrapped(a *agent, gen uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a.wrapGen != gen || a.state != WrapUp {
		return
	}
	a.wrap = nil
	b.set(a, Available, b.now())
	b.react()
}

// end takes a out of of (a missed it, was released, or lost) and settles
// it; the offer closes when nobody rings any more. b.mu is held.
func (b *Board) end(of *offer, a *agent, now time.Time, pause string) {
	of.pending = slices.DeleteFunc(of.pending, func(x *agent) bool { return x == a })
	a.offer = nil
	b.settle(a, now, pause)
	if len(of.pending) == 0 { // a winner stays pending until its Answered is done
		b.close(of)
	}
}

// close ends an offer nobody rings for; b.mu is held. The caller, if
// still waiting, is offered again by the next distribution.
func (b *Board) close(of *offer) {
	if of.ended {
		return
	}
	of.ended = true
	if of.timer != nil {
		of.timer.Stop()
	}
	w := of.w
	if w.offer == of {
		w.offer = nil
	}
	if w.closed {
		delete(b.waiters, w.t)
	}
}

// left is the queue Manager's OnLeave hook: the caller's ticket left its
// queue. An offer the caller's goroutine has not received is withdrawn
// (its agents are free again, no miss); one it received is its to end.
// The caller's channel is closed.
func (b *Board) left(t *queue.Ticket) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.waiters[t]
	if w != nil && !w.closed {
		b.withdraw(w)
		w.closed = true
		close(w.ch)
		if w.offer == nil {
			delete(b.waiters, t)
		}
	}
	// A customer leaving may let an agent take a nuisance caller.
	b.react()
}

// withdraw takes back w's offer if its goroutine has not received it;
// b.mu is held.
func (b *Board) withdraw(w *waiter) bool {
	of := w.offer
	if of == nil || of.winner != nil {
		return false
	}
	select {
	case <-w.ch:
	default:
		return false // received: the goroutine ends it
	}
	now := b.now()
	for _, a := range slices.Clone(of.pending) {
		b.end(of, a, now, "")
	}
	b.close(of)
	return true
}

// expire is the safety net of an offer: its ring timeout and offerGrace
// passed and it is still out. The agents still ringing for it are freed
// without a miss; an agent answering at this moment keeps its part.
func (b *Board) expire(of *offer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if of.ended {
		return
	}
	b.log.Warn("offer not ended by its owner: agents freed", "call_id", of.w.t.CallID(), "queue", of.q.name, "agents", len(of.pending))
	if b.withdraw(of.w) {
		b.react()
		return
	}
	now := b.now()
	for _, a := range slices.Clone(of.pending) {
		if a != of.winner {
			b.end(of, a, now, "")
		}
	}
	b.react()
}

// react signals the subscribers and distributes; b.mu is held.
func (b *Board) react() {
	b.changed()
	b.distribute()
}
