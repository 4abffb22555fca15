//go:build linux

package main

import (
	"encoding/binary"
	"net/netip"
)

// stream is what the sink knows about one RTP stream (one SSRC, i.e. one
// kefu call). Times are kernel arrival times in Unix nanoseconds.
type stream struct {
	ssrc  uint32
	src   netip.AddrPort
	first int64
	last  int64

	packets      uint64
	payloadBytes uint64 // G.711: one byte per sample, 8000 per second

	// Sequence numbers extended past the 16-bit wrap.
	baseExt uint64
	maxExt  uint64
	cycles  uint64
	maxSeq  uint16
	late    uint64 // arrived after a higher sequence number

	lastTS      uint32
	lastPayload int
	skipped     uint64 // frames the sender skipped: timestamp jumped with no sequence gap

	maxGap    int64 // largest inter-arrival gap over the whole stream
	maxGapWin int64 // largest gap ending inside the measurement window
	gapsOver  uint64
	winPkts   uint64
	winBytes  uint64
}

// rtpHeader is the part of an RTP header the sink needs.
type rtpHeader struct {
	seq     uint16
	ts      uint32
	ssrc    uint32
	payload int // payload length in bytes
}

// parseRTP decodes a fixed RTP header, skipping CSRCs, the extension and
// padding. ok is false for anything that is not RTP version 2.
func parseRTP(b []byte) (h rtpHeader, ok bool) {
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
	h.seq = binary.BigEndian.Uint16(b[2:])
	h.ts = binary.BigEndian.Uint32(b[4:])
	h.ssrc = binary.BigEndian.Uint32(b[8:])
	h.payload = end - off
	return h, true
}

// gapThreshold is the inter-arrival gap above which a gap is counted in
// gapsOver: two frame times, i.e. at least one packet's worth of silence.
const gapThreshold = 40_000_000 // ns

// packet records one packet of s that arrived at t (ns); win0 and win1 bound
// the measurement window (0 when not set). It returns the gap since the
// stream's previous packet, or -1 for its first packet.
func (s *stream) packet(h rtpHeader, t, win0, win1 int64) (gap int64) {
	gap = -1
	inWin := win0 != 0 && t >= win0 && (win1 == 0 || t <= win1)
	if s.packets == 0 {
		s.first, s.last = t, t
		s.maxSeq = h.seq
		s.baseExt = uint64(h.seq)
		s.maxExt = s.baseExt
		s.lastTS, s.lastPayload = h.ts, h.payload
	} else {
		gap = t - s.last
		s.last = t
		if gap > s.maxGap {
			s.maxGap = gap
		}
		if inWin && gap > s.maxGapWin {
			s.maxGapWin = gap
		}
		if gap > gapThreshold {
			s.gapsOver++
		}
		d := int16(h.seq - s.maxSeq)
		switch {
		case d > 0:
			if h.seq < s.maxSeq {
				s.cycles += 1 << 16
			}
			if d == 1 && s.lastPayload > 0 {
				// Consecutive packets: the timestamp should move by one
				// packet's samples; more means the sender skipped ticks.
				if step := int64(h.ts - s.lastTS); step > int64(s.lastPayload) {
					s.skipped += uint64((step - int64(s.lastPayload)) / int64(s.lastPayload))
				}
			}
			s.maxSeq = h.seq
			s.maxExt = s.cycles + uint64(h.seq)
			s.lastTS, s.lastPayload = h.ts, h.payload
		default:
			s.late++
		}
	}
	s.packets++
	s.payloadBytes += uint64(h.payload)
	if inWin {
		s.winPkts++
		s.winBytes += uint64(h.payload)
	}
	return gap
}

// lost returns the packets never received: the sequence range seen minus
// the packets counted (late packets fill holes; duplicates could make it
// negative, which is reported as 0).
func (s *stream) lost() uint64 {
	expected := s.maxExt - s.baseExt + 1
	if s.packets >= expected {
		return 0
	}
	return expected - s.packets
}
