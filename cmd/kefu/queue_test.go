package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationQueue: two callers in one of kefu's queues on the real
// binary. The first in line hears the apology and no expected wait: the
// queue has answered nobody yet, so there is no figure to quote
// (CS-PROMISE); the second also hears that one caller is ahead
// (您前面还有一位). The first reaches the maximum wait, hears the thanks
// (CS-HOLD-RESUME) and is offered a callback; the second hangs up while
// waiting. /api/queues shows both waiting, then one timed out and one
// abandoned with its wait.
func TestIntegrationQueue(t *testing.T) {
	integration(t)
	t.Parallel()
	cfg := `
queues:
  - name: q
    max_wait: 20s
routes:
  - to: "*"
    flow: wait
flows:
  wait:
    steps:
      - name: wait
        queue:
          queue: q
          on_timeout: sorry
          announce:
            - at: 3s
              every: 6s
              prompt: hold.apology
      - name: sorry
        say: {prompt: queue.callback}
      - name: close
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`
	file := configFile(t, cfg)
	a := startAgent(t, "-config", file)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	type result struct {
		heard []int16
	}
	second := make(chan result, 1)
	started := make(chan struct{})
	go func() {
		<-started
		_, _, heard := dialRecorded(t, ctx, a, "-from", "sip:13900000002@127.0.0.1", "-for", "16s")
		second <- result{heard}
	}()
	time.AfterFunc(time.Second, func() { close(started) })

	// While both wait, the figures show them.
	duringc := make(chan []queueFigures, 1)
	time.AfterFunc(5*time.Second, func() { duringc <- queueAPI(t, a) })
	_, _, first := dialRecorded(t, ctx, a, "-from", "sip:13900000001@127.0.0.1", "-for", "30s")
	b := <-second

	cat, _ := prompts.LoadEmbedded("zh-CN")
	env := func(id string) []float64 {
		p, ok := cat.Get(id)
		if !ok {
			t.Fatalf("no prompt %s", id)
		}
		return promptEnvelope(p, 0, p.Frames())
	}
	heardIn := func(heard []int16, id string, fromS, toS float64) bool {
		_, score := locate(envelope(heard), env(id), int(fromS*50), int(toS*50))
		return score > 0.95
	}
	// The announcements come 3 s into the music (the ask phrase takes
	// about 4.3 s), so about 7.3 s into each call.
	if !heardIn(first, "hold.apology", 6, 12) {
		t.Errorf("first caller: no apology")
	}
	if heardIn(first, "queue.wait", 8, 16) {
		t.Errorf("first caller heard an expected wait, with no figures to quote")
	}
	if heardIn(first, "queue.position", 8, 16) {
		t.Errorf("first caller heard a position: nobody is ahead")
	}
	if !heardIn(b.heard, "queue.position", 8, 15) {
		t.Errorf("second caller: did not hear that one caller is ahead")
	}
	if !heardIn(first, "hold.resume", 19, 25) || !heardIn(first, "queue.callback", 21, 29) {
		t.Errorf("first caller: no thanks and callback offer after the 20 s maximum wait")
	}

	if during := <-duringc; len(during) != 1 || during[0].Waiting != 2 {
		t.Errorf("figures while both waited: %+v, want 2 waiting", during)
	}
	after := queueAPI(t, a)
	if len(after) != 1 || after[0].TimedOut.Count != 1 || after[0].Abandoned.Count != 1 || after[0].Waiting != 0 {
		t.Errorf("figures after: %+v, want one timed out, one abandoned", after)
	} else if w := after[0].Abandoned.Max; w < 12 || w > 17 {
		t.Errorf("abandoned after %.1f s in the queue, want about 15 s", w)
	}
	m := a.metrics()
	for _, sample := range []string{`kefu_queue_left_total{outcome="abandoned",queue="q"}`, `kefu_queue_left_total{outcome="timed_out",queue="q"}`} {
		if metric(m, sample) != 1 {
			t.Errorf("metrics: %s is %v, want 1", sample, metric(m, sample))
		}
	}
}

type waitStats struct {
	Count int     `json:"count"`
	Max   float64 `json:"max_seconds"`
}

type queueFigures struct {
	Queue     string    `json:"queue"`
	Waiting   int       `json:"waiting"`
	TimedOut  waitStats `json:"timed_out"`
	Abandoned waitStats `json:"abandoned"`
}

func queueAPI(t *testing.T, a *agent) []queueFigures {
	res, err := http.Get("http://" + a.http + "/api/queues")
	if err != nil {
		t.Error(err)
		return nil
	}
	defer res.Body.Close()
	var out []queueFigures
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Error(err)
	}
	return out
}
