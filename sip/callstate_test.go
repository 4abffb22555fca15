package sip

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo/sip"
)

// TestCallRingsThenAnswers: 100 and 180 at once, the 200 OK with the SDP
// answer exactly the config's answer delay later, then RTP to the
// caller's address every 20 ms.
func TestCallRingsThenAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("700ms", "60s", "1h"))
		inv := invite(t, "UDP")
		start := time.Now()
		tx, ok := u.answered(inv)
		rs := tx.responses()
		if got := codes(tx.Result()); len(got) != 3 || got[0] != 100 || got[1] != 180 || got[2] != 200 {
			t.Fatalf("INVITE answered %v, want [100 180 200]", got)
		}
		if rs[0].at != start || rs[1].at != start {
			t.Errorf("100 and 180 sent %v and %v after the INVITE, want at once", rs[0].at.Sub(start), rs[1].at.Sub(start))
		}
		if d := rs[2].at.Sub(start); d != 700*time.Millisecond {
			t.Errorf("200 OK %v after the INVITE, want the answer delay 700ms", d)
		}
		if tag, _ := rs[1].res.To().Params.Get("tag"); tag == "" || !ok.To().Params.Has("tag") || ok.To().Value() != rs[1].res.To().Value() {
			t.Errorf("180 To %q, 200 To %q: want one To tag on both", rs[1].res.To().Value(), ok.To().Value())
		}
		if ok.Contact() == nil || ok.GetHeader("Allow") == nil {
			t.Error("200 OK without Contact or Allow")
		}
		ans := answerOf(t, ok)
		conn := u.ports.conn(0)
		if ans.Remote.Port() != uint16(conn.local.Port) || ans.Codec.String() != "PCMU" || direction(ok.Body()) != "sendrecv" {
			t.Errorf("SDP answer %+v, want PCMU sendrecv on port %d", ans, conn.local.Port)
		}
		if u.a.ActiveCalls() != 1 {
			t.Errorf("%d calls active, want 1", u.a.ActiveCalls())
		}
		u.ack(inv, ok)
		answeredAt := time.Now()
		advance(time.Second)
		n, to := conn.sentBetween(answeredAt, time.Now())
		if n < 48 || n > 51 || to.String() != callerRTP.String() {
			t.Errorf("%d RTP packets to %v in the second after the answer, want 50 to %v", n, to, callerRTP)
		}
	})
}

// TestCallCancelWhileRinging: a CANCEL during the answer delay ends the
// INVITE with 487; the call is never answered and leaves nothing behind.
// (The 200 to the CANCEL itself is sipgo's transaction layer's: it sends
// it before handing the CANCEL to the INVITE's transaction, as here.)
func TestCallCancelWhileRinging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("2s", "60s", "1h"))
		inv := invite(t, "UDP")
		tx := newRecTx(inv)
		done := make(chan struct{})
		go func() { defer close(done); u.a.onInvite(inv, tx) }()
		synctest.Wait()
		if got := codes(tx.Result()); len(got) != 2 || got[0] != 100 || got[1] != 180 {
			t.Fatalf("before the CANCEL: %v, want [100 180]", got)
		}
		advance(time.Second)
		if err := tx.Receive(cancelOf(t, inv)); err != nil {
			t.Fatal(err)
		}
		cancelled := time.Now()
		<-done // onInvite returns once the INVITE has its final response
		if d := time.Since(cancelled); d != 0 {
			t.Errorf("the ringing went on for %v after the CANCEL", d)
		}
		// The caller ACKs the 487 (in the INVITE's transaction).
		ack := cancelOf(t, inv)
		ack.Method, ack.CSeq().MethodName = sip.ACK, sip.ACK
		if err := tx.Receive(ack); err != nil {
			t.Fatal(err)
		}
		advance(5 * time.Second)
		if got := codes(tx.Result()); len(got) != 3 || got[2] != 487 {
			t.Errorf("INVITE answered %v, want [100 180 487]", got)
		}
		if u.a.ActiveCalls() != 0 || u.ports.held() != 0 {
			t.Errorf("%d calls and %d RTP ports left", u.a.ActiveCalls(), u.ports.held())
		}
		if n := u.ended("cancelled"); n != 1 {
			t.Errorf("calls ended cancelled: %v, want 1", n)
		}
		if n := counterValue(t, u.a.met.Answered); n != 0 {
			t.Errorf("%v calls answered", n)
		}
		u.noRequest()

		// A CANCEL that matches no INVITE (sipgo hands those to the
		// handler) gets 481.
		ctx := newRecTx(cancelOf(t, invite(t, "UDP")))
		u.a.onCancel(ctx.Origin(), ctx)
		if got := codes(ctx.Result()); len(got) != 1 || got[0] != 481 {
			t.Errorf("stray CANCEL answered %v, want [481]", got)
		}
	})
}

// TestCallNoAck: over UDP the 200 OK is retransmitted at T1, doubling up
// to T2, until the ACK comes; without one kefu sends BYE at 64·T1. Over
// TCP there are no retransmissions, and the same BYE.
func TestCallNoAck(t *testing.T) {
	for _, tc := range []struct {
		transport string
		retx      []time.Duration // after the first 200 OK
	}{
		{"UDP", []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 3500 * time.Millisecond, 7500 * time.Millisecond,
			11500 * time.Millisecond, 15500 * time.Millisecond, 19500 * time.Millisecond, 23500 * time.Millisecond,
			27500 * time.Millisecond, 31500 * time.Millisecond}},
		{"TCP", nil},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := newUA(t, testFlowYAML("500ms", "60s", "1h"))
				inv := invite(t, tc.transport)
				tx, ok := u.answered(inv)
				first := time.Now()
				bye, at := u.nextRequest(sip.BYE)
				if d := at.Sub(first); d != 64*sip.T1 {
					t.Errorf("BYE %v after the 200 OK, want 64·T1 = %v", d, 64*sip.T1)
				}
				var retx []time.Duration
				for _, r := range tx.responses()[3:] {
					if r.res.StatusCode != 200 || string(r.res.Body()) != string(ok.Body()) || r.res.To().Value() != ok.To().Value() {
						t.Errorf("retransmitted %d To %s, want the same 200 OK", r.res.StatusCode, r.res.To().Value())
					}
					retx = append(retx, r.at.Sub(first))
				}
				if !slices.Equal(retx, tc.retx) {
					t.Errorf("200 OK retransmitted at %v, want %v", retx, tc.retx)
				}
				checkBye(t, bye, inv, ok, 2)
				synctest.Wait()
				if u.a.ActiveCalls() != 0 || u.ports.held() != 0 || u.ended("no_ack") != 1 {
					t.Errorf("after the BYE: %d calls, %d RTP ports, %v ended no_ack", u.a.ActiveCalls(), u.ports.held(), u.ended("no_ack"))
				}
			})
		})
	}
}

// TestCallAckStopsRetransmission: an ACK after two retransmissions stops
// them, and the call lives on past 64·T1 until the flow hangs up.
func TestCallAckStopsRetransmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("500ms", "60s", "40s"))
		inv := invite(t, "UDP")
		tx, ok := u.answered(inv)
		first := time.Now()
		for range 3 + 2 {
			<-tx.more // 100, 180, 200, then two retransmissions on their timer
		}
		u.ack(inv, ok)
		_, at := u.nextRequest(sip.BYE)
		if d := at.Sub(first); d != 40*time.Second {
			t.Errorf("BYE %v after the answer, want the flow's 40s", d)
		}
		if n := len(tx.responses()); n != 5 {
			t.Errorf("%d responses to the INVITE, want 100, 180 and the 200 OK thrice", n)
		}
		synctest.Wait()
		if u.ended("agent_hangup") != 1 {
			t.Errorf("call did not end as hung up by kefu")
		}
	})
}

// TestCallHold: re-INVITEs that hold (sendonly, c=0.0.0.0, inactive) are
// answered with the mirrored direction, kefu sends no RTP while held and
// the media timeout waits; unhold (to a new address) brings both back.
func TestCallHold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("500ms", "20s", "1h"))
		inv := invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		conn := u.ports.conn(0)
		advance(time.Second)

		cseq := 2
		reinvite := func(addr string, port int, dir string, want string) time.Time {
			t.Helper()
			res := u.request(inDialogReq(t, inv, ok, "INVITE", cseq, callerSDP(addr, port, dir)))
			cseq++
			if res.StatusCode != 200 {
				t.Fatalf("re-INVITE %s answered %d", dir, res.StatusCode)
			}
			if ans, got := answerOf(t, res), direction(res.Body()); got != want || ans.Remote.Port() != uint16(conn.local.Port) {
				t.Errorf("re-INVITE %s c=%s answered %s on port %d, want %s on %d", dir, addr, got, ans.Remote.Port(), want, conn.local.Port)
			}
			if tag, _ := res.To().Params.Get("tag"); res.To().Value() != ok.To().Value() || tag == "" {
				t.Errorf("re-INVITE's 200 To %q, want the dialog's %q", res.To().Value(), ok.To().Value())
			}
			return time.Now()
		}
		held := reinvite("127.0.0.1", callerRTP.Port, "sendonly", "recvonly")
		advance(2 * time.Second)
		reinvite("0.0.0.0", callerRTP.Port, "sendrecv", "recvonly")
		advance(2 * time.Second)
		reinvite("127.0.0.1", callerRTP.Port, "inactive", "inactive")
		advance(30 * time.Second) // longer than the media timeout: held, no RTP expected
		if n, _ := conn.sentBetween(held, time.Now()); n != 0 {
			t.Errorf("kefu sent %d RTP packets while held, want none", n)
		}
		if u.a.ActiveCalls() != 1 {
			t.Fatalf("the held call ended: %v", u.ended("media_timeout"))
		}

		unheld := reinvite("127.0.0.1", 40002, "sendrecv", "sendrecv")
		advance(time.Second)
		if n, to := conn.sentBetween(unheld, time.Now()); n < 48 || to.Port() != 40002 {
			t.Errorf("%d RTP packets to %v in the second after unhold, want 50 to the new port 40002", n, to)
		}
		// Unheld, the caller's silence is a media timeout again: 20 s
		// after the last packet, or after the last time the receive loop
		// looked while held (it looks about once a second).
		_, at := u.nextRequest(sip.BYE)
		if d := at.Sub(unheld); d < 19*time.Second || d > 21*time.Second {
			t.Errorf("media timeout BYE %v after unhold, want 19-21 s", d)
		}
		synctest.Wait()
		if u.ended("media_timeout") != 1 {
			t.Errorf("call did not end by media timeout")
		}
	})
}

// TestCallCallerHangsUp: the caller's BYE gets 200 and ends the call;
// kefu sends no BYE of its own and frees the call's port.
func TestCallCallerHangsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("500ms", "60s", "1h"))
		inv := invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		advance(3 * time.Second)
		bye := inDialogReq(t, inv, ok, "BYE", 2, "")
		if res := u.request(bye); res.StatusCode != 200 {
			t.Errorf("BYE answered %d", res.StatusCode)
		}
		synctest.Wait()
		if u.a.ActiveCalls() != 0 || u.ports.held() != 0 || u.ended("caller_hangup") != 1 {
			t.Errorf("after the caller's BYE: %d calls, %d RTP ports, %v ended caller_hangup", u.a.ActiveCalls(), u.ports.held(), u.ended("caller_hangup"))
		}
		advance(time.Minute)
		u.noRequest()
		// The same BYE again (a retransmission after the dialog is gone).
		if res := u.request(inDialogReq(t, inv, ok, "BYE", 2, "")); res.StatusCode != 481 {
			t.Errorf("BYE outside the dialog answered %d, want 481", res.StatusCode)
		}
	})
}

// TestCallFlowHangsUp: when the flow hangs up, kefu sends BYE in the
// dialog (to the caller's Contact, our next CSeq, the dialog's tags), and
// the call ends once it is answered.
func TestCallFlowHangsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u := newUA(t, testFlowYAML("500ms", "60s", "3s"))
		inv := invite(t, "UDP")
		_, ok := u.answered(inv)
		u.ack(inv, ok)
		answered := time.Now()
		bye, at := u.nextRequest(sip.BYE)
		if d := at.Sub(answered); d != 3*time.Second {
			t.Errorf("BYE %v after the answer, want the flow's 3s", d)
		}
		checkBye(t, bye, inv, ok, 2)
		synctest.Wait()
		if u.a.ActiveCalls() != 0 || u.ports.held() != 0 || u.ended("agent_hangup") != 1 {
			t.Errorf("after kefu's BYE: %d calls, %d RTP ports, %v ended agent_hangup", u.a.ActiveCalls(), u.ports.held(), u.ended("agent_hangup"))
		}
		u.noRequest()
	})
}

// checkBye checks that kefu's BYE belongs to the dialog inv and ok made.
func checkBye(t *testing.T, bye *sip.Request, inv *sip.Request, ok *sip.Response, cseq uint32) {
	t.Helper()
	if got, want := bye.Recipient.String(), inv.Contact().Address.String(); got != want {
		t.Errorf("BYE to %s, want the caller's Contact %s", got, want)
	}
	if bye.CallID().Value() != inv.CallID().Value() || bye.From().Value() != ok.To().Value() || bye.To().Value() != inv.From().Value() {
		t.Errorf("BYE From %q To %q Call-ID %q, not the dialog's", bye.From().Value(), bye.To().Value(), bye.CallID().Value())
	}
	if cs := bye.CSeq(); cs.SeqNo != cseq || cs.MethodName != sip.BYE {
		t.Errorf("BYE CSeq %s, want %d BYE", cs.Value(), cseq)
	}
}

// direction is the direction attribute of an SDP body ("sendrecv" when it
// has none).
func direction(body []byte) string {
	for _, line := range strings.Split(string(body), "\n") {
		switch a := strings.TrimSpace(strings.TrimPrefix(line, "a=")); a {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a
		}
	}
	return "sendrecv"
}
