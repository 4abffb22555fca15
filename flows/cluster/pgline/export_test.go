package pgline

import "context"

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
