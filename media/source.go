package media

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Source yields encoded frames for the player, one per 20 ms tick.
type Source interface {
	// Next returns the payload of the next frame in codec c, or ok == false
	// when the source is exhausted. The payload is read-only and valid until
	// the next call.
	Next(c Codec) (payload []byte, ok bool)
	// String names the source (and what it wraps) for logs and tests.
	String() string
}

// Clip is audio whose frames are already encoded: a prompt, or a piece of
// hold music. Implementations share their payloads between calls.
type Clip interface {
	// Frames returns the number of frames in the clip.
	Frames() int
	// Payload returns frame i encoded with codec c (read-only, shared).
	Payload(c Codec, i int) []byte
	// PCM returns the linear samples of frame i (read-only, shared).
	PCM(i int) []int16
}

// ClipSource plays a clip once from its first frame, or loops it forever.
type ClipSource struct {
	name string
	clip Clip
	loop bool
	pos  atomic.Int64 // read by Pos from other goroutines
}

// NewClipSource returns a source that plays clip once, or in a loop when
// loop is true.
func NewClipSource(name string, clip Clip, loop bool) *ClipSource {
	return &ClipSource{name: name, clip: clip, loop: loop}
}

// Next implements Source.
func (s *ClipSource) Next(c Codec) ([]byte, bool) {
	n := s.clip.Frames()
	if n == 0 {
		return nil, false
	}
	pos := int(s.pos.Load())
	if pos >= n {
		if !s.loop {
			return nil, false
		}
		pos = 0
	}
	p := s.clip.Payload(c, pos)
	s.pos.Store(int64(pos + 1))
	return p, true
}

// Pos returns the index of the next frame the source will play, so that a
// paused loop can resume where it stopped.
func (s *ClipSource) Pos() int { return int(s.pos.Load()) % max(s.clip.Frames(), 1) }

// Seek sets the next frame to play.
func (s *ClipSource) Seek(i int) { s.pos.Store(int64(i)) }

// String implements Source.
func (s *ClipSource) String() string { return "Clip(" + s.name + ")" }

// Encoder encodes linear PCM into a codec's payload; media/g711 provides it.
type Encoder func(c Codec, dst []byte, src []int16) error

// GainSource scales the linear samples of a clip by a gain in dB and encodes
// them per frame into its own buffer, for callers who asked for a louder
// agent (CS-LOUDER). With 0 dB it passes the shared payloads through.
type GainSource struct {
	clip   *ClipSource
	raw    Clip
	enc    Encoder
	factor float64
	gainDB float64
	buf    [FrameBytes]byte
	pcm    [FrameSamples]int16
}

// NewGainSource wraps a clip source with a gain in dB.
func NewGainSource(src *ClipSource, gainDB float64, enc Encoder) *GainSource {
	return &GainSource{clip: src, raw: src.clip, enc: enc, gainDB: gainDB, factor: math.Pow(10, gainDB/20)}
}

// Next implements Source.
func (g *GainSource) Next(c Codec) ([]byte, bool) {
	if g.gainDB == 0 {
		return g.clip.Next(c)
	}
	i := int(g.clip.pos.Load())
	if _, ok := g.clip.Next(c); !ok {
		return nil, false
	}
	if i >= g.raw.Frames() { // the loop wrapped
		i = 0
	}
	for k, s := range g.raw.PCM(i) {
		v := float64(s) * g.factor
		g.pcm[k] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
	}
	if err := g.enc(c, g.buf[:], g.pcm[:]); err != nil {
		return nil, false
	}
	return g.buf[:], true
}

// String implements Source.
func (g *GainSource) String() string {
	return fmt.Sprintf("Gain(%+.0fdB) -> %s", g.gainDB, g.clip)
}
