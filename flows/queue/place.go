package queue

import "time"

// Joined is when the caller joined the queue: their place in line among
// callers of their priority, which a callback left in the queue keeps
// (issue 13).
func (t *Ticket) Joined() time.Time { return t.joined }
