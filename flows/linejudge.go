package flows

import (
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/vad"
)

// JudgeFrames is how long into a speech segment the detector's weak-or-
// normal verdict is taken: its first syllable alone may be soft. With the
// detector's 80 ms onset the flow hears of speech within 300 ms.
const JudgeFrames = 10

// DefaultUtteranceEnd is how long without speech ends an utterance
// (CS-LISTEN): 0.8 s, longer than the pauses inside a sentence (up to
// about 0.5 s).
const DefaultUtteranceEnd = 800 * time.Millisecond

// LineJudge turns the line-condition detector's verdicts, frame by frame,
// into the caller events flows react to: speech (normal or weak, judged
// JudgeFrames into the segment, or at its end if shorter), the end of
// speech, a change between weak and normal within a segment, and a line
// turning noisy. Around the segments it reports the caller's utterances
// (CS-LISTEN): Onset on the first frame of speech, and UtteranceEnd once
// EndFrames have passed without speech, so that the pauses inside a
// sentence do not end it; frames that did not arrive count as no speech. A
// live call and `kefu simulate` with a recording both judge the line
// through it. The zero value is ready; one per call.
type LineJudge struct {
	// EndFrames is how many frames without speech end an utterance; 0
	// is DefaultUtteranceEnd.
	EndFrames int

	judging   int // frames left before speech is judged weak or normal
	judged    bool
	lastClass vad.Class

	utter     int // frames since the utterance began; 0 when none is open
	lastVoice int // utter at the utterance's last voiced frame

	frames int // frames judged so far, up to noiseFrames
}

// noiseFrames is how much of the line the judge hears before it calls it
// noisy: the detector's window. A click at the start (a phone's first
// packet, a header played as audio) is one loud frame, not a noisy line.
var noiseFrames = media.Frames(vad.DefaultWindowMs * time.Millisecond)

// Frame takes the detector's result for one frame and emits the events it
// makes, with their levels; the caller sets At.
func (j *LineJudge) Frame(r vad.Result, emit func(Event)) {
	j.utterance(r, emit)
	j.segment(r, emit)
}

// utterance opens an utterance at the first speech and ends it after
// EndFrames without speech.
func (j *LineJudge) utterance(r vad.Result, emit func(Event)) {
	if j.utter == 0 {
		if !r.SpeechStart {
			return
		}
		emit(Event{Kind: Onset, LevelDB: r.LevelDB, FloorDB: r.FloorDB})
	}
	j.utter++
	if r.Class.IsSpeech() && (r.Voiced || r.SpeechStart) {
		j.lastVoice = j.utter
	}
	end := j.EndFrames
	if end <= 0 {
		end = media.Frames(DefaultUtteranceEnd)
	}
	if !r.Class.IsSpeech() && j.utter-j.lastVoice >= end {
		emit(Event{Kind: UtteranceEnd, LevelDB: r.LevelDB, FloorDB: r.FloorDB, Dur: time.Duration(j.lastVoice) * media.FrameDur})
		j.utter, j.lastVoice = 0, 0
	}
}

// segment judges one speech segment weak or normal, and reports its end
// and a noisy line.
func (j *LineJudge) segment(r vad.Result, emit func(Event)) {
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
	} else if r.Class == vad.Noise && (r.Changed && j.frames >= noiseFrames || j.frames == noiseFrames-1 && j.lastClass == vad.Noise) {
		// Noise from a full window on (see noiseFrames); a class that
		// turned noisy in the first window and stayed so is reported at
		// its end.
		ev.Kind = Noise
		emit(ev)
	}
	if j.frames < noiseFrames {
		j.frames++
	}
	j.lastClass = r.Class
}
