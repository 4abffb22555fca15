package sip

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// lineSound renders secs seconds of f(t) as 20 ms frames.
func lineSound(secs float64, f func(t float64) float64) [][]int16 {
	var out [][]int16
	for i := 0; float64(i)*0.02 < secs-1e-9; i++ {
		fr := make([]int16, media.FrameSamples)
		for j := range fr {
			fr[j] = int16(max(-32768, min(32767, math.Round(f(float64(i*media.FrameSamples+j)/media.SampleRate)))))
		}
		out = append(out, fr)
	}
	return out
}

// lineVoice is a 140 Hz voice with ten harmonics and a 4 Hz syllable
// rhythm, at about dbfs.
func lineVoice(dbfs float64) func(float64) float64 {
	a := 32768 * math.Pow(10, dbfs/20) / 0.96
	return func(t float64) float64 {
		var v float64
		for k := 1; k <= 10; k++ {
			v += math.Sin(2*math.Pi*140*float64(k)*t) / float64(k)
		}
		return a * v * (0.6 + 0.4*math.Cos(2*math.Pi*4*t))
	}
}

// lineKey is the tone pair of key 5 at -10 dBFS each.
func lineKey(t float64) float64 {
	a := 32768 * math.Pow(10, -10.0/20) * math.Sqrt2
	return a*math.Sin(2*math.Pi*770*t) + a*math.Sin(2*math.Pi*1336*t)
}

func lineNoise(dbfs float64) func(float64) float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	a := 32768 * math.Pow(10, dbfs/20)
	return func(float64) float64 { return a * rng.NormFloat64() }
}

func lineQuiet(float64) float64 { return 0 }

// TestCallerLineEvents pins the events a live call's receive path makes
// of what its RTP session hands it (decoded frames, gaps reported again
// and again while they last, comfort noise, RFC 4733 keys) to what it
// made when the chain became flows.LineListener (issue 9), as the issue 10
// detector changed them (an in-band key tone is no longer speech; segment
// levels): kinds, levels and keys, with and without in-band DTMF. Events
// carry the wall clock. The utterance events (onset, utterance_end) are
// checked apart: each utterance opens before its speech, and ends.
func TestCallerLineEvents(t *testing.T) {
	// What both calls make of the audio; in-band DTMF adds the key 5.
	const lineWant = `weak_speech level=-47.73 floor=-96.00 key='\x00'
speech_start level=-33.79 floor=-56.46 key='\x00'
speech_end level=-96.00 floor=-30.00 key='\x00'
speech_start level=-22.28 floor=-31.46 key='\x00'
speech_end level=-96.00 floor=-31.46 key='\x00'
digit level=0.00 floor=0.00 key='7'
noise level=-25.27 floor=-26.04 key='\x00'
speech_start level=-25.10 floor=-33.46 key='\x00'
speech_end level=-96.00 floor=-33.46 key='\x00'`
	for _, tc := range []struct {
		dtmfPT uint8
		want   string
	}{
		// The in-band key 5 is a key, not speech (issue 10).
		{0, "digit level=0.00 floor=0.00 key='5'\n" + lineWant},
		{101, lineWant},
	} {
		timeout := flows.Duration(time.Minute)
		c := &call{a: &Agent{met: NewMetrics(nil)}, log: slog.New(slog.DiscardHandler), events: make(chan flows.Event, 256),
			snap: &flows.Bundle{Config: &flows.Config{MediaTimeout: &timeout}}}
		c.m = newCallMedia(c, newFakeRTP(30000), sdp.Answer{Codec: media.CodecPCMU, DTMFPT: tc.dtmfPT, Ptime: 20 * time.Millisecond}, nil)
		before := time.Now()
		feed := func(frames [][]int16) {
			for _, f := range frames {
				c.m.Audio(f)
			}
		}
		feed(lineSound(0.5, lineQuiet))
		feed(lineSound(0.12, lineKey))
		feed(lineSound(0.5, lineQuiet))
		feed(lineSound(1, lineVoice(-45)))
		feed(lineSound(0.8, lineVoice(-20)))
		// Gaps as the session reports them, again and again while they
		// last: 15 frames lost in all, less than the hangover.
		c.m.Silence(240 * time.Millisecond)
		c.m.Silence(300 * time.Millisecond)
		feed(lineSound(0.5, lineVoice(-20)))
		// A comfort-noise packet starts a new gap: 12 + 1 + 15 frames.
		c.m.Silence(240 * time.Millisecond)
		c.m.ComfortNoise(30)
		c.m.Silence(300 * time.Millisecond)
		feed(lineSound(0.5, lineVoice(-20)))
		c.m.Silence(time.Second) // a long gap counts 50 frames at most
		c.m.Silence(2 * time.Second)
		feed(lineSound(0.6, lineQuiet))
		c.m.Digit('7')
		feed(lineSound(1.2, lineNoise(-25)))
		for range 30 {
			c.m.ComfortNoise(30)
		}
		feed(lineSound(0.6, lineVoice(-22)))
		c.m.Silence(400 * time.Millisecond)
		c.m.Silence(1400 * time.Millisecond)
		close(c.events)
		var got []string
		open := false
		for ev := range c.events {
			if ev.At.Before(before) || ev.At.After(time.Now()) {
				t.Errorf("%s at %v: not the wall clock", ev.Kind, ev.At)
			}
			switch ev.Kind {
			case flows.Onset, flows.UtteranceEnd:
				if open == (ev.Kind == flows.Onset) {
					t.Errorf("PT %d: %s while an utterance was open: %v", tc.dtmfPT, ev.Kind, open)
				}
				open = ev.Kind == flows.Onset
				continue
			case flows.SpeechStart, flows.WeakSpeech:
				if !open {
					t.Errorf("PT %d: %s outside an utterance", tc.dtmfPT, ev.Kind)
				}
			}
			got = append(got, fmt.Sprintf("%s level=%.2f floor=%.2f key=%q", ev.Kind, ev.LevelDB, ev.FloorDB, ev.Key))
		}
		if open {
			t.Errorf("PT %d: the last utterance never ended", tc.dtmfPT)
		}
		if g := strings.Join(got, "\n"); g != tc.want {
			t.Errorf("telephone-event PT %d:\n%s\nwant:\n%s", tc.dtmfPT, g, tc.want)
		}
	}
}
