//go:build linux

package rtpmeter

import (
	"encoding/binary"
	"net/netip"
)

// Stream is what a receiver knows about one RTP stream (one SSRC, i.e.
// one of kefu's call legs). Times are kernel arrival times in Unix
// nanoseconds. The exported fields are read-only for users.
type Stream struct {
	SSRC  uint32
	Src   netip.AddrPort
	First int64
	Last  int64

	Packets      uint64
	PayloadBytes uint64 // G.711: one byte per sample, 8000 per second

	// Sequence numbers extended past the 16-bit wrap.
	baseExt uint64
	maxExt  uint64
	cycles  uint64
	maxSeq  uint16
	Late    uint64 // arrived after a higher sequence number

	lastTS      uint32
	lastPayload int
	Skipped     uint64 // frames the sender skipped: timestamp jumped with no sequence gap

	MaxGap    int64 // largest inter-arrival gap over the whole stream
	MaxGapWin int64 // largest gap ending inside the measurement window
	GapsOver  uint64
	WinPkts   uint64
	WinBytes  uint64
}

// Header is the part of an RTP header a receiver needs.
type Header struct {
	Seq     uint16
	TS      uint32
	SSRC    uint32
	Payload int // payload length in bytes
	Offset  int // where the payload starts
}

// ParseRTP decodes a fixed RTP header, skipping CSRCs, the extension and
// padding. ok is false for anything that is not RTP version 2.
func ParseRTP(b []byte) (h Header, ok bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return h, false
	}
	cc := int(b[0] & 0x0f)
	off := 12 + 4*cc
	if b[0]&0x10 != 0 { // extension
		if len(b) < off+4 {
			return h, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
	}
	end := len(b)
	if b[0]&0x20 != 0 && end > off { // padding
		end -= int(b[end-1])
	}
	if end < off {
		return h, false
	}
	h.Seq = binary.BigEndian.Uint16(b[2:])
	h.TS = binary.BigEndian.Uint32(b[4:])
	h.SSRC = binary.BigEndian.Uint32(b[8:])
	h.Payload = end - off
	h.Offset = off
	return h, true
}

// gapThreshold is the inter-arrival gap above which a gap is counted in
// GapsOver: two frame times, i.e. at least one packet's worth of silence.
const gapThreshold = 40_000_000 // ns

// Packet records one packet of s that arrived at t (ns); win0 and win1 bound
// the measurement window (0 when not set). It returns the gap since the
// stream's previous packet, or -1 for its first packet.
func (s *Stream) Packet(h Header, t, win0, win1 int64) (gap int64) {
	gap = -1
	inWin := win0 != 0 && t >= win0 && (win1 == 0 || t <= win1)
	if s.Packets == 0 {
		s.First, s.Last = t, t
		s.maxSeq = h.Seq
		s.baseExt = uint64(h.Seq)
		s.maxExt = s.baseExt
		s.lastTS, s.lastPayload = h.TS, h.Payload
	} else {
		gap = t - s.Last
		s.Last = t
		if gap > s.MaxGap {
			s.MaxGap = gap
		}
		if inWin && gap > s.MaxGapWin {
			s.MaxGapWin = gap
		}
		if gap > gapThreshold {
			s.GapsOver++
		}
		d := int16(h.Seq - s.maxSeq)
		switch {
		case d > 0:
			if h.Seq < s.maxSeq {
				s.cycles += 1 << 16
			}
			if d == 1 && s.lastPayload > 0 {
				// Consecutive packets: the timestamp should move by one
				// packet's samples; more means the sender skipped ticks.
				if step := int64(h.TS - s.lastTS); step > int64(s.lastPayload) {
					s.Skipped += uint64((step - int64(s.lastPayload)) / int64(s.lastPayload))
				}
			}
			s.maxSeq = h.Seq
			s.maxExt = s.cycles + uint64(h.Seq)
			s.lastTS, s.lastPayload = h.TS, h.Payload
		default:
			s.Late++
		}
	}
	s.Packets++
	s.PayloadBytes += uint64(h.Payload)
	if inWin {
		s.WinPkts++
		s.WinBytes += uint64(h.Payload)
	}
	return gap
}

// Lost returns the packets never received: the sequence range seen minus
// the packets counted (late packets fill holes; duplicates could make it
// negative, which is reported as 0).
func (s *Stream) Lost() uint64 {
	expected := s.maxExt - s.baseExt + 1
	if s.Packets >= expected {
		return 0
	}
	return expected - s.Packets
}
