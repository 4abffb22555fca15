// Package vad is kefu's line-condition detector: it listens to the caller's
// decoded audio, one 20 ms frame at a time, and says whether the caller is
// speaking. It reads no clock: time is the number of frames it has been fed,
// so a call's receive goroutine (or a test) drives it directly.
//
// # How it decides
//
// Each frame's level is its RMS in dBFS with the frame's mean removed, where
// 0 dBFS is the RMS of a full-scale square wave (the convention of sox and of
// prompts.SpeechLevel; a full-scale sine is -3 dBFS). Digital silence reads
// MinDB.
//
// A noise floor follows the background. It starts at the level of the first
// frame, but no higher than Options.StartFloorDB, so a hiss present from the
// first frame is background at once while a caller who speaks from the first
// frame is still heard. It falls as soon as the level has stayed lower for
// three frames (60 ms; a single lost or zeroed frame does not drag it down),
// and otherwise rises at most Options.FloorRiseDBPerSec.
//
// A frame is voiced when its level is above Options.MinLevelDB and more than a
// margin above the floor: Options.EnterDB while silent, the smaller
// Options.ExitDB while in speech (hysteresis). Speech starts on the
// Options.OnsetMs-th consecutive voiced frame and ends on the
// Options.HangoverMs-th consecutive unvoiced one.
//
// Speech is modulated: syllable to syllable its frame levels swing by 10 dB
// and more (no 300 ms of the embedded prompts stays within 9 dB). A signal
// that does not (hiss, hum, a tone, a fan, white noise) is steady: when the
// levels of the last Options.SteadyMs spread by no more than
// Options.SteadyRangeDB, the floor is raised to that signal, and if the
// signal stood above the floor (a new noise, not the quiet after speech) any
// speech in progress ends at once, without hangover. So a loud noise that
// starts abruptly reads as speech for at most SteadyMs-OnsetMs (220 ms with
// the defaults), then as silence.
//
// RFC 3389 comfort-noise packets go through ComfortNoise: each stands for
// one frame of background at the level it carries, which becomes the floor;
// it is never voiced.
//
// # Feeding it
//
// Call Frame with every decoded frame the caller sends, in order;
// ComfortNoise for a comfort-noise packet; and Lost for every 20 ms in which
// nothing arrived (a lost packet, or a phone that stopped sending), so speech
// still ends after the hangover when the RTP stops. Do not feed zero frames
// for lost packets: a burst of zeros of 60 ms or more lowers the floor below
// a hiss, and the hiss then reads as speech until the steady rule catches it.
// Frames of other lengths are measured whole but count as one frame, so
// split 40 ms packets into two calls.
//
// A Detector is not safe for concurrent use; it belongs to the goroutine that
// receives the call's audio. Frame, ComfortNoise and Lost allocate nothing.
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

// The classes. The zero value is Silence. Classes added later (weak speech,
// noise) are appended; use IsSpeech rather than comparing with Speech when
// the question is "did the caller say something".
const (
	// Silence: no speech. Digital silence, comfort noise, a steady
	// background (hiss, hum, steady noise), isolated clicks.
	Silence Class = iota
	// Speech: the caller is speaking.
	Speech
)

// String returns "silence" or "speech".
func (c Class) String() string {
	switch c {
	case Silence:
		return "silence"
	case Speech:
		return "speech"
	default:
		return fmt.Sprintf("Class(%d)", uint8(c))
	}
}

// IsSpeech reports whether c is a kind of speech: the caller is talking.
func (c Class) IsSpeech() bool { return c == Speech }

// MinDB is the level of digital silence, in dBFS: every level the detector
// reports is at least MinDB (16-bit PCM's own noise is about -101 dBFS).
const MinDB = -96.0

// Defaults of Options. The numbers are tuned on the embedded zh-CN prompts
// played through G.711 at -18 and -40 dBFS, and on synthetic noise; see
// DefaultOptions.
const (
	// DefaultMinLevelDB is the default absolute minimum level of a voiced
	// frame: quieter frames are never speech.
	DefaultMinLevelDB = -55.0
	// DefaultEnterDB is the default margin above the floor that makes a
	// frame voiced while the line is silent.
	DefaultEnterDB = 10.0
	// DefaultExitDB is the default margin above the floor that keeps a frame
	// voiced while the caller speaks.
	DefaultExitDB = 5.0
	// DefaultOnsetMs is the default run of voiced frames that starts speech
	// (4 frames).
	DefaultOnsetMs = 80
	// DefaultHangoverMs is the default run of unvoiced frames that ends
	// speech (20 frames).
	DefaultHangoverMs = 400
	// DefaultFloorRiseDBPerSec is the default fastest rise of the noise
	// floor outside the steady rule.
	DefaultFloorRiseDBPerSec = 3.0
	// DefaultSteadyMs is the default window over which the spread of frame
	// levels is measured (15 frames).
	DefaultSteadyMs = 300
	// DefaultSteadyRangeDB is the default largest spread (max - min of the
	// frame levels over SteadyMs) of a steady, non-speech signal.
	DefaultSteadyRangeDB = 6.0
	// DefaultStartFloorDB is the default highest level the floor starts at.
	DefaultStartFloorDB = -35.0
)

// Limits that Validate enforces on durations, in milliseconds.
const (
	maxOnsetMs    = 1000
	maxHangoverMs = 5000
	minSteadyMs   = 100
	maxSteadyMs   = 2000
)

// floorDownFrames is how many frames the level must stay below the floor
// before the floor falls to it.
const floorDownFrames = 3

// Options tune a Detector. Levels are in dBFS, margins and ranges in dB,
// durations in milliseconds, rounded up to whole 20 ms frames. The zero value
// is not valid: start from DefaultOptions.
type Options struct {
	// MinLevelDB is the absolute minimum level of a voiced frame, however
	// low the floor: it keeps digital-silence lines from calling the
	// faintest hiss speech. Speech at -40 dBFS still has most syllable
	// frames above the default.
	MinLevelDB float64
	// EnterDB is how far above the floor a frame must be to count as voiced
	// while the line is silent.
	EnterDB float64
	// ExitDB is how far above the floor a frame must be to count as voiced
	// while the caller speaks. It is at most EnterDB: the gap is the
	// hysteresis.
	ExitDB float64
	// OnsetMs is the run of consecutive voiced frames that starts speech.
	// Speech is reported on the last frame of the run, OnsetMs after the
	// first voiced frame began. Isolated clicks are shorter.
	OnsetMs int
	// HangoverMs is the run of consecutive unvoiced frames that ends speech,
	// so pauses between words do not.
	HangoverMs int
	// FloorRiseDBPerSec is how fast the floor may rise toward louder
	// audio. Slow, so speech does not become the floor.
	FloorRiseDBPerSec float64
	// SteadyMs is the window of the steadiness measure: the spread of the
	// frame levels over the last SteadyMs.
	SteadyMs int
	// SteadyRangeDB is the largest spread of a steady signal. Speech
	// spreads by far more than the default over any 300 ms.
	SteadyRangeDB float64
	// StartFloorDB caps the floor's starting point, the first frame's
	// level. A background up to about StartFloorDB-10 present from the
	// first frame is never speech; a louder one is treated like a noise that
	// starts abruptly; speech from the first frame is heard at once if it
	// is more than EnterDB above StartFloorDB.
	StartFloorDB float64
}

// DefaultOptions returns the default options: onset after 80 ms of voiced
// audio, 400 ms hangover, voiced at 10 dB above the floor (5 dB to stay in
// speech) and above -55 dBFS, steady signals recognised within 300 ms, a
// starting floor of at most -35 dBFS.
func DefaultOptions() Options {
	return Options{
		MinLevelDB:        DefaultMinLevelDB,
		EnterDB:           DefaultEnterDB,
		ExitDB:            DefaultExitDB,
		OnsetMs:           DefaultOnsetMs,
		HangoverMs:        DefaultHangoverMs,
		FloorRiseDBPerSec: DefaultFloorRiseDBPerSec,
		SteadyMs:          DefaultSteadyMs,
		SteadyRangeDB:     DefaultSteadyRangeDB,
		StartFloorDB:      DefaultStartFloorDB,
	}
}

// Validate reports every option that is out of range, or nil.
func (o Options) Validate() error {
	var errs []error
	bad := func(name string, v any, want string) {
		errs = append(errs, fmt.Errorf("vad: %s = %v: %s", name, v, want))
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !finite(o.MinLevelDB) || o.MinLevelDB < MinDB || o.MinLevelDB >= 0 {
		bad("MinLevelDB", o.MinLevelDB, fmt.Sprintf("want a level in [%g, 0) dBFS", MinDB))
	}
	if !finite(o.EnterDB) || o.EnterDB <= 0 || o.EnterDB > 60 {
		bad("EnterDB", o.EnterDB, "want a margin in (0, 60] dB")
	}
	if !finite(o.ExitDB) || o.ExitDB < 0 || o.ExitDB > o.EnterDB {
		bad("ExitDB", o.ExitDB, fmt.Sprintf("want a margin in [0, EnterDB=%v] dB", o.EnterDB))
	}
	if o.OnsetMs <= 0 || o.OnsetMs > maxOnsetMs {
		bad("OnsetMs", o.OnsetMs, fmt.Sprintf("want (0, %d] ms", maxOnsetMs))
	}
	if o.HangoverMs <= 0 || o.HangoverMs > maxHangoverMs {
		bad("HangoverMs", o.HangoverMs, fmt.Sprintf("want (0, %d] ms", maxHangoverMs))
	}
	if !finite(o.FloorRiseDBPerSec) || o.FloorRiseDBPerSec <= 0 || o.FloorRiseDBPerSec > 100 {
		bad("FloorRiseDBPerSec", o.FloorRiseDBPerSec, "want (0, 100] dB/s")
	}
	if o.SteadyMs < minSteadyMs || o.SteadyMs > maxSteadyMs {
		bad("SteadyMs", o.SteadyMs, fmt.Sprintf("want [%d, %d] ms", minSteadyMs, maxSteadyMs))
	} else if o.OnsetMs > 0 && o.SteadyMs < o.OnsetMs {
		bad("SteadyMs", o.SteadyMs, fmt.Sprintf("want at least OnsetMs=%d ms", o.OnsetMs))
	}
	if !finite(o.SteadyRangeDB) || o.SteadyRangeDB <= 0 || o.SteadyRangeDB > 30 {
		bad("SteadyRangeDB", o.SteadyRangeDB, "want (0, 30] dB")
	}
	if !finite(o.StartFloorDB) || o.StartFloorDB < MinDB || o.StartFloorDB >= 0 {
		bad("StartFloorDB", o.StartFloorDB, fmt.Sprintf("want a level in [%g, 0) dBFS", MinDB))
	}
	return errors.Join(errs...)
}

// frames returns the number of whole frames that cover ms milliseconds.
func frames(ms int) int {
	return media.Frames(time.Duration(ms) * time.Millisecond)
}
