package vad

import (
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// Result is the detector's verdict on one frame.
type Result struct {
	// LevelDB is the frame's level in dBFS (at least MinDB). For a comfort
	// noise packet it is the level the packet carries; for Lost, MinDB.
	LevelDB float64
	// FloorDB is the noise floor after this frame, in dBFS.
	FloorDB float64
	// SpreadDB is the spread (max - min) of the frame levels over the last
	// Options.SteadyMs, this frame included (over fewer frames at the
	// start): large for speech, small for steady signals.
	SpreadDB float64
	// Class is the class after this frame.
	Class Class
	// Voiced reports whether this frame was loud enough above the floor to
	// count toward speech.
	Voiced bool
	// Steady reports whether the last Options.SteadyMs were a steady
	// signal: SpreadDB at most Options.SteadyRangeDB over a full window.
	Steady bool
	// Changed reports whether Class changed on this frame.
	Changed bool
	// Frame is the index of this frame, counted from 0 since New or Reset;
	// multiply by media.FrameDur for its start time.
	Frame uint64
}

// Detector classifies a call's received audio frame by frame. Create it with
// New; it belongs to one goroutine.
type Detector struct {
	o           Options
	onsetFrames int     // voiced run that starts speech
	hangFrames  int     // unvoiced run that ends speech
	rise        float64 // largest floor rise per frame, dB

	levels []float64 // ring of the last SteadyMs frame levels
	head   int       // next slot of levels
	count  int       // levels held, at most len(levels)
	n      uint64    // frames seen, lost ones included
	floor  float64
	class  Class
	run    int // consecutive voiced frames while silent
	quiet  int // consecutive unvoiced frames while in speech
}

// New returns a detector with options o, or the error of o.Validate.
func New(o Options) (*Detector, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{
		o:           o,
		onsetFrames: frames(o.OnsetMs),
		hangFrames:  frames(o.HangoverMs),
		rise:        o.FloorRiseDBPerSec * media.FrameDur.Seconds(),
		levels:      make([]float64, max(frames(o.SteadyMs), floorDownFrames)),
	}
	d.Reset()
	return d, nil
}

// Reset forgets everything heard, as for a new call: silence, no floor,
// frame count 0. The options stay.
func (d *Detector) Reset() {
	clear(d.levels)
	d.head, d.count, d.n = 0, 0, 0
	d.floor, d.class, d.run, d.quiet = MinDB, Silence, 0, 0
}

// Options returns the detector's options.
func (d *Detector) Options() Options { return d.o }

// Class returns the current class: that of the last Result.
func (d *Detector) Class() Class { return d.class }

// Frame classifies the next 20 ms frame of decoded audio: media.FrameSamples
// samples, or fewer for a partial frame. Any length is measured whole and
// counts as one frame; an empty frame reads as digital silence.
func (d *Detector) Frame(pcm []int16) Result {
	return d.step(Level(pcm), audio)
}

// ComfortNoise takes an RFC 3389 comfort-noise packet in place of the next
// frame: levelDBov is the packet's first byte, the noise level in -dBov
// (0..127; 0 dBov is full scale, like 0 dBFS). The level becomes the floor;
// the frame is never voiced, so it continues silence and counts toward the
// hangover of speech.
func (d *Detector) ComfortNoise(levelDBov uint8) Result {
	return d.step(max(-float64(levelDBov&0x7f), MinDB), comfortNoise)
}

// Lost stands for one frame time in which no audio arrived: a lost packet,
// or a pause of a phone that stops sending without comfort noise. It is
// unvoiced, so it counts toward the hangover and speech ends even if the
// caller's RTP stops, but it leaves the floor and the steadiness window as
// they were, so gaps do not make a hiss sound like speech. The result's
// LevelDB is MinDB.
func (d *Detector) Lost() Result {
	return d.step(MinDB, lost)
}

// input is what stands for a frame.
type input uint8

const (
	audio        input = iota // a decoded frame
	comfortNoise              // an RFC 3389 packet
	lost                      // nothing
)

// step advances the detector by one frame of level l.
func (d *Detector) step(l float64, in input) Result {
	if in != lost {
		d.levels[d.head] = l
		d.head = (d.head + 1) % len(d.levels)
		d.count = min(d.count+1, len(d.levels))
	}
	lo, hi, held := d.window()
	steady := d.count == len(d.levels) && hi-lo <= d.o.SteadyRangeDB

	noise := false
	if in != lost {
		switch {
		case in == comfortNoise:
			d.floor = l
		case d.count == 1:
			d.floor = min(l, d.o.StartFloorDB)
		case held < d.floor:
			d.floor = held
		default:
			d.floor = min(held, d.floor+d.rise)
		}
		// A steady signal becomes the floor. If it stood above the floor,
		// it is a new noise (not silence after speech): speech in progress
		// ends now.
		if steady {
			noise = lo > d.floor+d.o.ExitDB
			d.floor = max(d.floor, lo)
		}
	}

	margin := d.o.EnterDB
	if d.class == Speech {
		margin = d.o.ExitDB
	}
	voiced := in == audio && !steady && l > d.o.MinLevelDB && l > d.floor+margin

	prev := d.class
	switch d.class {
	case Silence:
		if voiced {
			d.run++
		} else {
			d.run = 0
		}
		if d.run >= d.onsetFrames {
			d.class, d.quiet = Speech, 0
		}
	case Speech:
		if voiced {
			d.quiet = 0
		} else {
			d.quiet++
		}
		// A steady noise is not speech: end at once, without hangover.
		if noise || d.quiet >= d.hangFrames {
			d.class, d.run = Silence, 0
		}
	}

	r := Result{
		LevelDB:  l,
		FloorDB:  d.floor,
		SpreadDB: hi - lo,
		Class:    d.class,
		Voiced:   voiced,
		Steady:   steady,
		Changed:  d.class != prev,
		Frame:    d.n,
	}
	d.n++
	return r
}

// window returns the lowest and highest level in the ring, and held, the
// level sustained over the newest floorDownFrames (their maximum). With an
// empty ring all three are MinDB.
func (d *Detector) window() (lo, hi, held float64) {
	if d.count == 0 {
		return MinDB, MinDB, MinDB
	}
	w := len(d.levels)
	lo, hi, held = math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i := range d.count {
		v := d.levels[(d.head-1-i+w)%w]
		lo, hi = min(lo, v), max(hi, v)
		if i < floorDownFrames {
			held = max(held, v)
		}
	}
	return lo, hi, held
}

// fullScale2 is the mean square of a full-scale square wave: 0 dBFS.
const fullScale2 = 32768.0 * 32768.0

// minPower is the mean square at MinDB.
var minPower = fullScale2 * math.Pow(10, MinDB/10)

// Level returns the level of pcm in dBFS: the RMS with the mean (DC offset)
// removed, relative to a full-scale square wave, and at least MinDB. An
// empty slice is MinDB.
func Level(pcm []int16) float64 {
	if len(pcm) == 0 {
		return MinDB
	}
	var sum, sum2 int64
	for _, s := range pcm {
		v := int64(s)
		sum += v
		sum2 += v * v
	}
	n := float64(len(pcm))
	mean := float64(sum) / n
	p := float64(sum2)/n - mean*mean
	if p <= minPower {
		return MinDB
	}
	return 10 * math.Log10(p/fullScale2)
}
