package pgline

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// dbTimeout bounds one write of a call's goroutine to the line.
const dbTimeout = 5 * time.Second

// waiter is a caller of this node on the line, from Wait until its
// ticket has left and its last offer has ended; guarded by Line.mu.
type waiter struct {
	t      *queue.Ticket
	ch     chan agents.Offer // buffer of one
	closed bool              // the ticket left: ch is closed
	placed bool              // its row was written once: a missing row was lost
	resv   int64             // the last reservation handed over
	offer  *localOffer       // the offer out, if any
}

// localOffer is the owner's record of a reservation it handed over.
type localOffer struct {
	resv    int64
	pending []string // agents ringing, not yet ended
	winner  string   // answered first
}

// Wait puts the caller's ticket on the shared line (this node its owner)
// and returns the channel its offers arrive on, as agents.Board.Wait.
func (l *Line) Wait(t *queue.Ticket) <-chan agents.Offer {
	l.mu.Lock()
	if w := l.waiters[t]; w != nil {
		l.mu.Unlock()
		return w.ch
	}
	w := &waiter{t: t, ch: make(chan agents.Offer, 1)}
	if t.Outcome() != queue.Waiting {
		l.mu.Unlock()
		close(w.ch)
		return w.ch
	}
	l.waiters[t], l.byCall[t.CallID()] = w, w
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	l.insert(ctx, w)
	l.mu.Lock()
	w.placed = true
	l.mu.Unlock()
	if t.Outcome() != queue.Waiting { // left meanwhile: its row may have outlived the delete
		l.remove(ctx, t, nil, false)
	}
	l.wake()
	return w.ch
}

// insert writes w's row (again).
func (l *Line) insert(ctx context.Context, w *waiter) {
	t := w.t
	joined := t.Joined().UnixNano()
	err := l.tx(ctx, func(q querier) error {
		tag, err := q.Exec(ctx, `INSERT INTO kefu_line (call_id, queue, priority, joined, owner, expires)
VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 second') ON CONFLICT (call_id) DO NOTHING`,
			t.CallID(), t.Queue(), t.Priority(), joined, l.node, l.opt.TTL.Seconds())
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, q, note{K: "j", ID: t.CallID(), Q: t.Queue(), P: t.Priority(), J: joined, N: l.node})
	})
	if err != nil {
		l.log.Warn("line: caller not put on the shared line", "call_id", t.CallID(), "error", err.Error())
	}
}

// remove deletes a caller's row and frees the agents still ringing for
// it but those in keep, in one transaction; with sample, an answered
// caller's wait goes to the shared estimate in it too.
func (l *Line) remove(ctx context.Context, t *queue.Ticket, keep []string, sample bool) {
	callID := t.CallID()
	err := l.tx(ctx, func(q querier) error {
		if err := l.freeAgents(ctx, q, callID, keep); err != nil {
			return err
		}
		if s, ok := t.Sample(); ok && sample {
			if err := l.writeSample(ctx, q, t.Queue(), s, l.qmWindow(t.Queue())); err != nil {
				return err
			}
		}
		tag, err := q.Exec(ctx, `DELETE FROM kefu_line WHERE call_id = $1 AND owner = $2`, callID, l.node)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return notify(ctx, q, note{K: "l", ID: callID})
	})
	if err != nil {
		l.log.Warn("line: caller not taken off the shared line", "call_id", callID, "error", err.Error())
	}
}

// freeAgents settles the agents still ringing for callID but those in
// keep (an offer the caller's goroutine received: it ends it); in q's
// transaction. Freed too: those reserved for the caller whose offer had
// not reached this node yet.
func (l *Line) freeAgents(ctx context.Context, q querier, callID string, keep []string) error {
	rows, err := q.Query(ctx, `SELECT id FROM kefu_line_agents WHERE call_id = $1 AND state = $2 ORDER BY id`,
		callID, int16(agents.Ringing))
	if err != nil {
		return fmt.Errorf("line: agents of %s: %w", callID, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("line: agents of %s: %w", callID, err)
		}
		if !slices.Contains(keep, id) {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("line: agents of %s: %w", callID, err)
	}
	if len(ids) == 0 {
		return nil
	}
	now := l.opt.Now()
	for _, id := range ids {
		err := l.updateAgent(ctx, q, id, func(a *agentRow) bool {
			if a.State != agents.Ringing || a.CallID != callID {
				return false
			}
			a.settle(now, "", l.configured(id))
			return true
		})
		if err != nil {
			return err
		}
	}
	return notify(ctx, q, note{K: "a"})
}

// left is the queue Manager's OnLeave hook: a ticket left its queue. For
// a caller of this node the row goes, an offer its goroutine has not
// received is withdrawn (the agents are free again, no miss), and its
// channel is closed. Other nodes' mirrored callers are the listener's.
func (l *Line) left(t *queue.Ticket) {
	l.mu.Lock()
	w := l.waiters[t]
	if w == nil || w.closed {
		l.mu.Unlock()
		return
	}
	var keep []string
	if of := w.offer; of != nil {
		select {
		case <-w.ch: // not received: withdrawn
			w.offer = nil
		default: // received: the goroutine ends it
			keep = slices.Clone(of.pending)
		}
	}
	w.closed = true
	close(w.ch)
	if w.offer == nil {
		l.forget(w)
	}
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	l.remove(ctx, t, keep, true)
	l.wake() // a customer gone may let an agent take a nuisance caller
}

// forget drops a waiter whose ticket left and whose offer ended; l.mu is
// held.
func (l *Line) forget(w *waiter) {
	delete(l.waiters, w.t)
	if l.byCall[w.t.CallID()] == w {
		delete(l.byCall, w.t.CallID())
	}
}

// current is the waiter and offer o is about, if agentID still rings
// for it and has not answered; l.mu is held.
func (l *Line) current(o agents.Offer, agentID string) (*waiter, *localOffer) {
	w := l.waiters[o.Ticket]
	if w == nil || w.offer == nil || !slices.Contains(w.offer.pending, agentID) || w.offer.winner == agentID {
		return nil, nil
	}
	return w, w.offer
}

// endLocal takes agentID out of the offer; the offer closes when nobody
// rings any more; l.mu is held.
func (l *Line) endLocal(w *waiter, of *localOffer, agentID string) {
	of.pending = slices.DeleteFunc(of.pending, func(x string) bool { return x == agentID })
	if len(of.pending) == 0 {
		if w.offer == of {
			w.offer = nil
		}
		if w.closed {
			l.forget(w)
		}
	}
}

// Answered records that agentID answered the offer, as
// agents.Board.Answered: the caller leaves its queue Answered and the
// agent is OnCall, true; false when the caller left first or another
// agent of the offer answered first (the agent is then free again).
func (l *Line) Answered(o agents.Offer, agentID string) bool {
	l.mu.Lock()
	w, of := l.current(o, agentID)
	if of == nil {
		l.mu.Unlock()
		return false
	}
	if of.winner != "" {
		l.endLocal(w, of, agentID)
		l.mu.Unlock()
		l.endAgent(o, agentID, func(a *agentRow, now time.Time) { a.settle(now, "", l.configured(agentID)) }, false)
		return false
	}
	of.winner = agentID
	l.mu.Unlock()

	won := o.Ticket.Leave(l.opt.Now(), queue.Answered) == queue.Answered

	l.mu.Lock()
	l.endLocal(w, of, agentID)
	l.mu.Unlock()
	if !won {
		l.endAgent(o, agentID, func(a *agentRow, now time.Time) { a.settle(now, "", l.configured(agentID)) }, false)
		return false
	}
	l.endAgent(o, agentID, func(a *agentRow, now time.Time) {
		if d := dayOf(now); a.Day != d {
			a.Day, a.Calls = d, 0
		}
		a.Calls++
		a.Missed = 0
		a.State, a.Since = agents.OnCall, now // keeps the call and the node
	}, false)
	return true
}

// Missed records that agentID did not take the offer, as
// agents.Board.Missed: the agent is free again (paused after the
// queue's MaxMissed in a row), and the caller is offered again, to an
// agent not yet tried when one is free.
func (l *Line) Missed(o agents.Offer, agentID string, why agents.Miss) {
	l.mu.Lock()
	w, of := l.current(o, agentID)
	if of == nil {
		l.mu.Unlock()
		return
	}
	l.endLocal(w, of, agentID)
	limit := l.plan.Rules[o.Queue].MaxMissed
	l.mu.Unlock()
	l.endAgent(o, agentID, func(a *agentRow, now time.Time) {
		a.Missed++
		pause := ""
		if limit > 0 && a.Missed >= limit {
			pause = agents.ReasonNoAnswer
			if why == agents.Failed {
				pause = agents.ReasonUnreachable
			}
			l.log.Info("agent paused: offers missed in a row", "agent", agentID, "missed", a.Missed, "last", why.String(), "queue", o.Queue)
		}
		a.settle(now, pause, l.configured(agentID))
	}, true)
}

// Released frees agentID from the offer without a miss, as
// agents.Board.Released.
func (l *Line) Released(o agents.Offer, agentID string) {
	l.mu.Lock()
	w, of := l.current(o, agentID)
	if of == nil {
		l.mu.Unlock()
		return
	}
	l.endLocal(w, of, agentID)
	l.mu.Unlock()
	l.endAgent(o, agentID, func(a *agentRow, now time.Time) { a.settle(now, "", l.configured(agentID)) }, false)
}

// endAgent writes the end of agentID's part in the offer of o's caller:
// f applied to the agent's row (if it still rings or talks for that
// caller), and the agent out of the caller's reservation (missed: as
// tried, and the last to miss). Then a decision.
func (l *Line) endAgent(o agents.Offer, agentID string, f func(a *agentRow, now time.Time), missed bool) {
	callID := o.Ticket.CallID()
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	now := l.opt.Now()
	err := l.tx(ctx, func(q querier) error {
		err := l.updateAgent(ctx, q, agentID, func(a *agentRow) bool {
			if a.CallID != callID || a.State != agents.Ringing {
				return false
			}
			f(a, now)
			return true
		})
		if err != nil {
			return err
		}
		if missed {
			_, err = q.Exec(ctx, `UPDATE kefu_line SET offered = array_remove(offered, $2),
	tried = CASE WHEN $2 = ANY(tried) THEN tried ELSE array_append(tried, $2) END, last_missed = $2
WHERE call_id = $1`, callID, agentID)
		} else {
			_, err = q.Exec(ctx, `UPDATE kefu_line SET offered = array_remove(offered, $2) WHERE call_id = $1`, callID, agentID)
		}
		if err != nil {
			return err
		}
		return notify(ctx, q, note{K: "a"})
	})
	if err != nil {
		l.log.Warn("line: the end of an offer not written", "call_id", callID, "agent", agentID, "error", err.Error())
	}
	l.wake()
}

// Ended records that the agent's bridged call ended, as
// agents.Board.Ended: wrap-up for the queue's WrapUp (ended by the next
// decision after it, on any node), then Available; Offline or Paused
// instead when asked for during the call.
func (l *Line) Ended(agentID string) {
	l.mu.Lock()
	rules := l.plan.Rules
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	var wrap time.Duration
	err := l.tx(ctx, func(q querier) error {
		err := l.updateAgent(ctx, q, agentID, func(a *agentRow) bool {
			if a.State != agents.OnCall {
				return false
			}
			wrap = a.endCall(l.opt.Now(), wrapUp(rules, a.CallQueue), l.configured(agentID))
			return true
		})
		if err != nil {
			return err
		}
		return notify(ctx, q, note{K: "a"})
	})
	if err != nil {
		l.log.Warn("line: the end of a call not written", "agent", agentID, "error", err.Error())
	}
	if wrap > 0 {
		l.after(wrap)
	}
	l.wake()
}

// after asks for a decision after d (a wrap-up's end).
func (l *Line) after(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		l.mu.Lock()
		delete(l.timers, t)
		l.mu.Unlock()
		l.wake()
	})
	l.timers[t] = struct{}{}
}
