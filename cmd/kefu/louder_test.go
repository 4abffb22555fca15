package main

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/prompts"
)

// louderFlow is a ladder whose way on for a caller who is there (speech,
// and the louder key, which ends a silence ladder) is the same opening
// again, so that the two can be measured against each other.
const louderFlow = `routes: [{to: "*", flow: f}]
flows:
  f:
    steps:
      - name: open
        listen:
          attempts: [{prompt: greet.tod}, {prompt: greet.tod}, {prompt: silent.apology}]
          on_speech: again
      - name: again
        say: {prompt: greet.tod}
      - name: close
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`

// TestIntegrationLouder: the caller presses * twice during the opening
// (SIP INFO): kefu asks whether it is better now (CS-LOUDER) and plays the
// rest of the call 6 dB louder; the caller is there, so the silence ladder
// ends (CS-SILENT); the second opening is measured against the first in the
// received audio.
func TestIntegrationLouder(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-config", configFile(t, louderFlow))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	evs, out, heard := dialRecorded(t, ctx, a, "-keys", "*@2s,*@2.2s", "-for", "22s")
	for _, e := range evs {
		if e.Ev == "key" && e.Code != 200 {
			t.Errorf("key press answered %d, want 200", e.Code)
		}
	}
	cat, err := prompts.LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	check, _ := cat.Get("louder.check")
	cal, _ := calendar.New(nil, nil)
	opening, _ := cat.Get(cal.Opening(time.Now(), 0, 0))
	// The opening, the question and the opening again, back to back.
	st := stretches(evs)
	if run := (2*opening.Duration() + check.Duration()).Seconds(); len(st) == 0 || st[0][1]-st[0][0] < run-0.5 {
		t.Fatalf("heard %v, want one run of %.1f s or more: the opening, the question, the opening again\n%s", st, run, out)
	}
	// Stretch times count from the INVITE, the recording from the answer.
	answered, _ := find(evs, "answered")
	level := func(from float64) float64 {
		i := int((from - answered.T + 0.3) * 8000)
		return prompts.SpeechLevel(heard[i : i+3*8000])
	}
	first, second := level(st[0][0]), level(st[0][0]+(opening.Duration()+check.Duration()).Seconds())
	t.Logf("opening at %.1f dBFS, then %.1f dBFS after two presses", first, second)
	if d := second - first; d < 4.5 || d > 6.5 {
		t.Errorf("the second opening is %+.1f dB against the first, want about +6 dB", d)
	}
	if !a.waitLog(`louder.check`, 5*time.Second) || !a.waitLog(`"gain_db":6`, 10*time.Second) {
		t.Errorf("kefu's log lacks the question or the gain")
	}
}
