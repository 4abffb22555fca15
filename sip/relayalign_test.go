package sip

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// TestRelayTrim: frames that stood in the relay through a whole trim
// period are dropped at its end (a late packet's frame no longer delays the
// rest of the call), counted apart from overflow; a relay that ran empty
// in the period keeps what it has.
func TestRelayTrim(t *testing.T) {
	r := newRelay("caller")
	pcm := frameOf(700, media.FrameSamples)
	// Two frames ahead, then one in, one out, for a whole period: two
	// frames stood in it all along.
	r.push(pcm)
	r.push(pcm)
	for range trimPeriod {
		r.push(pcm)
		r.Next(media.CodecPCMU)
	}
	if r.trimmed.Load() != 2 || r.n != 0 {
		t.Fatalf("after a period with 2 frames standing: trimmed %d, waiting %d", r.trimmed.Load(), r.n)
	}
	// A period in which the relay ran empty once keeps what it has.
	r.Next(media.CodecPCMU)
	for range trimPeriod - 1 {
		r.push(pcm)
		r.Next(media.CodecPCMU)
	}
	r.push(pcm)
	if r.trimmed.Load() != 2 || r.n != 1 {
		t.Fatalf("after a period with an underrun: trimmed %d, waiting %d", r.trimmed.Load(), r.n)
	}
	if r.dropped.Load() != 0 {
		t.Errorf("dropped %d on overflow", r.dropped.Load())
	}
}

// TestRelayLateFrame: a frame that arrives just after the tick that found
// the relay empty (silence went out in its place) is dropped when the next
// frame is there too, so the delay stays what it was; at most once a second,
// so a far end sending in bursts loses no more.
func TestRelayLateFrame(t *testing.T) {
	r := newRelay("caller")
	late, next := frameOf(1000, media.FrameSamples), frameOf(2000, media.FrameSamples)
	r.Next(media.CodecPCMU) // empty: an underrun
	r.push(late)
	r.push(next)
	if p, _ := r.Next(media.CodecPCMU); !bytes.Equal(p, encoded(media.CodecPCMU, 2000)) {
		t.Fatal("after an underrun, the tick with two frames waiting did not play the newer")
	}
	if r.trimmed.Load() != 1 || r.n != 0 {
		t.Fatalf("trimmed %d, waiting %d; want 1, 0", r.trimmed.Load(), r.n)
	}
	// Again within a second: both are kept (a burst, not a late frame).
	r.Next(media.CodecPCMU)
	r.push(late)
	r.push(next)
	if p, _ := r.Next(media.CodecPCMU); !bytes.Equal(p, encoded(media.CodecPCMU, 1000)) {
		t.Fatal("a second late frame within lateCutEvery was dropped")
	}
	if r.trimmed.Load() != 1 || r.n != 1 {
		t.Fatalf("trimmed %d, waiting %d; want 1, 1", r.trimmed.Load(), r.n)
	}

	// A stall that held back several packets: after the underrun the
	// late frame comes alone and is played; the next two come together a
	// tick later, and the older of them goes.
	r = newRelay("caller")
	r.Next(media.CodecPCMU)
	r.push(late)
	if p, _ := r.Next(media.CodecPCMU); !bytes.Equal(p, encoded(media.CodecPCMU, 1000)) {
		t.Fatal("the late frame alone was not played")
	}
	r.push(next)
	r.push(frameOf(3000, media.FrameSamples))
	if p, _ := r.Next(media.CodecPCMU); !bytes.Equal(p, encoded(media.CodecPCMU, 3000)) || r.n != 0 || r.trimmed.Load() != 1 {
		t.Fatalf("two frames a tick after the late one: newest not played (waiting %d, trimmed %d)", r.n, r.trimmed.Load())
	}
	// Past the window, two frames waiting are a cushion, not lateness.
	r = newRelay("caller")
	r.Next(media.CodecPCMU)
	for range lateWindow {
		r.push(late)
		r.Next(media.CodecPCMU)
	}
	r.push(late)
	r.push(next)
	if p, _ := r.Next(media.CodecPCMU); !bytes.Equal(p, encoded(media.CodecPCMU, 1000)) || r.trimmed.Load() != 0 {
		t.Fatalf("two frames after the late window: a frame was dropped (trimmed %d)", r.trimmed.Load())
	}
}

// TestRelayArrivalPhase: the relay tells the phase of the far end's 20 ms
// packets (the late edge of their jitter), and none for 30 ms packets or
// too few frames.
func TestRelayArrivalPhase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		r := newRelay("agent")
		pcm := frameOf(300, media.FrameSamples)
		if _, ok := r.arrivalPhase(); ok {
			t.Error("a phase before any packet")
		}
		// 20 ms packets at 7 ms into each frame, every fourth 2 ms late.
		for i := range 40 {
			d := 7 * time.Millisecond
			if i%4 == 3 {
				d += 2 * time.Millisecond
			}
			time.Sleep(time.Until(start.Add(time.Duration(i)*media.FrameDur + d)))
			r.push(pcm)
			r.Next(media.CodecPCMU)
		}
		at, ok := r.arrivalPhase()
		if !ok {
			t.Fatal("no phase for regular 20 ms packets")
		}
		if got := at.Sub(start) % media.FrameDur; got != 9*time.Millisecond {
			t.Errorf("arrival phase %v into the frame, want 9ms (the late ones)", got)
		}

		// 30 ms packets complete 20 ms frames at 0, 30, 60 ... ms: no rhythm.
		r = newRelay("agent")
		for i := range 40 {
			time.Sleep(time.Until(start.Add(time.Second + time.Duration(i)*30*time.Millisecond)))
			r.push(frameOf(300, 240))
		}
		if at, ok := r.arrivalPhase(); ok {
			t.Errorf("a phase %v for 30 ms packets", at.Sub(start)%media.FrameDur)
		}
	})
}

// TestAlign: a paced player reading a relay is moved to tick alignMargin
// after the relay's packets arrive, once; a player already there stays.
func TestAlign(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pc := media.NewPacer(ctx, 1)
		w := &countWriter{}
		p := media.NewPlayer(w, media.CodecPCMU, 0xFF, media.WithPacer(pc))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.Run(ctx) }()
		time.Sleep(time.Millisecond) // Run has started: the player's grid is at 0
		start := p.Phase()
		r := newRelay("caller")
		for i := range 40 {
			time.Sleep(time.Until(start.Add(time.Duration(i)*media.FrameDur + 11*time.Millisecond)))
			r.push(frameOf(300, media.FrameSamples))
		}
		if !align(p, r) {
			t.Fatal("align did not move a player 11 ms before the arrivals")
		}
		time.Sleep(100 * time.Millisecond)
		if got := (p.Phase().Sub(start)%media.FrameDur + media.FrameDur) % media.FrameDur; got != 11*time.Millisecond+alignMargin {
			t.Errorf("player's phase %v, want %v", got, 11*time.Millisecond+alignMargin)
		}
		if align(p, r) {
			t.Error("align moved a player already aligned")
		}
		cancel()
		wg.Wait()
	})
}

type countWriter struct{ n int }

func (w *countWriter) WriteFrame(uint32, []byte, bool) error { w.n++; return nil }
func (w *countWriter) String() string                        { return "count" }
