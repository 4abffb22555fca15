package callback

import (
	"log/slog"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/amd"
	"github.com/kefu-hotline/kefu/prompts"
)

// Defaults of Config.
const (
	DefaultShortCall = 5 * time.Second
	DefaultPause     = time.Minute
	DefaultMaxQueued = 100
)

// Settings are how the callbacks of one kind (the queue they were left
// in) are made now.
type Settings struct {
	// Queue is the queue the callback waits in for an agent: its own, or
	// for a callback left outside any queue, the one configured for them.
	Queue string
	// Trunk is the trunk the customer is called through, MaxCalls its
	// limit of calls at once, Ring how long the customer's phone rings,
	// Prefix what is dialled before the number.
	Trunk    string
	MaxCalls int
	Ring     time.Duration
	Prefix   string
	// Attempts is how many counted attempts are made before the callback
	// is closed as no answer; Retry the delay after each.
	Attempts int
	Retry    time.Duration
	// AMD, when set, is the answering-machine detection run when the
	// customer answers: a machine is hung up on, the attempt counts with
	// result machine, and the agent hears PromptMachine and is free.
	AMD *amd.Options
}

// Config wires a Scheduler.
type Config struct {
	// Queues is kefu's queue manager (the same one across reloads).
	Queues *queue.Manager
	Board  Board
	Phone  Phone
	Book   records.AttemptBook
	// Settings says how callbacks of the kind (the queue they were left
	// in, "" for none) are made now; false: not now (no trunk, callbacks
	// off for the queue, service down). It is asked again after Poke.
	Settings func(kind string) (Settings, bool)
	// Prompts is the prompt catalog in force.
	Prompts func() *prompts.Catalog
	Logger  *slog.Logger
	// ShortCall: a customer who hangs up within this long of being put
	// through was not reached (a counted attempt). Default 5 s.
	ShortCall time.Duration
	// Pause is the delay after an attempt that does not count (the
	// agent hung up first, the trunk took no call). Default 1 min.
	Pause time.Duration
	// MaxQueued bounds the callbacks of one kind waiting in their queue
	// at once (the first in serve order; the rest follow as they go).
	// Default 100.
	MaxQueued int
	// OnAttempt, if set, is told every attempt's result (metrics).
	OnAttempt func(trunk, result string)
	// Claims, when several nodes share the book, has each callback made
	// by one node at a time (claims.go); Node names this one, Lease is a
	// claim's lease (default DefaultLease), and the book is read again
	// every Refresh (default 5 s) for the callbacks other nodes took in.
	// nil: this node makes them all.
	Claims  Claims
	Node    string
	Lease   time.Duration
	Refresh time.Duration
}
