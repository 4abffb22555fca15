package agents

import (
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// Board holds kefu's agents, their states, and the offers of waiting
// callers to them; make one with NewBoard. It is safe for concurrent use.
//
// Lock order: the Board's mutex, then the queue Manager's. The Board
// calls the Manager and its tickets while holding its own lock, except
// Ticket.Leave, which it calls unlocked; the Manager calls the Board (the
// OnLeave hook, Serving through Manager.Agents) only outside its lock.
type Board struct {
	now func() time.Time
	log *slog.Logger

	mu      sync.Mutex
	qm      *queue.Manager
	agents  map[string]*agent // configured agents, and removed ones still ringing or on a call
	queues  map[string]*qstate
	qs      []*qstate // the queues agents work in; qs[i].name is names[i]
	names   []string
	waiters map[*queue.Ticket]*waiter
	subs    map[chan struct{}]struct{}
	heads   []queue.Head             // scratch for distribute
	skip    func(*queue.Ticket) bool // b.offered, made once
}

// agent is one agent's configuration and state, guarded by Board.mu.
type agent struct {
	id, name   string
	members    []Membership
	queues     []*qstate // the queues of members, for the nuisance rule
	fixed      string    // configured contact
	regContact string    // the registered contact, while registered
	registered bool

	state     State
	reason    string    // why paused
	since     time.Time // in state since
	signedIn  time.Time // last sign-in: longest idle counts from here when later than lastEnded
	lastEnded time.Time
	callID    string // the caller ringing or on the call
	callQueue string
	offer     *offer // while Ringing
	calls     int    // answered on day
	day       int    // yyyymmdd of calls
	missed    int    // in a row

	signOut     bool // go Offline when the offer or call ends
	pause       bool // go Paused (pauseReason) when it ends
	pauseReason string
	removed     bool // no longer configured: gone when it ends

	wrapGen uint64 // a wrap-up timer fires only if still current
	wrap    *time.Timer
}

func (a *agent) contact() string {
	if a.registered {
		return a.regContact
	}
	return a.fixed
}

// idleSince is when the agent last became free of calls: the end of the
// last call, or the sign-in if later.
func (a *agent) idleSince() time.Time {
	if a.lastEnded.After(a.signedIn) {
		return a.lastEnded
	}
	return a.signedIn
}

// callsOn is the agent's answered calls on the day of now.
func (a *agent) callsOn(now time.Time) int {
	if a.day != dayOf(now) {
		return 0
	}
	return a.calls
}

func dayOf(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// qstate is one queue agents work in: its rules and its agents by level.
type qstate struct {
	name   string
	rules  Rules
	levels []*level // ascending level
	idx    int      // in Board.qs
}

// level is the agents of one level of a queue, in configured order.
type level struct {
	n      int
	agents []*agent
	last   string // round robin: the agent offered last
}

// Option adjusts a Board.
type Option func(*Board)

// WithLogger logs the board's notable events to l: an agent paused for
// missed offers, an offer that nobody ended; the default discards. A nil
// l changes nothing.
func WithLogger(l *slog.Logger) Option {
	return func(b *Board) {
		if l != nil {
			b.log = l
		}
	}
}

// NewBoard builds the board of agents on the queues of qm, and listens to
// qm for callers leaving. now is the clock (time.Now when nil). It
// refuses an agent with an empty, non-digit or repeated id, a queue qm
// does not have, a level below 0, and rules that are out of range (see
// check). Agents with a fixed Contact start Available; the others are
// Offline until their phone registers (SignIn).
func NewBoard(qm *queue.Manager, agents []Agent, rules []Rules, now func() time.Time, opts ...Option) (*Board, error) {
	c, err := check(qm, agents, rules)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	b := &Board{
		now: now, log: slog.New(slog.DiscardHandler), qm: qm,
		agents: map[string]*agent{}, waiters: map[*queue.Ticket]*waiter{}, subs: map[chan struct{}]struct{}{},
	}
	for _, o := range opts {
		o(b)
	}
	b.skip = b.offered
	b.apply(c, now())
	qm.OnLeave(b.left)
	return b, nil
}

// Reconfigure applies a reloaded configuration. Agents that stay (the same
// id) keep their state, contact, counts and any offer or call in
// progress; new agents start as NewBoard starts them; an agent removed
// while ringing or on a call finishes it and is then gone (Status.Removed
// meanwhile), the others are gone at once. qm is the queue manager of the
// new configuration: pass the same one, reconfigured (queue.Manager.
// Reconfigure), to keep the waiting callers; offers in progress finish
// either way. A refused configuration changes nothing.
func (b *Board) Reconfigure(qm *queue.Manager, agents []Agent, rules []Rules) error {
	c, err := check(qm, agents, rules)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if qm != b.qm {
		b.qm = qm
		qm.OnLeave(b.left) // the old manager keeps calling b.left for its tickets
	}
	b.apply(c, b.now())
	b.mu.Unlock()
	return nil
}

// apply installs c: b.mu is held, or b is new.
func (b *Board) apply(c config, now time.Time) {
	old := b.queues
	b.queues = make(map[string]*qstate, len(c.order))
	b.qs, b.names = b.qs[:0], b.names[:0]
	for i, name := range c.order {
		q := &qstate{name: name, rules: c.rules[name], idx: i}
		b.queues[name], b.qs, b.names = q, append(b.qs, q), append(b.names, name)
	}
	keep := make(map[string]bool, len(c.agents))
	for _, ac := range c.agents {
		keep[ac.ID] = true
		a, ok := b.agents[ac.ID]
		if !ok {
			a = &agent{id: ac.ID, since: now}
			b.agents[ac.ID] = a
		}
		a.name, a.members, a.fixed, a.removed = ac.Name, ac.Queues, ac.Contact, false
		a.queues = a.queues[:0]
		for _, m := range ac.Queues {
			q := b.queues[m.Queue]
			a.queues = append(a.queues, q)
			i, found := slices.BinarySearchFunc(q.levels, m.Level, func(l *level, n int) int { return l.n - n })
			if !found {
				q.levels = slices.Insert(q.levels, i, &level{n: m.Level})
			}
			q.levels[i].agents = append(q.levels[i].agents, a)
		}
		switch {
		case !ok && a.fixed != "":
			b.signIn(a, now)
		case a.contact() == "" && a.state != Offline:
			b.goOffline(a, now) // its fixed contact was taken away
		}
	}
	for id, a := range b.agents {
		if keep[id] {
			continue
		}
		a.members, a.queues = nil, nil
		if a.state == Ringing || a.state == OnCall {
			a.removed = true
			continue
		}
		b.stopWrap(a)
		delete(b.agents, id)
	}
	for _, q := range b.qs { // round robin goes on where it was
		if o := old[q.name]; o != nil {
			for _, l := range q.levels {
				for _, ol := range o.levels {
					if ol.n == l.n {
						l.last = ol.last
					}
				}
			}
		}
	}
	b.react()
}

// Agent returns the status of the agent id.
func (b *Board) Agent(id string) (Status, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.agents[id]
	if !ok {
		return Status{}, false
	}
	return a.status(b.now()), true
}

// Agents returns the status of every agent, sorted by id.
func (b *Board) Agents() []Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	out := make([]Status, 0, len(b.agents))
	for _, a := range b.agents {
		out = append(out, a.status(now))
	}
	slices.SortFunc(out, func(x, y Status) int {
		if len(x.ID) != len(y.ID) { // numeric order for digit ids
			return len(x.ID) - len(y.ID)
		}
		switch {
		case x.ID < y.ID:
			return -1
		case x.ID > y.ID:
			return 1
		}
		return 0
	})
	return out
}

func (a *agent) status(now time.Time) Status {
	s := Status{
		ID: a.id, Name: a.name, State: a.state, Reason: a.reason, Contact: a.contact(), Registered: a.registered,
		Queues: slices.Clone(a.members), CallID: a.callID, Queue: a.callQueue, Since: a.since,
		CallsToday: a.callsOn(now), Missed: a.missed, LastEnded: a.lastEnded, Removed: a.removed,
	}
	if s.Queues == nil {
		s.Queues = []Membership{}
	}
	switch {
	case a.signOut:
		s.Then = Offline.String()
	case a.pause:
		s.Then = Paused.String()
	}
	return s
}

// Serving is the number of agents who can take the queue's callers now or
// soon: signed in and not paused (available, ringing, on a call, in
// wrap-up). Set it as the queue Manager's Agents, for Staffed (CS-PROMISE).
func (b *Board) Serving(queueName string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queues[queueName]
	if q == nil {
		return 0
	}
	n := 0
	for _, l := range q.levels {
		for _, a := range l.agents {
			switch a.state {
			case Available, Ringing, OnCall, WrapUp:
				n++
			}
		}
	}
	return n
}

// Subscribe returns a channel that receives a signal (coalesced: at most
// one pending) after the board changed, for a live view or metrics, and a
// function that ends the subscription.
func (b *Board) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

// changed signals the subscribers; b.mu is held.
func (b *Board) changed() {
	for ch := range b.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
