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
	// and periodic enough, to count toward speech; a Tone never is.
	Voiced bool
	// Tone reports that this frame, outside speech or in its hangover,
	// was a tone: one or two sinusoids (a DTMF key, a dial, busy or test
	// tone). It is never voiced.
	Tone bool
	// Steady reports whether the last Options.SteadyMs were a steady
	// signal: SpreadDB at most Options.SteadyRangeDB over a full window.
	Steady bool
	// Changed reports whether Class changed on this frame.
	Changed bool
	// SpeechStart reports that speech started on this frame: Class went
	// from Silence or Noise to Speech or WeakSpeech.
	SpeechStart bool
	// SpeechEnd reports that speech ended on this frame: on the
	// Options.HangoverMs-th frame after the last voiced frame of speech,
	// or at once when a steady noise replaced it.
	SpeechEnd bool
	// SinceVoiced is the number of frames since the last voiced frame of
	// the current or last speech segment: 0 on a voiced frame of speech,
	// growing through the pauses and the hangover (the hangover in frames
	// on SpeechEnd) and after it, until the next segment starts. Then it
	// is the frames since that segment's last voiced frame, which speech
	// is reported after (OnsetMs after its first). Before any speech it
	// counts from New or Reset. The end of an utterance (CS-LISTEN: 0.8 s
	// without speech, pauses within a sentence bridged) is SinceVoiced
	// reaching 40 frames without a SpeechStart.
	SinceVoiced int
	// Frame is the index of this frame, counted from 0 since New or Reset;
	// multiply by media.FrameDur for its start time.
	Frame uint64
}

// WindowSpeechFrames is how many voiced frames (60 ms) the last
// Options.WindowMs must hold, with speech, for Result.Window to be speech.
const WindowSpeechFrames = 3

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
	gap      int       // quiet before the voiced frames now going on in speech
	fresh    int       // voiced frames since that gap (0: none since speech began)
	since    int       // frames since speech ended
	segPow   float64   // power sum of the voiced frames of the segment
	segN     int       // voiced frames of the segment
	class    Class

	bgN, loudN, voicedN int     // frames of the window flagged background, loud, voiced
	powSum              float64 // sum of powers over the window

	bgTilt        float64 // the background's tilt (pitch.tilt), averaged over its frames
	bgTilted      bool    // bgTilt has been sampled
	lastTone      bool    // the previous frame was a tone
	lastL, lastL2 float64 // the levels of the previous frame and the one before
	sinceVoiced   int     // Result.SinceVoiced
	spreads       ring    // the spread of the levels over SteadyMs, every spreadEvery frames over FloorMs
	bgSpread      float64 // the least of spreads

	tones toneHistory
	pcm   []int16 // the frame being classified, during Frame
	mean  float64 // its mean
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
		spreads:     newRing((frames(o.FloorMs) + spreadEvery - 1) / spreadEvery),
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
	d.gap, d.fresh = 0, 0
	d.segPow, d.segN = 0, 0
	d.bgN, d.loudN, d.voicedN, d.powSum = 0, 0, 0, 0
	d.bgTilt, d.bgTilted, d.lastTone, d.sinceVoiced, d.lastL, d.lastL2 = 0, false, false, 0, MinDB, MinDB
	d.spreads.reset()
	d.tones.ok = false
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
	d.pcm, d.mean = pcm, mean
	r := d.step(l, audio)
	d.tones.keep(pcm)
	d.pcm = nil
	return r
}

// ComfortNoise takes an RFC 3389 comfort-noise packet in place of the next
// frame: levelDBov is the packet's first byte, the noise level in -dBov
// (0..127; 0 dBov is full scale, like 0 dBFS). The level becomes the floor;
// the frame is never voiced, so it continues silence (or noise, if the
// level is at least Options.NoiseDB) and counts toward the hangover of
// speech.
func (d *Detector) ComfortNoise(levelDBov uint8) Result {
	d.pitch.gap(media.FrameSamples)
	d.tones.ok = false
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
	d.tones.ok = false
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

	// The background's own spread: the least spread over SteadyMs seen
	// within FloorMs, sampled every spreadEvery frames.
	if in != lost && d.levels.full() && d.n%spreadEvery == 0 {
		d.spreads.push(hi - lo)
		d.bgSpread, _ = d.spreads.minMax()
	}
	enter, exit, swing := d.margins()

	// The margin above the floor: enter to begin a run of voiced frames
	// outside speech, exit to go on with it, or with speech.
	above := d.floor + exit
	if !d.speech && d.cur.n == 0 {
		above = d.floor + enter
	}
	periodicity, tone := 0.0, false
	if in == audio && !steady && l > d.o.MinLevelDB && l > above {
		d.pitch.emphasis = d.bgTilt >= emphasisTilt
		periodicity = d.pitch.periodicity()
		// A tone, on the first frames of a run outside speech, in the
		// hangover or on the first frames of voice after it: it starts no
		// speech and draws none out. (A tone breaks a run, so every frame
		// of one is the first of a run.) A tone holds its level: only a
		// frame within toneStepDB of one of the two before is looked at
		// (two tones 25 Hz apart beat every other frame).
		if periodicity >= d.o.MinPeriodicity && min(math.Abs(l-d.lastL), math.Abs(l-d.lastL2)) <= toneStepDB &&
			(!d.speech && d.cur.n < d.onsetFrames || d.speech && (d.quiet > 0 || d.fresh > 0 && d.fresh <= d.onsetFrames)) {
			tone = d.tones.tonality(d.pcm, d.mean) >= toneShare
		}
	}
	voiced := periodicity > 0 && periodicity >= d.o.MinPeriodicity && !tone
	pow := power(l)
	// The background's tilt, from every bgTiltEvery-th frame near the
	// floor.
	if in == audio && d.n%bgTiltEvery == 0 && !voiced && !d.speech && l <= d.floor+exit && len(d.pcm) >= 2 {
		t := d.pitch.tilt(len(d.pcm) / 2)
		if !d.bgTilted {
			d.bgTilt, d.bgTilted = t, true
		}
		d.bgTilt += (t - d.bgTilt) / bgTiltFrames
	}

	start, end := false, false
	if !d.speech {
		start = d.onset(voiced, l, pow, lo, swing)
	} else {
		switch {
		case voiced && d.lastTone:
			// The frame in which a tone stops holds less of it than a
			// tone's: its end, not voice.
			d.quiet++
		case voiced:
			if d.quiet > 0 {
				// Voice again after a gap: the first frames of a tone
				// pressed in the hangover may pass for it, until the tone
				// shows.
				d.gap, d.fresh = d.quiet, 0
			}
			d.fresh++
			d.quiet = 0
			d.segPow += pow
			d.segN++
		case tone && d.fresh > 0 && d.fresh <= d.onsetFrames:
			// They did: the hangover goes on as if they had been tone.
			d.quiet = d.gap + d.fresh + 1
			d.fresh = 0
		default:
			d.quiet++
		}
		// A steady noise is not speech: end at once, without hangover.
		if noise || d.quiet >= d.hangFrames {
			end = true
			d.speech = false
		}
	}
	d.lastTone, d.lastL, d.lastL2 = tone, l, d.lastL
	if d.speech {
		d.since = 0
		d.sinceVoiced = d.quiet
	} else {
		d.since++
		d.sinceVoiced = min(d.sinceVoiced+1, math.MaxInt32)
	}

	// The window: frames outside speech (and which of them were loud),
	// voiced frames, and powers.
	flags := 0
	if !d.speech {
		flags |= windowBackground
		if in != lost && held >= d.o.NoiseDB {
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
		Tone:        tone,
		Steady:      steady,
		Changed:     d.class != prev,
		SpeechStart: start,
		SpeechEnd:   end,
		SinceVoiced: d.sinceVoiced,
		Frame:       d.n,
	}
	d.n++
	return r
}

// segmentDB returns the level of the current or last speech segment.
func (d *Detector) segmentDB() float64 {
	if d.segN == 0 {
		return MinDB
	}
	return db(d.segPow / float64(d.segN))
}
