package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The transfer tests (CS-ESCALATE) run a flow that apologises, then
// transfers the caller to the "supervisors" destination, and on failure
// says goodbye and hangs up. The caller is a sipp UAC that accepts the
// REFER (its phone makes the new call) or refuses it (kefu bridges the
// call itself); the destination, where kefu calls it, is a sipp UAS.

// transferConfig writes the tests' configuration with the supervisors at
// 127.0.0.1:destPort and returns its path.
func transferConfig(t *testing.T, destPort int) string {
	t.Helper()
	cfg := fmt.Sprintf(`
answer_delay: 0s
destinations:
  supervisors: "sip:8001@127.0.0.1:%d"
routes:
  - to: "*"
    flow: hotline
flows:
  hotline:
    steps:
      - name: escalate
        say: {prompt: escalate}
      - name: go
        transfer: {to: supervisors, on_fail: sorry}
      - name: sorry
        say: {prompt: close.bye}
      - name: end
        hangup: {}
`, destPort)
	file := configFile(t, cfg)
	return file
}

// sippUAS is a sipp UAS scenario (a transfer destination) running in the
// background on a port of its own until it has served one call.
type sippUAS struct {
	t    *testing.T
	port int
	name string
	done chan sippUASExit
	gone chan struct{} // closed when sipp has exited
}

type sippUASExit struct {
	r   *sippResult
	err error
}

// startSippUAS starts scenario (a file in testdata/sipp) as a UAS with
// sipp's own timeout and extra arguments.
func startSippUAS(t *testing.T, scenario string, timeout time.Duration, extra ...string) *sippUAS {
	t.Helper()
	return startSippUASIn(t, t.TempDir(), scenario, timeout, extra...)
}

// startSippUASIn is startSippUAS with sipp working in dir, where the files
// a scenario plays (rtp_stream, read when sipp starts) are written first.
func startSippUASIn(t *testing.T, dir, scenario string, timeout time.Duration, extra ...string) *sippUAS {
	t.Helper()
	bin := needTool(t, "sipp")
	sf, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, strings.TrimSuffix(scenario, ".xml"))
	u := &sippUAS{t: t, port: freePort(t), name: scenario, done: make(chan sippUASExit, 1), gone: make(chan struct{})}
	args := append([]string{"-sf", sf, "-m", "1", "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", fmt.Sprint(u.port), "-mp", fmt.Sprint(freeBlock(t, 4)), "-cp", fmt.Sprint(freePort(t)),
		"-nostdin", "-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error",
		"-trace_err", "-error_file", base + "_errors.log",
		"-trace_msg", "-message_file", base + "_messages.log",
		"-trace_logs", "-log_file", base + "_logs.log"}, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+20*time.Second)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.WaitDelay = 5 * time.Second
	go func() {
		defer close(u.gone)
		defer cancel()
		out, err := cmd.CombinedOutput()
		r := &sippResult{name: scenario, out: string(out), port: u.port}
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
			err = nil
		case err == nil && ctx.Err() != nil:
			err = fmt.Errorf("sipp %s did not end by itself within %v", scenario, timeout+20*time.Second)
		}
		e, _ := os.ReadFile(base + "_errors.log")
		r.errs = string(e)
		l, _ := os.ReadFile(base + "_logs.log")
		r.logs = string(l)
		m, _ := os.ReadFile(base + "_messages.log")
		r.msgLog = string(m)
		u.done <- sippUASExit{r, err}
	}()
	t.Cleanup(func() {
		cancel()
		<-u.gone
	})
	return u
}

// wait waits for the UAS to end and checks that its call went as the
// scenario says.
func (u *sippUAS) wait() *sippResult {
	t := u.t
	t.Helper()
	var x sippUASExit
	select {
	case x = <-u.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("sipp UAS %s did not end", u.name)
	}
	if x.err != nil {
		t.Fatalf("sipp UAS %s: %v\n%s", u.name, x.err, x.r.out)
	}
	x.r.msgs = parseSippMessages(t, x.r.msgLog)
	(&sipp{t: t}).expect(x.r, 0)
	return x.r
}

// checkTransfers compares kefu's kefu_transfers_total with want (how/outcome
// → count; every other pair must be absent).
func checkTransfers(t *testing.T, a *agent, want map[string]float64) {
	t.Helper()
	m := a.metrics()
	for _, how := range []string{"refer", "bridge"} {
		for _, outcome := range []string{"ok", "unconfirmed", "no_final", "failed_after_accept", "refused", "failed", "timeout", "hangup"} {
			sample := fmt.Sprintf(`kefu_transfers_total{how=%q,outcome=%q}`, how, outcome)
			if got, w := metric(m, sample), want[how+"/"+outcome]; got != w {
				t.Errorf("%s = %v, want %v", sample, got, w)
			}
		}
	}
}

// promptTime is how long kefu played prompt id, from its debug timeline.
func promptTime(t *testing.T, a *agent, id string) time.Duration {
	t.Helper()
	var start, end time.Time
	for _, e := range a.entries("flow") {
		at, _ := time.Parse(time.RFC3339Nano, e.str("time"))
		switch {
		case e.str("what") == "prompt_start" && e.str("detail") == id:
			start = at
		case e.str("what") == "prompt_end" && e.str("detail") == id:
			end = at
		}
	}
	if start.IsZero() || end.Before(start) {
		t.Fatalf("kefu's log has no playing of %s", id)
	}
	return end.Sub(start)
}

// TestIntegrationTransferRefer: the caller's phone accepts the REFER (202)
// and reports the new call's progress (sipfrag 100, then 200 with the
// subscription terminated); kefu answers both NOTIFYs and then hangs up
// its own dialog. No call to the destination is made by kefu.
func TestIntegrationTransferRefer(t *testing.T) {
	integration(t)
	t.Parallel()
	destPort := freePort(t) // nothing listens: kefu must not need it
	a := startAgent(t, "-config", transferConfig(t, destPort))
	s := newSipp(t, a)
	r := s.run("uac_refer_accept.xml", 40*time.Second)
	s.expect(r, 0)

	refer := r.first(t, false, "REFER", "")
	if got, want := refer.header("Refer-To"), fmt.Sprintf("<sip:8001@127.0.0.1:%d>", destPort); got != want {
		t.Errorf("Refer-To %q, want %q", got, want)
	}
	if rb := refer.header("Referred-By"); !strings.HasPrefix(rb, "<sip:kefu@") {
		t.Errorf("Referred-By %q, want kefu's URI", rb)
	}
	if refer.header("Contact") == "" {
		t.Error("the REFER has no Contact")
	}
	// Both NOTIFYs were answered 200, and only then came kefu's BYE.
	ok2 := r.first(t, false, "SIP/2.0 200", "2 NOTIFY")
	ok3 := r.first(t, false, "SIP/2.0 200", "3 NOTIFY")
	bye := r.first(t, false, "BYE", "")
	if bye.at.Before(ok3.at) || ok3.at.Before(ok2.at) {
		t.Errorf("kefu's BYE at %v came before its 200 to the final NOTIFY at %v", bye.at, ok3.at)
	}
	tr := a.waitEntry(t, "transfer", 5*time.Second)
	if tr.str("how") != "refer" || tr.str("outcome") != "ok" || tr.num("code") != 200 {
		t.Errorf("transfer logged %v, want how refer, outcome ok, code 200", tr)
	}
	if ff := a.waitEntry(t, "flow finished", 5*time.Second); ff.str("hung_up_by") != "transfer" {
		t.Errorf("flow finished hung_up_by %q, want transfer", ff.str("hung_up_by"))
	}
	if end := a.waitEntry(t, "call ended", 5*time.Second); end.str("cause") != "call transferred" {
		t.Errorf("call ended with cause %q, want %q", end.str("cause"), "call transferred")
	}
	checkTransfers(t, a, map[string]float64{"refer/ok": 1})
	if n := metric(a.metrics(), `kefu_calls_total{cause="transferred"}`); n != 1 {
		t.Errorf(`kefu_calls_total{cause="transferred"} = %v, want 1`, n)
	}
}

// TestIntegrationTransferBridge: the caller's phone refuses the REFER
// (501), so kefu calls the destination (INVITE with SDP, offering the
// caller's PCMU first), ACKs its 200 and relays audio both ways (the
// destination echoes what it gets, so frames flow in each direction) until
// the caller hangs up; then kefu ends the call to the destination, and
// never sends the caller a BYE.
func TestIntegrationTransferBridge(t *testing.T) {
	integration(t)
	t.Parallel()
	dest := startSippUAS(t, "uas_answer.xml", 40*time.Second, "-rtp_echo")
	a := startAgent(t, "-config", transferConfig(t, dest.port))
	s := newSipp(t, a)
	writeULawSilenceWAV(t, filepath.Join(s.dir, "silence.wav"), time.Second)
	r := s.run("uac_refer_refuse.xml", 40*time.Second)
	s.expect(r, 0)
	d := dest.wait()

	inv := d.first(t, false, "INVITE", "")
	if ct := inv.header("Content-Type"); ct != "application/sdp" || !strings.Contains(inv.text, "m=audio ") {
		t.Errorf("kefu's INVITE to the destination has Content-Type %q and no SDP audio:\n%s", ct, inv.text)
	}
	d.first(t, false, "ACK", "")
	destBye := d.first(t, false, "BYE", "")
	callerBye := r.first(t, true, "BYE", "")
	if destBye.at.Before(callerBye.at) {
		t.Errorf("kefu hung up on the destination at %v, before the caller did at %v", destBye.at, callerBye.at)
	}
	if byes := r.find(false, "BYE", ""); len(byes) > 0 {
		t.Errorf("kefu sent the caller %d BYE; the caller hung up first", len(byes))
	}
	be := a.waitEntry(t, "bridge ended", 10*time.Second)
	if be.str("by") != "caller_hangup" {
		t.Errorf("bridge ended by %q, want caller_hangup", be.str("by"))
	}
	// Four seconds of 50 packets a second each way.
	for _, k := range []string{"relayed_to_destination", "relayed_to_caller", "rtp_sent", "rtp_received"} {
		if n := be.num(k); n < 100 {
			t.Errorf("bridge ended with %s %v, want over 100 (4 s of audio)", k, n)
		}
	}
	if end := a.waitEntry(t, "call ended", 5*time.Second); end.str("cause") != "caller hung up" {
		t.Errorf("call ended with cause %q, want %q", end.str("cause"), "caller hung up")
	}
	checkTransfers(t, a, map[string]float64{"refer/refused": 1, "bridge/ok": 1})
}

// TestIntegrationTransferDestinationBusy: REFER refused (405) and the
// destination busy (486): the transfer fails, the call stays up with kefu's
// stream going on, and the flow's on_fail step says goodbye before kefu
// hangs up.
func TestIntegrationTransferDestinationBusy(t *testing.T) {
	integration(t)
	t.Parallel()
	dest := startSippUAS(t, "uas_busy.xml", 40*time.Second)
	a := startAgent(t, "-config", transferConfig(t, dest.port))
	s := newSipp(t, a)
	writeULawSilenceWAV(t, filepath.Join(s.dir, "silence.wav"), time.Second)
	r := s.run("uac_refer_refuse_wait.xml", 40*time.Second)
	s.expect(r, 0)
	d := dest.wait()

	// After the 486 the caller is told the transfer failed and hears the
	// whole goodbye, then kefu's BYE.
	busy := d.first(t, true, "SIP/2.0 486", "")
	bye := r.first(t, false, "BYE", "")
	say := promptTime(t, a, "transfer.failed") + promptTime(t, a, "close.bye")
	if gap := bye.at.Sub(busy.at); gap < say-100*time.Millisecond || gap > say+3*time.Second {
		t.Errorf("kefu's BYE came %v after the destination's 486, want the failure and the goodbye (%v) first", gap, say)
	}
	tr := a.entries("transfer")
	if len(tr) != 2 || tr[1].str("how") != "bridge" || tr[1].str("outcome") != "refused" || tr[1].num("code") != 486 {
		t.Errorf("transfer log lines %v, want refer then bridge refused 486", tr)
	}
	ff := a.waitEntry(t, "flow finished", 5*time.Second)
	if steps := fmt.Sprint(ff["steps"]); !strings.Contains(steps, "sorry") || ff.str("hung_up_by") != "agent" {
		t.Errorf("flow finished with steps %s, hung_up_by %q; want the sorry step, then agent", steps, ff.str("hung_up_by"))
	}
	end := a.waitEntry(t, "call ended", 5*time.Second)
	if end.str("cause") != "agent hung up" {
		t.Errorf("call ended with cause %q, want %q", end.str("cause"), "agent hung up")
	}
	// kefu's stream to the caller went on through the failed transfer:
	// about 50 packets a second from the ACK to the BYE.
	ack := r.first(t, true, "ACK", "1 ACK")
	if want := 0.9 * 50 * bye.at.Sub(ack.at).Seconds(); end.num("rtp_sent") < want {
		t.Errorf("kefu sent the caller %v RTP packets, want at least %.0f", end.num("rtp_sent"), want)
	}
	checkTransfers(t, a, map[string]float64{"refer/refused": 1, "bridge/refused": 1})
}
