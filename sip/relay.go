package sip

import (
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

	relayed atomic.Uint64 // frames passed on
	dropped atomic.Uint64 // frames dropped on overflow

	// keys, when set, takes the RFC 4733 keys of the far end, for the
	// bridge to pass on; a key is dropped when nobody takes it.
	keys chan rune
}

func newRelay(name string) *relay { return &relay{name: name} }

// push appends decoded audio of any length.
func (r *relay) push(pcm []int16) {
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
	}
}

// reset drops what waits: audio that came before anyone took it (an
// agent's, during the whisper) would delay that direction for the whole
// call.
func (r *relay) reset() {
	r.mu.Lock()
	r.head, r.n, r.accN = 0, 0, 0
	r.mu.Unlock()
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
		r.mu.Unlock()
		s := g711.Silence(c)
		for i := range r.out {
			r.out[i] = s
		}
		return r.out[:], true
	}
	f := &r.q[r.head]
	_ = g711.Encode(c, r.out[:], f[:])
	r.head = (r.head + 1) % relayDepth
	r.n--
	r.mu.Unlock()
	r.relayed.Add(1)
	return r.out[:], true
}

// String implements media.Source.
func (r *relay) String() string { return "Relay(" + r.name + ")" }
