package console

import (
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
)

// TestHeard: a prompt sounds from its start until it ended (cut short by
// the caller here), hold music from where it resumed until the flow moved
// on, and silence in between.
func TestHeard(t *testing.T) {
	cat := testBundle(t).Catalog
	greet, ok := cat.Get("greet.default")
	if !ok {
		t.Fatal("no greet.default")
	}
	sim := flows.NewSimulation(t0, nil)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	sim.Trace = []flows.TraceEntry{
		{At: at(0), What: "prompt_start", Detail: "greet.default"},
		{At: at(time.Second), What: "barge_in", Detail: "greet.default"},
		{At: at(time.Second), What: "prompt_end", Detail: "greet.default"},
		{At: at(2 * time.Second), What: "music", Detail: flows.DefaultMusic + " from frame 100"},
		{At: at(4 * time.Second), What: "step", Detail: "next (say)"},
		{At: at(5 * time.Second), What: "hangup", Detail: "caller"},
	}
	pcm := heard(sim, cat, time.Minute)
	if len(pcm) != 8000*55/10 {
		t.Fatalf("%d samples, want 5.5 s", len(pcm))
	}
	energy := func(from, to time.Duration) float64 {
		var e float64
		for _, s := range pcm[samplesIn(from):samplesIn(to)] {
			e += float64(s) * float64(s)
		}
		return e / float64(samplesIn(to)-samplesIn(from))
	}
	if greet.Duration() <= 2*time.Second {
		t.Fatalf("greet.default is %v: too short for this test", greet.Duration())
	}
	if energy(200*time.Millisecond, 900*time.Millisecond) < 1e4 {
		t.Error("the greeting is silent")
	}
	if e := energy(time.Second, 2*time.Second); e != 0 {
		t.Errorf("after the barge-in: energy %v, want silence", e)
	}
	if energy(2*time.Second, 4*time.Second) < 1e3 {
		t.Error("the hold music is silent")
	}
	if e := energy(4*time.Second, 5500*time.Millisecond); e != 0 {
		t.Errorf("after the music: energy %v, want silence", e)
	}
	if got := heard(sim, cat, 3*time.Second); len(got) != 8000*3 {
		t.Errorf("limited to 3 s: %d samples", len(got))
	}
}
