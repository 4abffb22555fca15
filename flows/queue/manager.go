package queue

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Manager holds kefu's named queues; make one with NewManager. It is safe
// for concurrent use: each call's goroutine holds its own Ticket, and
// agents take callers with Next, all under one mutex.
type Manager struct {
	// Agents, when set, says how many agents are signed in for a queue
	// and able to take its callers (agents.Board.Serving); nil: none. Set
	// it before the Manager is used; it is called outside the Manager's
	// lock.
	Agents func(queue string) int

	mu      sync.Mutex
	queues  map[string]*queue  // configured and draining queues
	order   []*queue           // as configured, then the draining ones, for Figures and Next without names
	calls   map[string]*Ticket // call id → its ticket, while waiting
	seq     uint64             // join order across all queues
	onLeave func(*Ticket)      // see OnLeave
}

// Staffed reports whether an agent can take the named queue's callers
// (CS-PROMISE: no caller is queued for nobody).
func (m *Manager) Staffed(name string) bool { return m.Agents != nil && m.Agents(name) > 0 }

// NewManager builds the queues of cfgs, in that order. It refuses an
// unnamed queue, a name given twice, and negative or out-of-range values.
func NewManager(cfgs []Config) (*Manager, error) {
	cfgs, err := checkConfigs(cfgs)
	if err != nil {
		return nil, err
	}
	m := &Manager{queues: make(map[string]*queue, len(cfgs)), calls: make(map[string]*Ticket)}
	for _, c := range cfgs {
		q := newQueue(c)
		m.queues[c.Name] = q
		m.order = append(m.order, q)
	}
	return m, nil
}

// checkConfigs validates cfgs and fills their defaults.
func checkConfigs(cfgs []Config) ([]Config, error) {
	out := make([]Config, 0, len(cfgs))
	seen := make(map[string]bool, len(cfgs))
	for _, c := range cfgs {
		c, err := c.withDefaults()
		if err != nil {
			return nil, err
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("queue %q is configured twice", c.Name)
		}
		seen[c.Name] = true
		out = append(out, c)
	}
	return out, nil
}

func newQueue(c Config) *queue {
	return &queue{cfg: c, watchers: make(map[*Ticket]struct{}), recent: newWindow(c.Window)}
}

// Has reports whether a queue of that name is configured (a removed queue
// that still drains is not), for validating flows and agents at load time.
func (m *Manager) Has(name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.queues[name]
	return ok && !q.draining
}

// OnLeave sets f to be called with every ticket that leaves its queue
// (Ticket.Leave, Next), once per ticket, after the Manager's lock is
// released and from the goroutine that made it leave; nil removes it. A
// dispatcher of agents learns here that a caller it offered is gone. f
// may call the Manager; it must not block.
func (m *Manager) OnLeave(f func(*Ticket)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onLeave = f
}

// Join puts a call in the queue called name at now. Higher priority is
// served first; callers of equal priority are served in the order they
// joined (at the same instant: by call id). A call waits in at most one
// queue at a time: to route it on, leave the first queue (TimedOut), then
// join the next one. A now in the past keeps an earlier place: a
// callback (issue 13) joins with the time its caller joined, ahead of
// everyone who joined later, behind everyone who joined earlier, and its
// wait counts from then.
func (m *Manager) Join(name, callID string, priority int, now time.Time) (*Ticket, error) {
	return m.join(name, callID, priority, now, false)
}

func (m *Manager) join(name, callID string, priority int, now time.Time, uncounted bool) (*Ticket, error) {
	if callID == "" {
		return nil, fmt.Errorf("join %q: %w", name, ErrNoCallID)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.queues[name]
	if !ok || q.draining {
		return nil, fmt.Errorf("join %q: %w", name, ErrUnknownQueue)
	}
	if other, ok := m.calls[callID]; ok {
		return nil, fmt.Errorf("call %s joining %q: %w (%q)", callID, name, ErrAlreadyQueued, other.q.cfg.Name)
	}
	m.seq++
	t := &Ticket{m: m, q: q, callID: callID, prio: priority, seq: m.seq, joined: now, uncounted: uncounted}
	q.add(t)
	t.joinPos = q.position(t)
	m.calls[callID] = t
	q.notifyBehind(t)
	return t, nil
}

// Next takes the caller an agent should serve next from the named queues
// (all queues when none are named): the highest priority, then the one
// that joined first, among the normal queues; from the queues with Yields
// only when no named normal queue has a caller. The caller leaves its
// queue as Answered at now, and its ticket's Changed fires. Next returns
// nil and no error when nobody is waiting, and ErrUnknownQueue for a name
// that is not configured.
func (m *Manager) Next(now time.Time, names ...string) (*Ticket, error) {
	t, hook, err := m.next(now, names)
	if t != nil && hook != nil {
		hook(t)
	}
	return t, err
}

func (m *Manager) next(now time.Time, names []string) (*Ticket, func(*Ticket), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	qs := m.order
	if len(names) > 0 {
		qs = make([]*queue, 0, len(names))
		for _, name := range names {
			q, ok := m.queues[name]
			if !ok {
				return nil, nil, fmt.Errorf("next from %q: %w", name, ErrUnknownQueue)
			}
			qs = append(qs, q)
		}
	}
	var normal, lower *Ticket
	for _, q := range qs {
		h := q.head()
		switch {
		case h == nil:
		case !q.cfg.Yields && (normal == nil || ahead(h, normal)):
			normal = h
		case q.cfg.Yields && (lower == nil || ahead(h, lower)):
			lower = h
		}
	}
	t := normal
	if t == nil {
		t = lower
	}
	if t != nil {
		m.leave(t, now, Answered)
	}
	return t, m.onLeave, nil
}

// leave takes t out of its queue with outcome o and counts it; m.mu is
// held and t is still waiting.
func (m *Manager) leave(t *Ticket, now time.Time, o Outcome) {
	q := t.q
	q.notifyBehind(t)
	q.remove(t)
	delete(m.calls, t.callID)
	t.outcome, t.wait = o, waitBetween(t.joined, now)
	switch {
	case t.uncounted: // a callback: its caller was counted when they left
	case o == Answered:
		q.answered.add(t.wait)
		if !q.shared {
			q.recent.add(t.wait, t.joinPos)
		}
	case o == Abandoned:
		q.abandoned.add(t.wait)
	case o == TimedOut:
		q.timedOut.add(t.wait)
	}
	if t.changed != nil {
		delete(q.watchers, t)
		t.fire()
	}
	if q.draining && q.waiting == 0 {
		m.drop(q)
	}
}

// queue is one named queue; all of it is guarded by Manager.mu, except
// cfg.Name, which never changes.
type queue struct {
	cfg      Config
	draining bool   // removed by Reconfigure; gone when its last caller leaves
	lines    []line // one per distinct priority of the callers waiting, highest first
	waiting  int
	watchers map[*Ticket]struct{} // tickets whose Changed channel is open
	recent   window               // the last answered waits, for the estimate
	shared   bool                 // recent is fed by SetRecent only

	answered, abandoned, timedOut waitStats
}

// line is the callers of one priority in join order (joined, call id, seq).
type line struct {
	prio    int
	tickets []*Ticket
}

// ahead reports whether a is served before b in the same queue.
func ahead(a, b *Ticket) bool {
	return a.prio > b.prio || a.prio == b.prio && order(a, b) < 0
}

// order compares two tickets of one priority: the one that joined first
// comes first (JoinCallback may place a callback among earlier joins);
// of two that joined at the same instant, the smaller call id (bytewise),
// an order every node of a hotline and its database agree on
// (flows/cluster/pgline), whichever reached the Manager first.
func order(a, b *Ticket) int {
	if c := a.joined.Compare(b.joined); c != 0 {
		return c
	}
	if c := strings.Compare(a.callID, b.callID); c != 0 {
		return c
	}
	switch {
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

// find returns the index of the line of priority prio, or where it would
// be inserted.
func (q *queue) find(prio int) (int, bool) {
	for i, l := range q.lines {
		if l.prio <= prio {
			return i, l.prio == prio
		}
	}
	return len(q.lines), false
}

// index returns the line of t and t's index in it; t is waiting.
func (q *queue) index(t *Ticket) (li, ti int) {
	li, _ = q.find(t.prio)
	ti, _ = slices.BinarySearchFunc(q.lines[li].tickets, t, order)
	return li, ti
}

func (q *queue) add(t *Ticket) {
	i, ok := q.find(t.prio)
	if !ok {
		q.lines = slices.Insert(q.lines, i, line{prio: t.prio})
	}
	ts := q.lines[i].tickets
	if n := len(ts); n == 0 || order(ts[n-1], t) < 0 {
		q.lines[i].tickets = append(ts, t) // the usual case: the last to join
	} else {
		at, _ := slices.BinarySearchFunc(ts, t, order)
		q.lines[i].tickets = slices.Insert(ts, at, t)
	}
	q.waiting++
}

func (q *queue) remove(t *Ticket) {
	li, ti := q.index(t)
	l := &q.lines[li]
	if ti == 0 {
		l.tickets[0] = nil // the head: no copy, the slice moves on
		l.tickets = l.tickets[1:]
	} else {
		l.tickets = slices.Delete(l.tickets, ti, ti+1)
	}
	if len(l.tickets) == 0 {
		q.lines = slices.Delete(q.lines, li, li+1)
	}
	q.waiting--
}

// position is t's 1-based place in line; t is waiting.
func (q *queue) position(t *Ticket) int {
	li, ti := q.index(t)
	p := ti + 1
	for _, l := range q.lines[:li] {
		p += len(l.tickets)
	}
	return p
}

// head is the caller served next, or nil.
func (q *queue) head() *Ticket {
	if len(q.lines) == 0 {
		return nil
	}
	return q.lines[0].tickets[0]
}

// notifyBehind fires the Changed channels of the tickets behind t, whose
// position t's joining or leaving moves.
func (q *queue) notifyBehind(t *Ticket) {
	for w := range q.watchers {
		if w != t && ahead(t, w) {
			delete(q.watchers, w)
			w.fire()
		}
	}
}

// perPlace is the estimated time one place in line takes to clear.
func (q *queue) perPlace() time.Duration {
	if s, ok := q.recent.perPlace(); ok {
		return s
	}
	return q.cfg.InitialEstimate
}

// estimate is the wait left for a caller at position p.
func (q *queue) estimate(p int) time.Duration {
	return time.Duration(p) * q.perPlace()
}

// waitBetween is the wait from joined to now, never negative.
func waitBetween(joined, now time.Time) time.Duration {
	return max(now.Sub(joined), 0)
}
