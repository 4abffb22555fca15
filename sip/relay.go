package sip

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

// relayDepth is how much audio a relay holds, in frames: enough to ride
// out network jitter, little enough not to add a noticeable delay. Beyond
// it the oldest audio is dropped.
const relayDepth = 8

// trimPeriod is how often, in the reading player's ticks (1 s), a relay
// drops the audio that stood in it the whole period: frames that were
// always still waiting after every tick never served as a cushion against
// jitter, they only delayed that direction. Without it every late packet
// (an underrun: the frame waits for the next tick) would add 20 ms for the
// rest of the call.
const trimPeriod = 50

// lateWindow is how many ticks after one that found the relay empty (100
// ms) a tick finding two frames or more takes the older as late: a stall
// that held back several packets delivers them after more than one tick.
const lateWindow = 5

// lateCutEvery bounds how often, in ticks (1 s), a relay drops a late
// frame: a far end that sends in bursts must not lose more than that.
const lateCutEvery = 50

// arrivalRing is how many frame arrivals a relay remembers for the phase
// of the far end's packets (0.64 s at 20 ms).
const arrivalRing = 32

// relay carries one direction of a bridge's audio. The receiving leg's RTP
// goroutine pushes decoded audio into it (relay is the rtp.Handler of a
// leg whose audio goes to the other side); the other leg's paced player
// takes one frame per tick (relay is a media.Source), encoded in that
// leg's codec, or silence when nothing is waiting. Each leg's own session
// packetizes what its player sends, so SSRC, sequence numbers and
// timestamps stay each leg's own, and the legs may even use different
// codecs.
type relay struct {
	name string

	mu   sync.Mutex
	acc  media.Frame // a partial frame (ptime 10 or 30)
	accN int
	q    [relayDepth]media.Frame
	head int
	n    int

	out [media.FrameBytes]byte // Next's payload; the player's goroutine only

	ticks    int // reading ticks in this trim period
	low      int // fewest frames left after a tick in this period
	late     int // ticks left in which frames past the newest count as late
	sinceCut int // ticks since the last late frame was dropped

	arrivals [arrivalRing]int64 // UnixNano when each of the last frames was complete
	nArr     int                // arrivals recorded, in all

	relayed atomic.Uint64 // frames passed on
	dropped atomic.Uint64 // frames dropped on overflow
	trimmed atomic.Uint64 // frames dropped because they stood a whole period

	// keys, when set, takes the RFC 4733 keys of the far end, for the
	// bridge to pass on; a key is dropped when nobody takes it.
	keys chan rune
}

func newRelay(name string) *relay {
	return &relay{name: name, low: relayDepth, sinceCut: lateCutEvery}
}

// push appends decoded audio of any length.
func (r *relay) push(pcm []int16) {
	now := time.Now().UnixNano()
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(pcm) > 0 {
		k := copy(r.acc[r.accN:], pcm)
		r.accN += k
		pcm = pcm[k:]
		if r.accN < media.FrameSamples {
			return
		}
		r.accN = 0
		if r.n == relayDepth {
			r.head = (r.head + 1) % relayDepth
			r.n--
			r.dropped.Add(1)
		}
		r.q[(r.head+r.n)%relayDepth] = r.acc
		r.n++
		r.arrivals[r.nArr%arrivalRing] = now
		r.nArr++
	}
}

// reset drops what waits: audio that came before anyone took it (an
// agent's, during the whisper) would delay that direction for the whole
// call. What overflowed meanwhile was never meant to be heard: the count
// of dropped frames starts again too.
func (r *relay) reset() {
	r.mu.Lock()
	r.head, r.n, r.accN = 0, 0, 0
	r.ticks, r.low = 0, relayDepth
	r.late, r.sinceCut = 0, lateCutEvery
	r.dropped.Store(0)
	r.mu.Unlock()
}

// tick is the trim bookkeeping of one reading tick, after it took its frame
// (or found none); r.mu held.
func (r *relay) tick() {
	if r.n == 0 && r.relayed.Load() == 0 {
		return // nothing came yet: the empty ticks before say nothing of jitter
	}
	r.sinceCut++
	r.low = min(r.low, r.n)
	r.ticks++
	if r.ticks < trimPeriod {
		return
	}
	if r.low > 0 {
		r.head = (r.head + r.low) % relayDepth
		r.n -= r.low
		r.trimmed.Add(uint64(r.low))
	}
	r.ticks, r.low = 0, relayDepth
}

// arrivalPhase returns a time on the grid of the far end's packets: the
// phase by which nine in ten of the last frames had arrived. ok is false
// while too few arrived, or when they keep no 20 ms rhythm (30 ms packets,
// heavy jitter): then there is no phase worth aligning a player to.
func (r *relay) arrivalPhase() (at time.Time, ok bool) {
	var ts [arrivalRing]int64
	r.mu.Lock()
	n := min(r.nArr, arrivalRing)
	copy(ts[:], r.arrivals[:])
	last := r.arrivals[(r.nArr-1+arrivalRing)%arrivalRing]
	r.mu.Unlock()
	if n < arrivalRing/2 {
		return time.Time{}, false
	}
	// Each arrival's offset from the grid of the latest, in (-10, 10] ms.
	const frame = int64(media.FrameDur)
	var offs [arrivalRing]int64
	for i, t := range ts[:n] {
		d := (t - last) % frame
		if d <= -frame/2 {
			d += frame
		} else if d > frame/2 {
			d -= frame
		}
		offs[i] = d
	}
	o := offs[:n]
	slices.Sort(o)
	lo, hi := o[n/10], o[n-1-n/10]
	if hi-lo > int64(relayJitterMax) {
		return time.Time{}, false
	}
	return time.Unix(0, last+hi), true
}

// Audio implements rtp.Handler: the far end's audio is pushed.
func (r *relay) Audio(pcm []int16) { r.push(pcm) }

// ComfortNoise implements rtp.Handler; Next fills gaps with silence.
func (r *relay) ComfortNoise(uint8) {}

// Digit implements rtp.Handler: a key goes to keys, when set.
func (r *relay) Digit(d rune) {
	if r.keys == nil {
		return
	}
	select {
	case r.keys <- d:
	default:
	}
}

// Silence implements rtp.Handler; Next fills gaps with silence.
func (r *relay) Silence(time.Duration) {}

// Next implements media.Source: the oldest waiting frame in codec c, or a
// frame of silence. A relay never runs out; its Play ends with its ctx.
func (r *relay) Next(c media.Codec) ([]byte, bool) {
	r.mu.Lock()
	if r.n == 0 {
		r.late = lateWindow
		r.tick()
		r.mu.Unlock()
		s := g711.Silence(c)
		for i := range r.out {
			r.out[i] = s
		}
		return r.out[:], true
	}
	if r.late > 0 && r.n >= 2 && r.sinceCut >= lateCutEvery {
		// The frames older than the newest came late: silence went
		// out in their place. Heard now, they would add their 20 ms
		// to every frame after them; they are dropped like a packet
		// that never came.
		cut := r.n - 1
		r.head = (r.head + cut) % relayDepth
		r.n = 1
		r.trimmed.Add(uint64(cut))
		r.sinceCut, r.late = 0, 0
	}
	r.late = max(r.late-1, 0)
	f := &r.q[r.head]
	_ = g711.Encode(c, r.out[:], f[:])
	r.head = (r.head + 1) % relayDepth
	r.n--
	r.tick()
	r.mu.Unlock()
	r.relayed.Add(1)
	return r.out[:], true
}

// String implements media.Source.
func (r *relay) String() string { return "Relay(" + r.name + ")" }
