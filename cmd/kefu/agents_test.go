package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// queueForAgents is the test flow of the agents' tests: wait in the
// customers queue for an agent, then the closing.
const queueForAgents = `routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: wait
        queue: {queue: customers, on_answer: after, on_timeout: after}
      - name: after
        close: {}
        exception: a test flow, the closing after the agent
`

// Two tones tell the two phones apart in the recordings: the caller sends
// callerHz, the agent agentHz.
const (
	callerHz = 700.0
	agentHz  = 1300.0
)

// baresipAgent is a baresip that answers calls by itself at a fixed
// contact (an agent's desk phone reached without registration), sends a
// tone and dumps what it receives.
type baresipAgent struct {
	dir, contact string
	cmd          *exec.Cmd
	out          *syncBuffer
}

// startBaresipAgent runs baresip as agent id on a free port for life.
func startBaresipAgent(t *testing.T, id string, life time.Duration) *baresipAgent {
	t.Helper()
	baresip := needTool(t, "baresip")
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone.wav")
	writeSineWAV(t, tone, agentHz, 60*time.Second)
	port := freePort(t)
	writeBaresipConfig(t, dir, port, tone, "sndfile")
	writeFile(t, filepath.Join(dir, "accounts"), fmt.Sprintf("<sip:%s@127.0.0.1:%d>;regint=0;answermode=auto\n", id, port))
	ctx, cancel := context.WithTimeout(context.Background(), life)
	b := &baresipAgent{dir: dir, contact: fmt.Sprintf("sip:%s@127.0.0.1:%d", id, port), out: &syncBuffer{}}
	b.cmd = exec.CommandContext(ctx, baresip, "-f", dir, "-t", fmt.Sprint(int(life.Seconds())))
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.out
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("baresip: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = b.cmd.Wait()
	})
	return b
}

// heard returns what the agent's phone received in its one call, once
// baresip has closed the call's dump (a few seconds at most).
func (b *baresipAgent) heard(t *testing.T) []int16 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		dumps, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
		if len(dumps) == 1 {
			if f, err := os.Open(dumps[0]); err == nil {
				pcm, err := prompts.Decode(dumps[0], f)
				f.Close()
				if err == nil && len(pcm) > 0 {
					return pcm
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent's baresip dumped %d calls, want 1 finished dump\n%s", len(dumps), tail(b.out.String(), 3000))
		}
		select {
		case <-t.Context().Done():
			t.Fatal("test ended")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeSineWAV writes d of a sine at hz, -20 dBFS, 8 kHz mono.
func writeSineWAV(t *testing.T, path string, hz float64, d time.Duration) {
	t.Helper()
	pcm := make([]int16, int(d.Seconds()*8000))
	for i := range pcm {
		pcm[i] = int16(3277 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	writeWAVFile(t, path, audio.Format{Rate: 8000, Channels: 1}, pcm)
}

// toneShare is the share of pcm's power at hz (Goertzel over 100 ms
// blocks), 0..1: near 1 for that tone alone, near 0 for speech or another
// tone.
func toneShare(pcm []int16, hz float64) float64 {
	const n = 800
	coef := 2 * math.Cos(2*math.Pi*hz/8000)
	var at, all float64
	for off := 0; off+n <= len(pcm); off += n {
		var s1, s2, e float64
		for _, v := range pcm[off : off+n] {
			x := float64(v)
			s1, s2 = x+coef*s1-s2, s1
			e += x * x
		}
		at += (s1*s1 + s2*s2 - coef*s1*s2) * 2 / n
		all += e
	}
	if all == 0 {
		return 0
	}
	return at / all
}

// TestIntegrationAgentPickUp: a caller queues for an agent whose desk
// phone (baresip, a fixed contact) answers the offer: the caller hears the
// true ask, then the thanks (a short wait), then the agent — the agent's
// tone arrives at the caller and the caller's at the agent — and when the
// caller hangs up, the agent's phone gets BYE.
func TestIntegrationAgentPickUp(t *testing.T) {
	integration(t)
	t.Parallel()
	ag := startBaresipAgent(t, "8003", 40*time.Second)
	cfg := configFile(t, fmt.Sprintf(`
queues:
  - name: customers
    ring_timeout: 10s
agents:
  - id: "8003"
    name: 测试
    contact: %s
    queues: [customers]
`+queueForAgents, ag.contact))
	a := startAgent(t, "-config", cfg)
	dir := t.TempDir()
	tone := filepath.Join(dir, "caller.wav")
	writeSineWAV(t, tone, callerHz, 40*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	evs, out, heard := dialRecorded(t, ctx, a, "-play", tone, "-for", "16s")
	answered := a.waitEntry(t, "agent answered", 5*time.Second)
	if answered.str("agent") != "8003" {
		t.Errorf("agent answered: %v", answered)
	}
	ended := a.waitEntry(t, "agent call ended", 5*time.Second)
	if ended.str("by") != "caller_hangup" {
		t.Errorf("the agent's call ended by %q, want the caller's hang-up\n%s", ended.str("by"), out)
	}
	// The caller: the ask and the thanks (kefu's voice, no tone), then the
	// agent's tone for most of the talk.
	talk := heard[min(len(heard), 9*8000):min(len(heard), 12*8000)]
	if s := toneShare(talk, agentHz); s < 0.5 {
		t.Errorf("the caller heard the agent's %v Hz at %.2f of the power 9–12 s in, want most of it", agentHz, s)
	}
	if s := toneShare(heard[:2*8000], agentHz); s > 0.1 {
		t.Errorf("the caller heard the agent's tone during the ask (%.2f)", s)
	}
	got := ag.heard(t)
	if len(got) < 6*8000 {
		t.Fatalf("the agent received %.1f s", float64(len(got))/8000)
	}
	if !strings.Contains(ag.out.String(), "closed") && !strings.Contains(ag.out.String(), "terminated") {
		t.Errorf("the agent's phone did not see the call end:\n%s", tail(ag.out.String(), 2000))
	}
	if s := toneShare(got[len(got)-3*8000:], callerHz); s < 0.5 {
		t.Errorf("the agent heard the caller's %v Hz at %.2f of the power at the end, want most of it", callerHz, s)
	}
	if s := toneShare(got[:8000], callerHz); s > 0.2 {
		t.Errorf("the agent heard the caller during the whisper (%.2f)", s)
	}
	if _, ok := find(evs, "answered"); !ok {
		t.Errorf("the caller's timeline has no answer: %v", evs)
	}
}

// TestIntegrationAgentTransfer: an agent's desk phone (sipp) takes a
// queued caller, then presses its transfer key to the supervisors queue
// (REFER): kefu accepts it, tells the phone it is done (NOTIFY 200), ends
// the agent's call, and the caller hears the true ask again and waits for
// a supervisor; a REFER to a number would have been refused.
func TestIntegrationAgentTransfer(t *testing.T) {
	integration(t)
	t.Parallel()
	uas := startSippUAS(t, "uas_agent_refer.xml", 40*time.Second, "-rtp_echo")
	cfg := configFile(t, fmt.Sprintf(`
queues:
  - name: customers
  - name: supervisors
    max_wait: 30s
agents:
  - id: "8001"
    contact: sip:8001@127.0.0.1:%d
    queues: [customers]
`+queueForAgents, uas.port))
	a := startAgent(t, "-config", cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, out := dialRecordedNoAudio(t, ctx, a, "-for", "20s")
	r := uas.wait()
	if n := r.first(t, false, "NOTIFY", ""); !strings.Contains(n.text, "SIP/2.0 200") {
		t.Errorf("NOTIFY to the agent's phone:\n%s", n.text)
	}
	tr := a.waitEntry(t, "agent transfers the caller", 5*time.Second)
	if tr.str("to") != "supervisors" {
		t.Errorf("agent transfer %v", tr)
	}
	joined := 0
	for _, e := range a.entries("flow") {
		if e.str("what") == "queue" && strings.HasPrefix(e.str("detail"), "joined ") {
			joined++
			if joined == 2 && !strings.HasPrefix(e.str("detail"), "joined supervisors") {
				t.Errorf("after the transfer the caller %s, want the supervisors queue", e.str("detail"))
			}
		}
	}
	if joined != 2 {
		t.Errorf("the caller joined %d queues, want customers then supervisors\n%s", joined, out)
	}
}

// dialRecordedNoAudio runs kefu dial, failing the test unless the call
// succeeded; it returns the timeline and the output.
func dialRecordedNoAudio(t *testing.T, ctx context.Context, a *agent, args ...string) ([]timelineEvent, string) {
	t.Helper()
	evs, code, out := dial(t, ctx, a, args...)
	if code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	return evs, out
}
