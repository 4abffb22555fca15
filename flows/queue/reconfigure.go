package queue

import "slices"

// Reconfigure applies a reloaded configuration without losing a caller.
// A queue that stays (the same name) keeps its waiting callers, their
// tickets and positions, and its figures; its new settings apply from now
// on (a changed MaxWait moves the waiting callers' deadlines, a changed
// Window keeps the most recent answered waits that fit). A new queue
// starts empty. A removed queue drains: its waiting callers keep their
// tickets and leave as usual (their abandonment is counted, and its
// figures are reported, marked Draining), no new caller may join it, and
// it is gone once its last caller has left; configured again meanwhile,
// it simply stays. The order of cfgs is the new order of the figures.
// Reconfigure refuses what NewManager refuses and then changes nothing.
func (m *Manager) Reconfigure(cfgs []Config) error {
	cfgs, err := checkConfigs(cfgs)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	order := make([]*queue, 0, len(cfgs)+len(m.order))
	keep := make(map[*queue]bool, len(cfgs))
	for _, c := range cfgs {
		q, ok := m.queues[c.Name]
		if !ok {
			q = newQueue(c)
			m.queues[c.Name] = q
		} else {
			q.update(c)
		}
		keep[q] = true
		order = append(order, q)
	}
	for _, q := range m.order {
		switch {
		case keep[q]:
		case q.waiting > 0:
			q.draining = true
			order = append(order, q)
		default:
			delete(m.queues, q.cfg.Name)
		}
	}
	m.order = order
	return nil
}

// update applies c, the new configuration of q (same name); m.mu is held.
// The fields are set one by one: cfg.Name is read without the lock.
func (q *queue) update(c Config) {
	q.draining = false
	q.cfg.MaxWait = c.MaxWait
	q.cfg.InitialEstimate = c.InitialEstimate
	q.cfg.Yields = c.Yields
	if c.Window != q.cfg.Window {
		q.cfg.Window = c.Window
		q.recent = q.recent.resized(c.Window)
	}
}

// drop forgets a draining queue whose last caller has left; m.mu is held.
func (m *Manager) drop(q *queue) {
	delete(m.queues, q.cfg.Name)
	m.order = slices.DeleteFunc(m.order, func(o *queue) bool { return o == q })
}

// resized is a window of size holding the most recent samples of r that
// fit, oldest first.
func (r *window) resized(size int) window {
	out := newWindow(size)
	n := min(r.n, size)
	for i := r.n - n; i < r.n; i++ {
		j := (r.next - r.n + i + len(r.waits)) % len(r.waits) // i-th oldest
		out.add(r.waits[j], r.places[j])
	}
	return out
}
