package softphone

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestIntegrationAgentSIPpCaller runs kefu agent's command line against
// the fake registrar, with sipp as the caller: the agent rings, answers
// after 500 ms, plays a tone, records sipp's tones.ul and hangs up after
// 5 s; the recording must hold sipp's two tones 3 s apart, and the run
// must end un-registered with exit 0 after its one call.
func TestIntegrationAgentSIPpCaller(t *testing.T) {
	requireSIPp(t)
	k := newFakeKefu(t, "kefu-8001-secret", "MD5")
	port := freePort(t)
	dir := t.TempDir()
	tone := writeTone(t, 500*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- AgentMain(ctx, []string{"-id", "8001", "-password", "kefu-8001-secret", "-listen", "127.0.0.1:" + strconv.Itoa(port),
			"-answer-after", "500ms", "-hangup-after", "5s", "-calls", "1", "-record", dir, "-play", tone, k.uri()}, &out, &errb)
	}()
	if reg := k.waitReg(); reg.code != 200 {
		t.Fatalf("registration: %+v", reg)
	}
	uac := startSIPp(t, "uac_agent.xml", "-s", "8001", "127.0.0.1:"+strconv.Itoa(port))
	if err := uac.wait(t); err != nil {
		t.Errorf("sipp scenario failed (%v):\n%s", err, lastLines(uac.out.String(), 40))
	}
	var code int
	select {
	case code = <-exit:
	case <-ctx.Done():
		t.Fatal("kefu agent did not stop after its call")
	}
	t.Logf("timeline:\n%s", out.String())
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
	}
	evs := parseTimeline(t, out.String())
	ans := find(evs, "answered")
	if len(find(evs, "ringing")) != 1 || len(ans) != 1 || ans[0].Codec != "PCMU" {
		t.Fatalf("want one ringing and one PCMU answer")
	}
	if bye := find(evs, "bye_sent"); len(bye) != 1 || bye[0].Code != 200 || !near(bye[0].T-ans[0].T, 5, 0.3) {
		t.Errorf("bye_sent = %+v, want one 200 5 s after the answer", bye)
	}
	if len(find(evs, "unregistered")) != 1 || evs[len(evs)-1].Ev != "done" {
		t.Errorf("the run must un-register and end with done")
	}
	if reg := k.waitReg(); reg.expires != 0 {
		t.Errorf("last REGISTER %+v, want Expires: 0", reg)
	}

	files, _ := filepath.Glob(filepath.Join(dir, "1-*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings %v, want one 1-<call-id>.wav", files)
	}
	pcm := readWAV(t, files[0])
	got := FindStretches(0, pcm, DetectorConfig{})
	const tol = 0.03
	if len(got) != 2 || !near(got[0].Duration().Seconds(), 1, tol) || !near(got[1].Duration().Seconds(), 1, tol) ||
		!near((got[1].Start-got[0].Start).Seconds(), 3, tol) || !near(got[0].LevelDB, -13.5, 1.5) {
		t.Errorf("the recording holds %+v, want sipp's two 1 s tones 3 s apart at about -13.5 dBFS", got)
	}
}
