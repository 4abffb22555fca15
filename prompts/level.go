package prompts

import "github.com/kefu-hotline/kefu/media/audio"

// Speech level measurement, used to check recordings and by the generator
// to normalise them.
const (
	// TargetLevel is the speech level of the default recordings, in dBFS
	// as SpeechLevel measures it.
	TargetLevel = -18.0
	// LevelTolerance is how far (dB) a shipped recording may be from
	// TargetLevel.
	LevelTolerance = 3.0
)

// SpeechLevel returns the RMS level of the voiced part of pcm in dBFS,
// where 0 dBFS is the RMS of a full-scale square wave (as sox reports it;
// a full-scale sine is -3 dBFS). The signal is cut into 20 ms frames;
// frames within 30 dB of the loudest frame and above -60 dBFS count as
// speech, and the level is the RMS over those frames, so pauses and
// leading or trailing silence do not lower it. It returns -Inf for
// silence. It is audio.SpeechLevel, the meter prompts are checked with.
func SpeechLevel(pcm []int16) float64 { return audio.SpeechLevel(pcm) }
