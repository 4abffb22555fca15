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

// frameCounter counts the frames the players write and wakes a waiter when
// a target count is reached, so the benchmark waits on an event, not on
// guessed sleeps.
type frameCounter struct {
	n      atomic.Uint64
	target atomic.Uint64 // 0: nobody waits
	mu     sync.Mutex
	done   chan struct{}
}

func (c *frameCounter) WriteFrame(uint32, []byte, bool) error {
	if v := c.n.Add(1); v == c.target.Load() {
		c.mu.Lock()
		close(c.done)
		c.mu.Unlock()
	}
	return nil
}

func (c *frameCounter) String() string { return "Count" }

// wait returns once k more frames than now have been written.
func (c *frameCounter) wait(k uint64) {
	c.mu.Lock()
	c.done = make(chan struct{})
	done := c.done
	c.mu.Unlock()
	c.target.Store(c.n.Load() + k)
	if c.n.Load() >= c.target.Load() { // reached before the target was set
		c.target.Store(0)
		return
	}
	<-done
	c.target.Store(0)
}

// BenchmarkPlayerRun runs 1000 players on the real clock, as 1000 calls
// would, with writers that only count, until b.N frames went out. It
// reports the process CPU time per frame (cpu-ns/frame): the cost of
// pacing each frame, since the frame's own work (BenchmarkPlayerStep) is a
// few ns. "timer": each player paces itself with its own timer; "pacer":
// the shared media.Pacer kefu uses steps them all. ns/op is wall time and
// only says that 1000 players emit one frame per 20 µs.
func BenchmarkPlayerRun(b *testing.B) {
	b.Run("timer", func(b *testing.B) { runPlayers(b, nil) })
	b.Run("pacer", func(b *testing.B) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		runPlayers(b, NewPacer(ctx, runtime.GOMAXPROCS(0)))
	})
}

func runPlayers(b *testing.B, pc *Pacer) {
	const players = 1000
	var opts []PlayerOption
	if pc != nil {
		opts = append(opts, WithPacer(pc))
	}
	var c frameCounter
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	// Start the players spread over one frame, like calls arriving: one
	// per tick of FrameDur/players.
	tick := time.NewTicker(FrameDur / players)
	for range players {
		<-tick.C
		p := NewPlayer(&c, CodecPCMU, 0xFF, opts...)
		wg.Go(func() { _ = p.Run(ctx) })
	}
	tick.Stop()
	c.wait(2 * players) // all running
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := c.n.Load(), processCPU(b)
	c.wait(uint64(b.N))
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(c.n.Load()-start), "cpu-ns/frame")
	b.StopTimer()
	cancel()
	wg.Wait()
}

// processCPU returns the user+system CPU time of this process in ns.
func processCPU(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
