package media

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestPlayerRephase: Rephase moves a player's 20 ms grid, with its own
// timer and stepped by a pacer: later by a shift under half a frame, or
// earlier while the next frame is still ahead; the frame numbers stay
// continuous, no frame goes out twice or is skipped, and after the move
// every frame is on the new phase.
func TestPlayerRephase(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paced bool
		ask   time.Duration // when Rephase is called: after frame 10 (200 ms), before frame 11
		shift time.Duration // of the requested phase against the player's
		want  time.Duration // the move expected
	}{
		{"timer later", false, 205 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{"timer earlier", false, 205 * time.Millisecond, 14 * time.Millisecond, -6 * time.Millisecond},
		{"timer earlier too late", false, 219 * time.Millisecond, 12 * time.Millisecond, 12 * time.Millisecond},
		{"paced later", true, 205 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond},
		{"paced earlier", true, 205 * time.Millisecond, 16 * time.Millisecond, -4 * time.Millisecond},
		{"paced earlier too late", true, 218*time.Millisecond + 500*time.Microsecond, 15 * time.Millisecond, 15 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				var opts []PlayerOption
				if tc.paced {
					opts = append(opts, WithPacer(NewPacer(ctx, 2)))
				}
				r := &rec{start: time.Now()}
				p := NewPlayer(r, CodecPCMU, 0xFF, opts...)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); _ = p.Run(ctx) }()
				// Off the grid, between frames 10 and 11, ask for the new phase.
				advance(tc.ask)
				if got := p.Phase(); !got.Equal(r.start) {
					t.Fatalf("Phase() = %v, want the start %v", got, r.start)
				}
				p.Rephase(r.start.Add(tc.shift + 40*FrameDur)) // any time on the new grid
				advance(300 * time.Millisecond)
				cancel()
				wg.Wait()
				if got := p.Phase().Sub(r.start); got != tc.want {
					t.Errorf("phase moved %v, want %v", got, tc.want)
				}
				if p.Rephased() != 1 {
					t.Errorf("Rephased() = %d, want 1", p.Rephased())
				}
				r.mu.Lock()
				defer r.mu.Unlock()
				if len(r.frames) < 20 {
					t.Fatalf("%d frames in 0.5 s", len(r.frames))
				}
				for k, at := range r.at {
					if r.frames[k] != uint32(k) {
						t.Fatalf("frame %d numbered %d", k, r.frames[k])
					}
					due := time.Duration(k) * FrameDur
					if k > 10 {
						due += tc.want
					}
					slack := time.Duration(0)
					if tc.paced {
						slack = PacerSlot
					}
					if late := at - due; late < 0 || late > slack {
						t.Fatalf("frame %d sent at %v, due %v", k, at, due)
					}
				}
			})
		})
	}
}
