// Package flows runs kefu's call flows: the ops-facing configuration model
// (strict YAML), its validation against the call-script rules, and the
// per-call Runner that executes one step at a time. It never touches SIP,
// RTP or sockets: a call is the Call interface, time is a Clock, so every
// flow runs in virtual time in tests.
package flows

import (
	"context"
	"errors"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// Call is what a flow can do with a live call. The sip package implements
// it; tests and `kefu simulate` use fakes.
type Call interface {
	// Play plays p to the caller at the call's current gain and returns when
	// the caller has heard all of it, or early with ctx's cause. The flow
	// stops a prompt by cancelling ctx; o says when it may (a key, the
	// caller's voice), for a Call that must know ahead (a simulation).
	Play(ctx context.Context, p *prompts.Prompt, o PlayOptions) error
	// Events delivers what the caller does. It is never closed; the call's
	// context ends instead.
	Events() <-chan Event
	// Hangup ends the call from our side (BYE).
	Hangup(ctx context.Context) error
	// StartLoop starts playing p in a loop from frame from, and returns at
	// once; the returned stop ends it and returns the frame it would have
	// played next, so that the music can go on from there after an
	// announcement.
	StartLoop(p *prompts.Prompt, from int) (stop func() int)
	// SetGain sets the prompt gain in dB for prompts started from now on
	// (CS-LOUDER).
	SetGain(db float64)
	// Record starts capturing what the caller says (a complaint) into
	// rel, a path relative to the data directory (records.RecordingPath).
	Record(rel string) (Recording, error)
	// Transfer hands the call to uri (REFER, else a bridged call that
	// rings the destination for up to ring while the caller hears the
	// ringing tone). On success the call is no longer the flow's;
	// ErrTransferFailed means it is still up and the flow goes on.
	Transfer(ctx context.Context, uri string, ring time.Duration) (TransferResult, error)
	// Ring offers the caller to agents' phones (RingRequest) while the
	// caller goes on hearing what plays (the queue's music). It returns
	// the leg of the first agent to answer, or nil when none did, with
	// one outcome per target; it ends early, cancelling the offer, when
	// ctx ends.
	Ring(ctx context.Context, req RingRequest) (AgentLeg, []RingOutcome, error)
}

// PlayOptions say what may stop a prompt before its end (barge-in).
type PlayOptions struct {
	// Keys: a key stops it, except the louder key (not an answer).
	Keys   bool
	Louder rune
	// Voice: the caller starting to speak stops it (CS-LISTEN).
	Voice bool
}

// Stops reports whether ev stops a prompt played with o.
func (o PlayOptions) Stops(ev Event) bool {
	switch ev.Kind {
	case Digit:
		return o.Keys && ev.Key != o.Louder
	case Onset, SpeechStart, WeakSpeech:
		return o.Voice
	}
	return false
}

// EventKind says what the caller did.
type EventKind uint8

// The caller events a flow reacts to.
const (
	SpeechStart EventKind = iota + 1 // the caller started speaking
	SpeechEnd                        // the caller stopped speaking
	Digit                            // the caller pressed a key
	WeakSpeech                       // the caller speaks, but too quietly (CS-WEAK)
	Noise                            // the line is loud with steady non-speech (CS-NOISY)
	// Onset: the caller began to speak (not yet judged weak or normal):
	// what stops a prompt the caller talks over.
	Onset
	// UtteranceEnd: the caller has finished (CS-LISTEN: 0.8 s without
	// speech; the pauses inside a sentence do not end it). Dur is how long
	// the utterance was.
	UtteranceEnd
	// Held: the caller's side put the call on hold (a re-INVITE
	// sendonly or inactive); Resumed: it took it off hold. While held the
	// caller is away, not silent: waits and ladders pause.
	Held
	Resumed
)

// String names the kind for logs and timelines.
func (k EventKind) String() string {
	switch k {
	case SpeechStart:
		return "speech_start"
	case SpeechEnd:
		return "speech_end"
	case Digit:
		return "digit"
	case WeakSpeech:
		return "weak_speech"
	case Noise:
		return "noise"
	case Onset:
		return "onset"
	case UtteranceEnd:
		return "utterance_end"
	case Held:
		return "held"
	case Resumed:
		return "resumed"
	default:
		return "unknown"
	}
}

// Event is one thing the caller did, with the levels behind it.
type Event struct {
	Kind    EventKind
	At      time.Time
	Key     rune          // for Digit
	Dur     time.Duration // for UtteranceEnd: how long the caller spoke
	LevelDB float64       // frame level in dBFS when the event fired
	FloorDB float64       // the tracked noise floor in dBFS
}

// Causes with which the sip layer cancels a call's context, so a flow (and
// the call record) can tell why it ended.
var (
	ErrCallerHangup = errors.New("caller hung up")
	ErrMediaTimeout = errors.New("media timeout")
	ErrShutdown     = errors.New("agent shutting down")
	// ErrLineFault is a call lost to the signalling path (our 200 OK
	// never acknowledged): like a media timeout, kefu cut it short.
	ErrLineFault = errors.New("line fault")
)

// Clock is the time a flow runs on: the wall clock in production, a virtual
// one in `kefu simulate`.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// WallClock is the real time.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (WallClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// PinnedClock is the wall clock shifted so that it read At when the
// process started: time runs normally from a chosen moment, so a live
// agent can be tested on a given holiday or hour.
type PinnedClock struct {
	At      time.Time
	Started time.Time
}

// Now returns At plus the time elapsed since Started.
func (c PinnedClock) Now() time.Time { return c.At.Add(time.Since(c.Started)) }

// After returns time.After(d).
func (c PinnedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
