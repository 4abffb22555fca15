package media

import (
	"testing"
)

// benchClip is a prompt-like clip: its payloads are encoded once and shared,
// as prompts.Prompt does, so Payload itself allocates nothing.
type benchClip struct {
	pcmu, pcma [][]byte
	pcm        [][]int16
}

func newBenchClip(frames int) *benchClip {
	c := &benchClip{}
	for i := range frames {
		u := make([]byte, FrameBytes)
		a := make([]byte, FrameBytes)
		for k := range u {
			u[k], a[k] = byte(i+k), byte(i+k)^0x55
		}
		c.pcmu = append(c.pcmu, u)
		c.pcma = append(c.pcma, a)
		c.pcm = append(c.pcm, make([]int16, FrameSamples))
	}
	return c
}

func (c *benchClip) Frames() int { return len(c.pcmu) }

func (c *benchClip) Payload(codec Codec, i int) []byte {
	if codec == CodecPCMA {
		return c.pcma[i]
	}
	return c.pcmu[i]
}

func (c *benchClip) PCM(i int) []int16 { return c.pcm[i] }

// discardWriter is a FrameWriter that drops every frame.
type discardWriter struct{ n uint32 }

func (w *discardWriter) WriteFrame(frame uint32, payload []byte, marker bool) error {
	w.n += uint32(len(payload))
	return nil
}

func (w *discardWriter) String() string { return "Discard" }

// BenchmarkPlayerStep measures one 20 ms tick of the player without the
// clock: pick the frame of the current source (or silence) and hand it to
// the writer. It must not allocate.
func BenchmarkPlayerStep(b *testing.B) {
	b.Run("prompt", func(b *testing.B) {
		p := NewPlayer(&discardWriter{}, CodecPCMU, 0xFF)
		// A looping 5 s prompt stands in for a prompt that is playing; the
		// loop keeps the source alive for any b.N.
		p.cur = &playing{src: NewClipSource("bench", newBenchClip(250), true), first: true, done: make(chan struct{})}
		b.ReportAllocs()
		for b.Loop() {
			p.step()
		}
	})
	b.Run("silence", func(b *testing.B) {
		p := NewPlayer(&discardWriter{}, CodecPCMA, 0xD5)
		b.ReportAllocs()
		for b.Loop() {
			p.step()
		}
	})
	b.Run("gain", func(b *testing.B) {
		// CS-LOUDER: +6 dB re-encodes each frame into the source's buffer.
		enc := func(_ Codec, dst []byte, src []int16) error {
			for i, s := range src {
				dst[i] = byte(s >> 8)
			}
			return nil
		}
		p := NewPlayer(&discardWriter{}, CodecPCMU, 0xFF)
		src := NewGainSource(NewClipSource("bench", newBenchClip(250), true), 6, enc)
		p.cur = &playing{src: src, first: true, done: make(chan struct{})}
		b.ReportAllocs()
		for b.Loop() {
			p.step()
		}
	})
}
