package sip

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/kefu-hotline/kefu/flows"
	"github.com/kefu-hotline/kefu/media"
	"github.com/kefu-hotline/kefu/prompts"
	"github.com/kefu-hotline/kefu/sip/sdp"
)

// Ring implements flows.Call: it places a call to each target's phone at
// once, carrying the caller's identity and the queue, while the caller
// goes on hearing the queue's music. The first to answer gets the caller:
// the others are cancelled. Each target's outcome is reported so the
// distribution can count misses.
func (c *call) Ring(ctx context.Context, req flows.RingRequest) (flows.AgentLeg, []flows.RingOutcome, error) {
	out := make([]flows.RingOutcome, len(req.Targets))
	for i, t := range req.Targets {
		out[i] = flows.RingOutcome{ID: t.ID, Result: flows.RingCancelled}
	}
	var ans sdp.Answer
	if err := c.onOwner(ctx, func() error { ans = c.answer; return nil }); err != nil {
		return nil, out, c.endCause(ctx)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type rang struct {
		i   int
		l   *leg
		ans sdp.Answer
		res flows.RingResult
	}
	results := make(chan rang, len(req.Targets))
	id := c.callerIdentity().forAgent(req)
	for i, t := range req.Targets {
		go func() {
			l, dans, res := c.ringOne(rctx, t, id, ans.Codec, req.Timeout)
			results <- rang{i: i, l: l, ans: dans, res: res}
		}()
	}
	var won *agentLeg
	for range req.Targets {
		r := <-results
		switch {
		case r.res != flows.RingAnswered:
		case won == nil && ctx.Err() == nil:
			won = &agentLeg{c: c, l: r.l, id: req.Targets[r.i].ID, toCaller: newRelay("agent")}
			won.toCaller.keys = make(chan rune, 8)
			r.l.connect(r.ans, c.snap.Config.MediaTimeout.D(), won.toCaller)
			cancel() // the others: CANCEL
		default:
			// Answered at the moment another did, or the caller left.
			r.l.bye()
			r.l.close()
			r.res = flows.RingCancelled
		}
		out[r.i].Result = r.res
	}
	if won == nil && ctx.Err() != nil {
		return nil, out, c.endCause(ctx)
	}
	if won == nil {
		return nil, out, nil
	}
	return won, out, nil
}

// ringOne calls one agent's phone; it returns the answered leg, or the
// reason it was not answered (the leg is closed then).
func (c *call) ringOne(ctx context.Context, t flows.RingTarget, id *identity, codec media.Codec, timeout time.Duration) (*leg, sdp.Answer, flows.RingResult) {
	log := c.log.With("agent", t.ID)
	target, err := parseTarget(t.Contact)
	if err != nil {
		log.Warn("agent contact unusable", "error", err.Error())
		return nil, sdp.Answer{}, flows.RingFailed
	}
	l, err := c.a.newLeg(legOptions{Log: log, Peer: "agent " + t.ID, Kind: "agent", From: id, Route: c.a.agentRoute(t)})
	if err != nil {
		log.Warn("no RTP port to ring the agent", "error", err.Error())
		return nil, sdp.Answer{}, flows.RingFailed
	}
	start := time.Now()
	dans, code, err := l.dial(ctx, target, codec, timeout)
	if err == nil {
		log.Info("agent answered", "ring_s", round1(time.Since(start).Seconds()), "codec", dans.Codec.String())
		return l, dans, flows.RingAnswered
	}
	l.close()
	res := flows.RingFailed
	switch {
	case ctx.Err() != nil:
		res = flows.RingCancelled
	case errors.Is(err, errNoAnswer):
		res = flows.RingNoAnswer
	case code == 486 || code == 600:
		res = flows.RingBusy
	case code == 603:
		res = flows.RingDeclined
	}
	log.Info("agent did not take the call", "result", res.String(), "code", code, "ring_s", round1(time.Since(start).Seconds()), "error", err.Error())
	return nil, sdp.Answer{}, res
}

// agentLeg is the call to the agent who answered an offer; the flow's
// goroutine owns it (flows.AgentLeg).
type agentLeg struct {
	c        *call
	l        *leg
	id       string
	toCaller *relay // what the agent says; played to the caller once bridged
	once     sync.Once
}

// sendKey passes a key on to the far end of the leg as a SIP INFO; the
// answer is not waited for.
func (l *leg) sendKey(key rune) {
	target := l.remoteTarget()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 32*sip.T1)
		defer cancel()
		if _, err := l.dlg.Do(ctx, keyInfo(target, key)); err != nil {
			l.log.Debug("key not passed on to the "+l.peer, "error", err.Error())
		}
	}()
}

// sendKey passes a key on to the caller as a SIP INFO in the caller's
// dialog; the answer is not waited for.
func (c *call) sendKey(ctx context.Context, key rune) {
	_ = c.onOwner(ctx, func() error {
		req := c.inDialogRequest(sip.INFO)
		setKeyBody(req, key)
		tctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 32*sip.T1)
		tx, err := c.a.client.TransactionRequest(tctx, req, c.a.addVia)
		if err != nil {
			cancel()
			c.log.Debug("key not passed on to the caller", "error", err.Error())
			return nil
		}
		go func() {
			defer cancel()
			defer tx.Terminate()
			select {
			case <-tx.Responses():
			case <-tx.Done():
			case <-tctx.Done():
			}
		}()
		return nil
	})
}

// ID implements flows.AgentLeg.
func (g *agentLeg) ID() string { return g.id }

// Whisper implements flows.AgentLeg: p goes to the agent's phone only.
func (g *agentLeg) Whisper(ctx context.Context, p *prompts.Prompt) error {
	return g.l.audio.player.Play(ctx, media.NewClipSource(p.ID, p, false))
}

// Hangup implements flows.AgentLeg.
func (g *agentLeg) Hangup() {
	g.once.Do(func() {
		g.l.finish()
		g.l.bye()
		g.l.close()
	})
}

// Bridge implements flows.AgentLeg: the caller's audio goes to the agent
// and the agent's to the caller until one of them hangs up, or the agent
// transfers the caller (REFER to a queue or destination: its name is
// returned). The agent's hang-up or transfer leaves the caller's call to
// the flow; the caller's hang-up sends the agent BYE.
func (g *agentLeg) Bridge(ctx context.Context, music *prompts.Prompt) (string, error) {
	c, l := g.c, g.l
	fromCaller := newRelay("caller")
	// What each side hears: the other, or music while the other holds.
	toAgent := &holdSwitch{live: fromCaller, music: media.NewClipSource(music.ID, music, true)}
	toCaller := &holdSwitch{live: g.toCaller, music: media.NewClipSource(music.ID, music, true)}
	// What the agent said during the whisper waited in the relay: it
	// would put the agent 160 ms behind for the whole call.
	g.toCaller.reset()
	pctx, stopPlays := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = l.audio.player.Play(pctx, toAgent) }()
	c.m.tap.Store(fromCaller)
	go func() { defer wg.Done(); _ = c.m.audio.player.Play(pctx, toCaller) }()
	start := time.Now()
	phases := newPhases(l.audio.player, fromCaller, c.m.audio.player, g.toCaller)
	defer phases.Stop()
	by, referTo := "", ""
	for by == "" {
		select {
		case <-phases.C():
			phases.Align()
		case r := <-l.reqs:
			if r.req.Method == sip.REFER {
				if referTo = g.agentRefer(r); referTo != "" {
					by = "agent_transfer"
				}
				continue
			}
			if keys, ok := infoKeys(r.req); ok && r.req.Method == sip.INFO {
				_ = r.tx.Respond(sip.NewResponseFromRequest(r.req, 200, "OK", nil))
				close(r.done)
				for _, k := range keys {
					c.sendKey(ctx, k)
				}
				continue
			}
			if l.serve(r) {
				by = "agent"
			}
			if toCaller.held.Swap(l.held) != l.held {
				c.log.Info("the agent's phone holds the call", "agent", g.id, "held", l.held)
			}
		case k := <-g.toCaller.keys:
			c.sendKey(ctx, k)
		case <-l.audio.ended:
			c.log.Warn("media timeout: no RTP from the agent", "agent", g.id)
			by = "agent_media_timeout"
		case <-l.sessionEnded(): // its session timer expired (timer_leg.go)
			by = "agent_session_expired"
		case <-ctx.Done():
			by = causeLabel(context.Cause(ctx))
		case ev := <-c.events: // the flow does not listen while bridged
			switch ev.Kind {
			case flows.Digit:
				l.sendKey(ev.Key) // the caller's keys reach the agent
			case flows.Held, flows.Resumed:
				toAgent.held.Store(ev.Kind == flows.Held)
			}
		}
	}
	c.m.tap.Store(nil)
	stopPlays()
	wg.Wait()
	st := l.audio.sess.Stats()
	c.log.Info("agent call ended", "agent", g.id, "by", by, "to", referTo, "talk_s", round1(time.Since(start).Seconds()),
		"rtp_sent", st.Sent.Load(), "rtp_received", st.Received.Load(),
		"relayed_to_agent", fromCaller.relayed.Load(), "relayed_to_caller", g.toCaller.relayed.Load(),
		"relay_dropped", fromCaller.dropped.Load()+g.toCaller.dropped.Load(),
		"relay_trimmed", fromCaller.trimmed.Load()+g.toCaller.trimmed.Load(),
		"rephased", l.audio.player.Rephased()+c.m.audio.player.Rephased())
	g.once.Do(func() {
		l.finish()
		if by != "agent" {
			l.bye()
		}
		l.close()
	})
	if ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	return referTo, nil
}

// holdSwitch is what one side of a bridge hears: the other side, or music
// while the other side holds the call.
type holdSwitch struct {
	live  media.Source
	music *media.ClipSource
	held  atomic.Bool
}

// Next implements media.Source.
func (h *holdSwitch) Next(c media.Codec) ([]byte, bool) {
	if h.held.Load() {
		if p, ok := h.music.Next(c); ok {
			return p, true
		}
	}
	return h.live.Next(c)
}

// String implements media.Source.
func (h *holdSwitch) String() string { return "HoldSwitch(" + h.live.String() + ")" }

// agentRoute is the route set to ring an agent at t.Contact through: the
// Path its phone registered with (a proxy in front of kefu's nodes added
// it, RFC 3327), looked up in the registrar — whichever node the phone
// registered through, when the registrar's store is shared; nil for a
// phone kefu reaches directly.
func (a *Agent) agentRoute(t flows.RingTarget) []string {
	reg := a.cfg.Registrar
	if reg == nil {
		return nil
	}
	b, ok := reg.Contact(t.ID)
	if !ok || len(b.Path) == 0 {
		return nil
	}
	if target := b.Target(); target.String() != t.Contact {
		return nil
	}
	return b.Path
}
