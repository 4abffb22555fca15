package queue

import (
	"fmt"
	"time"
)

// Outcome is how a caller left a queue; the zero value means it has not.
type Outcome uint8

// The outcomes of a ticket.
const (
	Waiting   Outcome = iota // still in the queue
	Answered                 // taken by the next step: a transfer, or an agent (Manager.Next)
	Abandoned                // the caller hung up while waiting
	TimedOut                 // MaxWait passed: offered a callback or routed on
	Withdrawn                // taken out unserved and not counted: a callback cancelled or put off (issue 13)
)

// String returns the outcome's name in lower case, as logs and call
// records spell it.
func (o Outcome) String() string {
	switch o {
	case Waiting:
		return "waiting"
	case Answered:
		return "answered"
	case Abandoned:
		return "abandoned"
	case TimedOut:
		return "timed_out"
	case Withdrawn:
		return "withdrawn"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// Ticket is one call's place in a queue, from Join until it leaves. Its
// methods are safe for concurrent use; once it has left, Position and
// EstimatedWait report 0 and Waited the final wait.
type Ticket struct {
	m       *Manager
	q       *queue
	callID  string
	prio    int
	seq     uint64
	joined  time.Time
	joinPos int
	// uncounted: a callback's place (JoinCallback), out of the figures.
	uncounted bool

	// Guarded by m.mu.
	outcome Outcome
	wait    time.Duration // final, once left
	changed chan struct{} // open while someone watches; in q.watchers
}

// CallID is the call the ticket belongs to.
func (t *Ticket) CallID() string { return t.callID }

// Queue is the name of the ticket's queue.
func (t *Ticket) Queue() string { return t.q.cfg.Name }

// Priority is the priority the caller joined with.
func (t *Ticket) Priority() int { return t.prio }

// Before reports whether t is served before u when one agent can take
// either: the higher priority first, then the one that joined first,
// across all queues of the Manager (join order is global). It does not
// look at the queues' classes (Yields).
func (t *Ticket) Before(u *Ticket) bool { return ahead(t, u) }

// Outcome is how the caller left the queue, or Waiting.
func (t *Ticket) Outcome() Outcome {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	return t.outcome
}

// Position is the caller's 1-based place in line among the callers of its
// queue: those of higher priority, then those of its priority that joined
// earlier, are ahead of it. It is 0 once the caller has left.
func (t *Ticket) Position() int {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.outcome != Waiting {
		return 0
	}
	return t.q.position(t)
}

// EstimatedWait is the wait the caller has left: its position times the
// per-place time of the queue (see the package doc), or 0 once it has
// left. It does not depend on how long the caller has already waited.
func (t *Ticket) EstimatedWait() time.Duration {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.outcome != Waiting {
		return 0
	}
	return t.q.estimate(t.q.position(t))
}

// Estimate is EstimatedWait and whether it rests on real figures: the
// waits of callers this queue answered. Before the first answered caller
// the estimate is the configured guess, not a figure to quote to a caller
// (CS-PROMISE).
func (t *Ticket) Estimate() (time.Duration, bool) {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.outcome != Waiting {
		return 0, false
	}
	_, real := t.q.recent.perPlace()
	return t.q.estimate(t.q.position(t)), real
}

// Waited is how long the caller has waited at now, or, once it has left,
// how long it waited in all.
func (t *Ticket) Waited(now time.Time) time.Duration {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.outcome != Waiting {
		return t.wait
	}
	return waitBetween(t.joined, now)
}

// Deadline is when the caller's wait reaches the queue's MaxWait, for the
// flow's timer; ok is false when the queue has no limit. A reload that
// changes MaxWait moves it.
func (t *Ticket) Deadline() (at time.Time, ok bool) {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.q.cfg.MaxWait <= 0 {
		return time.Time{}, false
	}
	return t.joined.Add(t.q.cfg.MaxWait), true
}

// Expired reports whether the caller is still waiting and has waited the
// queue's MaxWait or longer at now: time for the flow to offer a callback
// or route the call on, and then to Leave with TimedOut.
func (t *Ticket) Expired(now time.Time) bool {
	at, ok := t.Deadline()
	return ok && !now.Before(at) && t.Outcome() == Waiting
}

// Leave takes the caller out of the queue at now with outcome o (Answered,
// Abandoned, TimedOut, or Withdrawn, which is not counted) and counts its
// wait. Only the first Leave counts:
// Leave returns the outcome in force, so a caller who hangs up just as an
// agent took the call sees Answered. It panics on Waiting or an unknown
// outcome.
func (t *Ticket) Leave(now time.Time, o Outcome) Outcome {
	if o != Answered && o != Abandoned && o != TimedOut && o != Withdrawn {
		panic(fmt.Sprintf("queue: Leave with %v", o))
	}
	t.m.mu.Lock()
	if t.outcome != Waiting {
		defer t.m.mu.Unlock()
		return t.outcome
	}
	t.m.leave(t, now, o)
	hook := t.m.onLeave
	t.m.mu.Unlock()
	if hook != nil {
		hook(t)
	}
	return o
}

// Changed returns a channel that is closed when the caller's position
// changes (a caller ahead left, or one of higher priority joined ahead) or
// when the caller leaves the queue, for whatever reason. Call it again
// after each change for the next one. Once the caller has left it returns
// a closed channel. A hold announcement reads Position and EstimatedWait
// after it fires; a flow also learns here that an agent took the call
// (Outcome is then Answered).
func (t *Ticket) Changed() <-chan struct{} {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.outcome != Waiting {
		return closed
	}
	if t.changed == nil {
		t.changed = make(chan struct{})
		t.q.watchers[t] = struct{}{}
	}
	return t.changed
}

// fire closes t's Changed channel; m.mu is held and t is already out of
// q.watchers.
func (t *Ticket) fire() {
	close(t.changed)
	t.changed = nil
}

// closed is the channel Changed returns for a ticket that has left.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// SpokenMinutes is d in whole minutes for a spoken announcement, rounded
// up and at least 1: "about 3 minutes", never "about 0 minutes".
func SpokenMinutes(d time.Duration) int {
	if d <= 0 {
		return 1
	}
	n := d / time.Minute
	if d%time.Minute != 0 {
		n++
	}
	return int(n)
}
