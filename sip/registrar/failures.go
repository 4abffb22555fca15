package registrar

import (
	"net/netip"
	"sync"
)

// failures counts failed authentications per source address. A source
// that fails limit times within window is reported (and counted afresh).
// At most max sources are tracked: when the table is full, expired
// entries go, and if that frees nothing an arbitrary entry does, so a
// flood of spoofed sources costs a bounded amount of memory.
type failures struct {
	limit  int
	window int64
	max    int

	mu sync.Mutex
	m  map[netip.Addr]failCount
}

type failCount struct {
	n     int
	start int64
}

func newFailures(limit int, window int64, max int) *failures {
	return &failures{limit: limit, window: window, max: max, m: map[netip.Addr]failCount{}}
}

// add counts one failure from src at now and reports whether src just
// reached the limit.
func (f *failures) add(src netip.Addr, now int64) bool {
	if !src.IsValid() || f.limit <= 0 {
		return false
	}
	src = src.Unmap()
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.m[src]
	if !ok && len(f.m) >= f.max {
		f.sweepLocked(now)
		for k := range f.m {
			if len(f.m) < f.max {
				break
			}
			delete(f.m, k)
		}
	}
	if !ok || now-c.start > f.window {
		c = failCount{start: now}
	}
	c.n++
	if c.n >= f.limit {
		delete(f.m, src)
		return true
	}
	f.m[src] = c
	return false
}

func (f *failures) sweep(now int64) {
	f.mu.Lock()
	f.sweepLocked(now)
	f.mu.Unlock()
}

func (f *failures) sweepLocked(now int64) {
	for k, c := range f.m {
		if now-c.start > f.window {
			delete(f.m, k)
		}
	}
}

func (f *failures) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
