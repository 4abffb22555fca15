package audio

import (
	"math"
	"slices"
	"testing"
)

// sine returns n samples of freq Hz at 8 kHz with peak amplitude amp
// (1 is full scale).
func sine(n int, freq, amp float64) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/8000)))
	}
	return out
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestRMSDB(t *testing.T) {
	square := make([]int16, 800)
	for i := range square {
		square[i] = 32767
		if i%2 == 1 {
			square[i] = -32768
		}
	}
	dc := slices.Repeat([]int16{-1000}, 160)
	tests := []struct {
		name string
		pcm  []int16
		want float64
	}{
		{"full-scale square", square, 0},
		{"full-scale sine", sine(8000, 1000, 1), -3.01},
		{"sine at 0.3", sine(8000, 440, 0.3), 20*math.Log10(0.3) - 3.01},
		{"sine at -40 dBFS peak", sine(8000, 300, 0.01), -43.01},
		{"DC offset counts", dc, 20 * math.Log10(1000.0/32768)},
		{"one LSB", []int16{1, -1}, 20 * math.Log10(1.0/32768)},
	}
	for _, tc := range tests {
		if got := RMSDB(tc.pcm); !near(got, tc.want, 0.01) {
			t.Errorf("%s: RMSDB = %.3f, want %.3f", tc.name, got, tc.want)
		}
	}
	for _, silent := range [][]int16{nil, {}, make([]int16, 160)} {
		if got := RMSDB(silent); !math.IsInf(got, -1) {
			t.Errorf("RMSDB of %d zeros = %v, want -Inf", len(silent), got)
		}
	}
}

func TestRMSAndPower(t *testing.T) {
	if got := RMS(slices.Repeat([]int16{-1000}, 160)); got != 1000 {
		t.Errorf("RMS of -1000s = %v", got)
	}
	if got := RMS(nil); got != 0 {
		t.Errorf("RMS(nil) = %v", got)
	}
	if got := RMS(sine(8000, 1000, 0.5)); !near(got, 0.5*32767/math.Sqrt2, 0.5) {
		t.Errorf("RMS of a sine at half scale = %v", got)
	}
	if got := SumSquares([]int16{3, -4, 32767}); got != 9+16+32767*32767 {
		t.Errorf("SumSquares = %v", got)
	}
	pcm := sine(160, 1000, 0.1)
	if got, want := PowerDB(SumSquares(pcm)/160), RMSDB(pcm); got != want {
		t.Errorf("PowerDB(mean square) = %v, RMSDB = %v", got, want)
	}
	if got := PowerDB(32768 * 32768); got != 0 {
		t.Errorf("PowerDB(full scale) = %v, want 0", got)
	}
	if got := PowerDB(0); !math.IsInf(got, -1) {
		t.Errorf("PowerDB(0) = %v, want -Inf", got)
	}
}

func TestPeakDB(t *testing.T) {
	tests := []struct {
		pcm  []int16
		want float64
	}{
		{[]int16{0, -32768, 5}, 0},
		{[]int16{16384, -100}, -6.0206},
		{[]int16{-3277}, 20 * math.Log10(3277.0/32768)},
		{sine(8000, 1000, 0.5), 20 * math.Log10(0.5*32767/32768)},
	}
	for _, tc := range tests {
		if got := PeakDB(tc.pcm); !near(got, tc.want, 0.001) {
			t.Errorf("PeakDB = %.4f, want %.4f", got, tc.want)
		}
	}
	if got := PeakDB(make([]int16, 10)); !math.IsInf(got, -1) {
		t.Errorf("PeakDB of silence = %v, want -Inf", got)
	}
}

// TestSpeechLevel: pauses, leading and trailing silence and faint frames
// do not lower the speech level; loud frames set it.
func TestSpeechLevel(t *testing.T) {
	tone := sine(1600, 440, 0.3) // 0.2 s, a whole number of frames
	toneDB := RMSDB(tone)
	quiet := make([]int16, 800)
	faint := sine(800, 440, 0.003) // 40 dB under the tone: below the gate
	tests := []struct {
		name string
		pcm  []int16
		want float64
	}{
		{"tone", tone, toneDB},
		{"tone with pauses", slices.Concat(quiet, tone, quiet, tone, quiet), toneDB},
		{"tone with faint noise between", slices.Concat(faint, tone, faint), toneDB},
		{"a partial last frame", slices.Concat(tone, tone[:50]), toneDB},
	}
	for _, tc := range tests {
		if got := SpeechLevel(tc.pcm); !near(got, tc.want, 0.05) {
			t.Errorf("%s: SpeechLevel = %.2f, want %.2f", tc.name, got, tc.want)
		}
	}
	// Two tones 6 dB apart, equally long: the mean of their powers.
	loud, soft := sine(1600, 440, 0.4), sine(1600, 440, 0.2)
	want := PowerDB((SumSquares(loud) + SumSquares(soft)) / 3200)
	if got := SpeechLevel(slices.Concat(loud, soft)); !near(got, want, 0.01) {
		t.Errorf("two tones: SpeechLevel = %.2f, want %.2f", got, want)
	}
	// Below -60 dBFS nothing is speech.
	for _, pcm := range [][]int16{nil, quiet, sine(1600, 440, 0.0005)} {
		if got := SpeechLevel(pcm); !math.IsInf(got, -1) {
			t.Errorf("SpeechLevel of %d quiet samples = %v, want -Inf", len(pcm), got)
		}
	}
}

// TestMetersAllocateNothing: the meters run per frame on receive paths.
func TestMetersAllocateNothing(t *testing.T) {
	pcm := sine(160, 1000, 0.5)
	var sink float64
	if n := testing.AllocsPerRun(100, func() {
		sink += RMSDB(pcm) + PeakDB(pcm) + RMS(pcm) + PowerDB(SumSquares(pcm))
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
	_ = sink
}
