package sdp

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/srtp"
)

// OfferDTMFPT is the telephone-event payload type BuildOffer offers.
const OfferDTMFPT = 101

// ptimeStep, minPtime and maxPtime bound the packetization times kefu
// honours: whole multiples of 10 ms from 10 to 60 ms.
const (
	ptimeStep = 10 * time.Millisecond
	minPtime  = 10 * time.Millisecond
	maxPtime  = 60 * time.Millisecond
)

// Negotiate answers offer (as returned by ParseOffer) for local. The first
// offered codec local allows wins, so the caller's preference decides. The
// answer SDP lists that codec, telephone-event with the offered payload type
// if one was offered, CN if offered, a=ptime and a direction attribute, and
// repeats every other offered m= line with port 0, in the offer's order.
//
// The Answer's Direction mirrors the offer (sendonly becomes recvonly and so
// on); an offer with address 0.0.0.0 gets no media from us (RFC 2543 hold).
// Ptime is the offer's ptime if it is a multiple of 10 ms from 10 to 60 ms,
// else DefaultPtime, lowered to fit the offer's maxptime if that is smaller.
//
// Where local allows SRTP and the offer gives its audio twice, plain and on
// RTP/SAVP with a usable a=crypto, the secure stream is answered and the
// plain one rejected.
//
// Errors wrap ErrNoCommonCodec, except for an invalid local, which is the
// caller's own fault.
func Negotiate(offer *Offer, local Local) (Answer, []byte, error) {
	if offer == nil {
		return Answer{}, nil, errors.New("sdp: nil offer")
	}
	if err := local.check(); err != nil {
		return Answer{}, nil, err
	}
	if offer.secure != nil && local.SRTP != SRTPOff && len(offer.Crypto) == 0 {
		offer = offer.secure // RFC 3264: the plain twin is answered with port 0
	}
	if offer.Audio < 0 || offer.Audio >= len(offer.Streams) {
		return Answer{}, nil, fmt.Errorf("%w: offer has no enabled RTP audio stream", ErrNoCommonCodec)
	}
	allowed := local.codecs()
	i := slices.IndexFunc(offer.Codecs, func(c CodecChoice) bool { return slices.Contains(allowed, c.Codec) })
	if i < 0 {
		return Answer{}, nil, fmt.Errorf("%w: offered formats %q, we allow %v",
			ErrNoCommonCodec, clip(strings.Join(offer.Streams[offer.Audio].Formats, " ")), allowed)
	}
	a := answerFor(offer, offer.Codecs[i])
	var err error
	if a.SRTP, err = chooseSRTP(offer, local); err != nil {
		return Answer{}, nil, err
	}

	pls := []payload{codecPayload(a.Codec, a.PT)}
	if a.DTMFPT != 0 {
		pls = append(pls, dtmfPayload(a.DTMFPT))
	}
	if a.CNPT != 0 {
		pls = append(pls, payload{pt: a.CNPT, rtpmap: "CN/8000"})
	}
	proto := offer.Proto
	if proto == "" {
		proto = "RTP/AVP"
	}
	w := header(local)
	var crypto *Crypto
	if a.SRTP.On() {
		crypto = &Crypto{Tag: a.SRTP.Tag, Suite: a.SRTP.Suite, Key: local.Key}
	}
	for i, s := range offer.Streams {
		if i == offer.Audio {
			w.audio(local.Port, proto, pls, a.Ptime, a.Direction, crypto)
		} else {
			w.rejected(s)
		}
	}
	return a, w.b, nil
}

// answerFor derives the local view of a stream the peer described in o,
// using codec c.
func answerFor(o *Offer, c CodecChoice) Answer {
	dir := o.Direction.Reverse()
	if o.Addr.IsUnspecified() {
		dir = dir.withoutSend()
	}
	return Answer{
		Codec:     c.Codec,
		PT:        c.PT,
		DTMFPT:    o.DTMFPT,
		CNPT:      o.CNPT,
		Ptime:     choosePtime(o.Ptime, o.MaxPtime),
		Direction: dir,
		Remote:    netip.AddrPortFrom(o.Addr, uint16(o.Port)),
		Hold:      o.Hold(),
	}
}

// choosePtime applies the ptime rule described at Negotiate.
func choosePtime(ptime, maxptime time.Duration) time.Duration {
	p := DefaultPtime
	if ptime%ptimeStep == 0 && ptime >= minPtime && ptime <= maxPtime {
		p = ptime
	}
	if limit := maxptime.Truncate(ptimeStep); maxptime > 0 && p > maxptime && limit >= minPtime {
		p = limit
	}
	return p
}

// BuildOffer writes an SDP offer for kefu's own test softphone: one audio
// stream offering local.Codecs in order (PCMU and PCMA if empty), then
// telephone-event/8000 as OfferDTMFPT if dtmf is set, a=ptime:20 and the
// given direction. An invalid local.Addr is written as 0.0.0.0. With SRTP
// optional it adds an AES_CM_128_HMAC_SHA1_80 crypto line with local.Key
// on RTP/AVP, required on RTP/SAVP.
func BuildOffer(local Local, dtmf bool, direction Direction) []byte {
	var pls []payload
	for _, c := range local.codecs() {
		pls = append(pls, codecPayload(c, c.PayloadType()))
	}
	if dtmf {
		pls = append(pls, dtmfPayload(OfferDTMFPT))
	}
	if direction > Inactive {
		direction = SendRecv
	}
	proto, crypto := "RTP/AVP", (*Crypto)(nil)
	if local.SRTP != SRTPOff {
		crypto = &Crypto{Tag: offerCryptoTag, Suite: srtp.AESCM128SHA1_80, Key: local.Key}
		if local.SRTP == SRTPRequired {
			proto = "RTP/SAVP"
		}
	}
	w := header(local)
	w.audio(local.Port, proto, pls, DefaultPtime, direction, crypto)
	return w.b
}

// payload is one format in a written m= line.
type payload struct {
	pt     uint8
	rtpmap string // encoding/rate
	fmtp   string // empty for none
}

func codecPayload(c media.Codec, pt uint8) payload {
	return payload{pt: pt, rtpmap: c.String() + "/8000"}
}

// dtmfPayload lists the events kefu understands: digits, * and #, A to D.
func dtmfPayload(pt uint8) payload {
	return payload{pt: pt, rtpmap: "telephone-event/8000", fmtp: "0-15"}
}

// writer accumulates SDP lines, each ended with CRLF.
type writer struct{ b []byte }

func (w *writer) line(format string, args ...any) {
	w.b = fmt.Appendf(w.b, format, args...)
	w.b = append(w.b, '\r', '\n')
}

// header starts a description with local's session-level lines.
func header(l Local) *writer {
	user := l.Username
	if user == "" || strings.IndexFunc(user, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		user = "kefu"
	}
	addr := l.Addr.Unmap().WithZone("")
	if !addr.IsValid() {
		addr = netip.IPv4Unspecified()
	}
	ipver := "IP4"
	if addr.Is6() {
		ipver = "IP6"
	}
	w := &writer{b: make([]byte, 0, 512)}
	w.line("v=0")
	w.line("o=%s %d %d IN %s %s", user, l.SessionID, l.SessionVersion, ipver, addr)
	w.line("s=kefu")
	w.line("c=IN %s %s", ipver, addr)
	w.line("t=0 0")
	return w
}

// audio writes kefu's audio m= section.
func (w *writer) audio(port int, proto string, pls []payload, ptime time.Duration, dir Direction, crypto *Crypto) {
	w.b = fmt.Appendf(w.b, "m=audio %d %s", port, proto)
	for _, p := range pls {
		w.b = fmt.Appendf(w.b, " %d", p.pt)
	}
	w.b = append(w.b, '\r', '\n')
	for _, p := range pls {
		w.line("a=rtpmap:%d %s", p.pt, p.rtpmap)
		if p.fmtp != "" {
			w.line("a=fmtp:%d %s", p.pt, p.fmtp)
		}
	}
	w.line("a=ptime:%d", ptime.Milliseconds())
	w.line("a=%s", dir)
	if crypto != nil {
		w.line("a=%s", cryptoLine(*crypto))
	}
}

// rejected repeats an offered m= line with port 0 (RFC 3264 section 6),
// keeping its first format since SDP needs at least one.
func (w *writer) rejected(s Stream) {
	f := "0"
	if len(s.Formats) > 0 {
		f = s.Formats[0]
	}
	w.line("m=%s 0 %s %s", s.Media, s.Proto, f)
}
