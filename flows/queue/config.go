package queue

import (
	"errors"
	"fmt"
	"time"
)

// Defaults for the zero fields of a Config.
const (
	DefaultWindow          = 20               // answered waits in the moving average
	DefaultInitialEstimate = 60 * time.Second // per-place time before any caller was answered
	MaxWindow              = 10000            // largest Window accepted
)

// Config is one queue as ops configure it.
type Config struct {
	// Name identifies the queue in flows, agents and figures.
	Name string
	// MaxWait is how long a caller may wait before the flow offers a
	// callback or routes the call on (Ticket.Expired); 0 means no limit.
	MaxWait time.Duration
	// Window is how many recent answered waits the estimate uses; 0 means
	// DefaultWindow.
	Window int
	// InitialEstimate is the time one place in line is assumed to take
	// before any caller of this queue has been answered; 0 means
	// DefaultInitialEstimate.
	InitialEstimate time.Duration
	// Yields makes this a lower-class queue (the nuisance queue of
	// CS-NUISANCE): Manager.Next serves it only when no normal queue it
	// is asked about has a caller.
	Yields bool
}

// Errors of the Manager. Join and Next wrap them with the queue or call
// they are about.
var (
	ErrUnknownQueue  = errors.New("unknown queue")
	ErrAlreadyQueued = errors.New("call is already waiting in a queue")
	ErrNoCallID      = errors.New("call id is empty")
)

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Name == "":
		return c, errors.New("queue: a queue needs a name")
	case c.MaxWait < 0:
		return c, fmt.Errorf("queue %q: max wait %v is negative", c.Name, c.MaxWait)
	case c.Window < 0 || c.Window > MaxWindow:
		return c, fmt.Errorf("queue %q: window %d is not between 0 and %d", c.Name, c.Window, MaxWindow)
	case c.InitialEstimate < 0:
		return c, fmt.Errorf("queue %q: initial estimate %v is negative", c.Name, c.InitialEstimate)
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.InitialEstimate == 0 {
		c.InitialEstimate = DefaultInitialEstimate
	}
	return c, nil
}
