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

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// Helpers for the loopback integration tests: sipp as the far end, the
// softphone run as `kefu dial` would be, and the timeline decoded.

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
	exited chan struct{} // closed when sipp exited; err is then set
	err    error
}

// startSIPp runs sipp as a UAS on a free loopback port, in a scratch
// directory holding the scenario and tones.ul. It is killed at the end of
// the test if it is still running.
func startSIPp(t *testing.T, scenario string, extra ...string) *sippUAS {
	t.Helper()
	bin := requireSIPp(t)
	dir := t.TempDir()
	for _, f := range []string{scenario, "tones.ul"} {
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
	s := &sippUAS{addr: fmt.Sprintf("127.0.0.1:%d", port), exited: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
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
	case <-s.exited:
		return s.err
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

// waitTCP waits, bounded, until something accepts TCP connections at addr.
func waitTCP(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("nothing listens on %s: %v", addr, err)
		case <-tick.C:
		}
	}
}

// readWAV decodes a recording the softphone wrote.
func readWAV(t *testing.T, path string) []int16 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, err := prompts.Decode(path, f)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	return pcm
}

// writeTone writes d of a 600 Hz tone as a 16-bit 8 kHz WAV file.
func writeTone(t *testing.T, d time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tone.wav")
	var b bytes.Buffer
	err := audio.WriteWAV(&b, audio.Format{Rate: media.SampleRate, Channels: 1}, sine(d, 8000))
	if err == nil {
		err = os.WriteFile(path, b.Bytes(), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}
