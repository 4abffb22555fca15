package sdp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kefu-hotline/kefu/media/srtp"
)

// SDES (RFC 4568): a=crypto lines carry SRTP keys in the SDP, which only
// a TLS-protected signalling path keeps secret. kefu answers an offer with
// a usable crypto line with SRTP (keyed with its own fresh key), an
// RTP/SAVP offer without one with 488, and, where SRTP is required, a
// plain offer with 488 too.

// ErrSRTPRequired is wrapped by Negotiate's error for a plain offer where
// SRTP is required, and by Accept's for a plain answer to such an offer.
// It wraps ErrNoCommonCodec: the sip layer answers 488.
var ErrSRTPRequired = fmt.Errorf("%w: SRTP is required", ErrNoCommonCodec)

// SRTPUse is how a side of kefu's takes SRTP.
type SRTPUse uint8

// The SRTP policies: off (plain RTP only; an RTP/SAVP offer is refused),
// optional (SRTP when the peer offers it; kefu's own offers carry a crypto
// line on RTP/AVP, which a peer without SRTP ignores), required (plain
// offers refused; kefu's own offers are RTP/SAVP).
const (
	SRTPOff SRTPUse = iota
	SRTPOptional
	SRTPRequired
)

// ParseSRTPUse reads "off", "optional" or "required".
func ParseSRTPUse(s string) (SRTPUse, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off":
		return SRTPOff, nil
	case "optional":
		return SRTPOptional, nil
	case "required":
		return SRTPRequired, nil
	}
	return 0, fmt.Errorf("srtp %q: want required, optional or off", s)
}

// String returns the policy's name.
func (u SRTPUse) String() string {
	switch u {
	case SRTPOff:
		return "off"
	case SRTPOptional:
		return "optional"
	case SRTPRequired:
		return "required"
	}
	return fmt.Sprintf("srtp(%d)", uint8(u))
}

// Crypto is one a=crypto line kefu can use: its tag, suite and the key of
// the side that wrote it.
type Crypto struct {
	Tag   int
	Suite srtp.Suite
	Key   srtp.Key
}

// SRTP is a negotiated SRTP stream; the zero value is plain RTP. Local
// protects what kefu sends, Remote is the peer's key.
type SRTP struct {
	Suite         srtp.Suite
	Tag           int
	Local, Remote srtp.Key
}

// On reports whether the stream is SRTP.
func (s SRTP) On() bool { return s.Suite != 0 }

// secure reports an SRTP profile (RTP/SAVP, RTP/SAVPF).
func secure(proto string) bool {
	return strings.EqualFold(proto, "RTP/SAVP") || strings.EqualFold(proto, "RTP/SAVPF")
}

// parseCrypto reads "tag suite inline:KEY[|lifetime][|MKI:len] [params]";
// ok is false for a line kefu cannot use: an unknown suite, an MKI (kefu
// sends none and would have to strip the peer's), several keys, session
// parameters (RFC 4568 6.3: one not understood refuses the line).
func parseCrypto(value string) (Crypto, bool) {
	f := strings.Fields(value)
	if len(f) != 3 {
		return Crypto{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return Crypto{}, false
	}
	suite, ok := srtp.ParseSuite(f[1])
	if !ok {
		return Crypto{}, false
	}
	method, params, ok := strings.Cut(f[2], ":")
	if !ok || !strings.EqualFold(method, "inline") || strings.Contains(params, ";") {
		return Crypto{}, false
	}
	parts := strings.Split(params, "|")
	if len(parts) > 2 {
		return Crypto{}, false // an MKI
	}
	if len(parts) == 2 && strings.Contains(parts[1], ":") {
		return Crypto{}, false // an MKI without a lifetime
	}
	key, err := srtp.ParseInline(parts[0])
	if err != nil {
		return Crypto{}, false
	}
	return Crypto{Tag: tag, Suite: suite, Key: key}, true
}

// cryptoLine writes kefu's a=crypto value.
func cryptoLine(c Crypto) string {
	return fmt.Sprintf("crypto:%d %s inline:%s", c.Tag, c.Suite, c.Key.Inline())
}

// chooseSRTP decides the SRTP of kefu's answer to offer under local's
// policy.
func chooseSRTP(offer *Offer, local Local) (SRTP, error) {
	sec := secure(offer.Proto)
	if local.SRTP == SRTPOff {
		if sec {
			return SRTP{}, fmt.Errorf("%w: %s offered, SRTP is off here", ErrNoCommonCodec, offer.Proto)
		}
		return SRTP{}, nil
	}
	if len(offer.Crypto) == 0 {
		switch {
		case local.SRTP == SRTPRequired:
			return SRTP{}, fmt.Errorf("%w: the offer has no a=crypto kefu can use (AES_CM_128_HMAC_SHA1_80 or _32)", ErrSRTPRequired)
		case sec:
			return SRTP{}, fmt.Errorf("%w: %s offered without an a=crypto kefu can use (AES_CM_128_HMAC_SHA1_80 or _32)", ErrNoCommonCodec, offer.Proto)
		}
		return SRTP{}, nil
	}
	c := offer.Crypto[0]
	return SRTP{Suite: c.Suite, Tag: c.Tag, Local: local.Key, Remote: c.Key}, nil
}

// Accept checks the answer to an offer kefu made for local (BuildOffer)
// and completes its SRTP with kefu's key: a plain answer where SRTP is
// required, and an SRTP one to a plain offer, are refused.
func (l Local) Accept(a Answer) (Answer, error) {
	switch {
	case a.SRTP.On() && l.SRTP == SRTPOff:
		return Answer{}, fmt.Errorf("%w: the answer has a=crypto, kefu offered plain RTP", ErrNoCommonCodec)
	case a.SRTP.On() && (a.SRTP.Suite != srtp.AESCM128SHA1_80 || a.SRTP.Tag != offerCryptoTag):
		return Answer{}, fmt.Errorf("%w: the answer's a=crypto is not the one kefu offered", ErrNoCommonCodec)
	case !a.SRTP.On() && l.SRTP == SRTPRequired:
		return Answer{}, fmt.Errorf("%w: the answer is plain RTP", ErrSRTPRequired)
	}
	a.SRTP.Local = l.Key
	return a, nil
}

// offerCryptoTag is the tag of the one crypto line kefu offers.
const offerCryptoTag = 1

var errNoKey = errors.New("sdp: SRTP without a local key")

// checkKey refuses a policy with SRTP and a zero key.
func (l Local) checkKey() error {
	if l.SRTP != SRTPOff && l.Key == (srtp.Key{}) {
		return errNoKey
	}
	return nil
}
