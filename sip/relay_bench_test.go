package sip

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// The benchmarks here price a bridged call's media, per 20 ms packet
// (issue 12, Performance: the relay must not allocate per packet). Run:
//
//	go test -run '^$' -bench 'Relay|BridgedPacket' -benchmem ./sip/

// speechFrame is 20 ms of a 440 Hz tone, so the codecs do real work.
func speechFrame() []int16 {
	pcm := make([]int16, media.FrameSamples)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	return pcm
}

// BenchmarkRelay is the relay alone, one frame per op: the receiving leg's
// push of a decoded frame, then the other leg's player taking it encoded
// (Next), through the holdSwitch Bridge puts in front of it.
//
//   - pcmu: both legs PCMU.
//   - to-pcma: the player's leg is PCMA (the legs' codecs differ).
//   - ptime10: the far end sends 10 ms packets, two pushes per frame.
//   - empty: Next with nothing waiting (silence), as when the far end is
//     quiet (DTX) or late.
func BenchmarkRelay(b *testing.B) {
	pcm := speechFrame()
	run := func(b *testing.B, codec media.Codec, push func(r *relay)) {
		r := newRelay("caller")
		h := &holdSwitch{live: r}
		b.ReportAllocs()
		for b.Loop() {
			if push != nil {
				push(r)
			}
			if p, ok := h.Next(codec); !ok || len(p) != media.FrameBytes {
				b.Fatal("no frame")
			}
		}
		if push != nil && r.relayed.Load() == 0 {
			b.Fatal("nothing relayed")
		}
	}
	b.Run("pcmu", func(b *testing.B) { run(b, media.CodecPCMU, func(r *relay) { r.push(pcm) }) })
	b.Run("to-pcma", func(b *testing.B) { run(b, media.CodecPCMA, func(r *relay) { r.push(pcm) }) })
	b.Run("ptime10", func(b *testing.B) {
		run(b, media.CodecPCMU, func(r *relay) { r.push(pcm[:80]); r.push(pcm[80:]) })
	})
	b.Run("empty", func(b *testing.B) { run(b, media.CodecPCMU, nil) })
}

// bridgeWire stands for the network around one direction of a bridged
// call, without sockets: its reads are the far end's packets (one PCMU
// frame each, in sequence, from one address), and before each read after
// the first it runs one tick of the other leg's player, as Player.step
// does: take the next frame of what that leg hears (a holdSwitch in front
// of the relay) and write it to that leg's RTP session. So Session.Receive
// on it runs the whole per-packet path of a bridge on one goroutine:
// read, unmarshal, sequence, decode, the handler's push into the relay,
// then the relay's Next, encode, packetize and the write. After limit
// packets reads fail with net.ErrClosed, which ends Receive.
type bridgeWire struct {
	pkt   [12 + media.FrameBytes]byte
	from  netip.AddrPort
	n     int
	limit int
	out   media.Source
	codec media.Codec
	sess  *rtp.Session // the other leg's, writing to a discardConn
}

func newBridgeWire(limit int, out media.Source, sess *rtp.Session) *bridgeWire {
	w := &bridgeWire{from: netip.MustParseAddrPort("127.0.0.1:40000"), limit: limit, out: out, codec: media.CodecPCMU, sess: sess}
	w.pkt[0], w.pkt[1] = 0x80, 0 // v2, PCMU
	w.pkt[11] = 7                // SSRC
	var enc [media.FrameBytes]byte
	_ = g711.Encode(media.CodecPCMU, enc[:], speechFrame())
	copy(w.pkt[12:], enc[:])
	return w
}

func (w *bridgeWire) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	if w.n > 0 {
		p, _ := w.out.Next(w.codec)
		if err := w.sess.WriteFrame(uint32(w.n), p, false); err != nil {
			return 0, netip.AddrPort{}, err
		}
	}
	if w.n == w.limit {
		return 0, netip.AddrPort{}, net.ErrClosed
	}
	w.n++
	seq, ts := uint16(w.n), uint32(w.n)*media.TimestampStep
	w.pkt[2], w.pkt[3] = byte(seq>>8), byte(seq)
	w.pkt[4], w.pkt[5], w.pkt[6], w.pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	return copy(b, w.pkt[:]), w.from, nil
}

func (w *bridgeWire) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := w.ReadFromUDPAddrPort(b)
	return n, net.UDPAddrFromAddrPort(from), err
}

func (w *bridgeWire) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (w *bridgeWire) Close() error                              { return nil }
func (w *bridgeWire) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 30000}
}
func (w *bridgeWire) SetDeadline(time.Time) error      { return nil }
func (w *bridgeWire) SetReadDeadline(time.Time) error  { return nil }
func (w *bridgeWire) SetWriteDeadline(time.Time) error { return nil }

// discardConn is the other leg's socket: it drops what is written.
type discardConn struct{ net.PacketConn }

func (discardConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (discardConn) LocalAddr() net.Addr                       { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 30002} }

// bridgedLegs is a bridged call's two media legs over bridgeWires, built
// as Ring and Bridge build them: the caller's callMedia with its tap on
// the relay to the agent, and the agent leg's mediaLeg whose handler is
// the relay to the caller; each player's source a holdSwitch.
type bridgedLegs struct {
	caller     *callMedia
	agent      *mediaLeg
	fromCaller *relay
	toCaller   *relay
}

func newBridgedLegs() *bridgedLegs {
	timeout := flows.Duration(time.Minute)
	a := &Agent{met: NewMetrics(nil)}
	c := &call{a: a, log: slog.New(slog.DiscardHandler), events: make(chan flows.Event, 32),
		snap: &flows.Bundle{Config: &flows.Config{MediaTimeout: &timeout}}}
	ans := sdp.Answer{Codec: media.CodecPCMU, Remote: netip.MustParseAddrPort("127.0.0.1:40000"), Ptime: media.FrameDur}
	bl := &bridgedLegs{fromCaller: newRelay("caller"), toCaller: newRelay("agent")}
	c.m = newCallMedia(c, discardConn{}, ans, nil)
	c.m.tap.Store(bl.fromCaller)
	bl.caller = c.m
	bl.agent = a.newMediaLeg(discardConn{}, ans, time.Minute, c.log)
	return bl
}

// receive runs Session.Receive of sess over a bridgeWire of n packets;
// it reports the sent-packet count of the other session.
func receive(tb testing.TB, sess *rtp.Session, h rtp.Handler, w *bridgeWire) uint64 {
	err := sess.Receive(context.Background(), h)
	if !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrClosed) {
		tb.Fatalf("Receive: %v", err)
	}
	return w.sess.Stats().Sent.Load()
}

// BenchmarkBridgedPacket is a bridged call's whole media path for one
// packet in one direction, as kefu runs it on a real socket minus the
// syscalls (BenchmarkWriteFrame and BenchmarkReceiveSyscall in media/rtp
// price those): Session.Receive reads the packet, unmarshals, checks the
// sequence and decodes it; the leg's handler pushes the audio into the
// relay; the other leg's tick takes it (holdSwitch, relay.Next, encode)
// and WriteFrame packetizes and writes it.
//
//   - caller-to-agent: the caller's packet through callMedia.Audio's tap
//     to the agent's leg.
//   - agent-to-caller: the agent's packet, the relay being the agent
//     leg's handler, to the caller's leg.
//
// Receive's own setup (its buffer, the context hook) is allocated once
// per run and divided over b.N packets; TestBridgedPacketAllocs checks that
// the per-packet count is exactly zero.
func BenchmarkBridgedPacket(b *testing.B) {
	b.Run("caller-to-agent", func(b *testing.B) {
		bl := newBridgedLegs()
		w := newBridgeWire(b.N, &holdSwitch{live: bl.fromCaller}, bl.agent.sess)
		bl.caller.audio.sess = rtp.NewSession(rtp.Config{Conn: w, Codec: media.CodecPCMU, SSRC: 1})
		b.ReportAllocs()
		b.ResetTimer()
		if sent := receive(b, bl.caller.audio.sess, bl.caller, w); sent != uint64(b.N) {
			b.Fatalf("%d frames reached the agent's leg, want %d", sent, b.N)
		}
		if bl.fromCaller.dropped.Load() != 0 {
			b.Fatal("the relay dropped frames")
		}
	})
	b.Run("agent-to-caller", func(b *testing.B) {
		bl := newBridgedLegs()
		w := newBridgeWire(b.N, &holdSwitch{live: bl.toCaller}, bl.caller.audio.sess)
		bl.agent.sess = rtp.NewSession(rtp.Config{Conn: w, Codec: media.CodecPCMU, SSRC: 2})
		b.ReportAllocs()
		b.ResetTimer()
		if sent := receive(b, bl.agent.sess, bl.toCaller, w); sent != uint64(b.N) {
			b.Fatalf("%d frames reached the caller's leg, want %d", sent, b.N)
		}
	})
}

// TestBridgedPacketAllocs: a bridged call's per-packet media path
// allocates nothing. A run of Receive over 1,100 packets allocates
// exactly as much as one over 100 (Receive's own setup), in both
// directions.
func TestBridgedPacketAllocs(t *testing.T) {
	if raceBuild() {
		t.Skip("the race detector allocates now and then: allocation counts are exact only without -race")
	}
	for _, dir := range []string{"caller-to-agent", "agent-to-caller"} {
		t.Run(dir, func(t *testing.T) {
			allocs := func(packets int) float64 {
				return testing.AllocsPerRun(5, func() {
					bl := newBridgedLegs()
					if dir == "caller-to-agent" {
						w := newBridgeWire(packets, &holdSwitch{live: bl.fromCaller}, bl.agent.sess)
						bl.caller.audio.sess = rtp.NewSession(rtp.Config{Conn: w, Codec: media.CodecPCMU, SSRC: 1})
						if sent := receive(t, bl.caller.audio.sess, bl.caller, w); sent != uint64(packets) {
							t.Fatalf("%d frames reached the agent's leg, want %d", sent, packets)
						}
						return
					}
					w := newBridgeWire(packets, &holdSwitch{live: bl.toCaller}, bl.caller.audio.sess)
					bl.agent.sess = rtp.NewSession(rtp.Config{Conn: w, Codec: media.CodecPCMU, SSRC: 2})
					if sent := receive(t, bl.agent.sess, bl.toCaller, w); sent != uint64(packets) {
						t.Fatalf("%d frames reached the caller's leg, want %d", sent, packets)
					}
				})
			}
			few, many := allocs(100), allocs(1100)
			if many != few {
				t.Errorf("%v allocations for 1,100 packets, %v for 100: %.3f per packet", many, few, (many-few)/1000)
			}
		})
	}
}

// raceBuild reports whether the test binary was built with -race.
func raceBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
