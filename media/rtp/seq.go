package rtp

// seqResult classifies an arriving sequence number.
type seqResult uint8

const (
	seqInOrder   seqResult = iota // newest so far
	seqLate                       // older than the newest, first time seen
	seqDuplicate                  // seen before
)

// seqWindow tracks the newest sequence number and which of the 64 before it
// arrived, to drop duplicates and count reordering and loss across the
// 16-bit wrap.
type seqWindow struct {
	started bool
	highest uint16
	seen    uint64 // bit i: highest-i arrived
	lost    uint64 // gaps that were never filled, counted as they leave the window
}

func (w *seqWindow) observe(seq uint16) seqResult {
	if !w.started {
		w.started, w.highest, w.seen = true, seq, ^uint64(0) // nothing before the first packet is missing
		return seqInOrder
	}
	d := int16(seq - w.highest)
	switch {
	case d > 0:
		if d >= 64 {
			w.lost += uint64(64 - popcount(w.seen))
			w.lost += uint64(d - 64)
			w.seen = 1
		} else {
			out := w.seen >> (64 - uint(d)) // bits that leave the window
			w.lost += uint64(int(d) - popcount(out))
			w.seen = w.seen<<uint(d) | 1
		}
		w.highest = seq
		return seqInOrder
	case d == 0:
		return seqDuplicate
	case d > -64:
		bit := uint64(1) << uint(-d)
		if w.seen&bit != 0 {
			return seqDuplicate
		}
		w.seen |= bit
		return seqLate
	default:
		return seqLate // far too old to track: treat as late, not lost
	}
}

func popcount(x uint64) int {
	n := 0
	for x != 0 {
		x &= x - 1
		n++
	}
	return n
}
