package main

import (
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/store"
	"github.com/kefu-hotline/kefu/media/audio"
)

// amdConfig is callbackConfig's queue and agent with a trunk that
// neither registers nor challenges, and a wrap-up of 30 s, so that an
// agent released without one shows.
func amdConfig(port int) string {
	cfg := strings.Replace(fmt.Sprintf(callbackConfig, port), `    username: "02112345678"
    password: trunk-secret
    register: true
`, "", 1)
	return strings.Replace(cfg, "    wrap_up: 0s\n", "    wrap_up: 30s\n", 1)
}

// writeGreeting writes what the customer's side plays on answering
// (sipp's rtp_stream input, μ-law WAV): 300 ms of quiet, the espeak-ng
// clip of media/amd/testdata, then for a machine 400 ms of quiet and a
// 1 kHz beep of 500 ms, then 2 s of quiet.
func writeGreeting(t *testing.T, dir, clip string, beep bool) time.Duration {
	t.Helper()
	speech := readAudio(t, filepath.Join("..", "..", "media", "amd", "testdata", clip+".wav"))
	pcm := make([]int16, 2400)
	pcm = append(pcm, speech...)
	if beep {
		pcm = append(pcm, make([]int16, 3200)...)
		for i := range 4000 {
			pcm = append(pcm, int16(8000*math.Sin(2*math.Pi*1000*float64(i)/8000)))
		}
	}
	pcm = append(pcm, make([]int16, 16000)...)
	writeWAVFile(t, filepath.Join(dir, "greeting.wav"), audio.Format{Rate: 8000, Channels: 1, Encoding: audio.ULaw}, pcm)
	return time.Duration(len(speech)) * time.Second / 8000
}

// storeCallback leaves a callback to number in the data directory, as a
// caller of the customers queue did before kefu started.
func storeCallback(t *testing.T, data, number string) records.Callback {
	t.Helper()
	st, err := store.Open(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cb, err := st.AddCallback(t.Context(), records.Callback{CallID: "left-" + number, Caller: "13912345678", Number: number,
		Reason: "queue_timeout", Queue: "customers", At: time.Now().Add(-time.Minute), Joined: time.Now().Add(-2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return cb
}

// agentState is the agent's state at /api/agents.
func agentState(t *testing.T, a *agent, id string) agents.State {
	t.Helper()
	var as []agents.Status
	getJSON(t, a, "/api/agents", &as)
	for _, s := range as {
		if s.ID == id {
			return s.State
		}
	}
	t.Fatalf("no agent %s at /api/agents", id)
	return 0
}

// waitAgentState polls /api/agents (every 100 ms, like waitMetric) until
// the agent is in state st; false if not within the time or kefu exited.
func waitAgentState(t *testing.T, a *agent, id string, st agents.State, within time.Duration) bool {
	t.Helper()
	deadline := time.After(within)
	for agentState(t, a, id) != st {
		select {
		case <-deadline:
			return false
		case <-a.exited:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	return true
}

// TestIntegrationCallbackMachine (issue 13): a callback's customer does
// not pick up; their voicemail does (sipp plays a 6.5 s espeak-ng
// greeting and a 1 kHz beep). kefu hangs up on it once it is sure (within
// 3 s of the answer, before the greeting is over), without a word to it;
// the agent, who was rung first, hears that a machine answered and is
// free at once: no wrap-up (the queue's is 30 s). The attempt counts as
// machine; 10 s later (the queue's retry) the second and last attempt
// meets the machine again and the callback is closed as no answer.
func TestIntegrationCallbackMachine(t *testing.T) {
	integration(t)
	t.Parallel()
	dir := t.TempDir()
	greeting := writeGreeting(t, dir, "m-zh-carrier", true)
	trunk := startSippUASIn(t, dir, "uas_customer_greeting.xml", 120*time.Second, "-m", "2")
	data := t.TempDir()
	cb := storeCallback(t, data, "13800000005")
	a := startAgent(t, "-config", configFile(t, amdConfig(trunk.port)), "-data", data)
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)

	first := a.waitEntry(t, "callback attempt", 40*time.Second)
	if first.str("result") != records.AttemptMachine || first.str("outcome") != "" {
		t.Fatalf("first attempt %v; want machine, retried", first)
	}
	det := a.waitEntry(t, "answering-machine detection", time.Second)
	t.Logf("detection: %s (%s) %.1f s after the answer", det.str("verdict"), det.str("reason"), det.num("after_s"))
	if det.str("verdict") != "machine" || det.num("after_s") > 3.5 || det.num("after_s") >= greeting.Seconds() {
		t.Errorf("detection %v; want a machine within 3.5 s, before the %v greeting is over", det, greeting)
	}
	if !waitAgentState(t, a, "8001", agents.Available, 3*time.Second) {
		t.Errorf("the agent is %s after the machine; want available, no wrap-up", agentState(t, a, "8001"))
	}
	if !a.waitLog(`"outcome":"no_answer"`, 40*time.Second) {
		t.Fatal("the callback was not closed as no answer after the second machine")
	}
	var as []struct {
		Result string `json:"result"`
		Counts bool   `json:"counts"`
	}
	getJSON(t, a, fmt.Sprintf("/api/callbacks/%d/attempts", cb.ID), &as)
	if len(as) != 2 || as[0].Result != "machine" || !as[0].Counts || as[1].Result != "machine" {
		t.Errorf("attempts %+v; want machine twice, counted", as)
	}
	if m := a.metrics(); metric(m, `kefu_callback_attempts_total{result="machine"}`) != 2 {
		t.Errorf("metrics:\n%s", grepLines(m, "kefu_callback"))
	}
	if n := ph.count("bye_received"); n != 2 {
		t.Errorf("the agent's phone was hung up %d times, want once per attempt", n)
	}
	res := trunk.wait()
	if n := strings.Count(res.logs, "BYE from kefu"); n != 2 || res.code != 0 {
		t.Errorf("sipp exit %d, %d BYEs from kefu (want 2):\n%s\n%s", res.code, n, res.logs, res.errs)
	}
	a.stop()
}

// TestIntegrationCallbackPerson (issue 13): the customer picks up and says
// 「喂,你好,哪位?」 (about 1.6 s), then waits: kefu takes them for a person
// within a second of the end of their greeting, greets them and puts them
// through to the agent; the callback is done. A key the agent presses
// while they talk reaches the customer, as on a bridged inbound call.
func TestIntegrationCallbackPerson(t *testing.T) {
	integration(t)
	t.Parallel()
	dir := t.TempDir()
	greeting := writeGreeting(t, dir, "h-zh-wei-nihao-nawei", false)
	trunk := startSippUASIn(t, dir, "uas_customer_greeting.xml", 120*time.Second, "-m", "1")
	data := t.TempDir()
	storeCallback(t, data, "13800000006")
	a := startAgent(t, "-config", configFile(t, amdConfig(trunk.port)), "-data", data)
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-keys", "5@19s", "-hangup-after", "22s", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	det := a.waitEntry(t, "answering-machine detection", 40*time.Second)
	t.Logf("detection: %s (%s) %.1f s after the answer, the greeting %.1f s", det.str("verdict"), det.str("reason"), det.num("after_s"), greeting.Seconds())
	// The greeting starts 0.3 s after the answer; RTP's first packet
	// and the end of an utterance (0.8 s) follow.
	if end := 0.3 + greeting.Seconds(); det.str("verdict") != "human" || det.str("reason") != "short_greeting" ||
		det.num("after_s") < end || det.num("after_s") > end+1.2 {
		t.Errorf("detection %v; want a person within a second of the greeting's end (%.1f s)", det, end)
	}
	attempt := a.waitEntry(t, "callback attempt", 40*time.Second)
	if attempt.str("result") != "answered" || attempt.str("outcome") != "done" || attempt.num("talk_s") < 3 {
		t.Errorf("callback attempt %v; want answered, done, with the talk", attempt)
	}
	res := trunk.wait()
	if res.code != 0 || !strings.Contains(res.logs, "BYE from kefu") {
		t.Errorf("sipp exit %d:\n%s\n%s", res.code, res.logs, res.errs)
	}
	if !strings.Contains(res.logs, "key 5 from kefu") {
		t.Errorf("the agent's key 5 did not reach the customer (SIP INFO):\n%s", res.logs)
	}
	a.stop()
}

// TestIntegrationFollowUpAgent (issue 13, CS-FOLLOWUP with
// followups.queue): the customer of a resolved complaint answers the
// follow-up's survey with 3 (不满意, SIP INFO); the answer is stored, the
// customer is told they are being put through and the queue's agent is
// rung like a callback's (the phone shows 回访): the agent hears the
// whisper, then the agent and the customer talk (the customer's phone
// echoes the agent's voice back) until the agent hangs up.
func TestIntegrationFollowUpAgent(t *testing.T) {
	integration(t)
	t.Parallel()
	trunk := startSippUAS(t, "uas_followup_agent.xml", 150*time.Second, "-rtp_echo")
	data := t.TempDir()
	st, err := store.Open(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.AddComplaint(t.Context(), records.Complaint{CallID: "unhappy", Caller: "13800000007", Class: "general", At: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := amdConfig(trunk.port) + "followups: {queue: customers, agent_keys: \"3\", max_wait: 1m}\n"
	a := startAgent(t, "-config", configFile(t, cfg), "-data", data)
	dir := t.TempDir()
	tone := filepath.Join(dir, "agent.wav")
	writeSineWAV(t, tone, agentHz, 60*time.Second)
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-play", tone, "-answer-after", "500ms", "-hangup-after", "15s", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	res, err := http.Post(fmt.Sprintf("http://%s/api/complaints/%d/resolved", a.http, c.ID), "application/json", strings.NewReader(`{"by":"王经理"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	offered := ph.wait(t, "offered", 40*time.Second)
	if !strings.Contains(fmt.Sprint(offered["display"]), "回访") || !strings.Contains(fmt.Sprint(offered["from"]), "13800000007") {
		t.Errorf("the agent's phone was offered %v; want a follow-up (回访) of 13800000007", offered)
	}
	talked := a.waitEntry(t, "follow-up: the customer and the agent talked", 40*time.Second)
	if talked.str("agent") != "8001" || talked.str("by") != "agent" || talked.num("talk_s") < 5 {
		t.Errorf("the talk: %v", talked)
	}
	if ended := a.waitEntry(t, "callback call ended", time.Second); ended.num("relayed_to_agent") < 100 || ended.num("relayed_to_customer") < 100 {
		t.Errorf("the bridge relayed little: %v", ended)
	}
	var page struct {
		Items []struct {
			Score int    `json:"score"`
			Key   string `json:"key"`
		} `json:"items"`
	}
	getJSON(t, a, "/api/surveys", &page)
	if len(page.Items) != 1 || page.Items[0].Key != "3" {
		t.Errorf("survey answers: %+v", page.Items)
	}
	r := trunk.wait()
	if r.code != 0 {
		t.Errorf("sipp exit %d:\n%s\n%s", r.code, r.logs, r.errs)
	}
	a.stop()
}
