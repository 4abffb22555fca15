package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media/audio"
)

// The sipp tests drive kefu with the scenarios of testdata/sipp (one call
// each, sipp as the caller) and check sipp's verdict, sipp's message log
// (wall-clock times of what was sent and received) and kefu's JSON log.

// sipp runs scenarios against one agent; each run gets its own ports.
type sipp struct {
	t   *testing.T
	a   *agent
	bin string
	dir string       // working directory: scenario files refer to silence.wav here
	n   atomic.Int64 // runs so far, for file names (runs may be concurrent)
}

func newSipp(t *testing.T, a *agent) *sipp {
	t.Helper()
	return &sipp{t: t, a: a, bin: needTool(t, "sipp"), dir: t.TempDir()}
}

// sippResult is what one run of sipp left behind.
type sippResult struct {
	name   string
	code   int
	out    string // sipp's screen
	errs   string // -trace_err
	msgLog string // -trace_msg
	logs   string // -trace_logs: the scenario's <log> actions
	msgs   []sippMsg
	port   int // sipp's local SIP port
}

// sippMsg is one SIP message sipp sent or received.
type sippMsg struct {
	at        time.Time
	sent      bool
	transport string // UDP or TCP
	text      string
}

// start returns the start line.
func (m sippMsg) start() string {
	line, _, _ := strings.Cut(m.text, "\n")
	return strings.TrimSpace(line)
}

// header returns the value of the first header called name.
func (m sippMsg) header(name string) string {
	for _, line := range strings.Split(m.text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// run runs scenario (a file in testdata/sipp) with sipp's own timeout and
// extra arguments, and returns what happened. It never fails the test by
// itself: see expect.
func (s *sipp) run(scenario string, timeout time.Duration, extra ...string) *sippResult {
	t := s.t
	t.Helper()
	n := s.n.Add(1)
	sf, err := filepath.Abs(filepath.Join("..", "..", "testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(s.dir, fmt.Sprintf("%d-%s", n, strings.TrimSuffix(scenario, ".xml")))
	r := &sippResult{name: scenario, port: freePort(t)}
	args := append([]string{s.a.sip, "-sf", sf, "-m", "1", "-i", "127.0.0.1", "-mi", "127.0.0.1",
		"-p", fmt.Sprint(r.port), "-mp", fmt.Sprint(freeBlock(t, 4)), "-cp", fmt.Sprint(freePort(t)),
		"-nostdin", "-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error",
		"-trace_err", "-error_file", base + "_errors.log",
		"-trace_msg", "-message_file", base + "_messages.log",
		"-trace_logs", "-log_file", base + "_logs.log"}, extra...)
	ctx, cancel := context.WithTimeout(t.Context(), timeout+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Dir = s.dir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	r.out = string(out)
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("sipp %s: %v\n%s", scenario, err, out)
	}
	if ctx.Err() != nil {
		t.Errorf("sipp %s did not end by itself within %v", scenario, timeout+20*time.Second)
	}
	e, _ := os.ReadFile(base + "_errors.log")
	r.errs = string(e)
	l, _ := os.ReadFile(base + "_logs.log")
	r.logs = string(l)
	m, _ := os.ReadFile(base + "_messages.log")
	r.msgLog = string(m)
	r.msgs = parseSippMessages(t, r.msgLog)
	return r
}

// expect checks sipp's exit code (0: the call went as the scenario says)
// and logs sipp's errors and messages when it is not want.
func (s *sipp) expect(r *sippResult, want int) {
	s.t.Helper()
	if r.code == want {
		return
	}
	s.t.Errorf("sipp %s exit %d, want %d", r.name, r.code, want)
	s.t.Logf("sipp errors (-trace_err):\n%s", r.errs)
	s.t.Logf("sipp <log> actions (-trace_logs):\n%s", r.logs)
	s.t.Logf("sipp messages (-trace_msg):\n%s", r.msgLog)
	s.t.Logf("sipp screen (last part):\n%s", tail(r.out, 3000))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// parseSippMessages reads sipp's -trace_msg file: each message follows a
// line of dashes with the local time, then "UDP message sent (N bytes):" or
// "UDP message received [N] bytes :".
func parseSippMessages(t *testing.T, log string) []sippMsg {
	t.Helper()
	var out []sippMsg
	var cur *sippMsg
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.text = strings.TrimLeft(body.String(), "\r\n")
			out = append(out, *cur)
		}
		cur = nil
		body.Reset()
	}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "-----------------------------------------------"); ok && strings.Count(rest, "-") > 1 && len(strings.Fields(rest)) == 2 {
			flush()
			f := strings.Fields(rest)
			at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", f[0]+" "+f[1], time.Local)
			if err != nil {
				t.Fatalf("sipp message log: time %q: %v", rest, err)
			}
			cur = &sippMsg{at: at}
			continue
		}
		if cur != nil && cur.transport == "" && strings.Contains(line, " message ") {
			cur.transport, _, _ = strings.Cut(line, " ")
			cur.sent = strings.Contains(line, " sent")
			continue
		}
		body.WriteString(line + "\n")
	}
	flush()
	return out
}

// find returns the messages sipp sent (sent) or received whose start line
// begins with prefix and, if cseq is not empty, whose CSeq is cseq.
func (r *sippResult) find(sent bool, prefix, cseq string) []sippMsg {
	var out []sippMsg
	for _, m := range r.msgs {
		if m.sent == sent && strings.HasPrefix(m.start(), prefix) && (cseq == "" || m.header("CSeq") == cseq) {
			out = append(out, m)
		}
	}
	return out
}

// first is find's first result; it fails the test if there is none.
func (r *sippResult) first(t *testing.T, sent bool, prefix, cseq string) sippMsg {
	t.Helper()
	ms := r.find(sent, prefix, cseq)
	if len(ms) == 0 {
		dir := "received"
		if sent {
			dir = "sent"
		}
		t.Fatalf("sipp %s never %s %q (CSeq %q)\n%s", r.name, dir, prefix, cseq, r.msgLog)
	}
	return ms[0]
}

// writeULawSilenceWAV writes d of G.711 μ-law digital silence (0xFF) as a WAV
// file (format 7, 8 kHz, mono), the input of sipp's rtp_stream.
func writeULawSilenceWAV(t *testing.T, path string, d time.Duration) {
	t.Helper()
	writeWAVFile(t, path, audio.Format{Rate: 8000, Channels: 1, Encoding: audio.ULaw}, make([]int16, int(d.Seconds()*8000)))
}

// writeWAVFile writes pcm to path as a WAV file in format f.
func writeWAVFile(t *testing.T, path string, f audio.Format, pcm []int16) {
	t.Helper()
	var b bytes.Buffer
	if err := audio.WriteWAV(&b, f, pcm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logEntry is one line of kefu's JSON log.
type logEntry map[string]any

// entries returns kefu's log lines whose msg is msg.
func (a *agent) entries(msg string) []logEntry {
	var out []logEntry
	for _, line := range strings.Split(a.log.String(), "\n") {
		if !strings.Contains(line, `"msg":"`+msg+`"`) {
			continue
		}
		var e logEntry
		if json.Unmarshal([]byte(line), &e) == nil && e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// waitEntry waits for the first log line whose msg is msg.
func (a *agent) waitEntry(t *testing.T, msg string, within time.Duration) logEntry {
	t.Helper()
	if !a.logged(msg, within) {
		t.Fatalf("kefu did not log %q within %v", msg, within)
	}
	return a.entries(msg)[0]
}

// logged waits until kefu logs a line whose msg is msg.
func (a *agent) logged(msg string, within time.Duration) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(within)
	for len(a.entries(msg)) == 0 {
		select {
		case <-timeout:
			return len(a.entries(msg)) > 0
		case <-tick.C:
		}
	}
	return true
}

func (e logEntry) str(k string) string { s, _ := e[k].(string); return s }

func (e logEntry) num(k string) float64 { f, _ := e[k].(float64); return f }
