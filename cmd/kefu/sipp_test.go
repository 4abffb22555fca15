package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// checkLadderBye checks a silent call's end: kefu's BYE 25-45 s after the
// ACK (three prompts and three 5 s waits), after three attempts, hung up by
// the agent. It returns kefu's "call ended" line.
func checkLadderBye(t *testing.T, a *agent, r *sippResult) logEntry {
	t.Helper()
	ack := r.first(t, true, "ACK", "1 ACK")
	bye := r.first(t, false, "BYE", "")
	if d := bye.at.Sub(ack.at); d < 25*time.Second || d > 45*time.Second {
		t.Errorf("kefu's BYE came %.1f s after the ACK, want 25-45 s (three prompts and 3×5 s)", d.Seconds())
	} else {
		t.Logf("kefu's BYE came %.1f s after the ACK", d.Seconds())
	}
	ff := a.waitEntry(t, "flow finished", 5*time.Second)
	if ff.num("attempts") != 3 || ff.str("hung_up_by") != "agent" {
		t.Errorf("flow finished with attempts %v, hung_up_by %q; want 3, agent", ff["attempts"], ff.str("hung_up_by"))
	}
	end := a.waitEntry(t, "call ended", 5*time.Second)
	if c := end.str("cause"); c != "agent hung up" {
		t.Errorf("call ended with cause %q, want %q", c, "agent hung up")
	}
	return end
}

// TestIntegrationSippSilentRTP: a caller that streams G.711 silence and
// says nothing hears the CS-SILENT ladder and then kefu's BYE.
func TestIntegrationSippSilentRTP(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	writeULawSilenceWAV(t, filepath.Join(s.dir, "silence.wav"), time.Second)
	r := s.run("uac_silence_rtp.xml", 70*time.Second)
	s.expect(r, 0)
	end := checkLadderBye(t, s.a, r)
	// The stream really reached kefu: 50 packets a second for over 25 s.
	if n := end.num("rtp_received"); n < 1000 {
		t.Errorf("kefu received %v RTP packets from sipp's silence stream, want over 1000", n)
	}
}

// TestIntegrationSippSilentNoRTP: a caller whose phone sends no RTP at all
// is silent too; the ladder, not the 60 s media timeout, ends the call.
func TestIntegrationSippSilentNoRTP(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	r := s.run("uac_wait_bye.xml", 70*time.Second)
	s.expect(r, 0)
	end := checkLadderBye(t, s.a, r)
	if n := end.num("rtp_received"); n != 0 {
		t.Errorf("kefu received %v RTP packets from a caller that sends none", n)
	}
}

// TestIntegrationSippSilentTCP is TestIntegrationSippSilentRTP over TCP:
// kefu's BYE must come back on the caller's TCP connection.
func TestIntegrationSippSilentTCP(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	writeULawSilenceWAV(t, filepath.Join(s.dir, "silence.wav"), time.Second)
	r := s.run("uac_silence_rtp.xml", 70*time.Second, "-t", "t1")
	s.expect(r, 0)
	checkLadderBye(t, s.a, r)
	if bye := r.first(t, false, "BYE", ""); bye.transport != "TCP" {
		t.Errorf("kefu's BYE came over %s, want TCP", bye.transport)
	}
	// sipp listens on its SIP port too, so a BYE on a new connection would
	// reach it as well: check the kernel saw no connection to that port
	// but the caller's own (a closed one stays in TIME_WAIT for a minute).
	_, kport, _ := net.SplitHostPort(s.a.sip)
	conns := tcpConns(t, r.port)
	t.Logf("TCP connections at sipp's port %d came from ports %v (kefu's is %s)", r.port, conns, kport)
	for _, c := range conns {
		if c != kport {
			t.Errorf("a second TCP connection reached sipp's port %d (from port %s): kefu did not reuse the caller's connection", r.port, c)
		}
	}
}

// tcpConns returns the far ports of the IPv4 TCP connections, in any
// state but LISTEN, that have port at one end (from /proc/net/tcp).
func tcpConns(t *testing.T, port int) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Logf("cannot check TCP connections: %v", err)
		return nil
	}
	hexPort := func(addr string) string {
		_, h, _ := strings.Cut(addr, ":")
		n, _ := strconv.ParseUint(h, 16, 16)
		return fmt.Sprint(n)
	}
	me := fmt.Sprint(port)
	var out []string
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] == "0A" { // 0A: LISTEN
			continue
		}
		switch l, r := hexPort(f[1]), hexPort(f[2]); me {
		case l:
			out = append(out, r)
		case r:
			out = append(out, l)
		}
	}
	return out
}

// TestIntegrationSippCancel: CANCEL while kefu rings gets 200, the INVITE
// 487, and the call never gets answered.
func TestIntegrationSippCancel(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	r := s.run("uac_cancel.xml", 15*time.Second)
	s.expect(r, 0)
	end := s.a.waitEntry(t, "call ended", 5*time.Second)
	if c := end.str("cause"); !strings.Contains(c, "cancelled") {
		t.Errorf("call ended with cause %q, want cancelled", c)
	}
	// The answer delay (0.5 s) has passed by now: a cancelled call must
	// not be answered anyway.
	if s.a.logged("call answered", time.Second) {
		t.Errorf("kefu answered a call the caller had cancelled")
	}
}

// TestIntegrationSippCallerHangup: the caller's BYE during the opening
// gets 200; kefu ends the call without a BYE of its own.
func TestIntegrationSippCallerHangup(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	r := s.run("uac_caller_bye.xml", 20*time.Second)
	s.expect(r, 0)
	checkCallerHangup(t, s.a, r)
}

func checkCallerHangup(t *testing.T, a *agent, r *sippResult) {
	t.Helper()
	end := a.waitEntry(t, "call ended", 5*time.Second)
	if c := end.str("cause"); c != "caller hung up" {
		t.Errorf("call ended with cause %q, want %q", c, "caller hung up")
	}
	if n := len(a.entries("BYE sent")); n != 0 || len(r.find(false, "BYE", "")) != 0 {
		t.Errorf("kefu sent a BYE of its own after the caller hung up")
	}
}

// TestIntegrationSippOptions: OPTIONS gets 200 with Allow, Accept and
// Supported (the scenario's check_it regexps).
func TestIntegrationSippOptions(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	r := s.run("uac_options.xml", 10*time.Second)
	s.expect(r, 0)
}

// TestIntegrationSippHold: re-INVITEs for hold (sendonly, c=0.0.0.0,
// inactive) and unhold get the mirrored direction, and kefu's RTP stops
// while the caller holds and starts again after.
func TestIntegrationSippHold(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	arrivals := make(chan []time.Time, 1)
	go func() {
		var at []time.Time
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				arrivals <- at
				return
			}
			at = append(at, time.Now())
		}
	}()
	r := s.run("uac_hold.xml", 20*time.Second, "-key", "rtp_port", fmt.Sprint(pc.LocalAddr().(*net.UDPAddr).Port))
	_ = pc.Close()
	got := <-arrivals
	s.expect(r, 0)
	if t.Failed() {
		return
	}
	// kefu answered each re-INVITE as the scenario checked; its log agrees.
	var dirs []string
	for _, e := range s.a.entries("re-INVITE") {
		dirs = append(dirs, e.str("direction"))
	}
	if len(dirs) != 4 || dirs[0] != "recvonly" || dirs[1] != "recvonly" && dirs[1] != "inactive" || dirs[2] != "inactive" || dirs[3] != "sendrecv" {
		t.Errorf("kefu logged re-INVITE directions %v, want recvonly, recvonly or inactive, inactive, sendrecv", dirs)
	}
	count := func(from, to time.Time) int {
		n := 0
		for _, a := range got {
			if a.After(from) && a.Before(to) {
				n++
			}
		}
		return n
	}
	ack := r.first(t, true, "ACK", "1 ACK")
	hold := r.first(t, false, "SIP/2.0 200", "2 INVITE")
	unhold := r.first(t, false, "SIP/2.0 200", "5 INVITE")
	bye := r.first(t, true, "BYE", "")
	if n := count(ack.at, hold.at); n < 25 {
		t.Errorf("%d RTP packets in the %.1f s before hold, want about 50 a second", n, hold.at.Sub(ack.at).Seconds())
	}
	if n := count(hold.at.Add(100*time.Millisecond), unhold.at); n != 0 {
		t.Errorf("kefu sent %d RTP packets during the %.1f s the caller held the call, want none", n, unhold.at.Sub(hold.at).Seconds())
	}
	if n := count(unhold.at, bye.at); n < 25 {
		t.Errorf("%d RTP packets in the %.1f s after unhold, want about 50 a second", n, bye.at.Sub(unhold.at).Seconds())
	}
}

// TestIntegrationSippNoAck: a 200 OK that is never ACKed is retransmitted
// (T1 doubling to T2) and, after 64*T1 = 32 s, kefu gives up with a BYE.
func TestIntegrationSippNoAck(t *testing.T) {
	integration(t)
	t.Parallel()
	// The default ladder also ends about 32 s after the answer: stretch it
	// so that only the missing ACK can end this call then.
	cfg := strings.Replace(string(flows.DefaultYAML()), "media_timeout: 60s", "media_timeout: 120s", 1)
	cfg = strings.ReplaceAll(cfg, "wait: 5s", "wait: 25s")
	file := filepath.Join(t.TempDir(), "kefu.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newSipp(t, startAgent(t, "-config", file))
	r := s.run("uac_no_ack.xml", 60*time.Second)
	s.expect(r, 0)
	oks := r.find(false, "SIP/2.0 200", "1 INVITE")
	if len(oks) < 4 {
		t.Fatalf("sipp got the 200 OK %d times, want it retransmitted at least 3 times\n%s", len(oks), r.msgLog)
	}
	if d := oks[1].at.Sub(oks[0].at); d < 300*time.Millisecond || d > 900*time.Millisecond {
		t.Errorf("first retransmission of the 200 OK after %v, want T1 = 500 ms", d)
	}
	bye := r.first(t, false, "BYE", "")
	if d := bye.at.Sub(oks[0].at); d < 30*time.Second || d > 36*time.Second {
		t.Errorf("kefu's BYE came %.1f s after the 200 OK, want about 32 s (64*T1)", d.Seconds())
	}
	t.Logf("200 OK sent %d times; BYE %.1f s after the first", len(oks), bye.at.Sub(oks[0].at).Seconds())
	end := s.a.waitEntry(t, "call ended", 5*time.Second)
	if c := end.str("cause"); c != "no ACK for 200 OK" {
		t.Errorf("call ended with cause %q, want %q", c, "no ACK for 200 OK")
	}
}

// TestIntegrationSippMalformed: requests that do not parse, or lack
// mandatory headers, get 400 (a malformed ACK gets nothing), and kefu
// answers a normal call right after.
func TestIntegrationSippMalformed(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	r := s.run("uac_malformed.xml", 15*time.Second)
	s.expect(r, 0)
	if n := len(s.a.entries("call answered")); n != 0 {
		t.Errorf("kefu answered %d malformed INVITEs", n)
	}
	r = s.run("uac_caller_bye.xml", 20*time.Second)
	s.expect(r, 0)
	checkCallerHangup(t, s.a, r)
}

// TestIntegrationSipp488: an offer with no codec kefu speaks gets 488.
func TestIntegrationSipp488(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	r := s.run("uac_488.xml", 10*time.Second)
	s.expect(r, 0)
	if e := s.a.waitEntry(t, "call refused", 2*time.Second); e.num("code") != 488 {
		t.Errorf("kefu logged the call refused with %v, want 488", e["code"])
	}
}

// TestIntegrationSippUnknownDialog: BYE and INFO for a dialog kefu does not
// know get 481.
func TestIntegrationSippUnknownDialog(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	s.expect(s.run("uac_unknown_bye.xml", 10*time.Second), 0)
}

// TestIntegrationSippInviteRetransmission: the same INVITE sent twice,
// 100 ms apart, is one call, answered once.
func TestIntegrationSippInviteRetransmission(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	r := s.run("uac_invite_retrans.xml", 15*time.Second, "-pause_msg_ign")
	s.expect(r, 0)
	invs := r.find(true, "INVITE", "1 INVITE")
	if len(invs) != 2 {
		t.Fatalf("sipp sent the INVITE %d times, want 2", len(invs))
	}
	// kefu's INVITE transaction took the copy: it repeated its 180.
	var repeated bool
	for _, m := range r.find(false, "SIP/2.0 18", "1 INVITE") {
		repeated = repeated || m.at.After(invs[1].at)
	}
	if !repeated {
		t.Errorf("kefu did not repeat its provisional response to the retransmitted INVITE")
	}
	s.a.waitEntry(t, "call ended", 5*time.Second)
	if n := len(s.a.entries("call answered")); n != 1 {
		t.Errorf("kefu answered %d calls for one retransmitted INVITE, want 1", n)
	}
	if n := len(r.find(false, "SIP/2.0 200", "1 INVITE")); n != 1 {
		t.Errorf("sipp got %d 200 OKs to the INVITE, want 1", n)
	}
}

// TestIntegrationSippCallerHoldPausesLadder: a caller who holds the call
// (a=inactive) for 40 s, longer than the whole silence ladder, is away, not
// silent: kefu neither goes on with the ladder nor hangs up meanwhile (the
// scenario fails on a BYE during the hold); when the caller comes back the
// ladder goes on, and kefu hangs up at its end, not for want of RTP.
func TestIntegrationSippCallerHoldPausesLadder(t *testing.T) {
	integration(t)
	t.Parallel()
	s := newSipp(t, startAgent(t))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	r := s.run("uac_hold_long.xml", 100*time.Second, "-key", "rtp_port", fmt.Sprint(pc.LocalAddr().(*net.UDPAddr).Port))
	s.expect(r, 0)
	if t.Failed() {
		return
	}
	unhold := r.first(t, false, "SIP/2.0 200", "3 INVITE")
	bye := r.first(t, false, "BYE", "")
	// The rest of the ladder after the hold: the rest of a 5 s wait, the
	// opening, 5 s, the apology, 5 s.
	if d := bye.at.Sub(unhold.at); d < 15*time.Second {
		t.Errorf("kefu hung up %.1f s after the caller came back, want the rest of the ladder first", d.Seconds())
	}
	if !s.a.waitLog(`"detail":"held`, time.Second) || !s.a.waitLog(`"detail":"resumed`, time.Second) {
		t.Errorf("the flow did not hear of the hold")
	}
	if e := s.a.waitEntry(t, "call ended", 5*time.Second); e.str("cause") != "agent hung up" {
		t.Errorf("call ended by %q, want the ladder's hang-up", e.str("cause"))
	}
	if !s.a.waitLog(`"attempts":3`, time.Second) {
		t.Errorf("kefu's log does not record the three attempts")
	}
}
