package vad

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/prompts"
)

// Synthetic signals and real-prompt fixtures. Every signal is a whole number
// of frames of 8 kHz PCM; noise comes from a seeded generator, so every run
// hears the same audio.

const fs = media.FrameSamples

// ms converts a duration in milliseconds to frames.
func ms(v int) int { return frames(v) }

// amp returns the RMS amplitude of a level in dBFS.
func amp(db float64) float64 { return 32768 * math.Pow(10, db/20) }

func clip(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}

// silence returns n frames of digital silence.
func silence(n int) []int16 { return make([]int16, n*fs) }

// white returns n frames of Gaussian white noise at db dBFS.
func white(rng *rand.Rand, db float64, n int) []int16 {
	a := amp(db)
	out := make([]int16, n*fs)
	for i := range out {
		out[i] = clip(a * rng.NormFloat64())
	}
	return out
}

// gain returns pcm scaled by db decibels.
func gain(pcm []int16, db float64) []int16 {
	g := math.Pow(10, db/20)
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = clip(float64(v) * g)
	}
	return out
}

// mix returns a+b sample by sample; the result is as long as a.
func mix(a, b []int16) []int16 {
	out := make([]int16, len(a))
	for i := range a {
		out[i] = clip(float64(a[i]) + float64(b[i%len(b)]))
	}
	return out
}

// cat concatenates signals.
func cat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// viaCodec returns pcm encoded and decoded with a G.711 codec, as the caller's
// audio arrives.
func viaCodec(c media.Codec, pcm []int16) []int16 {
	b := make([]byte, len(pcm))
	out := make([]int16, len(pcm))
	if err := g711.Encode(c, b, pcm); err != nil {
		panic(err)
	}
	if err := g711.Decode(c, out, b); err != nil {
		panic(err)
	}
	return out
}

// idle returns n frames of a codec's idle byte, decoded.
func idle(c media.Codec, n int) []int16 {
	b := make([]byte, n*fs)
	for i := range b {
		b[i] = g711.Silence(c)
	}
	out := make([]int16, len(b))
	if err := g711.Decode(c, out, b); err != nil {
		panic(err)
	}
	return out
}

// clicks returns pcm with a full-scale click of width samples every period
// frames, starting at frame first.
func clicks(pcm []int16, first, period, width int) []int16 {
	out := append([]int16(nil), pcm...)
	for f := first; f*fs < len(out); f += period {
		for j := range width {
			if k := f*fs + 37 + j; k < len(out) {
				out[k] = clip(32767 * math.Pow(-1, float64(j)))
			}
		}
	}
	return out
}

// syllables returns n frames of a speech-like signal: a voice (harmonics of
// a pitch gliding around 150 Hz, with a little breath noise) whose level
// swings between lo and hi dBFS at 4 Hz, a syllable rate.
func syllables(rng *rand.Rand, lo, hi float64, n int) []int16 {
	out := make([]int16, n*fs)
	const harmonics = 12
	var phase [harmonics]float64
	for k := range phase {
		phase[k] = 2 * math.Pi * rng.Float64()
	}
	t := 0.0 // phase of the fundamental, in cycles
	for f := range n {
		db := lo + (hi-lo)*(0.5+0.5*math.Sin(2*math.Pi*4*float64(f)*0.02))
		// Harmonics of equal amplitude, -6 dB/octave above: RMS of the sum
		// is computed from their amplitudes so the frame is at db.
		a := amp(db)
		var norm float64
		for k := 1; k <= harmonics; k++ {
			norm += 1 / float64(k*k) / 2
		}
		norm = math.Sqrt(norm + 0.01)
		for j := range fs {
			i := f*fs + j
			f0 := 150 + 30*math.Sin(2*math.Pi*float64(i)/media.SampleRate*1.3)
			t += f0 / media.SampleRate
			var v float64
			for k := 1; k <= harmonics; k++ {
				v += math.Sin(2*math.Pi*float64(k)*t+phase[k-1]) / float64(k)
			}
			v += 0.1 * rng.NormFloat64()
			out[i] = clip(a * v / norm)
		}
	}
	return out
}

// run feeds pcm to d frame by frame.
func run(d *Detector, pcm []int16) []Result {
	out := make([]Result, 0, len(pcm)/fs)
	for lo := 0; lo < len(pcm); lo += fs {
		out = append(out, d.Frame(pcm[lo:min(lo+fs, len(pcm))]))
	}
	return out
}

// newDefault returns a detector with the default options.
func newDefault(t testing.TB) *Detector {
	t.Helper()
	d, err := New(DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// speechFrames counts the results classed as speech.
func speechFrames(rs []Result) int {
	n := 0
	for _, r := range rs {
		if r.Class.IsSpeech() {
			n++
		}
	}
	return n
}

// segment is one stretch of speech, frames [start, end).
type segment struct{ start, end int }

// segments returns the stretches of speech in rs.
func segments(rs []Result) []segment {
	var out []segment
	for i, r := range rs {
		switch {
		case r.Changed && r.Class.IsSpeech():
			out = append(out, segment{start: i, end: len(rs)})
		case r.Changed && len(out) > 0:
			out[len(out)-1].end = i
		}
	}
	return out
}

// fixture is one real prompt with its reference speech frames.
type fixture struct {
	id  string
	pcm []int16
	// ref marks the frames that are speech by the prompts package's own
	// measure: within 30 dB of the loudest frame and above -60 dBFS.
	ref []bool
}

var (
	fixturesOnce sync.Once
	fixturesVal  []fixture
	fixturesErr  error
)

// promptFixtures returns every embedded zh-CN prompt.
func promptFixtures(t testing.TB) []fixture {
	t.Helper()
	fixturesOnce.Do(func() {
		c, err := prompts.LoadEmbedded("zh-CN")
		if err != nil {
			fixturesErr = err
			return
		}
		for _, id := range c.IDs() {
			p, _ := c.Get(id)
			fx := fixture{id: id, ref: make([]bool, p.Frames())}
			loudest := MinDB
			for i := range p.Frames() {
				fx.pcm = append(fx.pcm, p.PCM(i)...)
				loudest = max(loudest, Level(p.PCM(i)))
			}
			for i := range p.Frames() {
				l := Level(p.PCM(i))
				fx.ref[i] = l > loudest-30 && l > -60
			}
			fixturesVal = append(fixturesVal, fx)
		}
	})
	if fixturesErr != nil {
		t.Fatal(fixturesErr)
	}
	return fixturesVal
}

// firstLast returns the first and last reference speech frames.
func (fx fixture) firstLast() (first, last int) {
	first, last = -1, -1
	for i, v := range fx.ref {
		if v {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	return first, last
}
