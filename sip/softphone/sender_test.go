package softphone

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/rtp"
	pionrtp "github.com/pion/rtp"
)

// packetSink is a net.PacketConn that keeps what is written to it.
type packetSink struct {
	net.PacketConn
	pkts []pionrtp.Packet
}

func (s *packetSink) WriteTo(b []byte, _ net.Addr) (int, error) {
	var p pionrtp.Packet
	if err := p.Unmarshal(append([]byte(nil), b...)); err != nil {
		return 0, err
	}
	s.pkts = append(s.pkts, p)
	return len(b), nil
}

// TestSenderKeyPress drives the sender frame by frame as the player would:
// audio, then a key press that replaces the audio with its telephone
// events (one timestamp, the marker on the first, three end packets), then
// audio again, all in one sequence.
func TestSenderKeyPress(t *testing.T) {
	sink := &packetSink{}
	s := newSender(sink, netip.MustParseAddrPort("127.0.0.1:4000"), 0, 101, 1234)
	frame := make([]byte, media.FrameBytes)
	write := func(n uint32) {
		t.Helper()
		if err := s.WriteFrame(n, frame, n == 0); err != nil {
			t.Fatal(err)
		}
	}
	write(0)
	write(1)
	done, ok := s.press('7', 100*time.Millisecond)
	if !ok {
		t.Fatal("press refused")
	}
	n := uint32(2)
	for ; n < 40; n++ {
		select {
		case <-done:
		default:
			write(n)
			continue
		}
		break
	}
	write(n)
	if _, ok := s.press('x', time.Second); ok {
		t.Error("x has no event code")
	}

	var events []pionrtp.Packet
	for i, p := range sink.pkts {
		if i > 0 && p.SequenceNumber != sink.pkts[i-1].SequenceNumber+1 {
			t.Errorf("packet %d: sequence %d after %d", i, p.SequenceNumber, sink.pkts[i-1].SequenceNumber)
		}
		if p.PayloadType == 101 {
			events = append(events, p)
		}
	}
	first, last := sink.pkts[0], sink.pkts[len(sink.pkts)-1]
	if first.PayloadType != 0 || !first.Marker || last.PayloadType != 0 {
		t.Errorf("the stream must start and end with audio")
	}
	want, _ := rtp.DTMFEvent('7', 100*time.Millisecond, rtp.DTMFVolume)
	if len(events) != len(want) {
		t.Fatalf("%d event packets, want %d", len(events), len(want))
	}
	for i, p := range events {
		key, end, _, _, ok := rtp.ParseDTMF(p.Payload)
		if !ok || key != '7' || end != want[i].End || p.Marker != want[i].Marker || p.Timestamp != events[0].Timestamp {
			t.Errorf("event packet %d: key %c end %v marker %v ts %d", i, key, end, p.Marker, p.Timestamp)
		}
	}
	// The event starts where frame 2 would have: its timestamp is that
	// frame's, and no audio is sent while the key is down.
	if d := events[0].Timestamp - first.Timestamp; d != 2*media.TimestampStep {
		t.Errorf("event timestamp %d after the first frame's, want %d", d, 2*media.TimestampStep)
	}
	if s.sent.Load() != uint64(len(sink.pkts)) {
		t.Errorf("sent = %d, want %d", s.sent.Load(), len(sink.pkts))
	}
}
