package audio

import (
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// Levels are in dBFS relative to a full-scale square wave, as sox reports
// them: 0 dBFS is a mean square of 32768², a full-scale sine is -3.01 dBFS.
// Digital silence (and an empty slice) is -Inf; callers that need a finite
// floor clamp with max.

// fullScale2 is the mean square of a full-scale square wave: 0 dBFS.
const fullScale2 = 32768.0 * 32768.0

// Speech level gates (SpeechLevel).
const (
	// speechGate: frames more than this many dB below the loudest frame
	// are pauses, not speech.
	speechGate = 30.0
	// silenceFloor: frames below this level (dBFS) never count as speech.
	silenceFloor = -60.0
)

// SumSquares returns the sum of the squares of pcm: the energy that RMS
// and the levels are computed from, for callers that accumulate it over
// several frames. It allocates nothing.
func SumSquares(pcm []int16) float64 {
	var sum float64
	for _, s := range pcm {
		v := float64(s)
		sum += v * v
	}
	return sum
}

// PowerDB returns the level in dBFS of a mean square on the int16 scale
// (SumSquares divided by the number of samples), or -Inf if it is not
// positive.
func PowerDB(meanSquare float64) float64 {
	if meanSquare <= 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(meanSquare/fullScale2)
}

// RMS returns the root mean square of pcm on the int16 scale, 0 for an
// empty slice.
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	return math.Sqrt(SumSquares(pcm) / float64(len(pcm)))
}

// RMSDB returns the RMS level of pcm in dBFS, -Inf for silence. The DC
// offset is not removed (media/vad.Level removes it).
func RMSDB(pcm []int16) float64 {
	if len(pcm) == 0 {
		return math.Inf(-1)
	}
	return PowerDB(SumSquares(pcm) / float64(len(pcm)))
}

// PeakDB returns the largest absolute sample of pcm in dBFS, where -32768
// is 0 dBFS, or -Inf for silence.
func PeakDB(pcm []int16) float64 {
	peak := 0.0
	for _, s := range pcm {
		peak = max(peak, math.Abs(float64(s)))
	}
	return 20 * math.Log10(peak/32768)
}

// SpeechLevel returns the RMS level of the voiced part of pcm, 8 kHz audio,
// in dBFS. The signal is cut into 20 ms frames; frames within 30 dB of the
// loudest frame and above -60 dBFS count as speech, and the level is the
// RMS over those frames, so pauses and leading or trailing silence do not
// lower it. It returns -Inf for silence.
func SpeechLevel(pcm []int16) float64 {
	const n = media.FrameSamples
	energies := make([]float64, 0, len(pcm)/n+1)
	loudest := 0.0
	for lo := 0; lo < len(pcm); lo += n {
		frame := pcm[lo:min(lo+n, len(pcm))]
		e := SumSquares(frame) / float64(len(frame))
		energies = append(energies, e)
		loudest = max(loudest, e)
	}
	gate := max(loudest*math.Pow(10, -speechGate/10), fullScale2*math.Pow(10, silenceFloor/10))
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
	return PowerDB(sum / float64(count))
}
