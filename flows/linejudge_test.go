package flows

import (
	"testing"

	"github.com/kefu-hotline/kefu/media/vad"
)

// TestLineJudge: speech is judged JudgeFrames into the segment at its
// level so far; a short utterance is judged at its end; weak and normal
// changes within a judged segment are reported; noise once.
func TestLineJudge(t *testing.T) {
	var j LineJudge
	var got []Event
	emit := func(e Event) { got = append(got, e) }
	quiet := vad.Result{Class: vad.Silence, LevelDB: -90, FloorDB: -90}
	j.Frame(quiet, emit)
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
