//go:build linux

package main

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/bench/internal/rtpmeter"
	"github.com/kefu-hotline/kefu/media"
)

// testSide is a side on a loopback socket whose talkers send to kefu, a
// socket nobody reads.
func testSide(t *testing.T, name string, bit uint32, win *windows) (*side, netip.AddrPort) {
	t.Helper()
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	conn, kefu := listen(), listen()
	ctx, cancel := context.WithCancel(context.Background())
	s := newSide(ctx, name, bit, conn, media.NewPacer(ctx, 1), time.Second, win)
	t.Cleanup(func() {
		cancel()
		s.wg.Wait()
	})
	return s, kefu.LocalAddr().(*net.UDPAddr).AddrPort()
}

// frames feeds a side kefu's packets: one per entry, 20 ms apart from t0,
// stamped when st.Sent is set (its Sent then counts back from arrival).
type feed struct {
	s    *side
	from netip.AddrPort
	ssrc uint32
	seq  uint16
	at   int64
}

func (f *feed) frame(st *stamp, delay time.Duration) {
	f.seq++
	f.at += int64(media.FrameDur)
	p := stampFrame()
	if st != nil {
		st.Sent = f.at - int64(delay)
		st.put(p[:])
	}
	h := rtpmeter.Header{Seq: f.seq, TS: uint32(f.seq) * 160, SSRC: f.ssrc, Payload: len(p)}
	f.s.packet(f.from, h, p[:], f.at)
}

// TestSideAccounting: prompts before the bridge are no underruns; lost
// relayed frames, underruns, a foreign talker and this side's own audio
// are counted; the delay is arrival minus the stamp; a window counts what
// arrived inside it; a new SSRC on a port is a new leg.
func TestSideAccounting(t *testing.T) {
	win := &windows{}
	s, kefu := testSide(t, "agent", agentBit, win)
	f := &feed{s: s, from: kefu, ssrc: 9, at: time.Now().UnixNano()}
	f.frame(nil, 0) // the whisper
	f.frame(nil, 0)
	heard := uint32(7) // a caller-side talker
	for _, seq := range []uint32{0, 1, 2, 4} {
		f.frame(&stamp{Origin: heard, Seq: seq}, 12*time.Millisecond)
	}
	win.open[0].Store(f.at + 1)
	win.n.Store(1)
	f.frame(nil, 0) // underrun, in the window
	f.frame(&stamp{Origin: heard, Seq: 5}, 30*time.Millisecond)
	f.frame(&stamp{Origin: 8, Seq: 6}, 0)                    // another caller's talker
	f.frame(&stamp{Origin: agentBit | 3, Seq: 6}, 0)         // an agent's own audio
	f.frame(&stamp{Origin: heard, Seq: 7}, time.Millisecond) // 6 lost
	win.close[0].Store(f.at)
	f.frame(&stamp{Origin: heard, Seq: 8}, time.Millisecond)

	if len(s.legs) != 1 {
		t.Fatalf("%d legs, want 1", len(s.legs))
	}
	l := s.legs[0]
	if l.stamped != 7 || l.lost != 2 || l.underruns != 1 || l.foreign != 2 || l.heard != heard {
		t.Errorf("stamped %d lost %d underruns %d foreign %d heard %d; want 7 2 1 2 %d", l.stamped, l.lost, l.underruns, l.foreign, l.heard, heard)
	}
	if l.minDelay != int64(time.Millisecond) || l.maxDelay != int64(30*time.Millisecond) {
		t.Errorf("delay min %v max %v", time.Duration(l.minDelay), time.Duration(l.maxDelay))
	}
	if got := s.delay.summary(); got.N != 7 || got.P50 != 12.1 || got.Max != 30.1 {
		t.Errorf("delay %+v", got)
	}
	ws := s.perWin[0]
	if ws.packets != 5 || ws.stamped != 2 || ws.underruns != 1 || ws.lost != 1 || ws.legs != 1 {
		t.Errorf("window: %+v", ws)
	}

	f.ssrc = 10 // kefu gave the port to a new leg
	f.frame(nil, 0)
	if len(s.legs) != 2 || s.legs[0].stop != nil || s.byAddr[kefu] != s.legs[1] {
		t.Errorf("a new SSRC on the port: %d legs, first stopped %v", len(s.legs), s.legs[0].stop == nil)
	}
	// kefu stalls for longer than idle, then goes on: the same leg, its
	// talker started again.
	l = s.legs[1]
	s.reap(f.at + int64(2*time.Second))
	if l.stop != nil {
		t.Fatal("an idle leg's talker was not stopped")
	}
	f.frame(nil, 0)
	if len(s.legs) != 2 || l.stop == nil || s.revived != 1 {
		t.Errorf("after the stall: %d legs, talking %v, revived %d", len(s.legs), l.stop != nil, s.revived)
	}
}

// TestPairs: a caller leg and an agent leg that hear each other's talkers
// are one bridge; a caller leg that hears a talker whose leg hears someone
// else is crossed.
func TestPairs(t *testing.T) {
	callers := &side{legs: []*leg{
		{talker: 1, heard: agentBit | 1, stamped: 5},
		{talker: 2, heard: agentBit | 1, stamped: 5}, // hears agent 1, who hears caller 1
		{talker: 3}, // never bridged
	}}
	agents := &side{legs: []*leg{{talker: agentBit | 1, heard: 1, stamped: 5}}}
	if got := pairs(callers, agents); got != (PairReport{Matched: 1, Crossed: 1}) {
		t.Errorf("pairs = %+v", got)
	}
}
