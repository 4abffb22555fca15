package rtp

import (
	"encoding/binary"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// RFC 4733 telephone events: a key press travels as a run of 4-byte event
// packets that all carry the RTP timestamp of the moment the key went down:
// updates with a growing duration while the key is held, then the final
// duration with the end bit, sent three times.

// dtmfEvents maps RFC 4733 event codes 0..15 to keys.
const dtmfEvents = "0123456789*#ABCD"

// dtmfStale is how far (in timestamp units, 8 kHz) a packet's timestamp may
// lie before the current event's and still be taken for a late packet of an
// earlier event rather than for a sender that started over: 5 s.
const dtmfStale = 5 * media.SampleRate

// dtmfState reports each RFC 4733 telephone event once. All packets of one
// event share its RTP timestamp and code; the end packet is usually sent
// three times; the first packets may be lost. So the first packet seen of a
// new event (start, update or end alike) reports the key, and repeats are
// recognised by timestamp and code:
//
//   - the same timestamp and code: a repeat (an update, an end packet);
//   - the same timestamp, another code: a new event (a sender that reuses
//     timestamps);
//   - a timestamp up to dtmfStale before the current one: a late packet of
//     an earlier event, reordered by the network;
//   - the same code at the current timestamp plus the duration it reached,
//     before its end bit: the next segment of a key held for more than the
//     16-bit duration (8 s, RFC 4733 section 2.5.1.3), not a new press;
//   - any other timestamp: a new event. A new press of the same key has a
//     new timestamp.
type dtmfState struct {
	have  bool
	ts    uint32 // timestamp of the current event
	ev    byte   // its code
	dur   uint16 // the longest duration seen for it
	ended bool   // its end bit was seen
}

// packet returns the key of a new event, or ok == false for a repeat of
// an event already reported or a payload that isn't a DTMF event.
func (d *dtmfState) packet(ts uint32, payload []byte) (key rune, ok bool) {
	ev, end, dur, _, valid := parseDTMF(payload)
	if !valid {
		return 0, false
	}
	if d.have {
		switch since := int32(ts - d.ts); {
		case since == 0 && ev == d.ev:
			d.dur, d.ended = max(d.dur, dur), d.ended || end
			return 0, false
		case since < 0 && since > -dtmfStale:
			return 0, false // late packet of an earlier event
		case ev == d.ev && !d.ended && d.dur > 0 && uint32(since)-uint32(d.dur) <= media.TimestampStep:
			// The next segment of a long press.
			d.ts, d.dur, d.ended = ts, dur, end
			return 0, false
		}
	}
	*d = dtmfState{have: true, ts: ts, ev: ev, dur: dur, ended: end}
	return rune(dtmfEvents[ev]), true
}

// parseDTMF reads the first event of an RFC 4733 payload: its code, end
// bit, duration and volume (-dBm0). valid is false for a short payload or
// an event that is not a key (codes 16 and up: tones, flash, ...).
func parseDTMF(p []byte) (ev byte, end bool, duration uint16, volume uint8, valid bool) {
	if len(p) < 4 || p[0] >= byte(len(dtmfEvents)) {
		return 0, false, 0, 0, false
	}
	return p[0], p[1]&0x80 != 0, binary.BigEndian.Uint16(p[2:]), p[1] & 0x3f, true
}

// ParseDTMF reads an RFC 4733 telephone-event payload: the key, the end
// bit, the duration in timestamp units (8 kHz) and the volume in -dBm0. ok
// is false for a payload shorter than 4 bytes or an event that is not a key.
func ParseDTMF(payload []byte) (key rune, end bool, duration uint16, volume uint8, ok bool) {
	ev, end, duration, volume, ok := parseDTMF(payload)
	if !ok {
		return 0, false, 0, 0, false
	}
	return rune(dtmfEvents[ev]), end, duration, volume, true
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

// DTMFInterval is the time between the packets of a telephone event that
// DTMFEvent sends: updates while the key is held, then the three end
// packets.
const DTMFInterval = 50 * time.Millisecond

// DTMFVolume is a usual volume for sent key presses: -10 dBm0.
const DTMFVolume = 10

// MaxDTMFDuration is the longest press DTMFEvent sends: the largest
// duration the 16-bit field holds, in whole frames (8.18 s).
const MaxDTMFDuration = time.Duration(0xffff/media.TimestampStep*media.TimestampStep) * time.Second / media.SampleRate

// DTMFPacket is one RTP packet of a telephone event to send. Every packet of
// the event carries the same RTP timestamp (the media time at which the
// first one is sent) and the next sequence number of the stream.
type DTMFPacket struct {
	// Payload is the RFC 4733 payload.
	Payload [4]byte
	// Marker is set on the first packet of the event.
	Marker bool
	// End is set on the three end packets.
	End bool
	// At is when to send the packet, after the first one.
	At time.Duration
}

// DTMFEvent returns the packets that send a press of key lasting dur (at
// least one frame, at most MaxDTMFDuration, rounded up to whole 20 ms
// frames): the first at once with the marker bit and one frame of
// duration, then one every DTMFInterval with the duration so far while the
// key is held, then three end packets with the full duration, at
// DTMFInterval from the moment the key is released. It returns false for a
// key that has no event code.
func DTMFEvent(key rune, dur time.Duration, volume uint8) ([]DTMFPacket, bool) {
	if _, ok := DTMFPayload(key, false, 0, 0); !ok {
		return nil, false
	}
	frames := min(max(media.Frames(dur), 1), media.Frames(MaxDTMFDuration))
	total := time.Duration(frames) * media.FrameDur
	ticks := func(d time.Duration) uint16 {
		return uint16(d * media.SampleRate / time.Second)
	}
	// The key has been down one frame when the first packet goes.
	var out []DTMFPacket
	for at := time.Duration(0); at+media.FrameDur < total; at += DTMFInterval {
		p, _ := DTMFPayload(key, false, ticks(at+media.FrameDur), volume)
		out = append(out, DTMFPacket{Payload: p, Marker: at == 0, At: at})
	}
	release := total - media.FrameDur
	for i := range 3 {
		p, _ := DTMFPayload(key, true, ticks(total), volume)
		out = append(out, DTMFPacket{Payload: p, Marker: len(out) == 0, End: true, At: release + time.Duration(i)*DTMFInterval})
	}
	return out, true
}
