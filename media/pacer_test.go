package media

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestPacerManyPlayers: a pacer steps many players started at different
// phases; each sends one frame per 20 ms, never late by more than the
// pacer's slot, with frame numbers that never skip.
func TestPacerManyPlayers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pc := NewPacer(ctx, 2)
		var wg sync.WaitGroup
		recs := make([]*rec, 50)
		for i := range recs {
			advance(time.Duration(i%7)*time.Millisecond + 300*time.Microsecond)
			recs[i] = &rec{start: time.Now()}
			p := NewPlayer(recs[i], CodecPCMU, 0xFF, WithPacer(pc))
			wg.Add(1)
			go func() { defer wg.Done(); _ = p.Run(ctx) }()
		}
		advance(time.Second)
		cancel()
		wg.Wait()
		for i, r := range recs {
			r.mu.Lock()
			if len(r.frames) < 40 {
				t.Fatalf("player %d sent %d frames in about 1 s", i, len(r.frames))
			}
			for k, at := range r.at {
				due := time.Duration(k) * FrameDur
				if late := at - due; late < 0 || late > PacerSlot {
					t.Fatalf("player %d frame %d sent at %v, due %v", i, k, at, due)
				}
				if r.frames[k] != uint32(k) {
					t.Fatalf("player %d frame number %d, want %d", i, r.frames[k], k)
				}
			}
			r.mu.Unlock()
		}
	})
}

// TestPacerPlay: Play through a paced player behaves as with its own
// timer: the clip, then silence, and Play returns when the clip is out.
func TestPacerPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		pc := NewPacer(ctx, 1)
		r := &rec{start: time.Now()}
		p := NewPlayer(r, CodecPCMU, 0xFF, WithPacer(pc))
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		advance(110 * time.Millisecond)
		if err := p.Play(ctx, NewClipSource("c", clip(3), false)); err != nil {
			t.Fatal(err)
		}
		if end := time.Since(r.start); end < 180*time.Millisecond || end > 181*time.Millisecond {
			t.Errorf("Play returned at %v, want 180 ms (+ up to a slot)", end)
		}
		cancel()
		<-done
		r.mu.Lock()
		defer r.mu.Unlock()
		want := []byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 0xFF}
		for i, b := range want {
			if r.first[i] != b {
				t.Fatalf("payloads %v, want %v...", r.first, want)
			}
		}
	})
}
