package sip

import (
	"math"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media/amd"
)

// TestAMDTap: the tap passes everything on to the relay and, while
// listening, feeds the detector: packets of any ptime are cut into 20 ms
// frames (a 1 kHz beep in 30 ms packets is a machine), a phone that
// sends nothing is a person after the silence (the gap reports count,
// not twice), a key is a person; after the decision, or stop, it only
// relays.
func TestAMDTap(t *testing.T) {
	r := newRelay("customer")
	r.keys = make(chan rune, 4)
	tap := newAMDTap(r)

	out, err := tap.listen(amd.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]int16, 240) // ptime 30
	n := 0
	for range 50 {
		for i := range pkt {
			pkt[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(n)/8000))
			n++
		}
		tap.Audio(pkt)
	}
	select {
	case d := <-out:
		if d.Verdict != amd.Machine || d.Reason != amd.ReasonBeep || d.After > 400*time.Millisecond {
			t.Errorf("a beep: %+v", d)
		}
	default:
		t.Fatal("no decision on 1.5 s of beep")
	}
	if r.n == 0 {
		t.Error("the audio did not reach the relay")
	}

	out, _ = tap.listen(amd.DefaultOptions())
	for _, gap := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3600 * time.Millisecond} {
		tap.Silence(gap) // the session reports the whole gap each time
	}
	select {
	case d := <-out:
		if d.Verdict != amd.Human || d.Reason != amd.ReasonSilence || d.After != amd.DefaultSilence {
			t.Errorf("no RTP: %+v", d)
		}
	default:
		t.Fatal("no decision after 3.6 s without RTP")
	}

	out, _ = tap.listen(amd.DefaultOptions())
	tap.Digit('5')
	if d := <-out; d.Verdict != amd.Human || d.Reason != amd.ReasonKey {
		t.Errorf("a key: %+v", d)
	}
	if k := <-r.keys; k != '5' {
		t.Errorf("the relay got key %q", k)
	}
	if d := tap.stop(); d.Verdict != amd.Undecided {
		t.Errorf("stop after the decision: %+v", d)
	}
	tap.Audio(pkt) // not listening: relayed only
	tap.Silence(10 * time.Second)
}
