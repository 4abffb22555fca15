package sip

import (
	"context"
	"math"
	"sync"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

// ringback is the ringing tone a caller hears while kefu rings a
// destination for them (a bridged transfer), so the line is never dead:
// 450 Hz, one second on and four off, as Chinese exchanges ring (GB
// 16543). One cycle, encoded once for both codecs, is looped.
type ringback struct {
	pcm [][]int16
	enc [2][][]byte // PCMU, PCMA
}

const (
	ringbackHz    = 450
	ringbackLevel = 0.1 // about -20 dBFS
)

var ringbackClip = sync.OnceValue(func() *ringback {
	const on, cycle = 50, 250 // frames: 1 s of tone in every 5 s
	r := &ringback{pcm: make([][]int16, cycle)}
	for i := range r.pcm {
		f := make([]int16, media.FrameSamples)
		if i < on {
			for k := range f {
				n := float64(i*media.FrameSamples + k)
				f[k] = int16(ringbackLevel * 32767 * math.Sin(2*math.Pi*ringbackHz*n/8000))
			}
		}
		r.pcm[i] = f
	}
	for ci, c := range []media.Codec{media.CodecPCMU, media.CodecPCMA} {
		r.enc[ci] = make([][]byte, cycle)
		for i, f := range r.pcm {
			b := make([]byte, media.FrameBytes)
			_ = g711.Encode(c, b, f)
			r.enc[ci][i] = b
		}
	}
	return r
})

// ringback plays the ringing tone to the caller until the returned stop.
func (c *call) ringback() (stop func()) {
	if c.m == nil || c.m.audio == nil {
		return func() {} // a test's call without media
	}
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.m.audio.player.Play(ctx, media.NewClipSource("ringback", ringbackClip(), true))
	}()
	return func() { cancel(); <-done }
}

// Frames implements media.Clip.
func (r *ringback) Frames() int { return len(r.pcm) }

// Payload implements media.Clip.
func (r *ringback) Payload(c media.Codec, i int) []byte {
	if c == media.CodecPCMA {
		return r.enc[1][i]
	}
	return r.enc[0][i]
}

// PCM implements media.Clip.
func (r *ringback) PCM(i int) []int16 { return r.pcm[i] }
