package queue

// Head is what a dispatcher of agents needs of one queue at a moment: how
// many callers wait in it and which of them it may offer first.
type Head struct {
	// Waiting is the number of callers waiting in the queue, whether or
	// not they are being offered: a customer ringing an agent still waits.
	Waiting int
	// First is the first waiting caller in serve order that skip did not
	// pass over; nil when there is none.
	First *Ticket
	// Yields is the queue's class (Config.Yields).
	Yields bool
}

// Heads appends to dst one Head for each of names, in that order, read at
// one moment under the Manager's lock; an unknown name gives a zero Head
// (a removed queue that still drains is known). skip, when not nil, passes over the
// callers a dispatcher cannot offer now (one already offered, one nobody
// waits for); it is called under the Manager's lock and must not call the
// Manager or its tickets. Finding a queue's First costs one skip call per
// caller passed over.
func (m *Manager) Heads(names []string, skip func(*Ticket) bool, dst []Head) []Head {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, name := range names {
		q, ok := m.queues[name]
		if !ok {
			dst = append(dst, Head{})
			continue
		}
		dst = append(dst, Head{Waiting: q.waiting, First: q.first(skip), Yields: q.cfg.Yields})
	}
	return dst
}

// first is the first waiting caller in serve order that skip does not pass
// over, or nil.
func (q *queue) first(skip func(*Ticket) bool) *Ticket {
	for _, l := range q.lines {
		for _, t := range l.tickets {
			if skip == nil || !skip(t) {
				return t
			}
		}
	}
	return nil
}
