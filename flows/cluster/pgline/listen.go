package pgline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// note is a notification on the line's channel, sent in the transaction
// of the change it tells of.
type note struct {
	K  string   `json:"k"`            // j: joined, l: left, o: offer, a: agents changed, w: an answered wait
	ID string   `json:"id,omitempty"` // the caller's call id (j, l, o)
	Q  string   `json:"q,omitempty"`  // queue (j, o, w)
	P  int      `json:"p,omitempty"`  // priority (j)
	J  int64    `json:"j,omitempty"`  // joined, unix ns (j)
	N  string   `json:"n,omitempty"`  // owner (j, o)
	R  int64    `json:"r,omitempty"`  // reservation (o)
	A  []string `json:"a,omitempty"`  // agents reserved (o)
	C  []string `json:"c,omitempty"`  // their contacts (o)
}

func (n note) payload() string {
	b, _ := json.Marshal(n)
	return string(b)
}

// notify sends n in q's transaction.
func notify(ctx context.Context, q querier, n note) error {
	if _, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, n.payload()); err != nil {
		return fmt.Errorf("line: notify: %w", err)
	}
	return nil
}

// listen keeps a connection listening on the line's channel and applies
// what it hears; every Heartbeat (and after a reconnection) it re-reads
// the whole line. It owns l.mirror.
func (l *Line) listen(ctx context.Context, ready chan struct{}) {
	defer l.wg.Done()
	for ctx.Err() == nil {
		err := l.listenOnce(ctx, ready)
		ready = nil
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("line: listening again", "error", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(l.opt.Heartbeat):
		}
	}
}

func (l *Line) listenOnce(ctx context.Context, ready chan struct{}) error {
	pc, err := l.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("line: listen: %w", err)
	}
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		return fmt.Errorf("line: listen: %w", err)
	}
	if ready != nil {
		close(ready)
	}
	last := time.Time{}
	for {
		if time.Since(last) >= l.opt.Heartbeat {
			if err := l.sync(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				l.log.Warn("line: re-reading the line", "error", err.Error())
			}
			last = time.Now()
		}
		wctx, cancel := context.WithTimeout(ctx, l.opt.Heartbeat-time.Since(last))
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			var nt note
			if json.Unmarshal([]byte(n.Payload), &nt) == nil {
				l.apply(nt)
			}
		case ctx.Err() != nil:
			return nil
		case wctx.Err() != nil && !conn.IsClosed(): // the heartbeat: re-read the line
		default:
			return err
		}
	}
}

// apply applies a notification.
func (l *Line) apply(n note) {
	switch n.K {
	case "j":
		if n.N != l.node {
			l.mirrorJoin(n.ID, n.Q, n.P, n.J)
		}
	case "l":
		l.mirrorLeave(n.ID)
	case "o":
		if n.N == l.node {
			l.deliver(n.ID, n.R, n.A, n.C)
		}
	case "a":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.refreshAgents(ctx); err != nil {
			l.log.Warn("line: agents", "error", err.Error())
		}
	case "w":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.loadSamples(ctx, n.Q); err != nil {
			l.log.Warn("line: answered waits", "error", err.Error())
		}
	}
}

// mirrorJoin puts another node's caller in this node's queues, at its
// place; the listener's goroutine only.
func (l *Line) mirrorJoin(id, q string, prio int, joined int64) {
	if _, ok := l.mirror[id]; ok {
		return
	}
	l.mu.Lock()
	_, local := l.byCall[id]
	qm := l.qm
	l.mu.Unlock()
	if local {
		return
	}
	t, err := qm.JoinCallback(q, id, prio, time.Unix(0, joined))
	if err != nil {
		// A queue this node does not have (a reload not yet done here),
		// or the call id waits here already.
		l.log.Debug("line: caller of another node not mirrored", "call_id", id, "queue", q, "error", err.Error())
		return
	}
	l.mirror[id] = t
	l.signal()
}

// mirrorLeave takes another node's caller out of this node's queues.
func (l *Line) mirrorLeave(id string) {
	t, ok := l.mirror[id]
	if !ok {
		return
	}
	delete(l.mirror, id)
	t.Leave(l.opt.Now(), queue.Withdrawn)
	l.signal()
}

// signal tells the subscribers that something changed.
func (l *Line) signal() {
	l.mu.Lock()
	l.changed()
	l.mu.Unlock()
}

// sync re-reads the whole line: mirrors the callers of other nodes not
// yet mirrored and drops those gone, hands this node's callers the
// reservations they have not had, puts back a caller of this node whose
// row is missing (the lease was lost in an outage), deletes a row of this
// node whose caller has left, and re-reads the agents and the answered
// waits.
func (l *Line) sync(ctx context.Context) error {
	if err := l.refreshAgents(ctx); err != nil {
		return err
	}
	if err := l.loadSamples(ctx); err != nil {
		return err
	}
	rows, err := l.pool.Query(ctx, `SELECT call_id, queue, priority, joined, owner, offered, resv FROM kefu_line`)
	if err != nil {
		return fmt.Errorf("line: read: %w", err)
	}
	type entry struct {
		id, q, owner string
		prio         int
		joined, resv int64
		offered      []string
	}
	var es []entry
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.id, &e.q, &e.prio, &e.joined, &e.owner, &e.offered, &e.resv); err != nil {
			rows.Close()
			return fmt.Errorf("line: read: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("line: read: %w", err)
	}
	seen := make(map[string]bool, len(es))
	for _, e := range es {
		seen[e.id] = true
		if e.owner != l.node {
			l.mirrorJoin(e.id, e.q, e.prio, e.joined)
			continue
		}
		l.mu.Lock()
		w := l.byCall[e.id]
		l.mu.Unlock()
		if w == nil || w.closed {
			// Its caller left but the delete failed (or an earlier
			// process of this node's name left it): the heartbeat
			// would renew it for ever.
			l.dropStale(ctx, e.id)
			continue
		}
		if len(e.offered) > 0 {
			l.mu.Lock()
			cs := make([]string, len(e.offered))
			for i, id := range e.offered {
				a := l.cache[id]
				cs[i] = a.contact(l.cfg[id].Contact)
			}
			l.mu.Unlock()
			l.deliver(e.id, e.resv, e.offered, cs)
		}
	}
	for id := range l.mirror {
		if !seen[id] {
			l.mirrorLeave(id)
		}
	}
	l.mu.Lock()
	var lost []*waiter
	for _, w := range l.waiters {
		if w.placed && !w.closed && !seen[w.t.CallID()] {
			lost = append(lost, w)
		}
	}
	l.mu.Unlock()
	for _, w := range lost {
		l.log.Warn("line: caller's row was gone: put back", "call_id", w.t.CallID())
		l.insert(ctx, w)
		if w.t.Outcome() != queue.Waiting { // left meanwhile: its delete may have come first
			l.remove(ctx, w.t, nil, false)
		}
	}
	return nil
}

// refreshAgents re-reads the agents' rows into the cache.
func (l *Line) refreshAgents(ctx context.Context) error {
	as, err := readAgents(ctx, l.pool)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.cache = as
	l.changed()
	l.mu.Unlock()
	return nil
}

// deliver hands reservation resv of agents ids to the local caller id,
// unless it had it already or the caller left.
func (l *Line) deliver(id string, resv int64, ids, contacts []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.byCall[id]
	if w == nil || w.closed || resv <= w.resv || w.offer != nil {
		return
	}
	q := w.t.Queue()
	rules := l.plan.Rules[q]
	o := agents.Offer{Ticket: w.t, Queue: q, RingTimeout: rules.RingTimeout, Waited: w.t.Waited(l.opt.Now())}
	for i, a := range ids {
		c := ""
		if i < len(contacts) {
			c = contacts[i]
		}
		o.Agents = append(o.Agents, agents.Target{ID: a, Name: l.cfg[a].Name, Contact: c})
	}
	w.resv = resv
	w.offer = &localOffer{resv: resv, pending: append([]string(nil), ids...)}
	select {
	case <-w.ch:
	default:
	}
	w.ch <- o
	l.changed()
}

// dropStale deletes a row of this node whose caller is no longer
// waiting here.
func (l *Line) dropStale(ctx context.Context, id string) {
	err := l.tx(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `DELETE FROM kefu_line WHERE call_id = $1 AND owner = $2`, id, l.node)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, q, note{K: "l", ID: id})
	})
	if err != nil {
		l.log.Warn("line: a caller who left still on the line", "call_id", id, "error", err.Error())
		return
	}
	l.log.Info("line: a caller who left was still on the line: deleted", "call_id", id)
}
