// Package resample converts mono PCM between sample rates with a
// windowed-sinc (Kaiser window) polyphase filter. kefu uses it once, when
// prompts are loaded, to bring recordings at any common rate (8000 to
// 48000 Hz) down to the 8 kHz of the telephone path, with a real
// anti-aliasing low-pass a little below 4 kHz.
//
// A Resampler is immutable after New and safe for concurrent use; filter
// tables are built once per rate pair and shared.
package resample

import (
	"fmt"
	"math"
	"sync"

	"github.com/kefu-hotline/kefu/media"
)

// Filter design, relative to the Nyquist frequency of the lower of the two
// rates (4 kHz when converting to 8 kHz).
const (
	// DefaultPassband is the edge of the flat passband: 3400 Hz at 8 kHz,
	// the top of the classic telephone band.
	DefaultPassband = 0.85
	// DefaultStopband is where the stopband starts: 4000 Hz at 8 kHz, so
	// nothing above the output Nyquist frequency folds back.
	DefaultStopband = 1.0
	// DefaultAttenuation is the stopband attenuation in dB.
	DefaultAttenuation = 90.0
)

// maxPhases caps the polyphase table. Rate pairs whose reduced ratio needs
// more phases (unusual rates such as 44056 Hz) round the fractional input
// position to the nearest of maxPhases phases; the error this adds is below
// -80 dB in the telephone band.
const maxPhases = 1024

// Resampler converts mono audio from one fixed rate to another.
type Resampler struct {
	in, out  int
	up, down int // out/in reduced to lowest terms
	phases   int // filter phases in coef (== up unless up > maxPhases)
	half     int // taps on each side of the centre; taps per phase = 2*half
	coef     []float32
}

var cache sync.Map // [2]int{in, out} -> *Resampler

// New returns a Resampler from inRate to outRate (both in Hz, 1 to 384000).
// Resamplers are cached, so calling New again for the same pair is cheap.
func New(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || inRate > 384000 || outRate > 384000 {
		return nil, fmt.Errorf("resample: unsupported rate pair %d Hz -> %d Hz", inRate, outRate)
	}
	key := [2]int{inRate, outRate}
	if r, ok := cache.Load(key); ok {
		return r.(*Resampler), nil
	}
	r := build(inRate, outRate)
	got, _ := cache.LoadOrStore(key, r)
	return got.(*Resampler), nil
}

// To8k converts mono 16-bit samples at rate Hz to media.SampleRate (8 kHz).
// At 8 kHz it returns a copy of in.
func To8k(in []int16, rate int) ([]int16, error) {
	r, err := New(rate, media.SampleRate)
	if err != nil {
		return nil, err
	}
	return r.Int16(in), nil
}

// InRate returns the input rate in Hz.
func (r *Resampler) InRate() int { return r.in }

// OutRate returns the output rate in Hz.
func (r *Resampler) OutRate() int { return r.out }

// String names the conversion, e.g. "Resample(44100->8000)".
func (r *Resampler) String() string {
	return fmt.Sprintf("Resample(%d->%d)", r.in, r.out)
}

// OutLen returns the number of output samples Float or Int16 produce for n
// input samples: ceil(n*out/in).
func (r *Resampler) OutLen(n int) int {
	return int((int64(n)*int64(r.up) + int64(r.down) - 1) / int64(r.down))
}

// Int16 resamples a whole mono signal of 16-bit samples.
func (r *Resampler) Int16(in []int16) []int16 {
	if r.in == r.out {
		return append([]int16(nil), in...)
	}
	f := make([]float32, len(in))
	for i, s := range in {
		f[i] = float32(s)
	}
	return r.Float(f)
}

// Float resamples a whole mono signal whose samples are on the int16 scale
// (full scale ±32768, values beyond it are allowed). The output is rounded
// and clipped to int16. The filter is linear-phase and centred, so output
// sample n corresponds to input time n*in/out with no added delay; the
// edges are filtered as if the signal were surrounded by silence.
func (r *Resampler) Float(in []float32) []int16 {
	out := make([]int16, r.OutLen(len(in)))
	if r.in == r.out {
		for i, s := range in {
			out[i] = clip(s)
		}
		return out
	}
	taps := 2 * r.half
	for n := range out {
		pos := int64(n) * int64(r.down)
		k0 := int(pos / int64(r.up))
		rem := int(pos % int64(r.up))
		idx := rem
		if r.phases != r.up {
			idx = int((int64(rem)*int64(r.phases) + int64(r.up)/2) / int64(r.up))
			if idx == r.phases {
				idx = 0
				k0++
			}
		}
		h := r.coef[idx*taps : (idx+1)*taps]
		start := k0 - r.half + 1 // input index of h[0]
		var acc float32
		if start >= 0 && start+taps <= len(in) {
			acc = dot(h, in[start:start+taps])
		} else {
			for j, c := range h {
				if k := start + j; k >= 0 && k < len(in) {
					acc += c * in[k]
				}
			}
		}
		out[n] = clip(acc)
	}
	return out
}

// dot returns the dot product of h and x (len(x) ≥ len(h), len(h) a
// multiple of 4), with four accumulators so the additions can overlap.
func dot(h, x []float32) float32 {
	x = x[:len(h)]
	var a0, a1, a2, a3 float32
	for j := 0; j+3 < len(h); j += 4 {
		a0 += h[j] * x[j]
		a1 += h[j+1] * x[j+1]
		a2 += h[j+2] * x[j+2]
		a3 += h[j+3] * x[j+3]
	}
	return (a0 + a1) + (a2 + a3)
}

func clip(v float32) int16 {
	switch {
	case v >= math.MaxInt16:
		return math.MaxInt16
	case v <= math.MinInt16:
		return math.MinInt16
	case v >= 0:
		return int16(v + 0.5)
	default:
		return int16(v - 0.5)
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// build designs the polyphase filter for in -> out. The prototype is a
// Kaiser-windowed sinc in input-sample time, cut off halfway between the
// passband and stopband edges of the lower rate. Each phase is normalised
// to unity gain at DC, so a constant input gives a constant output.
func build(in, out int) *Resampler {
	g := gcd(in, out)
	r := &Resampler{in: in, out: out, up: out / g, down: in / g}
	if in == out {
		return r
	}
	r.phases = min(r.up, maxPhases)

	low := float64(min(in, out)) / 2 // Nyquist of the lower rate, Hz
	fc := (DefaultPassband + DefaultStopband) / 2 * low / float64(in)
	df := (DefaultStopband - DefaultPassband) * low / float64(in)
	// Kaiser's estimate of the length for the attenuation and transition.
	length := (DefaultAttenuation - 7.95) / (14.36 * df)
	r.half = (int(math.Ceil(length/2)) + 2) &^ 1 // even, so taps is a multiple of 4
	beta := kaiserBeta(DefaultAttenuation)
	i0b := besselI0(beta)

	taps := 2 * r.half
	r.coef = make([]float32, r.phases*taps)
	tmp := make([]float64, taps)
	for p := range r.phases {
		frac := float64(p) / float64(r.phases)
		var sum float64
		for j := range taps {
			tau := frac - float64(j-r.half+1) // t - k for h[j]
			v := 0.0
			if x := tau / float64(r.half); x > -1 && x < 1 {
				v = 2 * fc * sinc(2*fc*tau) * besselI0(beta*math.Sqrt(1-x*x)) / i0b
			}
			tmp[j] = v
			sum += v
		}
		for j, v := range tmp {
			r.coef[p*taps+j] = float32(v / sum)
		}
	}
	return r
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// kaiserBeta returns the Kaiser window parameter for a stopband
// attenuation of a dB.
func kaiserBeta(a float64) float64 {
	switch {
	case a > 50:
		return 0.1102 * (a - 8.7)
	case a >= 21:
		return 0.5842*math.Pow(a-21, 0.4) + 0.07886*(a-21)
	default:
		return 0
	}
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// summed as its power series until the terms stop mattering.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	q := x * x / 4
	for k := 1; k < 200; k++ {
		term *= q / float64(k*k)
		sum += term
		if term < sum*1e-16 {
			break
		}
	}
	return sum
}
