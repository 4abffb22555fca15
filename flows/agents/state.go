package agents

import (
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// State is an agent's state on the board.
type State uint8

// The states of an agent.
const (
	Offline   State = iota // signed out, or never signed in
	Available              // free: the next caller may be offered
	Ringing                // a caller is being offered: the phone rings
	OnCall                 // talking to a caller
	WrapUp                 // after a call, for the queue's wrap-up time
	Paused                 // signed in, taking no calls (with a reason)
)

var stateNames = [...]string{"offline", "available", "ringing", "on_call", "wrap_up", "paused"}

// String returns the state's name as the ops API and metrics spell it:
// offline, available, ringing, on_call, wrap_up, paused.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText writes the state's name, for JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name, for clients of /api/agents.
func (s *State) UnmarshalText(b []byte) error {
	for _, st := range States() {
		if st.String() == string(b) {
			*s = st
			return nil
		}
	}
	return fmt.Errorf("unknown agent state %q", b)
}

// States lists every state, for metrics that report each one.
func States() []State { return []State{Offline, Available, Ringing, OnCall, WrapUp, Paused} }

// Miss is why an offered agent did not take the call.
type Miss uint8

// The reasons an offer is missed.
const (
	NoAnswer Miss = iota + 1 // rang for the whole ring timeout
	Busy                     // the phone said busy (486, 600)
	Declined                 // the agent declined (603)
	Failed                   // unreachable: no response, 408, 480, 5xx, a transport error
)

var missNames = [...]string{"", "no_answer", "busy", "declined", "failed"}

// String returns the miss's name as logs and metrics spell it.
func (m Miss) String() string {
	if m > 0 && int(m) < len(missNames) {
		return missNames[m]
	}
	return fmt.Sprintf("miss(%d)", uint8(m))
}

// The reasons the board pauses an agent itself.
const (
	ReasonNoAnswer    = "no answer"   // MaxMissed offers missed in a row
	ReasonUnreachable = "unreachable" // the same, the last of them because the phone could not be reached
)

// Status is one agent as the ops API and the live board show them.
type Status struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State State  `json:"state"`
	// Reason is why the agent is paused.
	Reason string `json:"reason,omitempty"`
	// Contact is where offers go: the registered contact, else the
	// fixed one; empty when the agent cannot be reached.
	Contact    string       `json:"contact,omitempty"`
	Registered bool         `json:"registered"`
	Queues     []Membership `json:"queues"`
	// CallID and Queue are the caller being offered (Ringing) or talked
	// to (OnCall), and the queue they came from.
	CallID string `json:"call_id,omitempty"`
	Queue  string `json:"queue,omitempty"`
	// Since is when the agent entered State.
	Since time.Time `json:"since"`
	// CallsToday counts the calls the agent answered since midnight.
	CallsToday int `json:"calls_today"`
	// Missed counts the offers the agent missed in a row.
	Missed int `json:"missed"`
	// LastEnded is when the agent's last call ended; zero before any.
	LastEnded time.Time `json:"last_ended,omitzero"`
	// Then is the state the agent goes to when the call or offer in
	// progress ends, when it is not the usual wrap-up: offline (signed
	// out meanwhile) or paused.
	Then string `json:"then,omitempty"`
	// Removed: the agent is no longer configured and is gone once the
	// call in progress ends.
	Removed bool `json:"removed,omitempty"`
}

// Offer is a waiting caller offered to one agent, or to several at once
// (ring_all). It reaches the caller's goroutine through the channel of
// Board.Wait; that goroutine rings the agents and ends the offer for each
// of them with Answered, Missed or Released.
type Offer struct {
	Ticket *queue.Ticket
	Queue  string
	// Agents are the agents to ring: one, or every free agent of the best
	// level for ring_all.
	Agents []Target
	// RingTimeout is how long to ring before Missed(NoAnswer).
	RingTimeout time.Duration
	// Waited is the caller's time in the queue when offered (for the
	// agent's whisper and CS-GREET-BUSY).
	Waited time.Duration

	of *offer // the board's record of this offer
}

// Target is one agent of an offer and where to ring them.
type Target struct {
	ID, Name, Contact string
}
