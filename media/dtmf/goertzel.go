package dtmf

import (
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// coef holds the Goertzel coefficients 2·cos(2πf/fs): the four low
// frequencies, the four high ones, then their second harmonics in the same
// order.
var coef = func() (c [16]float32) {
	for i := range 4 {
		c[i] = goertzelCoef(LowFreqs[i])
		c[4+i] = goertzelCoef(HighFreqs[i])
		c[8+i] = goertzelCoef(2 * LowFreqs[i])
		c[12+i] = goertzelCoef(2 * HighFreqs[i])
	}
	return c
}()

// nearHigh[r][c] is whether the second harmonic of low tone r lies within
// two bins of high tone c.
var nearHigh = func() (n [4][4]bool) {
	const bin = float64(media.SampleRate) / BlockSamples
	for r, fl := range LowFreqs {
		for c, fh := range HighFreqs {
			n[r][c] = math.Abs(2*fl-fh) < 2*bin
		}
	}
	return n
}()

func goertzelCoef(f float64) float32 {
	return float32(2 * math.Cos(2*math.Pi*f/media.SampleRate))
}

// goertzel4 sets pow to the powers of the block at the frequencies of four
// coefficients: |X(f)|², about (a·N/√2)² for a sine of RMS a. The four
// recursions run side by side: each waits on its own last step, so four at
// once keep the processor busy where one would not.
func goertzel4(block *[BlockSamples]float32, c *[4]float32, pow *[4]float64) {
	c0, c1, c2, c3 := c[0], c[1], c[2], c[3]
	var a1, a2, b1, b2, e1, e2, f1, f2 float32
	for _, x := range block {
		a1, a2 = x+c0*a1-a2, a1
		b1, b2 = x+c1*b1-b2, b1
		e1, e2 = x+c2*e1-e2, e1
		f1, f2 = x+c3*f1-f2, f1
	}
	pow[0] = float64(a1*a1 + a2*a2 - c0*a1*a2)
	pow[1] = float64(b1*b1 + b2*b2 - c1*b1*b2)
	pow[2] = float64(e1*e1 + e2*e2 - c2*e1*e2)
	pow[3] = float64(f1*f1 + f2*f2 - c3*f1*f2)
}

// hann is a Hann window over a block, scaled to keep a sine's power (on
// the scale of goertzel4): its sidelobes fall to -31 dB and below from two
// bins off, where the rectangular window's are at -13 to -18 dB.
var hann = func() (w [BlockSamples]float32) {
	var sum2 float64
	v := make([]float64, BlockSamples)
	for i := range v {
		v[i] = 0.5 - 0.5*math.Cos(2*math.Pi*(float64(i)+0.5)/BlockSamples)
		sum2 += v[i]
	}
	for i := range w {
		w[i] = float32(v[i] * BlockSamples / sum2)
	}
	return w
}()

// analyse returns the key the block holds, or 0.
func (d *Detector) analyse() rune {
	b := &d.block
	var energy float32
	for _, x := range b {
		energy += x * x
	}
	// |X(f)|² ≤ N·energy: too little energy for a tone of MinToneDB.
	if float64(energy)*BlockSamples < d.minPow {
		return 0
	}
	var pow [8]float64
	goertzel4(b, (*[4]float32)(coef[0:4]), (*[4]float64)(pow[0:4]))
	goertzel4(b, (*[4]float32)(coef[4:8]), (*[4]float64)(pow[4:8]))
	row, col := strongest(pow[:4]), 4+strongest(pow[4:])
	lo, hi := pow[row], pow[col]
	if lo < d.minPow || hi < d.minPow {
		return 0 // too quiet
	}
	for i := range 4 {
		if i != row && pow[i]*d.peak > lo {
			return 0 // not a clear low tone
		}
		if 4+i != col && pow[4+i]*d.peak > hi {
			return 0 // not a clear high tone
		}
	}
	// The two tones must carry most of the energy: a sine of RMS a has
	// N·a² of energy and a power of (a·N/√2)², so energy = 2·power/N.
	if 2*(lo+hi)/BlockSamples < toneShare*float64(energy) {
		return 0 // speech or noise
	}
	// Twist and harmonics are measured through a Hann window: through the
	// plain block, each tone leaks into the other's measure by up to ±1.5
	// dB. The second harmonic of a low tone may fall within two bins of
	// the high tone (2·697 Hz is 58 Hz from 1336 Hz): that one cannot be
	// told from the high tone and is not measured.
	var w [BlockSamples]float32
	for i, x := range b {
		w[i] = x * hann[i]
	}
	var wp [4]float64
	goertzel4(&w, &[4]float32{coef[row], coef[col], coef[8+row], coef[8+col]}, &wp)
	lo, hi = wp[0], wp[1]
	switch {
	case hi > lo*d.fwd || lo > hi*d.rev:
		return 0 // twist
	case wp[3]*d.harm > hi:
		return 0 // harmonics: a voice
	case !nearHigh[row][col-4] && wp[2]*d.harm > lo:
		return 0
	}
	return Keys[row][col-4]
}

// strongest returns the index of the largest of p.
func strongest(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
