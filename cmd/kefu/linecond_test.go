package main

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/prompts"
)

// TestIntegrationLineConditions streams the detector fixtures with kefu
// dial and checks, from the audio the caller heard, that kefu said the
// right prompts with the spec's waits before hanging up: a weak voice gets
// CS-WEAK (ask to speak up, ask whether it is hands-free, suggest another
// phone, each followed by 5 s, then the goodbye), once the caller has
// finished (the voice stops the opening, CS-LISTEN); a noisy line CS-NOISY
// (the notice twice, each followed by 5 s, then the goodbye); kefu hangs up
// 10 s after the goodbye, never on a question.
func TestIntegrationLineConditions(t *testing.T) {
	integration(t)
	cat, err := prompts.LoadEmbedded("zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	dur := func(id string) float64 {
		p, ok := cat.Get(id)
		if !ok {
			t.Fatalf("no prompt %s", id)
		}
		return p.Duration().Seconds()
	}
	for _, tc := range []struct {
		name, fixture, condition string
		prompts                  []string // after the opening
		voice                    bool     // the caller speaks: the opening stops, kefu waits for the end
	}{
		{"weak voice", "zh-speech-40.wav", "weak", []string{"weak.louder", "weak.handsfree", "weak.bye", "close.bye"}, true},
		{"noisy line", "noise-white-20.wav", "noise", []string{"noisy", "noisy", "close.bye"}, false},
		// CS-NOISY: loud steady noise of any colour is noise, not silence
		// (the silent-call apology) and not speech.
		{"brown noise", "noise-brown-20.wav", "noise", []string{"noisy", "noisy", "close.bye"}, false},
		{"mains hum", "noise-hum-30.wav", "noise", []string{"noisy", "noisy", "close.bye"}, false},
		{"buzz", "noise-buzz-20.wav", "noise", []string{"noisy", "noisy", "close.bye"}, false},
		{"road rumble", "noise-rumble-20.wav", "noise", []string{"noisy", "noisy", "close.bye"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := startAgent(t)
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			file, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "audio", tc.fixture))
			evs, code, out := dial(t, ctx, a, "-play", file, "-play-at", "1s", "-max", "80s")
			if code != 0 {
				t.Fatalf("kefu dial exit %d\n%s", code, out)
			}
			// A noisy line is heard during the opening, so the first
			// prompt follows it at once: one stretch. A voice stops the
			// opening, and the first prompt follows when the caller has
			// finished. Then 5 s before each next prompt.
			st := stretches(evs)
			if tc.voice {
				if len(st) == 0 {
					t.Fatalf("heard nothing\n%s", out)
				}
				answered, _ := find(evs, "answered")
				v0, v1 := speechSpan(readAudio(t, file))
				if d := st[0][1] - (answered.T + 1 + v0); d > 0.6 {
					t.Errorf("the opening went on %.2f s over the caller's voice", d)
				}
				if len(st) > 1 {
					if d := st[1][0] - (answered.T + 1 + v1); d < 0.5 || d > 1.3 {
						t.Errorf("%s began %.2f s after the caller stopped, want within 1 s (after the 0.8 s end of the utterance)", tc.prompts[0], d)
					}
				}
				st = st[1:]
			}
			if len(st) != len(tc.prompts) {
				t.Fatalf("heard %d stretches %v, want %d: %v\n%s", len(st), st, len(tc.prompts), tc.prompts, out)
			}
			cal, _ := calendar.New(nil, nil)
			opening := dur(cal.Opening(time.Now(), 0, 0))
			for i, id := range tc.prompts {
				s := st[i]
				// Each prompt's audible part is its length less ~0.2 s of padding.
				want := dur(id) - 0.2
				if i == 0 && !tc.voice {
					want += opening
				}
				if got := s[1] - s[0]; math.Abs(got-want) > 0.35 {
					t.Errorf("stretch %d lasted %.2f s, want about %.2f s (%s)", i+1, got, want, id)
				}
				if i > 0 {
					if gap := s[0] - st[i-1][1]; math.Abs(gap-5.2) > 0.35 {
						t.Errorf("%.2f s of silence before %s, want 5 s after the previous prompt", gap, id)
					}
				}
			}
			bye, ok := find(evs, "bye_received")
			if !ok {
				t.Fatalf("kefu did not hang up\n%s", out)
			}
			// The goodbye, then 10 s for the caller to hang up first.
			if d := bye.T - st[len(st)-1][1]; math.Abs(d-10.1) > 0.35 {
				t.Errorf("BYE %.2f s after the goodbye, want 10 s", d)
			}
			if !a.waitLog(`"condition":"`+tc.condition+`"`, 5*time.Second) {
				t.Errorf("the call record does not keep the line condition %q", tc.condition)
			}
		})
	}
}
