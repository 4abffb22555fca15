package softphone

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// requireSIPp returns the sipp binary, or skips the test when it is not
// installed; under CI=true a missing sipp fails the test instead.
func requireSIPp(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sipp is required in CI (Debian package sip-tester): %v", err)
		}
		t.Skipf("sipp not installed (apt-get install sip-tester): %v", err)
	}
	return path
}

// freePort returns a UDP port on loopback that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sippUAS is a sipp process serving one call with a scenario from testdata.
type sippUAS struct {
	addr   string
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan error
}

// startSIPp runs sipp as a UAS on a free loopback port, in a scratch
// directory holding the scenario and tones.wav. It is killed at the end of
// the test if it is still running.
func startSIPp(t *testing.T, scenario string, extra ...string) *sippUAS {
	t.Helper()
	bin := requireSIPp(t)
	dir := t.TempDir()
	for _, f := range []string{scenario, "tones.wav"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	args := append([]string{
		"-sf", scenario, "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t) &^ 1),
		"-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error",
	}, extra...)
	s := &sippUAS{addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan error, 1)}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
	return s
}

// wait waits (bounded) for sipp to finish its one call and returns its
// exit status: nil when the scenario passed.
func (s *sippUAS) wait(t *testing.T) error {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case err := <-s.exited:
		return err
	case <-timer.C:
		t.Fatalf("sipp did not exit; output:\n%s", lastLines(s.out.String(), 40))
		return nil
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// jsonEvent is one decoded timeline line.
type jsonEvent struct {
	T       float64 `json:"t"`
	Ev      string  `json:"ev"`
	Code    int     `json:"code"`
	Codec   string  `json:"codec"`
	LevelDB float64 `json:"level_db"`
	Dur     float64 `json:"dur"`
	Packets int     `json:"packets"`
	Error   string  `json:"error"`
}

func parseTimeline(t *testing.T, out string) []jsonEvent {
	t.Helper()
	var evs []jsonEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e jsonEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("timeline line %q: %v", sc.Text(), err)
		}
		evs = append(evs, e)
	}
	return evs
}

func find(evs []jsonEvent, kind string) []jsonEvent {
	var out []jsonEvent
	for _, e := range evs {
		if e.Ev == kind {
			out = append(out, e)
		}
	}
	return out
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// runDial runs the command line as `kefu dial` would, bounded by a
// deadline.
func runDial(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	code = Main(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

// TestIntegrationAnswerAudioBye calls a sipp UAS that answers, streams
// tones.wav (1 s tone, 2 s silence, 1 s tone) and hangs up after 5 s. The
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

	f, err := os.Open(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, err := prompts.Decode(rec, f)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
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
