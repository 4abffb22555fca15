package agents

import (
	"errors"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/queue"
)

// Strategy is how a queue chooses among its free agents of the best level.
type Strategy string

// The strategies of a queue.
const (
	// LongestIdle offers the caller to the free agent idle the longest:
	// since their last call ended, or since they signed in if later.
	LongestIdle Strategy = "longest_idle"
	// RingAll offers the caller to every free agent of the level at once;
	// the first to answer takes the call.
	RingAll Strategy = "ring_all"
	// RoundRobin offers to the free agents in turn, in configured order,
	// starting after the one the queue offered last.
	RoundRobin Strategy = "round_robin"
	// FewestCalls offers to the free agent who answered the fewest calls
	// today, the longest idle among equals.
	FewestCalls Strategy = "fewest_calls"
)

// Defaults for the zero fields of Rules.
const (
	DefaultStrategy    = LongestIdle
	DefaultRingTimeout = 15 * time.Second
	DefaultWrapUp      = 10 * time.Second
	DefaultMaxMissed   = 3
)

// Membership is one queue an agent works in. Level is the agent's tier in
// that queue: level-1 agents are offered its callers first, level-2 agents
// only when no level-1 agent of the queue is free, and so on; 0 means 1.
type Membership struct {
	Queue string `json:"queue"`
	Level int    `json:"level"`
}

// Agent is one agent as ops configure them.
type Agent struct {
	// ID is the agent's number (工号), digits only; their phone registers
	// with it as the user.
	ID string
	// Name is shown to ops and on the board.
	Name string
	// Queues are the queues the agent takes callers from.
	Queues []Membership
	// Contact, when set, is a fixed SIP URI reached through the PBX: such
	// an agent needs no registration and starts Available.
	Contact string
}

// Rules are a queue's distribution settings; the zero values mean the
// defaults. A queue agents work in without Rules gets all the defaults.
type Rules struct {
	Queue    string
	Strategy Strategy // DefaultStrategy when empty
	// RingTimeout is how long an offered agent's phone rings before the
	// offer counts as missed (DefaultRingTimeout when 0).
	RingTimeout time.Duration
	// WrapUp is the agent's time after a call before the next offer
	// (DefaultWrapUp when 0; negative: none).
	WrapUp time.Duration
	// MaxMissed offers missed in a row pause the agent with reason
	// "no answer" (DefaultMaxMissed when 0; negative: never).
	MaxMissed int
}

// withDefaults validates r and fills its zero fields.
func (r Rules) withDefaults() (Rules, error) {
	switch r.Strategy {
	case "":
		r.Strategy = DefaultStrategy
	case LongestIdle, RingAll, RoundRobin, FewestCalls:
	default:
		return r, fmt.Errorf("queue %q: unknown strategy %q (longest_idle, ring_all, round_robin or fewest_calls)", r.Queue, r.Strategy)
	}
	if r.RingTimeout < 0 {
		return r, fmt.Errorf("queue %q: ring timeout %v is negative", r.Queue, r.RingTimeout)
	}
	if r.RingTimeout == 0 {
		r.RingTimeout = DefaultRingTimeout
	}
	switch {
	case r.WrapUp == 0:
		r.WrapUp = DefaultWrapUp
	case r.WrapUp < 0:
		r.WrapUp = 0
	}
	if r.MaxMissed == 0 {
		r.MaxMissed = DefaultMaxMissed
	}
	return r, nil
}

// Errors of the Board. Its methods wrap them with the agent they are
// about; validation wraps queue.ErrUnknownQueue for a queue that is not
// configured.
var (
	ErrUnknownAgent = errors.New("unknown agent")
	ErrNoContact    = errors.New("agent has no contact: not registered and no fixed contact")
	ErrInvalid      = errors.New("invalid agents configuration")
)

// config is a checked configuration: the agents with their levels filled
// in, and the rules of every queue agents work in or that has rules.
type config struct {
	agents []Agent
	rules  map[string]Rules
	order  []string // the queues agents work in, first use first
}

// check validates agents and rules against the queues of qm; it reports
// every problem it finds, each wrapping ErrInvalid (or
// queue.ErrUnknownQueue).
func check(qm *queue.Manager, agents []Agent, rules []Rules) (config, error) {
	var errs []error
	bad := func(err error, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err))
	}
	c := config{rules: make(map[string]Rules, len(rules))}
	if qm == nil {
		return c, fmt.Errorf("agents: no queue manager: %w", ErrInvalid)
	}
	for _, r := range rules {
		switch r, err := r.withDefaults(); {
		case err != nil:
			bad(ErrInvalid, "%v", err)
		case !qm.Has(r.Queue):
			bad(queue.ErrUnknownQueue, "rules for queue %q", r.Queue)
		default:
			if _, dup := c.rules[r.Queue]; dup {
				bad(ErrInvalid, "queue %q has rules twice", r.Queue)
			}
			c.rules[r.Queue] = r
		}
	}
	ids := make(map[string]bool, len(agents))
	used := map[string]bool{}
	for i, a := range agents {
		switch {
		case a.ID == "":
			bad(ErrInvalid, "agent %d has no id", i+1)
			continue
		case !digits(a.ID):
			bad(ErrInvalid, "agent id %q is not all digits", a.ID)
		case ids[a.ID]:
			bad(ErrInvalid, "agent id %q is given twice", a.ID)
		}
		ids[a.ID] = true
		ms := make([]Membership, 0, len(a.Queues))
		seen := map[string]bool{}
		for _, m := range a.Queues {
			switch {
			case m.Level < 0:
				bad(ErrInvalid, "agent %s: queue %q: level %d is negative", a.ID, m.Queue, m.Level)
			case !qm.Has(m.Queue):
				bad(queue.ErrUnknownQueue, "agent %s: queue %q", a.ID, m.Queue)
			case seen[m.Queue]:
				bad(ErrInvalid, "agent %s: queue %q is listed twice", a.ID, m.Queue)
			}
			seen[m.Queue] = true
			ms = append(ms, Membership{Queue: m.Queue, Level: max(m.Level, 1)})
			if !used[m.Queue] {
				used[m.Queue] = true
				c.order = append(c.order, m.Queue)
			}
		}
		a.Queues = ms
		c.agents = append(c.agents, a)
	}
	if err := errors.Join(errs...); err != nil {
		return config{}, fmt.Errorf("agents: %w", err)
	}
	for _, q := range c.order {
		if _, ok := c.rules[q]; !ok {
			c.rules[q], _ = Rules{Queue: q}.withDefaults()
		}
	}
	return c, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
