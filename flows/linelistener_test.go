package flows

import (
	"math"
	"testing"
)

// listenerFrames renders secs seconds of f(t) as 20 ms frames.
func listenerFrames(secs float64, f func(t float64) float64) [][]int16 {
	var out [][]int16
	for i := 0; float64(i)*0.02 < secs; i++ {
		fr := make([]int16, 160)
		for j := range fr {
			fr[j] = int16(f((float64(i*160 + j)) / 8000))
		}
		out = append(out, fr)
	}
	return out
}

// voice is a 140 Hz pitch with harmonics at about -20 dBFS, modulated at a
// syllable rate.
func voice(t float64) float64 {
	var v float64
	for k := 1; k <= 10; k++ {
		v += math.Sin(2*math.Pi*140*float64(k)*t) / float64(k)
	}
	return 2500 * v * (0.6 + 0.4*math.Cos(2*math.Pi*4*t))
}

// key1 is the DTMF pair of key 1 (697 and 1209 Hz).
func key1(t float64) float64 {
	return 4000*math.Sin(2*math.Pi*697*t) + 4000*math.Sin(2*math.Pi*1209*t)
}

func kinds(evs []Event) []EventKind {
	var out []EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

// TestLineListener: speech gives speech and, over lost frames, its end; a
// key tone gives the key in band only when asked, with the frame's level
// only when asked; out-of-band keys pass as they are.
func TestLineListener(t *testing.T) {
	var got []Event
	emit := func(e Event) { got = append(got, e) }

	l, err := NewLineListener(LineOptions{}, emit)
	if err != nil {
		t.Fatal(err)
	}
	if s := l.String(); s != "VAD -> LineJudge -> events" {
		t.Errorf("chain %q", s)
	}
	for _, f := range listenerFrames(0.5, func(float64) float64 { return 0 }) {
		l.Frame(f)
	}
	for _, f := range listenerFrames(1, voice) {
		l.Frame(f)
	}
	for range MaxGapFrames {
		l.Lost()
	}
	// A phone that stops sending mid-sentence ends the utterance too.
	if k := kinds(got); len(k) != 4 || k[0] != Onset || k[1] != SpeechStart || k[2] != SpeechEnd || k[3] != UtteranceEnd {
		t.Errorf("speech then a gap: %v, want onset, speech_start, speech_end, utterance_end", k)
	}
	got = nil
	for _, f := range listenerFrames(0.2, key1) {
		l.Frame(f)
	}
	for _, e := range got {
		if e.Kind == Digit {
			t.Errorf("a key in band without InBand: %+v", e)
		}
	}

	for _, keyLevels := range []bool{false, true} {
		got = nil
		l, err := NewLineListener(LineOptions{InBand: true, KeyLevels: keyLevels}, emit)
		if err != nil {
			t.Fatal(err)
		}
		if s := l.String(); s != "VAD -> DTMF(in-band) -> LineJudge -> events" {
			t.Errorf("chain %q", s)
		}
		for _, f := range listenerFrames(0.5, func(float64) float64 { return 0 }) {
			l.Frame(f)
		}
		for _, f := range listenerFrames(0.1, key1) {
			l.Frame(f)
		}
		var keys []Event
		for _, e := range got {
			if e.Kind == Digit {
				keys = append(keys, e)
			}
		}
		if len(keys) != 1 || keys[0].Key != '1' {
			t.Fatalf("key tone in band: %+v, want key 1 once", keys)
		}
		if hasLevel := keys[0].LevelDB != 0 || keys[0].FloorDB != 0; hasLevel != keyLevels {
			t.Errorf("KeyLevels %v: key event %+v", keyLevels, keys[0])
		}
	}

	got = nil
	l.Digit('#')
	if len(got) != 1 || got[0] != (Event{Kind: Digit, Key: '#'}) {
		t.Errorf("Digit('#') emitted %+v", got)
	}
	got = nil
	l.ComfortNoise(70)
	if len(got) != 0 {
		t.Errorf("quiet comfort noise emitted %+v", got)
	}
}
