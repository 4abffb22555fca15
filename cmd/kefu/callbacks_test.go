package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/flows/store"
)

// callbackConfig is a queue whose callers are offered a callback after
// 3 s, an agent for it, and a trunk (sipp) that registers and
// challenges, with two attempts 10 s apart.
const callbackConfig = `
trunks:
  - name: carrier
    uri: sip:127.0.0.1:%d
    username: "02112345678"
    password: trunk-secret
    register: true
    caller_id: "4001234567"
    max_calls: 2
    ring_timeout: 20s
queues:
  - name: customers
    max_wait: 3s
    ring_timeout: 10s
    wrap_up: 0s
    callback: {attempts: 2, retry: 10s}
agents:
  - {id: "8001", password: secret-8001, queues: [customers]}
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: wait
        queue: {queue: customers, on_answer: bye, on_timeout: offer, quiet: true}
      - name: offer
        collect: {callback: queue_timeout, on_done: saved, on_fail: bye}
      - name: saved
        say: {prompt: callback.saved}
      - name: bye
        say: {prompt: close.bye}
      - name: end
        hangup: {wait: 5s}
`

// keyCallback is the keys of a caller who leaves 13800000001 as the
// callback number and confirms it: typed during the collect's prompt
// (8.5 s in: after the queue's ask and the thanks), the confirmation
// after the read-back (27 s).
func keyCallback() string {
	var keys []string
	for i, k := range "13800000001#" {
		keys = append(keys, fmt.Sprintf("%c@%.1fs", k, 8.5+0.2*float64(i)))
	}
	return strings.Join(append(keys, "1@27s"), ",")
}

// TestIntegrationCallback (issue 13): a caller waits in a queue nobody
// serves, is offered a callback after the maximum wait and leaves a
// number (kefu dial). kefu is registered at the trunk (sipp: 401, then
// the digest). When the agent signs in (kefu agent), the callback is
// offered to them at once, their phone shows it is a callback; they hear
// the whisper, then the ringing tone while kefu calls the customer
// through the trunk (401, then the digest; from the trunk's account with
// the hotline's number as the identity); the customer answers, both hear
// the greeting, then the agent and the customer talk: the agent's voice,
// echoed by the customer's phone, comes back to the agent. The attempt
// and the outcome are stored, /metrics counts them, and kefu's stop
// removes its registration.
func TestIntegrationCallback(t *testing.T) {
	integration(t)
	t.Parallel()
	trunk := startSippUAS(t, "uas_trunk.xml", 240*time.Second, "-m", "2", "-rtp_echo")
	a := startAgent(t, "-config", configFile(t, fmt.Sprintf(callbackConfig, trunk.port)))
	if !a.waitLog(`"msg":"trunk registered"`, 20*time.Second) {
		t.Fatalf("kefu did not register at the trunk")
	}
	if m := a.metrics(); metric(m, `kefu_trunk_registration_state{state="registered",trunk="carrier"}`) != 1 ||
		metric(m, `kefu_trunk_up{trunk="carrier"}`) != 1 {
		t.Errorf("trunk metrics:\n%s", grepLines(m, "kefu_trunk"))
	}

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	evs, code, out := dial(t, ctx, a, "-from", "sip:13912345678@127.0.0.1", "-keys", keyCallback(), "-for", "45s")
	if code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	if _, ok := find(evs, "answered"); !ok {
		t.Fatalf("the caller was not answered:\n%s", out)
	}
	stored := a.waitEntry(t, "flow finished", 10*time.Second)
	if stored.num("callback") == 0 {
		t.Fatalf("no callback stored: %v", stored)
	}
	if m := a.metrics(); metric(m, `kefu_callbacks{state="queued"}`) != 1 {
		t.Errorf("the callback is not waiting at its place:\n%s", grepLines(m, "kefu_callbacks"))
	}

	dir := t.TempDir()
	tone := filepath.Join(dir, "agent.wav")
	writeSineWAV(t, tone, agentHz, 60*time.Second)
	rec := t.TempDir()
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-play", tone, "-record", rec,
		"-answer-after", "1s", "-hangup-after", "25s", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	offered := ph.wait(t, "offered", 10*time.Second)
	if !strings.Contains(fmt.Sprint(offered["display"]), "回电") || !strings.Contains(fmt.Sprint(offered["from"]), "13800000001") {
		t.Errorf("the agent's phone was offered %v; want a callback (回电) to 13800000001", offered)
	}
	ph.wait(t, "bye_sent", 45*time.Second)
	attempt := a.waitEntry(t, "callback attempt", 10*time.Second)
	if attempt.str("result") != "answered" || attempt.str("outcome") != "done" || attempt.num("talk_s") < 5 {
		t.Errorf("callback attempt %v; want answered, done, with the talk", attempt)
	}
	m := a.metrics()
	for _, s := range []string{
		`kefu_trunk_calls_total{outcome="answered",trunk="carrier"}`,
		`kefu_callback_attempts_total{result="answered"}`,
	} {
		if metric(m, s) != 1 {
			t.Errorf("%s is not 1:\n%s", s, grepLines(m, "kefu_"))
		}
	}
	if metric(m, `kefu_callbacks{state="queued"}`)+metric(m, `kefu_callbacks{state="calling"}`) != 0 {
		t.Errorf("callbacks left after the call:\n%s", grepLines(m, "kefu_callbacks"))
	}

	// The agent heard the whisper and the ringing tone, then the
	// greeting, then their own voice back from the customer's phone.
	recs, _ := filepath.Glob(filepath.Join(rec, "*.wav"))
	if len(recs) != 1 {
		t.Fatalf("the agent's recordings: %v", recs)
	}
	got := readAudio(t, recs[0])
	if len(got) < 20*8000 {
		t.Fatalf("the agent's call lasted %v", time.Duration(len(got))*time.Second/8000)
	}
	if s := toneShare(got[len(got)-5*8000:], agentHz); s < 0.4 {
		t.Errorf("the agent's %v Hz came back from the customer at %.2f of the power at the end", agentHz, s)
	}

	a.stop() // the un-REGISTER ends the trunk's second call
	res := trunk.wait()
	if strings.Contains(res.logs, "FAIL") || res.code != 0 {
		t.Errorf("the trunk (sipp) exit %d:\n%s\n%s", res.code, res.logs, res.errs)
	}
	for _, want := range []string{"to 13800000001 from <sip:02112345678@", "identity <sip:4001234567@", "un-REGISTER: Expires  0"} {
		if !strings.Contains(res.logs, want) {
			t.Errorf("the trunk's log lacks %q:\n%s", want, res.logs)
		}
	}
}

// TestIntegrationCallbackRetried (issue 13): a callback kefu found open
// in its data directory at start (left before a restart) is made once
// the agent signs in; the customer is busy, the agent hears that the
// customer was not reached, and 10 s later (the queue's retry) the
// second and last attempt is busy too: the callback is closed as no
// answer. Both attempts and the outcome are in the ops API.
func TestIntegrationCallbackRetried(t *testing.T) {
	integration(t)
	t.Parallel()
	trunk := startSippUAS(t, "uas_customer_busy.xml", 120*time.Second, "-m", "2")
	data := t.TempDir()
	st, err := store.Open(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cb, err := st.AddCallback(t.Context(), records.Callback{CallID: "before-restart", Caller: "13912345678", Number: "13800000002",
		Reason: "queue_timeout", Queue: "customers", At: now.Add(-time.Minute), Joined: now.Add(-3 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(fmt.Sprintf(callbackConfig, trunk.port), `    username: "02112345678"
    password: trunk-secret
    register: true
`, "", 1)
	a := startAgent(t, "-config", configFile(t, cfg), "-data", data)
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	res := trunk.wait()
	if n := strings.Count(res.logs, "to 13800000002 from \"4001234567\" <sip:4001234567@"); n != 2 {
		t.Errorf("the trunk saw %d calls to the customer, want 2:\n%s", n, res.logs)
	}
	if !a.waitLog(`"outcome":"no_answer"`, 30*time.Second) {
		t.Fatalf("the callback was not closed as no answer")
	}
	if es := a.entries("callback attempt"); len(es) != 2 || es[0].str("result") != "busy" || es[0].str("outcome") != "" ||
		es[1].str("result") != "busy" || es[1].str("outcome") != "no_answer" {
		t.Fatalf("attempts logged: %v", es)
	}
	var as []struct {
		Result  string    `json:"result"`
		Counts  bool      `json:"counts"`
		Agent   string    `json:"agent"`
		Started time.Time `json:"started"`
		Ended   time.Time `json:"ended"`
	}
	getJSON(t, a, fmt.Sprintf("/api/callbacks/%d/attempts", cb.ID), &as)
	if len(as) != 2 || as[0].Result != "busy" || as[1].Result != "busy" || !as[0].Counts || as[0].Agent != "8001" {
		t.Fatalf("attempts %+v", as)
	}
	if gap := as[1].Started.Sub(as[0].Ended); gap < 10*time.Second || gap > 15*time.Second {
		t.Errorf("the second attempt %v after the first, want the queue's 10 s retry (and the agent's ring)", gap)
	}
	var page struct {
		Items []struct {
			ID      int64  `json:"id"`
			Outcome string `json:"outcome"`
			Done    bool   `json:"done"`
		} `json:"items"`
	}
	getJSON(t, a, "/api/callbacks", &page)
	if len(page.Items) != 1 || page.Items[0].Outcome != "no_answer" || !page.Items[0].Done {
		t.Errorf("/api/callbacks: %+v", page.Items)
	}
	if m := a.metrics(); metric(m, `kefu_trunk_calls_total{outcome="busy",trunk="carrier"}`) != 2 ||
		metric(m, `kefu_callback_attempts_total{result="busy"}`) != 2 {
		t.Errorf("metrics:\n%s", grepLines(m, "kefu_"))
	}
	if n := ph.count("offered"); n != 2 {
		t.Errorf("the agent was offered %d callbacks, want one for each attempt", n)
	}
}

// count is how many events named ev the phone printed so far.
func (p *phone) count(ev string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, e := range p.events {
		if e["ev"] == ev {
			n++
		}
	}
	return n
}

// getJSON decodes the JSON answer to a GET of path on kefu's ops API.
func getJSON(t *testing.T, a *agent, path string, v any) {
	t.Helper()
	res, err := http.Get("http://" + a.http + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// downConfig routes every call to the system-down flow (CS-SYSTEM-DOWN:
// the notice, a callback as a choice); normal is the same hotline with
// the lines repaired. An agent serves the queue the callbacks left
// outside any queue wait in; the trunk is uas_trunk.xml's.
const downConfig = `
trunks:
  - name: carrier
    uri: sip:127.0.0.1:%d
    username: "02112345678"
    password: trunk-secret
    register: true
    caller_id: "4001234567"
queues:
  - name: customers
    wrap_up: 0s
agents:
  - {id: "8001", password: secret-8001, queues: [customers]}
routes:
  - to: "*"
    flow: %s
flows:
  down:
    steps:
      - name: offer
        menu: {prompt: down.callback, choices: {"1": cb}, retries: 1, on_timeout: bye, on_invalid: bye}
      - name: cb
        collect: {callback: system_down, on_done: saved, on_fail: bye}
      - name: saved
        say: {prompt: callback.saved}
      - name: bye
        say: {prompt: close.bye}
      - name: end
        hangup: {wait: 5s}
  normal:
    steps:
      - name: wait
        queue: {queue: customers, on_answer: bye, on_timeout: bye}
      - name: bye
        say: {prompt: close.bye}
      - name: end
        hangup: {wait: 5s}
`

// TestIntegrationCallbackAfterSystemDown (issue 13, CS-SYSTEM-DOWN): a
// caller who reaches the hotline while its lines are down leaves a
// number; kefu does not call back while the route still leads to the
// down flow, though an agent is free. Once a reload routes calls to the
// hotline again, the callback goes to the agent and the customer is
// called through the trunk and put through.
func TestIntegrationCallbackAfterSystemDown(t *testing.T) {
	integration(t)
	t.Parallel()
	trunk := startSippUAS(t, "uas_trunk.xml", 240*time.Second, "-m", "2", "-rtp_echo")
	file := configFile(t, fmt.Sprintf(downConfig, trunk.port, "down"))
	a := startAgent(t, "-config", file)
	if !a.waitLog(`"msg":"trunk registered"`, 20*time.Second) {
		t.Fatalf("kefu did not register at the trunk")
	}
	ph := startPhone(t, a, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-hangup-after", "25s", "-for", "3m")
	ph.wait(t, "registered", 10*time.Second)

	var keys []string
	keys = append(keys, "1@1.5s")
	for i, k := range "13800000001#" {
		keys = append(keys, fmt.Sprintf("%c@%.1fs", k, 4.5+0.2*float64(i)))
	}
	keys = append(keys, "1@23.5s")
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if _, code, out := dial(t, ctx, a, "-from", "sip:13912345678@127.0.0.1", "-keys", strings.Join(keys, ","), "-for", "40s"); code != 0 {
		t.Fatalf("kefu dial exit %d\n%s", code, out)
	}
	if ff := a.waitEntry(t, "flow finished", 10*time.Second); ff.num("callback") == 0 {
		t.Fatalf("no callback stored: %v", ff)
	}
	if m := a.metrics(); metric(m, `kefu_callbacks{state="ready"}`) != 1 || metric(m, `kefu_callbacks{state="queued"}`) != 0 {
		t.Errorf("while the lines are down the callback must wait outside the queue:\n%s", grepLines(m, "kefu_callbacks"))
	}
	if ph.count("offered") != 0 {
		t.Fatal("the agent was offered the callback while the lines were down")
	}

	writeFile(t, file, fmt.Sprintf(downConfig, trunk.port, "normal"))
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	offered := ph.wait(t, "offered", 20*time.Second)
	if !strings.Contains(fmt.Sprint(offered["display"]), "回电 customers") {
		t.Errorf("offered %v; want the callback, in the customers queue", offered)
	}
	ph.wait(t, "bye_sent", 45*time.Second)
	if at := a.waitEntry(t, "callback attempt", 10*time.Second); at.str("result") != "answered" || at.str("outcome") != "done" {
		t.Errorf("callback attempt %v", at)
	}
	a.stop()
	trunk.wait()
}

// TestIntegrationFollowUp (issue 13, CS-FOLLOWUP): ops mark a complaint
// resolved (POST /api/complaints/{id}/resolved): it is replied to and
// kefu calls its caller through the trunk (sipp): the news that the
// problem was dealt with, the survey question; the customer presses 1
// (SIP INFO), and the answer (score 3) is stored with the complaint as a
// survey answer.
func TestIntegrationFollowUp(t *testing.T) {
	integration(t)
	t.Parallel()
	trunk := startSippUAS(t, "uas_followup.xml", 120*time.Second)
	data := t.TempDir()
	st, err := store.Open(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.AddComplaint(t.Context(), records.Complaint{CallID: "complained", Caller: "13800000003", Class: "general", At: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(fmt.Sprintf(callbackConfig, trunk.port), `    username: "02112345678"
    password: trunk-secret
    register: true
`, "", 1)
	a := startAgent(t, "-config", configFile(t, cfg), "-data", data)
	res, err := http.Post(fmt.Sprintf("http://%s/api/complaints/%d/resolved", a.http, c.ID), "application/json", strings.NewReader(`{"by":"王经理"}`))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Resolved, Due time.Time
	}
	err = json.NewDecoder(res.Body).Decode(&f)
	res.Body.Close()
	if res.StatusCode != 200 || err != nil || f.Due.Sub(f.Resolved) != 24*time.Hour {
		t.Fatalf("resolved: %s %+v %v", res.Status, f, err)
	}
	r := trunk.wait()
	if !strings.Contains(r.logs, "to 13800000003 from") || !strings.Contains(r.logs, "\"4001234567\" <sip:4001234567@") {
		t.Errorf("the trunk's log:\n%s", r.logs)
	}
	if !a.waitLog(`"msg":"follow-up answered"`, 10*time.Second) {
		t.Fatal("no follow-up answer logged")
	}
	var page struct {
		Items []struct {
			CallID string `json:"call_id"`
			Score  int    `json:"score"`
			Key    string `json:"key"`
			Survey string `json:"survey"`
		} `json:"items"`
	}
	getJSON(t, a, "/api/surveys", &page)
	if len(page.Items) != 1 || page.Items[0].Score != 3 || page.Items[0].Key != "1" || page.Items[0].Survey != "followup" ||
		page.Items[0].CallID != fmt.Sprintf("followup-%d", c.ID) {
		t.Errorf("survey answers: %+v", page.Items)
	}
	var cs struct {
		Items []struct {
			Replied   bool   `json:"replied"`
			RepliedBy string `json:"replied_by"`
		} `json:"items"`
	}
	getJSON(t, a, "/api/complaints", &cs)
	if len(cs.Items) != 1 || !cs.Items[0].Replied || cs.Items[0].RepliedBy != "王经理" {
		t.Errorf("the complaint: %+v", cs.Items)
	}
	if m := a.metrics(); metric(m, `kefu_followup_calls_total{result="answered"}`) != 1 {
		t.Errorf("metrics:\n%s", grepLines(m, "kefu_followup"))
	}
}

// TestIntegrationCallbackKilled (issue 13): kefu is killed (SIGKILL)
// while a callback's customer and agent are talking. The next kefu on the
// same data directory finds the attempt cut off (interrupted: it does
// not count) and makes the callback again: the agent, signed in to the
// new kefu, takes it and the customer is called and put through.
func TestIntegrationCallbackKilled(t *testing.T) {
	integration(t)
	t.Parallel()
	trunk := startSippUAS(t, "uas_customer_answer.xml", 180*time.Second, "-m", "2", "-rtp_echo")
	data := t.TempDir()
	st, err := store.Open(t.Context(), data)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := st.AddCallback(t.Context(), records.Callback{CallID: "killed", Caller: "13912345678", Number: "13800000004",
		Reason: "queue_timeout", Queue: "customers", At: time.Now().Add(-time.Minute), Joined: time.Now().Add(-2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := configFile(t, strings.Replace(fmt.Sprintf(callbackConfig, trunk.port), `    username: "02112345678"
    password: trunk-secret
    register: true
`, "", 1))
	first := startAgent(t, "-config", cfg, "-data", data)
	ph := startPhone(t, first, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-for", "2m")
	ph.wait(t, "registered", 10*time.Second)
	if !first.waitLog(`"msg":"customer answered"`, 30*time.Second) {
		t.Fatal("the customer was not called")
	}
	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-first.exited

	second := startAgent(t, "-config", cfg, "-data", data)
	// The agent talks past the whisper, the 3.5 s in which kefu listens
	// for an answering machine (the echoing customer sends nothing: a
	// person waiting) and the greeting.
	ph2 := startPhone(t, second, "-id", "8001", "-password", "secret-8001", "-answer-after", "500ms", "-hangup-after", "25s", "-for", "2m")
	ph2.wait(t, "registered", 10*time.Second)
	ph2.wait(t, "bye_sent", 60*time.Second)
	if !second.waitLog(`"outcome":"done"`, 10*time.Second) {
		t.Fatal("the callback was not made again")
	}
	var as []struct {
		Result string `json:"result"`
		Counts bool   `json:"counts"`
	}
	getJSON(t, second, fmt.Sprintf("/api/callbacks/%d/attempts", cb.ID), &as)
	if len(as) != 2 || as[0].Result != "interrupted" || as[0].Counts || as[1].Result != "answered" {
		t.Errorf("attempts %+v; want the killed one interrupted (not counted), then answered", as)
	}
	if !second.waitLog("callback attempts cut off by the last stop", time.Second) {
		t.Error("the second kefu did not say it found an attempt cut off")
	}
	second.stop()
	trunk.wait()
}
