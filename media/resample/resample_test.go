package resample

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
)

// tone returns n samples of a sine at freq Hz, sampled at rate Hz, with the
// given peak amplitude on the int16 scale.
func tone(freq float64, rate, n int, amp float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// rms of x, ignoring edge samples at each end (the filter's ramp-up).
func rms(x []int16, edge int) float64 { return audio.RMS(x[edge : len(x)-edge]) }

// toneLevel returns the amplitude of the freq component of x (sampled at
// rate), by correlating with sine and cosine; edges are ignored.
func toneLevel(x []int16, freq float64, rate, edge int) float64 {
	var si, co float64
	for i := edge; i < len(x)-edge; i++ {
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		si += float64(x[i]) * math.Sin(ph)
		co += float64(x[i]) * math.Cos(ph)
	}
	n := float64(len(x) - 2*edge)
	return 2 * math.Hypot(si, co) / n
}

func db(ratio float64) float64 { return 20 * math.Log10(ratio) }

var commonRates = []int{8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000}

func TestPassband(t *testing.T) {
	const amp = 16384.0 // -6 dBFS
	for _, rate := range commonRates {
		for _, freq := range []float64{300, 1000, 3000} {
			t.Run(fmt.Sprintf("%dHz_%gHz", rate, freq), func(t *testing.T) {
				r, err := New(rate, media.SampleRate)
				if err != nil {
					t.Fatal(err)
				}
				out := r.Float(tone(freq, rate, rate, amp)) // 1 s
				if want := media.SampleRate; len(out) != want {
					t.Fatalf("len = %d, want %d", len(out), want)
				}
				got := db(toneLevel(out, freq, media.SampleRate, 200) / amp)
				if math.Abs(got) > 0.5 {
					t.Errorf("%g Hz tone at %d Hz: gain %.3f dB, want within ±0.5 dB", freq, rate, got)
				}
				// Nothing but the tone: the residual is far below it.
				total := db(rms(out, 200) * math.Sqrt2 / amp)
				if math.Abs(total-got) > 0.01 {
					t.Errorf("total level %.3f dB differs from tone level %.3f dB", total, got)
				}
			})
		}
	}
}

func TestStopband(t *testing.T) {
	// Far beyond full scale, so that the residual is well above the int16
	// rounding step and the filter itself is measured.
	const amp = 1e6
	tests := []struct {
		rate int
		freq float64
	}{
		{48000, 6000}, // aliases to 2 kHz without a filter
		{44100, 6000},
		{48000, 4500},
		{44100, 4500},
		{48000, 7000}, // aliases to 1 kHz
		{44100, 10000},
		{32000, 6000},
		{24000, 6000},
		{22050, 6000},
		{22050, 4200},
		{16000, 6000},
		{11025, 5000},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dHz_%gHz", tc.rate, tc.freq), func(t *testing.T) {
			r, err := New(tc.rate, media.SampleRate)
			if err != nil {
				t.Fatal(err)
			}
			out := r.Float(tone(tc.freq, tc.rate, tc.rate, amp))
			// Compare RMS levels: input RMS is amp/√2.
			got := db(rms(out, 200) * math.Sqrt2 / amp)
			if got > -70 {
				t.Errorf("%g Hz at %d Hz: residual %.1f dB, want ≤ -70 dB", tc.freq, tc.rate, got)
			}
			t.Logf("%g Hz at %d Hz -> 8 kHz: %.1f dB", tc.freq, tc.rate, got)
		})
	}
}

func TestIdentity(t *testing.T) {
	in := []int16{0, 1, -1, 32767, -32768, 1234, -4321}
	out, err := To8k(in, media.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in, out) {
		t.Fatalf("8000 -> 8000 changed the signal: %v -> %v", in, out)
	}
	out[0] = 99
	if in[0] != 0 {
		t.Fatal("identity conversion aliases its input")
	}
}

func TestDCAndLengths(t *testing.T) {
	for _, rate := range commonRates {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			in := make([]int16, rate/2) // 0.5 s
			for i := range in {
				in[i] = 1000
			}
			out, err := To8k(in, rate)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != media.SampleRate/2 {
				t.Fatalf("len = %d, want %d", len(out), media.SampleRate/2)
			}
			for i := 100; i < len(out)-100; i++ {
				if out[i] != 1000 {
					t.Fatalf("out[%d] = %d, want 1000", i, out[i])
				}
			}
		})
	}
}

func TestOddRate(t *testing.T) {
	// 44056 Hz reduces to 1001/5507: more phases than the table holds, so
	// the position is rounded to the nearest phase.
	const rate, amp = 44056, 16384.0
	r, err := New(rate, media.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	out := r.Float(tone(1000, rate, rate, amp))
	if got := db(toneLevel(out, 1000, media.SampleRate, 200) / amp); math.Abs(got) > 0.5 {
		t.Errorf("1 kHz gain %.3f dB", got)
	}
	out = r.Float(tone(6000, rate, rate, 1e6))
	if got := db(rms(out, 200) * math.Sqrt2 / 1e6); got > -70 {
		t.Errorf("6 kHz residual %.1f dB", got)
	}
}

func TestClipAndErrors(t *testing.T) {
	r, err := New(16000, 8000)
	if err != nil {
		t.Fatal(err)
	}
	out := r.Float([]float32{1e6, 1e6, 1e6, -1e6, -1e6, -1e6})
	if out[0] != math.MaxInt16 || out[len(out)-1] != math.MinInt16 {
		t.Errorf("not clipped: %v", out)
	}
	for _, rates := range [][2]int{{0, 8000}, {8000, -1}, {1 << 20, 8000}} {
		if _, err := New(rates[0], rates[1]); err == nil {
			t.Errorf("New(%d, %d): no error", rates[0], rates[1])
		}
	}
	if got := r.String(); got != "Resample(16000->8000)" {
		t.Errorf("String() = %q", got)
	}
	if a, b := mustNew(t, 44100), mustNew(t, 44100); a != b {
		t.Error("resamplers for the same rate pair are not shared")
	}
}

func mustNew(t *testing.T, rate int) *Resampler {
	t.Helper()
	r, err := New(rate, media.SampleRate)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func BenchmarkTo8k(b *testing.B) {
	for _, rate := range []int{22050, 44100, 48000} {
		b.Run(fmt.Sprint(rate), func(b *testing.B) {
			in := make([]int16, rate) // 1 s of audio
			for i := range in {
				in[i] = int16(8000 * math.Sin(float64(i)))
			}
			for b.Loop() {
				if _, err := To8k(in, rate); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
