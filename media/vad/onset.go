package vad

import "math"

// Onset and margins: when a run of voiced frames starts speech, and how far
// above the floor a frame must be to count.

// startSwing multiplies Options.SwingDB for a run of voiced frames that
// began while the floor was still capped at Options.StartFloorDB: 12.6 dB
// by default. A one-syllable word spoken from the first frame (两, 0.5 s)
// rises about 13 dB within itself; at 1.5 (13.5 dB) it was only confirmed
// by its fall, 360 ms late. The accuracy report is the same at both.
const startSwing = 1.4

// voicedRun is a run of consecutive voiced frames.
type voicedRun struct {
	n         int
	pow, peak float64 // power sum and highest level of its frames
	capped    bool    // it began while the floor was the capped start
	// last is the level above the floor (the power of the frame less the
	// floor's, in dBFS) of the newest frame; lo and hi bound those levels
	// of its inner frames, all but the first and the newest (the first
	// and the last frame of a tone or a hum hold only part of it).
	last, lo, hi float64
}

// add appends a voiced frame of level l, excess above the floor and power
// pow; capped says the floor is still the capped start.
func (r *voicedRun) add(l, excess, pow float64, capped bool) {
	switch r.n {
	case 0:
		r.peak, r.capped = l, capped
	case 1:
		r.lo, r.hi = math.Inf(1), math.Inf(-1)
	default:
		r.lo, r.hi = min(r.lo, r.last), max(r.hi, r.last)
	}
	r.n++
	r.pow += pow
	r.peak = max(r.peak, l)
	r.last = excess
}

// inner returns the spread of the levels of the inner frames, 0 with
// none; with last, of all its frames but the first.
func (r *voicedRun) inner(last bool) float64 {
	switch {
	case r.n < 3:
		return 0
	case last:
		return max(r.hi, r.last) - min(r.lo, r.last)
	}
	return r.hi - r.lo
}

// onset advances the runs of voiced frames while not in speech and reports
// whether speech starts on this frame. A run of onsetFrames voiced frames
// starts speech once it is confirmed: its loudest frame stands SwingDB
// above the quietest frame of the last SteadyMs. Speech rises out of a
// quieter background and falls back between syllables, so a run is
// confirmed by the quiet before it (the usual case, at once) or by the
// dip after it, within SteadyMs (a caller speaking from the first frame
// over a capped starting floor). A loud noise present from the first frame
// does neither. And its level moves (runSpreadDB): a voice's does within a
// syllable, that of hum, a buzz or a tone does not, however periodic.
func (d *Detector) onset(voiced bool, l, pow, lo, swing float64) bool {
	if voiced {
		d.cur.add(l, db(pow-power(d.floor)), pow, d.capped > 0)
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
	confirmed := func(r voicedRun, ended bool) bool {
		s := swing
		if r.capped {
			s = d.o.SwingDB * startSwing
		}
		return r.n >= d.onsetFrames && r.peak >= lo+s && (r.n < 3 || r.inner(ended) >= runSpreadDB)
	}
	var r voicedRun
	switch {
	case confirmed(d.cur, false):
		r, d.quiet = d.cur, 0
	case d.pendAge < min(d.levels.len(), d.hangFrames) && confirmed(d.pend, true):
		r, d.quiet = d.pend, d.pendAge
	default:
		if d.pendAge >= min(d.levels.len(), d.hangFrames) {
			d.pend, d.pendAge = voicedRun{}, 0
		}
		return false
	}
	d.speech = true
	d.gap, d.fresh = 0, 0
	d.segPow, d.segN = r.pow, r.n
	// The run's frames already in the window were speech, not background.
	d.claim(d.quiet-min(d.quiet, 1), r.n-1+min(d.quiet, 1))
	d.cur, d.pend, d.pendAge = voicedRun{}, voicedRun{}, 0
	return true
}

// runSpreadDB is the least spread of the levels of a run's inner frames
// (voicedRun.inner) for it to start speech. A voice rises and falls
// within a syllable; a tone, a DTMF key, mains hum or a buzz holds its
// level from its second frame to its last but one, within a dB even in
// noise.
const runSpreadDB = 1.5

// toneShare is the least share of a tone's power in its two peaks
// (toneHistory.tonality), and toneStepDB the largest change of level from
// the frame before of a frame looked at for a tone: a tone's frames but
// the first and the last hold their level within a dB, even in noise.
const (
	toneShare  = 0.975
	toneStepDB = 1.5
)

// Emphasis: over a background whose power lies low (tilt at least
// emphasisTilt: mains hum, rumble, brown noise), periodicity is measured
// on the pre-emphasised history (pitch.emphasise), where the voice's
// harmonics stand out of it; over white or pink noise or a crowd, whose
// power reaches higher, on the history as it is. bgTiltFrames is the time
// constant of the background's tilt, in frames.
const (
	emphasisTilt = 0.6
	bgTiltFrames = 8 // samples, each bgTiltEvery frames apart
	bgTiltEvery  = 2
)

// spreadEvery is how often, in frames, the spread of the levels is taken
// as a sample of the background's (Options.AdaptMargins).
const spreadEvery = 5

// Margins over a known background (Options.AdaptMargins): a steady
// background (white noise, a hiss) lets quieter speech be told from it
// than a fluctuating one (a crowd). Each margin is the background's spread
// plus an allowance, between a minimum and the option.
const (
	bgEnterDB = 2.0 // enter: spread + 2 dB, at least 3 dB
	minEnter  = 3.0
	bgExitDB  = 1.0 // exit: spread + 1 dB, at least 3 dB
	minExit   = 3.0
	bgSwingDB = 4.0 // swing: spread + 4 dB, at least 6 dB
	minSwing  = 6.0
)

// margins returns the margins above the floor to enter and to go on with
// a run of voiced frames, and the swing that confirms a run: the options,
// or less over a steady background.
func (d *Detector) margins() (enter, exit, swing float64) {
	enter, exit, swing = d.o.EnterDB, d.o.ExitDB, d.o.SwingDB
	if !d.o.AdaptMargins || d.spreads.count == 0 {
		return enter, exit, swing
	}
	bg := d.bgSpread
	clamp := func(v, lo, hi float64) float64 { return min(max(v, min(lo, hi)), hi) }
	return clamp(bg+bgEnterDB, minEnter, enter), clamp(bg+bgExitDB, minExit, exit), clamp(bg+bgSwingDB, minSwing, swing)
}
