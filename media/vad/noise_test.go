package vad

import (
	"math"
	"math/rand/v2"

	"github.com/kefu-hotline/kefu/media"
)

// Generators of the noises and tones of issue 10 for the held-out cases and
// the unit tests (the fixtures make theirs with sox): brown noise, fan and
// road rumble, mains hum, a harmonic buzz, and sums of sinusoids (DTMF keys
// and call-progress tones). Levels are RMS in dBFS.

// brown returns n frames of brown (1/f²) noise at db dBFS, high-passed at
// about 200 Hz as the telephone band does: white noise through a leaky
// integrator, then a one-pole high-pass.
func brown(rng *rand.Rand, db float64, n int) []int16 {
	return scaleTo(highPass(integrate(rng, n*fs), 200), db)
}

// rumble returns n frames of rumble at db dBFS: brown noise band-passed to
// about 100..400 Hz (two one-pole low-passes, one high-pass).
func rumble(rng *rand.Rand, db float64, n int) []int16 {
	x := highPass(integrate(rng, n*fs), 100)
	return scaleTo(lowPass(lowPass(x, 400), 400), db)
}

// integrate returns n samples of white noise through a leaky integrator.
func integrate(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	y := 0.0
	for i := range x {
		y = 0.998*y + rng.NormFloat64()
		x[i] = y
	}
	return x
}

// highPass filters x with a one-pole high-pass at fc Hz, in place.
func highPass(x []float64, fc float64) []float64 {
	a := 1 / (1 + 2*math.Pi*fc/media.SampleRate)
	var px, py float64
	for i, v := range x {
		py = a * (py + v - px)
		px = v
		x[i] = py
	}
	return x
}

// lowPass filters x with a one-pole low-pass at fc Hz, in place.
func lowPass(x []float64, fc float64) []float64 {
	b := 1 - math.Exp(-2*math.Pi*fc/media.SampleRate)
	y := 0.0
	for i, v := range x {
		y += b * (v - y)
		x[i] = y
	}
	return x
}

// harmonics returns n frames at db dBFS of the harmonics k·f0 of a pitch
// f0 that lie between lo and hi Hz, harmonic k with amplitude amp(k) and a
// random phase: mains hum, a buzz.
func harmonics(rng *rand.Rand, f0, lo, hi float64, amp func(k int) float64, db float64, n int) []int16 {
	x := make([]float64, n*fs)
	for k := 1; float64(k)*f0 <= hi; k++ {
		f, a := float64(k)*f0, amp(k)
		if f < lo || a == 0 {
			continue
		}
		ph := 2 * math.Pi * rng.Float64()
		for i := range x {
			x[i] += a * math.Sin(2*math.Pi*f*float64(i)/media.SampleRate+ph)
		}
	}
	return scaleTo(x, db)
}

// hum returns mains hum at f0 (50 or 60 Hz): the fundamental and harmonics
// up to 500 Hz, the odd ones stronger, as a transformer's field makes it.
func hum(rng *rand.Rand, f0, db float64, n int) []int16 {
	return harmonics(rng, f0, 0, 500, func(k int) float64 {
		if k%2 == 0 {
			return 0.3 / float64(k)
		}
		return 1 / float64(k)
	}, db, n)
}

// buzz returns a square-wave buzz at f0 in the telephone band (200..3600
// Hz, so the fundamental may be missing, as in speech).
func buzz(rng *rand.Rand, f0, db float64, n int) []int16 {
	return harmonics(rng, f0, 200, 3600, func(k int) float64 {
		if k%2 == 0 {
			return 0
		}
		return 1 / float64(k)
	}, db, n)
}

// tones returns n frames of sinusoids at the frequencies fs, each at db
// dBFS: a single tone, or a DTMF key or a call-progress tone pair. A
// fractional start phase keeps the frames from beginning at zero.
func tones(db float64, n int, freqs ...float64) []int16 {
	out := make([]int16, n*fs)
	a := amp(db) * math.Sqrt2
	for i := range out {
		v := 0.0
		for j, f := range freqs {
			v += math.Sin(2*math.Pi*f*float64(i)/media.SampleRate + float64(j)*0.7)
		}
		out[i] = clip(a * v)
	}
	return out
}

// dtmfFreqs returns the two frequencies of a key.
func dtmfFreqs(key rune) (lo, hi float64) {
	const keys = "123A456B789C*0#D"
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	for i, k := range keys {
		if k == key {
			return rows[i/4], cols[i%4]
		}
	}
	panic("dtmfFreqs: no key " + string(key))
}

// dtmfKey returns a key of samples samples (not necessarily whole frames)
// at level db dBFS for the pair, the high tone twist dB above the low one.
func dtmfKey(key rune, db, twist float64, samples int) []int16 {
	lo, hi := dtmfFreqs(key)
	gl := 1 / math.Sqrt(1+math.Pow(10, twist/10))
	gh := gl * math.Pow(10, twist/20)
	a := amp(db) * math.Sqrt2
	out := make([]int16, samples)
	for i := range out {
		t := float64(i) / media.SampleRate
		out[i] = clip(a * (gl*math.Sin(2*math.Pi*lo*t) + gh*math.Sin(2*math.Pi*hi*t)))
	}
	return out
}
