package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// QueueDef declares one of kefu's own queues in the config.
type QueueDef struct {
	Name    string    `yaml:"name"`
	MaxWait *Duration `yaml:"max_wait"` // then the flow's on_timeout (a callback offer); unset: no limit
	Window  int       `yaml:"window"`   // recent answered waits in the estimate; default 20
	// Yields marks a lower-class queue (the nuisance queue, CS-NUISANCE):
	// never served while a customer queue has a caller.
	Yields bool `yaml:"yields"`
	// Strategy picks the free agent offered the next caller: longest_idle
	// (default), ring_all, round_robin or fewest_calls.
	Strategy string `yaml:"strategy"`
	// RingTimeout is how long an offer rings an agent before the next
	// one is tried (default 15s); WrapUp is the agent's time after a
	// call before the next offer (default 10s); MaxMissed offers missed
	// in a row pause the agent with reason "no answer" (default 3).
	RingTimeout *Duration `yaml:"ring_timeout"`
	WrapUp      *Duration `yaml:"wrap_up"`
	MaxMissed   int       `yaml:"max_missed"`
	// Callback says how the callbacks left in this queue are made
	// (callbackdef.go); default: through the first trunk, 3 attempts.
	Callback *CallbackRules `yaml:"callback"`
}

// Enqueue puts the caller in one of kefu's queues and holds them there
// (CS-HOLD-*): the true ask phrase (「正在为您转接,请您稍等,不要挂机」), music,
// the timed apologies, each followed by the caller's position and, once
// the queue has answered callers to estimate from, the expected wait. The
// call leaves the queue when it is taken (OnAnswer), when the queue's
// maximum wait passes (OnTimeout), or when the caller hangs up (counted
// abandoned); the resume phrase's thanks come first on every way off hold
// (CS-HOLD-RESUME). When nobody can take the queue's callers, a flow with
// OnUnstaffed goes there at once instead (CS-PROMISE).
type Enqueue struct {
	Queue    string     `yaml:"queue"`
	Priority int        `yaml:"priority"` // higher is served first; default 0
	Ask      string     `yaml:"ask"`      // default queue.connecting
	Music    string     `yaml:"music"`    // default music.hold
	Resume   string     `yaml:"resume"`   // default hold.resume
	Announce []Announce `yaml:"announce"` // default: hold.apology at 2m, then every 60s
	// Quiet turns off the position and wait read-out after announcements.
	Quiet     bool   `yaml:"quiet"`
	OnAnswer  string `yaml:"on_answer"`
	OnTimeout string `yaml:"on_timeout"`
	// OnUnstaffed is where a caller goes when no agent can take the
	// queue's callers (CS-PROMISE: the flow says so and offers a callback
	// or a message); unset, the caller waits all the same.
	OnUnstaffed string `yaml:"on_unstaffed"`
}

// Queues builds the queue manager for the config's queues.
func (c *Config) Queues() (*queue.Manager, error) { return queue.NewManager(c.QueueConfigs()) }

// QueueConfigs are the config's queues as the queue manager takes them
// (to build one, or to reconfigure the running one on a reload).
func (c *Config) QueueConfigs() []queue.Config {
	cfgs := make([]queue.Config, 0, len(c.QueueDefs))
	for _, q := range c.QueueDefs {
		cfgs = append(cfgs, queue.Config{Name: q.Name, MaxWait: q.MaxWait.or(0), Window: q.Window, Yields: q.Yields})
	}
	return cfgs
}

// releaseOffers gives back an offer that reached the caller too late (the
// caller left the queue before ringing anyone).
func (r *Runner) releaseOffers(offers <-chan agents.Offer) {
	select {
	case o, ok := <-offers:
		for _, a := range o.Agents {
			if ok {
				r.agents.Released(o, a.ID)
			}
		}
	default:
	}
	if o := r.offer; o != nil {
		r.offer = nil
		for _, a := range o.Agents {
			r.agents.Released(*o, a.ID)
		}
	}
}

// hold returns the hold the queue plays.
func (q *Enqueue) hold() *Hold {
	return &Hold{Ask: orStr(q.Ask, "queue.connecting"), Music: q.Music, Resume: q.Resume, Announce: q.Announce}
}

// errNoQueues: a flow uses queue, but the runner was given no manager.
var errNoQueues = errors.New("no queue manager")

func (q *Enqueue) run(ctx context.Context, r *Runner) (string, error) {
	if r.queues == nil {
		return "", errNoQueues
	}
	if q.OnUnstaffed != "" && !r.cfg.InService(r.clock.Now()) {
		r.note("queue", fmt.Sprintf("outside the service hours: no queue for %s", q.Queue))
		return q.OnUnstaffed, nil
	}
	if q.OnUnstaffed != "" && !r.queues.Staffed(q.Queue) {
		r.note("queue", fmt.Sprintf("nobody can take %s's callers now", q.Queue))
		return q.OnUnstaffed, nil
	}
	callID := r.info.CallID
	if callID == "" {
		callID = fmt.Sprintf("call-%p", r)
	}
	t, err := r.queues.Join(q.Queue, callID, q.Priority, r.clock.Now())
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", q.Queue, err)
	}
	r.vars[VarQueue] = q.Queue
	r.notePlace(t) // a callback left after the wait keeps this place (callbackplace.go)
	r.Result.Queue = q.Queue
	r.note("queue", fmt.Sprintf("joined %s at position %d, estimated wait %v", q.Queue, t.Position(), t.EstimatedWait()))
	var offers <-chan agents.Offer
	r.offersGone = false
	if r.agents != nil {
		offers = r.agents.Wait(t)
	}
	defer func() {
		// A hang-up (or any end) while still waiting: abandoned.
		if o := t.Leave(r.clock.Now(), queue.Abandoned); o == queue.Abandoned {
			r.note("queue", fmt.Sprintf("abandoned %s after %v", q.Queue, t.Waited(r.clock.Now())))
		}
		r.Result.QueueWait += t.Waited(r.clock.Now())
		r.releaseOffers(offers)
	}()
	h := q.hold()
	if _, err := r.play(ctx, orStr(h.Ask, "hold.ask")); err != nil {
		return "", err
	}
	end := 24 * time.Hour // no limit: the caller or an agent ends the wait
	if at, ok := t.Deadline(); ok {
		end = max(at.Sub(r.clock.Now()), 0)
	}
	var leg AgentLeg
	w := &holdWake{
		wake:   t.Changed,
		offers: offers,
		done: func(ctx context.Context) (bool, error) {
			if o := r.offer; o != nil {
				r.offer = nil
				l, err := r.ringOffer(ctx, *o)
				leg = l
				return l != nil, err
			}
			return t.Outcome() != queue.Waiting, nil
		},
	}
	if !q.Quiet {
		w.after = func(ctx context.Context) error { return r.sayPosition(ctx, t) }
	}
	taken, err := r.holdMusic(ctx, h, end, w)
	if err != nil {
		return "", err
	}
	if !taken {
		t.Leave(r.clock.Now(), queue.TimedOut)
		r.note("queue", fmt.Sprintf("max wait passed in %s after %v", q.Queue, t.Waited(r.clock.Now())))
		// The thanks come first on every way off hold (CS-HOLD-RESUME).
		if _, err := r.play(ctx, orStr(h.Resume, "hold.resume")); err != nil {
			return "", err
		}
		return q.OnTimeout, nil
	}
	r.note("queue", fmt.Sprintf("taken from %s after %v", q.Queue, t.Waited(r.clock.Now())))
	if leg != nil {
		to, err := r.pickUp(ctx, leg, q, t.Waited(r.clock.Now()))
		switch {
		case err != nil:
			return "", err
		case to != "":
			return r.agentTransfer(ctx, q, to)
		}
		return q.OnAnswer, nil
	}
	if _, err := r.play(ctx, orStr(h.Resume, "hold.resume")); err != nil {
		return "", err
	}
	return q.OnAnswer, nil
}

func (q *Enqueue) exits() []exit {
	out := []exit{{label: "taken", to: q.OnAnswer, field: "on_answer"}, {label: "max wait", to: q.OnTimeout, field: "on_timeout"}}
	if q.OnUnstaffed != "" {
		out = append(out, exit{label: "nobody to take it", to: q.OnUnstaffed, field: "on_unstaffed"})
	}
	return out
}

func (q *Enqueue) check(sc *stepCheck) {
	if !slices.ContainsFunc(sc.cfg.QueueDefs, func(d QueueDef) bool { return d.Name == q.Queue }) {
		sc.at("queue", "no queue named %q: declare it under queues: [{name: %s}]", q.Queue, orStr(q.Queue, "NAME"))
	}
}

func (q *Enqueue) checkPrompts(pc *promptCheck) {
	pc.checkHold(q.hold())
	if slices.ContainsFunc(pc.cfg.Agents, func(a AgentDef) bool {
		return slices.ContainsFunc(a.Queues, func(m Membership) bool { return m.Queue == q.Queue })
	}) {
		// Agents take this queue's callers: the whisper and the apology
		// after a long wait (CS-GREET-BUSY).
		for _, id := range []string{"whisper.queue", "whisper.waited", "whisper.just", "greet.busy"} {
			pc.need(pc.path, id)
		}
	}
	for _, id := range []string{"queue.position", "queue.wait", "unit.position", "unit.minute"} {
		pc.need(pc.path, id)
	}
	if _, err := pc.cat.Cardinal(99); err != nil {
		pc.at("", "positions and waits are read from the number recordings: %v", err)
	}
}

// lastSaid: every way off hold ends with the resume phrase; a caller
// nobody can take leaves before any is said, and the next step speaks.
func (q *Enqueue) lastSaid() string { return orStr(q.Resume, "hold.resume") }

func (q *Enqueue) label() string { return "queue" }

// sayPosition reads out the caller's place and estimated wait: 您前面还有
// N 位, 预计等待时间 M 分钟. The first caller in line has nobody ahead and
// hears the wait only.
func (r *Runner) sayPosition(ctx context.Context, t *queue.Ticket) error {
	pos := t.Position()
	if pos == 0 {
		return nil // taken meanwhile
	}
	if ahead := pos - 1; ahead > 0 {
		if err := r.sayCount(ctx, "queue.position", ahead, "unit.position"); err != nil {
			return err
		}
	}
	wait, real := t.Estimate()
	if !real {
		return nil // no answered caller yet: no figure to quote (CS-PROMISE)
	}
	return r.sayCount(ctx, "queue.wait", queue.SpokenMinutes(wait), "unit.minute")
}

// sayCount plays a lead prompt, a count and its unit: 两分钟, 一位 yí wèi,
// 一分钟 yì fēnzhōng (CS-SPEECH, prompts.Catalog.Count).
func (r *Runner) sayCount(ctx context.Context, lead string, n int, unit string) error {
	if _, err := r.play(ctx, lead); err != nil {
		return err
	}
	ps, err := r.cat.Count(n, unit)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := r.playPrompt(ctx, p.ID, p); err != nil {
			return err
		}
	}
	_, err = r.play(ctx, r.cat.Unit(n, unit))
	return err
}
