package flows

import "github.com/kefu-hotline/kefu/media/vad"

// JudgeFrames is how long into a speech segment the detector's weak-or-
// normal verdict is taken: its first syllable alone may be soft. With the
// detector's 80 ms onset the flow hears of speech within 300 ms.
const JudgeFrames = 10

// LineJudge turns the line-condition detector's verdicts, frame by frame,
// into the caller events flows react to: speech (normal or weak, judged
// JudgeFrames into the segment, or at its end if shorter), the end of
// speech, a change between weak and normal within a segment, and a line
// turning noisy. A live call and `kefu simulate` with a recording both
// judge the line through it. The zero value is ready; one per call.
type LineJudge struct {
	judging   int // frames left before speech is judged weak or normal
	judged    bool
	lastClass vad.Class
}

// Frame takes the detector's result for one frame and emits the events it
// makes, with their levels; the caller sets At.
func (j *LineJudge) Frame(r vad.Result, emit func(Event)) {
	ev := Event{LevelDB: r.LevelDB, FloorDB: r.FloorDB}
	speechKind := func() EventKind {
		if r.Class == vad.WeakSpeech {
			return WeakSpeech
		}
		return SpeechStart
	}
	switch {
	case r.SpeechStart:
		j.judging, j.judged = JudgeFrames, false
	case r.SpeechEnd:
		if j.judging > 0 && !j.judged { // a short utterance: judge what there was
			ev.Kind, ev.LevelDB = speechKind(), r.SegmentDB
			emit(ev)
			ev.LevelDB = r.LevelDB
		}
		j.judging, j.judged = 0, false
		ev.Kind = SpeechEnd
		emit(ev)
		j.lastClass = r.Class
		return
	}
	if j.judging > 0 {
		if j.judging--; j.judging == 0 {
			j.judged = true
			ev.Kind, ev.LevelDB = speechKind(), r.SegmentDB
			emit(ev)
		}
	} else if j.judged && r.Changed && r.Class.IsSpeech() && j.lastClass.IsSpeech() && r.Class != j.lastClass {
		ev.Kind, ev.LevelDB = speechKind(), r.SegmentDB // louder, or fainter, now
		emit(ev)
	} else if r.Changed && r.Class == vad.Noise {
		ev.Kind = Noise
		emit(ev)
	}
	j.lastClass = r.Class
}
