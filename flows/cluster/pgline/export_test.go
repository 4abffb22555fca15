package pgline

import (
	"context"
	"fmt"
)

// Kill stops the node as a crash would: its goroutines and connections
// end, its rows stay for their leases to run out.
func (l *Line) Kill() {
	l.mu.Lock()
	l.closing = true
	for t := range l.timers {
		t.Stop()
	}
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	l.pool.Close()
}

// Decide runs one decision now.
func (l *Line) Decide(ctx context.Context) error { return l.decide(ctx) }

// StoredSamples is how many answered waits of the queue the table holds.
func (l *Line) StoredSamples(ctx context.Context, queue string) (int, error) {
	var n int
	if err := l.pool.QueryRow(ctx, `SELECT count(*) FROM kefu_line_waits WHERE queue = $1`, queue).Scan(&n); err != nil {
		return 0, fmt.Errorf("samples: %w", err)
	}
	return n, nil
}

// LoadSamples reads the named queues' answered waits into the Manager.
func (l *Line) LoadSamples(ctx context.Context, names ...string) error {
	return l.loadSamples(ctx, names...)
}

// Ping is one SELECT 1 through the node's pool.
func (l *Line) Ping(ctx context.Context) error {
	_, err := l.pool.Exec(ctx, `SELECT 1`)
	return err
}

// CallIDCollation is the collation of kefu_line.call_id.
func (l *Line) CallIDCollation(ctx context.Context) (string, error) {
	var c string
	err := l.pool.QueryRow(ctx, `SELECT coalesce(collation_name, '') FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'kefu_line' AND column_name = 'call_id'`).Scan(&c)
	return c, err
}
