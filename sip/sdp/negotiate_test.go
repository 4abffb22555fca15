package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	pionsdp "github.com/pion/sdp/v3"

	"github.com/kefu-hotline/kefu/media"
)

var testLocal = Local{
	Addr:           netip.MustParseAddr("203.0.113.100"),
	Port:           20000,
	SessionID:      424242,
	SessionVersion: 7,
	Username:       "kefu",
}

func TestNegotiate(t *testing.T) {
	pcmaOnly := func(l *Local) { l.Codecs = []media.Codec{media.CodecPCMA} }
	pcmaFirst := func(l *Local) { l.Codecs = []media.Codec{media.CodecPCMA, media.CodecPCMU} }
	tests := []struct {
		name    string
		body    string
		local   func(*Local)
		want    Answer
		streams []string // "media port" of each answer m= line
	}{
		{"asterisk", crlf(asteriskOffer), nil,
			answer(media.CodecPCMU, 0, 101, 0, 20, SendRecv, "192.0.2.10:17372", false), []string{"audio 20000"}},
		{"asterisk LF only", asteriskOffer, nil,
			answer(media.CodecPCMU, 0, 101, 0, 20, SendRecv, "192.0.2.10:17372", false), []string{"audio 20000"}},
		{"asterisk no final newline", strings.TrimSuffix(crlf(asteriskOffer), "\r\n"), nil,
			answer(media.CodecPCMU, 0, 101, 0, 20, SendRecv, "192.0.2.10:17372", false), []string{"audio 20000"}},
		{"asterisk we allow PCMA only", crlf(asteriskOffer), pcmaOnly,
			answer(media.CodecPCMA, 8, 101, 0, 20, SendRecv, "192.0.2.10:17372", false), []string{"audio 20000"}},
		{"asterisk caller preference beats ours", crlf(asteriskOffer), pcmaFirst,
			answer(media.CodecPCMU, 0, 101, 0, 20, SendRecv, "192.0.2.10:17372", false), []string{"audio 20000"}},
		{"freeswitch", crlf(freeswitchOffer), nil,
			answer(media.CodecPCMU, 0, 101, 13, 20, SendRecv, "198.51.100.20:24580", false), []string{"audio 20000"}},
		{"linphone", crlf(linphoneOffer), nil,
			answer(media.CodecPCMU, 0, 100, 0, 20, SendRecv, "203.0.113.5:7078", false), []string{"audio 20000", "video 0"}},
		{"baresip", crlf(baresipOffer), nil,
			answer(media.CodecPCMU, 0, 101, 0, 20, SendRecv, "192.168.1.40:10000", false), []string{"audio 20000"}},
		{"cisco", crlf(ciscoOffer), nil,
			answer(media.CodecPCMA, 8, 101, 13, 30, SendRecv, "172.16.5.2:16434", false), []string{"audio 20000"}},
		{"hold sendonly", crlf(holdSendonlyOffer), nil,
			answer(media.CodecPCMU, 0, 101, 0, 20, RecvOnly, "192.0.2.10:17372", true), []string{"audio 20000"}},
		{"hold 0.0.0.0", crlf(holdZeroAddrOffer), nil,
			answer(media.CodecPCMU, 0, 0, 0, 20, RecvOnly, "0.0.0.0:3456", true), []string{"audio 20000"}},
		{"hold 0.0.0.0 inactive", crlf(holdZeroInactiveOffer), nil,
			answer(media.CodecPCMU, 0, 0, 0, 20, Inactive, "0.0.0.0:3456", true), []string{"audio 20000"}},
		{"inactive", crlf(inactiveOffer), nil,
			answer(media.CodecPCMA, 8, 0, 0, 20, Inactive, "198.51.100.7:3456", true), []string{"audio 20000"}},
		{"session-level sendonly", crlf(sessionSendonlyOffer), nil,
			answer(media.CodecPCMA, 8, 0, 0, 20, RecvOnly, "192.0.2.99:40000", true), []string{"audio 20000"}},
		{"recvonly", crlf(recvonlyOffer), nil,
			answer(media.CodecPCMU, 0, 0, 0, 20, SendOnly, "192.0.2.99:40000", false), []string{"audio 20000"}},
		{"ipv6 dynamic PCMA", crlf(ipv6Offer), nil,
			answer(media.CodecPCMA, 96, 101, 0, 10, SendRecv, "[2001:db8::5]:5004", false), []string{"audio 20000"}},
		{"SRTP stream refused, RTP taken", crlf(srtpFirstOffer), nil,
			answer(media.CodecPCMU, 0, 101, 0, 20, SendRecv, "192.0.2.50:30002", false), []string{"audio 0", "audio 20000"}},
		{"ptime 25 not honoured", crlf(oddPtimeOffer), nil,
			answer(media.CodecPCMU, 0, 0, 0, 20, SendRecv, "192.0.2.60:6000", false), []string{"audio 20000"}},
		{"maxptime 10", crlf(smallMaxptimeOffer), nil,
			answer(media.CodecPCMA, 8, 0, 0, 10, SendRecv, "192.0.2.60:6000", false), []string{"audio 20000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local := testLocal
			if tt.local != nil {
				tt.local(&local)
			}
			offer, err := ParseOffer([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseOffer: %v", err)
			}
			got, body, err := Negotiate(offer, local)
			if err != nil {
				t.Fatalf("Negotiate: %v", err)
			}
			if got != tt.want {
				t.Errorf("answer\n got %+v\nwant %+v", got, tt.want)
			}
			checkAnswerText(t, body, local, got, tt.streams)
		})
	}
}

// answer builds an expected Answer; ptime is in milliseconds.
func answer(c media.Codec, pt, dtmf, cn uint8, ptime int, dir Direction, remote string, hold bool) Answer {
	return Answer{Codec: c, PT: pt, DTMFPT: dtmf, CNPT: cn, Ptime: time.Duration(ptime) * time.Millisecond,
		Direction: dir, Remote: netip.MustParseAddrPort(remote), Hold: hold}
}

// checkAnswerText reads an answer body back, with our parser and with
// pion's strict one, and checks it says what a says.
func checkAnswerText(t *testing.T, body []byte, local Local, a Answer, streams []string) {
	t.Helper()
	if !bytes.HasSuffix(body, []byte("\r\n")) || bytes.Count(body, []byte("\n")) != bytes.Count(body, []byte("\r\n")) {
		t.Errorf("answer lines do not all end in CRLF:\n%q", body)
	}
	var strict pionsdp.SessionDescription
	if err := strict.Unmarshal(body); err != nil {
		t.Errorf("pion/sdp rejects the answer: %v\n%s", err, body)
	}
	back, err := ParseOffer(body)
	if err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, body)
	}
	wantOrigin := Origin{Username: "kefu", SessionID: local.SessionID, SessionVersion: local.SessionVersion, Address: local.Addr.String()}
	if back.Origin != wantOrigin {
		t.Errorf("o= %+v, want %+v", back.Origin, wantOrigin)
	}
	var got []string
	for _, s := range back.Streams {
		got = append(got, fmt.Sprintf("%s %d", s.Media, s.Port))
	}
	if !slices.Equal(got, streams) {
		t.Errorf("m= lines %q, want %q\n%s", got, streams, body)
	}
	if back.Audio < 0 {
		t.Fatalf("answer has no audio stream:\n%s", body)
	}
	wantFormats := []string{fmt.Sprint(a.PT)}
	if a.DTMFPT != 0 {
		wantFormats = append(wantFormats, fmt.Sprint(a.DTMFPT))
		if !bytes.Contains(body, fmt.Appendf(nil, "a=fmtp:%d 0-15\r\n", a.DTMFPT)) {
			t.Errorf("no fmtp for telephone-event:\n%s", body)
		}
	}
	if a.CNPT != 0 {
		wantFormats = append(wantFormats, fmt.Sprint(a.CNPT))
	}
	if f := back.Streams[back.Audio].Formats; !slices.Equal(f, wantFormats) {
		t.Errorf("audio formats %q, want %q", f, wantFormats)
	}
	if want := []CodecChoice{{a.Codec, a.PT}}; !slices.Equal(back.Codecs, want) {
		t.Errorf("answer codecs %v, want %v", back.Codecs, want)
	}
	if back.Addr != local.Addr || back.Port != local.Port {
		t.Errorf("answer address %v:%d, want %v:%d", back.Addr, back.Port, local.Addr, local.Port)
	}
	if back.DTMFPT != a.DTMFPT || back.CNPT != a.CNPT || back.Ptime != a.Ptime || back.Direction != a.Direction {
		t.Errorf("answer reads back as dtmf %d cn %d ptime %v %v, want dtmf %d cn %d ptime %v %v",
			back.DTMFPT, back.CNPT, back.Ptime, back.Direction, a.DTMFPT, a.CNPT, a.Ptime, a.Direction)
	}
}

func TestNegotiateAnswerText(t *testing.T) {
	tests := []struct {
		name, offer, want string
	}{
		{"asterisk", asteriskOffer, `v=0
o=kefu 424242 7 IN IP4 203.0.113.100
s=kefu
c=IN IP4 203.0.113.100
t=0 0
m=audio 20000 RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
`},
		{"linphone", linphoneOffer, `v=0
o=kefu 424242 7 IN IP4 203.0.113.100
s=kefu
c=IN IP4 203.0.113.100
t=0 0
m=audio 20000 RTP/AVP 0 100
a=rtpmap:0 PCMU/8000
a=rtpmap:100 telephone-event/8000
a=fmtp:100 0-15
a=ptime:20
a=sendrecv
m=video 0 RTP/AVP 96
`},
		{"cisco", ciscoOffer, `v=0
o=kefu 424242 7 IN IP4 203.0.113.100
s=kefu
c=IN IP4 203.0.113.100
t=0 0
m=audio 20000 RTP/AVP 8 101 13
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=rtpmap:13 CN/8000
a=ptime:30
a=sendrecv
`},
		{"hold 0.0.0.0", holdZeroAddrOffer, `v=0
o=kefu 424242 7 IN IP4 203.0.113.100
s=kefu
c=IN IP4 203.0.113.100
t=0 0
m=audio 20000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=ptime:20
a=recvonly
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := ParseOffer([]byte(tt.offer))
			if err != nil {
				t.Fatal(err)
			}
			_, body, err := Negotiate(offer, testLocal)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != crlf(tt.want) {
				t.Errorf("answer\n%s\nwant\n%s", body, crlf(tt.want))
			}
		})
	}
}

func TestNegotiateErrors(t *testing.T) {
	srtpOnly := strings.Join(strings.SplitAfter(srtpFirstOffer, "\n")[:8], "")
	tests := []struct {
		name string
		body string
		want error
		msg  string // part of the error text
	}{
		{"G729 only", crlf(g729Offer), ErrNoCommonCodec, `offered formats "18 101"`},
		{"video only", crlf(videoOnlyOffer), ErrNoCommonCodec, "no enabled RTP audio"},
		{"no m= line", crlf(noMediaOffer), ErrNoCommonCodec, "no enabled RTP audio"},
		{"SRTP only, SRTP off", crlf(srtpOnly), ErrNoCommonCodec, "RTP/SAVP offered, SRTP is off here"},
		{"garbage text", "hello, this is not SDP\r\n", ErrMalformed, "line 1"},
		{"html", "<html><body>oops</body></html>", ErrMalformed, "not a type=value line"},
		{"empty", "", ErrMalformed, "empty body"},
		{"blank lines only", "\r\n\r\n", ErrMalformed, "empty body"},
		{"no v= first", "o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n", ErrMalformed, "want v=0 first"},
		{"upper-case type", "V=0\r\n", ErrMalformed, "not a type=value line"},
		{"port out of range", crlf(badPortOffer), ErrMalformed, `line 6: m= port "70000"`},
		{"port not a number", crlf(wordPortOffer), ErrMalformed, `m= port "rtp"`},
		{"m= without formats", strings.Replace(crlf(asteriskOffer), "17372 RTP/AVP 0 8 101", "17372 RTP/AVP", 1), ErrMalformed, "no formats"},
		{"no c= for audio", crlf(noConnectionOffer), ErrMalformed, "no c= line"},
		{"host name in c=", crlf(hostConnectionOffer), ErrMalformed, "not an IP address"},
		{"IP4 type with IPv6 address", strings.Replace(crlf(asteriskOffer), "c=IN IP4 192.0.2.10", "c=IN IP4 2001:db8::1", 1), ErrMalformed, "not of type"},
		{"no o= line", crlf(noOriginOffer), ErrMalformed, "no o= line"},
		{"o= id not a number", strings.Replace(crlf(asteriskOffer), "1780434539 1780434539", "abc 1", 1), ErrMalformed, "session id"},
		{"too large", crlf(asteriskOffer) + strings.Repeat("a=x\r\n", MaxBodySize/5), ErrMalformed, "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, err := ParseOffer([]byte(tt.body))
			if err == nil {
				_, _, err = Negotiate(offer, testLocal)
			} else if offer != nil {
				t.Errorf("ParseOffer returned an offer with error %v", err)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			t.Log(err)
		})
	}
}

func TestNegotiateBadLocal(t *testing.T) {
	offer, err := ParseOffer([]byte(asteriskOffer))
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]Local{
		"no address": {Port: 20000},
		"port 0":     {Addr: testLocal.Addr},
		"port 70000": {Addr: testLocal.Addr, Port: 70000},
	} {
		if _, _, err := Negotiate(offer, l); err == nil || errors.Is(err, ErrNoCommonCodec) {
			t.Errorf("%s: error %v, want a local configuration error", name, err)
		}
	}
	if _, _, err := Negotiate(nil, testLocal); err == nil {
		t.Error("nil offer: no error")
	}
}

func TestChoosePtime(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct{ ptime, maxptime, want time.Duration }{
		{0, 0, ms(20)},
		{ms(10), 0, ms(10)},
		{ms(30), 0, ms(30)},
		{ms(60), 0, ms(60)},
		{ms(70), 0, ms(20)},
		{ms(5), 0, ms(20)},
		{ms(25), 0, ms(20)},
		{ms(20) + 500*time.Microsecond, 0, ms(20)},
		{ms(20), ms(150), ms(20)},
		{ms(40), ms(30), ms(30)},
		{0, ms(10), ms(10)},
		{0, ms(15), ms(10)},
		{0, ms(5), ms(20)},
	}
	for _, tt := range tests {
		if got := choosePtime(tt.ptime, tt.maxptime); got != tt.want {
			t.Errorf("choosePtime(%v, %v) = %v, want %v", tt.ptime, tt.maxptime, got, tt.want)
		}
	}
}

func TestDirection(t *testing.T) {
	tests := []struct {
		d               Direction
		name            string
		reverse         Direction
		sends, receives bool
		withoutSend     Direction
	}{
		{SendRecv, "sendrecv", SendRecv, true, true, RecvOnly},
		{SendOnly, "sendonly", RecvOnly, true, false, Inactive},
		{RecvOnly, "recvonly", SendOnly, false, true, RecvOnly},
		{Inactive, "inactive", Inactive, false, false, Inactive},
	}
	for _, tt := range tests {
		if tt.d.String() != tt.name || tt.d.Reverse() != tt.reverse || tt.d.Sends() != tt.sends ||
			tt.d.Receives() != tt.receives || tt.d.withoutSend() != tt.withoutSend {
			t.Errorf("%d: got %s reverse %s sends %v receives %v withoutSend %s", tt.d, tt.d, tt.d.Reverse(),
				tt.d.Sends(), tt.d.Receives(), tt.d.withoutSend())
		}
		if d, ok := directionOf(tt.name); !ok || d != tt.d {
			t.Errorf("directionOf(%q) = %v, %v", tt.name, d, ok)
		}
	}
	if got := Direction(9).String(); got != "direction(9)" {
		t.Errorf("Direction(9) = %q", got)
	}
}
