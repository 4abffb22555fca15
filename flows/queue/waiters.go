package queue

import "time"

// Waiter is one caller waiting in a queue, as ops watch it: its place in
// line, how long it has waited, and the wait still ahead of it.
type Waiter struct {
	Queue    string    `json:"queue"`
	CallID   string    `json:"call_id"`
	Position int       `json:"position"` // 1-based, as Ticket.Position
	Priority int       `json:"priority"`
	Joined   time.Time `json:"joined"`
	Waited   Duration  `json:"waited_seconds"`
	// Estimate is the wait left at Position (Ticket.EstimatedWait).
	Estimate Duration `json:"estimated_wait_seconds"`
}

// Waiters returns the callers waiting at now: queue by queue in the order
// of Figures, each queue's callers in the order they will be served.
func (m *Manager) Waiters(now time.Time) []Waiter {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Waiter
	for _, q := range m.order {
		pos := 0
		for _, l := range q.lines {
			for _, t := range l.tickets {
				pos++
				out = append(out, Waiter{Queue: q.cfg.Name, CallID: t.callID, Position: pos, Priority: t.prio,
					Joined: t.joined, Waited: Duration(waitBetween(t.joined, now)), Estimate: Duration(q.estimate(pos))})
			}
		}
	}
	return out
}
