package sip

import (
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// The two legs of a bridge tick on unrelated 20 ms phases: each leg's
// player started when its call did. A frame relayed from one leg then waits
// 0–20 ms for the other's tick, uniformly: p99 about 20 ms of delay with
// nothing queued at all. Aligning each player to tick a little after the
// other side's packets arrive takes that down to the margin below.
const (
	// alignFirst is when a bridge first aligns its players: enough frames
	// have arrived by then for their phase.
	alignFirst = 400 * time.Millisecond
	// alignEvery re-aligns: a hold, a re-INVITE, a new address or a far
	// end's drifting clock move the arrivals.
	alignEvery = 2 * time.Second
	// alignMargin is how long after the (90th percentile) arrival the
	// reading player ticks: the pacer's 1 ms slot and its wake-up.
	alignMargin = 3 * time.Millisecond
	// alignSlack is how far off the player may be before it is moved:
	// each move is a step of jitter for the far end.
	alignSlack = 2 * time.Millisecond
	// relayJitterMax is the widest spread of arrivals (10th to 90th
	// percentile) that still counts as a 20 ms rhythm.
	relayJitterMax = 8 * time.Millisecond
)

// align moves p to tick alignMargin after r's frames arrive, when it is
// more than alignSlack off that; it reports whether it moved it.
func align(p *media.Player, r *relay) bool {
	at, ok := r.arrivalPhase()
	ph := p.Phase()
	if !ok || ph.IsZero() {
		return false
	}
	want := at.Add(alignMargin)
	d := want.Sub(ph) % media.FrameDur
	if d > media.FrameDur/2 {
		d -= media.FrameDur
	} else if d <= -media.FrameDur/2 {
		d += media.FrameDur
	}
	if d.Abs() <= alignSlack {
		return false
	}
	p.Rephase(want)
	return true
}

// phases keeps a bridge's two players aligned: each to the relay it
// reads. The bridge's loop selects on C and calls Align; Stop when the
// bridge ends.
type phases struct {
	timer *time.Timer
	a, b  *media.Player
	ra    *relay // what a plays
	rb    *relay // what b plays
}

// newPhases aligns a to ra and b to rb, first after alignFirst.
func newPhases(a *media.Player, ra *relay, b *media.Player, rb *relay) *phases {
	return &phases{timer: time.NewTimer(alignFirst), a: a, b: b, ra: ra, rb: rb}
}

// C fires when the players are due to be aligned again.
func (ph *phases) C() <-chan time.Time { return ph.timer.C }

// Align aligns both players and sets the next time, alignEvery later.
func (ph *phases) Align() {
	align(ph.a, ph.ra)
	align(ph.b, ph.rb)
	ph.timer.Reset(alignEvery)
}

// Stop stops the timer.
func (ph *phases) Stop() { ph.timer.Stop() }
