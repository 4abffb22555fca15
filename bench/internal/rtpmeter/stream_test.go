//go:build linux

package rtpmeter

import (
	"encoding/binary"
	"syscall"
	"testing"
)

func rtpPacket(seq uint16, ts, ssrc uint32, payload int) []byte {
	b := make([]byte, 12+payload)
	b[0], b[1] = 0x80, 0
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return b
}

func TestParseRTP(t *testing.T) {
	b := rtpPacket(7, 1600, 0xabcd, 160)
	h, ok := ParseRTP(b)
	if !ok || h.Seq != 7 || h.TS != 1600 || h.SSRC != 0xabcd || h.Payload != 160 {
		t.Fatalf("ParseRTP = %+v, %v", h, ok)
	}
	// One CSRC, an extension of one word and 4 bytes of padding.
	x := append([]byte{0xb1, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0xbe, 0xde, 0, 1, 1, 2, 3, 4}, make([]byte, 160)...)
	x = append(x, 0, 0, 0, 4)
	if h, ok := ParseRTP(x); !ok || h.Payload != 160 {
		t.Fatalf("with CSRC, extension, padding: %+v, %v", h, ok)
	}
	if _, ok := ParseRTP([]byte{0x40, 0, 0}); ok {
		t.Fatal("accepted a short non-RTP datagram")
	}
}

func TestStreamLossGapsSkips(t *testing.T) {
	var s Stream
	const ms = int64(1e6)
	at := int64(1000) * ms
	// seq 0..4 every 20 ms; seq 5 lost; seq 6 after 40 ms; then a tick
	// skipped by the sender: seq 7 carries ts +320 (no sequence gap); then
	// seq 9 before 8 (reordering).
	steps := []struct {
		seq uint16
		ts  uint32
		dt  int64
	}{{0, 0, 0}, {1, 160, 20}, {2, 320, 20}, {3, 480, 20}, {4, 640, 20}, {6, 960, 40}, {7, 1280, 20}, {9, 1600, 20}, {8, 1440, 1}}
	for _, st := range steps {
		at += st.dt * ms
		h, _ := ParseRTP(rtpPacket(st.seq, st.ts, 1, 160))
		s.Packet(h, at, 0, 0)
	}
	if got := s.Lost(); got != 1 {
		t.Errorf("lost = %d, want 1", got)
	}
	if s.Late != 1 {
		t.Errorf("late = %d, want 1", s.Late)
	}
	if s.MaxGap != 40*ms {
		t.Errorf("maxGap = %v ms, want 40", s.MaxGap/ms)
	}
	if s.Skipped != 1 {
		t.Errorf("skipped = %d, want 1", s.Skipped)
	}
}

func TestStreamSequenceWrap(t *testing.T) {
	var s Stream
	for i := range 70000 {
		h := Header{Seq: uint16(65000 + i), TS: uint32(i) * 160, Payload: 160}
		s.Packet(h, int64(i)*20e6, 0, 0)
	}
	if s.Lost() != 0 || s.Packets != 70000 {
		t.Fatalf("across the wrap: lost %d, packets %d", s.Lost(), s.Packets)
	}
}

func TestParseControl(t *testing.T) {
	// Two control messages as the kernel lays them out on 64-bit Linux:
	// SCM_TIMESTAMPNS (timespec) and SO_RXQ_OVFL (uint32).
	if syscall.SizeofCmsghdr != 16 {
		t.Skip("the layout below is the 64-bit one")
	}
	oob := make([]byte, 32+24)
	binary.NativeEndian.PutUint64(oob[0:], 32)
	binary.NativeEndian.PutUint32(oob[8:], 1)   // SOL_SOCKET
	binary.NativeEndian.PutUint32(oob[12:], 35) // SCM_TIMESTAMPNS
	binary.NativeEndian.PutUint64(oob[16:], 12)
	binary.NativeEndian.PutUint64(oob[24:], 345)
	binary.NativeEndian.PutUint64(oob[32:], 20)
	binary.NativeEndian.PutUint32(oob[40:], 1)  // SOL_SOCKET
	binary.NativeEndian.PutUint32(oob[44:], 40) // SO_RXQ_OVFL
	binary.NativeEndian.PutUint32(oob[48:], 9)
	ts, drops, ok := ParseControl(oob)
	if ts != 12e9+345 || drops != 9 || !ok {
		t.Fatalf("ParseControl = %d, %d, %v", ts, drops, ok)
	}
}
