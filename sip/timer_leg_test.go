package sip

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// nopHandler takes a leg's audio and drops it.
type nopHandler struct{}

func (nopHandler) Audio([]int16)         {}
func (nopHandler) ComfortNoise(uint8)    {}
func (nopHandler) Silence(time.Duration) {}
func (nopHandler) Digit(rune)            {}

// timerLeg dials a leg whose far end answers with the given header pairs
// (and answers kefu's UPDATEs with upd, BYE 200), connects it, and serves
// it as an owner loop does; ended receives why the loop ended.
func timerLeg(t *testing.T, u *ua, upd func(*sip.Request) *sip.Response, hdrs ...string) (l *leg, invite *sip.Request, ended chan string) {
	t.Helper()
	u.reply = func(req *sip.Request) *sip.Response {
		switch req.Method {
		case sip.ACK:
			return nil
		case sip.INVITE:
			body := sdp.BuildOffer(sdp.Local{Addr: callerRTP.AddrPort().Addr(), Port: callerRTP.Port, Codecs: []media.Codec{media.CodecPCMU}}, false, sdp.SendRecv)
			res := sip.NewResponseFromRequest(req, 200, "OK", body)
			res.To().Params.Add("tag", "desttag")
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "8001", Host: "127.0.0.1", Port: 5090}})
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			for i := 0; i+1 < len(hdrs); i += 2 {
				res.AppendHeader(sip.NewHeader(hdrs[i], hdrs[i+1]))
			}
			return res
		case sip.UPDATE:
			if upd != nil {
				return upd(req)
			}
		}
		return sip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	l, err := u.a.newLeg(legOptions{Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Peer: "destination", Kind: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ans, _, err := l.dial(context.Background(), sip.Uri{Scheme: "sip", User: "8001", Host: "127.0.0.1", Port: 5090}, media.CodecPCMU, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	invite, _ = u.nextRequest(sip.INVITE)
	u.nextRequest(sip.ACK)
	l.connect(ans, time.Hour, nopHandler{})
	ended = make(chan string, 1)
	go func() {
		for {
			select {
			case r := <-l.reqs:
				if l.serve(r) {
					ended <- "bye"
					return
				}
			case <-l.sessionEnded():
				ended <- "session expired"
				return
			case <-l.done:
				return
			}
		}
	}()
	t.Cleanup(func() {
		l.finish()
		l.close()
	})
	return l, invite, ended
}

// farEndReq is a request of the leg's far end in its dialog.
func farEndReq(t *testing.T, l *leg, method string, cseq int, hdrs ...string) *sip.Request {
	t.Helper()
	inv, res := l.dlg.InviteRequest, l.dlg.InviteResponse
	msg := method + " " + inv.Contact().Address.String() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-far" + strconv.Itoa(cseq) + "\r\n" +
		"From: " + res.To().Value() + "\r\n" +
		"To: " + inv.From().Value() + "\r\n" +
		"Call-ID: " + inv.CallID().Value() + "\r\n" +
		"CSeq: " + strconv.Itoa(cseq) + " " + method + "\r\n" +
		"Contact: <sip:8001@127.0.0.1:5090>\r\nMax-Forwards: 70\r\n"
	for i := 0; i+1 < len(hdrs); i += 2 {
		msg += hdrs[i] + ": " + hdrs[i+1] + "\r\n"
	}
	m, err := sip.ParseMessage([]byte(msg + "Content-Length: 0\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	return m.(*sip.Request)
}

// TestLegSessionTimerKefuRefreshes: kefu's INVITE says Supported: timer;
// a far end that answers Session-Expires: 90;refresher=uac and allows
// UPDATE gets kefu's UPDATE every 45 s.
func TestLegSessionTimerKefuRefreshes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		ok := respond(200, "", "Session-Expires", "90;refresher=uac")
		_, inv, _ := timerLeg(t, u, ok, "Session-Expires", "90;refresher=uac", "Require", "timer", "Allow", "INVITE, ACK, BYE, UPDATE")
		if got := hval(inv.GetHeader("Supported")); got != "timer" {
			t.Errorf("leg INVITE Supported %q, want timer", got)
		}
		start := time.Now()
		for i, want := range []time.Duration{45 * time.Second, 90 * time.Second} {
			up, at := u.nextRequest(sip.UPDATE)
			if d := at.Sub(start); d != want {
				t.Errorf("UPDATE %d at %v, want %v", i+1, d, want)
			}
			checkHeaders(t, "UPDATE", up, map[string]string{"Session-Expires": "90;refresher=uac", "Min-SE": "90", "Supported": "timer"})
			if up.Recipient.String() != "sip:8001@127.0.0.1:5090" || len(up.Body()) != 0 {
				t.Errorf("UPDATE to %s with %d bytes", up.Recipient.String(), len(up.Body()))
			}
		}
	})
}

// TestLegSessionTimerFarEndStops: a far end that refreshes itself
// (refresher=uas) is answered with the terms; when its refreshes stop,
// kefu hangs it up (BYE with Reason) at the expiry minus a third, and the
// owner hears of it.
func TestLegSessionTimerFarEndStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		l, _, ended := timerLeg(t, u, nil, "Session-Expires", "90;refresher=uas", "Require", "timer")
		start := time.Now()
		advance(30 * time.Second)
		req := farEndReq(t, l, "UPDATE", 2, "Session-Expires", "90;refresher=uac", "Supported", "timer")
		tx := newRecTx(req)
		l.take(req, tx)
		rs := tx.Result()
		if len(rs) != 1 || rs[0].StatusCode != 200 {
			t.Fatalf("far end's UPDATE answered %v", codes(rs))
		}
		checkHeaders(t, "200 to the UPDATE", rs[0], map[string]string{"Session-Expires": "90;refresher=uac", "Require": "timer", "Supported": "timer"})
		bye, at := u.nextRequest(sip.BYE)
		if d := at.Sub(start); d != 30*time.Second+60*time.Second {
			t.Errorf("BYE at %v, want 90 s (the refresh at 30 s, then 60 s)", d)
		}
		if r := hval(bye.GetHeader("Reason")); r != `SIP;cause=408;text="Session timer expired"` {
			t.Errorf("BYE Reason %q", r)
		}
		if why := <-ended; why != "session expired" {
			t.Errorf("the owner ended with %q", why)
		}
	})
}

// TestLegSessionTimerOff: a far end that answers without Session-Expires
// has no session timer: no refresh, no expiry; its re-INVITE's 200 says
// Supported: timer and nothing more.
func TestLegSessionTimerOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, longCall)
		l, _, ended := timerLeg(t, u, nil)
		advance(10 * time.Minute)
		u.noRequest()
		select {
		case why := <-ended:
			t.Errorf("the leg ended: %s", why)
		default:
		}
		req := farEndReq(t, l, "INVITE", 2)
		tx := newRecTx(req)
		l.take(req, tx)
		rs := tx.Result()
		if len(rs) != 1 || rs[0].StatusCode != 200 {
			t.Fatalf("far end's re-INVITE answered %v", codes(rs))
		}
		checkHeaders(t, "200 to the re-INVITE", rs[0], map[string]string{"Session-Expires": "", "Supported": "timer", "Content-Type": "application/sdp"})
	})
}
