package rtp

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// fuzzConn hands Receive a fixed list of datagrams, then reports itself
// closed.
type fuzzConn struct {
	pkts  [][]byte
	froms []net.Addr
}

func (c *fuzzConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if len(c.pkts) == 0 {
		return 0, nil, net.ErrClosed
	}
	p, from := c.pkts[0], c.froms[0]
	c.pkts, c.froms = c.pkts[1:], c.froms[1:]
	return copy(b, p), from, nil
}

func (c *fuzzConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (c *fuzzConn) Close() error                              { return nil }
func (c *fuzzConn) LocalAddr() net.Addr                       { return &net.UDPAddr{} }
func (c *fuzzConn) SetDeadline(time.Time) error               { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error           { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error          { return nil }

// fuzzHandler checks what the session reports as it comes.
type fuzzHandler struct {
	t      *testing.T
	digits int
}

func (h *fuzzHandler) Audio(pcm []int16) {
	if len(pcm) == 0 || len(pcm) > media.FrameSamples {
		h.t.Fatalf("an audio frame of %d samples", len(pcm))
	}
}

func (h *fuzzHandler) ComfortNoise(level uint8) {
	if level > 127 {
		h.t.Fatalf("comfort noise level %d", level)
	}
}

func (h *fuzzHandler) Digit(d rune) {
	if !strings.ContainsRune(dtmfEvents, d) {
		h.t.Fatalf("digit %q", d)
	}
	h.digits++
}

func (h *fuzzHandler) Silence(time.Duration) {}

// fuzzPackets splits a fuzz input into datagrams: each is a byte choosing
// its source (two addresses, to exercise latching), a length byte and that
// many bytes.
func fuzzPackets(data []byte) (pkts [][]byte, froms []net.Addr) {
	srcs := []net.Addr{
		&net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 4000},
		&net.UDPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 5004},
	}
	for len(data) >= 2 {
		src, n := data[0], int(data[1])
		data = data[2:]
		n = min(n, len(data))
		pkts, froms = append(pkts, data[:n]), append(froms, srcs[src&1])
		data = data[n:]
	}
	return pkts, froms
}

// fuzzSeed frames RTP packets as fuzzPackets reads them, all from the
// first source.
func fuzzSeed(pkts ...[]byte) []byte {
	var out []byte
	for _, p := range pkts {
		out = append(out, 0, byte(len(p)))
		out = append(out, p...)
	}
	return out
}

// rtpPacket builds an RTP packet without padding, CSRCs or extension.
func rtpPacket(pt uint8, seq uint16, ts uint32, marker bool, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], 0x1234)
	return append(b, payload...)
}

// FuzzReceive feeds datagrams through a session's receive path: RTP
// parsing (pion), the sequence window, latching, and the demux into
// G.711 audio, RFC 4733 key presses and RFC 3389 comfort noise. Beyond
// not panicking: frames of at most 20 ms, only real keys and no more key
// presses than event packets, CN levels within 0..127, loss counts that
// never wrap, and Receive ends when the connection does.
func FuzzReceive(f *testing.F) {
	ulaw := make([]byte, 160)
	for i := range ulaw {
		ulaw[i] = byte(i)
	}
	press := func(seq uint16, ts uint32, end bool, dur uint16) []byte {
		p, _ := DTMFPayload('5', end, dur, DTMFVolume)
		return rtpPacket(101, seq, ts, !end && dur == 160, p[:])
	}
	f.Add(fuzzSeed(rtpPacket(0, 1, 160, true, ulaw), rtpPacket(0, 2, 320, false, ulaw), rtpPacket(8, 3, 480, false, ulaw[:80])))
	f.Add(fuzzSeed(press(10, 8000, false, 160), press(11, 8000, false, 320), press(12, 8000, true, 800),
		press(13, 8000, true, 800), press(14, 8000, true, 800), press(15, 16000, false, 160)))
	f.Add(fuzzSeed(rtpPacket(13, 7, 100, false, []byte{40}), rtpPacket(13, 8, 260, false, nil), rtpPacket(13, 9, 420, false, []byte{0xff, 1, 2})))
	// Padding, CSRCs and a header extension; a version 1 packet; RTCP.
	padded := rtpPacket(0, 20, 3200, false, append(append([]byte{}, ulaw[:40]...), 0, 0, 3))
	padded[0] |= 0x20
	csrc := append([]byte{0x82, 0, 0, 21, 0, 0, 0x0d, 0x20, 0, 0, 0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 2}, ulaw[:20]...)
	ext := append([]byte{0x90, 0, 0, 22, 0, 0, 0x0e, 0x20, 0, 0, 0x12, 0x34, 0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0}, ulaw[:20]...)
	f.Add(fuzzSeed(padded, csrc, ext, []byte{0x40, 0, 0, 1}, []byte{0x81, 200, 0, 1, 0, 0, 0, 1}))
	// Two sources, a new SSRC, sequence jumps and the wrap.
	seeds := fuzzSeed(rtpPacket(0, 65534, 0, false, ulaw[:10]), rtpPacket(0, 1, 480, false, ulaw[:10]), rtpPacket(0, 30000, 9600, false, ulaw[:10]))
	seeds = append(seeds, 1, 14)
	seeds = append(seeds, rtpPacket(0, 5, 0, false, []byte{1, 2})...)
	f.Add(seeds)
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, froms := fuzzPackets(data)
		events := 0
		for _, p := range pkts {
			if len(p) >= 2 && p[1]&0x7f == 101 {
				events++
			}
		}
		conn := &fuzzConn{pkts: pkts, froms: froms}
		s := NewSession(Config{Conn: conn, Codec: media.CodecPCMU, PT: 0, DTMFPT: 101, CNPT: 13, SSRC: 1, Timeout: time.Hour})
		h := &fuzzHandler{t: t}
		err := s.Receive(context.Background(), h)
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Receive ended with %v, want the connection's end", err)
		}
		if h.digits > events {
			t.Fatalf("%d key presses from %d event packets", h.digits, events)
		}
		st := s.Stats()
		if got := st.Received.Load(); got > uint64(len(pkts)) {
			t.Fatalf("%d packets received of %d", got, len(pkts))
		}
		if lost := st.Lost.Load(); lost > uint64(len(pkts))*(1<<16) {
			t.Fatalf("%d packets lost in %d datagrams", lost, len(pkts))
		}
	})
}

// FuzzParseDTMF: any payload either is refused or reads as a key whose
// payload DTMFPayload writes back the same (its first four bytes, the
// unused reserved bit aside).
func FuzzParseDTMF(f *testing.F) {
	f.Add([]byte{5, 0x8a, 0x03, 0x20})
	f.Add([]byte{11, 0x0a, 0, 160, 0xff})
	f.Add([]byte{16, 0, 0, 0})
	f.Add([]byte{1, 2})
	f.Fuzz(func(t *testing.T, p []byte) {
		key, end, dur, vol, ok := ParseDTMF(p)
		if !ok {
			if len(p) >= 4 && p[0] < 16 {
				t.Fatalf("payload %x refused", p)
			}
			return
		}
		back, ok := DTMFPayload(key, end, dur, vol)
		if !ok {
			t.Fatalf("key %q read from %x cannot be written", key, p)
		}
		want := [4]byte{p[0], p[1] &^ 0x40, p[2], p[3]}
		if back != want {
			t.Fatalf("%x read as %q end=%v dur=%d vol=%d, written back as %x", p, key, end, dur, vol, back)
		}
		var d dtmfState
		if k, ok := d.packet(0, p); !ok || k != key {
			t.Fatalf("a first event packet %x: %q %v, want %q", p, k, ok, key)
		}
	})
}
