package vad

import "math"

// ring holds the last len(v) values pushed, for windows counted in frames.
type ring struct {
	v     []float64
	head  int // next slot
	count int // values held, at most len(v)
}

func newRing(n int) ring { return ring{v: make([]float64, max(n, 1))} }

func (r *ring) reset() {
	clear(r.v)
	r.head, r.count = 0, 0
}

func (r *ring) len() int { return len(r.v) }

func (r *ring) full() bool { return r.count == len(r.v) }

// push adds x, dropping the oldest value if the ring is full.
func (r *ring) push(x float64) {
	r.v[r.head] = x
	r.head = (r.head + 1) % len(r.v)
	r.count = min(r.count+1, len(r.v))
}

// oldest returns the value the next push drops (when full).
func (r *ring) oldest() float64 {
	if !r.full() {
		return 0
	}
	return r.v[r.head]
}

// at returns the i-th newest value (0 is the newest).
func (r *ring) at(i int) float64 {
	w := len(r.v)
	return r.v[(r.head-1-i+w)%w]
}

// set replaces the i-th newest value.
func (r *ring) set(i int, x float64) {
	w := len(r.v)
	r.v[(r.head-1-i+w)%w] = x
}

// spread returns the lowest and highest value held, and the highest of the
// newest k. With an empty ring all three are MinDB.
func (r *ring) spread(k int) (lo, hi, held float64) {
	if r.count == 0 {
		return MinDB, MinDB, MinDB
	}
	// Until the ring is full its values are v[:count]; order does not
	// matter for the extremes.
	lo, hi = r.v[0], r.v[0]
	for _, v := range r.v[1:r.count] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	held = math.Inf(-1)
	for i := range min(k, r.count) {
		held = max(held, r.at(i))
	}
	return lo, hi, held
}

// minMax returns the lowest and highest value held (MinDB if empty).
func (r *ring) minMax() (lo, hi float64) {
	lo, hi, _ = r.spread(0)
	return lo, hi
}

// fill makes the ring hold x only, as if pushed len(v) times.
func (r *ring) fill(x float64) {
	for i := range r.v {
		r.v[i] = x
	}
	r.count = len(r.v)
}

// raise lifts every value held below x to x.
func (r *ring) raise(x float64) {
	for i := range r.v {
		r.v[i] = max(r.v[i], x)
	}
}
