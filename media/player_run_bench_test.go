//go:build unix

package media

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countingWriter counts frames across goroutines.
type countingWriter struct{ n *atomic.Uint64 }

func (w countingWriter) WriteFrame(uint32, []byte, bool) error { w.n.Add(1); return nil }
func (w countingWriter) String() string                        { return "Count" }

// BenchmarkPlayerRun runs 1000 players on the real clock, as 1000 calls
// would, with writers that only count, until b.N frames went out. It
// reports the process CPU time per frame (cpu-ns/frame): the cost of the
// per-call goroutine, timer and select that pace each frame, since the
// frame's own work (BenchmarkPlayerStep) is a few ns. ns/op is wall time
// and only says that 1000 players emit one frame per 20 µs.
func BenchmarkPlayerRun(b *testing.B) {
	const players = 1000
	var n atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i := range players {
		p := NewPlayer(countingWriter{&n}, CodecPCMU, 0xFF)
		wg.Go(func() {
			// Spread the start phases over one frame, like calls arriving.
			time.Sleep(FrameDur * time.Duration(i) / players)
			_ = p.Run(ctx)
		})
	}
	time.Sleep(2 * FrameDur) // all running
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := n.Load(), processCPU(b)
	waitFrames(&n, start, b.N, players)
	frames := n.Load() - start
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(frames), "cpu-ns/frame")
	b.StopTimer()
	cancel()
	wg.Wait()
}

// waitFrames sleeps until n has grown by want frames from start, in few
// wake-ups, so that the waiting costs little CPU next to the players'.
func waitFrames(n *atomic.Uint64, start uint64, want, players int) {
	time.Sleep(time.Duration(want) * FrameDur / time.Duration(players))
	for n.Load()-start < uint64(want) {
		time.Sleep(5 * time.Millisecond)
	}
}

// processCPU returns the user+system CPU time of this process in ns.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkSharedClockPrototype paces the same 1000 players as
// BenchmarkPlayerRun from a shared clock instead: GOMAXPROCS goroutines
// wake once per slot (deadline-paced) and step the players whose 20 ms
// phase falls in that slot. It models a proposed change to Player and
// reports cpu-ns/frame for comparison; the slot bounds the added jitter.
func BenchmarkSharedClockPrototype(b *testing.B) {
	for _, slot := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond} {
		b.Run("slot="+slot.String(), func(b *testing.B) { sharedClock(b, slot) })
	}
}

func sharedClock(b *testing.B, slot time.Duration) {
	const players = 1000
	slots := int(FrameDur / slot)
	var n atomic.Uint64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		bySlot := make([][]*Player, slots)
		for i := w; i < players; i += workers {
			bySlot[i%slots] = append(bySlot[i%slots], NewPlayer(countingWriter{&n}, CodecPCMU, 0xFF))
		}
		wg.Go(func() {
			t := time.NewTimer(0)
			defer t.Stop()
			for k := 0; ; k++ {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				for _, p := range bySlot[k%slots] {
					p.step()
				}
				t.Reset(time.Until(start.Add(time.Duration(k+1) * slot)))
			}
		})
	}
	time.Sleep(2 * FrameDur)
	b.ReportAllocs()
	b.ResetTimer()
	first, cpu0 := n.Load(), processCPU(b)
	waitFrames(&n, first, b.N, players)
	frames := n.Load() - first
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(frames), "cpu-ns/frame")
	b.StopTimer()
	cancel()
	wg.Wait()
}
