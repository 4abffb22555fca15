package sip

import (
	"bytes"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

// frameOf is a frame of constant samples v.
func frameOf(v int16, n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = v
	}
	return pcm
}

func encoded(c media.Codec, v int16) []byte {
	b := make([]byte, media.FrameBytes)
	_ = g711.Encode(c, b, frameOf(v, media.FrameSamples))
	return b
}

// TestRelay: frames come out in order, in the asking player's codec; a
// relay with nothing waiting gives silence; 10 and 30 ms packets are cut
// into 20 ms frames; beyond relayDepth the oldest audio is dropped.
func TestRelay(t *testing.T) {
	r := newRelay("caller")
	if r.String() != "Relay(caller)" {
		t.Errorf("String() = %q", r.String())
	}
	if p, ok := r.Next(media.CodecPCMU); !ok || !bytes.Equal(p, bytes.Repeat([]byte{g711.SilenceUlaw}, media.FrameBytes)) {
		t.Errorf("empty relay: %v, %x", ok, p[:4])
	}
	if p, _ := r.Next(media.CodecPCMA); !bytes.Equal(p, bytes.Repeat([]byte{g711.SilenceAlaw}, media.FrameBytes)) {
		t.Errorf("empty relay in PCMA: %x", p[:4])
	}
	// 10 ms + 10 ms, then 30 ms + 10 ms: three frames (into a relay that
	// never ran empty: after an underrun, frames older than the newest are
	// late; TestRelayLateFrame).
	r = newRelay("caller")
	r.push(frameOf(1000, 80))
	r.push(frameOf(1000, 80))
	r.push(append(frameOf(2000, 160), frameOf(3000, 80)...))
	r.push(frameOf(3000, 80))
	for i, want := range []int16{1000, 2000, 3000} {
		p, ok := r.Next(media.CodecPCMA)
		if !ok || !bytes.Equal(p, encoded(media.CodecPCMA, want)) {
			t.Errorf("frame %d: not %d in PCMA", i, want)
		}
	}
	if r.relayed.Load() != 3 {
		t.Errorf("relayed %d, want 3", r.relayed.Load())
	}
	// Overflow: only the newest relayDepth frames stay.
	for i := range relayDepth + 3 {
		r.push(frameOf(int16(100*(i+1)), media.FrameSamples))
	}
	if r.dropped.Load() != 3 {
		t.Errorf("dropped %d, want 3", r.dropped.Load())
	}
	if p, _ := r.Next(media.CodecPCMU); !bytes.Equal(p, encoded(media.CodecPCMU, 400)) {
		t.Error("after overflow the oldest frame kept is not the fourth")
	}
}

// TestRelayAllocs: the relay's send path allocates nothing per frame.
func TestRelayAllocs(t *testing.T) {
	r := newRelay("caller")
	pcm := frameOf(500, media.FrameSamples)
	if n := testing.AllocsPerRun(100, func() {
		r.push(pcm)
		r.Next(media.CodecPCMU)
		r.Next(media.CodecPCMU)
	}); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

// TestRelayReset: audio pushed before anyone takes it is dropped by reset,
// so the bridge starts without a standing delay.
func TestRelayReset(t *testing.T) {
	r := newRelay("agent")
	for range relayDepth + 3 {
		r.push(make([]int16, 160))
	}
	r.reset()
	if r.n != 0 || r.dropped.Load() != 0 {
		t.Fatalf("%d frames wait after reset, %d counted dropped", r.n, r.dropped.Load())
	}
	pcm := make([]int16, 160)
	for i := range pcm {
		pcm[i] = 1000
	}
	r.push(pcm)
	if _, ok := r.Next(media.CodecPCMU); !ok || r.relayed.Load() != 1 || r.n != 0 {
		t.Errorf("after reset the first frame pushed is the first taken: relayed %d, waiting %d", r.relayed.Load(), r.n)
	}
}
