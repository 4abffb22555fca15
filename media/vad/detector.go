package vad

import (
	"math"

	"github.com/kefu-hotline/kefu/media"
)

// Result is the detector's verdict on one frame, and the levels behind it.
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
	// Periodicity is the frame's periodicity in [0, 1]: about 0.2..0.4 for
	// noise, 0.7 and more for a vowel. It is measured only on frames loud
	// enough above the floor to be voiced, and is 0 on the others.
	Periodicity float64
	// SegmentDB is the speech level of the current speech segment (the
	// power average of its voiced frames so far), or of the last one once
	// it has ended; MinDB before any speech. Speech is WeakSpeech when it
	// is below Options.WeakDB.
	SegmentDB float64
	// WindowDB is the power average of the frame levels of the last
	// Options.WindowMs, lost frames included as MinDB.
	WindowDB float64
	// Class is the class after this frame: Speech or WeakSpeech from the
	// frame that starts speech (SpeechStart) to the one that ends it
	// (SpeechEnd); otherwise Noise or Silence, by the level of the last
	// Options.WindowMs.
	Class Class
	// Window is the class of the last Options.WindowMs as a whole: speech
	// (Speech or WeakSpeech, by SegmentDB) if it holds at least
	// WindowSpeechFrames voiced frames and the detector was in speech
	// during it, else Noise or Silence as for Class. Unlike Class it has no
	// hangover: it says what the window held, for line-condition decisions
	// and reports.
	Window Class
	// Voiced reports whether this frame was loud enough above the floor,
	// and periodic enough, to count toward speech.
	Voiced bool
	// Steady reports whether the last Options.SteadyMs were a steady
	// signal: SpreadDB at most Options.SteadyRangeDB over a full window.
	Steady bool
	// Changed reports whether Class changed on this frame.
	Changed bool
	// SpeechStart reports that speech started on this frame: Class went
	// from Silence or Noise to Speech or WeakSpeech.
	SpeechStart bool
	// SpeechEnd reports that speech ended on this frame.
	SpeechEnd bool
	// Frame is the index of this frame, counted from 0 since New or Reset;
	// multiply by media.FrameDur for its start time.
	Frame uint64
}

// WindowSpeechFrames is how many voiced frames (60 ms) the last
// Options.WindowMs must hold, with speech, for Result.Window to be speech.
const WindowSpeechFrames = 3

// startSwing multiplies Options.SwingDB for a run of voiced frames that
// began while the floor was still capped at Options.StartFloorDB: 12.6 dB
// by default. A one-syllable word spoken from the first frame (两, 0.5 s)
// rises about 13 dB within itself; at 1.5 (13.5 dB) it was only confirmed
// by its fall, 360 ms late. The accuracy report is the same at both.
const startSwing = 1.4

// noiseShare is the share of the window's frames outside speech that must
// be at least Options.NoiseDB for the line to be Noise.
const noiseShare = 0.75

// Detector classifies a call's received audio frame by frame. Create it with
// New; it belongs to one goroutine.
type Detector struct {
	o           Options
	onsetFrames int // voiced run that starts speech
	hangFrames  int // unvoiced run that ends speech

	levels ring // frame levels over SteadyMs
	floors ring // sustained (3-frame) levels over FloorMs
	window ring // frame flags over WindowMs (window*)
	powers ring // frame powers over WindowMs, relative to full scale

	pitch    pitch
	n        uint64  // frames seen, lost ones included
	capped   int     // frames left with the floor capped at StartFloorDB
	capSlot  int     // the slot of floors holding the capped first level
	capLevel float64 // the first level, before the cap
	floor    float64
	speech   bool
	cur      voicedRun // the run of voiced frames going on while not in speech
	pend     voicedRun // the last run long enough to start speech, not yet confirmed
	pendAge  int       // frames since pend ended
	quiet    int       // consecutive unvoiced frames while in speech
	since    int       // frames since speech ended
	segPow   float64   // power sum of the voiced frames of the segment
	segN     int       // voiced frames of the segment
	class    Class

	bgN, loudN, voicedN int     // frames of the window flagged background, loud, voiced
	powSum              float64 // sum of powers over the window
}

// voicedRun is a run of consecutive voiced frames.
type voicedRun struct {
	n         int
	pow, peak float64 // power sum and highest level of its frames
	capped    bool    // it began while the floor was the capped start
}

func (r *voicedRun) add(l, pow float64, capped bool) {
	if r.n == 0 {
		r.peak, r.capped = l, capped
	}
	r.n++
	r.pow += pow
	r.peak = max(r.peak, l)
}

// Flags of a frame in the window ring.
const (
	windowBackground = 1 << iota // not in speech
	windowLoud                   // not in speech, and at least NoiseDB
	windowVoiced                 // voiced
)

// claim clears the background flags of the frames of the window ring from
// the from-th newest on, n of them: frames of a run that turned out to be
// speech.
func (d *Detector) claim(from, n int) {
	for i := from; i < from+n && i < d.window.count; i++ {
		f := int(d.window.at(i))
		if f&(windowBackground|windowLoud) == 0 {
			continue
		}
		d.count(f, -1)
		f &^= windowBackground | windowLoud
		d.count(f, 1)
		d.window.set(i, float64(f))
	}
}

// count adds the flags of a frame to the window's counts, or removes them
// (sign -1).
func (d *Detector) count(flags, sign int) {
	if flags&windowBackground != 0 {
		d.bgN += sign
	}
	if flags&windowLoud != 0 {
		d.loudN += sign
	}
	if flags&windowVoiced != 0 {
		d.voicedN += sign
	}
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
		levels:      newRing(max(frames(o.SteadyMs), floorDownFrames)),
		floors:      newRing(frames(o.FloorMs)),
		window:      newRing(frames(o.WindowMs)),
		powers:      newRing(frames(o.WindowMs)),
	}
	d.Reset()
	return d, nil
}

// Reset forgets everything heard, as for a new call: silence, no floor,
// frame count 0. The options stay.
func (d *Detector) Reset() {
	d.levels.reset()
	d.floors.reset()
	d.window.reset()
	d.powers.reset()
	d.pitch.reset()
	d.n, d.floor, d.speech, d.class = 0, MinDB, false, Silence
	d.capped, d.capSlot, d.capLevel = 0, 0, 0
	d.cur, d.pend, d.pendAge, d.quiet, d.since = voicedRun{}, voicedRun{}, 0, 0, math.MaxInt/2
	d.segPow, d.segN = 0, 0
	d.bgN, d.loudN, d.voicedN, d.powSum = 0, 0, 0, 0
}

// Options returns the detector's options.
func (d *Detector) Options() Options { return d.o }

// Class returns the current class: that of the last Result.
func (d *Detector) Class() Class { return d.class }

// Frame classifies the next 20 ms frame of decoded audio: media.FrameSamples
// samples, or fewer for a partial frame. Any length is measured whole and
// counts as one frame; an empty frame reads as digital silence.
func (d *Detector) Frame(pcm []int16) Result {
	l, mean := level(pcm)
	d.pitch.push(pcm, mean)
	return d.step(l, audio)
}

// ComfortNoise takes an RFC 3389 comfort-noise packet in place of the next
// frame: levelDBov is the packet's first byte, the noise level in -dBov
// (0..127; 0 dBov is full scale, like 0 dBFS). The level becomes the floor;
// the frame is never voiced, so it continues silence (or noise, if the
// level is at least Options.NoiseDB) and counts toward the hangover of
// speech.
func (d *Detector) ComfortNoise(levelDBov uint8) Result {
	d.pitch.gap(media.FrameSamples)
	return d.step(max(-float64(levelDBov&0x7f), MinDB), comfortNoise)
}

// Lost stands for one frame time in which no audio arrived: a lost packet,
// or a pause of a phone that stops sending without comfort noise. It is
// unvoiced, so it counts toward the hangover and speech ends even if the
// caller's RTP stops, but it leaves the floor and the steadiness window as
// they were, so gaps do not make a hiss sound like speech. The result's
// LevelDB is MinDB.
func (d *Detector) Lost() Result {
	d.pitch.gap(media.FrameSamples)
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
		d.levels.push(l)
	}
	lo, hi, held := d.levels.spread(floorDownFrames)
	steady := d.levels.full() && hi-lo <= d.o.SteadyRangeDB

	noise := false
	if in != lost {
		switch {
		case in == comfortNoise:
			d.floors.fill(l)
			d.capped = 0
		case d.floors.count == 0 && l > d.o.StartFloorDB:
			// The first frame: the floor starts at StartFloorDB, so a
			// caller speaking from the first frame is heard, until
			// SteadyMs of audio have shown the real background (or the
			// floor has forgotten the first frame).
			d.capped = min(d.levels.len(), d.floors.len()-1)
			d.capSlot, d.capLevel = d.floors.head, l
			d.floors.push(d.o.StartFloorDB)
		default:
			d.floors.push(held)
			if d.capped > 0 {
				if d.capped--; d.capped == 0 {
					d.floors.v[d.capSlot] = d.capLevel
				}
			}
		}
		d.floor, _ = d.floors.minMax()
		// A steady signal becomes the floor. If it stood above the floor,
		// it is a new noise (not silence after speech): speech in progress
		// ends now.
		if steady && lo > d.floor {
			noise = lo > d.floor+d.o.ExitDB
			d.floors.raise(lo)
			d.floor = lo
		}
	}

	// The margin above the floor: EnterDB to begin a run of voiced frames
	// outside speech, ExitDB to go on with it, or with speech.
	above := d.floor + d.o.ExitDB
	if !d.speech && d.cur.n == 0 {
		above = d.floor + d.o.EnterDB
	}
	periodicity := 0.0
	if in == audio && !steady && l > d.o.MinLevelDB && l > above {
		periodicity = d.pitch.periodicity()
	}
	voiced := periodicity > 0 && periodicity >= d.o.MinPeriodicity
	pow := power(l)

	start, end := false, false
	if !d.speech {
		start = d.onset(voiced, l, pow, lo)
	} else {
		if voiced {
			d.quiet = 0
			d.segPow += pow
			d.segN++
		} else {
			d.quiet++
		}
		// A steady noise is not speech: end at once, without hangover.
		if noise || d.quiet >= d.hangFrames {
			end = true
			d.speech = false
		}
	}
	if d.speech {
		d.since = 0
	} else {
		d.since++
	}

	// The window: frames outside speech (and which of them were loud),
	// voiced frames, and powers.
	flags := 0
	if !d.speech {
		flags |= windowBackground
		if in != lost && l >= d.o.NoiseDB {
			flags |= windowLoud
		}
	}
	if voiced {
		flags |= windowVoiced
	}
	if d.window.full() {
		d.count(int(d.window.oldest()), -1)
		d.powSum -= d.powers.oldest()
	}
	d.window.push(float64(flags))
	d.count(flags, 1)
	d.powers.push(pow)
	d.powSum += pow

	// Noise: most of the window's frames outside speech were loud.
	background := Silence
	if d.bgN > 0 && float64(d.loudN) >= noiseShare*float64(d.bgN) {
		background = Noise
	}
	seg := d.segmentDB()
	spoken := Speech
	if seg < d.o.WeakDB {
		spoken = WeakSpeech
	}
	prev := d.class
	d.class = background
	if d.speech {
		d.class = spoken
	}
	win := background
	if d.voicedN >= WindowSpeechFrames && d.since <= d.window.count {
		win = spoken
	}

	r := Result{
		LevelDB:     l,
		FloorDB:     d.floor,
		SpreadDB:    hi - lo,
		Periodicity: periodicity,
		SegmentDB:   seg,
		WindowDB:    db(max(d.powSum, 0) / float64(d.window.count)),
		Class:       d.class,
		Window:      win,
		Voiced:      voiced,
		Steady:      steady,
		Changed:     d.class != prev,
		SpeechStart: start,
		SpeechEnd:   end,
		Frame:       d.n,
	}
	d.n++
	return r
}

// onset advances the runs of voiced frames while not in speech and reports
// whether speech starts on this frame. A run of onsetFrames voiced frames
// starts speech once it is confirmed: its loudest frame stands SwingDB
// above the quietest frame of the last SteadyMs. Speech rises out of a
// quieter background and falls back between syllables, so a run is
// confirmed by the quiet before it (the usual case, at once) or by the
// dip after it, within SteadyMs (a caller speaking from the first frame
// over a capped starting floor). A loud noise present from the first frame
// does neither.
func (d *Detector) onset(voiced bool, l, pow, lo float64) bool {
	if voiced {
		d.cur.add(l, pow, d.capped > 0)
	} else {
		if d.cur.n >= d.onsetFrames {
			d.pend, d.pendAge = d.cur, 0
		}
		d.cur = voicedRun{}
	}
	if d.pend.n > 0 {
		d.pendAge++
	}
	// A run that began while the floor was the capped start stood above a
	// background not yet known: a crowd from the first frame does that as
	// well as speech. Only a larger swing (speech falling to a pause)
	// confirms it.
	confirmed := func(r voicedRun) bool {
		swing := d.o.SwingDB
		if r.capped {
			swing *= startSwing
		}
		return r.n >= d.onsetFrames && r.peak >= lo+swing
	}
	var r voicedRun
	switch {
	case confirmed(d.cur):
		r, d.quiet = d.cur, 0
	case d.pendAge < min(d.levels.len(), d.hangFrames) && confirmed(d.pend):
		r, d.quiet = d.pend, d.pendAge
	default:
		if d.pendAge >= min(d.levels.len(), d.hangFrames) {
			d.pend, d.pendAge = voicedRun{}, 0
		}
		return false
	}
	d.speech = true
	d.segPow, d.segN = r.pow, r.n
	// The run's frames already in the window were speech, not background.
	d.claim(d.quiet-min(d.quiet, 1), r.n-1+min(d.quiet, 1))
	d.cur, d.pend, d.pendAge = voicedRun{}, voicedRun{}, 0
	return true
}

// segmentDB returns the level of the current or last speech segment.
func (d *Detector) segmentDB() float64 {
	if d.segN == 0 {
		return MinDB
	}
	return db(d.segPow / float64(d.segN))
}
