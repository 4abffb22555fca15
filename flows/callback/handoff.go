package callback

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/kefu-hotline/kefu/flows/agents"
	"github.com/kefu-hotline/kefu/flows/queue"
	"github.com/kefu-hotline/kefu/flows/records"
	"github.com/kefu-hotline/kefu/prompts"
)

// handOff puts a follow-up's customer who answered the survey with one
// of the settings' AgentKeys (by default 3: not satisfied) through to an
// agent of the settings' Queue (CS-FOLLOWUP: 或者转人工). They hear
// 「正在为您转接,请您稍等,不要挂机」 and the hold music while they wait in
// the queue like a caller who joined now; the agents offered are rung
// like a callback's (the phone shows 回访 and the number), the one who
// answers hears 「回访客户,尾号」 and the last four digits, then the two
// talk until one hangs up. After MaxWait without an agent, or if the
// queue takes nobody, the customer hears the goodbye.
func (f *FollowUps) handOff(ctx context.Context, log *slog.Logger, p records.FollowUp, line Line, set FollowUpSettings, cat *prompts.Catalog) {
	log = log.With("queue", set.Queue)
	bye := func() {
		if pr, ok := cat.Get(PromptFollowUpBye); ok && ctx.Err() == nil && !isGone(line) {
			_ = line.Say(ctx, pr)
		}
	}
	if pr, ok := cat.Get(PromptConnecting); ok {
		if err := line.Say(ctx, pr); err != nil {
			return
		}
	}
	t, err := f.cfg.Queues.Join(set.Queue, "followup-"+strconv.FormatInt(p.ID, 10), 0, time.Now())
	if err != nil {
		log.Warn("follow-up: the customer cannot wait for an agent", "error", err.Error())
		bye()
		return
	}
	offers := f.cfg.Board.Wait(t)
	wctx, cancel := context.WithTimeout(ctx, set.MaxWait)
	defer cancel()
	stopMusic := f.music(wctx, line)
	defer stopMusic()
	start := time.Now()
	for {
		select {
		case o, ok := <-offers:
			if !ok { // taken out of the queue (a reload removed it)
				stopMusic()
				bye()
				return
			}
			agent := f.ring(wctx, log, p, line, o)
			if agent == nil {
				continue
			}
			if !f.cfg.Board.Answered(o, agent.ID()) {
				agent.Hangup()
				continue
			}
			stopMusic()
			log.Info("follow-up: the customer is put through to an agent", "agent", agent.ID(), "wait_s", time.Since(start).Round(100*time.Millisecond).Seconds())
			f.connect(ctx, log, p, line, agent, cat)
			f.cfg.Board.Ended(agent.ID())
			return
		case <-line.Gone():
			t.Leave(time.Now(), queue.Abandoned)
			log.Info("follow-up: the customer hung up while waiting for an agent", "wait_s", time.Since(start).Round(100*time.Millisecond).Seconds())
			return
		case <-wctx.Done():
			t.Leave(time.Now(), queue.TimedOut)
			stopMusic()
			if ctx.Err() == nil {
				log.Info("follow-up: no agent took the customer in time", "max_wait", set.MaxWait.String())
			}
			bye()
			return
		}
	}
}

// ring rings the offer's agents for the customer and reports each
// outcome to the board; the agent who answered, or nil. The customer
// hanging up cancels it.
func (f *FollowUps) ring(ctx context.Context, log *slog.Logger, p records.FollowUp, line Line, o agents.Offer) Agent {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-line.Gone():
			cancel()
		case <-rctx.Done():
		}
	}()
	agent, rangs, err := f.cfg.Phone.Ring(rctx, Ring{CallbackID: p.ID, Queue: o.Queue, Number: p.Number, Agents: o.Agents,
		Timeout: o.RingTimeout, Display: "回访 " + o.Queue})
	for _, r := range rangs {
		switch r.Result {
		case Answered:
		case Cancelled:
			f.cfg.Board.Released(o, r.ID)
		default:
			f.cfg.Board.Missed(o, r.ID, miss(r.Result))
		}
	}
	if agent == nil && err != nil && ctx.Err() == nil && !isGone(line) {
		log.Warn("follow-up: ringing the agents failed", "error", err.Error())
	}
	if agent != nil && isGone(line) {
		f.cfg.Board.Released(o, agent.ID())
		agent.Hangup()
		return nil
	}
	return agent
}

// connect is the agent's part: the whisper, then the two put through
// until one hangs up.
func (f *FollowUps) connect(ctx context.Context, log *slog.Logger, p records.FollowUp, line Line, agent Agent, cat *prompts.Catalog) {
	defer agent.Hangup()
	if w, err := whisperOf(cat, PromptFollowUpWhisper, p.Number); err == nil {
		if agent.Say(ctx, w...) != nil {
			return
		}
	}
	start := time.Now()
	cust := line.Put(agent)
	if cust == nil {
		log.Error("follow-up: the line cannot be put through to the agent")
		return
	}
	by, err := cust.Bridge(ctx)
	if err != nil && ctx.Err() == nil {
		log.Warn("follow-up: the bridge to the agent", "error", err.Error())
	}
	log.Info("follow-up: the customer and the agent talked", "agent", agent.ID(), "by", string(by),
		"talk_s", time.Since(start).Round(100*time.Millisecond).Seconds())
}

// music plays the hold music to the customer until stopped (the stop
// waits for it to end).
func (f *FollowUps) music(ctx context.Context, line Line) (stop func()) {
	m, err := prompts.LoadMusic()
	if err != nil {
		return func() {}
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for mctx.Err() == nil && line.Say(mctx, m) == nil {
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
