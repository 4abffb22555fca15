package pgline

import (
	"context"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// The estimate a caller hears (CS-QUEUE: position and estimated wait) is
// its position times the per-place time of the queue's recent answered
// callers (flows/queue). With one line across nodes the position is the
// same everywhere; so that the time is too, the owner of every answered
// caller writes its sample (wait, join position) to kefu_line_waits in
// the transaction that takes it off the line, with a notification, and
// every node, the owner included, reads the queue's newest Window
// samples back into its Manager (SetRecent). An announcement still reads
// memory only; the shared part costs one insert per answered caller and
// one indexed read per node per answered caller (and per queue each
// heartbeat, the fallback).

// keepWindows is how many windows of samples a queue keeps in the table:
// a node whose reload grew a queue's window before the others' finds them.
const keepWindows = 2

// writeSample records an answered caller's sample of queue name and
// drops the samples of that queue older than keepWindows windows, in q's
// transaction, with a notification.
func (l *Line) writeSample(ctx context.Context, q querier, name string, s queue.Sample, window int) error {
	if _, err := q.Exec(ctx, `INSERT INTO kefu_line_waits (queue, wait, place) VALUES ($1, $2, $3)`,
		name, int64(s.Wait), s.Place); err != nil {
		return fmt.Errorf("line: answered wait: %w", err)
	}
	if _, err := q.Exec(ctx, `DELETE FROM kefu_line_waits WHERE queue = $1 AND id <=
	(SELECT id FROM kefu_line_waits WHERE queue = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
		name, keepWindows*max(window, 1)); err != nil {
		return fmt.Errorf("line: answered waits: %w", err)
	}
	return notify(ctx, q, note{K: "w", Q: name})
}

// loadSamples reads the newest samples of the named queues (every queue
// of the node's Manager when none are named) into the Manager.
func (l *Line) loadSamples(ctx context.Context, names ...string) error {
	l.samplesMu.Lock() // a read and its SetRecent at a time: an older read never lands last
	defer l.samplesMu.Unlock()
	l.mu.Lock()
	qm := l.qm
	if len(names) == 0 {
		names = l.queues
	}
	l.mu.Unlock()
	windows := make([]int32, len(names))
	for i, n := range names {
		windows[i] = int32(qm.Window(n))
	}
	rows, err := l.pool.Query(ctx, `SELECT q.name, w.wait, w.place
FROM unnest($1::text[], $2::int[]) AS q(name, n)
CROSS JOIN LATERAL (SELECT id, wait, place FROM kefu_line_waits WHERE queue = q.name ORDER BY id DESC LIMIT q.n) w
ORDER BY q.name, w.id`, names, windows)
	if err != nil {
		return fmt.Errorf("line: answered waits: %w", err)
	}
	got := make(map[string][]queue.Sample, len(names))
	for rows.Next() {
		var name string
		var wait int64
		var place int
		if err := rows.Scan(&name, &wait, &place); err != nil {
			rows.Close()
			return fmt.Errorf("line: answered waits: %w", err)
		}
		got[name] = append(got[name], queue.Sample{Wait: time.Duration(wait), Place: place})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("line: answered waits: %w", err)
	}
	for i, n := range names {
		if windows[i] == 0 {
			continue // not a queue of this node (yet)
		}
		if err := qm.SetRecent(n, got[n]); err != nil {
			return fmt.Errorf("line: %w", err)
		}
	}
	l.signal() // the estimates may have changed
	return nil
}

// qmWindow is the window of the named queue in the node's Manager.
func (l *Line) qmWindow(name string) int {
	l.mu.Lock()
	qm := l.qm
	l.mu.Unlock()
	return qm.Window(name)
}
