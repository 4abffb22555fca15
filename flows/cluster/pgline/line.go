// Package pgline is the shared line of kefu's queues and the agents'
// shared states in PostgreSQL (issue 17): one line per queue across the
// nodes of a hotline, and exactly one node reserving a free agent.
//
// # Entries
//
// A caller waiting on a node (its owner: the caller's media is there) is
// a row of kefu_line: queue, priority, join time in nanoseconds, owner,
// and the agents reserved for it. Every node keeps every other node's
// callers in its own queue.Manager as mirrored tickets (joined at their
// time, out of its figures), so the order, positions and waiting counts
// each node computes — and the positions its callers hear — are the same
// everywhere. A node learns of joins and leaves on other nodes through
// LISTEN/NOTIFY (within milliseconds) and re-reads the whole line every
// heartbeat as the fallback. The owner renews its rows' lease every
// Heartbeat; a dead node's rows expire after TTL and leave every mirror.
// Callers who joined at the same nanosecond are in the order of their
// call ids, compared bytewise, in the database (call_id COLLATE "C") as
// in every node's queues, so no two of them hear the same position.
//
// # Estimates
//
// The wait quoted with a position (CS-QUEUE) is the position times the
// per-place time of the queue's recent answered callers. Each owner
// writes its answered callers' samples to kefu_line_waits and every node
// reads the queue's newest window back into its Manager
// (queue.Manager.SetRecent), so a caller at position P hears the same
// estimate on every node (waits.go).
//
// # Reservation exactly once
//
// A distribution decision runs in one transaction holding an advisory
// lock, on whichever node has something to decide (a caller joined, an
// agent became free, a heartbeat): it reads the agents' rows and, per
// queue, the first caller with no reservation, and makes the offers the
// board (flows/agents) would make — priority then join time across all
// the queues an agent works in, levels, the strategies, the nuisance
// queue yielding — writing each agent's row (Ringing, for that caller,
// rung by its owner) only if nobody wrote it since it was read, and the
// caller's row only if it has no reservation. The lock makes decisions
// one at a time, so the strategies see every agent of a level at once
// (a FOR UPDATE SKIP LOCKED per agent would pass over a locked agent and
// pick another than the strategy's); the conditional writes make a
// change by a desk operation that slipped in win. The owner, notified,
// hands the offer to its caller's goroutine, which rings and bridges
// locally and reports Answered, Missed or Released, each written to the
// agent's row.
//
// # Agents' states
//
// Every transition of the board — sign-in, ready, pause, sign-out, the
// end of a call and wrap-up (until a time in the row, ended by whichever
// node decides next), misses in a row pausing — is applied to the
// agent's row on the node where it happens, so /api/agents, the feature
// codes and the strategies see the same agents on every node.
//
// # A node that dies
//
// Its callers' media died with it; their rows expire after TTL and leave
// every node's line. An agent it was ringing is free again then, with no
// miss counted. An agent it had bridged has, as far as the line can
// tell, ended the call when the node's lease ran out: LastEnded is then,
// the queue's wrap-up follows, then Available (or the pause or sign-out
// asked for during the call), as after any call. Their phone gets no BYE
// and shows the call until they hang up; the wrap-up is their time to.
// Another node could send that BYE only with the dialog (Call-ID, tags,
// CSeq, remote target, route set) kept where it can read it: written to
// the database at every answer and every in-dialog request, by the SIP
// layer, for the rare crash, on the call path of every call. The line
// does not do it: the media is lost anyway, so the BYE would only spare
// the agent one button; and the proxy in front, which record-routes every
// dialog, already holds them all — ending a dead node's dialogs belongs
// there (Kamailio's dialog module can send BYE to both ends of a dialog).
package pgline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/cluster"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// Defaults of Options.
const (
	DefaultHeartbeat = time.Second
	DefaultTTL       = 5 * time.Second
)

// channel is the LISTEN/NOTIFY channel of the line.
const channel = "kefu_line"

// Options adjust a Line.
type Options struct {
	// Node names this node in the line's rows; default: host name,
	// process id and a random suffix.
	Node string
	// Heartbeat is how often the node renews its callers' lease, re-reads
	// the line and decides (the fallback of notifications).
	Heartbeat time.Duration
	// TTL is how long a node's callers and agents' calls outlive its last
	// heartbeat.
	TTL time.Duration
	// Now is the clock; time.Now when nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Line is one node's handle on the shared line. It implements
// cluster.Agents. Make one with Open; Close it.
type Line struct {
	pool *pgxpool.Pool
	node string
	opt  Options
	log  *slog.Logger

	mu      sync.Mutex
	qm      *queue.Manager
	plan    agents.Plan
	cfg     map[string]agents.Agent // configured agents by id
	queues  []string                // the Manager's queues
	yields  map[string]bool         // queues that yield (the nuisance queue)
	waiters map[*queue.Ticket]*waiter
	byCall  map[string]*waiter         // local callers by call id
	mirror  map[string]*queue.Ticket   // other nodes' callers, mirrored in qm
	cache   map[string]agentRow        // the agents' rows last read or written here
	subs    map[chan struct{}]struct{} // Subscribe
	timers  map[*time.Timer]struct{}   // wrap-up ends to decide at
	closing bool

	samplesMu sync.Mutex // loadSamples

	poke   chan struct{} // a decision is wanted
	resync chan struct{} // a full re-read is wanted
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

var _ cluster.Agents = (*Line)(nil)

// Open connects to dsn, brings the line's tables up to date, and starts
// the node's listener and decider on the queues of qm, with the agents
// and rules of the configuration. Call Close to stop.
func Open(ctx context.Context, dsn string, qm *queue.Manager, as []agents.Agent, rs []agents.Rules, opt Options) (*Line, error) {
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = DefaultHeartbeat
	}
	if opt.TTL <= 0 {
		opt.TTL = DefaultTTL
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Node == "" {
		opt.Node = nodeName()
	}
	l := &Line{
		node: opt.Node, opt: opt, log: opt.Logger,
		waiters: map[*queue.Ticket]*waiter{}, byCall: map[string]*waiter{}, mirror: map[string]*queue.Ticket{},
		cache: map[string]agentRow{}, subs: map[chan struct{}]struct{}{}, timers: map[*time.Timer]struct{}{},
		poke: make(chan struct{}, 1), resync: make(chan struct{}, 1),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.log = l.log.With("node", l.node)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("line: not a PostgreSQL connection string")
	}
	if l.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, fmt.Errorf("line: %w", err)
	}
	if err := migrate(ctx, l.pool); err != nil {
		l.pool.Close()
		return nil, err
	}
	if err := l.heartbeat(ctx); err != nil {
		l.pool.Close()
		return nil, err
	}
	if err := l.Reconfigure(qm, as, rs); err != nil {
		l.pool.Close()
		return nil, err
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	listening := make(chan struct{})
	l.wg.Add(2)
	go l.listen(run, listening)
	go l.decider(run)
	select {
	case <-listening:
	case <-ctx.Done():
		l.Close()
		return nil, fmt.Errorf("line: listen: %w", context.Cause(ctx))
	}
	return l, nil
}

// nodeName is a name no other node has: host, pid, random.
func nodeName() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Node is the name this node goes by in the line's rows.
func (l *Line) Node() string { return l.node }

// Close stops the node's goroutines, takes its callers off the line and
// closes its connections. Its agents' rows stay.
func (l *Line) Close() {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return
	}
	l.closing = true
	for t := range l.timers {
		t.Stop()
	}
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.pool.Exec(ctx, `DELETE FROM kefu_line WHERE owner = $1`, l.node); err != nil {
		l.log.Warn("line: callers left on close", "error", err.Error())
	}
	if _, err := l.pool.Exec(ctx, `DELETE FROM kefu_line_nodes WHERE node = $1`, l.node); err != nil {
		l.log.Warn("line: node left on close", "error", err.Error())
	}
	l.pool.Close()
}

// Reconfigure applies a reloaded configuration: the agents that stay keep
// their shared state; new ones get a row (one with a fixed contact starts
// Available); qm is the manager the calls wait in (the same one,
// reconfigured, keeps them).
func (l *Line) Reconfigure(qm *queue.Manager, as []agents.Agent, rs []agents.Rules) error {
	plan, err := agents.Check(qm, as, rs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := l.opt.Now()
	for _, a := range plan.Agents {
		st, signed := agents.Offline, epoch
		if a.Contact != "" {
			st, signed = agents.Available, now
		}
		_, err := l.pool.Exec(ctx, `INSERT INTO kefu_line_agents (id, state, since, signed_in, last_ended, wrap_until)
VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING`, a.ID, int16(st), now, signed, epoch)
		if err != nil {
			return fmt.Errorf("line: agent %s: %w", a.ID, err)
		}
	}
	yields := map[string]bool{}
	var queues []string
	for _, f := range qm.Figures(now) {
		yields[f.Queue] = f.Yields
		queues = append(queues, f.Queue)
	}
	cfg := make(map[string]agents.Agent, len(plan.Agents))
	for _, a := range plan.Agents {
		cfg[a.ID] = a
	}
	l.mu.Lock()
	if l.qm != qm {
		l.qm = qm
		qm.OnLeave(l.left)
	}
	l.plan, l.cfg, l.yields, l.queues = plan, cfg, yields, queues
	l.mu.Unlock()
	if err := l.refreshAgents(ctx); err != nil {
		return err
	}
	if err := l.loadSamples(ctx); err != nil {
		return err
	}
	l.wake()
	return nil
}

// wake asks the decider for a decision.
func (l *Line) wake() {
	select {
	case l.poke <- struct{}{}:
	default:
	}
}

// changed signals the subscribers; l.mu is held.
func (l *Line) changed() {
	for ch := range l.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Subscribe returns a channel signalled (coalesced) after the agents or
// the line changed, and a function that ends the subscription.
func (l *Line) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

// heartbeat renews the node's lease and its callers'.
func (l *Line) heartbeat(ctx context.Context) error {
	ttl := l.opt.TTL.Seconds()
	if _, err := l.pool.Exec(ctx, `INSERT INTO kefu_line_nodes (node, expires) VALUES ($1, now() + $2 * interval '1 second')
ON CONFLICT (node) DO UPDATE SET expires = excluded.expires`, l.node, ttl); err != nil {
		return fmt.Errorf("line: heartbeat: %w", err)
	}
	if _, err := l.pool.Exec(ctx, `UPDATE kefu_line SET expires = now() + $2 * interval '1 second' WHERE owner = $1`, l.node, ttl); err != nil {
		return fmt.Errorf("line: heartbeat: %w", err)
	}
	return nil
}

// decider makes the decisions asked for, and every heartbeat renews the
// lease and decides (the fallback: a missed notification, a wrap-up
// ended, a dead node's callers expired).
func (l *Line) decider(ctx context.Context) {
	defer l.wg.Done()
	tick := time.NewTicker(l.opt.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := l.heartbeat(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("line: heartbeat", "error", err.Error())
			}
			select {
			case l.resync <- struct{}{}:
			default:
			}
		case <-l.poke:
		}
		if err := l.decide(ctx); err != nil && ctx.Err() == nil {
			l.log.Warn("line: distribution", "error", err.Error())
		}
	}
}

// Position is the caller's 1-based place in its queue's shared line as
// the database has it (0 when not on the line): what every node's
// mirrored queues say, asked of PostgreSQL directly.
func (l *Line) Position(ctx context.Context, callID string) (int, error) {
	var n int
	err := l.pool.QueryRow(ctx, `SELECT count(*) FROM kefu_line a JOIN kefu_line me ON a.queue = me.queue
WHERE me.call_id = $1 AND (a.priority > me.priority
	OR a.priority = me.priority AND (a.joined, a.call_id) <= (me.joined, me.call_id))`, callID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("line: position: %w", err)
	}
	return n, nil
}
