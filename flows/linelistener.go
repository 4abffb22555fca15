package flows

import (
	"fmt"

	"github.com/kefu-hotline/kefu/media/dtmf"
	"github.com/kefu-hotline/kefu/media/vad"
)

// MaxGapFrames is the most frames of one gap in the caller's audio (no
// packets: DTX, hold, a dead line) that are fed to the detector as lost: a
// second, longer than its hangover, so speech still in progress ends.
const MaxGapFrames = 50

// LineOptions configure a LineListener.
type LineOptions struct {
	// InBand runs the in-band DTMF detector on the audio: for trunks that
	// negotiated no telephone-event.
	InBand bool
	// KeyLevels gives in-band key events the level and noise floor of the
	// frame the key was detected in (kefu simulate's timeline shows them).
	// A live call's key events carry no levels.
	KeyLevels bool
}

// LineListener is the caller's side of a call as a flow hears it: decoded
// audio goes through the line-condition detector (media/vad), the in-band
// DTMF detector (media/dtmf) when there is no telephone-event, and the
// LineJudge, and comes out as flow events. A live call feeds it what its
// RTP session receives and stamps the events with the wall clock; `kefu
// simulate` feeds it a recording frame by frame and stamps them with frame
// time. One per call, used from one goroutine (Digit excepted).
type LineListener struct {
	det       *vad.Detector
	inband    *dtmf.Detector // nil without InBand
	judge     LineJudge
	keyLevels bool
	emit      func(Event)
}

// NewLineListener returns a listener that hands the events it makes to
// emit, which sets their At.
func NewLineListener(o LineOptions, emit func(Event)) (*LineListener, error) {
	det, err := vad.New(vad.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("flows: line detector: %w", err)
	}
	l := &LineListener{det: det, keyLevels: o.KeyLevels, emit: emit}
	if o.InBand {
		if l.inband, err = dtmf.New(dtmf.DefaultOptions()); err != nil {
			return nil, fmt.Errorf("flows: in-band DTMF detector: %w", err)
		}
	}
	return l, nil
}

// Frame takes one decoded frame of the caller's audio (up to 20 ms).
func (l *LineListener) Frame(pcm []int16) {
	r := l.det.Frame(pcm)
	l.judge.Frame(r, l.emit)
	if l.inband == nil {
		return
	}
	if key, ok := l.inband.Frame(pcm); ok {
		ev := Event{Kind: Digit, Key: key}
		if l.keyLevels {
			ev.LevelDB, ev.FloorDB = r.LevelDB, r.FloorDB
		}
		l.emit(ev)
	}
}

// Lost takes one frame that did not arrive (see MaxGapFrames).
func (l *LineListener) Lost() { l.judge.Frame(l.det.Lost(), l.emit) }

// ComfortNoise takes an RFC 3389 comfort-noise packet with its noise level
// in -dBov.
func (l *LineListener) ComfortNoise(level uint8) { l.judge.Frame(l.det.ComfortNoise(level), l.emit) }

// Digit takes a key the caller pressed, reported out of band (an RFC 4733
// telephone-event, a SIP INFO). It keeps no state: any goroutine may call
// it.
func (l *LineListener) Digit(key rune) { l.emit(Event{Kind: Digit, Key: key}) }

// String names the chain, e.g. "VAD -> DTMF(in-band) -> LineJudge -> events".
func (l *LineListener) String() string {
	if l.inband != nil {
		return "VAD -> DTMF(in-band) -> LineJudge -> events"
	}
	return "VAD -> LineJudge -> events"
}
