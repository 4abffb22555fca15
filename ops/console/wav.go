package console

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/prompts"
)

// stopsMusic are the timeline entries at which hold music that is playing
// has stopped: the flow went on to something else.
var stopsMusic = map[string]bool{
	"prompt_start": true, "music": true, "announce": true, "step": true, "hangup": true,
	"bridge": true, "reject": true, "close": true,
}

// segment is a stretch of one recording in the rendered call.
type segment struct {
	p           *prompts.Prompt
	start, stop time.Duration // from the answer
	frame       int           // the recording's first frame
	loop        bool
}

// heard renders what the simulated caller would hear, from the answer to
// the end of the timeline (at most limit): each prompt from its start
// until it ended or was cut off, and hold music from where it resumed
// until the flow moved on; silence elsewhere. 8 kHz 16-bit mono.
func heard(sim *flows.Simulation, cat *prompts.Catalog, limit time.Duration) []int16 {
	var (
		segs  []segment
		open  = map[string]int{} // prompt id → index in segs while it plays
		music = -1               // index of the music playing, or -1
		end   time.Duration
	)
	for _, e := range sim.Trace {
		t := max(sim.Elapsed(e.At), 0)
		end = max(end, t)
		if music >= 0 && stopsMusic[e.What] {
			segs[music].stop, music = t, -1
		}
		switch e.What {
		case "prompt_start":
			if p, ok := cat.Get(e.Detail); ok {
				open[e.Detail] = len(segs)
				segs = append(segs, segment{p: p, start: t, stop: -1})
			}
		case "prompt_end":
			if i, ok := open[e.Detail]; ok {
				segs[i].stop = t
				delete(open, e.Detail)
			}
		case "music":
			id, from, _ := strings.Cut(e.Detail, " from frame ")
			frame, _ := strconv.Atoi(from)
			if p := musicPrompt(cat, id); p != nil {
				music = len(segs)
				segs = append(segs, segment{p: p, start: t, stop: -1, frame: frame, loop: true})
			}
		}
	}
	end = min(end+500*time.Millisecond, limit)
	out := make([]int16, samplesIn(end))
	for _, s := range segs {
		if s.stop < 0 {
			s.stop = end
			if !s.loop {
				s.stop = min(end, s.start+s.p.Duration())
			}
		}
		mix(out, s)
	}
	return out
}

// musicPrompt finds the hold music the flow named.
func musicPrompt(cat *prompts.Catalog, id string) *prompts.Prompt {
	if p, ok := cat.Get(id); ok {
		return p
	}
	if id == flows.DefaultMusic {
		if p, err := prompts.LoadMusic(); err == nil {
			return p
		}
	}
	return nil
}

// samplesIn is the number of 8 kHz samples in d.
func samplesIn(d time.Duration) int {
	return int(d / (media.FrameDur / time.Duration(media.FrameSamples)))
}

// mix adds s to out, clipping.
func mix(out []int16, s segment) {
	frames := s.p.Frames()
	if frames == 0 {
		return
	}
	lo, hi := samplesIn(s.start), min(samplesIn(s.stop), len(out))
	total := frames * media.FrameSamples
	src := s.frame * media.FrameSamples
	for i := lo; i < hi; i, src = i+1, src+1 {
		if src >= total {
			if !s.loop {
				return
			}
			src = 0
		}
		f := s.p.PCM(src / media.FrameSamples)
		v := int32(out[i]) + int32(f[src%media.FrameSamples])
		out[i] = int16(max(min(v, math.MaxInt16), math.MinInt16))
	}
}
