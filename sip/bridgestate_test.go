package sip

import (
	"net"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// bridgeFlowYAML transfers every call to the desk at once; a failed
// transfer waits for the caller.
const bridgeFlowYAML = `answer_delay: 500ms
media_timeout: 20s
destinations:
  desk: "sip:8001@127.0.0.1:5090"
routes:
  - to: "*"
    flow: test
flows:
  test:
    steps:
      - name: answer
        answer: {}
      - name: transfer
        transfer: {to: desk, on_fail: wait}
      - name: wait
        hangup: {wait: 1h}
        exception: a test line that only waits for the caller
`

// deskRTP is where the transfer destination's RTP comes from.
var deskRTP = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41000}

// deskReq is a request of the transfer destination's in the dialog of
// kefu's INVITE inv, which it answered with To tag desktag.
func deskReq(t *testing.T, inv *sip.Request, method string, cseq int, body string) *sip.Request {
	t.Helper()
	var ct string
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return parseReq(t, method+" "+inv.Contact().Address.String()+" SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-desk"+strconv.Itoa(cseq)+";rport\r\n"+
		"From: <sip:8001@127.0.0.1:5090>;tag=desktag\r\n"+
		"To: "+inv.From().Value()+"\r\n"+
		"Call-ID: "+inv.CallID().Value()+"\r\n"+
		"CSeq: "+strconv.Itoa(cseq)+" "+method+"\r\n"+
		"Contact: <sip:8001@127.0.0.1:5090>\r\n"+
		"Max-Forwards: 70\r\n"+ct+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// TestBridgeCall runs a bridged transfer in virtual time: the caller's side
// refuses the REFER, kefu calls the desk from a port of its own, each
// side's audio reaches the other, the desk's hold re-INVITE is answered
// with the mirrored direction and mutes kefu's RTP to the desk only, and
// the desk's BYE ends both calls and frees both ports.
func TestBridgeCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, bridgeFlowYAML)
		u.reply = func(req *sip.Request) *sip.Response {
			switch req.Method {
			case sip.ACK:
				return nil
			case sip.REFER:
				return sip.NewResponseFromRequest(req, 501, "Not Implemented", nil)
			case sip.INVITE:
				body := callerSDP(deskRTP.IP.String(), deskRTP.Port, "sendrecv")
				res := sip.NewResponseFromRequest(req, 200, "OK", []byte(body))
				res.To().Params.Add("tag", "desktag")
				res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "8001", Host: "127.0.0.1", Port: 5090}})
				res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				return res
			}
			return sip.NewResponseFromRequest(req, 200, "OK", nil)
		}
		inv := invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		u.nextRequest(sip.REFER)
		out, _ := u.nextRequest(sip.INVITE)
		u.nextRequest(sip.ACK)
		synctest.Wait() // the bridge is up
		offer, err := sdp.ParseOffer(out.Body())
		if err != nil {
			t.Fatal(err)
		}
		caller, desk := u.ports.conn(0), u.ports.conn(1)
		if offer.Port != desk.local.Port || offer.Codecs[0].Codec != media.CodecPCMU {
			t.Errorf("INVITE to the desk offers %v on port %d, want PCMU first on %d", offer.Codecs, offer.Port, desk.local.Port)
		}

		// Each side's audio reaches the other.
		fromDesk, fromCaller := encoded(media.CodecPCMU, 4000), encoded(media.CodecPCMU, -2500)
		start := time.Now()
		stopCaller := caller.stream(t, callerRTP, fromCaller) // the caller's phone sends all along
		desk.deliver(deskRTP, 5, fromDesk)
		advance(200 * time.Millisecond)
		if !caller.sentPayload(start, fromDesk) {
			t.Error("the desk's audio did not reach the caller")
		}
		if !desk.sentPayload(start, fromCaller) {
			t.Error("the caller's audio did not reach the desk")
		}

		// The desk holds: kefu stops sending to it, not to the caller.
		res := u.request(deskReq(t, out, "INVITE", 2, callerSDP(deskRTP.IP.String(), deskRTP.Port, "sendonly")))
		if res.StatusCode != 200 || direction(res.Body()) != "recvonly" {
			t.Fatalf("the desk's hold answered %d %s, want 200 recvonly", res.StatusCode, direction(res.Body()))
		}
		held := time.Now()
		advance(30 * time.Second) // longer than the media timeout: held, no RTP expected
		if u.a.ActiveCalls() != 1 || len(u.a.legs) != 1 {
			t.Fatal("the bridge ended while the desk held")
		}
		if n, _ := desk.sentBetween(held, time.Now()); n != 0 {
			t.Errorf("kefu sent the desk %d packets while it held, want none", n)
		}
		if n, _ := caller.sentBetween(held, time.Now()); n < 1400 {
			t.Errorf("kefu sent the caller %d packets while the desk held, want 1500", n)
		}
		res = u.request(deskReq(t, out, "INVITE", 3, callerSDP(deskRTP.IP.String(), deskRTP.Port, "sendrecv")))
		if res.StatusCode != 200 || direction(res.Body()) != "sendrecv" {
			t.Fatalf("the desk's unhold answered %d %s, want 200 sendrecv", res.StatusCode, direction(res.Body()))
		}
		unheld := time.Now()
		desk.deliver(deskRTP, 5, fromDesk)
		advance(time.Second)
		if n, to := desk.sentBetween(unheld, time.Now()); n < 48 || to.String() != deskRTP.String() {
			t.Errorf("kefu sent %d packets to %v in the second after unhold, want 50 to the desk", n, to)
		}

		// The desk hangs up: kefu answers, hangs up the caller, and frees
		// both ports.
		if res := u.request(deskReq(t, out, "BYE", 4, "")); res.StatusCode != 200 {
			t.Errorf("the desk's BYE answered %d", res.StatusCode)
		}
		bye, _ := u.nextRequest(sip.BYE)
		checkBye(t, bye, inv, ok, 3) // after the REFER's 2
		stopCaller()
		synctest.Wait()
		if u.a.ActiveCalls() != 0 || u.ports.held() != 0 || u.ended("transferred") != 1 || len(u.a.legs) != 0 {
			t.Errorf("after the bridge: %d calls, %d RTP ports, %d legs, %v ended transferred", u.a.ActiveCalls(), u.ports.held(), len(u.a.legs), u.ended("transferred"))
		}
		if res := u.request(deskReq(t, out, "BYE", 4, "")); res.StatusCode != 481 {
			t.Errorf("a BYE after the bridge answered %d, want 481", res.StatusCode)
		}
	})
}
