package flows

import (
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/vad"
)

// TestLineJudge: speech is judged JudgeFrames into the segment at its
// level so far; a short utterance is judged at its end; weak and normal
// changes within a judged segment are reported; noise once.
func TestLineJudge(t *testing.T) {
	var j LineJudge
	var got []Event
	emit := func(e Event) {
		if e.Kind != Onset && e.Kind != UtteranceEnd { // TestLineJudgeUtterance
			got = append(got, e)
		}
	}
	quiet := vad.Result{Class: vad.Silence, LevelDB: -90, FloorDB: -90}
	for range noiseFrames { // the first window: noise is judged from there on
		j.Frame(quiet, emit)
	}
	j.Frame(vad.Result{Class: vad.WeakSpeech, SpeechStart: true, Changed: true, LevelDB: -44, SegmentDB: -44}, emit)
	for range JudgeFrames - 2 {
		j.Frame(vad.Result{Class: vad.WeakSpeech, LevelDB: -44, SegmentDB: -44}, emit)
	}
	if len(got) != 0 {
		t.Fatalf("judged early: %+v", got)
	}
	// The segment's JudgeFrames-th frame (200 ms with the start) judges it.
	j.Frame(vad.Result{Class: vad.WeakSpeech, LevelDB: -44, SegmentDB: -44}, emit)
	if len(got) != 1 {
		t.Fatalf("not judged at frame %d: %+v", JudgeFrames, got)
	}
	j.Frame(vad.Result{Class: vad.Speech, Changed: true, LevelDB: -20, SegmentDB: -25}, emit)
	j.Frame(vad.Result{Class: vad.Silence, SpeechEnd: true, Changed: true, LevelDB: -90, SegmentDB: -25}, emit)
	// A short utterance, then a noisy line.
	j.Frame(vad.Result{Class: vad.Speech, SpeechStart: true, Changed: true, LevelDB: -20, SegmentDB: -20}, emit)
	j.Frame(vad.Result{Class: vad.Silence, SpeechEnd: true, Changed: true, LevelDB: -90, SegmentDB: -20}, emit)
	j.Frame(vad.Result{Class: vad.Noise, Changed: true, LevelDB: -25, FloorDB: -26}, emit)
	j.Frame(vad.Result{Class: vad.Noise, LevelDB: -25, FloorDB: -26}, emit)

	want := []struct {
		kind  EventKind
		level float64
	}{{WeakSpeech, -44}, {SpeechStart, -25}, {SpeechEnd, -90}, {SpeechStart, -20}, {SpeechEnd, -90}, {Noise, -25}}
	if len(got) != len(want) {
		t.Fatalf("events %+v, want %d", got, len(want))
	}
	for i, w := range want {
		if got[i].Kind != w.kind || got[i].LevelDB != w.level {
			t.Errorf("event %d: %s at %.0f dBFS, want %s at %.0f", i, got[i].Kind, got[i].LevelDB, w.kind, w.level)
		}
	}
}

// TestLineJudgeUtterance: an utterance opens at the first speech and ends
// 0.8 s (40 frames) after its last voiced frame; a 0.5 s pause inside it
// does not end it, and frames that did not arrive count as no speech.
func TestLineJudgeUtterance(t *testing.T) {
	var j LineJudge
	var got []Event
	var at []int
	frame := 0
	feed := func(r vad.Result) {
		j.Frame(r, func(e Event) {
			if e.Kind == Onset || e.Kind == UtteranceEnd {
				got, at = append(got, e), append(at, frame)
			}
		})
		frame++
	}
	speech := func(n int, start bool) {
		for i := range n {
			feed(vad.Result{Class: vad.Speech, Voiced: true, SpeechStart: start && i == 0, LevelDB: -20})
		}
	}
	pause := func(from, n int) { // hangover frames, the segment's end, then silence
		for i := from; i < from+n; i++ {
			switch {
			case i < 20:
				feed(vad.Result{Class: vad.Speech, LevelDB: -70})
			case i == 20:
				feed(vad.Result{Class: vad.Silence, SpeechEnd: true, LevelDB: -70})
			default:
				feed(vad.Result{Class: vad.Silence, LevelDB: -70})
			}
		}
	}
	speech(30, true) // frames 0-29
	pause(0, 25)     // 0.5 s inside the sentence
	speech(20, true) // frames 55-74: the last voiced frame is 74
	pause(0, 39)
	if len(got) != 1 || got[0].Kind != Onset || at[0] != 0 {
		t.Fatalf("before 0.8 s of no speech: %+v at %v, want one onset at frame 0", got, at)
	}
	pause(39, 1)
	if len(got) != 2 || got[1].Kind != UtteranceEnd || at[1] != 74+40 {
		t.Fatalf("events %+v at frames %v, want the utterance's end at frame %d", got, at, 74+40)
	}
	if d := got[1].Dur; d != 75*media.FrameDur {
		t.Errorf("utterance of %v, want %v", d, 75*media.FrameDur)
	}
	// A phone that stops sending: lost frames are no speech.
	got, at = nil, nil
	speech(10, true)
	for range 60 {
		feed(vad.Result{Class: vad.Silence, LevelDB: vad.MinDB})
	}
	if len(got) != 2 || got[1].Kind != UtteranceEnd || got[1].Dur != 10*media.FrameDur {
		t.Errorf("speech then lost frames: %+v", got)
	}
}

// TestLineJudgeNoiseNeedsAWindow: one loud frame at the start of the call
// (a click, a header played as audio) is not a noisy line; a line that is
// noisy from the start is reported once the detector's window is full.
func TestLineJudgeNoiseNeedsAWindow(t *testing.T) {
	var got []Event
	l, err := NewLineListener(LineOptions{}, func(e Event) { got = append(got, e) })
	if err != nil {
		t.Fatal(err)
	}
	click := make([]int16, media.FrameSamples)
	for i := range 58 {
		click[i] = int16((i*7919)%60000 - 30000)
	}
	l.Frame(click)
	for range 200 {
		l.Frame(make([]int16, media.FrameSamples))
	}
	if len(got) != 0 {
		t.Errorf("a click at the start: %+v, want nothing", got)
	}
	var j LineJudge
	var at []int
	for i := range 40 {
		j.Frame(vad.Result{Class: vad.Noise, Changed: i == 0, LevelDB: -25}, func(e Event) {
			if e.Kind == Noise {
				at = append(at, i)
			}
		})
	}
	if len(at) != 1 || at[0] != noiseFrames-1 {
		t.Errorf("noise from the start reported at frames %v, want once at %d", at, noiseFrames-1)
	}
}
