package sip

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
)

// pbxInvite is an INVITE as a PBX trunk sends it, with extra header lines
// and a body: an SDP offer, or "" for a late offer (Content-Length 0).
func pbxInvite(t *testing.T, hdrs, body string) *sip.Request {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return parseReq(t, "INVITE sip:hotline@127.0.0.1:5060 SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-pbx;rport\r\n"+
		"From: \"Caller\" <sip:13812345678@127.0.0.1:5070>;tag=caller\r\n"+
		"To: <sip:hotline@127.0.0.1:5060>\r\n"+
		"Call-ID: callstate-test\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:13812345678@127.0.0.1:5070>\r\n"+
		"Max-Forwards: 70\r\n"+hdrs+ct+
		"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
}

// asteriskTimers are the session-timer headers of Asterisk with
// timers=require and an interval, Allow with UPDATE.
func asteriskTimers(se string) string {
	return "Supported: 100rel, timer, replaces, norefersub\r\n" +
		"Require: timer\r\n" +
		"Session-Expires: " + se + "\r\n" +
		"Min-SE: 90\r\n" +
		"Allow: OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, PUBLISH, INVITE, ACK, BYE, CANCEL, UPDATE, PRACK, MESSAGE, REFER\r\n"
}

// longCall is a flow that keeps the call for an hour, with a media
// timeout longer than the tests (their callers send no RTP).
var longCall = testFlowYAML("0s", "1h", "1h")

// withHeader adds a header line to req.
func withHeader(req *sip.Request, name, value string) *sip.Request {
	req.AppendHeader(sip.NewHeader(name, value))
	return req
}

// checkHeaders compares headers of a message with want (name: value; ""
// for absent).
func checkHeaders(t *testing.T, what string, m interface{ GetHeader(string) sip.Header }, want map[string]string) {
	t.Helper()
	for name, w := range want {
		got := ""
		if h := m.GetHeader(name); h != nil {
			got = h.Value()
		}
		if got != w {
			t.Errorf("%s %s: %q, want %q", what, name, got, w)
		}
	}
}

// TestSessionTimerPeerRefreshes: Asterisk's terms (Require: timer,
// Session-Expires 90, refresher=uac) are taken in the 200; its refreshes,
// by re-INVITE and by UPDATE, keep the call; when they stop, kefu hangs up
// at the expiry minus a third of the interval, with a Reason.
func TestSessionTimerPeerRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		inv := pbxInvite(t, asteriskTimers("90;refresher=uac"), callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))
		_, ok := u.answered(inv)
		checkHeaders(t, "200 OK", ok, map[string]string{"Session-Expires": "90;refresher=uac", "Require": "timer", "Supported": "timer"})
		if allow := hval(ok.GetHeader("Allow")); !strings.Contains(allow, "UPDATE") || strings.Contains(allow, "PRACK") {
			t.Errorf("200 OK Allow %q, want UPDATE and no PRACK", allow)
		}
		u.ack(inv, ok)
		answered := time.Now()

		advance(40 * time.Second)
		re := withHeader(inDialogReq(t, inv, ok, "INVITE", 2, callerSDP("127.0.0.1", callerRTP.Port, "sendrecv")), "Session-Expires", "90;refresher=uac")
		withHeader(re, "Supported", "timer")
		res := u.request(re)
		if res.StatusCode != 200 {
			t.Fatalf("refresh re-INVITE answered %d", res.StatusCode)
		}
		checkHeaders(t, "200 to the re-INVITE", res, map[string]string{"Session-Expires": "90;refresher=uac", "Require": "timer", "CSeq": "2 INVITE"})
		u.ack(inv, ok)

		advance(40 * time.Second)
		up := withHeader(inDialogReq(t, inv, ok, "UPDATE", 3, ""), "Session-Expires", "90;refresher=uac")
		withHeader(up, "Supported", "timer")
		res = u.request(up)
		if res.StatusCode != 200 || len(res.Body()) != 0 {
			t.Fatalf("refresh UPDATE answered %d with %d bytes", res.StatusCode, len(res.Body()))
		}
		checkHeaders(t, "200 to the UPDATE", res, map[string]string{"Session-Expires": "90;refresher=uac", "Require": "timer", "CSeq": "3 UPDATE"})
		if tag, _ := res.To().Params.Get("tag"); res.Contact() == nil || tag == "" {
			t.Error("200 to the UPDATE without Contact or To tag")
		}
		u.noRequest()

		bye, at := u.nextRequest(sip.BYE)
		if d := at.Sub(answered); d != 80*time.Second+60*time.Second {
			t.Errorf("BYE %v after the answer, want 140 s (the last refresh at 80 s, then 90 s - 30 s)", d)
		}
		if r := hval(bye.GetHeader("Reason")); r != `SIP;cause=408;text="Session timer expired"` {
			t.Errorf("BYE Reason %q", r)
		}
		synctest.Wait()
		if u.ended("session_expired") != 1 || u.ports.held() != 0 {
			t.Errorf("call not ended session_expired (%v), %d ports held", u.ended("session_expired"), u.ports.held())
		}
	})
}

// hval is the value of a header that may be absent.
func hval(h sip.Header) string {
	if h == nil {
		return ""
	}
	return h.Value()
}

// TestSessionTimerTooSmall: an interval under 90 s gets 422 with Min-SE
// 90 and leaves nothing behind; the retry with 90 s is answered.
func TestSessionTimerTooSmall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		inv := pbxInvite(t, asteriskTimers("60"), callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))
		tx := newRecTx(inv)
		u.a.onInvite(inv, tx)
		rs := tx.Result()
		if len(rs) != 1 || rs[0].StatusCode != 422 {
			t.Fatalf("INVITE with Session-Expires 60 answered %v, want [422]", codes(rs))
		}
		checkHeaders(t, "422", rs[0], map[string]string{"Min-SE": "90"})
		if u.a.ActiveCalls() != 0 || u.ports.held() != 0 {
			t.Errorf("after the 422: %d calls, %d ports", u.a.ActiveCalls(), u.ports.held())
		}
		inv = pbxInvite(t, asteriskTimers("90"), callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))
		inv.CSeq().SeqNo = 2
		_, ok := u.answered(inv)
		checkHeaders(t, "200 OK", ok, map[string]string{"Session-Expires": "90;refresher=uac", "Require": "timer"})
		u.ack(inv, ok)

		// A refresh asking for less than Min-SE is refused the same way,
		// and is no refresh: the session expires on time.
		up := withHeader(inDialogReq(t, inv, ok, "UPDATE", 3, ""), "Session-Expires", "30")
		if res := u.request(up); res.StatusCode != 422 || hval(res.GetHeader("Min-SE")) != "90" {
			t.Errorf("UPDATE with Session-Expires 30 answered %d Min-SE %q", res.StatusCode, hval(res.GetHeader("Min-SE")))
		}
		answered := time.Now()
		if _, at := u.nextRequest(sip.BYE); at.Sub(answered) != 60*time.Second {
			t.Errorf("BYE %v after the answer, want 60 s", at.Sub(answered))
		}
	})
}

// timerReply answers kefu's requests for the timer tests: refreshes with
// the given responses in turn (each a status and headers), BYE 200, ACK
// nothing.
func timerReply(answers ...func(*sip.Request) *sip.Response) (func(*sip.Request) *sip.Response, *atomic.Int32) {
	var n atomic.Int32
	return func(req *sip.Request) *sip.Response {
		switch {
		case req.IsAck():
			return nil
		case req.Method == sip.INVITE || req.Method == sip.UPDATE:
			i := int(n.Add(1)) - 1
			if i < len(answers) {
				return answers[i](req)
			}
		}
		return sip.NewResponseFromRequest(req, 200, "OK", nil)
	}, &n
}

// respond builds a response to a request of kefu's with header lines.
func respond(code int, body string, hdrs ...string) func(*sip.Request) *sip.Response {
	return func(req *sip.Request) *sip.Response {
		res := sip.NewResponseFromRequest(req, code, "Whatever", []byte(body))
		for i := 0; i+1 < len(hdrs); i += 2 {
			res.AppendHeader(sip.NewHeader(hdrs[i], hdrs[i+1]))
		}
		if body != "" {
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		}
		return res
	}
}

// TestSessionTimerKefuRefreshesByUpdate: asked to refresh (refresher=uas)
// by a peer that allows UPDATE, kefu sends a bodiless UPDATE at half the
// interval, with its terms; a 481 means the dialog is gone: kefu ends the
// call.
func TestSessionTimerKefuRefreshesByUpdate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		ok120 := respond(200, "", "Session-Expires", "120;refresher=uac", "Require", "timer")
		u.reply, _ = timerReply(ok120, ok120, respond(481, ""))
		inv := pbxInvite(t, asteriskTimers("120;refresher=uas"), callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))
		_, ok := u.answered(inv)
		checkHeaders(t, "200 OK", ok, map[string]string{"Session-Expires": "120;refresher=uas", "Require": "timer"})
		u.ack(inv, ok)
		answered := time.Now()
		for i, want := range []time.Duration{60 * time.Second, 120 * time.Second, 180 * time.Second} {
			up, at := u.nextRequest(sip.UPDATE)
			if d := at.Sub(answered); d != want {
				t.Errorf("UPDATE %d %v after the answer, want %v", i+1, d, want)
			}
			checkHeaders(t, "UPDATE", up, map[string]string{"Session-Expires": "120;refresher=uac", "Min-SE": "90",
				"Supported": "timer", "CSeq": strconv.Itoa(2+i) + " UPDATE", "Content-Type": ""})
			if len(up.Body()) != 0 || up.Contact() == nil || up.Recipient.String() != inv.Contact().Address.String() {
				t.Errorf("UPDATE to %s with %d bytes, Contact %v", up.Recipient.String(), len(up.Body()), up.Contact())
			}
		}
		bye, _ := u.nextRequest(sip.BYE)
		checkBye(t, bye, inv, ok, 5)
		synctest.Wait()
		if u.ended("refresh_failed") != 1 {
			t.Error("call not ended refresh_failed after the 481")
		}
	})
}

// TestSessionTimerKefuRefreshesByReinvite: a peer without UPDATE in Allow
// gets re-INVITEs offering kefu's last SDP unchanged; kefu ACKs the 200; a
// 422 makes it retry at once with the interval the 422 names.
func TestSessionTimerKefuRefreshesByReinvite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		answer := callerSDP("127.0.0.1", callerRTP.Port, "sendrecv")
		u.reply, _ = timerReply(
			respond(200, answer, "Session-Expires", "90;refresher=uac"),
			respond(422, "", "Min-SE", "300"),
			respond(200, answer, "Session-Expires", "300;refresher=uac"),
		)
		inv := pbxInvite(t, "Supported: timer\r\nSession-Expires: 90;refresher=uas\r\nAllow: INVITE, ACK, BYE, CANCEL\r\n",
			callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		answered := time.Now()

		re, at := u.nextRequest(sip.INVITE)
		if d := at.Sub(answered); d != 45*time.Second {
			t.Errorf("re-INVITE %v after the answer, want 45 s", d)
		}
		if string(re.Body()) != string(ok.Body()) || hval(re.GetHeader("Content-Type")) != "application/sdp" {
			t.Errorf("refresh re-INVITE offers\n%s\nwant kefu's SDP unchanged:\n%s", re.Body(), ok.Body())
		}
		checkHeaders(t, "re-INVITE", re, map[string]string{"Session-Expires": "90;refresher=uac", "CSeq": "2 INVITE"})
		ack, _ := u.nextRequest(sip.ACK)
		if cs := ack.CSeq(); cs.SeqNo != 2 || ack.To().Value() != inv.From().Value() || ack.Recipient.String() != re.Recipient.String() {
			t.Errorf("ACK CSeq %s To %s to %s", cs.Value(), ack.To().Value(), ack.Recipient.String())
		}

		re, at = u.nextRequest(sip.INVITE)
		if d := at.Sub(answered); d != 90*time.Second {
			t.Errorf("second re-INVITE %v after the answer, want 90 s", d)
		}
		re2, at2 := u.nextRequest(sip.INVITE)
		if at2 != at || re2.CSeq().SeqNo != re.CSeq().SeqNo+1 {
			t.Errorf("after the 422: re-INVITE CSeq %d %v later", re2.CSeq().SeqNo, at2.Sub(at))
		}
		checkHeaders(t, "re-INVITE after the 422", re2, map[string]string{"Session-Expires": "300;refresher=uac", "Min-SE": "300"})
		u.nextRequest(sip.ACK)
		if next, at3 := u.nextRequest(sip.INVITE); at3.Sub(at2) != 150*time.Second {
			t.Errorf("next re-INVITE (CSeq %d) %v later, want 150 s", next.CSeq().SeqNo, at3.Sub(at2))
		}
	})
}

// TestSessionTimerUpdateRefused: a peer that lists UPDATE but refuses it
// (405) is refreshed by re-INVITE from then on.
func TestSessionTimerUpdateRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		u.reply, _ = timerReply(respond(405, "", "Allow", "INVITE, ACK, BYE"),
			respond(200, callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"), "Session-Expires", "90;refresher=uac"))
		inv := pbxInvite(t, asteriskTimers("90;refresher=uas"), callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		_, at := u.nextRequest(sip.UPDATE)
		if _, at2 := u.nextRequest(sip.INVITE); at2 != at {
			t.Errorf("re-INVITE %v after the refused UPDATE, want at once", at2.Sub(at))
		}
		u.nextRequest(sip.ACK)
		if _, at3 := u.nextRequest(sip.INVITE); at3.Sub(at) != 45*time.Second {
			t.Errorf("next refresh %v later, want a re-INVITE 45 s later", at3.Sub(at))
		}
	})
}

// TestSessionTimerGlare: a re-INVITE from the peer while kefu's refresh
// re-INVITE waits for its answer gets 491.
func TestSessionTimerGlare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		u.reply, _ = timerReply(func(*sip.Request) *sip.Response { return nil }) // never answered
		inv := pbxInvite(t, "Session-Expires: 90\r\n", callerSDP("127.0.0.1", callerRTP.Port, "sendrecv"))
		_, ok := u.answered(inv)
		checkHeaders(t, "200 OK", ok, map[string]string{"Session-Expires": "90;refresher=uas", "Require": ""})
		u.ack(inv, ok)
		u.nextRequest(sip.INVITE)
		synctest.Wait()
		if res := u.request(inDialogReq(t, inv, ok, "INVITE", 2, callerSDP("127.0.0.1", callerRTP.Port, "sendonly"))); res.StatusCode != 491 {
			t.Errorf("re-INVITE during kefu's answered %d, want 491", res.StatusCode)
		}
		// An UPDATE without an offer is no glare.
		if res := u.request(inDialogReq(t, inv, ok, "UPDATE", 3, "")); res.StatusCode != 200 {
			t.Errorf("UPDATE during kefu's re-INVITE answered %d, want 200", res.StatusCode)
		}
	})
}

// TestOptionsSupported: OPTIONS say kefu supports timer (and not 100rel)
// and allows UPDATE.
func TestOptionsSupported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		req := parseReq(t, "OPTIONS sip:hotline@127.0.0.1:5060 SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-opt\r\n"+
			"From: <sip:pbx@127.0.0.1>;tag=p\r\nTo: <sip:hotline@127.0.0.1>\r\nCall-ID: opt\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
		tx := newRecTx(req)
		u.a.onOptions(req, tx)
		rs := tx.Result()
		if len(rs) != 1 || rs[0].StatusCode != 200 {
			t.Fatalf("OPTIONS answered %v", codes(rs))
		}
		checkHeaders(t, "OPTIONS 200", rs[0], map[string]string{"Supported": "timer", "Allow": Allowed})
	})
}
