package softphone

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
	pionrtp "github.com/pion/rtp"
)

// sender is the softphone's RTP send side: the paced player's frame writer,
// which can also press keys as RFC 4733 telephone events on the same stream
// (one SSRC, one sequence), as a phone does. While a key is down the events
// replace the audio. The events are driven by the player's ticks, so pacing
// stays in the player alone.
//
// kefu's rtp.Session sends audio only, in one payload type; a phone needs
// the second one, so the softphone writes its own packets.
type sender struct {
	conn    net.PacketConn
	audioPT uint8
	eventPT uint8 // telephone-event payload type, 0 when not negotiated
	remote  atomic.Pointer[net.UDPAddr]
	sent    atomic.Uint64

	// Used by the player goroutine only.
	pkt pionrtp.Packet
	buf [1500]byte
	ts0 uint32

	mu      sync.Mutex
	waiting []*keyDown // presses not started yet
	cur     *keyDown   // the press being sent
}

// keyDown is one key press on its way: its packets, the frame its first
// packet went out with, and how many were sent.
type keyDown struct {
	pkts  []rtp.DTMFPacket
	start uint32
	next  int
	done  chan struct{}
}

func newSender(conn net.PacketConn, remote netip.AddrPort, audioPT, eventPT uint8, ssrc uint32) *sender {
	s := &sender{conn: conn, audioPT: audioPT, eventPT: eventPT, ts0: ssrc ^ 0x5bd1e995}
	s.pkt.Version = 2
	s.pkt.SSRC = ssrc
	s.pkt.SequenceNumber = uint16(ssrc >> 16)
	s.setRemote(remote)
	return s
}

// setRemote points the stream at a (new) SDP address; an unspecified one
// (hold, RFC 2543 style) keeps the old.
func (s *sender) setRemote(ap netip.AddrPort) {
	if ap.IsValid() && !ap.Addr().IsUnspecified() {
		s.remote.Store(net.UDPAddrFromAddrPort(ap))
	}
}

// press queues a press of key lasting dur; the channel is closed once its
// last packet was sent. It returns false for a key without an event code.
func (s *sender) press(key rune, dur time.Duration) (<-chan struct{}, bool) {
	pkts, ok := rtp.DTMFEvent(key, dur, rtp.DTMFVolume)
	if !ok || s.eventPT == 0 {
		return nil, false
	}
	k := &keyDown{pkts: pkts, done: make(chan struct{})}
	s.mu.Lock()
	s.waiting = append(s.waiting, k)
	s.mu.Unlock()
	return k.done, true
}

// WriteFrame implements media.FrameWriter: frame n goes out as audio, or,
// while a key is down, as the telephone-event packets due by then.
func (s *sender) WriteFrame(n uint32, payload []byte, marker bool) error {
	s.mu.Lock()
	k := s.cur
	if k == nil && len(s.waiting) > 0 {
		k, s.waiting = s.waiting[0], s.waiting[1:]
		k.start = n
		s.cur = k
	}
	var due []rtp.DTMFPacket
	if k != nil {
		elapsed := time.Duration(n-k.start) * media.FrameDur
		first := k.next
		for k.next < len(k.pkts) && k.pkts[k.next].At <= elapsed {
			k.next++
		}
		due = k.pkts[first:k.next]
		if k.next == len(k.pkts) {
			s.cur = nil
		}
	}
	s.mu.Unlock()
	if k == nil {
		return s.write(s.audioPT, n*media.TimestampStep, marker, payload)
	}
	for _, p := range due {
		if err := s.write(s.eventPT, k.start*media.TimestampStep, p.Marker, p.Payload[:]); err != nil {
			return err
		}
	}
	if k.next == len(k.pkts) && len(due) > 0 {
		close(k.done)
	}
	return nil
}

// write sends one packet; with no address to send to yet it drops it.
func (s *sender) write(pt uint8, ts uint32, marker bool, payload []byte) error {
	to := s.remote.Load()
	if to == nil {
		return nil
	}
	s.pkt.PayloadType, s.pkt.Timestamp, s.pkt.Marker, s.pkt.Payload = pt, s.ts0+ts, marker, payload
	n, err := s.pkt.MarshalTo(s.buf[:])
	if err != nil {
		return fmt.Errorf("softphone: RTP: %w", err)
	}
	s.pkt.SequenceNumber++
	if _, err := s.conn.WriteTo(s.buf[:n], to); err != nil {
		return fmt.Errorf("softphone: send RTP: %w", err)
	}
	s.sent.Add(1)
	return nil
}

// String names the sink for printable pipelines.
func (s *sender) String() string {
	return fmt.Sprintf("Sender(%d/%d -> %v)", s.audioPT, s.eventPT, s.remote.Load())
}
