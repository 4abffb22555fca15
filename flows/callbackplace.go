package flows

import (
	"strconv"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// The call variables that keep the caller's place in the last queue they
// waited in, for a callback left afterwards (issue 13): the callback
// keeps that place.
const (
	varQueueJoined   = "queue_joined"   // RFC 3339 with nanoseconds
	varQueuePriority = "queue_priority" // the priority they joined with
)

// notePlace remembers the caller's place in the queue t is a ticket of.
func (r *Runner) notePlace(t *queue.Ticket) {
	r.vars[varQueueJoined] = t.Joined().Format(time.RFC3339Nano)
	r.vars[varQueuePriority] = strconv.Itoa(t.Priority())
}

// place is the caller's place in the last queue they waited in: when
// they joined and with what priority; zero when they waited in none.
func (r *Runner) place() (time.Time, int) {
	joined, err := time.Parse(time.RFC3339Nano, r.vars[varQueueJoined])
	if err != nil {
		return time.Time{}, 0
	}
	prio, _ := strconv.Atoi(r.vars[varQueuePriority])
	return joined, prio
}
