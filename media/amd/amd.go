// Package amd tells a person from an answering machine (a voicemail
// greeting) in the first seconds of a call kefu placed: a callback or a
// follow-up. It listens to what the answering side sends, one 20 ms
// frame at a time, through the line-condition detector of media/vad, and
// reads no clock: time is the number of frames it has been fed.
//
// A person who picks up says a short greeting (喂 / 您好 / hello, within
// about 1.5–2 s) and then waits for the caller to speak; a voicemail
// greeting is long continuous speech (3 s and more) and usually ends in
// a beep, a pure tone of 0.3–1 s; a person who says nothing is waiting
// too. So, from the answer on:
//
//   - a pure tone of at least Options.Beep (a beep) is a machine;
//   - speech that goes on longer than Options.LongGreeting, the pauses
//     shorter than Options.EndSilence within it bridged, is a machine;
//   - a greeting of at most Options.Greeting followed by EndSilence
//     without speech (CS-LISTEN's end of an utterance) is a person; one
//     between Greeting and LongGreeting is a person when no beep follows
//     within Options.BeepWait more;
//   - no speech for Options.Silence is a person waiting;
//   - a key the far end presses (RFC 4733, or in band) is a person;
//   - undecided after Options.MaxListen: a person (kefu does not hang up
//     on a customer it cannot judge).
//
// A person's greeting longer than LongGreeting (「喂你好我在开车不方便等一下
// 啊」) is taken for a machine; a machine whose first sentence is short
// and followed by a pause longer than EndSilence is taken for a person.
// Both are rare; the defaults lean toward a person, since a customer hung
// up on is worse than an agent who hears a voicemail for a moment.
package amd

import (
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/media/dtmf"
	"github.com/kefu-hotline/kefu/media/vad"
)

// Defaults of Options: the figures above.
const (
	DefaultSilence      = 3500 * time.Millisecond
	DefaultGreeting     = 2 * time.Second
	DefaultLongGreeting = 2500 * time.Millisecond
	DefaultEndSilence   = 800 * time.Millisecond
	DefaultBeepWait     = time.Second
	DefaultBeep         = 300 * time.Millisecond
	DefaultMaxListen    = 8 * time.Second
)

// Options tune a Detector; durations are rounded up to whole frames.
type Options struct {
	// Silence: no speech this long after the answer is a person waiting.
	Silence time.Duration
	// Greeting: a greeting at most this long, then EndSilence without
	// speech, is a person's.
	Greeting time.Duration
	// LongGreeting: speech going on longer than this is a machine's
	// greeting.
	LongGreeting time.Duration
	// EndSilence ends a greeting: a pause at least this long (CS-LISTEN:
	// 0.8 s); shorter pauses are within it.
	EndSilence time.Duration
	// BeepWait: after a greeting between Greeting and LongGreeting, how
	// much longer than EndSilence a beep is waited for.
	BeepWait time.Duration
	// Beep: a pure tone at least this long is a machine's beep.
	Beep time.Duration
	// MaxListen: undecided this long after the answer, it is a person.
	MaxListen time.Duration
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{Silence: DefaultSilence, Greeting: DefaultGreeting, LongGreeting: DefaultLongGreeting,
		EndSilence: DefaultEndSilence, BeepWait: DefaultBeepWait, Beep: DefaultBeep, MaxListen: DefaultMaxListen}
}

// Validate reports the first option out of range, or nil.
func (o Options) Validate() error {
	switch {
	case o.Silence < time.Second || o.Silence > 10*time.Second:
		return fmt.Errorf("amd: silence %v: between 1s and 10s", o.Silence)
	case o.Greeting < 500*time.Millisecond:
		return fmt.Errorf("amd: greeting %v: at least 500ms", o.Greeting)
	case o.LongGreeting < o.Greeting:
		return fmt.Errorf("amd: long greeting %v: at least the greeting's %v", o.LongGreeting, o.Greeting)
	case o.EndSilence < 300*time.Millisecond || o.EndSilence > 3*time.Second:
		return fmt.Errorf("amd: end silence %v: between 300ms and 3s", o.EndSilence)
	case o.BeepWait < 0 || o.BeepWait > 5*time.Second:
		return fmt.Errorf("amd: beep wait %v: between 0 and 5s", o.BeepWait)
	case o.Beep < 100*time.Millisecond || o.Beep > 2*time.Second:
		return fmt.Errorf("amd: beep %v: between 100ms and 2s", o.Beep)
	case o.MaxListen < o.Silence || o.MaxListen > 30*time.Second:
		return fmt.Errorf("amd: max listen %v: between the silence's %v and 30s", o.MaxListen, o.Silence)
	}
	return nil
}

// Verdict is who answered.
type Verdict uint8

// The verdicts.
const (
	Undecided Verdict = iota
	Human
	Machine
)

// String names the verdict as logs spell it.
func (v Verdict) String() string {
	switch v {
	case Human:
		return "human"
	case Machine:
		return "machine"
	}
	return "undecided"
}

// Why a verdict was reached.
const (
	ReasonShortGreeting = "short_greeting" // a greeting, then the end of the utterance
	ReasonGreetingPause = "greeting_pause" // a middling greeting, then no beep
	ReasonSilence       = "silence"        // nothing said: waiting for us
	ReasonKey           = "key"            // a key pressed
	ReasonMaxListen     = "max_listen"     // undecided at MaxListen
	ReasonLongGreeting  = "long_greeting"  // speech longer than LongGreeting
	ReasonBeep          = "beep"           // a pure tone
)

// Decision is a verdict and what it rests on.
type Decision struct {
	Verdict Verdict
	Reason  string
	// After is the time from the answer to the decision (frames fed).
	After time.Duration
	// Greeting is how long the speech heard lasted, first voiced frame
	// to last, short pauses included (0: none).
	Greeting time.Duration
}

// Detector decides one call. It is not safe for concurrent use: it
// belongs to the goroutine that receives the call's audio.
type Detector struct {
	o      Options
	vad    *vad.Detector
	keys   *dtmf.Detector
	onset  uint64 // frames of a voiced run before speech is reported
	frames struct {
		silence, greeting, long, end, wait, beep, max uint64
	}

	n          uint64 // frames fed
	inUtt      bool
	uttStart   uint64 // first voiced frame of the greeting
	lastVoiced uint64
	beep       beep
	done       Decision
}

// New returns a detector with o, checked.
func New(o Options) (*Detector, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	vo := vad.DefaultOptions()
	v, err := vad.New(vo)
	if err != nil {
		return nil, fmt.Errorf("amd: %w", err)
	}
	k, err := dtmf.New(dtmf.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("amd: %w", err)
	}
	d := &Detector{o: o, vad: v, keys: k, onset: uint64(media.Frames(time.Duration(vo.OnsetMs) * time.Millisecond))}
	f := &d.frames
	f.silence, f.greeting, f.long = frames(o.Silence), frames(o.Greeting), frames(o.LongGreeting)
	f.end, f.wait, f.beep, f.max = frames(o.EndSilence), frames(o.BeepWait), frames(o.Beep), frames(o.MaxListen)
	return d, nil
}

func frames(d time.Duration) uint64 { return uint64(media.Frames(d)) }

// Options returns the detector's options.
func (d *Detector) Options() Options { return d.o }

// Decision returns the decision reached, if any (Verdict Undecided
// until then).
func (d *Detector) Decision() Decision { return d.done }

// Frame takes one decoded 20 ms frame of what the far end sends and
// returns the decision, once reached (then true, and on every frame
// after).
func (d *Detector) Frame(pcm []int16) (Decision, bool) {
	if d.done.Verdict != Undecided {
		return d.done, true
	}
	_, key := d.keys.Frame(pcm)
	r := d.vad.Frame(pcm)
	d.n++
	if key {
		return d.decide(Human, ReasonKey), true
	}
	if d.beep.frame(pcm) >= d.frames.beep {
		return d.decide(Machine, ReasonBeep), true
	}
	return d.step(r)
}

// Lost takes a frame that did not arrive (a lost packet, a phone that
// sends nothing while nobody speaks).
func (d *Detector) Lost() (Decision, bool) {
	if d.done.Verdict != Undecided {
		return d.done, true
	}
	d.n++
	d.beep.lost()
	return d.step(d.vad.Lost())
}

// ComfortNoise takes an RFC 3389 comfort-noise packet (level in -dBov).
func (d *Detector) ComfortNoise(level uint8) (Decision, bool) {
	if d.done.Verdict != Undecided {
		return d.done, true
	}
	d.n++
	d.beep.lost()
	return d.step(d.vad.ComfortNoise(level))
}

// Key takes a key the far end pressed, sent out of band: a person.
func (d *Detector) Key() Decision {
	if d.done.Verdict == Undecided {
		d.decide(Human, ReasonKey)
	}
	return d.done
}

// Timeout is the decision when the frames stopped coming before one was
// reached (the wall clock passed MaxListen): a person.
func (d *Detector) Timeout() Decision {
	if d.done.Verdict == Undecided {
		d.decide(Human, ReasonMaxListen)
	}
	return d.done
}

// step applies the rules to the frame just measured (counted in d.n).
func (d *Detector) step(r vad.Result) (Decision, bool) {
	if r.SpeechStart && !d.inUtt {
		d.inUtt = true
		d.uttStart = r.Frame + 1 - min(d.onset, r.Frame+1)
		d.lastVoiced = r.Frame - min(uint64(r.SinceVoiced), r.Frame)
	}
	if d.inUtt && r.Class.IsSpeech() && r.Voiced {
		d.lastVoiced = r.Frame
	}
	f := &d.frames
	switch {
	case d.inUtt && d.greeting() > f.long:
		return d.decide(Machine, ReasonLongGreeting), true
	case d.beep.run >= toneHold:
		// A tone is playing: a beep or a key, whichever it turns out to be.
	case d.inUtt && !r.Class.IsSpeech():
		quiet := r.Frame - d.lastVoiced
		switch {
		case d.greeting() <= f.greeting && quiet >= f.end:
			return d.decide(Human, ReasonShortGreeting), true
		case quiet >= f.end+f.wait:
			return d.decide(Human, ReasonGreetingPause), true
		}
	case !d.inUtt && d.n >= f.silence:
		return d.decide(Human, ReasonSilence), true
	}
	if d.n >= f.max {
		return d.decide(Human, ReasonMaxListen), true
	}
	return Decision{}, false
}

// toneHold is the run of pure-tone frames from which a person is not
// decided on until it ends (it may be a beep).
const toneHold = 2

// greeting is the greeting's length so far, in frames.
func (d *Detector) greeting() uint64 {
	if !d.inUtt {
		return 0
	}
	return d.lastVoiced - d.uttStart + 1
}

func (d *Detector) decide(v Verdict, reason string) Decision {
	d.done = Decision{Verdict: v, Reason: reason, After: time.Duration(d.n) * media.FrameDur,
		Greeting: time.Duration(d.greeting()) * media.FrameDur}
	return d.done
}
