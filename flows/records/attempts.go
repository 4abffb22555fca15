package records

import (
	"context"
	"time"
)

// Attempt is one call kefu placed to make a callback (issue 13): the
// agent who took it, the trunk, and how it ended.
type Attempt struct {
	ID         int64
	CallbackID int64
	// Round is the callback's round of attempts: ops' re-queue starts a
	// new one, with the full number of attempts.
	Round   int
	Started time.Time
	// Ended is zero while the attempt runs, and for one that kefu's stop
	// cut off until the next start marks it AttemptInterrupted.
	Ended time.Time
	Agent string
	Trunk string
	// Result is how the attempt ended: one of the Attempt* results.
	Result string
	// Counts: the attempt counts against the queue's limit (the customer
	// was not reached); the agent hanging up first or kefu stopping do
	// not count.
	Counts bool
	// Talk is the time the customer and the agent were bridged.
	Talk time.Duration
}

// The results of an attempt.
const (
	AttemptAnswered    = "answered"    // the customer answered and talked to the agent: done
	AttemptNoAnswer    = "no_answer"   // the customer's phone rang out
	AttemptBusy        = "busy"        // 486, 600
	AttemptDeclined    = "declined"    // 603
	AttemptFailed      = "failed"      // unreachable, refused, any other failure
	AttemptHungUp      = "hung_up"     // the customer hung up at once
	AttemptMachine     = "machine"     // an answering machine took the call
	AttemptAgentGone   = "agent_gone"  // the agent hung up before the customer answered
	AttemptTrunkDown   = "trunk_down"  // the trunk took no call
	AttemptInterrupted = "interrupted" // kefu stopped during the attempt
)

// Pending is an open callback with the state of its attempts, as the
// callback scheduler takes it up.
type Pending struct {
	Callback
	Round int
	// Attempts counts the attempts of the round that count.
	Attempts int
	// NotBefore is when the next attempt may be made; zero: now.
	NotBefore time.Time
}

// AttemptBook is where the callback scheduler keeps its work: the open
// callbacks, each attempt, and how each callback ended. flows/store
// implements it on SQLite.
type AttemptBook interface {
	// Pending lists the open callbacks, oldest first.
	Pending(ctx context.Context) ([]Pending, error)
	// PendingOne returns callback id if it is open, else ErrNotFound.
	PendingOne(ctx context.Context, id int64) (Pending, error)
	// StartAttempt stores a new attempt (Ended zero) and returns it with
	// its ID.
	StartAttempt(ctx context.Context, a Attempt) (Attempt, error)
	// EndAttempt stores how attempt a ended (Ended, Result, Counts,
	// Talk) and when its callback may be tried next (zero: at once).
	EndAttempt(ctx context.Context, a Attempt, notBefore time.Time) error
	// CloseCallback closes callback id with an outcome at at; a closed
	// callback stays as it is (ErrNotFound when there is none).
	CloseCallback(ctx context.Context, id int64, outcome string, at time.Time) error
	// InterruptAttempts marks the attempts a stop cut off (Ended zero)
	// as AttemptInterrupted, ended at at; it returns how many.
	InterruptAttempts(ctx context.Context, at time.Time) (int, error)
	// Reopen opens callback id again for a new round of attempts, to be
	// made at once (ops' re-queue); ErrNotFound when there is none.
	Reopen(ctx context.Context, id int64) error
	// Attempts lists callback id's attempts, oldest first.
	Attempts(ctx context.Context, id int64) ([]Attempt, error)
}
