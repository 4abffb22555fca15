package main

import (
	"math"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/resample"
	"github.com/kefu-hotline/kefu/prompts"
)

// Silence trimming and level: what every generated recording gets.
const (
	margin      = 100 * time.Millisecond // silence kept before and after the speech
	fade        = 5 * time.Millisecond   // ramp at each end, so a cut never clicks
	trimWindow  = 10 * time.Millisecond  // analysis window for trimming
	trimGate    = 45.0                   // dB below the loudest window that counts as silence
	limitKnee   = 0.5 * 32768            // soft limiter: linear up to -6 dBFS...
	limitCeil   = 0.89 * 32768           // ...and never above -1 dBFS
	levelRounds = 5                      // gain corrections after limiting
)

// trimSilence returns x without its leading and trailing silence, keeping
// margin of it (padding with zeros where the source has less) and fading
// the ends in and out.
func trimSilence(x []float32, rate int) []float32 {
	win := int(time.Duration(rate) * trimWindow / time.Second)
	keep := int(time.Duration(rate) * margin / time.Second)
	var energies []float64
	loudest := 0.0
	for lo := 0; lo < len(x); lo += win {
		var e float64
		for _, s := range x[lo:min(lo+win, len(x))] {
			e += float64(s) * float64(s)
		}
		energies = append(energies, e)
		loudest = max(loudest, e)
	}
	gate := loudest * math.Pow(10, -trimGate/10)
	first, last := -1, -1
	for i, e := range energies {
		if e > gate && e > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	start, end := first*win-keep, min((last+1)*win, len(x))+keep
	out := make([]float32, end-start)
	for i := range out {
		if j := start + i; j >= 0 && j < len(x) {
			out[i] = x[j]
		}
	}
	ramp := int(time.Duration(rate) * fade / time.Second)
	for i := range min(ramp, len(out)) {
		g := float32(i) / float32(ramp)
		out[i] *= g
		out[len(out)-1-i] *= g
	}
	return out
}

// normalize scales x so that its speech level after conversion to 8 kHz
// is target dBFS (as prompts.SpeechLevel measures it), with a soft limiter
// keeping peaks below -1 dBFS. It returns the result at x's rate and the
// level reached.
func normalize(x []float32, rate int, target float64) ([]int16, float64, error) {
	rs, err := resample.New(rate, media.SampleRate)
	if err != nil {
		return nil, 0, err
	}
	out := make([]int16, len(x))
	gain := 1.0
	level := math.Inf(-1)
	for range levelRounds {
		for i, s := range x {
			out[i] = int16(math.Round(limit(float64(s) * gain)))
		}
		level = prompts.SpeechLevel(rs.Int16(out))
		if math.IsInf(level, -1) {
			return out, level, nil
		}
		if math.Abs(level-target) < 0.05 {
			break
		}
		gain *= math.Pow(10, (target-level)/20)
	}
	return out, level, nil
}

// limit is a soft limiter: linear below limitKnee, then a tanh curve that
// approaches limitCeil.
func limit(v float64) float64 {
	a := math.Abs(v)
	if a <= limitKnee {
		return v
	}
	a = limitKnee + (limitCeil-limitKnee)*math.Tanh((a-limitKnee)/(limitCeil-limitKnee))
	return math.Copysign(a, v)
}

// snr compares a decoded recording with the audio that was encoded: the
// ratio, in dB, of the signal's energy to that of the difference. A
// decoder that drops or adds samples at the start shows as a low ratio.
func snr(ref, got []int16) float64 {
	var sig, noise float64
	for i := range min(len(ref), len(got)) {
		d := float64(ref[i]) - float64(got[i])
		sig += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}
