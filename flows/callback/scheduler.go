package callback

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
)

// Scheduler makes kefu's callbacks (issue 13). A callback waits in its
// queue with its caller's place (queue.Manager.JoinCallback at the time
// they joined): the board offers it an agent like any caller, never ahead
// of callers who joined earlier and never to an agent who is not free.
// The agent is rung first, hears that it is a callback and the customer's
// masked number, then the customer is called through the trunk; once
// they answer they hear the greeting and the two are put through. A
// callback is in its queue while its trunk is up and has a line for it:
// the callbacks in queues and those being made never exceed the trunk's
// MaxCalls, so an agent who takes a callback always has a line to call
// the customer on. A callback waits in its queue whether or not an agent
// serves it now, so that an agent who signs in or becomes ready finds it
// at its place at once; when lines are short, the callbacks of queues an
// agent serves go first.
//
// One goroutine (Run) owns the schedule; each callback in a queue has a
// goroutine of its own that waits for its offers and makes its attempt.
type Scheduler struct {
	cfg    Config
	log    *slog.Logger
	claims *claimer // nil: no other node

	events chan event
	quit   chan struct{}  // closed when Run has returned
	wg     sync.WaitGroup // the callbacks' goroutines

	// Owned by Run's goroutine.
	entries  map[int64]*entry
	lines    map[string]*line // ready callbacks by kind
	kinds    []string         // keys of lines, in first-seen order
	sleeping sleepers
	inQueue  map[string]int      // kind → its callbacks waiting in a queue
	queued   map[*entry]struct{} // the callbacks waiting in a queue
	slots    map[string]int      // trunk → its callbacks in queues or being made
	draining bool
	nQueued  int // callbacks waiting in queues
	nCalling int // callbacks being made

	mu    sync.Mutex
	stats Stats
}

// Stats counts the callbacks by where they are in the schedule.
type Stats struct {
	Waiting int // for their next attempt's time
	Ready   int // may be made now: waiting for an agent, a trunk line or service
	Queued  int // in their queue, waiting for an agent
	Calling int // being made
}

// entry is one open callback in the schedule; Run's goroutine owns it.
type entry struct {
	p     records.Pending
	kind  string
	place time.Time // the caller's place in line: Joined, else At
	state state
	idx   int // in its heap

	// Running.
	trunk     string
	stop      chan struct{} // closed: leave the queue if still waiting
	stopped   bool
	calling   bool
	cancelled bool // closed by ops while running: drop it when done
}

type state uint8

const (
	sleeping state = iota
	ready
	running
)

// event is work for Run's goroutine.
type event struct {
	add     *records.Pending
	cancel  int64
	poke    bool
	drain   chan struct{}
	idle    chan struct{}
	calling *entry
	done    *doneEvent
}

// doneEvent is the end of a callback's run in its queue.
type doneEvent struct {
	e      *entry
	closed bool            // the callback is closed (done, no answer, cancelled)
	next   records.Pending // else its state for the next attempt
	talked bool            // the agent and the customer were put through
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Queues == nil || cfg.Board == nil || cfg.Phone == nil || cfg.Book == nil || cfg.Settings == nil || cfg.Prompts == nil {
		return nil, errors.New("callback: Queues, Board, Phone, Book, Settings and Prompts are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ShortCall <= 0 {
		cfg.ShortCall = DefaultShortCall
	}
	if cfg.Pause <= 0 {
		cfg.Pause = DefaultPause
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = DefaultMaxQueued
	}
	s := &Scheduler{
		cfg: cfg, log: cfg.Logger, events: make(chan event), quit: make(chan struct{}),
		entries: map[int64]*entry{}, lines: map[string]*line{}, inQueue: map[string]int{}, slots: map[string]int{},
		queued: map[*entry]struct{}{},
	}
	if cfg.Claims != nil {
		if s.cfg.Lease <= 0 {
			s.cfg.Lease = DefaultLease
		}
		if s.cfg.Refresh <= 0 {
			s.cfg.Refresh = 5 * time.Second
		}
		s.claims = &claimer{c: cfg.Claims, kind: ClaimCallback, owner: cfg.Node, lease: s.cfg.Lease}
	}
	return s, nil
}

// Add schedules a callback just left (flows' collect verb stored it).
// It does nothing once Run has ended.
func (s *Scheduler) Add(ctx context.Context, c records.Callback) {
	s.send(ctx, event{add: &records.Pending{Callback: c, Round: 1}})
}

// Requeue schedules a callback ops opened again (records.AttemptBook.
// Reopen): it reads it back from the book.
func (s *Scheduler) Requeue(ctx context.Context, id int64) error {
	p, err := s.cfg.Book.PendingOne(ctx, id)
	if err != nil {
		return err
	}
	s.send(ctx, event{add: &p})
	return nil
}

// Cancel takes a callback ops closed out of the schedule: out of its
// queue if it waits there; a call in progress goes on.
func (s *Scheduler) Cancel(ctx context.Context, id int64) { s.send(ctx, event{cancel: id}) }

// Poke makes the scheduler look again at what may be made now: after a
// reload, or when a trunk went up or down.
func (s *Scheduler) Poke() {
	select {
	case s.events <- event{poke: true}:
	default: // busy: it looks again after what it is doing anyway
	}
}

// Drain stops the scheduler from putting callbacks in queues and takes
// those waiting there out (kefu is stopping); calls in progress go on
// until Run's ctx ends. It returns once the queues are clear.
func (s *Scheduler) Drain(ctx context.Context) {
	done := make(chan struct{})
	if s.send(ctx, event{drain: done}) {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
}

// Idle returns once no callback waits in a queue or is being made (after
// Drain: the calls in progress have ended), or when ctx ends.
func (s *Scheduler) Idle(ctx context.Context) {
	done := make(chan struct{})
	if s.send(ctx, event{idle: done}) {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
}

// Stats returns where the open callbacks are in the schedule.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// send hands ev to Run's goroutine; false when ctx ended first, or Run
// has returned.
func (s *Scheduler) send(ctx context.Context, ev event) bool {
	select {
	case s.events <- ev:
		return true
	case <-ctx.Done():
		return false
	case <-s.quit:
		return false
	}
}

// Run loads the open callbacks from the book (marking attempts a stop
// cut off as interrupted, so they are made again) and schedules them
// until ctx ends; then it ends the callbacks' calls (attempts
// interrupted: made again after the next start) and waits for their
// goroutines.
func (s *Scheduler) Run(ctx context.Context) error {
	defer close(s.quit)
	now := time.Now()
	n, err := s.cfg.Book.InterruptAttempts(ctx, now)
	if err == nil && n > 0 {
		s.log.Warn("callback attempts cut off by the last stop: they will be made again", "attempts", n)
	}
	var ps []records.Pending
	if err == nil {
		ps, err = s.cfg.Book.Pending(ctx)
	}
	switch {
	case ctx.Err() != nil:
		return nil
	case err != nil:
		return fmt.Errorf("callback: %w", err)
	}
	for _, p := range ps {
		s.add(p, now)
	}
	if len(ps) > 0 {
		s.log.Info("open callbacks loaded", "callbacks", len(ps))
	}
	changed, unsubscribe := s.cfg.Board.Subscribe()
	defer unsubscribe()
	var refresh, renew <-chan time.Time // the other nodes' callbacks, and this one's claims (claims.go)
	if s.claims != nil {
		t, r := time.NewTicker(s.cfg.Refresh), time.NewTicker(s.claims.lease/3)
		defer t.Stop()
		defer r.Stop()
		refresh, renew = t.C, r.C
	}
	wake := time.NewTimer(time.Hour)
	defer wake.Stop()
	var drained, idle []chan struct{}
	for {
		now := time.Now()
		s.wakeSleepers(now)
		s.withdraw()
		s.admit(ctx)
		s.publish()
		if s.draining && s.nQueued == 0 {
			for _, d := range drained {
				close(d)
			}
			drained = nil
		}
		if s.nQueued == 0 && s.nCalling == 0 {
			for _, d := range idle {
				close(d)
			}
			idle = nil
		}
		if at, ok := s.sleeping.next(); ok {
			wake.Reset(max(at.Sub(now), 0))
		} else {
			wake.Stop()
		}
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return nil
		case <-changed:
		case <-wake.C:
		case <-refresh:
			s.refresh(ctx, time.Now())
		case <-renew:
			s.renew(ctx)
		case ev := <-s.events:
			if ev.idle != nil {
				idle = append(idle, ev.idle)
			}
			if ev.drain != nil {
				s.draining = true
				drained = append(drained, ev.drain)
				s.stopAll()
			}
			s.handle(ev, time.Now())
		}
	}
}

// handle applies an event.
func (s *Scheduler) handle(ev event, now time.Time) {
	switch {
	case ev.add != nil:
		if e := s.entries[ev.add.ID]; e != nil {
			if e.state == running {
				e.cancelled = false // re-queued while it runs: it goes on after
				return
			}
			s.remove(e)
		}
		s.add(*ev.add, now)
	case ev.cancel != 0:
		e := s.entries[ev.cancel]
		if e == nil {
			return
		}
		if e.state == running {
			e.cancelled = true
			s.stopOne(e)
			return
		}
		s.remove(e)
	case ev.calling != nil:
		e := ev.calling
		e.calling = true
		delete(s.queued, e)
		s.inQueue[e.kind]--
		s.nQueued--
		s.nCalling++
	case ev.done != nil:
		s.finished(ev.done, now)
	}
}

// add schedules an open callback, unless kefu does not make callbacks of
// its kind at all.
func (s *Scheduler) add(p records.Pending, now time.Time) {
	e := &entry{p: p, kind: p.Queue, place: p.Joined, idx: -1}
	if e.place.IsZero() {
		e.place = p.At
	}
	s.entries[p.ID] = e
	s.schedule(e, now)
}

// schedule puts e to sleep until its NotBefore, or in its line.
func (s *Scheduler) schedule(e *entry, now time.Time) {
	if e.p.NotBefore.After(now) {
		e.state = sleeping
		heap.Push(&s.sleeping, e)
		return
	}
	e.state = ready
	l := s.lines[e.kind]
	if l == nil {
		l = &line{}
		s.lines[e.kind] = l
		s.kinds = append(s.kinds, e.kind)
	}
	heap.Push(l, e)
}

// remove forgets e, wherever it waits (not running).
func (s *Scheduler) remove(e *entry) {
	switch e.state {
	case sleeping:
		heap.Remove(&s.sleeping, e.idx)
	case ready:
		heap.Remove(s.lines[e.kind], e.idx)
	}
	delete(s.entries, e.p.ID)
}

// wakeSleepers moves the callbacks whose time has come to their lines.
func (s *Scheduler) wakeSleepers(now time.Time) {
	for {
		at, ok := s.sleeping.next()
		if !ok || at.After(now) {
			return
		}
		e := heap.Pop(&s.sleeping).(*entry)
		s.schedule(e, now)
	}
}

// admit puts callbacks in their queues while one may go: among the
// heads of the lines whose trunk is up and has a line for one more, the
// first in serve order, those of queues an agent serves first.
func (s *Scheduler) admit(ctx context.Context) {
	if s.draining || ctx.Err() != nil {
		return
	}
	for {
		var (
			best   *entry
			bset   Settings
			bserve bool
		)
		for _, kind := range s.kinds {
			e := s.lines[kind].peek()
			if e == nil {
				continue
			}
			set, ok := s.cfg.Settings(kind)
			if !ok || set.Attempts <= 0 || s.inQueue[kind] >= s.cfg.MaxQueued || s.slots[set.Trunk] >= set.MaxCalls ||
				!s.cfg.Phone.Up(set.Trunk) {
				continue
			}
			serve := s.cfg.Board.Serving(set.Queue) > 0
			if best != nil && (bserve && !serve || bserve == serve && !before(e, best)) {
				continue
			}
			best, bset, bserve = e, set, serve
		}
		if best == nil {
			return
		}
		heap.Pop(s.lines[best.kind])
		s.start(ctx, best, bset)
	}
}

// start puts e in its queue at its place and runs its goroutine.
func (s *Scheduler) start(ctx context.Context, e *entry, set Settings) {
	if s.claims != nil && !s.claimed(ctx, e) {
		return
	}
	t, err := s.cfg.Queues.JoinCallback(set.Queue, "callback-"+strconv.FormatInt(e.p.ID, 10), e.p.Priority, e.place)
	if err != nil {
		if s.claims != nil {
			s.claims.release(ctx, e.p.ID)
		}
		s.log.Warn("callback cannot join its queue: tried again later", "callback", e.p.ID, "queue", set.Queue, "error", err.Error())
		e.p.NotBefore = time.Now().Add(s.cfg.Pause)
		s.schedule(e, time.Now())
		return
	}
	e.state, e.trunk, e.stop, e.stopped, e.calling, e.cancelled = running, set.Trunk, make(chan struct{}), false, false, false
	s.inQueue[e.kind]++
	s.queued[e] = struct{}{}
	s.slots[e.trunk]++
	s.nQueued++
	s.log.Debug("callback waits in its queue", "callback", e.p.ID, "queue", set.Queue, "position", t.Position(), "attempt", e.p.Attempts+1)
	// Waiting for offers now, before the next callback joins: the board
	// offers callers in queue order only among those waiting for offers.
	offers := s.cfg.Board.Wait(t)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		d := s.serve(ctx, e, t, offers, set)
		if s.claims != nil {
			s.claims.release(ctx, e.p.ID) // the book has the attempt's end
		}
		select {
		case s.events <- event{done: d}:
		case <-ctx.Done():
		}
	}()
}

// finished takes back a callback whose run in its queue ended.
func (s *Scheduler) finished(d *doneEvent, now time.Time) {
	e := d.e
	if e.calling {
		s.nCalling--
	} else {
		delete(s.queued, e)
		s.inQueue[e.kind]--
		s.nQueued--
	}
	if s.slots[e.trunk]--; s.slots[e.trunk] <= 0 {
		delete(s.slots, e.trunk)
	}
	if d.closed || e.cancelled {
		delete(s.entries, e.p.ID)
		return
	}
	e.p = d.next
	s.schedule(e, now)
}

// withdraw takes the callbacks waiting in their queues out of them when
// they may no longer be made now (the service went down or closed, the
// queue's callbacks were turned off, the trunk changed or went down):
// they wait in the schedule, open, and go back to their place in line
// once they may go again. It costs O(callbacks in queues), which the
// trunks' lines bound.
func (s *Scheduler) withdraw() {
	if len(s.queued) == 0 {
		return
	}
	may := map[string]bool{}
	for e := range s.queued {
		if e.stopped {
			continue
		}
		ok, seen := may[e.kind]
		if !seen {
			set, on := s.cfg.Settings(e.kind)
			ok = on && set.Attempts > 0 && set.Trunk == e.trunk && s.cfg.Phone.Up(set.Trunk)
			may[e.kind] = ok
		}
		if !ok {
			s.log.Info("callback withdrawn from its queue: it may not be made now (service down or closed, trunk down); it keeps its place",
				"callback", e.p.ID, "queue", e.kind)
			s.stopOne(e)
		}
	}
}

// stopOne takes a callback that waits in its queue out of it.
func (s *Scheduler) stopOne(e *entry) {
	if !e.stopped {
		e.stopped = true
		close(e.stop)
	}
}

// stopAll takes every callback waiting in a queue out of it.
func (s *Scheduler) stopAll() {
	for _, e := range s.entries {
		if e.state == running && !e.calling {
			s.stopOne(e)
		}
	}
}

// publish updates Stats.
func (s *Scheduler) publish() {
	st := Stats{Waiting: len(s.sleeping), Queued: s.nQueued, Calling: s.nCalling}
	for _, l := range s.lines {
		st.Ready += l.Len()
	}
	s.mu.Lock()
	s.stats = st
	s.mu.Unlock()
}
