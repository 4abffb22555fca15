package softphone

import (
	"errors"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/audio"
)

// Defaults of the audio-stretch detector.
const (
	// DefaultThresholdDB is the frame level (RMS, dBFS) at or above which
	// a frame counts as audio. Speech prompts sit around -20 dBFS, a line
	// with comfort noise or hiss well below -50.
	DefaultThresholdDB = -45.0
	// DefaultBridge is the longest quiet gap inside one stretch: the pauses
	// between words and sentences of one prompt are shorter, the waits
	// between prompts are far longer.
	DefaultBridge = 300 * time.Millisecond
	// DefaultMinStretch is the shortest stretch reported; shorter bursts
	// (clicks, codec switch-over) are ignored.
	DefaultMinStretch = 60 * time.Millisecond
)

// silenceDB is the level reported for digital silence, instead of -Inf.
const silenceDB = -120.0

// DetectorConfig tunes the audio-stretch detector. The zero value means
// the defaults.
type DetectorConfig struct {
	ThresholdDB float64       // 0 means DefaultThresholdDB
	Bridge      time.Duration // 0 means DefaultBridge
	MinStretch  time.Duration // 0 means DefaultMinStretch
}

func (c DetectorConfig) withDefaults() DetectorConfig {
	if c.ThresholdDB == 0 {
		c.ThresholdDB = DefaultThresholdDB
	}
	if c.Bridge == 0 {
		c.Bridge = DefaultBridge
	}
	if c.MinStretch == 0 {
		c.MinStretch = DefaultMinStretch
	}
	return c
}

// Validate reports a configuration the detector cannot use.
func (c DetectorConfig) Validate() error {
	c = c.withDefaults()
	switch {
	case c.ThresholdDB >= 0 || c.ThresholdDB < silenceDB:
		return errors.New("softphone: detector threshold must be in (-120, 0) dBFS")
	case c.Bridge < 0 || c.MinStretch < 0:
		return errors.New("softphone: detector durations must not be negative")
	}
	return nil
}

// Stretch is one stretch of audio heard: from the start of its first loud
// frame to the end of its last, with quiet gaps shorter than the bridge
// inside it.
type Stretch struct {
	Start, End time.Duration
	LevelDB    float64 // RMS level of the loud frames, dBFS
}

// Duration returns End - Start.
func (s Stretch) Duration() time.Duration { return s.End - s.Start }

// LevelDB returns the RMS level of pcm in dBFS (a full-scale square wave is
// 0 dBFS), or -120 for digital silence.
func LevelDB(pcm []int16) float64 { return max(silenceDB, audio.RMSDB(pcm)) }

// powerDB is audio.PowerDB with digital silence at -120 dBFS.
func powerDB(meanSquare float64) float64 { return max(silenceDB, audio.PowerDB(meanSquare)) }

// Detector turns a sequence of timed frames into stretches of audio. It is
// a pure state machine: it reads no clock, and the caller passes each
// frame's start time, in order and without gaps (missing audio is passed
// as silence). Hysteresis is counted in frame time, not wall time.
type Detector struct {
	cfg DetectorConfig

	in        bool          // inside a (possibly not yet announced) stretch
	announced bool          // Start was reported for the current stretch
	start     time.Duration // start of the current stretch
	loudEnd   time.Duration // end of its last loud frame
	sum       float64       // sum of squares of its loud frames
	n         int           // samples in sum
}

// NewDetector returns a detector; zero fields of cfg take the defaults.
func NewDetector(cfg DetectorConfig) *Detector {
	return &Detector{cfg: cfg.withDefaults()}
}

// Edge is what Push and Flush report: a stretch started (Stretch.Start is
// its start; End and LevelDB cover what was heard so far) or ended (the
// complete Stretch).
type Edge struct {
	Start   bool // true for a start, false for an end
	Stretch Stretch
}

// Push feeds the frame that starts at t and reports at most one edge.
// A start is reported once the stretch has lasted MinStretch, with the
// stretch's true start time; an end once the quiet after it has lasted
// Bridge, with the end of the last loud frame.
func (d *Detector) Push(t time.Duration, pcm []int16) (Edge, bool) {
	end := t + time.Duration(len(pcm))*time.Second/media.SampleRate
	sum := audio.SumSquares(pcm)
	loud := len(pcm) > 0 && powerDB(sum/float64(len(pcm))) >= d.cfg.ThresholdDB
	if loud {
		if !d.in {
			d.in, d.announced, d.start, d.sum, d.n = true, false, t, 0, 0
		}
		d.loudEnd = end
		d.sum += sum
		d.n += len(pcm)
		if !d.announced && d.loudEnd-d.start >= d.cfg.MinStretch {
			d.announced = true
			return Edge{Start: true, Stretch: d.current()}, true
		}
		return Edge{}, false
	}
	if d.in && end-d.loudEnd >= d.cfg.Bridge {
		return d.close()
	}
	return Edge{}, false
}

// Flush ends a stretch still open at the end of the stream.
func (d *Detector) Flush() (Edge, bool) {
	if !d.in {
		return Edge{}, false
	}
	return d.close()
}

func (d *Detector) close() (Edge, bool) {
	d.in = false
	if !d.announced {
		return Edge{}, false // too short: a click, not a stretch
	}
	return Edge{Stretch: d.current()}, true
}

func (d *Detector) current() Stretch {
	return Stretch{Start: d.start, End: d.loudEnd, LevelDB: powerDB(d.sum / float64(max(d.n, 1)))}
}

// FindStretches runs a detector over pcm, 8 kHz mono audio that starts at
// t0, cut into 20 ms frames, and returns the stretches it heard.
func FindStretches(t0 time.Duration, pcm []int16, cfg DetectorConfig) []Stretch {
	d := NewDetector(cfg)
	var out []Stretch
	for i := 0; i < len(pcm); i += media.FrameSamples {
		f := pcm[i:min(i+media.FrameSamples, len(pcm))]
		t := t0 + time.Duration(i)*time.Second/media.SampleRate
		if e, ok := d.Push(t, f); ok && !e.Start {
			out = append(out, e.Stretch)
		}
	}
	if e, ok := d.Flush(); ok {
		out = append(out, e.Stretch)
	}
	return out
}
