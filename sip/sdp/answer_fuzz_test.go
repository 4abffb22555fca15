package sdp

import (
	"errors"
	"testing"

	"github.com/kefu-hotline/kefu/media"
)

// FuzzParseAnswer: the far end's answer when kefu places a call (to an
// agent's phone, a transfer destination). Beyond not panicking: an error
// wraps ErrMalformed or ErrNoCommonCodec, and an accepted answer is one
// kefu can send: PCMU or PCMA and a packet time within the bounds
// rtp.Session packetizes.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		crlf(asteriskOffer), linphoneOffer, crlf(holdZeroAddrOffer), ipv6Offer,
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:30\r\na=maxptime:20\r\n",
		"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 0 RTP/AVP 0\r\n", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := ParseAnswer(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoCommonCodec) {
				t.Fatalf("ParseAnswer error %v wraps neither ErrMalformed nor ErrNoCommonCodec", err)
			}
			return
		}
		if a.Codec != media.CodecPCMU && a.Codec != media.CodecPCMA {
			t.Fatalf("answer codec %v", a.Codec)
		}
		if a.Ptime < minPtime || a.Ptime > maxPtime || a.Ptime%ptimeStep != 0 {
			t.Fatalf("answer ptime %v", a.Ptime)
		}
	})
}
