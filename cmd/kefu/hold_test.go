package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationHoldTimeline runs a scaled hold (apology at 6 s, then every
// 3 s, for 14 s) on the real binary and finds, in the audio the caller
// recorded, where the ask phrase, each apology and the music are: every
// announcement starts within 100 ms of its offset from the start of the
// music, and after each one the music goes on from where it paused.
func TestIntegrationHoldTimeline(t *testing.T) {
	integration(t)
	t.Parallel()
	cfg := `
routes:
  - to: "*"
    flow: hold
flows:
  hold:
    steps:
      - name: wait
        hold:
          for: 14s
          announce:
            - at: 6s
              every: 3s
              prompt: hold.apology
      - name: close
        close: {}
`
	file := filepath.Join(t.TempDir(), "kefu.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, "-config", file)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	_, _, heard := dialRecorded(t, ctx, a, "-for", "25s")
	cat, _ := prompts.LoadEmbedded("zh-CN")
	music, _ := prompts.LoadMusic()
	ask, _ := cat.Get("hold.ask")
	apology, _ := cat.Get("hold.apology")
	env := envelope(heard)
	frames := promptEnvelope
	// The ask phrase opens the call; the music starts when it ends.
	askAt, score := locate(env, frames(ask, 0, ask.Frames()), 0, 150)
	t.Logf("ask phrase at %.2f s (match %.3f)", float64(askAt)/50, score)
	if score < 0.95 {
		t.Fatalf("ask phrase not found (best match %.2f)", score)
	}
	musicAt := askAt + ask.Frames()
	// Each apology: 6 s, 9 s, 12 s after the music started (300, 450, 600
	// frames: the wait counts in wall time, announcements included).
	for k, off := range []int{300, 450, 600} {
		want := musicAt + off
		got, score := locate(env, frames(apology, 0, apology.Frames()), want-25, want+25)
		if score < 0.95 {
			g, sc := locate(env, frames(apology, 0, apology.Frames()), 0, len(env))
			t.Logf("ask at %.2f s, music at %.2f s; best apology anywhere %.2f s (%.2f)", float64(askAt)/50, float64(musicAt)/50, float64(g)/50, sc)
			t.Fatalf("apology %d not found near %.2f s (best %.2f)", k+1, float64(want)/50, score)
		}
		if d := got - want; d < -5 || d > 5 {
			t.Errorf("apology %d at %+d ms from its offset, want within ±100 ms", k+1, d*20)
		}
		// After it the music goes on from the frame it paused at, not
		// from the top: it has played off frames less the apologies before.
		// (After the last one the hold ends and the resume phrase plays.)
		if k == 2 {
			continue
		}
		// Sample by sample (the recording places packets by timestamp, so
		// frame boundaries line up and the same frames correlate near 1):
		// which music frame was heard last before the apology, and which
		// first after it? The second must follow the first.
		guess := off - k*apology.Frames()
		before, s1 := findMusic(heard, music, got-45, guess-45)
		after, s2 := findMusic(heard, music, got+apology.Frames()+5, guess+5)
		if s1 < 0.9 || s2 < 0.9 {
			t.Fatalf("apology %d: music not found around it (%.2f, %.2f)", k+1, s1, s2)
		}
		// Walk to the exact edges, frame by frame: the last recorded frame
		// that is still the music running on before the apology, and the
		// first one after it.
		last := before + 44
		for r := got - 1; r < got+5 && frameCorr(heard, r, music, before+(r-(got-45))) > 0.9; r++ {
			last = before + (r - (got - 45))
		}
		first := after
		for r := got + apology.Frames() + 4; r > got+apology.Frames()-5 && frameCorr(heard, r, music, after-(got+apology.Frames()+5-r)) > 0.9; r-- {
			first = after - (got + apology.Frames() + 5 - r)
		}
		t.Logf("apology %d: music paused after frame %d, went on at frame %d", k+1, last, first)
		if first != last+1 {
			t.Errorf("after apology %d the music went on at frame %d, want %d (where it paused)", k+1, first, last+1)
		}
	}
}

// findMusic finds which 40 frames of the music the recording holds from
// frame at on, searching around the guess.
func findMusic(heard []int16, music *prompts.Prompt, at, guess int) (int, float64) {
	rec := make([]float64, 40*160)
	for i := range rec {
		rec[i] = float64(heard[at*160+i])
	}
	best, from := -1.0, 0
	for f := max(guess-8, 0); f <= guess+8; f++ {
		var ref []float64
		for i := f; i < f+40; i++ {
			for _, v := range music.PCM(i % music.Frames()) {
				ref = append(ref, float64(v))
			}
		}
		if c := corr(rec, ref); c > best {
			best, from = c, f
		}
	}
	return from, best
}

// frameCorr compares recorded frame r with music frame m, sample by sample.
func frameCorr(heard []int16, r int, music *prompts.Prompt, m int) float64 {
	if r < 0 || (r+1)*160 > len(heard) || m < 0 {
		return 0
	}
	a := make([]float64, 160)
	b := make([]float64, 160)
	for i, v := range music.PCM(m % music.Frames()) {
		a[i], b[i] = float64(heard[r*160+i]), float64(v)
	}
	return corr(a, b)
}

// locate finds where want best matches env, starting between lo and hi.
func locate(env, want []float64, lo, hi int) (int, float64) {
	best, at := -1.0, -1
	for lag := max(lo, 0); lag <= hi && lag+len(want) <= len(env); lag++ {
		if s := corr(env[lag:lag+len(want)], want); s > best {
			best, at = s, lag
		}
	}
	return at, best
}

// corr is the normalised correlation of two equally long envelopes.
func corr(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range min(len(a), len(b)) {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}
