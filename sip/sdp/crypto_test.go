package sdp

import (
	"errors"
	"strings"
	"testing"

	"github.com/kefu-hotline/kefu/media/srtp"
)

// baresip's offers with mediaenc srtp (best effort: RTP/AVP) and
// srtp-mand (RTP/SAVP); the keys are made up.
const (
	baresipSRTPOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 10002 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n" +
		"a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk|2^31\r\n" +
		"a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0\r\n"
	savpOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 10002 RTP/SAVP 8\r\n" +
		"a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0\r\n"
	savpUnusable = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 10002 RTP/SAVP 0\r\n" +
		"a=crypto:1 AEAD_AES_256_GCM inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0MDEyMzQ1Njc4OWFi\r\n"
	plainOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 10002 RTP/AVP 0\r\n"
)

func srtpLocal(t testing.TB, use SRTPUse) Local {
	t.Helper()
	l := testLocal
	l.SRTP = use
	k, err := srtp.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	l.Key = k
	return l
}

func TestParseCrypto(t *testing.T) {
	key := "MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0"
	for value, ok := range map[string]bool{
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key:                    true,
		"2 aes_cm_128_hmac_sha1_32 inline:" + key + "|2^20":          true,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|2^20|1:4":      false, // MKI
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + "|1:4":           false,
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + " KDR=1":         false, // a session parameter
		"1 AES_CM_128_HMAC_SHA1_80 inline:" + key + ";inline:" + key: false,
		"1 AES_256_CM_HMAC_SHA1_80 inline:" + key:                    false,
		"1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=":                  false,
		"x AES_CM_128_HMAC_SHA1_80 inline:" + key:                    false,
		"1 AES_CM_128_HMAC_SHA1_80 uri:" + key:                       false,
		"1 AES_CM_128_HMAC_SHA1_80":                                  false,
	} {
		if _, got := parseCrypto(value); got != ok {
			t.Errorf("parseCrypto(%q) ok=%v, want %v", value, got, ok)
		}
	}
}

func TestNegotiateSRTP(t *testing.T) {
	for _, tc := range []struct {
		name, offer string
		use         SRTPUse
		want        error // nil: answered
		srtp        bool
		proto       string
		tag         string
	}{
		{"best effort, optional", baresipSRTPOffer, SRTPOptional, nil, true, "RTP/AVP", "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:"},
		{"SAVP, optional", savpOffer, SRTPOptional, nil, true, "RTP/SAVP", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"},
		{"SAVP, required", savpOffer, SRTPRequired, nil, true, "RTP/SAVP", "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:"},
		{"best effort, off", baresipSRTPOffer, SRTPOff, nil, false, "RTP/AVP", ""},
		{"plain, optional", plainOffer, SRTPOptional, nil, false, "RTP/AVP", ""},
		{"plain, required", plainOffer, SRTPRequired, ErrSRTPRequired, false, "", ""},
		{"SAVP, off", savpOffer, SRTPOff, ErrNoCommonCodec, false, "", ""},
		{"SAVP without a suite kefu has", savpUnusable, SRTPOptional, ErrNoCommonCodec, false, "", ""},
		{"SAVP without a suite kefu has, required", savpUnusable, SRTPRequired, ErrSRTPRequired, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := ParseOffer([]byte(tc.offer))
			if err != nil {
				t.Fatal(err)
			}
			local := srtpLocal(t, tc.use)
			a, body, err := Negotiate(offer, local)
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !errors.Is(err, ErrNoCommonCodec) {
					t.Fatalf("error %v, want %v (a 488)", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sdp := string(body)
			if !strings.Contains(sdp, "m=audio 20000 "+tc.proto+" ") {
				t.Errorf("answer's m= line is not %s:\n%s", tc.proto, sdp)
			}
			if a.SRTP.On() != tc.srtp {
				t.Fatalf("SRTP %v, want %v", a.SRTP.On(), tc.srtp)
			}
			if !tc.srtp {
				if strings.Contains(sdp, "a=crypto") {
					t.Errorf("a plain answer with a crypto line:\n%s", sdp)
				}
				return
			}
			if !strings.Contains(sdp, tc.tag+local.Key.Inline()+"\r\n") {
				t.Errorf("answer does not carry kefu's key as %q:\n%s", tc.tag, sdp)
			}
			if a.SRTP.Local != local.Key || a.SRTP.Remote == local.Key || a.SRTP.Remote == (srtp.Key{}) {
				t.Error("keys not taken as offered")
			}
			// Read back as the peer reads kefu's answer.
			back, err := ParseAnswer(body)
			if err != nil || back.SRTP.Remote != local.Key {
				t.Errorf("the answer reads back with %v", err)
			}
		})
	}
}

func TestOfferSRTP(t *testing.T) {
	for use, proto := range map[SRTPUse]string{SRTPOptional: "RTP/AVP", SRTPRequired: "RTP/SAVP", SRTPOff: "RTP/AVP"} {
		local := srtpLocal(t, use)
		body := string(BuildOffer(local, true, SendRecv))
		if !strings.Contains(body, "m=audio 20000 "+proto+" ") {
			t.Errorf("%v: offer is not %s:\n%s", use, proto, body)
		}
		if has := strings.Contains(body, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+local.Key.Inline()); has != (use != SRTPOff) {
			t.Errorf("%v: crypto line %v:\n%s", use, has, body)
		}
		// The peer answers with its key (or plain).
		peer, _ := srtp.NewKey()
		withKey := strings.Replace(plainOffer, "RTP/AVP 0\r\n", proto+" 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"+peer.Inline()+"\r\n", 1)
		ans, err := ParseAnswer([]byte(withKey))
		if err == nil {
			ans, err = local.Accept(ans)
		}
		switch {
		case use == SRTPOff && err == nil:
			t.Errorf("off: an answer with crypto accepted")
		case use != SRTPOff && (err != nil || ans.SRTP.Remote != peer || ans.SRTP.Local != local.Key):
			t.Errorf("%v: the keyed answer: %v", use, err)
		}
		plain, err := ParseAnswer([]byte(plainOffer))
		if err == nil {
			_, err = local.Accept(plain)
		}
		if (use == SRTPRequired) != errors.Is(err, ErrSRTPRequired) {
			t.Errorf("%v: a plain answer: %v", use, err)
		}
	}
}

func TestParseSRTPUse(t *testing.T) {
	for _, s := range []string{"off", "optional", "required"} {
		u, err := ParseSRTPUse(s)
		if err != nil || u.String() != s {
			t.Errorf("%s: %v %v", s, u, err)
		}
	}
	if _, err := ParseSRTPUse("yes"); err == nil {
		t.Error("yes taken")
	}
}

// An offer that gives its audio twice, as RTP/SAVP with a key and as plain
// RTP/AVP (a best-effort SRTP offer in the RFC 3264 style), is answered on
// the secure line wherever kefu's policy allows SRTP, the other line with
// port 0, in the offer's order.
func TestNegotiateSRTPTwin(t *testing.T) {
	const (
		savp = "m=audio 30000 RTP/SAVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n" +
			"a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0\r\n"
		avp      = "m=audio 30002 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
		unusable = "m=audio 30000 RTP/SAVP 8\r\n" +
			"a=crypto:3 AEAD_AES_256_GCM inline:MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0MDEyMzQ1Njc4OWFi\r\n"
		head = "v=0\r\no=- 1 2 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n"
	)
	for _, tc := range []struct {
		name  string
		offer string
		use   SRTPUse
		want  error    // nil: answered
		lines []string // the answer's m= lines, in order
		port  uint16   // where kefu sends
	}{
		{"SAVP first, optional", head + savp + avp, SRTPOptional, nil,
			[]string{"m=audio 20000 RTP/SAVP 8 101", "m=audio 0 RTP/AVP 0"}, 30000},
		{"SAVP first, required", head + savp + avp, SRTPRequired, nil,
			[]string{"m=audio 20000 RTP/SAVP 8 101", "m=audio 0 RTP/AVP 0"}, 30000},
		{"SAVP first, off", head + savp + avp, SRTPOff, nil,
			[]string{"m=audio 0 RTP/SAVP 8", "m=audio 20000 RTP/AVP 0 101"}, 30002},
		{"AVP first, optional", head + avp + savp, SRTPOptional, nil,
			[]string{"m=audio 0 RTP/AVP 0", "m=audio 20000 RTP/SAVP 8 101"}, 30000},
		{"AVP first, required", head + avp + savp, SRTPRequired, nil,
			[]string{"m=audio 0 RTP/AVP 0", "m=audio 20000 RTP/SAVP 8 101"}, 30000},
		{"AVP first, off", head + avp + savp, SRTPOff, nil,
			[]string{"m=audio 20000 RTP/AVP 0 101", "m=audio 0 RTP/SAVP 8"}, 30002},
		{"no key kefu can use, optional", head + unusable + avp, SRTPOptional, nil,
			[]string{"m=audio 0 RTP/SAVP 8", "m=audio 20000 RTP/AVP 0 101"}, 30002},
		{"no key kefu can use, required", head + unusable + avp, SRTPRequired, ErrSRTPRequired, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offer, err := ParseOffer([]byte(tc.offer))
			if err != nil {
				t.Fatal(err)
			}
			local := srtpLocal(t, tc.use)
			a, body, err := Negotiate(offer, local)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("error %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for l := range strings.SplitSeq(string(body), "\r\n") {
				if strings.HasPrefix(l, "m=") {
					lines = append(lines, l)
				}
			}
			if strings.Join(lines, "|") != strings.Join(tc.lines, "|") {
				t.Errorf("m= lines %q, want %q", lines, tc.lines)
			}
			secure := tc.port == 30000
			if a.SRTP.On() != secure || a.Remote.Port() != tc.port {
				t.Errorf("SRTP %v to port %d, want %v to %d", a.SRTP.On(), a.Remote.Port(), secure, tc.port)
			}
			if secure && (!strings.Contains(string(body), "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:"+local.Key.Inline()) ||
				a.SRTP.Remote == (srtp.Key{})) {
				t.Errorf("the secure line is not keyed:\n%s", body)
			}
			if !secure && strings.Contains(string(body), "a=crypto") {
				t.Errorf("a plain answer with a crypto line:\n%s", body)
			}
		})
	}
}
