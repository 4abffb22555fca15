package rtp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	pionrtp "github.com/pion/rtp"
)

// fakeConn is a net.PacketConn fed and drained by the test.
type fakeConn struct {
	mu       sync.Mutex
	in       chan inPkt
	out      [][]byte
	to       []net.Addr
	deadline time.Time
	changed  chan struct{}
	closed   chan struct{}
}

type inPkt struct {
	b    []byte
	from net.Addr
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan inPkt, 100), closed: make(chan struct{}), changed: make(chan struct{})}
}

// ReadFrom blocks like a socket: a deadline set while it waits wakes it.
func (c *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		dl, changed := c.deadline, c.changed
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			timer := time.NewTimer(time.Until(dl))
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case p := <-c.in:
			return copy(b, p.b), p.from, nil
		case <-timeout:
			return 0, nil, os.ErrDeadlineExceeded
		case <-changed:
		case <-c.closed:
			return 0, nil, net.ErrClosed
		}
	}
}

func (c *fakeConn) WriteTo(b []byte, to net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, append([]byte(nil), b...))
	c.to = append(c.to, to)
	return len(b), nil
}

func (c *fakeConn) Close() error                       { close(c.closed); return nil }
func (c *fakeConn) LocalAddr() net.Addr                { return &net.UDPAddr{} }
func (c *fakeConn) SetDeadline(t time.Time) error      { return c.SetReadDeadline(t) }
func (c *fakeConn) SetWriteDeadline(t time.Time) error { return nil }
func (c *fakeConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// discardConn drops what is written, allocating nothing.
type discardConn struct{ *fakeConn }

func (discardConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }

var sdpRemote = netip.MustParseAddrPort("127.0.0.1:4000")

func TestWriteFramePacketizes(t *testing.T) {
	conn := newFakeConn()
	s := NewSession(Config{Conn: conn, Remote: sdpRemote, Codec: media.CodecPCMA, PT: 8, SSRC: 0x1234})
	payload := make([]byte, media.FrameBytes)
	for n, marker := range []bool{true, false, false} {
		if err := s.WriteFrame(uint32(n*2), payload, marker); err != nil { // frames 0, 2, 4
			t.Fatal(err)
		}
	}
	var first pionrtp.Packet
	for i, b := range conn.out {
		var p pionrtp.Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = p
		}
		if p.SSRC != 0x1234 || p.PayloadType != 8 || len(p.Payload) != 160 {
			t.Errorf("packet %d: ssrc %#x pt %d len %d", i, p.SSRC, p.PayloadType, len(p.Payload))
		}
		if p.SequenceNumber != first.SequenceNumber+uint16(i) {
			t.Errorf("packet %d: seq %d, want %d", i, p.SequenceNumber, first.SequenceNumber+uint16(i))
		}
		// Timestamps follow the frame clock: +160 per 20 ms, +320 over a skipped tick.
		if p.Timestamp != first.Timestamp+uint32(i)*320 {
			t.Errorf("packet %d: ts %d, want %d", i, p.Timestamp, first.Timestamp+uint32(i)*320)
		}
		if p.Marker != (i == 0) {
			t.Errorf("packet %d: marker %v", i, p.Marker)
		}
		if conn.to[i].String() != "127.0.0.1:4000" {
			t.Errorf("sent to %v", conn.to[i])
		}
	}
	s.cfg.Conn = discardConn{conn}
	allocs := testing.AllocsPerRun(100, func() { _ = s.WriteFrame(9, payload, false) })
	if allocs > 0 {
		t.Errorf("WriteFrame allocates %.1f times per packet", allocs)
	}
}

type recHandler struct {
	mu     sync.Mutex
	frames int
	cn     []uint8
	digits []rune
	got    chan struct{}
}

func (h *recHandler) Audio(pcm []int16) { h.mu.Lock(); h.frames++; h.mu.Unlock(); h.got <- struct{}{} }
func (h *recHandler) ComfortNoise(l uint8) {
	h.mu.Lock()
	h.cn = append(h.cn, l)
	h.mu.Unlock()
	h.got <- struct{}{}
}
func (h *recHandler) Silence(time.Duration) {}
func (h *recHandler) Digit(d rune) {
	h.mu.Lock()
	h.digits = append(h.digits, d)
	h.mu.Unlock()
	h.got <- struct{}{}
}

func pkt(t *testing.T, pt uint8, seq uint16, ts uint32, payload []byte) []byte {
	t.Helper()
	b, err := (&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: 9}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReceiveDemuxAndLatch(t *testing.T) {
	conn := newFakeConn()
	s := NewSession(Config{Conn: conn, Remote: sdpRemote, Codec: media.CodecPCMU, PT: 0, DTMFPT: 101, SSRC: 1})
	h := &recHandler{got: make(chan struct{}, 100)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Receive(ctx, h) }()

	nat := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5555} // behind NAT: not the SDP address
	audio := make([]byte, 160)
	feed := []inPkt{
		{pkt(t, 0, 10, 0, audio), nat},
		{pkt(t, 0, 12, 320, audio), nat},
		{pkt(t, 0, 11, 160, audio), nat},             // reordered
		{pkt(t, 0, 11, 160, audio), nat},             // duplicate: dropped
		{pkt(t, 8, 13, 480, make([]byte, 320)), nat}, // PCMA, 40 ms: two frames
		{pkt(t, 13, 14, 800, []byte{70}), nat},
		{pkt(t, 101, 15, 960, []byte{5, 10, 0, 160}), nat},
		{pkt(t, 101, 16, 960, []byte{5, 0x80 | 10, 1, 64}), nat}, // end, three times
		{pkt(t, 101, 17, 960, []byte{5, 0x80 | 10, 1, 64}), nat},
		{pkt(t, 101, 18, 960, []byte{5, 0x80 | 10, 1, 64}), nat},
		{pkt(t, 101, 20, 2000, []byte{11, 0x80 | 10, 1, 64}), nat}, // first packets lost: only the end
		{pkt(t, 99, 21, 2160, audio), nat},                         // unknown PT
		{pkt(t, 13, 22, 2320, []byte{60}), nat},                    // a last CN: all before it was handled
	}
	for _, p := range feed {
		conn.in <- p
	}
	for i := range 9 { // 5 audio frames, 2 CN, 2 digits
		select {
		case <-h.got:
		case <-time.After(5 * time.Second):
			h.mu.Lock()
			t.Fatalf("event %d never came: frames %d cn %v digits %q unknown %d late %d dup %d", i, h.frames, h.cn, string(h.digits), s.Stats().Unknown.Load(), s.Stats().Late.Load(), s.Stats().Duplicates.Load())
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive = %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.frames != 5 || len(h.cn) != 2 || h.cn[0] != 70 || string(h.digits) != "5#" {
		t.Errorf("frames %d cn %v digits %q; want 5, [70 60], \"5#\"", h.frames, h.cn, string(h.digits))
	}
	if got := s.Remote().String(); got != "127.0.0.9:5555" {
		t.Errorf("remote after latching %s, want the packets' source", got)
	}
	st := s.Stats()
	if st.Duplicates.Load() != 1 || st.Late.Load() != 1 || st.Unknown.Load() != 1 {
		t.Errorf("dup %d late %d unknown %d", st.Duplicates.Load(), st.Late.Load(), st.Unknown.Load())
	}
}

func TestReceiveMediaTimeout(t *testing.T) {
	conn := newFakeConn()
	s := NewSession(Config{Conn: conn, Remote: sdpRemote, Codec: media.CodecPCMU, SSRC: 1, Timeout: 50 * time.Millisecond})
	h := &recHandler{got: make(chan struct{}, 10)}
	err := s.Receive(t.Context(), h)
	if !errors.Is(err, ErrMediaTimeout) {
		t.Fatalf("Receive = %v, want media timeout", err)
	}
}

func TestSeqWindow(t *testing.T) {
	var w seqWindow
	for _, tc := range []struct {
		seq  uint16
		want seqResult
	}{
		{65530, seqInOrder}, {65531, seqInOrder}, {65533, seqInOrder}, {65532, seqLate},
		{65532, seqDuplicate}, {2, seqInOrder}, {65535, seqLate}, {0, seqLate}, {2, seqDuplicate},
	} {
		if got := w.observe(tc.seq); got != tc.want {
			t.Errorf("seq %d: %v, want %v", tc.seq, got, tc.want)
		}
	}
	// 65534 and 1 are missing; a jump to 200 pushes them out of the window
	// (lost), with 3..136, which never entered it; 137..199 may still come.
	w.observe(200)
	if w.lost != 2+134 {
		t.Errorf("lost %d, want %d", w.lost, 2+134)
	}
}

func TestDTMFPayloadRoundTrip(t *testing.T) {
	var d dtmfState
	for i, k := range "0123456789*#ABCD" {
		p, ok := DTMFPayload(k, true, 800, 10)
		if !ok {
			t.Fatalf("no payload for %c", k)
		}
		got, ok := d.packet(uint32(i*1000), p[:])
		if !ok || got != k {
			t.Errorf("key %c decoded as %c %v", k, got, ok)
		}
	}
	if _, ok := DTMFPayload('x', true, 1, 1); ok {
		t.Error("payload for x")
	}
}

// TestPtimePacketizing: the sender honours the negotiated ptime, keeping
// timestamps exact: 30 ms sends 240 samples per packet, 40 ms 320.
func TestPtimePacketizing(t *testing.T) {
	for _, tc := range []struct {
		ptime   time.Duration
		packets int
		step    uint32
	}{{30 * time.Millisecond, 4, 240}, {40 * time.Millisecond, 3, 320}, {20 * time.Millisecond, 6, 160}} {
		conn := newFakeConn()
		s := NewSession(Config{Conn: conn, Remote: sdpRemote, Codec: media.CodecPCMU, SSRC: 7, Ptime: tc.ptime})
		for n := range 6 {
			_ = s.WriteFrame(uint32(n), make([]byte, media.FrameBytes), n == 0)
		}
		if len(conn.out) != tc.packets {
			t.Fatalf("ptime %v: %d packets, want %d", tc.ptime, len(conn.out), tc.packets)
		}
		var first pionrtp.Packet
		for i, b := range conn.out {
			var p pionrtp.Packet
			_ = p.Unmarshal(b)
			if i == 0 {
				first = p
			}
			if len(p.Payload) != int(tc.step) || p.Timestamp-first.Timestamp != uint32(i)*tc.step || p.Marker != (i == 0) {
				t.Errorf("ptime %v packet %d: %d bytes, ts +%d, marker %v", tc.ptime, i, len(p.Payload), p.Timestamp-first.Timestamp, p.Marker)
			}
		}
	}
}

// TestLossPerStream: keys (RFC 4733 events share the audio's sequence
// numbers) and a new SSRC (a PBX starting its hold music, with numbers of
// its own) are no loss; a real gap is, however the streams change.
func TestLossPerStream(t *testing.T) {
	conn := newFakeConn()
	s := NewSession(Config{Conn: conn, Remote: sdpRemote, Codec: media.CodecPCMU, PT: 0, DTMFPT: 101, SSRC: 1})
	h := &recHandler{got: make(chan struct{}, 1000)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Receive(ctx, h) }()
	from := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5555}
	audio := make([]byte, 160)
	mk := func(ssrc uint32, pt uint8, seq uint16, payload []byte) inPkt {
		b, err := (&pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: ssrc}, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return inPkt{b, from}
	}
	var feed []inPkt
	audioFrames := 0
	seq := uint16(100)
	for i := range 100 { // the caller's phone: audio with two keys in it
		if i == 30 || i == 60 {
			for k := range 4 {
				feed = append(feed, mk(7, 101, seq, []byte{1, byte(k/3) << 7, 0, 160}))
				seq++
			}
			continue
		}
		feed = append(feed, mk(7, 0, seq, audio))
		audioFrames++
		seq++
	}
	seq = 40000 // the PBX's music: another stream, far away in numbers
	for i := range 150 {
		if i == 50 {
			seq += 3 // three packets really lost
		}
		feed = append(feed, mk(8, 0, seq, audio))
		audioFrames++
		seq++
	}
	for _, p := range feed {
		conn.in <- p
	}
	for i := range audioFrames + 2 { // the audio and two digits
		select {
		case <-h.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d of %d never came", i, audioFrames+2)
		}
	}
	cancel()
	<-done
	if got := s.Stats().Lost.Load(); got != 3 {
		t.Errorf("lost %d packets, want the 3 really lost (keys and a new stream are no loss)", got)
	}
}
