package callback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/media/amd"
	"github.com/kefu-hotline/kefu/prompts"
)

// Board is the agents' board as the scheduler uses it: flows/agents.Board
// (with kefu run's offer counting around it).
type Board interface {
	// Wait delivers the offers for a callback's ticket.
	Wait(t *queue.Ticket) <-chan agents.Offer
	// Answered, Missed, Released and Ended report what became of an
	// offer and of the agent's call, as for a caller's.
	Answered(o agents.Offer, agentID string) bool
	Missed(o agents.Offer, agentID string, why agents.Miss)
	Released(o agents.Offer, agentID string)
	Ended(agentID string)
	// Serving is how many agents can take the queue's callers now.
	Serving(queue string) int
	// Subscribe signals every change of the board.
	Subscribe() (<-chan struct{}, func())
}

// Phone places the calls of callbacks: package sip implements it on the
// agent's SIP stack and the configured trunks.
type Phone interface {
	// Up reports whether the trunk takes calls now: configured, and
	// registered if it registers.
	Up(trunk string) bool
	// Ring rings the offered agents' phones for a callback (they show
	// that it is a callback and the customer's number, masked) until one
	// answers or Timeout passes. It returns the answered agent, if any,
	// and how each phone answered; an error only when ctx ended.
	Ring(ctx context.Context, r Ring) (Agent, []Rang, error)
}

// Ring is a callback offered to agents.
type Ring struct {
	CallbackID int64
	Queue      string
	// Number is the customer's number; phones and logs show it masked.
	Number  string
	Agents  []agents.Target
	Timeout time.Duration
	// Display is what the phones show; default 回电 and the queue.
	Display string
}

// Rang is how one agent's phone answered a Ring.
type Rang struct {
	ID     string
	Result Result
}

// Agent is the call to the agent who took a callback. The scheduler's
// goroutine for the callback owns it.
type Agent interface {
	// ID is the agent's id.
	ID() string
	// Say plays prompts to the agent; it returns early with an error
	// when the agent hangs up or ctx ends.
	Say(ctx context.Context, ps ...*prompts.Prompt) error
	// Dial calls the customer through the trunk while the agent hears
	// the ringing tone, up to Timeout. Answered comes with the
	// customer's call; AgentGone when the agent hung up meanwhile (the
	// customer's call is cancelled).
	Dial(ctx context.Context, d Dial) (Customer, Result, error)
	// Hangup ends the agent's call, once.
	Hangup()
}

// Dial is the customer's number through a trunk.
type Dial struct {
	Trunk   string
	Number  string
	Timeout time.Duration
}

// Customer is the customer's call, answered.
type Customer interface {
	// Listen hears the customer's side from the answer on, before
	// anything is said to them, until the answering-machine detector
	// decides (a person or a machine); the agent goes on hearing the
	// ringing tone meanwhile. ErrCustomerGone or ErrAgentGone when one of
	// them hangs up first.
	Listen(ctx context.Context, o amd.Options) (amd.Decision, error)
	// Say plays prompts to the customer (the agent hears them too); it
	// returns ErrCustomerGone when the customer hangs up meanwhile.
	Say(ctx context.Context, ps ...*prompts.Prompt) error
	// Bridge lets the customer and the agent talk until one of them
	// hangs up, then hangs up the other; it returns who hung up first.
	Bridge(ctx context.Context) (Party, error)
	// Hangup ends the customer's call, once.
	Hangup()
}

// Party names one side of a callback.
type Party string

// The sides of a callback.
const (
	PartyAgent    Party = "agent"
	PartyCustomer Party = "customer"
)

// ErrCustomerGone: the customer hung up while something was said to
// them.
var ErrCustomerGone = errors.New("callback: the customer hung up")

// ErrAgentGone: the agent hung up while something was said to them.
var ErrAgentGone = errors.New("callback: the agent hung up")

// Result is how a phone answered: an agent's to a Ring, the customer's
// to a Dial.
type Result uint8

// The results of ringing a phone.
const (
	Answered  Result = iota + 1
	NoAnswer         // rang for the whole timeout
	Busy             // 486, 600
	Declined         // 603
	Failed           // unreachable, or any other refusal
	Cancelled        // another agent answered first, or ctx ended
	AgentGone        // Dial: the agent hung up while the customer's phone rang
	TrunkDown        // Dial: the trunk took no call
)

var resultNames = [...]string{"", "answered", "no_answer", "busy", "declined", "failed", "cancelled", "agent_gone", "trunk_down"}

// String names the result as logs and attempts spell it.
func (r Result) String() string {
	if r > 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// miss turns an agent's answer into the board's miss.
func miss(r Result) agents.Miss {
	switch r {
	case NoAnswer:
		return agents.NoAnswer
	case Busy:
		return agents.Busy
	case Declined:
		return agents.Declined
	}
	return agents.Failed
}
