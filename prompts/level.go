package prompts

import (
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// Speech level measurement, used to check recordings and by the generator
// to normalise them.
const (
	// TargetLevel is the speech level of the default recordings, in dBFS
	// as SpeechLevel measures it.
	TargetLevel = -18.0
	// LevelTolerance is how far (dB) a shipped recording may be from
	// TargetLevel.
	LevelTolerance = 3.0
	// speechGate: frames more than this many dB below the loudest frame
	// are pauses, not speech.
	speechGate = 30.0
	// silenceFloor: frames below this level (dBFS) never count as speech.
	silenceFloor = -60.0
)

// SpeechLevel returns the RMS level of the voiced part of pcm in dBFS,
// where 0 dBFS is the RMS of a full-scale square wave (as sox reports it;
// a full-scale sine is -3 dBFS). The signal is cut into 20 ms frames;
// frames within 30 dB of the loudest frame and above -60 dBFS count as
// speech, and the level is the RMS over those frames, so pauses and
// leading or trailing silence do not lower it. It returns -Inf for
// silence.
func SpeechLevel(pcm []int16) float64 {
	const n = media.FrameSamples
	energies := make([]float64, 0, len(pcm)/n+1)
	loudest := 0.0
	for lo := 0; lo < len(pcm); lo += n {
		var e float64
		frame := pcm[lo:min(lo+n, len(pcm))]
		for _, s := range frame {
			e += float64(s) * float64(s)
		}
		e /= float64(len(frame))
		energies = append(energies, e)
		loudest = max(loudest, e)
	}
	gate := max(loudest*math.Pow(10, -speechGate/10), 32768*32768*math.Pow(10, silenceFloor/10))
	var sum float64
	var count int
	for _, e := range energies {
		if e >= gate && e > 0 {
			sum += e
			count++
		}
	}
	if count == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(sum/float64(count)/(32768*32768))
}
