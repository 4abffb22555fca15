package main

import (
	"math"
	"testing"

	"github.com/kefu-hotline/kefu/prompts"
)

func burst(rate int, lead, on, tail float64, amp float64) []float32 {
	n := int(float64(rate) * (lead + on + tail))
	x := make([]float32, n)
	for i := int(float64(rate) * lead); i < int(float64(rate)*(lead+on)); i++ {
		x[i] = float32(amp * math.Sin(2*math.Pi*300*float64(i)/float64(rate)))
	}
	return x
}

func TestTrimSilence(t *testing.T) {
	const rate = 22050
	tests := []struct {
		name       string
		lead, tail float64
	}{
		{"long silences are cut", 0.8, 1.2},
		{"short silences are padded", 0.02, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := trimSilence(burst(rate, tc.lead, 0.5, tc.tail, 10000), rate)
			want := int(rate * 0.7) // 0.1 + 0.5 + 0.1 s
			if d := len(out) - want; d < -rate/100 || d > rate/100 {
				t.Errorf("%d samples, want %d±10 ms", len(out), want)
			}
			if out[0] != 0 || out[len(out)-1] != 0 {
				t.Error("ends not faded to zero")
			}
			first := 0
			for first < len(out) && math.Abs(float64(out[first])) < 100 {
				first++
			}
			if d := first - rate/10; d < -rate/100 || d > rate/100 {
				t.Errorf("sound starts at %d, want %d±10 ms", first, rate/10)
			}
		})
	}
	if trimSilence(make([]float32, 1000), rate) != nil {
		t.Error("silence not reported as nil")
	}
}

func TestNormalize(t *testing.T) {
	const rate = 22050
	for _, amp := range []float64{300, 3000, 30000, 90000} {
		out, level, err := normalize(burst(rate, 0.1, 1, 0.1, amp), rate, prompts.TargetLevel)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(level-prompts.TargetLevel) > 0.1 {
			t.Errorf("amplitude %v: level %.2f dBFS, want %.1f", amp, level, prompts.TargetLevel)
		}
		for _, s := range out {
			if math.Abs(float64(s)) > limitCeil {
				t.Fatalf("amplitude %v: sample %d above the ceiling", amp, s)
			}
		}
	}
}

func TestLimit(t *testing.T) {
	if limit(1000) != 1000 || limit(-limitKnee) != -limitKnee {
		t.Error("limiter changes samples below the knee")
	}
	if v := limit(1e9); v > limitCeil || v < limitCeil-1 {
		t.Errorf("limit(1e9) = %v, want just under %v", v, limitCeil)
	}
	if v := limit(-1e9); v < -limitCeil {
		t.Errorf("limit(-1e9) = %v", v)
	}
}
