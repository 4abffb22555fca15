package flows

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const holdFlow = `
routes:
  - to: "*"
    flow: f
flows:
  f:
    steps:
      - name: wait
        hold:
          for: %s
%s      - name: close
        close: {}
        exception: a test flow, where a reply to the closing question ends the call
`

func simulateHold(t *testing.T, dur, announce string) *Simulation {
	t.Helper()
	_, cat := loadDefault(t)
	src := fmt.Sprintf(holdFlow, dur, announce)
	cfg, err := Parse("h.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.CheckPrompts("h.yaml", []byte(src), cat); err != nil {
		t.Fatal(err)
	}
	f, _ := cfg.Flow("f")
	start, _ := time.Parse(time.RFC3339, "2026-11-22T14:00:00+08:00")
	s := NewSimulation(start, nil)
	if _, err := s.Run(t.Context(), cfg, f, cat); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestHoldDefaultTimeline: CS-HOLD-* with the defaults in virtual time: the
// ask phrase, music, the apology at 2 min and every 60 s after, each at
// its offset from the start of the music, and the resume phrase.
func TestHoldDefaultTimeline(t *testing.T) {
	s := simulateHold(t, "5m", "")
	var musicStart time.Time
	var anns []time.Duration
	var ids []string
	for _, e := range s.Trace {
		switch e.What {
		case "music":
			if musicStart.IsZero() {
				musicStart = e.At
			}
		case "prompt_start":
			ids = append(ids, e.Detail)
			if e.Detail == "hold.apology" {
				anns = append(anns, e.At.Sub(musicStart))
			}
		}
	}
	want := []time.Duration{2 * time.Minute, 3 * time.Minute, 4 * time.Minute}
	if fmt.Sprint(anns) != fmt.Sprint(want) {
		t.Errorf("apologies at %v, want %v", anns, want)
	}
	if ids[0] != "hold.ask" || ids[len(ids)-3] != "hold.resume" {
		t.Errorf("prompts %v: want hold.ask first and hold.resume before the closing", ids)
	}
}

// TestHoldMusicResumes: after an announcement the music goes on from the
// frame where it paused, not from the top.
func TestHoldMusicResumes(t *testing.T) {
	s := simulateHold(t, "20s", "          announce:\n            - at: 6s\n              every: 3s\n              prompt: hold.apology\n")
	var starts []string
	for _, e := range s.Trace {
		if e.What == "music" {
			starts = append(starts, e.Detail)
		}
	}
	if len(starts) < 3 || starts[0] != "music.hold from frame 0" {
		t.Fatalf("music segments %v", starts)
	}
	// The first segment ran 6 s = 300 frames: the second starts there.
	if starts[1] != "music.hold from frame 300" {
		t.Errorf("second music segment %q, want from frame 300", starts[1])
	}
	if !strings.HasPrefix(starts[2], "music.hold from frame ") || starts[2] == starts[1] {
		t.Errorf("third music segment %q", starts[2])
	}
}
