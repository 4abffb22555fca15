package media

import (
	"context"
	"sync"
	"time"
)

// PacerSlot is the pacer's resolution: players are grouped by the
// millisecond of the 20 ms frame their stream started in.
const PacerSlot = time.Millisecond

const pacerSlots = int(FrameDur / PacerSlot)

// Pacer steps many players from a few goroutines: each worker wakes every
// millisecond and ticks the players whose 20 ms phase falls in the slots
// that passed since its last wake. A player's frames are still due at
// start + n·20 ms; only who wakes up to send them changes.
type Pacer struct {
	workers []*paceWorker
}

type paceWorker struct {
	mu    sync.Mutex
	slots [pacerSlots][]*Player
	last  int64 // the last millisecond processed
}

// NewPacer starts a pacer with the given number of workers (at least one)
// that runs until ctx ends.
func NewPacer(ctx context.Context, workers int) *Pacer {
	pc := &Pacer{workers: make([]*paceWorker, max(workers, 1))}
	for i := range pc.workers {
		w := &paceWorker{}
		pc.workers[i] = w
		go w.run(ctx)
	}
	return pc
}

// slotOf is the slot in which a frame due at t is sent: the first
// millisecond boundary at or after t, within a 20 ms frame.
func slotOf(t time.Time) int {
	ms := (t.UnixNano() + int64(PacerSlot) - 1) / int64(PacerSlot)
	return int(ms % int64(pacerSlots))
}

// add registers a player whose stream starts now; the returned function
// removes it.
func (pc *Pacer) add(p *Player) (remove func()) {
	slot := slotOf(p.start)
	w := pc.workers[slot%len(pc.workers)]
	w.mu.Lock()
	w.slots[slot] = append(w.slots[slot], p)
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		ps := w.slots[slot]
		for i, q := range ps {
			if q == p {
				ps[i] = ps[len(ps)-1]
				ps[len(ps)-1] = nil
				w.slots[slot] = ps[:len(ps)-1]
				return
			}
		}
	}
}

func (w *paceWorker) run(ctx context.Context) {
	t := time.NewTicker(PacerSlot)
	defer t.Stop()
	w.last = time.Now().UnixMilli()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			w.wake(now)
		}
	}
}

// wake ticks the players of every slot from the last wake's up to now, so
// a late wake-up catches up rather than missing a slot. The last wake's
// slot is looked at again: a player may have joined it just after.
func (w *paceWorker) wake(now time.Time) {
	ms := now.UnixMilli()
	from := max(w.last, ms-int64(pacerSlots)+1)
	w.last = ms
	w.mu.Lock()
	defer w.mu.Unlock()
	for m := from; m <= ms; m++ {
		for _, p := range w.slots[int(m%int64(pacerSlots))] {
			if !p.next.After(now) {
				p.tick(now)
			}
		}
	}
}
