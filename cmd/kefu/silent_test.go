package main

import (
	"context"
	"math"
	"testing"
	"time"
)

// TestIntegrationSilentCaller dials kefu with `kefu dial -play silence` and
// checks CS-SILENT from the audio the caller received: three prompts, each
// gap 5 s ± 0.3 s, kefu's BYE 5 s ± 0.3 s after the third prompt.
func TestIntegrationSilentCaller(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	evs, code, out := dial(t, ctx, a, "-play", "silence", "-max", "80s")
	if code != 0 {
		t.Fatalf("kefu dial exit %d:\n%s", code, out)
	}
	st := stretches(evs)
	if len(st) != 3 {
		t.Fatalf("heard %d stretches of audio %v, want 3 prompts\n%s", len(st), st, out)
	}
	for i := 1; i < 3; i++ {
		if gap := st[i][0] - st[i-1][1]; math.Abs(gap-5) > 0.3 {
			t.Errorf("silence before attempt %d: %.3f s, want 5 ± 0.3 s\n%s", i+1, gap, out)
		}
	}
	bye, ok := find(evs, "bye_received")
	if !ok {
		t.Fatalf("kefu never hung up\n%s", out)
	}
	if d := bye.T - st[2][1]; math.Abs(d-5) > 0.3 {
		t.Errorf("BYE %.3f s after the third prompt, want 5 ± 0.3 s\n%s", d, out)
	}
	// The first two prompts are the same opening; the third is the apology.
	d0, d1 := st[0][1]-st[0][0], st[1][1]-st[1][0]
	if math.Abs(d0-d1) > 0.2 { // stretch edges move by a frame or two under load
		t.Errorf("opening lasted %.2f s then %.2f s: not the same prompt twice", d0, d1)
	}
	if !a.waitLog(`"attempts":3`, 5*time.Second) {
		t.Errorf("kefu's log does not record three attempts")
	}
}
