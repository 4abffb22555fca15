package sip

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
)

// ackWith is the caller's ACK of kefu's 200 OK carrying body ("" none).
func ackWith(t *testing.T, inv *sip.Request, ok *sip.Response, cseq int, body string) *sip.Request {
	t.Helper()
	return inDialogReq(t, inv, ok, "ACK", cseq, body)
}

// TestLateOffer: an Asterisk-style INVITE without SDP (Content-Length 0,
// Supported: timer, replaces; Allow with UPDATE) is answered with kefu's
// offer in the 200 (PCMU, PCMA, telephone-event; sendrecv) and the session
// timer's terms. No RTP goes out before the ACK; the answer in the ACK
// starts the media both ways and the flow.
func TestLateOffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		inv := pbxInvite(t, asteriskTimers("1800"), "")
		if len(inv.Body()) != 0 || hval(inv.GetHeader("Content-Length")) != "0" {
			t.Fatal("the test's INVITE has a body")
		}
		_, ok := u.answered(inv)
		checkHeaders(t, "200 OK", ok, map[string]string{"Session-Expires": "1800;refresher=uac", "Require": "timer", "Content-Type": "application/sdp"})
		offer := string(ok.Body())
		conn := u.ports.conn(0)
		for _, want := range []string{"m=audio " + strconv.Itoa(conn.local.Port) + " RTP/AVP 0 8 101\r\n", "a=rtpmap:101 telephone-event/8000", "a=sendrecv", "c=IN IP4 127.0.0.1"} {
			if !strings.Contains(offer, want) {
				t.Errorf("kefu's offer lacks %q:\n%s", want, offer)
			}
		}
		answered := time.Now()
		advance(time.Second)
		if n, _ := conn.sentBetween(answered, time.Now()); n != 0 {
			t.Errorf("kefu sent %d RTP packets before the answer", n)
		}
		if cs := u.a.Calls(); len(cs) != 1 || cs[0].State != "answered" || cs[0].Codec != "" {
			t.Errorf("ops see %+v before the answer, want one answered call without a codec", cs)
		}
		// The caller's answer: PCMA only, at another port.
		answer := strings.Replace(callerSDP("127.0.0.1", 40010, "sendrecv"), "RTP/AVP 0 8 101", "RTP/AVP 8 101", 1)
		u.a.onAck(ackWith(t, inv, ok, 1, answer), nil)
		acked := time.Now()
		stop := conn.stream(t, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40010}, make([]byte, 160))
		advance(time.Second)
		stop()
		n, to := conn.sentBetween(acked, time.Now())
		if n < 48 || to.Port() != 40010 {
			t.Errorf("%d RTP packets to %v in the second after the ACK, want 50 to port 40010", n, to)
		}
		if !conn.sentPayload(acked, bytes.Repeat([]byte{g711.Silence(media.CodecPCMA)}, 160)) {
			t.Error("kefu does not send the answer's PCMA (A-law silence)")
		}
		if cs := u.a.Calls(); len(cs) != 1 || cs[0].Codec != "PCMA" {
			t.Errorf("ops see %+v after the answer, want PCMA", cs)
		}
		if res := u.request(inDialogReq(t, inv, ok, "BYE", 2, "")); res.StatusCode != 200 {
			t.Errorf("BYE answered %d", res.StatusCode)
		}
		synctest.Wait()
		if got := counterValue(t, u.a.met.RTPRecv); got < 45 {
			t.Errorf("kefu received %v RTP packets from the caller, want 50", got)
		}
		if u.ended("caller_hangup") != 1 || u.ports.held() != 0 {
			t.Errorf("call not ended by the caller (%v), %d ports", u.ended("caller_hangup"), u.ports.held())
		}
	})
}

// TestLateOfferBadAnswer: an ACK without an answer, or with one that
// shares no codec, ends the call at once with a BYE whose Reason says why;
// no RTP was sent, and the port is freed.
func TestLateOfferBadAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, body, reason string
	}{
		{"no answer", "", `SIP;cause=400;text="No SDP answer in the ACK"`},
		{"G.729 only", strings.Replace(callerSDP("127.0.0.1", 40000, "sendrecv"), "RTP/AVP 0 8 101", "RTP/AVP 18", 1),
			`SIP;cause=488;text="No common codec in the SDP answer"`},
		{"malformed", "v=0\r\nm=audio\r\n", `SIP;cause=400;text="Malformed SDP answer"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := newUA(t, longCall)
				inv := pbxInvite(t, "", "")
				_, ok := u.answered(inv)
				u.a.onAck(ackWith(t, inv, ok, 1, tc.body), nil)
				acked := time.Now()
				bye, at := u.nextRequest(sip.BYE)
				if at != acked {
					t.Errorf("BYE %v after the ACK, want at once", at.Sub(acked))
				}
				checkBye(t, bye, inv, ok, 2)
				if r := hval(bye.GetHeader("Reason")); r != tc.reason {
					t.Errorf("BYE Reason %q, want %q", r, tc.reason)
				}
				synctest.Wait()
				if n, _ := u.ports.conn(0).sentBetween(time.Time{}, time.Now()); n != 0 {
					t.Errorf("kefu sent %d RTP packets", n)
				}
				if u.ended("bad_sdp_answer") != 1 || u.ports.held() != 0 || u.a.ActiveCalls() != 0 {
					t.Errorf("ended bad_sdp_answer %v, %d ports, %d calls", u.ended("bad_sdp_answer"), u.ports.held(), u.a.ActiveCalls())
				}
			})
		})
	}
}

// TestLateOfferNoAck: without an ACK the 200 with kefu's offer is sent
// again until 64·T1, then kefu hangs up; nothing was ever played.
func TestLateOfferNoAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		inv := pbxInvite(t, "", "")
		tx, ok := u.answered(inv)
		answered := time.Now()
		_, at := u.nextRequest(sip.BYE)
		if at.Sub(answered) != 64*sip.T1 {
			t.Errorf("BYE %v after the 200, want 64·T1", at.Sub(answered))
		}
		if rs := tx.responses(); len(rs) < 5 || string(rs[len(rs)-1].res.Body()) != string(ok.Body()) {
			t.Errorf("%d responses; the 200 with the offer not retransmitted", len(rs))
		}
		synctest.Wait()
		if u.ended("no_ack") != 1 || u.ports.held() != 0 {
			t.Errorf("ended no_ack %v, %d ports", u.ended("no_ack"), u.ports.held())
		}
	})
}

// TestReinviteWithoutOffer: a re-INVITE without SDP gets kefu's offer in
// its 200 (a new version, to the re-INVITE's transaction); another offer
// before the ACK gets 491; the answer in the ACK (sendonly: the caller
// holds) silences kefu.
func TestReinviteWithoutOffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		inv := invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		advance(time.Second)
		res := u.request(inDialogReq(t, inv, ok, "INVITE", 2, ""))
		if res.StatusCode != 200 || hval(res.GetHeader("CSeq")) != "2 INVITE" || !strings.Contains(string(res.Body()), "RTP/AVP 0 8 101") {
			t.Fatalf("re-INVITE without SDP answered %d CSeq %q:\n%s", res.StatusCode, hval(res.GetHeader("CSeq")), res.Body())
		}
		if strings.Contains(string(res.Body()), "o=kefu 1 1 ") || res.To().Value() != ok.To().Value() {
			t.Errorf("offer with the first version, or To %q", res.To().Value())
		}
		if r := u.request(inDialogReq(t, inv, ok, "INVITE", 3, callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))); r.StatusCode != 491 {
			t.Errorf("an offer before the ACK answered %d, want 491", r.StatusCode)
		}
		u.a.onAck(ackWith(t, inv, ok, 2, callerSDP("127.0.0.1", callerRTP.Port, "sendonly")), nil)
		synctest.Wait()
		acked := time.Now()
		advance(2 * time.Second)
		if n, _ := u.ports.conn(0).sentBetween(acked, time.Now()); n != 0 {
			t.Errorf("kefu sent %d RTP packets to a caller that holds", n)
		}
	})
}
