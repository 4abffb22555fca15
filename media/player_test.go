package media

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// advance moves the synctest bubble's virtual clock on by d.
func advance(d time.Duration) { <-time.After(d) }

// rec records every frame the player writes, with the (virtual) time.
type rec struct {
	mu     sync.Mutex
	start  time.Time
	frames []uint32
	at     []time.Duration
	first  []byte
	marker []bool
}

func (r *rec) WriteFrame(frame uint32, payload []byte, marker bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, frame)
	r.at = append(r.at, time.Since(r.start))
	r.first = append(r.first, payload[0])
	r.marker = append(r.marker, marker)
	return nil
}

func (r *rec) String() string { return "Rec" }

// clip is a test clip whose frame i is filled with byte 1+i.
type clip int

func (c clip) Frames() int { return int(c) }
func (c clip) Payload(_ Codec, i int) []byte {
	b := make([]byte, FrameBytes)
	for k := range b {
		b[k] = byte(1 + i)
	}
	return b
}
func (c clip) PCM(int) []int16 { return make([]int16, FrameSamples) }

func TestPlayerPacingAndPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &rec{start: time.Now()}
		p := NewPlayer(r, CodecPCMU, 0xFF)
		ctx, cancel := context.WithCancel(t.Context())
		go p.Run(ctx)

		// 110 ms of silence (off the tick, so the order is fixed), then a
		// 3-frame clip.
		advance(110 * time.Millisecond)
		playStart := time.Since(r.start)
		if err := p.Play(ctx, NewClipSource("c", clip(3), false)); err != nil {
			t.Fatal(err)
		}
		playEnd := time.Since(r.start)
		advance(60 * time.Millisecond)
		cancel()
		synctest.Wait()

		r.mu.Lock()
		defer r.mu.Unlock()
		for i, at := range r.at {
			if at != time.Duration(i)*FrameDur {
				t.Fatalf("frame %d sent at %v, want %v", i, at, time.Duration(i)*FrameDur)
			}
			if r.frames[i] != uint32(i) {
				t.Fatalf("frame number %d, want %d", r.frames[i], i)
			}
		}
		// Frames 0..5 silence (ticks at 0..100 ms), 6..8 the clip, then silence.
		want := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 0xFF}
		for i, b := range want {
			if r.first[i] != b {
				t.Errorf("frame %d payload %#x, want %#x (all %v)", i, r.first[i], b, r.first)
			}
		}
		if !r.marker[0] || !r.marker[6] || r.marker[7] || r.marker[1] {
			t.Errorf("markers %v: want on the stream's first frame and the clip's first", r.marker)
		}
		// Play returns one tick after the clip's last frame went out: the
		// far end has then received all of it.
		if playStart != 110*time.Millisecond || playEnd != 180*time.Millisecond {
			t.Errorf("play from %v to %v, want 110ms to 180ms", playStart, playEnd)
		}
	})
}

func TestPlayerBargeInAndMute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &rec{start: time.Now()}
		p := NewPlayer(r, CodecPCMU, 0xFF)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go p.Run(ctx)

		pctx, stop := context.WithCancelCause(ctx)
		errBarge := errors.New("caller spoke")
		time.AfterFunc(50*time.Millisecond, func() { stop(errBarge) })
		if err := p.Play(pctx, NewClipSource("loop", clip(2), true)); !errors.Is(err, errBarge) {
			t.Fatalf("Play after cancel = %v, want the cause", err)
		}
		p.SetMuted(true)
		advance(100 * time.Millisecond)
		r.mu.Lock()
		n := len(r.frames)
		r.mu.Unlock()
		p.SetMuted(false)
		advance(20 * time.Millisecond)
		synctest.Wait()
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.frames) != n+1 {
			t.Fatalf("frames after unmute: %d, want %d", len(r.frames), n+1)
		}
		// The frame number kept counting through the mute.
		if got, want := r.frames[n], r.frames[n-1]+6; got != want {
			t.Errorf("frame number after mute %d, want %d", got, want)
		}
	})
}

func TestGainSource(t *testing.T) {
	pcm := make([]int16, FrameSamples)
	for i := range pcm {
		pcm[i] = 1000
	}
	c := pcmClip{pcm}
	var got []int16
	enc := func(_ Codec, dst []byte, src []int16) error {
		got = append(got[:0], src...)
		return nil
	}
	g := NewGainSource(NewClipSource("p", c, false), 6, enc)
	if _, ok := g.Next(CodecPCMU); !ok {
		t.Fatal("no frame")
	}
	if got[0] < 1990 || got[0] > 2000 {
		t.Errorf("+6 dB of 1000 = %d, want ≈1995", got[0])
	}
	if _, ok := g.Next(CodecPCMU); ok {
		t.Error("one-frame clip gave two frames")
	}
	if g.String() != "Gain(+6dB) -> Clip(p)" {
		t.Errorf("String() = %q", g.String())
	}
}

type pcmClip struct{ pcm []int16 }

func (c pcmClip) Frames() int               { return 1 }
func (c pcmClip) Payload(Codec, int) []byte { return make([]byte, FrameBytes) }
func (c pcmClip) PCM(int) []int16           { return c.pcm }

// TestPlayerSkipsAfterStall drives tick by hand: after a stall longer than
// MaxLag the missed ticks are skipped, not burst, and the frame number
// still moves with the clock, so the RTP timestamp does too.
func TestPlayerSkipsAfterStall(t *testing.T) {
	r := &rec{}
	p := NewPlayer(r, CodecPCMU, 0xFF)
	t0 := time.Unix(1000, 0)
	p.start, p.next = t0, t0
	for _, at := range []time.Duration{0, FrameDur, time.Second, time.Second + 2*FrameDur} {
		p.tick(t0.Add(at))
	}
	if want := []uint32{0, 1, 50, 51, 52}; !slices.Equal(r.frames, want) {
		t.Errorf("frame numbers %v, want %v", r.frames, want)
	}
	if sent, skipped := p.Stats(); sent != 5 || skipped != 48 {
		t.Errorf("sent %d, skipped %d; want 5 and 48", sent, skipped)
	}
}
