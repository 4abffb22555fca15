package vad

import (
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// Tones: a dial or busy tone, a DTMF key or a test tone is one or two
// sinusoids, so nearly all its power lies in one or two narrow peaks of
// its spectrum; a voice spreads its power over the many harmonics of its
// pitch and its formants up to 3.4 kHz, and noise over the whole band. The
// measure (toneHistory.tonality) is the share of the power within a bin of the
// two strongest peaks of the spectrum of the newest specWin samples (32
// ms at 8 kHz, 31.25 Hz a bin), Hann-windowed: at least 0.99 for a tone or
// a pair of tones through G.711, about 0.985 with a noise 20 dB below
// them, and less than 0.97 for a voice (at most 0.968 over the voiced
// frames of the fixtures and the zh-CN prompts).

const (
	specWin  = 256          // samples of the spectrum, at 8 kHz
	specHalf = specWin / 2  // the complex FFT's length
	specBins = specHalf + 1 // bins 0 (DC) to specHalf (4 kHz)
	peakHalf = 1            // a peak spans its bin and one on each side
	// tailLen is how many samples of the previous frame the window
	// takes, with a frame of media.FrameSamples.
	tailLen = specWin - media.FrameSamples
)

// Tables of the transform, computed once.
var (
	// hann is the window.
	hann = func() (w [specWin]float32) {
		for i := range w {
			w[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/specWin))
		}
		return w
	}()
	// twRe and twIm are e^(-2πik/specWin), k < specHalf.
	twRe, twIm = func() (re, im [specHalf]float32) {
		for k := range re {
			s, c := math.Sincos(-2 * math.Pi * float64(k) / specWin)
			re[k], im[k] = float32(c), float32(s)
		}
		return re, im
	}()
	// bitrev permutes specHalf points for the radix-2 transform.
	bitrev = func() (r [specHalf]uint8) {
		bits := 0
		for 1<<bits < specHalf {
			bits++
		}
		for i := range r {
			v := 0
			for b := range bits {
				if i&(1<<b) != 0 {
					v |= 1 << (bits - 1 - b)
				}
			}
			r[i] = uint8(v)
		}
		return r
	}()
)

// powerSpectrum sets p to the power spectrum of the Hann-windowed x
// (specWin real samples), bins 0 to specHalf, by a complex transform of
// half the length whose real and imaginary parts are the even and odd
// samples.
func powerSpectrum(x *[specWin]float32, p *[specBins]float64) {
	var re, im [specHalf]float32
	for n := range specHalf {
		k := bitrev[n]
		re[k] = x[2*n] * hann[2*n]
		im[k] = x[2*n+1] * hann[2*n+1]
	}
	// Radix-2 decimation in time; the twiddles of the half-length
	// transform are every other one of the table.
	for size := 2; size <= specHalf; size <<= 1 {
		half, step := size/2, specWin/size
		for start := 0; start < specHalf; start += size {
			for j := range half {
				a, b := start+j, start+j+half
				wr, wi := twRe[j*step], twIm[j*step]
				br := re[b]*wr - im[b]*wi
				bi := re[b]*wi + im[b]*wr
				re[b], im[b] = re[a]-br, im[a]-bi
				re[a], im[a] = re[a]+br, im[a]+bi
			}
		}
	}
	// Untangle the two real halves: with Z the transform of the pairs,
	// X[k] = E[k] + W^k O[k], E[k] = (Z[k] + conj Z[N-k]) / 2 and O[k] =
	// (Z[k] - conj Z[N-k]) / 2i.
	for k := 0; k <= specHalf; k++ {
		zr, zi := re[k%specHalf], im[k%specHalf]
		nr, ni := re[(specHalf-k)%specHalf], -im[(specHalf-k)%specHalf]
		er, ei := (zr+nr)/2, (zi+ni)/2
		or, oi := (zi-ni)/2, -(zr-nr)/2
		wr, wi := float32(-1), float32(0)
		if k < specHalf {
			wr, wi = twRe[k], twIm[k]
		}
		vr := er + wr*or - wi*oi
		vi := ei + wr*oi + wi*or
		p[k] = float64(vr*vr + vi*vi)
	}
}

// toneHistory keeps the end of the previous frame, for the spectrum's window.
type toneHistory struct {
	tail [tailLen]int16
	ok   bool // tail holds the previous frame's end
}

// keep stores the end of pcm, every frame, for the next one.
func (t *toneHistory) keep(pcm []int16) {
	if len(pcm) < tailLen {
		t.ok = false
		return
	}
	copy(t.tail[:], pcm[len(pcm)-tailLen:])
	t.ok = true
}

// tonality returns the share of the power of the newest specWin samples
// (the end of the previous frame and pcm), mean removed, that lies in
// their two strongest spectral peaks, in [0, 1]; 0 for silence or
// without the previous frame.
func (t *toneHistory) tonality(pcm []int16, mean float64) float64 {
	if !t.ok || len(pcm) != media.FrameSamples {
		return 0
	}
	var x [specWin]float32
	m := float32(mean)
	for i, v := range t.tail {
		x[i] = float32(v) - m
	}
	for i, v := range pcm {
		x[tailLen+i] = float32(v) - m
	}
	var ps [specBins]float64
	powerSpectrum(&x, &ps)
	total := 0.0
	for _, v := range ps {
		total += v
	}
	if total <= 0 {
		return 0
	}
	in := 0.0
	for range 2 {
		best := 0
		for k, v := range ps {
			if v > ps[best] {
				best = k
			}
		}
		for k := max(best-peakHalf, 0); k <= min(best+peakHalf, specHalf); k++ {
			in += ps[k]
			ps[k] = 0
		}
	}
	return in / total
}
