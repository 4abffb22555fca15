package queue

import "time"

// JoinCallback puts a callback in the queue at the place of the caller
// who left it (issue 13): Join at the time and with the priority they
// joined, so it is served behind the callers who joined earlier and
// ahead of those who joined later. Its leaving is not counted in the
// figures (its caller was, when they left with the callback offer), but
// while it waits it holds a place like any caller: positions, Waiting and
// LongestWait count it.
func (m *Manager) JoinCallback(name, id string, priority int, joined time.Time) (*Ticket, error) {
	return m.join(name, id, priority, joined, true)
}

// Joined is when the caller joined the queue: their place in line among
// callers of their priority, which a callback left in the queue keeps
// (issue 13).
func (t *Ticket) Joined() time.Time { return t.joined }
