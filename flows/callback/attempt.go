package callback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/media/amd"
	"github.com/kefu-hotline/kefu/prompts"
)

// The prompts of a callback.
const (
	// PromptWhisper is what the agent hears first: 「回电客户,尾号」,
	// then the last four digits of the customer's number.
	PromptWhisper = "callback.whisper"
	// PromptGreet is what the customer hears on answering: 「您好,这里是
	// {company},您之前预约了回电,现在为您接通」.
	PromptGreet = "callback.greet"
	// PromptUnreached tells the agent the customer was not reached.
	PromptUnreached = "callback.unreached"
	// PromptMachine tells the agent an answering machine took the call:
	// 「对方是语音信箱,本次回电未接通」.
	PromptMachine = "callback.machine"
)

// Prompts lists the prompts callbacks need, for kefu check.
func Prompts() []string { return []string{PromptWhisper, PromptGreet, PromptUnreached, PromptMachine} }

// maskedDigits is how many of the customer's last digits the agent hears.
const maskedDigits = 4

// serve is a callback's goroutine while it waits in its queue: it rings
// the agents it is offered and makes the attempt with the one who takes
// it. It returns the callback's state for the schedule.
func (s *Scheduler) serve(ctx context.Context, e *entry, t *queue.Ticket, offers <-chan agents.Offer, set Settings) *doneEvent {
	for {
		select {
		case o, ok := <-offers:
			if !ok {
				// The ticket left without an agent: only the scheduler
				// takes it out, so this is its stop.
				return &doneEvent{e: e, next: e.p}
			}
			if d := s.offered(ctx, e, t, o, set); d != nil {
				return d
			}
		case <-e.stop:
			t.Leave(time.Now(), queue.Withdrawn)
			return &doneEvent{e: e, next: e.p}
		case <-ctx.Done():
			t.Leave(time.Now(), queue.Withdrawn)
			return &doneEvent{e: e, next: e.p}
		}
	}
}

// offered rings the offered agents for the callback and reports each
// outcome to the board; with an agent who took it, it makes the attempt
// and returns the callback's state, else nil: it waits for the next
// offer.
func (s *Scheduler) offered(ctx context.Context, e *entry, t *queue.Ticket, o agents.Offer, set Settings) *doneEvent {
	agent, rangs, err := s.cfg.Phone.Ring(ctx, Ring{CallbackID: e.p.ID, Queue: o.Queue, Number: e.p.Number, Agents: o.Agents, Timeout: o.RingTimeout})
	for _, r := range rangs {
		switch r.Result {
		case Answered:
		case Cancelled:
			s.cfg.Board.Released(o, r.ID)
		default:
			s.cfg.Board.Missed(o, r.ID, miss(r.Result))
		}
	}
	if agent == nil {
		if err != nil || ctx.Err() != nil {
			t.Leave(time.Now(), queue.Withdrawn)
			return &doneEvent{e: e, next: e.p}
		}
		return nil
	}
	if !s.cfg.Board.Answered(o, agent.ID()) {
		agent.Hangup() // the callback left its queue at that moment
		return nil
	}
	s.send(ctx, event{calling: e})
	d := s.attempt(ctx, e, agent, set)
	s.cfg.Board.Ended(agent.ID())
	if !d.talked {
		s.unwrap(agent.ID()) // nothing to wrap up
	}
	return d
}

// desk is what a board offers besides Board to end an agent's wrap-up
// (flows/agents.Board, and cluster.Agents, have it).
type desk interface {
	Agent(id string) (agents.Status, bool)
	Ready(id string) error
}

// unwrap ends the wrap-up of an agent whose callback ended without a
// conversation (the customer not reached, an answering machine): the
// agent is free at once.
func (s *Scheduler) unwrap(id string) {
	d, ok := s.cfg.Board.(desk)
	if !ok {
		return
	}
	if st, ok := d.Agent(id); ok && st.State == agents.WrapUp {
		_ = d.Ready(id)
	}
}

// attempt makes one attempt of the callback with the agent who took it,
// and writes it and its consequence in the book: done, retried after the
// queue's delay, or given up after the last attempt.
func (s *Scheduler) attempt(ctx context.Context, e *entry, agent Agent, set Settings) *doneEvent {
	log := s.log.With("callback", e.p.ID, "agent", agent.ID(), "trunk", set.Trunk, "queue", set.Queue)
	book := context.WithoutCancel(ctx) // what happened is written even when kefu stops
	p, err := s.cfg.Book.PendingOne(book, e.p.ID)
	if err != nil {
		agent.Hangup()
		if errors.Is(err, records.ErrNotFound) {
			log.Info("callback closed before it was made")
			return &doneEvent{e: e, closed: true}
		}
		log.Error("callback book unreadable: tried again later", "error", err.Error())
		return s.later(e, e.p, s.cfg.Pause)
	}
	a, err := s.cfg.Book.StartAttempt(book, records.Attempt{CallbackID: p.ID, Round: p.Round, Started: time.Now(), Agent: agent.ID(), Trunk: set.Trunk})
	if err != nil {
		agent.Hangup()
		if errors.Is(err, records.ErrNotFound) {
			return &doneEvent{e: e, closed: true}
		}
		log.Error("callback attempt not stored: tried again later", "error", err.Error())
		return s.later(e, p, s.cfg.Pause)
	}
	result, talk := s.talk(ctx, p, agent, set)
	if s.cfg.OnAttempt != nil {
		s.cfg.OnAttempt(set.Trunk, result)
	}
	now := time.Now()
	a.Ended, a.Result, a.Talk = now, result, talk
	a.Counts = counts(result)
	d := &doneEvent{e: e, talked: talk > 0}
	var notBefore time.Time
	outcome := ""
	switch {
	case result == records.AttemptAnswered:
		outcome = records.OutcomeDone
	case result == records.AttemptInterrupted:
		d.next = p // made again after the next start
	case a.Counts && p.Attempts+1 >= set.Attempts:
		outcome = records.OutcomeNoAnswer
	case a.Counts:
		p.Attempts++
		notBefore = now.Add(set.Retry)
	default:
		notBefore = now.Add(s.cfg.Pause)
	}
	p.NotBefore = notBefore
	d.next = p
	if err := s.cfg.Book.EndAttempt(book, a, notBefore); err != nil {
		log.Error("callback attempt's end not stored", "error", err.Error())
	}
	if outcome != "" {
		d.closed = true
		if err := s.cfg.Book.CloseCallback(book, p.ID, outcome, now); err != nil {
			log.Error("callback's outcome not stored", "outcome", outcome, "error", err.Error())
		}
	}
	log.Info("callback attempt", "result", result, "attempt", p.Attempts+boolInt(a.Counts && outcome == ""), "of", set.Attempts,
		"talk_s", talk.Round(100*time.Millisecond).Seconds(), "outcome", outcome, "next", notBefore)
	return d
}

// later is e put off by d with state p.
func (s *Scheduler) later(e *entry, p records.Pending, d time.Duration) *doneEvent {
	p.NotBefore = time.Now().Add(d)
	return &doneEvent{e: e, next: p}
}

// talk is the attempt's calls: the agent hears the whisper, the customer
// is called through the trunk; once they answer they hear the greeting,
// then the two talk. It returns the attempt's result and the talk time.
func (s *Scheduler) talk(ctx context.Context, p records.Pending, agent Agent, set Settings) (string, time.Duration) {
	defer agent.Hangup()
	cat := s.cfg.Prompts()
	whisper, err := s.whisper(cat, p.Number)
	if err == nil {
		err = agent.Say(ctx, whisper...)
	}
	switch {
	case ctx.Err() != nil:
		return records.AttemptInterrupted, 0
	case errors.Is(err, ErrAgentGone):
		return records.AttemptAgentGone, 0
	case err != nil:
		s.log.Warn("callback whisper", "callback", p.ID, "error", err.Error())
	}
	cust, res, err := agent.Dial(ctx, Dial{Trunk: set.Trunk, Number: set.Prefix + p.Number, Timeout: set.Ring})
	if ctx.Err() != nil {
		if cust != nil {
			cust.Hangup()
		}
		return records.AttemptInterrupted, 0
	}
	if res != Answered || cust == nil {
		if err != nil {
			s.log.Info("callback: customer not reached", "callback", p.ID, "result", res.String(), "error", err.Error())
		}
		if res != AgentGone {
			s.say(ctx, agent, cat, PromptUnreached)
		}
		return attemptResult(res), 0
	}
	defer cust.Hangup()
	if set.AMD != nil {
		if res, done := s.screen(ctx, p, agent, cust, cat, *set.AMD); done {
			return res, 0
		}
	}
	if greet, ok := cat.Get(PromptGreet); ok {
		err = cust.Say(ctx, greet)
	}
	switch {
	case ctx.Err() != nil:
		return records.AttemptInterrupted, 0
	case errors.Is(err, ErrCustomerGone):
		s.say(ctx, agent, cat, PromptUnreached)
		return records.AttemptHungUp, 0
	case errors.Is(err, ErrAgentGone):
		return records.AttemptAgentGone, 0
	}
	start := time.Now()
	by, err := cust.Bridge(ctx)
	talk := time.Since(start)
	switch {
	case ctx.Err() != nil:
		return records.AttemptInterrupted, talk
	case err != nil:
		s.log.Warn("callback bridge", "callback", p.ID, "error", err.Error())
	}
	if by == PartyCustomer && talk < s.cfg.ShortCall {
		return records.AttemptHungUp, talk
	}
	return records.AttemptAnswered, talk
}

// screen listens to the customer's side at the answer (the agent hears
// the ringing tone meanwhile): a machine is hung up on and the agent
// hears PromptMachine; done with the attempt's result then, or when
// either hung up. A person: not done, the callback goes on.
func (s *Scheduler) screen(ctx context.Context, p records.Pending, agent Agent, cust Customer, cat *prompts.Catalog, o amd.Options) (string, bool) {
	d, err := cust.Listen(ctx, o)
	log := s.log.With("callback", p.ID)
	switch {
	case ctx.Err() != nil:
		return records.AttemptInterrupted, true
	case errors.Is(err, ErrCustomerGone):
		s.say(ctx, agent, cat, PromptUnreached)
		return records.AttemptHungUp, true
	case errors.Is(err, ErrAgentGone):
		return records.AttemptAgentGone, true
	case err != nil:
		log.Warn("callback: answering-machine detection failed: taken for a person", "error", err.Error())
		return "", false
	case d.Verdict == amd.Machine:
		cust.Hangup()
		log.Info("callback: an answering machine answered: hung up", "reason", d.Reason,
			"after_s", d.After.Seconds(), "greeting_s", d.Greeting.Seconds())
		s.say(ctx, agent, cat, PromptMachine)
		return records.AttemptMachine, true
	}
	log.Debug("callback: a person answered", "reason", d.Reason, "after_s", d.After.Seconds())
	return "", false
}

// whisper is 「回电客户,尾号」 and the last digits of number.
func (s *Scheduler) whisper(cat *prompts.Catalog, number string) ([]*prompts.Prompt, error) {
	return whisperOf(cat, PromptWhisper, number)
}

// whisperOf is the prompt lead and the last digits of number.
func whisperOf(cat *prompts.Catalog, leadID, number string) ([]*prompts.Prompt, error) {
	lead, ok := cat.Get(leadID)
	if !ok {
		return nil, fmt.Errorf("no prompt %s", leadID)
	}
	digits, err := cat.Number(number[max(len(number)-maskedDigits, 0):])
	if err != nil {
		return nil, err
	}
	return append([]*prompts.Prompt{lead}, digits...), nil
}

// say plays one prompt to the agent, if the set has it.
func (s *Scheduler) say(ctx context.Context, agent Agent, cat *prompts.Catalog, id string) {
	if p, ok := cat.Get(id); ok {
		_ = agent.Say(ctx, p)
	}
}

// attemptResult is the attempt's result for a customer's phone that did
// not answer.
func attemptResult(r Result) string {
	switch r {
	case NoAnswer:
		return records.AttemptNoAnswer
	case Busy:
		return records.AttemptBusy
	case Declined:
		return records.AttemptDeclined
	case AgentGone:
		return records.AttemptAgentGone
	case TrunkDown:
		return records.AttemptTrunkDown
	}
	return records.AttemptFailed
}

// counts reports whether an attempt with this result counts against the
// queue's limit: the customer was not reached through no fault of the
// agent's or kefu's.
func counts(result string) bool {
	switch result {
	case records.AttemptNoAnswer, records.AttemptBusy, records.AttemptDeclined, records.AttemptFailed,
		records.AttemptHungUp, records.AttemptMachine:
		return true
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
