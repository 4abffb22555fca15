// Command rtpsend sends N paced RTP streams to one address without SIP, as a
// baseline for kefu's load test: run against bench/rtpsink (bench/load.sh -b
// MODE does), it tells how much of kefu's cost per call-minute and of its
// pacing jitter is the media path itself and how much the platform.
//
// Every stream has its own UDP socket, like a kefu call. Modes:
//
//	bare    one goroutine per stream, a deadline-paced time.Timer and one
//	        WriteToUDPAddrPort of a prebuilt packet per tick: the "bare Go
//	        sender doing one syscall per packet" of issue 2
//	player  one media.Player + rtp.Session per stream, exactly kefu's send
//	        path (Player.Run -> Session.WriteFrame -> WriteTo), sending silence
//	shared  a prototype of a shared media clock: GOMAXPROCS goroutines, each
//	        waking once per slot (default 1 ms) and calling WriteFrame for
//	        the streams whose 20 ms deadline falls in that slot, so there is
//	        no per-stream timer, goroutine wake-up or select
//
// Usage:
//
//	rtpsend -to 127.0.0.1:26000 -n 1000 -mode player [-ramp 20s] [-for 60s]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
)

func main() {
	to := flag.String("to", "127.0.0.1:26000", "where to send (rtpsink's address)")
	n := flag.Int("n", 1000, "number of streams")
	mode := flag.String("mode", "player", "bare, player or shared")
	ramp := flag.Duration("ramp", 20*time.Second, "start the streams evenly over this time (like calls arriving)")
	dur := flag.Duration("for", time.Minute, "stop after this long (or on SIGTERM)")
	slot := flag.Duration("slot", time.Millisecond, "shared mode: clock resolution")
	flag.Parse()

	dst, err := netip.ParseAddrPort(*to)
	if err != nil {
		fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()

	conns := make([]*net.UDPConn, *n)
	for i := range conns {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst.Addr(), 0)))
		if err != nil {
			fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	newSession := func(i int) *rtp.Session {
		return rtp.NewSession(rtp.Config{Conn: conns[i], Remote: dst, Codec: media.CodecPCMU, SSRC: uint32(0x5e000000 + i)})
	}
	fmt.Fprintf(os.Stderr, "rtpsend: %d streams, mode %s, to %v\n", *n, *mode, dst)

	var wg sync.WaitGroup
	switch *mode {
	case "bare":
		for i := range *n {
			wg.Go(func() { bare(ctx, conns[i], dst, uint32(0x5e000000+i), *ramp*time.Duration(i)/time.Duration(*n)) })
		}
	case "player":
		for i := range *n {
			wg.Go(func() {
				if !sleepCtx(ctx, *ramp*time.Duration(i)/time.Duration(*n)) {
					return
				}
				_ = media.NewPlayer(newSession(i), media.CodecPCMU, 0xFF).Run(ctx)
			})
		}
	case "shared":
		sessions := make([]*rtp.Session, *n)
		for i := range sessions {
			sessions[i] = newSession(i)
		}
		sharedClock(ctx, sessions, *ramp, *slot)
	default:
		fatal(fmt.Errorf("unknown -mode %q", *mode))
	}
	wg.Wait()
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "rtpsend:", err)
	os.Exit(1)
}

// sleepCtx waits d unless ctx ends first; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// bare sends a prebuilt PCMU packet every 20 ms, deadline-paced, patching
// sequence and timestamp in place.
func bare(ctx context.Context, c *net.UDPConn, dst netip.AddrPort, ssrc uint32, delay time.Duration) {
	if !sleepCtx(ctx, delay) {
		return
	}
	var pkt [12 + media.FrameBytes]byte
	pkt[0], pkt[1] = 0x80, 0
	pkt[8], pkt[9], pkt[10], pkt[11] = byte(ssrc>>24), byte(ssrc>>16), byte(ssrc>>8), byte(ssrc)
	for i := 12; i < len(pkt); i++ {
		pkt[i] = 0xFF
	}
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		seq, ts := uint16(k), uint32(k)*media.TimestampStep
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		_, _ = c.WriteToUDPAddrPort(pkt[:], dst)
		t.Reset(time.Until(start.Add(time.Duration(k+1) * media.FrameDur)))
	}
}

// sharedClock is the prototype of a shared media clock: streams are dealt
// to GOMAXPROCS workers; each worker sleeps until the next slot boundary
// (deadline-paced: start + k·slot) and then sends one frame for each of its
// streams that started in that slot of the 20 ms cycle. Streams start over
// ramp like calls arriving. One wake-up serves many streams.
func sharedClock(ctx context.Context, sessions []*rtp.Session, ramp, slot time.Duration) {
	workers := runtime.GOMAXPROCS(0)
	slots := int(media.FrameDur / slot)
	silence := make([]byte, media.FrameBytes)
	for i := range silence {
		silence[i] = 0xFF
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// member of the worker: session index, its start tick, its
			// frame counter.
			type member struct {
				s     *rtp.Session
				begin int64 // first slot tick this stream sends on
				frame uint32
			}
			bySlot := make([][]*member, slots)
			var pending []*member
			for i := w; i < len(sessions); i += workers {
				at := ramp * time.Duration(i) / time.Duration(len(sessions))
				pending = append(pending, &member{s: sessions[i], begin: int64(at / slot)})
			}
			t := time.NewTimer(0)
			defer t.Stop()
			for k := int64(0); ; k++ {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				// Admit streams whose start has come (calls being answered).
				for len(pending) > 0 && pending[0].begin <= k {
					m := pending[0]
					pending = pending[1:]
					bySlot[k%int64(slots)] = append(bySlot[k%int64(slots)], m)
				}
				for _, m := range bySlot[k%int64(slots)] {
					_ = m.s.WriteFrame(m.frame, silence, m.frame == 0)
					m.frame++
				}
				// A late slot is served at once (no skipping: a prototype).
				t.Reset(time.Until(start.Add(time.Duration(k+1) * slot)))
			}
		})
	}
	wg.Wait()
}
