package main

import (
	"context"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationHolidayOpening: kefu runs on a clock pinned to National
// Day morning (-now) and the caller hears the National Day opening
// (CS-GREET-HOLIDAY), not the morning one. The recording is matched
// against the head of every opening (its first 1.2 s, the holiday or
// period phrase: the rest, {company}很高兴为您服务, is the same in all of
// them and would make 国庆节快乐 and 节日快乐 look alike) by the shape of its
// loudness envelope.
func TestIntegrationHolidayOpening(t *testing.T) {
	integration(t)
	t.Parallel()
	a := startAgent(t, "-now", "2026-10-01T10:00:00+08:00")
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	_, _, heard := dialRecorded(t, ctx, a, "-for", "7s")
	cat, err := prompts.LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	got := envelope(heard)
	best, bestScore, second := "", -1.0, -1.0
	for _, id := range calendar.OpeningPrompts() {
		p, ok := cat.Get(id)
		if !ok {
			t.Fatalf("no prompt %s", id)
		}
		score := bestMatch(got, promptEnvelope(p, 0, openingHead))
		if score > bestScore {
			best, second, bestScore = id, bestScore, score
		} else if score > second {
			second = score
		}
	}
	t.Logf("best %s %.3f, runner-up %.3f", best, bestScore, second)
	if best != "greet.nationalday" {
		t.Fatalf("heard %s (match %.3f), want greet.nationalday", best, bestScore)
	}
	if bestScore < 0.98 || bestScore-second < 0.03 {
		t.Errorf("match %.3f, runner-up %.3f: not a clear match", bestScore, second)
	}
}

// openingHead is how many frames of an opening tell it from the others.
const openingHead = 60

// promptEnvelope is the envelope of n frames of a prompt from frame from.
func promptEnvelope(p *prompts.Prompt, from, n int) []float64 {
	var pcm []int16
	for i := from; i < from+n && i < p.Frames(); i++ {
		pcm = append(pcm, p.PCM(i)...)
	}
	return envelope(pcm)
}

// envelope is the RMS of each 20 ms frame.
func envelope(pcm []int16) []float64 {
	var env []float64
	for i := 0; i+media.FrameSamples <= len(pcm); i += media.FrameSamples {
		env = append(env, audio.RMS(pcm[i:i+media.FrameSamples]))
	}
	return env
}

// bestMatch is the highest normalised correlation of want against got at
// any offset within the first 1.5 s of got.
func bestMatch(got, want []float64) float64 {
	_, best := locate(got, want, 0, 75)
	return best
}
