// Package sdp implements the SDP offer/answer model (RFC 3264, RFC 4566)
// for kefu's audio-only user agent.
//
// Remote SDP is read by a hand-written, tolerant parser: real phones and
// gateways send LF-only line ends, attributes in unusual places, missing
// rtpmap lines for static payload types and media kefu does not handle, and
// pion/sdp's strict state machine rejects several of these. Local SDP is
// written directly, one CRLF-terminated line at a time.
//
// The sip layer maps errors to responses: ParseOffer fails only with
// ErrMalformed (400 Bad Request); Negotiate fails with ErrNoCommonCodec (488
// Not Acceptable Here) unless the Local it was given is itself invalid.
// ParseAnswer, for the test softphone, can fail with either.
package sdp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/srtp"
)

// ErrMalformed is wrapped by every error about SDP that cannot be read. The
// sip layer answers such an offer with 400.
var ErrMalformed = errors.New("sdp: malformed")

// ErrNoCommonCodec is wrapped by every error about SDP that was read but
// cannot be accepted: no usable audio stream, or no codec both sides allow.
// The sip layer answers such an offer with 488.
var ErrNoCommonCodec = errors.New("sdp: no common codec")

// MaxBodySize is the largest SDP body the parsers accept.
const MaxBodySize = 64 << 10

// DefaultPtime is the packetization time used when the offer does not ask
// for a usable one: one media frame.
const DefaultPtime = media.FrameDur

// Direction is the media direction of a stream, as seen from the side that
// writes the SDP (RFC 3264 section 5.1). The zero value is SendRecv.
type Direction uint8

// The four media directions.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

// String returns the SDP attribute name of the direction.
func (d Direction) String() string {
	switch d {
	case SendRecv:
		return "sendrecv"
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	default:
		return fmt.Sprintf("direction(%d)", uint8(d))
	}
}

// Sends reports whether the side with this direction sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the side with this direction receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Reverse returns the direction the other side sees: sendonly and recvonly
// swap, sendrecv and inactive stay.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	default:
		return d
	}
}

// withoutSend drops the sending half of d: used when the peer gave no
// address to send to.
func (d Direction) withoutSend() Direction {
	switch d {
	case SendRecv:
		return RecvOnly
	case SendOnly:
		return Inactive
	default:
		return d
	}
}

// directionOf maps an SDP attribute name to a Direction.
func directionOf(name string) (Direction, bool) {
	switch name {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return 0, false
}

// Origin is the o= line of a session description.
type Origin struct {
	Username       string
	SessionID      uint64
	SessionVersion uint64
	Address        string // the unicast address as written, not checked
}

// Stream is one m= line as written, kept so an answer can list every offered
// stream in order.
type Stream struct {
	Media   string   // "audio", "video", ...
	Port    int      // 0 means the stream is disabled
	Proto   string   // "RTP/AVP", ...
	Formats []string // the format tokens, in order
}

// CodecChoice is one offered codec kefu can speak and the payload type the
// offerer bound it to.
type CodecChoice struct {
	Codec media.Codec
	PT    uint8
}

// Offer is a remote session description reduced to what an audio-only UA
// needs. The fields after Streams describe the audio stream at index Audio.
type Offer struct {
	Origin  Origin
	Streams []Stream // every m= line, in order
	Audio   int      // index in Streams of the audio stream kefu would take, -1 if none

	Addr      netip.Addr    // c= of the audio stream (media or session level); unspecified means hold
	Port      int           // RTP port of the audio stream
	Proto     string        // transport of the audio stream: RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF
	Crypto    []Crypto      // the audio stream's a=crypto lines kefu can use, in order
	Codecs    []CodecChoice // offered codecs kefu speaks, in the offerer's preference order
	DTMFPT    uint8         // telephone-event/8000 payload type, 0 if none
	CNPT      uint8         // CN/8000 payload type, 0 if none
	Ptime     time.Duration // a=ptime, 0 if unspecified
	MaxPtime  time.Duration // a=maxptime, 0 if unspecified
	Direction Direction     // media level, else session level, else sendrecv

	secure *Offer // the RTP/SAVP twin of a plain audio stream, nil if none
}

// Hold reports whether the offer puts the call on hold: the offerer will
// only send, will neither send nor receive, or gave 0.0.0.0 as its address
// (the RFC 2543 style).
func (o *Offer) Hold() bool {
	return o.Direction == SendOnly || o.Direction == Inactive || o.Addr.IsUnspecified()
}

// Local is kefu's side of a session: where it receives RTP, what it allows,
// and the o= line identifiers. The caller bumps SessionVersion for each new
// description it sends in a dialog.
type Local struct {
	Addr           netip.Addr
	Port           int
	Codecs         []media.Codec // allowed codecs in order; empty (or none kefu speaks) allows PCMU and PCMA
	SessionID      uint64
	SessionVersion uint64
	Username       string // o= username; empty means "kefu"
	// SRTP is the policy of this side; Key (random, per call) keys what
	// kefu sends when SRTP is on.
	SRTP SRTPUse
	Key  srtp.Key
}

// codecs returns the codecs Local allows that kefu speaks, without
// repeats, defaulting to all of them.
func (l Local) codecs() []media.Codec {
	var cs []media.Codec
	for _, c := range l.Codecs {
		if (c == media.CodecPCMU || c == media.CodecPCMA) && !slices.Contains(cs, c) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return []media.Codec{media.CodecPCMU, media.CodecPCMA}
	}
	return cs
}

// check reports a Local that cannot be written into SDP.
func (l Local) check() error {
	if !l.Addr.IsValid() {
		return errors.New("sdp: local address not set")
	}
	if err := l.checkKey(); err != nil {
		return err
	}
	if l.Port <= 0 || l.Port > 65535 {
		return fmt.Errorf("sdp: local port %d out of range", l.Port)
	}
	return nil
}

// Answer is the negotiated audio stream, seen from the local side: Direction
// is what the local side does (SendOnly means it only sends), Remote is where
// it sends RTP, and Hold says the peer put the call on hold.
type Answer struct {
	Codec     media.Codec
	PT        uint8          // payload type of Codec
	DTMFPT    uint8          // telephone-event/8000 payload type, 0 if none
	CNPT      uint8          // CN/8000 payload type, 0 if none
	Ptime     time.Duration  // packetization time to send with
	Direction Direction      // the local side's direction
	Remote    netip.AddrPort // the peer's RTP address
	Hold      bool           // the peer is sendonly, inactive, or at 0.0.0.0
	SRTP      SRTP           // the stream's SRTP; zero: plain RTP
}
