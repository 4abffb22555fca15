package prompts

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

func TestNewPrompt(t *testing.T) {
	in := make([]int16, media.FrameSamples+1)
	for i := range in {
		in[i] = int16(i * 100)
	}
	p := NewPrompt("x", "en", "text", in)
	in[0] = 1 // the prompt keeps its own copy
	if p.ID != "x" || p.Lang != "en" || p.Text != "text" || p.String() != "en/x" {
		t.Errorf("fields: %+v", p)
	}
	if p.Frames() != 2 || p.Duration() != 2*media.FrameDur {
		t.Fatalf("Frames() = %d, Duration() = %v; want 2, 40ms", p.Frames(), p.Duration())
	}
	if got := p.PCM(0)[0]; got != 0 {
		t.Errorf("PCM(0)[0] = %d, want 0 (copied before the change)", got)
	}
	if got := p.PCM(1); got[0] != int16(media.FrameSamples*100) || slices.ContainsFunc(got[1:], func(s int16) bool { return s != 0 }) {
		t.Errorf("last frame not zero-padded: %v", got[:4])
	}
	for _, c := range []media.Codec{media.CodecPCMU, media.CodecPCMA} {
		for i := range p.Frames() {
			b := p.Payload(c, i)
			if len(b) != media.FrameBytes || cap(b) != media.FrameBytes {
				t.Errorf("%v frame %d: len %d cap %d", c, i, len(b), cap(b))
			}
		}
	}
	if p.Payload(media.CodecNone, 0) != nil {
		t.Error("Payload(CodecNone) is not nil")
	}
	if len(p.PCM(0)) != media.FrameSamples || cap(p.PCM(0)) != media.FrameSamples {
		t.Error("PCM frame has the wrong length or capacity")
	}

	empty := NewPrompt("e", "en", "", nil)
	if empty.Frames() != 0 || empty.Duration() != 0 {
		t.Errorf("empty prompt: %d frames", empty.Frames())
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	// A sweep over the whole level range, 20 ms per level.
	var in []int16
	for level := -60.0; level <= 0; level += 3 {
		amp := 32000 * math.Pow(10, level/20)
		for i := range media.FrameSamples {
			in = append(in, int16(amp*math.Sin(2*math.Pi*float64(i)*1000/media.SampleRate)))
		}
	}
	p := NewPrompt("sweep", "en", "", in)
	for _, c := range []media.Codec{media.CodecPCMU, media.CodecPCMA} {
		for i := range p.Frames() {
			pcm := p.PCM(i)
			var got media.Frame
			if err := g711.Decode(c, got[:], p.Payload(c, i)); err != nil {
				t.Fatal(err)
			}
			var sig, noise float64
			for j, v := range got {
				d := float64(v) - float64(pcm[j])
				// G.711 keeps about 4 bits of mantissa: the error stays
				// within 1/16 of the sample, or one small step.
				if math.Abs(d) > math.Abs(float64(pcm[j]))/16+32 {
					t.Fatalf("%v frame %d sample %d: %d decodes to %d", c, i, j, pcm[j], v)
				}
				sig += float64(pcm[j]) * float64(pcm[j])
				noise += d * d
			}
			if i > 8 && 10*math.Log10(sig/noise) < 30 { // above -36 dBFS
				t.Errorf("%v frame %d: SNR %.1f dB, want ≥ 30", c, i, 10*math.Log10(sig/noise))
			}
		}
	}
}

func TestPayloadNoAlloc(t *testing.T) {
	p := NewPrompt("x", "en", "", make([]int16, 10*media.FrameSamples))
	allocs := testing.AllocsPerRun(100, func() {
		for i := range p.Frames() {
			_ = p.Payload(media.CodecPCMU, i)
			_ = p.Payload(media.CodecPCMA, i)
			_ = p.PCM(i)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func TestPayloadPanicsOutOfRange(t *testing.T) {
	p := NewPrompt("x", "en", "", make([]int16, media.FrameSamples))
	defer func() {
		if recover() == nil {
			t.Error("no panic for frame 1 of a 1-frame prompt")
		}
	}()
	p.Payload(media.CodecPCMU, 1)
}

func TestDurationConsistent(t *testing.T) {
	p := NewPrompt("x", "en", "", make([]int16, media.SampleRate)) // 1 s
	if p.Duration() != time.Second || p.Frames() != media.Frames(time.Second) {
		t.Errorf("1 s of audio: %v, %d frames", p.Duration(), p.Frames())
	}
}
