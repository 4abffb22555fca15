package sdp

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

func TestParseOffer(t *testing.T) {
	pcmu := CodecChoice{media.CodecPCMU, 0}
	pcma := CodecChoice{media.CodecPCMA, 8}
	tests := []struct {
		name string
		body string
		want Offer
	}{
		{"asterisk", asteriskOffer, Offer{
			Origin:  Origin{"-", 1780434539, 1780434539, "192.0.2.10"},
			Streams: []Stream{{"audio", 17372, "RTP/AVP", []string{"0", "8", "101"}}},
			Addr:    netip.MustParseAddr("192.0.2.10"), Port: 17372, Proto: "RTP/AVP",
			Codecs: []CodecChoice{pcmu, pcma}, DTMFPT: 101,
			Ptime: 20 * time.Millisecond, MaxPtime: 150 * time.Millisecond, Direction: SendRecv,
		}},
		{"freeswitch", freeswitchOffer, Offer{
			Origin:  Origin{"FreeSWITCH", 1712345678, 1712345679, "198.51.100.20"},
			Streams: []Stream{{"audio", 24580, "RTP/AVP", []string{"102", "9", "0", "8", "103", "101", "13"}}},
			Addr:    netip.MustParseAddr("198.51.100.20"), Port: 24580, Proto: "RTP/AVP",
			Codecs: []CodecChoice{pcmu, pcma}, DTMFPT: 101, CNPT: 13,
			Ptime: 20 * time.Millisecond, Direction: SendRecv,
		}},
		{"linphone", linphoneOffer, Offer{
			Origin: Origin{"alice", 3046, 1722, "10.0.0.23"},
			Streams: []Stream{
				{"audio", 7078, "RTP/AVP", []string{"96", "97", "98", "0", "8", "18", "101", "99", "100"}},
				{"video", 9078, "RTP/AVP", []string{"96", "97"}},
			},
			Addr: netip.MustParseAddr("203.0.113.5"), Port: 7078, Proto: "RTP/AVP",
			Codecs: []CodecChoice{pcmu, pcma}, DTMFPT: 100, Direction: SendRecv,
		}},
		{"cisco", ciscoOffer, Offer{
			Origin:  Origin{"CiscoSystemsSIP-GW-UserAgent", 4417, 2395, "172.16.5.2"},
			Streams: []Stream{{"audio", 16434, "RTP/AVP", []string{"8", "0", "18", "101", "13"}}},
			Addr:    netip.MustParseAddr("172.16.5.2"), Port: 16434, Proto: "RTP/AVP",
			Codecs: []CodecChoice{pcma, pcmu}, DTMFPT: 101, CNPT: 13,
			Ptime: 30 * time.Millisecond, Direction: SendRecv,
		}},
		{"video only", videoOnlyOffer, Offer{
			Origin:  Origin{"-", 3, 3, "192.0.2.80"},
			Streams: []Stream{{"video", 9000, "RTP/AVP", []string{"96"}}},
			Audio:   -1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOffer([]byte(crlf(tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("offer\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseOfferTolerance(t *testing.T) {
	base := crlf(asteriskOffer)
	tests := []struct {
		name string
		body string
		ok   func(*Offer) bool
	}{
		{"trailing blanks and blank lines", strings.ReplaceAll(base, "\r\n", " \t\r\n\r\n"),
			func(o *Offer) bool { return len(o.Codecs) == 2 && o.DTMFPT == 101 }},
		{"unknown line types", strings.Replace(base, "t=0 0", "t=0 0\r\nb=AS:64\r\nx=whatever\r\nk=prompt", 1),
			func(o *Offer) bool { return len(o.Codecs) == 2 }},
		{"bad rtpmap falls back to static", strings.Replace(base, "a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU", 1),
			func(o *Offer) bool { return o.Codecs[0] == CodecChoice{media.CodecPCMU, 0} }},
		{"rtpmap overrides static", strings.Replace(base, "a=rtpmap:0 PCMU/8000", "a=rtpmap:0 G726-32/8000", 1),
			func(o *Offer) bool { return len(o.Codecs) == 1 && o.Codecs[0].Codec == media.CodecPCMA }},
		{"stereo PCMU refused", strings.Replace(base, "a=rtpmap:0 PCMU/8000", "a=rtpmap:0 PCMU/8000/2", 1),
			func(o *Offer) bool { return len(o.Codecs) == 1 }},
		{"fractional ptime", strings.Replace(base, "a=ptime:20", "a=ptime:20.0", 1),
			func(o *Offer) bool { return o.Ptime == 20*time.Millisecond }},
		{"junk ptime ignored", strings.Replace(base, "a=ptime:20", "a=ptime:NaN", 1),
			func(o *Offer) bool { return o.Ptime == 0 }},
		{"port count", strings.Replace(base, "m=audio 17372 ", "m=audio 17372/2 ", 1),
			func(o *Offer) bool { return o.Port == 17372 }},
		{"multicast ttl", strings.Replace(base, "c=IN IP4 192.0.2.10", "c=IN IP4 233.252.0.1/127", 1),
			func(o *Offer) bool { return o.Addr == netip.MustParseAddr("233.252.0.1") }},
		{"media c= overrides session c=", strings.Replace(base, "a=sendrecv", "c=IN IP4 192.0.2.11", 1),
			func(o *Offer) bool { return o.Addr == netip.MustParseAddr("192.0.2.11") }},
		{"media direction overrides session", strings.Replace(base, "t=0 0", "t=0 0\r\na=inactive", 1),
			func(o *Offer) bool { return o.Direction == SendRecv }},
		{"upper-case attribute name", strings.Replace(base, "a=sendrecv", "a=SENDONLY", 1),
			func(o *Offer) bool { return o.Direction == SendOnly && o.Hold() }},
		{"RTP/AVPF", strings.Replace(base, "RTP/AVP", "RTP/AVPF", 1),
			func(o *Offer) bool { return o.Proto == "RTP/AVPF" && o.Audio == 0 }},
		{"disabled audio skipped", strings.Replace(base, "m=audio 17372", "m=audio 0", 1),
			func(o *Offer) bool { return o.Audio == -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseOffer([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.ok(o) {
				t.Errorf("unexpected offer %+v", *o)
			}
		})
	}
}

func TestBuildOffer(t *testing.T) {
	want := crlf(`v=0
o=kefu 424242 7 IN IP4 203.0.113.100
s=kefu
c=IN IP4 203.0.113.100
t=0 0
m=audio 20000 RTP/AVP 8 0 101
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
`)
	local := testLocal
	local.Codecs = []media.Codec{media.CodecPCMA, media.CodecPCMU, media.CodecPCMA, media.CodecNone}
	if got := string(BuildOffer(local, true, SendRecv)); got != want {
		t.Errorf("offer\n%s\nwant\n%s", got, want)
	}

	local = testLocal
	local.Username = ""
	local.Addr = netip.MustParseAddr("2001:db8::100")
	o, err := ParseOffer(BuildOffer(local, false, SendOnly))
	if err != nil {
		t.Fatal(err)
	}
	wantOffer := Offer{
		Origin:  Origin{"kefu", 424242, 7, "2001:db8::100"},
		Streams: []Stream{{"audio", 20000, "RTP/AVP", []string{"0", "8"}}},
		Addr:    local.Addr, Port: 20000, Proto: "RTP/AVP",
		Codecs:    []CodecChoice{{media.CodecPCMU, 0}, {media.CodecPCMA, 8}},
		Ptime:     20 * time.Millisecond,
		Direction: SendOnly,
	}
	if !reflect.DeepEqual(*o, wantOffer) {
		t.Errorf("offer reads back as\n%+v\nwant\n%+v", *o, wantOffer)
	}
}

// TestSoftphoneRoundTrip runs both ends: the softphone offers, kefu answers,
// the softphone reads the answer.
func TestSoftphoneRoundTrip(t *testing.T) {
	phone := Local{Addr: netip.MustParseAddr("192.0.2.200"), Port: 4000, Codecs: []media.Codec{media.CodecPCMA}, SessionID: 1, SessionVersion: 1}
	for _, dir := range []Direction{SendRecv, SendOnly, RecvOnly, Inactive} {
		offer, err := ParseOffer(BuildOffer(phone, true, dir))
		if err != nil {
			t.Fatal(err)
		}
		kefu, body, err := Negotiate(offer, testLocal)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseAnswer(body)
		if err != nil {
			t.Fatal(err)
		}
		want := Answer{Codec: media.CodecPCMA, PT: 8, DTMFPT: OfferDTMFPT, Ptime: 20 * time.Millisecond,
			Direction: dir, Remote: netip.AddrPortFrom(testLocal.Addr, uint16(testLocal.Port)),
			Hold: kefu.Direction == SendOnly || kefu.Direction == Inactive}
		if got != want {
			t.Errorf("%v: phone reads\n%+v\nwant\n%+v", dir, got, want)
		}
		if kefu.Direction != dir.Reverse() || kefu.Remote != netip.AddrPortFrom(phone.Addr, 4000) {
			t.Errorf("%v: kefu answered %+v", dir, kefu)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	asteriskAnswer := crlf(`v=0
o=- 1780434600 1780434602 IN IP4 192.0.2.10
s=Asterisk
c=IN IP4 192.0.2.10
t=0 0
m=audio 17400 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=maxptime:150
a=sendrecv
`)
	got, err := ParseAnswer([]byte(asteriskAnswer))
	if err != nil {
		t.Fatal(err)
	}
	want := answer(media.CodecPCMA, 8, 101, 0, 20, SendRecv, "192.0.2.10:17400", false)
	if got != want {
		t.Errorf("answer\n got %+v\nwant %+v", got, want)
	}

	holding := strings.Replace(asteriskAnswer, "a=sendrecv", "a=recvonly", 1)
	if got, err := ParseAnswer([]byte(holding)); err != nil || got.Direction != SendOnly || got.Hold {
		t.Errorf("recvonly answer: %+v, %v; want us sendonly, not held", got, err)
	}

	for name, body := range map[string]string{
		"rejected audio": strings.Replace(asteriskAnswer, "m=audio 17400", "m=audio 0", 1),
		"G729 chosen":    strings.Replace(asteriskAnswer, "RTP/AVP 8 101", "RTP/AVP 18", 1),
	} {
		if _, err := ParseAnswer([]byte(body)); !errors.Is(err, ErrNoCommonCodec) {
			t.Errorf("%s: error %v, want ErrNoCommonCodec", name, err)
		}
	}
	if _, err := ParseAnswer([]byte("SIP/2.0 200 OK\r\n")); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: error %v, want ErrMalformed", err)
	}
}
