package vad

import (
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// Periodicity: voiced speech repeats itself every pitch period (2.5 to
// 16 ms for voices from 400 Hz down to 60 Hz); white, pink and most
// machine noise does not. The measure is the highest peak of the
// normalised autocorrelation over those lags, computed on the signal
// low-passed and decimated to 4 kHz (the pitch harmonics that carry
// periodicity lie below 2 kHz), over the newest pitchWin decimated samples
// (30 ms). It is about 0.2..0.4 on white and pink noise and 0.7..0.95 on
// clean vowels.

const (
	// pitchMinLag and pitchMaxLag bound the lags searched, in decimated
	// samples at 4 kHz: 400 Hz down to 50 Hz.
	pitchMinLag = 10
	pitchMaxLag = 80
	// pitchWin is the correlation window in decimated samples (30 ms).
	pitchWin = 120
	// pitchHist holds the window, the largest lag and one more for the
	// peak test, rounded up to pairs.
	pitchHist = (pitchWin + pitchMaxLag + 2) &^ 1

	// The coarse search at 2 kHz: pairs of samples summed.
	coarseHist   = pitchHist / 2
	coarseWin    = pitchWin / 2
	coarseMinLag = pitchMinLag / 2
	coarseMaxLag = pitchMaxLag / 2
)

// pitchSpare is room for this many decimated frames after the history, so
// the history is moved back to the start of buf only every few frames.
const pitchSpare = 8 * media.FrameSamples / 2

// pitch keeps the decimated history of the caller's audio.
type pitch struct {
	buf  [pitchHist + pitchSpare]float32
	end  int     // the history is buf[end-pitchHist:end], oldest first
	prev float32 // last input sample (mean removed) of the previous frame

	// emph is the history with its low frequencies taken down
	// (emphasise), for the periodicity of the frame being measured, when
	// emphasis is set.
	emph     [pitchHist]float32
	emphasis bool
}

// reset forgets the history.
func (p *pitch) reset() {
	clear(p.buf[:])
	p.end, p.prev = pitchHist, 0
}

// hist returns the history: the newest pitchHist decimated samples.
func (p *pitch) hist() *[pitchHist]float32 {
	return (*[pitchHist]float32)(p.buf[p.end-pitchHist : p.end])
}

// next makes room for n new samples and returns them.
func (p *pitch) next(n int) []float32 {
	if p.end+n > len(p.buf) {
		copy(p.buf[:], p.buf[p.end-pitchHist:p.end])
		p.end = pitchHist
	}
	p.end += n
	return p.buf[p.end-n : p.end]
}

// push appends pcm, with its mean removed, low-passed by [1 2 1] and
// decimated by two. An odd last sample is dropped.
func (p *pitch) push(pcm []int16, mean float64) {
	n := min(len(pcm)/2, pitchSpare)
	if n == 0 {
		return
	}
	out := p.next(n)
	pcm = pcm[:2*n]
	m := float32(mean)
	prev := p.prev
	for i := range out {
		a := float32(pcm[2*i]) - m
		b := float32(pcm[2*i+1]) - m
		out[i] = prev + 2*a + b
		prev = b
	}
	p.prev = prev
}

// tilt returns the correlation of neighbouring samples of the newest n
// decimated samples (a frame), the lower their power lies the higher:
// about 0 for white noise in the telephone band, 0.4 for pink noise or a
// crowd, 0.75 for brown noise or a buzz, 0.97 for mains hum or rumble; 0
// for silence.
func (p *pitch) tilt(n int) float64 {
	h := p.hist()
	x := h[pitchHist-n:]
	y := h[pitchHist-n-1 : pitchHist-1]
	e0 := dot(x, x)
	if e0 <= 0 {
		return 0
	}
	return float64(dot(x, y) / e0)
}

// gap stands for a frame of n samples that never arrived: zeros, so audio on
// either side of the gap does not correlate across it.
func (p *pitch) gap(n int) {
	clear(p.next(min(n/2, pitchSpare)))
	p.prev = 0
}

// periodicity returns the highest local peak of the normalised
// autocorrelation of the newest pitchWin samples over lags pitchMinLag to
// pitchMaxLag, refined by a parabola through the peak and its neighbours,
// in [0, 1]. Silence is 0.
//
// To save work it searches in two steps: every lag at 2 kHz (pairs of
// samples summed, coarseWin samples), then, around the two best peaks found
// there, the neighbouring lags at 4 kHz over the full window. That is
// about 2,500 multiplications instead of 8,500.
func (p *pitch) periodicity() float64 {
	h := p.emphasise()
	var c [coarseHist]float32
	for k := range c {
		i := pitchHist - 2*(coarseHist-k)
		c[k] = h[i] + h[i+1]
	}
	const cStart = coarseHist - coarseWin
	cur := c[cStart:]
	e0 := float64(dot(cur, cur))
	if e0 <= 0 {
		return 0
	}
	var r [coarseMaxLag + 2]float64
	correlate(c[:], cStart, e0, coarseMinLag-1, coarseMaxLag+1, r[:])
	// The two best local peaks.
	var l1, l2 int
	var r1, r2 float64
	for lag := coarseMinLag; lag <= coarseMaxLag; lag++ {
		v := r[lag]
		if v < r[lag-1] || v < r[lag+1] {
			continue
		}
		switch {
		case v > r1:
			l2, r2 = l1, r1
			l1, r1 = lag, v
		case v > r2:
			l2, r2 = lag, v
		}
	}
	if l1 == 0 {
		return 0
	}
	const start = pitchHist - pitchWin
	fine := h[start:]
	e0 = float64(dot(fine, fine))
	best := p.refine(2*l1, e0)
	// The runner-up only when it was close: the coarse measure is rough.
	if l2 > 0 && r2 > r1-0.1 {
		best = max(best, p.refine(2*l2, e0))
	}
	return min(best, 1)
}

// emphasisCoef is the coefficient of the first-order pre-emphasis of the
// history, y[i] = x[i] - emphasisCoef x[i-1]: at 4 kHz it takes 50 Hz down
// by 15 dB and 100 Hz by 12 dB against 500 Hz, so mains hum, rumble and
// brown noise, whose power lies there, weigh less against a voice's
// harmonics, most of which the telephone band keeps above 300 Hz.
const emphasisCoef = 0.9

// emphasise fills and returns p.emph, or returns the history itself when
// emphasis is off.
func (p *pitch) emphasise() *[pitchHist]float32 {
	h := p.hist()
	if !p.emphasis {
		return h
	}
	e := &p.emph
	e[0] = h[0] * (1 - emphasisCoef)
	for i := 1; i < pitchHist; i++ {
		e[i] = h[i] - emphasisCoef*h[i-1]
	}
	return e
}

// emphasised returns what emphasise returned last.
func (p *pitch) emphasised() *[pitchHist]float32 {
	if p.emphasis {
		return &p.emph
	}
	return p.hist()
}

// refine returns the highest local peak of the normalised autocorrelation
// at 4 kHz within one lag of lag, refined by a parabola; e0 is the energy
// of the window.
func (p *pitch) refine(lag int, e0 float64) float64 {
	const start = pitchHist - pitchWin
	lo := max(lag-2, pitchMinLag-1)
	hi := min(lag+2, pitchMaxLag+1)
	var r [pitchMaxLag + 2]float64
	correlate(p.emphasised()[:], start, e0, lo, hi, r[:])
	best := 0.0
	for l := lo + 1; l < hi; l++ {
		a, b, c := r[l-1], r[l], r[l+1]
		if b < a || b < c {
			continue
		}
		// The vertex of the parabola through the three points.
		if den := a - 2*b + c; den < 0 {
			b -= (a - c) * (a - c) / (8 * den)
		}
		best = max(best, b)
	}
	return best
}

// correlate sets r[lag], for lag from lo to hi, to the normalised
// correlation of x[start:] (energy e0) with the same window lag samples
// earlier. The energy of the lagged window slides one sample per lag.
func correlate(x []float32, start int, e0 float64, lo, hi int, r []float64) {
	n := len(x) - start
	cur := x[start:]
	lagged := x[start-lo : len(x)-lo]
	e1 := float64(dot(lagged, lagged))
	for lag := lo; lag <= hi; lag++ {
		if lag > lo {
			in, out := float64(x[start-lag]), float64(x[start-lag+n])
			e1 += in*in - out*out
		}
		if e1 > 0 {
			r[lag] = float64(dot(cur, x[start-lag:start-lag+n])) / math.Sqrt(e0*e1)
		}
	}
}

// dot returns the dot product of a and b[:len(a)] (len(a) a multiple of
// 4), in four independent sums so the loop is not bound by the latency of
// one addition chain.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	for len(a) >= 4 && len(b) >= 4 {
		s0 += a[0] * b[0]
		s1 += a[1] * b[1]
		s2 += a[2] * b[2]
		s3 += a[3] * b[3]
		a, b = a[4:], b[4:]
	}
	return (s0 + s1) + (s2 + s3)
}
