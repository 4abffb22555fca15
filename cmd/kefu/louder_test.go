package main

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationLouder: the caller presses * twice during the opening
// (SIP INFO): kefu asks whether it is better now (CS-LOUDER) and plays the
// rest of the call 6 dB louder; the second opening is measured against the
// first in the received audio.
func TestIntegrationLouder(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	evs, out, heard := dialRecorded(t, ctx, a, "-keys", "*@2s,*@2.2s", "-for", "22s")
	for _, e := range evs {
		if e.Ev == "key" && e.Code != 200 {
			t.Errorf("key press answered %d, want 200", e.Code)
		}
	}
	st := stretches(evs)
	if len(st) < 2 {
		t.Fatalf("heard %v, want the opening with the question, then the opening again\n%s", st, out)
	}
	// Stretch times count from the INVITE, the recording from the answer.
	answered, _ := find(evs, "answered")
	level := func(from float64) float64 {
		i := int((from - answered.T + 0.3) * 8000)
		return prompts.SpeechLevel(heard[i : i+3*8000])
	}
	first, second := level(st[0][0]), level(st[1][0])
	t.Logf("opening at %.1f dBFS, then %.1f dBFS after two presses", first, second)
	if d := second - first; d < 4.5 || d > 6.5 {
		t.Errorf("the second opening is %+.1f dB against the first, want about +6 dB", d)
	}
	if !a.waitLog(`louder.check`, 5*time.Second) || !a.waitLog(`"gain_db":6`, 10*time.Second) {
		t.Errorf("kefu's log lacks the question or the gain")
	}
}
