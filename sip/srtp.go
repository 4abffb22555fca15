package sip

import (
	"errors"
	"net/netip"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media/rtp"
	"github.com/kefu-hotline/kefu/media/srtp"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// SRTP (SDES) on kefu's media legs. The policy of a call from a trunk's
// host is the trunk's srtp:, else Config.SRTP; the calls kefu places
// through a trunk follow the trunk's (plain when it says nothing). Keys
// are made per call (crypto/rand) and never logged.

// inboundSRTP is the SRTP policy for an INVITE from src.
func (a *Agent) inboundSRTP(snap *flows.Bundle, src netip.AddrPort) sdp.SRTPUse {
	if snap != nil && snap.Config != nil {
		for _, t := range snap.Config.Trunks {
			if t.SRTP == "" || !trunkHostIs(t.URI, src.Addr()) {
				continue
			}
			if u, err := sdp.ParseSRTPUse(t.SRTP); err == nil {
				return u
			}
		}
	}
	return a.cfg.SRTP
}

// trunkHostIs reports whether a trunk's URI names ip as its host (a host
// name matches nothing: kefu does not resolve names per call).
func trunkHostIs(uri string, ip netip.Addr) bool {
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		return false
	}
	h, err := netip.ParseAddr(u.Host)
	return err == nil && h.Unmap() == ip.Unmap()
}

// withKey gives local the policy use and, unless it is off, a fresh key.
func withKey(local *sdp.Local, use sdp.SRTPUse) error {
	local.SRTP = use
	if use == sdp.SRTPOff {
		return nil
	}
	k, err := srtp.NewKey()
	local.Key = k
	return err
}

// settle fixes a call's SRTP after the first answer: later offers in the
// dialog (re-INVITEs) must keep it, so a plain call stays plain and an
// SRTP call refuses a plain re-offer.
func settle(local *sdp.Local, ans sdp.Answer) {
	if ans.SRTP.On() {
		local.SRTP = sdp.SRTPRequired
	} else {
		local.SRTP = sdp.SRTPOff
	}
}

// srtpCrypto puts an SRTP session under an RTP session: it protects and
// unprotects in place and tells a failed authentication apart.
type srtpCrypto struct{ *srtp.Session }

func (c srtpCrypto) Unprotect(pkt []byte) (int, error) {
	n, err := c.Session.Unprotect(pkt)
	if errors.Is(err, srtp.ErrAuth) {
		return 0, rtp.ErrCryptoAuth
	}
	return n, err
}

// srtpRefused is the Warning of a 488 for a plain offer where SRTP is
// required.
const srtpRefused = "SRTP is required: offer RTP/SAVP with a=crypto AES_CM_128_HMAC_SHA1_80"
