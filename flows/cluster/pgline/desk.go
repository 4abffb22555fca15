package pgline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kefu-hotline/kefu/flows/agents"
)

// tx runs f in a transaction.
func (l *Line) tx(ctx context.Context, f func(q querier) error) error {
	return pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{}, func(tx pgx.Tx) error { return f(tx) })
}

// errStale: an agent's row changed between its read and its write, more
// often than updateAgent tries.
var errStale = errors.New("agent's row kept changing")

// updateAgent reads agent id's row (locked for the transaction of q),
// applies f and writes it back when f says it changed it.
func (l *Line) updateAgent(ctx context.Context, q querier, id string, f func(a *agentRow) bool) error {
	a, err := scanAgent(q.QueryRow(ctx, `SELECT `+agentCols+` FROM kefu_line_agents WHERE id = $1 FOR UPDATE`, id))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("agent %q: %w", id, agents.ErrUnknownAgent)
	case err != nil:
		return fmt.Errorf("line: agent %s: %w", id, err)
	}
	if !f(&a) {
		return nil
	}
	ok, err := writeAgent(ctx, q, a)
	if err == nil && !ok {
		err = errStale // locked FOR UPDATE: cannot happen
	}
	if err == nil {
		l.mu.Lock()
		a.Ver++
		l.cache[id] = a
		l.mu.Unlock()
	}
	return err
}

// configured reports whether agent id is in the configuration.
func (l *Line) configured(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.cfg[id]
	return ok
}

// do applies a desk operation to agent id's row, tells the other nodes,
// and decides.
func (l *Line) do(id string, f func(a *agentRow, fixed string, now time.Time) error) error {
	l.mu.Lock()
	cfg, ok := l.cfg[id]
	l.mu.Unlock()
	if !ok {
		return fmt.Errorf("agent %q: %w", id, agents.ErrUnknownAgent)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	var ferr error
	err := l.tx(ctx, func(q querier) error {
		err := l.updateAgent(ctx, q, id, func(a *agentRow) bool {
			ferr = f(a, cfg.Contact, l.opt.Now())
			return ferr == nil
		})
		if err != nil || ferr != nil {
			return err
		}
		return notify(ctx, q, note{K: "a"})
	})
	if ferr != nil {
		return fmt.Errorf("agent %s: %w", id, ferr)
	}
	if err != nil {
		return err
	}
	l.wake()
	return nil
}

// SignIn records the agent's registration at contact, as
// agents.Board.SignIn, on the shared row: any node can ring the agent.
func (l *Line) SignIn(id, contact string) error {
	if contact == "" {
		return fmt.Errorf("agent %s: sign in: %w", id, agents.ErrNoContact)
	}
	return l.do(id, func(a *agentRow, _ string, now time.Time) error {
		fresh := !a.Registered
		a.Registered, a.Contact = true, contact
		if fresh {
			if a.Then == thenOffline {
				a.Then = ""
			}
			if a.State == agents.Offline {
				a.signIn(now)
			}
		}
		return nil
	})
}

// Unregister records that the agent's registration ended, as
// agents.Board.Unregister.
func (l *Line) Unregister(id string) error {
	return l.do(id, func(a *agentRow, fixed string, now time.Time) error {
		if !a.Registered {
			return nil
		}
		a.Registered, a.Contact = false, ""
		if fixed == "" {
			a.goOffline(now)
		}
		return nil
	})
}

// SignOut signs the agent out (*0, the ops API), as agents.Board.SignOut.
func (l *Line) SignOut(id string) error {
	return l.do(id, func(a *agentRow, _ string, now time.Time) error {
		a.goOffline(now)
		return nil
	})
}

// Ready makes the agent available (*1, the ops API), as
// agents.Board.Ready.
func (l *Line) Ready(id string) error {
	return l.do(id, func(a *agentRow, fixed string, now time.Time) error {
		if a.contact(fixed) == "" {
			return agents.ErrNoContact
		}
		a.Missed = 0
		switch a.State {
		case agents.Offline:
			a.signIn(now)
		case agents.Paused, agents.WrapUp:
			a.set(agents.Available, now)
		case agents.Ringing, agents.OnCall:
			a.Then, a.ThenReason = "", ""
		}
		return nil
	})
}

// Pause stops offers to the agent with a reason (*2, the ops API), as
// agents.Board.Pause.
func (l *Line) Pause(id, reason string) error {
	return l.do(id, func(a *agentRow, fixed string, now time.Time) error {
		switch a.State {
		case agents.Offline:
			if a.contact(fixed) == "" {
				return agents.ErrNoContact
			}
			a.SignedIn = now
		case agents.Ringing, agents.OnCall:
			a.Then, a.ThenReason = thenPaused, reason
			return nil
		}
		a.set(agents.Paused, now)
		a.Reason = reason
		return nil
	})
}

// Agents returns every configured agent's shared state, sorted by id as
// agents.Board.Agents: the same on every node. When the database cannot
// be read it answers from the rows last read here.
func (l *Line) Agents() []agents.Status {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := l.refreshAgents(ctx); err != nil {
		l.log.Warn("line: agents read from the cache", "error", err.Error())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.opt.Now()
	out := make([]agents.Status, 0, len(l.cfg))
	for id, c := range l.cfg {
		a, ok := l.cache[id]
		if !ok {
			a = agentRow{ID: id}
		}
		out = append(out, a.status(c, now))
	}
	slices.SortFunc(out, func(x, y agents.Status) int {
		if len(x.ID) != len(y.ID) {
			return len(x.ID) - len(y.ID)
		}
		return cmpString(x.ID, y.ID)
	})
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Agent returns the shared state of agent id.
func (l *Line) Agent(id string) (agents.Status, bool) {
	for _, s := range l.Agents() {
		if s.ID == id {
			return s, true
		}
	}
	return agents.Status{}, false
}

// Serving is the number of agents who can take the queue's callers now
// or soon (signed in, not paused), from the rows last read here: kept
// fresh by the notifications of every change.
func (l *Line) Serving(queueName string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for id, c := range l.cfg {
		if !slices.ContainsFunc(c.Queues, func(m agents.Membership) bool { return m.Queue == queueName }) {
			continue
		}
		switch l.cache[id].State {
		case agents.Available, agents.Ringing, agents.OnCall, agents.WrapUp:
			n++
		}
	}
	return n
}
