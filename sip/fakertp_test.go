package sip

import (
	"bytes"
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

// fakeRTP is a call's RTP socket without the network. It records when and
// where kefu sent each packet; reads block until a packet is delivered, the
// read deadline passes (on the bubble's clock) or the socket closes.
type fakeRTP struct {
	local *net.UDPAddr
	in    chan inPacket

	mu       sync.Mutex
	deadline time.Time
	wake     chan struct{} // closed when the deadline changes or the socket closes
	closed   bool
	sent     []sentPacket
	seq      uint16 // of delivered packets
}

// sentPacket is one datagram kefu sent.
type sentPacket struct {
	at      time.Time
	to      netip.AddrPort
	payload []byte // after the 12-byte RTP header
}

func newFakeRTP(port int) *fakeRTP {
	return &fakeRTP{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, in: make(chan inPacket, 64), wake: make(chan struct{})}
}

// callerRTP is where the caller's packets come from.
var callerRTP = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

// inPacket is a datagram for kefu to read.
type inPacket struct {
	b    []byte
	from *net.UDPAddr
}

// deliver hands kefu n RTP packets of payload (PCMU) from an address.
func (f *fakeRTP) deliver(from *net.UDPAddr, n int, payload []byte) {
	for range n {
		f.in <- inPacket{b: f.packet(payload), from: from}
	}
}

// packet is the next RTP packet (PCMU) of the far end's stream.
func (f *fakeRTP) packet(payload []byte) []byte {
	f.mu.Lock()
	f.seq++
	seq := f.seq
	f.mu.Unlock()
	pkt := pionrtp.Packet{Header: pionrtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * media.TimestampStep, SSRC: 7}, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		panic(err) // a fixed header: cannot fail
	}
	return b
}

func (f *fakeRTP) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		f.mu.Lock()
		closed, deadline, wake := f.closed, f.deadline, f.wake
		f.mu.Unlock()
		if closed {
			return 0, nil, net.ErrClosed
		}
		timer := time.NewTimer(time.Hour)
		if !deadline.IsZero() {
			timer.Reset(time.Until(deadline))
		} else {
			timer.Stop()
		}
		select {
		case p := <-f.in:
			timer.Stop()
			return copy(b, p.b), p.from, nil
		case <-timer.C:
			return 0, nil, os.ErrDeadlineExceeded
		case <-wake:
			timer.Stop()
		}
	}
}

func (f *fakeRTP) WriteTo(b []byte, addr net.Addr) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, net.ErrClosed
	}
	p := sentPacket{at: time.Now(), to: addr.(*net.UDPAddr).AddrPort()}
	if len(b) > 12 {
		p.payload = bytes.Clone(b[12:])
	}
	f.sent = append(f.sent, p)
	return len(b), nil
}

func (f *fakeRTP) SetReadDeadline(t time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return net.ErrClosed
	}
	f.deadline = t
	close(f.wake)
	f.wake = make(chan struct{})
	return nil
}

func (f *fakeRTP) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.wake)
	}
	return nil
}

func (f *fakeRTP) LocalAddr() net.Addr                { return f.local }
func (f *fakeRTP) SetDeadline(t time.Time) error      { return f.SetReadDeadline(t) }
func (f *fakeRTP) SetWriteDeadline(t time.Time) error { return nil }

// stream delivers a packet of payload from an address every 20 ms, as a
// phone sends, until stop is called or the test ends.
func (f *fakeRTP) stream(t *testing.T, from *net.UDPAddr, payload []byte) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(media.FrameDur)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				select {
				case f.in <- inPacket{b: f.packet(payload), from: from}:
				case <-done:
					return
				}
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(done); <-stopped }) }
	t.Cleanup(stop)
	return stop
}

// sentBetween counts the packets sent in (from, to], and returns where the
// last of them went.
func (f *fakeRTP) sentBetween(from, to time.Time) (n int, last netip.AddrPort) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.sent {
		if p.at.After(from) && !p.at.After(to) {
			n++
			last = p.to
		}
	}
	return n, last
}

// sentPayload reports whether a packet carrying payload was sent after from.
func (f *fakeRTP) sentPayload(from time.Time, payload []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.sent {
		if p.at.After(from) && bytes.Equal(p.payload, payload) {
			return true
		}
	}
	return false
}

// fakePorts hands out fakeRTP sockets (Agent.fakePorts); while full is
// set it has none left.
type fakePorts struct {
	mu    sync.Mutex
	conns []*fakeRTP
	inUse map[net.PacketConn]bool
	full  bool
}

// errPortsFull is a pool with no port free.
var errPortsFull = errors.New("no RTP port free")

func (p *fakePorts) Listen() (net.PacketConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.full {
		return nil, errPortsFull
	}
	c := newFakeRTP(30000 + 2*len(p.conns))
	p.conns = append(p.conns, c)
	p.inUse[c] = true
	return c, nil
}

func (p *fakePorts) Release(c net.PacketConn) {
	_ = c.Close()
	p.mu.Lock()
	delete(p.inUse, c)
	p.mu.Unlock()
}

func (p *fakePorts) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

func (p *fakePorts) conn(i int) *fakeRTP {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.conns[i]
}
