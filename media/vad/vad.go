package vad

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/kefu-hotline/kefu/media"
)

// Class is what the detector hears on the line.
type Class uint8

// The classes. The zero value is Silence. Use IsSpeech rather than comparing
// with Speech when the question is "did the caller say something".
const (
	// Silence: no speech, and no loud noise. Digital silence, comfort
	// noise, a low steady background (hiss, hum), isolated clicks.
	Silence Class = iota
	// Speech: the caller is speaking at a normal level.
	Speech
	// WeakSpeech: the caller is speaking, but the level of the speech is
	// below Options.WeakDB: too quiet to be understood well (CS-WEAK).
	WeakSpeech
	// Noise: no speech, but the line is loud: at least Options.NoiseDB for
	// most of the window (CS-NOISY). White or pink noise, a fan, traffic,
	// a crowd where no one voice stands out.
	Noise
)

// String returns "silence", "speech", "weak speech" or "noise".
func (c Class) String() string {
	switch c {
	case Silence:
		return "silence"
	case Speech:
		return "speech"
	case WeakSpeech:
		return "weak speech"
	case Noise:
		return "noise"
	default:
		return fmt.Sprintf("Class(%d)", uint8(c))
	}
}

// IsSpeech reports whether c is a kind of speech (Speech or WeakSpeech): the
// caller is talking.
func (c Class) IsSpeech() bool { return c == Speech || c == WeakSpeech }

// MinDB is the level of digital silence, in dBFS: every level the detector
// reports is at least MinDB (16-bit PCM's own noise is about -101 dBFS).
const MinDB = -96.0

// Defaults of Options. The numbers are tuned on the fixtures of
// testdata/audio (speech, speech in noise, noise alone, through G.711) and
// checked on held-out cases made from the embedded prompts; each sits
// inside a range of values that keeps every accuracy bound of TestReport.
const (
	// DefaultMinLevelDB is the default absolute minimum level of a voiced
	// frame: quieter frames are never speech.
	DefaultMinLevelDB = -55.0
	// DefaultEnterDB is the default margin above the floor of the first
	// voiced frame of a run while the line is silent.
	DefaultEnterDB = 8.0
	// DefaultExitDB is the default margin above the floor of the other
	// voiced frames of a run, and of voiced frames while the caller speaks.
	DefaultExitDB = 5.0
	// DefaultMinPeriodicity is the default periodicity a frame needs to be
	// voiced.
	DefaultMinPeriodicity = 0.5
	// DefaultSwingDB is the default rise or fall around a run of voiced
	// frames that confirms it as speech.
	DefaultSwingDB = 9.0
	// DefaultOnsetMs is the default run of voiced frames that starts speech
	// (4 frames).
	DefaultOnsetMs = 80
	// DefaultHangoverMs is the default run of unvoiced frames that ends
	// speech (20 frames).
	DefaultHangoverMs = 400
	// DefaultFloorMs is the default span over which the noise floor is the
	// quietest sustained level (50 frames).
	DefaultFloorMs = 1000
	// DefaultSteadyMs is the default window over which the spread of frame
	// levels is measured (15 frames).
	DefaultSteadyMs = 300
	// DefaultSteadyRangeDB is the default largest spread (max - min of the
	// frame levels over SteadyMs) of a steady, non-speech signal.
	DefaultSteadyRangeDB = 4.0
	// DefaultStartFloorDB is the default highest level the floor starts at,
	// for the first SteadyMs of audio.
	DefaultStartFloorDB = -35.0
	// DefaultWindowMs is the default window of Result.Window (25 frames).
	DefaultWindowMs = 500
	// DefaultWeakDB is the default speech level below which speech is
	// weak: 15 dB under the -20 dBFS of a caller speaking normally into a
	// handset, 5 dB under the quietest normal speech of the fixtures.
	DefaultWeakDB = -35.0
	// DefaultNoiseDB is the default level at or above which a line without
	// speech is noisy: 25 dB under normal speech.
	DefaultNoiseDB = -45.0
)

// Limits that Validate enforces on durations, in milliseconds.
const (
	maxOnsetMs    = 1000
	maxHangoverMs = 5000
	minSteadyMs   = 100
	maxSteadyMs   = 2000
	maxWindowMs   = 5000
	maxFloorMs    = 5000
)

// frameMs is the frame duration in milliseconds.
const frameMs = int(media.FrameDur / time.Millisecond)

// floorDownFrames is how many frames a level must last to count toward the
// floor: the floor is the quietest level sustained that long.
const floorDownFrames = 3

// Options tune a Detector. Levels are in dBFS, margins and ranges in dB,
// durations in milliseconds, rounded up to whole 20 ms frames. The zero value
// is not valid: start from DefaultOptions.
type Options struct {
	// MinLevelDB is the absolute minimum level of a voiced frame, however
	// low the floor: it keeps digital-silence lines from calling the
	// faintest hiss speech. Speech at -50 dBFS still has most vowel frames
	// above the default.
	MinLevelDB float64
	// EnterDB is how far above the floor a frame must be to begin a run of
	// voiced frames while the line is silent (less over a steady
	// background, with AdaptMargins).
	EnterDB float64
	// ExitDB is how far above the floor a frame must be to go on with a
	// run of voiced frames, or to count as voiced while the caller speaks.
	// It is at most EnterDB: the gap is the hysteresis. AdaptMargins may
	// lower it too.
	ExitDB float64
	// MinPeriodicity is the periodicity (Result.Periodicity, 0..1) a frame
	// needs to be voiced: the vowels of speech have a pitch, noise does
	// not.
	MinPeriodicity float64
	// SwingDB is how far the loudest frame of a run of voiced frames must
	// stand above the quietest frame of the SteadyMs around it (before the
	// run, or just after it) for the run to start speech. Speech rises out
	// of the background and falls back between syllables by more than the
	// default; a crowd, whose voices fill each other's gaps, rarely does.
	// AdaptMargins may lower it over a steady background.
	SwingDB float64
	// OnsetMs is the run of consecutive voiced frames that starts speech,
	// once confirmed (SwingDB, and a level that moves within the run as a
	// voice's does and a tone's or hum's does not). Speech is reported on
	// the last frame of the run, OnsetMs after the first voiced frame
	// began or a frame or two later, or on the dip that confirms it.
	// Isolated clicks and blips are shorter.
	OnsetMs int
	// HangoverMs is the run of consecutive unvoiced frames that ends speech,
	// so pauses between words do not.
	HangoverMs int
	// FloorMs is the span of the floor: the floor is the quietest level
	// held for three frames within the last FloorMs. Longer follows a
	// rising noise more slowly; shorter lets long unbroken speech raise the
	// floor.
	FloorMs int
	// SteadyMs is the window of the steadiness measure: the spread of the
	// frame levels over the last SteadyMs.
	SteadyMs int
	// SteadyRangeDB is the largest spread of a steady signal. Speech
	// spreads by more than the default over any 300 ms, even a held vowel;
	// white and pink noise spread by about 2 to 3 dB over 20 ms frames.
	SteadyRangeDB float64
	// StartFloorDB caps the first frame's level as the floor knows it, for
	// the first SteadyMs of audio: speech from the first frame is heard
	// once it stands EnterDB above StartFloorDB and swings by 1.5 SwingDB;
	// then the floor is what the line has really held.
	StartFloorDB float64
	// WindowMs is the window of Result.Window, the class of the line over
	// the recent past.
	WindowMs int
	// WeakDB is the speech level below which speech is WeakSpeech. The
	// speech level is that of the voiced frames of the speech segment.
	WeakDB float64
	// NoiseDB is the level at or above which a line without speech is
	// Noise: when at least three quarters of the frames of the last
	// WindowMs that were not speech are at least NoiseDB.
	NoiseDB float64
	// AdaptMargins lowers EnterDB, ExitDB and SwingDB over a steady
	// background, to the background's spread (the least spread of the
	// frame levels over SteadyMs seen within FloorMs) plus 2, 1 and 4 dB,
	// but not below 3, 3 and 6 dB: speech at SNR 5 dB rises only 4 to 8
	// dB above a white or pink noise, whose levels spread by 2 dB. Over a
	// crowd, whose levels spread by more, the margins stay as set.
	AdaptMargins bool
}

// DefaultOptions returns the default options: onset after 80 ms of voiced
// audio swinging 9 dB, 400 ms hangover, voiced at 8 dB above the floor (5
// dB to go on), above -55 dBFS and with a periodicity of at least 0.5, the
// floor the quietest level of the last second, steady signals recognised
// within 300 ms, a starting floor of at most -35 dBFS, a 500 ms window,
// speech weak below -35 dBFS and a line without speech noisy from -45
// dBFS, the margins adapted to a steady background.
func DefaultOptions() Options {
	return Options{
		MinLevelDB:     DefaultMinLevelDB,
		EnterDB:        DefaultEnterDB,
		ExitDB:         DefaultExitDB,
		MinPeriodicity: DefaultMinPeriodicity,
		SwingDB:        DefaultSwingDB,
		OnsetMs:        DefaultOnsetMs,
		HangoverMs:     DefaultHangoverMs,
		FloorMs:        DefaultFloorMs,
		SteadyMs:       DefaultSteadyMs,
		SteadyRangeDB:  DefaultSteadyRangeDB,
		StartFloorDB:   DefaultStartFloorDB,
		WindowMs:       DefaultWindowMs,
		WeakDB:         DefaultWeakDB,
		NoiseDB:        DefaultNoiseDB,
		AdaptMargins:   true,
	}
}

// Validate reports every option that is out of range, or nil.
func (o Options) Validate() error {
	var errs []error
	bad := func(name string, v any, want string) {
		errs = append(errs, fmt.Errorf("vad: %s = %v: %s", name, v, want))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	level := func(name string, v float64) {
		if !finite(v) || v < MinDB || v >= 0 {
			bad(name, v, fmt.Sprintf("want a level in [%g, 0) dBFS", MinDB))
		}
	}
	span := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(name, v, fmt.Sprintf("want [%d, %d] ms", lo, hi))
		}
	}
	level("MinLevelDB", o.MinLevelDB)
	if !finite(o.EnterDB) || o.EnterDB <= 0 || o.EnterDB > 60 {
		bad("EnterDB", o.EnterDB, "want a margin in (0, 60] dB")
	}
	if !finite(o.ExitDB) || o.ExitDB < 0 || o.ExitDB > o.EnterDB {
		bad("ExitDB", o.ExitDB, fmt.Sprintf("want a margin in [0, EnterDB=%v] dB", o.EnterDB))
	}
	if !finite(o.MinPeriodicity) || o.MinPeriodicity < 0 || o.MinPeriodicity >= 1 {
		bad("MinPeriodicity", o.MinPeriodicity, "want [0, 1)")
	}
	if !finite(o.SwingDB) || o.SwingDB < 0 || o.SwingDB > 60 {
		bad("SwingDB", o.SwingDB, "want a rise in [0, 60] dB")
	}
	span("OnsetMs", o.OnsetMs, 1, maxOnsetMs)
	span("HangoverMs", o.HangoverMs, 1, maxHangoverMs)
	span("FloorMs", o.FloorMs, frameMs, maxFloorMs)
	if o.SteadyMs < minSteadyMs || o.SteadyMs > maxSteadyMs {
		bad("SteadyMs", o.SteadyMs, fmt.Sprintf("want [%d, %d] ms", minSteadyMs, maxSteadyMs))
	} else if o.OnsetMs > 0 && o.SteadyMs < o.OnsetMs {
		bad("SteadyMs", o.SteadyMs, fmt.Sprintf("want at least OnsetMs=%d ms", o.OnsetMs))
	}
	if !finite(o.SteadyRangeDB) || o.SteadyRangeDB <= 0 || o.SteadyRangeDB > 30 {
		bad("SteadyRangeDB", o.SteadyRangeDB, "want (0, 30] dB")
	}
	level("StartFloorDB", o.StartFloorDB)
	span("WindowMs", o.WindowMs, frameMs, maxWindowMs)
	level("WeakDB", o.WeakDB)
	level("NoiseDB", o.NoiseDB)
	return errors.Join(errs...)
}

// frames returns the number of whole frames that cover ms milliseconds.
func frames(ms int) int {
	return media.Frames(time.Duration(ms) * time.Millisecond)
}
