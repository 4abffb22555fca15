package softphone

import (
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// The receive path puts every packet's audio at its place on the call's
// timeline, counted in samples (8 kHz) since the INVITE was sent, so that
// what it reports is as accurate as the sender's RTP clock, not as jittery
// as packet arrival. These pieces are pure and driven by tests directly.

// maxSkew is how far the RTP-timestamp position of a packet may drift from
// its arrival position before the placer re-anchors (a new SSRC, a sender
// that reset its timestamps, or a clock that drifted away).
const maxSkew = int64(media.SampleRate) // 1 s

// samplesAt converts a time on the timeline to a sample position.
func samplesAt(d time.Duration) int64 { return int64(d) * media.SampleRate / int64(time.Second) }

// timeAt converts a sample position to a time on the timeline.
func timeAt(pos int64) time.Duration {
	return time.Duration(pos * int64(time.Second) / media.SampleRate)
}

// placer maps an RTP packet to its sample position: the arrival position of
// the stream's first packet plus the RTP timestamp distance from it.
type placer struct {
	started   bool
	ssrc      uint32
	anchorTS  uint32
	anchorPos int64
}

// place returns the position of the packet with ssrc and timestamp ts that
// arrived at sample position arrival.
func (p *placer) place(ssrc, ts uint32, arrival int64) int64 {
	if p.started && ssrc == p.ssrc {
		pos := p.anchorPos + int64(int32(ts-p.anchorTS))
		if d := pos - arrival; d > -maxSkew && d < maxSkew {
			return pos
		}
	}
	p.started, p.ssrc, p.anchorTS, p.anchorPos = true, ssrc, ts, arrival
	return arrival
}

// assembler collects placed audio and hands it on in order, in frames of
// media.FrameSamples, once it is hold samples old (so reordered packets
// still land at their place). Samples no packet carried are zero. Audio
// that arrives for a position already handed on is dropped.
type assembler struct {
	hold    int                          // samples kept back for reordering
	emit    func(pos int64, pcm []int16) // receives each frame; pcm is reused
	started bool
	base    int64 // position of buf[0]
	filled  int64 // end of the newest audio written
	buf     []int16
	late    uint64 // packets dropped entirely as too late
}

// write places pcm at pos.
func (a *assembler) write(pos int64, pcm []int16) {
	if !a.started {
		a.started, a.base, a.filled = true, pos, pos
	}
	if pos < a.base {
		skip := a.base - pos
		if skip >= int64(len(pcm)) {
			a.late++
			return
		}
		pcm, pos = pcm[skip:], a.base
	}
	end := pos + int64(len(pcm))
	if need := int(end - a.base); need > len(a.buf) {
		a.buf = append(a.buf, make([]int16, need-len(a.buf))...)
	}
	copy(a.buf[pos-a.base:], pcm)
	a.filled = max(a.filled, end)
	for int(a.filled-a.base) >= a.hold+media.FrameSamples {
		a.pop(media.FrameSamples)
	}
}

// pop hands on the first n buffered samples.
func (a *assembler) pop(n int) {
	a.emit(a.base, a.buf[:n])
	rest := copy(a.buf, a.buf[n:])
	clear(a.buf[rest:])
	a.buf = a.buf[:rest]
	a.base += int64(n)
}

// flush hands on everything written so far, the last frame possibly short:
// the stream stalled or ended, so nothing older can still arrive.
func (a *assembler) flush() {
	for a.filled > a.base {
		a.pop(int(min(a.filled-a.base, int64(media.FrameSamples))))
	}
	a.buf = a.buf[:0]
}

// pending reports whether audio waits to be handed on.
func (a *assembler) pending() bool { return a.filled > a.base }

// seqCounter counts received packets and, from the extended sequence
// numbers, the ones that never came (RFC 3550 appendix A.3).
type seqCounter struct {
	started        bool
	first, highest int64
	received       uint64
}

func (c *seqCounter) observe(seq uint16) {
	c.received++
	if !c.started {
		c.started, c.first, c.highest = true, int64(seq), int64(seq)
		return
	}
	ext := c.highest + int64(int16(seq-uint16(c.highest)))
	c.highest = max(c.highest, ext)
}

// lost returns expected minus received packets, never negative.
func (c *seqCounter) lost() uint64 {
	if !c.started {
		return 0
	}
	expected := c.highest - c.first + 1
	if exp := uint64(expected); expected > 0 && exp > c.received {
		return exp - c.received
	}
	return 0
}
