package flows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/calendar"
	"github.com/kefu-hotline/kefu/flows/queue"
)

// Distributor offers waiting callers to agents: flows/agents.Board. The
// queue verb waits for an offer, rings the offered agents, and reports
// how each answered.
type Distributor interface {
	// Wait delivers the offers for a waiting caller's ticket.
	Wait(t *queue.Ticket) <-chan agents.Offer
	// Answered: that agent took the caller; false when the caller left
	// the queue at that moment (then the agent's call is hung up).
	Answered(o agents.Offer, agentID string) bool
	// Missed: the agent did not take the offer.
	Missed(o agents.Offer, agentID string, why agents.Miss)
	// Released: the agent's phone stopped ringing because another
	// answered, or the caller left.
	Released(o agents.Offer, agentID string)
	// Ended: the agent's call with the caller is over.
	Ended(agentID string)
}

// VarAgent is the call variable naming the agent who took the caller.
const VarAgent = "agent"

// missOf turns a phone's answer into the distribution's miss.
func missOf(r RingResult) agents.Miss {
	switch r {
	case RingNoAnswer:
		return agents.NoAnswer
	case RingBusy:
		return agents.Busy
	case RingDeclined:
		return agents.Declined
	}
	return agents.Failed
}

// ringOffer rings the offered agents while the caller hears the queue's
// music, and reports each outcome to the distribution. It returns the leg
// of the agent who took the caller, or nil (the caller waits on).
func (r *Runner) ringOffer(ctx context.Context, o agents.Offer) (AgentLeg, error) {
	req := RingRequest{Timeout: o.RingTimeout, Queue: o.Queue, Waited: o.Waited}
	ids := make([]string, 0, len(o.Agents))
	for _, a := range o.Agents {
		req.Targets = append(req.Targets, RingTarget{ID: a.ID, Name: a.Name, Contact: a.Contact})
		ids = append(ids, a.ID)
	}
	r.note("offer", fmt.Sprintf("ringing agent %s for up to %v", strings.Join(ids, ", "), o.RingTimeout))
	rang := r.clock.Now()
	leg, outs, err := r.call.Ring(ctx, req)
	r.Result.RingTime += r.clock.Now().Sub(rang)
	for _, out := range outs {
		switch out.Result {
		case RingAnswered:
		case RingCancelled:
			r.agents.Released(o, out.ID)
		default:
			r.agents.Missed(o, out.ID, missOf(out.Result))
			r.note("offer", fmt.Sprintf("agent %s: %s", out.ID, out.Result))
		}
	}
	if leg == nil {
		return nil, err
	}
	if !r.agents.Answered(o, leg.ID()) {
		// The caller left the queue at the moment the agent answered.
		leg.Hangup()
		return nil, context.Cause(ctx)
	}
	r.note("offer", fmt.Sprintf("agent %s answered", leg.ID()))
	return leg, nil
}

// pickUp connects a caller taken by an agent: the agent hears the whisper
// (the queue and the wait) while the caller hears the thanks for waiting,
// or after a long wait the apology of CS-GREET-BUSY; then the two talk
// until one hangs up. It returns "" when the agent hung up (the flow goes
// on), the queue or destination the agent transferred the caller to, or
// the call's end.
func (r *Runner) pickUp(ctx context.Context, leg AgentLeg, q *Enqueue, waited time.Duration) (string, error) {
	defer r.agents.Ended(leg.ID())
	whispered := make(chan error, 1)
	go func() { whispered <- r.whisper(ctx, leg, q.Queue, waited) }()
	toCaller := orStr(q.Resume, "hold.resume")
	if waited >= r.cfg.BusyThreshold.or(calendar.DefaultBusyThreshold) {
		toCaller = "greet.busy"
	}
	_, err := r.play(ctx, toCaller)
	if werr := <-whispered; err == nil && werr != nil && ctx.Err() == nil {
		r.log.Warn("whisper to the agent", "agent", leg.ID(), "error", werr.Error())
	}
	if err != nil {
		leg.Hangup()
		return "", err
	}
	r.vars[VarAgent] = leg.ID()
	r.note("bridge", "agent "+leg.ID())
	music, err := r.music(orStr(q.Music, DefaultMusic))
	if err != nil {
		leg.Hangup()
		return "", err
	}
	start := r.clock.Now()
	r.Result.Agent = leg.ID()
	to, err := leg.Bridge(ctx, music)
	r.Result.TalkTime = r.clock.Now().Sub(start)
	switch {
	case err != nil:
		r.Result.AgentEndedBy = "caller"
		return "", err
	case to != "":
		r.Result.AgentEndedBy = "transfer"
	default:
		r.Result.AgentEndedBy = "agent"
	}
	talk := r.Result.TalkTime.Round(time.Second)
	if to != "" {
		r.note("bridge", fmt.Sprintf("agent %s transferred the caller to %s after %v", leg.ID(), to, talk))
	} else {
		r.note("bridge", fmt.Sprintf("agent %s hung up after %v", leg.ID(), talk))
	}
	return to, nil
}

// AgentTransferTarget reports whether an agent may send a caller to name
// with their phone's transfer key: one of kefu's queues (not the nuisance
// queue) or a configured destination, nothing else (no toll fraud).
func (c *Config) AgentTransferTarget(name string) bool {
	for _, q := range c.QueueDefs {
		if q.Name == name {
			return !q.Yields
		}
	}
	_, ok := c.Destinations[name]
	return ok
}

// agentTransfer carries out an agent's transfer of the caller: into the
// named queue (they wait there as anyone joining, with the true ask), or
// to a destination (CS-ESCALATE's supervisors at the PBX); a destination
// that cannot be reached is said, and the flow goes on at next.
func (r *Runner) agentTransfer(ctx context.Context, q *Enqueue, to string) (string, error) {
	if r.cfg.hasQueue(to) {
		next := *q
		next.Queue, next.OnUnstaffed = to, ""
		return next.run(ctx, r)
	}
	t := &Transfer{To: to, OnFail: q.OnAnswer}
	return t.run(ctx, r)
}

// whisper tells the agent which queue the caller comes from and how long
// they waited: 「咨询队列,等待两分钟」.
func (r *Runner) whisper(ctx context.Context, leg AgentLeg, queueName string, waited time.Duration) error {
	ids := []string{"whisper." + queueName}
	if _, ok := r.cat.Get(ids[0]); !ok {
		ids[0] = "whisper.queue"
	}
	if waited < time.Minute {
		ids = append(ids, "whisper.just")
	} else {
		ids = append(ids, "whisper.waited")
		n := queue.SpokenMinutes(waited)
		ps, err := r.cat.Count(n, "unit.minute")
		if err != nil {
			return err
		}
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		ids = append(ids, r.cat.Unit(n, "unit.minute"))
	}
	for _, id := range ids {
		p, ok := r.cat.Get(id)
		if !ok {
			return fmt.Errorf("whisper: no prompt %s", id)
		}
		if err := leg.Whisper(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
