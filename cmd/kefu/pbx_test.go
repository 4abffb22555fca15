package main

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behind a real PBX (issue 14): sipp plays an Asterisk-like trunk that
// requires RFC 4028 session timers (refreshing them, asking kefu to, or
// stopping), sends late offers, and carries out kefu's REFER with a late
// or failing final NOTIFY. Asterisk itself is not installable here; the
// scenarios copy what it sends (timers=require, direct-media late offers,
// the NOTIFY only when the transferred channel ends).

// pbxConfig is a flow that answers, says a prompt and keeps the call for
// ten minutes: the trunk or kefu's session timer ends it.
const pbxConfig = `
answer_delay: 0s
media_timeout: 120s
routes:
  - to: "*"
    flow: pbx
flows:
  pbx:
    steps:
      - name: escalate
        say: {prompt: escalate}
      - name: wait
        hangup: {wait: 10m}
        exception: a test line that waits for the trunk or the session timer
`

// callEnded waits for kefu's "call ended" line and checks its cause and
// that RTP flowed both ways (at least min packets each: half of the 50 a
// second, as a loaded machine runs late).
func callEnded(t *testing.T, a *agent, cause string, min float64) logEntry {
	t.Helper()
	e := a.waitEntry(t, "call ended", 10*time.Second)
	if e.str("cause") != cause {
		t.Errorf("call ended with cause %q, want %q", e.str("cause"), cause)
	}
	if e.num("rtp_sent") < min || e.num("rtp_received") < min {
		t.Errorf("call ended with rtp_sent %v, rtp_received %v; want at least %v each way", e.num("rtp_sent"), e.num("rtp_received"), min)
	}
	return e
}

// TestIntegrationSessionTimerRefresh: the trunk requires timers and
// refreshes by re-INVITE at 30 s and UPDATE at 60 s; kefu keeps the call
// past the 60 s a lone interval allows, until the trunk hangs up at 75 s.
func TestIntegrationSessionTimerRefresh(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", configFile(t, pbxConfig))
	s := newSipp(t, a)
	r := s.run("uac_timer_refresh.xml", 100*time.Second, "-rtp_echo")
	s.expect(r, 0)
	if byes := r.find(false, "BYE", ""); len(byes) != 0 {
		t.Errorf("kefu sent %d BYE", len(byes))
	}
	ack := r.first(t, true, "ACK", "1 ACK")
	bye := r.first(t, true, "BYE", "")
	if d := bye.at.Sub(ack.at); d < 74*time.Second {
		t.Errorf("the call lasted %v, want 75 s", d)
	}
	callEnded(t, a, "caller hung up", 1800)
	if n := metric(a.metrics(), `kefu_calls_total{cause="caller_hangup"}`); n != 1 {
		t.Errorf(`kefu_calls_total{cause="caller_hangup"} = %v`, n)
	}
}

// TestIntegrationSessionTimerExpires: the trunk requires timers
// (Session-Expires 90, refresher=uac) and never refreshes: kefu hangs up
// 60 s after the answer (90 s minus a third) with a Reason.
func TestIntegrationSessionTimerExpires(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", configFile(t, pbxConfig))
	s := newSipp(t, a)
	r := s.run("uac_timer_expire.xml", 100*time.Second, "-rtp_echo")
	s.expect(r, 0)
	ok := r.first(t, false, "SIP/2.0 200", "1 INVITE")
	bye := r.first(t, false, "BYE", "")
	if d := bye.at.Sub(ok.at); d < 59*time.Second || d > 62*time.Second {
		t.Errorf("kefu's BYE %v after its 200, want 60 s", d)
	}
	callEnded(t, a, "session expired: no refresh from the caller's side", 1500)
	if n := metric(a.metrics(), `kefu_calls_total{cause="session_expired"}`); n != 1 {
		t.Errorf(`kefu_calls_total{cause="session_expired"} = %v`, n)
	}
}

// TestIntegrationSessionTimerKefuRefreshes: a trunk that asks kefu to
// refresh (refresher=uas) gets an UPDATE at half the interval when it
// allows UPDATE, a re-INVITE (ACKed) when it does not.
func TestIntegrationSessionTimerKefuRefreshes(t *testing.T) {
	integration(t)
	t.Parallel()
	for _, tc := range []struct {
		scenario string
		method   string
	}{
		{"uac_timer_uas_update.xml", "UPDATE"},
		{"uac_timer_uas_reinvite.xml", "INVITE"},
	} {
		t.Run(tc.method, func(t *testing.T) {
			t.Parallel()
			a := startAgent(t, "-config", configFile(t, pbxConfig))
			s := newSipp(t, a)
			r := s.run(tc.scenario, 80*time.Second, "-rtp_echo")
			s.expect(r, 0)
			ok := r.first(t, false, "SIP/2.0 200", "1 INVITE")
			refresh := r.first(t, false, tc.method, "2 "+tc.method)
			if d := refresh.at.Sub(ok.at); d < 44*time.Second || d > 47*time.Second {
				t.Errorf("kefu's %s %v after its 200, want 45 s", tc.method, d)
			}
			if tc.method == "INVITE" {
				r.first(t, false, "ACK", "2 ACK")
			}
			callEnded(t, a, "caller hung up", 1000)
		})
	}
}

// TestIntegrationSessionTimerTooSmall: Session-Expires 60 gets 422 with
// Min-SE 90, and the trunk's retry with 90 s is answered.
func TestIntegrationSessionTimerTooSmall(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", configFile(t, pbxConfig))
	s := newSipp(t, a)
	r := s.run("uac_timer_422.xml", 20*time.Second, "-rtp_echo")
	s.expect(r, 0)
	if e := a.waitEntry(t, "call refused", 5*time.Second); e.num("code") != 422 {
		t.Errorf("kefu logged the call refused with %v, want 422", e["code"])
	}
	a.waitEntry(t, "call ended", 10*time.Second)
}

// TestIntegrationLateOffer: an Asterisk-style INVITE without SDP is
// answered with kefu's offer; the trunk's answer in the ACK starts the
// media, and audio flows both ways (sipp echoes it) for five seconds.
func TestIntegrationLateOffer(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", configFile(t, pbxConfig))
	s := newSipp(t, a)
	r := s.run("uac_late_offer.xml", 20*time.Second, "-rtp_echo")
	s.expect(r, 0)
	ok := r.first(t, false, "SIP/2.0 200", "1 INVITE")
	if ct := ok.header("Content-Type"); ct != "application/sdp" || strings.Contains(ok.header("Require"), "100rel") {
		t.Errorf("200 with Content-Type %q, Require %q", ct, ok.header("Require"))
	}
	if sup := ok.header("Supported"); sup != "timer" {
		t.Errorf("200 Supported %q, want timer (no 100rel)", sup)
	}
	ans := a.waitEntry(t, "call answered", 5*time.Second)
	if ans["late_offer"] != true || ans.str("codec") != "PCMU" {
		t.Errorf("call answered %v, want late_offer and PCMU", ans)
	}
	callEnded(t, a, "caller hung up", 200)
}

// TestIntegrationLateOfferBadAnswer: an ACK without the answer, or with
// one in G.729 only, ends the late-offer call at once with a BYE and its
// Reason; no audio was ever sent.
func TestIntegrationLateOfferBadAnswer(t *testing.T) {
	integration(t)
	t.Parallel()
	for _, scenario := range []string{"uac_late_offer_noanswer.xml", "uac_late_offer_nocodec.xml"} {
		t.Run(strings.TrimSuffix(scenario, ".xml"), func(t *testing.T) {
			t.Parallel()
			a := startAgent(t, "-config", configFile(t, pbxConfig))
			s := newSipp(t, a)
			r := s.run(scenario, 20*time.Second, "-rtp_echo")
			s.expect(r, 0)
			ack := r.first(t, true, "ACK", "1 ACK")
			bye := r.first(t, false, "BYE", "")
			if d := bye.at.Sub(ack.at); d > time.Second {
				t.Errorf("kefu's BYE %v after the ACK, want at once", d)
			}
			e := a.waitEntry(t, "call ended", 10*time.Second)
			if c := e.str("cause"); !strings.Contains(c, "ACK") || e.num("rtp_sent") != 0 {
				t.Errorf("call ended with cause %q, %v RTP packets sent", c, e.num("rtp_sent"))
			}
			if n := metric(a.metrics(), `kefu_calls_total{cause="bad_sdp_answer"}`); n != 1 {
				t.Errorf(`kefu_calls_total{cause="bad_sdp_answer"} = %v`, n)
			}
		})
	}
}

// destination listens where the transfer destination would be and counts
// what arrives: kefu must send it nothing once a PBX accepted the REFER.
type destination struct {
	pc   net.PacketConn
	port int
	mu   sync.Mutex
	got  []string
	done chan struct{}
}

func listenDestination(t *testing.T) *destination {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &destination{pc: pc, port: pc.LocalAddr().(*net.UDPAddr).Port, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		buf := make([]byte, 65535)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			d.mu.Lock()
			d.got = append(d.got, line)
			d.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); <-d.done })
	return d
}

// received returns the start lines of what arrived.
func (d *destination) received() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.got...)
}

// checkReferNoBridge checks kefu's transfer line and counters after a PBX
// accepted the REFER: the outcome, no bridge, the call ended transferred,
// nothing sent to the destination.
func checkReferNoBridge(t *testing.T, a *agent, d *destination, outcome string, code float64) {
	t.Helper()
	tr := a.waitEntry(t, "transfer", 5*time.Second)
	if tr.str("how") != "refer" || tr.str("outcome") != outcome || tr.num("code") != code || tr["accepted"] != true {
		t.Errorf("transfer logged %v, want refer %s (code %v), accepted", tr, outcome, code)
	}
	if end := a.waitEntry(t, "call ended", 5*time.Second); end.str("cause") != "call transferred" {
		t.Errorf("call ended with cause %q, want %q", end.str("cause"), "call transferred")
	}
	if n := len(a.entries("transfer")); n != 1 {
		t.Errorf("%d transfer lines, want the REFER's only", n)
	}
	checkTransfers(t, a, map[string]float64{"refer/" + outcome: 1})
	if got := d.received(); len(got) != 0 {
		t.Errorf("kefu sent the destination %q", got)
	}
}

// TestIntegrationReferLateNotify: a PBX accepts the REFER and sends the
// final NOTIFY only much later (when the transferred channel ends): kefu
// waits 30 s, ends its dialog with a BYE, calls no one, and the late
// NOTIFY gets 481.
func TestIntegrationReferLateNotify(t *testing.T) {
	integration(t)
	t.Parallel()
	d := listenDestination(t)
	a := startAgent(t, "-config", transferConfig(t, d.port))
	s := newSipp(t, a)
	r := s.run("uac_refer_late_notify.xml", 60*time.Second, "-rtp_echo")
	s.expect(r, 0)
	refer := r.first(t, false, "REFER", "")
	bye := r.first(t, false, "BYE", "")
	if w := bye.at.Sub(refer.at); w < 29*time.Second || w > 33*time.Second {
		t.Errorf("kefu's BYE %v after its REFER, want 30 s", w)
	}
	checkReferNoBridge(t, a, d, "no_final", 0)
}

// TestIntegrationReferFailureAfterAccept: a PBX accepts the REFER, and
// after the moved caller hung up reports a failure (503): kefu answers the
// NOTIFY, ends its dialog, and calls no one.
func TestIntegrationReferFailureAfterAccept(t *testing.T) {
	integration(t)
	t.Parallel()
	d := listenDestination(t)
	a := startAgent(t, "-config", transferConfig(t, d.port))
	s := newSipp(t, a)
	r := s.run("uac_refer_fail_notify.xml", 40*time.Second, "-rtp_echo")
	s.expect(r, 0)
	ok := r.first(t, false, "SIP/2.0 200", "3 NOTIFY")
	bye := r.first(t, false, "BYE", "")
	if bye.at.Before(ok.at) || bye.at.Sub(ok.at) > 2*time.Second {
		t.Errorf("kefu's BYE %v after its 200 to the failing NOTIFY, want at once", bye.at.Sub(ok.at))
	}
	checkReferNoBridge(t, a, d, "failed_after_accept", 503)
}
