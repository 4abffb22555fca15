package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
)

// phone is a running `kefu agent`: its JSON-lines timeline as it comes.
type phone struct {
	mu     sync.Mutex
	events []map[string]any
	seen   chan struct{} // signalled on every event
	done   chan struct{}
	out    *syncBuffer
}

// startPhone runs `kefu agent` against a with args (besides the target).
func startPhone(t *testing.T, a *agent, args ...string) *phone {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, kefuBinary(t), append(append([]string{"agent"}, args...), "sip:"+a.sip)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{seen: make(chan struct{}, 1), done: make(chan struct{}), out: &syncBuffer{}}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev map[string]any
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				p.mu.Lock()
				p.events = append(p.events, ev)
				p.mu.Unlock()
				select {
				case p.seen <- struct{}{}:
				default:
				}
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
	})
	return p
}

// wait returns the first event named ev, waiting up to within for it.
func (p *phone) wait(t *testing.T, ev string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(within)
	for {
		p.mu.Lock()
		for _, e := range p.events {
			if e["ev"] == ev {
				p.mu.Unlock()
				return e
			}
		}
		p.mu.Unlock()
		select {
		case <-p.seen:
		case <-p.done:
			p.mu.Lock()
			n := len(p.events)
			p.mu.Unlock()
			if n == 0 || p.events[n-1]["ev"] != ev {
				t.Fatalf("kefu agent ended without %q: %v\n%s", ev, p.events, p.out.String())
			}
		case <-deadline:
			t.Fatalf("kefu agent: no %q within %v: %v\n%s", ev, within, p.events, p.out.String())
		}
	}
}

// agentStates reads /api/agents.
func agentStates(t *testing.T, a *agent) map[string]agents.Status {
	t.Helper()
	resp, err := http.Get("http://" + a.http + "/api/agents")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []agents.Status
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	out := map[string]agents.Status{}
	for _, s := range list {
		out[s.ID] = s
	}
	return out
}

// TestIntegrationAgentSignsInAndServes: an agent's phone (kefu agent)
// registers with its digest password and is available at once; a caller
// queued for it is put through (the agent's phone shows the caller's
// number and the queue), the two hear each other, and when the agent
// hangs up the caller goes on in the flow: the survey. The agent is in
// wrap-up afterwards; a wrong password is refused.
func TestIntegrationAgentSignsInAndServes(t *testing.T) {
	integration(t)
	t.Parallel()
	cfg := configFile(t, `
queues:
  - name: customers
    wrap_up: 30s
agents:
  - id: "8001"
    name: 王芳
    password: kefu-8001-secret
    queues: [customers]
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: wait
        queue: {queue: customers, on_answer: rate, on_timeout: rate}
      - name: rate
        survey: {}
        next: end
      - name: end
        close: {}
        exception: a test flow, the closing after the survey
`)
	a := startAgent(t, "-config", cfg)
	dir := t.TempDir()
	bad := startPhone(t, a, "-id", "8001", "-password", "wrong", "-for", "5s")
	bad.wait(t, "register_failed", 10*time.Second)

	agentTone, callerTone := filepath.Join(dir, "agent.wav"), filepath.Join(dir, "caller.wav")
	writeSineWAV(t, agentTone, agentHz, 30*time.Second)
	writeSineWAV(t, callerTone, callerHz, 40*time.Second)
	rec := t.TempDir()
	ph := startPhone(t, a, "-id", "8001", "-password", "kefu-8001-secret", "-play", agentTone, "-record", rec,
		"-answer-after", "1s", "-hangup-after", "8s", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	if st := agentStates(t, a)["8001"]; st.State != agents.Available || !st.Registered {
		t.Fatalf("agent after registering: %+v", st)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	evs, out, heard := dialRecorded(t, ctx, a, "-from", "sip:13812345678@127.0.0.1", "-play", callerTone, "-for", "30s")
	offered := ph.wait(t, "offered", time.Second)
	if !strings.Contains(fmt.Sprint(offered["from"]), "13812345678") || offered["queue"] != "customers" {
		t.Errorf("the agent's phone was offered %v, want the caller's number and the queue", offered)
	}
	ph.wait(t, "bye_sent", time.Second)
	if _, ok := find(evs, "answered"); !ok {
		t.Fatalf("caller not answered:\n%s", out)
	}
	// The survey follows the agent's hang-up.
	steps := ""
	for _, e := range a.entries("flow") {
		if e.str("what") == "step" {
			steps += e.str("detail") + " "
		}
	}
	if !strings.Contains(steps, "rate (survey)") {
		t.Errorf("the flow after the agent: %s; want the survey", steps)
	}
	// The call's record: the queue, the wait, the agent and the talk.
	ff := a.waitEntry(t, "flow finished", 10*time.Second)
	if ff.str("agent") != "8001" || ff.str("queue") != "customers" || ff.str("agent_ended_by") != "agent" ||
		ff.num("talk_s") < 4 || ff.num("talk_s") > 7 || ff.num("queue_wait_s") < 4 || ff.num("ring_s") < 0.8 {
		t.Errorf("flow finished %v; want agent 8001 from customers, about 5 s of talk (8 s from the answer less the thanks) ended by the agent, the wait and the ring", ff)
	}
	if st := agentStates(t, a)["8001"]; st.State != agents.WrapUp || st.CallsToday != 1 {
		t.Errorf("agent after the call: %+v; want wrap-up with one call", st)
	}
	// The caller heard the ask (4.3 s), music while the phone rang (1 s),
	// the thanks (2.7 s), then the agent for 8 s less that.
	if s := toneShare(heard[19*800:25*800], agentHz); s > 0.1 {
		t.Errorf("the caller heard the agent's tone before the bridge (%.2f)", s)
	}
	if s := toneShare(heard[95*800:125*800], agentHz); s < 0.4 {
		t.Errorf("the caller heard the agent's %v Hz at %.2f of the power 9.5–12.5 s in", agentHz, s)
	}
	recs, _ := filepath.Glob(filepath.Join(rec, "*.wav"))
	if len(recs) != 1 {
		t.Fatalf("the agent's recordings: %v", recs)
	}
	got := readAudio(t, recs[0])
	if s := toneShare(got[len(got)-3*8000:], callerHz); s < 0.4 {
		t.Errorf("the agent heard the caller's %v Hz at %.2f of the power at the end", callerHz, s)
	}
}

// twoAgentsConfig is a queue two registered agents serve, with a short
// ring timeout.
const twoAgentsConfig = `
queues:
  - name: customers
    ring_timeout: 5s
agents:
  - {id: "8001", password: secret-8001, queues: [customers]}
  - {id: "8002", password: secret-8002, queues: [customers]}
` + queueForAgents

// TestIntegrationAgentRingTimeout: the agent idle longest (signed in
// first) lets the offer ring out: after the ring timeout kefu cancels it
// (CANCEL, the phone stops ringing), counts the miss, and offers the caller
// to the next agent, who answers.
func TestIntegrationAgentRingTimeout(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", configFile(t, twoAgentsConfig))
	first := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-no-answer", "-for", "2m")
	first.wait(t, "registered", 10*time.Second)
	second := startPhone(t, a, "-id", "8002", "-password", "secret-8002", "-answer-after", "500ms", "-hangup-after", "3s", "-for", "2m")
	second.wait(t, "registered", 10*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dialRecordedNoAudio(t, ctx, a, "-for", "25s")
	first.wait(t, "offered", time.Second)
	first.wait(t, "cancelled", time.Second)
	second.wait(t, "answered", time.Second)
	second.wait(t, "bye_sent", time.Second)
	st := agentStates(t, a)
	if st["8001"].Missed != 1 || st["8001"].State != agents.Available {
		t.Errorf("agent 8001 after ringing out: %+v; want available with one miss", st["8001"])
	}
	if st["8002"].CallsToday != 1 {
		t.Errorf("agent 8002: %+v; want one call", st["8002"])
	}
	ff := a.waitEntry(t, "flow finished", 5*time.Second)
	if ff.str("agent") != "8002" || ff.num("ring_s") < 5 {
		t.Errorf("flow finished %v; want agent 8002 after 5 s of ringing 8001", ff)
	}
	if !strings.Contains(a.metrics(), `kefu_agent_offers_total{outcome="no_answer"} 1`) {
		t.Errorf("offers metric: %s", grepLines(a.metrics(), "kefu_agent_offers_total"))
	}
}

// TestIntegrationAgentCancelled: the caller hangs up while an agent's
// phone rings: kefu cancels the offer (the phone gets CANCEL), and the
// agent is free again with no miss counted.
func TestIntegrationAgentCancelled(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", configFile(t, strings.Replace(twoAgentsConfig, "ring_timeout: 5s", "ring_timeout: 15s", 1)))
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-no-answer", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dialRecordedNoAudio(t, ctx, a, "-for", "8s") // hangs up about 3 s into the ringing
	ph.wait(t, "offered", time.Second)
	ph.wait(t, "cancelled", 5*time.Second)
	if st := agentStates(t, a)["8001"]; st.Missed != 0 || st.State != agents.Available {
		t.Errorf("agent after the caller left: %+v; want available, no miss", st)
	}
	if !strings.Contains(a.metrics(), `kefu_agent_offers_total{outcome="released"} 1`) {
		t.Errorf("offers metric: %s", grepLines(a.metrics(), "kefu_agent_offers_total"))
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
