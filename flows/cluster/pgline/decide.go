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

// offerGrace is how long after its ring timeout an agent may ring for a
// caller before a decision frees them (the board's safety net against an
// owner that never reports).
const offerGrace = time.Minute

// dAgent, dQueue, dLevel and dEntry are one decision's view of the line.
type dAgent struct {
	row    agentRow
	cfg    agents.Agent
	queues []*dQueue
	stale  bool // written by someone else since read: not offered in this decision
}

type dQueue struct {
	name    string
	rules   agents.Rules
	yields  bool
	levels  []*dLevel
	waiting int
	head    *dEntry // the first caller with no reservation
}

type dLevel struct {
	n      int
	agents []*dAgent
	last   string // round robin
}

type dEntry struct {
	id, owner, lastMissed string
	prio                  int
	joined                int64
	tried                 []string
}

// before reports whether e is served before f: priority, join time, then
// call id (the same order on every node).
func (e *dEntry) before(f *dEntry) bool {
	switch {
	case e.prio != f.prio:
		return e.prio > f.prio
	case e.joined != f.joined:
		return e.joined < f.joined
	}
	return e.id < f.id
}

// rank orders the free agents for a caller, as the board: 0 not offered
// it yet in this round, 1 offered it already, 2 just missed it.
func (e *dEntry) rank(a *dAgent) int {
	switch {
	case a.row.ID == e.lastMissed:
		return 2
	case slices.Contains(e.tried, a.row.ID):
		return 1
	}
	return 0
}

// decide makes every offer that can be made now, in one transaction
// under the decision lock, after the housekeeping: callers whose lease
// ran out leave the line, agents whose wrap-up ended are available,
// agents rung or bridged by a dead node (or ringing far past the ring
// timeout) are freed.
func (l *Line) decide(ctx context.Context) error {
	l.mu.Lock()
	plan, cfg, yields := l.plan, l.cfg, l.yields
	l.mu.Unlock()
	return pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(decideLock)); err != nil {
			return fmt.Errorf("line: decision lock: %w", err)
		}
		now := l.opt.Now()
		changed, err := l.housekeep(ctx, tx, cfg, plan, now)
		if err != nil {
			return err
		}
		d, err := l.view(ctx, tx, plan, cfg, yields)
		if err != nil {
			return err
		}
		for {
			offered, err := l.offerNext(ctx, tx, d, now)
			if err != nil {
				return err
			}
			if !offered {
				break
			}
			changed = true
		}
		if changed {
			return notify(ctx, tx, note{K: "a"})
		}
		return nil
	})
}

// housekeep expires callers and frees agents (see decide); it reports
// whether it changed an agent.
func (l *Line) housekeep(ctx context.Context, tx pgx.Tx, cfg map[string]agents.Agent, plan agents.Plan, now time.Time) (bool, error) {
	rows, err := tx.Query(ctx, `DELETE FROM kefu_line WHERE expires < now() RETURNING call_id, owner`)
	if err != nil {
		return false, fmt.Errorf("line: expire: %w", err)
	}
	gone := map[string]bool{}
	for rows.Next() {
		var id, owner string
		if err := rows.Scan(&id, &owner); err != nil {
			rows.Close()
			return false, fmt.Errorf("line: expire: %w", err)
		}
		gone[id] = true
		l.log.Info("line: a caller's lease ran out: off the line", "call_id", id, "owner", owner)
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("line: expire: %w", err)
	}
	for id := range gone {
		if err := notify(ctx, tx, note{K: "l", ID: id}); err != nil {
			return false, err
		}
	}
	alive := map[string]bool{}
	rows, err = tx.Query(ctx, `SELECT node FROM kefu_line_nodes WHERE expires >= now()`)
	if err != nil {
		return false, fmt.Errorf("line: nodes: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return false, fmt.Errorf("line: nodes: %w", err)
		}
		alive[n] = true
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("line: nodes: %w", err)
	}
	as, err := readAgents(ctx, tx)
	if err != nil {
		return false, err
	}
	changed := false
	for _, a := range as {
		_, configured := cfg[a.ID]
		ringFor := plan.Rules[a.CallQueue].RingTimeout + offerGrace
		switch {
		case a.State == agents.WrapUp && !a.WrapUntil.After(now):
			a.set(agents.Available, now)
		case a.State == agents.Ringing && a.Node != "" && !alive[a.Node]:
			l.log.Info("line: agent freed: the node ringing them is gone", "agent", a.ID, "node", a.Node)
			a.settle(now, "", configured) // not a miss: the agent did nothing wrong
		case a.State == agents.OnCall && a.Node != "" && !alive[a.Node]:
			// The call died with the node (its media was there): it ended
			// now as far as the line can tell. The phone got no BYE (see
			// the package doc): the wrap-up gives the agent time to hang
			// up before the next offer rings them.
			l.log.Warn("line: agent's call ended: the node bridging it is gone; their phone may still show the call",
				"agent", a.ID, "node", a.Node, "call_id", a.CallID)
			if wrap := a.endCall(now, wrapUp(plan.Rules, a.CallQueue), configured); wrap > 0 {
				l.after(wrap)
			}
		case a.State == agents.Ringing && (gone[a.CallID] || now.Sub(a.Since) > ringFor):
			a.settle(now, "", configured)
		default:
			continue
		}
		ok, err := writeAgent(ctx, tx, a)
		if err != nil {
			return false, err
		}
		changed = changed || ok
	}
	return changed, nil
}

// view reads what a decision looks at: the agents, the queues they work
// in with their levels, waiting counts and first unreserved callers, and
// round robin's cursors.
func (l *Line) view(ctx context.Context, tx pgx.Tx, plan agents.Plan, cfg map[string]agents.Agent, yields map[string]bool) ([]*dQueue, error) {
	rows, err := readAgents(ctx, tx)
	if err != nil {
		return nil, err
	}
	qs := make([]*dQueue, 0, len(plan.Queues))
	byName := map[string]*dQueue{}
	for _, name := range plan.Queues {
		q := &dQueue{name: name, rules: plan.Rules[name], yields: yields[name]}
		qs = append(qs, q)
		byName[name] = q
	}
	for _, c := range plan.Agents {
		r, ok := rows[c.ID]
		if !ok {
			continue // a row another node's reload has not made yet
		}
		a := &dAgent{row: r, cfg: c}
		for _, m := range c.Queues {
			q := byName[m.Queue]
			a.queues = append(a.queues, q)
			i, found := slices.BinarySearchFunc(q.levels, m.Level, func(lv *dLevel, n int) int { return lv.n - n })
			if !found {
				q.levels = slices.Insert(q.levels, i, &dLevel{n: m.Level})
			}
			q.levels[i].agents = append(q.levels[i].agents, a)
		}
	}
	counts, err := tx.Query(ctx, `SELECT queue, count(*) FROM kefu_line WHERE queue = ANY($1) GROUP BY queue`, plan.Queues)
	if err != nil {
		return nil, fmt.Errorf("line: waiting: %w", err)
	}
	for counts.Next() {
		var name string
		var n int
		if err := counts.Scan(&name, &n); err != nil {
			counts.Close()
			return nil, fmt.Errorf("line: waiting: %w", err)
		}
		byName[name].waiting = n
	}
	if err := counts.Err(); err != nil {
		return nil, fmt.Errorf("line: waiting: %w", err)
	}
	rr, err := tx.Query(ctx, `SELECT queue, level, last FROM kefu_line_rr`)
	if err != nil {
		return nil, fmt.Errorf("line: round robin: %w", err)
	}
	for rr.Next() {
		var name, last string
		var n int
		if err := rr.Scan(&name, &n, &last); err != nil {
			rr.Close()
			return nil, fmt.Errorf("line: round robin: %w", err)
		}
		if q := byName[name]; q != nil {
			for _, lv := range q.levels {
				if lv.n == n {
					lv.last = last
				}
			}
		}
	}
	if err := rr.Err(); err != nil {
		return nil, fmt.Errorf("line: round robin: %w", err)
	}
	for _, q := range qs {
		if q.waiting > 0 {
			if q.head, err = firstFree(ctx, tx, q.name); err != nil {
				return nil, err
			}
		}
	}
	return qs, nil
}

// firstFree is the queue's first caller with no reservation, or nil.
func firstFree(ctx context.Context, tx pgx.Tx, queueName string) (*dEntry, error) {
	e := &dEntry{}
	err := tx.QueryRow(ctx, `SELECT call_id, owner, last_missed, priority, joined, tried FROM kefu_line
WHERE queue = $1 AND cardinality(offered) = 0 ORDER BY priority DESC, joined, call_id LIMIT 1`, queueName).
		Scan(&e.id, &e.owner, &e.lastMissed, &e.prio, &e.joined, &e.tried)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("line: first caller of %s: %w", queueName, err)
	}
	return e, nil
}

// free reports whether a may be offered a caller of a queue of the given
// class now (the nuisance rule of the board).
func free(a *dAgent, yields bool) bool {
	if a.stale || a.row.State != agents.Available || a.row.contact(a.cfg.Contact) == "" {
		return false
	}
	if yields {
		for _, q := range a.queues {
			if !q.yields && q.waiting > 0 {
				return false // a customer waits for this agent (CS-NUISANCE)
			}
		}
	}
	return true
}

// freeLevel is q's best level with a free agent, or nil.
func freeLevel(q *dQueue, yields bool) *dLevel {
	for _, lv := range q.levels {
		for _, a := range lv.agents {
			if free(a, yields) {
				return lv
			}
		}
	}
	return nil
}

// offerNext makes one offer as the board's offerNext does; it reports
// whether there may be more to make.
func (l *Line) offerNext(ctx context.Context, tx pgx.Tx, qs []*dQueue, now time.Time) (bool, error) {
	for _, yields := range [2]bool{false, true} {
		var (
			best *dEntry
			bq   *dQueue
			bl   *dLevel
		)
		for _, q := range qs {
			h := q.head
			if h == nil || q.yields != yields || best != nil && !h.before(best) {
				continue
			}
			if lv := freeLevel(q, yields); lv != nil {
				best, bq, bl = h, q, lv
			}
		}
		if best != nil {
			return true, l.reserve(ctx, tx, best, bq, bl, yields, now)
		}
	}
	return false, nil
}

// reserve offers e to the agents of level lv of q that the strategy
// picks: each agent's row is written only if unchanged since read, the
// caller's only if it has no reservation; otherwise nothing of it is
// written and the decision goes on without that agent or caller.
func (l *Line) reserve(ctx context.Context, tx pgx.Tx, e *dEntry, q *dQueue, lv *dLevel, yields bool, now time.Time) error {
	var pending []*dAgent
	newRound := false
	if q.rules.Strategy == agents.RingAll {
		for _, a := range lv.agents {
			if free(a, yields) {
				pending = append(pending, a)
			}
		}
	} else {
		p, round := pick(e, q, lv, yields, now)
		pending, newRound = []*dAgent{p}, round
	}
	sp, err := tx.Begin(ctx) // a savepoint
	if err != nil {
		return fmt.Errorf("line: reserve: %w", err)
	}
	defer sp.Rollback(ctx) //nolint:errcheck // after Commit it does nothing
	rows := make([]agentRow, len(pending))
	ids := make([]string, len(pending))
	contacts := make([]string, len(pending))
	for i, a := range pending {
		r := a.row
		r.set(agents.Ringing, now)
		r.CallID, r.CallQueue, r.Node = e.id, q.name, e.owner
		ok, err := writeAgent(ctx, sp, r)
		if err != nil {
			return err
		}
		if !ok {
			a.stale = true // changed by a desk operation: decide without them
			return nil
		}
		r.Ver++
		rows[i], ids[i], contacts[i] = r, r.ID, r.contact(a.cfg.Contact)
	}
	tried := e.tried
	if newRound || tried == nil {
		tried = []string{}
	}
	var resv int64
	err = sp.QueryRow(ctx, `UPDATE kefu_line SET offered = $2, resv = resv + 1, tried = $3
WHERE call_id = $1 AND cardinality(offered) = 0 RETURNING resv`, e.id, ids, tried).Scan(&resv)
	switch {
	case errors.Is(err, pgx.ErrNoRows): // gone or reserved meanwhile
		if q.head, err = firstFreeAfter(ctx, tx, sp, q.name); err != nil {
			return err
		}
		return nil
	case err != nil:
		return fmt.Errorf("line: reserve: %w", err)
	}
	if q.rules.Strategy == agents.RoundRobin {
		if _, err := sp.Exec(ctx, `INSERT INTO kefu_line_rr (queue, level, last) VALUES ($1, $2, $3)
ON CONFLICT (queue, level) DO UPDATE SET last = excluded.last`, q.name, lv.n, ids[0]); err != nil {
			return fmt.Errorf("line: round robin: %w", err)
		}
	}
	if err := notify(ctx, sp, note{K: "o", ID: e.id, Q: q.name, N: e.owner, R: resv, A: ids, C: contacts}); err != nil {
		return err
	}
	if err := sp.Commit(ctx); err != nil {
		return fmt.Errorf("line: reserve: %w", err)
	}
	for i, a := range pending {
		a.row = rows[i]
	}
	if q.rules.Strategy == agents.RoundRobin {
		lv.last = ids[0]
	}
	q.head, err = firstFree(ctx, tx, q.name)
	return err
}

// firstFreeAfter rolls the savepoint back and reads the queue's first
// unreserved caller again.
func firstFreeAfter(ctx context.Context, tx, sp pgx.Tx, queueName string) (*dEntry, error) {
	if err := sp.Rollback(ctx); err != nil {
		return nil, fmt.Errorf("line: reserve: %w", err)
	}
	return firstFree(ctx, tx, queueName)
}

// pick is the agent of level lv that q's strategy offers e to, as the
// board's pick: first those not yet offered this caller in this round,
// the one who just missed last of all, then by the strategy; ties go to
// configured order. newRound: everyone free had been offered the caller.
func pick(e *dEntry, q *dQueue, lv *dLevel, yields bool, now time.Time) (p *dAgent, newRound bool) {
	var pr, pd int
	cursor := -1
	if q.rules.Strategy == agents.RoundRobin {
		for i, a := range lv.agents {
			if a.row.ID == lv.last {
				cursor = i
			}
		}
	}
	n := len(lv.agents)
	for i, a := range lv.agents {
		if !free(a, yields) {
			continue
		}
		r, d := e.rank(a), (i-cursor-1+n)%n
		if p != nil && !before(q.rules.Strategy, a, r, d, p, pr, pd, now) {
			continue
		}
		p, pr, pd = a, r, d
	}
	return p, pr > 0
}

// before reports whether agent a (rank r, round-robin distance d) comes
// before p under strategy s, as the board's before.
func before(s agents.Strategy, a *dAgent, r, d int, p *dAgent, pr, pd int, now time.Time) bool {
	if r != pr {
		return r < pr
	}
	switch s {
	case agents.RoundRobin:
		return d < pd
	case agents.FewestCalls:
		if ac, pc := a.row.callsOn(now), p.row.callsOn(now); ac != pc {
			return ac < pc
		}
	}
	return a.row.idleSince().Before(p.row.idleSince())
}
