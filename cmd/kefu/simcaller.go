package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/g711"
	"github.com/kefu-hotline/kefu/prompts"
)

// simCallerHelp is the -caller flag's help.
const simCallerHelp = "the caller, comma-separated parts: silent, speech@T, weak@T, noisy@T, keys@T:DIGITS, hangup@T, " +
	"or a recording run through the real line-condition and in-band DTMF detectors: FILE.wav (from the answer) " +
	"or wav@T:FILE (from T after the answer); e.g. caller.wav,hangup@40s"

// parseSimCaller turns the -caller value into a script: the parts that
// name a WAV recording become the events the live detectors would raise on
// it, the others are flows.ParseCaller's scripted actions. At most one
// recording; after it ends the caller is silent and stays on the line
// unless a hangup@T part says otherwise.
func parseSimCaller(desc string) ([]flows.CallerAction, error) {
	var (
		scripted []string
		out      []flows.CallerAction
		wavs     int
	)
	for _, part := range strings.Split(desc, ",") {
		p := strings.TrimSpace(part)
		file, at, isWAV, err := wavPart(p)
		if err != nil {
			return nil, err
		}
		if !isWAV {
			scripted = append(scripted, p)
			continue
		}
		if wavs++; wavs > 1 {
			return nil, fmt.Errorf("caller %q: one recording per caller", desc)
		}
		acts, err := wavCaller(file, at)
		if err != nil {
			return nil, err
		}
		out = append(out, acts...)
	}
	acts, err := flows.ParseCaller(strings.Join(scripted, ","))
	if err != nil {
		return nil, err
	}
	return append(out, acts...), nil
}

// wavPart reports whether a part of -caller names a recording ("FILE.wav"
// or "wav@T:FILE"), and which file from when.
func wavPart(p string) (file string, at time.Duration, ok bool, err error) {
	if rest, found := strings.CutPrefix(p, "wav@"); found {
		t, f, _ := strings.Cut(rest, ":")
		if at, err = time.ParseDuration(t); err != nil || at < 0 {
			return "", 0, false, fmt.Errorf("caller %q: %q is not a duration like 3s", p, t)
		}
		if f == "" {
			return "", 0, false, fmt.Errorf("caller %q: wav@T:FILE needs a file", p)
		}
		return f, at, true, nil
	}
	return p, 0, strings.HasSuffix(strings.ToLower(p), ".wav"), nil
}

// wavCaller reads a recording and returns what the live detectors raise on
// it, with time 0 of the file at offset at after the answer.
func wavCaller(file string, at time.Duration) ([]flows.CallerAction, error) {
	if !strings.HasSuffix(strings.ToLower(file), ".wav") {
		return nil, fmt.Errorf("caller: %s: a recording is a .wav file", file)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("caller: %w", err)
	}
	defer f.Close()
	// The prompts' decoder: PCM, float or G.711 WAV at any rate, to 8 kHz
	// mono through the resampler's anti-aliasing filter.
	pcm, err := prompts.Decode(file, f)
	if err != nil {
		return nil, fmt.Errorf("caller: %w", err)
	}
	acts := detectCaller(pcm)
	for i := range acts {
		acts[i].At += at
	}
	return acts, nil
}

// trailingLost is how many frames of no audio the detector is fed after a
// recording ends: the cap of a live call's gap, longer than the hangover,
// so speech still in progress ends.
const trailingLost = flows.MaxGapFrames

// detectCaller runs 8 kHz mono audio through the caller's path of a live
// call: G.711 μ-law and back, 20 ms frames, and the live call's
// flows.LineListener with in-band DTMF (as on a trunk without
// telephone-event). Frame i's events are at i × 20 ms; keys carry the
// level of their frame, which the timeline shows.
func detectCaller(pcm []int16) []flows.CallerAction {
	var (
		out   []flows.CallerAction
		at    time.Duration
		ulaw  [media.FrameBytes]byte
		frame [media.FrameSamples]int16
	)
	line, err := flows.NewLineListener(flows.LineOptions{InBand: true, KeyLevels: true}, func(ev flows.Event) {
		out = append(out, flows.CallerAction{At: at, Event: ev})
	})
	if err != nil {
		panic(err) // the default detectors are valid; flows' tests guard it
	}
	for i := 0; i < len(pcm); i += media.FrameSamples {
		in := pcm[i:min(i+media.FrameSamples, len(pcm))] // the last frame may be partial
		g711.EncodeUlaw(ulaw[:], in)
		f := frame[:len(in)]
		g711.DecodeUlaw(f, ulaw[:len(in)])
		line.Frame(f)
		at += media.FrameDur
	}
	for range trailingLost {
		line.Lost()
		at += media.FrameDur
	}
	return out
}
