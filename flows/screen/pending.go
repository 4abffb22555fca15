package screen

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// PendingTTL is how long a call Check let through holds its place in the
// repeat-call count while kefu has neither answered nor refused it; a call
// whose end was never reported stops counting after it.
const PendingTTL = 2 * time.Minute

// stripes is how many locks the pending calls are spread over.
const stripes = 64

// ticket is a call Check let through that counts, as pending, until it is
// answered (Count) or not (Release).
type ticket struct {
	at   time.Time
	done atomic.Bool
}

// pending keeps, per number, the calls Check let through that kefu has not
// answered or refused yet, so that simultaneous calls from one number are
// judged with each other: a number's check and its count run under one
// lock, and the number's calls in the store plus its pending calls are
// exact. The state is this process's: calls ringing at another kefu node
// are not seen.
type pending struct {
	seed    maphash.Seed
	stripes [stripes]stripe
}

type stripe struct {
	mu    sync.Mutex
	calls map[string][]*ticket
}

func newPending() *pending { return &pending{seed: maphash.MakeSeed()} }

// lock locks the stripe of key and returns it.
func (p *pending) lock(key string) *stripe {
	s := &p.stripes[maphash.String(p.seed, key)%stripes]
	s.mu.Lock()
	return s
}

// live returns how many of key's pending calls are younger than
// PendingTTL at at, forgetting the others. The stripe is locked.
func (s *stripe) live(key string, at time.Time) int {
	ts := slices.DeleteFunc(s.calls[key], func(t *ticket) bool { return !t.at.After(at.Add(-PendingTTL)) })
	if len(ts) == 0 {
		delete(s.calls, key)
		return 0
	}
	s.calls[key] = ts
	return len(ts)
}

// add records a pending call of key at at. The stripe is locked.
func (s *stripe) add(key string, at time.Time) *ticket {
	if s.calls == nil {
		s.calls = map[string][]*ticket{}
	}
	t := &ticket{at: at}
	s.calls[key] = append(s.calls[key], t)
	return t
}

// remove forgets t, once. The stripe is locked.
func (s *stripe) remove(key string, t *ticket) {
	if t == nil || t.done.Swap(true) {
		return
	}
	if ts := slices.DeleteFunc(s.calls[key], func(o *ticket) bool { return o == t }); len(ts) > 0 {
		s.calls[key] = ts
	} else {
		delete(s.calls, key)
	}
}
