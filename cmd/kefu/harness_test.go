package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// The integration tests drive the real kefu binary on loopback with real
// SIP peers (sipp, baresip, kefu dial). They build the binary once.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func kefuBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kefu-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kefu")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// needTool skips a test when a peer program is missing, except under CI
// (CI=true), where a missing tool is a failure: .ci/run installs them.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI must install it: see .ci/run)", name)
		}
		pkg := map[string]string{"sipp": "sip-tester"}[name]
		if pkg == "" {
			pkg = name
		}
		t.Skipf("%s is not installed; apt-get install %s to run this test", name, pkg)
	}
	return p
}

func integration(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
}

// agent is a running kefu.
type agent struct {
	t       *testing.T
	cmd     *exec.Cmd
	sip     string // host:port
	http    string
	data    string // its data directory
	log     *syncBuffer
	exited  chan struct{} // closed when the process has exited
	exitErr error         // its Wait result, valid once exited is closed
}

// syncBuffer is a bytes.Buffer safe for the process's writes and our reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startAgent runs kefu with free ports and extra flags, and waits until its
// ops endpoint answers. The test's cleanup stops it. If kefu loses a race for
// one of its ports to another process it is started again on new ones.
func startAgent(t *testing.T, extra ...string) *agent {
	t.Helper()
	for range 3 {
		a, healthy := tryStartAgent(t, extra)
		if healthy {
			return a
		}
		if !strings.Contains(a.log.String(), "address already in use") {
			t.Fatalf("kefu exited at start: %v\n%s", a.exitErr, a.log.String())
		}
		t.Logf("kefu lost a port race, starting again: %s", strings.TrimSpace(a.log.String()))
	}
	t.Fatal("kefu could not bind its ports in three tries")
	return nil
}

// tryStartAgent starts kefu once; it reports false if kefu exited before it
// became healthy.
func tryStartAgent(t *testing.T, extra []string) (*agent, bool) {
	t.Helper()
	bin := kefuBinary(t)
	sipPort, httpPort := freePort(t), freePort(t)
	rtpLo := freeBlock(t, 202)
	a := &agent{t: t, sip: fmt.Sprintf("127.0.0.1:%d", sipPort), http: fmt.Sprintf("127.0.0.1:%d", httpPort), data: t.TempDir(), log: &syncBuffer{}, exited: make(chan struct{})}
	args := append([]string{"run", "-listen", a.sip, "-http", a.http, "-rtp-ports", fmt.Sprintf("%d-%d", rtpLo, rtpLo+200),
		"-data", a.data, "-log-level", "debug"}, extra...)
	a.cmd = exec.Command(bin, args...)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		a.exitErr = a.cmd.Wait()
		close(a.exited)
	}()
	// Loading the prompts takes a second or two of CPU; on a machine busy
	// with the other tests' calls it can take much longer.
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + a.http + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				t.Cleanup(a.stop)
				return a, true
			}
		}
		select {
		case <-a.exited:
			return a, false
		case <-time.After(50 * time.Millisecond):
		}
	}
	a.stop()
	t.Fatalf("kefu did not become healthy\n%s", a.log.String())
	return nil, false
}

// stop sends kefu SIGTERM, kills it if it has not exited after 15 s, and logs
// its output if the test failed.
func (a *agent) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
	case <-time.After(15 * time.Second):
		_ = a.cmd.Process.Kill()
		<-a.exited
	}
	if a.t.Failed() {
		a.t.Logf("kefu log:\n%s", a.log.String())
	}
}

// writeFile writes a test's input file.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// configFile writes a kefu configuration for the test and returns its path.
func configFile(t *testing.T, yaml string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "kefu.yaml")
	writeFile(t, file, yaml)
	return file
}

// metrics returns kefu's Prometheus exposition.
func (a *agent) metrics() string {
	a.t.Helper()
	res, err := http.Get("http://" + a.http + "/metrics")
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return string(b)
}

// metric returns the value of one sample of the exposition (name with its
// labels as printed, e.g. `kefu_flood_denied_total{action="reject",...}`),
// 0 when absent.
func metric(exposition, sample string) float64 {
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

// timelineEvent is one line of `kefu dial`'s output.
type timelineEvent struct {
	T     float64 `json:"t"`
	Ev    string  `json:"ev"`
	Code  int     `json:"code"`
	Dur   float64 `json:"dur"`
	Level float64 `json:"level_db"`
}

// dial runs `kefu dial` against the agent and returns its timeline and exit
// code.
func dial(t *testing.T, ctx context.Context, a *agent, args ...string) ([]timelineEvent, int, string) {
	t.Helper()
	return dialAt(t, ctx, a.sip, args...)
}

// dialAt runs `kefu dial` against the SIP address addr (a kefu, or a
// proxy in front of kefu nodes) and returns its timeline and exit code.
func dialAt(t *testing.T, ctx context.Context, addr string, args ...string) ([]timelineEvent, int, string) {
	t.Helper()
	full := append([]string{"dial"}, args...)
	full = append(full, "sip:hotline@"+addr)
	cmd := exec.CommandContext(ctx, kefuBinary(t), full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kefu dial: %v", err)
	}
	var evs []timelineEvent
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var ev timelineEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("timeline line %q: %v", sc.Text(), err)
		}
		evs = append(evs, ev)
	}
	return evs, code, stdout.String() + stderr.String()
}

// dialRecorded runs `kefu dial -record` against the agent, fails the test
// unless the call succeeded, and returns the timeline, the output and the
// 8 kHz audio the caller received.
func dialRecorded(t *testing.T, ctx context.Context, a *agent, args ...string) ([]timelineEvent, string, []int16) {
	t.Helper()
	wav := filepath.Join(t.TempDir(), "heard.wav")
	evs, code, out := dial(t, ctx, a, append(args, "-record", wav)...)
	if code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	return evs, out, readAudio(t, wav)
}

// readAudio decodes an audio file (WAV, MP3) to 8 kHz mono, as prompts
// are, failing the test when it cannot.
func readAudio(t *testing.T, file string) []int16 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pcm, err := prompts.Decode(file, f)
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// stretches returns the [start, end] of each stretch of audio heard.
func stretches(evs []timelineEvent) [][2]float64 {
	var out [][2]float64
	for _, e := range evs {
		switch e.Ev {
		case "audio_start":
			out = append(out, [2]float64{e.T, -1})
		case "audio_end":
			if n := len(out); n > 0 && out[n-1][1] < 0 {
				out[n-1][1] = e.T
			}
		}
	}
	return out
}

func find(evs []timelineEvent, name string) (timelineEvent, bool) {
	for _, e := range evs {
		if e.Ev == name {
			return e, true
		}
	}
	return timelineEvent{}, false
}

// waitLog waits until the agent's log contains s.
func (a *agent) waitLog(s string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if strings.Contains(a.log.String(), s) {
			return true
		}
		select {
		case <-a.exited:
			return strings.Contains(a.log.String(), s)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return false
}
