package rtp

import "encoding/binary"

// dtmfEvents maps RFC 4733 event codes 0..15 to keys.
const dtmfEvents = "0123456789*#ABCD"

// dtmfState reports each RFC 4733 telephone event once: all packets of one
// event share its RTP timestamp, the end packet is usually sent three times,
// and the first packets may be lost, so the first packet of a new timestamp
// (start, update or end alike) reports the digit.
type dtmfState struct {
	have bool
	ts   uint32
}

// packet returns the key of a new event, or ok == false for a repeat of
// the current one or a payload that isn't a DTMF event.
func (d *dtmfState) packet(ts uint32, payload []byte) (key rune, ok bool) {
	if len(payload) < 4 {
		return 0, false
	}
	ev := payload[0]
	if ev >= 16 {
		return 0, false // tones and other events are not keys
	}
	if d.have && d.ts == ts {
		return 0, false
	}
	d.have, d.ts = true, ts
	return rune(dtmfEvents[ev]), true
}

// DTMFPayload builds an RFC 4733 payload for sending key with the end bit
// and duration in timestamp units. It returns false for a key that has no
// event code.
func DTMFPayload(key rune, end bool, duration uint16, volume uint8) ([4]byte, bool) {
	var p [4]byte
	for i, k := range dtmfEvents {
		if k == key {
			p[0] = byte(i)
			p[1] = volume & 0x3f
			if end {
				p[1] |= 0x80
			}
			binary.BigEndian.PutUint16(p[2:], duration)
			return p, true
		}
	}
	return p, false
}
