package softphone

import (
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIntegrationAnswerAudioBye calls a sipp UAS that answers, streams
// tones.ul (1 s tone, 2 s silence, 1 s tone) and hangs up after 5 s. The
// timeline must show the answer, the two tones with their exact gap, and
// the far end's BYE; the recording must hold the same audio.
func TestIntegrationAnswerAudioBye(t *testing.T) {
	uas := startSIPp(t, "uas_bye.xml")
	rec := filepath.Join(t.TempDir(), "rec.wav")
	code, out, stderr := runDial(t, "-record", rec, "-from", "sip:13800138000@127.0.0.1", "sip:4008@"+uas.addr)
	t.Logf("timeline:\n%s", out)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if err := uas.wait(t); err != nil {
		t.Errorf("sipp scenario failed (%v):\n%s", err, lastLines(uas.out.String(), 40))
	}
	evs := parseTimeline(t, out)
	if len(evs) == 0 || evs[0].Ev != "invite" || evs[len(evs)-1].Ev != "done" {
		t.Fatalf("timeline must run from invite to done")
	}
	if p := find(evs, "provisional"); len(p) != 1 || p[0].Code != 180 {
		t.Errorf("provisional = %+v, want one 180", p)
	}
	ans := find(evs, "answered")
	if len(ans) != 1 || ans[0].Code != 200 || ans[0].Codec != "PCMU" {
		t.Fatalf("answered = %+v, want 200 PCMU", ans)
	}
	bye := find(evs, "bye_received")
	if len(bye) != 1 || !near(bye[0].T-ans[0].T, 5, 0.5) {
		t.Errorf("bye_received = %+v, want one about 5 s after the answer at %.3f", bye, ans[0].T)
	}
	if len(find(evs, "bye_sent")) != 0 || len(find(evs, "final")) != 0 {
		t.Errorf("a call the far end hung up has neither bye_sent nor final")
	}
	starts, ends := find(evs, "audio_start"), find(evs, "audio_end")
	rtpStart := find(evs, "rtp_start")
	if len(starts) != 2 || len(ends) != 2 || len(rtpStart) != 1 {
		t.Fatalf("want one rtp_start and two stretches, got %d, %d starts, %d ends", len(rtpStart), len(starts), len(ends))
	}
	const tol = 0.025 // one frame, plus rounding
	for i, want := range []float64{0, 3} {
		if got := starts[i].T - rtpStart[0].T; !near(got, want, tol) {
			t.Errorf("stretch %d starts %.3f s after rtp_start, want %.1f", i, got, want)
		}
		if !near(ends[i].T-starts[i].T, 1, tol) || !near(ends[i].Dur, 1, tol) {
			t.Errorf("stretch %d lasts %.3f s (dur %.3f), want 1.0", i, ends[i].T-starts[i].T, ends[i].Dur)
		}
		if !near(ends[i].LevelDB, -13.5, 1.5) { // a sine at 0.3 of full scale
			t.Errorf("stretch %d level %.1f dBFS, want about -13.5", i, ends[i].LevelDB)
		}
	}
	if gap := starts[1].T - ends[0].T; !near(gap, 2, tol) {
		t.Errorf("gap between the tones %.3f s, want 2.0", gap)
	}
	done := find(evs, "done")[0]
	if done.Packets < 200 {
		t.Errorf("done reports %d packets, want about 250", done.Packets)
	}

	pcm := readWAV(t, rec)
	got := FindStretches(0, pcm, DetectorConfig{})
	if len(got) != 2 || !near(got[0].Start.Seconds(), 0, tol) || !near(got[1].Start.Seconds(), 3, tol) {
		t.Errorf("recording holds stretches %+v, want tones at 0 s and 3 s", got)
	}
}

// TestIntegrationBusy calls a sipp UAS that answers 486: the softphone
// must report the final response and exit non-zero.
func TestIntegrationBusy(t *testing.T) {
	uas := startSIPp(t, "uas_486.xml")
	code, out, stderr := runDial(t, "sip:4008@"+uas.addr)
	t.Logf("timeline:\n%s", out)
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitFailed, stderr)
	}
	if !strings.Contains(stderr, "486") {
		t.Errorf("stderr %q does not name the 486", stderr)
	}
	if err := uas.wait(t); err != nil {
		t.Errorf("sipp scenario failed (%v):\n%s", err, lastLines(uas.out.String(), 40))
	}
	evs := parseTimeline(t, out)
	fin := find(evs, "final")
	if len(fin) != 1 || fin[0].Code != 486 {
		t.Errorf("final = %+v, want one 486", fin)
	}
	if len(find(evs, "answered")) != 0 || evs[len(evs)-1].Ev != "done" {
		t.Errorf("a refused call is never answered and ends with done")
	}
}

// TestIntegrationPlayEcho plays a file to a sipp UAS that echoes RTP back
// and hangs up itself after -for: the echoed file must be heard where and
// as long as it was sent, and the BYE must be answered.
func TestIntegrationPlayEcho(t *testing.T) {
	uas := startSIPp(t, "uas_wait.xml", "-rtp_echo")
	tone := writeTone(t, 600*time.Millisecond)
	code, out, stderr := runDial(t, "-play", tone, "-play-at", "500ms", "-for", "2s", "sip:4008@"+uas.addr)
	t.Logf("timeline:\n%s", out)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if err := uas.wait(t); err != nil {
		t.Errorf("sipp scenario failed (%v):\n%s", err, lastLines(uas.out.String(), 40))
	}
	evs := parseTimeline(t, out)
	ans, play := find(evs, "answered"), find(evs, "play_start")
	starts, ends := find(evs, "audio_start"), find(evs, "audio_end")
	if len(ans) != 1 || len(play) != 1 || len(starts) != 1 || len(ends) != 1 {
		t.Fatalf("want one answered, play_start, audio_start and audio_end")
	}
	if got := play[0].T - ans[0].T; !near(got, 0.5, 0.15) { // a timer: loose under load
		t.Errorf("play_start %.3f s after the answer, want 0.5", got)
	}
	// The echo is timed by the RTP timestamps of our own player, which
	// follow its schedule: a player running late under load stamps the
	// clip's first frame earlier than play_start's wall clock.
	if got := starts[0].T - play[0].T; !near(got, 0.02, 0.1) {
		t.Errorf("echo heard %.3f s after play_start, want within a tick and the player's lag", got)
	}
	if !near(ends[0].Dur, 0.6, 0.025) {
		t.Errorf("echo lasted %.3f s, want 0.6", ends[0].Dur)
	}
	bye := find(evs, "bye_sent")
	if len(bye) != 1 || bye[0].Code != 200 || !near(bye[0].T-ans[0].T, 2, 0.2) {
		t.Errorf("bye_sent = %+v, want one 200 at 2 s after the answer", bye)
	}
}

// TestIntegrationTCPNoMedia calls over TCP and sends no RTP at all; we
// hang up after -for.
func TestIntegrationTCPNoMedia(t *testing.T) {
	uas := startSIPp(t, "uas_wait.xml", "-t", "t1")
	waitTCP(t, uas.addr)
	code, out, stderr := runDial(t, "-transport", "tcp", "-play", "none", "-for", "1s", "sip:4008@"+uas.addr)
	t.Logf("timeline:\n%s", out)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if err := uas.wait(t); err != nil {
		t.Errorf("sipp scenario failed (%v):\n%s", err, lastLines(uas.out.String(), 40))
	}
	evs := parseTimeline(t, out)
	if len(find(evs, "answered")) != 1 || len(find(evs, "rtp_start")) != 0 {
		t.Errorf("want an answered call with no RTP")
	}
	if bye := find(evs, "bye_sent"); len(bye) != 1 || bye[0].Code != 200 {
		t.Errorf("bye_sent = %+v, want one answered 200", bye)
	}
	var done struct {
		Sent int `json:"sent"`
	}
	if err := json.Unmarshal([]byte(lastLines(out, 1)), &done); err != nil || done.Sent != 0 {
		t.Errorf("done line %q: sent must be 0 with -play none (%v)", lastLines(out, 1), err)
	}
}

// TestIntegrationRingNoAnswer gives up on a sipp UAS that rings for ever:
// the softphone must CANCEL (sipp checks the CANCEL and the ACK of the
// 487) and exit non-zero.
func TestIntegrationRingNoAnswer(t *testing.T) {
	uas := startSIPp(t, "uas_ring.xml")
	code, out, stderr := runDial(t, "-answer-timeout", "1s", "sip:4008@"+uas.addr)
	t.Logf("timeline:\n%s", out)
	if code != ExitFailed || !strings.Contains(stderr, "no answer") {
		t.Fatalf("exit %d, stderr %q; want %d and no answer", code, stderr, ExitFailed)
	}
	if err := uas.wait(t); err != nil {
		t.Errorf("sipp scenario failed (%v):\n%s", err, lastLines(uas.out.String(), 40))
	}
	evs := parseTimeline(t, out)
	if len(find(evs, "provisional")) != 1 || len(find(evs, "final")) != 1 || len(find(evs, "answered")) != 0 {
		t.Errorf("want one provisional, one final and no answer")
	}
}

// TestIntegrationSilentPeer calls an address where nothing answers (a
// loopback socket that swallows the INVITE): the softphone abandons the
// transaction at the answer timeout and exits non-zero. No sipp needed.
func TestIntegrationSilentPeer(t *testing.T) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	start := time.Now()
	code, out, stderr := runDial(t, "-answer-timeout", "700ms", "sip:4008@"+sink.LocalAddr().String())
	if code != ExitFailed || !strings.Contains(stderr, "no answer") {
		t.Fatalf("exit %d, stderr %q; want %d and no answer", code, stderr, ExitFailed)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("gave up after %v, want about 0.7 s", took)
	}
	evs := parseTimeline(t, out)
	if fin := find(evs, "final"); len(fin) != 1 || fin[0].Code != 0 || fin[0].Error == "" {
		t.Errorf("final = %+v, want one without a SIP code", fin)
	}
}

// TestIntegrationMax hangs up at -max on a far end that never does, and
// reports the call as failed.
func TestIntegrationMax(t *testing.T) {
	uas := startSIPp(t, "uas_wait.xml")
	code, out, stderr := runDial(t, "-max", "1500ms", "sip:4008@"+uas.addr)
	t.Logf("timeline:\n%s", out)
	if code != ExitFailed || !strings.Contains(stderr, "maximum call duration") {
		t.Fatalf("exit %d, stderr %q; want %d and the -max message", code, stderr, ExitFailed)
	}
	if err := uas.wait(t); err != nil {
		t.Errorf("sipp scenario failed (%v):\n%s", err, lastLines(uas.out.String(), 40))
	}
	evs := parseTimeline(t, out)
	if bye := find(evs, "bye_sent"); len(bye) != 1 || bye[0].Code != 200 || !near(bye[0].T, 1.5, 0.2) {
		t.Errorf("bye_sent = %+v, want one 200 at 1.5 s", bye)
	}
}
