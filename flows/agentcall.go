package flows

import (
	"context"
	"errors"
	"time"

	"github.com/kefu-hotline/kefu/prompts"
)

// RingRequest offers the caller to agents' phones: kefu places a call to
// each target at once (one, or all free agents of a ring_all queue) with
// the caller's identity, and the first to answer takes the caller.
type RingRequest struct {
	Targets []RingTarget
	// Timeout is how long the phones ring before the offer is missed.
	Timeout time.Duration
	// Queue and Waited tell the agent's phone where the caller comes
	// from and how long they waited.
	Queue  string
	Waited time.Duration
}

// RingTarget is one agent's phone.
type RingTarget struct {
	ID, Name string
	// Contact is where the phone is reached: its registration, or a
	// fixed URI through the PBX.
	Contact string
}

// RingResult is how one agent's phone answered an offer.
type RingResult uint8

// The results of ringing an agent.
const (
	RingAnswered  RingResult = iota + 1
	RingNoAnswer             // rang for the whole timeout
	RingBusy                 // 486, 600: on another call
	RingDeclined             // 603: the agent turned it down
	RingFailed               // unreachable, or any other refusal
	RingCancelled            // another agent answered first, or the caller hung up
)

// String names the result for logs and records.
func (r RingResult) String() string {
	switch r {
	case RingAnswered:
		return "answered"
	case RingNoAnswer:
		return "no_answer"
	case RingBusy:
		return "busy"
	case RingDeclined:
		return "declined"
	case RingFailed:
		return "failed"
	case RingCancelled:
		return "cancelled"
	}
	return "unknown"
}

// RingOutcome is the result of ringing one target.
type RingOutcome struct {
	ID     string
	Result RingResult
}

// AgentLeg is the call to the agent who answered an offer. The flow owns
// it: it whispers to the agent, bridges the two, and hangs up the agent
// when the caller is gone.
type AgentLeg interface {
	// ID is the agent's id.
	ID() string
	// Whisper plays p to the agent only (the caller does not hear it).
	Whisper(ctx context.Context, p *prompts.Prompt) error
	// Bridge relays audio and keys both ways until either side hangs
	// up; the side a hold leaves alone hears music. When the agent hangs
	// up first it returns "" and the caller's call goes on; when the
	// agent transfers the caller (their phone's transfer key) it returns
	// the target, a queue or a destination (Config.AgentTransferTarget);
	// when the caller hangs up (ctx ends), the agent's leg gets BYE and
	// it returns ctx's cause.
	Bridge(ctx context.Context, music *prompts.Prompt) (transferTo string, err error)
	// Hangup ends the agent's call (BYE) without a bridge.
	Hangup()
}

// ErrNoAgentLegs: this Call cannot place calls to agents (a simulation
// without agents).
var ErrNoAgentLegs = errors.New("this call cannot ring agents")
