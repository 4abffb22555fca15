package rtp

import (
	"context"
	"math"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/vad"
	pionrtp "github.com/pion/rtp"
)

// The benchmarks here measure kefu's per-packet media costs. Run them with
//
//	go test -run '^$' -bench . -benchmem ./media/rtp/
//
// The send path must report 0 allocs/op (design.md, Media).

// nopHandler counts what the session delivers and does nothing else.
type nopHandler struct{ frames atomic.Uint64 }

func (h *nopHandler) Audio(pcm []int16)        { h.frames.Add(1) }
func (h *nopHandler) ComfortNoise(level uint8) {}
func (h *nopHandler) Digit(d rune)             {}
func (h *nopHandler) Silence(time.Duration)    {}

// vadHandler runs kefu's detector on every decoded frame, as sip.callMedia
// does.
type vadHandler struct {
	nopHandler
	det *vad.Detector
}

func (h *vadHandler) Audio(pcm []int16) {
	h.frames.Add(1)
	_ = h.det.Frame(pcm)
}

// listenLoopback binds a UDP socket on 127.0.0.1 with a free port.
func listenLoopback(b *testing.B) *net.UDPConn {
	b.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

func localAddrPort(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// BenchmarkWriteFrame measures the send path of one 20 ms frame: packetize
// with pion's MarshalTo into the session's buffer and write the datagram.
//
//   - discard: the conn drops the packet, so only kefu's own work counts.
//   - udp: a real loopback socket; the peer never reads, so the kernel
//     delivers each datagram up to the full receive queue and drops it
//     there (the sendmsg syscall is the cost of interest).
//   - udp-drained: as udp, with a goroutine reading the peer socket, as a
//     real receiver would.
//   - ptime30: 30 ms packets (frames gathered in the session's buffer).
func BenchmarkWriteFrame(b *testing.B) {
	payload := make([]byte, media.FrameBytes)
	for i := range payload {
		payload[i] = byte(i)
	}
	run := func(b *testing.B, s *Session) {
		b.ReportAllocs()
		n := uint32(0)
		for b.Loop() {
			if err := s.WriteFrame(n, payload, n == 0); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if s.Stats().Sent.Load() == 0 {
			b.Fatal("nothing sent")
		}
	}
	b.Run("discard", func(b *testing.B) {
		s := NewSession(Config{Conn: discardConn{newFakeConn()}, Remote: sdpRemote, Codec: media.CodecPCMU, SSRC: 1})
		run(b, s)
	})
	b.Run("udp", func(b *testing.B) {
		conn, peer := listenLoopback(b), listenLoopback(b)
		s := NewSession(Config{Conn: conn, Remote: localAddrPort(peer), Codec: media.CodecPCMU, SSRC: 2})
		run(b, s)
	})
	b.Run("udp-drained", func(b *testing.B) {
		conn, peer := listenLoopback(b), listenLoopback(b)
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
			}
		}()
		s := NewSession(Config{Conn: conn, Remote: localAddrPort(peer), Codec: media.CodecPCMU, SSRC: 3})
		run(b, s)
	})
	b.Run("ptime30", func(b *testing.B) {
		s := NewSession(Config{Conn: discardConn{newFakeConn()}, Remote: sdpRemote, Codec: media.CodecPCMA, PT: 8, SSRC: 4, Ptime: 30 * time.Millisecond})
		run(b, s)
	})
}

// speechPayload returns n frames of a 300 Hz tone at -20 dBFS encoded in
// PCMU, loud enough for the detector to work on every frame.
func speechPayload(n int) [][]byte {
	out := make([][]byte, n)
	pcm := make([]int16, media.FrameSamples)
	for f := range out {
		for i := range pcm {
			t := float64(f*media.FrameSamples+i) / media.SampleRate
			pcm[i] = int16(3277 * math.Sin(2*math.Pi*300*t))
		}
		out[f] = make([]byte, media.FrameBytes)
		_ = g711.Encode(media.CodecPCMU, out[f], pcm)
	}
	return out
}

// marshalled returns RTP packets (PCMU, consecutive seq) carrying frames.
func marshalled(b *testing.B, frames [][]byte) [][]byte {
	b.Helper()
	out := make([][]byte, len(frames))
	for i, f := range frames {
		p := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i) * 160, SSRC: 7}, Payload: f}
		raw, err := p.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		out[i] = raw
	}
	return out
}

// BenchmarkHandle measures the receive path after the socket, per packet:
// pion Unmarshal, sequence tracking, G.711 decode, and the handler (nothing,
// or kefu's VAD as a live call runs it).
func BenchmarkHandle(b *testing.B) {
	pkts := marshalled(b, speechPayload(256))
	for _, tc := range []struct {
		name string
		h    func() Handler
	}{
		{"decode", func() Handler { return &nopHandler{} }},
		{"decode+vad", func() Handler {
			det, err := vad.New(vad.DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			return &vadHandler{det: det}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s := NewSession(Config{Conn: discardConn{newFakeConn()}, Remote: sdpRemote, Codec: media.CodecPCMU, SSRC: 1})
			h := tc.h()
			var pkt pionrtp.Packet
			seq := uint16(0)
			b.ReportAllocs()
			for b.Loop() {
				raw := pkts[seq%uint16(len(pkts))]
				// Keep the sequence moving so no packet is a duplicate.
				raw[2], raw[3] = byte(seq>>8), byte(seq)
				seq++
				if err := pkt.Unmarshal(raw); err != nil {
					b.Fatal(err)
				}
				s.handle(&pkt, h)
			}
		})
	}
}

// BenchmarkReceive runs Session.Receive on a real loopback socket while the
// benchmark loop sends it b.N packets from a peer socket (the sender
// allocates nothing, so allocs/op are Receive's). ns/op is the throughput
// of the pair on this machine, not the cost of one side; compare it with
// BenchmarkReceiveSyscall.
func BenchmarkReceive(b *testing.B) {
	conn, peer := listenLoopback(b), listenLoopback(b)
	_ = conn.SetReadBuffer(1 << 20)
	s := NewSession(Config{Conn: conn, Remote: localAddrPort(peer), Codec: media.CodecPCMU, SSRC: 1, Timeout: time.Minute})
	h := &nopHandler{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Receive(ctx, h) }()
	pkts := marshalled(b, speechPayload(64))
	to := localAddrPort(conn)
	sent := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		raw := pkts[sent%uint64(len(pkts))]
		raw[2], raw[3] = byte(sent>>8), byte(sent)
		if _, err := peer.WriteToUDPAddrPort(raw, to); err != nil {
			b.Fatal(err)
		}
		sent++
		// Stay within the socket buffer: nothing may be dropped.
		for sent-h.frames.Load() > 256 {
			runtime.Gosched()
		}
	}
	for h.frames.Load() < sent {
		runtime.Gosched()
	}
	b.StopTimer()
	cancel()
	<-done
}

// BenchmarkReceiveSyscall compares ways of reading one datagram from a UDP
// socket, single goroutine: net.PacketConn.ReadFrom (what Session.Receive
// calls; it allocates the returned *net.UDPAddr and its IP per packet),
// (*net.UDPConn).ReadFromUDPAddrPort (no allocation), and each of them
// preceded by a SetReadDeadline (which Receive used to do per packet; it
// now refreshes the deadline twice a second). Each op also includes the
// peer's send of that datagram.
func BenchmarkReceiveSyscall(b *testing.B) {
	for _, tc := range []struct {
		name     string
		addrPort bool
		deadline bool
	}{
		{"ReadFrom", false, false},
		{"ReadFrom+deadline", false, true},
		{"ReadFromUDPAddrPort", true, false},
		{"ReadFromUDPAddrPort+deadline", true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			conn, peer := listenLoopback(b), listenLoopback(b)
			to := localAddrPort(conn)
			raw := marshalled(b, speechPayload(1))[0]
			buf := make([]byte, 1500)
			var pc net.PacketConn = conn
			b.ReportAllocs()
			for b.Loop() {
				if _, err := peer.WriteToUDPAddrPort(raw, to); err != nil {
					b.Fatal(err)
				}
				if tc.deadline {
					_ = conn.SetReadDeadline(time.Now().Add(time.Second))
				}
				var err error
				if tc.addrPort {
					_, _, err = conn.ReadFromUDPAddrPort(buf)
				} else {
					_, _, err = pc.ReadFrom(buf)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUDPSendSyscall compares the ways of sending one 172-byte RTP
// datagram on loopback: what Session.send does (net.PacketConn.WriteTo with
// a *net.UDPAddr), (*net.UDPConn).WriteToUDPAddrPort, and Write on a
// connected socket, which skips the kernel's per-packet route lookup. The
// peer socket is never read (see BenchmarkWriteFrame).
func BenchmarkUDPSendSyscall(b *testing.B) {
	pkt := marshalled(b, speechPayload(1))[0]
	b.Run("WriteTo", func(b *testing.B) {
		conn, peer := listenLoopback(b), listenLoopback(b)
		var pc net.PacketConn = conn
		to := net.UDPAddrFromAddrPort(localAddrPort(peer))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pc.WriteTo(pkt, to); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("WriteToUDPAddrPort", func(b *testing.B) {
		conn, peer := listenLoopback(b), listenLoopback(b)
		to := localAddrPort(peer)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.WriteToUDPAddrPort(pkt, to); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("connected-Write", func(b *testing.B) {
		peer := listenLoopback(b)
		conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(localAddrPort(peer)))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.Write(pkt); err != nil {
				b.Fatal(err)
			}
		}
	})
}
