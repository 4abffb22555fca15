package sdp

import (
	"errors"
	"testing"

	"github.com/kefu-hotline/kefu/media/srtp"
)

// FuzzParseOffer feeds arbitrary bodies through the whole answering path.
// Beyond not panicking it checks the error contract (ErrMalformed from the
// parser, ErrNoCommonCodec from Negotiate) and that every answer kefu writes
// reads back, both as an offer and as an answer.
func FuzzParseOffer(f *testing.F) {
	for _, s := range []string{
		crlf(asteriskOffer), linphoneOffer, crlf(ciscoOffer), crlf(holdZeroAddrOffer),
		crlf(sessionSendonlyOffer), ipv6Offer, srtpFirstOffer, g729Offer, badPortOffer,
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.1\r\nm=audio 1 RTP/AVP 0",
		"v=0\nm=audio 0 x\n", "hello", "", baresipSRTPOffer, savpOffer, savpUnusable,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		offer, err := ParseOffer(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseOffer error %v does not wrap ErrMalformed", err)
			}
			return
		}
		local := testLocal
		if len(body)%2 == 1 {
			local.SRTP, local.Key = SRTPOptional, srtp.Key{1, 2, 3} // SRTP where offered
		}
		a, ans, err := Negotiate(offer, local)
		if err != nil {
			if !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("Negotiate error %v does not wrap ErrNoCommonCodec", err)
			}
			return
		}
		back, err := ParseOffer(ans)
		if err != nil {
			t.Fatalf("our answer does not parse: %v\n%q", err, ans)
		}
		if len(back.Streams) != len(offer.Streams) || back.Audio != offer.Audio {
			t.Fatalf("answer streams %+v (audio %d) for offer streams %+v (audio %d)",
				back.Streams, back.Audio, offer.Streams, offer.Audio)
		}
		got, err := ParseAnswer(ans)
		if err != nil {
			t.Fatalf("ParseAnswer of our answer: %v\n%q", err, ans)
		}
		if got.Codec != a.Codec || got.PT != a.PT || got.Ptime != a.Ptime || got.Direction != a.Direction.Reverse() ||
			got.SRTP.On() != a.SRTP.On() || got.SRTP.Remote != a.SRTP.Local {
			t.Fatalf("answer reads back as %+v, negotiated %+v", got, a)
		}
	})
}
