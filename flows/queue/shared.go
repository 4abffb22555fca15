package queue

import (
	"fmt"
	"time"
)

// Sample is what one answered caller leaves for the estimate: how long it
// waited and the position it joined at (see the package doc).
type Sample struct {
	Wait  time.Duration
	Place int
}

// Sample is the caller's sample for the estimate once it has left
// Answered; ok is false while it waits, when it left another way, and for
// a callback's place (JoinCallback), which is not counted. A hotline of
// several nodes shares these samples (Manager.SetRecent).
func (t *Ticket) Sample() (s Sample, ok bool) {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.outcome != Answered || t.uncounted {
		return Sample{}, false
	}
	return Sample{Wait: t.wait, Place: t.joinPos}, true
}

// Window is how many answered callers the named queue's estimate rests
// on (Config.Window), 0 for a queue it does not have.
func (m *Manager) Window(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q, ok := m.queues[name]; ok {
		return q.cfg.Window
	}
	return 0
}

// SetRecent replaces the named queue's recent answered callers, the
// material of its estimate and of Figures.AverageWait, with samples,
// oldest first (the newest Window are kept). From the first call on the
// queue's own answered callers no longer enter it by themselves: the
// caller of SetRecent gathers them (Ticket.Sample) with those of the
// other nodes of a hotline and hands them all back, so every node quotes
// the same estimate at the same position (flows/cluster/pgline). The
// counts of Figures (Answered and the others) stay this Manager's own.
// The waiting callers' Changed channels do not fire: an estimate is read
// when a position is announced.
func (m *Manager) SetRecent(name string, samples []Sample) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.queues[name]
	if !ok {
		return fmt.Errorf("recent waits of %q: %w", name, ErrUnknownQueue)
	}
	q.shared = true
	q.recent = newWindow(q.cfg.Window)
	for _, s := range samples[max(len(samples)-q.cfg.Window, 0):] {
		q.recent.add(max(s.Wait, 0), max(s.Place, 0))
	}
	return nil
}
