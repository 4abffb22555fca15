package main

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
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
        exception: a test flow, where a reply to the closing question ends the call
`
	file := configFile(t, cfg)
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
		// Sample by sample: the recording places packets by timestamp and
		// decodes the μ-law kefu sent, so a music frame is heard exactly as
		// its μ-law round trip. Which music frame was heard last before the
		// apology, and which first after it? The second must follow the
		// first. (A frame identical to its neighbour would be ambiguous: all
		// the candidates count.)
		guess := off - k*apology.Frames()
		lastSet, lastRec := nearestMusic(heard, music, got+3, -1, guess)
		firstSet, firstRec := nearestMusic(heard, music, got+apology.Frames()-3, +1, guess)
		if lastSet == nil || firstSet == nil {
			t.Fatalf("apology %d: music not found around it (before %v, after %v)", k+1, lastSet, firstSet)
		}
		t.Logf("apology %d: music paused after frame %v (recorded frame %d), went on at frame %v (recorded %d)", k+1, lastSet, lastRec, firstSet, firstRec)
		follows := false
		for _, a := range lastSet {
			for _, b := range firstSet {
				follows = follows || b == (a+1)%music.Frames()
			}
		}
		if !follows {
			t.Errorf("after apology %d the music went on at frame %v, want the one after %v (where it paused)", k+1, firstSet, lastSet)
		}
	}
}

// nearestMusic walks the recording from frame r in direction dir (±1), at
// most 20 frames, to the first frame that is exactly a music frame (its
// μ-law round trip) within 60 frames of guess, and returns the music frames
// it equals and where it was.
func nearestMusic(heard []int16, music *prompts.Prompt, r, dir, guess int) ([]int, int) {
	var ulaw [media.FrameSamples]byte
	var back [media.FrameSamples]int16
	for range 20 {
		if r < 0 || (r+1)*media.FrameSamples > len(heard) {
			break
		}
		rec := heard[r*media.FrameSamples : (r+1)*media.FrameSamples]
		var out []int
		for m := max(guess-60, 0); m <= guess+60; m++ {
			i := m % music.Frames()
			g711.EncodeUlaw(ulaw[:], music.PCM(i))
			g711.DecodeUlaw(back[:], ulaw[:])
			if slices.Equal(back[:], rec) {
				out = append(out, i)
			}
		}
		if out != nil {
			return out, r
		}
		r += dir
	}
	return nil, -1
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
